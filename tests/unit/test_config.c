/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of src/config: defaults, the .properties syntax, every kind of
 * bad value (each error must name file:line, key, value and reason),
 * listener parsing, Kafka's aliases and their precedence, cross-key
 * validation, topic-level resolution and DescribeConfigs, and that
 * docs/CONFIG.md matches the table it is generated from.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_int.h"
#include "config/insecure.h"
#include "config/properties.h"
#include "config/topic_config.h"
#include "test_help.h"

static char tmp_path[256];

/* Writes text to a fresh temporary file; returns its path (static). */
static const char *write_tmp(const char *text)
{
    snprintf(tmp_path, sizeof tmp_path, "/tmp/sl_test_config_XXXXXX");
    int fd = mkstemp(tmp_path);
    if (fd < 0)
        abort();
    size_t n = strlen(text);
    if (write(fd, text, n) != (ssize_t)n)
        abort();
    close(fd);
    return tmp_path;
}

/* Loads text as a file into a defaulted config; returns the load result. */
static sl_err_t load_text(struct sl_config *c, const char *text, char *err, size_t errlen)
{
    sl_config_defaults(c);
    const char *p = write_tmp(text);
    sl_err_t rc = sl_config_load_file(c, p, err, errlen);
    unlink(p);
    return rc;
}

/* ---- defaults ---- */

static void test_defaults(void)
{
    struct sl_config c;
    char err[512];
    sl_config_defaults(&c);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR_NONE);
    CHECK(strcmp(c.data_dir, "./data") == 0);
    CHECK_EQ_INT(c.node_id, 1);
    CHECK_EQ_INT(c.n_listeners, 1);
    /* Secure by default (issue 10): one SASL_SSL listener on loopback,
     * SCRAM, User:admin the only super user, nothing weakened. */
    CHECK(strcmp(c.listeners[0].name, "SASL_SSL") == 0);
    CHECK(strcmp(c.listeners[0].host, "127.0.0.1") == 0);
    CHECK_EQ_INT(c.listeners[0].port, 9093);
    CHECK(strcmp(c.listeners[0].protocol, "SASL_SSL") == 0);
    CHECK_EQ_INT(c.n_advertised, 1);
    CHECK(strcmp(c.advertised[0].host, "127.0.0.1") == 0);
    CHECK_EQ_INT(c.advertised[0].port, 9093);
    CHECK(strcmp(c.sasl_enabled_mechanisms, "SCRAM-SHA-256,SCRAM-SHA-512") == 0);
    CHECK(strcmp(c.super_users, "User:admin") == 0);
    CHECK(sl_config_origin(&c, "super.users") == NULL);
    CHECK(!c.allow_everyone_if_no_acl_found);
    CHECK(!c.allow_insecure);
    CHECK(c.encryption_enable);
    CHECK_EQ_INT(c.encryption_readahead_bytes, 64 << 20);
    CHECK(c.audit_enable);
    CHECK_EQ_INT(sl_config_weaknesses(&c, NULL, NULL), 0);
    CHECK(sl_config_check_insecure(&c, err, sizeof err) == SL_ERR_NONE);
    CHECK(strcmp(c.log_dirs, "./data/logs") == 0);
    CHECK_EQ_INT(c.num_partitions, 1);
    CHECK(c.auto_create_topics_enable);
    CHECK_EQ_INT(c.default_replication_factor, 1);
    CHECK_EQ_INT(c.log_segment_bytes, 1073741824);
    CHECK_EQ_INT(c.log_roll_ms, 168LL * 3600000);
    CHECK_EQ_INT(c.log_retention_ms, 168LL * 3600000);
    CHECK_EQ_INT(c.log_retention_bytes, -1);
    CHECK_EQ_INT(c.log_retention_check_interval_ms, 300000);
    CHECK(strcmp(c.log_cleanup_policy, "delete") == 0);
    CHECK_EQ_INT(c.log_index_interval_bytes, 4096);
    CHECK_EQ_INT(c.log_index_size_max_bytes, 10485760);
    CHECK_EQ_INT(c.log_segment_delete_delay_ms, 60000);
    CHECK_EQ_INT(c.log_flush_interval_ms, 1000);
    CHECK(strcmp(c.log_message_timestamp_type, "CreateTime") == 0);
    CHECK_EQ_INT(c.log_message_timestamp_before_max_ms, INT64_MAX);
    CHECK_EQ_INT(c.log_message_timestamp_after_max_ms, 3600000);
    CHECK_EQ_INT(c.min_insync_replicas, 1);
    CHECK(strcmp(c.compression_type, "producer") == 0);
    CHECK(!c.unclean_leader_election_enable);
    CHECK_EQ_INT(c.message_max_bytes, 1048588);
    CHECK_EQ_INT(c.socket_request_max_bytes, 104857600);
    CHECK_EQ_INT(c.socket_send_buffer_bytes, 102400);
    CHECK_EQ_INT(c.socket_receive_buffer_bytes, 102400);
    CHECK_EQ_INT(c.connections_max_idle_ms, 600000);
    CHECK_EQ_INT(c.num_network_threads, 0);
    CHECK_EQ_INT(c.max_connections, 10000);
    CHECK(c.delete_topic_enable);
    CHECK_EQ_INT(c.group_initial_rebalance_delay_ms, 3000);
    CHECK_EQ_INT(c.offsets_topic_num_partitions, 50);
    CHECK(strcmp(c.log_level, "info") == 0);
    CHECK_EQ_INT(sl_config_loglevel(&c), SL_LOG_INFO);
    CHECK(c.audit_enable);
    CHECK(strcmp(c.audit_dir, "./data/audit") == 0);
    CHECK(strcmp(c.audit_key_file, "./data/keys/audit.key") == 0);
    CHECK_EQ_INT(c.audit_rotate_bytes, 104857600);
    CHECK_EQ_INT(c.audit_rotate_ms, 86400000);
    CHECK_EQ_INT(c.audit_retention_ms, 31536000000LL);
    CHECK_EQ_INT(c.audit_retention_bytes, -1);
    CHECK(strcmp(c.audit_failure_policy, "reject") == 0);
    CHECK(strcmp(c.audit_authz_level, "first") == 0);
    CHECK(c.audit_topic_enable);
    CHECK(sl_config_origin(&c, "node.id") == NULL);
    sl_config_free(&c);
    sl_config_free(&c); /* idempotent */
}

/* Every row: unique name, a description, a default that parses, a valid
 * rendering; every topic row's broker key exists. */
