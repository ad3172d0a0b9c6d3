/* SPDX-License-Identifier: Apache-2.0
 *
 * The first start: generated TLS material, the admin user and its client
 * configurations, the banner (see first_start.h).
 */
#include "server/first_start.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/logging.h"
#include "meta/meta.h"
#include "security/authn/scram.h"
#include "server/broker.h"
#include "storage/fileops.h"
#include "tls/pki_gen.h"

#define PASSWORD_LEN 32
#define ORIGIN "first start"

static bool is_tls(const char *protocol)
{
    return strcmp(protocol, "SSL") == 0 || strcmp(protocol, "SASL_SSL") == 0;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A secret file others may read stops the start, as the keyring does. */
static int check_private(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
        snprintf(err, errlen, "%s: %s (mode %04o): it holds a private key or a password; make it "
                              "mode 0600 (chmod 600 %s)",
                 path, S_ISREG(st.st_mode) ? "readable by others" : "not a regular file",
                 (unsigned)(st.st_mode & 07777), path);
        return -1;
    }
    return 0;
}

/* The data directory as an absolute path (it exists by now). */
static void abs_data_dir(const struct sl_config *cfg, char *buf, size_t len)
{
    char r[PATH_MAX];
    if (realpath(cfg->data_dir, r))
        snprintf(buf, len, "%s", r);
    else
        snprintf(buf, len, "%s", cfg->data_dir);
}

/* The names a client may use for this broker: loopback, the host name,
 * and the hosts of the listeners and advertised listeners. */
static int server_names(const struct sl_config *cfg, char names[][256], int max)
{
    int n = 0;
    snprintf(names[n++], 256, "localhost");
    snprintf(names[n++], 256, "127.0.0.1");
    snprintf(names[n++], 256, "::1");
    char h[256] = "";
    if (gethostname(h, sizeof h - 1) == 0 && h[0])
        snprintf(names[n++], 256, "%s", h);
    for (int i = 0; i < cfg->n_listeners && n < max; i++)
        if (cfg->listeners[i].host[0] && strcmp(cfg->listeners[i].host, "0.0.0.0") != 0 &&
            strcmp(cfg->listeners[i].host, "::") != 0)
            snprintf(names[n++], 256, "%s", cfg->listeners[i].host);
    for (int i = 0; i < cfg->n_advertised && n < max; i++)
        snprintf(names[n++], 256, "%s", cfg->advertised[i].host);
    return n;
}

int sl_first_start_tls(struct sl_broker *b, char *err, size_t errlen)
{
    struct sl_config *cfg = b->cfg;
    int need = 0;
    for (int i = 0; i < cfg->n_listeners; i++) {
        const struct sl_listener_cfg *l = &cfg->listeners[i];
        char buf[8];
        if (is_tls(l->protocol) &&
            !sl_config_listener_get(cfg, l->name, "ssl.keystore.location", buf, sizeof buf) &&
            !sl_config_listener_get(cfg, l->name, "ssl.keystore.key", buf, sizeof buf))
            need++;
    }
    if (!need)
        return 0;
    char data[PATH_MAX], dir[PATH_MAX + 16], ca_key[PATH_MAX + 32], ca_crt[PATH_MAX + 32],
        store[PATH_MAX + 32];
    abs_data_dir(cfg, data, sizeof data);
    snprintf(dir, sizeof dir, "%s/%s", data, SL_FIRST_START_TLS_DIR);
    snprintf(ca_key, sizeof ca_key, "%s/%s", dir, SL_PKI_CA_KEY);
    snprintf(ca_crt, sizeof ca_crt, "%s/%s", dir, SL_PKI_CA_CERT);
    snprintf(store, sizeof store, "%s/%s", dir, SL_PKI_KEYSTORE);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    if (check_private(ca_key, err, errlen) < 0 || check_private(store, err, errlen) < 0)
        return -1;
    if (!exists(store)) {
        int64_t t0 = sl_mono_us();
        bool new_ca = false;
        if (!exists(ca_key) || !exists(ca_crt)) {
            char cn[96];
            snprintf(cn, sizeof cn, "Sluice CA %s", b->cluster_id);
            if (sl_pki_make_ca(dir, cn, err, errlen) < 0)
                return -1;
            new_ca = true;
        }
        char names[SL_PKI_MAX_SANS][256];
        const char *sans[SL_PKI_MAX_SANS];
        int n = server_names(cfg, names, SL_PKI_MAX_SANS);
        for (int i = 0; i < n; i++)
            sans[i] = names[i];
        if (sl_pki_make_server(dir, n > 3 ? names[3] : "localhost", sans, n, err,
                               errlen) < 0)
            return -1;
        double ms = (double)(sl_mono_us() - t0) / 1000.0;
        SL_INFO("first-start", "generated %sa broker certificate in %.1f ms (ECDSA P-256): "
                               "clients trust %s",
                new_ca ? "a CA and " : "", ms, ca_crt);
    }
    for (int i = 0; i < cfg->n_listeners; i++) {
        const struct sl_listener_cfg *l = &cfg->listeners[i];
        char buf[8], key[128];
        if (!is_tls(l->protocol) ||
            sl_config_listener_get(cfg, l->name, "ssl.keystore.location", buf, sizeof buf) ||
            sl_config_listener_get(cfg, l->name, "ssl.keystore.key", buf, sizeof buf))
            continue;
        snprintf(key, sizeof key, "listener.name.%s.ssl.keystore.type", l->name);
        if (sl_config_set_from(cfg, ORIGIN, key, "PEM", err, errlen) != SL_ERR_NONE)
            return -1;
        snprintf(key, sizeof key, "listener.name.%s.ssl.keystore.location", l->name);
        if (sl_config_set_from(cfg, ORIGIN, key, store, err, errlen) != SL_ERR_NONE)
            return -1;
        SL_INFO("first-start", "listener %s: no key store configured, using the generated %s",
                l->name, store);
    }
    return 0;
}

