/*
 * test_policy_authlimit.c: failed-AUTH counters: limit, window, per user and per network,
 * eviction; smart lockout: familiar networks, rules, audit reasons; the shared (Redis)
 * view merged in, and its key names.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authlimit.h"
#include "authshare.h"
#include "net.h"
#include "tap.h"

static struct ag_ip ip(const char *s)
{
	struct ag_ip a;
	const char *why;

	if (net_parse_ip(s, &a, &why) < 0) {
		printf("# bad test address %s: %s\n", s, why);
		abort();
	}
	return a;
}

/* The older shape: one limit for networks and users; familiar pairs for 64, for a day. */
static struct ag_authlimit *al_new(size_t capacity, unsigned limit, unsigned window)
{
	const struct ag_authlimit_conf conf = {capacity, limit, limit, window, 64, 86400};

	return authlimit_new(&conf);
}

static bool blocked(const struct ag_authlimit *t, const struct ag_ip *a, const char *user,
		    int64_t now)
{
	return authlimit_check(t, a, user, now) != AG_AUTHLIMIT_OK;
}

static void test_limit(void)
{
	struct ag_authlimit *t = al_new(64, 3, 600);
	struct ag_ip a = ip("203.0.113.7"), b = ip("203.0.113.8");

	ok(t != NULL, "a table of 64 entries");
	is_int(authlimit_failures(t, &a, "jdoe", 1000), 0, "no failures yet");
	ok(!blocked(t, &a, "jdoe", 1000), "not blocked before any failure");
	authlimit_fail(t, &a, "jdoe", 1000);
	authlimit_fail(t, &a, "jdoe", 1001);
	is_int(authlimit_failures(t, &a, "jdoe", 1002), 2, "two failures counted");
	ok(!blocked(t, &a, "jdoe", 1002), "2 of 3: not blocked");
	authlimit_fail(t, &a, "jdoe", 1003);
	ok(blocked(t, &a, "jdoe", 1004), "3 of 3: blocked");
	ok(blocked(t, &a, NULL, 1004), "the address alone is blocked");
	ok(blocked(t, &b, "jdoe", 1004), "the user is blocked from another address");
	ok(!blocked(t, &b, "alice", 1004), "another user from another address is not");
	is_int(authlimit_failures(t, NULL, NULL, 1004), 0, "no client, no user: nothing to count");
	authlimit_free(t);
}

static void test_window(void)
{
	struct ag_authlimit *t = al_new(16, 2, 600);
	struct ag_ip a = ip("198.51.100.1");

	authlimit_fail(t, &a, NULL, 10000);
	authlimit_fail(t, &a, NULL, 10100);
	ok(blocked(t, &a, NULL, 10599), "blocked inside the window");
	is_int(authlimit_failures(t, &a, NULL, 10599), 2, "2 failures at 599 s");
	is_int(authlimit_failures(t, &a, NULL, 10600), 0, "counts 0 once the window is over");
	ok(!blocked(t, &a, NULL, 10600), "no longer blocked after the window");
	authlimit_fail(t, &a, NULL, 10700);
	is_int(authlimit_failures(t, &a, NULL, 10701), 1,
	       "a failure after expiry starts a new window");
	/* A clock stepped back must not wipe a count nor make it immortal. */
	authlimit_fail(t, &a, NULL, 5000);
	is_int(authlimit_failures(t, &a, NULL, 5001), 2, "clock stepped back: count kept");
	is_int(authlimit_failures(t, &a, NULL, 5600), 0, "and the window restarts at the new time");
	authlimit_free(t);
}

static void test_per_user(void)
{
	struct ag_authlimit *t = al_new(64, 5, 600);
	struct ag_ip a = ip("192.0.2.1"), b = ip("192.0.2.2"), c = ip("192.0.2.3");
	unsigned i;

	/* A botnet: one failure per address against one user. */
	authlimit_fail(t, &a, "victim", 100);
	authlimit_fail(t, &b, "victim", 101);
	authlimit_fail(t, &c, "victim", 102);
	is_int(authlimit_failures(t, &a, NULL, 103), 1, "each address has one failure");
	is_int(authlimit_failures(t, NULL, "victim", 103), 3, "the user has three");
	is_int(authlimit_failures(t, NULL, "VICTIM", 103), 3, "user names are case-folded");
	authlimit_success(t, &a, "Victim", 104);
	is_int(authlimit_failures(t, NULL, "victim", 105), 3,
	       "a success does not clear the user (no fresh guesses for an attacker)");
	is_int(authlimit_failures(t, &a, NULL, 105), 1, "nor the address");
	for (i = 0; i < 5; i++)
		authlimit_fail(t, &a, "other", 200 + i);
	ok(blocked(t, &a, "victim", 210), "a blocked address blocks every user from it");
	authlimit_success(t, &a, "other", 211);
	ok(blocked(t, &a, NULL, 212), "success does not unblock the address");
	authlimit_free(t);
}

