/*
 * agclient.c: a small SMTP test client for the t_proxy_* scenarios (loopback only).
 *
 * What openssl s_client cannot do: send a PROXY v1/v2 header before TLS,
 * hold thousands of idle TLS sessions in one light process, or throw random
 * bytes inside a TLS session. Built by the scenarios that use it:
 *	gcc -O2 -o agclient agclient.c -lssl -lcrypto
 *
 * agclient [-B BINDIP] [-P 1|2] [-S SRCIP] [-p SRCPORT] [-t|-s] [-H N | -g BYTES | -F N]
 *          [-T SECS] PORT
 *   -B IP    connect from this local address (127.0.0.0/8 on Linux needs no setup)
 *   -P 1|2   send a PROXY header (v1 text, v2 binary) naming SRCIP:SRCPORT as the client
 *   -t       implicit TLS (465); -s: plain EHLO + STARTTLS first (587)
 *   -H N     hold N sessions (banner read), print "held N", wait for stdin EOF, then
 *            NOOP each and print "served M"; exit 0 if all N answered 250
 *   -g BYTES send BYTES random bytes, read until the server closes (or -T), exit
 *   -F N     flood: N connects as fast as they go, sending nothing (no TLS handshake), each
 *            left open; print "flooded N", wait for stdin EOF, then print "open K" (those
 *            the server has not closed) and close them all
 *   default  pipe: stdin lines (LF) go out with CRLF, server output to stdout; after stdin
 *            EOF, read until the server closes or -T seconds (default 10) pass
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

struct conn {
	int fd;
	SSL *ssl;
};

static const char *opt_bind;
static int opt_proxy, opt_tls, opt_starttls, opt_timeout = 10, opt_port;
static const char *opt_src = "127.0.0.1";
static int opt_srcport = 40000;
static SSL_CTX *ctx;

/* Waits (bounded) when the socket is non-blocking and full: pipe and garbage modes use that. */
static int conn_wait(struct conn *c, short events)
{
	struct pollfd p = {c->fd, events, 0};

	return poll(&p, 1, 10000) > 0 ? 0 : -1;
}

static int conn_write(struct conn *c, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = c->ssl ? SSL_write(c->ssl, p, (int)len) : write(c->fd, p, len);

		if (n <= 0) {
			int e = c->ssl ? SSL_get_error(c->ssl, (int)n) : 0;

			if (!c->ssl && n < 0 && errno == EINTR)
				continue;
			if ((!c->ssl && n < 0 && errno == EAGAIN) || e == SSL_ERROR_WANT_WRITE) {
				if (conn_wait(c, POLLOUT) < 0)
					return -1;
				continue;
			}
			if (e == SSL_ERROR_WANT_READ) {
				if (conn_wait(c, POLLIN) < 0)
					return -1;
				continue;
			}
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* > 0 bytes, 0 end of stream, -1 error, -2 nothing yet (non-blocking: TLS tickets and the like). */
static ssize_t conn_read(struct conn *c, char *buf, size_t len)
{
	ssize_t n;

	if (c->ssl) {
		int e;

		n = SSL_read(c->ssl, buf, (int)len);
		if (n > 0)
			return n;
		e = SSL_get_error(c->ssl, (int)n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return -2;
		return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
	}
	do
		n = read(c->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return -2;
	return n;
}

static void conn_nonblock(struct conn *c)
{
	int fl = fcntl(c->fd, F_GETFL);

	if (fl >= 0)
		fcntl(c->fd, F_SETFL, fl | O_NONBLOCK);
}

/* One reply (all its lines), plain or TLS, byte by byte: never reads past it. */
static int conn_reply(struct conn *c, char *out, size_t outlen)
{
	size_t o = 0, linestart = 0;
	char ch;

	for (;;) {
		if (conn_read(c, &ch, 1) != 1)
			return -1;
		if (o + 1 < outlen)
			out[o++] = ch;
		if (ch != '\n')
			continue;
		out[o] = '\0';
		if (o - linestart >= 4 && out[linestart + 3] == ' ')
			return atoi(out + linestart);
		if (o - linestart < 4)
			return -1;
		linestart = o;
	}
}

static int proxy_header(int fd, int port)
{
	unsigned char b[64];
	size_t n;
	int v6 = strchr(opt_src, ':') != NULL;

	if (opt_proxy == 1) {
		n = (size_t)snprintf((char *)b, sizeof(b), "PROXY %s %s %s %d %d\r\n",
				     v6 ? "TCP6" : "TCP4", opt_src, v6 ? "::1" : "127.0.0.1",
				     opt_srcport, port);
		return write(fd, b, n) == (ssize_t)n ? 0 : -1;
	}
	memcpy(b, "\r\n\r\n\0\r\nQUIT\n", 12);
	b[12] = 0x21; /* v2, PROXY */
	b[13] = v6 ? 0x21 : 0x11;
	n = v6 ? 36 : 12;
	b[14] = 0;
	b[15] = (unsigned char)n;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, opt_src, b + 16) != 1 ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, v6 ? "::1" : "127.0.0.1", b + 16 + n / 2 - 2) != 1)
		return -1;
	b[16 + n - 4] = (unsigned char)(opt_srcport >> 8);
	b[16 + n - 3] = (unsigned char)opt_srcport;
	b[16 + n - 2] = (unsigned char)(port >> 8);
	b[16 + n - 1] = (unsigned char)port;
	return write(fd, b, 16 + n) == (ssize_t)(16 + n) ? 0 : -1;
}

static int conn_bind(int fd)
{
	struct sockaddr_in sin;

	if (opt_bind == NULL)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (inet_pton(AF_INET, opt_bind, &sin.sin_addr) != 1)
		return -1;
	return bind(fd, (struct sockaddr *)&sin, sizeof(sin));
}

static int conn_open(struct conn *c, int quiet)
{
	struct sockaddr_in sin;
	char rep[4096];

	memset(c, 0, sizeof(*c));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)opt_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || conn_bind(c->fd) < 0 ||
	    connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -1;
	if (opt_proxy && proxy_header(c->fd, opt_port) < 0)
		return -1;
	if (opt_starttls) {
		if (conn_reply(c, rep, sizeof(rep)) != 220 ||
		    conn_write(c, "EHLO agclient.test\r\n", 20) < 0 ||
		    conn_reply(c, rep, sizeof(rep)) != 250 ||
		    conn_write(c, "STARTTLS\r\n", 10) < 0 || conn_reply(c, rep, sizeof(rep)) != 220)
			return -1;
	}
	if (opt_tls || opt_starttls) {
		c->ssl = SSL_new(ctx);
		if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 || SSL_connect(c->ssl) != 1) {
			if (!quiet)
				ERR_print_errors_fp(stderr);
			return -1;
		}
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
}