static void test_table_sanity(void)
{
    for (int i = 0; i < sl_config__n_rows; i++) {
        const struct sl_config_row *r = &sl_config__rows[i];
        CHECK(r->name && r->doc && r->doc[0] && r->group);
        CHECK(sl_config__find(r->name) == i);
        CHECK(r->ktype >= SL_CONFIG_TYPE_BOOLEAN && r->ktype <= SL_CONFIG_TYPE_PASSWORD);
        if (r->def) {
            struct sl_cfg_value v;
            char why[256];
            CHECK(sl_config__parse(r, r->def, &v, why, sizeof why) == NULL);
            free(v.s);
        } else {
            CHECK(r->def_doc != NULL);
        }
        /* A refused prefix must not shadow a row. */
        for (int j = 0; j < sl_config__n_refused; j++) {
            const struct sl_config_refused *f = &sl_config__refused[j];
            CHECK(f->prefix ? strncmp(r->name, f->key, strlen(f->key)) != 0
                            : strcmp(r->name, f->key) != 0);
        }
    }
    for (int i = 0; i < sl_topic_config__n_rows; i++) {
        const struct sl_topic_config_row *t = &sl_topic_config__rows[i];
        CHECK(sl_config__find(t->broker_key) >= 0);
        CHECK(t->doc && t->doc[0]);
        if (i > 0)
            CHECK(strcmp(sl_topic_config__rows[i - 1].name, t->name) < 0);
    }
    FILE *devnull = fopen("/dev/null", "w");
    CHECK(devnull);
    sl_config_print_help(devnull);
    sl_config_print_markdown(devnull);
    fclose(devnull);
}

/* ---- a file with every key ---- */

static const char every_key[] =
    "# every key Sluice knows, each away from its default\n"
    "sluice.data.dir=/var/lib/sluice\n"
    "node.id=7\n"
    "broker.id=7\n"
    "sluice.log.level=debug\n"
    "listeners=PLAINTEXT://0.0.0.0:19092,INTERNAL://[::1]:19093\n"
    "advertised.listeners=PLAINTEXT://broker1.example.com:19092,INTERNAL://[::1]:19093\n"
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT\n"
    "num.network.threads=4\n"
    "max.connections=500\n"
    "socket.request.max.bytes=2097152\n"
    "socket.send.buffer.bytes=-1\n"
    "socket.receive.buffer.bytes=65536\n"
    "connections.max.idle.ms=30000\n"
    "log.dirs=/srv/logs\n"
    "log.dir=/ignored/because/log.dirs/wins\n"
    "num.partitions=3\n"
    "default.replication.factor=1\n"
    "auto.create.topics.enable=false\n"
    "delete.topic.enable=FALSE\n"
    "log.segment.bytes=1048576\n"
    "log.roll.ms=3600000\n"
    "log.roll.hours=24\n"
    "log.retention.ms=86400000\n"
    "log.retention.minutes=10\n"
    "log.retention.hours=1\n"
    "log.retention.bytes=1073741824\n"
    "log.retention.check.interval.ms=1000\n"
    "log.cleanup.policy=compact, delete\n"
    "log.segment.delete.delay.ms=0\n"
    "log.index.interval.bytes=1024\n"
    "log.index.size.max.bytes=4096\n"
    "sluice.log.flush.interval.ms=200\n"
    "message.max.bytes=2000000\n"
    "log.message.timestamp.type=LogAppendTime\n"
    "log.message.timestamp.before.max.ms=1000\n"
    "log.message.timestamp.after.max.ms=2000\n"
    "min.insync.replicas=2\n"
    "compression.type=zstd\n"
    "unclean.leader.election.enable=true\n"
    "group.initial.rebalance.delay.ms=0\n"
    "offsets.topic.num.partitions=10\n"
    "offsets.topic.replication.factor=1\n"
    "transaction.state.log.replication.factor=1\n"
    "transaction.state.log.min.isr=1\n"
    "num.io.threads=8\n"
    "num.recovery.threads.per.data.dir=1\n"
    "ssl.keystore.type=PEM\n"
    "ssl.keystore.location=/etc/sluice/server.pem\n"
    "ssl.keystore.password=secret\n"
    "ssl.key.password=secret\n"
    "ssl.keystore.key=-----BEGIN PRIVATE KEY-----\n"
    "ssl.keystore.certificate.chain=-----BEGIN CERTIFICATE-----\n"
    "ssl.truststore.type=PEM\n"
    "ssl.truststore.location=/etc/sluice/ca.pem\n"
    "ssl.truststore.password=secret\n"
    "ssl.truststore.certificates=-----BEGIN CERTIFICATE-----\n"
    "ssl.client.auth=required\n"
    "ssl.enabled.protocols=TLSv1.3\n"
    "ssl.cipher.suites=\n"
    "ssl.principal.mapping.rules=DEFAULT\n"
    "ssl.endpoint.identification.algorithm=\n"
    "ssl.protocol=TLSv1.3\n"
    "sluice.ssl.crl.location=/etc/sluice/crl.pem\n"
    "sluice.ssl.handshake.timeout.ms=5000\n"
    "sluice.ssl.reload.check.interval.ms=1000\n"
    "sasl.enabled.mechanisms=SCRAM-SHA-512\n"
    "connections.max.reauth.ms=60000\n"
    "connection.failed.authentication.delay.ms=50\n"
    "sasl.server.max.receive.size=65536\n"
    "sluice.sasl.plain.allow.cleartext=false\n"
    "super.users=User:admin;User:ops\n"
    "allow.everyone.if.no.acl.found=false\n"
    "sluice.allow.insecure=false\n"
    "sluice.audit.enable=true\n"
    "sluice.audit.dir=/var/lib/sluice/audit\n"
    "sluice.audit.key.file=/etc/sluice/audit.key\n"
    "sluice.audit.rotate.bytes=1048576\n"
    "sluice.audit.rotate.ms=3600000\n"
    "sluice.audit.retention.ms=-1\n"
    "sluice.audit.retention.bytes=1073741824\n"
    "sluice.audit.failure.policy=log\n"
    "sluice.audit.authz.level=all\n"
    "sluice.audit.topic.enable=false\n"
    "sluice.encryption.enable=true\n"
    "sluice.encryption.readahead.bytes=8388608\n"
    "sluice.keys.file=/etc/sluice/keyring\n"
    "sluice.keys.command=vault-keys --format sluice\n";

