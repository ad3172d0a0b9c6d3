/* SPDX-License-Identifier: Apache-2.0
 *
 * `sluice acl add|remove|list`: Kafka ACLs through CreateAcls,
 * DeleteAcls and DescribeAcls (keys 30, 31, 29; PROTOCOL.md §6), with the
 * flags of kafka-acls.sh. Online, ACL changes go through the broker so
 * that they are authorized and audited; offline (--data-dir, the broker
 * stopped) the same verbs work on the metadata store directly, to set up
 * the first ACLs before a broker ever runs (like `sluice user add
 * --data-dir`).
 *
 *   add     one binding per resource × (principal × host) × operation, for
 *           the --allow-* and the --deny-* principals; hosts default to *,
 *           operations to ALL, the pattern type to LITERAL.
 *   remove  the same bindings, each as an exact filter; with no principal,
 *           every binding of the resources (needs --force).
 *   list    DescribeAcls per resource (all resources when none is given),
 *           optionally of one --principal; the pattern type defaults to
 *           LITERAL with a resource and ANY without.
 *
 * Output: one line per binding, tab-separated and sorted:
 *   RESOURCE_TYPE PATTERN_TYPE NAME PRINCIPAL HOST OPERATION PERMISSION
 * (add and remove prefix each line with "added" / "removed").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/arena.h"
#include "core/mem.h"
#include "crypto/keyring.h"
#include "meta/meta.h"
#include "protocol/gen/apis.h"
#include "security/authz/acl.h"

#define ACL_ARGS_MAX 64

static const char USAGE[] =
    "usage: sluice acl add    PRINCIPALS [HOSTS] [--operation OP]... RESOURCES [--resource-pattern-type T] WHERE\n"
    "       sluice acl remove [PRINCIPALS [HOSTS] [--operation OP]...] RESOURCES [--resource-pattern-type T] [--force] WHERE\n"
    "       sluice acl list   [RESOURCES] [--resource-pattern-type T] [--principal P] WHERE\n"
    "PRINCIPALS: --allow-principal P, --deny-principal P (repeatable; P like User:alice or User:*)\n"
    "HOSTS:      --allow-host H, --deny-host H (repeatable; default *)\n"
    "OP:         ALL READ WRITE CREATE DELETE ALTER DESCRIBE CLUSTER_ACTION DESCRIBE_CONFIGS\n"
    "            ALTER_CONFIGS IDEMPOTENT_WRITE (default ALL)\n"
    "RESOURCES:  --topic T, --group G, --transactional-id T (repeatable), --cluster\n"
    "T:          LITERAL (default) or PREFIXED; remove and list also take ANY and MATCH\n"
    "WHERE:      --bootstrap-server HOST:PORT and/or --command-config FILE (online), or\n"
    "            --data-dir DIR (offline: the broker must be stopped)\n"
    "remove without principals removes every ACL of the resources and needs --force.\n"
    "Output: one line per binding, tab-separated: RESOURCE_TYPE PATTERN_TYPE NAME\n"
    "PRINCIPAL HOST OPERATION PERMISSION.\n";

struct acl_res {
    int8_t type;
    const char *name;
};

struct acl_args {
    const char *verb;
    const char *allow_p[ACL_ARGS_MAX], *deny_p[ACL_ARGS_MAX];
    const char *allow_h[ACL_ARGS_MAX], *deny_h[ACL_ARGS_MAX];
    int n_allow_p, n_deny_p, n_allow_h, n_deny_h;
    int8_t ops[ACL_ARGS_MAX];
    int n_ops;
    struct acl_res res[ACL_ARGS_MAX];
    int n_res;
    int8_t pattern; /* 0: not given */
    const char *principal; /* list filter */
    bool force;
    struct sl_cli_target t;
};