static int run_hold(int n)
{
	struct conn *cs = calloc((size_t)n, sizeof(*cs));
	char rep[4096], buf[256];
	int held = 0, served = 0, i;

	if (cs == NULL)
		return 2;
	for (i = 0; i < n; i++) {
		if (conn_open(&cs[i], 1) < 0 || conn_reply(&cs[i], rep, sizeof(rep)) != 220) {
			fprintf(stderr, "agclient: session %d: no banner\n", i);
			conn_close(&cs[i]);
			continue;
		}
		held++;
	}
	printf("held %d\n", held);
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0) /* until the scenario says go */
		;
	for (i = 0; i < n; i++) {
		if (cs[i].fd < 0)
			continue;
		if (conn_write(&cs[i], "NOOP\r\n", 6) == 0 &&
		    conn_reply(&cs[i], rep, sizeof(rep)) == 250)
			served++;
		conn_write(&cs[i], "QUIT\r\n", 6);
		conn_close(&cs[i]);
	}
	printf("served %d\n", served);
	free(cs);
	return served == n ? 0 : 1;
}

static int wait_readable(struct conn *c, int ms)
{
	struct pollfd p = {c->fd, POLLIN, 0};

	if (c->ssl && SSL_pending(c->ssl) > 0)
		return 1;
	return poll(&p, 1, ms);
}

static int run_garbage(long bytes)
{
	struct conn c;
	unsigned char buf[4096];
	char rd[4096];
	time_t deadline;

	if (conn_open(&c, 1) < 0)
		return 1;
	conn_nonblock(&c);
	while (bytes > 0) {
		size_t k = bytes > (long)sizeof(buf) ? sizeof(buf) : (size_t)bytes;

		RAND_bytes(buf, (int)k);
		if (conn_write(&c, buf, k) < 0)
			break; /* the server may well hang up on us: that is fine */
		bytes -= (long)k;
	}
	deadline = time(NULL) + opt_timeout;
	while (time(NULL) < deadline) {
		ssize_t n;

		if (wait_readable(&c, 200) < 0)
			break;
		n = conn_read(&c, rd, sizeof(rd));
		if (n == 0 || n == -1)
			break;
	}
	conn_close(&c);
	return 0;
}

