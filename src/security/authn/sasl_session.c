/* SPDX-License-Identifier: Apache-2.0
 *
 * The SASL session state machine and the SaslHandshake / SaslAuthenticate
 * handlers (see sasl_session.h). Kafka's behaviours kept here:
 *  - SaslHandshake and SaslAuthenticate on a listener without SASL answer
 *    ILLEGAL_SASL_STATE (KafkaApis does the same);
 *  - a mechanism that is not enabled answers UNSUPPORTED_SASL_MECHANISM
 *    with the enabled list, then the connection closes;
 *  - SaslAuthenticate without a handshake answers ILLEGAL_SASL_STATE and
 *    closes;
 *  - a failed authentication answers SASL_AUTHENTICATION_FAILED with the
 *    mechanism's text after connection.failed.authentication.delay.ms,
 *    then closes; the delay is a timer, the loop never sleeps;
 *  - re-authentication must keep the mechanism and the user.
 *
 * A mechanism whose steps are slow (PLAIN: PBKDF2 of the password, about
 * 2.6 ms for 4096 rounds of SHA-512) steps on the broker's auth workers
 * (b->auth_q), not on the network thread, so a stream of PLAIN attempts,
 * wrong passwords included, cannot stall every other connection of that
 * thread. The request is PARKED meanwhile (its connection reads nothing
 * further) and the exchange's state moves to the job: a connection that
 * closes first leaves the job to free it when it comes back.
 */
#include "security/authn/sasl_session.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/util.h"
#include "config/config.h"
#include "core/logging.h"
#include "core/mem.h"
#include "core/test_hook.h"
#include "core/workq.h"
#include "meta/meta.h"
#include "net/conn.h"
#include "net/evloop.h"
#include "net/netloop.h"
#include "protocol/gen/apis.h"
#include "protocol/dispatch.h"
#include "protocol/request.h"
#include "security/audit/audit.h"
#include "security/authn/sasl_mech.h"
#include "server/broker.h"
#include "sluice/err.h"

int sl_sasl_listener_init(struct sl_sasl_listener *sl, const struct sl_config *cfg,
                          const char *listener, char *err, size_t errlen)
{
    char buf[64];
    const char *m = sl_config_listener_get(cfg, listener, "sasl.enabled.mechanisms", buf,
                                           sizeof buf);
    if (!m || !*m) {
        snprintf(err, errlen, "listener %s: sasl.enabled.mechanisms is empty", listener);
        return -1;
    }
    snprintf(sl->mechanisms, sizeof sl->mechanisms, "%s", m);
    const char *r = sl_config_listener_get(cfg, listener, "connections.max.reauth.ms", buf,
                                           sizeof buf);
    sl->reauth_ms = r ? strtoll(r, NULL, 10) : 0;
    return 0;
}

bool sl_sasl_listener_enabled(const struct sl_sasl_listener *sl, const char *mechanism)
{
    size_t n = strlen(mechanism);
    const char *p = sl->mechanisms;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if ((size_t)(e - p) == n && n && memcmp(p, mechanism, n) == 0)
            return true;
        p = e;
    }
    return false;
}

static struct sl_sasl_session *sess(const struct sl_conn *c)
{
    return c->sasl;
}

void sl_sasl_session_attach(struct sl_conn *c)
{
    const struct sl_config *cfg = c->nl->broker->cfg;
    c->sasl = sl_xcalloc(1, sizeof(struct sl_sasl_session));
    c->max_frame = cfg->sasl_server_max_receive_size;
    int64_t now = sl_evloop_now_ms(c->nl->el);
    int64_t deadline = now + cfg->ssl_handshake_timeout_ms;
    if (!c->handshake_deadline_ms || c->handshake_deadline_ms < deadline)
        c->handshake_deadline_ms = deadline;
}

static void end_exchange(struct sl_sasl_session *s)
{
    if (s->mst)
        s->mech->free(s->mst);
    s->mst = NULL;
}

