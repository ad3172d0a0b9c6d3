/* SPDX-License-Identifier: Apache-2.0
 *
 * DescribeUserScramCredentials (key 50) and AlterUserScramCredentials (key
 * 51): what kafka-configs --entity-type users --alter --add-config
 * 'SCRAM-SHA-256=[password=...]' and Admin.alterUserScramCredentials send.
 * The client runs Hi() itself and sends the salted password; the broker
 * stores only salt, StoredKey, ServerKey and iterations (metadata store).
 *
 * Validation and error texts follow Kafka's controller (ScramControlManager):
 * an empty name or an iteration count outside 4096..16384 is
 * UNACCEPTABLE_CREDENTIAL, an unknown mechanism UNSUPPORTED_SASL_MECHANISM,
 * a user altered twice for one mechanism in one request DUPLICATE_RESOURCE,
 * deleting or describing what does not exist RESOURCE_NOT_FOUND. One result
 * per user.
 *
 * Who may call: DescribeUserScramCredentials needs DESCRIBE on the cluster,
 * AlterUserScramCredentials ALTER (super users have both); everyone else
 * gets CLUSTER_AUTHORIZATION_FAILED.
 */
#include <stdlib.h>
#include <openssl/crypto.h>
#include <string.h>

#include "api/api.h"
#include "api/audit_change.h"
#include "api/util.h"
#include "config/config.h"
#include "core/logging.h"
#include "meta/meta.h"
#include "net/conn.h"
#include "protocol/dispatch.h"
#include "protocol/request.h"
#include "security/authn/scram.h"
#include "security/authz/authorize.h"
#include "server/broker.h"
#include "sluice/err.h"

static bool name_ok(sl_str_t s)
{
    return s.p && s.len > 0 && s.len <= SL_SASL_NAME_MAX && !memchr(s.p, '\0', (size_t)s.len);
}

static char *cname(struct sl_req *req, sl_str_t s)
{
    char *n = sl_arena_alloc(&req->arena, (size_t)(s.len > 0 ? s.len : 0) + 1);
    if (s.len > 0)
        memcpy(n, s.p, (size_t)s.len);
    n[s.len > 0 ? s.len : 0] = '\0';
    return n;
}

/* ---- Alter ---- */

struct result {
    sl_str_t user;
    int16_t code;
    const char *msg;
};

static struct result *result_of(struct result *rs, int *n, sl_str_t user)
{
    for (int i = 0; i < *n; i++)
        if (rs[i].user.len == user.len && memcmp(rs[i].user.p, user.p, (size_t)user.len) == 0)
            return &rs[i];
    rs[*n] = (struct result){user, SL_ERR_NONE, NULL};
    return &rs[(*n)++];
}

static void set_err(struct result *r, int16_t code, const char *msg)
{
    if (r->code == SL_ERR_NONE) {
        r->code = code;
        r->msg = msg;
    }
}

/* What an audit record says of a credential change: the mechanism and,
 * for an upsertion, the iteration count; never the salt or the salted
 * password. */
struct cred_detail {
    int mechanism;
    int32_t iterations; /* -1: a deletion */
};

static void cred_detail(struct sl_aj *j, const void *arg)
{
    const struct cred_detail *d = arg;
    sl_aj_kcstr(j, "mechanism", sl_scram_mech_name(d->mechanism));
    if (d->iterations >= 0)
        sl_aj_ki64(j, "iterations", d->iterations);
}

