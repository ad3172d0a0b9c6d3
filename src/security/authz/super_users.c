/* SPDX-License-Identifier: Apache-2.0
 *
 * super.users lookup (see super_users.h). The list is short and read-only
 * after start, so a scan per call is fine.
 */
#include "security/authz/super_users.h"

#include <ctype.h>
#include <string.h>

#include "config/config.h"

bool sl_super_user(const struct sl_config *cfg, const char *principal)
{
    const char *p = cfg->super_users;
    size_t want = strlen(principal);
    while (p && *p) {
        const char *end = strchr(p, ';');
        const char *e = end ? end : p + strlen(p);
        while (p < e && isspace((unsigned char)*p))
            p++;
        const char *q = e;
        while (q > p && isspace((unsigned char)q[-1]))
            q--;
        if ((size_t)(q - p) == want && want && memcmp(p, principal, want) == 0)
            return true;
        p = end ? end + 1 : e;
    }
    return false;
}
