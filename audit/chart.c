/* chart.c: the trend as an inline SVG chart (stacked bars and share line) for the HTML report. */
#include "chart.h"

#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

#define CHART_W 1040
#define CHART_H 360
#define PLOT_X0 68.0
#define PLOT_X1 (CHART_W - 60.0)
#define PLOT_Y0 48.0
#define PLOT_Y1 (CHART_H - 60.0)

#define COLOR_AUTH "#2563eb"
#define COLOR_UNAUTH "#f59e0b"
#define COLOR_SHARE "#0f766e"
#define COLOR_GRID "#e5e7eb"
#define COLOR_TEXT "#4b5563"

long long chart_nice_step(long long max, int ticks)
{
	long long raw, mag = 1;

	if (max <= 0 || ticks <= 0)
		return 1;
	raw = (max + ticks - 1) / ticks;
	while (mag <= raw / 10)
		mag *= 10;
	if (raw <= mag)
		return mag;
	if (raw <= 2 * mag)
		return 2 * mag;
	if (raw <= 5 * mag)
		return 5 * mag;
	return 10 * mag;
}

/* "23 Nov" or "23 Nov 10:00": short enough to sit under a bar. */
static void chart_label(int64_t key, bool hourly, char *buf, size_t len)
{
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	char iso[32];
	int m;

	time_format_bucket(key, hourly, iso, sizeof(iso));
	m = (iso[5] - '0') * 10 + (iso[6] - '0');
	if (m < 1 || m > 12)
		m = 1;
	if (hourly)
		snprintf(buf, len, "%.2s %s %.5s", iso + 8, months[m - 1], iso + 11);
	else
		snprintf(buf, len, "%.2s %s", iso + 8, months[m - 1]);
}

static void chart_legend(FILE *f)
{
	fprintf(
	    f,
	    "<g class=\"legend\" font-size=\"13\" fill=\"%s\">"
	    "<rect x=\"%.0f\" y=\"14\" width=\"14\" height=\"14\" rx=\"2\" fill=\"%s\"/>"
	    "<text x=\"%.0f\" y=\"26\">Authenticated</text>"
	    "<rect x=\"%.0f\" y=\"14\" width=\"14\" height=\"14\" rx=\"2\" fill=\"%s\"/>"
	    "<text x=\"%.0f\" y=\"26\">Unauthenticated</text>"
	    "<line x1=\"%.0f\" y1=\"21\" x2=\"%.0f\" y2=\"21\" stroke=\"%s\" stroke-width=\"2.5\"/>"
	    "<text x=\"%.0f\" y=\"26\">Authenticated share (right axis)</text></g>\n",
	    COLOR_TEXT, PLOT_X0, COLOR_AUTH, PLOT_X0 + 20, PLOT_X0 + 140, COLOR_UNAUTH,
	    PLOT_X0 + 160, PLOT_X0 + 300, PLOT_X0 + 324, COLOR_SHARE, PLOT_X0 + 332);
}

static void chart_axes(FILE *f, long long top, long long step, bool hourly)
{
	double plot_h = PLOT_Y1 - PLOT_Y0, y;
	long long v;
	int pct;

	fprintf(f, "<g class=\"axes\" font-size=\"12\" fill=\"%s\">\n", COLOR_TEXT);
	for (v = 0; v <= top; v += step) {
		y = PLOT_Y1 - (double)v / (double)top * plot_h;
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%lld</text>\n",
			PLOT_X0, y, PLOT_X1, y, COLOR_GRID, PLOT_X0 - 8, y + 4, v);
	}
	for (pct = 0; pct <= 100; pct += 25) {
		y = PLOT_Y1 - pct / 100.0 * plot_h;
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">%d%%</text>\n", PLOT_X1 + 8,
			y + 4, COLOR_SHARE, pct);
	}
	fprintf(
	    f,
	    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#9ca3af\"/>\n"
	    "<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\">"
	    "messages per %s</text>\n"
	    "<text transform=\"translate(%d %.1f) rotate(90)\" text-anchor=\"middle\" fill=\"%s\">"
	    "authenticated share</text>\n"
	    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s (UTC)</text>\n</g>\n",
	    PLOT_X0, PLOT_Y1, PLOT_X1, PLOT_Y1, (PLOT_Y0 + PLOT_Y1) / 2, hourly ? "hour" : "day",
	    CHART_W - 12, (PLOT_Y0 + PLOT_Y1) / 2, COLOR_SHARE, (PLOT_X0 + PLOT_X1) / 2,
	    CHART_H - 12, hourly ? "hour" : "day");
}

