/* smtpload_stats.c: latency histograms, error counts and the text/JSON reports. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "smtpload.h"

static const char *const phase_name[PH_COUNT] = {
    [PH_CONNECT] = "connect", [PH_TLS] = "tls",	    [PH_EHLO] = "ehlo", [PH_SETUP] = "setup",
    [PH_AUTH] = "auth",	      [PH_MSG] = "message", [PH_SESSION] = "session",
};

static const char *const err_name[ERR_COUNT] = {
    [ERR_CONNECT] = "connect", [ERR_TLS] = "tls",	 [ERR_TIMEOUT] = "timeout",
    [ERR_EOF] = "closed",      [ERR_PROTO] = "protocol",
};

static const char *const mode_name[] = {
    [LOAD_MODE_PLAIN] = "plain",
    [LOAD_MODE_SMTPS] = "smtps",
    [LOAD_MODE_STARTTLS] = "starttls",
};

uint64_t load_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int hist_msb(uint64_t v)
{
	return 63 - __builtin_clzll(v);
}

static size_t hist_index(uint64_t us)
{
	int e, shift;

	if (us < LOAD_HIST_EXACT)
		return (size_t)us;
	e = hist_msb(us);
	if (e > LOAD_HIST_MAXPOW) {
		e = LOAD_HIST_MAXPOW;
		us = ((uint64_t)1 << (LOAD_HIST_MAXPOW + 1)) - 1;
	}
	shift = e - 6; /* keeps the top 7 bits: 64..127 */
	return LOAD_HIST_EXACT + (size_t)(e - 7) * LOAD_HIST_SUB +
	       (size_t)((us >> shift) - LOAD_HIST_SUB);
}

/* The middle of the bucket: the error is at most half a bucket (0.8 %). */
static double hist_value_us(size_t i)
{
	size_t e, m;
	double lo, width;

	if (i < LOAD_HIST_EXACT)
		return (double)i;
	e = (i - LOAD_HIST_EXACT) / LOAD_HIST_SUB + 7;
	m = (i - LOAD_HIST_EXACT) % LOAD_HIST_SUB + LOAD_HIST_SUB;
	width = (double)((uint64_t)1 << (e - 6));
	lo = (double)m * width;
	return lo + width / 2;
}

void hist_add(struct load_hist *h, uint64_t us)
{
	h->bucket[hist_index(us)]++;
	h->count++;
	h->sum_us += us;
	if (us > h->max_us)
		h->max_us = us;
}

double hist_percentile_ms(const struct load_hist *h, double pct)
{
	uint64_t rank, seen = 0;
	size_t i;

	if (h->count == 0)
		return 0;
	/* nearest-rank: the smallest value with at least pct % of samples at or below it */
	rank = (uint64_t)((pct / 100.0) * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < LOAD_HIST_N; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			return hist_value_us(i) / 1000.0;
	}
	return (double)h->max_us / 1000.0;
}

void stats_reset(struct load_run *run, uint64_t now)
{
	memset(run->hist, 0, sizeof(run->hist));
	memset(run->err, 0, sizeof(run->err));
	memset(run->code, 0, sizeof(run->code));
	run->msgs_started = run->msgs_ok = run->msgs_ok_window = run->msgs_failed = 0;
	run->conns_ok = run->conns_resumed = run->conns_tls = 0;
	run->t_start_us = now;
}

void stats_count_error(struct load_run *run, enum load_err e)
{
	run->err[e]++;
	run->errors_total++;
}

void stats_count_code(struct load_run *run, int code)
{
	if (code < 0 || code >= LOAD_MAX_CODE)
		code = 0;
	run->code[code]++;
	run->errors_total++;
}

static double run_elapsed_s(const struct load_run *run)
{
	uint64_t end = run->t_stop_us ? run->t_stop_us : load_now_us();

	return end > run->t_start_us ? (double)(end - run->t_start_us) / 1e6 : 0;
}

static double run_rate(const struct load_run *run)
{
	double s = run_elapsed_s(run);

	return s > 0 ? (double)run->msgs_ok_window / s : 0;
}

