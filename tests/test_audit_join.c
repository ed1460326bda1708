/* test_audit_join.c: joining proxy and milter records, rotated file order, bounded tables. */
#include <stdlib.h>
#include <string.h>

#include "audit/cmd.h"
#include "audit/files.h"
#include "audit/join.h"
#include "audit/table.h"
#include "tap.h"

#define MAX_ROWS 64

/* What the tests look at in an emitted row (copied: the row lives only in the callback). */
struct seen {
	int64_t ts;
	char user[32];
	char qid[32];
	char reply[64];
	char route[16];
	enum rec_action action;
	unsigned sources;
};

static struct seen rows[MAX_ROWS];
static size_t nrows;

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "(null)");
}

static void collect(void *ctx, const struct msg_row *row)
{
	(void)ctx;
	if (nrows == MAX_ROWS)
		return;
	rows[nrows].ts = row->ts_ms;
	copy(rows[nrows].user, sizeof(rows[nrows].user), row->user);
	copy(rows[nrows].qid, sizeof(rows[nrows].qid), row->queue_id);
	copy(rows[nrows].reply, sizeof(rows[nrows].reply), row->backend_reply);
	copy(rows[nrows].route, sizeof(rows[nrows].route), row->route);
	rows[nrows].action = row->action;
	rows[nrows].sources = row->sources;
	nrows++;
}

static struct audit_rec proxy_rec(int64_t ts, const char *user, const char *reply)
{
	struct audit_rec r;

	memset(&r, 0, sizeof(r));
	r.ts_ms = ts;
	r.component = REC_PROXY;
	r.event = REC_MESSAGE;
	r.action = REC_ACT_ACCEPT;
	r.auth_user = user;
	r.backend_reply = reply;
	r.size = -1;
	return r;
}

static struct audit_rec milter_rec(int64_t ts, const char *user, const char *qid,
				   enum rec_action action)
{
	struct audit_rec r;

	memset(&r, 0, sizeof(r));
	r.ts_ms = ts;
	r.component = REC_MILTER;
	r.event = REC_MESSAGE;
	r.action = action;
	r.auth_user = user;
	r.queue_id = qid;
	r.route = "hub";
	r.size = -1;
	return r;
}

static void test_reply_queue_id(void)
{
	char qid[JOIN_MAX_QID + 1];

	ok(join_reply_queue_id("250 2.0.0 Ok: queued as 4F3A1", qid, sizeof(qid)) == 0 &&
	       strcmp(qid, "4F3A1") == 0,
	   "queue id from Postfix's reply");
	ok(join_reply_queue_id("250 OK QUEUED AS 4Y7h6D1Dbmz9vVH (long id)", qid, sizeof(qid)) ==
		   0 &&
	       strcmp(qid, "4Y7h6D1Dbmz9vVH") == 0,
	   "long queue id, marker in any case, text after it");
	is_int(join_reply_queue_id("451 4.3.0 Error: queue file write error", qid, sizeof(qid)), -1,
	       "no queue id in a refusal");
	is_int(join_reply_queue_id("250 2.0.0 Ok: queued as ", qid, sizeof(qid)), -1, "empty id");
	is_int(join_reply_queue_id(NULL, qid, sizeof(qid)), -1, "no reply");
	is_int(join_reply_queue_id("250 queued as 0123456789012345678901234567890123456789", qid,
				   sizeof(qid)),
	       -1, "an id longer than the buffer is refused, not cut");
}

static void test_join(void)
{
	struct audit_rec p, m, lone;
	struct join *j;

	nrows = 0;
	j = join_new(collect, NULL);
	ok(j != NULL, "join_new");

	/* The milter logs first (Postfix ran it before answering the proxy). */
	m = milter_rec(1000, "jdoe", "4F3A1", REC_ACT_ACCEPT);
	join_add(j, &m);
	is_int(nrows, 0, "a milter record waits for its proxy partner");
	p = proxy_rec(1100, "jdoe", "250 2.0.0 Ok: queued as 4F3A1");
	join_add(j, &p);
	is_int(nrows, 1, "pair complete: one row");
	is_int(rows[0].sources, ROW_FROM_PROXY | ROW_FROM_MILTER, "built from both records");
	is_int(rows[0].ts, 1000, "the row's time is the earliest record's");
	is_str(rows[0].reply, "250 2.0.0 Ok: queued as 4F3A1", "backend reply from the proxy");
	is_str(rows[0].route, "hub", "route from the milter");

	/* The other order, and the milter's action wins over the proxy's. */
	p = proxy_rec(2000, "alice", "250 2.0.0 Ok: queued as 7C9D2E");
	join_add(j, &p);
	m = milter_rec(2050, "alice", "7C9D2E", REC_ACT_TAG);
	join_add(j, &m);
	ok(nrows == 2 && rows[1].sources == (ROW_FROM_PROXY | ROW_FROM_MILTER) &&
	       strcmp(rows[1].qid, "7C9D2E") == 0,
	   "proxy first, milter second: joined");
	is_int(rows[1].action, REC_ACT_TAG, "the milter decides last: its action");

	/* Order is the order of first records: a complete row waits behind an incomplete one. */
	m = milter_rec(3000, NULL, "AAA", REC_ACT_TAG);
	join_add(j, &m);
	lone = proxy_rec(3001, "bob", "451 4.4.1 backend down");
	join_add(j, &lone);
	is_int(nrows, 2, "an unjoinable row queues behind a waiting one");
	m = milter_rec(3000 + JOIN_WINDOW_MS + 1, "", "BBB", REC_ACT_ACCEPT);
	join_add(j, &m);
	is_int(nrows, 4, "past the window the waiting one goes alone, then the one behind it");
	ok(rows[2].sources == ROW_FROM_MILTER && strcmp(rows[2].user, "(null)") == 0,
	   "unjoined milter row, no user");
	ok(rows[3].sources == ROW_FROM_PROXY && strcmp(rows[3].user, "bob") == 0,
	   "then the proxy's refused message");
	join_flush(j);
	is_int(nrows, 5, "flush emits what still waits");
	is_str(rows[4].user, "(null)", "an empty auth_user is no user");
	is_int(join_stats(j)->joined, 2, "stats: two joined rows");
	join_free(j);
}

