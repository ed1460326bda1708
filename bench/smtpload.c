/* smtpload.c: an event-driven SMTP load client for loopback benchmarks (options, run, report). */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "smtpload.h"

#define LOAD_MAX_ARG 256 /* user, password, addresses: bench values, not real data */

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: smtpload --port P [options]\n"
	    "  --host A              target, loopback only (127.0.0.0/8); default 127.0.0.1\n"
	    "  --mode M              smtps | starttls | plain (default smtps)\n"
	    "  --user U --password P AUTH PLAIN (default: no AUTH)\n"
	    "  --size BYTES          message size (default 4096)\n"
	    "  --messages-per-conn N messages per connection, MAIL again without RSET (1);\n"
	    "                        0: EHLO, then QUIT (with --duration: EHLO latency)\n"
	    "  --concurrency C       connections in flight (10)\n"
	    "  --total N | --duration S   how much (default --total 1000)\n"
	    "  --warmup S            run S seconds before measuring (0)\n"
	    "  --rate R              open loop: start R connections per second (at most\n"
	    "                        --concurrency at once); default: closed loop\n"
	    "  --tls-resume          reuse the newest TLS session for new connections\n"
	    "  --pipeline            MAIL, RCPT and DATA in one write (RFC 2920), as Thunderbird\n"
	    "                        and Outlook send them when the server offers PIPELINING\n"
	    "  --tls-max 1.2|1.3     highest TLS version offered\n"
	    "  --hold N              open N connections, TLS + EHLO, and keep them idle\n"
	    "  --hold-seconds S      how long to hold (default 10; 0: until SIGTERM)\n"
	    "  --ready-file F        written once all held connections are up\n"
	    "  --timeout S           per reply (10)   --max-errors N (1000)   --max-time S (600)\n"
	    "  --from A --to A --ehlo NAME --label L --json\n");
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 86400)
		return -1;
	*out = v;
	return 0;
}

static int check_text(const char *s)
{
	const char *p;

	if (strlen(s) > LOAD_MAX_ARG)
		return -1;
	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e || *p == '"' || *p == '\\')
			return -1;
	return 0;
}

