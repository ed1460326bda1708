/*
 * rdns.c: the client's name by forward-confirmed reverse DNS (evdns), bounded in time, cached;
 * and the resolver it shares with backend names.
 *
 * A PTR answer is chosen by whoever controls the client's reverse zone: it
 * counts only if it is a plain host name and if that name's A/AAAA records
 * lead back to the client (what Postfix calls a verified name). The name goes
 * into our Received header and XCLIENT NAME, so anything else is "unknown".
 *
 * evdns calls back from the event loop even for a cancelled request
 * (DNS_ERR_CANCEL, or the answer already on its way): each request has its
 * own small struct rdns_lookup, and a session that goes away only cuts its
 * owner pointer; the callback then frees the lookup and touches nothing else.
 */
#include "rdns.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "log.h"
#include "policy/config.h"
#include "policy/escape.h"
#include "server.h"

struct rdns_lookup {
	struct rdns_req *owner;		 /* NULL once cancelled: the callback only frees us */
	struct evdns_request *req;	 /* valid until our callback has run */
	struct rdns_lookup *next, *prev; /* srv->rdns->orphans while cancelled */
	struct rdns_ctx *ctx;
};

struct rdns_ctx {
	struct rdns_cache *cache;
	struct rdns_lookup *orphans; /* cancelled, their callback still to come */
};

struct rdns_req {
	struct proxy_server *srv;
	struct ag_ip ip;
	enum rdns_status status;
	char name[RDNS_NAME_MAX + 1];
	struct rdns_lookup *lk; /* the one question outstanding: PTR, then A or AAAA */
	struct event *timer;
	rdns_done_fn done;
	void *arg;
	char sid[32];
};

