/* SPDX-License-Identifier: Apache-2.0
 *
 * `sluice client-config --user NAME`: enrols a client like an enrollment
 * token. As an admin (the --command-config file, by default
 * ./data/admin-client.properties), creates SCRAM user NAME online with a
 * fresh random password (32 bytes of RAND_bytes in URL-safe base64: 256
 * bits), then prints a ready client configuration in both styles, Java
 * properties and librdkafka conf, with the CA (by absolute path, or inline
 * in the Java style with --embed-ca) and the CA's SHA-256 fingerprint.
 * With --output-dir the two files are written there with mode 0600 and
 * only their paths and the fingerprint are printed. The password goes
 * nowhere else: it is not logged and is wiped from memory after use.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "cli/cli.h"
#include "core/mem.h"
#include "core/readfile.h"
#include "core/wbuf.h"
#include "protocol/gen/apis.h"
#include "security/authn/scram.h"

#define DEFAULT_ADMIN_CONFIG "./data/admin-client.properties"
#define PASSWORD_BYTES 32
#define USER_MAX 255

static const char USAGE[] =
    "usage: sluice client-config --user NAME [--bootstrap-server HOST:PORT]\n"
    "           [--command-config FILE] [--mechanism SCRAM-SHA-512|SCRAM-SHA-256]\n"
    "           [--ca FILE] [--embed-ca] [--output-dir DIR] [--replace]\n"
    "Creates SCRAM user NAME with a fresh random password (online, as the admin of\n"
    "--command-config, default " DEFAULT_ADMIN_CONFIG ") and prints a ready client\n"
    "configuration in two styles: Java properties (the Java client, the Kafka CLI\n"
    "tools) and librdkafka conf (kcat -F, confluent-kafka), with bootstrap.servers\n"
    "(default: the admin file's), SASL_SSL, the mechanism (default SCRAM-SHA-512),\n"
    "the credentials and the CA, plus the CA's SHA-256 fingerprint to check.\n"
    "  --ca FILE       the CA certificate(s), PEM (default: the admin file's\n"
    "                  ssl.truststore.location when it is PEM)\n"
    "  --embed-ca      put the CA inline in the Java style (ssl.truststore.certificates);\n"
    "                  the librdkafka style always references the file\n"
    "  --output-dir D  write D/NAME-client.properties and D/NAME-client.conf (mode\n"
    "                  0600) and print only their paths, not the password\n"
    "  --replace       give an existing user a new password (default: refuse)\n"
    "The new user has no rights until ACLs grant them (sluice acl add).\n";

struct ccargs {
    const char *user, *ca, *out_dir;
    int mech;
    bool embed, replace;
    struct sl_cli_target t;
};

/* ---- the CA ---- */

struct ca {
    char path[PATH_MAX]; /* absolute */
    char *pem;           /* the certificates, re-encoded by OpenSSL */
    char fingerprint[3 * EVP_MAX_MD_SIZE];
    int n_certs;
};

/* Reads the PEM certificates of file into ca (path made absolute). */
static int ca_load(struct ca *ca, const char *file)
{
    if (!realpath(file, ca->path))
        return sl_cli_fail("CA file %s: %s", file, strerror(errno));
    BIO *in = BIO_new_file(ca->path, "r"), *out = BIO_new(BIO_s_mem());
    int rc = SLUICE_CLI_EXIT_FAIL;
    X509 *x;
    if (!in || !out) {
        sl_cli_fail("CA file %s: cannot open", ca->path);
        goto out;
    }
    while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
        if (ca->n_certs++ == 0) {
            unsigned char md[EVP_MAX_MD_SIZE];
            unsigned int mdlen = 0;
            X509_digest(x, EVP_sha256(), md, &mdlen);
            size_t o = 0;
            for (unsigned int i = 0; i < mdlen; i++)
                o += (size_t)snprintf(ca->fingerprint + o, sizeof ca->fingerprint - o, "%s%02X",
                                      i ? ":" : "", md[i]);
        }
        PEM_write_bio_X509(out, x);
        X509_free(x);
    }
    if (ca->n_certs == 0) {
        sl_cli_fail("CA file %s holds no PEM certificate (give a PEM file with --ca)", ca->path);
        goto out;
    }
    char *p;
    long n = BIO_get_mem_data(out, &p);
    ca->pem = sl_xstrndup(p, (size_t)n);
    rc = SLUICE_CLI_EXIT_OK;
