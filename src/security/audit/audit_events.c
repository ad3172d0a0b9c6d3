/* SPDX-License-Identifier: Apache-2.0
 *
 * The audit events the broker records (see audit.h): each function builds
 * the data object of one CloudEvents type with audit_json.h into a
 * per-thread buffer and hands it to sl_audit_emit. Peer-chosen strings
 * (client ids, user names, resource names, certificate subjects) are
 * escaped by the JSON writer; secrets never reach these functions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/insecure.h"
#include "core/mem.h"
#include "core/wbuf.h"
#include "net/conn.h"
#include "net/netloop.h"
#include "protocol/request.h"
#include "security/audit/audit.h"
#include "security/audit/audit_json.h"
#include "security/audit/audit_types.h"
#include "security/authn/sasl_session.h"
#include "server/broker.h"
#include "storage/integrity.h"

/* One buffer per thread: events are built without allocating once it has
 * grown. */
static _Thread_local struct sl_wbuf tl_buf;
static _Thread_local bool tl_init;

static struct sl_wbuf *buf(void)
{
    if (!tl_init) {
        sl_wbuf_init(&tl_buf);
        tl_init = true;
    }
    sl_wbuf_clear(&tl_buf);
    return &tl_buf;
}

void sl_audit_thread_exit(void)
{
    if (tl_init)
        sl_wbuf_destroy(&tl_buf);
    tl_init = false;
}

static uint64_t emit(const char *type, const char *subject, struct sl_wbuf *w)
{
    return sl_audit_emit(type, subject, (const char *)w->data, w->len);
}

/* ---- contexts ---- */

void sl_audit_ctx_from_conn(struct sl_audit_ctx *ctx, const struct sl_conn *c)
{
    *ctx = (struct sl_audit_ctx){
        .principal = c->principal,
        .peer = c->peer,
        .listener = c->lst ? c->lst->name : NULL,
        .security_protocol = c->lst ? c->lst->protocol : NULL,
        .api = NULL,
        .correlation_id = -1,
        .conn_id = c->id,
    };
}

void sl_audit_ctx_from_req(struct sl_audit_ctx *ctx, const struct sl_req *req)
{
    sl_audit_ctx_from_conn(ctx, req->conn);
    ctx->api = req->api ? req->api->name : NULL;
    ctx->correlation_id = req->hdr.correlation_id;
    ctx->intent_seq = req->intent_seq;
    if (req->hdr.client_id.p && req->hdr.client_id.len > 0) {
        ctx->client_id = req->hdr.client_id.p;
        ctx->client_id_len = (size_t)req->hdr.client_id.len;
    }
}

/* The members every event on a connection carries. */
static void ctx_members(struct sl_aj *j, const struct sl_audit_ctx *ctx)
{
    sl_aj_kcstr(j, "principal", ctx->principal);
    sl_aj_kcstr(j, "client_address", ctx->peer);
    sl_aj_kcstr(j, "listener", ctx->listener);
    sl_aj_kcstr(j, "security_protocol", ctx->security_protocol);
    sl_aj_ku64(j, "connection_id", ctx->conn_id);
    if (ctx->api) {
        sl_aj_kcstr(j, "api", ctx->api);
        sl_aj_ki64(j, "correlation_id", ctx->correlation_id);
    }
    if (ctx->client_id)
        sl_aj_kstr(j, "client_id", ctx->client_id, ctx->client_id_len);
}

/* ---- authorization and changes (for the ACL work) ---- */

static const char *res_type_name(int t)
{
    /* Kafka's ResourceType codes. */
    static const char *const names[] = {"UNKNOWN", "ANY",   "TOPIC",           "GROUP",
                                        "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN",
                                        "USER"};
    return t >= 0 && t < (int)(sizeof names / sizeof names[0]) ? names[t] : "UNKNOWN";
}

static const char *pattern_name(int p)
{
    static const char *const names[] = {"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"};
    return p >= 0 && p < (int)(sizeof names / sizeof names[0]) ? names[p] : "UNKNOWN";
}

