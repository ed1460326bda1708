/* nodelay.c: LD_PRELOAD shim setting TCP_NODELAY on every TCP socket a program accepts or
 * connects. nginx's mail proxy (1.22) never sets it, so with TLS its replies wait for the
 * peer's delayed ACK (Nagle, RFC 896: ~40 ms on Linux); scripts/bench runs nginx both as
 * shipped and with this shim, so the comparison is of the proxies, not of one socket flag. */
#define _GNU_SOURCE /* RTLD_NEXT */

#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

int accept(int fd, struct sockaddr *addr, socklen_t *len);
int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int connect(int fd, const struct sockaddr *addr, socklen_t len);

static void nodelay_set(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int type = 0, one = 1;
	socklen_t tl = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM)
		return;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	static int (*real)(int, struct sockaddr *, socklen_t *, int);
	int r;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "accept4");
	r = real(fd, addr, len, flags);
	if (r >= 0)
		nodelay_set(r);
	return r;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	static int (*real)(int, struct sockaddr *, socklen_t *);
	int r;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "accept");
	r = real(fd, addr, len);
	if (r >= 0)
		nodelay_set(r);
	return r;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "connect");
	if (addr && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6))
		nodelay_set(fd); /* before the handshake: an unconnected socket is still TCP */
	return real(fd, addr, len);
}
