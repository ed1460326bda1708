/* startup.h: what an admin must hear before the proxy serves (issue 8), at start and from -t. */
#ifndef AG_PROXY_STARTUP_H
#define AG_PROXY_STARTUP_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

struct ag_config;

#define STARTUP_CERT_WARN_DAYS 14
#define STARTUP_BACKEND_TIMEOUT_MS 2000 /* all backends are tried at once, within this */

enum startup_result { STARTUP_OK = 0, STARTUP_WARN, STARTUP_FATAL };

/*
 * Each check writes at most one line into msg (without the config file name)
 * and says how bad it is. They run as root, before privileges are dropped.
 */

/* The leaf certificate of ctx expires within STARTUP_CERT_WARN_DAYS days (or has). */
enum startup_result startup_check_cert_expiry(const struct ag_config *cfg, SSL_CTX *ctx, char *msg,
					      size_t len);
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

#endif
