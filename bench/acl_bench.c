/* SPDX-License-Identifier: Apache-2.0
 *
 * Micro-benchmark of sl_acl_decide (security/authz/acl_set.c): nanoseconds
 * per decision for sets of 10 to 100,000 bindings, and the time to build
 * each set. Figures, not a test: `make bench-acl` builds and runs it and
 * writes bench/results/<date>-acl.md (bench/README.md).
 *
 * The sets are a realistic mix, made from a fixed seed: per 100 bindings
 * about 55 LITERAL topic bindings (names like "team012.svc0345.events"), 15
 * LITERAL consumer-group bindings, 15 PREFIXED topic bindings ("team012." or
 * "team012.svc0345."), 5 bindings for "User:*" (LITERAL "*" DESCRIBE, and
 * PREFIXED READ), 5 DENY bindings, 5 cluster bindings; hosts are "*" but
 * for one binding in ten; operations READ, WRITE, DESCRIBE, ALL. Users are
 * one per 20 bindings. The queries: "hit" repeats a binding's principal,
 * operation and resource (a longer name under a PREFIXED one), "miss" asks
 * for a known user on a topic no binding names (only the wildcard and
 * prefix lookups can apply) or an unknown user on a named topic.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/logging.h"
#include "security/authz/acl.h"

#define NQ 4096 /* queries per kind, cycled */

static uint64_t rng = 0x0ac1be7c4ull;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)((rng >> 11) % n);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

struct query {
    char principal[32], host[16], name[64];
    size_t name_len;
    int op, res;
};

static char *xstrdup_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xstrdup_fmt(const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *s = malloc(strlen(buf) + 1);
    if (!s)
        abort();
    strcpy(s, buf);
    return s;
}

static const int ops[] = {SL_ACL_OP_READ, SL_ACL_OP_WRITE, SL_ACL_OP_DESCRIBE, SL_ACL_OP_ALL};

/* Fills acls[0..n) (strings malloc'd). */
static void make_acls(struct sl_acl *acls, int n)
{
    uint32_t users = (uint32_t)(n / 20 > 3 ? n / 20 : 3), teams = (uint32_t)(n / 50 + 2);
    for (int i = 0; i < n; i++) {
        struct sl_acl *a = &acls[i];
        uint32_t k = rnd(100), team = rnd(teams), svc = rnd(1000);
        a->res = SL_ACL_RES_TOPIC;
        a->pattern = SL_ACL_PAT_LITERAL;
        a->op = (int8_t)ops[rnd(4)];
        a->perm = SL_ACL_PERM_ALLOW;
        a->principal = xstrdup_fmt("User:user%05u", rnd(users));
        a->host = rnd(10) ? xstrdup_fmt("*") : xstrdup_fmt("10.0.%u.%u", rnd(256), 1 + rnd(254));
        if (k < 55) {
            a->name = xstrdup_fmt("team%03u.svc%04u.events", team, svc);
        } else if (k < 70) {
            a->res = SL_ACL_RES_GROUP;
            a->op = SL_ACL_OP_READ;
            a->name = xstrdup_fmt("team%03u.consumer%04u", team, svc);
        } else if (k < 85) {
            a->pattern = SL_ACL_PAT_PREFIXED;
            a->name = rnd(2) ? xstrdup_fmt("team%03u.", team)
                             : xstrdup_fmt("team%03u.svc%04u.", team, svc);
        } else if (k < 90) {
            free(a->principal);
            a->principal = xstrdup_fmt("User:*");
            if (rnd(2)) {
                a->name = xstrdup_fmt("*");
                a->op = SL_ACL_OP_DESCRIBE;
            } else {
                a->pattern = SL_ACL_PAT_PREFIXED;
                a->name = xstrdup_fmt("public%u.", rnd(4));
                a->op = SL_ACL_OP_READ;
            }
        } else if (k < 95) {
            a->perm = SL_ACL_PERM_DENY;
            a->name = xstrdup_fmt("team%03u.svc%04u.events", team, svc);
        } else {
            a->res = SL_ACL_RES_CLUSTER;
            a->name = xstrdup_fmt("kafka-cluster");
            a->op = SL_ACL_OP_DESCRIBE;
        }
    }
}

