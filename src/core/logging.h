/* SPDX-License-Identifier: Apache-2.0
 *
 * The broker's operational log: one line per event on stderr, with an ISO
 * time, a level and the subsystem. Thread-safe (one write(2) per line).
 * Sensitive values are never passed here.
 */
#ifndef SL_CORE_LOGGING_H
#define SL_CORE_LOGGING_H

enum sl_loglevel {
    SL_LOG_DEBUG = 0,
    SL_LOG_INFO,
    SL_LOG_WARN,
    SL_LOG_ERROR,
    SL_LOG_LEVEL_MAX
};

/* Lines below this level are dropped. Set once at start-up. */
extern enum sl_loglevel sl_log_min_level;

void sl_logf(enum sl_loglevel level, const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SL_DEBUG(sub, ...) sl_logf(SL_LOG_DEBUG, sub, __VA_ARGS__)
#define SL_INFO(sub, ...) sl_logf(SL_LOG_INFO, sub, __VA_ARGS__)
#define SL_WARN(sub, ...) sl_logf(SL_LOG_WARN, sub, __VA_ARGS__)
#define SL_ERROR(sub, ...) sl_logf(SL_LOG_ERROR, sub, __VA_ARGS__)

/* Fatal in every build (redis serverAssert). */
#define SL_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            sl_assert_fail(#cond, __FILE__, __LINE__);                                             \
    } while (0)
/* Branches that "cannot happen": kept as defensive code in release builds. */
#define SL_NEVER(x) (x)
#define SL_ALWAYS(x) (x)

_Noreturn void sl_assert_fail(const char *expr, const char *file, int line);

#endif
