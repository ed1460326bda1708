/* privsep.c: the network side's asynchronous client of the auth process, and its start-up. */
#include "privsep.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <event2/event.h>

#include "log.h"
#include "privsep_key.h"
#include "privsep_proc.h"

/* Requests in flight; the slot number is the low bits of the request id. */
#define PRIVSEP_SLOT_BITS 10
#define PRIVSEP_MAX_PENDING (1u << PRIVSEP_SLOT_BITS)
/* The auth process did not answer in time: 454. */
#define PRIVSEP_TIMEOUT_SEC 30

struct privsep_pending {
	struct privsep *ps;
	uint64_t id; /* 0: free slot */
	privsep_auth_cb cb;
	void *arg;
	struct event *timer;
};

struct privsep {
	int fd;
	int keyfd; /* the key channel (privsep_key.h), blocking, used on reload only */
	uint32_t keyseq;
	pid_t pid;
	struct event *ev;
	struct event_base *base;
	bool dead;     /* the auth process is gone: every request gets 0 */
	bool stopping; /* privsep_stop() ran inside a callback: free when it returns */
	unsigned busy; /* callbacks running */
	uint64_t seq;
	unsigned hint;
	struct privsep_pending pending[PRIVSEP_MAX_PENDING];
};

static void privsep_free(struct privsep *ps)
{
	unsigned i;

	for (i = 0; i < PRIVSEP_MAX_PENDING; i++)
		if (ps->pending[i].timer != NULL)
			event_free(ps->pending[i].timer);
	if (ps->ev != NULL)
		event_free(ps->ev);
	if (ps->fd >= 0)
		close(ps->fd);
	if (ps->keyfd >= 0)
		close(ps->keyfd);
	if (ps->pid > 0)
		(void)waitpid(ps->pid, NULL, WNOHANG);
	free(ps);
}

static void privsep_slot_clear(struct privsep_pending *p)
{
	if (p->timer != NULL)
		event_free(p->timer);
	p->timer = NULL;
	p->id = 0;
	p->cb = NULL;
	p->arg = NULL;
}

/* Clear the slot first: the callback may start a new request or stop everything. */
static void privsep_complete(struct privsep_pending *p, enum privsep_result r)
{
	struct privsep *ps = p->ps;
	privsep_auth_cb cb = p->cb;
	void *arg = p->arg;

	privsep_slot_clear(p);
	ps->busy++;
	cb(r, arg);
	ps->busy--;
}

/* The auth process exited or crashed: everybody waiting gets 454, and so does everyone after. */
static void privsep_lost(struct privsep *ps)
{
	unsigned i;

	log_msg(LOG_ERR, NULL, "auth process %ld has gone: authentication unavailable",
		(long)ps->pid);
	ps->dead = true;
	event_del(ps->ev);
	if (waitpid(ps->pid, NULL, WNOHANG) == ps->pid)
		ps->pid = 0;
	for (i = 0; i < PRIVSEP_MAX_PENDING && !ps->stopping; i++)
		if (ps->pending[i].id != 0)
			privsep_complete(&ps->pending[i], PRIVSEP_AUTH_TEMPFAIL);
}

static void privsep_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct privsep *ps = arg;
	unsigned char buf[PRIVSEP_REPLY + 1];
	unsigned k;

	(void)what;
	for (k = 0; k < PRIVSEP_READ_BATCH && !ps->stopping && !ps->dead; k++) {
		struct privsep_pending *p;
		uint64_t id;
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			privsep_lost(ps);
			break;
		}
		if (n != PRIVSEP_REPLY || buf[8] > PRIVSEP_AUTH_TEMPFAIL) {
			log_msg(LOG_ERR, NULL, "auth process sent a malformed reply (%zd bytes)",
				n);
			continue;
		}
		memcpy(&id, buf, sizeof(id));
		p = &ps->pending[id & (PRIVSEP_MAX_PENDING - 1)];
		if (id != 0 && p->id == id) /* else cancelled or timed out: drop it */
			privsep_complete(p, (enum privsep_result)buf[8]);
	}
	if (ps->stopping && ps->busy == 0)
		privsep_free(ps);
}

static void privsep_on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct privsep_pending *p = arg;
	struct privsep *ps = p->ps;

	(void)fd;
	(void)what;
	log_msg(LOG_WARNING, NULL, "auth request timed out after %d s", PRIVSEP_TIMEOUT_SEC);
	privsep_complete(p, PRIVSEP_AUTH_TEMPFAIL);
	if (ps->stopping && ps->busy == 0)
		privsep_free(ps);
}

