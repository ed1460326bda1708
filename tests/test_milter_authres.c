/* test_milter_authres.c: recognising, comparing and writing our Authentication-Results. */
#include "milter/milter.h"

#include "tap.h"

int main(void)
{
	char buf[256];

	/* authserv-id recognition */
	ok(authres_is_ours("smtp.example.ac.uk; auth=pass smtp.auth=jdoe", "smtp.example.ac.uk"),
	   "our id is ours");
	ok(authres_is_ours(" SMTP.Example.AC.UK ;auth=pass", "smtp.example.ac.uk"),
	   "case and spaces around the id do not matter");
	ok(authres_is_ours("\r\n\tsmtp.example.ac.uk;\r\n\tauth=pass", "smtp.example.ac.uk"),
	   "a folded header is still ours");
	ok(authres_is_ours("smtp.example.ac.uk", "smtp.example.ac.uk"),
	   "an id with no results is still a claim in our name");
	/* RFC 8601 2.2 forms the milter used to keep (issue 11) */
	ok(authres_is_ours("(comment) smtp.example.ac.uk; auth=pass", "smtp.example.ac.uk"),
	   "a comment before our id does not hide it");
	ok(authres_is_ours("smtp.example.ac.uk 1; auth=pass", "smtp.example.ac.uk"),
	   "a version after our id does not hide it");
	ok(authres_is_ours("\"smtp.example.ac.uk\"; auth=pass", "smtp.example.ac.uk"),
	   "a quoted id is ours");
	ok(!authres_matches("\"smtp.example.ac.uk\"; auth=pass smtp.auth=jdoe",
			    "smtp.example.ac.uk", "jdoe"),
	   "a quoted id is not the header we write (so it is removed)");
	ok(!authres_is_ours("mx.google.com; dkim=pass", "smtp.example.ac.uk"),
	   "another server's results are not ours");
	ok(!authres_is_ours("smtp.example.ac.uk.evil.org; auth=pass", "smtp.example.ac.uk"),
	   "a longer id that starts with ours is not ours");
	ok(!authres_is_ours("example.ac.uk; auth=pass", "smtp.example.ac.uk"),
	   "a shorter id is not ours");
	ok(!authres_is_ours("; auth=pass", "smtp.example.ac.uk"), "an empty id is not ours");
	ok(!authres_is_ours(NULL, "smtp.example.ac.uk"), "NULL value");
	ok(!authres_is_ours("x; y", ""), "an empty authserv_id never matches");

	/* exact comparison with what we would write */
	ok(authres_matches("smtp.example.ac.uk; auth=pass smtp.auth=jdoe", "smtp.example.ac.uk",
			   "jdoe"),
	   "the header we write matches");
	ok(authres_matches("SMTP.example.ac.uk ;\r\n\tAUTH=pass   smtp.auth=jdoe ",
			   "smtp.example.ac.uk", "jdoe"),
	   "folding, spacing and keyword case do not matter");
	ok(!authres_matches("smtp.example.ac.uk; auth=pass smtp.auth=boss", "smtp.example.ac.uk",
			    "jdoe"),
	   "another user's name does not match");
	ok(!authres_matches("smtp.example.ac.uk; auth=pass smtp.auth=JDOE", "smtp.example.ac.uk",
			    "jdoe"),
	   "the user name is compared exactly");
	ok(!authres_matches("smtp.example.ac.uk; auth=pass smtp.auth=jdoe2", "smtp.example.ac.uk",
			    "jdoe"),
	   "a longer user name does not match");
	ok(!authres_matches("smtp.example.ac.uk; auth=fail smtp.auth=jdoe", "smtp.example.ac.uk",
			    "jdoe"),
	   "auth=fail does not match");
	ok(!authres_matches("smtp.example.ac.uk; auth=pass smtp.auth=jdoe; dkim=pass",
			    "smtp.example.ac.uk", "jdoe"),
	   "extra results do not match");
	ok(!authres_matches("other.example; auth=pass smtp.auth=jdoe", "smtp.example.ac.uk",
			    "jdoe"),
	   "another authserv-id does not match");

	/* writing */
	is_int(authres_format("smtp.example.ac.uk", "jdoe", buf, sizeof(buf)),
	       (int)strlen("smtp.example.ac.uk; auth=pass smtp.auth=jdoe"), "length returned");
	is_str(buf, "smtp.example.ac.uk; auth=pass smtp.auth=jdoe", "the header value");
	ok(authres_format("smtp.example.ac.uk", "jdoe@example.ac.uk", buf, sizeof(buf)) > 0,
	   "a login with a domain is written");
	is_int(authres_format("smtp.example.ac.uk", "j doe", buf, sizeof(buf)), -1,
	       "a login with a space is refused");
	is_int(authres_format("smtp.example.ac.uk", "jdoe;x=y", buf, sizeof(buf)), -1,
	       "a login with ';' is refused");
	is_int(authres_format("smtp.example.ac.uk", "jdoe\r\nX-Evil: 1", buf, sizeof(buf)), -1,
	       "a login with CR LF is refused");
	is_int(authres_format("smtp.example.ac.uk", "", buf, sizeof(buf)), -1,
	       "an empty login is refused");
	is_int(authres_format("smtp.example.ac.uk", "jdoe", buf, 10), -1,
	       "a buffer too small is reported");
	ok(authres_user_ok("jdoe.smith+x@example.ac.uk"), "ordinary login characters are fine");
	ok(!authres_user_ok("j\xc3\xa9"), "8-bit logins are refused");

	return tap_done();
}
