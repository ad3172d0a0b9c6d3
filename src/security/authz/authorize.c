/* SPDX-License-Identifier: Apache-2.0
 *
 * The authorizer glue between the request handlers and the ACL set (see
 * authorize.h): super users, the per-connection decision cache, Kafka's
 * authorizer log line for denials, the audit hook.
 */
#include "security/authz/authorize.h"

#include <stdatomic.h>
#include <string.h>

#include "config/config.h"
#include "core/logging.h"
#include "core/mem.h"
#include "meta/meta.h"
#include "net/conn.h"
#include "protocol/request.h"
#include "security/authz/super_users.h"
#include "server/broker.h"
#include "server/registry.h"

/* A direct-mapped cache: a handful of resources per connection is the
 * common case (one producer, a few topics, one group). */
#define CACHE_SLOTS 64
#define CACHE_NAME_MAX 120

struct slot {
    uint32_t hash;
    int8_t op, res;
    bool used;
    uint8_t name_len;
    struct sl_authz_decision d;
    char name[CACHE_NAME_MAX];
};

struct sl_authz_cache {
    uint64_t gen;            /* ACL generation the slots were decided under */
    struct sl_acl_set *set;  /* that generation's set (deciding ACLs point into it) */
    bool super;
    char principal[SL_PRINCIPAL_MAX];
    struct slot slots[CACHE_SLOTS];
};

static sl_authz_hook_fn hook;
static atomic_uint_fast64_t n_decisions, n_hits, n_denials;

void sl_authz_set_hook(sl_authz_hook_fn fn)
{
    hook = fn;
}

void sl_authz_stats(struct sl_authz_stats *out)
{
    out->decisions = atomic_load(&n_decisions);
    out->cache_hits = atomic_load(&n_hits);
    out->denials = atomic_load(&n_denials);
}

void sl_authz_cache_free(struct sl_conn *c)
{
    if (!c || !c->azc)
        return;
    sl_acl_set_unref(c->azc->set);
    free(c->azc);
    c->azc = NULL;
}

/* The connection's cache, current for the store's ACL generation and the
 * connection's principal. The generation is read before the set, so a
 * change racing with this call is seen again on the next one. */
static struct sl_authz_cache *cache_of(struct sl_req *req)
{
    struct sl_conn *c = req->conn;
    struct sl_broker *b = req->broker;
    uint64_t gen = sl_meta_acl_generation(b->meta);
    struct sl_authz_cache *z = c->azc;
    if (!z) {
        z = c->azc = sl_xcalloc(1, sizeof(*z));
        z->gen = 0;
    }
    if (z->gen == gen && z->set && strcmp(z->principal, c->principal) == 0)
        return z;
    sl_acl_set_unref(z->set);
    z->set = sl_meta_acl_set(b->meta);
    z->gen = gen;
    snprintf(z->principal, sizeof(z->principal), "%s", c->principal);
    z->super = sl_super_user(b->cfg, z->principal);
    memset(z->slots, 0, sizeof(z->slots));
    return z;
}

static uint32_t hash_of(int op, int res, const char *name, size_t len)
{
    uint32_t h = 2166136261u ^ (uint32_t)(op * 31 + res);
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 16777619u;
    return h;
}

/* Decides, through the connection's cache; returns true on a cache hit
 * (the audit log's "first per session and resource" level uses it). */
static bool decide(struct sl_req *req, int op, int res, const char *name, size_t len,
                   struct sl_authz_decision *d)
{
    atomic_fetch_add_explicit(&n_decisions, 1, memory_order_relaxed);
    struct sl_authz_cache *z = cache_of(req);
    uint32_t h = hash_of(op, res, name, len);
    struct slot *s = &z->slots[h % CACHE_SLOTS];
    if (s->used && s->hash == h && s->op == op && s->res == res && s->name_len == len &&
        memcmp(s->name, name, len) == 0) {
        atomic_fetch_add_explicit(&n_hits, 1, memory_order_relaxed);
        *d = s->d;
        return true;
    }
    if (z->super)
        *d = (struct sl_authz_decision){.allowed = true, .reason = SL_AUTHZ_SUPER, .acl = NULL};
    else
        sl_acl_decide(z->set, req->conn->principal, req->conn->peer_host, op, res, name, len,
                      req->broker->cfg->allow_everyone_if_no_acl_found &&
                          !(res == SL_ACL_RES_TOPIC &&
                            sl_topic_internal((sl_str_t){name, (int32_t)len})),
                      d);
    if (len <= CACHE_NAME_MAX) {
        s->used = true;
        s->hash = h;
        s->op = (int8_t)op;
        s->res = (int8_t)res;
        s->name_len = (uint8_t)len;
        memcpy(s->name, name, len);
        s->d = *d;
    }
    return false;
}

