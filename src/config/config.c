/* SPDX-License-Identifier: Apache-2.0
 *
 * The broker option table and everything that reads it to apply values:
 * defaults, the .properties loader, command-line overrides, cross-key
 * validation, DescribeConfigs and the start-up log. One row per key (the
 * redis static_configs / nginx ngx_command_t idea): name, parse kind, field
 * (offsetof), default, range or allowed values, flags, Kafka type and
 * description. --help and docs/CONFIG.md are printed from the same rows by
 * config_doc.c.
 *
 * Aliases share a field and carry a rank: the highest-ranked key that was
 * set wins whatever the order of the lines, as in Kafka (log.retention.ms >
 * .minutes > .hours; log.roll.ms > .hours; log.dirs > log.dir; node.id and
 * broker.id must agree). A value is fully checked before anything is written,
 * so a failed set leaves the config unchanged.
 *
 * Per-listener keys (rows flagged PER_LISTENER) may also be set as
 * listener.name.<listener>.<key>, Kafka's prefix; the value is checked
 * against the key's row and kept as text (sl_config_listener_get).
 *
 * Not here: topic-level keys (topic_config.c), dynamic reconfiguration.
 */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_int.h"
#include "config/properties.h"
#include "core/logging.h"
#include "core/mem.h"

#define MiB 1048576
#define MAX_CONFIG_FILE (16 * MiB)

/* ------------------------------------------------------------------ */
/* Value checks used by rows                                           */
/* ------------------------------------------------------------------ */

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const cleanup_policies[] = {"delete", "compact", NULL};
static const char *const ts_types[] = {"CreateTime", "LogAppendTime", NULL};
static const char *const compression_types[] = {"producer", "uncompressed", "gzip", "snappy",
                                                "lz4",      "zstd",         NULL};

/* Security protocols Kafka defines, and the subset this build can serve.
 * The TLS and SASL work extends the second list. */
static const char *const known_protocols[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL",
                                              NULL};
static const char *const supported_protocols[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT",
                                                  "SASL_SSL", NULL};
static const char *const sasl_mechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", NULL};

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

static const char *check_path(const char *v, char *why, size_t whylen)
{
    if (strlen(v) > PATH_MAX - 64) {
        snprintf(why, whylen, "path longer than %d bytes", PATH_MAX - 64);
        return why;
    }
    return NULL;
}

static const char *check_one_dir(const char *v, char *why, size_t whylen)
{
    if (strchr(v, ',')) {
        snprintf(why, whylen, "several log directories are not supported yet: name one directory");
        return why;
    }
    return check_path(v, why, whylen);
}

/* sluice.encryption.readahead.bytes: buffers are 4 MiB each, so a value
 * between 0 and one buffer would silently mean none. */
static const char *check_readahead(const char *v, char *why, size_t whylen)
{
    long long n = strtoll(v, NULL, 10);
    if (n > 0 && n < (4ll << 20)) { /* SL_RA_SLOT_BYTES (crypto/readahead.h) */
        snprintf(why, whylen, "must be 0 (read-ahead off) or at least 4194304 (one 4 MiB buffer)");
        return why;
    }
    return NULL;
}

static bool valid_listener_name(const char *s, size_t n)
{
    if (n == 0 || n > 31)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

static void upcase(char *s)
{
    for (; *s; s++)
        *s = (char)toupper((unsigned char)*s);
}

static const char *trim_span(const char *s, size_t n, size_t *outn)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    *outn = n;
    return s;
}

/* Walks a comma-separated list: returns the next trimmed item in *item /
 * *itemn and advances *p, or false at the end. Empty items are returned as
 * such (callers reject them). */
static bool next_item(const char **p, const char **item, size_t *itemn)
{
    if (!*p)
        return false;
    const char *comma = strchr(*p, ',');
    size_t n = comma ? (size_t)(comma - *p) : strlen(*p);
    *item = trim_span(*p, n, itemn);
    *p = comma ? comma + 1 : NULL;
    return true;
}

/* Looks listener name up in a listener.security.protocol.map value; copies
 * the protocol into out. Returns true when found. The map was checked by
 * check_protomap when set. */
static bool map_lookup(const char *map, const char *name, char *out, size_t outlen)
{
    const char *p = map, *item;
    size_t n;
    while (next_item(&p, &item, &n)) {
        const char *colon = memchr(item, ':', n);
        if (!colon)
            continue;
        size_t kn;
        const char *k = trim_span(item, (size_t)(colon - item), &kn);
        size_t vn;
        const char *v = trim_span(colon + 1, n - (size_t)(colon - item) - 1, &vn);
        if (kn == strlen(name) && strncasecmp(k, name, kn) == 0) {
            snprintf(out, outlen, "%.*s", (int)vn, v);
            upcase(out);
            return true;
        }
    }
    return false;
}

static const char *check_store_type(const char *v, char *why, size_t whylen)
{
    if (strcasecmp(v, "PKCS12") == 0 || strcasecmp(v, "PEM") == 0)
        return NULL;
    if (strcasecmp(v, "JKS") == 0)
        snprintf(why, whylen, "JKS stores are not supported: convert with keytool "
                              "-importkeystore -deststoretype PKCS12, or use PEM");
    else
        snprintf(why, whylen, "must be PKCS12 or PEM");
    return why;
}

/* super.users: principals TYPE:name separated by ';'. */
static const char *check_super_users(const char *v, char *why, size_t whylen)
{
    const char *p = v;
    while (*p) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        size_t tn;
        const char *t = trim_span(p, n, &tn);
        const char *colon = tn ? memchr(t, ':', tn) : NULL;
        if (tn && (!colon || colon == t || colon == t + tn - 1)) {
            snprintf(why, whylen, "'%.*s' is not a principal (User:name)", (int)tn, t);
            return why;
        }
        p = end ? end + 1 : p + n;
    }
    return NULL;
}

/* ssl.enabled.protocols: TLSv1.2 and/or TLSv1.3, never anything older. */
static const char *check_tls_protocols(const char *v, char *why, size_t whylen)
{
    const char *p = v, *item;
    size_t n;
    while (next_item(&p, &item, &n)) {
        if ((n == 7 && strncmp(item, "TLSv1.2", 7) == 0) ||
            (n == 7 && strncmp(item, "TLSv1.3", 7) == 0))
            continue;
        if (n >= 4 && (strncmp(item, "TLSv", 4) == 0 || strncmp(item, "SSLv", 4) == 0))
            snprintf(why, whylen, "%.*s is not allowed: it is broken or deprecated (RFC 8996); "
                                  "use TLSv1.2 and/or TLSv1.3", (int)n, item);
        else
            snprintf(why, whylen, "unknown protocol '%.*s' (TLSv1.2 or TLSv1.3)", (int)n, item);
        return why;
    }
    return NULL;
}

