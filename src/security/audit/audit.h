/* SPDX-License-Identifier: Apache-2.0
 *
 * The tamper-evident audit log (issue 7): the API the rest of the broker
 * calls. One audit log per process, started by the broker before its
 * listeners open and stopped (sealed) after they close. docs/AUDIT.md
 * describes the records, the chain, the files and the verifier.
 *
 * Life of an event:
 *
 *   network thread                         audit writer thread
 *   --------------                         -------------------
 *   seq = sl_audit_authz(ctx, ...)  ──▶ queue ──▶ line + chained HMAC, append
 *   (returns at once, no I/O)                     (a whole batch), fdatasync
 *   req->audit_seq = seq                          durable_seq = last of batch
 *   response held until durable  ◀── evloop_post ◀── waiters with seq <= durable
 *
 * Sequence numbers start at 1 and grow by one per record, across files and
 * restarts. Two values are not sequence numbers:
 *   SL_AUDIT_SEQ_NONE (0): nothing was recorded because auditing is off
 *     (sluice.audit.enable=false) or the event is below the configured
 *     level; there is nothing to wait for.
 *   SL_AUDIT_SEQ_FAILED (UINT64_MAX): the audit log cannot be written
 *     (sluice.audit.failure.policy=reject and the sink failed). The caller
 *     must refuse the request it was about to serve; see
 *     sl_audit_refusal_code.
 * With failure.policy=log a failed sink drops events (counted, and stated by
 * a gap record once it recovers) and the emitting functions return
 * SL_AUDIT_SEQ_NONE, so nothing waits or is refused.
 *
 * Threads: every function here may be called from any thread, except
 * sl_audit_start/stop (the broker's main thread, one at a time).
 */
#ifndef SL_SECURITY_AUDIT_AUDIT_H
#define SL_SECURITY_AUDIT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_conn;
struct sl_req;
struct sl_fileops;

#define SL_AUDIT_SEQ_NONE ((uint64_t)0)
#define SL_AUDIT_SEQ_FAILED UINT64_MAX

enum sl_audit_policy {
    SL_AUDIT_POLICY_REJECT = 0, /* refuse what must be audited when the log cannot be written */
    SL_AUDIT_POLICY_LOG,        /* go on; the operational log says events are lost */
    SL_AUDIT_POLICY_MAX
};

/* sluice.audit.authz.level: which allowed authorization decisions are
 * recorded (denials always are). */
enum sl_audit_authz_level {
    SL_AUDIT_AUTHZ_NONE = 0, /* no allowed decision */
    SL_AUDIT_AUTHZ_FIRST,    /* the first allowed decision per session, resource and operation */
    SL_AUDIT_AUTHZ_ALL,      /* every allowed decision */
    SL_AUDIT_AUTHZ_MAX
};

/* What the audit log needs from the configuration (strings are copied). */
struct sl_audit_conf {
    bool enable;
    const char *dir;          /* audit files; created 0700 */
    const char *key_file;     /* 32-byte key, created at first start, must be 0600 */
    int64_t rotate_bytes;     /* a file is sealed once it reaches this size */
    int64_t rotate_ms;        /* ... or this age; <= 0: never by age */
    int64_t retention_ms;     /* files older than this are deleted; < 0: kept forever */
    int64_t retention_bytes;  /* oldest files go while the total exceeds this; < 0: no limit */
    int policy;               /* enum sl_audit_policy */
    int authz_level;          /* enum sl_audit_authz_level */
    const char *source;       /* CloudEvents source, e.g. /sluice/<cluster id>/broker/1 */
    const struct sl_fileops *fops; /* file layer (tests pass a fault layer); NULL: POSIX */
    int64_t retry_ms;         /* after a failure, how often the sink is tried again; 0: 1000 */
};

/* Starts the audit log: loads (or at first start creates) the key, reads
 * the newest audit file to continue the chain (a damaged tail is logged
 * loudly and recorded as a break), opens a new file and starts the writer
 * thread. With conf->enable false nothing is opened and every emitting
 * function returns SL_AUDIT_SEQ_NONE. Returns 0, or -1 with err saying why
 * (a key readable by others, an unwritable directory, ...). Main thread. */
int sl_audit_start(const struct sl_audit_conf *conf, char *err, size_t errlen);

/* Writes everything queued, seals the current file (reason "shutdown"),
 * stops the writer and releases everything; pending waiters complete (ok
 * false if their record was not written). Call after the network threads
 * stopped. Idempotent. Main thread. */
void sl_audit_stop(void);

/* True when audit records are being written (started, enabled). */
bool sl_audit_enabled(void);
/* False while the sink is failed (and auditing is enabled). Handlers of
 * requests that must be audited check it before acting under policy reject. */
bool sl_audit_available(void);
/* The configured policy and authorization level. */
int sl_audit_policy(void);
int sl_audit_authz_level(void);
/* Highest sequence number known durable (fdatasync'd). */
uint64_t sl_audit_durable_seq(void);
/* Events dropped because the sink was failed (since start). */
uint64_t sl_audit_dropped(void);
/* The state of the chain for status reports (sluice.audit.status):
 * "disabled" (auditing off), "unwritable" (the sink is failed now),
 * "broken" (this start found the newest file damaged, or events were
 * dropped under policy log: the chain records a break), else "intact". */