static int opts_parse(int argc, char **argv, struct load_opts *o)
{
	static const struct option longopts[] = {
	    {"host", 1, 0, 'H'},
	    {"port", 1, 0, 'p'},
	    {"mode", 1, 0, 'm'},
	    {"user", 1, 0, 'u'},
	    {"password", 1, 0, 'w'},
	    {"size", 1, 0, 's'},
	    {"messages-per-conn", 1, 0, 'n'},
	    {"concurrency", 1, 0, 'c'},
	    {"total", 1, 0, 't'},
	    {"duration", 1, 0, 'd'},
	    {"warmup", 1, 0, 'W'},
	    {"rate", 1, 0, 'a'},
	    {"tls-resume", 0, 0, 'r'},
	    {"pipeline", 0, 0, 'P'},
	    {"tls-max", 1, 0, 'T'},
	    {"json", 0, 0, 'j'},
	    {"hold", 1, 0, 'o'},
	    {"hold-seconds", 1, 0, 'O'},
	    {"ready-file", 1, 0, 'R'},
	    {"timeout", 1, 0, 'x'},
	    {"max-errors", 1, 0, 'e'},
	    {"max-time", 1, 0, 'X'},
	    {"from", 1, 0, 'f'},
	    {"to", 1, 0, 'g'},
	    {"ehlo", 1, 0, 'E'},
	    {"label", 1, 0, 'l'},
	    {"help", 0, 0, 'h'},
	    {0, 0, 0, 0},
	};
	const char *host = "127.0.0.1";
	uint64_t v, port = 0;
	int ch;

	o->mode = LOAD_MODE_SMTPS;
	o->size = 4096;
	o->per_conn = 1;
	o->concurrency = 10;
	o->hold_seconds = 10;
	o->timeout = 10;
	o->max_errors = 1000;
	o->max_time = 600;
	o->ehlo = "smtpload.bench.test";
	o->from = "bench@authgate.test";
	o->to = "sink@example.org";
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			host = optarg;
			break;
		case 'p':
			if (parse_u64(optarg, 1, 65535, &port))
				goto bad;
			break;
		case 'm':
			if (!strcmp(optarg, "smtps"))
				o->mode = LOAD_MODE_SMTPS;
			else if (!strcmp(optarg, "starttls"))
				o->mode = LOAD_MODE_STARTTLS;
			else if (!strcmp(optarg, "plain"))
				o->mode = LOAD_MODE_PLAIN;
			else
				goto bad;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'w':
			o->password = optarg;
			break;
		case 's':
			if (parse_u64(optarg, 64, 64u << 20, &v))
				goto bad;
			o->size = (size_t)v;
			break;
		case 'n':
			if (parse_u64(optarg, 0, 100000, &v))
				goto bad;
			o->per_conn = (unsigned)v;
			break;
		case 'c':
			if (parse_u64(optarg, 1, 100000, &v))
				goto bad;
			o->concurrency = (unsigned)v;
			break;
		case 't':
			if (parse_u64(optarg, 1, 1000000000, &o->total))
				goto bad;
			break;
		case 'd':
			if (parse_seconds(optarg, &o->duration) || o->duration <= 0)
				goto bad;
			break;
		case 'W':
			if (parse_seconds(optarg, &o->warmup))
				goto bad;
			break;
		case 'a':
			if (parse_seconds(optarg, &o->rate) || o->rate <= 0)
				goto bad;
			break;
		case 'r':
			o->resume = true;
			break;
		case 'T':
			if (!strcmp(optarg, "1.2"))
				o->tls_max = TLS1_2_VERSION;
			else if (!strcmp(optarg, "1.3"))
				o->tls_max = TLS1_3_VERSION;
			else
				goto bad;
			break;
		case 'j':
			o->json = true;
			break;
		case 'o':
			if (parse_u64(optarg, 1, 1000000, &v))
				goto bad;
			o->hold = (unsigned)v;
			break;
		case 'O':
			if (parse_seconds(optarg, &o->hold_seconds))
				goto bad;
			break;
		case 'R':
			o->ready_file = optarg;
			break;
		case 'x':
			if (parse_u64(optarg, 1, 3600, &v))
				goto bad;
			o->timeout = (unsigned)v;
			break;
		case 'e':
			if (parse_u64(optarg, 1, UINT64_MAX / 2, &o->max_errors))
				goto bad;
			break;
		case 'X':
			if (parse_seconds(optarg, &o->max_time) || o->max_time <= 0)
				goto bad;
			break;
		case 'f':
			o->from = optarg;
			break;
		case 'g':
			o->to = optarg;
			break;
		case 'E':
			o->ehlo = optarg;
			break;
		case 'P':
			o->pipeline = true;
			break;
		case 'l':
			o->label = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			goto bad;
		}
	}
	if (optind != argc || port == 0)
		goto bad;
	if (!o->user != !o->password) {
		fprintf(stderr, "smtpload: --user and --password go together\n");
		return -1;
	}
	if (check_text(o->from) || check_text(o->to) || check_text(o->ehlo) ||
	    (o->label && check_text(o->label)) || (o->user && check_text(o->user)) ||
	    (o->password && strlen(o->password) > LOAD_MAX_ARG)) {
		fprintf(stderr,
			"smtpload: addresses, names and labels: printable ASCII, no quotes\n");
		return -1;
	}
	if (o->total && o->duration) {
		fprintf(stderr, "smtpload: --total or --duration, not both\n");
		return -1;
	}
	if (!o->total && !o->duration)
		o->total = 1000;
	if (o->per_conn == 0 && !o->duration) {
		/* connections that send no message would never reach a --total */
		fprintf(stderr, "smtpload: --messages-per-conn 0 needs --duration\n");
		return -1;
	}
	if (o->hold && o->mode == LOAD_MODE_PLAIN) {
		fprintf(stderr,
			"smtpload: --hold measures TLS connections: use smtps or starttls\n");
		return -1;
	}
	o->addr.sin_family = AF_INET;
	o->addr.sin_port = htons((uint16_t)port);
	/* A load generator must never be pointed at someone else's server. */
	if (inet_pton(AF_INET, host, &o->addr.sin_addr) != 1 ||
	    (ntohl(o->addr.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "smtpload: refusing %s: only loopback (127.0.0.0/8) targets\n",
			host);
		return -1;
	}
	return 0;
bad:
	usage(stderr);
	return -1;
}

/* pre + a + post, freshly allocated (a command line with its CRLF). */
static char *cat_line(const char *pre, const char *a, const char *post)
{
	size_t n = strlen(pre) + strlen(a) + strlen(post) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s%s", pre, a, post);
	return s;
}

