/* startup.h: what an admin must hear before a daemon serves (issues 8, 14), at start and from -t.
 */
#ifndef AG_PROXY_STARTUP_H
#define AG_PROXY_STARTUP_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

struct ag_config;
struct ag_hostport;

#define STARTUP_CERT_WARN_DAYS 14
#define STARTUP_BACKEND_TIMEOUT_MS 2000 /* all backends are tried at once, within this */

enum startup_result { STARTUP_OK = 0, STARTUP_WARN, STARTUP_FATAL };

/*
 * Each check writes at most one line into msg (without the file, section and
 * key: the caller prefixes config_key_where()) and says how bad it is. They
 * run as root, before privileges are dropped; none binds, creates or changes
 * anything, so -t runs them all. authgate-milter links this file too.
 */

/* The leaf certificate of ctx expires within STARTUP_CERT_WARN_DAYS days (or has). */
enum startup_result startup_check_cert_expiry(const struct ag_config *cfg, SSL_CTX *ctx,
					      const char **key, char *msg, size_t len);
/*
 * tls_cert and tls_key are readable files, load, and match; then the expiry.
 * *key is the key the finding is about; *ctx the context (NULL if fatal).
 */
enum startup_result startup_check_tls(const struct ag_config *cfg, SSL_CTX **ctx, const char **key,
				      char *msg, size_t len);
/* [general] user exists (the daemons drop to it after binding). */
enum startup_result startup_check_user(const struct ag_config *cfg, char *msg, size_t len);
/* A listen address resolves the way the listener will bind it. */
enum startup_result startup_check_listen(const struct ag_hostport *hp, char *msg, size_t len);

struct addrinfo;
/* A listen address as the listener binds it (AI_PASSIVE, the system resolver): getaddrinfo's
 * result, *res to be freed with freeaddrinfo when it is 0. */
int startup_resolve_listen(const struct ag_hostport *hp, struct addrinfo **res);
/* [lists] hub answers a TCP connect (a warning if not; nothing if no hub). */
enum startup_result startup_check_hub(const struct ag_config *cfg, char *msg, size_t len);
/* The PAM service exists the way libpam looks for it, else PAM would use "other". */
enum startup_result startup_check_pam(const struct ag_config *cfg, char *msg, size_t len);
/*
 * The audit log can be written: the file if it exists, else its directory
 * (nothing is created, so -t leaves no trace). "syslog:..." is always fine.
 */
enum startup_result startup_check_audit(const struct ag_config *cfg, char *msg, size_t len);
/*
 * One non-blocking connect to each backend at once; the unreachable ones are a
 * warning. With backend_xclient, one EHLO to each that answered: one that does
 * not offer XCLIENT LOGIN and ADDR is a warning too (the relay will not use it).
 */
enum startup_result startup_check_backends(const struct ag_config *cfg, char *msg, size_t len);
/*
 * Give the audit log file to `user` (opened by root, so possibly root's), so
 * that after dropping privileges a SIGUSR1 can reopen it. Only the owner
 * changes; a missing user or a syslog target is nothing to do.
 */
enum startup_result startup_audit_chown(const struct ag_config *cfg, char *msg, size_t len);
/*
 * A finding as -t prints it and the log says it: "FILE:LINE: [section] key: msg",
 * "FILE:LINE: [section] key: warning: msg" (FILE: alone for a defaulted key).
 */
void startup_format(const struct ag_config *cfg, enum startup_result r, const char *section,
		    const char *key, const char *msg, char *out, size_t len);

#endif