static int run_pipe(void)
{
	struct conn c;
	char in[16384], out[16384];
	size_t inlen = 0;
	int stdin_open = 1;
	time_t deadline = 0;

	if (conn_open(&c, 0) < 0) {
		fprintf(stderr, "agclient: cannot connect to 127.0.0.1:%d\n", opt_port);
		return 1;
	}
	conn_nonblock(&c);
	for (;;) {
		struct pollfd p[2] = {{c.fd, POLLIN, 0}, {0, POLLIN, 0}};
		int ms = 1000, rc;

		if (!stdin_open && time(NULL) >= deadline)
			break;
		if (c.ssl && SSL_pending(c.ssl) > 0)
			ms = 0;
		rc = poll(p, stdin_open ? 2 : 1, ms);
		if (rc < 0 && errno != EINTR)
			break;
		if ((c.ssl && SSL_pending(c.ssl) > 0) ||
		    (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = conn_read(&c, out, sizeof(out));

			if (n == 0 || n == -1)
				break;
			if (n > 0) {
				fwrite(out, 1, (size_t)n, stdout);
				fflush(stdout);
			}
		}
		if (stdin_open && (p[1].revents & (POLLIN | POLLHUP))) {
			ssize_t n = read(0, in + inlen, sizeof(in) - inlen - 1);
			char *lf;

			if (n <= 0) {
				stdin_open = 0;
				deadline = time(NULL) + opt_timeout;
				continue;
			}
			inlen += (size_t)n;
			while ((lf = memchr(in, '\n', inlen)) != NULL) {
				size_t l = (size_t)(lf - in);

				if (l > 0 && in[l - 1] == '\r')
					l--;
				if (conn_write(&c, in, l) < 0 || conn_write(&c, "\r\n", 2) < 0)
					goto out;
				inlen -= (size_t)(lf - in) + 1;
				memmove(in, lf + 1, inlen);
			}
			if (inlen == sizeof(in) - 1)
				inlen = 0; /* a line this long is not a test we run */
		}
	}
out:
	conn_close(&c);
	return 0;
}

/* -F: connections that never say a word, as a flooder's do; bounded by n and by -T per connect. */
static int run_flood(int n)
{
	struct rlimit rl;
	int *fds = calloc((size_t)n, sizeof(int)), made = 0, open_ = 0, i;
	char c;

	if (fds == NULL)
		return 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)n + 64 ? rl.rlim_max : (rlim_t)n + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (i = 0; i < n; i++) {
		struct conn conn;
		int tls = opt_tls;

		opt_tls = 0; /* connect only: the handshake is what the flooder never does */
		if (conn_open(&conn, 1) == 0)
			fds[made++] = conn.fd;
		else if (conn.fd >= 0)
			close(conn.fd);
		opt_tls = tls;
	}
	printf("flooded %d\n", made);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	for (i = 0; i < made; i++) {
		char b;
		ssize_t r = recv(fds[i], &b, 1, MSG_PEEK | MSG_DONTWAIT);

		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			open_++;
		close(fds[i]);
	}
	printf("open %d\n", open_);
	free(fds);
	return 0;
}

int main(int argc, char **argv)
{
	int opt, hold = 0, flood = 0;
	long garbage = -1;

	while ((opt = getopt(argc, argv, "B:P:S:p:tsH:g:F:T:")) != -1) {
		switch (opt) {
		case 'B':
			opt_bind = optarg;
			break;
		case 'F':
			flood = atoi(optarg);
			break;
		case 'P':
			opt_proxy = atoi(optarg);
			break;
		case 'S':
			opt_src = optarg;
			break;
		case 'p':
			opt_srcport = atoi(optarg);
			break;
		case 't':
			opt_tls = 1;
			break;
		case 's':
			opt_starttls = 1;
			break;
		case 'H':
			hold = atoi(optarg);
			break;
		case 'g':
			garbage = atol(optarg);
			break;
		case 'T':
			opt_timeout = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: agclient [-B BINDIP] [-P 1|2] [-S SRCIP] [-p SRCPORT] "
					"[-t|-s] [-H N|-g BYTES|-F N] [-T SECS] PORT\n");
			return 2;
		}
	}
	if (optind + 1 != argc || (opt_proxy != 0 && opt_proxy != 1 && opt_proxy != 2))
		return 2;
	opt_port = atoi(argv[optind]);
	signal(SIGPIPE, SIG_IGN);
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		return 2;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* our throwaway test certificate */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (flood > 0)
		return run_flood(flood);
	if (hold > 0)
		return run_hold(hold);
	if (garbage >= 0)
		return run_garbage(garbage);
	return run_pipe();
}
