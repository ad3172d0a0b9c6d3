/* SPDX-License-Identifier: Apache-2.0
 *
 * Long-poll support shared between Produce and Fetch.
 */
#ifndef SL_API_FETCH_H
#define SL_API_FETCH_H

struct sl_broker;

/* Tells every network thread that has parked fetches that some partition
 * grew, so they re-check them. Any thread; costs one atomic load per thread
 * when nothing is parked, and at most one wake-up per thread per burst. */
void sl_fetch_notify(struct sl_broker *b);

#endif
