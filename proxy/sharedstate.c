/* sharedstate.c: failed-AUTH counters and familiar networks shared by proxies through Redis. */
#include "sharedstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/adapters/libevent.h>

#include "authshare.h"
#include "log.h"
#include "policy/config.h"

/* Requests waiting for Redis at most: a hung server must not grow our buffers without end. */
#define SHARED_MAX_INFLIGHT 1024
#define SHARED_RECONNECT_S 1

/*
 * Each script is one atomic step in Redis (EVAL runs alone), so two proxies
 * counting the same network at once never lose a failure, and a key never
 * exists without its TTL (the window, or auth_familiar_days): Redis forgets
 * what the local tables would forget. An empty key name means "not counted"
 * (a trusted network, no usable login).
 */
static const char shared_lua_check[] =
    "local n, u, f = 0, 0, 0\n"
    "if KEYS[1] ~= '' then n = tonumber(redis.call('GET', KEYS[1]) or '0') end\n"
    "if KEYS[2] ~= '' then u = tonumber(redis.call('GET', KEYS[2]) or '0') end\n"
    "if KEYS[3] ~= '' then\n"
    "  local s = redis.call('ZSCORE', KEYS[3], ARGV[1])\n"
    "  if s and tonumber(s) > tonumber(ARGV[2]) - tonumber(ARGV[3]) then f = 1 end\n"
    "end\n"
    "return {n, u, f}\n";

static const char shared_lua_fail[] =
    "local r = {0, 0}\n"
    "for i = 1, 2 do\n"
    "  if KEYS[i] ~= '' then\n"
    "    r[i] = redis.call('INCR', KEYS[i])\n"
    "    if redis.call('TTL', KEYS[i]) < 0 then redis.call('EXPIRE', KEYS[i], ARGV[1]) end\n"
    "  end\n"
    "end\n"
    "return r\n";

/* The newest AG_SHARED_FAMILIAR_MAX networks of a user are kept, the expired ones dropped. */
static const char shared_lua_success[] =
    "redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[3]))\n"
    "redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[4]) + 1))\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[3])\n"
    "return 1\n";

enum shared_kind { SHARED_CHECK, SHARED_FAIL, SHARED_NOREPLY };

struct sharedstate {
	struct event_base *base;
	char *addr;	/* as configured, for the log */
	char *password; /* NULL: no AUTH */
	char *prefix;
	unsigned timeout_ms;
	redisAsyncContext *ac; /* NULL while down */
	bool up;	       /* connected: requests are sent */
	bool degraded;	       /* an outage was logged, its end not yet */
	bool closing;	       /* sharedstate_free: callbacks only free */
	unsigned inflight;
	struct event *reconnect;
};

/* Owned by hiredis's callback list from redisAsyncCommandArgv until shared_reply frees it. */
struct shared_req {
	struct sharedstate *sh;
	enum shared_kind kind;
	sharedstate_cb cb; /* NULL once answered by the timeout, or cancelled */
	void *arg;
	struct event *timer;
};

static void shared_connect(struct sharedstate *sh);

static void shared_retry(struct sharedstate *sh)
{
	struct timeval tv = {SHARED_RECONNECT_S, 0};

	evtimer_add(sh->reconnect, &tv);
}

static void shared_down(struct sharedstate *sh, const char *why)
{
	if (sh->degraded)
		return;
	sh->degraded = true;
	log_msg(LOG_WARNING, NULL,
		"shared state: Redis at %s unavailable (%s): deciding from the local tables",
		sh->addr, why);
}

static void shared_back(struct sharedstate *sh)
{
	if (!sh->degraded)
		return;
	sh->degraded = false;
	log_msg(LOG_NOTICE, NULL, "shared state: Redis at %s answers again: sharing the lockout",
		sh->addr);
}

static void shared_req_answer(struct shared_req *r, bool ok, const struct ag_authlimit_shared *c)
{
	sharedstate_cb cb = r->cb;

	r->cb = NULL;
	if (r->timer != NULL) {
		event_free(r->timer);
		r->timer = NULL;
	}
	if (cb != NULL)
		cb(ok, c, r->arg);
}