out:
    BIO_free(in);
    BIO_free(out);
    return rc;
}

/* The CA file: --ca, else the admin configuration's PEM trust store. */
static int ca_find(struct ca *ca, const struct ccargs *a, const struct sl_client_config *cfg)
{
    if (a->ca)
        return ca_load(ca, a->ca);
    const char *type = sl_client_config_ssl_get((void *)cfg, "ssl.truststore.type");
    const char *loc = sl_client_config_ssl_get((void *)cfg, "ssl.truststore.location");
    if (!loc || !loc[0])
        return sl_cli_fail("no CA: the admin configuration has no ssl.truststore.location; give "
                           "the CA certificate with --ca FILE");
    if (type && strcasecmp(type, "PEM") != 0)
        return sl_cli_fail("the admin configuration's trust store %s is %s, not PEM; give the CA "
                           "certificate in PEM with --ca FILE",
                           loc, type);
    return ca_load(ca, loc);
}

/* ---- the password ---- */

/* 32 random bytes in base64url without padding (43 characters). */
static int new_password(char out[64])
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t r[PASSWORD_BYTES + 1] = {0};
    if (RAND_bytes(r, PASSWORD_BYTES) != 1)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < PASSWORD_BYTES; i += 3) {
        uint32_t v = (uint32_t)r[i] << 16 | (uint32_t)r[i + 1] << 8 |
                     (i + 2 < PASSWORD_BYTES ? r[i + 2] : 0);
        size_t chars = i + 2 < PASSWORD_BYTES ? 4 : 3; /* 32 = 10*3 + 2 */
        for (size_t c = 0; c < chars; c++)
            out[o++] = b64[(v >> (18 - 6 * c)) & 63];
    }
    out[o] = '\0';
    OPENSSL_cleanse(r, sizeof r);
    return 0;
}

/* ---- the two styles ---- */

static void java_style(struct sl_wbuf *w, const struct ccargs *a, const char *bootstrap,
                       const struct ca *ca, const char *pw)
{
    sl_wbuf_printf(w,
                   "# Java client configuration for user %s (kafka-console-producer.sh "
                   "--producer.config, --command-config, ...)\n"
                   "# CA SHA-256 fingerprint: %s\n"
                   "bootstrap.servers=%s\n"
                   "security.protocol=SASL_SSL\n"
                   "sasl.mechanism=%s\n"
                   "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
                   "required username=\"%s\" password=\"%s\";\n"
                   "ssl.truststore.type=PEM\n",
                   a->user, ca->fingerprint, bootstrap, sl_scram_mech_name(a->mech), a->user, pw);
    if (!a->embed) {
        sl_wbuf_printf(w, "ssl.truststore.location=%s\n", ca->path);
        return;
    }
    /* One logical line: each PEM line ends with an escaped newline and a
     * line continuation (java.util.Properties). */
    sl_wbuf_printf(w, "ssl.truststore.certificates=");
    for (const char *p = ca->pem; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        const char *next = nl ? nl + 1 : p + n;
        if (n > 0)
            sl_wbuf_printf(w, "%.*s%s", (int)n, p, *next ? "\\n\\\n    " : "\n");
        else if (!*next)
            sl_wbuf_printf(w, "\n");
        p = next;
    }
}

static void librdkafka_style(struct sl_wbuf *w, const struct ccargs *a, const char *bootstrap,
                             const struct ca *ca, const char *pw)
{
    sl_wbuf_printf(w,
                   "# librdkafka client configuration for user %s (kcat -F FILE, confluent-kafka)\n"
                   "# CA SHA-256 fingerprint: %s\n"
                   "bootstrap.servers=%s\n"
                   "security.protocol=SASL_SSL\n"
                   "sasl.mechanisms=%s\n"
                   "sasl.username=%s\n"
                   "sasl.password=%s\n"
                   "ssl.ca.location=%s\n",
                   a->user, ca->fingerprint, bootstrap, sl_scram_mech_name(a->mech), a->user, pw,
                   ca->path);
}

