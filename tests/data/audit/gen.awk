# gen.awk: a synthetic audit log (proxy + milter records) and the answers authgate-audit must give.
# POSIX awk (mawk is enough). Usage:
#   awk -v days=3 -v per_day=500 -v seed=7 -v bad=1 [-v ramp=1] -v out=LOG -v answers=PREFIX -f gen.awk
# Writes LOG, and PREFIX.trend.csv, PREFIX.unauth.csv and PREFIX.byuser.csv, PREFIX.fails.csv
# (failed logins per user; these three unsorted), PREFIX.counts
# (records, bad lines, messages). First day 2026-11-01 UTC; the milter switches to the mandatory
# phase at the start of day int(days / 2). Every answer is computed here, independently of the C.

function rnd(n) { # Park-Miller: exact in doubles
	state = (state * 16807) % 2147483647
	return state % n
}

function civil(z,    era, doe, yoe, y, doy, mp, d, m) { # days since epoch -> "YYYY-MM-DD"
	z += 719468
	era = int((z >= 0 ? z : z - 146096) / 146097)
	doe = z - era * 146097
	yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
	y = yoe + era * 400
	doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
	mp = int((5 * doy + 2) / 153)
	d = doy - int((153 * mp + 2) / 5) + 1
	m = mp < 10 ? mp + 3 : mp - 9
	if (m <= 2) y++
	return sprintf("%04d-%02d-%02d", y, m, d)
}

function iso(t,    d, rem) { # Unix ms -> audit_format_time's form
	d = int(t / 86400000)
	rem = t - d * 86400000
	return sprintf("%sT%02d:%02d:%02d.%03dZ", civil(d), int(rem / 3600000),
		int(rem / 60000) % 60, int(rem / 1000) % 60, rem % 1000)
}

function emit(line) {
	print line > out
	records++
}

function rcpt_list(n, base,    i, s) {
	s = ""
	for (i = 0; i < n; i++)
		s = s (i ? "," : "") "\"" base (rnd(9) + 1) "@example.org\""
	return s
}