void chart_write_svg(FILE *f, const struct trend_bucket *b, size_t n, bool hourly)
{
	double plot_w = PLOT_X1 - PLOT_X0, plot_h = PLOT_Y1 - PLOT_Y0;
	double slot, bar_w, cx, y;
	long long max = 0, step, top;
	size_t i, every, max_labels;
	char bucket[32], label[32];
	bool pen_down = false;

	for (i = 0; i < n; i++)
		if (b[i].total > max)
			max = b[i].total;
	step = chart_nice_step(max, 5);
	top = max > 0 ? (max + step - 1) / step * step : step;
	slot = n > 0 ? plot_w / (double)n : plot_w;
	bar_w = slot >= 3 ? slot * 0.72 : slot;
	if (bar_w > 56)
		bar_w = 56; /* a week of data should not look like three slabs */
	max_labels = (size_t)(plot_w / (hourly ? 96 : 56));
	every = n > max_labels ? (n + max_labels - 1) / max_labels : 1;

	fprintf(f,
		"<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
		"role=\"img\" aria-label=\"Messages per %s, authenticated and unauthenticated\" "
		"font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\">\n",
		CHART_W, CHART_H, hourly ? "hour" : "day");
	chart_legend(f);
	chart_axes(f, top, step, hourly);

	fputs("<g class=\"bars\">\n", f);
	for (i = 0; i < n; i++) {
		double x, ha, hu;

		time_format_bucket(b[i].key, hourly, bucket, sizeof(bucket));
		x = PLOT_X0 + (double)i * slot + (slot - bar_w) / 2;
		ha = (double)b[i].auth / (double)top * plot_h;
		hu = (double)b[i].unauth / (double)top * plot_h;
		fprintf(
		    f,
		    "<g class=\"bucket\" data-bucket=\"%s\" data-total=\"%lld\" data-auth=\"%lld\" "
		    "data-unauth=\"%lld\" data-rejected=\"%lld\" data-tagged=\"%lld\">"
		    "<title>%s: %lld messages, %lld authenticated, %lld unauthenticated "
		    "(%lld rejected, %lld tagged)</title>",
		    bucket, (long long)b[i].total, (long long)b[i].auth, (long long)b[i].unauth,
		    (long long)b[i].rejected, (long long)b[i].tagged, bucket, (long long)b[i].total,
		    (long long)b[i].auth, (long long)b[i].unauth, (long long)b[i].rejected,
		    (long long)b[i].tagged);
		if (b[i].auth > 0)
			fprintf(f,
				"<rect class=\"auth\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
				"height=\"%.2f\" fill=\"%s\"/>",
				x, PLOT_Y1 - ha, bar_w, ha, COLOR_AUTH);
		if (b[i].unauth > 0)
			fprintf(f,
				"<rect class=\"unauth\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
				"height=\"%.2f\" fill=\"%s\"/>",
				x, PLOT_Y1 - ha - hu, bar_w, hu, COLOR_UNAUTH);
		fputs("</g>\n", f);
	}
	fputs("</g>\n<g class=\"xlabels\" font-size=\"12\" fill=\"" COLOR_TEXT "\">\n", f);
	for (i = 0; i < n; i += every) {
		chart_label(b[i].key, hourly, label, sizeof(label));
		cx = PLOT_X0 + ((double)i + 0.5) * slot;
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#9ca3af\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
			cx, PLOT_Y1, cx, PLOT_Y1 + 4, cx, PLOT_Y1 + 18, label);
	}
	fputs("</g>\n", f);

	/* The share line breaks over empty buckets: no mail is not 0 % authenticated. */
	fputs("<path class=\"share\" fill=\"none\" stroke=\"" COLOR_SHARE
	      "\" stroke-width=\"2.5\" stroke-linejoin=\"round\" d=\"",
	      f);
	for (i = 0; i < n; i++) {
		if (b[i].total == 0) {
			pen_down = false;
			continue;
		}
		cx = PLOT_X0 + ((double)i + 0.5) * slot;
		y = PLOT_Y1 - (double)b[i].auth / (double)b[i].total * plot_h;
		fprintf(f, "%s%.2f %.2f", pen_down ? " L" : (i > 0 ? " M" : "M"), cx, y);
		pen_down = true;
	}
	fputs("\"/>\n", f);
	if (n <= 62) {
		fputs("<g class=\"share-points\" fill=\"" COLOR_SHARE "\">", f);
		for (i = 0; i < n; i++) {
			if (b[i].total == 0)
				continue;
			cx = PLOT_X0 + ((double)i + 0.5) * slot;
			y = PLOT_Y1 - (double)b[i].auth / (double)b[i].total * plot_h;
			fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\"/>", cx, y);
		}
		fputs("</g>\n", f);
	}
	fputs("</svg>\n", f);
}
