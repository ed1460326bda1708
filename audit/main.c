/* main.c: authgate-audit: options, the log files, and the record -> message -> report pipeline. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "io/configfile.h"
#include "files.h"
#include "reader.h"
#include "timeutil.h"

#ifndef AG_VERSION
#define AG_VERSION "unknown"
#endif

#define EXIT_USAGE 1
#define EXIT_BAD_RECORDS 2 /* --strict only */

static const struct audit_cmd *const commands[] = {&cmd_who, &cmd_unauth, &cmd_trend, &cmd_html};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

enum {
	OPT_SINCE = 256,
	OPT_UNTIL,
	OPT_USER,
	OPT_CLIENT,
	OPT_RCPT,
	OPT_FORMAT,
	OPT_BY,
	OPT_HOURLY,
	OPT_ROTATED,
	OPT_TOP,
	OPT_STRICT,
};

static const struct option long_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"log", required_argument, NULL, 'l'},
    {"output", required_argument, NULL, 'o'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {"since", required_argument, NULL, OPT_SINCE},
    {"until", required_argument, NULL, OPT_UNTIL},
    {"user", required_argument, NULL, OPT_USER},
    {"client", required_argument, NULL, OPT_CLIENT},
    {"rcpt", required_argument, NULL, OPT_RCPT},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"by", required_argument, NULL, OPT_BY},
    {"hourly", no_argument, NULL, OPT_HOURLY},
    {"rotated", no_argument, NULL, OPT_ROTATED},
    {"top", required_argument, NULL, OPT_TOP},
    {"strict", no_argument, NULL, OPT_STRICT},
    {NULL, 0, NULL, 0},
};

/* Everything main collects before the pipeline runs. */
struct main_args {
	const char *config_path;
	const char *output;
	struct file_list logs;
	bool rotated;
	bool strict;
	bool format_given;
	const struct audit_cmd *cmd;
	struct audit_opts o;
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: authgate-audit [-c FILE] [-l LOG]... [--rotated] SUBCOMMAND [options]\n"
		   "       authgate-audit -V | -h\n\nsubcommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(
	    f,
	    "\noptions:\n"
	    "  -c FILE          authgate.conf: audit_log when no -l, phase for html (default %s)\n"
	    "  -l LOG           a log file, plain or gzip, \"-\" for stdin; repeat for several\n"
	    "  --rotated        also read LOG's rotated siblings (LOG.N[.gz], LOG-YYYYMMDD[.gz])\n"
	    "  --since T        from T (ISO 8601 instant, or a date: its midnight UTC)\n"
	    "  --until T        before T (a date: up to the end of that day)\n"
	    "  --user U         messages (and failed logins) of login U\n"
	    "  --client IP|CIDR messages from that client address or network\n"
	    "  --rcpt ADDR      messages to ADDR, or to any address in @DOMAIN\n"
	    "  --format F       text (default), csv (RFC 4180) or json\n"
	    "  --by KEY         who: counts by user, sender, client or rcpt\n"
	    "  --hourly         trend, html: per hour instead of per day\n"
	    "  --top N          at most N rows (who --by, unauth; html tables, default 25)\n"
	    "  --strict         exit 2 when any line was not a valid record\n"
	    "  -o FILE          write to FILE (replaced atomically) instead of stdout\n"
	    "  -V, --version    print the version\n"
	    "  -h, --help       print this help\n"
	    "times are UTC; exit 0 ok, 1 usage, configuration or I/O error\n",
	    AG_DEFAULT_CONFIG);
}

static int fail_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("authgate-audit: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(authgate-audit --help for usage)\n", stderr);
	return -1;
}

static int parse_by(const char *s, enum by_key *by)
{
	static const char *const names[] = {NULL, "user", "sender", "client", "rcpt"};
	size_t i;

	for (i = 1; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*by = (enum by_key)i;
			return 0;
		}
	}
	return -1;
}

