/* SPDX-License-Identifier: Apache-2.0
 *
 * The audit log verifier (see audit_verify.h). Reads each file line by line
 * with a bounded buffer (a line longer than SL_AUDIT_LINE_MAX is a break,
 * not an allocation), so a hostile file costs at most that much memory.
 */
#include "security/audit/audit_verify.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "security/audit/audit_types.h"

static void set_bad(struct sl_audit_file_scan *s, uint64_t line, uint64_t seq, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

static void set_bad(struct sl_audit_file_scan *s, uint64_t line, uint64_t seq, const char *fmt,
                    ...)
{
    if (s->bad)
        return;
    s->bad = true;
    s->bad_line = line;
    s->bad_seq = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->what, sizeof s->what, fmt, ap);
    va_end(ap);
}

/* Reads the open record's links into s. */
static void read_open(struct sl_audit_file_scan *s, const struct sl_audit_rec *r)
{
    const char *reason;
    size_t n;
    s->has_open = true;
    if (sl_audit_rec_str(r, "reason", &reason, &n) == 0 && n < sizeof s->open_reason) {
        memcpy(s->open_reason, reason, n);
        s->open_reason[n] = '\0';
    }
    sl_audit_rec_u64(r, "previous_seq", &s->prev_seq);
    sl_audit_rec_u64(r, "lost_first", &s->lost_first);
    sl_audit_rec_u64(r, "lost_last", &s->lost_last);
}

/* Checks one complete line (lineno 1-based) against the chain so far. */
static void scan_line(struct sl_audit_file_scan *s, struct sl_audit_hmac *h,
                      struct sl_audit_rec *r, const char *line, size_t len, uint64_t lineno)
{
    const char *why;
    if (sl_audit_rec_parse(line, len, r, &why) < 0) {
        set_bad(s, lineno, 0, "malformed record: %s", why);
        return;
    }
    if (r->seq > s->max_seq_seen)
        s->max_seq_seen = r->seq;
    if (s->bad)
        return;
    uint8_t prev[SL_AUDIT_MAC_LEN];
    if (lineno == 1) {
        if (!sl_audit_rec_is(r, SL_AUDIT_T_OPEN) ||
            sl_audit_rec_mac(r, "previous_mac", prev) < 0) {
            set_bad(s, lineno, r->seq, "the first record is not an io.sluice.audit.open record");
            return;
        }
        read_open(s, r);
        memcpy(s->prev_mac, prev, sizeof prev);
        uint64_t expect = s->lost_last ? s->lost_last + 1 : s->prev_seq + 1;
        if (r->seq != expect) {
            set_bad(s, lineno, r->seq, "sequence %" PRIu64 " where the open record implies %" PRIu64,
                    r->seq, expect);
            return;
        }
    } else {
        if (s->sealed) {
            set_bad(s, lineno, r->seq, "record after the seal");
            return;
        }
        if (r->seq != s->last_seq + 1) {
            set_bad(s, lineno, r->seq,
                    "sequence %" PRIu64 " where %" PRIu64
                    " was expected (a record was deleted, inserted or reordered)",
                    r->seq, s->last_seq + 1);
            return;
        }
        memcpy(prev, s->last_mac, sizeof prev);
    }
    uint8_t mac[SL_AUDIT_MAC_LEN];
    if (sl_audit_hmac_record(h, prev, line, r->body_len, mac) < 0) {
        set_bad(s, lineno, r->seq, "HMAC computation failed");
        return;
    }
    if (memcmp(mac, r->mac, sizeof mac) != 0) {
        set_bad(s, lineno, r->seq,
                "mac does not match (the record was edited, or records were inserted, "
                "deleted or reordered before it, or another key was used)");
        return;
    }
    if (!s->first_seq)
        s->first_seq = r->seq;
    s->last_seq = r->seq;
    memcpy(s->last_mac, mac, sizeof mac);
    s->sealed = sl_audit_rec_is(r, SL_AUDIT_T_SEAL);
    if (s->capture_seq == r->seq) {
        s->captured = true;
        memcpy(s->capture_mac, mac, sizeof mac);
    }
    uint64_t kept;
    if (sl_audit_rec_is(r, SL_AUDIT_T_RETENTION) &&
        sl_audit_rec_u64(r, "first_seq_kept", &kept) == 0 && kept > s->retention_kept)
        s->retention_kept = kept;
}