int rdns_setup(struct proxy_server *srv)
{
	const char *r = srv->cfg->resolver;

	if (strcmp(r, "system") == 0) {
		srv->dns = evdns_base_new(srv->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
		if (srv->dns == NULL) /* no resolv.conf: numeric backends still work */
			srv->dns = evdns_base_new(srv->base, 0);
	} else {
		srv->dns = evdns_base_new(srv->base, 0);
		if (srv->dns != NULL && evdns_base_nameserver_ip_add(srv->dns, r) != 0) {
			log_msg(LOG_ERR, NULL, "resolver %s: not a usable name server address", r);
			return -1;
		}
	}
	srv->rdns = calloc(1, sizeof(*srv->rdns));
	if (srv->dns == NULL || srv->rdns == NULL ||
	    (srv->rdns->cache = rdns_cache_new(RDNS_CACHE_SIZE)) == NULL) {
		log_msg(LOG_ERR, NULL, "cannot set up the resolver: out of memory");
		return -1;
	}
	return 0;
}

void rdns_teardown(struct proxy_server *srv)
{
	if (srv->dns != NULL)
		evdns_base_free(srv->dns, 0);
	srv->dns = NULL;
	if (srv->rdns == NULL)
		return;
	/* The loop has stopped: their callbacks will never come. */
	while (srv->rdns->orphans != NULL) {
		struct rdns_lookup *lk = srv->rdns->orphans;

		srv->rdns->orphans = lk->next;
		free(lk);
	}
	rdns_cache_free(srv->rdns->cache);
	free(srv->rdns);
	srv->rdns = NULL;
}

/* Our callback has come: the lookup is freed; its owner, if it still has one, is returned. */
static struct rdns_req *rdns_lookup_end(struct rdns_lookup *lk)
{
	struct rdns_req *q = lk->owner;

	if (q != NULL) {
		q->lk = NULL;
	} else {
		if (lk->prev != NULL)
			lk->prev->next = lk->next;
		else
			lk->ctx->orphans = lk->next;
		if (lk->next != NULL)
			lk->next->prev = lk->prev;
	}
	free(lk);
	return q;
}

static void rdns_cancel(struct rdns_req *q)
{
	struct rdns_lookup *lk = q->lk;
	struct rdns_ctx *ctx = q->srv->rdns;

	if (lk == NULL)
		return;
	q->lk = NULL;
	lk->owner = NULL;
	lk->prev = NULL;
	lk->next = ctx->orphans;
	if (ctx->orphans != NULL)
		ctx->orphans->prev = lk;
	ctx->orphans = lk;
	evdns_cancel_request(q->srv->dns, lk->req);
}

static int64_t rdns_now(void)
{
	return (int64_t)time(NULL);
}

/* The answer is in (or the time is up): cache it, say it once, tell the session last. */
static void rdns_finish(struct rdns_req *q, enum rdns_status st, const char *why)
{
	if (q->status != RDNS_PENDING)
		return;
	rdns_cancel(q);
	if (q->timer != NULL)
		evtimer_del(q->timer);
	q->status = st;
	if (st != RDNS_OK)
		q->name[0] = '\0';
	rdns_cache_put(q->srv->rdns->cache, &q->ip, st, q->name, rdns_now());
	if (st == RDNS_OK)
		log_msg(LOG_INFO, q->sid, "client name %s (forward-confirmed)", q->name);
	else
		log_msg(LOG_INFO, q->sid, "client name unknown (%s): %s",
			st == RDNS_TEMP ? "temporary" : "none", why);
	if (q->done != NULL)
		q->done(q->arg);
}

/* NXDOMAIN and "no such record" are answers; anything else may be better next time. */
static enum rdns_status rdns_error_status(int result)
{
	return result == DNS_ERR_NOTEXIST || result == DNS_ERR_NODATA ? RDNS_NONE : RDNS_TEMP;
}

static struct rdns_lookup *rdns_lookup_new(struct rdns_req *q)
{
	struct rdns_lookup *lk = calloc(1, sizeof(*lk));

	if (lk != NULL) {
		lk->owner = q;
		lk->ctx = q->srv->rdns;
	}
	return lk;
}

/* The question went out, or it could not: then the answer is a temporary failure. */
static void rdns_asked(struct rdns_req *q, struct rdns_lookup *lk, struct evdns_request *req)
{
	if (lk == NULL || req == NULL) {
		free(lk);
		rdns_finish(q, RDNS_TEMP, "cannot ask the resolver");
		return;
	}
	lk->req = req;
	q->lk = lk;
}

static bool rdns_forward_matches(const struct rdns_req *q, char type, int count,
				 const void *addresses)
{
	for (int i = 0; i < count; i++) {
		if (type == DNS_IPv4_A && net_ip_is_v4(&q->ip) &&
		    memcmp((const uint8_t *)addresses + 4 * i, q->ip.addr + 12, 4) == 0)
			return true;
		if (type == DNS_IPv6_AAAA && !net_ip_is_v4(&q->ip) &&
		    memcmp((const uint8_t *)addresses + 16 * i, q->ip.addr, 16) == 0)
			return true;
	}
	return false;
}

/* A callback's start: the session still waiting for this answer, if it is one to go on with. */
static struct rdns_req *rdns_answer(void *lk, int result)
{
	struct rdns_req *q = rdns_lookup_end(lk);

	if (q != NULL && result != DNS_ERR_NONE) {
		rdns_finish(q, rdns_error_status(result), evdns_err_to_string(result));
		return NULL;
	}
	return q;
}

static void rdns_forward_cb(int result, char type, int count, int ttl, void *addresses, void *arg)
{
	struct rdns_req *q = rdns_answer(arg, result);

	(void)ttl;
	if (q == NULL)
		return;
	if (addresses == NULL || count <= 0 || !rdns_forward_matches(q, type, count, addresses)) {
		rdns_finish(q, RDNS_NONE, "the name's addresses do not include the client's");
		return;
	}
	rdns_finish(q, RDNS_OK, NULL);
}

static void rdns_ptr_cb(int result, char type, int count, int ttl, void *addresses, void *arg)
{
	struct rdns_req *q = rdns_answer(arg, result);
	struct rdns_lookup *lk;
	const char *name, *why = NULL;

	(void)ttl;
	if (q == NULL)
		return;
	if (type != DNS_PTR || count < 1 || addresses == NULL ||
	    (name = *(char *const *)addresses) == NULL) {
		rdns_finish(q, RDNS_NONE, "no PTR record");
		return;
	}
	if (net_check_hostname(name, &why) < 0) {
		char what[256], esc[ESCAPE_LOG_SIZE(64)];

		snprintf(what, sizeof(what), "PTR \"%s\" is not a host name: %s",
			 escape_log_str(name, esc, sizeof(esc)), why);
		rdns_finish(q, RDNS_NONE, what);
		return;
	}
	snprintf(q->name, sizeof(q->name), "%s", name);
	lk = rdns_lookup_new(q);
	/* No search list: the PTR's name is complete, and "host" must not become "host.our.domain".
	 */
	if (net_ip_is_v4(&q->ip))
		rdns_asked(q, lk,
			   lk ? evdns_base_resolve_ipv4(q->srv->dns, q->name, DNS_QUERY_NO_SEARCH,
							rdns_forward_cb, lk)
			      : NULL);
	else
		rdns_asked(q, lk,
			   lk ? evdns_base_resolve_ipv6(q->srv->dns, q->name, DNS_QUERY_NO_SEARCH,
							rdns_forward_cb, lk)
			      : NULL);
}

static void rdns_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	rdns_finish(arg, RDNS_TEMP, "no answer within timeout_client_name");
}