/* One record stamped far ahead must not end joining for the rest of the log. */
static void test_join_future(void)
{
	struct audit_rec p, m;
	struct join *j;

	nrows = 0;
	j = join_new(collect, NULL);
	p = proxy_rec(INT64_C(4000000000000), "x", "451 4.4.1 try later"); /* 2096, unjoinable */
	join_add(j, &p);
	m = milter_rec(50000, "carol", "C1", REC_ACT_ACCEPT);
	join_add(j, &m);
	p = proxy_rec(50100, "carol", "250 2.0.0 Ok: queued as C1");
	join_add(j, &p);
	join_flush(j);
	ok(nrows == 2 && rows[1].sources == (ROW_FROM_PROXY | ROW_FROM_MILTER),
	   "a pair after a far-future record is still joined");
	join_free(j);
}

/* Waiting records never hold more than JOIN_MAX_BYTES, whatever the log's clock does. */
static void test_join_bound(void)
{
	static const char *rcpts[64];
	static char names[64][40];
	struct audit_rec m;
	struct join *j;
	char qid[16];
	size_t i;

	for (i = 0; i < 64; i++) {
		snprintf(names[i], sizeof(names[i]), "recipient-number-%zu@example.org", i);
		rcpts[i] = names[i];
	}
	nrows = 0;
	j = join_new(collect, NULL);
	for (i = 0; i < 20000; i++) {
		snprintf(qid, sizeof(qid), "Q%zu", i);
		m = milter_rec(5000, NULL, qid,
			       REC_ACT_TAG); /* one instant: the window never ends */
		m.rcpts = rcpts;
		m.nrcpts = 64;
		join_add(j, &m);
	}
	ok(join_stats(j)->evicted > 0, "oldest records evicted past JOIN_MAX_BYTES");
	ok(join_stats(j)->peak_bytes <= JOIN_MAX_BYTES + 8192, "peak of waiting bytes bounded");
	join_flush(j);
	is_int(join_stats(j)->rows, 20000, "every record still became a row");
	join_free(j);
}

static void test_files(void)
{
	static const char *in[] = {"/l/audit.jsonl",   "/l/audit.jsonl.2.gz", "other.log",
				   "/l/audit.jsonl.1", "/l/audit.jsonl.10",   "/l/audit.jsonl.1"};
	static const char *in2[] = {"a-20261102", "a", "a-20261101.gz"};
	struct file_list l = {0};
	size_t i;
	char got[256] = "";

	for (i = 0; i < 6; i++)
		files_add(&l, in[i]);
	files_sort(&l);
	for (i = 0; i < l.n; i++) {
		strcat(got, l.v[i]);
		strcat(got, " ");
	}
	is_str(got,
	       "/l/audit.jsonl.10 /l/audit.jsonl.2.gz /l/audit.jsonl.1 /l/audit.jsonl other.log ",
	       "rotated set oldest first, duplicates dropped, other logs after");
	files_free(&l);
	for (i = 0; i < 3; i++)
		files_add(&l, in2[i]);
	files_sort(&l);
	ok(l.n == 3 && strcmp(l.v[0], "a-20261101.gz") == 0 && strcmp(l.v[1], "a-20261102") == 0 &&
	       strcmp(l.v[2], "a") == 0,
	   "dateext: by date, live file last");
	files_free(&l);
}

static void test_tables(void)
{
	struct table *t = table_new(sizeof(int64_t), 3);
	struct hashset *s = hashset_new(2);
	int64_t *v;
	bool created;
	char net[64];

	table_get(t, "a", 1, true, &created);
	ok(created, "new key created");
	v = table_get(t, "a", 1, true, &created);
	ok(v != NULL && !created, "same key found");
	table_get(t, "b", 1, true, NULL);
	table_get(t, "c", 1, true, NULL);
	ok(table_get(t, "d", 1, true, &created) == NULL && table_overflowed(t),
	   "fourth key refused at cap 3");
	ok(table_get(t, "c", 1, true, NULL) != NULL, "existing keys still served when full");
	is_str(table_key(t, table_get(t, "b", 1, false, NULL)), "b", "key from value");
	is_int(hashset_add(s, "x", 1), 1, "set: added");
	is_int(hashset_add(s, "x", 1), 0, "set: already there");
	hashset_add(s, "y", 1);
	is_int(hashset_add(s, "z", 1), -1, "set: full at its cap");
	table_free(t);
	hashset_free(s);

	filter_client_network("198.51.100.23", net, sizeof(net));
	is_str(net, "198.51.100.0/24", "IPv4 client to its /24");
	filter_client_network("2001:db8:1:2:3:4:5:6", net, sizeof(net));
	is_str(net, "2001:db8:1:2::/64", "IPv6 client to its /64");
	filter_client_network("::ffff:192.0.2.1", net, sizeof(net));
	is_str(net, "192.0.2.0/24", "v4-mapped counts as IPv4");
	filter_client_network("unknown", net, sizeof(net));
	is_str(net, "unknown", "unparsable address");
}

int main(void)
{
	test_reply_queue_id();
	test_join();
	test_join_future();
	test_join_bound();
	test_files();
	test_tables();
	return tap_done();
}