/* ---- the admin user ---- */

/* The advertised listener the admin's client files name: the first
 * SASL_SSL one offering SCRAM-SHA-512, else the first SASL_PLAINTEXT one;
 * -1 when there is none. */
static int admin_listener(const struct sl_config *cfg)
{
    int best = -1;
    for (int i = 0; i < cfg->n_advertised; i++) {
        const struct sl_listener_cfg *a = &cfg->advertised[i];
        if (strncmp(a->protocol, "SASL_", 5) != 0)
            continue;
        char buf[128];
        const char *m =
            sl_config_listener_get(cfg, a->name, "sasl.enabled.mechanisms", buf, sizeof buf);
        if (!m || !strstr(m, "SCRAM-SHA-512"))
            continue;
        if (strcmp(a->protocol, "SASL_SSL") == 0)
            return i;
        if (best < 0)
            best = i;
    }
    return best;
}

static void bootstrap_of(const struct sl_listener_cfg *a, char *buf, size_t len)
{
    bool v6 = strchr(a->host, ':') != NULL;
    snprintf(buf, len, "%s%s%s:%d", v6 ? "[" : "", a->host, v6 ? "]" : "", a->port);
}

/* A value for a Java .properties file: backslashes doubled. */
static void prop_escape(const char *s, char *buf, size_t len)
{
    size_t j = 0;
    for (; *s && j + 2 < len; s++) {
        if (*s == '\\')
            buf[j++] = '\\';
        buf[j++] = *s;
    }
    buf[j] = '\0';
}

/* PASSWORD_LEN letters and digits from OpenSSL's CSPRNG (about 190 bits). */
static int make_password(char *pw)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    int n = 0;
    while (n < PASSWORD_LEN) {
        unsigned char r[64];
        if (RAND_bytes(r, sizeof r) != 1)
            return -1;
        for (size_t i = 0; i < sizeof r && n < PASSWORD_LEN; i++)
            if (r[i] < 248) /* 248 = 4 * 62: no bias */
                pw[n++] = abc[r[i] % 62];
        OPENSSL_cleanse(r, sizeof r);
    }
    pw[n] = '\0';
    return 0;
}

static int write_secret(const char *path, const char *text, char *err, size_t errlen)
{
    int e = sl_file_replace(&sl_fileops_posix, path, text, strlen(text));
    if (e < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(-e));
        return -1;
    }
    return 0;
}

