/* SPDX-License-Identifier: Apache-2.0
 *
 * The compiled, immutable ACL set and the decision (acl.h; the design in
 * docs/design/acl.md).
 *
 * Layout. The bindings are kept sorted (sl_acl_cmp) and unique in one
 * array, their strings in one pool. Sorting puts every binding of one
 * resource pattern (type, pattern type, name) in a contiguous run, a
 * "group", and inside a group orders the bindings by principal. One open
 * addressing hash table maps (type, pattern type, name) to its group, for
 * LITERAL and PREFIXED names alike. A name's hash is FNV-1a, computed one
 * byte at a time, so walking a requested name once yields the hash of each
 * of its prefixes on the way; per resource type a bitmap of the lengths of
 * the PREFIXED names present says at which lengths to look up. The LITERAL
 * "*" group of each type is found once at build time.
 *
 * A decision therefore costs: one walk over the requested name (up to the
 * longest PREFIXED name of the type, or the whole name when the type has
 * LITERAL names), one hash probe per distinct PREFIXED length that is a
 * prefix length of the name plus one for the LITERAL name, and in each
 * group found binary searches for the principal's run and for "User:*"'s
 * run, and inside each for the runs of the client's host and of "*" (a
 * linear scan for small groups or runs); what remains is at most one
 * binding per operation and permission. Each binding carries what matching
 * needs precomputed: the bit mask of requested operations it decides
 * (implications included), the DENY flag, principal and host lengths and
 * their wildcard flags. No allocation and no lock: the set never changes
 * after sl_acl_set_new, and threads share it by an atomic reference count.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/logging.h"
#include "core/mem.h"
#include "security/authz/acl.h"

#define WILD_PRINCIPAL "User:*"
#define WILD_PRINCIPAL_LEN (sizeof WILD_PRINCIPAL - 1)
#define LEN_WORDS (SL_ACL_NAME_MAX / 64 + 1) /* bitmap of prefix lengths 0..1024 */
#define SMALL_GROUP 8                         /* scanned linearly below this */

/* What matching needs of one binding (parallel to the bindings array). */
struct rule {
    const char *principal, *host;
    uint32_t ops;  /* bit op set for each requested operation it decides */
    uint16_t plen, hlen;
    bool deny, any_host;
};

/* A run of bindings with the same (type, pattern type, name). */
struct group {
    const char *name;
    uint32_t len;
    int8_t res, pattern;
    uint32_t first, count; /* in the bindings array */
};

/* A hash slot: a copy of its group (count 0: empty) and the hash's high
 * half, which rejects most mismatches. The copy saves a dependent cache
 * miss per probe; the name it points to sits in the pool just before the
 * principal and host of the group's first binding. */
struct slot {
    uint32_t hi;
    struct group g;
};

struct res_index {
    uint64_t lens[LEN_WORDS]; /* bit L: a PREFIXED name of L bytes exists */
    uint32_t max_prefix;      /* longest PREFIXED name, 0 if none */
    int32_t wild;             /* group of LITERAL "*", or -1 */
    bool has_literal;         /* LITERAL names other than "*" exist */
};

struct sl_acl_set {
    atomic_int refs;
    int n;
    struct sl_acl *acls; /* sorted, unique; strings in pool */
    struct rule *rules;  /* rules[i] describes acls[i] */
    char *pool;
    struct group *groups;
    uint32_t ngroups;
    struct slot *slots;
    uint32_t mask; /* slots - 1, a power of two minus one */
    struct res_index ri[SL_ACL_RES_MAX];
};

/* FNV-1a, one byte at a time (so every prefix's hash comes on the way). */
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static inline uint64_t fnv_step(uint64_t h, unsigned char c)
{
    return (h ^ c) * FNV_PRIME;
}

/* The table key: the name's running hash mixed with type and pattern
 * (splitmix64's finaliser, so the low bits that index the table depend on
 * every input bit). */