static bool shared_int(const redisReply *rep, size_t i, unsigned *out)
{
	const redisReply *e;

	if (i >= rep->elements)
		return false;
	e = rep->element[i];
	if (e == NULL || e->type != REDIS_REPLY_INTEGER || e->integer < 0)
		return false;
	*out = e->integer > (long long)UINT32_MAX ? UINT32_MAX : (unsigned)e->integer;
	return true;
}

static void shared_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct shared_req *r = privdata;
	struct sharedstate *sh = r->sh;
	const redisReply *rep = reply;
	struct ag_authlimit_shared c = {0, 0, false};
	unsigned fam = 0;
	bool ok;

	(void)ac;
	sh->inflight--;
	if (sh->closing) {
		r->cb = NULL;
		shared_req_answer(r, false, NULL);
		free(r);
		return;
	}
	ok = rep != NULL && rep->type == REDIS_REPLY_ARRAY;
	if (ok && r->kind == SHARED_CHECK)
		ok = shared_int(rep, 0, &c.ip_failures) && shared_int(rep, 1, &c.user_failures) &&
		     shared_int(rep, 2, &fam);
	else if (ok && r->kind == SHARED_FAIL)
		ok = shared_int(rep, 0, &c.ip_failures) && shared_int(rep, 1, &c.user_failures);
	else if (r->kind == SHARED_NOREPLY)
		ok = rep != NULL && rep->type != REDIS_REPLY_ERROR;
	c.familiar = fam != 0;
	if (!ok && rep != NULL) {
		/* Redis answered, with an error (NOAUTH, OOM, a script error): log what it said. */
		char why[128];

		snprintf(why, sizeof(why), "%.100s",
			 rep->type == REDIS_REPLY_ERROR && rep->str ? rep->str
								    : "unexpected reply");
		shared_down(sh, why);
	} else if (!ok) {
		shared_down(sh, "connection lost");
	} else if (r->cb != NULL || r->kind == SHARED_NOREPLY) {
		shared_back(sh); /* only a timely answer ends an outage: late ones say it is slow */
	}
	shared_req_answer(r, ok, ok ? &c : NULL);
	free(r);
}

static void shared_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct shared_req *r = arg;

	(void)fd;
	(void)what;
	shared_down(r->sh, "no answer within shared_state_timeout");
	shared_req_answer(r, false, NULL); /* r stays on hiredis's list until the answer */
}

static struct shared_req *shared_send(struct sharedstate *sh, enum shared_kind kind,
				      sharedstate_cb cb, void *arg, int argc, const char **argv)
{
	struct shared_req *r;
	struct timeval tv;

	if (sh == NULL || !sh->up || sh->ac == NULL || sh->inflight >= SHARED_MAX_INFLIGHT)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->sh = sh;
	r->kind = kind;
	r->cb = cb;
	r->arg = arg;
	if (cb != NULL) {
		r->timer = evtimer_new(sh->base, shared_timeout, r);
		tv.tv_sec = sh->timeout_ms / 1000;
		tv.tv_usec = (sh->timeout_ms % 1000) * 1000;
		if (r->timer == NULL || evtimer_add(r->timer, &tv) < 0) {
			if (r->timer != NULL)
				event_free(r->timer);
			free(r);
			return NULL;
		}
	}
	if (redisAsyncCommandArgv(sh->ac, shared_reply, r, argc, argv, NULL) != REDIS_OK) {
		if (r->timer != NULL)
			event_free(r->timer);
		free(r);
		return NULL;
	}
	sh->inflight++;
	return r;
}

static void shared_auth_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct sharedstate *sh = privdata;
	const redisReply *rep = reply;

	(void)ac;
	if (sh->closing || rep == NULL)
		return;
	if (rep->type == REDIS_REPLY_ERROR)
		log_msg(LOG_ERR, NULL, "shared state: Redis at %s refused AUTH: %.100s", sh->addr,
			rep->str ? rep->str : "");
}

