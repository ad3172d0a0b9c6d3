/* SPDX-License-Identifier: Apache-2.0
 *
 * The intent record of a changing request (docs/AUDIT.md "Durability and
 * the failure policy"): what the request names, written and made durable
 * before its handler runs, so that under sluice.audit.failure.policy=reject
 * no change can exist without a durable record naming it (the handler's
 * outcome record may still be lost when the sink fails in between).
 *
 * The dispatcher asks sl_api_audit_intent_api for each frame (cheap: the API
 * key and the audit configuration), copies the frame of such a request into
 * its arena (the request will outlive the frame), decodes it and calls
 * sl_api_audit_intent, which writes the intent when this request would
 * change something (not validate-only; OffsetCommit only for a reset;
 * Metadata only when it may auto-create a named topic).
 */
#ifndef SL_API_AUDIT_INTENT_H
#define SL_API_AUDIT_INTENT_H

#include <stdbool.h>
#include <stdint.h>

struct sl_req;

/* True when requests of api_key may change something and get an intent
 * (test_audit_intent checks every "change" row of the dispatcher). */
bool sl_api_audit_intent_covers(int16_t api_key);

/* True when requests of api_key may need an intent now: the API changes
 * something, auditing is on and the failure policy is reject. */
bool sl_api_audit_intent_api(int16_t api_key);

/* Writes req's intent record when its decoded body asks for a change.
 * Returns its sequence number, SL_AUDIT_SEQ_NONE (nothing to record) or
 * SL_AUDIT_SEQ_FAILED (the audit log cannot be written). Loop thread. */
uint64_t sl_api_audit_intent(struct sl_req *req);

#endif