/* Operations that apply to each resource type (PROTOCOL.md §6.1), as bits. */
static uint32_t ops_of(int res)
{
#define B(op) (1u << SL_ACL_OP_##op)
    switch (res) {
    case SL_ACL_RES_TOPIC:
        return B(READ) | B(WRITE) | B(CREATE) | B(DESCRIBE) | B(DELETE) | B(ALTER) |
               B(DESCRIBE_CONFIGS) | B(ALTER_CONFIGS);
    case SL_ACL_RES_GROUP:
        return B(READ) | B(DESCRIBE) | B(DELETE) | B(DESCRIBE_CONFIGS) | B(ALTER_CONFIGS);
    case SL_ACL_RES_CLUSTER:
        return B(CREATE) | B(CLUSTER_ACTION) | B(DESCRIBE_CONFIGS) | B(ALTER_CONFIGS) |
               B(IDEMPOTENT_WRITE) | B(ALTER) | B(DESCRIBE);
    case SL_ACL_RES_TRANSACTIONAL_ID:
        return B(DESCRIBE) | B(WRITE);
    default:
        return 0;
    }
#undef B
}

static int push(const char **arr, int *n, const char *v, const char *opt, char *err, size_t errlen)
{
    if (*n >= ACL_ARGS_MAX) {
        snprintf(err, errlen, "too many %s options (at most %d)", opt, ACL_ARGS_MAX);
        return -1;
    }
    arr[(*n)++] = v;
    return 0;
}

static int push_res(struct acl_args *a, int8_t type, const char *name, char *err, size_t errlen)
{
    if (a->n_res >= ACL_ARGS_MAX) {
        snprintf(err, errlen, "too many resources (at most %d)", ACL_ARGS_MAX);
        return -1;
    }
    if (!name[0]) {
        snprintf(err, errlen, "a resource name must not be empty");
        return -1;
    }
    a->res[a->n_res++] = (struct acl_res){type, name};
    return 0;
}