static void shared_connected(const redisAsyncContext *ac, int status)
{
	struct sharedstate *sh = ac->data;

	if (sh->closing)
		return;
	if (status != REDIS_OK) {
		char why[128];

		snprintf(why, sizeof(why), "connect: %.100s", ac->errstr);
		sh->ac = NULL; /* hiredis frees it after this callback */
		sh->up = false;
		shared_down(sh, why);
		shared_retry(sh);
		return;
	}
	sh->up = true;
	if (sh->password != NULL) {
		const char *argv[2] = {"AUTH", sh->password};

		/* Pipelined: every later command follows AUTH on this connection. */
		redisAsyncCommandArgv(sh->ac, shared_auth_reply, sh, 2, argv, NULL);
	}
}

static void shared_disconnected(const redisAsyncContext *ac, int status)
{
	struct sharedstate *sh = ac->data;

	(void)status;
	sh->ac = NULL;
	sh->up = false;
	if (sh->closing)
		return;
	shared_down(sh, ac->errstr[0] ? ac->errstr : "disconnected");
	shared_retry(sh);
}

static void shared_reconnect(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	shared_connect(arg);
}

/* Non-blocking connect (the address is numeric: config_check_shared_state). */
static void shared_connect(struct sharedstate *sh)
{
	redisAsyncContext *ac;

	if (strncmp(sh->addr, "unix:", 5) == 0) {
		ac = redisAsyncConnectUnix(sh->addr + 5);
	} else {
		/* The same parser that accepted the value (config_check_shared_state). */
		struct ag_hostport hp;
		const char *why = NULL;

		if (config_parse_hostport(sh->addr, 6379, &hp, &why) < 0) {
			shared_down(sh, why ? why : "bad address");
			return;
		}
		ac = redisAsyncConnect(hp.host, hp.port);
	}
	if (ac == NULL || ac->err) {
		shared_down(sh, ac ? ac->errstr : "out of memory");
		if (ac != NULL)
			redisAsyncFree(ac);
		shared_retry(sh);
		return;
	}
	ac->data = sh;
	if (redisLibeventAttach(ac, sh->base) != REDIS_OK) {
		redisAsyncFree(ac);
		shared_down(sh, "cannot attach to the event loop");
		shared_retry(sh);
		return;
	}
	redisAsyncSetConnectCallback(ac, shared_connected);
	redisAsyncSetDisconnectCallback(ac, shared_disconnected);
	sh->ac = ac;
}

struct sharedstate *sharedstate_new(struct event_base *base, const char *addr, const char *password,
				    unsigned timeout_ms, const char *prefix)
{
	struct sharedstate *sh = calloc(1, sizeof(*sh));

	if (sh == NULL)
		return NULL;
	sh->base = base;
	sh->timeout_ms = timeout_ms;
	sh->addr = strdup(addr);
	sh->prefix = strdup(prefix);
	sh->password = password ? strdup(password) : NULL;
	sh->reconnect = evtimer_new(base, shared_reconnect, sh);
	if (sh->addr == NULL || sh->prefix == NULL || (password && sh->password == NULL) ||
	    sh->reconnect == NULL) {
		sharedstate_free(sh);
		return NULL;
	}
	shared_connect(sh);
	return sh;
}

void sharedstate_free(struct sharedstate *sh)
{
	if (sh == NULL)
		return;
	sh->closing = true;
	if (sh->ac != NULL)
		redisAsyncFree(sh->ac); /* every pending callback runs once, with no reply */
	if (sh->reconnect != NULL)
		event_free(sh->reconnect);
	if (sh->password != NULL) {
		memset(sh->password, 0, strlen(sh->password));
		free(sh->password);
	}
	free(sh->addr);
	free(sh->prefix);
	free(sh);
}

