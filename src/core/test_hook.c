/* SPDX-License-Identifier: Apache-2.0
 *
 * Test hooks (see test_hook.h).
 */
#include "core/test_hook.h"

#include <stdlib.h>
#include <time.h>

#include "core/logging.h"

int sl_test_hook_ms(const char *env, int max_ms, const char *subsys, const char *what)
{
    const char *v = getenv(env);
    if (!v || !*v)
        return 0;
    char *end;
    long ms = strtol(v, &end, 10);
    if (*end || ms < 0 || ms > max_ms) {
        SL_WARN(subsys, "%s=%s ignored: milliseconds, 0 to %d", env, v, max_ms);
        return 0;
    }
    SL_WARN(subsys, "test hook %s=%ld: %s", env, ms, what);
    return (int)ms;
}

void sl_test_hook_pause(int ms)
{
    if (ms > 0) {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}