static const char *reason_text(const struct sl_authz_decision *d, char *buf, size_t n)
{
    switch (d->reason) {
    case SL_AUTHZ_DENY:
    case SL_AUTHZ_ALLOW:
        snprintf(buf, n, "%s %s from host %s on %s:%s:%s by %s", sl_acl_perm_name(d->acl->perm),
                 sl_acl_op_name(d->acl->op), d->acl->host, sl_acl_res_name(d->acl->res),
                 sl_acl_pattern_name(d->acl->pattern), d->acl->name, d->acl->principal);
        return buf;
    case SL_AUTHZ_NO_ACL:
        return "no ACL on the resource";
    case SL_AUTHZ_NO_MATCH:
        return "no matching ALLOW";
    default:
        return "super user";
    }
}

static bool check(struct sl_req *req, int op, int res, const char *name, size_t len, bool quiet)
{
    struct sl_authz_decision d;
    bool cached = decide(req, op, res, name, len, &d);
    if (!d.allowed) {
        atomic_fetch_add_explicit(&n_denials, 1, memory_order_relaxed);
        if (!quiet) {
            char why[SL_ACL_NAME_MAX * 2 + 128];
            int shown = len > 256 ? 256 : (int)len;
            SL_INFO("authz",
                    "Principal = %s is Denied operation = %s from host = %s on resource = "
                    "%s:%.*s for request = %s with correlation id %d (%s)",
                    req->conn->principal, sl_acl_op_name(op), req->conn->peer_host,
                    sl_acl_res_name(res), shown, name, req->api ? req->api->name : "?",
                    req->hdr.correlation_id, reason_text(&d, why, sizeof(why)));
        }
    }
    if (hook) {
        struct sl_authz_event ev = {.req = req, .op = op, .res = res, .name = name,
                                    .name_len = len, .quiet = quiet, .cached = cached, .d = &d};
        hook(&ev);
    }
    return d.allowed;
}

static size_t view_len(sl_str_t s)
{
    return s.len > 0 ? (size_t)s.len : 0;
}

bool sl_authz(struct sl_req *req, int op, int res, sl_str_t name)
{
    return check(req, op, res, name.p ? name.p : "", view_len(name), false);
}

bool sl_authz_quiet(struct sl_req *req, int op, int res, sl_str_t name)
{
    return check(req, op, res, name.p ? name.p : "", view_len(name), true);
}

bool sl_authz_c(struct sl_req *req, int op, int res, const char *name)
{
    return check(req, op, res, name, strlen(name), false);
}

bool sl_authz_cluster(struct sl_req *req, int op)
{
    return sl_authz_c(req, op, SL_ACL_RES_CLUSTER, SL_ACL_CLUSTER_NAME);
}

/* A binding's principal and host apply to this connection. */
static bool applies(const struct sl_acl *a, const struct sl_conn *c)
{
    return (strcmp(a->principal, "User:*") == 0 || strcmp(a->principal, c->principal) == 0) &&
           (strcmp(a->host, "*") == 0 || strcmp(a->host, c->peer_host) == 0);
}

static bool writes(const struct sl_acl *a)
{
    return a->res == SL_ACL_RES_TOPIC && (a->op == SL_ACL_OP_WRITE || a->op == SL_ACL_OP_ALL);
}

/* A DENY binding d covers the resources of ALLOW binding a: the same
 * pattern, LITERAL "*", or a PREFIXED deny that is a prefix of a's name. */