static int parse_args(int argc, char **argv, struct main_args *a)
{
	const char *why;
	char *end;
	unsigned long top;
	size_t i;
	int c;

	while ((c = getopt_long(argc, argv, "c:l:o:Vh", long_options, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config_path = optarg;
			break;
		case 'l':
			if (files_add(&a->logs, optarg) < 0)
				return fail_usage("%s", "out of memory");
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'V':
			printf("authgate-audit %s\n", AG_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_SINCE:
		case OPT_UNTIL:
			if (time_parse_bound(optarg, c == OPT_UNTIL,
					     c == OPT_SINCE ? &a->o.since_ms : &a->o.until_ms,
					     &why) < 0) {
				fprintf(stderr, "authgate-audit: --%s %s: %s\n",
					c == OPT_SINCE ? "since" : "until", optarg, why);
				return -1;
			}
			if (c == OPT_SINCE)
				a->o.has_since = true;
			else
				a->o.has_until = true;
			break;
		case OPT_USER:
			a->o.user = optarg;
			break;
		case OPT_CLIENT:
			if (net_parse_cidr(optarg, &a->o.client, &why) < 0) {
				fprintf(stderr, "authgate-audit: --client %s: %s\n", optarg, why);
				return -1;
			}
			a->o.has_client = true;
			break;
		case OPT_RCPT:
			a->o.rcpt = optarg;
			break;
		case OPT_FORMAT:
			if (out_parse_format(optarg, &a->o.format) < 0)
				return fail_usage("--format %s: expected text, csv or json",
						  optarg);
			a->format_given = true;
			break;
		case OPT_BY:
			if (parse_by(optarg, &a->o.by) < 0)
				return fail_usage("--by %s: expected user, sender, client or rcpt",
						  optarg);
			break;
		case OPT_HOURLY:
			a->o.hourly = true;
			break;
		case OPT_ROTATED:
			a->rotated = true;
			break;
		case OPT_TOP:
			errno = 0;
			top = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || top == 0 ||
			    top > INT_MAX)
				return fail_usage("--top %s: expected a positive number", optarg);
			a->o.top = top;
			break;
		case OPT_STRICT:
			a->strict = true;
			break;
		default:
			return fail_usage("%s", "unknown option");
		}
	}
	if (optind >= argc)
		return fail_usage("%s", "missing subcommand (who, unauth, trend, html)");
	if (optind + 1 < argc)
		return fail_usage("unexpected argument \"%s\"", argv[optind + 1]);
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[optind], commands[i]->name) == 0)
			a->cmd = commands[i];
	if (a->cmd == NULL)
		return fail_usage("unknown subcommand \"%s\"", argv[optind]);
	if (a->o.by != BY_NONE && a->cmd != &cmd_who)
		return fail_usage("--by is for who, not %s", a->cmd->name);
	if (a->o.hourly && a->cmd != &cmd_trend && a->cmd != &cmd_html)
		return fail_usage("--hourly is for trend and html, not %s", a->cmd->name);
	if (a->format_given && a->cmd == &cmd_html)
		return fail_usage("%s", "html writes HTML: --format does not apply");
	if (a->o.has_since && a->o.has_until && a->o.since_ms >= a->o.until_ms)
		return fail_usage("%s", "--since must be before --until");
	return 0;
}

/* The config gives the default log and, for html, the phase; only -c or the default file. */
static int load_config(struct main_args *a, struct ag_config **cfg)
{
	struct ag_config_error err;
	const char *path = a->config_path;

	*cfg = NULL;
	if (path == NULL) {
		if (a->logs.n > 0)
			return 0;
		if (access(AG_DEFAULT_CONFIG, F_OK) != 0) {
			fprintf(stderr, "authgate-audit: no log: give -l LOG or -c FILE (%s: %s)\n",
				AG_DEFAULT_CONFIG, strerror(errno));
			return -1;
		}
		path = AG_DEFAULT_CONFIG;
	}
	*cfg = config_load(path, &err);
	if (*cfg == NULL) {
		fprintf(stderr, "authgate-audit: %s\n", err.msg);
		return -1;
	}
	if (a->logs.n == 0) {
		if ((*cfg)->audit_log == NULL || (*cfg)->audit_log[0] == '\0' ||
		    strncmp((*cfg)->audit_log, "syslog:", 7) == 0) {
			fprintf(
			    stderr,
			    "authgate-audit: %s: audit_log is \"%s\": give the file it ends up in "
			    "with -l\n",
			    path, (*cfg)->audit_log ? (*cfg)->audit_log : "");
			return -1;
		}
		if (files_add(&a->logs, (*cfg)->audit_log) < 0)
			return -1;
	}
	return 0;
}