static void test_every_key(void)
{
    struct sl_config c;
    char err[512] = "";
    sl_err_t rc = load_text(&c, every_key, err, sizeof err);
    if (rc)
        fprintf(stderr, "  %s\n", err);
    CHECK(rc == SL_ERR_NONE);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR_NONE);
    /* The file must really cover every row. */
    for (int i = 0; i < sl_config__n_rows; i++)
        CHECK(sl_config_origin(&c, sl_config__rows[i].name) != NULL);
    CHECK(strcmp(c.data_dir, "/var/lib/sluice") == 0);
    CHECK_EQ_INT(c.node_id, 7);
    CHECK_EQ_INT(sl_config_loglevel(&c), SL_LOG_DEBUG);
    CHECK(strcmp(c.audit_dir, "/var/lib/sluice/audit") == 0);
    CHECK(strcmp(c.audit_key_file, "/etc/sluice/audit.key") == 0);
    CHECK_EQ_INT(c.audit_rotate_bytes, 1048576);
    CHECK_EQ_INT(c.audit_retention_ms, -1);
    CHECK(strcmp(c.audit_failure_policy, "log") == 0);
    CHECK(strcmp(c.audit_authz_level, "all") == 0);
    CHECK(!c.audit_topic_enable);
    CHECK_EQ_INT(c.encryption_readahead_bytes, 8388608);
    CHECK_EQ_INT(c.n_listeners, 2);
    CHECK(strcmp(c.listeners[0].host, "0.0.0.0") == 0);
    CHECK(strcmp(c.listeners[1].name, "INTERNAL") == 0);
    CHECK(strcmp(c.listeners[1].host, "::1") == 0);
    CHECK(strcmp(c.listeners[1].protocol, "PLAINTEXT") == 0);
    CHECK_EQ_INT(c.n_advertised, 2);
    CHECK(strcmp(c.advertised[0].host, "broker1.example.com") == 0);
    CHECK(strcmp(c.advertised[1].protocol, "PLAINTEXT") == 0);
    CHECK_EQ_INT(c.num_network_threads, 4);
    CHECK_EQ_INT(c.max_connections, 500);
    CHECK_EQ_INT(c.socket_request_max_bytes, 2097152);
    CHECK_EQ_INT(c.socket_send_buffer_bytes, -1);
    CHECK_EQ_INT(c.socket_receive_buffer_bytes, 65536);
    CHECK_EQ_INT(c.connections_max_idle_ms, 30000);
    CHECK(strcmp(c.log_dirs, "/srv/logs") == 0);
    CHECK_EQ_INT(c.num_partitions, 3);
    CHECK(!c.auto_create_topics_enable);
    CHECK(!c.delete_topic_enable);
    CHECK_EQ_INT(c.log_segment_bytes, 1048576);
    CHECK_EQ_INT(c.log_roll_ms, 3600000);
    CHECK_EQ_INT(c.log_retention_ms, 86400000);
    CHECK_EQ_INT(c.log_retention_bytes, 1073741824);
    CHECK_EQ_INT(c.log_retention_check_interval_ms, 1000);
    CHECK(strcmp(c.log_cleanup_policy, "compact,delete") == 0);
    CHECK_EQ_INT(c.log_segment_delete_delay_ms, 0);
    CHECK_EQ_INT(c.log_index_interval_bytes, 1024);
    CHECK_EQ_INT(c.log_index_size_max_bytes, 4096);
    CHECK_EQ_INT(c.log_flush_interval_ms, 200);
    CHECK_EQ_INT(c.message_max_bytes, 2000000);
    CHECK(strcmp(c.log_message_timestamp_type, "LogAppendTime") == 0);
    CHECK_EQ_INT(c.log_message_timestamp_before_max_ms, 1000);
    CHECK_EQ_INT(c.log_message_timestamp_after_max_ms, 2000);
    CHECK_EQ_INT(c.min_insync_replicas, 2);
    CHECK(strcmp(c.compression_type, "zstd") == 0);
    CHECK(c.unclean_leader_election_enable);
    CHECK_EQ_INT(c.group_initial_rebalance_delay_ms, 0);
    CHECK_EQ_INT(c.offsets_topic_num_partitions, 10);
    char buf[256];
    CHECK(sl_config_get(&c, "log.retention.ms", buf, sizeof buf) == SL_ERR_NONE);
    CHECK(strcmp(buf, "86400000") == 0);
    CHECK(sl_config_get(&c, "log.retention.hours", buf, sizeof buf) == SL_ERR_NONE);
    CHECK(strcmp(buf, "1") == 0);
    CHECK(sl_config_get(&c, "no.such.key", buf, sizeof buf) == SL_ERR__NOENT);
    CHECK(strstr(sl_config_origin(&c, "node.id"), ":3") != NULL);
    sl_config_log(&c);
    sl_config_free(&c);
}

/* ---- bad values: each error names file:line, key, value and reason ---- */

struct bad_case {
    const char *text;  /* file content; the bad line is the last one */
    int line;          /* expected line number */
    const char *shown; /* expected "key=value" in the message */
    const char *why;   /* expected fragment of the reason */
};

