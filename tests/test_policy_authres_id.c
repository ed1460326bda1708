/* test_policy_authres_id.c: every RFC 8601 2.2 form of an authserv-id, ours or not. */
#include <string.h>

#include "policy/authres_id.h"
#include "tap.h"

static const char *id = "smtp.example.ac.uk";

static int done(const char *v)
{
	return authres_id_match(v, strlen(v), id, true);
}

static int partial(const char *v)
{
	return authres_id_match(v, strlen(v), id, false);
}

int main(void)
{
	/* Plain forms */
	is_int(done(" smtp.example.ac.uk; auth=pass"), AUTHRES_ID_OURS, "plain id");
	is_int(done("SMTP.Example.AC.UK; auth=pass"), AUTHRES_ID_OURS, "id is case-insensitive");
	is_int(done("smtp.example.ac.uk;auth=pass"), AUTHRES_ID_OURS, "no space before results");
	is_int(done("smtp.example.ac.uk ; auth=pass"), AUTHRES_ID_OURS, "space before ';'");
	is_int(done("smtp.example.ac.uk"), AUTHRES_ID_OURS, "id alone");
	is_int(done("smtp.example.ac.uk; none"), AUTHRES_ID_OURS, "no-result form");
	/* CFWS before the id */
	is_int(done("(comment) smtp.example.ac.uk; auth=pass"), AUTHRES_ID_OURS,
	       "comment before the id");
	is_int(done("(a (nested) comment) smtp.example.ac.uk; auth=pass"), AUTHRES_ID_OURS,
	       "nested comment before the id");
	is_int(done("(escaped \\) paren)smtp.example.ac.uk; auth=pass"), AUTHRES_ID_OURS,
	       "quoted-pair in the comment, no space after it");
	is_int(done("\r\n\t(x)\r\n smtp.example.ac.uk;\r\n\tauth=pass"), AUTHRES_ID_OURS,
	       "folds and comments before the id");
	/* Version and comments after the id */
	is_int(done("smtp.example.ac.uk 1; auth=pass"), AUTHRES_ID_OURS, "version after the id");
	is_int(done("smtp.example.ac.uk (c) 1 (d); auth=pass"), AUTHRES_ID_OURS,
	       "comments around the version");
	is_int(done("smtp.example.ac.uk(c); auth=pass"), AUTHRES_ID_OURS,
	       "comment right after the id");
	/* Quoted-string */
	is_int(done("\"smtp.example.ac.uk\"; auth=pass"), AUTHRES_ID_OURS, "quoted id");
	is_int(done(" (c) \"SMTP.example.ac.uk\" 1; auth=pass"), AUTHRES_ID_OURS,
	       "quoted id with comment, case and version");
	is_int(done("\"smtp.example\\.ac.uk\"; auth=pass"), AUTHRES_ID_OURS,
	       "quoted-pair inside the quoted id");
	is_int(done("\" smtp.example.ac.uk\r\n \"; auth=pass"), AUTHRES_ID_OURS,
	       "folded white space at the ends of a quoted id");
	is_int(done("\"smtp.example.ac.uk.evil\"; auth=pass"), AUTHRES_ID_OTHER,
	       "another quoted id");
	/* Token ends */
	is_int(done("smtp.example.ac.uk/x; auth=pass"), AUTHRES_ID_OURS,
	       "a tspecial ends the token: ours");
	is_int(done("smtp.example.ac.uk\xc2\xa0; auth=pass"), AUTHRES_ID_OURS,
	       "an 8-bit byte ends the token: ours");
	/* Not ours */
	is_int(done("mx.google.com; dkim=pass"), AUTHRES_ID_OTHER, "another server");
	is_int(done("smtp.example.ac.uk.evil.org; auth=pass"), AUTHRES_ID_OTHER,
	       "a longer id starting with ours");
	is_int(done("example.ac.uk; auth=pass"), AUTHRES_ID_OTHER, "a shorter id");
	is_int(done("(smtp.example.ac.uk) mx.other.org; spf=pass"), AUTHRES_ID_OTHER,
	       "our name only inside a comment");
	is_int(done("; auth=pass"), AUTHRES_ID_OTHER, "an empty id is nobody's");
	is_int(authres_id_match("x; y", 4, "", true), AUTHRES_ID_OTHER, "empty configured id");
	/* Unreadable: ours once complete, undecided before */
	is_int(done(""), AUTHRES_ID_OURS, "no id at all, complete: removed");
	is_int(done("(unterminated smtp.example.ac.uk; x"), AUTHRES_ID_OURS,
	       "unterminated comment, complete: removed");
	is_int(done("\"smtp.example.ac.uk; x"), AUTHRES_ID_OURS,
	       "unterminated quoted id, complete: removed");
	is_int(partial(" (comment"), AUTHRES_ID_UNDECIDED, "inside a comment: undecided");
	is_int(partial(" smtp.exa"), AUTHRES_ID_UNDECIDED, "inside the token: undecided");
	is_int(partial(" \"smtp.example.ac.uk"), AUTHRES_ID_UNDECIDED,
	       "inside the quoted id: undecided");
	is_int(partial(" smtp.example.ac.uk\n"), AUTHRES_ID_OURS, "token ended by the fold");
	is_int(partial(" mx.other.org\n"), AUTHRES_ID_OTHER, "other token ended by the fold");
	return tap_done();
}
