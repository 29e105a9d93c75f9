/*
 * ladder.c - the ladder (sequence) diagram of one connection, as inline
 * SVG (contract in svg.h).
 *
 * The vertical axis is time, but not one linear scale: a capture can hold
 * microsecond bursts and ten-second silences in one connection. Time maps
 * to y piecewise: a fixed scale chosen so that a one-way trip spans about
 * ONE_WAY_PX, every idle stretch longer than GAP_MAX pixels cut to GAP_MAX
 * (and labelled with the time it hides), and consecutive packet rows
 * pushed at least ROW_MIN apart. The map stays monotone, so arrows keep
 * their order and latency still shows as slope. A time axis on the left
 * carries ticks wherever the map is linear (never inside a cut or a band).
 *
 * Each arrow is labelled on itself, where it crosses the capture point
 * (or the middle, without round trips): "#12 P. 1:338(337) ack 42", on
 * the roomier side of that point when it sits near a column. Those
 * crossing points are the packet rows, at least ROW_MIN apart, and a label
 * is one line shorter than that, so labels never sit on one another, at
 * any length.
 *
 * Long connections: a run of BAND_MIN or more packets that do not matter
 * to the teardown (bulk data and its ACKs) is drawn as one labelled band
 * ("client -> server: 143 data segments, 37.0 KiB; server -> client: 70
 * ACKs; 0.250 s"). What matters is always drawn one by one: the
 * handshake, the first and last data segment of each side, every
 * retransmission, every FIN, the RSTs that do something (rst_matters()),
 * the finding's at-risk packets, and the ACKs that cover each side's last
 * data and its FIN. The collapsed picture sits in the <summary> of a
 * <details> whose body is the full ladder: one click (no script) shows
 * every packet. Which packets matter is decided in ladder_bands.c.
 */
#include "reports/svg.h"
#include "reports/units.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/seq.h"
#include "reports/html.h"
#include "reports/ladder.h"
#include "reports/reportfile.h"

#define LAD_W      920.0
#define AX_X       74.0    /* the time axis */
#define COL_C      170.0   /* client column */
#define COL_S      850.0   /* server column */
#define LAD_TOP    78.0
#define ROW_MIN    16.0    /* > one label line (11 px text + halo) */
#define GAP_MAX    90.0
#define ONE_WAY_PX 60.0
#define OMIT_H     28.0
#define NOSLOPE    6.0
#define HEAD       7.0     /* arrowhead length */
#define BAND_H     34.0
#define CHAR_W     6.7     /* DejaVu Sans Mono at 11 px */
#define TICK_GAP   22.0    /* least room between two tick labels */

enum ev_kind { EV_SEND = 0, EV_ROW, EV_RECV, EV_MARK, EV_BAND0, EV_BAND1 };