/* Parses argv (argv[0] = "acl"). Returns 0, 1 for --help, or -1 with err. */
static int parse_args(int argc, char **argv, struct acl_args *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    if (argc < 2) {
        snprintf(err, errlen, "acl needs a command (add, remove, list)");
        return -1;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return 1;
    a->verb = argv[1];
    if (strcmp(a->verb, "add") != 0 && strcmp(a->verb, "remove") != 0 &&
        strcmp(a->verb, "list") != 0) {
        snprintf(err, errlen, "unknown acl command '%s' (add, remove, list)", a->verb);
        return -1;
    }
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        int r;
#define OPT(name) ((r = sl_cli_opt(name, argc, argv, &i, &v)) != 0)
        if ((r = sl_cli_target_opt(&a->t, argc, argv, &i)) != 0) {
            if (r < 0)
                goto missing;
        } else if (OPT("--allow-principal")) {
            if (r < 0 || push(a->allow_p, &a->n_allow_p, v, "--allow-principal", err, errlen))
                goto missing;
        } else if (OPT("--deny-principal")) {
            if (r < 0 || push(a->deny_p, &a->n_deny_p, v, "--deny-principal", err, errlen))
                goto missing;
        } else if (OPT("--allow-host")) {
            if (r < 0 || push(a->allow_h, &a->n_allow_h, v, "--allow-host", err, errlen))
                goto missing;
        } else if (OPT("--deny-host")) {
            if (r < 0 || push(a->deny_h, &a->n_deny_h, v, "--deny-host", err, errlen))
                goto missing;
        } else if (OPT("--operation")) {
            if (r < 0)
                goto missing;
            int op = sl_acl_op_from_name(v);
            if (op == SL_ACL_OP_UNKNOWN || op == SL_ACL_OP_ANY) {
                snprintf(err, errlen, "--operation %s: not an operation (READ, WRITE, ALL, ...)", v);
                return -1;
            }
            if (a->n_ops >= ACL_ARGS_MAX) {
                snprintf(err, errlen, "too many --operation options");
                return -1;
            }
            a->ops[a->n_ops++] = (int8_t)op;
        } else if (OPT("--topic")) {
            if (r < 0 || push_res(a, SL_ACL_RES_TOPIC, v, err, errlen))
                goto missing;
        } else if (OPT("--group")) {
            if (r < 0 || push_res(a, SL_ACL_RES_GROUP, v, err, errlen))
                goto missing;
        } else if (OPT("--transactional-id")) {
            if (r < 0 || push_res(a, SL_ACL_RES_TRANSACTIONAL_ID, v, err, errlen))
                goto missing;
        } else if (strcmp(argv[i], "--cluster") == 0) {
            if (push_res(a, SL_ACL_RES_CLUSTER, SL_ACL_CLUSTER_NAME, err, errlen))
                return -1;
        } else if (OPT("--resource-pattern-type")) {
            if (r < 0)
                goto missing;
            a->pattern = (int8_t)sl_acl_pattern_from_name(v);
            if (a->pattern == SL_ACL_PAT_UNKNOWN) {
                snprintf(err, errlen, "--resource-pattern-type %s: LITERAL, PREFIXED, MATCH or ANY",
                         v);
                return -1;
            }
        } else if (OPT("--principal")) {
            if (r < 0)
                goto missing;
            a->principal = v;
        } else if (strcmp(argv[i], "--force") == 0) {
            a->force = true;
        } else {
            snprintf(err, errlen, "unexpected argument '%s'", argv[i]);
            return -1;
        }
#undef OPT
    }
    bool add = strcmp(a->verb, "add") == 0, list = strcmp(a->verb, "list") == 0;
    int np = a->n_allow_p + a->n_deny_p;
    if (list && (np || a->n_allow_h || a->n_deny_h || a->n_ops || a->force)) {
        snprintf(err, errlen, "acl list takes resources, --resource-pattern-type and --principal "
                              "only");
        return -1;
    }
    if (!list && a->principal) {
        snprintf(err, errlen, "--principal filters acl list; add and remove take "
                              "--allow-principal / --deny-principal");
        return -1;
    }
    if (!list && a->n_res == 0) {
        snprintf(err, errlen, "acl %s needs a resource: --topic, --group, --transactional-id or "
                              "--cluster", a->verb);
        return -1;
    }
    if (add && np == 0) {
        snprintf(err, errlen, "acl add needs --allow-principal or --deny-principal");
        return -1;
    }
    if ((a->n_allow_h && !a->n_allow_p) || (a->n_deny_h && !a->n_deny_p)) {
        snprintf(err, errlen, "--allow-host / --deny-host need --allow-principal / "
                              "--deny-principal");
        return -1;
    }
    if (!list && np == 0 && (a->n_ops || !a->force)) {
        snprintf(err, errlen, np == 0 && a->n_ops
                                  ? "--operation needs --allow-principal or --deny-principal"
                                  : "acl remove without principals removes every ACL of the "
                                    "resources: add --force to mean it");
        return -1;
    }
    if (add && a->pattern && a->pattern != SL_ACL_PAT_LITERAL &&
        a->pattern != SL_ACL_PAT_PREFIXED) {
        snprintf(err, errlen, "acl add: --resource-pattern-type must be LITERAL or PREFIXED");
        return -1;
    }
    for (int i = 0; i < a->n_res && np; i++)
        for (int j = 0; j < a->n_ops; j++)
            if (a->ops[j] != SL_ACL_OP_ALL && !(ops_of(a->res[i].type) & (1u << a->ops[j]))) {
                snprintf(err, errlen, "operation %s does not apply to %s resources",
                         sl_acl_op_name(a->ops[j]), sl_acl_res_name(a->res[i].type));
                return -1;
            }
    for (int i = 0; i < a->n_allow_p + a->n_deny_p; i++) {
        const char *p = i < a->n_allow_p ? a->allow_p[i] : a->deny_p[i - a->n_allow_p];
        const char *colon = strchr(p, ':');
        if (!colon || colon == p || !colon[1]) {
            snprintf(err, errlen, "principal '%s' is not TYPE:NAME (e.g. User:alice)", p);
            return -1;
        }
    }
    return 0;
missing:
    if (!err[0])
        snprintf(err, errlen, "%s needs a value", argv[argc - 1]);
    return -1;
}

/* One (permission, principal, host) triple to expand. */
struct who {
    int8_t perm;
    const char *principal, *host;
};

/* The triples of a: allow principals × allow hosts, deny × deny. */
static int whos(const struct acl_args *a, struct who *out)
{
    int n = 0;
    for (int d = 0; d < 2; d++) {
        int np = d ? a->n_deny_p : a->n_allow_p, nh = d ? a->n_deny_h : a->n_allow_h;
        const char *const *ps = d ? a->deny_p : a->allow_p, *const *hs = d ? a->deny_h : a->allow_h;
        for (int i = 0; i < np; i++)
            for (int j = 0; j < (nh ? nh : 1); j++)
                out[n++] = (struct who){d ? SL_ACL_PERM_DENY : SL_ACL_PERM_ALLOW, ps[i],
                                        nh ? hs[j] : "*"};
    }
    return n;
}

