/* chart.h: the trend as an inline SVG chart (stacked bars and share line) for the HTML report. */
#ifndef AUDIT_CHART_H
#define AUDIT_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "agg.h"

/*
 * Stacked bars (authenticated below, unauthenticated above) per bucket, the
 * authenticated share as a line on a 0-100 % right axis, labelled axes and a
 * legend. Each bucket is a <g class="bucket"> carrying data-bucket, data-total,
 * data-auth, data-unauth, data-rejected and data-tagged, so a test (or a
 * script) can read the numbers back.
 */
void chart_write_svg(FILE *f, const struct trend_bucket *b, size_t n, bool hourly);

/* Round up to 1, 2 or 5 times a power of ten: the step of a readable axis. */
long long chart_nice_step(long long max, int ticks);

#endif
