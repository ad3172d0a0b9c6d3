/* SPDX-License-Identifier: Apache-2.0
 *
 * The copy of the audit log in the internal topic __sluice_audit
 * (sluice.audit.topic.enable, on by default; docs/AUDIT.md "The topic").
 *
 *   audit writer thread: batch appended to the file, fdatasync'd
 *     └─▶ sink: one record per line (key = the CloudEvents type, value =
 *         the line without its "\n"), a record batch, sl_log_append on the
 *         topic's one partition (a write, no fsync: the topic is flushed
 *         like any other, and at shutdown)
 *
 * Network threads never wait for the topic: the copy is made after the
 * file is durable, on the writer thread. The files stay the proof (the
 * value's sluicemac verifies against them); the topic is the way to consume
 * them with any Kafka client. It goes through the registry's partition
 * log, so encryption at rest applies as for any topic. A copy that cannot
 * be appended (the topic's log failed) is logged once and skipped: the
 * files hold every record.
 *
 * Who may do what is decided elsewhere: the authorizer does not apply
 * allow.everyone.if.no.acl.found to it (only super users and READ ACLs),
 * the handlers refuse every client change (server/registry.h,
 * sl_topic_internal).
 */
#ifndef SL_SECURITY_AUDIT_AUDIT_TOPIC_H
#define SL_SECURITY_AUDIT_AUDIT_TOPIC_H

#include <stddef.h>

struct sl_broker;

/* After the registry opened: when auditing and the topic are enabled,
 * creates __sluice_audit (1 partition) if missing and attaches the copy to
 * the audit writer. Returns 0, or -1 with err (the topic cannot be
 * created). Main thread. */
int sl_audit_topic_start(struct sl_broker *b, char *err, size_t errlen);

/* Detaches the copy (waits for one in progress) and drops the topic's log
 * reference. Call after sl_audit_stop (so the seal is copied too) and
 * before the registry closes. Idempotent. Main thread. */
void sl_audit_topic_stop(void);

/* Writer side (audit_writer.c): copies the lines of a durable batch
 * (lines, len bytes, each ending in "\n"). No-op while detached. */
void sl_audit_topic_copy(const char *lines, size_t len);

#endif
