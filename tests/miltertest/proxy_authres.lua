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

-- From the proxy, a relay whose end of message is refused: MAIL and RCPT wait, EOM refuses.
local function refused_at_eom(from, qid, headers, what)
	local c = ag_connect(sock_mandatory, PROXY)
	ag_mail(c, from, nil, qid)
	expect(c, SMFIR_CONTINUE, what .. ": MAIL FROM")
	ag_rcpt(c, "<friend@example.net>")
	expect(c, SMFIR_CONTINUE, what .. ": RCPT TO, deferred")
	for _, h in ipairs(headers) do
		check(mt.header(c, h[1], h[2]), "header")
		expect(c, SMFIR_CONTINUE, "header")
	end
	check(mt.eom(c), "eom")
	expect(c, SMFIR_REPLYCODE, what .. ": refused at end of message")
	mt.disconnect(c)
end
refused_at_eom("<jdoe@example.ac.uk>", "MT0102", { { "Subject", "no header" } },
	"without the proxy's header")
refused_at_eom("<rector@example.ac.uk>", "MT0103", { { "Authentication-Results", OURS } },
	"sender not owned by the header's login")
refused_at_eom("<jdoe@example.ac.uk>", "MT0104", {
	{ "Authentication-Results", OURS },
	{ "Authentication-Results", AUTHSERV .. "; auth=pass smtp.auth=rector" },
}, "two logins in our headers")

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
