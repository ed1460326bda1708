/* test_policy_audit.c: audit record formatting (exact JSON) and the append-only log. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/auditlog.h"
#include "tap.h"

#define THREADS 4
#define PER_THREAD 500

static char big[AG_AUDIT_MAX_RECORD];

static const char *fmt_time(int64_t ms)
{
	static char buf[32];

	memset(buf, 'x', sizeof(buf));
	audit_format_time(ms, buf, sizeof(buf));
	return buf;
}

static struct ag_audit_record blank(void)
{
	struct ag_audit_record r;

	memset(&r, 0, sizeof(r));
	r.size = -1;
	return r;
}

/* The JSON for a record holding only `s` in mail_from, to test escaping in isolation. */
static const char *esc(const char *s)
{
	struct ag_audit_record r = blank();
	static char out[1024];
	const char *pre = "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"mail_from\":\"";
	size_t n;

	r.mail_from = s;
	if (audit_format_record(&r, big, sizeof(big)) < 0)
		return "(failed)";
	n = strlen(pre);
	if (strncmp(big, pre, n) != 0 || strlen(big) < n + 3)
		return "(bad frame)";
	snprintf(out, sizeof(out), "%.*s", (int)(strlen(big) - n - 3), big + n);
	if (strcmp(big + strlen(big) - 3, "\"}\n") != 0)
		return "(bad end)";
	return out;
}

static void test_time(void)
{
	is_str(fmt_time(0), "1970-01-01T00:00:00.000Z", "epoch");
	is_str(fmt_time(1709210096789LL), "2024-02-29T12:34:56.789Z", "leap day 2024-02-29");
	is_str(fmt_time(951868799999LL), "2000-02-29T23:59:59.999Z", "leap day of a 400-year");
	is_str(fmt_time(4107542400000LL), "2100-03-01T00:00:00.000Z", "2100 is not a leap year");
	is_str(fmt_time(1999), "1970-01-01T00:00:01.999Z",
	       "milliseconds truncated, not rounded up");
	is_str(fmt_time(1795428000123LL), "2026-11-23T10:00:00.123Z", "INTERFACE.md example time");
	is_str(fmt_time(-1), "1969-12-31T23:59:59.999Z", "before the epoch");
	/* Found by tests/fuzz/fuzz_audit_format: INT64_MIN overflowed computing the milliseconds. */
	is_str(fmt_time(INT64_MIN), "-292275055-05-16T16:47:04.192Z", "INT64_MIN ms, no overflow");
	is_str(fmt_time(INT64_MAX), "292278994-08-17T07:12:55.807Z", "INT64_MAX ms");
}

