/* SPDX-License-Identifier: Apache-2.0
 *
 * Helpers shared by the audit unit tests: a scratch directory, starting the
 * audit log on it, emitting test events, running the verifier and reading
 * its report, editing audit files line by line.
 */
#ifndef SL_TEST_AUDIT_TEST_UTIL_H
#define SL_TEST_AUDIT_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "security/audit/audit.h"
#include "security/audit/audit_record.h"
#include "security/audit/audit_verify.h"

struct atest {
    char root[64];
    char dir[128];
    char key[128];
    struct sl_audit_conf conf;
    char report[8192];
};

static inline void atest_init(struct atest *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->root, sizeof t->root, "/tmp/sl_test_audit_XXXXXX");
    if (!mkdtemp(t->root))
        abort();
    snprintf(t->dir, sizeof t->dir, "%s/audit", t->root);
    snprintf(t->key, sizeof t->key, "%s/keys/audit.key", t->root);
    t->conf = (struct sl_audit_conf){.enable = true, .dir = t->dir, .key_file = t->key,
                                     .rotate_bytes = 100 * 1024 * 1024, .rotate_ms = 0,
                                     .retention_ms = -1, .retention_bytes = -1,
                                     .policy = SL_AUDIT_POLICY_REJECT,
                                     .authz_level = SL_AUDIT_AUTHZ_FIRST,
                                     .source = "/sluice/test/broker/1", .retry_ms = 20};
}

static inline void atest_cleanup(struct atest *t)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->root);
    if (system(cmd) != 0)
        fprintf(stderr, "  cannot remove %s\n", t->root);
}

/* Emits n test events numbered from first; returns the last sequence. */
static inline uint64_t atest_emit(int first, int n)
{
    uint64_t seq = 0;
    for (int i = first; i < first + n; i++) {
        char data[200];
        int len = snprintf(data, sizeof data,
                           "{\"i\":%d,\"pad\":\"0123456789012345678901234567890123456789\"}", i);
        seq = sl_audit_emit("io.sluice.test", "unit", data, (size_t)len);
    }
    return seq;
}

/* Verifies dir (with the test's key); returns the exit status and keeps
 * the report in t->report. */
static inline int atest_verify(struct atest *t, const char *dir, uint64_t expect_seq)
{
    uint8_t key[SL_AUDIT_KEY_LEN];
    char err[256];
    if (sl_audit_key_load(t->key, false, key, err, sizeof err) < 0) {
        snprintf(t->report, sizeof t->report, "%s", err);
        return -1;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct sl_audit_verify_opts o = {.expect_seq = expect_seq, .out = out};
    int rc = sl_audit_verify_dir(dir ? dir : t->dir, key, &o);
    fclose(out);
    snprintf(t->report, sizeof t->report, "%s", buf ? buf : "");
    free(buf);
    return rc;
}

/* Reads file path into a NULL-terminated array of lines (with newlines). */
static inline int atest_read_lines(const char *path, char ***lines)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char **v = NULL;
    int n = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) > 0) {
        v = realloc(v, (size_t)(n + 2) * sizeof *v);
        v[n++] = strndup(line, (size_t)got);
    }
    free(line);
    fclose(f);
    if (v)
        v[n] = NULL;
    *lines = v;
    return n;
}

static inline void atest_write_lines(const char *path, char **lines, int n)
{
    FILE *f = fopen(path, "wb");
    for (int i = 0; i < n; i++)
        if (lines[i])
            fputs(lines[i], f);
    fclose(f);
}

static inline void atest_free_lines(char **lines, int n)
{
    for (int i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

/* Path of the i-th audit file of dir (sorted), into out; returns the count. */
static inline int atest_file(const char *dir, int i, char *out, size_t outlen)
{
    char **names = NULL;
    int n = sl_audit_list_files(dir, &names);
    if (i < 0)
        i = n + i;
    if (i >= 0 && i < n)
        snprintf(out, outlen, "%s/%s", dir, names[i]);
    for (int k = 0; k < n; k++)
        free(names[k]);
    free(names);
    return n;
}

#endif
