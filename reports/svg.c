/*
 * svg.c - the FIN_WAIT_2 concurrency chart as inline SVG (contract in
 * svg.h). The ladder lives in ladder.c, the time-sequence graph in tsg.c.
 */
#include "reports/svg.h"
#include "reports/units.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "reports/html.h"
#include "reports/reportfile.h"

static void pt(FILE *f, double x, double y)
{
	html_coord(f, x);
	fputc(',', f);
	html_coord(f, y);
	fputc(' ', f);
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) for range r. */
static double nice_step(double r, int ticks)
{
	double raw = r / ticks, p, m;

	if (!(raw > 0) || !isfinite(raw))
		return 1;
	p = pow(10, floor(log10(raw)));
	m = raw / p;
	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

#define CH_W   900.0
#define CH_H   300.0
#define CH_L   56.0
#define CH_R   24.0
#define CH_T   44.0
#define CH_B   44.0
#define CH_MAX_POINTS 20000

static double kernel_fw2(const json_t *sample)
{
	return rf_num(rf_obj(sample, "states"), "FIN_WAIT_2", 0);
}

void svg_fw2_chart(FILE *f, const json_t *root, const char *side)
{
	const json_t *fw = rf_obj(rf_obj(root, "fin_wait_2"), side);
	const json_t *series = rf_arr(fw, "series");
	const json_t *samples = NULL, *v;
	double xmax = rf_num(rf_obj(root, "input"), "duration", 0), ymax = 1, step, t;
	double pw = CH_W - CH_L - CH_R, ph = CH_H - CH_T - CH_B;
	size_t i, drawn;
	bool first;

	if (!strcmp(side, "server"))
		samples = rf_arr(rf_obj(rf_obj(root, "lab"), "kernel"), "samples");
	json_array_foreach(series, i, v) {
		double st = rf_val_num(json_array_get(v, 0), -1), n = rf_val_num(json_array_get(v, 1), -1);
		if (!json_is_array(v) || st < 0 || n < 0)
			continue;
		xmax = fmax(xmax, st);
		ymax = fmax(ymax, n);
	}
	json_array_foreach(samples, i, v) {
		xmax = fmax(xmax, rf_num(v, "t", 0));
		ymax = fmax(ymax, kernel_fw2(v));
	}
	if (!(xmax > 0))
		xmax = 1;
	xmax = fmin(xmax, 1e9);
	ymax = fmin(ymax, 1e9);
	step = nice_step(ymax, 4);
	ymax = ceil(ymax / step) * step;
	if (step < 1) {
		step = 1;
		ymax = ceil(ymax);
	}

#define X(tv) (CH_L + pw * fmin(fmax((tv) / xmax, 0), 1))
#define Y(nv) (CH_T + ph * (1 - fmin(fmax((nv) / ymax, 0), 1)))
	fprintf(f, "<svg class=\"fw2-chart\" id=\"fw2-chart-%s\" data-side=\"%s\" "
	           "xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
	           "viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n",
	        strcmp(side, "server") ? "client" : "server", strcmp(side, "server") ? "client" : "server",
	        CH_W, CH_H, CH_W, CH_H);
	fprintf(f, "<title>FIN_WAIT_2 sockets over time (%s closed first)</title>\n",
	        strcmp(side, "server") ? "client" : "server");
	/* axes and grid */
	for (t = 0; t <= ymax + step / 2; t += step) {
		fputs("<line class=\"grid\" x1=\"", f);
		html_coord(f, CH_L);
		fputs("\" x2=\"", f);
		html_coord(f, CH_W - CH_R);
		fputs("\" y1=\"", f);
		html_coord(f, Y(t));
		fputs("\" y2=\"", f);
		html_coord(f, Y(t));
		fputs("\"/><text class=\"tick\" text-anchor=\"end\" x=\"", f);
		html_coord(f, CH_L - 6);
		fputs("\" y=\"", f);
		html_coord(f, Y(t) + 4);
		fprintf(f, "\">%g</text>\n", t);
	}
	step = nice_step(xmax, 8);
	for (t = 0; t <= xmax + step / 1000; t += step) {
		fputs("<text class=\"tick\" text-anchor=\"middle\" x=\"", f);
		html_coord(f, X(t));
		fputs("\" y=\"", f);
		html_coord(f, CH_H - CH_B + 16);
		fprintf(f, "\">%g</text>\n", t);
	}
	fprintf(f, "<text class=\"axis\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">seconds since the capture began</text>\n",
	        CH_L + pw / 2, CH_H - 8);
	fprintf(f, "<line class=\"axisline\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>\n",
	        CH_L, CH_T, CH_L, CH_T + ph);
	fprintf(f, "<line class=\"axisline\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>\n",
	        CH_L, CH_T + ph, CH_W - CH_R, CH_T + ph);

	/* the analyzer's exact step series */
	fputs("<path class=\"series analyzer\" d=\"", f);
	first = true;
	drawn = 0;
	json_array_foreach(series, i, v) {
		double st = rf_val_num(json_array_get(v, 0), -1), n = rf_val_num(json_array_get(v, 1), -1);
		if (!json_is_array(v) || st < 0 || n < 0 || drawn >= CH_MAX_POINTS)
			continue;
		if (first) {
			/* nothing was in FIN_WAIT_2 before the series' first
			 * point: a series that starts late (the first socket at
			 * 1.977 s) starts at 0 there, not at its first count */
			fputs("M", f);
			pt(f, X(0), Y(0));
			fputs("H", f);
			html_coord(f, X(st));
			first = false;
		} else {
			fputs(" H", f);
			html_coord(f, X(st));
		}
		fputs(" V", f);
		html_coord(f, Y(n));
		drawn++;
	}
	if (first) {
		fputs("M", f);
		pt(f, X(0), Y(0));
	}
	fputs(" H", f);
	html_coord(f, X(xmax));
	fputs("\"/>\n", f);

	/* the kernel's view, sampled */
	if (samples && json_array_size(samples)) {
		fputs("<path class=\"series kernel\" d=\"", f);
		first = true;
		drawn = 0;
		json_array_foreach(samples, i, v) {
			double sx = X(rf_num(v, "t", 0)), sy = Y(kernel_fw2(v));
			if (drawn++ >= CH_MAX_POINTS)
				break;
			if (first) {
				fputs("M", f);
				pt(f, sx, sy);
				first = false;
				continue;
			}
			fputs(" H", f);
			html_coord(f, sx);
			fputs(" V", f);
			html_coord(f, sy);
		}
		fputs("\"/>\n<g class=\"kernel-samples\">", f);
		drawn = 0;
		json_array_foreach(samples, i, v) {
			if (drawn++ >= CH_MAX_POINTS)
				break;
			fputs("<circle class=\"kernel-sample\" r=\"2.5\" cx=\"", f);
			html_coord(f, X(rf_num(v, "t", 0)));
			fputs("\" cy=\"", f);
			html_coord(f, Y(kernel_fw2(v)));
			fputs("\"/>", f);
		}
		fputs("</g>\n", f);
	}
	/* legend */
	fprintf(f, "<g class=\"legend\"><line class=\"series analyzer\" x1=\"%.0f\" y1=\"14\" x2=\"%.0f\" y2=\"14\"/>"
	           "<text x=\"%.0f\" y=\"18\">from the packets (analyzer)</text>",
	        CH_L, CH_L + 24, CH_L + 30);
	if (samples && json_array_size(samples))
		fprintf(f, "<line class=\"series kernel\" x1=\"%.0f\" y1=\"14\" x2=\"%.0f\" y2=\"14\"/>"
		           "<text x=\"%.0f\" y=\"18\">kernel sockets in FIN_WAIT_2 (sampled)</text>",
		        CH_L + 260, CH_L + 284, CH_L + 290);
	fputs("</g>\n</svg>\n", f);
#undef X
#undef Y
}
