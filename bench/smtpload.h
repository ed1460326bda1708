/* smtpload.h: the state smtpload's parts share (options, the run, its statistics). */
#ifndef AG_BENCH_SMTPLOAD_H
#define AG_BENCH_SMTPLOAD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct event_base;
struct event;
struct load_conn;

enum load_mode { LOAD_MODE_PLAIN, LOAD_MODE_SMTPS, LOAD_MODE_STARTTLS };

/* What is timed. EHLO is the EHLO command to its 250 (the last EHLO, after STARTTLS);
 * SETUP is connect start to "ready for AUTH" (TCP, TLS, banner, EHLO);
 * MSG is MAIL sent to the 250 after the final dot; SESSION is connect start to the last
 * message's 250, which is what a one-message-per-connection client waits for. */
enum load_phase { PH_CONNECT, PH_TLS, PH_EHLO, PH_SETUP, PH_AUTH, PH_MSG, PH_SESSION, PH_COUNT };

/* Failures that are not an SMTP reply code. */
enum load_err { ERR_CONNECT, ERR_TLS, ERR_TIMEOUT, ERR_EOF, ERR_PROTO, ERR_COUNT };

/* Latency histogram in microseconds: exact below 128 us, then 64 buckets per power of two
 * (1.6 % resolution), so percentiles need no per-sample memory however long the run. */
#define LOAD_HIST_SUB 64
#define LOAD_HIST_EXACT (2 * LOAD_HIST_SUB)
#define LOAD_HIST_MAXPOW 40 /* 2^40 us: anything longer is clamped */
#define LOAD_HIST_N (LOAD_HIST_EXACT + (LOAD_HIST_MAXPOW - 7 + 1) * LOAD_HIST_SUB)

struct load_hist {
	uint64_t count;
	uint64_t sum_us;
	uint64_t max_us;
	uint64_t bucket[LOAD_HIST_N];
};

#define LOAD_MAX_CODE 600

struct load_opts {
	struct sockaddr_in addr;
	enum load_mode mode;
	const char *user; /* NULL: no AUTH */
	const char *password;
	const char *ehlo;
	const char *from;
	const char *to;
	size_t size;	      /* message bytes, headers included, final dot excluded */
	unsigned per_conn;    /* messages per connection; 0: EHLO, then QUIT */
	unsigned concurrency; /* connections in flight */
	uint64_t total;	      /* messages; 0 with duration */
	double duration;      /* seconds; 0 with total */
	double warmup;	      /* seconds run before the statistics start */
	double rate;	      /* new connections per second (open loop); 0: closed loop */
	bool resume;	      /* reuse the last SSL_SESSION */
	bool pipeline;	      /* MAIL, RCPT and DATA in one write (RFC 2920) */
	int tls_max;	      /* 0 or TLS1_2_VERSION / TLS1_3_VERSION */
	bool json;
	unsigned hold; /* hold mode: connections to open and keep */
	double hold_seconds;
	const char *ready_file;
	unsigned timeout; /* seconds per reply */
	uint64_t max_errors;
	double max_time; /* hard stop, seconds */
	const char *label;
};

struct load_run {
	struct load_opts o;
	struct event_base *base;
	SSL_CTX *ssl_ctx;
	SSL_SESSION *session; /* newest session from the server, for --tls-resume */
	char *body;	      /* DATA payload with the final ".\r\n" */
	size_t body_len;
	char *auth_line; /* "AUTH PLAIN base64\r\n" */
	char *mail_line;
	char *rcpt_line;
	char *ehlo_line;

	struct load_conn *conns; /* every live connection, doubly linked */
	unsigned active;
	uint64_t launched;
	uint64_t reserved;   /* messages promised to live or finished connections */
	bool stopping;	     /* no new messages or connections */
	bool measuring;	     /* warm-up over */
	bool aborted;	     /* too many errors or hard time limit */
	uint64_t t_rate0_us; /* --rate: when pacing started */
	uint64_t rate_due;   /* --rate: connections that should have started by now */

	uint64_t t_start_us; /* statistics start */
	uint64_t t_stop_us;  /* end of the measured window */
	uint64_t msgs_started;
	uint64_t msgs_ok;
	uint64_t msgs_ok_window; /* completed inside the measured window */
	uint64_t msgs_ok_all;	 /* completed, warm-up included (for CPU per message) */
	uint64_t msgs_failed;
	uint64_t conns_ok;
	uint64_t conns_resumed;
	uint64_t conns_tls;
	struct load_hist hist[PH_COUNT];
	uint64_t err[ERR_COUNT];
	uint64_t code[LOAD_MAX_CODE];
	uint64_t errors_total;

	unsigned held;	    /* hold mode: idle connections now */
	unsigned held_peak; /* ... and at most (what the report shows) */
	unsigned hold_failed;
	bool hold_reported;

	struct event *ev_warmup;
	struct event *ev_rate;
	struct event *ev_stop;
	struct event *ev_hard;
	struct event *ev_hold;
	struct event *ev_sigint;
	struct event *ev_sigterm;
};

/* smtpload_conn.c */
void conn_launch_more(struct load_run *run);
void conn_close_all(struct load_run *run);
void run_check_done(struct load_run *run);

/* smtpload_stats.c */
uint64_t load_now_us(void);
void hist_add(struct load_hist *h, uint64_t us);
double hist_percentile_ms(const struct load_hist *h, double pct);
void stats_reset(struct load_run *run, uint64_t now);
void stats_count_error(struct load_run *run, enum load_err e);
void stats_count_code(struct load_run *run, int code);
void report_text(const struct load_run *run);
void report_json(const struct load_run *run);

#endif
