/*
 * svg.c - ladder diagrams and the FIN_WAIT_2 chart as inline SVG.
 *
 * The ladder's vertical axis is time, but not one linear scale: a capture
 * can hold microsecond bursts and ten-second silences in one connection.
 * Time maps to y piecewise: a fixed scale chosen so that a one-way trip
 * spans about ONE_WAY_PX, every idle stretch longer than GAP_MAX pixels cut
 * to GAP_MAX (and labelled with the time it hides), and consecutive packet
 * rows pushed at least ROW_MIN apart so their labels never overlap. The map
 * stays monotone, so arrows keep their order and latency still shows as
 * slope.
 */
#include "reports/svg.h"
#include "reports/units.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "reports/html.h"
#include "reports/reportfile.h"

#define LAD_W      980.0
#define COL_C      470.0   /* client column */
#define COL_S      910.0   /* server column */
#define LAD_TOP    78.0
#define ROW_MIN    16.0
#define GAP_MAX    90.0
#define ONE_WAY_PX 60.0
#define OMIT_H     28.0
#define NOSLOPE    6.0
#define HEAD       7.0     /* arrowhead length */

enum ev_kind { EV_SEND = 0, EV_ROW, EV_RECV, EV_MARK };

struct ev {
	double t;
	size_t order;          /* insertion order: ties keep send, row, recv */
	size_t pkt;            /* packet index, or mark number */
	enum ev_kind kind;
	double y;
};

struct gap {
	double y0, y1, dt;
};

static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->t < y->t)
		return -1;
	if (x->t > y->t)
		return 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void add_ev(struct ev *ev, size_t *n, double t, size_t pkt, enum ev_kind kind)
{
	ev[*n] = (struct ev){ .t = t, .order = *n, .pkt = pkt, .kind = kind, .y = 0 };
	(*n)++;
}


static void pt(FILE *f, double x, double y)
{
	html_coord(f, x);
	fputc(',', f);
	html_coord(f, y);
	fputc(' ', f);
}

static void endpoint_text(FILE *f, const json_t *ep)
{
	html_endpoint(f, rf_str(ep, "addr"), rf_int(ep, "port", 0));
}


/* Median of the positive gaps between consecutive capture times. */
static double median_gap(const struct rf_pkt *p, size_t n)
{
	double *g = NULL, m = 0;
	size_t k, ng = 0;

	if (n < 2 || !(g = malloc((n - 1) * sizeof *g)))
		return 0;
	for (k = 1; k < n; k++)
		if (p[k].t - p[k - 1].t > 0)
			g[ng++] = p[k].t - p[k - 1].t;
	if (ng) {
		/* insertion sort is fine: timelines are a few hundred packets */
		for (k = 1; k < ng; k++) {
			double v = g[k];
			size_t j = k;
			while (j > 0 && g[j - 1] > v) {
				g[j] = g[j - 1];
				j--;
			}
			g[j] = v;
		}
		m = g[ng / 2];
	}
	free(g);
	g = NULL;
	return m;
}

/* What the receiver does with RST packet i (the finding's impact.rsts):
 * "reset", "challenge_ack", "ignored", or NULL when the report does not
 * say. Only those three words reach the class attribute. */
static const char *rst_accept(const json_t *finding, long long i)
{
	const json_t *r;
	size_t k;

	json_array_foreach(rf_arr(rf_obj(finding, "impact"), "rsts"), k, r) {
		const char *a = rf_str(r, "accept");
		if (rf_int(r, "packet", -1) != i || !a)
			continue;
		if (!strcmp(a, "reset") || !strcmp(a, "challenge_ack") || !strcmp(a, "ignored"))
			return a;
	}
	return NULL;
}