void sl_sasl_session_destroy(struct sl_conn *c)
{
    struct sl_sasl_session *s = sess(c);
    if (!s)
        return;
    end_exchange(s);
    free(s);
    c->sasl = NULL;
}

bool sl_sasl_allows(struct sl_conn *c, int16_t api_key)
{
    struct sl_sasl_session *s = sess(c);
    if (!s)
        return true;
    switch (s->state) {
    case SL_SASL_S_COMPLETE:
        if (s->expiry_ms && api_key != SL_API_SASL_HANDSHAKE &&
            sl_evloop_now_ms(c->nl->el) >= s->expiry_ms) {
            SL_INFO("sasl", "closing %s (%s): its SASL session expired (connections.max.reauth.ms)",
                    c->peer, c->principal);
            sl_audit_authn(c, s->mech ? s->mech->name : NULL, s->user, false, false,
                           "session_expired");
            return false;
        }
        return true;
    case SL_SASL_S_HANDSHAKE:
        if (api_key == SL_API_API_VERSIONS || api_key == SL_API_SASL_HANDSHAKE ||
            api_key == SL_API_SASL_AUTHENTICATE)
            return true;
        break;
    case SL_SASL_S_AUTHENTICATE:
        if (api_key == SL_API_SASL_AUTHENTICATE || api_key == SL_API_API_VERSIONS)
            return true;
        break;
    default:
        break;
    }
    SL_INFO("sasl", "closing %s: request (API key %d) before SASL authentication completed",
            c->peer, api_key);
    sl_audit_authn(c, s->mech ? s->mech->name : NULL, "", false, false, "not_authenticated");
    return false;
}

bool sl_sasl_expects_raw(const struct sl_conn *c)
{
    const struct sl_sasl_session *s = sess(c);
    return s && s->state == SL_SASL_S_AUTHENTICATE && s->raw_tokens;
}

/* ---- steps ---- */

static int lookup(void *arg, const char *user, int mech, struct sl_scram_cred *out)
{
    struct sl_broker *b = arg;
    return sl_meta_get_scram(b->meta, user, mech, out) == SL_ERR_NONE ? 0 : -1;
}

static void start_exchange(struct sl_conn *c, const struct sl_sasl_mech *m, bool raw)
{
    struct sl_sasl_session *s = sess(c);
    struct sl_broker *b = c->nl->broker;
    struct sl_sasl_conf conf = {.lookup = lookup, .lookup_arg = b, .reauth = s->reauth,
                                .scram_legacy_nonce = true};
    sl_meta_auth_secret(b->meta, conf.fake_secret);
    end_exchange(s);
    s->mech = m;
    s->mst = m->start(&conf);
    s->raw_tokens = raw;
    s->state = SL_SASL_S_AUTHENTICATE;
    s->started_ms = sl_evloop_now_ms(c->nl->el);
}

/* The mechanism finished: the session is complete (or the re-authentication
 * is refused). Returns the session lifetime to announce, or -1 on refusal
 * with why filled. */
static int64_t complete(struct sl_conn *c, const char *user, char *why, size_t whylen)
{
    struct sl_sasl_session *s = sess(c);
    if (!sl_audit_available() && sl_audit_policy() == SL_AUDIT_POLICY_REJECT) {
        /* Fail closed: no session whose start cannot be recorded. */
        snprintf(why, whylen, "Authentication failed: the broker's audit log cannot be written");
        return -1;
    }
    if (s->reauth && strcmp(user, s->user) != 0) {
        snprintf(why, whylen, "Cannot change principals during re-authentication from User:%s: "
                              "User:%s", s->user, user);
        return -1;
    }
    snprintf(s->user, sizeof s->user, "%s", user);
    snprintf(c->principal, sizeof c->principal, "User:%s", user);
    c->authenticated = true;
    s->state = SL_SASL_S_COMPLETE;
    end_exchange(s);
    int64_t life = c->lst->sasl->reauth_ms;
    s->expiry_ms = life > 0 ? sl_evloop_now_ms(c->nl->el) + life : 0;
    c->max_frame = c->nl->broker->cfg->socket_request_max_bytes;
    c->handshake_deadline_ms = 0;
    SL_INFO("sasl", "conn %llu from %s on %s: %s %s as %s%s%s", (unsigned long long)c->id,
            c->peer, c->lst->name, s->reauth ? "re-authenticated" : "authenticated", s->mech->name,
            c->principal, s->raw_tokens ? " (SaslHandshake v0, bare tokens)" : "",
            life > 0 ? "" : " (session does not expire)");
    sl_audit_authn(c, s->mech->name, user, true, s->reauth, NULL);
    s->reauth = false;
    return life;
}

