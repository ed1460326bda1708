/* authres_id.h: whose Authentication-Results header is this? One reading of RFC 8601 2.2. */
#ifndef AG_AUTHRES_ID_H
#define AG_AUTHRES_ID_H

#include <stdbool.h>
#include <stddef.h>

/*
 * STYLE.md rule 13: the proxy (which strips forged headers from what a client
 * sends) and the milter (which strips them inside the MTA) must agree on
 * whose header this is; two parsers would disagree and the disagreement is
 * the hole. Both call this.
 *
 * value is the header's value, after "Authentication-Results:", folded lines
 * included (CR LF inside). RFC 8601 2.2:
 *
 *   authres-payload = [CFWS] authserv-id [ CFWS authres-version ] ...
 *   authserv-id     = value             ; token / quoted-string (RFC 2045)
 *
 * so before the id come white space, line folds and (nested) comments with
 * quoted-pairs; the id is a token or a quoted-string (quoted-pairs undone,
 * folds unfolded, white space at its ends ignored); a version may follow.
 * Comparison with id is case-insensitive (domain names). A token ends at any
 * byte RFC 2045 does not allow in one (tspecials, white space, controls,
 * 8-bit), so "smtp.example.ac.uk/x;" reads as ours: when in doubt, ours,
 * because removing a header is safe and keeping a forged one is not.
 *
 * Returns AUTHRES_ID_OURS, AUTHRES_ID_OTHER (another id, or an empty one),
 * or, when !complete, AUTHRES_ID_UNDECIDED: the text ends before the id does
 * (more folded lines may come). With complete, a header whose id cannot be
 * read at all (nothing but comments, an unterminated comment or quoted
 * string) is AUTHRES_ID_OURS: no verifier could trust it.
 */
enum authres_id_result {
	AUTHRES_ID_UNDECIDED = -1,
	AUTHRES_ID_OTHER = 0,
	AUTHRES_ID_OURS = 1,
};

enum authres_id_result authres_id_match(const char *value, size_t len, const char *id,
					bool complete);

#endif