static void test_format(void)
{
	static const char *rcpts[] = {"a@example.org", "b@example.net"};
	struct ag_audit_record r = blank();
	char small[64];
	int n, len, i, all_refused = 1;

	r.ts_ms = 1795428000123LL;
	r.component = "milter";
	r.session = "7Kx2Q9";
	r.client_ip = "203.0.113.7";
	r.auth_user = "jdoe";
	r.tls = "TLSv1.3";
	r.event = "message";
	r.mail_from = "jdoe@example.ac.uk";
	r.rcpts = rcpts;
	r.nrcpts = 2;
	r.size = 4211;
	r.action = "accept";
	r.backend = "127.0.0.1:10025";
	r.backend_reply = "250 2.0.0 Ok: queued as 4F3A1";
	r.queue_id = "4F3A1";
	r.phase = "voluntary";
	r.route = "hub";
	r.reason = "authenticated";
	r.helo = "laptop";
	n = audit_format_record(&r, big, sizeof(big));
	is_str(
	    big,
	    "{\"ts\":\"2026-11-23T10:00:00.123Z\",\"component\":\"milter\",\"session\":\"7Kx2Q9\","
	    "\"client_ip\":\"203.0.113.7\",\"auth_user\":\"jdoe\",\"tls\":\"TLSv1.3\","
	    "\"event\":\"message\",\"mail_from\":\"jdoe@example.ac.uk\","
	    "\"rcpts\":[\"a@example.org\",\"b@example.net\"],\"size\":4211,\"action\":\"accept\","
	    "\"backend\":\"127.0.0.1:10025\",\"backend_reply\":\"250 2.0.0 Ok: queued as 4F3A1\","
	    "\"queue_id\":\"4F3A1\",\"phase\":\"voluntary\",\"route\":\"hub\","
	    "\"reason\":\"authenticated\",\"helo\":\"laptop\"}\n",
	    "full record, every key in order");
	is_int(n, (int)strlen(big), "returns the length");
	len = n;

	for (i = 0; i <= len; i++)
		if (audit_format_record(&r, big, (size_t)i) != -1)
			all_refused = 0;
	ok(all_refused, "every buffer shorter than record + NUL gives -1");
	is_int(audit_format_record(&r, big, (size_t)len + 1), len, "exact buffer fits");

	r = blank();
	r.ts_ms = 0;
	r.component = "proxy";
	r.event = "connect";
	audit_format_record(&r, big, sizeof(big));
	is_str(
	    big,
	    "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"component\":\"proxy\",\"event\":\"connect\"}\n",
	    "NULL fields and size -1 omitted");
	r.size = 0;
	audit_format_record(&r, big, sizeof(big));
	ok(strstr(big, "\"event\":\"connect\",\"size\":0}") != NULL, "size 0 is written");
	r.size = -1;
	r.rcpts = rcpts;
	r.nrcpts = 0;
	audit_format_record(&r, big, sizeof(big));
	ok(strstr(big, "\"rcpts\":[]") != NULL, "empty recipient list is []");

	r = blank();
	r.event = "x";
	r.reason = "0123456789012345678901234567890123456789012345678901234567890123456789";
	is_int(audit_format_record(&r, small, sizeof(small)), -1,
	       "long record in small buffer: -1");
}

