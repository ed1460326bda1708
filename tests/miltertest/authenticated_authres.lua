-- An authenticated client relays; the milter writes our Authentication-Results at the top.
dofile(common)
local conn = ag_connect(sock_mandatory, UNTRUSTED)
ag_mail(conn, "<jdoe@example.ac.uk>", "jdoe", "MT0004")
expect(conn, SMFIR_CONTINUE, "MAIL FROM, authenticated, own address")
ag_rcpt(conn, "<friend@example.net>")
expect(conn, SMFIR_CONTINUE, "RCPT TO a remote domain, authenticated")
ag_message(conn, { { "Subject", "hello" } })
if not mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results",
		    AUTHSERV .. "; auth=pass smtp.auth=jdoe", 0) then
	fail("no Authentication-Results inserted at the top")
end
if mt.eom_check(conn, MT_HDRADD, "X-Authgate-Warning") then
	fail("authenticated mail was tagged")
end
mt.disconnect(conn)