static const struct bad_case bad_cases[] = {
    {"num.partitions=abc\n", 1, "num.partitions=abc", "Not a number of type INT"},
    {"sluice.encryption.readahead.bytes=1000\n", 1, "sluice.encryption.readahead.bytes=1000",
     "at least 4194304"},
    {"sluice.audit.failure.policy=ignore\n", 1, "sluice.audit.failure.policy=ignore", "reject"},
    {"sluice.audit.authz.level=some\n", 1, "sluice.audit.authz.level=some", "first"},
    {"sluice.audit.rotate.bytes=100\n", 1, "sluice.audit.rotate.bytes=100", "at least 4096"},
    {"num.partitions=2147483648\n", 1, "num.partitions=2147483648", "Not a number of type INT"},
    {"num.partitions=0\n", 1, "num.partitions=0", "at least 1"},
    {"num.partitions=1.5\n", 1, "num.partitions=1.5", "Not a number"},
    {"num.partitions=0x10\n", 1, "num.partitions=0x10", "Not a number"},
    {"log.retention.bytes=99999999999999999999\n", 1, "log.retention.bytes=99999999999999999999",
     "Not a number of type LONG"},
    {"num.network.threads=2000\n", 1, "num.network.threads=2000", "no more than 1024"},
    {"default.replication.factor=3\n", 1, "default.replication.factor=3",
     "Value must be 1: a single node"},
    {"offsets.topic.replication.factor=3\n", 1, "offsets.topic.replication.factor=3",
     "Value must be 1"},
    {"log.segment.bytes=14\n", 1, "log.segment.bytes=14", "at least 1048576"},
    {"auto.create.topics.enable=yes\n", 1, "auto.create.topics.enable=yes",
     "either true or false"},
    {"sluice.log.level=verbose\n", 1, "sluice.log.level=verbose",
     "one of: debug, info, warn, error"},
    {"compression.type=brotli\n", 1, "compression.type=brotli", "String must be one of"},
    {"log.cleanup.policy=delete,delete\n", 1, "log.cleanup.policy=delete,delete", "twice"},
    {"log.cleanup.policy=archive\n", 1, "log.cleanup.policy=archive", "'archive' is not one of"},
    {"log.dirs=/a,/b\n", 1, "log.dirs=/a,/b", "several log directories are not supported yet"},
    {"sluice.data.dir=\n", 1, "sluice.data.dir=", "must not be empty"},
    {"# comment\n\nlisteners=PLAINTEXT://:99999\n", 3, "listeners=PLAINTEXT://:99999",
     "port must be in 0..65535"},
    {"listeners=PLAINTEXT://localhost\n", 1, "listeners=PLAINTEXT://localhost", "missing :port"},
    {"listeners=PLAINTEXT://:90a2\n", 1, "listeners=PLAINTEXT://:90a2", "bad port"},
    {"listeners=localhost:9092\n", 1, "listeners=localhost:9092", "is not NAME://host:port"},
    {"listeners=PLAINTEXT://::1:9092\n", 1, "listeners=PLAINTEXT://::1:9092", "in brackets"},
    {"listeners=PLAINTEXT://[::1:9092\n", 1, "listeners=PLAINTEXT://[::1:9092", "missing ']'"},
    {"listeners=PLAINTEXT://:9092,PLAINTEXT://:9093\n", 1,
     "listeners=PLAINTEXT://:9092,PLAINTEXT://:9093", "listener name PLAINTEXT appears twice"},
    {"listeners=A://:9092,B://:9092\n", 1, "listeners=A://:9092,B://:9092",
     "port 9092 is used by both A and B"},
    {"listeners=PLAINTEXT://:9092,\n", 1, "listeners=PLAINTEXT://:9092,", "empty entry"},
    {"listeners=A://:1,B://:2,C://:3,D://:4,E://:5,F://:6,G://:7,H://:8,I://:9\n", 1,
     "listeners=A://:1", "more than 8 listeners"},
    {"listeners=PLAIN TEXT://:9092\n", 1, "listeners=PLAIN TEXT://:9092", "bad listener name"},
    {"advertised.listeners=PLAINTEXT://0.0.0.0:9092\n", 1,
     "advertised.listeners=PLAINTEXT://0.0.0.0:9092", "cannot be advertised"},
    {"advertised.listeners=PLAINTEXT://h:0\n", 1, "advertised.listeners=PLAINTEXT://h:0",
     "port must be in 1..65535"},
    {"listener.security.protocol.map=CLIENT:TLS\n", 1, "listener.security.protocol.map=CLIENT:TLS",
     "unknown security protocol 'TLS'"},
    {"listener.security.protocol.map=CLIENT\n", 1, "listener.security.protocol.map=CLIENT",
     "is not NAME:PROTOCOL"},
    /* Unknown and refused keys: the value is never echoed (it may be a
     * mistyped secret). */
    {"log.retention.hour=1\n", 1, "log.retention.hour=[hidden]",
     "unknown configuration key (did you mean log.retention.hours?)"},
    {"frobnicate=1\n", 1, "frobnicate=[hidden]", "unknown configuration key"},
    {"zookeeper.connect=localhost:2181\n", 1, "zookeeper.connect=[hidden]",
     "not supported: ZooKeeper mode is not supported yet"},
    {"sasl.enabled.mechanisms=GSSAPI\n", 1, "sasl.enabled.mechanisms=GSSAPI",
     "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"},
    {"sasl.jaas.config=x\n", 1, "sasl.jaas.config=[hidden]", "kafka-configs --alter"},
    {"sasl.kerberos.service.name=kafka\n", 1, "sasl.kerberos.service.name=[hidden]",
     "this SASL setting is not supported"},
    {"super.users=alice\n", 1, "super.users=alice", "is not a principal"},
    {"ssl.enabled.protocols=TLSv1.2,TLSv1.1\n", 1, "ssl.enabled.protocols=TLSv1.2,TLSv1.1",
     "TLSv1.1 is not allowed"},
    {"ssl.keystore.type=JKS\n", 1, "ssl.keystore.type=JKS", "JKS stores are not supported"},
    {"ssl.client.auth=sometimes\n", 1, "ssl.client.auth=sometimes", "none, requested, required"},
    {"ssl.provider=SunJSSE\n", 1, "ssl.provider=[hidden]", "Java SSL engine settings"},
    {"listener.name.ssl.ssl.key.password=hunter2\nlistener.name.ssl.ssl.client.auth=maybe\n", 2,
     "listener.name.ssl.ssl.client.auth=maybe", "none, requested, required"},
    {"listener.name.ssl.log.retention.ms=1\n", 1, "listener.name.ssl.log.retention.ms=[hidden]",
     "log.retention.ms cannot be set per listener"},
    {"listener.name.ssl.sasl.jaas.config=x\n", 1, "listener.name.ssl.sasl.jaas.config=[hidden]",
     "kafka-configs --alter"},
    {"listener.name..ssl.client.auth=none\n", 1, "listener.name..ssl.client.auth=[hidden]",
     "expected listener.name.<listener>.<key>"},
    {"process.roles=broker,controller\n", 1, "process.roles=[hidden]", "does not use KRaft"},
    {"log.flush.interval.messages=1\n", 1, "log.flush.interval.messages=[hidden]",
     "sluice.log.flush.interval.ms"},
    {"key.with.bad.escape=\\u12G4\n", 1, ":1:", "malformed \\uXXXX escape"},
    {"node.id=1\nbroker.id\\u0000=2\n", 2, ":2:", "\\u0000 (NUL) is not allowed"},
};

static void test_bad_values(void)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *bc = &bad_cases[i];
        struct sl_config c;
        char err[1024] = "";
        sl_err_t rc = load_text(&c, bc->text, err, sizeof err);
        char where[300];
        snprintf(where, sizeof where, "config %s:%d: ", tmp_path, bc->line);
        bool ok = rc == SL_ERR__INVAL && strstr(err, where) == err && strstr(err, bc->shown) &&
                  strstr(err, bc->why);
        if (!ok)
            fprintf(stderr, "  case %zu: rc=%d err=\"%s\"\n", i, rc, err);
        sl_config_free(&c);
        CHECK(ok);
    }
}

/* A file that fails on line 2 leaves line 1 applied and nothing of line 2. */
static void test_bad_value_leaves_field(void)
{
    struct sl_config c;
    char err[512];
    CHECK(load_text(&c, "num.partitions=4\nnum.partitions=-4\n", err, sizeof err) ==
          SL_ERR__INVAL);
    CHECK_EQ_INT(c.num_partitions, 4);
    sl_config_free(&c);
}

static void test_file_errors(void)
{
    struct sl_config c;
    char err[512];
    sl_config_defaults(&c);
    CHECK(sl_config_load_file(&c, "/nonexistent/sluice.properties", err, sizeof err) ==
          SL_ERR__IO);
    CHECK(strstr(err, "config /nonexistent/sluice.properties: cannot open") == err);
    CHECK(sl_config_load_file(&c, "/tmp", err, sizeof err) == SL_ERR__IO);
    CHECK(strstr(err, "not a regular file"));
    CHECK(sl_config_load_buffer(&c, "mem", "a=1\0b=2", 7, err, sizeof err) == SL_ERR__INVAL);
    CHECK(strstr(err, "config mem:1: NUL byte"));
    sl_config_free(&c);
}

static void test_override(void)
{
    struct sl_config c;
    char err[512];
    sl_config_defaults(&c);
    CHECK(sl_config_set(&c, "num.partitions", " 12 ", err, sizeof err) == SL_ERR_NONE);
    CHECK_EQ_INT(c.num_partitions, 12);
    CHECK(strcmp(sl_config_origin(&c, "num.partitions"), "--override") == 0);
    CHECK(sl_config_set(&c, "num.partitions", "x", err, sizeof err) == SL_ERR__INVAL);
    CHECK(strcmp(err, "config --override: num.partitions=x: Not a number of type INT") == 0);
    CHECK(sl_config_set_from(&c, "--data-dir", "sluice.data.dir", "/srv/sluice", err,
                             sizeof err) == SL_ERR_NONE);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR_NONE);
    CHECK(strcmp(c.log_dirs, "/srv/sluice/logs") == 0);
    sl_config_free(&c);
}

