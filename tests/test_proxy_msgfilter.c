/* test_proxy_msgfilter.c: removing our Authentication-Results, building trace headers. */
#include <stdio.h>
#include <string.h>

#include "proxy/msgfilter.h"
#include "tap.h"

struct sink {
	char out[8192];
	size_t len;
	int fail_after; /* emit returns an error after this many lines (-1 never) */
	int lines;
};

static int sink_emit(void *arg, const char *line, size_t len)
{
	struct sink *k = arg;

	if (k->fail_after >= 0 && k->lines >= k->fail_after)
		return 7;
	k->lines++;
	memcpy(k->out + k->len, line, len);
	k->len += len;
	k->out[k->len++] = '|';
	k->out[k->len] = '\0';
	return 0;
}

/* Feed a text with "\n" or "\r\n" line ends, as the session would line by line. */
static const char *run(const char *id, const char *text)
{
	static struct sink k;
	struct msgfilter f;
	const char *p = text;

	memset(&k, 0, sizeof(k));
	k.fail_after = -1;
	msgfilter_init(&f, id);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		msgfilter_line(&f, p, n, sink_emit, &k);
		p += n + (nl ? 1 : 0);
	}
	msgfilter_finish(&f, sink_emit, &k);
	return k.out;
}

int main(void)
{
	const char *id = "smtp.example.ac.uk";
	char buf[2048];
	struct msgfilter_received rv;

	is_str(run(id, "Subject: hi\n\nbody\n"), "Subject: hi||body|", "plain message unchanged");
	is_str(run(id, "Authentication-Results: smtp.example.ac.uk; auth=pass\nSubject: x\n\nb\n"),
	       "Subject: x||b|", "our A-R removed");
	is_str(run(id, "authentication-results: SMTP.EXAMPLE.AC.UK; auth=pass\n\nb\n"), "|b|",
	       "case-insensitive name and id");
	is_str(run(id, "Authentication-Results: mx.other.org; spf=pass\n\nb\n"),
	       "Authentication-Results: mx.other.org; spf=pass||b|", "other authserv-id kept");
	is_str(run(id, "Authentication-Results: smtp.example.ac.uk.evil; a=b\n\n"),
	       "Authentication-Results: smtp.example.ac.uk.evil; a=b||",
	       "longer id with our prefix kept");
	is_str(run(id, "Authentication-Results: smtp.example.ac.uk;\n\tauth=pass\n"
		       "\tsmtp.auth=x\nTo: y\n\nb\n"),
	       "To: y||b|", "folded continuation lines removed too");
	is_str(run(id, "Authentication-Results:\n smtp.example.ac.uk; auth=pass\nTo: y\n\n"),
	       "To: y||", "id on the continuation line");
	is_str(run(id, "Authentication-Results:\n mx.other.org; auth=pass\nTo: y\n\n"),
	       "Authentication-Results:| mx.other.org; auth=pass|To: y||",
	       "other id on continuation kept with its fold");
	is_str(run(id, "Authentication-Results: (comment) smtp.example.ac.uk 1; none\n\n"), "|",
	       "comment and version skipped");
	is_str(run(id, "Authentication-Results : smtp.example.ac.uk; none\n\n"), "|",
	       "space before colon");
	is_str(run(id, "Authentication-Results: smtp.example.ac.uk; x\r\nX: 1\r\n\r\nb\r\n"),
	       "X: 1||b|", "CRLF line ends");
	is_str(run(id, "X: 1\n\nAuthentication-Results: smtp.example.ac.uk; x\n"),
	       "X: 1||Authentication-Results: smtp.example.ac.uk; x|",
	       "in the body: untouched");
	is_str(run(id, "Authentication-Results-Extra: smtp.example.ac.uk; x\n\n"),
	       "Authentication-Results-Extra: smtp.example.ac.uk; x||", "other header name kept");
	is_str(run(id, "X: 1\nAuthentication-Results: smtp.example.ac.uk"), "X: 1|",
	       "header section ending at EOF, header without body");
	is_str(run(id, "Authentication-Results:"), "", "A-R without any id removed");
	is_str(run(id, "Subject: a\n b\nAuthentication-Results: smtp.example.ac.uk; x\n c\nZ: 1\n"),
	       "Subject: a| b|Z: 1|", "neighbours' folds kept");
	is_str(run(id, "no header line\nAuthentication-Results: smtp.example.ac.uk; x\n"),
	       "no header line|Authentication-Results: smtp.example.ac.uk; x|",
	       "a non-header line ends the header section");

	/* RFC 8601 2.2 forms that used to get through (issue 11) */
	is_str(run(id, "Authentication-Results: \"smtp.example.ac.uk\"; auth=pass\nTo: y\n\n"),
	       "To: y||", "quoted authserv-id removed");
	is_str(run(id, "Authentication-Results: (c) \"SMTP.example.ac.uk\" 1; auth=pass\n\n"), "|",
	       "quoted id with comment and version removed");
	is_str(run(id, "Authentication-Results: smtp.example.ac.uk(c); auth=pass\n\n"), "|",
	       "comment glued to the id removed");
	is_str(run(id, "Authentication-Results: (unterminated\nTo: y\n\n"), "To: y||",
	       "unterminated comment removed");
	/* A first line that would continue the header we wrote above it */
	{
		struct sink k;
		struct msgfilter f;

		memset(&k, 0, sizeof(k));
		k.fail_after = -1;
		msgfilter_init(&f, id);
		is_int(msgfilter_line(&f, " dkim=pass header.d=paypal.com", 30, sink_emit, &k),
		       MSGFILTER_LEADING_FOLD, "leading space on the first line refused");
		is_int(k.lines, 0, "nothing of it passed on");
		msgfilter_init(&f, id);
		is_int(msgfilter_line(&f, "\tx", 2, sink_emit, &k), MSGFILTER_LEADING_FOLD,
		       "leading tab on the first line refused");
		msgfilter_init(&f, id);
		is_int(msgfilter_line(&f, "X: 1", 4, sink_emit, &k), 0, "ordinary first line");
		is_int(msgfilter_line(&f, " 2", 2, sink_emit, &k), 0,
		       "a fold of the client's own header is fine");
		msgfilter_init(&f, id);
		is_int(msgfilter_line(&f, "", 0, sink_emit, &k), 0, "empty first line (no headers)");
		is_int(msgfilter_line(&f, " body", 5, sink_emit, &k), 0,
		       "leading space in the body is fine");
	}

	is_int(msgfilter_ar_is_ours("Authentication-Results: smtp.example.ac.uk; x", 44, id), 1,
	       "is_ours yes");
	is_int(msgfilter_ar_is_ours("Authentication-Results: smtp.exa", 32, id), -1,
	       "is_ours undecided mid-token");
	is_int(msgfilter_ar_is_ours("Received: smtp.example.ac.uk; x", 31, id), 0,
	       "is_ours: not A-R");
	{
		struct sink k;
		struct msgfilter f;

		memset(&k, 0, sizeof(k));
		k.fail_after = 0;
		msgfilter_init(&f, id);
		is_int(msgfilter_line(&f, "X: 1", 4, sink_emit, &k), 7, "emit error propagates");
	}

	is_str(msgfilter_protocol(true, true, true), "ESMTPSA", "ESMTPSA");
	is_str(msgfilter_protocol(true, true, false), "ESMTPS", "ESMTPS");
	is_str(msgfilter_protocol(true, false, true), "ESMTPA", "ESMTPA");
	is_str(msgfilter_protocol(false, true, true), "SMTP", "HELO: SMTP");

	memset(&rv, 0, sizeof(rv));
	rv.helo = "laptop";
	rv.client_ip = "203.0.113.7";
	rv.hostname = "smtp.example.ac.uk";
	rv.protocol = "ESMTPSA";
	rv.id = "SESSIONID";
	rv.tls_version = "TLSv1.3";
	rv.tls_cipher = "TLS_AES_256_GCM_SHA384";
	rv.auth_user = "jdoe";
	rv.now = 1795428000; /* 2026-11-23 10:00:00 UTC */
	ok(msgfilter_build_received(&rv, buf, sizeof(buf)) > 0, "Received built");
	is_str(buf,
	       "Received: from laptop (unknown [203.0.113.7]) by smtp.example.ac.uk (authgate)\r\n"
	       "\twith ESMTPSA id SESSIONID (TLSv1.3 TLS_AES_256_GCM_SHA384)\r\n"
	       "\t(Authenticated sender: jdoe); Mon, 23 Nov 2026 10:00:00 +0000\r\n",
	       "Received as in INTERFACE.md");
	rv.helo = "evil (x)\r\nBcc: a";
	rv.client_ip = "2001:db8::7";
	rv.client_ipv6 = true;
	msgfilter_build_received(&rv, buf, sizeof(buf));
	ok(strstr(buf, "from evil??x???Bcc:?a (unknown [IPv6:2001:db8::7])") != NULL,
	   "client HELO sanitised, IPv6 tagged");
	ok(msgfilter_build_received(&rv, buf, 40) < 0, "too small buffer refused");
	msgfilter_build_auth_results(id, "jdoe", buf, sizeof(buf));
	is_str(buf, "Authentication-Results: smtp.example.ac.uk; auth=pass smtp.auth=jdoe\r\n",
	       "Authentication-Results header");
	return tap_done();
}
