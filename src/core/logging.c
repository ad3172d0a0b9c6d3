/* SPDX-License-Identifier: Apache-2.0
 *
 * The operational log (see logging.h). Each line is formatted in a stack
 * buffer and written with a single write(2), so lines from several threads
 * never interleave.
 */
#include "core/logging.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum sl_loglevel sl_log_min_level = SL_LOG_INFO;

static const char *const level_names[SL_LOG_LEVEL_MAX] = {"DEBUG", "INFO", "WARN", "ERROR"};

void sl_logf(enum sl_loglevel level, const char *subsys, const char *fmt, ...)
{
    if (level < sl_log_min_level || level >= SL_LOG_LEVEL_MAX)
        return;
    char line[2048];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %-5s [%s] ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)(tv.tv_usec / 1000), level_names[level], subsys);
    if (n < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void sl_assert_fail(const char *expr, const char *file, int line)
{
    sl_logf(SL_LOG_ERROR, "assert", "assertion failed: %s (%s:%d)", expr, file, line);
    abort();
}
