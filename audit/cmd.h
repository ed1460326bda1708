/* cmd.h: what every subcommand gets (options) and provides (its row of the command table). */
#ifndef AUDIT_CMD_H
#define AUDIT_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "join.h"
#include "jsonl.h"
#include "output.h"
#include "policy/config.h"
#include "policy/net.h"

/* Caps on the aggregates: they bound memory whatever the size of the log. */
#define CMD_MAX_GROUPS 65536	 /* who --by, unauth, failed-login hot spots: keys per table */
#define CMD_MAX_DISTINCT 1000000 /* (day, sender) pairs for distinct unauthenticated senders */
#define CMD_MAX_BUCKETS 100000	 /* days or hours in a trend */
#define CMD_MAX_KEY 1024	 /* bytes of a grouping key (addresses are at most 256) */

enum by_key { BY_NONE = 0, BY_USER, BY_SENDER, BY_CLIENT, BY_RCPT };

struct audit_opts {
	enum out_format format;
	bool hourly;
	enum by_key by;
	bool has_since, has_until;
	int64_t since_ms, until_ms; /* [since, until) */
	const char *user;
	bool has_client;
	struct ag_cidr client;
	const char *rcpt;		/* address, or "@domain" */
	size_t top;			/* rows to show; 0 = all */
	const struct ag_config *config; /* NULL without -c */
	int64_t now_ms;			/* report time: SOURCE_DATE_EPOCH or the clock */
	const char *version;
};

/* One subcommand: start, then records and rows as they stream by, then finish. */
struct audit_cmd {
	const char *name;
	const char *summary; /* for --help */
	void *(*start)(const struct audit_opts *o, FILE *f);
	void (*record)(
	    void *st,
	    const struct audit_rec *r); /* every record in time (filter_record is its own call) */
	void (*row)(void *st, const struct msg_row *row); /* every message passing the filters */
	/* Write the result; s has the reader's numbers, finish adds rows and notes. 0 or -1. */
	int (*finish)(void *st, struct out_summary *s);
	void (*free)(void *st);
};

extern const struct audit_cmd cmd_who;
extern const struct audit_cmd cmd_unauth;
extern const struct audit_cmd cmd_trend;
extern const struct audit_cmd cmd_html;

/* filter.c: --user, --client, --rcpt (time bounds are applied to records first). */
bool filter_row(const struct audit_opts *o, const struct msg_row *row);
bool filter_record(const struct audit_opts *o, const struct audit_rec *r);
/* want is "a@example.org" (that address) or "@example.org" (that domain); case-insensitive. */
bool filter_rcpt_match(const char *want, const char *rcpt);

/* "203.0.113.0/24" or "2001:db8:1:2::/64" for a client address, "unknown" if unparsable. */
void filter_client_network(const char *client_ip, char *buf, size_t len);

/* Shown for an empty envelope sender. */
#define CMD_NULL_SENDER "<>"

#endif