/* Headers, then 76-character lines of letters (no dot-stuffing needed) up to --size. */
static int build_body(struct load_run *run)
{
	const struct load_opts *o = &run->o;
	size_t len = 0, cap = o->size + 8, n;
	char *b = malloc(cap);
	int i;

	if (!b)
		return -1;
	len = (size_t)snprintf(b, cap,
			       "From: <%s>\r\nTo: <%s>\r\nSubject: smtpload\r\n"
			       "Message-ID: <smtpload@bench.test>\r\n\r\n",
			       o->from, o->to);
	if (len >= o->size) /* tiny --size: headers only */
		len = o->size;
	for (i = 0; len < o->size; i++) {
		n = o->size - len;
		if (n > 78)
			n = 78;
		if (n >= 3) {
			memset(b + len, 'a' + (i % 26), n - 2);
			b[len + n - 2] = '\r';
			b[len + n - 1] = '\n';
		} else {
			memset(b + len, 'x', n); /* the CRLF below ends this short last line */
		}
		len += n;
	}
	if (len < 2 || b[len - 2] != '\r' || b[len - 1] != '\n') {
		memcpy(b + len, "\r\n", 2);
		len += 2;
	}
	memcpy(b + len, ".\r\n", 3);
	run->body = b;
	run->body_len = len + 3;
	return 0;
}

static int build_lines(struct load_run *run)
{
	const struct load_opts *o = &run->o;
	unsigned char plain[2 * LOAD_MAX_ARG + 4];
	size_t ul, pl;
	char *b64;
	int n;

	run->ehlo_line = cat_line("EHLO ", o->ehlo, "\r\n");
	run->mail_line = cat_line("MAIL FROM:<", o->from, ">\r\n");
	run->rcpt_line = cat_line("RCPT TO:<", o->to, ">\r\n");
	if (!run->ehlo_line || !run->mail_line || !run->rcpt_line)
		return -1;
	if (!o->user)
		return 0;
	/* RFC 4616: authzid NUL authcid NUL passwd, as the initial response */
	ul = strlen(o->user);
	pl = strlen(o->password);
	plain[0] = 0;
	memcpy(plain + 1, o->user, ul);
	plain[1 + ul] = 0;
	memcpy(plain + 2 + ul, o->password, pl);
	b64 = malloc(4 * ((ul + pl + 2 + 2) / 3) + 1);
	if (!b64)
		return -1;
	n = EVP_EncodeBlock((unsigned char *)b64, plain, (int)(ul + pl + 2));
	b64[n] = 0;
	run->auth_line = cat_line("AUTH PLAIN ", b64, "\r\n");
	free(b64);
	return run->auth_line ? 0 : -1;
}

static int tls_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct load_run *run = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (run->session)
		SSL_SESSION_free(run->session);
	run->session = sess;
	return 1; /* we keep the reference */
}