void report_text(const struct load_run *run)
{
	const struct load_opts *o = &run->o;
	int i;

	printf("smtpload %s: mode=%s concurrency=%u per_conn=%u size=%zu auth=%s resume=%s\n",
	       o->label ? o->label : "-", mode_name[o->mode], o->concurrency, o->per_conn, o->size,
	       o->user ? "plain" : "none", o->resume ? "yes" : "no");
	if (o->hold) {
		printf("held %u of %u connections (%u failed)\n", run->held_peak, o->hold,
		       run->hold_failed);
	} else {
		printf("messages: %" PRIu64 " ok, %" PRIu64
		       " failed; %.2f s measured: %.1f msgs/s\n",
		       run->msgs_ok, run->msgs_failed, run_elapsed_s(run), run_rate(run));
		printf("connections: %" PRIu64 " completed, %" PRIu64 " TLS, %" PRIu64 " resumed\n",
		       run->conns_ok, run->conns_tls, run->conns_resumed);
	}
	printf("%-8s %9s %9s %9s %9s %9s %9s\n", "phase", "n", "mean_ms", "p50_ms", "p99_ms",
	       "p99.9_ms", "max_ms");
	for (i = 0; i < PH_COUNT; i++) {
		const struct load_hist *h = &run->hist[i];

		if (h->count == 0)
			continue;
		printf("%-8s %9" PRIu64 " %9.3f %9.3f %9.3f %9.3f %9.3f\n", phase_name[i], h->count,
		       (double)h->sum_us / (double)h->count / 1000.0, hist_percentile_ms(h, 50),
		       hist_percentile_ms(h, 99), hist_percentile_ms(h, 99.9),
		       (double)h->max_us / 1000.0);
	}
	printf("errors:");
	for (i = 0; i < ERR_COUNT; i++)
		if (run->err[i])
			printf(" %s=%" PRIu64, err_name[i], run->err[i]);
	for (i = 0; i < LOAD_MAX_CODE; i++)
		if (run->code[i])
			printf(" %03d=%" PRIu64, i, run->code[i]);
	printf("%s\n", run->errors_total ? "" : " none");
	if (run->aborted)
		printf("run aborted (too many errors or time limit)\n");
}

void report_json(const struct load_run *run)
{
	const struct load_opts *o = &run->o;
	int i, n = 0;

	printf("{\"label\":\"%s\",\"mode\":\"%s\",\"concurrency\":%u,\"per_conn\":%u,"
	       "\"size\":%zu,\"auth\":%s,\"resume\":%s,",
	       o->label ? o->label : "", mode_name[o->mode], o->concurrency, o->per_conn, o->size,
	       o->user ? "true" : "false", o->resume ? "true" : "false");
	printf("\"elapsed_s\":%.3f,\"msgs_ok\":%" PRIu64 ",\"msgs_ok_all\":%" PRIu64
	       ",\"msgs_failed\":%" PRIu64 ",\"msgs_per_s\":%.2f,\"conns_ok\":%" PRIu64
	       ",\"conns_tls\":%" PRIu64 ",\"conns_resumed\":%" PRIu64
	       ",\"held\":%u,\"hold_failed\":%u,\"aborted\":%s,",
	       run_elapsed_s(run), run->msgs_ok, run->msgs_ok_all, run->msgs_failed, run_rate(run),
	       run->conns_ok, run->conns_tls, run->conns_resumed, run->held_peak, run->hold_failed,
	       run->aborted ? "true" : "false");
	printf("\"phases\":{");
	for (i = 0; i < PH_COUNT; i++) {
		const struct load_hist *h = &run->hist[i];

		printf("%s\"%s\":{\"n\":%" PRIu64 ",\"mean_ms\":%.3f,\"p50_ms\":%.3f,"
		       "\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}",
		       i ? "," : "", phase_name[i], h->count,
		       h->count ? (double)h->sum_us / (double)h->count / 1000.0 : 0.0,
		       hist_percentile_ms(h, 50), hist_percentile_ms(h, 99),
		       hist_percentile_ms(h, 99.9), (double)h->max_us / 1000.0);
	}
	printf("},\"errors\":{");
	for (i = 0; i < ERR_COUNT; i++)
		if (run->err[i])
			printf("%s\"%s\":%" PRIu64, n++ ? "," : "", err_name[i], run->err[i]);
	for (i = 0; i < LOAD_MAX_CODE; i++)
		if (run->code[i])
			printf("%s\"%03d\":%" PRIu64, n++ ? "," : "", i, run->code[i]);
	printf("}}\n");
}