struct ev {
	double t;
	size_t order;          /* insertion order: ties keep send, row, recv */
	size_t pkt;            /* packet index, mark or band number */
	enum ev_kind kind;
	double y;
	bool linear;           /* y is linear in t from the event before */
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

/* The arrow's label: "#12 FP. 1:338(337) ack 42"; a pure ACK shows no
 * seq (as tcpdump), a SYN, FIN or RST without data its seq. */
static void label_text(const struct rf_pkt *p, char *buf, size_t len)
{
	int n = snprintf(buf, len, "#%lld %s", p->i, p->flags);

	if (n < 0 || (size_t)n >= len)
		return;
	if (p->len > 0)
		n += snprintf(buf + n, len - (size_t)n, " %u:%u(%u)", p->seq, p->seq + p->len, p->len);
	else if (p->syn || p->fin || p->rst)
		n += snprintf(buf + n, len - (size_t)n, " seq %u", p->seq);
	if (n >= 0 && (size_t)n < len && p->ack)
		snprintf(buf + n, len - (size_t)n, " ack %u", p->ack_no);
}

/* A "nice" step (1, 2 or 5 times a power of ten) near r / ticks. */
static double nice(double r, int ticks)
{
	double raw = r / ticks, p, m;

	if (!(raw > 0) || !isfinite(raw))
		return 1;
	p = pow(10, floor(log10(raw)));
	m = raw / p;
	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* A time for the axis: as many decimals as the step needs. */
static void tick_text(FILE *f, double t, double step)
{
	int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);

	if (dec > 6)
		dec = 6;
	fprintf(f, "%.*f", dec, t);
}

struct tick {
	double t, y;
	double step;           /* decides the decimals */
};

static int tick_cmp(const void *a, const void *b)
{
	const struct tick *x = a, *y = b;

	return x->y < y->y ? -1 : x->y > y->y;
}

/*
 * The time axis: ticks at nice times where y is linear in t, and at the
 * first row after each cut or band (with microseconds), so every stretch
 * of the picture says when it is; ticks closer than TICK_GAP are dropped.
 */
static void time_axis(FILE *f, const struct ev *ev, size_t nev, double t0, double height)
{
	double span = ev[nev - 1].t - t0, step, last_y = -1e9, tt;
	struct tick *tk = calloc(nev + 2002, sizeof *tk);
	size_t e = 0, n = 0, i;

	fprintf(f, "<g class=\"taxis\"><line class=\"axisline\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"",
	        AX_X, LAD_TOP - 10, AX_X);
	html_coord(f, height - 16);
	fputs("\"/>", f);
	fprintf(f, "<text class=\"colsub\" x=\"%.0f\" y=\"60\" text-anchor=\"middle\">time (s)</text>", AX_X - 30);
	if (!tk) {
		fputs("</g>\n", f);
		return;
	}
	step = nice(span, (int)fmax(2, (height - LAD_TOP) / 60));
	if (!(span > 0))
		step = 1;
	/* ticks count from the first packet the capture saw (an arrow that
	 * left its sender earlier starts above 0) */
	for (tt = 0; t0 + tt <= ev[nev - 1].t + step * 1e-6 && n < 2000; tt += step) {
		double T = t0 + tt, y;
		if (T < ev[0].t)
			continue;
		while (e + 1 < nev && ev[e + 1].t <= T)
			e++;
		if (e + 1 < nev && ev[e + 1].t > ev[e].t) {
			if (!ev[e + 1].linear)
				continue;
			y = ev[e].y + (T - ev[e].t) / (ev[e + 1].t - ev[e].t) * (ev[e + 1].y - ev[e].y);
		} else {
			y = ev[e].y;
		}
		tk[n++] = (struct tick){ T, y, step };
	}
	for (e = 1; e < nev; e++)
		if (!ev[e].linear && ev[e].t >= t0)
			tk[n++] = (struct tick){ ev[e].t, ev[e].y, 1e-6 };
	qsort(tk, n, sizeof *tk, tick_cmp);
	for (i = 0; i < n; i++) {
		if (tk[i].y - last_y < TICK_GAP)
			continue;
		last_y = tk[i].y;
		fputs("<line class=\"tick\" x1=\"", f);
		html_coord(f, AX_X - 4);
		fputs("\" x2=\"", f);
		html_coord(f, AX_X + 4);
		fputs("\" y1=\"", f);
		html_coord(f, tk[i].y);
		fputs("\" y2=\"", f);
		html_coord(f, tk[i].y);
		fputs("\"/><text class=\"tick\" text-anchor=\"end\" x=\"", f);
		html_coord(f, AX_X - 7);
		fputs("\" y=\"", f);
		html_coord(f, tk[i].y + 4);
		fputs("\">", f);
		tick_text(f, tk[i].t - t0, tk[i].step);
		fputs("</text>", f);
	}
	free(tk);
	tk = NULL;
	fputs("</g>\n", f);
}

/* One <svg>: the whole ladder (collapse false) or the banded one. */
static int ladder_svg(FILE *f, struct lad *L, char *err, size_t errlen)
{
	const struct rf_timeline *tl = &L->tl;
	const json_t *conn = L->conn, *finding = L->finding;
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
	int rc = -1, in_band = -1;
	uint32_t sent_end[2] = { 0, 0 };
	bool any_sent[2] = { false, false };

	if (half_s + half_c <= 0)
		have_rtt = false;
	ev = calloc(tl->n * 3 + 2 * L->nband + 2, sizeof *ev);
	gaps = calloc(tl->n * 3 + 2 * L->nband + 2, sizeof *gaps);
	send_y = calloc(tl->n, sizeof *send_y);
	row_y = calloc(tl->n, sizeof *row_y);
	recv_y = calloc(tl->n, sizeof *recv_y);
	tc = calloc(tl->n, sizeof *tc);
	if (!ev || !gaps || !send_y || !row_y || !recv_y || !tc) {
		snprintf(err, errlen, "connection %lld: ladder: out of memory", id);
		goto out;
	}

	/* capture order wins over timestamps that step backwards */
	for (k = 0; k < tl->n; k++)
		tc[k] = k && tl->pkts[k].t < tc[k - 1] ? tc[k - 1] : tl->pkts[k].t;

	if (have_rtt) {
		scale = ONE_WAY_PX / fmax(half_s, half_c);
	} else {
		double g = median_gap(tl->pkts, tl->n);
		scale = g > 0 ? 2 * ROW_MIN / g : 1000;
	}
	if (!isfinite(scale) || scale > 1e12)
		scale = 1e12;

	for (k = 0; k < tl->n; k++) {
		const struct rf_pkt *p = &tl->pkts[k];
		double from_half = p->dir == RF_C2S ? half_c : half_s;
		double to_half = p->dir == RF_C2S ? half_s : half_c;
		int b = L->band_of[k];
		if (b >= 0) {
			if (k == L->bands[b].k0)
				add_ev(ev, &nev, tc[k], (size_t)b, EV_BAND0);
			if (k == L->bands[b].k1)
				add_ev(ev, &nev, tc[k], (size_t)b, EV_BAND1);
			continue;
		}
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
		bool linear = in_band < 0;
		if (ev[e].kind == EV_BAND1) {
			/* a band is BAND_H tall whatever time it spans */
			y = L->bands[ev[e].pkt].y0 + BAND_H;
			L->bands[ev[e].pkt].y1 = y;
			last_row = y;
			in_band = -1;
			linear = false;
		} else if (in_band >= 0) {
			/* events inside a band's time sit on its start */
			linear = false;
		} else {
			if (dy > GAP_MAX) {
				gaps[ngap++] = (struct gap){ y, y + GAP_MAX, ev[e].t - prev_t };
				dy = GAP_MAX;
				linear = false;
			}
			if (dy > 0)
				y += dy;
		}
		if (ev[e].kind == EV_ROW || ev[e].kind == EV_BAND0) {
			double need = last_row + ROW_MIN;
			size_t pk = ev[e].kind == EV_ROW ? ev[e].pkt : L->bands[ev[e].pkt].k0;
			if (tl->omitted_after >= 0 && pk == (size_t)tl->omitted_after + 1) {
				omit_y = last_row + (ROW_MIN + OMIT_H) / 2;
				need += OMIT_H;
			}
			if (y < need)
				y = need; /* still linear: a push only stretches the map */
			last_row = y;
		}
		if (ev[e].kind == EV_BAND0) {
			L->bands[ev[e].pkt].y0 = y;
			in_band = (int)ev[e].pkt;
		}
		ev[e].y = y;
		ev[e].linear = linear && e > 0;
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
		case EV_BAND0: case EV_BAND1: break;
		}
	}
	if (!have_rtt)
		for (k = 0; k < tl->n; k++) {
			send_y[k] = row_y[k] - NOSLOPE;
			recv_y[k] = row_y[k] + NOSLOPE;
		}
	height = y + 40;