const char *sl_audit_status(void);

/* Low level: records one event. type is the CloudEvents type
 * ("io.sluice.authentication"), subject may be NULL, data is the JSON object
 * of the data member (data_len bytes, well-formed: build it with
 * audit_json.h). All borrowed for the call. Returns the sequence number or
 * one of the two special values above. Never blocks on I/O (it takes a
 * mutex for the time of a queue append). */
uint64_t sl_audit_emit(const char *type, const char *subject, const char *data, size_t data_len);

/* Calls cb(arg, ok) once seq is durable (ok true) or can no longer become
 * durable (ok false: the sink failed or the log stopped). cb runs on the
 * writer thread (or at once on the calling thread when the answer is already
 * known) and must only hand the result over (sl_evloop_post). */
void sl_audit_wait(uint64_t seq, void (*cb)(void *arg, bool ok), void *arg);

/* Blocks until seq is durable or timeout_ms passes. Returns true when
 * durable. Start-up, shutdown and tests only: never on a network thread. */
bool sl_audit_sync(uint64_t seq, int64_t timeout_ms);

/* Frees the calling thread's event buffer (thread exit: network threads,
 * the background thread, the main thread after sl_audit_stop). */
void sl_audit_thread_exit(void);

/* ---- context of an event on a connection ---- */

/* Who did what, from where. Strings are borrowed for the call. */
struct sl_audit_ctx {
    const char *principal;         /* "User:alice" */
    const char *peer;              /* "ip:port" */
    const char *listener;          /* listener name */
    const char *security_protocol; /* PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL */
    const char *api;               /* API name ("CreateTopics"), NULL outside a request */
    int32_t correlation_id;        /* -1 outside a request */
    const char *client_id;         /* may hold any bytes (escaped when written) */
    size_t client_id_len;
    uint64_t conn_id;              /* connection number of this broker run */
    uint64_t intent_seq;           /* the request's intent record (0: none) */
};

/* Fills ctx from a connection (no request: api NULL, correlation id -1). */
void sl_audit_ctx_from_conn(struct sl_audit_ctx *ctx, const struct sl_conn *c);
/* Fills ctx from a request and its connection. Loop thread of the request. */
void sl_audit_ctx_from_req(struct sl_audit_ctx *ctx, const struct sl_req *req);

/* ---- events (audit_events.c) ---- */

/* Authorization decision (for the ACL authorizer). res_type, pattern and op
 * are Kafka's codes (ResourceType, PatternType, AclOperation); name is the
 * resource name (any bytes, name_len long); acl_text is the deciding ACL in
 * kafka-acls wording, or NULL (no ACL matched: the default decision). A
 * denial is always recorded; an allowed decision only as
 * sluice.audit.authz.level says (the caller applies "first": it knows the
 * session's cache; this function records what it is given when the level is
 * not none). Returns a sequence number, SL_AUDIT_SEQ_NONE or
 * SL_AUDIT_SEQ_FAILED (see the top of this file).
 *
 * Contract: for a DENIAL the response must not leave before the record is
 * durable: put the returned sequence in req->audit_seq (sl_audit_hold_req).
 * For an allowed decision no wait is needed unless the request changes
 * something (the change event is then the one held). On SL_AUDIT_SEQ_FAILED
 * refuse the request with sl_audit_refusal_code(api key). */
uint64_t sl_audit_authz(const struct sl_audit_ctx *ctx, int res_type, int pattern,
                        const char *name, size_t name_len, int op, bool allowed,
                        const char *acl_text);

/* The authorizer's hook (audit_authz.c; installed with sl_authz_set_hook
 * when the broker starts): records decisions as described there. */
struct sl_authz_event;
void sl_audit_authz_hook(const struct sl_authz_event *ev);

/* A change (for the handlers of the changing APIs; api/audit_change.h is
 * their helper). type is the change ("topic.create", "topic.delete",
 * "topic.alter", "partitions.create", "config.alter", "acl.create",
 * "acl.delete", "user.alter", "user.delete", "group.delete",
 * "offsets.delete", "offsets.reset", "records.delete"), recorded as
 * io.sluice.change.<type> with subject "<RESOURCE TYPE>:<name>".
 * res_type, pattern and op are Kafka's codes (ResourceType, PatternType,
 * AclOperation: the operation that authorized the change); name is the
 * resource name (any bytes, name_len long). detail, when not NULL, writes
 * the members of the record's "detail" object (what changed: config keys
 * and new values, counts, offsets; NEVER a sensitive value, password, salt
 * or key). error is the Kafka error code of the outcome (0: done) and
 * message its text (may be NULL).
 *
 * Contract: call sl_audit_available() before changing anything and refuse
 * when it is false (policy reject); emit after the change with the outcome;
 * ALWAYS hold the response on the returned sequence (sl_audit_hold_req). On
 * SL_AUDIT_SEQ_FAILED answer sl_audit_refusal_code(api key): the change was
 * made but its record may be lost, and the client must not see success. */
