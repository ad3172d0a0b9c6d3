/* SPDX-License-Identifier: Apache-2.0
 *
 * super.users: principals allowed every operation. Until the ACL authorizer
 * exists (issue 6) this is the only authorization decision the broker makes
 * (credential administration).
 */
#ifndef SL_SECURITY_AUTHZ_SUPER_USERS_H
#define SL_SECURITY_AUTHZ_SUPER_USERS_H

#include <stdbool.h>

struct sl_config;

/* True when principal ("User:alice") is listed in super.users (exact,
 * case-sensitive, as Kafka compares principals). */
bool sl_super_user(const struct sl_config *cfg, const char *principal);

#endif