int sl_api_alter_user_scram_credentials(struct sl_req *req)
{
    struct AlterUserScramCredentialsRequest *body = req->body;
    struct AlterUserScramCredentialsResponse *resp = req->resp;
    struct sl_broker *b = req->broker;
    int nd = body->deletions.n > 0 ? body->deletions.n : 0;
    int nu = body->upsertions.n > 0 ? body->upsertions.n : 0;
    struct result *rs = sl_arena_alloc(&req->arena, sizeof *rs * (size_t)(nd + nu + 1));
    int nr = 0;
    bool allowed = sl_authz_cluster(req, SL_ACL_OP_ALTER);

    /* Pass 1: validation, duplicates. */
    for (int i = 0; i < nd + nu; i++) {
        bool del = i < nd;
        sl_str_t name = del ? body->deletions.a[i].name : body->upsertions.a[i - nd].name;
        int mech = del ? body->deletions.a[i].mechanism : body->upsertions.a[i - nd].mechanism;
        struct result *r = result_of(rs, &nr, name);
        if (!allowed) {
            set_err(r, SL_ERR_CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
            continue;
        }
        if (!sl_api_audit_ready(req)) {
            set_err(r, sl_api_audit_refusal(req), SL_API_AUDIT_REFUSED_MSG);
            continue;
        }
        if (!name_ok(name)) {
            set_err(r, SL_ERR_UNACCEPTABLE_CREDENTIAL, "Username must not be empty");
            continue;
        }
        if (!sl_scram_mech_name(mech)) {
            set_err(r, SL_ERR_UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism");
            continue;
        }
        for (int j = 0; j < i; j++) {
            bool jd = j < nd;
            sl_str_t jn = jd ? body->deletions.a[j].name : body->upsertions.a[j - nd].name;
            int jm = jd ? body->deletions.a[j].mechanism : body->upsertions.a[j - nd].mechanism;
            if (jm == mech && jn.len == name.len && memcmp(jn.p, name.p, (size_t)name.len) == 0)
                set_err(r, SL_ERR_DUPLICATE_RESOURCE,
                        "A user credential cannot be altered twice in the same request");
        }
        if (!del) {
            int32_t it = body->upsertions.a[i - nd].iterations;
            if (it < SL_SCRAM_MIN_ITERATIONS)
                set_err(r, SL_ERR_UNACCEPTABLE_CREDENTIAL, "Too few iterations");
            else if (it > SL_SCRAM_MAX_ITERATIONS)
                set_err(r, SL_ERR_UNACCEPTABLE_CREDENTIAL, "Too many iterations");
        } else {
            struct sl_scram_cred cur;
            if (sl_meta_get_scram(b->meta, cname(req, name), mech, &cur) != SL_ERR_NONE)
                set_err(r, SL_ERR_RESOURCE_NOT_FOUND,
                        "Attempt to delete a user credential that does not exist");
            OPENSSL_cleanse(&cur, sizeof cur);
        }
    }
    /* Pass 2: apply the changes of users without an error. */
    for (int i = 0; i < nd + nu; i++) {
        bool del = i < nd;
        sl_str_t name = del ? body->deletions.a[i].name : body->upsertions.a[i - nd].name;
        struct result *r = result_of(rs, &nr, name);
        if (r->code != SL_ERR_NONE)
            continue;
        const char *user = cname(req, name);
        sl_err_t rc;
        if (del) {
            rc = sl_meta_delete_scram(b->meta, user, body->deletions.a[i].mechanism);
        } else {
            const struct AlterUserScramCredentialsRequest_ScramCredentialUpsertion *u =
                &body->upsertions.a[i - nd];
            struct sl_scram_cred cred;
            if (sl_scram_cred_from_salted(u->mechanism, u->salt.p,
                                          u->salt.len > 0 ? (size_t)u->salt.len : 0,
                                          u->salted_password.p,
                                          u->salted_password.len > 0 ? (size_t)u->salted_password.len : 0,
                                          u->iterations, &cred) != 0) {
                set_err(r, SL_ERR_UNACCEPTABLE_CREDENTIAL, "Invalid salt or salted password");
                continue;
            }
            rc = sl_meta_put_scram(b->meta, user, &cred);
            OPENSSL_cleanse(&cred, sizeof cred);
        }
        if (rc != SL_ERR_NONE) {
            set_err(r, SL_ERR_UNKNOWN_SERVER_ERROR, "The metadata store could not be written");
            continue;
        }
        SL_INFO("users", "%s %s credential of user '%.64s' (by %s from %s)",
                del ? "deleted" : "set",
                sl_scram_mech_name(del ? body->deletions.a[i].mechanism
                                       : body->upsertions.a[i - nd].mechanism),
                user, req->conn->principal, req->conn->peer);
    }
    /* Pass 3: a record per credential change attempted (failures too). */
    for (int i = 0; allowed && i < nd + nu; i++) {
        bool del = i < nd;
        sl_str_t name = del ? body->deletions.a[i].name : body->upsertions.a[i - nd].name;
        struct result *r = result_of(rs, &nr, name);
        struct cred_detail d = {
            del ? body->deletions.a[i].mechanism : body->upsertions.a[i - nd].mechanism,
            del ? -1 : body->upsertions.a[i - nd].iterations};
        struct sl_audit_change ch = {
            .type = del ? "user.delete" : "user.alter", .res_type = SL_ACL_RES_USER,
            SL_API_AUDIT_NAME(name), .pattern = SL_ACL_PAT_LITERAL, .op = SL_ACL_OP_ALTER,
            .detail = cred_detail, .detail_arg = &d, .error = r->code, .message = r->msg};
        int16_t err = sl_api_audit_change(req, &ch);
        if (err != r->code) {
            r->code = err;
            r->msg = SL_API_AUDIT_REFUSED_MSG;
        }
    }
    SL_ARR(req, resp->results, nr, sl_desc_AlterUserScramCredentialsResponse_AlterUserScramCredentialsResult);
    for (int i = 0; i < nr; i++) {
        resp->results.a[i].user = rs[i].user;
        resp->results.a[i].error_code = rs[i].code;
        resp->results.a[i].error_message =
            rs[i].msg ? (sl_str_t){rs[i].msg, (int32_t)strlen(rs[i].msg)} : SL_STR_NULL;
    }
    return SL_HANDLER_DONE;
}

/* ---- Describe ---- */

static void describe_one(struct sl_req *req,
                         struct DescribeUserScramCredentialsResponse_DescribeUserScramCredentialsResult *out,
                         sl_str_t user, const struct sl_meta_user_cred *all, int n)
{
    out->user = user;
    int k = 0;
    for (int i = 0; i < n; i++)
        k += strlen(all[i].user) == (size_t)user.len && memcmp(all[i].user, user.p, (size_t)user.len) == 0;
    if (k == 0) {
        out->error_code = SL_ERR_RESOURCE_NOT_FOUND;
        out->error_message = SL_STR_LIT("Attempt to describe a user credential that does not exist");
        return;
    }
    SL_ARR(req, out->credential_infos, k,
           sl_desc_DescribeUserScramCredentialsResponse_CredentialInfo);
    k = 0;
    for (int i = 0; i < n; i++)
        if (strlen(all[i].user) == (size_t)user.len && memcmp(all[i].user, user.p, (size_t)user.len) == 0) {
            out->credential_infos.a[k].mechanism = (int8_t)all[i].cred.mech;
            out->credential_infos.a[k].iterations = all[i].cred.iterations;
            k++;
        }
}

int sl_api_describe_user_scram_credentials(struct sl_req *req)
{
    struct DescribeUserScramCredentialsRequest *body = req->body;
    struct DescribeUserScramCredentialsResponse *resp = req->resp;
    struct sl_broker *b = req->broker;
    if (!sl_authz_cluster(req, SL_ACL_OP_DESCRIBE)) {
        resp->error_code = SL_ERR_CLUSTER_AUTHORIZATION_FAILED;
        resp->error_message = SL_STR_LIT("Cluster authorization failed.");
        SL_ARR(req, resp->results, 0,
               sl_desc_DescribeUserScramCredentialsResponse_DescribeUserScramCredentialsResult);
        return SL_HANDLER_DONE;
    }
    struct sl_meta_user_cred *all = NULL;
    int n = 0;
    sl_meta_list_scram(b->meta, &all, &n);
    if (body->users.n < 0) {
        /* null: every user that has a credential, once each */
        int users = 0;
        for (int i = 0; i < n; i++)
            users += i == 0 || strcmp(all[i].user, all[i - 1].user) != 0;
        SL_ARR(req, resp->results, users,
               sl_desc_DescribeUserScramCredentialsResponse_DescribeUserScramCredentialsResult);
        users = 0;
        for (int i = 0; i < n; i++)
            if (i == 0 || strcmp(all[i].user, all[i - 1].user) != 0) {
                char *u = sl_arena_strdup(&req->arena, all[i].user);
                describe_one(req, &resp->results.a[users++], (sl_str_t){u, (int32_t)strlen(u)},
                             all, n);
            }
    } else {
        SL_ARR(req, resp->results, body->users.n,
               sl_desc_DescribeUserScramCredentialsResponse_DescribeUserScramCredentialsResult);
        for (int i = 0; i < body->users.n; i++) {
            sl_str_t u = body->users.a[i].name;
            bool dup = false;
            for (int j = 0; j < body->users.n; j++)
                dup |= j != i && body->users.a[j].name.len == u.len &&
                       memcmp(body->users.a[j].name.p, u.p, (size_t)(u.len > 0 ? u.len : 0)) == 0;
            if (dup) {
                resp->results.a[i].user = u;
                resp->results.a[i].error_code = SL_ERR_DUPLICATE_RESOURCE;
                resp->results.a[i].error_message = SL_STR_LIT("Cannot describe the same user twice");
                continue;
            }
            describe_one(req, &resp->results.a[i], u, all, n);
        }
    }
    sl_meta_user_creds_free(all, n);
    return SL_HANDLER_DONE;
}
