/*
 * nullmilter.c: the cheapest libmilter filter with authgate-milter's negotiation (the same
 * protocol steps skipped, the same macros asked for, no reply to connect and headers),
 * which continues everywhere and adds one header at end of message, as authgate-milter
 * does when it tags.
 * scripts/bench runs it beside authgate-milter (issue 16): what Postfix + this costs is the
 * milter protocol's own price, the rest is ours.
 *
 * Usage: nullmilter SOCKET (unix:PATH or inet:PORT@127.0.0.1); runs in the foreground.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libmilter/mfapi.h>

#include "milter/negotiate.h"

/* With SMFIP_NR_HDR agreed, libmilter wants SMFIS_NOREPLY from the header callback. */
static sfsistat null_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return SMFIS_NOREPLY;
}

static sfsistat null_continue(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat null_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	(void)ctx;
	(void)host;
	(void)sa;
	return SMFIS_NOREPLY; /* SMFIP_NR_CONN, as authgate-milter */
}

static sfsistat null_eom(SMFICTX *ctx)
{
	return smfi_addheader(ctx, "X-Null-Milter", "seen") == MI_SUCCESS ? SMFIS_CONTINUE
									  : SMFIS_TEMPFAIL;
}

static sfsistat null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
			       unsigned long f3, unsigned long *pf0, unsigned long *pf1,
			       unsigned long *pf2, unsigned long *pf3)
{
	int stage;

	(void)f2;
	(void)f3;
	*pf0 = f0 & NEGOTIATE_ACTIONS;
	*pf1 = f1 & (NEGOTIATE_SKIPPED | SMFIP_NR_HDR | SMFIP_NR_CONN);
	*pf2 = 0;
	*pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		*pf0 |= SMFIF_SETSYMLIST;
		if (negotiate_macros(ctx, &stage) < 0)
			return SMFIS_REJECT;
	}
	return SMFIS_CONTINUE;
}

int main(int argc, char **argv)
{
	struct smfiDesc desc;

	if (argc != 2) {
		fprintf(stderr, "usage: nullmilter unix:PATH|inet:PORT@127.0.0.1\n");
		return 2;
	}
	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = "nullmilter";
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_flags = NEGOTIATE_ACTIONS;
	desc.xxfi_connect = null_connect;
	desc.xxfi_envfrom = null_continue;
	desc.xxfi_envrcpt = null_continue;
	desc.xxfi_header = null_header;
	desc.xxfi_eom = null_eom;
	desc.xxfi_negotiate = null_negotiate;
	umask(0); /* Postfix's smtpd connects as postfix: a bench-only socket open to all */
	if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot use %s\n", argv[1]);
		return 1;
	}
	/* A stale socket from an earlier run: remove it (smfi_opensocket's argument). */
	if (smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot open %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