int sl_audit_scan_stream(FILE *f, struct sl_audit_hmac *h, struct sl_audit_file_scan *out)
{
    uint64_t capture = out->capture_seq;
    memset(out, 0, sizeof *out);
    out->capture_seq = capture;
    char *line = sl_xmalloc(SL_AUDIT_LINE_MAX + 2);
    struct sl_audit_rec *r = sl_xmalloc(sizeof *r);
    size_t len = 0;
    bool overlong = false;
    int c;
    while ((c = getc(f)) != EOF) {
        if (c != '\n') {
            if (len <= SL_AUDIT_LINE_MAX)
                line[len++] = (char)c;
            else
                overlong = true;
            continue;
        }
        out->lines++;
        if (overlong)
            set_bad(out, out->lines, 0, "line longer than %d bytes", SL_AUDIT_LINE_MAX);
        else
            scan_line(out, h, r, line, len, out->lines);
        len = 0;
        overlong = false;
    }
    int rc = ferror(f) ? -1 : 0;
    if (rc < 0)
        snprintf(out->what, sizeof out->what, "read error");
    if (rc == 0 && (len > 0 || overlong)) {
        out->torn = true;
        set_bad(out, out->lines + 1, 0, "the file ends inside a line (truncated or torn write)");
    }
    free(line);
    free(r);
    return rc;
}

