/* privsep_proc.c: the root auth process: a supervisor (no PAM code) and its PAM workers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* close_range(2) */
#endif
#include "privsep_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "log.h"
#include "privsep.h"
#include "privsep_key.h"

#define PRIVSEP_QUEUE 256		/* requests waiting for an idle worker */
#define PRIVSEP_WORKER_TIMEOUT_MS 30000 /* a PAM module stuck this long is killed */
#define PRIVSEP_WORKER_MAX_SERVED 1000	/* recycle workers: PAM modules may leak */
#define PRIVSEP_RESPAWN_DELAY_MS 1000	/* a worker that dies young is not re-forked in a loop */
#define PRIVSEP_STOP_MS 2000		/* at shutdown: how long an idle worker has to exit */

/* ---- the request codec ---- */

static uint16_t privsep_get16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Strict: exact total length, bounded fields, no NUL or control characters where they matter. */
int privsep_decode(const unsigned char *buf, size_t n, struct privsep_req *r)
{
	size_t ulen, plen, iplen, i;

	if (n < PRIVSEP_HDR || n > PRIVSEP_MAX_REQ)
		return -1;
	memcpy(&r->id, buf, sizeof(r->id));
	ulen = privsep_get16(buf + 8);
	plen = privsep_get16(buf + 10);
	iplen = privsep_get16(buf + 12);
	if (ulen == 0 || ulen > PRIVSEP_MAX_USER || plen > PRIVSEP_MAX_PASS ||
	    iplen > PRIVSEP_MAX_IP || n != PRIVSEP_HDR + ulen + plen + iplen)
		return -1;
	buf += PRIVSEP_HDR;
	for (i = 0; i < ulen; i++)
		if (buf[i] < 0x20 || buf[i] == 0x7f)
			return -1;
	if (memchr(buf + ulen, '\0', plen) != NULL)
		return -1;
	for (i = 0; i < iplen; i++) {
		unsigned char c = buf[ulen + plen + i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
		      c == ':' || c == '.'))
			return -1;
	}
	memcpy(r->user, buf, ulen);
	r->user[ulen] = '\0';
	memcpy(r->pass, buf + ulen, plen);
	r->pass[plen] = '\0';
	memcpy(r->ip, buf + ulen + plen, iplen);
	r->ip[iplen] = '\0';
	return 0;
}

void privsep_encode_reply(unsigned char *buf, uint64_t id, enum privsep_result res)
{
	memcpy(buf, &id, sizeof(id));
	buf[8] = (unsigned char)res;
}

/* ---- auth process: the supervisor, which runs no PAM code itself ---- */

struct privsep_worker {
	pid_t pid; /* 0: down */
	int fd;
	bool busy;
	uint64_t id; /* request in flight when busy */
	int64_t spawned_ms;
	int64_t since_ms;   /* dispatch time of the request in flight */
	int64_t respawn_ms; /* when down: not before */
	unsigned served;
};

struct privsep_queued {
	size_t len;
	unsigned char buf[PRIVSEP_MAX_REQ];
};

struct privsep_auth {
	const char *service;
	const char *config_path; /* where the key channel finds tls_key */
	int net;
	int key; /* -1 once the network side has closed it */
	unsigned nworkers;
	struct privsep_worker w[PRIVSEP_MAX_WORKERS];
	struct privsep_queued q[PRIVSEP_QUEUE];
	size_t qhead, qlen;
};