int svg_ladder(FILE *f, const json_t *conn, const json_t *finding, char *err,
               size_t errlen)
{
	struct rf_timeline tl;
	struct ev *ev = NULL;
	struct gap *gaps = NULL;
	double *send_y = NULL, *row_y = NULL, *recv_y = NULL, *tc = NULL;
	const json_t *rtt = rf_obj(conn, "rtt");
	const json_t *fw2 = rf_obj(rf_obj(conn, "fin_wait_2"), "server");
	long long id = rf_int(conn, "id", 0);
	long long rst_pkt = finding ? rf_int(finding, "rst_packet", -1) : -1;
	bool have_rtt = rf_is_num(rtt, "to_server") && rf_is_num(rtt, "to_client");
	double half_s = have_rtt ? fmax(0, rf_num(rtt, "to_server", 0)) / 2 : 0;
	double half_c = have_rtt ? fmax(0, rf_num(rtt, "to_client", 0)) / 2 : 0;
	double scale, x_cap, y, prev_t, last_row = -1e9, height, omit_y = -1;
	double fw2_y0 = -1, fw2_y1 = -1;
	size_t nev = 0, ngap = 0, k, e;
	int rc = -1;

	if (rf_timeline(conn, &tl, err, errlen) < 0)
		return -1;
	if (tl.n == 0) {
		fprintf(f, "<p class=\"note\">The report holds no packet timeline for connection %lld.</p>\n", id);
		return 0;
	}
	if (half_s + half_c <= 0)
		have_rtt = false;

	ev = calloc(tl.n * 3 + 2, sizeof *ev);
	gaps = calloc(tl.n * 3 + 2, sizeof *gaps);
	send_y = calloc(tl.n, sizeof *send_y);
	row_y = calloc(tl.n, sizeof *row_y);
	recv_y = calloc(tl.n, sizeof *recv_y);
	tc = calloc(tl.n, sizeof *tc);
	if (!ev || !gaps || !send_y || !row_y || !recv_y || !tc) {
		snprintf(err, errlen, "connection %lld: ladder: out of memory", id);
		goto out;
	}

	/* capture order wins over timestamps that step backwards */
	for (k = 0; k < tl.n; k++)
		tc[k] = k && tl.pkts[k].t < tc[k - 1] ? tc[k - 1] : tl.pkts[k].t;

	if (have_rtt) {
		scale = ONE_WAY_PX / fmax(half_s, half_c);
	} else {
		double g = median_gap(tl.pkts, tl.n);
		scale = g > 0 ? 2 * ROW_MIN / g : 1000;
	}
	if (!isfinite(scale) || scale > 1e12)
		scale = 1e12;

	for (k = 0; k < tl.n; k++) {
		const struct rf_pkt *p = &tl.pkts[k];
		double from_half = p->dir == RF_C2S ? half_c : half_s;
		double to_half = p->dir == RF_C2S ? half_s : half_c;
		if (have_rtt)
			add_ev(ev, &nev, tc[k] - from_half, k, EV_SEND);
		add_ev(ev, &nev, tc[k], k, EV_ROW);
		if (have_rtt)
			add_ev(ev, &nev, tc[k] + to_half, k, EV_RECV);
	}
	if (fw2 && rf_is_num(fw2, "start") && rf_is_num(fw2, "end")) {
		/* The interval is measured at the capture point; the server enters
		 * FIN_WAIT_2 when the client's ACK reaches it, and leaves it when
		 * the client's FIN or RST reaches it, or when it sends its own RST
		 * (which the capture point sees half a round trip later). A server
		 * RST that left before the ACK arrived means the server never was
		 * in FIN_WAIT_2: no band. */
		const char *ending = rf_str(fw2, "ending");
		double t0 = rf_num(fw2, "start", 0) + half_s, t1 = rf_num(fw2, "end", 0);
		if (ending && !strcmp(ending, "server_rst"))
			t1 -= half_s;
		else if (!ending || strcmp(ending, "capture_end"))
			t1 += half_s;
		if (t1 > t0) {
			add_ev(ev, &nev, t0, 0, EV_MARK);
			add_ev(ev, &nev, t1, 1, EV_MARK);
		}
	}
	qsort(ev, nev, sizeof *ev, ev_cmp);

	y = LAD_TOP;
	prev_t = ev[0].t;
	for (e = 0; e < nev; e++) {
		double dy = (ev[e].t - prev_t) * scale;
		if (dy > GAP_MAX) {
			gaps[ngap++] = (struct gap){ y, y + GAP_MAX, ev[e].t - prev_t };
			dy = GAP_MAX;
		}
		if (dy > 0)
			y += dy;
		if (ev[e].kind == EV_ROW) {
			double need = last_row + ROW_MIN;
			if ((long long)ev[e].pkt == tl.omitted_after + 1 && tl.omitted_after >= 0) {
				omit_y = last_row + (ROW_MIN + OMIT_H) / 2;
				need += OMIT_H;
			}
			if (y < need)
				y = need;
			last_row = y;
		}
		ev[e].y = y;
		prev_t = ev[e].t;
		switch (ev[e].kind) {
		case EV_SEND: send_y[ev[e].pkt] = y; break;
		case EV_ROW: row_y[ev[e].pkt] = y; break;
		case EV_RECV: recv_y[ev[e].pkt] = y; break;
		case EV_MARK:
			if (ev[e].pkt == 0)
				fw2_y0 = y;
			else
				fw2_y1 = y;
			break;
		}
	}
	if (!have_rtt)
		for (k = 0; k < tl.n; k++) {
			send_y[k] = row_y[k] - NOSLOPE;
			recv_y[k] = row_y[k] + NOSLOPE;
		}
	height = y + 40;

	x_cap = (COL_C + COL_S) / 2;
	if (have_rtt)
		x_cap = COL_C + (COL_S - COL_C) * (half_c / (half_c + half_s));

	fprintf(f, "<svg class=\"ladder\" id=\"ladder-%lld\" data-connection=\"%lld\" "
	           "data-packets=\"%zu\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
	           "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n",
	        id, id, tl.n, LAD_W, height, LAD_W, height);
	fprintf(f, "<title>Ladder diagram of connection %lld</title>\n", id);

	/* column heads */
	fprintf(f, "<text class=\"colhead\" x=\"%.0f\" y=\"22\" text-anchor=\"middle\">client</text>\n", COL_C);
	fprintf(f, "<text class=\"colsub\" x=\"%.0f\" y=\"38\" text-anchor=\"middle\">", COL_C);
	endpoint_text(f, rf_obj(conn, "client"));
	fputs("</text>\n", f);
	fprintf(f, "<text class=\"colhead\" x=\"%.0f\" y=\"22\" text-anchor=\"end\">server</text>\n", COL_S + 40);
	fprintf(f, "<text class=\"colsub\" x=\"%.0f\" y=\"38\" text-anchor=\"end\">", COL_S + 60);
	endpoint_text(f, rf_obj(conn, "server"));
	fputs("</text>\n", f);
	fputs("<text class=\"colsub\" x=\"8\" y=\"60\">time (s)  packet  flags  seq:end(len)  ack  win</text>\n", f);

	/* idle gaps cut from the time axis */
	for (k = 0; k < ngap; k++) {
		char d[32];
		units_duration(gaps[k].dt, d, sizeof d);
		fputs("<g class=\"gap\"><rect x=\"", f);
		html_coord(f, COL_C - 30);
		fputs("\" y=\"", f);
		html_coord(f, gaps[k].y0 + 4);
		fputs("\" width=\"", f);
		html_coord(f, COL_S - COL_C + 60);
		fputs("\" height=\"", f);
		html_coord(f, GAP_MAX - 8);
		fputs("\"/><text x=\"", f);
		html_coord(f, (COL_C + COL_S) / 2);
		fputs("\" y=\"", f);
		html_coord(f, gaps[k].y0 + GAP_MAX / 2 + 4);
		fprintf(f, "\" text-anchor=\"middle\">%s of time cut</text></g>\n", d);
	}

	/* the server's FIN_WAIT_2 interval */
	if (fw2_y0 >= 0 && fw2_y1 >= fw2_y0) {
		const char *ending = rf_str(fw2, "ending");
		fputs("<g class=\"fw2\"><rect x=\"", f);
		html_coord(f, COL_S - 10);
		fputs("\" y=\"", f);
		html_coord(f, fw2_y0);
		fputs("\" width=\"20\" height=\"", f);
		html_coord(f, fmax(2, fw2_y1 - fw2_y0));
		fputs("\"><title>server in FIN_WAIT_2", f);
		if (ending) {
			fputs(" (ended by ", f);
			html_esc(f, ending);
			fputc(')', f);
		}
		fputs("</title></rect><text text-anchor=\"end\" x=\"", f);
		html_coord(f, COL_S - 14);
		fputs("\" y=\"", f);
		html_coord(f, fw2_y0 + 12);
		fputs("\">FIN_WAIT_2</text></g>\n", f);
	}

	/* the at-risk bytes: from the first at-risk packet reaching the client to
	 * the RST reaching it */
	if (finding && rst_pkt > 0) {
		double y0 = -1, y1 = -1;
		for (k = 0; k < tl.n; k++) {
			if (y0 < 0 && rf_at_risk(finding, tl.pkts[k].i))
				y0 = recv_y[k];
			if (tl.pkts[k].i == rst_pkt)
				y1 = recv_y[k];
		}
		if (y0 >= 0 && y1 > y0) {
			long long b = rf_int(finding, "bytes_at_risk_at_server", 0);
			if (rf_int(finding, "bytes_at_risk_at_client", 0) > b)
				b = rf_int(finding, "bytes_at_risk_at_client", 0);
			fputs("<g class=\"risk-window\"><rect x=\"", f);
			html_coord(f, COL_C - 12);
			fputs("\" y=\"", f);
			html_coord(f, y0);
			fputs("\" width=\"12\" height=\"", f);
			html_coord(f, y1 - y0);
			fputs("\"/><text x=\"", f);
			html_coord(f, COL_C + 6);
			fputs("\" y=\"", f);
			html_coord(f, y0 + 12);
			fprintf(f, "\">%lld response bytes at risk</text></g>\n", b);
		}
	}

	/* columns and the capture point */
	fprintf(f, "<line class=\"col\" x1=\"%.0f\" y1=\"48\" x2=\"%.0f\" y2=\"", COL_C, COL_C);
	html_coord(f, height - 16);
	fprintf(f, "\"/>\n<line class=\"col\" x1=\"%.0f\" y1=\"48\" x2=\"%.0f\" y2=\"", COL_S, COL_S);
	html_coord(f, height - 16);
	fputs("\"/>\n", f);
	if (have_rtt) {
		fputs("<line class=\"capture\" x1=\"", f);
		html_coord(f, x_cap);
		fputs("\" y1=\"52\" x2=\"", f);
		html_coord(f, x_cap);
		fputs("\" y2=\"", f);
		html_coord(f, height - 16);
		fputs("\"/><text class=\"colsub\" x=\"", f);
		html_coord(f, x_cap);
		fputs("\" y=\"60\" text-anchor=\"middle\">capture point</text>\n", f);
	}

	if (omit_y > 0) {
		fputs("<text class=\"omitted\" x=\"8\" y=\"", f);
		html_coord(f, omit_y + 4);
		fprintf(f, "\">... %lld packets not in the report ...</text>\n", tl.omitted);
	}

	/* the packets */
	for (k = 0; k < tl.n; k++) {
		const struct rf_pkt *p = &tl.pkts[k];
		bool c2s = p->dir == RF_C2S;
		double x0 = c2s ? COL_C : COL_S, x1 = c2s ? COL_S : COL_C;
		double px, py, dx, dy, len;
		bool risk = finding && rf_at_risk(finding, p->i);
		const char *acc = p->rst ? rst_accept(finding, p->i) : NULL;

		fprintf(f, "<g class=\"pkt %s%s%s%s%s%s%s%s%s\" data-i=\"%lld\">",
		        c2s ? "c2s" : "s2c", p->len ? " data" : "", p->syn ? " syn" : "",
		        p->fin ? " fin" : "", p->rst ? " rst" : "", risk ? " at-risk" : "",
		        p->i == rst_pkt ? " the-rst" : "", acc ? " rst-" : "", acc ? acc : "", p->i);
		fprintf(f, "<title>packet %lld, %s, flags ", p->i, c2s ? "client to server" : "server to client");
		html_esc(f, p->flags);
		fprintf(f, ", seq %u:%u(%u)", p->seq, p->seq + p->len, p->len);
		if (p->ack)
			fprintf(f, " ack %u", p->ack_no);
		fprintf(f, " win %u%s", p->win, risk ? " - response bytes at risk" : "");
		if (acc) {
			fprintf(f, " - the %s ", rf_str(rf_obj(finding, "impact"), "at") &&
			        !strcmp(rf_str(rf_obj(finding, "impact"), "at"), "server") ? "server" : "client");
			fputs(!strcmp(acc, "reset") ? "accepts it: reset" :
			      !strcmp(acc, "challenge_ack") ? "answers with a challenge ACK" :
			      "ignores it (RFC 5961)", f);
		}
		fputs("</title>", f);
		fputs("<polyline points=\"", f);
		pt(f, x0, send_y[k]);
		if (have_rtt)
			pt(f, x_cap, row_y[k]);
		pt(f, x1, recv_y[k]);
		fputs("\"/>", f);
		/* arrowhead along the last segment */
		px = have_rtt ? x_cap : x0;
		py = have_rtt ? row_y[k] : send_y[k];
		dx = x1 - px;
		dy = recv_y[k] - py;
		len = sqrt(dx * dx + dy * dy);
		if (len > 0) {
			double ux = dx / len, uy = dy / len;
			fputs("<polygon class=\"head\" points=\"", f);
			pt(f, x1, recv_y[k]);
			pt(f, x1 - HEAD * ux - HEAD * 0.45 * uy, recv_y[k] - HEAD * uy + HEAD * 0.45 * ux);
			pt(f, x1 - HEAD * ux + HEAD * 0.45 * uy, recv_y[k] - HEAD * uy - HEAD * 0.45 * ux);
			fputs("\"/>", f);
		}
		fputs("<text class=\"lbl\" x=\"8\" y=\"", f);
		html_coord(f, row_y[k] + 4);
		fprintf(f, "\">%9.6f  #%-5lld ", p->t - tl.pkts[0].t, p->i);
		html_esc(f, p->flags);
		fprintf(f, "  %u:%u(%u)", p->seq, p->seq + p->len, p->len);
		if (p->ack)
			fprintf(f, " ack %u", p->ack_no);
		fprintf(f, " win %u</text></g>\n", p->win);
	}
	fputs("</svg>\n", f);
	rc = 0;
out:
	free(ev);
	ev = NULL;
	free(gaps);
	gaps = NULL;
	free(send_y);
	send_y = NULL;
	free(row_y);
	row_y = NULL;
	free(recv_y);
	recv_y = NULL;
	free(tc);
	tc = NULL;
	rf_timeline_free(&tl);
	return rc;
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
			fputs("M", f);
			pt(f, X(0), Y(n));
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