int sl_audit_scan_file(const char *path, struct sl_audit_hmac *h, struct sl_audit_file_scan *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        uint64_t capture = out->capture_seq;
        memset(out, 0, sizeof *out);
        out->capture_seq = capture;
        snprintf(out->what, sizeof out->what, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = sl_audit_scan_stream(f, h, out);
    if (rc < 0)
        snprintf(out->what, sizeof out->what, "read error on %s", path);
    fclose(f);
    return rc;
}

/* ---- the directory ---- */

static bool audit_name(const char *n)
{
    size_t len = strlen(n);
    if (len != 6 + 20 + 6 || strncmp(n, "audit-", 6) != 0 || strcmp(n + 26, ".jsonl") != 0)
        return false;
    for (int i = 6; i < 26; i++)
        if (n[i] < '0' || n[i] > '9')
            return false;
    return true;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int sl_audit_list_files(const char *dir, char ***names)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **v = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!audit_name(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            v = sl_xrealloc(v, (size_t)cap * sizeof *v);
        }
        v[n++] = sl_xstrdup(e->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(v, (size_t)n, sizeof *v, cmp_names);
    *names = v;
    return n;
}

static void report(const struct sl_audit_verify_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void report(const struct sl_audit_verify_opts *o, const char *fmt, ...)
{
    if (!o->out)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(o->out, fmt, ap);
    va_end(ap);
    fputc('\n', o->out);
}

/* The chain breaks inside file name: reports and returns 1. */
static int broken_in(const struct sl_audit_verify_opts *o, const char *name,
                     const struct sl_audit_file_scan *s)
{
    if (s->bad_seq)
        report(o, "BROKEN %s line %" PRIu64 " (sequence %" PRIu64 "): %s", name, s->bad_line,
               s->bad_seq, s->what);
    else
        report(o, "BROKEN %s line %" PRIu64 " (after sequence %" PRIu64 "): %s", name,
               s->bad_line, s->last_seq, s->what);
    return 1;
}

/* Does the open record of `next` link to the end of `prev` (or to a record
 * inside it after a sink failure)? Returns 0, or 1 after a report. */
static int check_link(const struct sl_audit_verify_opts *o, const char *dir, const char *pname,
                      struct sl_audit_file_scan *prev, const char *nname,
                      const struct sl_audit_file_scan *next, struct sl_audit_hmac *h,
                      bool *prev_tail_ok)
{
    *prev_tail_ok = false;
    bool sink_failure = strcmp(next->open_reason, "sink_failure") == 0;
    if (sink_failure && next->prev_seq <= prev->last_seq && next->prev_seq >= prev->first_seq) {
        /* Records after the link were written but never confirmed durable
         * before the sink failed: the gap record accounts for them. */
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, pname);
        struct sl_audit_file_scan again = {.capture_seq = next->prev_seq};
        if (sl_audit_scan_file(path, h, &again) == 0 && again.captured &&
            memcmp(again.capture_mac, next->prev_mac, SL_AUDIT_MAC_LEN) == 0) {
            *prev_tail_ok = true;
            if (prev->last_seq > next->prev_seq || prev->bad)
                report(o, "note: %s: records after sequence %" PRIu64
                          " were not confirmed durable before the audit sink failed "
                          "(numbers %" PRIu64 "..%" PRIu64 " are accounted lost by %s)",
                       pname, next->prev_seq, next->lost_first, next->lost_last, nname);
            return 0;
        }
    }
    if (next->prev_seq != prev->last_seq) {
        report(o,
               "BROKEN %s line 1 (sequence %" PRIu64 "): links to sequence %" PRIu64
               " but %s ends at %" PRIu64 " (a file is missing or was truncated)",
               nname, next->first_seq, next->prev_seq, pname, prev->last_seq);
        return 1;
    }
    if (memcmp(next->prev_mac, prev->last_mac, SL_AUDIT_MAC_LEN) != 0) {
        report(o, "BROKEN %s line 1 (sequence %" PRIu64 "): previous_mac does not match the "
                  "last record of %s",
               nname, next->first_seq, pname);
        return 1;
    }
    return 0;
}

int sl_audit_verify_dir(const char *dir, const uint8_t key[SL_AUDIT_KEY_LEN],
                        const struct sl_audit_verify_opts *o)
{
    char **names = NULL;
    int n = sl_audit_list_files(dir, &names);
    if (n < 0) {
        report(o, "ERROR cannot read directory %s: %s", dir, strerror(errno));
        return 2;
    }
    if (n == 0) {
        report(o, "ERROR no audit files (audit-<sequence>.jsonl) in %s", dir);
        free(names);
        return 2;
    }
    struct sl_audit_hmac h;
    if (sl_audit_hmac_init(&h, key) < 0) {
        report(o, "ERROR cannot set up HMAC-SHA-256");
        for (int i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return 2;
    }
    struct sl_audit_file_scan *s = sl_xcalloc((size_t)n, sizeof *s);
    int rc = 0;
    uint64_t kept = 0, records = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (sl_audit_scan_file(path, &h, &s[i]) < 0) {
            report(o, "ERROR %s", s[i].what);
            rc = 2;
            break;
        }
        if (s[i].retention_kept > kept)
            kept = s[i].retention_kept;
        records += s[i].first_seq ? s[i].last_seq - s[i].first_seq + 1 : 0;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        if (i == 0 && s[0].has_open && strcmp(s[0].open_reason, "genesis") != 0 &&
            s[0].first_seq != kept) {
            if (kept)
                report(o, "BROKEN %s line 1 (sequence %" PRIu64 "): the oldest file should start "
                          "at sequence %" PRIu64 " (the first kept by retention): a file is missing",
                       names[0], s[0].first_seq, kept);
            else
                report(o, "BROKEN %s line 1 (sequence %" PRIu64 "): the chain does not start here "
                          "(no genesis record, no retention record): older files are missing",
                       names[0], s[0].first_seq);
            rc = 1;
            break;
        }
        bool next_ok = i + 1 < n && s[i + 1].has_open && !(s[i + 1].bad && s[i + 1].bad_line == 1);
        bool tail_ok = false;
        if (s[i].bad) {
            /* Only a sink failure recorded by the next file explains a bad
             * tail (records written but never confirmed). */
            if (next_ok && strcmp(s[i + 1].open_reason, "sink_failure") == 0)
                rc = check_link(o, dir, names[i], &s[i], names[i + 1], &s[i + 1], &h, &tail_ok);
            if (rc == 0 && !tail_ok)
                rc = broken_in(o, names[i], &s[i]);
            if (rc)
                break;
        } else if (next_ok) {
            rc = check_link(o, dir, names[i], &s[i], names[i + 1], &s[i + 1], &h, &tail_ok);
            if (rc)
                break;
        }
        if (i > 0 && strcmp(s[i].open_reason, "damaged") == 0) {
            report(o, "BROKEN %s line 1 (sequence %" PRIu64 "): the broker found %s damaged at "
                      "start and started a new chain segment here",
                   names[i], s[i].first_seq, names[i - 1]);
            rc = 1;
            break;
        }
    }
    if (rc == 0) {
        const struct sl_audit_file_scan *last = &s[n - 1];
        if (o->expect_seq && last->last_seq < o->expect_seq) {
            report(o, "BROKEN %s line %" PRIu64 " (sequence %" PRIu64 "): the log ends before "
                      "the expected sequence %" PRIu64 " (truncated)",
                   names[n - 1], last->lines, last->last_seq, o->expect_seq);
            rc = 1;
        } else {
            if (!last->sealed)
                report(o, "note: %s is not sealed (the broker is running, or crashed); "
                          "give --expect-seq to check its end",
                       names[n - 1]);
            report(o, "OK %d files, %" PRIu64 " records, sequences %" PRIu64 "..%" PRIu64, n,
                   records, s[0].first_seq, last->last_seq);
        }
    }
    free(s);
    sl_audit_hmac_free(&h);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}
