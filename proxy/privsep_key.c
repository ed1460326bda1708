/* privsep_key.c: the TLS private key, read by the root auth process for the network side's reload.
 */
#include "privsep_key.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/configfile.h"

static void privsep_key_put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v)); /* host order: both ends are one binary on one host */
}

static uint32_t privsep_key_get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The whole file into buf (at most cap - 1 bytes): regular, bounded, and a PEM private key. */
static int privsep_key_read(const char *path, unsigned char *buf, size_t cap, size_t *len,
			    const char **why)
{
	struct stat st;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (size_t)st.st_size >= cap) {
		*why = "not a regular file of a key's size";
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	/* Whatever tls_key names, only a private key leaves this process. */
	if (got != (size_t)st.st_size || strstr((char *)buf, "-----BEGIN ") == NULL ||
	    strstr((char *)buf, "PRIVATE KEY-----") == NULL) {
		*why = "not a PEM private key";
		return -1;
	}
	*len = got;
	return 0;
}

int privsep_key_serve(int fd, const char *config_path)
{
	unsigned char req[PRIVSEP_KEY_REQ + 1], *reply;
	struct ag_config_error cerr;
	struct ag_config *cfg;
	const char *why = NULL;
	size_t len = 0;
	ssize_t n;

	do
		n = recv(fd, req, sizeof(req), MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
		return -1;
	if (n != PRIVSEP_KEY_REQ)
		return 0; /* nothing, or not a request of ours: no answer */
	reply = malloc(PRIVSEP_KEY_HDR + PRIVSEP_KEY_MAX);
	if (reply == NULL)
		return 0; /* the network side times out and keeps its key */
	memcpy(reply, req, PRIVSEP_KEY_REQ);
	cfg = config_load(config_path, &cerr);
	if (cfg == NULL)
		why = "the configuration does not load";
	else if (cfg->tls_key == NULL)
		why = "no tls_key in the configuration";
	else
		(void)privsep_key_read(cfg->tls_key, reply + PRIVSEP_KEY_HDR, PRIVSEP_KEY_MAX, &len,
				       &why);
	if (why != NULL) {
		reply[PRIVSEP_KEY_REQ] = 1;
		len = (size_t)snprintf((char *)reply + PRIVSEP_KEY_HDR, 256, "%s%s%s",
				       cfg && cfg->tls_key ? cfg->tls_key : "",
				       cfg && cfg->tls_key ? ": " : "", why);
		if (len > 255)
			len = 255;
	} else {
		reply[PRIVSEP_KEY_REQ] = 0;
	}
	(void)send(fd, reply, PRIVSEP_KEY_HDR + len, MSG_DONTWAIT | MSG_NOSIGNAL);
	explicit_bzero(reply, PRIVSEP_KEY_HDR + PRIVSEP_KEY_MAX);
	free(reply);
	config_unref(cfg);
	return 0;
}

int privsep_key_fetch(int fd, uint32_t seq, char **pem, size_t *len, char *err, size_t errlen)
{
	unsigned char req[PRIVSEP_KEY_REQ], *buf;
	struct pollfd p = {fd, POLLIN, 0};
	ssize_t n;

	*pem = NULL;
	privsep_key_put32(req, seq);
	if (send(fd, req, sizeof(req), MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof(req)) {
		snprintf(err, errlen, "cannot ask the auth process for the key: %s",
			 strerror(errno));
		return -1;
	}
	buf = malloc(PRIVSEP_KEY_HDR + PRIVSEP_KEY_MAX + 1);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* A reply to an earlier request that timed out is skipped by its sequence number. */
	for (;;) {
		int r = poll(&p, 1, PRIVSEP_KEY_TIMEOUT_MS);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "the auth process did not send the key in time");
			break;
		}
		n = recv(fd, buf, PRIVSEP_KEY_HDR + PRIVSEP_KEY_MAX, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < PRIVSEP_KEY_HDR) {
			snprintf(err, errlen, "the auth process is gone");
			break;
		}
		if (privsep_key_get32(buf) != seq)
			continue;
		buf[n] = '\0';
		if (buf[PRIVSEP_KEY_REQ] != 0) {
			snprintf(err, errlen, "the auth process cannot read the key: %.255s",
				 (char *)buf + PRIVSEP_KEY_HDR);
			break;
		}
		*len = (size_t)n - PRIVSEP_KEY_HDR;
		memmove(buf, buf + PRIVSEP_KEY_HDR, *len + 1);
		*pem = (char *)buf;
		return 0;
	}
	explicit_bzero(buf, PRIVSEP_KEY_HDR + PRIVSEP_KEY_MAX + 1);
	free(buf);
	return -1;
}