/* Writes both client files for the advertised listener a. */
static int write_client_files(const char *data, const struct sl_listener_cfg *a, const char *pw,
                              char *err, size_t errlen)
{
    char boot[300], ca[PATH_MAX + 32], ca_esc[2 * PATH_MAX + 64], path[PATH_MAX + 64];
    bootstrap_of(a, boot, sizeof boot);
    bool tls = strcmp(a->protocol, "SASL_SSL") == 0;
    snprintf(ca, sizeof ca, "%s/%s/%s", data, SL_FIRST_START_TLS_DIR, SL_PKI_CA_CERT);
    bool have_ca = tls && exists(ca);
    prop_escape(ca, ca_esc, sizeof ca_esc);
    size_t cap = 32768;
    char *text = malloc(cap);
    int rc = -1;
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(text, cap,
             "# Written by sluiced at the first start of %s: the super user admin.\n"
             "# Secret (mode 0600). For Java clients and Kafka's tools, e.g.\n"
             "#   kafka-console-producer.sh --bootstrap-server %s --producer.config THIS_FILE "
             "--topic demo\n"
             "bootstrap.servers=%s\n"
             "security.protocol=%s\n"
             "sasl.mechanism=SCRAM-SHA-512\n"
             "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
             "username=\"" SL_ADMIN_USER "\" password=\"%s\";\n"
             "%s%s%s",
             data, boot, boot, a->protocol, pw, have_ca ? "ssl.truststore.type=PEM\n" : "",
             have_ca ? "ssl.truststore.location=" : "", have_ca ? ca_esc : "");
    if (have_ca)
        strncat(text, "\n", cap - strlen(text) - 1);
    snprintf(path, sizeof path, "%s/%s", data, SL_ADMIN_CLIENT_PROPERTIES);
    if (write_secret(path, text, err, errlen) < 0)
        goto out;
    snprintf(text, cap,
             "# Written by sluiced at the first start of %s: the super user admin.\n"
             "# Secret (mode 0600). For librdkafka clients, e.g. kcat -F THIS_FILE -t demo -P\n"
             "bootstrap.servers=%s\n"
             "security.protocol=%s\n"
             "sasl.mechanisms=SCRAM-SHA-512\n"
             "sasl.username=" SL_ADMIN_USER "\n"
             "sasl.password=%s\n"
             "%s%s%s",
             data, boot, a->protocol, pw, have_ca ? "ssl.ca.location=" : "", have_ca ? ca : "",
             have_ca ? "\n" : "");
    snprintf(path, sizeof path, "%s/%s", data, SL_ADMIN_CLIENT_CONF);
    if (write_secret(path, text, err, errlen) < 0)
        goto out;
    sl_fileops_posix.fsync_dir(&sl_fileops_posix, data);
    rc = 0;
out:
    OPENSSL_cleanse(text, cap);
    free(text);
    return rc;
}

int sl_first_start_admin(struct sl_broker *b, char *err, size_t errlen)
{
    const struct sl_config *cfg = b->cfg;
    b->fs_admin = false;
    b->fs_advertised = -1;
    if (sl_config_origin(cfg, "super.users"))
        return 0; /* an explicit super.users: the operator manages users */
    struct sl_meta_user_cred *users = NULL;
    int n_users = 0;
    sl_meta_list_scram(b->meta, &users, &n_users);
    sl_meta_user_creds_free(users, n_users);
    if (n_users > 0)
        return 0;
    int li = admin_listener(cfg);
    if (li < 0) {
        SL_WARN("first-start", "no user exists and no SASL listener offers SCRAM-SHA-512: no "
                               "admin user was created (see docs/OPERATIONS.md \"First start\")");
        return 0;
    }
    int64_t t0 = sl_mono_us();
    char data[PATH_MAX];
    abs_data_dir(cfg, data, sizeof data);
    char pw[PASSWORD_LEN + 1];
    struct sl_scram_cred cred;
    int rc = -1;
    if (make_password(pw) < 0) {
        snprintf(err, errlen, "cannot draw a random password");
        goto out;
    }
    if (write_client_files(data, &cfg->advertised[li], pw, err, errlen) < 0)
        goto out;
    if (sl_scram_make_cred(SL_SCRAM_SHA512, pw, SL_SCRAM_DEFAULT_ITERATIONS, &cred) != 0) {
        snprintf(err, errlen, "cannot compute the SCRAM credential of the admin user");
        goto out;
    }
    sl_err_t e = sl_meta_put_scram(b->meta, SL_ADMIN_USER, &cred);
    if (e != SL_ERR_NONE) {
        snprintf(err, errlen, "cannot store the admin user's credential: %s", sl_err_name(e));
        goto out;
    }
    b->fs_admin = true;
    b->fs_advertised = li;
    SL_INFO("first-start", "created the super user " SL_ADMIN_USER " (SCRAM-SHA-512, random "
                           "password) and its client configurations %s/%s and %s/%s in %.1f ms",
            data, SL_ADMIN_CLIENT_PROPERTIES, data, SL_ADMIN_CLIENT_CONF,
            (double)(sl_mono_us() - t0) / 1000.0);
    rc = 0;
out:
    OPENSSL_cleanse(pw, sizeof pw);
    OPENSSL_cleanse(&cred, sizeof cred);
    return rc;
}

/* ---- the banner ---- */

