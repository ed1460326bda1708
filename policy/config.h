/* config.h: authgate.conf, loaded and validated into one immutable, refcounted snapshot. */
#ifndef AG_CONFIG_H
#define AG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "net.h"

/* The build passes $(sysconfdir)/authgate/authgate.conf (Makefile.am), so the
 * programs, the systemd units and `make install` name one file. */
#ifndef AG_DEFAULT_CONFIG
#define AG_DEFAULT_CONFIG "/etc/authgate/authgate.conf"
#endif
#define AG_MAX_BACKENDS 16
#define AG_MAX_HOST 255

/*
 * The Mozilla "intermediate" profile without DHE: forward secrecy (ECDHE)
 * and AEAD (AES-GCM, ChaCha20-Poly1305) only, ECDSA before RSA.
 */
#define AG_TLS_CIPHERS                                                                             \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                               \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define AG_TLS_CIPHERSUITES                                                                        \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

struct ag_hostport {
	char host[AG_MAX_HOST + 1]; /* name or address, without brackets */
	uint16_t port;
};

enum ag_phase { AG_PHASE_VOLUNTARY = 0, AG_PHASE_MANDATORY = 1 };
enum ag_sender_login { AG_SENDER_LOGIN_STRICT = 0, AG_SENDER_LOGIN_WARN, AG_SENDER_LOGIN_OFF };

/*
 * The whole configuration. Once config_load() returns it, nothing changes it:
 * a reload builds a new one and swaps the pointer; each connection holds a
 * reference to the snapshot it started with (config_ref/config_unref).
 */
struct ag_config {
	char *path;

	/* [general] */
	char *hostname;
	char *authserv_id;
	char *audit_log;  /* path, or "syslog:FACILITY" */
	char *user;       /* unprivileged user after binding ports */

	/* [proxy] */
	bool has_listen_smtps;
	struct ag_hostport listen_smtps;
	bool has_listen_submission;
	struct ag_hostport listen_submission;
	char *tls_cert;
	char *tls_key;
	int tls_min_version; /* OpenSSL-compatible numbers: 0x0303 TLSv1.2, 0x0304 TLSv1.3 */
	char *tls_ciphers;	/* TLS 1.2 and below, OpenSSL cipher list */
	char *tls_ciphersuites; /* TLS 1.3 */
	unsigned tls_ticket_lifetime; /* seconds a ticket key issues tickets */
	struct ag_hostport backends[AG_MAX_BACKENDS];
	size_t nbackends;
	bool backend_xclient;
	char *pam_service;
	struct ag_domain_list login_domains;
	uint64_t max_message_size;
	bool proxy_protocol;
	struct ag_cidr_list proxy_protocol_from; /* balancers allowed to send the header */
	unsigned auth_fail_limit;  /* per client network */
	unsigned auth_fail_window; /* seconds */
	unsigned auth_user_fail_limit; /* per user: then unfamiliar networks are locked out */
	unsigned auth_familiar_days;
	unsigned auth_familiar_size;
	char *shared_state;	 /* "none", "unix:/path" or "IP:port" (Redis) */
	char *shared_state_password_file; /* "" = no Redis AUTH */
	unsigned shared_state_timeout;	 /* milliseconds */
	char *shared_state_prefix;
	unsigned auth_cache_ttl;   /* seconds, 0 = off */
	unsigned auth_cache_size;  /* entries */
	unsigned max_connections;
	unsigned max_connections_per_ip;
	unsigned auth_workers;       /* concurrent PAM conversations */
	unsigned timeout_tls;        /* seconds for the TLS handshake */
	unsigned timeout_command;    /* seconds, RFC 5321 4.5.3.2.7 server timeout: 300 */
	unsigned timeout_data;       /* seconds, 4.5.3.2.6 DATA termination: 600 */
	unsigned timeout_connect;    /* seconds, backend connect */
	unsigned timeout_backend;    /* seconds, backend replies */
	unsigned backend_idle_timeout; /* seconds a session keeps its backend connection idle, 0 = never */
	unsigned backend_reuse_limit;  /* transactions per backend connection */
	unsigned shutdown_grace;     /* seconds SIGTERM waits for transactions */
	char *resolver;              /* "system" (resolv.conf) or "IP:port": every DNS lookup */
	bool client_name_lookup;     /* the client's name by forward-confirmed reverse DNS */
	unsigned timeout_client_name; /* seconds from connect; MAIL waits for the rest of it */

	/* [policy] */
	enum ag_phase phase;
	bool has_mandatory_from;
	int64_t mandatory_from; /* Unix seconds, UTC */
	struct ag_domain_list local_domains;
	struct ag_cidr_list trusted_networks;
	enum ag_sender_login sender_login;
	char *help_url; /* may be "" */

	/* [lists] */
	bool has_hub;
	struct ag_hostport hub;
	struct ag_pattern_list protected_lists;

	/* [milter] */
	char *milter_socket;
	struct ag_cidr_list proxy_addresses; /* authgate-proxy hosts without XCLIENT (Sendmail) */

	int refcnt;     /* atomic; private to config.c */
	int *key_lines; /* per key, the line that set it (0: default); private to config.c */
};

/* Room for "file:line: [section] key: message". */
struct ag_config_error {
	char msg[1024];
};

/*
 * Load and validate from a stream the caller opened (io/configfile.c opens the file:
 * policy/ opens none); name is the file's name in messages. NULL with
 * err->msg = "FILE:LINE: key: what is wrong" on any problem.
 */
struct ag_config *config_load_fp(FILE *fp, const char *name, struct ag_config_error *err);
/* Same, from a string (for tests and fuzzing); name is used in messages. */
struct ag_config *config_load_string(const char *text, const char *name, struct ag_config_error *err);
struct ag_config *config_ref(struct ag_config *c);
void config_unref(struct ag_config *c);

/*
 * Where a loaded key came from, as messages about it start: "FILE:LINE: [section] key"
 * or, for a key left at its default, "FILE: [section] key". For checks made after
 * loading (certificate files, users, addresses), so they read like the loader's own.
 */
void config_key_where(const struct ag_config *c, const char *section, const char *key, char *buf,
		      size_t len);

/* Print the effective configuration, every key with its value (postconf -n style). */
void config_dump(const struct ag_config *c, FILE *out);

/* "host:port", "[v6]:port"; 0 ok, -1 with *why. default_port used when no ":port" (0 = required). */
int config_parse_hostport(const char *s, uint16_t default_port, struct ag_hostport *out, const char **why);
/* "2027-01-15T00:00:00Z" (also with fractional seconds or +00:00): Unix seconds. */
int config_parse_instant(const char *s, int64_t *out, const char **why);

#endif