static const char *op_name(int op)
{
    static const char *const names[] = {
        "UNKNOWN", "ANY",          "ALL",           "READ",          "WRITE",
        "CREATE",  "DELETE",       "ALTER",         "DESCRIBE",      "CLUSTER_ACTION",
        "DESCRIBE_CONFIGS",        "ALTER_CONFIGS", "IDEMPOTENT_WRITE", "CREATE_TOKENS",
        "DESCRIBE_TOKENS"};
    return op >= 0 && op < (int)(sizeof names / sizeof names[0]) ? names[op] : "UNKNOWN";
}

uint64_t sl_audit_authz(const struct sl_audit_ctx *ctx, int res_type, int pattern,
                        const char *name, size_t name_len, int op, bool allowed,
                        const char *acl_text)
{
    if (!sl_audit_enabled())
        return SL_AUDIT_SEQ_NONE;
    if (allowed && sl_audit_authz_level() == SL_AUDIT_AUTHZ_NONE)
        return SL_AUDIT_SEQ_NONE;
    struct sl_wbuf *w = buf();
    struct sl_aj j;
    sl_aj_init(&j, w);
    sl_aj_obj_begin(&j);
    ctx_members(&j, ctx);
    sl_aj_kcstr(&j, "resource_type", res_type_name(res_type));
    sl_aj_kstr(&j, "resource_name", name ? name : "", name ? name_len : 0);
    sl_aj_kcstr(&j, "pattern_type", pattern_name(pattern));
    sl_aj_kcstr(&j, "operation", op_name(op));
    sl_aj_kcstr(&j, "decision", allowed ? "allow" : "deny");
    if (acl_text)
        sl_aj_kcstr(&j, "acl", acl_text);
    else
        sl_aj_kcstr(&j, "acl_default", allowed ? "allow (super user or default)" : "deny (no ACL)");
    sl_aj_obj_end(&j);
    char subject[300];
    snprintf(subject, sizeof subject, "%s:%.*s", res_type_name(res_type),
             (int)(name_len > 255 ? 255 : name_len), name ? name : "");
    return emit(SL_AUDIT_T_AUTHZ, subject, w);
}

/* The data of a change record; with_detail false: the detail object only
 * says it was left out. */
static void change_data(struct sl_aj *j, const struct sl_audit_ctx *ctx,
                        const struct sl_audit_change *ch, bool with_detail)
{
    const char *name = ch->name ? ch->name : "";
    size_t name_len = ch->name ? ch->name_len : 0;
    sl_aj_obj_begin(j);
    ctx_members(j, ctx);
    sl_aj_kcstr(j, "change", ch->type);
    sl_aj_kcstr(j, "resource_type", res_type_name(ch->res_type));
    sl_aj_kstr(j, "resource_name", name, name_len);
    sl_aj_kcstr(j, "pattern_type", pattern_name(ch->pattern));
    sl_aj_kcstr(j, "operation", op_name(ch->op));
    sl_aj_kcstr(j, "decision", "allow");
    sl_aj_kcstr(j, "outcome", ch->error == 0 ? "success" : "failure");
    sl_aj_ki64(j, "error_code", ch->error);
    sl_aj_kcstr(j, "error_message", ch->error ? ch->message : NULL);
    if (ctx->intent_seq)
        sl_aj_ku64(j, "intent_seq", ctx->intent_seq);
    if (ch->detail) {
        sl_aj_key(j, "detail");
        sl_aj_obj_begin(j);
        if (with_detail)
            ch->detail(j, ch->detail_arg);
        else
            sl_aj_kbool(j, "truncated", true);
        sl_aj_obj_end(j);
    }
    sl_aj_obj_end(j);
}