static int8_t ops_or_all(const struct acl_args *a, int i)
{
    return a->n_ops ? a->ops[i] : (int8_t)SL_ACL_OP_ALL;
}

/* CreateAcls creations of a `add` (arena memory). */
static void build_create(const struct acl_args *a, struct sl_arena *ar, struct CreateAclsRequest *req)
{
    struct who *w = sl_arena_alloc(ar, sizeof *w * 2 * ACL_ARGS_MAX * ACL_ARGS_MAX);
    int nw = whos(a, w), nops = a->n_ops ? a->n_ops : 1;
    int n = a->n_res * nw * nops;
    req->creations.n = n;
    req->creations.a = sl_arena_alloc(ar, sizeof *req->creations.a * (size_t)(n ? n : 1));
    int k = 0;
    for (int r = 0; r < a->n_res; r++)
        for (int i = 0; i < nw; i++)
            for (int o = 0; o < nops; o++)
                req->creations.a[k++] = (struct CreateAclsRequest_AclCreation){
                    .resource_type = a->res[r].type,
                    .resource_name = sl_str_c(a->res[r].name),
                    .resource_pattern_type = a->pattern ? a->pattern : (int8_t)SL_ACL_PAT_LITERAL,
                    .principal = sl_str_c(w[i].principal),
                    .host = sl_str_c(w[i].host),
                    .operation = ops_or_all(a, o),
                    .permission_type = w[i].perm,
                };
}

/* DeleteAcls filters of a `remove` (arena memory). */
static void build_delete(const struct acl_args *a, struct sl_arena *ar, struct DeleteAclsRequest *req)
{
    struct who *w = sl_arena_alloc(ar, sizeof *w * 2 * ACL_ARGS_MAX * ACL_ARGS_MAX);
    int nw = whos(a, w), nops = a->n_ops ? a->n_ops : 1;
    int per = nw ? nw * nops : 1;
    int n = a->n_res * per;
    req->filters.n = n;
    req->filters.a = sl_arena_alloc(ar, sizeof *req->filters.a * (size_t)(n ? n : 1));
    int k = 0;
    for (int r = 0; r < a->n_res; r++) {
        struct DeleteAclsRequest_DeleteAclsFilter f = {
            .resource_type_filter = a->res[r].type,
            .resource_name_filter = sl_str_c(a->res[r].name),
            .pattern_type_filter = a->pattern ? a->pattern : (int8_t)SL_ACL_PAT_LITERAL,
            .principal_filter = SL_STR_NULL,
            .host_filter = SL_STR_NULL,
            .operation = SL_ACL_OP_ANY,
            .permission_type = SL_ACL_PERM_ANY,
        };
        if (nw == 0) {
            req->filters.a[k++] = f;
            continue;
        }
        for (int i = 0; i < nw; i++)
            for (int o = 0; o < nops; o++) {
                f.principal_filter = sl_str_c(w[i].principal);
                f.host_filter = sl_str_c(w[i].host);
                f.operation = ops_or_all(a, o);
                f.permission_type = w[i].perm;
                req->filters.a[k++] = f;
            }
    }
}

/* DescribeAcls filter i of a `list` (one per resource, or one for all). */
static void build_describe(const struct acl_args *a, int i, struct DescribeAclsRequest *req)
{
    bool any = a->n_res == 0;
    *req = (struct DescribeAclsRequest){
        .resource_type_filter = any ? (int8_t)SL_ACL_RES_ANY : a->res[i].type,
        .resource_name_filter = any ? SL_STR_NULL : sl_str_c(a->res[i].name),
        .pattern_type_filter = a->pattern ? a->pattern
                                          : (int8_t)(any ? SL_ACL_PAT_ANY : SL_ACL_PAT_LITERAL),
        .principal_filter = a->principal ? sl_str_c(a->principal) : SL_STR_NULL,
        .host_filter = SL_STR_NULL,
        .operation = SL_ACL_OP_ANY,
        .permission_type = SL_ACL_PERM_ANY,
    };
}

/* ---- output ---- */

struct lines {
    char **l;
    int n, cap;
};

