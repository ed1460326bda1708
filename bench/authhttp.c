/* authhttp.c: nginx mail auth_http endpoint for benchmarks; checks passwords with crypt(3)
 * against the same "user:sha512-crypt" file pam_pwdfile reads, so nginx and authgate do the
 * same hashing work per login. */
#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#define AH_MAX_USERS 1024
#define AH_MAX_LINE 512
#define AH_MAX_THREADS 16

struct ah_user {
	char *name;
	char *hash;
};

struct ah_conf {
	struct ah_user users[AH_MAX_USERS];
	size_t nusers;
	bool no_check;	 /* answer OK without hashing: auth cost removed */
	char server[64]; /* Auth-Server: the backend nginx relays to */
	unsigned server_port;
	int listen_fd;
};

struct ah_worker {
	pthread_t tid;
	const struct ah_conf *conf;
	struct event_base *base;
	struct evhttp *http;
	struct crypt_data *cd; /* crypt_r state: 32 KiB, one per thread */
	unsigned long ok, bad;
};

static int ah_load_users(struct ah_conf *conf, const char *path)
{
	char line[AH_MAX_LINE + 2];
	FILE *f = fopen(path, "r");
	char *colon, *nl;

	if (!f) {
		fprintf(stderr, "authhttp: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		nl = strchr(line, '\n');
		if (!nl) {
			fprintf(stderr, "authhttp: %s: line too long\n", path);
			fclose(f);
			return -1;
		}
		*nl = 0;
		colon = strchr(line, ':');
		if (!colon || colon == line)
			continue;
		if (conf->nusers == AH_MAX_USERS) {
			fprintf(stderr, "authhttp: %s: more than %d users\n", path, AH_MAX_USERS);
			fclose(f);
			return -1;
		}
		*colon = 0;
		conf->users[conf->nusers].name = strdup(line);
		conf->users[conf->nusers].hash = strdup(colon + 1);
		if (!conf->users[conf->nusers].name || !conf->users[conf->nusers].hash) {
			fclose(f);
			return -1;
		}
		conf->nusers++;
	}
	fclose(f);
	return 0;
}

/* nginx escapes Auth-User and Auth-Pass (ngx_mail_auth_http_escape): undo it. */
static char *ah_header(struct evkeyvalq *h, const char *name)
{
	const char *v = evhttp_find_header(h, name);

	return v ? evhttp_uridecode(v, 0, NULL) : NULL;
}

static bool ah_check(struct ah_worker *w, const char *user, const char *pass)
{
	const struct ah_conf *conf = w->conf;
	const char *out;
	size_t i;

	if (conf->no_check)
		return true;
	for (i = 0; i < conf->nusers; i++) {
		if (strcmp(conf->users[i].name, user) != 0)
			continue;
		out = crypt_r(pass, conf->users[i].hash, w->cd);
		return out && out[0] != '*' && strcmp(out, conf->users[i].hash) == 0;
	}
	return false;
}

static void ah_request(struct evhttp_request *req, void *arg)
{
	struct ah_worker *w = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	char *user = ah_header(in, "Auth-User");
	char *pass = ah_header(in, "Auth-Pass");
	char port[16];

	if (user && pass && ah_check(w, user, pass)) {
		w->ok++;
		snprintf(port, sizeof(port), "%u", w->conf->server_port);
		evhttp_add_header(out, "Auth-Status", "OK");
		evhttp_add_header(out, "Auth-Server", w->conf->server);
		evhttp_add_header(out, "Auth-Port", port);
	} else {
		w->bad++;
		evhttp_add_header(out, "Auth-Status", "Invalid login or password");
		evhttp_add_header(out, "Auth-Wait", "1");
	}
	evhttp_send_reply(req, 200, "OK", NULL);
	free(user);
	free(pass);
}

static void *ah_worker_main(void *arg)
{
	struct ah_worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

static int ah_listen(unsigned port)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 1024) < 0) {
		fprintf(stderr, "authhttp: 127.0.0.1:%u: %s\n", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void usage(void)
{
	fprintf(stderr, "usage: authhttp --port P --backend-port S [--backend 127.0.0.1]\n"
			"       [--pwfile FILE | --no-check] [--threads N]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"port", 1, 0, 'p'},   {"backend", 1, 0, 'b'},  {"backend-port", 1, 0, 's'},
	    {"pwfile", 1, 0, 'f'}, {"no-check", 0, 0, 'n'}, {"threads", 1, 0, 't'},
	    {0, 0, 0, 0},
	};
	static struct ah_conf conf;
	struct ah_worker workers[AH_MAX_THREADS];
	unsigned port = 0, nthreads = 2, i;
	const char *pwfile = NULL;
	int ch;

	snprintf(conf.server, sizeof(conf.server), "127.0.0.1");
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			port = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			snprintf(conf.server, sizeof(conf.server), "%s", optarg);
			break;
		case 's':
			conf.server_port = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'f':
			pwfile = optarg;
			break;
		case 'n':
			conf.no_check = true;
			break;
		case 't':
			nthreads = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (port == 0 || port > 65535 || conf.server_port == 0 || conf.server_port > 65535 ||
	    nthreads == 0 || nthreads > AH_MAX_THREADS || (!pwfile && !conf.no_check)) {
		usage();
		return 2;
	}
	if (strncmp(conf.server, "127.", 4) != 0) {
		fprintf(stderr, "authhttp: the backend must be on loopback\n");
		return 2;
	}
	if (pwfile && ah_load_users(&conf, pwfile) < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	conf.listen_fd = ah_listen(port);
	if (conf.listen_fd < 0)
		return 1;
	/* One event loop per thread on the shared listening socket: crypt(3) blocks, and PAM
	 * on the authgate side runs auth_workers conversations at once. */
	for (i = 0; i < nthreads; i++) {
		struct ah_worker *w = &workers[i];

		memset(w, 0, sizeof(*w));
		w->conf = &conf;
		w->cd = calloc(1, sizeof(*w->cd));
		w->base = event_base_new();
		w->http = w->base ? evhttp_new(w->base) : NULL;
		if (!w->cd || !w->http) {
			fprintf(stderr, "authhttp: out of memory\n");
			return 1;
		}
		evhttp_set_gencb(w->http, ah_request, w);
		if (!evhttp_accept_socket_with_handle(w->http, i == 0 ? conf.listen_fd
								      : dup(conf.listen_fd))) {
			fprintf(stderr, "authhttp: cannot accept on the socket\n");
			return 1;
		}
		if (i > 0 && pthread_create(&w->tid, NULL, ah_worker_main, w) != 0) {
			fprintf(stderr, "authhttp: pthread_create failed\n");
			return 1;
		}
	}
	fprintf(stderr, "authhttp: 127.0.0.1:%u, %u threads, %zu users%s\n", port, nthreads,
		conf.nusers, conf.no_check ? ", no check" : "");
	ah_worker_main(&workers[0]); /* until killed: SIGTERM's default action ends it */
	return 0;
}
