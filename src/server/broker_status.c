/* SPDX-License-Identifier: Apache-2.0
 *
 * The broker's read-only status entries (see broker_status.h).
 */
#include "server/broker_status.h"

#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "crypto/key_provider.h"
#include "crypto/keyring.h"
#include "security/audit/audit.h"
#include "server/broker.h"
#include "server/key_rewrap.h"

#define DOC_PREFIX "Read-only status (not a setting): "

static void entry(sl_topic_config_cb cb, void *arg, const char *name, const char *value, int type,
                  const char *doc)
{
    cb(arg, name, value, SL_CONFIG_SOURCE_UNKNOWN, false, true, type, doc);
}

/* Milliseconds since the key file was last written, or -1. */
static int64_t key_age_ms(const struct sl_broker *b)
{
    const struct sl_config *cfg = b->cfg;
    if (!b->keyring || (cfg->keys_command && cfg->keys_command[0]))
        return -1;
    char path[4200];
    struct stat st;
    sl_keys_default_path(cfg->data_dir, cfg->keys_file, path, sizeof path);
    if (stat(path, &st) != 0)
        return -1;
    int64_t written = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    int64_t age = sl_now_ms() - written;
    return age < 0 ? 0 : age;
}

void sl_broker_status_describe(const struct sl_broker *b, sl_topic_config_cb cb, void *arg)
{
    char buf[32];
    entry(cb, arg, "sluice.audit.status", sl_audit_status(), SL_CONFIG_TYPE_STRING,
          DOC_PREFIX "the audit log: disabled, intact, broken (this start found the newest file "
                     "damaged, or events were lost under sluice.audit.failure.policy=log) or "
                     "unwritable (the audit sink fails now).");
    snprintf(buf, sizeof buf, "%" PRIu64, sl_audit_dropped());
    entry(cb, arg, "sluice.audit.dropped.events", buf, SL_CONFIG_TYPE_LONG,
          DOC_PREFIX "audit events lost to a failed sink since the broker started.");
    entry(cb, arg, "sluice.encryption.status", b->keyring ? "enabled" : "disabled",
          SL_CONFIG_TYPE_STRING, DOC_PREFIX "encryption at rest in effect: enabled or disabled.");
    const struct sl_keyring *kr = sl_key_rewrap_keyring(b);
    const struct sl_kek *k = kr ? sl_keyring_newest(kr) : NULL;
    snprintf(buf, sizeof buf, "%" PRId64, k ? (int64_t)k->version : -1);
    entry(cb, arg, "sluice.encryption.key.version", buf, SL_CONFIG_TYPE_LONG,
          DOC_PREFIX "the newest key-encryption key version, the one new data keys are wrapped "
                     "by (an online rewrap moves it to the newest in the reloaded keyring); -1 "
                     "when encryption is off.");
    snprintf(buf, sizeof buf, "%" PRId64, key_age_ms(b));
    entry(cb, arg, "sluice.encryption.key.age.ms", buf, SL_CONFIG_TYPE_LONG,
          DOC_PREFIX "milliseconds since the key file was last written (sluice keys rotate "
                     "writes it); -1 when encryption is off or the keys come from "
                     "sluice.keys.command.");
    char st[512];
    sl_key_rewrap_status(b, st, sizeof st);
    entry(cb, arg, "sluice.encryption.rewrap.status", st, SL_CONFIG_TYPE_STRING,
          DOC_PREFIX "the online key rewrap (sluice.keys.rewrap=now): idle (none since the "
                     "start), running: ..., done: <counts>; key version <n>, or failed: <reason>.");
}
