/* SPDX-License-Identifier: Apache-2.0
 *
 * The broker's read-only status entries: what only the running broker
 * knows about its own protection, answered by DescribeConfigs on the
 * BROKER resource after the configuration keys (src/api/configs.c), and
 * read by `sluice posture`. Documented in docs/OPERATIONS.md ("Status
 * entries"). Each is read-only, never sensitive, has config source
 * UNKNOWN (0: Kafka's "source unknown", since no setting produced it) and
 * no synonyms:
 *
 *   sluice.audit.status              disabled | intact | broken | unwritable
 *   sluice.audit.dropped.events      events lost to a failed sink this run
 *   sluice.encryption.status         enabled | disabled (in effect, not the setting)
 *   sluice.encryption.key.version    newest key-encryption key version; -1 when off
 *   sluice.encryption.key.age.ms     time since the key file was last written
 *                                    (a rotation adds the newest version);
 *                                    -1 when off or the keys come from
 *                                    sluice.keys.command
 */
#ifndef SL_SERVER_BROKER_STATUS_H
#define SL_SERVER_BROKER_STATUS_H

#include "config/config.h"

struct sl_broker;

/* Calls cb once per status entry, in the order above. */
void sl_broker_status_describe(const struct sl_broker *b, sl_topic_config_cb cb, void *arg);

#endif
