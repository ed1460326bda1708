/* smtp_parse.c: SMTP line framing, command and reply parsing (pure, no I/O). */
#include "smtp_parse.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
	enum smtp_verb verb;
	const char *name;
} smtp_verbs[] = {
	{ SMTP_CMD_HELO, "HELO" },	  { SMTP_CMD_EHLO, "EHLO" }, { SMTP_CMD_STARTTLS, "STARTTLS" },
	{ SMTP_CMD_AUTH, "AUTH" },	  { SMTP_CMD_MAIL, "MAIL" }, { SMTP_CMD_RCPT, "RCPT" },
	{ SMTP_CMD_DATA, "DATA" },	  { SMTP_CMD_RSET, "RSET" }, { SMTP_CMD_NOOP, "NOOP" },
	{ SMTP_CMD_QUIT, "QUIT" },	  { SMTP_CMD_HELP, "HELP" }, { SMTP_CMD_VRFY, "VRFY" },
	{ SMTP_CMD_EXPN, "EXPN" },
};

enum smtp_line_status smtp_line_find(const char *buf, size_t len, size_t limit, size_t *linelen,
				     size_t *textlen)
{
	const char *lf;
	size_t text;

	*linelen = 0;
	*textlen = 0;
	/* Only the first limit bytes matter: a line longer than that is too long anyway. */
	lf = memchr(buf, '\n', len < limit ? len : limit);
	if (lf == NULL) {
		if (len >= limit)
			return SMTP_LINE_TOO_LONG;
		return SMTP_LINE_NEED_MORE;
	}
	*linelen = (size_t)(lf - buf) + 1;
	text = (size_t)(lf - buf);
	if (text > 0 && buf[text - 1] == '\r')
		text--;
	*textlen = text;
	/* A bare LF still counts as the two-octet CRLF the limit is written for. */
	if (text + 2 > limit)
		return SMTP_LINE_TOO_LONG;
	return SMTP_LINE_OK;
}

enum smtp_text_fault smtp_text_check(const char *text, size_t len, bool crlf)
{
	if (!crlf)
		return SMTP_TEXT_BARE_LF;
	if (memchr(text, '\r', len) != NULL)
		return SMTP_TEXT_BARE_CR;
	if (memchr(text, '\0', len) != NULL)
		return SMTP_TEXT_NUL;
	return SMTP_TEXT_OK;
}

bool smtp_data_end(const char *text, size_t len, bool crlf, bool prev_crlf)
{
	return crlf && prev_crlf && len == 1 && text[0] == '.';
}

size_t smtp_command_limit(const char *buf, size_t avail)
{
	if (avail >= 5 && strncasecmp(buf, "AUTH", 4) == 0 && (buf[4] == ' ' || buf[4] == '\t'))
		return SMTP_MAX_SASL_LINE;
	return SMTP_MAX_COMMAND_LINE;
}

void smtp_command_parse(const char *line, size_t len, struct smtp_command *cmd)
{
	size_t i = 0, vstart, vend;

	memset(cmd, 0, sizeof(*cmd));
	cmd->args = "";
	/* Leading spaces are tolerated, as Postfix does. */
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	vstart = i;
	while (i < len && line[i] != ' ' && line[i] != '\t')
		i++;
	vend = i;
	cmd->verb_text = line + vstart;
	cmd->verb_len = vend - vstart;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	cmd->args = line + i;
	cmd->args_len = len - i;
	while (cmd->args_len > 0 &&
	       (cmd->args[cmd->args_len - 1] == ' ' || cmd->args[cmd->args_len - 1] == '\t'))
		cmd->args_len--;

	cmd->verb = SMTP_CMD_UNKNOWN;
	for (size_t k = 0; k < sizeof(smtp_verbs) / sizeof(smtp_verbs[0]); k++) {
		if (strlen(smtp_verbs[k].name) == cmd->verb_len &&
		    strncasecmp(smtp_verbs[k].name, cmd->verb_text, cmd->verb_len) == 0) {
			cmd->verb = smtp_verbs[k].verb;
			break;
		}
	}
}

const char *smtp_verb_name(enum smtp_verb v)
{
	for (size_t k = 0; k < sizeof(smtp_verbs) / sizeof(smtp_verbs[0]); k++)
		if (smtp_verbs[k].verb == v)
			return smtp_verbs[k].name;
	return "UNKNOWN";
}

const char *smtp_args_after(const char *args, size_t len, const char *prefix, size_t *restlen)
{
	size_t plen = strlen(prefix);

	if (len < plen || strncasecmp(args, prefix, plen) != 0)
		return NULL;
	*restlen = len - plen;
	return args + plen;
}

int smtp_reply_parse(const char *line, size_t len, int *code, bool *last)
{
	int c = 0;

	if (len < 3)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -1;
		c = c * 10 + (line[i] - '0');
	}
	if (c < 200 || c > 599)
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	*code = c;
	*last = (len == 3 || line[3] == ' ');
	return 0;
}

int smtp_vformat_line(char *buf, size_t len, bool cut, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, len - 2, fmt, ap);

	if (n < 0)
		return -1;
	if ((size_t)n > len - 3) {
		if (!cut)
			return -1;
		n = (int)(len - 3);
	}
	buf[n++] = '\r';
	buf[n++] = '\n';
	return n;
}
