/* authlimit.h: failed-authentication counters per network and per user, and familiar networks (smart lockout). */
#ifndef AG_AUTHLIMIT_H
#define AG_AUTHLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

struct ag_authlimit;

/* What the table is sized and limited by (authgate.conf keys in the comments). */
struct ag_authlimit_conf {
	size_t capacity;	  /* counters per table, networks and users */
	unsigned ip_limit;	  /* auth_fail_limit: failures per client network */
	unsigned user_limit;	  /* auth_user_fail_limit: failures per user, from anywhere */
	unsigned window;	  /* auth_fail_window, seconds */
	size_t familiar_capacity; /* auth_familiar_size: (user, network) pairs */
	unsigned familiar_ttl;	  /* auth_familiar_days, in seconds */
};

/* Which rule refuses an attempt (the audit record names it). */
enum ag_authlimit_rule {
	AG_AUTHLIMIT_OK = 0,
	AG_AUTHLIMIT_NETWORK, /* the client network is past ip_limit: 421 and close */
	AG_AUTHLIMIT_USER, /* the user is past user_limit and this network is not familiar: 454 */
};

/*
 * Fixed-size tables (capacity entries for networks, the same for users,
 * familiar_capacity for familiar pairs), least recently used entry evicted
 * when full, O(1) per lookup. IPv6 clients count per /64, IPv4 per address.
 * Users are keyed case-folded (the caller removes @login_domain first).
 * Time is passed in (Unix seconds): policy reads no clock. NULL if a
 * capacity is 0 or too large, or out of memory.
 */
struct ag_authlimit *authlimit_new(const struct ag_authlimit_conf *conf);
void authlimit_free(struct ag_authlimit *t);

/* Record one failure for the client network and for the user (user may be NULL). */
void authlimit_fail(struct ag_authlimit *t, const struct ag_ip *client, const char *user,
		    int64_t now);
/*
 * An attempt refused by AG_AUTHLIMIT_USER (the password was never checked):
 * counts against the client network, so a sprayer still reaches ip_limit,
 * but not against the user, whose lockout it must not prolong.
 */
void authlimit_refused(struct ag_authlimit *t, const struct ag_ip *client, int64_t now);
/*
 * A success makes the client network familiar for the user (for familiar_ttl).
 * No counter is cleared: a user logging in from home during an attack on
 * her account must not hand the attacker a fresh set of guesses.
 */
void authlimit_success(struct ag_authlimit *t, const struct ag_ip *client, const char *user,
		       int64_t now);

/* Failures in the current window, the larger of client's and user's. */
unsigned authlimit_failures(const struct ag_authlimit *t, const struct ag_ip *client,
			    const char *user, int64_t now);
/* Has the user logged in from this client network within familiar_ttl? */
bool authlimit_familiar(const struct ag_authlimit *t, const struct ag_ip *client, const char *user,
			int64_t now);
/* Before checking a password: may this attempt go ahead, and if not, by which rule. */
enum ag_authlimit_rule authlimit_check(const struct ag_authlimit *t, const struct ag_ip *client,
				       const char *user, int64_t now);

/*
 * What several proxies know together (shared_state, fetched from Redis by
 * the caller): failures in the window for the client network and the user,
 * and whether the network is familiar for the user.
 */
struct ag_authlimit_shared {
	unsigned ip_failures;
	unsigned user_failures;
	bool familiar;
};

/*
 * authlimit_check with the shared view merged in (sh NULL: local only).
 * The larger count wins and either table may vouch for familiarity: the
 * local tables are always updated too, so failures a proxy saw while Redis
 * was away still count once it is back.
 */
enum ag_authlimit_rule authlimit_check_shared(const struct ag_authlimit *t,
					      const struct ag_ip *client, const char *user,
					      int64_t now, const struct ag_authlimit_shared *sh);
/* authlimit_delay_ms with the shared counts merged in the same way (sh may be NULL). */
unsigned authlimit_delay_ms_shared(const struct ag_authlimit *t, const struct ag_ip *client,
				   const char *user, int64_t now,
				   const struct ag_authlimit_shared *sh);
/*
 * The audit reason of an attempt a rule refused, naming the rule's key; and
 * back, so that authgate-audit tells refusals from wrong passwords by the
 * same text the proxy writes. AG_AUTHLIMIT_OK: NULL / any other reason.
 */
const char *authlimit_rule_reason(enum ag_authlimit_rule rule);
enum ag_authlimit_rule authlimit_reason_rule(const char *reason);
/* Growing delay before the 535 reply, in milliseconds (e.g. 500 * 2^failures, capped at 8 s). */
unsigned authlimit_delay_ms(const struct ag_authlimit *t, const struct ag_ip *client,
			    const char *user, int64_t now);

#endif