static void test_escape(void)
{
	is_str(esc("a\"b\\c"), "a\\\"b\\\\c", "quote and backslash escaped");
	is_str(esc("l1\nl2\r\t\b\f"), "l1\\nl2\\r\\t\\b\\f", "short escapes");
	is_str(esc("\x01\x1f\x7f"), "\\u0001\\u001f\\u007f", "other controls and DEL as \\u00XX");
	is_str(esc("\xff"), "\\ufffd", "0xff replaced");
	is_str(esc("a\xc0\xaf"
		   "b"),
	       "a\\ufffd\\ufffdb", "overlong C0 AF: each byte replaced");
	is_str(esc("\xe0\x80\xaf"), "\\ufffd\\ufffd\\ufffd", "overlong E0 80 AF replaced");
	is_str(esc("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd", "surrogate ED A0 80 replaced");
	is_str(esc("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd", "above U+10FFFF replaced");
	is_str(esc("x\xe2\x82"), "x\\ufffd\\ufffd", "truncated sequence at the end replaced");
	is_str(esc("\xe2\x82x"), "\\ufffd\\ufffdx",
	       "truncated sequence before ASCII: each byte replaced");
	is_str(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
	       "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	       "valid UTF-8 (e-acute, euro, emoji) kept");
	is_str(esc("\xed\x9f\xbf\xf4\x8f\xbf\xbf"), "\xed\x9f\xbf\xf4\x8f\xbf\xbf",
	       "U+D7FF and U+10FFFF kept");
}

static int count_lines(const char *path, int *bad)
{
	char line[AG_AUDIT_MAX_RECORD + 2];
	FILE *f = fopen(path, "r");
	int n = 0;
	size_t l;

	*bad = 0;
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		l = strlen(line);
		n++;
		if (l < 2 || line[l - 1] != '\n' || strncmp(line, "{\"ts\":", 6) != 0 ||
		    line[l - 2] != '}' || memchr(line, '\n', l - 1) != NULL ||
		    strstr(line + 1, "{\"ts\":") != NULL)
			(*bad)++;
	}
	fclose(f);
	return n;
}

struct worker {
	struct ag_audit_log *log;
	int id;
	int failures;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct ag_audit_record r = blank();
	char session[32];
	int i;

	r.component = "milter";
	r.event = "message";
	r.session = session;
	r.reason = "a reason long enough that a torn write would show in the middle of a line";
	for (i = 0; i < PER_THREAD; i++) {
		snprintf(session, sizeof(session), "t%d-%d", w->id, i);
		r.ts_ms = i;
		if (audit_log_write(w->log, &r) != 0)
			w->failures++;
	}
	return NULL;
}

static void *reopener_run(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < 100; i++)
		if (audit_log_reopen(w->log) != 0)
			w->failures++;
	return NULL;
}

static void test_log(const char *dir)
{
	struct ag_audit_record r = blank();
	struct ag_audit_log *log;
	struct worker w[THREADS + 1];
	pthread_t th[THREADS + 1];
	char path[512], old[512];
	const char *why = NULL;
	struct stat st;
	int i, bad, rc = 0, failures = 0;

	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	snprintf(old, sizeof(old), "%s/audit.jsonl.1", dir);
	r.component = "proxy";
	r.event = "connect";

	log = audit_log_open(path, &why);
	ok(log != NULL, "audit_log_open on a file");
	if (log == NULL) {
		printf("# %s\n", why);
		return;
	}
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640, "log created with mode 0640");
	for (i = 0; i < 3; i++)
		rc |= audit_log_write(log, &r);
	is_int(rc, 0, "three writes succeed");
	is_int(count_lines(path, &bad), 3, "three lines in the log");

	ok(rename(path, old) == 0, "logrotate renames the log");
	is_int(audit_log_reopen(log), 0, "reopen after rename");
	r.event = "auth";
	is_int(audit_log_write(log, &r), 0, "write after reopen");
	is_int(count_lines(path, &bad), 1, "new file gets the next record");
	is_int(count_lines(old, &bad), 3, "old file keeps its three records");

	for (i = 0; i <= THREADS; i++) {
		w[i].log = log;
		w[i].id = i;
		w[i].failures = 0;
		pthread_create(&th[i], NULL, i < THREADS ? worker_run : reopener_run, &w[i]);
	}
	for (i = 0; i <= THREADS; i++) {
		pthread_join(th[i], NULL);
		failures += w[i].failures;
	}
	is_int(failures, 0, "concurrent writes and reopens all succeed");
	is_int(count_lines(path, &bad), 1 + THREADS * PER_THREAD,
	       "every concurrent record is a line");
	is_int(bad, 0, "every line is exactly one object");
	audit_log_close(log);
	unlink(path);
	unlink(old);

	ok(audit_log_open("/nonexistent-dir/x/audit.jsonl", &why) == NULL && why != NULL,
	   "unopenable path fails with a reason");
	why = NULL;
	ok(audit_log_open("syslog:nosuch", &why) == NULL && why != NULL,
	   "unknown facility refused");
	log = audit_log_open("syslog:local7", &why);
	ok(log != NULL, "syslog:local7 opens");
	if (log != NULL) {
		is_int(audit_log_write(log, &r), 0, "syslog write");
		is_int(audit_log_reopen(log), 0, "syslog reopen is a no-op");
		audit_log_close(log);
	}
}