static bool deny_covers(const struct sl_acl *dn, const struct sl_acl *a)
{
    if (dn->pattern == SL_ACL_PAT_LITERAL && strcmp(dn->name, "*") == 0)
        return true;
    if (dn->pattern == SL_ACL_PAT_PREFIXED)
        return strncmp(a->name, dn->name, strlen(dn->name)) == 0;
    return a->pattern == SL_ACL_PAT_LITERAL && strcmp(dn->name, a->name) == 0;
}

/* Kafka's authorizeByResourceType(TOPIC, WRITE): some topic may be written. */
static bool write_on_any_topic(struct sl_req *req, struct sl_authz_cache *z)
{
    int n = sl_acl_set_count(z->set);
    bool any_topic_acl = false;
    for (int i = 0; i < n; i++) {
        const struct sl_acl *a = sl_acl_set_at(z->set, i);
        if (a->res == SL_ACL_RES_TOPIC)
            any_topic_acl = true;
        if (!writes(a) || a->perm != SL_ACL_PERM_ALLOW || !applies(a, req->conn))
            continue;
        bool denied = false;
        for (int j = 0; j < n && !denied; j++) {
            const struct sl_acl *dn = sl_acl_set_at(z->set, j);
            denied = writes(dn) && dn->perm == SL_ACL_PERM_DENY && applies(dn, req->conn) &&
                     deny_covers(dn, a);
        }
        if (!denied)
            return true;
    }
    return !any_topic_acl && req->broker->cfg->allow_everyone_if_no_acl_found;
}

bool sl_authz_idempotent_write(struct sl_req *req)
{
    struct sl_authz_decision d;
    (void)decide(req, SL_ACL_OP_IDEMPOTENT_WRITE, SL_ACL_RES_CLUSTER, SL_ACL_CLUSTER_NAME,
                 strlen(SL_ACL_CLUSTER_NAME), &d);
    if (d.allowed)
        return true;
    if (write_on_any_topic(req, cache_of(req)))
        return true;
    return sl_authz_cluster(req, SL_ACL_OP_IDEMPOTENT_WRITE); /* logs and audits the denial */
}

/* Operations valid per resource type (PROTOCOL.md §6.1). */
static const int8_t TOPIC_OPS[] = {SL_ACL_OP_READ,   SL_ACL_OP_WRITE,   SL_ACL_OP_CREATE,
                                   SL_ACL_OP_DESCRIBE, SL_ACL_OP_DELETE, SL_ACL_OP_ALTER,
                                   SL_ACL_OP_DESCRIBE_CONFIGS, SL_ACL_OP_ALTER_CONFIGS, 0};
static const int8_t GROUP_OPS[] = {SL_ACL_OP_READ, SL_ACL_OP_DESCRIBE, SL_ACL_OP_DELETE,
                                   SL_ACL_OP_DESCRIBE_CONFIGS, SL_ACL_OP_ALTER_CONFIGS, 0};
static const int8_t CLUSTER_OPS[] = {SL_ACL_OP_CREATE, SL_ACL_OP_CLUSTER_ACTION,
                                     SL_ACL_OP_DESCRIBE_CONFIGS, SL_ACL_OP_ALTER_CONFIGS,
                                     SL_ACL_OP_IDEMPOTENT_WRITE, SL_ACL_OP_ALTER,
                                     SL_ACL_OP_DESCRIBE, 0};

int32_t sl_authz_ops_bitfield(struct sl_req *req, int res, sl_str_t name)
{
    const int8_t *ops = res == SL_ACL_RES_TOPIC   ? TOPIC_OPS
                        : res == SL_ACL_RES_GROUP ? GROUP_OPS
                        : res == SL_ACL_RES_CLUSTER ? CLUSTER_OPS
                                                    : NULL;
    int32_t bits = 0;
    for (int i = 0; ops && ops[i]; i++) {
        if (sl_authz_quiet(req, ops[i], res, name))
            bits |= (int32_t)(1u << ops[i]);
    }
    return bits;
}