/* Writes w to dir/name with mode 0600 (durably). */
static int write_private(const char *dir, const char *name, const struct sl_wbuf *w,
                         char *path, size_t pathlen)
{
    snprintf(path, pathlen, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return sl_cli_fail("cannot write %s: %s", path, strerror(errno));
    int rc = SLUICE_CLI_EXIT_OK;
    size_t done = 0;
    if (fchmod(fd, 0600) != 0)
        rc = sl_cli_fail("cannot make %s private (0600): %s", path, strerror(errno));
    while (rc == SLUICE_CLI_EXIT_OK && done < w->len) {
        ssize_t n = write(fd, w->data + done, w->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = sl_cli_fail("cannot write %s: %s", path, strerror(errno));
        else
            done += (size_t)n;
    }
    if (rc == SLUICE_CLI_EXIT_OK && fsync(fd) != 0)
        rc = sl_cli_fail("cannot write %s: fsync: %s", path, strerror(errno));
    close(fd);
    return rc;
}

static void wipe(struct sl_wbuf *w)
{
    if (w->data)
        OPENSSL_cleanse(w->data, w->len);
    sl_wbuf_destroy(w);
}

/* ---- the command ---- */

static bool user_name_ok(const char *u)
{
    size_t n = strlen(u);
    if (n == 0 || n > USER_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '@'))
            return false;
    }
    return true;
}

/* Fails when the user already has a credential (unless --replace). */
static int check_new(struct sl_kclient *k, const struct ccargs *a)
{
    struct DescribeUserScramCredentialsResponse d;
    int rc = sl_cli_user_describe(k, a->user, &d);
    if (rc != 0)
        return rc;
    for (int i = 0; i < d.results.n; i++)
        if (d.results.a[i].error_code == SL_ERR_NONE && d.results.a[i].credential_infos.n > 0 &&
            !a->replace)
            return sl_cli_fail("user '%s' exists already; --replace gives it a new password "
                               "(its clients must then be given the new configuration)",
                               a->user);
    return SLUICE_CLI_EXIT_OK;
}

static int run(const struct ccargs *a)
{
    struct sl_client_config cfg;
    struct sl_kclient k;
    struct ca ca = {0};
    struct sl_wbuf java, rdk;
    char pw[64] = "", err[1024];
    int rc = SLUICE_CLI_EXIT_FAIL;
    bool connected = false;
    sl_wbuf_init(&java);
    sl_wbuf_init(&rdk);
    /* Room up front, so the secrets are not left behind by a realloc. */
    sl_wbuf_reserve(&java, 64 * 1024);
    sl_wbuf_reserve(&rdk, 16 * 1024);
    java.len = rdk.len = 0;
    if (sl_cli_load_config(&a->t, &cfg) != 0)
        return SLUICE_CLI_EXIT_FAIL;
    if (ca_find(&ca, a, &cfg) != 0)
        goto out;
    if (sl_kclient_connect(&k, &cfg, err, sizeof err) != 0) {
        sl_cli_fail("%s", err);
        goto out;
    }
    connected = true;
    if (check_new(&k, a) != 0)
        goto out;
    if (new_password(pw) != 0) {
        sl_cli_fail("cannot draw a random password (RAND_bytes)");
        goto out;
    }
    if (sl_cli_user_set_scram(&k, a->user, a->mech, SL_SCRAM_DEFAULT_ITERATIONS, pw) != 0)
        goto out;
    java_style(&java, a, cfg.bootstrap, &ca, pw);
    librdkafka_style(&rdk, a, cfg.bootstrap, &ca, pw);
    if (a->out_dir) {
        char jp[PATH_MAX + 300], rp[PATH_MAX + 300], name[USER_MAX + 32];
        snprintf(name, sizeof name, "%s-client.properties", a->user);
        if (write_private(a->out_dir, name, &java, jp, sizeof jp) != 0)
            goto out;
        snprintf(name, sizeof name, "%s-client.conf", a->user);
        if (write_private(a->out_dir, name, &rdk, rp, sizeof rp) != 0)
            goto out;
        printf("created %s user '%s'\n"
               "Java client configuration:       %s\n"
               "librdkafka client configuration: %s\n"
               "CA: %s\n"
               "CA SHA-256 fingerprint: %s\n",
               sl_scram_mech_name(a->mech), a->user, jp, rp, ca.path, ca.fingerprint);
    } else {
        printf("# created %s user '%s'; CA %s\n"
               "# CA SHA-256 fingerprint: %s\n"
               "# ---- BEGIN Java client properties ----\n"
               "%.*s"
               "# ---- END Java client properties ----\n"
               "# ---- BEGIN librdkafka client conf ----\n"
               "%.*s"
               "# ---- END librdkafka client conf ----\n",
               sl_scram_mech_name(a->mech), a->user, ca.path, ca.fingerprint, (int)java.len,
               (const char *)java.data, (int)rdk.len, (const char *)rdk.data);
    }
    printf("# The user has no rights yet: grant them with 'sluice acl add', e.g.\n"
           "#   sluice acl add --allow-principal User:%s --operation WRITE --topic NAME ...\n",
           a->user);
    fflush(stdout);
    rc = SLUICE_CLI_EXIT_OK;
out:
    OPENSSL_cleanse(pw, sizeof pw);
    wipe(&java);
    wipe(&rdk);
    if (connected)
        sl_kclient_close(&k);
    sl_client_config_clear(&cfg);
    free(ca.pem);
    return rc;
}