/* The audit log's reason class of a mechanism failure, from the broker-log
 * text the mechanism gave (never the client's bytes). */
static const char *reason_class(const struct sl_sasl_result *res)
{
    const char *l = res->log;
    if (strstr(l, "audit log"))
        return "audit_unavailable";
    if (strstr(l, "Cannot change principals"))
        return "reauth_principal_changed";
    if (strstr(l, "authzid"))
        return "authzid_mismatch";
    if (strstr(l, "exchange already over") || strstr(l, "Unexpected challenge"))
        return "illegal_state";
    if (strstr(l, "format") || strstr(l, "Invalid SASL/PLAIN") || strstr(l, "exceeds") ||
        strstr(l, "longer than") || strstr(l, "not specified") || strstr(l, "Unsupported") ||
        strstr(l, "nonce") || strstr(l, "channel binding"))
        return "malformed";
    if (strstr(l, "RAND_bytes") || strstr(l, "internal error") || strstr(l, "could not be computed"))
        return "internal_error";
    return "invalid_credentials";
}

/* Logs and audits a failed exchange; the response waits for the record. */
static void log_failure(struct sl_req *req, const struct sl_sasl_result *res)
{
    struct sl_conn *c = req->conn;
    struct sl_sasl_session *s = sess(c);
    SL_WARN("sasl", "conn %llu from %s on %s: %s failed for '%.64s': %s",
            (unsigned long long)c->id, c->peer, c->lst->name, s->mech->name, res->user,
            res->log[0] ? res->log : res->err);
    sl_audit_hold_req(req, sl_audit_authn(c, s->mech->name, res->user, false, s->reauth,
                                          reason_class(res)));
}

static void fail_timer(void *arg)
{
    struct sl_req *req = arg;
    req->cancel = NULL;
    sl_req_async_end(req);
}

/* The connection closed (or the broker stops) before the delay ended: the
 * timer goes, and so does the request. */
static void fail_cancel(struct sl_req *req)
{
    struct sl_timer *t = req->hctx;
    sl_timer_stop(req->conn->nl->el, t);
    req->cancel = NULL;
    sl_req_async_end(req);
}

/* Answers req after the failure delay, then closes the connection. */
static int fail_later(struct sl_req *req)
{
    struct sl_conn *c = req->conn;
    struct sl_sasl_session *s = sess(c);
    s->state = SL_SASL_S_FAILED;
    end_exchange(s);
    c->close_when_flushed = true;
    int32_t delay = c->nl->broker->cfg->connection_failed_auth_delay_ms;
    if (delay <= 0)
        return SL_HANDLER_DONE;
    struct sl_timer *t = sl_arena_alloc(&req->arena, sizeof *t);
    sl_timer_init(t, fail_timer, req);
    req->hctx = t;
    req->cancel = fail_cancel;
    req->state = SL_REQ_WAITING;
    sl_req_async_begin(req);
    sl_timer_start(c->nl->el, t, delay);
    return SL_ERR__DEFER;
}

/* ---- slow steps on the auth workers ---- */

static int authenticate_answer(struct sl_req *req, enum sl_sasl_step st,
                               struct sl_sasl_result *res);
static int raw_answer(struct sl_req *req, enum sl_sasl_step st, struct sl_sasl_result *res);

/* One step on a worker. Owned by the worker until posted back, then by the
 * loop; req is set by the loop and read by the worker too. */