struct shared_req *sharedstate_check(struct sharedstate *sh, const struct ag_ip *ip,
				     const struct ag_ip *fam_ip, const char *user, int64_t now,
				     unsigned familiar_ttl, sharedstate_cb cb, void *arg)
{
	char kn[AG_SHARED_KEY_MAX] = "", ku[AG_SHARED_KEY_MAX] = "", kf[AG_SHARED_KEY_MAX] = "";
	char member[AG_SHARED_MEMBER_MAX] = "", snow[24], sttl[16];
	const char *argv[9];

	if (sh == NULL || !sh->up)
		return NULL;
	if (ip != NULL && authshare_key_network(sh->prefix, ip, kn, sizeof(kn)) < 0)
		kn[0] = '\0';
	if (authshare_key_user(sh->prefix, user, ku, sizeof(ku)) < 0)
		ku[0] = '\0';
	if (authshare_key_familiar(sh->prefix, user, kf, sizeof(kf)) < 0 ||
	    authshare_network(fam_ip, member, sizeof(member)) < 0)
		kf[0] = '\0';
	snprintf(snow, sizeof(snow), "%lld", (long long)now);
	snprintf(sttl, sizeof(sttl), "%u", familiar_ttl);
	argv[0] = "EVAL";
	argv[1] = shared_lua_check;
	argv[2] = "3";
	argv[3] = kn;
	argv[4] = ku;
	argv[5] = kf;
	argv[6] = member;
	argv[7] = snow;
	argv[8] = sttl;
	return shared_send(sh, SHARED_CHECK, cb, arg, 9, argv);
}

struct shared_req *sharedstate_fail(struct sharedstate *sh, const struct ag_ip *ip,
				    const char *user, unsigned window, sharedstate_cb cb, void *arg)
{
	char kn[AG_SHARED_KEY_MAX] = "", ku[AG_SHARED_KEY_MAX] = "", sw[16];
	const char *argv[6];

	if (sh == NULL || !sh->up)
		return NULL;
	if (ip != NULL && authshare_key_network(sh->prefix, ip, kn, sizeof(kn)) < 0)
		kn[0] = '\0';
	if (user != NULL && authshare_key_user(sh->prefix, user, ku, sizeof(ku)) < 0)
		ku[0] = '\0';
	if (kn[0] == '\0' && ku[0] == '\0')
		return NULL;
	snprintf(sw, sizeof(sw), "%u", window);
	argv[0] = "EVAL";
	argv[1] = shared_lua_fail;
	argv[2] = "2";
	argv[3] = kn;
	argv[4] = ku;
	argv[5] = sw;
	return shared_send(sh, cb ? SHARED_FAIL : SHARED_NOREPLY, cb, arg, 6, argv);
}

void sharedstate_success(struct sharedstate *sh, const struct ag_ip *ip, const char *user,
			 int64_t now, unsigned familiar_ttl)
{
	char kf[AG_SHARED_KEY_MAX], member[AG_SHARED_MEMBER_MAX], snow[24], sttl[16], scap[16];
	const char *argv[8];

	if (sh == NULL || !sh->up || authshare_key_familiar(sh->prefix, user, kf, sizeof(kf)) < 0 ||
	    authshare_network(ip, member, sizeof(member)) < 0)
		return;
	snprintf(snow, sizeof(snow), "%lld", (long long)now);
	snprintf(sttl, sizeof(sttl), "%u", familiar_ttl);
	snprintf(scap, sizeof(scap), "%u", AG_SHARED_FAMILIAR_MAX);
	argv[0] = "EVAL";
	argv[1] = shared_lua_success;
	argv[2] = "1";
	argv[3] = kf;
	argv[4] = snow;
	argv[5] = member;
	argv[6] = sttl;
	argv[7] = scap;
	(void)shared_send(sh, SHARED_NOREPLY, NULL, NULL, 8, argv);
}

void sharedstate_cancel(struct shared_req *r)
{
	if (r == NULL)
		return;
	r->cb = NULL;
	if (r->timer != NULL) {
		event_free(r->timer);
		r->timer = NULL;
	}
}