static void test_ipv6_grouping(void)
{
	struct ag_authlimit *t = al_new(64, 3, 600);
	struct ag_ip x1 = ip("2001:db8:1:2::1"), x2 = ip("2001:db8:1:2:ffff::9");
	struct ag_ip y = ip("2001:db8:1:3::1"), m = ip("::ffff:192.0.2.9"), v4 = ip("192.0.2.9");
	struct ag_ip v4b = ip("192.0.2.10");

	authlimit_fail(t, &x1, NULL, 1);
	authlimit_fail(t, &x2, NULL, 2);
	is_int(authlimit_failures(t, &x1, NULL, 3), 2, "two addresses in one /64 share a counter");
	is_int(authlimit_failures(t, &y, NULL, 3), 0, "the next /64 is separate");
	authlimit_fail(t, &m, NULL, 4);
	is_int(authlimit_failures(t, &v4, NULL, 5), 1, "v4-mapped and IPv4 are one client");
	is_int(authlimit_failures(t, &v4b, NULL, 5), 0, "IPv4 counts per address, not per /64");
	authlimit_free(t);
}

static void test_eviction(void)
{
	struct ag_authlimit *t = al_new(4, 10, 600);
	struct ag_ip a[6];
	char buf[32];
	unsigned i;

	for (i = 0; i < 6; i++) {
		snprintf(buf, sizeof(buf), "10.0.0.%u", i + 1);
		a[i] = ip(buf);
	}
	for (i = 0; i < 4; i++)
		authlimit_fail(t, &a[i], NULL, 100 + i);
	is_int(authlimit_failures(t, &a[0], NULL, 110), 1, "capacity 4: first entry present");
	is_int(authlimit_failures(t, &a[3], NULL, 110), 1, "capacity 4: fourth entry present");
	/* a[0] fails again: it becomes the most recent, a[1] the oldest. */
	authlimit_fail(t, &a[0], NULL, 111);
	authlimit_fail(t, &a[4], NULL, 112);
	is_int(authlimit_failures(t, &a[1], NULL, 113), 0, "the least recently failed was evicted");
	is_int(authlimit_failures(t, &a[0], NULL, 113), 2, "a recently active one was kept");
	is_int(authlimit_failures(t, &a[4], NULL, 113), 1, "the newcomer is counted");
	authlimit_fail(t, &a[5], NULL, 114);
	is_int(authlimit_failures(t, &a[2], NULL, 115), 0, "the next oldest goes next");
	is_int(authlimit_failures(t, &a[3], NULL, 115), 1, "and only that one");

	/* Users are a separate table with the same rule. */
	authlimit_fail(t, NULL, "u1", 200);
	authlimit_fail(t, NULL, "u2", 201);
	authlimit_fail(t, NULL, "u3", 202);
	authlimit_fail(t, NULL, "u4", 203);
	authlimit_fail(t, NULL, "u5", 204);
	is_int(authlimit_failures(t, NULL, "u1", 205), 0, "oldest user evicted");
	is_int(authlimit_failures(t, NULL, "u5", 205), 1, "newest user kept");
	is_int(authlimit_failures(t, &a[0], NULL, 205), 2, "users do not evict addresses");
	authlimit_free(t);
}

/* Many keys through a tiny table: no crash, no loss of the most recent, bounded work. */
static void test_churn(void)
{
	struct ag_authlimit *t = al_new(8, 3, 600);
	char user[64];
	unsigned i, bad = 0;

	for (i = 0; i < 20000; i++) {
		snprintf(user, sizeof(user), "user%u", i);
		authlimit_fail(t, NULL, user, 1000);
		if (authlimit_failures(t, NULL, user, 1000) != 1)
			bad++;
	}
	is_int(bad, 0, "20000 users through 8 entries: the newest is always counted");
	authlimit_free(t);
}