struct sl_aj;
struct sl_audit_change {
    const char *type;
    int res_type;
    const char *name;
    size_t name_len;
    int pattern;
    int op;
    void (*detail)(struct sl_aj *j, const void *arg);
    const void *detail_arg;
    int error;
    const char *message;
};
uint64_t sl_audit_change(const struct sl_audit_ctx *ctx, const struct sl_audit_change *ch);

/* The intent of a changing request (io.sluice.change.intent, written before
 * its handler runs; docs/AUDIT.md "Durability and the failure policy"):
 * context, and the members resources(j, arg) writes (what the request
 * names: topics, ACL bindings, config keys, users, groups; NEVER a secret).
 * Returns as sl_audit_emit. */
uint64_t sl_audit_intent(const struct sl_audit_ctx *ctx,
                         void (*resources)(struct sl_aj *j, const void *arg), const void *arg);

/* Connection events (conn.c, xprt_tls.c). */
void sl_audit_conn_accepted(const struct sl_conn *c);
/* The TLS handshake ended: ok with version, cipher and the client
 * certificate subject (NULL when none); or failed with a reason class. */
void sl_audit_conn_tls(const struct sl_conn *c, bool ok, const char *version, const char *cipher,
                       const char *subject, const char *reason);
void sl_audit_conn_closed(const struct sl_conn *c, const char *why);

/* Authentication result (sasl_session.c). mechanism: "SCRAM-SHA-256"...;
 * user: the authenticated or attempted user name (untrusted bytes, may be
 * empty); reason: a reason class (NULL on success), e.g.
 * "invalid_credentials", "malformed", "mechanism_not_enabled",
 * "illegal_state", "reauth_principal_changed". Never pass secrets or SASL
 * bytes. Returns as sl_audit_authz (failures are held like denials). */
uint64_t sl_audit_authn(const struct sl_conn *c, const char *mechanism, const char *user,
                        bool ok, bool reauth, const char *reason);

/* Broker events (broker.c, tls_server.c). */
struct sl_broker;
void sl_audit_broker_start(const struct sl_broker *b);
void sl_audit_broker_stop(const struct sl_broker *b);
/* A reload: what ("tls", "config"), listener (or NULL), ok, and a reason. */
void sl_audit_reload(const char *what, const char *listener, bool ok, const char *reason);

/* Storage integrity (the hook of storage/integrity.h, installed by the
 * broker): a batch that failed authentication when read, a partition
 * quarantined at start. Builds its record in a buffer of its own (any
 * thread: recovery threads, the group coordinator, network threads). */
struct sl_integrity_event;
void sl_audit_storage_integrity(const struct sl_integrity_event *ev);

/* An online key rewrap (server/key_rewrap.h): what "started", "done" or
 * "failed"; the newest key version; files rewrapped, already current and
 * failed (done, failed); reason (failed; NULL otherwise). Own buffer: any
 * thread. */
void sl_audit_key_rewrap(const char *what, uint32_t version, int64_t rewrapped, int64_t current,
                         int64_t failed, const char *reason);

/* ---- running a request after its intent is durable (audit_park.c) ---- */

/* Parks req (state PARKED, cancel hook set; the caller queues it on its
 * connection) until its intent record seq is durable, then calls run(req)
 * on the connection's loop thread with req->state RUNNING and the request
 * still counted as parked by its connection. If the record cannot become
 * durable (the sink failed, the log stopped), req->intent_failed is set
 * first under policy reject. If the connection closes meanwhile, run is
 * never called. Loop thread. */
void sl_audit_park(struct sl_req *req, uint64_t seq, void (*run)(struct sl_req *req));

/* ---- holding a response (audit_hold.c) ---- */

/* Makes req's response wait until seq is durable (keeps the highest seq
 * given). No-op for SL_AUDIT_SEQ_NONE. SL_AUDIT_SEQ_FAILED (a denial whose
 * record could not even be queued, policy reject) means the response is
 * never sent: the connection is closed instead. The dispatcher
 * (and sl_req_complete for parked or waiting requests) applies the hold. If
 * the record cannot be made durable, under policy reject the connection is
 * closed instead of answering. Loop thread. */
void sl_audit_hold_req(struct sl_req *req, uint64_t seq);

/* Dispatcher side: if req has an audit hold not yet durable, registers it
 * (one asynchronous operation of the request) and returns true. Loop thread. */
bool sl_audit_hold_begin(struct sl_req *req);

/* The Kafka error to refuse a request with when its audit record cannot be
 * written (SL_AUDIT_SEQ_FAILED or sl_audit_available() false): for the
 * administrative APIs POLICY_VIOLATION (44, not retriable; the message says
 * the audit log is unavailable), for the data and group APIs
 * KAFKA_STORAGE_ERROR (56, retriable: clients back off and retry until the
 * audit log is writable again). */
int16_t sl_audit_refusal_code(int16_t api_key);

#endif
