/* fuzz_util.h: what the libFuzzer targets share: a checked assertion and a NUL-terminated copy. */
#ifndef AG_FUZZ_UTIL_H
#define AG_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A broken invariant is a crash: libFuzzer keeps the input that caused it. */
#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/*
 * The input as a C string, in a buffer of exactly size + 1 bytes so that
 * AddressSanitizer sees any read past the terminator. Embedded NULs stay:
 * the callee sees a shorter string, as it would from the C API.
 */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The input bytes alone, no terminator, for length-taking APIs (ASan catches over-reads). */
static inline char *fuzz_memdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size > 0 ? size : 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	return s;
}

#endif