struct step_job {
    _Atomic(struct sl_req *) req; /* NULL once the connection closed: skip the step */
    struct sl_evloop *el;
    const struct sl_sasl_mech *mech;
    void *mst;           /* the exchange, taken from the session meanwhile */
    uint8_t *in;
    size_t inlen;
    int delay_ms;
    enum sl_sasl_step st;
    struct sl_sasl_result res;
};

static void job_free(struct step_job *j)
{
    if (j->mst)
        j->mech->free(j->mst);
    free(j->res.out);
    if (j->in)
        OPENSSL_cleanse(j->in, j->inlen); /* PLAIN: holds the password */
    free(j->in);
    OPENSSL_cleanse(&j->res, sizeof j->res);
    free(j);
}

/* Loop thread: the step is over; the request goes on where the handler
 * would have, or the job goes if the connection is gone. */
static void step_done(void *arg)
{
    struct step_job *j = arg;
    struct sl_req *req = atomic_load(&j->req);
    if (!req) {
        job_free(j);
        return;
    }
    struct sl_sasl_session *s = sess(req->conn);
    s->mst = j->mst; /* back with the session (complete() ends it) */
    j->mst = NULL;
    req->hctx = NULL;
    req->cancel = NULL;
    req->state = SL_REQ_RUNNING;
    int rc = req->raw ? raw_answer(req, j->st, &j->res) : authenticate_answer(req, j->st, &j->res);
    job_free(j);
    sl_dispatch_resumed(req, rc);
}

/* One step on the network thread: fast mechanisms, or slow ones when the
 * workers do not run. */
static enum sl_sasl_step step_here(struct sl_conn *c, const uint8_t *in, size_t inlen,
                                   struct sl_sasl_result *res)
{
    struct sl_sasl_session *s = sess(c);
    if (s->mech->slow)
        sl_test_hook_pause(c->nl->broker->auth_delay_ms);
    return s->mech->step(s->mst, in, inlen, res);
}

/* Worker thread. */
static void step_run(void *arg)
{
    struct step_job *j = arg;
    if (atomic_load(&j->req)) {
        sl_test_hook_pause(j->delay_ms);
        j->st = j->mech->step(j->mst, j->in, j->inlen, &j->res);
    }
    sl_evloop_post(j->el, step_done, j);
}

/* Loop thread: the connection closes first (the close frees req). */
static void step_cancel(struct sl_req *req)
{
    struct step_job *j = req->hctx;
    atomic_store(&j->req, NULL);
    req->hctx = NULL;
}

/* Parks req and hands the step of in (borrowed) to an auth worker when the
 * session's mechanism is slow and the workers run. False: step here. */
static bool offload(struct sl_req *req, const uint8_t *in, size_t inlen)
{
    struct sl_conn *c = req->conn;
    struct sl_sasl_session *s = sess(c);
    struct sl_broker *b = c->nl->broker;
    if (!s->mech->slow || !b->auth_q)
        return false;
    struct step_job *j = sl_xcalloc(1, sizeof *j);
    atomic_init(&j->req, req);
    j->el = c->nl->el;
    j->mech = s->mech;
    j->mst = s->mst;
    s->mst = NULL;
    j->in = inlen ? sl_xmalloc(inlen) : NULL;
    if (inlen)
        memcpy(j->in, in, inlen);
    j->inlen = inlen;
    j->delay_ms = b->auth_delay_ms;
    req->hctx = j;
    req->cancel = step_cancel;
    req->state = SL_REQ_PARKED;
    sl_workq_push(b->auth_q, step_run, j);
    return true;
}

/* Test hook: milliseconds each offloaded step pauses (0 without it). */
#define AUTH_DELAY_ENV "SLUICE_TEST_AUTH_DELAY_MS"

