/* join.c: pair the proxy's and the milter's record of one message into one row, within a window. */
#include "join.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JOIN_MIN_BUCKETS 256

/* A message waiting for its partner record (or for its turn in the FIFO). */
struct pending {
	struct pending *next;	   /* FIFO, oldest first */
	struct pending *hash_next; /* chain of its hash bucket, when keyed */
	struct audit_rec *proxy;   /* owned copies; NULL when not seen */
	struct audit_rec *milter;
	char qid[JOIN_MAX_QID + 1]; /* "" when the record cannot be joined */
	int64_t first_ts;
	size_t bytes;
	bool keyed; /* in the hash, still waiting */
};

struct join {
	join_emit_fn emit;
	void *ctx;
	struct pending *head, *tail;
	struct pending **buckets;
	size_t nbuckets;
	size_t nkeyed;
	size_t bytes;
	/*
	 * The clock of the window: the time of the record just read, not the
	 * newest ever seen, so that one record stamped years ahead flushes the
	 * window once instead of disabling the join for the rest of the log.
	 */
	int64_t now_ts;
	struct join_stats st;
};

struct join *join_new(join_emit_fn emit, void *ctx)
{
	struct join *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->nbuckets = JOIN_MIN_BUCKETS;
	j->buckets = calloc(j->nbuckets, sizeof(*j->buckets));
	if (j->buckets == NULL) {
		free(j);
		return NULL;
	}
	j->emit = emit;
	j->ctx = ctx;
	return j;
}

int join_reply_queue_id(const char *reply, char *qid, size_t len)
{
	static const char marker[] = "queued as ";
	const char *p;
	size_t n = 0;

	if (reply == NULL || len == 0)
		return -1;
	for (p = reply; *p != '\0'; p++)
		if (strncasecmp(p, marker, sizeof(marker) - 1) == 0)
			break;
	if (*p == '\0')
		return -1;
	p += sizeof(marker) - 1;
	/* Postfix queue ids, short (hex) or long (base 52 + digits): alphanumerics only. */
	while ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'A' && p[n] <= 'Z') ||
	       (p[n] >= 'a' && p[n] <= 'z'))
		n++;
	if (n == 0 || n >= len)
		return -1;
	memcpy(qid, p, n);
	qid[n] = '\0';
	return 0;
}

