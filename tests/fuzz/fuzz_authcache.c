/*
 * fuzz_authcache.c: random store/check/forget/clock sequences against an LRU model.
 * FUZZ_SOURCES: proxy/authcache.c -lcrypto
 */
#include <stdbool.h>

#include "fuzz_util.h"
#include "proxy/authcache.h"

#define NUSERS 5
#define NPASS 3
#define TTL 20

static const char *const users[NUSERS] = {"jdoe", "JDOE", "alice", "", "bob"};
static const char *const pws[NPASS] = {"secret", "Secret", ""};

/* The model: users by recency, most recent first. */
struct mentry {
	int user, pw;
	int64_t verified;
};

struct model {
	struct mentry e[NUSERS];
	int n, size;
};

static int model_find(const struct model *m, int user)
{
	int i;

	for (i = 0; i < m->n; i++)
		if (m->e[i].user == user)
			return i;
	return -1;
}

static void model_remove(struct model *m, int i)
{
	memmove(&m->e[i], &m->e[i + 1], (size_t)(m->n - i - 1) * sizeof(m->e[0]));
	m->n--;
}

static void model_front(struct model *m, struct mentry x)
{
	memmove(&m->e[1], &m->e[0], (size_t)m->n * sizeof(m->e[0]));
	m->e[0] = x;
	m->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model m = {.n = 0};
	struct authcache *c;
	int64_t now = 500;
	size_t i;

	if (size < 1)
		return 0;
	m.size = 1 + data[0] % 4;
	c = authcache_new((size_t)m.size, (data[0] & 0x80) ? 0 : TTL);
	if (c == NULL)
		abort();
	for (i = 1; i + 1 < size; i += 2) {
		uint8_t op = data[i], arg = data[i + 1];
		int u = arg % NUSERS, p = (arg / NUSERS) % NPASS, k = model_find(&m, u);
		bool want, got;

		switch (op & 3) {
		case 0:
			now += (int64_t)(int8_t)arg;
			break;
		case 1:
			FUZZ_ASSERT(authcache_store(c, users[u], pws[p], now) == 0);
			if (data[0] & 0x80)
				break;
			if (k >= 0)
				model_remove(&m, k);
			else if (m.n == m.size)
				m.n--;
			model_front(&m, (struct mentry){u, p, now});
			break;
		case 2:
			authcache_forget(c, users[u]);
			if (k >= 0)
				model_remove(&m, k);
			break;
		case 3:
			want = false;
			if (k >= 0) {
				struct mentry x = m.e[k];

				if (now < x.verified || now - x.verified >= TTL) {
					model_remove(&m, k);
				} else if (x.pw == p) {
					want = true;
					model_remove(&m, k);
					model_front(&m, x);
				}
			}
			got = authcache_check(c, users[u], pws[p], now);
			FUZZ_ASSERT(got == want);
			break;
		}
		FUZZ_ASSERT(authcache_count(c) == (size_t)m.n);
	}
	authcache_free(c);
	return 0;
}