int sl_sasl_workers_start(struct sl_broker *b, int n)
{
    bool slow = false;
    for (int i = 0; i < b->n_listeners; i++) {
        const struct sl_sasl_listener *sl = b->listeners[i].sasl;
        slow = slow || (sl && sl_sasl_listener_enabled(sl, sl_sasl_plain.name));
    }
    if (!slow)
        return 0;
    b->auth_delay_ms = sl_test_hook_ms(AUTH_DELAY_ENV, 60000, "sasl",
                                       "every PLAIN authentication pauses");
    b->auth_q = sl_workq_new(n < 1 ? 1 : n > 4 ? 4 : n, "sl-auth");
    if (!b->auth_q)
        SL_WARN("sasl", "could not start the authentication threads: PLAIN passwords are "
                        "checked on the network threads");
    return 0;
}

void sl_sasl_workers_stop(struct sl_broker *b)
{
    sl_workq_free(b->auth_q); /* posts the jobs' ends to the loops: drained later */
    b->auth_q = NULL;
}

/* ---- handlers ---- */

static void list_mechanisms(struct sl_req *req, struct SaslHandshakeResponse *resp)
{
    const struct sl_sasl_listener *sl = req->conn->lst->sasl;
    static const char *const all[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};
    int n = 0;
    for (size_t i = 0; i < 3; i++)
        n += sl && sl_sasl_listener_enabled(sl, all[i]);
    SL_ARR_PRIM(req, resp->mechanisms, n);
    n = 0;
    for (size_t i = 0; i < 3; i++)
        if (sl && sl_sasl_listener_enabled(sl, all[i]))
            resp->mechanisms.a[n++] = (sl_str_t){all[i], (int32_t)strlen(all[i])};
}

int sl_api_sasl_handshake(struct sl_req *req)
{
    struct SaslHandshakeRequest *body = req->body;
    struct SaslHandshakeResponse *resp = req->resp;
    struct sl_conn *c = req->conn;
    struct sl_sasl_session *s = sess(c);
    list_mechanisms(req, resp);
    if (!s || (s->state != SL_SASL_S_HANDSHAKE && s->state != SL_SASL_S_COMPLETE)) {
        resp->error_code = SL_ERR_ILLEGAL_SASL_STATE;
        if (s)
            sl_audit_hold_req(req, sl_audit_authn(c, NULL, "", false, false, "illegal_state"));
        if (s) {
            s->state = SL_SASL_S_FAILED;
            c->close_when_flushed = true;
        }
        return SL_HANDLER_DONE;
    }
    char name[64];
    snprintf(name, sizeof name, "%.*s", body->mechanism.len > 63 ? 63 : (int)body->mechanism.len,
             body->mechanism.p ? body->mechanism.p : "");
    const struct sl_sasl_mech *m = sl_sasl_mech_find(name);
    bool reauth = s->state == SL_SASL_S_COMPLETE;
    if (!m || !sl_sasl_listener_enabled(c->lst->sasl, name) || (reauth && m != s->mech) ||
        (reauth && req->hdr.api_version < 1)) {
        SL_INFO("sasl", "conn %llu from %s: SASL mechanism '%s' refused (%s)",
                (unsigned long long)c->id, c->peer, name,
                reauth ? "re-authentication must keep the mechanism" : "not enabled");
        resp->error_code = SL_ERR_UNSUPPORTED_SASL_MECHANISM;
        sl_audit_hold_req(req, sl_audit_authn(c, name, s->user, false, reauth,
                                              reauth ? "reauth_mechanism_changed"
                                                     : "mechanism_not_enabled"));
        s->state = SL_SASL_S_FAILED;
        c->close_when_flushed = true;
        return SL_HANDLER_DONE;
    }
    s->reauth = reauth;
    start_exchange(c, m, req->hdr.api_version == 0);
    return SL_HANDLER_DONE;
}

