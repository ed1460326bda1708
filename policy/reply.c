/* reply.c: the one table of SMTP replies authgate gives (INTERFACE.md). */
#include "reply.h"

#include <stdio.h>

#include "config.h"

static const struct ag_reply reply_table[AG_REPLY_COUNT] = {
	[AG_REPLY_NONE] = { 250, "2.0.0", "Ok", false },
	[AG_REPLY_AUTH_ENCRYPTION_REQUIRED] = { 538, "5.7.11",
		"Encryption required for requested authentication mechanism", false },
	[AG_REPLY_AUTH_REQUIRED] = { 530, "5.7.0", "Authentication required", true },
	[AG_REPLY_AUTH_INVALID] = { 535, "5.7.8", "Authentication credentials invalid", false },
	[AG_REPLY_AUTH_TEMPFAIL] = { 454, "4.7.0", "Temporary authentication failure", false },
	[AG_REPLY_AUTH_TOO_MANY] = { 421, "4.7.0",
		"Too many failed authentication attempts, closing connection", false },
	[AG_REPLY_AUTH_UNKNOWN_MECH] = { 504, "5.5.4", "Unrecognized authentication type", false },
	[AG_REPLY_AUTH_BAD_BASE64] = { 501, "5.5.2", "Cannot decode response", false },
	[AG_REPLY_AUTH_LINE_TOO_LONG] = { 500, "5.5.6", "Authentication exchange line is too long",
		false },
	[AG_REPLY_AUTH_CANCELLED] = { 501, "5.0.0", "Authentication cancelled", false },
	[AG_REPLY_AUTH_ALREADY] = { 503, "5.5.1", "Already authenticated", false },
	[AG_REPLY_AUTH_OK] = { 235, "2.7.0", "Authentication successful", false },
	[AG_REPLY_SENDER_NOT_OWNED] = { 553, "5.7.1", "Sender address rejected: not owned by user",
		false },
	[AG_REPLY_NO_BACKEND] = { 451, "4.4.1",
		"Mail system temporarily unavailable, try again later", false },
	[AG_REPLY_RELAY_AUTH_REQUIRED] = { 530, "5.7.0", "Authentication required to relay", true },
	[AG_REPLY_LIST_AUTH_ONLY] = { 550, "5.7.1", "This list accepts only authenticated mail",
		true },
	[AG_REPLY_LINE_TOO_LONG] = { 500, "5.5.2", "Line too long", false },
	[AG_REPLY_MESSAGE_TOO_BIG] = { 552, "5.3.4", "Message size exceeds fixed limit", false },
	[AG_REPLY_BAD_ADDRESS] = { 501, "5.1.7", "Bad sender address syntax", false },
	[AG_REPLY_BAD_RCPT_ADDRESS] = { 501, "5.1.3", "Bad recipient address syntax", false },
	/* RFC 5321 2.3.8; Sendmail answers 5.6.0 too. Nothing of the message is relayed. */
	[AG_REPLY_BARE_NEWLINE] = { 554, "5.6.0",
		"Bare CR or LF, or NUL, in message text: lines must end in CRLF", false },
	[AG_REPLY_LEADING_FOLD] = { 554, "5.6.0",
		"Message starts with a header continuation line", false },
	/* Relaying without the login would make the mail look unauthenticated (or local). */
	[AG_REPLY_XCLIENT_UNAVAILABLE] = { 451, "4.7.0",
		"Cannot pass on the authenticated identity, try again later", false },
	/* RFC 6531 3.5: a UTF-8 address where SMTPUTF8 is not in effect. */
	[AG_REPLY_SMTPUTF8_REQUIRED] = { 553, "5.6.7",
		"Non-ASCII address needs SMTPUTF8, and only where it is offered", false },
};

const struct ag_reply *reply_get(enum ag_reply_id id)
{
	if ((int)id < 0 || id >= AG_REPLY_COUNT)
		id = AG_REPLY_NONE;
	return &reply_table[id];
}

int reply_format_text(const struct ag_config *cfg, enum ag_reply_id id, char *buf, size_t len)
{
	const struct ag_reply *r = reply_get(id);
	int n;

	if (r->with_help && cfg && cfg->help_url && cfg->help_url[0])
		n = snprintf(buf, len, "%s (see %s)", r->text, cfg->help_url);
	else
		n = snprintf(buf, len, "%s", r->text);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

int reply_format(const struct ag_config *cfg, enum ag_reply_id id, char *buf, size_t len)
{
	const struct ag_reply *r = reply_get(id);
	int n, m;

	n = snprintf(buf, len, "%d %s ", r->code, r->enhanced);
	if (n < 0 || (size_t)n >= len)
		return -1;
	m = reply_format_text(cfg, id, buf + n, len - (size_t)n);
	if (m < 0)
		return -1;
	return n + m;
}