uint64_t sl_audit_change(const struct sl_audit_ctx *ctx, const struct sl_audit_change *ch)
{
    if (!sl_audit_enabled())
        return SL_AUDIT_SEQ_NONE;
    struct sl_wbuf *w = buf();
    struct sl_aj j;
    sl_aj_init(&j, w);
    change_data(&j, ctx, ch, true);
    if (w->len > SL_AJ_DATA_MAX_BYTES ||
        sl_aj_count_values(w->data, w->len) > SL_AJ_DATA_MAX_VALUES) {
        /* A request's detail (hundreds of config keys, partitions) would
         * make a line the verifier refuses: the record keeps its resource
         * and outcome, and says the detail was left out. */
        sl_wbuf_clear(w);
        sl_aj_init(&j, w);
        change_data(&j, ctx, ch, false);
    }
    const char *name = ch->name ? ch->name : "";
    size_t name_len = ch->name ? ch->name_len : 0;
    char t[96], subject[300];
    snprintf(t, sizeof t, "%s%s", SL_AUDIT_T_CHANGE_PREFIX, ch->type ? ch->type : "unknown");
    snprintf(subject, sizeof subject, "%s:%.*s", res_type_name(ch->res_type),
             (int)(name_len > 255 ? 255 : name_len), name);
    return emit(t, subject, w);
}

uint64_t sl_audit_intent(const struct sl_audit_ctx *ctx,
                         void (*resources)(struct sl_aj *j, const void *arg), const void *arg)
{
    if (!sl_audit_enabled())
        return SL_AUDIT_SEQ_NONE;
    struct sl_wbuf *w = buf();
    struct sl_aj j;
    sl_aj_init(&j, w);
    sl_aj_obj_begin(&j);
    ctx_members(&j, ctx);
    sl_aj_kcstr(&j, "change", "intent");
    resources(&j, arg);
    sl_aj_obj_end(&j);
    char subject[64];
    snprintf(subject, sizeof subject, "request:%llu/%d", (unsigned long long)ctx->conn_id,
             (int)ctx->correlation_id);
    return emit(SL_AUDIT_T_INTENT, subject, w);
}

/* ---- connections ---- */

/* Starts the data object of a connection event; *subject gets
 * "connection:<id>". */
static void conn_begin(const struct sl_conn *c, struct sl_aj *j, struct sl_audit_ctx *ctx,
                       char subject[40])
{
    sl_audit_ctx_from_conn(ctx, c);
    sl_aj_init(j, buf());
    sl_aj_obj_begin(j);
    snprintf(subject, 40, "connection:%llu", (unsigned long long)c->id);
}

void sl_audit_conn_accepted(const struct sl_conn *c)
{
    if (!sl_audit_enabled())
        return;
    struct sl_audit_ctx ctx;
    struct sl_aj j;
    char subject[40];
    conn_begin(c, &j, &ctx, subject);
    sl_aj_kcstr(&j, "client_address", ctx.peer);
    sl_aj_kcstr(&j, "listener", ctx.listener);
    sl_aj_kcstr(&j, "security_protocol", ctx.security_protocol);
    sl_aj_ku64(&j, "connection_id", ctx.conn_id);
    sl_aj_obj_end(&j);
    emit(SL_AUDIT_T_CONN_ACCEPTED, subject, j.w);
}

void sl_audit_conn_tls(const struct sl_conn *c, bool ok, const char *version, const char *cipher,
                       const char *subject_dn, const char *reason)
{
    if (!sl_audit_enabled())
        return;
    struct sl_audit_ctx ctx;
    struct sl_aj j;
    char subject[40];
    conn_begin(c, &j, &ctx, subject);
    ctx_members(&j, &ctx);
    sl_aj_kcstr(&j, "outcome", ok ? "success" : "failure");
    sl_aj_kcstr(&j, "tls_version", version);
    sl_aj_kcstr(&j, "cipher", cipher);
    sl_aj_kcstr(&j, "client_cert_subject", subject_dn);
    sl_aj_kcstr(&j, "reason", reason);
    sl_aj_obj_end(&j);
    emit(SL_AUDIT_T_CONN_TLS, subject, j.w);
}

void sl_audit_conn_closed(const struct sl_conn *c, const char *why)
{
    if (!sl_audit_enabled())
        return;
    struct sl_audit_ctx ctx;
    struct sl_aj j;
    char subject[40];
    conn_begin(c, &j, &ctx, subject);
    ctx_members(&j, &ctx);
    sl_aj_kbool(&j, "authenticated", c->authenticated);
    sl_aj_kcstr(&j, "reason", why);
    sl_aj_obj_end(&j);
    emit(SL_AUDIT_T_CONN_CLOSED, subject, j.w);
}

/* ---- authentication ---- */