int sl_api_sasl_authenticate(struct sl_req *req)
{
    struct SaslAuthenticateRequest *body = req->body;
    struct SaslAuthenticateResponse *resp = req->resp;
    struct sl_conn *c = req->conn;
    struct sl_sasl_session *s = sess(c);
    if (!s || s->state != SL_SASL_S_AUTHENTICATE || s->raw_tokens) {
        resp->error_code = SL_ERR_ILLEGAL_SASL_STATE;
        resp->error_message = SL_STR_LIT("Unexpected SaslAuthenticate request: the SASL "
                                         "handshake has not been done");
        if (s)
            sl_audit_hold_req(req, sl_audit_authn(c, NULL, "", false, false, "illegal_state"));
        if (s) {
            s->state = SL_SASL_S_FAILED;
            c->close_when_flushed = true;
        }
        return SL_HANDLER_DONE;
    }
    size_t n = body->auth_bytes.len > 0 ? (size_t)body->auth_bytes.len : 0;
    if (offload(req, body->auth_bytes.p, n))
        return SL_ERR__DEFER;
    struct sl_sasl_result *res = sl_arena_alloc(&req->arena, sizeof *res);
    enum sl_sasl_step st = step_here(c, body->auth_bytes.p, n, res);
    return authenticate_answer(req, st, res);
}

/* The rest of SaslAuthenticate once the mechanism stepped: fills the
 * response from res (whose out it frees). */
static int authenticate_answer(struct sl_req *req, enum sl_sasl_step st,
                               struct sl_sasl_result *res)
{
    struct SaslAuthenticateResponse *resp = req->resp;
    struct sl_conn *c = req->conn;
    if (res->out) {
        resp->auth_bytes.p = sl_arena_memdup(&req->arena, res->out, res->out_len);
        resp->auth_bytes.len = (int32_t)res->out_len;
        free(res->out);
        res->out = NULL;
    }
    if (st == SL_SASL_CONTINUE)
        return SL_HANDLER_DONE;
    char why[1200];
    if (st == SL_SASL_DONE) {
        int64_t life = complete(c, res->user, why, sizeof why);
        if (life >= 0) {
            resp->session_lifetime_ms = life;
            return SL_HANDLER_DONE;
        }
        snprintf(res->err, sizeof res->err, "%.*s", (int)sizeof res->err - 1, why);
        snprintf(res->log, sizeof res->log, "%.*s", (int)sizeof res->log - 1, why);
    }
    log_failure(req, res);
    resp->error_code = SL_ERR_SASL_AUTHENTICATION_FAILED;
    resp->error_message.p = sl_arena_strdup(&req->arena, res->err);
    resp->error_message.len = (int32_t)strlen(res->err);
    resp->auth_bytes = (sl_bytes_t){NULL, 0};
    return fail_later(req);
}

/* The rest of a bare token once the mechanism stepped: the bare answer
 * in req->out (SL_HANDLER_DONE), or the failure (SL_ERR__DEFER while its
 * delay runs). Frees res->out. */
static int raw_answer(struct sl_req *req, enum sl_sasl_step st, struct sl_sasl_result *res)
{
    struct sl_conn *c = req->conn;
    char why[1200];
    if (st == SL_SASL_DONE && complete(c, res->user, why, sizeof why) < 0) {
        snprintf(res->log, sizeof res->log, "%.*s", (int)sizeof res->log - 1, why);
        st = SL_SASL_FAIL;
    }
    if (st == SL_SASL_FAIL) {
        /* v0 has no error response: nothing is sent, the connection closes
         * after the failure delay. */
        log_failure(req, res);
        free(res->out);
        res->out = NULL;
        return fail_later(req);
    }
    sl_wbuf_put_i32(&req->out, (int32_t)res->out_len);
    if (res->out_len)
        sl_wbuf_put(&req->out, res->out, res->out_len);
    free(res->out);
    res->out = NULL;
    return SL_HANDLER_DONE;
}

void sl_sasl_raw_token(struct sl_conn *c, const uint8_t *frame, size_t len)
{
    struct sl_req *req = sl_req_new(c);
    req->raw = true;
    if (!offload(req, frame, len)) {
        struct sl_sasl_result *res = sl_arena_alloc(&req->arena, sizeof *res);
        enum sl_sasl_step st = step_here(c, frame, len, res);
        if (raw_answer(req, st, res) == SL_HANDLER_DONE)
            req->state = SL_REQ_DONE;
    }
    sl_conn_enqueue(c, req); /* PARKED, WAITING for the failure delay, or DONE */
}
