/* SPDX-License-Identifier: Apache-2.0
 *
 * The API handlers, one file per API family under src/api/. Each takes a
 * request whose body is decoded and whose response struct holds defaults,
 * fills the response, and returns SL_HANDLER_DONE, SL_ERR__DEFER (it
 * completes the request later) or SL_ERR__CLOSE (see protocol/dispatch.h).
 */
#ifndef SL_API_API_H
#define SL_API_API_H

struct sl_req;

int sl_api_api_versions(struct sl_req *req);
int sl_api_metadata(struct sl_req *req);
int sl_api_produce(struct sl_req *req);
int sl_api_fetch(struct sl_req *req);
int sl_api_list_offsets(struct sl_req *req);
int sl_api_offset_for_leader_epoch(struct sl_req *req);
int sl_api_create_topics(struct sl_req *req);
int sl_api_delete_topics(struct sl_req *req);
int sl_api_create_partitions(struct sl_req *req);
int sl_api_delete_records(struct sl_req *req);
int sl_api_describe_configs(struct sl_req *req);
int sl_api_alter_configs(struct sl_req *req);
int sl_api_incremental_alter_configs(struct sl_req *req);
int sl_api_describe_cluster(struct sl_req *req);
int sl_api_describe_client_quotas(struct sl_req *req);
int sl_api_describe_user_scram_credentials(struct sl_req *req);
int sl_api_alter_user_scram_credentials(struct sl_req *req);
int sl_api_init_producer_id(struct sl_req *req);
/* ACLs (acls.c). */
int sl_api_describe_acls(struct sl_req *req);
int sl_api_create_acls(struct sl_req *req);
int sl_api_delete_acls(struct sl_req *req);
/* Consumer groups (groups.c) and committed offsets (offsets.c): answered by
 * the group coordinator thread (src/group/coordinator.h), except
 * FindCoordinator. */
int sl_api_find_coordinator(struct sl_req *req);
int sl_api_join_group(struct sl_req *req);
int sl_api_sync_group(struct sl_req *req);
int sl_api_heartbeat(struct sl_req *req);
int sl_api_leave_group(struct sl_req *req);
int sl_api_list_groups(struct sl_req *req);
int sl_api_describe_groups(struct sl_req *req);
int sl_api_delete_groups(struct sl_req *req);
int sl_api_offset_commit(struct sl_req *req);
int sl_api_offset_fetch(struct sl_req *req);
int sl_api_offset_delete(struct sl_req *req);

/* The UNSUPPORTED_VERSION answer to an ApiVersions request of a version
 * newer than ours: a v0 body listing only ApiVersions (PROTOCOL.md §1.5). */
void sl_api_api_versions_unsupported(struct sl_req *req);

#endif