uint64_t sl_audit_authn(const struct sl_conn *c, const char *mechanism, const char *user, bool ok,
                        bool reauth, const char *reason)
{
    if (!sl_audit_enabled())
        return SL_AUDIT_SEQ_NONE;
    struct sl_audit_ctx ctx;
    sl_audit_ctx_from_conn(&ctx, c);
    struct sl_wbuf *w = buf();
    struct sl_aj j;
    sl_aj_init(&j, w);
    sl_aj_obj_begin(&j);
    if (ok) {
        ctx_members(&j, &ctx);
    } else {
        /* Not authenticated: the connection's principal is not the user's. */
        sl_aj_kcstr(&j, "principal", ctx.principal);
        sl_aj_kcstr(&j, "client_address", ctx.peer);
        sl_aj_kcstr(&j, "listener", ctx.listener);
        sl_aj_kcstr(&j, "security_protocol", ctx.security_protocol);
        sl_aj_ku64(&j, "connection_id", ctx.conn_id);
    }
    sl_aj_kcstr(&j, "mechanism", mechanism);
    if (!ok)
        sl_aj_kcstr(&j, "attempted_user", user ? user : "");
    sl_aj_kbool(&j, "reauthentication", reauth);
    sl_aj_kcstr(&j, "decision", ok ? "success" : "failure");
    sl_aj_kcstr(&j, "reason", reason);
    sl_aj_obj_end(&j);
    char subject[300];
    if (ok)
        snprintf(subject, sizeof subject, "%s", c->principal);
    else
        snprintf(subject, sizeof subject, "User:%.255s", user ? user : "");
    return emit(SL_AUDIT_T_AUTHN, subject, w);
}

/* ---- the broker ---- */

static void listener_members(struct sl_aj *j, const struct sl_broker *b,
                             const struct sl_listener *l)
{
    char buf1[256], buf2[256];
    const struct sl_config *cfg = b->cfg;
    sl_aj_obj_begin(j);
    sl_aj_kcstr(j, "name", l->name);
    sl_aj_kcstr(j, "security_protocol", l->protocol);
    sl_aj_kcstr(j, "host", l->host[0] ? l->host : "*");
    sl_aj_ki64(j, "port", l->port);
    bool tls = l->tls != NULL;
    sl_aj_kbool(j, "encrypted", tls);
    sl_aj_kbool(j, "authenticated", l->sasl != NULL);
    if (tls) {
        sl_aj_kcstr(j, "tls_versions",
                    sl_config_listener_get(cfg, l->name, "ssl.enabled.protocols", buf1, sizeof buf1));
        sl_aj_kcstr(j, "client_auth",
                    sl_config_listener_get(cfg, l->name, "ssl.client.auth", buf2, sizeof buf2));
    }
    if (l->sasl)
        sl_aj_kcstr(j, "sasl_mechanisms", l->sasl->mechanisms);
    sl_aj_obj_end(j);
}

static void weakness_member(void *arg, const struct sl_weakness *w)
{
    char what[1024];
    snprintf(what, sizeof what, "%s=%s: %s%s", w->key, w->value, w->why,
             w->refusable ? " (allowed by sluice.allow.insecure=true)" : "");
    sl_aj_cstr(arg, what);
}