static const char *check_protomap(const char *v, char *why, size_t whylen)
{
    const char *p = v, *item;
    size_t n;
    char names[64][32];
    int count = 0;
    while (next_item(&p, &item, &n)) {
        const char *colon = n ? memchr(item, ':', n) : NULL;
        if (!colon) {
            snprintf(why, whylen, "entry '%.*s' is not NAME:PROTOCOL", (int)n, item);
            return why;
        }
        size_t kn, vn;
        const char *k = trim_span(item, (size_t)(colon - item), &kn);
        const char *pr = trim_span(colon + 1, n - (size_t)(colon - item) - 1, &vn);
        if (!valid_listener_name(k, kn)) {
            snprintf(why, whylen, "bad listener name '%.*s' (1-31 letters, digits, '_' or '-')",
                     (int)kn, k);
            return why;
        }
        char proto[32];
        snprintf(proto, sizeof proto, "%.*s", (int)(vn < 31 ? vn : 31), pr);
        upcase(proto);
        if (vn >= 32 || !in_list(known_protocols, proto)) {
            snprintf(why, whylen,
                     "unknown security protocol '%.*s' (PLAINTEXT, SSL, SASL_PLAINTEXT or "
                     "SASL_SSL)",
                     (int)vn, pr);
            return why;
        }
        if (count == 64) {
            snprintf(why, whylen, "more than 64 entries");
            return why;
        }
        snprintf(names[count], sizeof names[count], "%.*s", (int)kn, k);
        upcase(names[count]);
        for (int j = 0; j < count; j++)
            if (strcmp(names[j], names[count]) == 0) {
                snprintf(why, whylen, "listener name %s appears twice", names[count]);
                return why;
            }
        count++;
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

#define FLD(f)                                                                                     \
    .off = offsetof(struct sl_config, f), .fsize = sizeof(((struct sl_config *)0)->f)
#define I32MAX INT32_MAX
#define I64MAX INT64_MAX

static const char G_GENERAL[] = "General";
static const char G_NET[] = "Listeners and network";
static const char G_LOG[] = "Topics and logs";
static const char G_GROUP[] = "Groups, offsets and transactions";
static const char G_TLS[] = "TLS (per listener: listener.name.<name>.KEY)";
static const char G_SASL[] = "SASL and users";
static const char G_AUTHZ[] = "Authorization (ACLs)";
static const char *const client_auth_values[] = {"none", "requested", "required", NULL};
static const char G_COMPAT[] = "Accepted for compatibility";
static const char G_AUDIT[] = "Audit log";
static const char *const audit_policies[] = {"reject", "log", NULL};
static const char *const audit_levels[] = {"none", "first", "all", NULL};

/* Keep each row's doc in our own words. Defaults follow Apache Kafka 4.1
 * unless the doc says why not. */
const struct sl_config_row sl_config__rows[] = {
    /* General */
    {.name = "sluice.data.dir", .kind = SL_CFG_K_STRING, .field = SL_CFG_F_STR, FLD(data_dir),
     .def = "./data", .flags = SL_CFG_IMMUTABLE, .ktype = SL_CONFIG_TYPE_STRING,
     .check = check_path, .group = G_GENERAL,
     .doc = "Directory that holds the broker's state: the metadata store (meta/) and, unless "
            "log.dirs names another place, the partition logs (logs/). Created with mode 0700 "
            "when missing. The --data-dir option sets it."},
    {.name = "node.id", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I32, FLD(node_id), .def = "1",
     .min = 0, .max = I32MAX, .rank = 2, .flags = SL_CFG_IMMUTABLE, .ktype = SL_CONFIG_TYPE_INT,
     .group = G_GENERAL,
     .doc = "Identifier of this broker, as clients see it in metadata responses. broker.id is an "
            "alias; when both are set they must be equal."},
    {.name = "broker.id", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I32, FLD(node_id), .min = 0,
     .max = I32MAX, .rank = 1, .flags = SL_CFG_IMMUTABLE, .ktype = SL_CONFIG_TYPE_INT,
     .def_doc = "(node.id)", .group = G_GENERAL,
     .doc = "Older name of node.id, accepted so that ZooKeeper-era files load."},
    {.name = "sluice.encryption.enable", .kind = SL_CFG_K_BOOL, .field = SL_CFG_F_BOOL,
     FLD(encryption_enable), .def = "true", .flags = SL_CFG_IMMUTABLE,
     .ktype = SL_CONFIG_TYPE_BOOLEAN, .group = G_GENERAL,
     .doc = "Encryption at rest: every log segment (and the consumer offsets log) is sealed "
            "batch by batch with AES-256-GCM under a per-segment data key wrapped by a key from "
            "the keyring (docs/ENCRYPTION.md). false writes plaintext and is logged as a warning "
            "at every start; a data directory written with it on refuses to start with it off."},
    {.name = "sluice.encryption.readahead.bytes", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64,
     FLD(encryption_readahead_bytes), .def = "67108864", .min = 0, .max = 1LL << 36,
     .flags = SL_CFG_IMMUTABLE, .ktype = SL_CONFIG_TYPE_LONG, .check = check_readahead,
     .group = G_GENERAL,
     .doc = "Memory for read-ahead of sealed data: a consumer reading a partition front to back "
            "has its next fetch decrypted by a worker thread while the current one is sent, "
            "in buffers of 4 MiB each (this value / 4 MiB of them, allocated when first used, "
            "kept out of core dumps, wiped when their segment closes and given back after 10 s "
            "unused). 0 turns it off: "
            "fetches then decrypt on the network thread. Unused with encryption at rest off."},
    {.name = "sluice.keys.file", .kind = SL_CFG_K_STRING, .field = SL_CFG_F_STR, FLD(keys_file),
     .def_doc = "<data dir>/keys/keyring", .flags = SL_CFG_IMMUTABLE,
     .ktype = SL_CONFIG_TYPE_STRING, .check = check_path, .group = G_GENERAL,
     .doc = "The keyring file of key-encryption keys (format in docs/ENCRYPTION.md). It must "
            "be mode 0600 (or stricter) and owned by the broker's user, or the broker refuses "
            "to start. Created with one random key at the first start of an empty data "
            "directory; in production keep it on another volume than the data, or use "
            "sluice.keys.command."},
    {.name = "sluice.keys.command", .kind = SL_CFG_K_STRING, .field = SL_CFG_F_STR,
     FLD(keys_command), .def_doc = "(none)", .flags = SL_CFG_IMMUTABLE | SL_CFG_SENSITIVE,
     .ktype = SL_CONFIG_TYPE_PASSWORD, .group = G_GENERAL,
     .doc = "A command (run with /bin/sh -c at start) whose standard output is the keyring, in "
            "the key file's format, so that a vault or KMS holds the keys; it replaces "
            "sluice.keys.file. A non-zero exit status stops the start. Never logged."},
    {.name = "sluice.log.level", .kind = SL_CFG_K_ENUM, .field = SL_CFG_F_STR, FLD(log_level),
     .def = "info", .values = log_levels, .ktype = SL_CONFIG_TYPE_STRING, .group = G_GENERAL,
     .doc = "Lowest level of the operational log written to standard error."},

    /* Listeners and network */
    {.name = "listeners", .kind = SL_CFG_K_LISTENERS, .field = SL_CFG_F_LISTENERS,
     FLD(listeners), .off_n = offsetof(struct sl_config, n_listeners),
     .def = "SASL_SSL://127.0.0.1:9093", .flags = SL_CFG_IMMUTABLE,
     .ktype = SL_CONFIG_TYPE_STRING, .group = G_NET,
     .doc = "Comma-separated endpoints to accept connections on, each NAME://host:port. NAME "
            "maps to a security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL) through "
            "listener.security.protocol.map. An empty host binds every interface, an IPv6 "
            "address goes in brackets ([::1]:9093), port 0 picks a free port. At most 8 "
            "listeners; names and ports must differ. The default is loopback only: to serve "
            "other machines set e.g. listeners=SASL_SSL://0.0.0.0:9093 (and "
            "advertised.listeners with the name clients use). An SSL or SASL_SSL listener "
            "without a key store uses the certificate generated at the first start "
            "(docs/OPERATIONS.md \"First start\"). A PLAINTEXT or SASL_PLAINTEXT listener on "
            "an address other than loopback needs sluice.allow.insecure=true."},
    {.name = "advertised.listeners", .kind = SL_CFG_K_LISTENERS, .field = SL_CFG_F_LISTENERS,
     FLD(advertised), .off_n = offsetof(struct sl_config, n_advertised),
     .flags = SL_CFG_IMMUTABLE | SL_CFG_DERIVED | SL_CFG_ADVERTISED,
     .def_doc = "listeners, a wildcard or empty host replaced by the host name",
     .ktype = SL_CONFIG_TYPE_STRING, .group = G_NET,
     .doc = "Endpoints given to clients in metadata responses, NAME://host:port, where NAME is "
            "one of the listeners. The wildcard addresses 0.0.0.0 and :: cannot be advertised; "
            "an empty host means this machine's host name."},
    {.name = "listener.security.protocol.map", .kind = SL_CFG_K_STRING, .field = SL_CFG_F_STR,
     FLD(listener_security_protocol_map),
     .def = "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
     .flags = SL_CFG_IMMUTABLE, .ktype = SL_CONFIG_TYPE_STRING, .check = check_protomap,
     .group = G_NET,
     .doc = "Security protocol of each listener name, as NAME:PROTOCOL pairs separated by "
            "commas."},
    {.name = "num.network.threads", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I32,
     FLD(num_network_threads), .def = "0", .min = 0, .max = 1024, .ktype = SL_CONFIG_TYPE_INT,
     .group = G_NET,
     .doc = "Number of event-loop threads, each owning its connections whole. 0 means one per "
            "CPU core. (Kafka's default is 3; Sluice has no separate request handler pool.)"},
    {.name = "max.connections", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I32,
     FLD(max_connections), .def = "10000", .min = 1, .max = I32MAX,
     .ktype = SL_CONFIG_TYPE_INT, .group = G_NET,
     .doc = "Most client connections open at once, over all listeners; further connections are "
            "closed at accept. (Kafka's default is unlimited.)"},
    {.name = "socket.request.max.bytes", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I32,
     FLD(socket_request_max_bytes), .def = "104857600", .min = 1, .max = I32MAX,
     .ktype = SL_CONFIG_TYPE_INT, .group = G_NET,
     .doc = "Largest request frame accepted; a larger size prefix closes the connection."},
    {.name = "socket.send.buffer.bytes", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I32,
     FLD(socket_send_buffer_bytes), .def = "102400", .min = -1, .max = I32MAX,
     .ktype = SL_CONFIG_TYPE_INT, .group = G_NET,
     .doc = "SO_SNDBUF of client sockets; -1 keeps the operating system's default."},
    {.name = "socket.receive.buffer.bytes", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I32,
     FLD(socket_receive_buffer_bytes), .def = "102400", .min = -1, .max = I32MAX,
     .ktype = SL_CONFIG_TYPE_INT, .group = G_NET,
     .doc = "SO_RCVBUF of client sockets; -1 keeps the operating system's default."},
    {.name = "connections.max.idle.ms", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64,
     FLD(connections_max_idle_ms), .def = "600000", .min = 1, .max = I64MAX,
     .ktype = SL_CONFIG_TYPE_LONG, .group = G_NET,
     .doc = "A connection idle for longer than this is closed."},

    /* TLS */
#define TLS_ROW .kind = SL_CFG_K_STRING, .field = SL_CFG_F_STR, .group = G_TLS
#define TLS_FLAGS (SL_CFG_IMMUTABLE | SL_CFG_PER_LISTENER)
    {.name = "ssl.keystore.type", TLS_ROW, FLD(ssl_keystore_type), .def = "PKCS12",
     .flags = TLS_FLAGS, .ktype = SL_CONFIG_TYPE_STRING, .check = check_store_type,
     .doc = "Format of the key store: PKCS12 (a .p12 file, password in ssl.keystore.password) "
            "or PEM (a file holding the private key and the certificate chain, or the inline "
            "ssl.keystore.key and ssl.keystore.certificate.chain). JKS is refused: convert it to "
            "PKCS12."},
    {.name = "ssl.keystore.location", TLS_ROW, FLD(ssl_keystore_location), .def_doc = "(none)",
     .flags = TLS_FLAGS, .ktype = SL_CONFIG_TYPE_STRING, .check = check_path,
     .doc = "File of the listener's private key and certificate chain. Watched for changes "
            "(sluice.ssl.reload.check.interval.ms) and reloaded for new connections."},
    {.name = "ssl.keystore.password", TLS_ROW, FLD(ssl_keystore_password), .def_doc = "(none)",
     .flags = TLS_FLAGS | SL_CFG_SENSITIVE, .ktype = SL_CONFIG_TYPE_PASSWORD,
     .doc = "Password of the PKCS12 key store; for PEM, the private key's password when "
            "ssl.key.password is not set."},
    {.name = "ssl.key.password", TLS_ROW, FLD(ssl_key_password), .def_doc = "(none)",
     .flags = TLS_FLAGS | SL_CFG_SENSITIVE, .ktype = SL_CONFIG_TYPE_PASSWORD,
     .doc = "Password of an encrypted private key (PEM or inside the PKCS12 store)."},
    {.name = "ssl.keystore.key", TLS_ROW, FLD(ssl_keystore_key), .def_doc = "(none)",
     .flags = TLS_FLAGS | SL_CFG_SENSITIVE, .ktype = SL_CONFIG_TYPE_PASSWORD,
     .doc = "The private key as PEM text in the configuration (ssl.keystore.type=PEM), with "
            "ssl.keystore.certificate.chain."},
    {.name = "ssl.keystore.certificate.chain", TLS_ROW, FLD(ssl_keystore_certificate_chain),
     .def_doc = "(none)", .flags = TLS_FLAGS, .ktype = SL_CONFIG_TYPE_STRING,
     .doc = "The certificate chain as PEM text in the configuration, leaf first."},
    {.name = "ssl.truststore.type", TLS_ROW, FLD(ssl_truststore_type), .def = "PKCS12",
     .flags = TLS_FLAGS, .ktype = SL_CONFIG_TYPE_STRING, .check = check_store_type,
     .doc = "Format of the trust store: PKCS12 or PEM (one or more CA certificates)."},
    {.name = "ssl.truststore.location", TLS_ROW, FLD(ssl_truststore_location),
     .def_doc = "(none)", .flags = TLS_FLAGS, .ktype = SL_CONFIG_TYPE_STRING,
     .check = check_path,
     .doc = "File of the certificate authorities that client certificates must chain to. "
            "Watched and reloaded like the key store."},
    {.name = "ssl.truststore.password", TLS_ROW, FLD(ssl_truststore_password),
     .def_doc = "(none)", .flags = TLS_FLAGS | SL_CFG_SENSITIVE, .ktype = SL_CONFIG_TYPE_PASSWORD,
     .doc = "Password of a PKCS12 trust store."},
    {.name = "ssl.truststore.certificates", TLS_ROW, FLD(ssl_truststore_certificates),
     .def_doc = "(none)", .flags = TLS_FLAGS, .ktype = SL_CONFIG_TYPE_STRING,
     .doc = "Trusted certificate authorities as PEM text in the configuration "
            "(ssl.truststore.type=PEM)."},
    {.name = "ssl.client.auth", .kind = SL_CFG_K_ENUM, .field = SL_CFG_F_STR,
     FLD(ssl_client_auth), .def = "none", .values = client_auth_values, .flags = TLS_FLAGS,
     .ktype = SL_CONFIG_TYPE_STRING, .group = G_TLS,
     .doc = "Client certificates: none (not asked for), requested (asked for; a client without "
            "one is User:ANONYMOUS, a bad one fails the handshake) or required (no valid "
            "certificate, no connection). The principal of a certificate is User: followed by "
            "its subject DN mapped by ssl.principal.mapping.rules."},
    {.name = "ssl.enabled.protocols", TLS_ROW, FLD(ssl_enabled_protocols),
     .def = "TLSv1.2,TLSv1.3", .flags = TLS_FLAGS, .ktype = SL_CONFIG_TYPE_LIST,
     .check = check_tls_protocols,
     .doc = "TLS versions accepted: TLSv1.2 and/or TLSv1.3. Older versions cannot be enabled."},
    {.name = "ssl.cipher.suites", TLS_ROW, FLD(ssl_cipher_suites), .def_doc = "(curated)",
     .flags = TLS_FLAGS | SL_CFG_EMPTY_OK, .ktype = SL_CONFIG_TYPE_LIST,
     .doc = "Cipher suites, comma-separated, by IANA name (TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "
            "as Kafka writes them) or OpenSSL name. Unset: AES-GCM and ChaCha20-Poly1305 with "
            "ECDHE key exchange only. A suite without forward secrecy or without AEAD is refused."},
    {.name = "ssl.principal.mapping.rules", TLS_ROW, FLD(ssl_principal_mapping_rules),
     .def = "DEFAULT", .flags = TLS_FLAGS, .ktype = SL_CONFIG_TYPE_STRING,
     .doc = "Rules that turn a client certificate's subject DN (RFC 2253) into a user name, in "
            "Kafka's syntax: RULE:pattern/replacement/[L|U], ..., DEFAULT. The first rule that "
            "matches wins; DEFAULT keeps the DN."},
    {.name = "ssl.endpoint.identification.algorithm", .kind = SL_CFG_K_STRING,
     .field = SL_CFG_F_NONE, .group = G_TLS,
     .def = "https", .flags = SL_CFG_IGNORED | SL_CFG_EMPTY_OK, .ktype = SL_CONFIG_TYPE_STRING,
     .doc = "Host name checking of the server by clients; a broker setting only for its own "
            "outgoing connections, which a single Sluice node does not make."},
    {.name = "ssl.protocol", .kind = SL_CFG_K_STRING, .field = SL_CFG_F_NONE, .group = G_TLS,
     .def = "TLSv1.3",
     .flags = SL_CFG_IGNORED, .ktype = SL_CONFIG_TYPE_STRING,
     .doc = "Java's SSLContext protocol. Sluice negotiates the versions in "
            "ssl.enabled.protocols."},
    {.name = "sluice.ssl.crl.location", TLS_ROW, FLD(ssl_crl_location), .def_doc = "(none)",
     .flags = TLS_FLAGS, .ktype = SL_CONFIG_TYPE_STRING, .check = check_path,
     .doc = "PEM file of certificate revocation lists from the trusted authorities. When set, "
            "a client certificate is checked against it (and every certificate in its chain), "
            "and one without a CRL from its issuer is refused. Watched and reloaded."},
    {.name = "sluice.ssl.handshake.timeout.ms", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64,
     FLD(ssl_handshake_timeout_ms), .def = "10000", .min = 100, .max = 600000,
     .flags = SL_CFG_IMMUTABLE, .ktype = SL_CONFIG_TYPE_LONG, .group = G_TLS,
     .doc = "A TLS handshake not finished within this time is cut."},
    {.name = "sluice.ssl.reload.check.interval.ms", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64,
     FLD(ssl_reload_check_interval_ms), .def = "5000", .min = 0, .max = 86400000,
     .flags = SL_CFG_IMMUTABLE, .ktype = SL_CONFIG_TYPE_LONG, .group = G_TLS,
     .doc = "How often key, certificate, trust store and CRL files are checked for change; a "
            "changed set is loaded for new connections (a broken one is refused and logged, the "
            "old one stays). 0 checks only on SIGHUP."},

    /* SASL */
    {.name = "sasl.enabled.mechanisms", .kind = SL_CFG_K_LIST, .field = SL_CFG_F_STR,
     FLD(sasl_enabled_mechanisms), .def = "SCRAM-SHA-256,SCRAM-SHA-512",
     .values = sasl_mechanisms, .flags = TLS_FLAGS, .ktype = SL_CONFIG_TYPE_LIST,
     .group = G_SASL,
     .doc = "Mechanisms SASL_PLAINTEXT and SASL_SSL listeners offer. PLAIN checks the password "
            "against the stored SCRAM credential; on a SASL_PLAINTEXT listener it is refused "
            "unless sluice.sasl.plain.allow.cleartext=true. (Kafka's default is GSSAPI, which "
            "Sluice does not offer yet.)"},
    {.name = "connections.max.reauth.ms", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64,
     FLD(connections_max_reauth_ms), .def = "3600000", .min = 0, .max = I64MAX,
     .flags = TLS_FLAGS, .ktype = SL_CONFIG_TYPE_LONG, .group = G_SASL,
     .doc = "Lifetime of a SASL session (KIP-368): clients re-authenticate before it ends, and "
            "a connection that sends anything else after it is closed. A deleted user or a "
            "changed password thus loses open sessions within this time. 0: sessions never "
            "expire (Kafka's default; Sluice's is one hour)."},
    {.name = "connection.failed.authentication.delay.ms", .kind = SL_CFG_K_I32,
     .field = SL_CFG_F_I32, FLD(connection_failed_auth_delay_ms), .def = "100", .min = 0,
     .max = I32MAX, .flags = SL_CFG_IMMUTABLE, .ktype = SL_CONFIG_TYPE_INT, .group = G_SASL,
     .doc = "A failed authentication is answered, and its connection closed, this long after "
            "the attempt, which slows password guessing without holding a thread."},
    {.name = "sasl.server.max.receive.size", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I32,
     FLD(sasl_server_max_receive_size), .def = "524288", .min = 1024, .max = I32MAX,
     .flags = SL_CFG_IMMUTABLE, .ktype = SL_CONFIG_TYPE_INT, .group = G_SASL,
     .doc = "Largest frame accepted before a SASL connection has authenticated."},
    {.name = "sluice.sasl.plain.allow.cleartext", .kind = SL_CFG_K_BOOL, .field = SL_CFG_F_BOOL,
     FLD(sasl_plain_allow_cleartext), .def = "false", .flags = SL_CFG_IMMUTABLE,
     .ktype = SL_CONFIG_TYPE_BOOLEAN, .group = G_SASL,
     .doc = "Allow PLAIN on a SASL_PLAINTEXT listener, where the password crosses the network "
            "in clear. Off: such a listener stops the broker at start. On, it is an insecure "
            "set-up and needs sluice.allow.insecure=true as well."},
    {.name = "super.users", .kind = SL_CFG_K_STRING, .field = SL_CFG_F_STR, FLD(super_users),
     .def = "User:admin", .flags = SL_CFG_IMMUTABLE | SL_CFG_EMPTY_OK,
     .ktype = SL_CONFIG_TYPE_STRING, .check = check_super_users, .group = G_SASL,
     .doc = "Principals allowed every operation whatever the ACLs say, separated by semicolons "
            "(User:admin;User:ops). Left at its default, the first start of an empty data "
            "directory creates the SCRAM-SHA-512 user admin with a random password "
            "(docs/OPERATIONS.md \"First start\")."},
    {.name = "allow.everyone.if.no.acl.found", .kind = SL_CFG_K_BOOL, .field = SL_CFG_F_BOOL,
     FLD(allow_everyone_if_no_acl_found), .def = "false", .flags = SL_CFG_IMMUTABLE,
     .ktype = SL_CONFIG_TYPE_BOOLEAN, .group = G_AUTHZ,
     .doc = "Allow every principal to act on a resource that no ACL mentions. Off (Sluice's "
            "default, as Kafka's): only super users and what ACLs allow."},
    {.name = "sluice.allow.insecure", .kind = SL_CFG_K_BOOL, .field = SL_CFG_F_BOOL,
     FLD(allow_insecure), .def = "false", .flags = SL_CFG_IMMUTABLE,
     .ktype = SL_CONFIG_TYPE_BOOLEAN, .group = G_AUTHZ,
     .doc = "Start even when the configuration weakens security (a PLAINTEXT or SASL_PLAINTEXT "
            "listener on a non-loopback address, PLAIN without TLS, "
            "allow.everyone.if.no.acl.found=true, encryption at rest or audit off). Without it "
            "such a configuration stops the broker at start, naming the setting; with it the "
            "broker starts and warns in its log and its audit log at every start. A PLAINTEXT "
            "listener on loopback needs no override (it is still reported). TLS below 1.2 "
            "cannot be enabled at all (ssl.enabled.protocols)."},
#undef TLS_ROW
#undef TLS_FLAGS

    /* Topics and logs */
    {.name = "log.dirs", .kind = SL_CFG_K_STRING, .field = SL_CFG_F_STR, FLD(log_dirs),
     .rank = 2, .flags = SL_CFG_IMMUTABLE | SL_CFG_DERIVED, .def_doc = "<sluice.data.dir>/logs",
     .ktype = SL_CONFIG_TYPE_LIST, .check = check_one_dir, .group = G_LOG,
     .doc = "Directory of the partition logs. Kafka accepts a list; Sluice supports one "
            "directory for now. Takes precedence over log.dir."},
    {.name = "log.dir", .kind = SL_CFG_K_STRING, .field = SL_CFG_F_STR, FLD(log_dirs),
     .rank = 1, .flags = SL_CFG_IMMUTABLE, .def_doc = "(log.dirs)", .ktype = SL_CONFIG_TYPE_LIST,
     .check = check_one_dir, .group = G_LOG,
     .doc = "Alias of log.dirs, used only when log.dirs is not set."},
    {.name = "num.partitions", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I32,
     FLD(num_partitions), .def = "1", .min = 1, .max = I32MAX, .ktype = SL_CONFIG_TYPE_INT,
     .group = G_LOG,
     .doc = "Partitions of a topic created without a count (auto-creation, or CreateTopics with "
            "-1)."},
    {.name = "default.replication.factor", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I16,
     FLD(default_replication_factor), .def = "1", .min = 1, .max = 1,
     .range_why = "a single node holds one replica of each partition",
     .ktype = SL_CONFIG_TYPE_INT, .group = G_LOG,
     .doc = "Replication factor of a topic created without one."},
    {.name = "auto.create.topics.enable", .kind = SL_CFG_K_BOOL, .field = SL_CFG_F_BOOL,
     FLD(auto_create_topics_enable), .def = "true", .ktype = SL_CONFIG_TYPE_BOOLEAN,
     .group = G_LOG,
     .doc = "Create a topic when a client asks for its metadata or produces to it and it does "
            "not exist."},
    {.name = "delete.topic.enable", .kind = SL_CFG_K_BOOL, .field = SL_CFG_F_BOOL,
     FLD(delete_topic_enable), .def = "true", .ktype = SL_CONFIG_TYPE_BOOLEAN, .group = G_LOG,
     .doc = "Allow DeleteTopics; when false it fails with TOPIC_DELETION_DISABLED."},
    {.name = "log.segment.bytes", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I64,
     FLD(log_segment_bytes), .def = "1073741824", .min = MiB, .max = I32MAX,
     .ktype = SL_CONFIG_TYPE_INT, .group = G_LOG,
     .doc = "Size at which a partition's active segment is closed and a new one started. "
            "Default of the topic key segment.bytes. (Minimum 1 MiB, as in Kafka 4.)"},
    {.name = "log.roll.ms", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64, FLD(log_roll_ms),
     .min = 1, .max = I64MAX, .rank = 2, .def_doc = "(log.roll.hours)",
     .ktype = SL_CONFIG_TYPE_LONG, .group = G_LOG,
     .doc = "Age at which the active segment is rolled even if not full, in milliseconds. "
            "Default of segment.ms. Takes precedence over log.roll.hours."},
    {.name = "log.roll.hours", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I64, FLD(log_roll_ms),
     .def = "168", .min = 1, .max = I32MAX, .scale = 3600000, .rank = 1,
     .ktype = SL_CONFIG_TYPE_INT, .group = G_LOG,
     .doc = "Same as log.roll.ms, in hours; used when log.roll.ms is not set."},
    {.name = "log.retention.ms", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64,
     FLD(log_retention_ms), .min = -1, .max = I64MAX, .rank = 3,
     .flags = SL_CFG_NEG_UNLIMITED, .def_doc = "(log.retention.hours)",
     .ktype = SL_CONFIG_TYPE_LONG, .group = G_LOG,
     .doc = "How long a closed segment is kept before deletion, in milliseconds; -1 keeps data "
            "forever. Default of retention.ms. Takes precedence over log.retention.minutes and "
            "log.retention.hours."},
    {.name = "log.retention.minutes", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I64,
     FLD(log_retention_ms), .min = -1, .max = I32MAX, .scale = 60000, .rank = 2,
     .flags = SL_CFG_NEG_UNLIMITED, .def_doc = "(log.retention.hours)",
     .ktype = SL_CONFIG_TYPE_INT, .group = G_LOG,
     .doc = "Same as log.retention.ms, in minutes; used when log.retention.ms is not set."},
    {.name = "log.retention.hours", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I64,
     FLD(log_retention_ms), .def = "168", .min = -1, .max = I32MAX, .scale = 3600000,
     .rank = 1, .flags = SL_CFG_NEG_UNLIMITED, .ktype = SL_CONFIG_TYPE_INT, .group = G_LOG,
     .doc = "Same as log.retention.ms, in hours; used when neither log.retention.ms nor "
            "log.retention.minutes is set."},
    {.name = "log.retention.bytes", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64,
     FLD(log_retention_bytes), .def = "-1", .min = INT64_MIN, .max = I64MAX,
     .flags = SL_CFG_NEG_UNLIMITED, .ktype = SL_CONFIG_TYPE_LONG, .group = G_LOG,
     .doc = "Largest size of a partition before its oldest segments are deleted; negative means "
            "no limit. Default of retention.bytes."},
    {.name = "log.retention.check.interval.ms", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64,
     FLD(log_retention_check_interval_ms), .def = "300000", .min = 1, .max = I64MAX,
     .ktype = SL_CONFIG_TYPE_LONG, .group = G_LOG,
     .doc = "How often partitions are checked for segments to delete."},
    {.name = "log.cleanup.policy", .kind = SL_CFG_K_LIST, .field = SL_CFG_F_STR,
     FLD(log_cleanup_policy), .def = "delete", .values = cleanup_policies,
     .ktype = SL_CONFIG_TYPE_LIST, .group = G_LOG,
     .doc = "Default of cleanup.policy: delete, compact, or both. Compaction is recorded but not "
            "performed yet: a compacted topic keeps every record."},
    {.name = "log.segment.delete.delay.ms", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64,
     FLD(log_segment_delete_delay_ms), .def = "60000", .min = 0, .max = I64MAX,
     .ktype = SL_CONFIG_TYPE_LONG, .group = G_LOG,
     .doc = "Time between removing a segment from a partition and deleting its files, so that "
            "reads in progress can finish. Default of file.delete.delay.ms."},
    {.name = "log.index.interval.bytes", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I32,
     FLD(log_index_interval_bytes), .def = "4096", .min = 0, .max = I32MAX,
     .ktype = SL_CONFIG_TYPE_INT, .group = G_LOG,
     .doc = "Bytes of log between two entries of the sparse offset index. Default of "
            "index.interval.bytes."},
    {.name = "log.index.size.max.bytes", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I32,
     FLD(log_index_size_max_bytes), .def = "10485760", .min = 4, .max = I32MAX,
     .ktype = SL_CONFIG_TYPE_INT, .group = G_LOG,
     .doc = "Largest offset index of a segment; a full index rolls the segment. Default of "
            "segment.index.bytes."},
    {.name = "sluice.log.flush.interval.ms", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64,
     FLD(log_flush_interval_ms), .def = "1000", .min = 1, .max = I64MAX,
     .ktype = SL_CONFIG_TYPE_LONG, .group = G_LOG,
     .doc = "Period of the background fdatasync of data written with acks=0 or acks=1. Writes "
            "with acks=all are on stable storage before they are acknowledged, whatever this "
            "says."},
    {.name = "message.max.bytes", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I32,
     FLD(message_max_bytes), .def = "1048588", .min = 0, .max = I32MAX,
     .ktype = SL_CONFIG_TYPE_INT, .group = G_LOG,
     .doc = "Largest record batch accepted, after compression. Default of max.message.bytes."},
    {.name = "log.message.timestamp.type", .kind = SL_CFG_K_ENUM, .field = SL_CFG_F_STR,
     FLD(log_message_timestamp_type), .def = "CreateTime", .values = ts_types,
     .ktype = SL_CONFIG_TYPE_STRING, .group = G_LOG,
     .doc = "Whether record timestamps are the producer's (CreateTime) or the broker's at "
            "append (LogAppendTime). Default of message.timestamp.type."},
    {.name = "log.message.timestamp.before.max.ms", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64,
     FLD(log_message_timestamp_before_max_ms), .def = "9223372036854775807", .min = 0,
     .max = I64MAX, .ktype = SL_CONFIG_TYPE_LONG, .group = G_LOG,
     .doc = "With CreateTime, a batch whose timestamp is older than the broker's clock by more "
            "than this is refused. Default of message.timestamp.before.max.ms."},
    {.name = "log.message.timestamp.after.max.ms", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64,
     FLD(log_message_timestamp_after_max_ms), .def = "3600000", .min = 0, .max = I64MAX,
     .ktype = SL_CONFIG_TYPE_LONG, .group = G_LOG,
     .doc = "With CreateTime, a batch whose timestamp is ahead of the broker's clock by more "
            "than this is refused. Default of message.timestamp.after.max.ms."},
    {.name = "min.insync.replicas", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I32,
     FLD(min_insync_replicas), .def = "1", .min = 1, .max = I32MAX,
     .ktype = SL_CONFIG_TYPE_INT, .group = G_LOG,
     .doc = "Replicas that must hold a write with acks=all. On a single node any value above 1 "
            "makes such writes fail with NOT_ENOUGH_REPLICAS, as Kafka would. Default of "
            "min.insync.replicas for topics."},
    {.name = "compression.type", .kind = SL_CFG_K_ENUM, .field = SL_CFG_F_STR,
     FLD(compression_type), .def = "producer", .values = compression_types,
     .ktype = SL_CONFIG_TYPE_STRING, .group = G_LOG,
     .doc = "Default of the topic key compression.type. Recorded only: Sluice stores batches as "
            "the producer compressed them."},
    {.name = "unclean.leader.election.enable", .kind = SL_CFG_K_BOOL, .field = SL_CFG_F_BOOL,
     FLD(unclean_leader_election_enable), .def = "false", .ktype = SL_CONFIG_TYPE_BOOLEAN,
     .group = G_LOG,
     .doc = "Default of the topic key of the same name. Has no effect on a single node."},

    /* Groups, offsets and transactions */
    {.name = "group.initial.rebalance.delay.ms", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I32,
     FLD(group_initial_rebalance_delay_ms), .def = "3000", .min = 0, .max = I32MAX,
     .ktype = SL_CONFIG_TYPE_INT, .group = G_GROUP,
     .doc = "How long the coordinator waits for more members before the first rebalance of an "
            "empty group."},
    {.name = "offsets.topic.num.partitions", .kind = SL_CFG_K_I32, .field = SL_CFG_F_I32,
     FLD(offsets_topic_num_partitions), .def = "50", .min = 1, .max = I32MAX,
     .flags = SL_CFG_IMMUTABLE, .ktype = SL_CONFIG_TYPE_INT, .group = G_GROUP,
     .doc = "Partitions of __consumer_offsets. Must not change once the topic exists."},
    {.name = "offsets.topic.replication.factor", .kind = SL_CFG_K_I16, .field = SL_CFG_F_NONE,
     .def = "1", .min = 1, .max = 1, .range_why = "a single node holds one replica",
     .ktype = SL_CONFIG_TYPE_SHORT, .group = G_GROUP,
     .doc = "Replication factor of __consumer_offsets. Only 1 is valid on a single node (Kafka's "
            "default is 3)."},
    {.name = "transaction.state.log.replication.factor", .kind = SL_CFG_K_I16,
     .field = SL_CFG_F_NONE, .def = "1", .min = 1, .max = 1,
     .range_why = "a single node holds one replica", .ktype = SL_CONFIG_TYPE_SHORT,
     .group = G_GROUP,
     .doc = "Replication factor of __transaction_state. Only 1 is valid on a single node."},
    {.name = "transaction.state.log.min.isr", .kind = SL_CFG_K_I32, .field = SL_CFG_F_NONE,
     .def = "1", .min = 1, .max = 1, .range_why = "a single node holds one replica",
     .ktype = SL_CONFIG_TYPE_INT, .group = G_GROUP,
     .doc = "min.insync.replicas of __transaction_state. Only 1 is valid on a single node."},

    /* Audit log */
    {.name = "sluice.audit.enable", .kind = SL_CFG_K_BOOL, .field = SL_CFG_F_BOOL,
     FLD(audit_enable), .def = "true", .flags = SL_CFG_IMMUTABLE,
     .ktype = SL_CONFIG_TYPE_BOOLEAN, .group = G_AUDIT,
     .doc = "Record security events (connections, authentication, authorization decisions, "
            "changes, the broker's start, stop and reloads) in the tamper-evident audit log "
            "(docs/AUDIT.md). Turning it off is logged as a warning at every start."},
    {.name = "sluice.audit.dir", .kind = SL_CFG_K_STRING, .field = SL_CFG_F_STR, FLD(audit_dir),
     .flags = SL_CFG_IMMUTABLE | SL_CFG_DERIVED, .def_doc = "<sluice.data.dir>/audit",
     .ktype = SL_CONFIG_TYPE_STRING, .check = check_path, .group = G_AUDIT,
     .doc = "Directory of the audit files (audit-<first sequence>.jsonl, one JSON record a "
            "line). Created with mode 0700 when missing."},
    {.name = "sluice.audit.key.file", .kind = SL_CFG_K_STRING, .field = SL_CFG_F_STR,
     FLD(audit_key_file), .flags = SL_CFG_IMMUTABLE | SL_CFG_DERIVED,
     .def_doc = "<sluice.data.dir>/keys/audit.key", .ktype = SL_CONFIG_TYPE_STRING,
     .check = check_path, .group = G_AUDIT,
     .doc = "The 32-byte key of the audit chain's HMAC-SHA-256, kept apart from the log. "
            "Created (mode 0600) at the first start; a key file that group or others may read "
            "stops the broker. Keep a copy: `sluice audit verify` needs it, and a broker whose "
            "key is missing while audit files exist refuses to start."},
    {.name = "sluice.audit.rotate.bytes", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64,
     FLD(audit_rotate_bytes), .def = "104857600", .min = 4096, .max = I64MAX,
     .flags = SL_CFG_IMMUTABLE, .ktype = SL_CONFIG_TYPE_LONG, .group = G_AUDIT,
     .doc = "An audit file is sealed, and a new one started, once it holds this many bytes."},
    {.name = "sluice.audit.rotate.ms", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64,
     FLD(audit_rotate_ms), .def = "86400000", .min = 0, .max = I64MAX,
     .flags = SL_CFG_IMMUTABLE, .ktype = SL_CONFIG_TYPE_LONG, .group = G_AUDIT,
     .doc = "... or once it is this old (0: never by age)."},
    {.name = "sluice.audit.retention.ms", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64,
     FLD(audit_retention_ms), .def = "31536000000", .min = -1, .max = I64MAX,
     .flags = SL_CFG_IMMUTABLE | SL_CFG_NEG_UNLIMITED, .ktype = SL_CONFIG_TYPE_LONG,
     .group = G_AUDIT,
     .doc = "Sealed audit files last written longer ago than this are deleted at the next "
            "rotation; a retention record names them and the first sequence kept, so that "
            "verification tells retention from tampering. -1 keeps them forever."},
    {.name = "sluice.audit.retention.bytes", .kind = SL_CFG_K_I64, .field = SL_CFG_F_I64,
     FLD(audit_retention_bytes), .def = "-1", .min = -1, .max = I64MAX,
     .flags = SL_CFG_IMMUTABLE | SL_CFG_NEG_UNLIMITED, .ktype = SL_CONFIG_TYPE_LONG,
     .group = G_AUDIT,
     .doc = "The oldest audit files are deleted at rotation while all of them together hold "
            "more than this many bytes (the current file is never deleted). -1: no limit."},
    {.name = "sluice.audit.failure.policy", .kind = SL_CFG_K_ENUM, .field = SL_CFG_F_STR,
     FLD(audit_failure_policy), .def = "reject", .values = audit_policies,
     .flags = SL_CFG_IMMUTABLE, .ktype = SL_CONFIG_TYPE_STRING, .group = G_AUDIT,
     .doc = "When the audit log cannot be written (disk full, I/O error): reject refuses every "
            "request that must be audited until it can be written again, and closes the "
            "connection of a request whose record was lost; log serves them and counts the lost "
            "events. Either way the broker logs the failure and the recovery once, and the first "
            "record after the recovery states the gap. With reject, a changing request runs only "
            "once an intent record naming what it changes is durable (docs/AUDIT.md)."},
    {.name = "sluice.audit.topic.enable", .kind = SL_CFG_K_BOOL, .field = SL_CFG_F_BOOL,
     FLD(audit_topic_enable), .def = "true", .flags = SL_CFG_IMMUTABLE,
     .ktype = SL_CONFIG_TYPE_BOOLEAN, .group = G_AUDIT,
     .doc = "Also produce every audit record, once it is durable in the audit files, to the "
            "internal topic __sluice_audit (1 partition; key the event type, value the JSON "
            "line), so that any Kafka client can consume the audit trail. Only super users may "
            "read it unless ACLs grant READ (allow.everyone.if.no.acl.found does not apply to "
            "it); no client may produce to it, delete it, delete its records or change it. The "
            "files stay the proof (each value's sluicemac verifies against them)."},
    {.name = "sluice.audit.authz.level", .kind = SL_CFG_K_ENUM, .field = SL_CFG_F_STR,
     FLD(audit_authz_level), .def = "first", .values = audit_levels,
     .flags = SL_CFG_IMMUTABLE, .ktype = SL_CONFIG_TYPE_STRING, .group = G_AUDIT,
     .doc = "Which allowed authorization decisions are recorded (denials always are): none, "
            "first (the first per session, resource and operation) or all. Takes effect with "
            "the ACL authorizer (issue 6)."},

    /* Accepted for compatibility (a warning says they are ignored) */
    {.name = "num.io.threads", .kind = SL_CFG_K_I32, .field = SL_CFG_F_NONE, .def = "8",
     .min = 1, .max = I32MAX, .flags = SL_CFG_IGNORED, .ktype = SL_CONFIG_TYPE_INT,
     .group = G_COMPAT,
     .doc = "Kafka's request handler pool. Sluice handles requests on its event-loop threads "
            "(num.network.threads), so the value is checked and ignored."},
    {.name = "num.recovery.threads.per.data.dir", .kind = SL_CFG_K_I32, .field = SL_CFG_F_NONE,
     .def = "2", .min = 1, .max = I32MAX, .flags = SL_CFG_IGNORED, .ktype = SL_CONFIG_TYPE_INT,
     .group = G_COMPAT,
     .doc = "Kafka's log recovery threads. Sluice recovers partitions on its own schedule, so the "
            "value is checked and ignored."},
};
const int sl_config__n_rows = (int)(sizeof sl_config__rows / sizeof sl_config__rows[0]);

/* Kafka keys refused with a reason rather than "unknown". Keys a later
 * version implements become rows, which are looked up first. */
static const char WHY_ZK[] = "ZooKeeper mode is not supported yet: Sluice runs as a single node "
                             "and keeps its metadata in sluice.data.dir";
static const char WHY_KRAFT[] = "Sluice does not use KRaft: it runs as a single node with its "
                                "metadata in sluice.data.dir; remove this key";
static const char WHY_REPL[] = "replication between brokers is not supported yet";
static const char WHY_SEC[] = "this SASL setting is not supported, and Sluice refuses a security "
                              "setting it cannot honour";
static const char WHY_JSSE[] = "Sluice does TLS with OpenSSL; Java SSL engine settings do not apply";
static const char WHY_ACL[] = "Sluice's ACL authorizer is built in and always on (Kafka's "
                             "StandardAuthorizer semantics); remove this key";
static const char WHY_FLUSH[] = "Sluice syncs acks=all writes before acknowledging them and "
                                "flushes other writes every sluice.log.flush.interval.ms";
static const char WHY_CLEANER[] = "log compaction is not performed yet";
static const char WHY_METRICS[] = "metrics reporters are not supported yet";
const struct sl_config_refused sl_config__refused[] = {
    {"zookeeper.", 1, WHY_ZK},
    {"process.roles", 0, WHY_KRAFT},
    {"controller.", 1, WHY_KRAFT},
    {"metadata.log.", 1, WHY_KRAFT},
    {"inter.broker.listener.name", 0, WHY_REPL},
    {"inter.broker.protocol.version", 0, WHY_REPL},
    {"security.inter.broker.protocol", 0, WHY_REPL},
    {"num.replica.fetchers", 0, WHY_REPL},
    {"replica.", 1, WHY_REPL},
    {"broker.rack", 0, "rack awareness is not supported yet"},
    {"ssl.engine.factory.class", 0, WHY_JSSE},
    {"ssl.provider", 0, WHY_JSSE},
    {"ssl.keymanager.algorithm", 0, WHY_JSSE},
    {"ssl.trustmanager.algorithm", 0, WHY_JSSE},
    {"ssl.secure.random.implementation", 0, WHY_JSSE},
    {"sasl.jaas.config", 0, "Sluice keeps SCRAM credentials in its metadata store: add users with "
                            "kafka-configs --alter --add-config 'SCRAM-SHA-256=[password=...]' "
                            "or sluice user add"},
    {"sasl.kerberos.", 1, WHY_SEC},
    {"sasl.login.", 1, WHY_SEC},
    {"sasl.oauthbearer.", 1, WHY_SEC},
    {"sasl.mechanism.", 1, WHY_SEC},
    {"sasl.server.callback.handler.class", 0, WHY_SEC},
    {"sasl.client.callback.handler.class", 0, WHY_SEC},
    {"security.protocol", 0, WHY_SEC},
    {"authorizer.class.name", 0, WHY_ACL},
    {"log.flush.", 1, WHY_FLUSH},
    {"log.cleaner.", 1, WHY_CLEANER},
    {"metric.reporters", 0, WHY_METRICS},
    {"metrics.", 1, WHY_METRICS},
    {"kafka.metrics.", 1, WHY_METRICS},
    {"confluent.", 1, "Confluent Server settings are not supported"},
};
const int sl_config__n_refused = (int)(sizeof sl_config__refused / sizeof sl_config__refused[0]);

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

int sl_config__find(const char *name)
{
    for (int i = 0; i < sl_config__n_rows; i++)
        if (strcmp(sl_config__rows[i].name, name) == 0)
            return i;
    return -1;
}

static void *fieldp(struct sl_config *c, const struct sl_config_row *r)
{
    return (char *)c + r->off;
}

static const void *cfieldp(const struct sl_config *c, const struct sl_config_row *r)
{
    return (const char *)c + r->off;
}

static bool shares_field(const struct sl_config_row *a, const struct sl_config_row *b)
{
    return a->field != SL_CFG_F_NONE && a->field == b->field && a->off == b->off;
}

/* True when a row sharing r's field with a higher rank was set. */
static bool shadowed(const struct sl_config *c, int i)
{
    const struct sl_config_row *r = &sl_config__rows[i];
    for (int j = 0; j < sl_config__n_rows; j++)
        if (j != i && shares_field(r, &sl_config__rows[j]) && sl_config__rows[j].rank > r->rank &&
            c->_keys[j].raw)
            return true;
    return false;
}

/* True when r is the highest-ranked row of its field (its value is the
 * field's value). */
static bool is_primary(int i)
{
    const struct sl_config_row *r = &sl_config__rows[i];
    if (r->field == SL_CFG_F_NONE)
        return false;
    for (int j = 0; j < sl_config__n_rows; j++)
        if (j != i && shares_field(r, &sl_config__rows[j]) && sl_config__rows[j].rank > r->rank)
            return false;
    return true;
}

int sl_config__field_is_set(const struct sl_config *c, int i)
{
    const struct sl_config_row *r = &sl_config__rows[i];
    if (c->_keys[i].raw)
        return 1;
    for (int j = 0; j < sl_config__n_rows; j++)
        if (j != i && shares_field(r, &sl_config__rows[j]) && c->_keys[j].raw)
            return 1;
    return 0;
}

char *sl_listener_format(const struct sl_listener_cfg *l, char *buf, size_t len)
{
    if (strchr(l->host, ':'))
        snprintf(buf, len, "%s://[%s]:%d", l->name, l->host, l->port);
    else
        snprintf(buf, len, "%s://%s:%d", l->name, l->host, l->port);
    return buf;
}

static void format_listeners(const struct sl_listener_cfg *l, int n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used < len; i++) {
        char one[320];
        sl_listener_format(&l[i], one, sizeof one);
        int w = snprintf(buf + used, len - used, "%s%s", i ? "," : "", one);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

const char *sl_config__format_field(const struct sl_config *c, const struct sl_config_row *r,
                                    char *buf, size_t len)
{
    const void *p = cfieldp(c, r);
    int64_t scale = r->scale ? r->scale : 1;
    int64_t v;
    switch (r->field) {
    case SL_CFG_F_NONE: return NULL;
    case SL_CFG_F_BOOL: snprintf(buf, len, "%s", *(const bool *)p ? "true" : "false"); return buf;
    case SL_CFG_F_I16: v = *(const int16_t *)p; break;
    case SL_CFG_F_I32: v = *(const int32_t *)p; break;
    case SL_CFG_F_I64: v = *(const int64_t *)p; break;
    case SL_CFG_F_STR: {
        const char *s = *(char *const *)p;
        snprintf(buf, len, "%s", s ? s : "");
        return buf;
    }
    case SL_CFG_F_LISTENERS:
        format_listeners((const struct sl_listener_cfg *)p,
                         *(const int *)((const char *)c + r->off_n), buf, len);
        return buf;
    default: return NULL;
    }
    if (v > 0 || scale == 1)
        v /= scale;
    snprintf(buf, len, "%" PRId64, v);
    return buf;
}

const char *sl_config__type_name(const struct sl_config_row *r)
{
    switch (r->ktype) {
    case SL_CONFIG_TYPE_BOOLEAN: return "boolean";
    case SL_CONFIG_TYPE_INT: return "int";
    case SL_CONFIG_TYPE_SHORT: return "short";
    case SL_CONFIG_TYPE_LONG: return "long";
    case SL_CONFIG_TYPE_LIST: return "list";
    case SL_CONFIG_TYPE_PASSWORD: return "password";
    default: return "string";
    }
}

static int64_t kind_min(enum sl_cfg_kind k)
{
    return k == SL_CFG_K_I16 ? INT16_MIN : k == SL_CFG_K_I32 ? INT32_MIN : INT64_MIN;
}

static int64_t kind_max(enum sl_cfg_kind k)
{
    return k == SL_CFG_K_I16 ? INT16_MAX : k == SL_CFG_K_I32 ? INT32_MAX : INT64_MAX;
}

static const char *kind_name(enum sl_cfg_kind k)
{
    return k == SL_CFG_K_I16 ? "SHORT" : k == SL_CFG_K_I32 ? "INT" : "LONG";
}

const char *sl_config__valid_text(const struct sl_config_row *r, char *buf, size_t len)
{
    buf[0] = '\0';
    switch (r->kind) {
    case SL_CFG_K_I16:
    case SL_CFG_K_I32:
    case SL_CFG_K_I64: {
        bool lo = r->min != kind_min(r->kind), hi = r->max != kind_max(r->kind);
        if (r->min == r->max)
            snprintf(buf, len, "%" PRId64, r->min);
        else if (lo && hi)
            snprintf(buf, len, "[%" PRId64 ",...,%" PRId64 "]", r->min, r->max);
        else if (lo)
            snprintf(buf, len, "[%" PRId64 ",...]", r->min);
        else if (hi)
            snprintf(buf, len, "[...,%" PRId64 "]", r->max);
        else
            snprintf(buf, len, "any %s", kind_name(r->kind));
        break;
    }
    case SL_CFG_K_BOOL: snprintf(buf, len, "true, false"); break;
    case SL_CFG_K_ENUM:
    case SL_CFG_K_LIST: {
        size_t used = 0;
        if (r->kind == SL_CFG_K_LIST)
            used = (size_t)snprintf(buf, len, "list of: ");
        for (const char *const *v = r->values; *v && used < len; v++) {
            int w = snprintf(buf + used, len - used, "%s%s", v == r->values ? "" : ", ", *v);
            if (w < 0)
                break;
            used += (size_t)w;
        }
        break;
    }
    case SL_CFG_K_LISTENERS: snprintf(buf, len, "NAME://host:port,..."); break;
    case SL_CFG_K_STRING:
        if (r->check == check_protomap)
            snprintf(buf, len, "NAME:PROTOCOL,...");
        else if (r->check == check_one_dir)
            snprintf(buf, len, "one directory path");
        else if (r->check == check_path)
            snprintf(buf, len, "a path");
        else
            snprintf(buf, len, "non-empty string");
        break;
    default: break;
    }
    return buf;
}

/* ------------------------------------------------------------------ */
/* Value parsing                                                       */
/* ------------------------------------------------------------------ */

/* Parses a decimal integer as Java's Long.parseLong does (optional sign,
 * digits only) within [lo, hi]. */
static bool parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (!*s)
        return false;
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (lim - d) / 10)
            return false;
        v = v * 10 + d;
    }
    int64_t r = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    if (r < lo || r > hi)
        return false;
    *out = r;
    return true;
}

