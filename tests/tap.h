/* tap.h: a minimal TAP producer for unit tests run by automake's tap-driver. */
#ifndef AG_TAP_H
#define AG_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static inline int tap_ok(int cond, const char *file, int line, const char *what)
{
	tap_count++;
	if (cond) {
		printf("ok %d - %s\n", tap_count, what);
	} else {
		tap_failed++;
		printf("not ok %d - %s\n# at %s:%d\n", tap_count, what, file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, what) tap_ok(!!(cond), __FILE__, __LINE__, (what))

#define is_int(got, want, what)                                                   \
	do {                                                                      \
		long long tap_g_ = (long long)(got), tap_w_ = (long long)(want);  \
		if (!tap_ok(tap_g_ == tap_w_, __FILE__, __LINE__, (what)))        \
			printf("#   got %lld, want %lld\n", tap_g_, tap_w_);        \
	} while (0)

#define is_str(got, want, what)                                                   \
	do {                                                                      \
		const char *tap_g_ = (got), *tap_w_ = (want);                    \
		int tap_c_ = tap_g_ && tap_w_ && strcmp(tap_g_, tap_w_) == 0;     \
		if (!tap_ok(tap_c_, __FILE__, __LINE__, (what)))                  \
			printf("#   got \"%s\", want \"%s\"\n",                      \
			       tap_g_ ? tap_g_ : "(null)", tap_w_ ? tap_w_ : "(null)"); \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