static void test_delay(void)
{
	struct ag_authlimit *t = al_new(16, 100, 600);
	struct ag_ip a = ip("203.0.113.50");
	unsigned want[] = {500, 1000, 2000, 4000, 8000, 8000, 8000};
	unsigned i, bad = 0;

	is_int(authlimit_delay_ms(t, &a, "x", 1), 500, "even the first failure waits 500 ms");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		authlimit_fail(t, &a, "x", 1);
		if (authlimit_delay_ms(t, &a, "x", 1) != want[i]) {
			printf("# failure %u: delay %u, want %u\n", i + 1,
			       authlimit_delay_ms(t, &a, "x", 1), want[i]);
			bad++;
		}
	}
	is_int(bad, 0, "delay doubles per failure up to 8 s");
	for (i = 0; i < 100; i++)
		authlimit_fail(t, &a, "x", 1);
	is_int(authlimit_delay_ms(t, &a, "x", 1), 8000, "capped at 8 s after 107 failures");
	authlimit_free(t);
}

static void test_edges(void)
{
	struct ag_authlimit *t = al_new(4, 0, 600);
	struct ag_ip a = ip("192.0.2.77");
	char longname[600];

	ok(al_new(0, 5, 600) == NULL, "capacity 0 is refused");
	authlimit_fail(t, &a, NULL, 1);
	ok(!blocked(t, &a, NULL, 2), "limit 0 never blocks");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	authlimit_fail(t, NULL, longname, 1);
	is_int(authlimit_failures(t, NULL, longname, 2), 1, "an overlong user name is counted");
	authlimit_fail(t, NULL, "", 1);
	is_int(authlimit_failures(t, NULL, "", 2), 0, "an empty user name is not a key");
	authlimit_fail(t, &a, NULL, INT64_MAX);
	is_int(authlimit_failures(t, &a, NULL, INT64_MIN), 1,
	       "extreme times: a new window, no overflow");
	authlimit_free(t);
	authlimit_free(NULL);
}

/* The scenario: a distributed guesser against one user, the user at home, a stranger. */
static void test_smart_lockout(void)
{
	const struct ag_authlimit_conf conf = {64, 5, 10, 600, 16, 30 * 86400};
	struct ag_authlimit *t = authlimit_new(&conf);
	struct ag_ip home = ip("198.51.100.20"), home6 = ip("2001:db8:5:6::1");
	struct ag_ip home6b = ip("2001:db8:5:6:ffff::2"), stranger = ip("192.0.2.200");
	struct ag_ip bot[10];
	char buf[32];
	unsigned i;

	ok(t != NULL, "a table with smart lockout");
	authlimit_success(t, &home, "jdoe", 1000);
	authlimit_success(t, &home6, "JDoe", 1000);
	ok(authlimit_familiar(t, &home, "jdoe", 1001), "a success makes the network familiar");
	ok(authlimit_familiar(t, &home6b, "jdoe", 1001), "for the whole IPv6 /64, case-folded");
	ok(!authlimit_familiar(t, &home, "alice", 1001), "for that user only");
	ok(!authlimit_familiar(t, &stranger, "jdoe", 1001), "not for other networks");
	for (i = 0; i < 10; i++) {
		snprintf(buf, sizeof(buf), "203.0.113.%u", i + 1);
		bot[i] = ip(buf);
		is_int(authlimit_check(t, &bot[i], i % 2 ? "JDOE" : "jdoe", 1100 + i), AG_AUTHLIMIT_OK,
		       "a guess from a new address goes ahead");
		authlimit_fail(t, &bot[i], i % 2 ? "JDOE" : "jdoe", 1100 + i);
	}
	is_int(authlimit_failures(t, NULL, "jDoE", 1200), 10, "the case variants share one counter");
	is_int(authlimit_check(t, &stranger, "jdoe", 1200), AG_AUTHLIMIT_USER,
	       "10 failures from 10 addresses: a stranger is locked out");
	is_int(authlimit_check(t, &bot[0], "jdoe", 1200), AG_AUTHLIMIT_USER,
	       "so is every guessing address");
	is_int(authlimit_check(t, &home, "jdoe", 1200), AG_AUTHLIMIT_OK,
	       "the user's familiar network is not");
	is_int(authlimit_check(t, &home6b, "jdoe", 1200), AG_AUTHLIMIT_OK, "nor her IPv6 /64");
	is_int(authlimit_check(t, &stranger, "alice", 1200), AG_AUTHLIMIT_OK,
	       "another user from the stranger's address is not locked out");
	authlimit_success(t, &home, "jdoe", 1201);
	is_int(authlimit_check(t, &stranger, "jdoe", 1202), AG_AUTHLIMIT_USER,
	       "her login at home does not unlock strangers");
	is_int(authlimit_check(t, &stranger, "jdoe", 1100 + 600), AG_AUTHLIMIT_OK,
	       "the lockout ends with the window");

	/* A refused attempt counts against the network, not the user. */
	for (i = 0; i < 10; i++)
		authlimit_fail(t, &bot[i], "jdoe", 2000);
	for (i = 0; i < 5; i++)
		authlimit_refused(t, &stranger, 2001);
	is_int(authlimit_failures(t, NULL, "jdoe", 2002), 10, "refusals do not add to the user");
	is_int(authlimit_check(t, &stranger, "alice", 2002), AG_AUTHLIMIT_NETWORK,
	       "but a network refused 5 times reaches auth_fail_limit");
	is_int(authlimit_check(t, &home, "jdoe", 2002), AG_AUTHLIMIT_OK,
	       "home still works during the second attack");

	/* Familiarity lasts familiar_ttl from the last success. */
	ok(authlimit_familiar(t, &home, "jdoe", 1201 + 30 * 86400 - 1), "familiar for 30 days");
	ok(!authlimit_familiar(t, &home, "jdoe", 1201 + 30 * 86400), "then forgotten");
	authlimit_free(t);
}

