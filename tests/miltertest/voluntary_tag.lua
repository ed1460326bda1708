-- Voluntary phase: unauthenticated relay is accepted, tagged with X-Authgate-Warning
-- naming the date authentication becomes mandatory and the help page.
dofile(common)
local conn = ag_connect(sock_voluntary, UNTRUSTED)
ag_mail(conn, "<someone@example.org>", nil, "MT0002")
expect(conn, SMFIR_CONTINUE, "MAIL FROM")
ag_rcpt(conn, "<friend@example.net>")
expect(conn, SMFIR_CONTINUE, "RCPT TO a remote domain, voluntary phase")
ag_message(conn, { { "Subject", "relay" } })
if not mt.eom_check(conn, MT_HDRADD, "X-Authgate-Warning") then
	fail("no X-Authgate-Warning header")
end
local w = mt.getheader(conn, "X-Authgate-Warning", 0)
if w == nil or not string.find(w, "unauthenticated relay", 1, true)
   or not string.find(w, mandatory_from, 1, true)
   or not string.find(w, "https://www.example.ac.uk/it/authenticated-smtp", 1, true) then
	fail("warning text: " .. tostring(w))
end
if mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results") then
	fail("an unauthenticated message got Authentication-Results")
end
mt.disconnect(conn)
