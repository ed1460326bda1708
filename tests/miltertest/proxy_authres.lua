-- Sendmail behind authgate-proxy (no XCLIENT): from a client in proxy_addresses the login is
-- in the proxy's own Authentication-Results, so MAIL/RCPT wait and the end of message
-- decides; the same header from any other client is a forgery.
dofile(common)
local PROXY = "198.51.100.25" -- proxy_addresses in the runner's mandatory milter
local OURS = AUTHSERV .. "; auth=pass smtp.auth=jdoe"

-- From the proxy: relaying waits for the header, which names jdoe: accepted, header kept.
local conn = ag_connect(sock_mandatory, PROXY)
ag_mail(conn, "<jdoe@example.ac.uk>", nil, "MT0101")
expect(conn, SMFIR_CONTINUE, "MAIL FROM from the proxy, no SMTP AUTH")
ag_rcpt(conn, "<friend@example.net>")
expect(conn, SMFIR_CONTINUE, "RCPT TO a remote address: decided at end of message")
ag_rcpt(conn, "<staff-all@example.ac.uk>")
expect(conn, SMFIR_CONTINUE, "RCPT TO a protected list: decided at end of message")
ag_message(conn, { { "Authentication-Results", OURS }, { "Subject", "via the proxy" } })
if mt.eom_check(conn, MT_HDRDELETE) or mt.eom_check(conn, MT_HDRINSERT) then
	fail("the proxy's header was touched")
end
mt.disconnect(conn)

-- From the proxy without the header: unauthenticated, the relay is refused at end of message.
conn = ag_connect(sock_mandatory, PROXY)
ag_mail(conn, "<jdoe@example.ac.uk>", nil, "MT0102")
expect(conn, SMFIR_CONTINUE, "MAIL FROM from the proxy")
ag_rcpt(conn, "<friend@example.net>")
expect(conn, SMFIR_CONTINUE, "RCPT TO, deferred")
check(mt.header(conn, "Subject", "no header"), "header")
expect(conn, SMFIR_CONTINUE, "header")
check(mt.eom(conn), "eom")
expect(conn, SMFIR_REPLYCODE, "end of message without the proxy's header: refused")
mt.disconnect(conn)

-- From the proxy, the header names jdoe but the sender is someone else's: refused (strict).
conn = ag_connect(sock_mandatory, PROXY)
ag_mail(conn, "<rector@example.ac.uk>", nil, "MT0103")
expect(conn, SMFIR_CONTINUE, "MAIL FROM another user's address")
ag_rcpt(conn, "<friend@example.net>")
expect(conn, SMFIR_CONTINUE, "RCPT TO, deferred")
check(mt.header(conn, "Authentication-Results", OURS), "header")
expect(conn, SMFIR_CONTINUE, "header")
check(mt.eom(conn), "eom")
expect(conn, SMFIR_REPLYCODE, "sender not owned by the header's login: refused")
mt.disconnect(conn)

-- Two headers of ours from the proxy: neither counts, both go, the relay is refused.
conn = ag_connect(sock_mandatory, PROXY)
ag_mail(conn, "<jdoe@example.ac.uk>", nil, "MT0104")
expect(conn, SMFIR_CONTINUE, "MAIL FROM")
ag_rcpt(conn, "<friend@example.net>")
expect(conn, SMFIR_CONTINUE, "RCPT TO, deferred")
for _, v in ipairs({ OURS, AUTHSERV .. "; auth=pass smtp.auth=rector" }) do
	check(mt.header(conn, "Authentication-Results", v), "header")
	expect(conn, SMFIR_CONTINUE, "header")
end
check(mt.eom(conn), "eom")
expect(conn, SMFIR_REPLYCODE, "two logins in our headers: refused")
mt.disconnect(conn)

-- The same header from a client that is not the proxy: the relay is refused at RCPT,
-- and to a local address the header is removed.
conn = ag_connect(sock_mandatory, UNTRUSTED)
ag_mail(conn, "<jdoe@example.ac.uk>", nil, "MT0105")
expect(conn, SMFIR_CONTINUE, "MAIL FROM, not the proxy")
ag_rcpt(conn, "<friend@example.net>")
expect(conn, SMFIR_REPLYCODE, "RCPT TO a remote address, not the proxy: refused at once")
ag_rcpt(conn, "<jdoe@example.ac.uk>")
expect(conn, SMFIR_CONTINUE, "RCPT TO a local address")
ag_message(conn, { { "Authentication-Results", OURS } })
if not mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results") then
	fail("the forged header was not removed")
end
mt.disconnect(conn)