static void line_add(struct lines *ls, const char *prefix, int8_t res, int8_t pat, sl_str_t name,
                     sl_str_t principal, sl_str_t host, int8_t op, int8_t perm)
{
    if (ls->n == ls->cap) {
        ls->cap = ls->cap ? ls->cap * 2 : 16;
        ls->l = sl_xrealloc(ls->l, sizeof *ls->l * (size_t)ls->cap);
    }
    int nl = name.len > 0 ? name.len : 0, pl = principal.len > 0 ? principal.len : 0,
        hl = host.len > 0 ? host.len : 0;
    size_t sz = (size_t)(nl + pl + hl) + 128;
    char *s = sl_xmalloc(sz);
    snprintf(s, sz, "%s%s\t%s\t%.*s\t%.*s\t%.*s\t%s\t%s", prefix, sl_acl_res_name(res),
             sl_acl_pattern_name(pat), nl, nl ? name.p : "", pl, pl ? principal.p : "", hl,
             hl ? host.p : "", sl_acl_op_name(op), sl_acl_perm_name(perm));
    ls->l[ls->n++] = s;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static void lines_print_free(struct lines *ls)
{
    if (ls->n > 1)
        qsort(ls->l, (size_t)ls->n, sizeof *ls->l, cmp_str);
    for (int i = 0; i < ls->n; i++) {
        /* Drop exact repeats (a binding matched by two list filters). */
        if (i == 0 || strcmp(ls->l[i], ls->l[i - 1]) != 0)
            printf("%s\n", ls->l[i]);
    }
    for (int i = 0; i < ls->n; i++)
        free(ls->l[i]);
    free(ls->l);
}

static int report(int code, sl_str_t msg, const char *what)
{
    char buf[256];
    return sl_cli_fail("%s: %s%s%.*s", what, sl_cli_kafka_error(code, "ALTER on the cluster", buf,
                                                                    sizeof buf),
                       msg.len > 0 ? ": " : "", msg.len > 0 ? (int)(msg.len > 300 ? 300 : msg.len) : 0,
                       msg.len > 0 ? msg.p : "");
}

/* ---- the verbs ---- */

static int run_add(struct sl_kclient *k, const struct acl_args *a, struct sl_arena *ar)
{
    struct CreateAclsRequest req;
    struct CreateAclsResponse resp;
    char err[1024];
    build_create(a, ar, &req);
    if (sl_kclient_call(k, SL_API_CREATE_ACLS, &req, &resp, err, sizeof err))
        return sl_cli_fail("%s", err);
    if (resp.results.n != req.creations.n)
        return sl_cli_fail("the broker answered %d results for %d ACLs", resp.results.n,
                           req.creations.n);
    int rc = SLUICE_CLI_EXIT_OK;
    struct lines ls = {0};
    for (int i = 0; i < req.creations.n; i++) {
        const struct CreateAclsRequest_AclCreation *c = &req.creations.a[i];
        if (resp.results.a[i].error_code != SL_ERR_NONE) {
            rc = report(resp.results.a[i].error_code, resp.results.a[i].error_message,
                        "cannot add an ACL");
            continue;
        }
        line_add(&ls, "added\t", c->resource_type, c->resource_pattern_type, c->resource_name,
                 c->principal, c->host, c->operation, c->permission_type);
    }
    lines_print_free(&ls);
    return rc;
}

static int run_remove(struct sl_kclient *k, const struct acl_args *a, struct sl_arena *ar)
{
    struct DeleteAclsRequest req;
    struct DeleteAclsResponse resp;
    char err[1024];
    build_delete(a, ar, &req);
    if (sl_kclient_call(k, SL_API_DELETE_ACLS, &req, &resp, err, sizeof err))
        return sl_cli_fail("%s", err);
    if (resp.filter_results.n != req.filters.n)
        return sl_cli_fail("the broker answered %d results for %d filters", resp.filter_results.n,
                           req.filters.n);
    int rc = SLUICE_CLI_EXIT_OK, removed = 0;
    struct lines ls = {0};
    for (int i = 0; i < resp.filter_results.n; i++) {
        const struct DeleteAclsResponse_DeleteAclsFilterResult *f = &resp.filter_results.a[i];
        if (f->error_code != SL_ERR_NONE) {
            rc = report(f->error_code, f->error_message, "cannot remove ACLs");
            continue;
        }
        for (int j = 0; j < f->matching_acls.n; j++) {
            const struct DeleteAclsResponse_DeleteAclsMatchingAcl *m = &f->matching_acls.a[j];
            if (m->error_code != SL_ERR_NONE) {
                rc = report(m->error_code, m->error_message, "cannot remove an ACL");
                continue;
            }
            line_add(&ls, "removed\t", m->resource_type, m->pattern_type, m->resource_name,
                     m->principal, m->host, m->operation, m->permission_type);
            removed++;
        }
    }
    lines_print_free(&ls);
    if (rc == SLUICE_CLI_EXIT_OK && removed == 0)
        fprintf(stderr, "sluice: no ACL matched: nothing removed\n");
    return rc;
}

static int run_list(struct sl_kclient *k, const struct acl_args *a)
{
    int rc = SLUICE_CLI_EXIT_OK;
    struct lines ls = {0};
    for (int i = 0; i < (a->n_res ? a->n_res : 1); i++) {
        struct DescribeAclsRequest req;
        struct DescribeAclsResponse resp;
        char err[1024];
        build_describe(a, i, &req);
        if (sl_kclient_call(k, SL_API_DESCRIBE_ACLS, &req, &resp, err, sizeof err)) {
            rc = sl_cli_fail("%s", err);
            break;
        }
        if (resp.error_code != SL_ERR_NONE) {
            char buf[256];
            sl_str_t m = resp.error_message;
            rc = sl_cli_fail("cannot list ACLs: %s%s%.*s",
                             sl_cli_kafka_error(resp.error_code, "DESCRIBE on the cluster", buf,
                                                sizeof buf),
                             m.len > 0 ? ": " : "", m.len > 0 ? (int)(m.len > 300 ? 300 : m.len) : 0,
                             m.len > 0 ? m.p : "");
            break;
        }
        for (int r = 0; r < resp.resources.n; r++) {
            const struct DescribeAclsResponse_DescribeAclsResource *res = &resp.resources.a[r];
            for (int j = 0; j < res->acls.n; j++)
                line_add(&ls, "", res->resource_type, res->pattern_type, res->resource_name,
                         res->acls.a[j].principal, res->acls.a[j].host, res->acls.a[j].operation,
                         res->acls.a[j].permission_type);
        }
    }
    lines_print_free(&ls);
    return rc;
}

/* ---- offline ---- */

/* A binding of the request (its strings are argv's, NUL-terminated). */
static struct sl_acl acl_of(const struct CreateAclsRequest_AclCreation *c)
{
    return (struct sl_acl){.res = c->resource_type, .pattern = c->resource_pattern_type,
                           .op = c->operation, .perm = c->permission_type,
                           .name = (char *)c->resource_name.p, .principal = (char *)c->principal.p,
                           .host = (char *)c->host.p};
}

static struct sl_acl_filter filter_of(const struct DeleteAclsRequest_DeleteAclsFilter *f)
{
    return (struct sl_acl_filter){.res = f->resource_type_filter, .pattern = f->pattern_type_filter,
                                  .op = f->operation, .perm = f->permission_type,
                                  .name = f->resource_name_filter.p,
                                  .principal = f->principal_filter.p, .host = f->host_filter.p};
}

static void line_of(struct lines *ls, const char *prefix, const struct sl_acl *x)
{
    line_add(ls, prefix, x->res, x->pattern, sl_str_c(x->name), sl_str_c(x->principal),
             sl_str_c(x->host), x->op, x->perm);
}

static int offline_verb(struct sl_meta *m, const struct acl_args *a, struct sl_arena *ar)
{
    struct lines ls = {0};
    int rc = SLUICE_CLI_EXIT_OK;
    if (strcmp(a->verb, "add") == 0) {
        struct CreateAclsRequest req;
        build_create(a, ar, &req);
        struct sl_acl *acls = sl_arena_alloc(ar, sizeof *acls * (size_t)req.creations.n);
        for (int i = 0; i < req.creations.n; i++) {
            acls[i] = acl_of(&req.creations.a[i]);
            const char *why = sl_acl_validate(&acls[i]);
            if (why)
                return sl_cli_fail("cannot add an ACL: %s", why);
        }
        sl_err_t e = sl_meta_create_acls(m, acls, req.creations.n);
        if (e != SL_ERR_NONE)
            return sl_cli_fail("cannot store the ACLs: %s", sl_err_name(e));
        for (int i = 0; i < req.creations.n; i++)
            line_of(&ls, "added\t", &acls[i]);
    } else if (strcmp(a->verb, "remove") == 0) {
        struct DeleteAclsRequest req;
        build_delete(a, ar, &req);
        int n = req.filters.n;
        struct sl_acl_filter *fs = sl_arena_alloc(ar, sizeof *fs * (size_t)n);
        struct sl_meta_acl_list *del = sl_arena_alloc(ar, sizeof *del * (size_t)n);
        memset(del, 0, sizeof *del * (size_t)n);
        for (int i = 0; i < n; i++)
            fs[i] = filter_of(&req.filters.a[i]);
        sl_err_t e = sl_meta_delete_acls(m, fs, n, del);
        if (e != SL_ERR_NONE)
            return sl_cli_fail("cannot remove ACLs: %s", sl_err_name(e));
        int removed = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < del[i].n; j++, removed++)
                line_of(&ls, "removed\t", &del[i].acls[j]);
            sl_meta_acl_list_clear(&del[i]);
        }
        if (removed == 0)
            fprintf(stderr, "sluice: no ACL matched: nothing removed\n");
    } else {
        for (int i = 0; i < (a->n_res ? a->n_res : 1); i++) {
            struct DescribeAclsRequest req;
            build_describe(a, i, &req);
            struct sl_acl_filter f = {.res = req.resource_type_filter,
                                      .pattern = req.pattern_type_filter, .op = req.operation,
                                      .perm = req.permission_type,
                                      .name = req.resource_name_filter.p,
                                      .principal = req.principal_filter.p, .host = NULL};
            struct sl_meta_acl_list l = {0};
            if (sl_meta_list_acls(m, &f, &l) != SL_ERR_NONE) {
                rc = sl_cli_fail("cannot list ACLs: invalid filter");
                break;
            }
            for (int j = 0; j < l.n; j++)
                line_of(&ls, "", &l.acls[j]);
            sl_meta_acl_list_clear(&l);
        }
    }
    lines_print_free(&ls);
    return rc;
}