/* path, single-quoted for a POSIX shell when it holds anything unusual. */
static void shell_quote(const char *s, char *buf, size_t len)
{
    bool plain = *s != '\0';
    for (const char *p = s; *p; p++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-+:,@", *p))
            plain = false;
    if (plain) {
        snprintf(buf, len, "%s", s);
        return;
    }
    size_t j = 0;
    buf[j++] = '\'';
    for (; *s && j + 6 < len; s++) {
        if (*s == '\'') {
            memcpy(buf + j, "'\\''", 4);
            j += 4;
        } else {
            buf[j++] = *s;
        }
    }
    buf[j++] = '\'';
    buf[j] = '\0';
}

/* The Kafka console tool `name`: from the Sluice repository's .cache when
 * the broker runs there (`make run`), else the bare name (on the PATH of a
 * Kafka installation). */
static bool kafka_tool(const char *name, char *buf, size_t len)
{
    char cwd[PATH_MAX], p[PATH_MAX + 128];
    if (getcwd(cwd, sizeof cwd)) {
        snprintf(p, sizeof p, "%s/.cache/kafka/bin/%s", cwd, name);
        if (access(p, X_OK) == 0) {
            shell_quote(p, buf, len);
            return true;
        }
    }
    snprintf(buf, len, "%s", name);
    return false;
}

void sl_first_start_announce(const struct sl_broker *b)
{
    if (!b->fs_admin || b->fs_advertised < 0)
        return;
    const struct sl_config *cfg = b->cfg;
    const struct sl_listener_cfg *a = &cfg->advertised[b->fs_advertised];
    char data[PATH_MAX], props[PATH_MAX + 64], conf[PATH_MAX + 64], ca[PATH_MAX + 64];
    char qprops[2 * PATH_MAX], qconf[2 * PATH_MAX], boot[300], prod[2 * PATH_MAX],
        cons[2 * PATH_MAX];
    abs_data_dir(cfg, data, sizeof data);
    snprintf(props, sizeof props, "%s/%s", data, SL_ADMIN_CLIENT_PROPERTIES);
    snprintf(conf, sizeof conf, "%s/%s", data, SL_ADMIN_CLIENT_CONF);
    snprintf(ca, sizeof ca, "%s/%s/%s", data, SL_FIRST_START_TLS_DIR, SL_PKI_CA_CERT);
    shell_quote(props, qprops, sizeof qprops);
    shell_quote(conf, qconf, sizeof qconf);
    bootstrap_of(a, boot, sizeof boot);
    bool found = kafka_tool("kafka-console-producer.sh", prod, sizeof prod);
    kafka_tool("kafka-console-consumer.sh", cons, sizeof cons);
    bool tls = strcmp(a->protocol, "SASL_SSL") == 0;
    static const char rule[] = "=============================================================="
                               "==================";
    FILE *o = stdout;
    fprintf(o, "\n%s\n", rule);
    fprintf(o, " Sluice: first start of %s. Security is on:\n", data);
    fprintf(o, "   listener %s://%s (%s, SCRAM-SHA-512), ACLs deny by default,\n", a->name, boot,
            tls ? "TLS 1.2/1.3" : "NO TLS");
    fprintf(o, "   audit log %s, encryption at rest %s.\n", cfg->audit_enable ? "on" : "OFF",
            cfg->encryption_enable ? "on" : "OFF");
    fprintf(o, "\n The super user is '" SL_ADMIN_USER "'. Its password is only in these client "
               "configurations (mode 0600):\n");
    fprintf(o, "   %s   (Java clients, Kafka's tools)\n", props);
    fprintf(o, "   %s         (librdkafka clients: kcat, confluent-kafka)\n", conf);
    if (tls && exists(ca))
        fprintf(o, " The CA clients trust (it signed the broker's certificate): %s\n", ca);
    fprintf(o, "\n Produce (type lines, then Ctrl-D) and consume with kcat:\n");
    fprintf(o, "   kcat -F %s -t demo -P\n", qconf);
    fprintf(o, "   kcat -F %s -t demo -C -e\n", qconf);
    fprintf(o, "\n The same with Kafka's console tools:\n");
    fprintf(o, "   %s --bootstrap-server %s --producer.config %s --topic demo\n", prod, boot,
            qprops);
    fprintf(o, "   %s --bootstrap-server %s --consumer.config %s --topic demo "
               "--from-beginning\n",
            cons, boot, qprops);
    if (!found)
        fprintf(o, "   (Kafka's tools: in a Sluice checkout, scripts/install-deps.sh all puts "
                   "them in .cache/kafka/bin/)\n");
    fprintf(o, "\n This is shown once. The password is never printed or logged; more users: "
               "sluice user add.\n");
    fprintf(o, "%s\n\n", rule);
    fflush(o);
}