static int64_t privsep_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void privsep_auth_reply(struct privsep_auth *a, uint64_t id, enum privsep_result res)
{
	unsigned char out[PRIVSEP_REPLY];

	privsep_encode_reply(out, id, res);
	/* Blocking: the network side never blocks on us, so it always drains this. */
	while (send(a->net, out, sizeof(out), MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return; /* the network side is gone: we see EOF next */
}

static void privsep_worker_spawn(struct privsep_auth *a, unsigned i)
{
	struct privsep_worker *w = &a->w[i];
	pid_t parent = getpid();
	int sv[2];
	unsigned j;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_msg(LOG_ERR, NULL, "auth worker socketpair: %s", strerror(errno));
		w->respawn_ms = privsep_now_ms() + PRIVSEP_RESPAWN_DELAY_MS;
		return;
	}
	w->pid = fork();
	if (w->pid < 0) {
		log_msg(LOG_ERR, NULL, "auth worker fork: %s", strerror(errno));
		w->pid = 0;
		w->respawn_ms = privsep_now_ms() + PRIVSEP_RESPAWN_DELAY_MS;
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (w->pid == 0) {
		close(sv[0]);
		close(a->net);
		for (j = 0; j < a->nworkers; j++)
			if (a->w[j].pid > 0)
				close(a->w[j].fd);
		explicit_bzero(a->q, sizeof(a->q)); /* other requests' passwords are not ours */
		privsep_worker_main(sv[1], a->service, parent);
		_exit(0);
	}
	close(sv[1]);
	w->fd = sv[0];
	w->busy = false;
	w->served = 0;
	w->spawned_ms = privsep_now_ms();
}

/* The worker is dead or must die: reap it, answer its request, schedule a new one. */
static void privsep_worker_lost(struct privsep_auth *a, unsigned i, const char *why)
{
	struct privsep_worker *w = &a->w[i];
	int64_t now = privsep_now_ms();

	if (why != NULL)
		log_msg(LOG_WARNING, NULL, "auth worker %ld %s%s", (long)w->pid, why,
			w->busy ? ": request answered tempfail" : "");
	(void)kill(w->pid, SIGKILL);
	while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(w->fd);
	if (w->busy)
		privsep_auth_reply(a, w->id, PRIVSEP_AUTH_TEMPFAIL);
	w->respawn_ms = now - w->spawned_ms < PRIVSEP_RESPAWN_DELAY_MS && why != NULL
			    ? now + PRIVSEP_RESPAWN_DELAY_MS
			    : now;
	w->pid = 0;
	w->busy = false;
}

/*
 * Shutdown: a worker waiting for a request exits by itself on EOF, through
 * _exit() and not SIGKILL, so whatever runs at a process's exit (a profiler
 * writing its counts: scripts/bench) still runs; one still in PAM after
 * PRIVSEP_STOP_MS is killed as before.
 */
static void privsep_workers_stop(struct privsep_auth *a)
{
	int64_t end = privsep_now_ms() + PRIVSEP_STOP_MS;
	unsigned i, left;

	for (i = 0; i < a->nworkers; i++)
		if (a->w[i].pid > 0)
			(void)shutdown(a->w[i].fd, SHUT_RDWR);
	do {
		left = 0;
		for (i = 0; i < a->nworkers; i++) {
			struct privsep_worker *w = &a->w[i];
			pid_t r;

			if (w->pid <= 0)
				continue;
			r = waitpid(w->pid, NULL, WNOHANG);
			if (r == w->pid || (r < 0 && errno == ECHILD)) {
				close(w->fd);
				w->pid = 0;
			} else {
				left++;
			}
		}
	} while (left > 0 && privsep_now_ms() < end && poll(NULL, 0, 10) >= 0);
	for (i = 0; i < a->nworkers; i++)
		if (a->w[i].pid > 0)
			privsep_worker_lost(a, i, "still in PAM at shutdown, killed");
}

static void privsep_worker_dispatch(struct privsep_auth *a, unsigned i, unsigned char *buf,
				    size_t len)
{
	struct privsep_worker *w = &a->w[i];

	memcpy(&w->id, buf, sizeof(w->id));
	w->busy = true;
	w->since_ms = privsep_now_ms();
	/* An idle worker's socket is empty, so this does not block. */
	while (send(w->fd, buf, len, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR) {
			privsep_worker_lost(a, i, "unreachable");
			break;
		}
	}
	explicit_bzero(buf, len);
}

static int privsep_idle_worker(struct privsep_auth *a)
{
	unsigned i;

	for (i = 0; i < a->nworkers; i++)
		if (a->w[i].pid > 0 && !a->w[i].busy)
			return (int)i;
	return -1;
}

static void privsep_queue_drain(struct privsep_auth *a)
{
	int i;

	while (a->qlen > 0 && (i = privsep_idle_worker(a)) >= 0) {
		struct privsep_queued *q = &a->q[a->qhead];

		a->qhead = (a->qhead + 1) % PRIVSEP_QUEUE;
		a->qlen--;
		privsep_worker_dispatch(a, (unsigned)i, q->buf, q->len);
	}
}

/* Returns -1 when the network side has closed: time to exit. */
static int privsep_read_net(struct privsep_auth *a)
{
	unsigned char buf[PRIVSEP_MAX_REQ + 1];
	struct privsep_req r;
	ssize_t n;
	int k, i;

	for (k = 0; k < PRIVSEP_READ_BATCH; k++) {
		n = recv(a->net, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		if (privsep_decode(buf, (size_t)n, &r) < 0) {
			log_msg(LOG_ERR, NULL, "malformed auth request (%zd bytes)", n);
			if (n >= 8) {
				memcpy(&r.id, buf, sizeof(r.id));
				privsep_auth_reply(a, r.id, PRIVSEP_AUTH_TEMPFAIL);
			}
		} else if ((i = privsep_idle_worker(a)) >= 0) {
			privsep_worker_dispatch(a, (unsigned)i, buf, (size_t)n);
		} else if (a->qlen < PRIVSEP_QUEUE) {
			struct privsep_queued *q = &a->q[(a->qhead + a->qlen) % PRIVSEP_QUEUE];

			memcpy(q->buf, buf, (size_t)n);
			q->len = (size_t)n;
			a->qlen++;
		} else {
			privsep_auth_reply(a, r.id, PRIVSEP_AUTH_TEMPFAIL);
		}
		explicit_bzero(buf, sizeof(buf));
		explicit_bzero(&r.pass, sizeof(r.pass));
	}
	return 0;
}

static void privsep_read_worker(struct privsep_auth *a, unsigned i)
{
	struct privsep_worker *w = &a->w[i];
	unsigned char buf[PRIVSEP_REPLY + 1];
	uint64_t id;
	ssize_t n;

	do
		n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		privsep_worker_lost(a, i, "died");
		return;
	}
	memcpy(&id, buf, sizeof(id));
	if (n != PRIVSEP_REPLY || !w->busy || id != w->id || buf[8] > PRIVSEP_AUTH_TEMPFAIL) {
		privsep_worker_lost(a, i, "sent a bad reply");
		return;
	}
	privsep_auth_reply(a, id, (enum privsep_result)buf[8]);
	w->busy = false;
	if (++w->served >= PRIVSEP_WORKER_MAX_SERVED)
		privsep_worker_lost(a, i, NULL);
}

/* Detach from everything the proxy had open: only our two sockets and /dev/null remain. */
static int privsep_auth_sanitise(int sock, int *keysock)
{
	sigset_t all;
	int fd, kfd, nul;

	/* syslog's descriptor is about to be closed: never let it write into a reused one. */
	closelog();
	fd = fcntl(sock, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -1;
	kfd = fcntl(*keysock, F_DUPFD_CLOEXEC, fd + 1);
	if (kfd < 0)
		return -1;
	if (fd > 3)
		(void)close_range(3, (unsigned)fd - 1, 0);
	if (kfd > fd + 1)
		(void)close_range((unsigned)fd + 1, (unsigned)kfd - 1, 0);
	(void)close_range((unsigned)kfd + 1, ~0u, 0);
	*keysock = kfd;
	/* stderr stays when it is a log file (-f under a supervisor): crash reports land there. */
	nul = open("/dev/null", O_RDWR);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0)
		return -1;
	if ((sock == 2 || fcntl(2, F_GETFD) < 0 || isatty(2)) && dup2(nul, 2) < 0)
		return -1;
	if (nul > 2)
		close(nul);
	openlog("authgate-auth", LOG_PID | LOG_NDELAY, LOG_MAIL);
	(void)setsid(); /* a terminal's ^C or hangup is for the proxy, which closes our socket */
	/* Only EOF from the network side ends us, so a draining proxy can still authenticate. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	(void)prctl(PR_SET_NAME, "authgate-auth");
	return fd;
}

void privsep_proc_main(int sock, int keysock, const char *service, unsigned nworkers,
		       const char *config_path)
{
	struct pollfd pfd[2 + PRIVSEP_MAX_WORKERS];
	unsigned idx[2 + PRIVSEP_MAX_WORKERS];
	struct privsep_auth *a;
	unsigned i, np, kp = 0;

	sock = privsep_auth_sanitise(sock, &keysock);
	a = calloc(1, sizeof(*a));
	if (sock < 0 || a == NULL)
		_exit(1);
	a->service = service;
	a->config_path = config_path;
	a->net = sock;
	a->key = keysock;
	a->nworkers = nworkers;
	for (;;) {
		int64_t now = privsep_now_ms(), wait = -1;

		for (i = 0; i < a->nworkers; i++) {
			struct privsep_worker *w = &a->w[i];
			int64_t t;

			if (w->pid == 0 && w->respawn_ms <= now)
				privsep_worker_spawn(a, i);
			if (w->pid > 0 && w->busy && now - w->since_ms >= PRIVSEP_WORKER_TIMEOUT_MS)
				privsep_worker_lost(a, i, "timed out in PAM");
			if (w->pid == 0)
				t = w->respawn_ms > now ? w->respawn_ms - now : 0;
			else if (w->busy)
				t = w->since_ms + PRIVSEP_WORKER_TIMEOUT_MS - now;
			else
				continue;
			if (t < 0)
				t = 0;
			if (wait < 0 || t < wait)
				wait = t;
		}
		privsep_queue_drain(a);
		pfd[0] = (struct pollfd){.fd = a->net, .events = POLLIN};
		np = 1;
		for (i = 0; i < a->nworkers; i++) {
			if (a->w[i].pid == 0)
				continue;
			pfd[np] = (struct pollfd){.fd = a->w[i].fd, .events = POLLIN};
			idx[np++] = i;
		}
		kp = 0;
		if (a->key >= 0) {
			kp = np;
			pfd[np++] = (struct pollfd){.fd = a->key, .events = POLLIN};
		}
		if (poll(pfd, np, (int)(wait > 60000 ? 60000 : wait)) < 0) {
			if (errno == EINTR)
				continue;
			log_msg(LOG_ERR, NULL, "auth process poll: %s", strerror(errno));
			_exit(1);
		}
		for (i = 1; i < np; i++)
			if (i != kp && pfd[i].revents != 0 && a->w[idx[i]].pid > 0)
				privsep_read_worker(a, idx[i]);
		if (a->key >= 0 && pfd[kp].revents != 0 &&
		    privsep_key_serve(a->key, a->config_path) < 0) {
			close(a->key);
			a->key = -1;
		}
		if (pfd[0].revents != 0 && privsep_read_net(a) < 0)
			break;
	}
	privsep_workers_stop(a);
	_exit(0);
}
