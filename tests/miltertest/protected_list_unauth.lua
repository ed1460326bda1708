-- Protected lists refuse unauthenticated mail (550 5.7.1) even in the voluntary phase,
-- for exact addresses and wildcard patterns alike; other local addresses are fine.
dofile(common)
local conn = ag_connect(sock_voluntary, UNTRUSTED)
ag_mail(conn, "<outsider@example.org>", nil, "MT0008")
expect(conn, SMFIR_CONTINUE, "MAIL FROM")
ag_rcpt(conn, "<staff-all@example.ac.uk>")
expect(conn, SMFIR_REPLYCODE, "RCPT TO a protected list")
ag_rcpt(conn, "<Students-2027@example.ac.uk>")
expect(conn, SMFIR_REPLYCODE, "RCPT TO a protected wildcard list")
ag_rcpt(conn, "<staff@example.ac.uk>")
expect(conn, SMFIR_CONTINUE, "RCPT TO an ordinary local address")
mt.disconnect(conn)