/* One record with n long recipients written through the file log; its line read back. */
static int write_rcpts(const char *dir, int n, char *line)
{
	enum { N = 5000 };
	static char names[N][64];
	static const char *rcpts[N];
	struct ag_audit_record r = blank();
	struct ag_audit_log *log;
	char path[512];
	const char *why;
	FILE *f;
	int i, ok_write;

	snprintf(path, sizeof(path), "%s/big.jsonl", dir);
	for (i = 0; i < n && i < N; i++) {
		snprintf(names[i], sizeof(names[i]),
			 "recipient-number-%05d-with-padding@example.org", i);
		rcpts[i] = names[i];
	}
	r.component = "milter";
	r.event = "message";
	r.rcpts = rcpts;
	r.nrcpts = (size_t)i;
	r.reason = "authenticated";
	r.helo = "laptop";
	log = audit_log_open(path, &why);
	if (log == NULL) {
		printf("Bail out! %s\n", why);
		exit(1);
	}
	ok_write = audit_log_write(log, &r) == 0;
	audit_log_close(log);
	f = fopen(path, "r");
	line[0] = '\0';
	if (f != NULL) {
		if (fgets(line, AG_AUDIT_MAX_RECORD, f) == NULL)
			line[0] = '\0';
		fclose(f);
	}
	unlink(path);
	return ok_write;
}

static void test_truncation(const char *dir)
{
	char *line = big;

	ok(write_rcpts(dir, 5000, line), "huge recipient list still written");
	ok(strlen(line) > AG_AUDIT_MAX_RECORD - 200 && strlen(line) <= AG_AUDIT_MAX_RECORD,
	   "truncated record fills but fits AG_AUDIT_MAX_RECORD");
	ok(strstr(line, "\"reason\":\"authenticated; rcpts truncated\",\"helo\":\"laptop\"}\n") !=
	       NULL,
	   "reason says rcpts truncated, later keys kept");
	ok(strstr(line, "\"recipient-number-00000-with-padding@example.org\"") != NULL &&
	       strstr(line, "-04999-") == NULL,
	   "first recipients kept, last ones cut");
}

/* Past the small stack buffer (a few KiB) and below AG_AUDIT_MAX_RECORD: whole, uncut. */
static void test_medium_record(const char *dir)
{
	char *line = big;

	ok(write_rcpts(dir, 300, line), "300 recipients written");
	ok(strlen(line) > 10000 && strstr(line, "-00299-with-padding@example.org\"]") != NULL &&
	       strstr(line, "\"reason\":\"authenticated\",\"helo\":\"laptop\"}\n") != NULL,
	   "a 15 KiB record is written whole, not cut");
	ok(write_rcpts(dir, 1, line), "1 recipient written");
	ok(strstr(line, "\"rcpts\":[\"recipient-number-00000-with-padding@example.org\"]") != NULL &&
	       strstr(line, "\"reason\":\"authenticated\",\"helo\":\"laptop\"}\n") != NULL,
	   "a small record is written whole");
}

/* A write cut short (here by RLIMIT_FSIZE) must be reported, in a child to keep limits. */
static void test_partial_write(const char *dir)
{
	struct ag_audit_record r = blank();
	struct ag_audit_log *log;
	struct rlimit rl;
	char path[512];
	const char *why;
	pid_t pid;
	int status = -1, e;

	snprintf(path, sizeof(path), "%s/partial.jsonl", dir);
	pid = fork();
	if (pid == 0) {
		r.component = "proxy";
		r.event = "message";
		r.reason = "0123456789012345678901234567890123456789012345678901234567890123456789";
		log = audit_log_open(path, &why);
		if (log == NULL)
			_exit(2);
		signal(SIGXFSZ, SIG_IGN);
		rl.rlim_cur = 40;
		rl.rlim_max = RLIM_INFINITY;
		if (getrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(3);
		rl.rlim_cur = 40;
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(3);
		e = audit_log_write(log, &r) == -1 && errno == EIO;
		_exit(e ? 0 : 1);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "partial write reported as EIO");
	unlink(path);
}

int main(void)
{
	char dir[] = "/tmp/test_policy_audit.XXXXXX";

	umask(022);
	test_time();
	test_format();
	test_escape();
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_log(dir);
	test_truncation(dir);
	test_medium_record(dir);
	test_partial_write(dir);
	rmdir(dir);
	return tap_done();
}
