-- Authentication-Results claiming our authserv-id, sent by the client, are removed;
-- another server's are kept; nothing is added for an unauthenticated client.
dofile(common)
local conn = ag_connect(sock_mandatory, UNTRUSTED)
ag_mail(conn, "<someone@example.org>", nil, "MT0005")
expect(conn, SMFIR_CONTINUE, "MAIL FROM")
ag_rcpt(conn, "<staff@example.ac.uk>")
expect(conn, SMFIR_CONTINUE, "RCPT TO a local address")
ag_message(conn, {
	{ "Authentication-Results", "mx.google.com; dkim=pass header.d=example.org" },
	{ "Authentication-Results", "MX.Example.AC.UK; auth=pass smtp.auth=rector" },
	{ "Subject", "trust me" },
})
if not mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results") then
	fail("the forged Authentication-Results was not removed")
end
if mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results") then
	fail("Authentication-Results added for an unauthenticated client")
end
mt.disconnect(conn)

-- Authenticated as jdoe, with a header claiming someone else: removed, ours added.
conn = ag_connect(sock_mandatory, UNTRUSTED)
ag_mail(conn, "<jdoe@example.ac.uk>", "jdoe", "MT0006")
expect(conn, SMFIR_CONTINUE, "MAIL FROM, authenticated")
ag_rcpt(conn, "<friend@example.net>")
expect(conn, SMFIR_CONTINUE, "RCPT TO, authenticated")
ag_message(conn, { { "Authentication-Results", AUTHSERV .. "; auth=pass smtp.auth=rector" } })
if not mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results") then
	fail("another user's Authentication-Results was not removed")
end
if not mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results",
		    AUTHSERV .. "; auth=pass smtp.auth=jdoe") then
	fail("ours was not added")
end
mt.disconnect(conn)

-- Authenticated, with the header the proxy wrote for this login: kept, not duplicated.
conn = ag_connect(sock_mandatory, UNTRUSTED)
ag_mail(conn, "<jdoe@example.ac.uk>", "jdoe", "MT0007")
ag_rcpt(conn, "<friend@example.net>")
ag_message(conn, { { "Authentication-Results", AUTHSERV .. "; auth=pass smtp.auth=jdoe" } })
if mt.eom_check(conn, MT_HDRDELETE) or mt.eom_check(conn, MT_HDRINSERT) then
	fail("the proxy's own header was touched")
end
mt.disconnect(conn)
