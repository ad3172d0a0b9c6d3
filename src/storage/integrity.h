/* SPDX-License-Identifier: Apache-2.0
 *
 * Integrity events of the storage layers: damage or tampering that the
 * sealing layer (a batch that fails authentication when read) or recovery
 * (a partition quarantined at start) finds. The storage code reports them
 * here; the broker installs a hook that records each one in the audit log
 * (security/audit: io.sluice.storage.integrity), so that storage does not
 * depend on the audit log. Without a hook (tools, unit tests) a report does
 * nothing beyond the operational log line its caller writes.
 */
#ifndef SL_STORAGE_INTEGRITY_H
#define SL_STORAGE_INTEGRITY_H

#include <stdint.h>

/* What was found. Strings are borrowed for the call. */
struct sl_integrity_event {
    const char *kind;  /* "batch_authentication_failed", "partition_quarantined" */
    const char *path;  /* the file or partition directory */
    int64_t position;  /* logical position in the file, or -1 */
    const char *detail; /* the operational log's sentence, or NULL */
};

typedef void (*sl_integrity_hook_fn)(const struct sl_integrity_event *ev);

/* Installs (or with NULL removes) the hook. Before any log is opened and
 * after every log is closed: the broker's main thread. */
void sl_integrity_set_hook(sl_integrity_hook_fn fn);

/* Reports one event to the hook, if any. Any thread; the hook must not
 * block on I/O. */
void sl_integrity_report(const struct sl_integrity_event *ev);

#endif