	x_cap = (COL_C + COL_S) / 2;
	if (have_rtt)
		x_cap = COL_C + (COL_S - COL_C) * (half_c / (half_c + half_s));

	fprintf(f, "<svg class=\"ladder\" id=\"ladder-%s%lld%s\" data-connection=\"%lld\" "
	           "data-view=\"%s\" data-packets=\"%zu\" data-bands=\"%zu\" "
	           "xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
	           "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n",
	        L->where, id, L->collapse ? "-collapsed" : "", id, L->collapse ? "collapsed" : "full",
	        tl->n, L->nband, LAD_W, height, LAD_W, height);
	fprintf(f, "<title>Ladder diagram of connection %lld</title>\n", id);

	/* column heads */
	fprintf(f, "<text class=\"colhead\" x=\"%.0f\" y=\"22\" text-anchor=\"middle\">client</text>\n", COL_C);
	fprintf(f, "<text class=\"colsub\" x=\"%.0f\" y=\"38\" text-anchor=\"middle\">", COL_C);
	endpoint_text(f, rf_obj(conn, "client"));
	fputs("</text>\n", f);
	fprintf(f, "<text class=\"colhead\" x=\"%.0f\" y=\"22\" text-anchor=\"middle\">server</text>\n", COL_S);
	fprintf(f, "<text class=\"colsub\" x=\"%.0f\" y=\"38\" text-anchor=\"end\">", LAD_W - 4);
	endpoint_text(f, rf_obj(conn, "server"));
	fputs("</text>\n", f);