/* Joins allowed values "a, b, c" for messages. */
static void join_values(const char *const *v, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const char *const *p = v; *p && used < len; p++) {
        int w = snprintf(buf + used, len - used, "%s%s", p == v ? "" : ", ", *p);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* Parses one listener entry s[0..n) into *l. Returns NULL or a reason. */
static const char *parse_listener(const char *s, size_t n, bool advertised,
                                  struct sl_listener_cfg *l, char *why, size_t whylen)
{
    memset(l, 0, sizeof *l);
    const char *sep = NULL;
    for (size_t i = 0; i + 2 < n; i++)
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
            sep = s + i;
            break;
        }
    if (!sep) {
        snprintf(why, whylen, "'%.*s' is not NAME://host:port", (int)n, s);
        return why;
    }
    size_t nn = (size_t)(sep - s);
    if (!valid_listener_name(s, nn)) {
        snprintf(why, whylen, "bad listener name '%.*s' (1-31 letters, digits, '_' or '-')",
                 (int)nn, s);
        return why;
    }
    memcpy(l->name, s, nn);
    upcase(l->name);
    const char *h = sep + 3, *end = s + n, *hend, *colon;
    if (h < end && *h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb) {
            snprintf(why, whylen, "'%.*s': missing ']' after the IPv6 address", (int)n, s);
            return why;
        }
        for (const char *p = h + 1; p < rb; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.' && *p != '%' &&
                !isalnum((unsigned char)*p) && *p != '_' && *p != '-') {
                snprintf(why, whylen, "'%.*s': bad IPv6 address", (int)n, s);
                return why;
            }
        if (rb == h + 1 || !memchr(h + 1, ':', (size_t)(rb - h - 1))) {
            snprintf(why, whylen, "'%.*s': bad IPv6 address", (int)n, s);
            return why;
        }
        colon = rb + 1;
        if (colon >= end || *colon != ':') {
            snprintf(why, whylen, "'%.*s': missing :port", (int)n, s);
            return why;
        }
        h++;
        hend = rb;
    } else {
        colon = NULL;
        for (const char *p = end; p > h; p--)
            if (p[-1] == ':') {
                colon = p - 1;
                break;
            }
        if (!colon) {
            snprintf(why, whylen, "'%.*s': missing :port", (int)n, s);
            return why;
        }
        hend = colon;
        for (const char *p = h; p < hend; p++) {
            if (*p == ':') {
                snprintf(why, whylen, "'%.*s': an IPv6 address must be in brackets ([::1]:9092)",
                         (int)n, s);
                return why;
            }
            if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_') {
                snprintf(why, whylen, "'%.*s': bad host name", (int)n, s);
                return why;
            }
        }
    }
    size_t hn = (size_t)(hend - h);
    if (hn >= sizeof l->host) {
        snprintf(why, whylen, "'%.*s': host name longer than 255 bytes", (int)(n > 300 ? 300 : n),
                 s);
        return why;
    }
    memcpy(l->host, h, hn);
    const char *ps = colon + 1;
    size_t pn = (size_t)(end - ps);
    int port = 0;
    if (pn == 0 || pn > 5) {
        snprintf(why, whylen, "'%.*s': bad port", (int)n, s);
        return why;
    }
    for (size_t i = 0; i < pn; i++) {
        if (!isdigit((unsigned char)ps[i])) {
            snprintf(why, whylen, "'%.*s': bad port", (int)n, s);
            return why;
        }
        port = port * 10 + (ps[i] - '0');
    }
    if (port > 65535 || (advertised && port == 0)) {
        snprintf(why, whylen, "'%.*s': port must be in %d..65535", (int)n, s, advertised ? 1 : 0);
        return why;
    }
    l->port = port;
    if (advertised && (strcmp(l->host, "0.0.0.0") == 0 || strcmp(l->host, "::") == 0)) {
        snprintf(why, whylen,
                 "'%.*s': the wildcard address %s cannot be advertised; name a host clients can "
                 "reach",
                 (int)n, s, l->host);
        return why;
    }
    return NULL;
}