static int tls_setup(struct load_run *run)
{
	run->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (!run->ssl_ctx)
		return -1;
	/* The target is a test server with a self-signed certificate on loopback. */
	SSL_CTX_set_verify(run->ssl_ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_min_proto_version(run->ssl_ctx, TLS1_2_VERSION);
	if (run->o.tls_max)
		SSL_CTX_set_max_proto_version(run->ssl_ctx, run->o.tls_max);
	SSL_CTX_set_app_data(run->ssl_ctx, run);
	if (run->o.resume) {
		SSL_CTX_set_session_cache_mode(run->ssl_ctx, SSL_SESS_CACHE_CLIENT |
								 SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(run->ssl_ctx, tls_new_session);
	}
	return 0;
}

static struct timeval tv_from(double s)
{
	struct timeval tv = {(time_t)s, (suseconds_t)((s - (double)(time_t)s) * 1e6)};

	return tv;
}

static void on_warmup(evutil_socket_t fd, short what, void *arg)
{
	struct load_run *run = arg;
	struct timeval tv = tv_from(run->o.duration);

	(void)fd;
	(void)what;
	stats_reset(run, load_now_us());
	run->measuring = true;
	if (run->ev_stop && run->o.duration > 0)
		event_add(run->ev_stop, &tv);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct load_run *run = arg;

	(void)fd;
	(void)what;
	run->stopping = true;
	if (!run->t_stop_us)
		run->t_stop_us = load_now_us();
	if (run->o.hold)
		conn_close_all(run);
	run_check_done(run);
}

static void on_hard_limit(evutil_socket_t fd, short what, void *arg)
{
	struct load_run *run = arg;

	(void)fd;
	(void)what;
	fprintf(stderr, "smtpload: time limit reached, closing %u connections\n", run->active);
	run->aborted = !run->o.hold;
	run->stopping = true;
	if (!run->t_stop_us)
		run->t_stop_us = load_now_us();
	conn_close_all(run);
	event_base_loopbreak(run->base);
}

/* --rate: how many connections should have started by now; the launcher catches up. */
static void on_rate_tick(evutil_socket_t fd, short what, void *arg)
{
	struct load_run *run = arg;
	double elapsed = (double)(load_now_us() - run->t_rate0_us) / 1e6;

	(void)fd;
	(void)what;
	run->rate_due = (uint64_t)(elapsed * run->o.rate) + 1;
	conn_launch_more(run);
}

static int run_timers(struct load_run *run)
{
	struct timeval tv;

	run->ev_stop = evtimer_new(run->base, on_stop, run);
	run->ev_hard = evtimer_new(run->base, on_hard_limit, run);
	run->ev_warmup = evtimer_new(run->base, on_warmup, run);
	run->ev_sigint = evsignal_new(run->base, SIGINT, on_stop, run);
	run->ev_sigterm = evsignal_new(run->base, SIGTERM, on_stop, run);
	if (!run->ev_stop || !run->ev_hard || !run->ev_warmup || !run->ev_sigint ||
	    !run->ev_sigterm)
		return -1;
	if (run->o.hold && run->o.hold_seconds > 0)
		run->ev_hold = run->ev_stop; /* armed once every connection is up */
	event_add(run->ev_sigint, NULL);
	event_add(run->ev_sigterm, NULL);
	if (run->o.rate > 0 && !run->o.hold) {
		run->ev_rate = event_new(run->base, -1, EV_PERSIST, on_rate_tick, run);
		if (!run->ev_rate)
			return -1;
		tv = tv_from(1.0 / run->o.rate < 0.001 ? 0.001 : 1.0 / run->o.rate);
		event_add(run->ev_rate, &tv);
		run->t_rate0_us = load_now_us();
		run->rate_due = 1;
	}
	tv = tv_from(run->o.max_time);
	event_add(run->ev_hard, &tv);
	if (run->o.warmup > 0 && !run->o.hold) {
		tv = tv_from(run->o.warmup);
		event_add(run->ev_warmup, &tv);
	} else {
		run->measuring = true;
		if (run->o.duration > 0 && !run->o.hold) {
			tv = tv_from(run->o.duration);
			event_add(run->ev_stop, &tv);
		}
	}
	return 0;
}

static void run_free(struct load_run *run)
{
	conn_close_all(run);
	if (run->ev_stop)
		event_free(run->ev_stop);
	if (run->ev_hard)
		event_free(run->ev_hard);
	if (run->ev_warmup)
		event_free(run->ev_warmup);
	if (run->ev_rate)
		event_free(run->ev_rate);
	if (run->ev_sigint)
		event_free(run->ev_sigint);
	if (run->ev_sigterm)
		event_free(run->ev_sigterm);
	if (run->session)
		SSL_SESSION_free(run->session);
	if (run->ssl_ctx)
		SSL_CTX_free(run->ssl_ctx);
	if (run->base)
		event_base_free(run->base);
	free(run->body);
	free(run->auth_line);
	free(run->mail_line);
	free(run->rcpt_line);
	free(run->ehlo_line);
	free(run);
}

/* Many idle connections need many descriptors: take the hard limit. */
static void raise_fd_limit(unsigned want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)want + 64)
		fprintf(stderr, "smtpload: only %llu descriptors for %u connections\n",
			(unsigned long long)rl.rlim_cur, want);
}

int main(int argc, char **argv)
{
	struct load_run *run = calloc(1, sizeof(*run));
	int status;

	if (!run)
		return 2;
	if (opts_parse(argc, argv, &run->o) < 0) {
		free(run);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit(run->o.hold ? run->o.hold : run->o.concurrency);
	run->base = event_base_new();
	if (!run->base || build_body(run) < 0 || build_lines(run) < 0 ||
	    (run->o.mode != LOAD_MODE_PLAIN && tls_setup(run) < 0) || run_timers(run) < 0) {
		fprintf(stderr, "smtpload: setup failed\n");
		run_free(run);
		return 2;
	}
	run->t_start_us = load_now_us();
	conn_launch_more(run);
	run_check_done(run);
	if (!run->t_stop_us)
		event_base_dispatch(run->base);
	if (run->o.json)
		report_json(run);
	else
		report_text(run);
	if (run->o.hold)
		status = run->aborted;
	else if (run->o.per_conn == 0) /* EHLO only: did any server answer? */
		status = run->aborted || run->hist[PH_EHLO].count == 0;
	else
		status = run->aborted || run->msgs_ok == 0;
	run_free(run);
	return status;
}