/* Familiar pairs are a bounded LRU table: the least recently used goes first. */
static void test_familiar_eviction(void)
{
	const struct ag_authlimit_conf conf = {8, 5, 5, 600, 4, 86400};
	struct ag_authlimit *t = authlimit_new(&conf);
	struct ag_ip a = ip("192.0.2.1");
	char user[16];
	unsigned i;

	for (i = 0; i < 4; i++) {
		snprintf(user, sizeof(user), "u%u", i);
		authlimit_success(t, &a, user, 100 + i);
	}
	authlimit_success(t, &a, "u0", 110); /* u0 used again: u1 is now the oldest */
	authlimit_success(t, &a, "u4", 111);
	ok(!authlimit_familiar(t, &a, "u1", 112), "capacity 4: the least recently used forgotten");
	ok(authlimit_familiar(t, &a, "u0", 112), "a recently used pair kept");
	ok(authlimit_familiar(t, &a, "u4", 112), "the newcomer kept");
	authlimit_free(t);
	{
		const struct ag_authlimit_conf bad = {8, 5, 5, 600, 0, 86400};

		ok(authlimit_new(&bad) == NULL, "familiar capacity 0 is refused");
		ok(authlimit_new(NULL) == NULL, "no conf is refused");
	}
}

static void test_reasons(void)
{
	const char *n = authlimit_rule_reason(AG_AUTHLIMIT_NETWORK);
	const char *u = authlimit_rule_reason(AG_AUTHLIMIT_USER);

	ok(n != NULL && strstr(n, "auth_fail_limit") != NULL, "the network reason names its key");
	ok(u != NULL && strstr(u, "auth_user_fail_limit") != NULL, "the user reason names its key");
	ok(authlimit_rule_reason(AG_AUTHLIMIT_OK) == NULL, "no reason when nothing refused");
	is_int(authlimit_reason_rule(n), AG_AUTHLIMIT_NETWORK, "network reason read back");
	is_int(authlimit_reason_rule(u), AG_AUTHLIMIT_USER, "user reason read back");
	is_int(authlimit_reason_rule("wrong password"), AG_AUTHLIMIT_OK,
	       "a wrong password is not a limit");
	is_int(authlimit_reason_rule(NULL), AG_AUTHLIMIT_OK, "no reason is not a limit");
}

