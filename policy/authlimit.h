/* authlimit.h: failed-authentication counters per client network and per user, bounded memory. */
#ifndef AG_AUTHLIMIT_H
#define AG_AUTHLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

struct ag_authlimit;

/*
 * A fixed-size table (capacity entries for IPs, the same for users), oldest
 * entry evicted when full, O(1) per lookup. IPv6 clients count per /64,
 * IPv4 per address. Time is passed in (Unix seconds): policy reads no clock.
 */
struct ag_authlimit *authlimit_new(size_t capacity, unsigned limit, unsigned window);
void authlimit_free(struct ag_authlimit *t);

/* Record one failure for the client and for the user (user may be NULL). */
void authlimit_fail(struct ag_authlimit *t, const struct ag_ip *client, const char *user, int64_t now);
/* A success clears the user's counter (not the IP's). */
void authlimit_success(struct ag_authlimit *t, const struct ag_ip *client, const char *user, int64_t now);

/* Failures in the current window, the larger of client's and user's. */
unsigned authlimit_failures(const struct ag_authlimit *t, const struct ag_ip *client, const char *user,
			    int64_t now);
/* true once failures >= limit: answer 421 4.7.0 and close. */
bool authlimit_blocked(const struct ag_authlimit *t, const struct ag_ip *client, const char *user, int64_t now);
/* Growing delay before the 535 reply, in milliseconds (e.g. 500 * 2^failures, capped at 8 s). */
unsigned authlimit_delay_ms(const struct ag_authlimit *t, const struct ag_ip *client, const char *user,
			    int64_t now);

#endif