# Remember up to 3 distinct recipients (case-folded) for an unauth group, like unauth.c.
function sample(key, list,    n, i, parts, r, k, dup) {
	n = split(list, parts, ",")
	for (i = 1; i <= n; i++) {
		r = parts[i]
		gsub(/"/, "", r)
		if (nsamp[key] >= 3) return
		dup = 0
		for (k = 1; k <= nsamp[key]; k++)
			if (tolower(samp[key, k]) == tolower(r)) dup = 1
		if (!dup) {
			nsamp[key]++
			samp[key, nsamp[key]] = r
		}
	}
}

function msg_auth(t, day, phase,    u, ip, rc, qid, p, m, tls, nr) {
	u = "user" (rnd(40) + 1)
	ip = "192.0.2." (rnd(200) + 1)
	tls = rnd(4) ? "TLSv1.3" : "TLSv1.2"
	nr = rnd(3) + 1
	rc = rcpt_list(nr, "friend")
	qid = sprintf("Q%X", ++qseq)
	p = "{\"ts\":\"" iso(t) "\",\"component\":\"proxy\",\"session\":\"P" qseq "\",\"client_ip\":\"" ip \
	    "\",\"auth_user\":\"" u "\",\"tls\":\"" tls "\",\"event\":\"message\",\"mail_from\":\"" u \
	    "@example.ac.uk\",\"rcpts\":[" rc "],\"size\":" (1000 + rnd(50000)) \
	    ",\"action\":\"accept\",\"backend\":\"127.0.0.1:10025\",\"backend_reply\":\"250 2.0.0 Ok: queued as " qid "\"}"
	m = "{\"ts\":\"" iso(t - 40) "\",\"component\":\"milter\",\"session\":\"M" qseq "\",\"client_ip\":\"" ip \
	    "\",\"auth_user\":\"" u "\",\"event\":\"message\",\"mail_from\":\"" u "@example.ac.uk\",\"rcpts\":[" rc \
	    "],\"action\":\"accept\",\"queue_id\":\"" qid "\",\"phase\":\"" phase "\",\"route\":\"default\"}"
	# The milter usually logs first (Postfix runs it before answering the proxy); not always.
	if (rnd(5)) { emit(m); emit(p) } else { emit(p); emit(m) }
	total[day]++; auth[day]++; byuser[u]++
}

function msg_milter_auth(t, day, phase,    u) { # submission straight to Postfix, SASL there
	u = "user" (rnd(40) + 1)
	emit("{\"ts\":\"" iso(t) "\",\"component\":\"milter\",\"session\":\"M" (++qseq) "\",\"client_ip\":\"192.0.2." \
	     (rnd(200) + 1) "\",\"auth_user\":\"" u "\",\"event\":\"message\",\"mail_from\":\"" u \
	     "@example.ac.uk\",\"rcpts\":[" rcpt_list(1, "x") "],\"action\":\"accept\",\"queue_id\":\"" \
	     sprintf("Q%X", qseq) "\",\"phase\":\"" phase "\",\"route\":\"default\"}")
	total[day]++; auth[day]++; byuser[u]++
}

function msg_unauth(t, day, phase, relay,    ip, net, s, key, rc, action, nr) {
	if (rnd(4) == 0) {
		net = "2001:db8:" (rnd(9) + 1) "::"
		ip = net (rnd(900) + 1)
		net = net "/64"
	} else {
		net = (rnd(2) ? "198.51.100" : "203.0." (rnd(3) + 110))
		ip = net "." (rnd(254) + 1)
		net = net ".0/24"
	}
	s = rnd(12) == 0 ? "" : "s" (rnd(25) + 1) "@spam" (rnd(5) + 1) ".example"
	if (s != "" && rnd(10) == 0) s = toupper(s) # the same sender, shouted: one group
	nr = rnd(3) + 1
	rc = rcpt_list(nr, relay ? "victim" : "staff")
	action = !relay ? "accept" : (phase == "mandatory" ? "reject" : "tag")
	emit("{\"ts\":\"" iso(t) "\",\"component\":\"milter\",\"session\":\"M" (++qseq) "\",\"client_ip\":\"" ip \
	     "\",\"event\":\"message\",\"mail_from\":\"" s "\",\"rcpts\":[" rc "],\"action\":\"" action \
	     "\",\"queue_id\":\"" sprintf("Q%X", qseq) "\",\"phase\":\"" phase "\",\"route\":\"default\"" \
	     (relay ? ",\"reason\":\"unauthenticated relay\"" : "") "}")
	total[day]++; unauth[day]++; byuser[""]++
	if (action == "reject") rejected[day]++
	if (action == "tag") tagged[day]++
	if (!((day, tolower(s)) in seen)) { seen[day, tolower(s)] = 1; senders[day]++ }
	if (relay) {
		key = net "," (s == "" ? "<>" : tolower(s))
		if (!(key in ucount)) ufirst[key] = t
		ucount[key]++
		ulast[key] = t
		sample(key, rc)
	}
}

function noise(t,    ip, u) {
	ip = "203.0.113." (rnd(50) + 1)
	u = "guess" rnd(5)
	if (rnd(2)) {
		emit("{\"ts\":\"" iso(t) "\",\"component\":\"proxy\",\"session\":\"C" (++qseq) "\",\"client_ip\":\"" ip \
		     "\",\"event\":\"connect\",\"helo\":\"host" rnd(9) "\"}")
		return
	}
	# A failed login, with a key a future version might add: readers must skip it.
	emit("{\"ts\":\"" iso(t) "\",\"component\":\"proxy\",\"session\":\"C" (++qseq) "\",\"client_ip\":\"" ip \
	     "\",\"auth_user\":\"" u "\",\"tls\":\"TLSv1.3\",\"event\":\"auth\",\"action\":\"reject\"," \
	     "\"reason\":\"authentication failed\",\"x_future\":{\"nested\":[1,{\"a\":null}]}}")
	fails[u]++
}

function bad_line(t, kind) {
	if (kind == 0) # a writer cut off mid-record
		print "{\"ts\":\"" iso(t) "\",\"component\":\"milter\",\"event\":\"mess" > out
	else if (kind == 1) # raw Latin-1 in a string: not UTF-8
		print "{\"ts\":\"" iso(t) "\",\"component\":\"proxy\",\"event\":\"auth\",\"auth_user\":\"j\351r\364me\"}" > out
	else if (kind == 2)
		print "" > out
	else # valid JSON, not a record
		print "[\"" iso(t) "\",\"proxy\"]" > out
	nbad++
}

BEGIN {
	if (days == "") days = 3
	if (per_day == "") per_day = 500
	if (seed == "") seed = 1
	state = seed
	first = 20758 # 2026-11-01
	switch_day = int(days / 2)
	for (d = 0; d < days; d++) {
		day = first + d
		phase = d >= switch_day ? "mandatory" : "voluntary"
		for (k = 0; k < per_day; k++) {
			t = day * 86400000 + int(k * 86400 / per_day) * 1000 + (k * 7) % 900 + 50
			# ramp: the share of logins grows day by day, as it should during a migration.
			shift = ramp ? int(30 * d / (days > 1 ? days - 1 : 1)) - 15 : 0
			r = rnd(100)
			if (r < 55 + shift) msg_auth(t, day, phase)
			else if (r < 60 + shift) msg_milter_auth(t, day, phase)
			else if (r < 80 + shift / 2) msg_unauth(t, day, phase, 1)
			else if (r < 90) msg_unauth(t, day, phase, 0)
			else noise(t)
			if (bad && rnd(997) == 0) bad_line(t, rnd(4))
		}
	}
	msgs = 0
	print "day,messages,authenticated,auth_pct,unauthenticated,rejected,tagged,unauth_senders\r" > (answers ".trend.csv")
	for (d = 0; d < days; d++) {
		day = first + d
		msgs += total[day]
		printf "%s,%d,%d,%s,%d,%d,%d,%d\r\n", civil(day), total[day], auth[day],
			total[day] ? sprintf("%.1f", 100 * auth[day] / total[day]) : "",
			unauth[day], rejected[day], tagged[day], senders[day] > (answers ".trend.csv")
	}
	for (key in ucount) {
		s = ""
		for (k = 1; k <= nsamp[key]; k++) s = s (k > 1 ? "; " : "") samp[key, k]
		printf "%s,%d,%s,%s,%s\r\n", key, ucount[key], iso(ufirst[key]), iso(ulast[key]), s > (answers ".unauth.csv")
	}
	for (u in byuser) print u "," byuser[u] > (answers ".byuser.csv")
	for (u in fails) print u "," fails[u] > (answers ".fails.csv")
	print records, nbad + 0, msgs > (answers ".counts")
}
