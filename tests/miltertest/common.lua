-- common.lua: helpers for the miltertest scenarios; each scenario dofile()s it.
-- The runner (tests/integration/t_milter_miltertest.sh) defines:
--   sock_mandatory  a milter with phase = mandatory
--   sock_voluntary  a milter with phase = voluntary and mandatory_from in the future
-- Both: authserv_id mx.example.ac.uk, local_domains example.ac.uk, trusted 192.0.2.0/24,
-- sender_login strict, protected staff-all@example.ac.uk and students-*@example.ac.uk.

UNTRUSTED = "203.0.113.7"
TRUSTED = "192.0.2.10"
AUTHSERV = "mx.example.ac.uk"

-- miltertest exits 1 on error() but does not print the message: say it first.
function fail(msg)
	mt.echo("FAIL: " .. msg)
	error(msg, 2)
end

-- The reply code letter, for messages.
local function name(r)
	if r == nil then return "nil" end
	return string.char(math.floor(r))
end

function expect(conn, want, what)
	local got = mt.getreply(conn)
	if got ~= want then
		fail(string.format("%s: milter replied '%s', expected '%s'", what, name(got), name(want)))
	end
end

function check(err, what)
	if err ~= nil then fail(what .. ": " .. tostring(err)) end
end

-- Connect and send the client's address.
function ag_connect(sock, ip)
	if sock == nil then fail("no socket given (-D sock_...=)") end
	local conn = mt.connect(sock, 40, 0.25)
	if conn == nil then fail("cannot connect to the milter at " .. sock) end
	check(mt.conninfo(conn, "client.example.org", ip), "conninfo")
	expect(conn, SMFIR_CONTINUE, "connect")
	return conn
end

-- MAIL FROM with the queue id and, when auth is not nil, the SASL login macros.
function ag_mail(conn, from, auth, qid)
	if auth ~= nil then
		mt.macro(conn, SMFIC_MAIL, "i", qid, "{auth_authen}", auth, "{auth_type}", "PLAIN")
	else
		mt.macro(conn, SMFIC_MAIL, "i", qid)
	end
	check(mt.mailfrom(conn, from), "mailfrom")
end

function ag_rcpt(conn, rcpt)
	check(mt.rcptto(conn, rcpt), "rcptto " .. rcpt)
end

-- Headers (a list of {name, value}), end of message. No end of headers and no body: the
-- milter negotiated SMFIP_NOEOH and SMFIP_NOBODY (miltertest refuses to send them), and
-- SMFIP_NR_HDR, so miltertest does not wait for a reply to each header and reports 'c'.
function ag_message(conn, headers)
	for _, h in ipairs(headers) do
		check(mt.header(conn, h[1], h[2]), "header " .. h[1])
		expect(conn, SMFIR_CONTINUE, "header " .. h[1])
	end
	check(mt.eom(conn), "eom")
	expect(conn, SMFIR_CONTINUE, "end of message")
end
