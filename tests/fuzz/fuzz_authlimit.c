/*
 * fuzz_authlimit.c: random sequences of failures, successes and clock steps against a model.
 * FUZZ_SOURCES: policy
 */
#include <stdbool.h>

#include "authlimit.h"
#include "fuzz_util.h"
#include "net.h"

#define NIPS 8
#define NUSERS 6
#define WINDOW 50
#define LIMIT 4

static const char *const ip_text[NIPS] = {"192.0.2.1",	 "192.0.2.2",	"::ffff:192.0.2.1",
					  "2001:db8::1", "2001:db8::2", "2001:db8:0:1::1",
					  "10.0.0.1",	 "::"};
/* Which counter each address shares: v4-mapped = IPv4, one /64 = one counter. */
static const int ip_group[NIPS] = {0, 1, 0, 2, 2, 3, 4, 5};
static const char *const users[NUSERS] = {"jdoe", "JDOE", "alice", "bob", "", NULL};
static const int user_group[NUSERS] = {0, 0, 1, 2, -1, -1};

struct model {
	unsigned count;
	int64_t first;
	bool set;
};

static bool live(const struct model *m, int64_t now)
{
	return m->set && (now < m->first || now - m->first < WINDOW);
}

static void model_fail(struct model *m, int64_t now)
{
	if (!live(m, now)) {
		m->count = 0;
		m->first = now;
		m->set = true;
	} else if (now < m->first) {
		m->first = now;
	}
	m->count++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Room for every key: the model needs no eviction. A tiny one runs alongside for churn. */
	const struct ag_authlimit_conf conf = {16, LIMIT, LIMIT, WINDOW, 64, 1000000};
	const struct ag_authlimit_conf tiny_conf = {2, 1, 1, 5, 2, 5};
	struct ag_authlimit *t = authlimit_new(&conf), *tiny = authlimit_new(&tiny_conf);
	bool familiar[NIPS][NUSERS] = {{false}};
	struct model mip[NIPS] = {{0}}, muser[NUSERS] = {{0}};
	struct ag_ip ips[NIPS];
	const char *why;
	int64_t now = 1000;
	size_t i;
	int k;

	if (t == NULL || tiny == NULL)
		abort();
	for (k = 0; k < NIPS; k++)
		if (net_parse_ip(ip_text[k], &ips[k], &why) < 0)
			abort();
	for (i = 0; i + 1 < size; i += 2) {
		uint8_t op = data[i], arg = data[i + 1];
		int ipi = arg % NIPS, ui = (arg / NIPS) % NUSERS, ug = user_group[ui];
		const struct ag_ip *ip = (op & 0x40) ? NULL : &ips[ipi];
		unsigned want, got;

		switch (op & 3) {
		case 0: /* the clock moves, sometimes back */
			now += (int64_t)(int8_t)arg;
			break;
		case 1:
			authlimit_fail(t, ip, users[ui], now);
			authlimit_fail(tiny, ip, users[ui], now);
			if (ip != NULL)
				model_fail(&mip[ip_group[ipi]], now);
			if (ug >= 0)
				model_fail(&muser[ug], now);
			break;
		case 2:
			authlimit_success(t, ip, users[ui], now);
			authlimit_success(tiny, ip, users[ui], now);
			/* No counter is cleared; the network becomes familiar for the user. */
			if (ug >= 0 && ip != NULL)
				familiar[ip_group[ipi]][ug] = true;
			break;
		case 3:
			want = 0;
			if (ip != NULL && live(&mip[ip_group[ipi]], now))
				want = mip[ip_group[ipi]].count;
			if (ug >= 0 && live(&muser[ug], now) && muser[ug].count > want)
				want = muser[ug].count;
			got = authlimit_failures(t, ip, users[ui], now);
			FUZZ_ASSERT(got == want);
			{
				bool net = ip != NULL && live(&mip[ip_group[ipi]], now) &&
					   mip[ip_group[ipi]].count >= LIMIT;
				bool usr = ug >= 0 && live(&muser[ug], now) &&
					   muser[ug].count >= LIMIT &&
					   !(ip != NULL && familiar[ip_group[ipi]][ug]);
				enum ag_authlimit_rule r = authlimit_check(t, ip, users[ui], now);

				FUZZ_ASSERT(r == (net   ? AG_AUTHLIMIT_NETWORK
						  : usr ? AG_AUTHLIMIT_USER
							: AG_AUTHLIMIT_OK));
			}
			FUZZ_ASSERT(authlimit_delay_ms(t, ip, users[ui], now) >= 500);
			FUZZ_ASSERT(authlimit_delay_ms(t, ip, users[ui], now) <= 8000);
			(void)authlimit_failures(tiny, ip, users[ui], now);
			break;
		}
	}
	authlimit_free(t);
	authlimit_free(tiny);
	return 0;
}