static size_t str_size(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

static const char *str_copy(char **w, const char *s)
{
	size_t n;
	char *out;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	out = *w;
	memcpy(out, s, n);
	*w += n;
	return out;
}

/* One allocation holding the record, its recipient array and every string. */
static struct audit_rec *rec_clone(const struct audit_rec *r, size_t *bytes)
{
	const char **rcpts;
	struct audit_rec *c;
	size_t n, i;
	char *w;

	n = sizeof(*c) + (r->rcpts ? (r->nrcpts + 1) * sizeof(char *) : 0);
	n += str_size(r->session) + str_size(r->client_ip) + str_size(r->auth_user) +
	     str_size(r->tls) + str_size(r->mail_from) + str_size(r->backend_reply) +
	     str_size(r->queue_id) + str_size(r->route) + str_size(r->phase);
	for (i = 0; r->rcpts != NULL && i < r->nrcpts; i++)
		n += str_size(r->rcpts[i]);
	c = malloc(n);
	if (c == NULL)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->ts_ms = r->ts_ms;
	c->component = r->component;
	c->event = r->event;
	c->action = r->action;
	c->size = r->size;
	w = (char *)(c + 1);
	if (r->rcpts != NULL) {
		rcpts = (const char **)(void *)w;
		w += (r->nrcpts + 1) * sizeof(char *);
		c->rcpts = rcpts;
		c->nrcpts = r->nrcpts;
		for (i = 0; i < r->nrcpts; i++)
			rcpts[i] = str_copy(&w, r->rcpts[i]);
		rcpts[i] = NULL;
	}
	/* Only what a row shows: backend, reason and helo stay behind. */
	c->session = str_copy(&w, r->session);
	c->client_ip = str_copy(&w, r->client_ip);
	c->auth_user = str_copy(&w, r->auth_user);
	c->tls = str_copy(&w, r->tls);
	c->mail_from = str_copy(&w, r->mail_from);
	c->backend_reply = str_copy(&w, r->backend_reply);
	c->queue_id = str_copy(&w, r->queue_id);
	c->route = str_copy(&w, r->route);
	c->phase = str_copy(&w, r->phase);
	*bytes = n;
	return c;
}

static const char *first_of(const char *a, const char *b)
{
	return a != NULL ? a : b;
}

static void join_emit_pair(struct join *j, const struct audit_rec *p, const struct audit_rec *m,
			   const char *qid)
{
	const struct audit_rec *first = p != NULL ? p : m;
	struct msg_row row;
	const char *user;

	if (first == NULL)
		return;
	memset(&row, 0, sizeof(row));
	row.ts_ms = first->ts_ms;
	if (m != NULL && m->ts_ms < row.ts_ms)
		row.ts_ms = m->ts_ms;
	row.session = first_of(p ? p->session : NULL, m ? m->session : NULL);
	user = first_of(p ? p->auth_user : NULL, m ? m->auth_user : NULL);
	if (user != NULL && user[0] == '\0')
		user = (m != NULL && m->auth_user != NULL && m->auth_user[0]) ? m->auth_user : NULL;
	row.user = user;
	row.client_ip = first_of(p ? p->client_ip : NULL, m ? m->client_ip : NULL);
	row.tls = first_of(p ? p->tls : NULL, m ? m->tls : NULL);
	row.mail_from = first_of(p ? p->mail_from : NULL, m ? m->mail_from : NULL);
	if (p != NULL && p->rcpts != NULL) {
		row.rcpts = p->rcpts;
		row.nrcpts = p->nrcpts;
	} else if (m != NULL) {
		row.rcpts = m->rcpts;
		row.nrcpts = m->nrcpts;
	}
	/* The milter decides last (after the proxy handed the message over), so its action wins. */
	row.action = m != NULL && m->action != REC_ACT_NONE ? m->action : first->action;
	row.backend_reply = p ? p->backend_reply : NULL;
	row.queue_id = m != NULL && m->queue_id != NULL ? m->queue_id : (qid && *qid ? qid : NULL);
	row.route = m ? m->route : NULL;
	row.phase = m ? m->phase : NULL;
	row.size = p != NULL && p->size >= 0 ? p->size : (m ? m->size : -1);
	row.sources = (p ? ROW_FROM_PROXY : 0) | (m ? ROW_FROM_MILTER : 0);
	j->st.rows++;
	if (p != NULL && m != NULL)
		j->st.joined++;
	j->emit(j->ctx, &row);
}

static size_t qid_bucket(const struct join *j, const char *qid)
{
	uint64_t h = UINT64_C(1469598103934665603);

	/* FNV-1a is enough: queue ids are Postfix's, not the client's. */
	for (; *qid != '\0'; qid++)
		h = (h ^ (unsigned char)*qid) * UINT64_C(1099511628211);
	return (size_t)(h & (j->nbuckets - 1));
}

static void hash_remove(struct join *j, struct pending *e)
{
	struct pending **pp;

	for (pp = &j->buckets[qid_bucket(j, e->qid)]; *pp != NULL; pp = &(*pp)->hash_next) {
		if (*pp == e) {
			*pp = e->hash_next;
			e->keyed = false;
			j->nkeyed--;
			return;
		}
	}
}

static void hash_grow(struct join *j)
{
	struct pending **b, *e, *next;
	size_t n = j->nbuckets * 2, i, old = j->nbuckets;
	struct pending **oldb = j->buckets;

	b = calloc(n, sizeof(*b));
	if (b == NULL)
		return; /* longer chains, still correct */
	j->buckets = b;
	j->nbuckets = n;
	for (i = 0; i < old; i++) {
		for (e = oldb[i]; e != NULL; e = next) {
			next = e->hash_next;
			e->hash_next = b[qid_bucket(j, e->qid)];
			b[qid_bucket(j, e->qid)] = e;
		}
	}
	free(oldb);
}

static void join_pop(struct join *j)
{
	struct pending *e = j->head;

	j->head = e->next;
	if (j->head == NULL)
		j->tail = NULL;
	if (e->keyed)
		hash_remove(j, e);
	join_emit_pair(j, e->proxy, e->milter, e->qid);
	j->bytes -= e->bytes;
	free(e->proxy);
	free(e->milter);
	free(e);
}

static bool pending_done(const struct pending *e)
{
	return e->qid[0] == '\0' || (e->proxy != NULL && e->milter != NULL);
}

/* Emit from the head while it is complete, too old, or memory is over budget. */
static void join_drain(struct join *j)
{
	while (j->head != NULL) {
		if (pending_done(j->head) || j->now_ts - j->head->first_ts > JOIN_WINDOW_MS) {
			join_pop(j);
		} else if (j->bytes > JOIN_MAX_BYTES) {
			j->st.evicted++;
			join_pop(j);
		} else {
			break;
		}
	}
}

int join_add(struct join *j, const struct audit_rec *rec)
{
	char qid[JOIN_MAX_QID + 1] = "";
	struct pending *e;
	struct audit_rec *copy;
	size_t bytes, b;
	bool is_proxy = rec->component == REC_PROXY;

	j->now_ts = rec->ts_ms;
	if (is_proxy)
		(void)join_reply_queue_id(rec->backend_reply, qid, sizeof(qid));
	else if (rec->queue_id != NULL && strlen(rec->queue_id) <= JOIN_MAX_QID)
		strcpy(qid, rec->queue_id);

	copy = rec_clone(rec, &bytes);
	if (copy == NULL) {
		/* Out of memory: the row is still counted, only unjoined. */
		join_emit_pair(j, is_proxy ? rec : NULL, is_proxy ? NULL : rec, qid);
		return -1;
	}
	if (qid[0] != '\0') {
		for (e = j->buckets[qid_bucket(j, qid)]; e != NULL; e = e->hash_next) {
			if (strcmp(e->qid, qid) == 0 &&
			    (is_proxy ? e->proxy == NULL : e->milter == NULL)) {
				if (is_proxy)
					e->proxy = copy;
				else
					e->milter = copy;
				e->bytes += bytes;
				j->bytes += bytes;
				if (j->bytes > j->st.peak_bytes)
					j->st.peak_bytes = j->bytes;
				hash_remove(j, e);
				join_drain(j);
				return 0;
			}
		}
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		join_emit_pair(j, is_proxy ? copy : NULL, is_proxy ? NULL : copy, qid);
		free(copy);
		return -1;
	}
	if (is_proxy)
		e->proxy = copy;
	else
		e->milter = copy;
	strcpy(e->qid, qid);
	e->first_ts = rec->ts_ms;
	e->bytes = bytes + sizeof(*e);
	j->bytes += e->bytes;
	if (j->bytes > j->st.peak_bytes)
		j->st.peak_bytes = j->bytes;
	if (qid[0] != '\0') {
		if (j->nkeyed >= j->nbuckets)
			hash_grow(j);
		b = qid_bucket(j, qid);
		e->hash_next = j->buckets[b];
		j->buckets[b] = e;
		e->keyed = true;
		j->nkeyed++;
	}
	if (j->tail != NULL)
		j->tail->next = e;
	else
		j->head = e;
	j->tail = e;
	join_drain(j);
	return 0;
}

void join_flush(struct join *j)
{
	while (j->head != NULL)
		join_pop(j);
}

const struct join_stats *join_stats(const struct join *j)
{
	return &j->st;
}

void join_free(struct join *j)
{
	struct pending *e, *next;

	if (j == NULL)
		return;
	for (e = j->head; e != NULL; e = next) {
		next = e->next;
		free(e->proxy);
		free(e->milter);
		free(e);
	}
	free(j->buckets);
	free(j);
}