struct privsep *privsep_start(const char *pam_service, unsigned workers, const char *config_path,
			      const char **why)
{
	char path[300];
	struct privsep *ps;
	int sv[2], kv[2];
	unsigned i;

	if (pam_service == NULL || pam_service[0] == '\0' || strlen(pam_service) > 255 ||
	    strchr(pam_service, '/') != NULL) {
		*why = "pam_service must be a plain service name";
		return NULL;
	}
	if (workers == 0) {
		*why = "at least one PAM worker is needed";
		return NULL;
	}
	if (workers > PRIVSEP_MAX_WORKERS)
		workers = PRIVSEP_MAX_WORKERS;
	/* libpam falls back to "other" (usually pam_deny): every login would get 535, not 454. */
	if (snprintf(path, sizeof(path), "/etc/pam.d/%s", pam_service) < (int)sizeof(path) &&
	    access(path, R_OK) < 0 && access("/etc/pam.conf", R_OK) < 0)
		log_msg(LOG_WARNING, NULL, "%s: %s: PAM will use the \"other\" service", path,
			strerror(errno));
	ps = calloc(1, sizeof(*ps));
	if (ps == NULL) {
		*why = "out of memory";
		return NULL;
	}
	for (i = 0; i < PRIVSEP_MAX_PENDING; i++)
		ps->pending[i].ps = ps;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		*why = "socketpair failed";
		free(ps);
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, kv) < 0) {
		*why = "socketpair failed";
		close(sv[0]);
		close(sv[1]);
		free(ps);
		return NULL;
	}
	ps->pid = fork();
	if (ps->pid < 0) {
		*why = "fork failed";
		close(sv[0]);
		close(sv[1]);
		close(kv[0]);
		close(kv[1]);
		free(ps);
		return NULL;
	}
	if (ps->pid == 0) {
		close(sv[0]);
		close(kv[0]);
		privsep_proc_main(sv[1], kv[1], pam_service, workers, config_path);
	}
	close(sv[1]);
	close(kv[1]);
	ps->fd = sv[0];
	ps->keyfd = kv[0];
	if (evutil_make_socket_nonblocking(ps->fd) < 0) {
		*why = "cannot make the auth socket non-blocking";
		privsep_free(ps);
		return NULL;
	}
	return ps;
}

int privsep_fetch_key(struct privsep *ps, char **pem, size_t *len, char *err, size_t errlen)
{
	*pem = NULL;
	if (ps == NULL || ps->dead || ps->keyfd < 0) {
		snprintf(err, errlen, "no auth process to read the key");
		return -1;
	}
	return privsep_key_fetch(ps->keyfd, ++ps->keyseq, pem, len, err, errlen);
}

int privsep_attach(struct privsep *ps, struct event_base *base)
{
	if (ps == NULL || base == NULL || ps->ev != NULL)
		return -1;
	ps->ev = event_new(base, ps->fd, EV_READ | EV_PERSIST, privsep_on_read, ps);
	if (ps->ev == NULL)
		return -1;
	if (event_add(ps->ev, NULL) < 0) {
		event_free(ps->ev);
		ps->ev = NULL;
		return -1;
	}
	ps->base = base;
	return 0;
}

uint64_t privsep_auth(struct privsep *ps, const char *user, const char *password,
		      const char *client_ip, privsep_auth_cb cb, void *arg)
{
	unsigned char buf[PRIVSEP_MAX_REQ];
	const struct timeval tv = {PRIVSEP_TIMEOUT_SEC, 0};
	struct privsep_pending *p = NULL;
	size_t ulen, plen, iplen;
	uint16_t l16;
	uint64_t id;
	unsigned i;
	ssize_t n;

	if (ps == NULL || ps->ev == NULL || ps->dead || ps->stopping || user == NULL ||
	    password == NULL || cb == NULL)
		return 0;
	if (client_ip == NULL)
		client_ip = "";
	ulen = strnlen(user, PRIVSEP_MAX_USER + 1);
	plen = strnlen(password, PRIVSEP_MAX_PASS + 1);
	iplen = strnlen(client_ip, PRIVSEP_MAX_IP + 1);
	if (ulen == 0 || ulen > PRIVSEP_MAX_USER || plen > PRIVSEP_MAX_PASS ||
	    iplen > PRIVSEP_MAX_IP)
		return 0;
	for (i = 0; i < PRIVSEP_MAX_PENDING && p == NULL; i++) {
		unsigned s = (ps->hint + i) % PRIVSEP_MAX_PENDING;

		if (ps->pending[s].id == 0)
			p = &ps->pending[s];
	}
	if (p == NULL)
		return 0;
	/* The slot is in the low bits: a reply finds its request without a search. */
	id = (++ps->seq << PRIVSEP_SLOT_BITS) | (uint64_t)(p - ps->pending);
	p->timer = evtimer_new(ps->base, privsep_on_timeout, p);
	if (p->timer == NULL)
		return 0;
	memcpy(buf, &id, sizeof(id));
	l16 = (uint16_t)ulen;
	memcpy(buf + 8, &l16, sizeof(l16));
	l16 = (uint16_t)plen;
	memcpy(buf + 10, &l16, sizeof(l16));
	l16 = (uint16_t)iplen;
	memcpy(buf + 12, &l16, sizeof(l16));
	memcpy(buf + PRIVSEP_HDR, user, ulen);
	memcpy(buf + PRIVSEP_HDR + ulen, password, plen);
	memcpy(buf + PRIVSEP_HDR + ulen + plen, client_ip, iplen);
	do
		n = send(ps->fd, buf, PRIVSEP_HDR + ulen + plen + iplen,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	explicit_bzero(buf, sizeof(buf));
	/* Full (auth process overloaded) or gone (EOF arrives through the read event): 454. */
	if (n < 0 || evtimer_add(p->timer, &tv) < 0) {
		privsep_slot_clear(p);
		return 0;
	}
	p->id = id;
	p->cb = cb;
	p->arg = arg;
	ps->hint = (unsigned)(p - ps->pending + 1) % PRIVSEP_MAX_PENDING;
	return id;
}

void privsep_cancel(struct privsep *ps, uint64_t id)
{
	struct privsep_pending *p;

	if (ps == NULL || id == 0)
		return;
	p = &ps->pending[id & (PRIVSEP_MAX_PENDING - 1)];
	if (p->id == id)
		privsep_slot_clear(p);
}

void privsep_stop(struct privsep *ps)
{
	if (ps == NULL)
		return;
	ps->stopping = true;
	if (ps->busy == 0)
		privsep_free(ps);
}
