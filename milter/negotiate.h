/* negotiate.h: what authgate-milter asks of the MTA at option negotiation; bench/nullmilter
 * uses the same, so that its bound has exactly our protocol (issue 16). */
#ifndef AG_MILTER_NEGOTIATE_H
#define AG_MILTER_NEGOTIATE_H

#include <libmilter/mfapi.h>

/* Without header changes we could not remove a forged Authentication-Results. */
#define NEGOTIATE_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS)
/*
 * Steps we never look at, the MTA saves sending them; replies we never need (SMFIP_NR_HDR
 * is taken per connection, see callbacks.c).
 */
#define NEGOTIATE_SKIPPED                                                                          \
	(SMFIP_NOHELO | SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NOEOH)

/*
 * Only the macros we read (each one is bytes on every command): 0, or -1 with *stage set
 * to a list libmilter refused (the MTA sends its defaults for that stage).
 */
int negotiate_macros(SMFICTX *ctx, int *stage);

#endif