static const char *parse_listeners(const char *v, bool advertised, struct sl_cfg_value *out,
                                   char *why, size_t whylen)
{
    const char *p = v, *item;
    size_t n;
    out->nl = 0;
    if (!*v) {
        snprintf(why, whylen, "%s", advertised ? "empty list: remove the key to advertise the "
                                                 "listeners"
                                               : "at least one listener is needed");
        return why;
    }
    while (next_item(&p, &item, &n)) {
        if (n == 0) {
            snprintf(why, whylen, "empty entry in the list");
            return why;
        }
        if (out->nl == SL_MAX_LISTENERS) {
            snprintf(why, whylen, "more than %d listeners", SL_MAX_LISTENERS);
            return why;
        }
        struct sl_listener_cfg *l = &out->l[out->nl];
        if (parse_listener(item, n, advertised, l, why, whylen))
            return why;
        for (int j = 0; j < out->nl; j++) {
            if (strcmp(out->l[j].name, l->name) == 0) {
                snprintf(why, whylen, "listener name %s appears twice", l->name);
                return why;
            }
            /* Advertised endpoints may share a port (behind a proxy);
             * bound ones may not. */
            if (!advertised && l->port != 0 && out->l[j].port == l->port) {
                snprintf(why, whylen, "port %d is used by both %s and %s", l->port,
                         out->l[j].name, l->name);
                return why;
            }
        }
        out->nl++;
    }
    return NULL;
}