/* ---- properties syntax ---- */

struct kvs {
    int n;
    char key[16][64];
    char val[16][128];
    int line[16];
};

static sl_err_t collect(void *arg, const char *key, const char *value, int line, char *err,
                        size_t errlen)
{
    struct kvs *k = arg;
    if (k->n == 16)
        return SL_ERR__LIMIT;
    snprintf(k->key[k->n], sizeof k->key[0], "%s", key);
    snprintf(k->val[k->n], sizeof k->val[0], "%s", value);
    k->line[k->n] = line;
    k->n++;
    return SL_ERR_NONE;
}

static void test_properties_syntax(void)
{
    static const char text[] =
        "# a comment\n"            /* 1 */
        "   ! another comment\n"   /* 2 */
        "\n"                       /* 3 */
        "  \t \n"                  /* 4 */
        "a=1\n"                    /* 5 */
        "b : 2  \n"                /* 6: ':' separator, trailing blanks kept */
        "c 3\n"                    /* 7: blank separator */
        "d=x \\\n"                 /* 8: continuation */
        "     y\\\n"               /* 9 */
        "   z\n"                   /* 10 */
        "e\\ key=tab\\there\n"     /* 11: escaped blank in key, \t in value */
        "f=caf\\u00e9 \\u20ac \\uD83D\\uDE00\n" /* 12: \u escapes to UTF-8 */
        "g\\=h=i\\:j\\\\\n"        /* 13: escaped separators, literal backslash */
        "# not continued \\\n"     /* 14: a comment never continues */
        "k\r\n"                    /* 15: CRLF, key without value */
        "l=\r"                     /* 16: CR alone ends a line */
        "m==2\n"                   /* 17: second '=' is part of the value */
        "n=a\\\n"                  /* 18: continuation followed by an empty line */
        "\n"                       /* 19 */
        "o=\\q\\\n";               /* 20: unknown escape = the char; backslash at EOF dropped */
    struct kvs k = {0};
    char err[256];
    CHECK(sl_properties_parse("t", text, sizeof text - 1, collect, &k, err, sizeof err) ==
          SL_ERR_NONE);
    CHECK_EQ_INT(k.n, 12);
    const char *want[][2] = {{"a", "1"},
                             {"b", "2  "},
                             {"c", "3"},
                             {"d", "x yz"},
                             {"e key", "tab\there"},
                             {"f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
                             {"g=h", "i:j\\"},
                             {"k", ""},
                             {"l", ""},
                             {"m", "=2"},
                             {"n", "a"},
                             {"o", "q"}};
    int lines[] = {5, 6, 7, 8, 11, 12, 13, 15, 16, 17, 18, 20};
    for (int i = 0; i < 12; i++) {
        if (strcmp(k.key[i], want[i][0]) != 0 || strcmp(k.val[i], want[i][1]) != 0)
            fprintf(stderr, "  pair %d: [%s]=[%s]\n", i, k.key[i], k.val[i]);
        CHECK(strcmp(k.key[i], want[i][0]) == 0);
        CHECK(strcmp(k.val[i], want[i][1]) == 0);
        CHECK_EQ_INT(k.line[i], lines[i]);
    }
    /* Errors carry the logical line's first line number. */
    struct kvs k2 = {0};
    static const char bad[] = "a=1\nb=\\\n  \\uD800x\n";
    CHECK(sl_properties_parse("t", bad, sizeof bad - 1, collect, &k2, err, sizeof err) ==
          SL_ERR__INVAL);
    CHECK(strcmp(err, "t:2: unpaired UTF-16 surrogate in \\u escape") == 0);
    /* Config values are trimmed after parsing, as Kafka's ConfigDef does. */
    struct sl_config c;
    CHECK(load_text(&c, "num.partitions = 5 \t\n log.cleanup.policy :  compact \n", err,
                    sizeof err) == SL_ERR_NONE);
    CHECK_EQ_INT(c.num_partitions, 5);
    CHECK(strcmp(c.log_cleanup_policy, "compact") == 0);
    sl_config_free(&c);
}

/* ---- listeners ---- */

static void test_listeners(void)
{
    struct sl_config c;
    char err[512];
    char host[256];
    gethostname(host, sizeof host);

    /* Empty host binds every interface and is advertised as the host name. */
    CHECK(load_text(&c, "listeners=plaintext://:9092\n", err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR_NONE);
    CHECK(strcmp(c.listeners[0].name, "PLAINTEXT") == 0);
    CHECK(strcmp(c.listeners[0].host, "") == 0);
    CHECK_EQ_INT(c.listeners[0].port, 9092);
    CHECK(strcmp(c.advertised[0].host, host[0] ? host : "127.0.0.1") == 0);
    CHECK_EQ_INT(c.advertised[0].port, 9092);
    sl_config_free(&c);

    /* IPv6 in brackets; stored without them, formatted with them. */
    CHECK(load_text(&c, "listeners=PLAINTEXT://[::1]:9092\n", err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR_NONE);
    CHECK(strcmp(c.listeners[0].host, "::1") == 0);
    char buf[300];
    CHECK(strcmp(sl_listener_format(&c.listeners[0], buf, sizeof buf),
                 "PLAINTEXT://[::1]:9092") == 0);
    CHECK(strcmp(c.advertised[0].host, "::1") == 0);
    sl_config_free(&c);

    /* The wildcard is replaced when advertising; port 0 is allowed to bind. */
    CHECK(load_text(&c, "listeners=PLAINTEXT://0.0.0.0:0\n", err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR_NONE);
    CHECK(strcmp(c.advertised[0].host, "0.0.0.0") != 0);
    CHECK_EQ_INT(c.listeners[0].port, 0);
    sl_config_free(&c);

    /* A named listener needs the protocol map. */
    CHECK(load_text(&c, "listeners=CLIENT://:9092\n", err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR__INVAL);
    CHECK(strstr(err, ":1: listeners=CLIENT://:9092: listener name CLIENT has no security "
                      "protocol"));
    sl_config_free(&c);
    CHECK(load_text(&c,
                    "listeners=CLIENT://:9092\n"
                    "listener.security.protocol.map=client:plaintext\n",
                    err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR_NONE);
    CHECK(strcmp(c.listeners[0].protocol, "PLAINTEXT") == 0);
    sl_config_free(&c);

    /* PLAIN over SASL_PLAINTEXT needs the explicit override. */
    CHECK(load_text(&c, "listeners=SASL_PLAINTEXT://:9093\nsasl.enabled.mechanisms=PLAIN\n", err,
                    sizeof err) == SL_ERR_NONE);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR__INVAL);
    CHECK(strstr(err, "PLAIN on listener SASL_PLAINTEXT (SASL_PLAINTEXT) would send passwords"));
    sl_config_free(&c);
    CHECK(load_text(&c,
                    "listeners=SASL_PLAINTEXT://:9093\nsasl.enabled.mechanisms=PLAIN\n"
                    "sluice.sasl.plain.allow.cleartext=true\n",
                    err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR_NONE);
    sl_config_free(&c);
    CHECK(load_text(&c,
                    "listeners=S://:9093\nlistener.security.protocol.map=S:SASL_PLAINTEXT\n"
                    "sasl.enabled.mechanisms=PLAIN\n"
                    "listener.name.s.sasl.enabled.mechanisms=SCRAM-SHA-512\n",
                    err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR_NONE);
    sl_config_free(&c);

    /* Per-listener keys: the override wins for its listener only, names
     * compare without case, and an override for a missing listener fails. */
    CHECK(load_text(&c,
                    "listeners=PLAINTEXT://:9092,SSL://:9093,INTERNAL://:9094\n"
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,INTERNAL:SSL\n"
                    "ssl.client.auth=requested\n"
                    "listener.name.internal.ssl.client.auth=required\n"
                    "listener.name.internal.sluice.ssl.crl.location=/etc/crl.pem\n",
                    err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR_NONE);
    char lbuf[64];
    CHECK(strcmp(sl_config_listener_get(&c, "INTERNAL", "ssl.client.auth", lbuf, sizeof lbuf),
                 "required") == 0);
    CHECK(strcmp(sl_config_listener_get(&c, "SSL", "ssl.client.auth", lbuf, sizeof lbuf),
                 "requested") == 0);
    CHECK(strcmp(sl_config_listener_get(&c, "Internal", "sluice.ssl.crl.location", lbuf,
                                        sizeof lbuf), "/etc/crl.pem") == 0);
    CHECK(sl_config_listener_get(&c, "SSL", "sluice.ssl.crl.location", lbuf, sizeof lbuf) == NULL);
    CHECK(strcmp(sl_config_listener_get(&c, "SSL", "sluice.ssl.handshake.timeout.ms", lbuf,
                                        sizeof lbuf), "10000") == 0);
    CHECK(strcmp(c.listeners[2].protocol, "SSL") == 0);
    sl_config_free(&c);
    CHECK(load_text(&c, "listener.name.other.ssl.client.auth=required\n", err, sizeof err) ==
          SL_ERR_NONE);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR__INVAL);
    CHECK(strstr(err, "listener.name.OTHER.ssl.client.auth=required: no listener of that name"));
    sl_config_free(&c);

    /* Advertised names must be listeners; duplicate advertised ports are fine. */
    CHECK(load_text(&c,
                    "listeners=A://:9092,B://:9093\n"
                    "listener.security.protocol.map=A:PLAINTEXT,B:PLAINTEXT\n"
                    "advertised.listeners=A://proxy:9000,B://proxy:9000\n",
                    err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR_NONE);
    CHECK_EQ_INT(c.n_advertised, 2);
    sl_config_free(&c);
    CHECK(load_text(&c, "advertised.listeners=OTHER://h:1\n", err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR__INVAL);
    CHECK(strstr(err, "advertised.listeners=OTHER://h:1: listener name OTHER is not one of the "
                      "listeners"));
    sl_config_free(&c);

    /* The default map fails validation if the default listener is unmapped:
     * the message names the default value. */
    sl_config_defaults(&c);
    CHECK(sl_config_set(&c, "listener.security.protocol.map", "X:SSL", err, sizeof err) ==
          SL_ERR_NONE);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR__INVAL);
    CHECK(strstr(err, "config: listeners=SASL_SSL://127.0.0.1:9093 (default): ") == err);
    sl_config_free(&c);
}

/* ---- aliases and precedence ---- */

static void test_aliases(void)
{
    struct sl_config c;
    char err[512];

    /* ms > minutes > hours, whatever the order. */
    CHECK(load_text(&c, "log.retention.ms=5000\nlog.retention.hours=1\n", err, sizeof err) == 0);
    CHECK_EQ_INT(c.log_retention_ms, 5000);
    sl_config_free(&c);
    CHECK(load_text(&c, "log.retention.hours=1\nlog.retention.ms=5000\n", err, sizeof err) == 0);
    CHECK_EQ_INT(c.log_retention_ms, 5000);
    sl_config_free(&c);
    CHECK(load_text(&c, "log.retention.minutes=2\nlog.retention.hours=1\n", err, sizeof err) ==
          0);
    CHECK_EQ_INT(c.log_retention_ms, 120000);
    sl_config_free(&c);
    CHECK(load_text(&c, "log.retention.hours=1\n", err, sizeof err) == 0);
    CHECK_EQ_INT(c.log_retention_ms, 3600000);
    sl_config_free(&c);
    CHECK(load_text(&c, "log.retention.hours=-1\n", err, sizeof err) == 0);
    CHECK_EQ_INT(c.log_retention_ms, -1);
    sl_config_free(&c);
    CHECK(load_text(&c, "log.retention.ms=-1\nlog.retention.minutes=5\n", err, sizeof err) == 0);
    CHECK_EQ_INT(c.log_retention_ms, -1);
    sl_config_free(&c);
    CHECK(load_text(&c, "log.retention.ms=-2\n", err, sizeof err) == SL_ERR__INVAL);
    sl_config_free(&c);

    /* An override of a weaker key does not beat a stronger key from the file. */
    CHECK(load_text(&c, "log.roll.ms=1000\n", err, sizeof err) == 0);
    CHECK(sl_config_set(&c, "log.roll.hours", "2", err, sizeof err) == 0);
    CHECK_EQ_INT(c.log_roll_ms, 1000);
    sl_config_free(&c);
    CHECK(load_text(&c, "log.roll.hours=2\n", err, sizeof err) == 0);
    CHECK_EQ_INT(c.log_roll_ms, 7200000);
    sl_config_free(&c);

    /* log.dirs beats log.dir; log.dir alone works. */
    CHECK(load_text(&c, "log.dirs=/a\nlog.dir=/b\n", err, sizeof err) == 0);
    CHECK(sl_config_validate(&c, err, sizeof err) == 0);
    CHECK(strcmp(c.log_dirs, "/a") == 0);
    sl_config_free(&c);
    CHECK(load_text(&c, "log.dir=/b\nsluice.data.dir=/d\n", err, sizeof err) == 0);
    CHECK(sl_config_validate(&c, err, sizeof err) == 0);
    CHECK(strcmp(c.log_dirs, "/b") == 0);
    sl_config_free(&c);

    /* broker.id alone sets node.id; both must agree. */
    CHECK(load_text(&c, "broker.id=5\n", err, sizeof err) == 0);
    CHECK(sl_config_validate(&c, err, sizeof err) == 0);
    CHECK_EQ_INT(c.node_id, 5);
    char buf[64];
    CHECK(sl_config_get(&c, "node.id", buf, sizeof buf) == 0 && strcmp(buf, "5") == 0);
    sl_config_free(&c);
    CHECK(load_text(&c, "node.id=3\nbroker.id=4\n", err, sizeof err) == 0);
    CHECK(sl_config_validate(&c, err, sizeof err) == SL_ERR__INVAL);
    CHECK(strstr(err, ":2: broker.id=4: broker.id and node.id are aliases and must be equal"));
    sl_config_free(&c);

    /* The last of two lines wins. */
    CHECK(load_text(&c, "num.partitions=2\nnum.partitions=3\n", err, sizeof err) == 0);
    CHECK_EQ_INT(c.num_partitions, 3);
    sl_config_free(&c);
}

/* ---- DescribeConfigs (broker) ---- */

struct seen {
    int n;
    char name[128][64];
    char value[128][128];
    int source[128];
    int type[128];
    bool read_only[128];
};

static void record(void *arg, const char *name, const char *value, int source, bool sensitive,
                   bool read_only, int type, const char *doc)
{
    struct seen *s = arg;
    if (s->n == 128)
        return;
    snprintf(s->name[s->n], sizeof s->name[0], "%s", name);
    snprintf(s->value[s->n], sizeof s->value[0], "%s", value ? value : "(null)");
    s->source[s->n] = source;
    s->type[s->n] = type;
    s->read_only[s->n] = read_only;
    s->n++;
}

static int seen_find(const struct seen *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->name[i], name) == 0)
            return i;
    return -1;
}

static void record_syn(void *arg, const char *name, const char *value, int source)
{
    record(arg, name, value, source, false, false, 0, NULL);
}

static void test_broker_describe(void)
{
    struct sl_config c;
    char err[512];
    CHECK(load_text(&c, "log.retention.minutes=10\nnum.partitions=3\n", err, sizeof err) == 0);
    CHECK(sl_config_validate(&c, err, sizeof err) == 0);
    struct seen s = {0};
    sl_config_describe(&c, record, &s);
    CHECK_EQ_INT(s.n, sl_config__n_rows);
    int i = seen_find(&s, "num.partitions");
    CHECK(i >= 0 && strcmp(s.value[i], "3") == 0 && s.source[i] == SL_CONFIG_SOURCE_STATIC_BROKER);
    CHECK(s.type[i] == SL_CONFIG_TYPE_INT && s.read_only[i]);
    i = seen_find(&s, "log.retention.ms");
    CHECK(i >= 0 && strcmp(s.value[i], "600000") == 0);
    CHECK(s.source[i] == SL_CONFIG_SOURCE_STATIC_BROKER);
    i = seen_find(&s, "log.retention.hours");
    CHECK(i >= 0 && strcmp(s.value[i], "168") == 0 && s.source[i] == SL_CONFIG_SOURCE_DEFAULT);
    i = seen_find(&s, "message.max.bytes");
    CHECK(i >= 0 && strcmp(s.value[i], "1048588") == 0 && s.source[i] == SL_CONFIG_SOURCE_DEFAULT);

    struct seen syn = {0};
    CHECK(sl_config_synonyms(&c, "log.retention.ms", record_syn, &syn) == SL_ERR_NONE);
    CHECK_EQ_INT(syn.n, 2);
    CHECK(strcmp(syn.name[0], "log.retention.minutes") == 0 && strcmp(syn.value[0], "10") == 0);
    CHECK(syn.source[0] == SL_CONFIG_SOURCE_STATIC_BROKER);
    CHECK(strcmp(syn.name[1], "log.retention.hours") == 0 && strcmp(syn.value[1], "168") == 0);
    CHECK(syn.source[1] == SL_CONFIG_SOURCE_DEFAULT);
    CHECK(sl_config_synonyms(&c, "nope", record_syn, &syn) == SL_ERR__NOENT);
    sl_config_free(&c);
}

/* ---- topic configs ---- */

static void test_topic_resolve(void)
{
    struct sl_config c;
    char err[512];
    struct sl_topic_config t;
    sl_config_defaults(&c);
    CHECK(sl_config_validate(&c, err, sizeof err) == 0);

    /* No overrides: every field equals the broker default. */
    CHECK(sl_topic_config_resolve(&c, NULL, 0, &t, err, sizeof err) == SL_ERR_NONE);
    CHECK_EQ_INT(t.retention_ms, c.log_retention_ms);
    CHECK_EQ_INT(t.retention_bytes, c.log_retention_bytes);
    CHECK_EQ_INT(t.segment_bytes, c.log_segment_bytes);
    CHECK_EQ_INT(t.segment_ms, c.log_roll_ms);
    CHECK_EQ_INT(t.file_delete_delay_ms, c.log_segment_delete_delay_ms);
    CHECK_EQ_INT(t.max_message_bytes, c.message_max_bytes);
    CHECK_EQ_INT(t.segment_index_bytes, c.log_index_size_max_bytes);
    CHECK_EQ_INT(t.index_interval_bytes, c.log_index_interval_bytes);
    CHECK_EQ_INT(t.min_insync_replicas, c.min_insync_replicas);
    CHECK(!t.log_append_time);
    CHECK(!t.unclean_leader_election_enable);
    CHECK(strcmp(t.cleanup_policy, "delete") == 0);
    CHECK(strcmp(t.compression_type, "producer") == 0);
    CHECK_EQ_INT(t.ts_before_max_ms, INT64_MAX);
    CHECK_EQ_INT(t.ts_after_max_ms, 3600000);

    /* Overrides, trimmed; a repeated key keeps the last value. */
    struct sl_kv over[] = {
        {"retention.ms", "1000"},
        {"cleanup.policy", " compact , delete "},
        {"message.timestamp.type", "LogAppendTime"},
        {"segment.bytes", "2097152"},
        {"compression.type", "lz4"},
        {"retention.ms", "-1"},
        {"unclean.leader.election.enable", "true"},
    };
    CHECK(sl_topic_config_resolve(&c, over, 7, &t, err, sizeof err) == SL_ERR_NONE);
    CHECK_EQ_INT(t.retention_ms, -1);
    CHECK(strcmp(t.cleanup_policy, "compact,delete") == 0);
    CHECK(t.log_append_time);
    CHECK_EQ_INT(t.segment_bytes, 2097152);
    CHECK(strcmp(t.compression_type, "lz4") == 0);
    CHECK(t.unclean_leader_election_enable);

    /* Kafka's error messages. */
    struct sl_kv bad1[] = {{"retention.msx", "1"}};
    CHECK(sl_topic_config_resolve(&c, bad1, 1, &t, err, sizeof err) == SL_ERR_INVALID_CONFIG);
    CHECK(strcmp(err, "Unknown topic config name: retention.msx") == 0);
    struct sl_kv bad2[] = {{"retention.ms", "soon"}};
    CHECK(sl_topic_config_resolve(&c, bad2, 1, &t, err, sizeof err) == SL_ERR_INVALID_CONFIG);
    CHECK(strcmp(err, "Invalid value soon for configuration retention.ms: Not a number of type "
                      "LONG") == 0);
    struct sl_kv bad3[] = {{"segment.bytes", "100"}};
    CHECK(sl_topic_config_resolve(&c, bad3, 1, &t, err, sizeof err) == SL_ERR_INVALID_CONFIG);
    CHECK(strcmp(err, "Invalid value 100 for configuration segment.bytes: Value must be at least "
                      "1048576") == 0);
    struct sl_kv bad4[] = {{"message.timestamp.type", "createtime"}};
    CHECK(sl_topic_config_resolve(&c, bad4, 1, &t, err, sizeof err) == SL_ERR_INVALID_CONFIG);
    CHECK(strstr(err, "String must be one of: CreateTime, LogAppendTime"));
    struct sl_kv bad5[] = {{"min.insync.replicas", NULL}};
    CHECK(sl_topic_config_resolve(&c, bad5, 1, &t, err, sizeof err) == SL_ERR_INVALID_CONFIG);
    CHECK(strcmp(err, "Null value not supported for topic configs: min.insync.replicas") == 0);
    /* A bad value replaced by a later good one is still refused. */
    struct sl_kv bad6[] = {{"retention.ms", "x"}, {"retention.ms", "1"}};
    CHECK(sl_topic_config_resolve(&c, bad6, 2, &t, err, sizeof err) == SL_ERR_INVALID_CONFIG);
    struct sl_kv bad7[] = {{"flush.messages", "1"}};
    CHECK(sl_topic_config_resolve(&c, bad7, 1, &t, err, sizeof err) == SL_ERR_INVALID_CONFIG);

    CHECK(sl_topic_config_check("retention.bytes", "-5", err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_topic_config_check("max.message.bytes", "-5", err, sizeof err) ==
          SL_ERR_INVALID_CONFIG);
    CHECK_EQ_INT(sl_topic_config_type("cleanup.policy"), SL_CONFIG_TYPE_LIST);
    CHECK_EQ_INT(sl_topic_config_type("segment.bytes"), SL_CONFIG_TYPE_INT);
    CHECK_EQ_INT(sl_topic_config_type("nope"), SL_CONFIG_TYPE_UNKNOWN);
    sl_config_free(&c);

    /* Broker file values become the topic defaults. */
    CHECK(load_text(&c, "log.retention.hours=2\nlog.roll.hours=1\nmessage.max.bytes=100\n"
                        "log.message.timestamp.type=LogAppendTime\n",
                    err, sizeof err) == 0);
    CHECK(sl_topic_config_resolve(&c, NULL, 0, &t, err, sizeof err) == SL_ERR_NONE);
    CHECK_EQ_INT(t.retention_ms, 7200000);
    CHECK_EQ_INT(t.segment_ms, 3600000);
    CHECK_EQ_INT(t.max_message_bytes, 100);
    CHECK(t.log_append_time);
    sl_config_free(&c);
}

static void test_topic_describe(void)
{
    struct sl_config c;
    char err[512];
    CHECK(load_text(&c, "log.retention.hours=2\n", err, sizeof err) == 0);
    struct sl_kv over[] = {{"segment.ms", "1000"}};
    struct seen s = {0};
    sl_topic_config_describe(&c, over, 1, record, &s);
    CHECK_EQ_INT(s.n, sl_topic_config__n_rows);
    int i = seen_find(&s, "segment.ms");
    CHECK(i >= 0 && strcmp(s.value[i], "1000") == 0 && s.source[i] == SL_CONFIG_SOURCE_TOPIC);
    CHECK(!s.read_only[i] && s.type[i] == SL_CONFIG_TYPE_LONG);
    i = seen_find(&s, "retention.ms");
    CHECK(i >= 0 && strcmp(s.value[i], "7200000") == 0);
    CHECK(s.source[i] == SL_CONFIG_SOURCE_STATIC_BROKER);
    i = seen_find(&s, "max.message.bytes");
    CHECK(i >= 0 && strcmp(s.value[i], "1048588") == 0 && s.source[i] == SL_CONFIG_SOURCE_DEFAULT);
    i = seen_find(&s, "cleanup.policy");
    CHECK(i >= 0 && strcmp(s.value[i], "delete") == 0 && s.type[i] == SL_CONFIG_TYPE_LIST);
    for (int k = 1; k < s.n; k++)
        CHECK(strcmp(s.name[k - 1], s.name[k]) < 0);

    /* Synonyms: topic override first, then the broker chain. */
    struct sl_kv over2[] = {{"retention.ms", "5"}};
    struct seen syn = {0};
    CHECK(sl_topic_config_synonyms(&c, over2, 1, "retention.ms", record_syn, &syn) == 0);
    CHECK_EQ_INT(syn.n, 2);
    CHECK(strcmp(syn.name[0], "retention.ms") == 0 && syn.source[0] == SL_CONFIG_SOURCE_TOPIC);
    CHECK(strcmp(syn.name[1], "log.retention.hours") == 0 && strcmp(syn.value[1], "2") == 0);
    CHECK(syn.source[1] == SL_CONFIG_SOURCE_STATIC_BROKER);
    CHECK(sl_topic_config_synonyms(&c, NULL, 0, "nope", record_syn, &syn) == SL_ERR__NOENT);
    sl_config_free(&c);
}

/* docs/CONFIG.md must be what the table generates (regenerate it with
 * `sluiced --help-markdown > docs/CONFIG.md`). */
static void test_docs_up_to_date(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", __FILE__);
    char *slash = strstr(path, "tests/unit/test_config.c");
    CHECK(slash != NULL);
    snprintf(slash, sizeof path - (size_t)(slash - path), "docs/CONFIG.md");
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "  cannot open %s\n", path);
        CHECK(f != NULL);
    }
    char *doc = NULL, *gen = NULL;
    size_t docn = 0, genn = 0;
    FILE *m = open_memstream(&doc, &docn);
    char chunk[4096];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, r, m);
    fclose(m);
    fclose(f);
    m = open_memstream(&gen, &genn);
    sl_config_print_markdown(m);
    fclose(m);
    bool same = docn == genn && memcmp(doc, gen, docn) == 0;
    if (!same)
        fprintf(stderr, "  %s is stale: regenerate it with sluiced --help-markdown\n", path);
    free(doc);
    free(gen);
    CHECK(same);
}

int main(void)
{
    sl_log_min_level = SL_LOG_WARN;
    TEST_RUN(test_defaults);
    TEST_RUN(test_table_sanity);
    TEST_RUN(test_every_key);
    TEST_RUN(test_bad_values);
    TEST_RUN(test_bad_value_leaves_field);
    TEST_RUN(test_file_errors);
    TEST_RUN(test_override);
    TEST_RUN(test_properties_syntax);
    TEST_RUN(test_listeners);
    TEST_RUN(test_aliases);
    TEST_RUN(test_broker_describe);
    TEST_RUN(test_topic_resolve);
    TEST_RUN(test_topic_describe);
    TEST_RUN(test_docs_up_to_date);
    TEST_REPORT();
}
