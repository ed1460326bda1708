-- Mandatory phase: an unauthenticated, untrusted client may not relay (530 5.7.0),
-- but mail to a local domain still arrives (inbound mail is not relaying).
dofile(common)
local conn = ag_connect(sock_mandatory, UNTRUSTED)
ag_mail(conn, "<someone@example.org>", nil, "MT0001")
expect(conn, SMFIR_CONTINUE, "MAIL FROM, unauthenticated")
ag_rcpt(conn, "<friend@example.net>")
expect(conn, SMFIR_REPLYCODE, "RCPT TO a remote domain")
ag_rcpt(conn, "<Someone@Example.AC.UK>")
expect(conn, SMFIR_CONTINUE, "RCPT TO a local domain")
ag_message(conn, { { "Subject", "inbound" } })
if mt.eom_check(conn, MT_HDRADD, "X-Authgate-Warning") then
	fail("inbound mail was tagged")
end
mt.disconnect(conn)