int sl_cli_client_config(int argc, char **argv)
{
    struct ccargs a = {.mech = SL_SCRAM_SHA512};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(USAGE, stdout);
            return SLUICE_CLI_EXIT_OK;
        }
        if ((r = sl_cli_target_opt(&a.t, argc, argv, &i)) != 0) {
            if (r < 0)
                return SLUICE_CLI_EXIT_USAGE;
        } else if ((r = sl_cli_opt("--user", argc, argv, &i, &a.user)) != 0 ||
                   (r = sl_cli_opt("--ca", argc, argv, &i, &a.ca)) != 0 ||
                   (r = sl_cli_opt("--output-dir", argc, argv, &i, &a.out_dir)) != 0) {
            if (r < 0)
                return SLUICE_CLI_EXIT_USAGE;
        } else if ((r = sl_cli_opt("--mechanism", argc, argv, &i, &v)) != 0) {
            if (r < 0)
                return SLUICE_CLI_EXIT_USAGE;
            if ((a.mech = sl_scram_mech_from_name(v)) == SL_SCRAM_UNKNOWN)
                return sl_cli_usage_error("client-config",
                                          "--mechanism %s: SCRAM-SHA-256 or SCRAM-SHA-512", v);
        } else if (strcmp(argv[i], "--embed-ca") == 0) {
            a.embed = true;
        } else if (strcmp(argv[i], "--replace") == 0) {
            a.replace = true;
        } else {
            return sl_cli_usage_error("client-config", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!a.user)
        return sl_cli_usage_error("client-config", "--user NAME is required");
    if (!user_name_ok(a.user))
        return sl_cli_usage_error("client-config",
                                  "--user %s: 1 to %d letters, digits and . _ - @ (other names: "
                                  "sluice user add)",
                                  a.user, USER_MAX);
    if (a.t.data_dir || a.t.keys_file || a.t.keys_command)
        return sl_cli_usage_error("client-config", "client-config works online only");
    if (!a.t.command_config) {
        if (access(DEFAULT_ADMIN_CONFIG, R_OK) != 0)
            return sl_cli_usage_error("client-config",
                                      "no --command-config and no " DEFAULT_ADMIN_CONFIG
                                      ": give the admin's client configuration");
        a.t.command_config = DEFAULT_ADMIN_CONFIG;
    }
    if (a.out_dir) {
        struct stat st;
        if (stat(a.out_dir, &st) != 0 || !S_ISDIR(st.st_mode))
            return sl_cli_usage_error("client-config", "--output-dir %s: not a directory",
                                      a.out_dir);
    }
    return run(&a);
}
