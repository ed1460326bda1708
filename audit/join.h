/* join.h: pair the proxy's and the milter's record of one message into one row, within a window. */
#ifndef AUDIT_JOIN_H
#define AUDIT_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "jsonl.h"

/*
 * The proxy logs after the backend said "250 2.0.0 Ok: queued as 4F3A1";
 * Postfix ran the milter just before, which logged queue_id 4F3A1. Either
 * can come first in the log, seconds apart. A record waits for its partner
 * at most JOIN_WINDOW_MS of log time, and all waiting records together hold
 * at most JOIN_MAX_BYTES; past either, the oldest is emitted alone.
 */
#define JOIN_WINDOW_MS (5 * 60 * 1000)
#define JOIN_MAX_BYTES (16u * 1024 * 1024)
#define JOIN_MAX_QID 32

#define ROW_FROM_PROXY 1u
#define ROW_FROM_MILTER 2u

/* One message as the reports see it; pointers valid during the callback only. */
struct msg_row {
	int64_t ts_ms;
	const char *session;
	const char *user; /* NULL when not authenticated (absent or "") */
	const char *client_ip;
	const char *tls;
	const char *mail_from;
	const char *const *rcpts; /* NULL when neither record had them */
	size_t nrcpts;
	enum rec_action action; /* the milter's when it saw the message: it decides last */
	const char *backend_reply;
	const char *queue_id;
	const char *route;
	const char *phase;
	int64_t size;
	unsigned sources; /* ROW_FROM_* */
};

struct join_stats {
	uint64_t rows;
	uint64_t joined;  /* rows built from both records */
	uint64_t evicted; /* emitted alone because JOIN_MAX_BYTES was reached */
	size_t peak_bytes;
};

typedef void (*join_emit_fn)(void *ctx, const struct msg_row *row);

struct join;

/* Rows come out in the order their first record went in. */
struct join *join_new(join_emit_fn emit, void *ctx);
/* A record with event "message"; -1 out of memory (the record is then emitted alone). */
int join_add(struct join *j, const struct audit_rec *rec);
/* End of input: emit everything still waiting. */
void join_flush(struct join *j);
const struct join_stats *join_stats(const struct join *j);
void join_free(struct join *j);

/* "250 2.0.0 Ok: queued as 4F3A1" -> "4F3A1"; 0, or -1 if there is none. */
int join_reply_queue_id(const char *reply, char *qid, size_t len);

#endif
