/* SPDX-License-Identifier: Apache-2.0
 *
 * Change records for the API handlers (see audit_change.h).
 */
#include "api/audit_change.h"

#include <string.h>

#include "protocol/request.h"

bool sl_api_audit_ready(const struct sl_req *req)
{
    if (req->intent_failed)
        return false;
    return !sl_audit_enabled() || sl_audit_available() ||
           sl_audit_policy() != SL_AUDIT_POLICY_REJECT;
}

int16_t sl_api_audit_refusal(const struct sl_req *req)
{
    return sl_audit_refusal_code(req->hdr.api_key);
}

int16_t sl_api_audit_change(struct sl_req *req, const struct sl_audit_change *ch)
{
    struct sl_audit_ctx ctx;
    sl_audit_ctx_from_req(&ctx, req);
    uint64_t seq = sl_audit_change(&ctx, ch);
    if (seq == SL_AUDIT_SEQ_FAILED)
        return sl_api_audit_refusal(req);
    sl_audit_hold_req(req, seq);
    return (int16_t)ch->error;
}

/* Keys whose values are secrets (Kafka's PASSWORD type and friends). */
static bool secret_key(const char *k)
{
    static const char *const words[] = {"password", "secret", "jaas", ".key", "token",
                                        "credential", "salt"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strstr(k, words[i]))
            return true;
    }
    return false;
}

void sl_api_audit_config(struct sl_aj *j, const char *key, size_t klen, const char *value,
                         int32_t vlen)
{
    char k[256];
    size_t n = klen < sizeof k - 1 ? klen : sizeof k - 1;
    memcpy(k, key, n);
    k[n] = '\0';
    /* The key is a client's string: written escaped, as a member name. */
    sl_aj_key_str(j, key, klen);
    if (vlen < 0 || !value)
        sl_aj_null(j);
    else if (secret_key(k) && !(strcmp(k, "sluice.keys.rewrap") == 0 && vlen == 3 &&
                                 memcmp(value, "now", 3) == 0))
        sl_aj_cstr(j, "[hidden]"); /* the rewrap action's one value is no secret; another is */
    else
        sl_aj_str(j, value, (size_t)vlen);
}
