-- sender_login = strict: an authenticated user may only use their own address (553 5.7.1);
-- the null sender (bounces, vacation replies) is always allowed.
dofile(common)
local conn = ag_connect(sock_mandatory, UNTRUSTED)
ag_mail(conn, "<rector@example.ac.uk>", "jdoe", "MT0010")
expect(conn, SMFIR_REPLYCODE, "MAIL FROM someone else's address")
ag_mail(conn, "<JDoe@example.ac.uk>", "jdoe", "MT0011")
expect(conn, SMFIR_CONTINUE, "MAIL FROM the login's own address, other case")
mt.abort(conn)
ag_mail(conn, "<>", "jdoe", "MT0012")
expect(conn, SMFIR_CONTINUE, "MAIL FROM <>")
mt.disconnect(conn)
