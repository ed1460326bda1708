/* test_proxy_parse.c: SMTP line framing limits, the verb table, reply parsing. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/smtp_parse.h"
#include "tap.h"

static char *repeat(char c, size_t n, const char *tail)
{
	size_t t = strlen(tail);
	char *s = malloc(n + t + 1);

	memset(s, c, n);
	memcpy(s + n, tail, t + 1);
	return s;
}

static int format_line(char *buf, size_t len, bool cut, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = smtp_vformat_line(buf, len, cut, fmt, ap);
	va_end(ap);
	return n;
}

int main(void)
{
	size_t ll, tl;
	struct smtp_command c;
	int code;
	bool last;
	char *s;

	/* Message text: CR and LF only as CRLF (SMTP smuggling) */
	is_int(smtp_text_check("text", 4, true), SMTP_TEXT_OK, "CRLF text line ok");
	is_int(smtp_text_check("text", 4, false), SMTP_TEXT_BARE_LF, "bare LF refused");
	is_int(smtp_text_check("te\rxt", 5, true), SMTP_TEXT_BARE_CR, "bare CR inside refused");
	is_int(smtp_text_check(".\r", 2, true), SMTP_TEXT_BARE_CR, "\".\\r\\r\\n\": bare CR");
	is_int(smtp_text_check("", 0, true), SMTP_TEXT_OK, "empty line ok");
	is_int(smtp_text_check("\0.", 2, true), SMTP_TEXT_NUL, "NUL then dot refused");
	is_int(smtp_text_check("a\0b", 3, true), SMTP_TEXT_NUL, "NUL inside refused");
	ok(smtp_data_end(".", 1, true, true), "CRLF . CRLF ends DATA");
	ok(!smtp_data_end(".", 1, false, true), "CRLF . LF does not end DATA");
	ok(!smtp_data_end(".", 1, true, false), "LF . CRLF does not end DATA");
	ok(!smtp_data_end(".", 1, false, false), "LF . LF does not end DATA");
	ok(!smtp_data_end("..", 2, true, true), "a stuffed dot is text");
	ok(!smtp_data_end(". ", 2, true, true), "dot and space is text");
	{
		/* "\r\n.\r\r\n": the line is ".\r" after one CR is taken off */
		size_t l2, t2;

		is_int(smtp_line_find(".\r\r\n", 4, SMTP_MAX_TEXT_LINE, &l2, &t2), SMTP_LINE_OK,
		       "dot CR CR LF framed");
		ok(!smtp_data_end(".\r", t2, l2 == t2 + 2, true), "dot CR CR LF does not end DATA");
	}

	/* AUTH lines carry a SASL initial response: 12288 octets, not 512 */
	is_int(smtp_command_limit("AUTH PLAIN AAAA", 15), SMTP_MAX_SASL_LINE, "AUTH line: SASL limit");
	is_int(smtp_command_limit("auth\tplain", 10), SMTP_MAX_SASL_LINE, "auth, any case");
	is_int(smtp_command_limit("AUTHX", 5), SMTP_MAX_COMMAND_LINE, "AUTHX is not AUTH");
	is_int(smtp_command_limit("MAIL FROM:<a@b>", 15), SMTP_MAX_COMMAND_LINE,
	       "other commands: 512");
	is_int(smtp_command_limit("AUT", 3), SMTP_MAX_COMMAND_LINE, "too short to tell: 512");

	/* Framing */
	is_int(smtp_line_find("NOOP\r\n", 6, SMTP_MAX_COMMAND_LINE, &ll, &tl), SMTP_LINE_OK,
	       "CRLF line ok");
	is_int(ll, 6, "CRLF line consumes 6");
	is_int(tl, 4, "CRLF line text 4");
	is_int(smtp_line_find("NOOP\n", 5, SMTP_MAX_COMMAND_LINE, &ll, &tl), SMTP_LINE_OK,
	       "bare LF line ok");
	is_int(tl, 4, "bare LF text 4");
	is_int(smtp_line_find("NOO", 3, SMTP_MAX_COMMAND_LINE, &ll, &tl), SMTP_LINE_NEED_MORE,
	       "partial line needs more");
	is_int(smtp_line_find("A\r\nB\r\n", 6, SMTP_MAX_COMMAND_LINE, &ll, &tl), SMTP_LINE_OK,
	       "first of two lines");
	is_int(ll, 3, "only the first line consumed");

	s = repeat('a', 510, "\r\n"); /* exactly 512 with CRLF */
	is_int(smtp_line_find(s, 512, SMTP_MAX_COMMAND_LINE, &ll, &tl), SMTP_LINE_OK,
	       "512 octets incl CRLF accepted");
	free(s);
	s = repeat('a', 511, "\r\n"); /* 513 */
	is_int(smtp_line_find(s, 513, SMTP_MAX_COMMAND_LINE, &ll, &tl), SMTP_LINE_TOO_LONG,
	       "513 octets refused");
	is_int(ll, 0, "no complete line within the limit: discard mode");
	free(s);
	s = repeat('a', 511, "\n"); /* 512 bytes with bare LF counts as 513 */
	is_int(smtp_line_find(s, 512, SMTP_MAX_COMMAND_LINE, &ll, &tl), SMTP_LINE_TOO_LONG,
	       "511 chars + bare LF over the limit");
	is_int(ll, 512, "complete overlong line is consumed whole");
	free(s);
	s = repeat('a', 600, "");
	is_int(smtp_line_find(s, 600, SMTP_MAX_COMMAND_LINE, &ll, &tl), SMTP_LINE_TOO_LONG,
	       "600 bytes without LF too long");
	free(s);

	s = repeat('Q', 12286, "\r\n");
	is_int(smtp_line_find(s, 12288, SMTP_MAX_SASL_LINE, &ll, &tl), SMTP_LINE_OK,
	       "SASL 12288 octets accepted");
	free(s);
	s = repeat('Q', 12287, "\r\n");
	is_int(smtp_line_find(s, 12289, SMTP_MAX_SASL_LINE, &ll, &tl), SMTP_LINE_TOO_LONG,
	       "SASL 12289 octets refused");
	free(s);
	s = repeat('x', 998, "\r\n");
	is_int(smtp_line_find(s, 1000, SMTP_MAX_TEXT_LINE, &ll, &tl), SMTP_LINE_OK,
	       "text line 1000 accepted");
	free(s);
	s = repeat('x', 999, "\r\n");
	is_int(smtp_line_find(s, 1001, SMTP_MAX_TEXT_LINE, &ll, &tl), SMTP_LINE_TOO_LONG,
	       "text line 1001 refused");
	free(s);

	/* Verbs */
	smtp_command_parse("ehlo client.example", 19, &c);
	is_int(c.verb, SMTP_CMD_EHLO, "ehlo lower-case");
	is_int(c.args_len, 14, "ehlo args length");
	ok(strncmp(c.args, "client.example", 14) == 0, "ehlo args");
	smtp_command_parse("MAIL FROM:<a@b>  ", 17, &c);
	is_int(c.verb, SMTP_CMD_MAIL, "MAIL");
	is_int(c.args_len, 10, "trailing spaces trimmed");
	smtp_command_parse("StartTLS", 8, &c);
	is_int(c.verb, SMTP_CMD_STARTTLS, "StartTLS mixed case");
	is_int(c.args_len, 0, "no args");
	smtp_command_parse("MAILX FROM:<a@b>", 16, &c);
	is_int(c.verb, SMTP_CMD_UNKNOWN, "MAILX unknown");
	smtp_command_parse("MAI", 3, &c);
	is_int(c.verb, SMTP_CMD_UNKNOWN, "prefix of a verb unknown");
	smtp_command_parse("", 0, &c);
	is_int(c.verb, SMTP_CMD_UNKNOWN, "empty line unknown");
	smtp_command_parse("VRFY root", 9, &c);
	is_int(c.verb, SMTP_CMD_VRFY, "VRFY");
	smtp_command_parse("expn list", 9, &c);
	is_int(c.verb, SMTP_CMD_EXPN, "EXPN");
	is_str(smtp_verb_name(SMTP_CMD_RCPT), "RCPT", "verb name");
	{
		size_t rl;
		const char *r = smtp_args_after("from:<x@y>", 10, "FROM:", &rl);

		ok(r != NULL && rl == 5 && strncmp(r, "<x@y>", 5) == 0, "FROM: prefix case-insensitive");
		ok(smtp_args_after("TO:<x@y>", 8, "FROM:", &rl) == NULL, "wrong prefix refused");
	}

	/* Replies */
	ok(smtp_reply_parse("250-PIPELINING", 14, &code, &last) == 0 && code == 250 && !last,
	   "continuation line");
	ok(smtp_reply_parse("250 OK", 6, &code, &last) == 0 && code == 250 && last, "last line");
	ok(smtp_reply_parse("354", 3, &code, &last) == 0 && code == 354 && last, "bare code");
	ok(smtp_reply_parse("25O ok", 6, &code, &last) < 0, "non-digit refused");
	ok(smtp_reply_parse("250xok", 6, &code, &last) < 0, "bad separator refused");
	ok(smtp_reply_parse("150 x", 5, &code, &last) < 0, "code below 200 refused");

	/* Lines we write: CRLF added; a command too long is refused, a reply is cut */
	{
		char buf[16];

		is_int(format_line(buf, sizeof(buf), false, "RCPT %s", "TO:<abc>"), 15,
		       "a line that just fits, CRLF included");
		ok(memcmp(buf, "RCPT TO:<abc>\r\n", 15) == 0, "the line and its CRLF");
		is_int(format_line(buf, sizeof(buf), false, "RCPT %s", "TO:<abcd>"), -1,
		       "a command one octet too long is refused, not cut");
		is_int(format_line(buf, sizeof(buf), true, "550 %s", "too long a reply"), 15,
		       "a reply too long is cut to fit");
		ok(memcmp(buf, "550 too long \r\n", 15) == 0, "cut reply ends in CRLF");
	}
	return tap_done();
}