	time_axis(f, ev, nev, tl->pkts[0].t, height);

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
		html_coord(f, GAP_MAX - 22);    /* clear of the next row's label */
		fputs("\"/><text x=\"", f);
		html_coord(f, (COL_C + COL_S) / 2);
		fputs("\" y=\"", f);
		html_coord(f, gaps[k].y0 + GAP_MAX / 2 - 3);
		fprintf(f, "\" text-anchor=\"middle\">%s of time cut</text></g>\n", d);
	}

	/* the bands of like segments */
	for (k = 0; k < L->nband; k++) {
		const struct band *b = &L->bands[k];
		char d[32];
		units_duration(tc[b->k1] - tc[b->k0], d, sizeof d);
		fprintf(f, "<g class=\"band\" data-first=\"%lld\" data-last=\"%lld\" data-count=\"%zu\">"
		           "<title>packets %lld to %lld, drawn as one band: click the ladder to "
		           "see each</title><rect x=\"", tl->pkts[b->k0].i, tl->pkts[b->k1].i,
		        b->k1 - b->k0 + 1, tl->pkts[b->k0].i, tl->pkts[b->k1].i);
		html_coord(f, COL_C + 4);
		fputs("\" y=\"", f);
		html_coord(f, b->y0 - 6);
		fputs("\" width=\"", f);
		html_coord(f, COL_S - COL_C - 8);
		fputs("\" height=\"", f);
		html_coord(f, b->y1 - b->y0 + 4);
		fputs("\" rx=\"4\"/><text class=\"band-lbl\" x=\"", f);
		html_coord(f, (COL_C + COL_S) / 2);
		fputs("\" y=\"", f);
		html_coord(f, b->y0 + 8);
		fprintf(f, "\" text-anchor=\"middle\">%zu packets, #%lld to #%lld, in %s</text>"
		           "<text class=\"band-lbl\" x=\"", b->k1 - b->k0 + 1,
		        tl->pkts[b->k0].i, tl->pkts[b->k1].i, d);
		html_coord(f, (COL_C + COL_S) / 2);
		fputs("\" y=\"", f);
		html_coord(f, b->y0 + 24);
		fputs("\" text-anchor=\"middle\">", f);
		if (b->data[RF_C2S] + b->acks[RF_C2S] + b->rsts[RF_C2S] > 0) {
			fputs("client \xe2\x86\x92 server: ", f);
			lad_band_words(f, b, RF_C2S);
		}
		if (b->data[RF_S2C] + b->acks[RF_S2C] + b->rsts[RF_S2C] > 0) {
			fputs(b->data[RF_C2S] + b->acks[RF_C2S] + b->rsts[RF_C2S] > 0 ? "; " : "", f);
			fputs("server \xe2\x86\x92 client: ", f);
			lad_band_words(f, b, RF_S2C);
		}
		fputs("</text></g>\n", f);
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
		/* written down the band, beside the server's column */
		fputs("</title></rect><text transform=\"translate(", f);
		html_coord(f, COL_S + 16);
		fputc(',', f);
		html_coord(f, fw2_y0 + 4);
		fputs(") rotate(90)\">FIN_WAIT_2</text></g>\n", f);
	}

	/* the at-risk bytes: from the first at-risk packet reaching the client to
	 * the RST reaching it */
	if (finding && rst_pkt > 0) {
		double y0 = -1, y1 = -1;
		for (k = 0; k < tl->n; k++) {
			if (L->band_of[k] >= 0)
				continue;
			if (y0 < 0 && rf_at_risk(finding, tl->pkts[k].i))
				y0 = recv_y[k];
			if (tl->pkts[k].i == rst_pkt)
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
			/* between the time axis and the bar */
			fputs("\"/><text x=\"", f);
			html_coord(f, AX_X + 5);
			fputs("\" y=\"", f);
			html_coord(f, y0 + 12);
			fprintf(f, "\"><tspan x=\"%.0f\">%lld response</tspan><tspan x=\"%.0f\" dy=\"13\">bytes at risk</tspan></text></g>\n",
			        AX_X + 5, b, AX_X + 5);
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
		html_coord(f, fmin(fmax(x_cap, COL_C + 50), COL_S - 50));
		fputs("\" y=\"60\" text-anchor=\"middle\">capture point</text>\n", f);
	}

	if (omit_y > 0) {
		fputs("<text class=\"omitted\" x=\"", f);
		html_coord(f, (COL_C + COL_S) / 2);
		fputs("\" text-anchor=\"middle\" y=\"", f);
		html_coord(f, omit_y + 4);
		fprintf(f, "\">... %lld packets not in the report ...</text>\n", tl->omitted);
	}

	/* the packets */
	for (k = 0; k < tl->n; k++) {
		const struct rf_pkt *p = &tl->pkts[k];
		bool c2s = p->dir == RF_C2S;
		double x0 = c2s ? COL_C : COL_S, x1 = c2s ? COL_S : COL_C;
		double px, py, dx, dy, len, lx, half_w;
		bool risk = finding && rf_at_risk(finding, p->i);
		bool at_server = false;
		const char *acc = p->rst ? lad_rst_accept(L, k, &at_server) : NULL;
		char lbl[96];
		const char *anchor;

		/* a data segment that sends no new byte */
		bool retx = p->len > 0 && any_sent[p->dir] && !seq_after(p->seq + p->len, sent_end[p->dir]);
		if (p->len > 0 && (!any_sent[p->dir] || seq_after(p->seq + p->len, sent_end[p->dir]))) {
			sent_end[p->dir] = p->seq + p->len;
			any_sent[p->dir] = true;
		}
		if (L->band_of[k] >= 0)
			continue;
		fprintf(f, "<g class=\"pkt %s%s%s%s%s%s%s%s%s%s\" data-i=\"%lld\">",
		        c2s ? "c2s" : "s2c", p->len ? " data" : "", retx ? " retx" : "", p->syn ? " syn" : "",
		        p->fin ? " fin" : "", p->rst ? " rst" : "", risk ? " at-risk" : "",
		        p->i == rst_pkt ? " the-rst" : "", acc ? " rst-" : "", acc ? acc : "", p->i);
		fprintf(f, "<title>packet %lld at %.6f s, %s, flags ", p->i, p->t - tl->pkts[0].t,
		        c2s ? "client to server" : "server to client");
		html_esc(f, p->flags);
		fprintf(f, ", seq %u:%u(%u)", p->seq, p->seq + p->len, p->len);
		if (p->ack)
			fprintf(f, " ack %u", p->ack_no);
		fprintf(f, " win %u%s%s", p->win, retx ? " - a retransmission" : "",
		        risk ? " - response bytes at risk" : "");
		if (acc) {
			fprintf(f, " - the %s ", at_server ? "server" : "client");
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
		/* the label on the arrow, where it crosses the capture point;
		 * kept between the columns */
		label_text(p, lbl, sizeof lbl);
		half_w = strlen(lbl) * CHAR_W / 2;
		if (x_cap > COL_C + 0.65 * (COL_S - COL_C)) {
			anchor = "end";         /* the room is left of the bend */
			lx = x_cap - 8;
		} else if (x_cap < COL_C + 0.35 * (COL_S - COL_C)) {
			anchor = "start";
			lx = x_cap + 8;
		} else {
			anchor = "middle";
			lx = fmin(fmax(x_cap, COL_C + half_w + 6), COL_S - half_w - 6);
		}
		fprintf(f, "<text class=\"lbl\" text-anchor=\"%s\" x=\"", anchor);
		html_coord(f, lx);
		fputs("\" y=\"", f);
		html_coord(f, row_y[k] - 3);
		fputs("\">", f);
		html_esc(f, lbl);
		fputs("</text></g>\n", f);
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
	return rc;
}

int svg_ladder(FILE *f, const json_t *conn, const json_t *finding, const char *where,
               char *err, size_t errlen)
{
	struct lad L;
	long long id = rf_int(conn, "id", 0);
	int rc = -1;

	memset(&L, 0, sizeof L);
	L.conn = conn;
	L.finding = finding;
	L.where = where ? where : "";
	if (rf_timeline(conn, &L.tl, err, errlen) < 0)
		return -1;
	if (L.tl.n == 0) {
		fprintf(f, "<p class=\"note\">The report holds no packet timeline for connection %lld.</p>\n", id);
		rf_timeline_free(&L.tl);
		return 0;
	}
	L.band_of = calloc(L.tl.n, sizeof *L.band_of);
	L.bands = calloc(L.tl.n / BAND_MIN + 1, sizeof *L.bands);
	if (!L.band_of || !L.bands) {
		snprintf(err, errlen, "connection %lld: ladder: out of memory", id);
		goto out;
	}
	L.collapse = true;
	if (lad_find_bands(&L) < 0) {
		snprintf(err, errlen, "connection %lld: ladder: out of memory", id);
		goto out;
	}
	if (L.nband == 0) {
		L.collapse = false;
		rc = ladder_svg(f, &L, err, errlen);
		goto out;
	}
	/* the banded ladder is the summary; a click opens the whole one */
	fprintf(f, "<details class=\"ladder-box\" id=\"ladder-box-%s%lld\"><summary>", L.where, id);
	if (ladder_svg(f, &L, err, errlen) < 0)
		goto out;
	fprintf(f, "<span class=\"expand-hint\">%zu run%s of like packets drawn as bands: "
	           "click to draw all %zu packets one by one</span></summary>\n",
	        L.nband, L.nband == 1 ? "" : "s", L.tl.n);
	L.collapse = false;
	L.nband = 0;
	if (lad_find_bands(&L) < 0 || ladder_svg(f, &L, err, errlen) < 0)
		goto out;
	fputs("</details>\n", f);
	rc = 0;
out:
	free(L.band_of);
	L.band_of = NULL;
	free(L.bands);
	L.bands = NULL;
	rf_timeline_free(&L.tl);
	return rc;
}