static const char *parse_list(const struct sl_config_row *r, const char *v,
                              struct sl_cfg_value *out, char *why, size_t whylen)
{
    size_t cap = strlen(v) + 1, used = 0;
    char *norm = sl_xmalloc(cap);
    norm[0] = '\0';
    const char *p = v, *item;
    size_t n;
    char vals[512];
    join_values(r->values, vals, sizeof vals);
    if (!*v) {
        snprintf(why, whylen, "The list must not be empty (valid values: %s)", vals);
        goto bad;
    }
    while (next_item(&p, &item, &n)) {
        bool ok = false;
        for (const char *const *a = r->values; *a; a++)
            if (strlen(*a) == n && memcmp(*a, item, n) == 0)
                ok = true;
        if (!ok) {
            snprintf(why, whylen, "'%.*s' is not one of: %s", (int)n, item, vals);
            goto bad;
        }
        /* Reject duplicates: look for ",item," in ",norm,". */
        for (const char *q = norm; *q;) {
            const char *e = strchr(q, ',');
            size_t qn = e ? (size_t)(e - q) : strlen(q);
            if (qn == n && memcmp(q, item, n) == 0) {
                snprintf(why, whylen, "'%.*s' appears twice", (int)n, item);
                goto bad;
            }
            q = e ? e + 1 : q + qn;
        }
        used += (size_t)snprintf(norm + used, cap - used, "%s%.*s", used ? "," : "", (int)n, item);
    }
    out->s = norm;
    return NULL;
bad:
    free(norm);
    return why;
}

