/* SPDX-License-Identifier: Apache-2.0
 *
 * The dispatcher: one table row per served API (key, advertised versions,
 * the lowest version actually served, handler, whether it may run before
 * authentication, its audit class, its authorization check). ApiVersions answers straight from this
 * table, so an API is advertised exactly when it is served.
 *
 * Per frame: decode the header; unknown key or a version outside the row
 * closes the connection (Kafka's behaviour), except ApiVersions, which
 * answers UNSUPPORTED_VERSION in a v0 body; decode the body into the
 * request's arena (malformed closes); run the handler; queue the response.
 */
#ifndef SL_PROTOCOL_DISPATCH_H
#define SL_PROTOCOL_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_conn;
struct sl_req;

/* Handler results besides a Kafka error code (which handlers put into the
 * response themselves): */
#define SL_HANDLER_DONE 0 /* response filled: encode and queue */
/* SL_ERR__DEFER: parked or waiting; the handler completes it later.
 * SL_ERR__CLOSE: close the connection without a response. */

typedef int (*sl_handler_fn)(struct sl_req *req);

struct sl_api_row {
    int16_t key;
    int16_t min_version; /* advertised */
    int16_t max_version; /* advertised */
    int16_t accept_min;  /* lowest served (Produce advertises 0, serves 3+) */
    sl_handler_fn handler;
    bool pre_auth;       /* may run before authentication completes */
    const char *audit_class;
    /* The authorization check (security/authz/acl.h codes): the operation
     * and resource type the handler checks for each resource it names. */
    int8_t az_op;
    int8_t az_res;
    bool az_none; /* Kafka authorizes nothing here (ApiVersions, SASL) */
};

/* Returns the row of key, or NULL when the API is not served. */
const struct sl_api_row *sl_dispatch_row(int16_t key);

/* Iterates the served rows in key order: *i starts at 0. */
const struct sl_api_row *sl_dispatch_next(int *i);

/* Handles one complete frame (borrowed; valid during the call). Loop
 * thread. May close the connection. */
void sl_dispatch_frame(struct sl_conn *c, const uint8_t *frame, size_t len);

/* Completes a request that was PARKED on its queued connection and has
 * been RUNNING again (its handler, or the rest of it, ran on the loop
 * thread with result rc) as sl_dispatch_frame would have: answered
 * (SL_HANDLER_DONE), WAITING for an asynchronous result (SL_ERR__DEFER: later
 * requests may run), or refused (anything else: the connection closes).
 * Handlers never close the connection themselves, so req, on the
 * connection's queue, lives through the call. */
void sl_dispatch_resumed(struct sl_req *req, int rc);

#endif