/* What Redis says (the other proxies' failures) merges with the local tables, larger wins. */
static void test_shared(void)
{
	const struct ag_authlimit_conf conf = {64, 5, 10, 600, 16, 30 * 86400};
	struct ag_authlimit *t = authlimit_new(&conf);
	struct ag_ip a = ip("192.0.2.7"), home = ip("198.51.100.20");
	struct ag_authlimit_shared sh = {0, 0, false};

	ok(t != NULL, "a table for the shared view");
	is_int(authlimit_check_shared(t, &a, "jdoe", 100, NULL), AG_AUTHLIMIT_OK, "nothing yet");
	sh.ip_failures = 4;
	is_int(authlimit_check_shared(t, &a, "jdoe", 100, &sh), AG_AUTHLIMIT_OK,
	       "4 shared network failures: under auth_fail_limit");
	sh.ip_failures = 5;
	is_int(authlimit_check_shared(t, &a, "jdoe", 100, &sh), AG_AUTHLIMIT_NETWORK,
	       "5 from the other proxies: the network is refused here");
	is_int(authlimit_check_shared(t, NULL, "jdoe", 100, &sh), AG_AUTHLIMIT_OK,
	       "a trusted client (no address counted) is not refused by the network count");
	sh.ip_failures = 2;
	authlimit_fail(t, &a, NULL, 100);
	authlimit_fail(t, &a, NULL, 100);
	authlimit_fail(t, &a, NULL, 100);
	is_int(authlimit_check_shared(t, &a, NULL, 100, &sh), AG_AUTHLIMIT_OK,
	       "3 local, 2 shared: the larger (3) counts, not the sum");
	sh.ip_failures = 0;
	sh.user_failures = 10;
	is_int(authlimit_check_shared(t, &home, "jdoe", 100, &sh), AG_AUTHLIMIT_USER,
	       "a user over auth_user_fail_limit in Redis: unfamiliar network refused");
	sh.familiar = true;
	is_int(authlimit_check_shared(t, &home, "jdoe", 100, &sh), AG_AUTHLIMIT_OK,
	       "a network familiar in Redis (learnt on another proxy) goes ahead");
	sh.familiar = false;
	authlimit_success(t, &home, "jdoe", 100);
	is_int(authlimit_check_shared(t, &home, "jdoe", 100, &sh), AG_AUTHLIMIT_OK,
	       "familiar locally is enough too (learnt while Redis was away)");
	sh.user_failures = 3;
	is_int(authlimit_delay_ms_shared(t, &home, "jdoe", 100, &sh), 2000,
	       "the delay grows with the shared count");
	is_int(authlimit_delay_ms_shared(t, &home, "jdoe", 100, NULL), 500,
	       "and without it, with the local one");
	authlimit_free(t);
}

static void test_shared_keys(void)
{
	char b[AG_SHARED_KEY_MAX], small[12];
	struct ag_ip v4 = ip("192.0.2.7"), v6 = ip("2001:db8:1:2:3:4:5:6");

	ok(authshare_key_network("ag:", &v4, b, sizeof(b)) == 0, "a network key");
	is_str(b, "ag:net:192.0.2.7", "IPv4 per address");
	ok(authshare_key_network("ag:", &v6, b, sizeof(b)) == 0, "an IPv6 network key");
	is_str(b, "ag:net:2001:db8:1:2::/64", "IPv6 per /64");
	ok(authshare_network(&v6, b, sizeof(b)) == 0, "a familiar member");
	is_str(b, "2001:db8:1:2::/64", "the member is the network");
	ok(authshare_key_user("ag:", "JDoe", b, sizeof(b)) == 0, "a user key");
	is_str(b, "ag:user:jdoe", "case folded as the local table does");
	ok(authshare_key_familiar("ag:", "J Doe\r\n%", b, sizeof(b)) == 0, "odd bytes");
	is_str(b, "ag:fam:j%20doe%0D%0A%25", "are written %XX: one printable spelling");
	ok(authshare_key_user("ag:", "", b, sizeof(b)) < 0, "no user, no key");
	ok(authshare_key_user("ag:", NULL, b, sizeof(b)) < 0, "NULL user, no key");
	ok(authshare_key_network("ag:", NULL, b, sizeof(b)) < 0, "no address, no key");
	ok(authshare_key_user("ag:", "averylongname", small, sizeof(small)) < 0,
	   "a key that does not fit is refused, not cut");
}

int main(void)
{
	test_shared();
	test_shared_keys();
	test_limit();
	test_window();
	test_per_user();
	test_ipv6_grouping();
	test_eviction();
	test_churn();
	test_delay();
	test_edges();
	test_smart_lockout();
	test_familiar_eviction();
	test_reasons();
	return tap_done();
}
