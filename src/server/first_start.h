/* SPDX-License-Identifier: Apache-2.0
 *
 * The first start (issue 10): what an empty data directory with no
 * configuration needs to be secure and usable at once, generated once and
 * reused by later starts. Each step applies on its own condition, so that
 * an explicit configuration keeps working unchanged:
 *
 *   TLS      an SSL or SASL_SSL listener with no key store configured
 *            (neither ssl.keystore.location nor ssl.keystore.key, broker-
 *            wide or per listener) uses DATA/tls/broker.pem, signed by the
 *            CA in DIR/tls/ca.{crt,key}; what is missing there is generated
 *            (pki_gen.h). Files 0600, the directory 0700.
 *   admin    when super.users is left at its default (User:admin), a SASL
 *            listener offers SCRAM-SHA-512 and the metadata store holds no
 *            user: the user admin gets a random password, stored only as
 *            its SCRAM-SHA-512 credential and in DATA/admin-client.properties
 *            (Java) and DATA/admin-client.conf (librdkafka), both 0600,
 *            written before the credential so that a crash in between
 *            leaves a store with no user, which the next start fills again.
 *   banner   after the listeners are open, when admin was just created:
 *            one block on standard output with where the credentials and
 *            the CA are and ready-to-run kcat and Kafka console commands.
 *            The password itself is never printed nor logged.
 *
 * The keyring (encryption.c) and the audit key (security/audit) are made
 * by their own modules at the first start, 0600 as well.
 */
#ifndef SL_SERVER_FIRST_START_H
#define SL_SERVER_FIRST_START_H

#include <stddef.h>

struct sl_broker;

/* The client files, under the data directory (the `sluice client-config`
 * and `sluice posture` commands read them by these names). */
#define SL_ADMIN_CLIENT_PROPERTIES "admin-client.properties"
#define SL_ADMIN_CLIENT_CONF "admin-client.conf"
#define SL_FIRST_START_TLS_DIR "tls"
#define SL_ADMIN_USER "admin"

/* Before the listeners (and before any thread reads the configuration):
 * gives each SSL listener without a key store the generated one, making
 * what is missing. Returns 0, or -1 with err. */
int sl_first_start_tls(struct sl_broker *b, char *err, size_t errlen);

/* After the metadata store is open: creates the admin user and its client
 * files when the conditions above hold. Returns 0, or -1 with err. */
int sl_first_start_admin(struct sl_broker *b, char *err, size_t errlen);

/* After the listeners are open: prints the banner if admin was created by
 * this start. */
void sl_first_start_announce(const struct sl_broker *b);

#endif