static void make_queries(const struct sl_acl *acls, int n, struct query *hit, struct query *miss)
{
    uint32_t users = (uint32_t)(n / 20 > 3 ? n / 20 : 3), teams = (uint32_t)(n / 50 + 2);
    for (int q = 0; q < NQ; q++) {
        const struct sl_acl *a = &acls[rnd((uint32_t)n)];
        struct query *h = &hit[q];
        snprintf(h->principal, sizeof h->principal, "%s",
                 strcmp(a->principal, "User:*") == 0 ? "User:user00000" : a->principal);
        snprintf(h->host, sizeof h->host, "%s", strcmp(a->host, "*") == 0 ? "10.1.2.3" : a->host);
        if (a->pattern == SL_ACL_PAT_PREFIXED)
            snprintf(h->name, sizeof h->name, "%ssvc%04u.events", a->name, rnd(1000));
        else if (strcmp(a->name, "*") == 0)
            snprintf(h->name, sizeof h->name, "team%03u.svc%04u.events", rnd(teams), rnd(1000));
        else
            snprintf(h->name, sizeof h->name, "%s", a->name);
        h->name_len = strlen(h->name);
        h->op = a->op == SL_ACL_OP_ALL ? SL_ACL_OP_WRITE : a->op;
        h->res = a->res;

        struct query *m = &miss[q];
        if (q % 2) {
            snprintf(m->principal, sizeof m->principal, "User:user%05u", rnd(users));
            snprintf(m->name, sizeof m->name, "other%03u.svc%04u.events", rnd(teams), rnd(1000));
        } else {
            snprintf(m->principal, sizeof m->principal, "User:stranger%04u", rnd(1000));
            snprintf(m->name, sizeof m->name, "%s", a->name);
        }
        snprintf(m->host, sizeof m->host, "10.9.8.7");
        m->name_len = strlen(m->name);
        m->op = SL_ACL_OP_WRITE;
        m->res = a->res;
    }
}

static volatile unsigned sink;

/* Mean ns per decision over rounds of the queries, best of 5 runs. */
static double run(const struct sl_acl_set *s, const struct query *qs, int rounds,
                  unsigned *allowed)
{
    double best = 1e18;
    for (int rep = 0; rep < 5; rep++) {
        unsigned yes = 0;
        double t0 = now_ns();
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < NQ; i++) {
                struct sl_authz_decision d;
                const struct query *q = &qs[i];
                sl_acl_decide(s, q->principal, q->host, q->op, q->res, q->name, q->name_len,
                              false, &d);
                yes += d.allowed;
            }
        double ns = (now_ns() - t0) / ((double)rounds * NQ);
        if (ns < best)
            best = ns;
        *allowed = yes / (unsigned)rounds;
        sink += yes;
    }
    return best;
}

static void cpu_model(char *buf, size_t len)
{
    snprintf(buf, len, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) {
                c += 2;
                c[strcspn(c, "\n")] = '\0';
                snprintf(buf, len, "%s", c);
            }
            break;
        }
    fclose(f);
}

int main(int argc, char **argv)
{
    sl_log_min_level = SL_LOG_LEVEL_MAX;
    const char *out_path = argc > 1 ? argv[1] : NULL;
    const char *commit = argc > 2 ? argv[2] : "unknown";
    static const int sizes[] = {10, 100, 1000, 10000, 100000};
    static struct query hit[NQ], miss[NQ];
    char table[4096];
    size_t tl = 0;
    tl += (size_t)snprintf(table + tl, sizeof table - tl,
                           "| bindings | build ms | hit ns | miss ns | hits allowed |\n"
                           "|---:|---:|---:|---:|---:|\n");
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        int n = sizes[si];
        struct sl_acl *acls = calloc((size_t)n, sizeof *acls);
        make_acls(acls, n);
        double t0 = now_ns();
        struct sl_acl_set *s = sl_acl_set_new(acls, n);
        double build_ms = (now_ns() - t0) / 1e6;
        make_queries(acls, n, hit, miss);
        unsigned yes_hit, yes_miss;
        double h = run(s, hit, 200, &yes_hit);
        double m = run(s, miss, 200, &yes_miss);
        tl += (size_t)snprintf(table + tl, sizeof table - tl,
                               "| %d | %.1f | %.0f | %.0f | %u of %d |\n", sl_acl_set_count(s),
                               build_ms, h, m, yes_hit, NQ);
        sl_acl_set_unref(s);
        for (int i = 0; i < n; i++) {
            free(acls[i].name);
            free(acls[i].principal);
            free(acls[i].host);
        }
        free(acls);
    }
    char cpu[128], date[32];
    cpu_model(cpu, sizeof cpu);
    time_t t = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M", gmtime(&t));
    printf("%s", table);
    if (out_path) {
        FILE *f = fopen(out_path, "w");
        if (!f) {
            perror(out_path);
            return 1;
        }
        fprintf(f,
                "# ACL decision benchmark, %s UTC\n\n"
                "%s; sluice %s (bench/acl_bench.c, `make bench-acl`)\n\n"
                "ns per sl_acl_decide, single thread, best of 5 runs of 200 x %d queries; "
                "\"hit\" queries repeat a binding's principal, operation and resource, \"miss\" "
                "queries name no binding's principal or resource (see the header of "
                "bench/acl_bench.c for the mix). Sizes are distinct bindings after "
                "de-duplication. Compare figures of one run only (bench/README.md).\n\n%s",
                date, cpu, commit, NQ, table);
        fclose(f);
        printf("written to %s\n", out_path);
    }
    return sink == 0xffffffffu; /* keeps the decisions alive */
}
