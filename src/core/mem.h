/* SPDX-License-Identifier: Apache-2.0
 *
 * Allocation wrappers. Small internal allocations abort on failure (a broker
 * that cannot get 64 bytes cannot do anything useful); sizes chosen by a
 * peer are checked against limits by the caller before they get here.
 */
#ifndef SL_CORE_MEM_H
#define SL_CORE_MEM_H

#include <stddef.h>
#include <stdlib.h>

/* Each returns new memory (caller frees with free() or sl_free()); never
 * NULL: aborts with a message when the system refuses. */
void *sl_xmalloc(size_t n);
void *sl_xcalloc(size_t nmemb, size_t size);
void *sl_xrealloc(void *p, size_t n);
char *sl_xstrdup(const char *s);
char *sl_xstrndup(const char *s, size_t n);

/* Frees *pp and sets it to NULL in one step. */
#define sl_free(pp)                                                                                \
    do {                                                                                           \
        free(*(pp));                                                                               \
        *(pp) = NULL;                                                                              \
    } while (0)

#endif
