/* SPDX-License-Identifier: Apache-2.0
 *
 * A tiny assertion harness for the C unit tests (in the spirit of valkey
 * src/unit/test_help.h). Each test binary calls TEST_RUN for each case and
 * ends with TEST_REPORT, which prints "N passed, N failed" and sets the exit
 * status for CTest.
 */
#ifndef SL_TEST_HELP_H
#define SL_TEST_HELP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed_flag;
static int tests_passed, tests_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                      \
            test_failed_flag = 1;                                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        if (_a != _b) {                                                                            \
            fprintf(stderr, "  FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a, #b, \
                    _a, _b);                                                                       \
            test_failed_flag = 1;                                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define TEST_RUN(fn)                                                                               \
    do {                                                                                           \
        test_failed_flag = 0;                                                                      \
        fn();                                                                                      \
        if (test_failed_flag) {                                                                    \
            tests_failed++;                                                                        \
            fprintf(stderr, "[FAIL] %s\n", #fn);                                                   \
        } else {                                                                                   \
            tests_passed++;                                                                        \
            fprintf(stderr, "[ ok ] %s\n", #fn);                                                   \
        }                                                                                          \
    } while (0)

#define TEST_REPORT()                                                                              \
    do {                                                                                           \
        printf("%d passed, %d failed\n", tests_passed, tests_failed);                              \
        return (tests_failed || tests_passed == 0) ? 1 : 0;                                        \
    } while (0)

#endif