const char *sl_config__parse(const struct sl_config_row *r, const char *t, struct sl_cfg_value *out,
                               char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    switch (r->kind) {
    case SL_CFG_K_BOOL:
        if (strcasecmp(t, "true") == 0)
            out->b = true;
        else if (strcasecmp(t, "false") == 0)
            out->b = false;
        else {
            snprintf(why, whylen, "Expected value to be either true or false");
            return why;
        }
        return NULL;
    case SL_CFG_K_I16:
    case SL_CFG_K_I32:
    case SL_CFG_K_I64: {
        if (!parse_i64(t, kind_min(r->kind), kind_max(r->kind), &out->i)) {
            snprintf(why, whylen, "Not a number of type %s", kind_name(r->kind));
            return why;
        }
        const char *tail = r->range_why ? r->range_why : NULL;
        if (r->min == r->max && out->i != r->min) {
            snprintf(why, whylen, "Value must be %" PRId64 "%s%s", r->min, tail ? ": " : "",
                     tail ? tail : "");
            return why;
        }
        if (out->i < r->min) {
            snprintf(why, whylen, "Value must be at least %" PRId64 "%s%s", r->min,
                     tail ? ": " : "", tail ? tail : "");
            return why;
        }
        if (out->i > r->max) {
            snprintf(why, whylen, "Value must be no more than %" PRId64 "%s%s", r->max,
                     tail ? ": " : "", tail ? tail : "");
            return why;
        }
        if (r->check && r->check(t, why, whylen))
            return why;
        return NULL;
    }
    case SL_CFG_K_STRING:
        if (!*t && (r->flags & SL_CFG_EMPTY_OK)) {
            out->s = sl_xstrdup(t);
            return NULL;
        }
        if (!*t) {
            snprintf(why, whylen, "must not be empty");
            return why;
        }
        if (r->check && r->check(t, why, whylen))
            return why;
        out->s = sl_xstrdup(t);
        return NULL;
    case SL_CFG_K_ENUM:
        if (!in_list(r->values, t)) {
            char vals[512];
            join_values(r->values, vals, sizeof vals);
            snprintf(why, whylen, "String must be one of: %s", vals);
            return why;
        }
        out->s = sl_xstrdup(t);
        return NULL;
    case SL_CFG_K_LIST: return parse_list(r, t, out, why, whylen);
    case SL_CFG_K_LISTENERS:
        return parse_listeners(t, (r->flags & SL_CFG_ADVERTISED) != 0, out, why, whylen);
    default: snprintf(why, whylen, "internal error: bad row kind"); return why;
    }
}

/* Writes a parsed value into r's field. Takes out->s. */
static void store_value(struct sl_config *c, const struct sl_config_row *r, struct sl_cfg_value *v)
{
    void *p = fieldp(c, r);
    int64_t i = v->i;
    if ((r->flags & SL_CFG_NEG_UNLIMITED) && i < 0)
        i = -1;
    else if (r->scale)
        i *= r->scale; /* |i| <= INT32_MAX and scale <= 3.6e6: no overflow */
    switch (r->field) {
    case SL_CFG_F_BOOL: *(bool *)p = v->b; break;
    case SL_CFG_F_I16: *(int16_t *)p = (int16_t)i; break;
    case SL_CFG_F_I32: *(int32_t *)p = (int32_t)i; break;
    case SL_CFG_F_I64: *(int64_t *)p = i; break;
    case SL_CFG_F_STR:
        free(*(char **)p);
        *(char **)p = v->s;
        v->s = NULL;
        break;
    case SL_CFG_F_LISTENERS:
        memcpy(p, v->l, sizeof v->l);
        *(int *)((char *)c + r->off_n) = v->nl;
        break;
    default: break;
    }
}

