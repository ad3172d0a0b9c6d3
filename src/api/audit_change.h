/* SPDX-License-Identifier: Apache-2.0
 *
 * What the handlers of the changing APIs need from the audit log
 * (security/audit/audit.h, docs/AUDIT.md "Changes"): may a change be made
 * now, and "record this change and hold the response until the record is
 * durable".
 *
 * Under policy reject the dispatcher has already made an intent record
 * naming the request's resources durable (api/audit_intent.h) before the
 * handler runs; if it could not, sl_api_audit_ready(req) is false.
 *
 * Pattern in a handler, per resource of the request:
 *
 *   authorization (a denial is recorded by the authorizer's hook)
 *   if (!sl_api_audit_ready(req)) -> answer SL_API_AUDIT_REFUSAL(req), change nothing
 *   make the change (or fail with Kafka's error)
 *   err = sl_api_audit_change(req, &ch)   (ch.error = the outcome)
 *
 * Every outcome of an authorized change is recorded, failures included
 * (INVALID_CONFIG, TOPIC_ALREADY_EXISTS, ...): they show what was
 * attempted. Not recorded: validate-only requests (nothing changes) and
 * entries refused before authorization (duplicates in one request).
 */
#ifndef SL_API_AUDIT_CHANGE_H
#define SL_API_AUDIT_CHANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bytes.h"
#include "security/audit/audit.h"
#include "security/audit/audit_json.h"

struct sl_req;

/* The message of a change refused because the audit log cannot record it. */
#define SL_API_AUDIT_REFUSED_MSG                                                                   \
    "The audit log is unavailable (sluice.audit.failure.policy=reject): nothing was changed."

/* True when a change may be made: auditing is off, the audit log is
 * writable, or sluice.audit.failure.policy=log; and req's intent record
 * (written before the handler ran, api/audit_intent.h) did not fail. */
bool sl_api_audit_ready(const struct sl_req *req);

/* The error code to refuse req's change with when sl_api_audit_ready() is
 * false. */
int16_t sl_api_audit_refusal(const struct sl_req *req);

/* Records ch for req (context from the request) and holds req's response
 * until it is durable. Returns the error code to answer: ch->error, or the
 * refusal code when the record cannot be written (the change was made but
 * the client must not see success). */
int16_t sl_api_audit_change(struct sl_req *req, const struct sl_audit_change *ch);

/* A resource name view for struct sl_audit_change. */
#define SL_API_AUDIT_NAME(s) .name = (s).p, .name_len = (size_t)((s).len > 0 ? (s).len : 0)

/* Writes one member of a "configs" object: key (klen bytes, escaped) and
 * its new value (vlen bytes; vlen < 0: null, a deletion); a value whose key
 * names a secret (password, secret, key material, JAAS, token, salt) is
 * written as "[hidden]". */
void sl_api_audit_config(struct sl_aj *j, const char *key, size_t klen, const char *value,
                         int32_t vlen);

#endif
