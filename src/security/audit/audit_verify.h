/* SPDX-License-Identifier: Apache-2.0
 *
 * The audit log verifier: checks a directory of audit files against the
 * audit key and reports the first place where the chain breaks. Used by
 * `sluice audit verify` (audit_cli.c) and, for one file, by the writer at
 * start to find where the chain of the newest file ends.
 *
 * Per file (sl_audit_scan_file): every line parses strictly
 * (sl_audit_rec_parse); the first record is an io.sluice.audit.open whose
 * data carries the previous record's sequence and mac; every record has
 * the next sequence number and the mac chained from the one before; nothing
 * follows a seal; the file ends with a newline.
 *
 * Across files (sl_audit_verify_dir), sorted by name (audit-<first seq>.jsonl):
 * each open record links to the last record of the file before (sequence
 * and mac), or, after a sink failure, to a record inside it; the oldest file
 * starts the chain (reason genesis) or is the first one a retention record
 * says it kept; the newest file ends with a seal or, with --expect-seq N, has
 * reached N.
 */
#ifndef SL_SECURITY_AUDIT_AUDIT_VERIFY_H
#define SL_SECURITY_AUDIT_AUDIT_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "security/audit/audit_record.h"

/* What one file holds, as far as its chain holds. */
struct sl_audit_file_scan {
    uint64_t lines;          /* complete lines read */
    uint64_t first_seq;      /* 0: no valid record */
    uint64_t last_seq;       /* last record whose chain holds */
    uint8_t last_mac[SL_AUDIT_MAC_LEN];
    uint64_t max_seq_seen;   /* highest sluiceseq of any line that parsed */
    bool sealed;             /* the last valid record is a seal */
    /* the open record (first line) */
    bool has_open;
    char open_reason[32];
    uint64_t prev_seq;
    uint8_t prev_mac[SL_AUDIT_MAC_LEN];
    uint64_t lost_first, lost_last; /* sink_failure / damaged: numbers never written */
    uint64_t retention_kept;        /* highest first_seq_kept of retention records in it */
    /* a capture asked for (capture_seq): its mac */
    uint64_t capture_seq;
    bool captured;
    uint8_t capture_mac[SL_AUDIT_MAC_LEN];
    /* the first problem */
    bool bad;
    bool torn;               /* the file ends inside a line */
    uint64_t bad_line;       /* 1-based */
    uint64_t bad_seq;        /* sequence of that line if it parsed, else 0 */
    char what[256];
};

/* Scans one file (path) with the keyed HMAC h. Set out->capture_seq before
 * the call to also get that record's mac. Returns 0 when the file was read
 * (check out->bad / out->torn), -1 when it cannot be read (what says why). */
int sl_audit_scan_file(const char *path, struct sl_audit_hmac *h, struct sl_audit_file_scan *out);
/* The same on an open stream (borrowed, read to its end): the fuzz target's
 * entry point. */
int sl_audit_scan_stream(FILE *f, struct sl_audit_hmac *h, struct sl_audit_file_scan *out);

/* Options and result of a directory check. */
struct sl_audit_verify_opts {
    uint64_t expect_seq; /* 0: not given */
    FILE *out;           /* report lines (NULL: none) */
};

/* Checks every audit-*.jsonl file of dir with key. Returns 0 when the whole
 * chain holds, 1 when it breaks (the report names the file, the line, the
 * sequence and what broke), 2 when the directory or a file cannot be read. */
int sl_audit_verify_dir(const char *dir, const uint8_t key[SL_AUDIT_KEY_LEN],
                        const struct sl_audit_verify_opts *opts);

/* Lists dir's audit files (audit-<20 digits>.jsonl), sorted. Returns the
 * count and a new array of new strings in *names (free each and the array),
 * or -1 when dir cannot be read. */
int sl_audit_list_files(const char *dir, char ***names);

#endif
