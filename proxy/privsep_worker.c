/*
 * privsep_worker.c: a PAM worker of the auth process: one PAM transaction per request,
 * the only code that runs PAM. Forked by the supervisor (privsep_proc.c), as root.
 */
#include "privsep_proc.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <security/pam_appl.h>

#include "log.h"
#include "privsep.h"

/* ---- auth process: one PAM conversation per worker ---- */

struct privsep_conv {
	const char *user;
	const char *pass;
};

static void privsep_free_responses(struct pam_response *resp, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (resp[i].resp != NULL) {
			explicit_bzero(resp[i].resp, strlen(resp[i].resp));
			free(resp[i].resp);
		}
	}
	free(resp);
}

/*
 * Answers only what a password check asks: the password for a hidden prompt,
 * the login for a visible one ("login:"), nothing for messages. PAM frees the
 * responses (and wipes the authtok item at pam_end).
 */
static int privsep_conv_fn(int n, const struct pam_message **msg, struct pam_response **out,
			   void *appdata)
{
	const struct privsep_conv *c = appdata;
	struct pam_response *resp;
	int i;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	resp = calloc((size_t)n, sizeof(*resp));
	if (resp == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		const char *answer;

		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			answer = c->pass;
			break;
		case PAM_PROMPT_ECHO_ON:
			answer = c->user;
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			continue;
		default:
			privsep_free_responses(resp, n);
			return PAM_CONV_ERR;
		}
		resp[i].resp = strdup(answer);
		if (resp[i].resp == NULL) {
			privsep_free_responses(resp, n);
			return PAM_BUF_ERR;
		}
	}
	*out = resp;
	return PAM_SUCCESS;
}

/*
 * The network side delays failures with a timer; a blocking delay here would
 * let a password guesser tie up the workers.
 */
static void privsep_no_delay(int retval, unsigned usec_delay, void *appdata)
{
	(void)retval;
	(void)usec_delay;
	(void)appdata;
}

static enum privsep_result privsep_map_pam(int rc)
{
	switch (rc) {
	case PAM_SUCCESS:
		return PRIVSEP_AUTH_OK;
	case PAM_AUTH_ERR:
	case PAM_USER_UNKNOWN:
	case PAM_MAXTRIES:
	case PAM_ACCT_EXPIRED:
	case PAM_PERM_DENIED:
	case PAM_NEW_AUTHTOK_REQD:
		return PRIVSEP_AUTH_FAIL;
	default:
		return PRIVSEP_AUTH_TEMPFAIL;
	}
}

static enum privsep_result privsep_pam_check(const char *service, const struct privsep_req *r)
{
	struct privsep_conv c = {r->user, r->pass};
	struct pam_conv conv = {privsep_conv_fn, &c};
	void (*delay_fn)(int, unsigned, void *) = privsep_no_delay;
	const int flags = PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK;
	pam_handle_t *h = NULL;
	int rc;

	if (r->pass[0] == '\0')
		return PRIVSEP_AUTH_FAIL; /* never ask PAM about an empty password (nullok) */
	rc = pam_start(service, r->user, &conv, &h);
	if (rc != PAM_SUCCESS) {
		log_msg(LOG_ERR, NULL, "pam_start(%s): %s", service, pam_strerror(h, rc));
		return PRIVSEP_AUTH_TEMPFAIL;
	}
	(void)pam_set_item(h, PAM_FAIL_DELAY, (const void *)delay_fn);
	if (r->ip[0] != '\0')
		rc = pam_set_item(h, PAM_RHOST, r->ip);
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(h, flags);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(h, flags);
	if (privsep_map_pam(rc) == PRIVSEP_AUTH_TEMPFAIL)
		log_msg(LOG_ERR, NULL, "pam service %s: %s", service, pam_strerror(h, rc));
	pam_end(h, rc);
	return privsep_map_pam(rc);
}

/* The resident handle never authenticates: nothing to converse about. */
static int privsep_resident_conv(int n, const struct pam_message **msg, struct pam_response **out,
				 void *appdata)
{
	(void)n;
	(void)msg;
	(void)appdata;
	*out = NULL;
	return PAM_CONV_ERR;
}

void privsep_worker_main(int fd, const char *service, pid_t parent)
{
	static const struct pam_conv resident_conv = {privsep_resident_conv, NULL};
	unsigned char buf[PRIVSEP_MAX_REQ + 1], out[PRIVSEP_REPLY];
	struct privsep_req r;
	pam_handle_t *resident = NULL;
	ssize_t n;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0); /* the supervisor died before PDEATHSIG was armed */
	(void)prctl(PR_SET_NAME, "authgate-pam");
	/*
	 * Keep the service's modules loaded for the worker's life: libpam dlopen()s them in
	 * pam_start() and dlclose()s them in pam_end(), so a handle that is started once and
	 * never ended holds a reference to each, and every check's pam_start() finds them
	 * mapped and relocated instead of loading them and their libraries (libcrypt...) again
	 * (strace: some 56 mmap, 24 openat, 12 mprotect a check). If it fails, checks are
	 * only slower; the per-check pam_start() reports the real problem.
	 */
	if (pam_start(service, NULL, &resident_conv, &resident) != PAM_SUCCESS)
		resident = NULL;
	for (;;) {
		enum privsep_result res = PRIVSEP_AUTH_TEMPFAIL;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		if (privsep_decode(buf, (size_t)n, &r) == 0)
			res = privsep_pam_check(service, &r);
		else if (n >= 8)
			memcpy(&r.id, buf, sizeof(r.id));
		else
			r.id = 0;
		explicit_bzero(buf, sizeof(buf));
		explicit_bzero(&r.pass, sizeof(r.pass));
		privsep_encode_reply(out, r.id, res);
		while (send(fd, out, sizeof(out), MSG_NOSIGNAL) < 0)
			if (errno != EINTR)
				_exit(0);
	}
}
