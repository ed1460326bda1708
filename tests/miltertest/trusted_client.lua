-- A client in trusted_networks (webmail, Exchange) relays without AUTH, untagged,
-- even in the mandatory phase.
dofile(common)
local conn = ag_connect(sock_mandatory, TRUSTED)
ag_mail(conn, "<webmail@example.ac.uk>", nil, "MT0003")
expect(conn, SMFIR_CONTINUE, "MAIL FROM")
ag_rcpt(conn, "<friend@example.net>")
expect(conn, SMFIR_CONTINUE, "RCPT TO a remote domain from a trusted client")
ag_message(conn, { { "Subject", "from webmail" } })
if mt.eom_check(conn, MT_HDRADD) or mt.eom_check(conn, MT_HDRINSERT) then
	fail("a trusted client's message was changed")
end
mt.disconnect(conn)