static char *trimmed_copy(const char *s)
{
    size_t n;
    const char *t = trim_span(s, strlen(s), &n);
    return sl_xstrndup(t, n);
}

/* Levenshtein distance, capped: used only to suggest a key name. */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    int d[65];
    for (size_t j = 0; j <= lb; j++)
        d[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int prev = d[0];
        d[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cur = d[j];
            int sub = prev + (a[i - 1] != b[j - 1]);
            int del = d[j] + 1, ins = d[j - 1] + 1;
            d[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            prev = cur;
        }
    }
    return d[lb];
}

static const char *suggest(const char *key)
{
    const char *best = NULL;
    int bestd = 4;
    for (int i = 0; i < sl_config__n_rows; i++) {
        int d = edit_distance(key, sl_config__rows[i].name);
        if (d < bestd) {
            bestd = d;
            best = sl_config__rows[i].name;
        }
    }
    return best;
}

static const struct sl_config_refused *find_refused(const char *key)
{
    for (int i = 0; i < sl_config__n_refused; i++) {
        const struct sl_config_refused *f = &sl_config__refused[i];
        if (f->prefix ? strncmp(key, f->key, strlen(f->key)) == 0 : strcmp(key, f->key) == 0)
            return f;
    }
    return NULL;
}

/* Formats "config ORIGIN: KEY=VALUE: reason" into err (SENSITIVE values
 * masked, long values shortened). */
static void fail_msg(char *err, size_t errlen, const char *origin, const char *key,
                     const char *value, unsigned flags, const char *why)
{
    if (!err || !errlen)
        return;
    const char *shown = (flags & SL_CFG_SENSITIVE) ? "[hidden]" : value;
    int vlen = (int)strlen(shown);
    const char *ell = "";
    if (vlen > 200) {
        vlen = 200;
        ell = "...";
    }
    if (origin)
        snprintf(err, errlen, "config %s: %s=%.*s%s: %s", origin, key, vlen, shown, ell, why);
    else
        snprintf(err, errlen, "config: %s=%.*s%s (default): %s", key, vlen, shown, ell, why);
}

static sl_err_t set_row(struct sl_config *c, int i, const char *origin, const char *value,
                        char *err, size_t errlen)
{
    const struct sl_config_row *r = &sl_config__rows[i];
    char why[512];
    struct sl_cfg_value v;
    char *t = trimmed_copy(value);
    if (sl_config__parse(r, t, &v, why, sizeof why)) {
        fail_msg(err, errlen, origin, r->name, t, r->flags, why);
        free(t);
        return SL_ERR__INVAL;
    }
    if (r->flags & SL_CFG_IGNORED)
        SL_WARN("config", "%s: %s is accepted for compatibility and ignored: %s", origin,
                r->name, r->doc);
    /* Record first, so shadowed() of the other rows sees this one. */
    struct sl_config_key *k = &c->_keys[i];
    free(k->raw);
    free(k->origin);
    k->raw = r->kind == SL_CFG_K_LIST ? sl_xstrdup(v.s) : t;
    if (r->kind == SL_CFG_K_LIST)
        free(t);
    k->origin = sl_xstrdup(origin);
    if (r->field != SL_CFG_F_NONE && !shadowed(c, i))
        store_value(c, r, &v);
    free(v.s);
    return SL_ERR_NONE;
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

static void apply_default(struct sl_config *c, int i)
{
    const struct sl_config_row *r = &sl_config__rows[i];
    if (!r->def || r->field == SL_CFG_F_NONE)
        return;
    struct sl_cfg_value v;
    char why[256];
    /* Defaults are constants checked by the unit tests; a bad one is a bug. */
    if (sl_config__parse(r, r->def, &v, why, sizeof why)) {
        SL_ERROR("config", "bad built-in default %s=%s: %s", r->name, r->def, why);
        sl_assert_fail("bad built-in default", __FILE__, __LINE__);
    }
    store_value(c, r, &v);
    free(v.s);
}

static size_t field_size(enum sl_cfg_field f)
{
    switch (f) {
    case SL_CFG_F_BOOL: return sizeof(bool);
    case SL_CFG_F_I16: return sizeof(int16_t);
    case SL_CFG_F_I32: return sizeof(int32_t);
    case SL_CFG_F_I64: return sizeof(int64_t);
    case SL_CFG_F_STR: return sizeof(char *);
    case SL_CFG_F_LISTENERS: return sizeof(struct sl_listener_cfg) * SL_MAX_LISTENERS;
    default: return 0;
    }
}

static sl_err_t finish(struct sl_config *c, char *err, size_t errlen);

void sl_config_defaults(struct sl_config *c)
{
    memset(c, 0, sizeof *c);
    c->_keys = sl_xcalloc((size_t)sl_config__n_rows, sizeof *c->_keys);
    /* Lowest rank first, so that the primary row's default wins. */
    for (int rank = 0; rank <= 3; rank++)
        for (int i = 0; i < sl_config__n_rows; i++) {
            const struct sl_config_row *r = &sl_config__rows[i];
            /* A row whose field does not match its declared width would
             * corrupt the struct: refuse to run. */
            SL_ASSERT(r->field == SL_CFG_F_NONE || r->fsize == field_size(r->field));
            if (r->rank == rank)
                apply_default(c, i);
        }
    char err[256];
    sl_err_t rc = finish(c, err, sizeof err);
    if (rc != SL_ERR_NONE) {
        SL_ERROR("config", "built-in defaults do not validate: %s", err);
        sl_assert_fail("built-in defaults do not validate", __FILE__, __LINE__);
    }
}

void sl_config_free(struct sl_config *c)
{
    for (int i = 0; i < sl_config__n_rows; i++) {
        const struct sl_config_row *r = &sl_config__rows[i];
        if (r->field == SL_CFG_F_STR)
            sl_free((char **)fieldp(c, r));
        if (c->_keys) {
            sl_free(&c->_keys[i].raw);
            sl_free(&c->_keys[i].origin);
        }
    }
    sl_free(&c->_keys);
    for (int j = 0; j < c->n_overrides; j++) {
        free(c->overrides[j].value);
        free(c->overrides[j].origin);
    }
    sl_free(&c->overrides);
    c->n_overrides = 0;
}

#define LISTENER_PREFIX "listener.name."

/* listener.name.<listener>.<key>=value: checks the value against key's row
 * and records it. Returns SL_ERR_NONE, or SL_ERR__INVAL with err. */
static sl_err_t set_override(struct sl_config *c, const char *origin, const char *key,
                             const char *value, char *err, size_t errlen)
{
    const char *name = key + strlen(LISTENER_PREFIX), *dot = strchr(name, '.');
    char why[512];
    if (!dot || !valid_listener_name(name, (size_t)(dot - name))) {
        fail_msg(err, errlen, origin, key, value, SL_CFG_SENSITIVE,
                 "expected listener.name.<listener>.<key> with a listener name of 1-31 "
                 "letters, digits, '_' or '-'");
        return SL_ERR__INVAL;
    }
    const char *sub = dot + 1;
    int i = sl_config__find(sub);
    if (i < 0 || !(sl_config__rows[i].flags & SL_CFG_PER_LISTENER)) {
        const struct sl_config_refused *f = i < 0 ? find_refused(sub) : NULL;
        if (f)
            snprintf(why, sizeof why, "not supported: %s", f->why);
        else
            snprintf(why, sizeof why, "%s cannot be set per listener%s", sub,
                     i < 0 ? " (unknown key)" : "");
        fail_msg(err, errlen, origin, key, value, SL_CFG_SENSITIVE, why);
        return SL_ERR__INVAL;
    }
    const struct sl_config_row *r = &sl_config__rows[i];
    struct sl_cfg_value v;
    char *t = trimmed_copy(value);
    if (sl_config__parse(r, t, &v, why, sizeof why)) {
        fail_msg(err, errlen, origin, key, t, r->flags, why);
        free(t);
        return SL_ERR__INVAL;
    }
    free(v.s);
    char lname[32];
    snprintf(lname, sizeof lname, "%.*s", (int)(dot - name), name);
    upcase(lname);
    struct sl_listener_override *o = NULL;
    for (int j = 0; j < c->n_overrides; j++)
        if (c->overrides[j].row == i && strcmp(c->overrides[j].listener, lname) == 0)
            o = &c->overrides[j];
    if (!o) {
        c->overrides = sl_xrealloc(c->overrides, (size_t)(c->n_overrides + 1) * sizeof *o);
        o = &c->overrides[c->n_overrides++];
        memset(o, 0, sizeof *o);
        snprintf(o->listener, sizeof o->listener, "%s", lname);
        o->row = i;
    }
    free(o->value);
    free(o->origin);
    o->value = t;
    o->origin = sl_xstrdup(origin);
    return SL_ERR_NONE;
}

const char *sl_config_listener_get(const struct sl_config *c, const char *listener,
                                   const char *key, char *buf, size_t len)
{
    int i = sl_config__find(key);
    if (i < 0)
        return NULL;
    for (int j = c->n_overrides - 1; j >= 0; j--)
        if (c->overrides[j].row == i && strcasecmp(c->overrides[j].listener, listener) == 0)
            return c->overrides[j].value;
    const struct sl_config_row *r = &sl_config__rows[i];
    if (r->field == SL_CFG_F_STR)
        return *(char *const *)cfieldp(c, r);
    return sl_config__format_field(c, r, buf, len);
}

sl_err_t sl_config_set_from(struct sl_config *c, const char *origin, const char *key,
                            const char *value, char *err, size_t errlen)
{
    int i = sl_config__find(key);
    if (i >= 0)
        return set_row(c, i, origin, value, err, errlen);
    if (strncmp(key, LISTENER_PREFIX, strlen(LISTENER_PREFIX)) == 0)
        return set_override(c, origin, key, value, err, errlen);
    const struct sl_config_refused *f = find_refused(key);
    char why[512];
    if (f) {
        snprintf(why, sizeof why, "not supported: %s", f->why);
    } else {
        const char *s = suggest(key);
        if (s)
            snprintf(why, sizeof why, "unknown configuration key (did you mean %s?)", s);
        else
            snprintf(why, sizeof why, "unknown configuration key");
    }
    /* An unknown key may be a mistyped secret: never echo its value. */
    fail_msg(err, errlen, origin, key, value, SL_CFG_SENSITIVE, why);
    return SL_ERR__INVAL;
}

sl_err_t sl_config_set(struct sl_config *c, const char *key, const char *value, char *err,
                       size_t errlen)
{
    return sl_config_set_from(c, "--override", key, value, err, errlen);
}

/* State of one load (file or buffer). */
struct load_ctx {
    struct sl_config *c;
    const char *name;
};

static sl_err_t load_cb(void *arg, const char *key, const char *value, int line, char *err,
                        size_t errlen)
{
    struct load_ctx *lc = arg;
    char origin[PATH_MAX + 32];
    snprintf(origin, sizeof origin, "%s:%d", lc->name, line);
    int i = sl_config__find(key);
    if (i >= 0 && lc->c->_keys[i].origin) {
        const char *prev = lc->c->_keys[i].origin;
        size_t nl = strlen(lc->name);
        if (strncmp(prev, lc->name, nl) == 0 && prev[nl] == ':')
            SL_WARN("config", "%s: %s is set again; this line overrides %s", origin, key, prev);
    }
    return sl_config_set_from(lc->c, origin, key, value, err, errlen);
}

sl_err_t sl_config_load_buffer(struct sl_config *c, const char *name, const char *buf,
                               size_t len, char *err, size_t errlen)
{
    struct load_ctx lc = {c, name};
    char prefix[PATH_MAX + 16];
    snprintf(prefix, sizeof prefix, "config %s", name);
    return sl_properties_parse(prefix, buf, len, load_cb, &lc, err, errlen);
}

sl_err_t sl_config_load_file(struct sl_config *c, const char *path, char *err, size_t errlen)
{
    sl_err_t rc = SL_ERR_NONE;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "config %s: cannot open: %s", path, strerror(errno));
        return SL_ERR__IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "config %s: cannot stat: %s", path, strerror(errno));
        rc = SL_ERR__IO;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "config %s: not a regular file", path);
        rc = SL_ERR__IO;
        goto out;
    }
    if (st.st_size > MAX_CONFIG_FILE) {
        snprintf(err, errlen, "config %s: larger than %d bytes", path, MAX_CONFIG_FILE);
        rc = SL_ERR__INVAL;
        goto out;
    }
    size_t size = (size_t)st.st_size, got = 0;
    buf = sl_xmalloc(size + 1);
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "config %s: cannot read: %s", path, strerror(errno));
            rc = SL_ERR__IO;
            goto out;
        }
        if (n == 0)
            break; /* shrank while reading: parse what is there */
        got += (size_t)n;
    }
    rc = sl_config_load_buffer(c, path, buf, got, err, errlen);
