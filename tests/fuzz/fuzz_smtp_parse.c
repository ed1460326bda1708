/*
 * fuzz_smtp_parse.c: SMTP line framing, command splitting and reply parsing on arbitrary bytes.
 * FUZZ_SOURCES: proxy/smtp_parse.c
 */
#include <stdbool.h>

#include "fuzz_util.h"
#include "proxy/smtp_parse.h"

static const size_t limits[] = {SMTP_MAX_COMMAND_LINE, SMTP_MAX_TEXT_LINE, SMTP_MAX_SASL_LINE, 2,
				1};

static void fuzz_command(const char *line, size_t len)
{
	struct smtp_command cmd;
	size_t rest = 0;
	const char *r;

	smtp_command_parse(line, len, &cmd);
	FUZZ_ASSERT(cmd.verb >= SMTP_CMD_UNKNOWN && cmd.verb < SMTP_CMD_COUNT);
	FUZZ_ASSERT(cmd.verb_text >= line && cmd.verb_text + cmd.verb_len <= line + len);
	FUZZ_ASSERT(cmd.args_len == 0 ||
		    (cmd.args >= line && cmd.args + cmd.args_len <= line + len));
	FUZZ_ASSERT(cmd.args_len == 0 || (cmd.args[0] != ' ' && cmd.args[0] != '\t'));
	FUZZ_ASSERT(smtp_verb_name(cmd.verb) != NULL);
	r = smtp_args_after(cmd.args, cmd.args_len, "FROM:", &rest);
	if (r != NULL)
		FUZZ_ASSERT(r + rest == cmd.args + cmd.args_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_memdup(data, size);
	size_t off = 0, i;

	/* Frame the input as a stream of lines with each limit, as the session would. */
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		off = 0;
		while (off < size) {
			size_t linelen = 0, textlen = 0;
			enum smtp_line_status st =
			    smtp_line_find(buf + off, size - off, limits[i], &linelen, &textlen);

			if (st == SMTP_LINE_NEED_MORE) {
				FUZZ_ASSERT(size - off < limits[i]);
				FUZZ_ASSERT(memchr(buf + off, '\n', size - off) == NULL);
				break;
			}
			if (st == SMTP_LINE_OK) {
				FUZZ_ASSERT(linelen > 0 && linelen <= size - off);
				FUZZ_ASSERT(textlen < linelen && textlen + 2 <= limits[i]);
				FUZZ_ASSERT(buf[off + linelen - 1] == '\n');
				FUZZ_ASSERT(memchr(buf + off, '\n', textlen) == NULL);
				fuzz_command(buf + off, textlen);
				{
					/* DATA framing: the end is exactly CRLF "." CRLF, never
					 * with a fault. */
					bool crlf = linelen == textlen + 2;
					enum smtp_text_fault tf =
					    smtp_text_check(buf + off, textlen, crlf);

					FUZZ_ASSERT((tf == SMTP_TEXT_OK) ==
						    (crlf &&
						     memchr(buf + off, '\r', textlen) == NULL &&
						     memchr(buf + off, '\0', textlen) == NULL));
					if (smtp_data_end(buf + off, textlen, crlf, true))
						FUZZ_ASSERT(linelen == 3 &&
							    memcmp(buf + off, ".\r\n", 3) == 0 &&
							    tf == SMTP_TEXT_OK);
					FUZZ_ASSERT(smtp_command_limit(buf + off, linelen) ==
							SMTP_MAX_COMMAND_LINE ||
						    smtp_command_limit(buf + off, linelen) ==
							SMTP_MAX_SASL_LINE);
				}
				{
					int code = 0;
					bool last = false;

					if (smtp_reply_parse(buf + off, textlen, &code, &last) == 0)
						FUZZ_ASSERT(code >= 200 && code <= 599);
				}
				off += linelen;
				continue;
			}
			FUZZ_ASSERT(st == SMTP_LINE_TOO_LONG);
			if (linelen == 0) {
				/* Discard to the next LF, as the caller is told to. */
				const char *lf = memchr(buf + off, '\n', size - off);

				if (lf == NULL)
					break;
				off = (size_t)(lf - buf) + 1;
			} else {
				FUZZ_ASSERT(linelen <= size - off);
				FUZZ_ASSERT(textlen + 2 > limits[i]);
				off += linelen;
			}
		}
	}
	free(buf);
	return 0;
}
