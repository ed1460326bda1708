/* sharedstate.c: failed-AUTH counters and familiar networks shared by proxies through Redis. */
#include "sharedstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/adapters/libevent.h>
#include <openssl/evp.h>

#include "authshare.h"
#include "log.h"
#include "policy/config.h"

/* Requests waiting for Redis at most: a hung server must not grow our buffers without end. */
#define SHARED_MAX_INFLIGHT 1024
#define SHARED_RECONNECT_S 1

/*
 * Each script is one atomic step in Redis (a script runs alone), so two proxies
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

/*
 * A request is one EVALSHA, so one round trip: the scripts are loaded once per
 * connection (SCRIPT LOAD, pipelined ahead of every request, shared_connected)
 * instead of sent whole with each EVAL. Their SHA-1 is computed here, so no
 * request waits for SCRIPT LOAD's answer.
 */
enum shared_script { SCRIPT_CHECK, SCRIPT_FAIL, SCRIPT_SUCCESS, SCRIPT_N };
static const char *const shared_lua[SCRIPT_N] = {shared_lua_check, shared_lua_fail,
						 shared_lua_success};
#define SHARED_SHA_HEX 41

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
	char sha[SCRIPT_N][SHARED_SHA_HEX]; /* what EVALSHA names */
};

/* Owned by hiredis's callback list from redisAsyncCommandArgv until shared_reply frees it. */
struct shared_req {
	struct sharedstate *sh;
	enum shared_kind kind;
	sharedstate_cb cb; /* NULL once answered by the timeout, or cancelled */
	void *arg;
	struct event *timer;
	enum shared_script script;
	bool resent; /* after NOSCRIPT: the script was loaded again, the request resent once */
	char *cmd;   /* the request in Redis' protocol, kept for that one resend */
	size_t cmd_len;
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

static void shared_req_free(struct shared_req *r)
{
	free(r->cmd);
	free(r);
}

static void shared_reply(redisAsyncContext *ac, void *reply, void *privdata);

/* Behind SCRIPT LOAD on the same connection, so Redis has the script when the request comes. */
static int shared_load(struct sharedstate *sh, enum shared_script s)
{
	const char *argv[3] = {"SCRIPT", "LOAD", shared_lua[s]};

	return redisAsyncCommandArgv(sh->ac, NULL, NULL, 3, argv, NULL);
}

static int shared_write(struct sharedstate *sh, struct shared_req *r)
{
	if (redisAsyncFormattedCommand(sh->ac, shared_reply, r, r->cmd, r->cmd_len) != REDIS_OK)
		return -1;
	sh->inflight++;
	return 0;
}

/*
 * NOSCRIPT: Redis lost the scripts (SCRIPT FLUSH, a failover to a replica):
 * load the script again and resend the request once, its timer still running.
 */
static bool shared_resend(struct sharedstate *sh, struct shared_req *r, const redisReply *rep)
{
	if (r->resent || rep == NULL || rep->type != REDIS_REPLY_ERROR || rep->str == NULL ||
	    strncmp(rep->str, "NOSCRIPT", 8) != 0 || !sh->up || sh->ac == NULL)
		return false;
	r->resent = true;
	return shared_load(sh, r->script) == REDIS_OK && shared_write(sh, r) == 0;
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
		shared_req_free(r);
		return;
	}
	if (shared_resend(sh, r, rep))
		return;
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
	shared_req_free(r);
}

static void shared_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct shared_req *r = arg;

	(void)fd;
	(void)what;
	shared_down(r->sh, "no answer within shared_state_timeout");
	shared_req_answer(r, false, NULL); /* r stays on hiredis's list until the answer */
}

/*
 * EVALSHA script with nkeys keys, then the arguments (args: keys, then the
 * rest; at most SHARED_MAX_ARGS). NULL: nothing was sent.
 */
#define SHARED_MAX_ARGS 6
static struct shared_req *shared_eval(struct sharedstate *sh, enum shared_script script,
				      enum shared_kind kind, sharedstate_cb cb, void *arg,
				      const char *nkeys, int nargs, const char *const *args)
{
	const char *argv[3 + SHARED_MAX_ARGS] = {"EVALSHA", sh->sha[script], nkeys};
	struct shared_req *r;
	struct timeval tv;
	int i, len;

	if (!sh->up || sh->ac == NULL || sh->inflight >= SHARED_MAX_INFLIGHT ||
	    nargs > SHARED_MAX_ARGS)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	for (i = 0; i < nargs; i++)
		argv[3 + i] = args[i];
	len = redisFormatCommandArgv(&r->cmd, 3 + nargs, argv, NULL);
	if (len < 0) {
		free(r);
		return NULL;
	}
	r->cmd_len = (size_t)len;
	r->sh = sh;
	r->kind = kind;
	r->script = script;
	r->cb = cb;
	r->arg = arg;
	if (cb != NULL) {
		r->timer = evtimer_new(sh->base, shared_timeout, r);
		tv.tv_sec = sh->timeout_ms / 1000;
		tv.tv_usec = (sh->timeout_ms % 1000) * 1000;
		if (r->timer == NULL || evtimer_add(r->timer, &tv) < 0)
			goto fail;
	}
	if (shared_write(sh, r) < 0)
		goto fail;
	return r;
fail:
	if (r->timer != NULL)
		event_free(r->timer);
	shared_req_free(r);
	return NULL;
}