out:
    free(buf);
    close(fd);
    return rc;
}

/* Fails with the location of key for a cross-key check. */
static sl_err_t fail_key(const struct sl_config *c, const char *key, char *err, size_t errlen,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static sl_err_t fail_key(const struct sl_config *c, const char *key, char *err, size_t errlen,
                         const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    int i = sl_config__find(key);
    SL_ASSERT(i >= 0);
    const struct sl_config_key *k = &c->_keys[i];
    char val[2048];
    const char *v = k->raw;
    if (!v)
        v = sl_config__format_field(c, &sl_config__rows[i], val, sizeof val);
    fail_msg(err, errlen, k->origin, key, v ? v : "", sl_config__rows[i].flags, why);
    return SL_ERR__INVAL;
}

static void host_name(char *buf, size_t len)
{
    char h[256] = "";
    if (gethostname(h, sizeof h - 1) != 0 || !h[0])
        snprintf(h, sizeof h, "127.0.0.1");
    h[sizeof h - 1] = '\0';
    snprintf(buf, len, "%s", h);
}

static bool wildcard_host(const char *h)
{
    return !h[0] || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0;
}

/* A path key left unset defaults to <data_dir><suffix>. */
static void derive_path(struct sl_config *c, const char *key, char **field, const char *suffix)
{
    if (sl_config__field_is_set(c, sl_config__find(key)))
        return;
    size_t n = strlen(c->data_dir) + strlen(suffix) + 1;
    char *d = sl_xmalloc(n);
    snprintf(d, n, "%s%s", c->data_dir, suffix);
    free(*field);
    *field = d;
}

/* Cross-key checks and derived values (see sl_config_validate). */
static sl_err_t finish(struct sl_config *c, char *err, size_t errlen)
{
    int inode = sl_config__find("node.id"), ibroker = sl_config__find("broker.id");
    if (c->_keys[inode].raw && c->_keys[ibroker].raw) {
        int64_t a = 0, b = 0;
        parse_i64(c->_keys[inode].raw, INT32_MIN, INT32_MAX, &a);
        parse_i64(c->_keys[ibroker].raw, INT32_MIN, INT32_MAX, &b);
        if (a != b)
            return fail_key(c, "broker.id", err, errlen,
                            "broker.id and node.id are aliases and must be equal (node.id=%" PRId64
                            " at %s)",
                            a, c->_keys[inode].origin);
    }

    derive_path(c, "log.dirs", &c->log_dirs, "/logs");
    derive_path(c, "sluice.audit.dir", &c->audit_dir, "/audit");
    derive_path(c, "sluice.audit.key.file", &c->audit_key_file, "/keys/audit.key");

    for (int i = 0; i < c->n_listeners; i++) {
        struct sl_listener_cfg *l = &c->listeners[i];
        if (!map_lookup(c->listener_security_protocol_map, l->name, l->protocol,
                        sizeof l->protocol))
            return fail_key(c, "listeners", err, errlen,
                            "listener name %s has no security protocol in "
                            "listener.security.protocol.map",
                            l->name);
        if (!in_list(supported_protocols, l->protocol))
            return fail_key(c, "listeners", err, errlen,
                            "security protocol %s (listener %s) is not supported",
                            l->protocol, l->name);
    }

    for (int j = 0; j < c->n_overrides; j++) {
        const struct sl_listener_override *o = &c->overrides[j];
        int k = 0;
        while (k < c->n_listeners && strcasecmp(c->listeners[k].name, o->listener) != 0)
            k++;
        if (k == c->n_listeners) {
            char key[320];
            snprintf(key, sizeof key, LISTENER_PREFIX "%s.%s", o->listener,
                     sl_config__rows[o->row].name);
            fail_msg(err, errlen, o->origin, key, o->value, sl_config__rows[o->row].flags,
                     "no listener of that name in listeners");
            return SL_ERR__INVAL;
        }
    }

    for (int i = 0; i < c->n_listeners; i++) {
        const struct sl_listener_cfg *l = &c->listeners[i];
        if (strcmp(l->protocol, "SASL_PLAINTEXT") != 0 || c->sasl_plain_allow_cleartext)
            continue;
        char buf[64];
        const char *mechs = sl_config_listener_get(c, l->name, "sasl.enabled.mechanisms", buf,
                                                   sizeof buf);
        const char *p = mechs, *item;
        size_t n;
        while (next_item(&p, &item, &n))
            if (n == 5 && strncmp(item, "PLAIN", 5) == 0)
                return fail_key(c, "sasl.enabled.mechanisms", err, errlen,
                                "PLAIN on listener %s (SASL_PLAINTEXT) would send passwords in "
                                "clear: use SASL_SSL, or SCRAM, or set "
                                "sluice.sasl.plain.allow.cleartext=true",
                                l->name);
    }

    int iadv = sl_config__find("advertised.listeners");
    if (!c->_keys[iadv].raw) {
        memcpy(c->advertised, c->listeners, sizeof c->advertised);
        c->n_advertised = c->n_listeners;
        for (int i = 0; i < c->n_advertised; i++)
            if (wildcard_host(c->advertised[i].host))
                host_name(c->advertised[i].host, sizeof c->advertised[i].host);
    } else {
        for (int i = 0; i < c->n_advertised; i++) {
            struct sl_listener_cfg *a = &c->advertised[i];
            int j = 0;
            while (j < c->n_listeners && strcmp(c->listeners[j].name, a->name) != 0)
                j++;
            if (j == c->n_listeners)
                return fail_key(c, "advertised.listeners", err, errlen,
                                "listener name %s is not one of the listeners", a->name);
            snprintf(a->protocol, sizeof a->protocol, "%s", c->listeners[j].protocol);
            if (!a->host[0])
                host_name(a->host, sizeof a->host);
        }
    }
    return SL_ERR_NONE;
}

sl_err_t sl_config_validate(struct sl_config *c, char *err, size_t errlen)
{
    sl_err_t rc = finish(c, err, errlen);
    if (rc != SL_ERR_NONE)
        return rc;
    for (int i = 0; i < sl_config__n_rows; i++)
        if (c->_keys[i].raw && shadowed(c, i))
            SL_INFO("config", "%s: %s=%s has no effect: a more specific key of the same setting "
                    "is set",
                    c->_keys[i].origin, sl_config__rows[i].name, c->_keys[i].raw);
    return SL_ERR_NONE;
}

/* The value DescribeConfigs and sl_config_get report for row i: the
 * effective field for a primary row, else the value as set, else the
 * default. NULL when there is none. */
static const char *row_value(const struct sl_config *c, int i, char *buf, size_t len)
{
    const struct sl_config_row *r = &sl_config__rows[i];
    if (is_primary(i))
        return sl_config__format_field(c, r, buf, len);
    if (c->_keys[i].raw)
        return c->_keys[i].raw;
    return r->def;
}

static int row_source(const struct sl_config *c, int i)
{
    bool set = is_primary(i) ? sl_config__field_is_set(c, i) : c->_keys[i].raw != NULL;
    return set ? SL_CONFIG_SOURCE_STATIC_BROKER : SL_CONFIG_SOURCE_DEFAULT;
}

sl_err_t sl_config_get(const struct sl_config *c, const char *key, char *buf, size_t len)
{
    int i = sl_config__find(key);
    if (i < 0)
        return SL_ERR__NOENT;
    char tmp[4096];
    const char *v = row_value(c, i, tmp, sizeof tmp);
    if (!v)
        return SL_ERR__NOENT;
    snprintf(buf, len, "%s", v);
    return SL_ERR_NONE;
}

const char *sl_config_origin(const struct sl_config *c, const char *key)
{
    int i = sl_config__find(key);
    return i < 0 ? NULL : c->_keys[i].origin;
}

enum sl_loglevel sl_config_loglevel(const struct sl_config *c)
{
    if (!c->log_level)
        return SL_LOG_INFO;
    if (strcmp(c->log_level, "debug") == 0)
        return SL_LOG_DEBUG;
    if (strcmp(c->log_level, "warn") == 0)
        return SL_LOG_WARN;
    if (strcmp(c->log_level, "error") == 0)
        return SL_LOG_ERROR;
    return SL_LOG_INFO;
}

void sl_config_describe(const struct sl_config *c, sl_topic_config_cb cb, void *arg)
{
    char buf[4096];
    for (int i = 0; i < sl_config__n_rows; i++) {
        const struct sl_config_row *r = &sl_config__rows[i];
        bool sens = (r->flags & SL_CFG_SENSITIVE) != 0;
        const char *v = sens ? NULL : row_value(c, i, buf, sizeof buf);
        cb(arg, r->name, v, row_source(c, i), sens, true, r->ktype, r->doc);
    }
}

sl_err_t sl_config_synonyms(const struct sl_config *c, const char *key, sl_config_synonym_cb cb,
                            void *arg)
{
    int i = sl_config__find(key);
    if (i < 0)
        return SL_ERR__NOENT;
    const struct sl_config_row *r = &sl_config__rows[i];
    bool sens = (r->flags & SL_CFG_SENSITIVE) != 0;
    /* Rows of the same field, strongest first, down from key's rank. */
    for (int rank = r->rank; rank >= 0; rank--)
        for (int j = 0; j < sl_config__n_rows; j++) {
            const struct sl_config_row *s = &sl_config__rows[j];
            if (s->rank != rank || (j != i && !shares_field(r, s)))
                continue;
            if (c->_keys[j].raw)
                cb(arg, s->name, sens ? NULL : c->_keys[j].raw, SL_CONFIG_SOURCE_STATIC_BROKER);
            else if (s->def)
                cb(arg, s->name, sens ? NULL : s->def, SL_CONFIG_SOURCE_DEFAULT);
        }
    return SL_ERR_NONE;
}

void sl_config_log(const struct sl_config *c)
{
    char buf[4096];
    SL_INFO("config", "effective configuration:");
    for (int i = 0; i < sl_config__n_rows; i++) {
        const struct sl_config_row *r = &sl_config__rows[i];
        const char *v = row_value(c, i, buf, sizeof buf);
        if (!v)
            continue;
        if (r->flags & SL_CFG_SENSITIVE)
            v = "[hidden]";
        const char *o = c->_keys[i].origin;
        SL_INFO("config", "  %s = %s%s%s%s", r->name, v, o ? " (" : "", o ? o : "", o ? ")" : "");
    }
    for (int j = 0; j < c->n_overrides; j++) {
        const struct sl_listener_override *ov = &c->overrides[j];
        const struct sl_config_row *r = &sl_config__rows[ov->row];
        SL_INFO("config", "  listener.name.%s.%s = %s (%s)", ov->listener, r->name,
                (r->flags & SL_CFG_SENSITIVE) ? "[hidden]" : ov->value, ov->origin);
    }
}
