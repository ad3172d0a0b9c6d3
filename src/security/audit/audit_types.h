/* SPDX-License-Identifier: Apache-2.0
 *
 * The CloudEvents types of audit records (docs/AUDIT.md lists their data
 * members). Changes are SL_AUDIT_T_CHANGE_PREFIX followed by the change
 * ("io.sluice.change.topic.create").
 */
#ifndef SL_SECURITY_AUDIT_AUDIT_TYPES_H
#define SL_SECURITY_AUDIT_AUDIT_TYPES_H

#define SL_AUDIT_T_BROKER_START "io.sluice.broker.start"
#define SL_AUDIT_T_BROKER_STOP "io.sluice.broker.stop"
#define SL_AUDIT_T_RELOAD "io.sluice.broker.reload"
#define SL_AUDIT_T_CONN_ACCEPTED "io.sluice.connection.accepted"
#define SL_AUDIT_T_CONN_TLS "io.sluice.connection.tls"
#define SL_AUDIT_T_CONN_CLOSED "io.sluice.connection.closed"
#define SL_AUDIT_T_AUTHN "io.sluice.authentication"
#define SL_AUDIT_T_AUTHZ "io.sluice.authorization"
#define SL_AUDIT_T_CHANGE_PREFIX "io.sluice.change."
/* Written before the handler of a changing request runs (audit_park.c). */
#define SL_AUDIT_T_INTENT "io.sluice.change.intent"
#define SL_AUDIT_T_STORAGE_INTEGRITY "io.sluice.storage.integrity"
#define SL_AUDIT_T_KEY_REWRAP "io.sluice.encryption.rewrap"
/* Written by the audit writer itself. */
#define SL_AUDIT_T_OPEN "io.sluice.audit.open"
#define SL_AUDIT_T_SEAL "io.sluice.audit.seal"
#define SL_AUDIT_T_RETENTION "io.sluice.audit.retention"

#endif
