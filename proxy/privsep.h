/* privsep.h: the privileged PAM process and the network side's asynchronous client of it. */
#ifndef AG_PRIVSEP_H
#define AG_PRIVSEP_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

enum privsep_result {
	PRIVSEP_AUTH_OK = 0,   /* PAM said yes (pam_authenticate + pam_acct_mgmt) */
	PRIVSEP_AUTH_FAIL,     /* wrong user or password: 535 */
	PRIVSEP_AUTH_TEMPFAIL, /* PAM unavailable, auth process down, timeout: 454 */
};

typedef void (*privsep_auth_cb)(enum privsep_result r, void *arg);

struct privsep;

/*
 * Fork the auth process. Call as root, before dropping privileges and before
 * the network side creates its event base. The auth process keeps root (for
 * pam_unix and the shadow file), runs up to `workers` PAM conversations at
 * once, and exits when the network side closes its end. NULL with *why set.
 */
struct privsep *privsep_start(const char *pam_service, unsigned workers, const char *config_path,
			      const char **why);

/*
 * The TLS key named by tls_key in config_path, read by the auth process as
 * root (SIGHUP: the key may be 0600 root). Blocks up to a few seconds.
 * 0 with *pem malloc'd (the caller wipes and frees it), or -1 with err.
 */
int privsep_fetch_key(struct privsep *ps, char **pem, size_t *len, char *err, size_t errlen);

/* Register the socket with the network side's event loop (after fork and drop). */
int privsep_attach(struct privsep *ps, struct event_base *base);

/*
 * Ask for a check. user/password are length-checked here (no NUL inside,
 * user <= 256, password <= 1024 bytes). The callback runs exactly once from
 * the event loop, unless privsep_cancel() is called first. Returns a request
 * id, or 0 if the request could not be queued (callback not called).
 */
uint64_t privsep_auth(struct privsep *ps, const char *user, const char *password,
		      const char *client_ip, privsep_auth_cb cb, void *arg);

/* The session went away: its callback will not be called. */
void privsep_cancel(struct privsep *ps, uint64_t id);

/* Close the socket; the auth process exits. */
void privsep_stop(struct privsep *ps);

#endif
