/* test_audit_output.c: text, CSV (RFC 4180) and JSON tables; HTML escaping; chart axis steps. */
#include <stdlib.h>
#include <string.h>

#include "audit/chart.h"
#include "audit/html_page.h"
#include "audit/output.h"
#include "tap.h"

static const struct out_col cols[] = {
    {"who", COL_STR}, {"n", COL_INT}, {"pct", COL_PCT}, {"when", COL_TIME}, {"rcpts", COL_LIST},
};

static const char *const three[] = {"a@example.org", "b@example.org", "c,d@example.org"};

/* Render two rows in fmt; returns a malloc'd string. */
static char *render(enum out_format fmt, const char *who, bool null_pct)
{
	struct out_summary s = {0};
	struct out_val v[5];
	struct out *o;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	o = out_new(f, fmt);
	out_begin(o, "test", cols, 5);
	v[0] = out_str(who);
	v[1] = out_int(42);
	v[2] = null_pct ? out_pct(0, 0) : out_pct(2, 3);
	v[3] = out_int(INT64_C(1795428000123));
	v[4] = out_list(three, 3);
	out_row(o, v);
	v[0] = out_str(NULL);
	v[1] = out_int(7);
	v[4] = out_list(three, 1);
	out_row(o, v);
	s.rows = 2;
	s.records = 10;
	s.files = 1;
	s.notes[s.nnotes++] = "a \"note\"";
	out_end(o, &s);
	out_free(o);
	fclose(f);
	return buf;
}

static void test_csv(void)
{
	char *out = render(OUT_CSV, "say \"hi\", then", false);

	ok(out != NULL && strncmp(out, "who,n,pct,when,rcpts\r\n", 22) == 0, "CSV header, CRLF");
	ok(out && strstr(out, "\"say \"\"hi\"\", then\",42,66.7,2026-11-23T10:00:00.123Z,") != NULL,
	   "quotes doubled, field with comma quoted, pct one decimal, ISO time");
	ok(out && strstr(out, ",\"a@example.org; b@example.org; c,d@example.org\"\r\n") != NULL,
	   "list joined with '; ' and quoted when it holds a comma");
	ok(out && strstr(out, "\r\n,7,66.7,") != NULL, "null is an empty field");
	ok(out && strstr(out, "note") == NULL, "CSV has no footer");
	free(out);
	out = render(OUT_CSV, "=cmd|' /C calc'!A0", false);
	ok(out && strstr(out, "\r\n\"'=cmd|' /C calc'!A0\",42") != NULL,
	   "formula-looking field neutralised with a quote");
	free(out);
	out = render(OUT_CSV, "-2+3", true);
	ok(out && strstr(out, "\"'-2+3\",42,,") != NULL, "leading minus too; null pct empty");
	free(out);
}

static void test_json(void)
{
	char *out = render(OUT_JSON, "tab\there \x1b[31m \"q\" \\", false);

	ok(out && strncmp(out, "{\"command\":\"test\",\"rows\":[\n{", 28) == 0,
	   "JSON document starts");
	ok(out && strstr(out, "\"who\":\"tab\\there \\u001b[31m \\\"q\\\" \\\\\"") != NULL,
	   "control characters, quotes and backslashes escaped");
	ok(out &&
	       strstr(out, "\"n\":42,\"pct\":66.7,\"when\":\"2026-11-23T10:00:00.123Z\"") != NULL,
	   "numbers as numbers, time as ISO string");
	ok(out &&
	       strstr(out, "\"rcpts\":[\"a@example.org\",\"b@example.org\",\"c,d@example.org\"]") !=
		   NULL,
	   "list as an array");
	ok(out && strstr(out, "{\"who\":null,\"n\":7") != NULL, "null");
	ok(out && strstr(out, "\"summary\":{\"rows\":2,\"records\":10,\"files\":1,\"bad\":0,"
			      "\"read_errors\":0,\"notes\":[\"a \\\"note\\\"\"]}}\n") != NULL,
	   "summary with escaped notes");
	free(out);
}

static void test_text(void)
{
	char *out = render(OUT_TEXT, "\xc3\xa9t\xc3\xa9\x1b[2J\xc2\x85!", false);
	const char *row2;

	ok(out && strncmp(out, "who         n   pct  when                 rcpts\n", 48) == 0,
	   "header padded to the widest cell (UTF-8 counted as characters)");
	ok(out && strstr(out, "\n\xc3\xa9t\xc3\xa9?[2J?!  42  66.7  2026-11-23 10:00:00  "
			      "a@example.org +2\n") != NULL,
	   "ESC and C1 controls replaced, list shortened to first +N");
	row2 = out ? strstr(out, "\n-           7  66.7  ") : NULL;
	ok(row2 != NULL, "null as '-', numbers right-aligned");
	ok(out &&
	       strstr(out, "\n2 rows from 10 records in 1 file; 0 bad lines\nnote: a \"note\"\n") !=
		   NULL,
	   "footer and notes");
	free(out);
}

static void test_html_bits(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	html_escape(f, "<a href=\"x\">'&\x01");
	fclose(f);
	is_str(buf, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;\xef\xbf\xbd", "HTML escaping");
	free(buf);
	is_int(chart_nice_step(0, 5), 1, "axis step for an empty chart");
	is_int(chart_nice_step(7, 5), 2, "7 in 5 ticks: step 2");
	is_int(chart_nice_step(13, 5), 5, "13 in 5 ticks: step 5");
	is_int(chart_nice_step(600, 5), 200, "600 in 5 ticks: step 200");
	is_int(chart_nice_step(4100, 5), 1000, "4100 in 5 ticks: step 1000");
}

int main(void)
{
	test_csv();
	test_json();
	test_text();
	test_html_bits();
	return tap_done();
}