void sl_audit_broker_start(const struct sl_broker *b)
{
    if (!sl_audit_enabled())
        return;
    struct sl_wbuf *w = buf();
    struct sl_aj j;
    int insecure = 0;
    sl_aj_init(&j, w);
    sl_aj_obj_begin(&j);
    sl_aj_kcstr(&j, "cluster_id", b->cluster_id);
    sl_aj_ki64(&j, "node_id", b->cfg->node_id);
    sl_aj_key(&j, "listeners");
    sl_aj_arr_begin(&j);
    for (int i = 0; i < b->n_listeners; i++)
        listener_members(&j, b, &b->listeners[i]);
    sl_aj_arr_end(&j);
    /* Every weak point of the set-up (config/insecure.h): those allowed by
     * sluice.allow.insecure=true and those only reported (PLAINTEXT on
     * loopback). */
    sl_aj_key(&j, "insecure_settings");
    sl_aj_arr_begin(&j);
    insecure = sl_config_weaknesses(b->cfg, weakness_member, &j);
    sl_aj_arr_end(&j);
    sl_aj_kbool(&j, "secure", insecure == 0);
    sl_aj_kbool(&j, "allow_insecure", b->cfg->allow_insecure);
    sl_aj_kbool(&j, "clean_start", b->clean_start);
    sl_aj_kcstr(&j, "audit_failure_policy",
                sl_audit_policy() == SL_AUDIT_POLICY_REJECT ? "reject" : "log");
    static const char *const levels[] = {"none", "first", "all"};
    int lv = sl_audit_authz_level();
    sl_aj_kcstr(&j, "audit_authz_level", lv >= 0 && lv < 3 ? levels[lv] : "?");
    sl_aj_obj_end(&j);
    uint64_t seq = emit(SL_AUDIT_T_BROKER_START, "broker", w);
    /* The posture is on disk before the first client is served. */
    sl_audit_sync(seq, 10000);
}

void sl_audit_broker_stop(const struct sl_broker *b)
{
    if (!sl_audit_enabled())
        return;
    struct sl_wbuf *w = buf();
    struct sl_aj j;
    sl_aj_init(&j, w);
    sl_aj_obj_begin(&j);
    sl_aj_kcstr(&j, "cluster_id", b->cluster_id);
    sl_aj_ki64(&j, "node_id", b->cfg->node_id);
    sl_aj_ku64(&j, "dropped_events", sl_audit_dropped());
    sl_aj_obj_end(&j);
    emit(SL_AUDIT_T_BROKER_STOP, "broker", w);
}

void sl_audit_reload(const char *what, const char *listener, bool ok, const char *reason)
{
    if (!sl_audit_enabled())
        return;
    struct sl_wbuf *w = buf();
    struct sl_aj j;
    sl_aj_init(&j, w);
    sl_aj_obj_begin(&j);
    sl_aj_kcstr(&j, "what", what);
    sl_aj_kcstr(&j, "listener", listener);
    sl_aj_kcstr(&j, "outcome", ok ? "success" : "failure");
    sl_aj_kcstr(&j, "reason", reason);
    sl_aj_obj_end(&j);
    emit(SL_AUDIT_T_RELOAD, listener ? listener : what, w);
}

void sl_audit_storage_integrity(const struct sl_integrity_event *ev)
{
    if (!sl_audit_enabled())
        return;
    /* Not the per-thread buffer: this runs on threads that never call
     * sl_audit_thread_exit (recovery threads, the group coordinator). */
    struct sl_wbuf w;
    struct sl_aj j;
    sl_wbuf_init(&w);
    sl_aj_init(&j, &w);
    sl_aj_obj_begin(&j);
    sl_aj_kcstr(&j, "what", ev->kind);
    sl_aj_kcstr(&j, "path", ev->path);
    if (ev->position >= 0)
        sl_aj_ki64(&j, "position", ev->position);
    sl_aj_kcstr(&j, "detail", ev->detail);
    sl_aj_obj_end(&j);
    emit(SL_AUDIT_T_STORAGE_INTEGRITY, ev->path, &w);
    sl_wbuf_destroy(&w);
}

void sl_audit_key_rewrap(const char *what, uint32_t version, int64_t rewrapped, int64_t current,
                         int64_t failed, const char *reason)
{
    if (!sl_audit_enabled())
        return;
    struct sl_wbuf w;
    struct sl_aj j;
    sl_wbuf_init(&w);
    sl_aj_init(&j, &w);
    sl_aj_obj_begin(&j);
    sl_aj_kcstr(&j, "what", what);
    sl_aj_ku64(&j, "key_version", version);
    if (strcmp(what, "started") != 0) {
        sl_aj_ki64(&j, "rewrapped", rewrapped);
        sl_aj_ki64(&j, "current", current);
        sl_aj_ki64(&j, "failed", failed);
    }
    sl_aj_kcstr(&j, "reason", reason);
    sl_aj_obj_end(&j);
    emit(SL_AUDIT_T_KEY_REWRAP, "broker", &w);
    sl_wbuf_destroy(&w);
}