static inline uint64_t key_hash(uint64_t h, int res, int pattern)
{
    h ^= (uint64_t)(res * 8 + pattern) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

/* The requested operations a binding of op and permission decides:
 * Kafka's implications apply to ALLOW only; ALL covers everything. */
static uint32_t ops_mask(int op, bool deny)
{
    if (op == SL_ACL_OP_ALL)
        return UINT32_MAX;
    if (op < 0 || op >= 32)
        return 0;
    uint32_t m = 1u << op;
    if (!deny) {
        if (op == SL_ACL_OP_READ || op == SL_ACL_OP_WRITE || op == SL_ACL_OP_DELETE ||
            op == SL_ACL_OP_ALTER)
            m |= 1u << SL_ACL_OP_DESCRIBE;
        if (op == SL_ACL_OP_ALTER_CONFIGS)
            m |= 1u << SL_ACL_OP_DESCRIBE_CONFIGS;
    }
    return m;
}

static int cmp_ptr(const void *a, const void *b)
{
    return sl_acl_cmp(*(const struct sl_acl *const *)a, *(const struct sl_acl *const *)b);
}

/* Copies s (NULL: "") into the pool at *at. */
static char *pool_put(char **at, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    char *d = *at;
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    *at += n + 1;
    return d;
}

/* The group of (res, pattern, name[0..len)) whose key hash is h, or NULL.
 * The name is always compared: FNV-1a is no defence against a client that
 * picks names colliding with a PREFIXED pattern. */
static const struct group *find(const struct sl_acl_set *s, uint64_t h, int res, int pattern,
                                const char *name, size_t len)
{
    uint32_t i = (uint32_t)h & s->mask, hi = (uint32_t)(h >> 32);
    for (;;) {
        const struct slot *sl = &s->slots[i];
        if (sl->g.count == 0)
            return NULL;
        if (sl->hi == hi && sl->g.len == len && sl->g.res == res && sl->g.pattern == pattern &&
            memcmp(sl->g.name, name, len) == 0)
            return &sl->g;
        i = (i + 1) & s->mask;
    }
}

/* Builds the groups, the hash table and the per-type indexes. */
static void build_index(struct sl_acl_set *s)
{
    for (int r = 0; r < SL_ACL_RES_MAX; r++)
        s->ri[r].wild = -1;
    s->groups = sl_xcalloc((size_t)s->n + 1, sizeof *s->groups);
    for (int i = 0; i < s->n;) {
        const struct sl_acl *a = &s->acls[i];
        int j = i + 1;
        while (j < s->n && s->acls[j].res == a->res && s->acls[j].pattern == a->pattern &&
               strcmp(s->acls[j].name, a->name) == 0)
            j++;
        size_t len = strlen(a->name);
        /* Bindings sl_acl_validate would refuse are listed but never match. */
        if (a->res >= 0 && a->res < SL_ACL_RES_MAX && len <= SL_ACL_NAME_MAX &&
            (a->pattern == SL_ACL_PAT_LITERAL || a->pattern == SL_ACL_PAT_PREFIXED)) {
            struct group *g = &s->groups[s->ngroups];
            *g = (struct group){a->name, (uint32_t)len, a->res, a->pattern, (uint32_t)i,
                                (uint32_t)(j - i)};
            struct res_index *ri = &s->ri[a->res];
            if (a->pattern == SL_ACL_PAT_PREFIXED) {
                ri->lens[len / 64] |= 1ull << (len % 64);
                if (len > ri->max_prefix)
                    ri->max_prefix = (uint32_t)len;
            } else if (strcmp(a->name, "*") == 0) {
                ri->wild = (int32_t)s->ngroups;
            } else {
                ri->has_literal = true;
            }
            s->ngroups++;
        }
        i = j;
    }
    uint32_t cap = 8;
    while (cap < 2 * s->ngroups)
        cap *= 2;
    s->slots = sl_xcalloc(cap, sizeof *s->slots);
    s->mask = cap - 1;
    for (uint32_t gi = 0; gi < s->ngroups; gi++) {
        const struct group *g = &s->groups[gi];
        uint64_t h = FNV_OFFSET;
        for (uint32_t k = 0; k < g->len; k++)
            h = fnv_step(h, (unsigned char)g->name[k]);
        h = key_hash(h, g->res, g->pattern);
        uint32_t i = (uint32_t)h & s->mask;
        while (s->slots[i].g.count != 0)
            i = (i + 1) & s->mask;
        s->slots[i] = (struct slot){(uint32_t)(h >> 32), *g};
    }
}

struct sl_acl_set *sl_acl_set_new(const struct sl_acl *acls, int n)
{
    if (n < 0 || !acls)
        n = 0;
    struct sl_acl_set *s = sl_xcalloc(1, sizeof *s);
    atomic_init(&s->refs, 1);
    const struct sl_acl **ord = sl_xmalloc((size_t)(n > 0 ? n : 1) * sizeof *ord);
    for (int i = 0; i < n; i++)
        ord[i] = &acls[i];
    if (n > 1)
        qsort(ord, (size_t)n, sizeof *ord, cmp_ptr);
    int u = 0;
    size_t bytes = 0;
    for (int i = 0; i < n; i++) {
        if (u > 0 && sl_acl_cmp(ord[u - 1], ord[i]) == 0)
            continue; /* duplicates kept once */
        ord[u++] = ord[i];
        const struct sl_acl *a = ord[i];
        bytes += (a->name ? strlen(a->name) : 0) + (a->principal ? strlen(a->principal) : 0) +
                 (a->host ? strlen(a->host) : 0) + 3;
    }
    s->n = u;
    s->acls = sl_xcalloc((size_t)u + 1, sizeof *s->acls);
    s->rules = sl_xcalloc((size_t)u + 1, sizeof *s->rules);
    s->pool = sl_xmalloc(bytes + 1);
    char *at = s->pool;
    for (int i = 0; i < u; i++) {
        struct sl_acl *a = &s->acls[i];
        *a = *ord[i];
        a->name = pool_put(&at, ord[i]->name);
        a->principal = pool_put(&at, ord[i]->principal);
        a->host = pool_put(&at, ord[i]->host);
        size_t pl = strlen(a->principal), hl = strlen(a->host);
        struct rule *r = &s->rules[i];
        r->principal = a->principal;
        r->host = a->host;
        /* Longer strings never pass sl_acl_validate: such a binding is
         * listed but decides nothing (ops 0). */
        bool fits = pl <= SL_ACL_NAME_MAX && hl <= SL_ACL_NAME_MAX;
        r->plen = (uint16_t)(pl <= SL_ACL_NAME_MAX ? pl : SL_ACL_NAME_MAX + 1);
        r->hlen = (uint16_t)(hl <= SL_ACL_NAME_MAX ? hl : SL_ACL_NAME_MAX + 1);
        r->deny = a->perm == SL_ACL_PERM_DENY;
        r->any_host = strcmp(a->host, "*") == 0;
        r->ops = fits && (a->perm == SL_ACL_PERM_DENY || a->perm == SL_ACL_PERM_ALLOW)
                     ? ops_mask(a->op, r->deny)
                     : 0;
    }
    free(ord);
    build_index(s);
    return s;
}

void sl_acl_set_ref(struct sl_acl_set *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void sl_acl_set_unref(struct sl_acl_set *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(s->slots);
    free(s->groups);
    free(s->rules);
    free(s->acls);
    free(s->pool);
    free(s);
}

int sl_acl_set_count(const struct sl_acl_set *s)
{
    return s ? s->n : 0;
}

const struct sl_acl *sl_acl_set_at(const struct sl_acl_set *s, int i)
{
    SL_ASSERT(s && i >= 0 && i < s->n);
    return &s->acls[i];
}

/* ------------------------------------------------------------------ */
/* The decision                                                        */
/* ------------------------------------------------------------------ */

/* The request as matching sees it, and what was found so far. */
struct req {
    const char *principal, *host;
    size_t plen, hlen;
    uint32_t opbit;
    bool wild_principal; /* the principal is "User:*" itself */
    bool found;          /* some group applies to the resource */
    int allow;           /* first matching ALLOW binding, or -1 */
    int deny;            /* a matching DENY binding, or -1 */
};

/* Compares s[0..sl) with t[0..tl): strcmp's order for strings without
 * NUL. */
static inline int cmp_str(const char *s, size_t sl, const char *t, size_t tl)
{
    int c = memcmp(s, t, sl < tl ? sl : tl);
    if (c)
        return c;
    return (sl > tl) - (sl < tl);
}

static inline int cmp_rule(const struct rule *r, bool by_host, const char *t, size_t tl)
{
    return by_host ? cmp_str(r->host, r->hlen, t, tl) : cmp_str(r->principal, r->plen, t, tl);
}

/* Narrows [*lo, *hi), rules sorted by principal (or, when by_host, rules
 * of one principal sorted by host), to the run whose principal (host) is
 * t[0..tl): two binary searches. */
static void run_of(const struct sl_acl_set *s, bool by_host, const char *t, size_t tl,
                   uint32_t *lo, uint32_t *hi)
{
    uint32_t a = *lo, b = *hi;
    while (a < b) { /* first rule >= t */
        uint32_t mid = a + (b - a) / 2;
        if (cmp_rule(&s->rules[mid], by_host, t, tl) < 0)
            a = mid + 1;
        else
            b = mid;
    }
    uint32_t c = a, d = *hi;
    while (c < d) { /* first rule > t */
        uint32_t mid = c + (d - c) / 2;
        if (cmp_rule(&s->rules[mid], by_host, t, tl) <= 0)
            c = mid + 1;
        else
            d = mid;
    }
    *lo = a;
    *hi = c;
}

/* Checks rules [lo, hi) whose principal and host already match. Returns
 * true on a matching DENY. At most one rule per (operation, permission). */
static inline bool check_run(const struct sl_acl_set *s, uint32_t lo, uint32_t hi, struct req *q)
{
    for (uint32_t k = lo; k < hi; k++) {
        const struct rule *r = &s->rules[k];
        if (!(r->ops & q->opbit))
            continue;
        if (r->deny) {
            q->deny = (int)k;
            return true;
        }
        if (q->allow < 0)
            q->allow = (int)k;
    }
    return false;
}

static inline bool host_matches(const struct rule *r, const struct req *q)
{
    return r->any_host || (r->hlen == q->hlen && memcmp(r->host, q->host, q->hlen) == 0);
}

static inline bool principal_matches(const struct rule *r, const struct req *q)
{
    return (r->plen == q->plen && memcmp(r->principal, q->principal, q->plen) == 0) ||
           (r->plen == WILD_PRINCIPAL_LEN &&
            memcmp(r->principal, WILD_PRINCIPAL, WILD_PRINCIPAL_LEN) == 0);
}

/* Checks rules [lo, hi) that share one principal (sorted by host): the
 * run of host "*" and the run of the client's host. */
static bool check_hosts(const struct sl_acl_set *s, uint32_t lo, uint32_t hi, struct req *q)
{
    if (hi - lo < SMALL_GROUP) {
        for (uint32_t k = lo; k < hi; k++)
            if (host_matches(&s->rules[k], q) && check_run(s, k, k + 1, q))
                return true;
        return false;
    }
    uint32_t a = lo, b = hi;
    run_of(s, true, "*", 1, &a, &b);
    if (check_run(s, a, b, q))
        return true;
    if (q->hlen == 1 && q->host[0] == '*')
        return false;
    a = lo, b = hi;
    run_of(s, true, q->host, q->hlen, &a, &b);
    return check_run(s, a, b, q);
}

/* Checks every binding of group g that applies to the request. Returns
 * true on a matching DENY. */
static bool check_group(const struct sl_acl_set *s, const struct group *g, struct req *q)
{
    q->found = true;
    uint32_t lo = g->first, hi = g->first + g->count;
    if (g->count < SMALL_GROUP) {
        for (uint32_t k = lo; k < hi; k++) {
            const struct rule *r = &s->rules[k];
            if (principal_matches(r, q) && host_matches(r, q) && check_run(s, k, k + 1, q))
                return true;
        }
        return false;
    }
    uint32_t a = lo, b = hi;
    run_of(s, false, q->principal, q->plen, &a, &b);
    if (check_hosts(s, a, b, q))
        return true;
    if (q->wild_principal)
        return false;
    a = lo, b = hi;
    run_of(s, false, WILD_PRINCIPAL, WILD_PRINCIPAL_LEN, &a, &b);
    return check_hosts(s, a, b, q);
}

void sl_acl_decide(const struct sl_acl_set *s, const char *principal, const char *host, int op,
                   int res, const char *name, size_t name_len, bool allow_everyone_if_no_acl,
                   struct sl_authz_decision *out)
{
    struct req q = {
        .principal = principal ? principal : "",
        .host = host ? host : "",
        .opbit = op >= 0 && op < 32 ? 1u << op : 0,
        .allow = -1,
        .deny = -1,
    };
    q.plen = strlen(q.principal);
    q.hlen = strlen(q.host);
    q.wild_principal = q.plen == WILD_PRINCIPAL_LEN &&
                       memcmp(q.principal, WILD_PRINCIPAL, WILD_PRINCIPAL_LEN) == 0;
    if (s && res >= 0 && res < SL_ACL_RES_MAX) {
        const struct res_index *ri = &s->ri[res];
        if (ri->wild >= 0 && check_group(s, &s->groups[ri->wild], &q))
            goto deny;
        uint64_t h = FNV_OFFSET;
        size_t i = 0, pmax = name_len < ri->max_prefix ? name_len : ri->max_prefix;
        for (; i < pmax; i++) {
            h = fnv_step(h, (unsigned char)name[i]);
            size_t L = i + 1;
            if (ri->lens[L / 64] & (1ull << (L % 64))) {
                const struct group *g =
                    find(s, key_hash(h, res, SL_ACL_PAT_PREFIXED), res, SL_ACL_PAT_PREFIXED,
                         name, L);
                if (g && check_group(s, g, &q))
                    goto deny;
            }
        }
        if (ri->has_literal && name_len <= SL_ACL_NAME_MAX) {
            for (; i < name_len; i++)
                h = fnv_step(h, (unsigned char)name[i]);
            const struct group *g = find(s, key_hash(h, res, SL_ACL_PAT_LITERAL), res,
                                         SL_ACL_PAT_LITERAL, name, name_len);
            /* A request for the name "*" finds the wildcard group again. */
            if (g && !(ri->wild >= 0 && g->first == s->groups[ri->wild].first) &&
                check_group(s, g, &q))
                goto deny;
        }
    }
    if (!q.found) {
        *out = (struct sl_authz_decision){allow_everyone_if_no_acl, SL_AUTHZ_NO_ACL, NULL};
    } else if (q.allow >= 0) {
        *out = (struct sl_authz_decision){true, SL_AUTHZ_ALLOW, &s->acls[q.allow]};
    } else {
        *out = (struct sl_authz_decision){false, SL_AUTHZ_NO_MATCH, NULL};
    }
    return;
deny:
    *out = (struct sl_authz_decision){false, SL_AUTHZ_DENY, &s->acls[q.deny]};
}
