/* SPDX-License-Identifier: Apache-2.0
 *
 * Integrity events (see integrity.h): one process-wide hook.
 */
#include "storage/integrity.h"

#include <stdatomic.h>
#include <stddef.h>

static _Atomic(sl_integrity_hook_fn) hook;

void sl_integrity_set_hook(sl_integrity_hook_fn fn)
{
    atomic_store(&hook, fn);
}

void sl_integrity_report(const struct sl_integrity_event *ev)
{
    sl_integrity_hook_fn fn = atomic_load(&hook);
    if (fn)
        fn(ev);
}