static int offline(const struct acl_args *a)
{
    struct sl_meta *m = NULL;
    struct sl_keyring kr = {0};
    char err[1024];
    sl_err_t e = sl_cli_open_meta(&a->t, &kr, &m, err, sizeof err);
    if (e != SL_ERR_NONE) {
        sl_keyring_free(&kr);
        if (e == SL_ERR__STATE)
            return sl_cli_fail("%s: offline mode needs the broker stopped; while it runs, use "
                               "--bootstrap-server and --command-config instead",
                               err);
        return sl_cli_fail("%s", err);
    }
    struct sl_arena ar;
    sl_arena_init(&ar);
    int rc = offline_verb(m, a, &ar);
    sl_arena_destroy(&ar);
    sl_meta_close(m);
    sl_keyring_free(&kr);
    return rc;
}

int sl_cli_acl(int argc, char **argv)
{
    struct acl_args a;
    char err[512] = "";
    int r = parse_args(argc, argv, &a, err, sizeof err);
    if (r == 1) {
        fputs(USAGE, stdout);
        return SLUICE_CLI_EXIT_OK;
    }
    if (r != 0)
        return sl_cli_usage_error("acl", "%s", err);
    if (sl_cli_target_check(&a.t, true) != 0)
        return SLUICE_CLI_EXIT_USAGE;
    if (a.t.data_dir)
        return offline(&a);
    struct sl_kclient k;
    if (sl_cli_connect(&a.t, &k) != 0)
        return SLUICE_CLI_EXIT_FAIL;
    struct sl_arena ar;
    sl_arena_init(&ar);
    int rc = strcmp(a.verb, "add") == 0      ? run_add(&k, &a, &ar)
             : strcmp(a.verb, "remove") == 0 ? run_remove(&k, &a, &ar)
                                             : run_list(&k, &a);
    sl_arena_destroy(&ar);
    sl_kclient_close(&k);
    return rc;
}