/*
 * A wrong password is an outage like any other, in one line: nothing more is
 * sent on this connection (every request would fail with NOAUTH, a round trip
 * each), and the reconnect every second tries again, silently until it works.
 */
static void shared_auth_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct sharedstate *sh = privdata;
	const redisReply *rep = reply;
	char why[128];

	if (sh->closing || rep == NULL || rep->type != REDIS_REPLY_ERROR)
		return;
	snprintf(why, sizeof(why), "AUTH refused: %.100s", rep->str ? rep->str : "");
	shared_down(sh, why);
	sh->up = false;
	redisAsyncDisconnect(ac);
}

static void shared_connected(const redisAsyncContext *ac, int status)
{
	struct sharedstate *sh = ac->data;
	enum shared_script s;

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
	for (s = 0; s < SCRIPT_N; s++)
		(void)shared_load(sh, s); /* an error here shows as NOSCRIPT, then as an outage */
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

/* The SHA-1 Redis names a script by (EVALSHA), in lower-case hex. */
static int shared_sha1(const char *script, char hex[SHARED_SHA_HEX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	if (EVP_Digest(script, strlen(script), md, &n, EVP_sha1(), NULL) != 1 ||
	    n * 2 + 1 != SHARED_SHA_HEX)
		return -1;
	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * n] = '\0';
	return 0;
}

struct sharedstate *sharedstate_new(struct event_base *base, const char *addr, const char *password,
				    unsigned timeout_ms, const char *prefix)
{
	struct sharedstate *sh = calloc(1, sizeof(*sh));
	enum shared_script s;

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
	for (s = 0; s < SCRIPT_N; s++) {
		if (shared_sha1(shared_lua[s], sh->sha[s]) < 0) {
			sharedstate_free(sh);
			return NULL;
		}
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

/* The familiar-network key and member of a login, the time and the TTL, as Redis takes them. */
struct shared_fam {
	char key[AG_SHARED_KEY_MAX]; /* "": not counted */
	char member[AG_SHARED_MEMBER_MAX];
	char now[24];
	char ttl[16];
};

static void shared_fam_args(const struct sharedstate *sh, const struct ag_ip *ip, const char *user,
			    int64_t now, unsigned ttl, struct shared_fam *f)
{
	if (authshare_key_familiar(sh->prefix, user, f->key, sizeof(f->key)) < 0 ||
	    authshare_network(ip, f->member, sizeof(f->member)) < 0) {
		f->key[0] = '\0';
		f->member[0] = '\0';
	}
	snprintf(f->now, sizeof(f->now), "%lld", (long long)now);
	snprintf(f->ttl, sizeof(f->ttl), "%u", ttl);
}

struct shared_req *sharedstate_check(struct sharedstate *sh, const struct ag_ip *ip,
				     const struct ag_ip *fam_ip, const char *user, int64_t now,
				     unsigned familiar_ttl, sharedstate_cb cb, void *arg)
{
	char kn[AG_SHARED_KEY_MAX] = "", ku[AG_SHARED_KEY_MAX] = "";
	struct shared_fam f;

	if (sh == NULL || !sh->up)
		return NULL;
	if (ip != NULL && authshare_key_network(sh->prefix, ip, kn, sizeof(kn)) < 0)
		kn[0] = '\0';
	if (authshare_key_user(sh->prefix, user, ku, sizeof(ku)) < 0)
		ku[0] = '\0';
	shared_fam_args(sh, fam_ip, user, now, familiar_ttl, &f);
	return shared_eval(sh, SCRIPT_CHECK, SHARED_CHECK, cb, arg, "3", 6,
			   (const char *const[]){kn, ku, f.key, f.member, f.now, f.ttl});
}

struct shared_req *sharedstate_fail(struct sharedstate *sh, const struct ag_ip *ip,
				    const char *user, unsigned window, sharedstate_cb cb, void *arg)
{
	char kn[AG_SHARED_KEY_MAX] = "", ku[AG_SHARED_KEY_MAX] = "", sw[16];

	if (sh == NULL || !sh->up)
		return NULL;
	if (ip != NULL && authshare_key_network(sh->prefix, ip, kn, sizeof(kn)) < 0)
		kn[0] = '\0';
	if (user != NULL && authshare_key_user(sh->prefix, user, ku, sizeof(ku)) < 0)
		ku[0] = '\0';
	if (kn[0] == '\0' && ku[0] == '\0')
		return NULL;
	snprintf(sw, sizeof(sw), "%u", window);
	return shared_eval(sh, SCRIPT_FAIL, cb ? SHARED_FAIL : SHARED_NOREPLY, cb, arg, "2", 3,
			   (const char *const[]){kn, ku, sw});
}

void sharedstate_success(struct sharedstate *sh, const struct ag_ip *ip, const char *user,
			 int64_t now, unsigned familiar_ttl)
{
	char scap[16];
	struct shared_fam f;

	if (sh == NULL || !sh->up)
		return;
	shared_fam_args(sh, ip, user, now, familiar_ttl, &f);
	if (f.key[0] == '\0')
		return;
	snprintf(scap, sizeof(scap), "%u", AG_SHARED_FAMILIAR_MAX);
	(void)shared_eval(sh, SCRIPT_SUCCESS, SHARED_NOREPLY, NULL, NULL, "1", 5,
			  (const char *const[]){f.key, f.now, f.member, f.ttl, scap});
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