struct rdns_req *rdns_start(struct proxy_server *srv, const struct ag_ip *ip, unsigned timeout,
			    const char *sid, rdns_done_fn done, void *arg)
{
	struct rdns_req *q = calloc(1, sizeof(*q));
	struct timeval tv = {(time_t)timeout, 0};
	struct rdns_lookup *lk;

	if (q == NULL)
		return NULL;
	q->srv = srv;
	q->ip = *ip;
	snprintf(q->sid, sizeof(q->sid), "%s", sid ? sid : "-");
	q->status = rdns_cache_get(srv->rdns->cache, ip, rdns_now(), q->name, sizeof(q->name));
	if (q->status != RDNS_PENDING)
		return q;
	q->timer = evtimer_new(srv->base, rdns_timeout, q);
	if (q->timer == NULL) {
		free(q);
		return NULL;
	}
	evtimer_add(q->timer, &tv);
	lk = rdns_lookup_new(q);
	if (lk == NULL) {
		rdns_asked(q, NULL, NULL);
	} else if (net_ip_is_v4(ip)) {
		struct in_addr in;

		memcpy(&in, ip->addr + 12, 4);
		rdns_asked(q, lk,
			   evdns_base_resolve_reverse(srv->dns, &in, DNS_QUERY_NO_SEARCH,
						      rdns_ptr_cb, lk));
	} else {
		struct in6_addr in6;

		memcpy(&in6, ip->addr, 16);
		rdns_asked(q, lk,
			   evdns_base_resolve_reverse_ipv6(srv->dns, &in6, DNS_QUERY_NO_SEARCH,
							   rdns_ptr_cb, lk));
	}
	/* Set only now: a failure to ask is an answer, not news for the caller. */
	q->done = done;
	q->arg = arg;
	return q;
}

enum rdns_status rdns_status(const struct rdns_req *q)
{
	return q->status;
}

const char *rdns_name(const struct rdns_req *q)
{
	return q->status == RDNS_OK ? q->name : NULL;
}

void rdns_free(struct rdns_req *q)
{
	if (q == NULL)
		return;
	rdns_cancel(q);
	if (q->timer != NULL)
		event_free(q->timer);
	free(q);
}
