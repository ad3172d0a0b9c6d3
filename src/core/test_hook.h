/* SPDX-License-Identifier: Apache-2.0
 *
 * Test hooks: pauses that a test asks for through the broker's environment
 * (SLUICE_TEST_*_MS), to hold the broker inside a window it would otherwise
 * cross too fast to observe. Unset, they cost nothing; set, the broker says
 * so at start, since they must never be set in production.
 */
#ifndef SL_CORE_TEST_HOOK_H
#define SL_CORE_TEST_HOOK_H

/* The milliseconds the variable env asks for: 0 when it is unset or empty;
 * when it is not a whole number from 0 to max_ms, a warning and 0; else a
 * warning ("test hook ENV=MS: " what) under subsys, and the value. */
int sl_test_hook_ms(const char *env, int max_ms, const char *subsys, const char *what);

/* Sleeps ms milliseconds; nothing when ms <= 0. */
void sl_test_hook_pause(int ms);

#endif