/* Reproducible reports (SOURCE_DATE_EPOCH, reproducible-builds.org) or the clock. */
static int64_t report_time(void)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	struct timespec ts;
	char *end;
	long long v;

	if (sde != NULL && *sde != '\0') {
		errno = 0;
		v = strtoll(sde, &end, 10);
		if (errno == 0 && *end == '\0' && v >= 0 && v < INT64_MAX / 1000)
			return (int64_t)v * 1000;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The join calls back with each message; the filters decide whether the report sees it. */
struct pipeline {
	const struct audit_cmd *cmd;
	const struct audit_opts *o;
	void *st;
};

static void pipeline_row(void *ctx, const struct msg_row *row)
{
	struct pipeline *p = ctx;

	if (p->cmd->row != NULL && filter_row(p->o, row))
		p->cmd->row(p->st, row);
}

/* 0 when the report was written (read errors are counted in *rs_out), -1 otherwise. */
static int run(struct main_args *a, FILE *out, struct reader_stats *rs_out)
{
	struct out_summary s = {0};
	const struct reader_stats *rs;
	struct pipeline p = {a->cmd, &a->o, NULL};
	struct audit_rec rec;
	struct reader *rd;
	struct join *j;
	int rc;

	p.st = a->cmd->start(&a->o, out);
	rd = reader_new(a->logs.v, a->logs.n, stderr);
	j = join_new(pipeline_row, &p);
	if (p.st == NULL || rd == NULL || j == NULL) {
		fprintf(stderr, "authgate-audit: out of memory\n");
		if (p.st != NULL)
			a->cmd->free(p.st);
		reader_free(rd);
		join_free(j);
		return -1;
	}
	while (reader_next(rd, &rec) == 1) {
		if ((a->o.has_since && rec.ts_ms < a->o.since_ms) ||
		    (a->o.has_until && rec.ts_ms >= a->o.until_ms))
			continue;
		if (a->cmd->record != NULL)
			a->cmd->record(p.st, &rec);
		/*
		 * A refusal at RCPT (milter 530/550, proxy 553) is a message attempt too:
		 * after the switch to mandatory that is where the unauthenticated senders are.
		 */
		if (rec.event == REC_MESSAGE || (rec.event == REC_REJECT && rec.nrcpts > 0))
			(void)join_add(j, &rec);
	}
	join_flush(j);
	rs = reader_stats(rd);
	s.files = rs->files;
	s.records = rs->records;
	s.bad = rs->bad;
	s.io_errors = rs->io_errors;
	rc = a->cmd->finish(p.st, &s);
	*rs_out = *rs;
	if (rs->bad > 0)
		fprintf(stderr,
			"authgate-audit: %" PRIu64 " of %" PRIu64 " lines were not valid records\n",
			rs->bad, rs->lines);
	a->cmd->free(p.st);
	reader_free(rd);
	join_free(j);
	return rc;
}

/* -o: a temporary file next to the target, renamed into place only when complete. */
static FILE *output_open(const char *path, char **tmp)
{
	mode_t mask;
	FILE *f;
	int fd;

	*tmp = malloc(strlen(path) + 8);
	if (*tmp == NULL)
		return NULL;
	sprintf(*tmp, "%s.XXXXXX", path);
	fd = mkstemp(*tmp);
	if (fd < 0) {
		fprintf(stderr, "authgate-audit: %s: %s\n", path, strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	mask = umask(0);
	umask(mask);
	(void)fchmod(fd, 0666 & ~mask);
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
	}
	return f;
}

static int output_close(FILE *f, const char *path, char *tmp, bool ok)
{
	if (fflush(f) != 0 || ferror(f))
		ok = false;
	if (fclose(f) != 0)
		ok = false;
	if (ok && rename(tmp, path) != 0) {
		fprintf(stderr, "authgate-audit: %s: %s\n", path, strerror(errno));
		ok = false;
	}
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct main_args a;
	struct ag_config *cfg = NULL;
	char *tmp = NULL;
	struct reader_stats rs = {0};
	FILE *out = stdout;
	struct file_list expanded = {0};
	size_t i;
	int rc, status = 0;

	memset(&a, 0, sizeof(a));
	a.o.version = AG_VERSION;
	if (parse_args(argc, argv, &a) < 0 || load_config(&a, &cfg) < 0) {
		files_free(&a.logs);
		config_unref(cfg);
		return EXIT_USAGE;
	}
	a.o.config = cfg;
	a.o.now_ms = report_time();
	if (a.rotated) {
		for (i = 0; i < a.logs.n; i++) {
			if (files_add_rotated(&expanded, a.logs.v[i]) < 0) {
				fprintf(stderr, "authgate-audit: out of memory\n");
				status = EXIT_USAGE;
				goto done;
			}
		}
		files_free(&a.logs);
		a.logs = expanded;
		memset(&expanded, 0, sizeof(expanded));
	}
	files_sort(&a.logs);

	if (a.output != NULL && strcmp(a.output, "-") != 0) {
		out = output_open(a.output, &tmp);
		if (out == NULL) {
			status = EXIT_USAGE;
			goto done;
		}
	}
	rc = run(&a, out, &rs);
	if (tmp != NULL) {
		if (output_close(out, a.output, tmp, rc == 0) < 0)
			rc = -1;
	} else if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "authgate-audit: write error: %s\n", strerror(errno));
		rc = -1;
	}
	/* A file that could not be read still leaves a report of the others, but not a 0. */
	if (rc < 0 || rs.io_errors > 0)
		status = 1;
	else if (a.strict && rs.bad > 0)
		status = EXIT_BAD_RECORDS;
done:
	files_free(&a.logs);
	files_free(&expanded);
	config_unref(cfg);
	return status;
}
