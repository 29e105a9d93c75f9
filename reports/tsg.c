/*
 * tsg.c - the time-sequence graph of one direction of a connection, as
 * tcptrace and xplot draw it (contract in svg.h): time runs right,
 * sequence numbers (relative, the first data byte is 1) run up.
 *
 *   - each data segment of the direction is a vertical bar from its first
 *     byte to one past its last, with short caps (tcptrace's "I");
 *     a segment that sends no new byte (a retransmission) is drawn apart;
 *   - the peer's cumulative ACK is a step line under the bars, and the
 *     window it advertises (ACK + window, scaled as the analyzer scaled
 *     it) a step line above them: the sender may send up to there;
 *   - SYN, FIN and RST of the direction are marked at their sequence
 *     number; the peer's FIN and RST as ticks along the top of the plot;
 *   - a finding of this direction's sender shades its bytes at risk: the
 *     sequence range the RST left unacknowledged (acked_at_capture to
 *     data_end), from the first at-risk segment to the RST.
 *
 * The scale is linear in both axes, as tcptrace's; the window line is
 * held just above the plot when it runs far above the data (a 64 KiB
 * window over a 300-byte response would flatten the bars), and a note
 * says how high it goes.
 */
#include "reports/svg.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/seq.h"
#include "reports/html.h"
#include "reports/reportfile.h"

#define TG_W   900.0
#define TG_H   380.0
#define TG_L   78.0
#define TG_R   30.0
#define TG_T   40.0
#define TG_B   46.0

static double nice_step(double r, int ticks)
{
	double raw = r / ticks, p, m;

	if (!(raw > 0) || !isfinite(raw))
		return 1;
	p = pow(10, floor(log10(raw)));
	m = raw / p;
	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void pt(FILE *f, double x, double y)
{
	html_coord(f, x);
	fputc(',', f);
	html_coord(f, y);
	fputc(' ', f);
}

bool svg_tsg_wants_client(const json_t *conn)
{
	struct rf_timeline tl;
	char err[128];
	size_t k, n = 0;

	if (rf_timeline(conn, &tl, err, sizeof err) < 0)
		return false;
	for (k = 0; k < tl.n; k++)
		n += tl.pkts[k].dir == RF_C2S && tl.pkts[k].len > 0;
	rf_timeline_free(&tl);
	return n >= 2;
}

struct tsg {
	double t0, tmax, ymax;
	double pw, ph;
};

static double X(const struct tsg *g, double t)
{
	return TG_L + g->pw * fmin(fmax((t - g->t0) / g->tmax, 0), 1);
}

static double Y(const struct tsg *g, double s)
{
	return TG_T + g->ph * (1 - fmin(fmax(s / g->ymax, 0), 1.04));
}

/* An (x,y) step line of the peer's ACKs (win false) or ACK + window. */
static void ack_line(FILE *f, const struct tsg *g, const struct rf_timeline *tl, int dir,
                     bool win, const char *cls)
{
	bool first = true;
	double last_y = 0;
	size_t k;

	fprintf(f, "<path class=\"%s\" d=\"", cls);
	for (k = 0; k < tl->n; k++) {
		const struct rf_pkt *p = &tl->pkts[k];
		double v;
		if ((int)p->dir == dir || !p->ack || p->rst)
			continue;
		v = (double)p->ack_no + (win ? (double)p->win : 0);
		if (first) {
			fputs("M", f);
			pt(f, X(g, p->t), Y(g, v));
			first = false;
		} else {
			fputs("H", f);
			html_coord(f, X(g, p->t));
			fputs(" V", f);
			html_coord(f, Y(g, v));
			fputc(' ', f);
		}
		last_y = v;
	}
	if (first)
		fputs("M0,0", f);
	else {
		fputs("H", f);
		html_coord(f, X(g, g->t0 + g->tmax));
	}
	(void)last_y;
	fputs("\"/>\n", f);
}

int svg_tsg(FILE *f, const json_t *conn, const json_t *finding, int dir, const char *where,
            char *err, size_t errlen)
{
	struct rf_timeline tl;
	struct tsg g;
	long long id = rf_int(conn, "id", 0);
	const char *who = dir == RF_S2C ? "server" : "client";
	const char *peer = dir == RF_S2C ? "client" : "server";
	double top = 1, step, v;
	uint32_t sent = 0;
	bool any_sent = false;
	size_t k, nseg = 0, nretx = 0;
	double last_mark_x = -1e9, last_mark_y = -1e9;

	if (rf_timeline(conn, &tl, err, errlen) < 0)
		return -1;
	if (tl.n == 0) {
		rf_timeline_free(&tl);
		return 0;
	}
	memset(&g, 0, sizeof g);
	g.t0 = tl.pkts[0].t;
	g.pw = TG_W - TG_L - TG_R;
	g.ph = TG_H - TG_T - TG_B;
	for (k = 0; k < tl.n; k++) {
		const struct rf_pkt *p = &tl.pkts[k];
		g.tmax = fmax(g.tmax, p->t - g.t0);
		if ((int)p->dir == dir)
			top = fmax(top, (double)p->seq + p->len + (p->fin ? 1 : 0));
		else if (p->ack && !p->rst)
			top = fmax(top, (double)p->ack_no);
	}
	if (!(g.tmax > 0))
		g.tmax = 1e-3;
	/* room above the data for the window line's start, not all of it */
	g.ymax = top * 1.15 + 1;
	step = nice_step(g.ymax, 6);
	g.ymax = ceil(g.ymax / step) * step;

	if (!where)
		where = "";
	fprintf(f, "<svg class=\"tsg\" id=\"tsg-%s%lld-%s\" data-connection=\"%lld\" data-dir=\"%s\" "
	           "xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
	           "viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n",
	        where, id, dir == RF_S2C ? "s2c" : "c2s", id, dir == RF_S2C ? "s2c" : "c2s",
	        TG_W, TG_H, TG_W, TG_H);
	fprintf(f, "<title>Time-sequence graph of connection %lld: the %s's data</title>\n", id, who);

	/* grid and axes */
	for (v = 0; v <= g.ymax + step / 2; v += step) {
		fputs("<line class=\"grid\" x1=\"", f);
		html_coord(f, TG_L);
		fputs("\" x2=\"", f);
		html_coord(f, TG_L + g.pw);
		fputs("\" y1=\"", f);
		html_coord(f, Y(&g, v));
		fputs("\" y2=\"", f);
		html_coord(f, Y(&g, v));
		fputs("\"/><text class=\"tick\" text-anchor=\"end\" x=\"", f);
		html_coord(f, TG_L - 6);
		fputs("\" y=\"", f);
		html_coord(f, Y(&g, v) + 4);
		fprintf(f, "\">%.0f</text>\n", v);
	}
	step = nice_step(g.tmax, 8);
	for (v = 0; v <= g.tmax + step / 1000; v += step) {
		int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
		fputs("<text class=\"tick\" text-anchor=\"middle\" x=\"", f);
		html_coord(f, X(&g, g.t0 + v));
		fputs("\" y=\"", f);
		html_coord(f, TG_T + g.ph + 16);
		fprintf(f, "\">%.*f</text>\n", dec > 6 ? 6 : dec, v);
	}
	fprintf(f, "<text class=\"axis\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">seconds since "
	           "the connection's first packet</text>\n", TG_L + g.pw / 2, TG_H - 8);
	fprintf(f, "<text class=\"axis\" transform=\"rotate(-90)\" x=\"%.0f\" y=\"14\" "
	           "text-anchor=\"middle\">%s sequence number (relative)</text>\n",
	        -(TG_T + g.ph / 2), who);
	fprintf(f, "<line class=\"axisline\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>\n",
	        TG_L, TG_T, TG_L, TG_T + g.ph);
	fprintf(f, "<line class=\"axisline\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>\n",
	        TG_L, TG_T + g.ph, TG_L + g.pw, TG_T + g.ph);

	/* the bytes at risk of this direction's sender */
	if (finding && rf_str(finding, "sender") && !strcmp(rf_str(finding, "sender"), who)) {
		long long rst = rf_int(finding, "rst_packet", -1);
		double ta = -1, tr = -1;
		double lo = (double)rf_int(finding, "acked_at_capture", 0);
		double hi = (double)rf_int(finding, "data_end", 0);
		for (k = 0; k < tl.n; k++) {
			if (ta < 0 && rf_at_risk(finding, tl.pkts[k].i))
				ta = tl.pkts[k].t;
			if (tl.pkts[k].i == rst)
				tr = tl.pkts[k].t;
		}
		if (ta >= 0 && tr >= ta && hi > lo) {
			fprintf(f, "<g class=\"tsg-risk\"><title>%.0f bytes the %s's RST left unacknowledged</title><rect x=\"",
			        hi - lo, who);
			html_coord(f, X(&g, ta));
			fputs("\" y=\"", f);
			html_coord(f, Y(&g, hi));
			fputs("\" width=\"", f);
			html_coord(f, fmax(3, X(&g, tr) - X(&g, ta)));
			fputs("\" height=\"", f);
			html_coord(f, fmax(2, Y(&g, lo) - Y(&g, hi)));
			/* left of the shading, clear of the FIN and RST marks */
			fputs("\"/><text text-anchor=\"end\" x=\"", f);
			html_coord(f, fmax(X(&g, ta) - 6, TG_L + 120));
			fputs("\" y=\"", f);
			html_coord(f, Y(&g, hi) + 12);
			fprintf(f, "\">%.0f bytes at risk</text></g>\n", hi - lo);
		}
	}

	/* the peer's ACK and window lines */
	/* Y() holds a window far above the data just over the plot's top */
	ack_line(f, &g, &tl, dir, true, "tsg-win");
	ack_line(f, &g, &tl, dir, false, "tsg-ack");
	for (k = tl.n; k-- > 0;) {
		const struct rf_pkt *p = &tl.pkts[k];
		if ((int)p->dir == dir || !p->ack || p->rst)
			continue;
		if ((double)p->ack_no + p->win > g.ymax)
			fprintf(f, "<text class=\"win-off\" text-anchor=\"end\" x=\"%.0f\" y=\"%.0f\">"
			           "window up to %.0f, above the plot</text>\n", TG_L + g.pw, TG_H - 8,
			        (double)p->ack_no + p->win);
		break;
	}

	/* the segments */
	for (k = 0; k < tl.n; k++) {
		const struct rf_pkt *p = &tl.pkts[k];
		double x = X(&g, p->t), y0 = Y(&g, p->seq), y1 = Y(&g, (double)p->seq + p->len);
		bool retx;
		if ((int)p->dir != dir)
			continue;
		if (p->len > 0) {
			retx = any_sent && !seq_after(p->seq + p->len, sent);
			if (!any_sent || seq_after(p->seq + p->len, sent))
				sent = p->seq + p->len;
			any_sent = true;
			nseg++;
			nretx += retx;
			fprintf(f, "<g class=\"seg%s%s\" data-i=\"%lld\"><title>packet %lld: %u:%u(%u) at %.6f s%s</title>"
			           "<path d=\"M", retx ? " retx" : "",
			        finding && rf_at_risk(finding, p->i) ? " at-risk" : "", p->i, p->i,
			        p->seq, p->seq + p->len, p->len, p->t - g.t0,
			        retx ? ", a retransmission" : "");
			pt(f, x - 2.5, y0);
			fputs("H", f);
			html_coord(f, x + 2.5);
			fputs(" M", f);
			pt(f, x, y0);
			fputs("V", f);
			html_coord(f, y1);
			fputs(" M", f);
			pt(f, x - 2.5, y1);
			fputs("H", f);
			html_coord(f, x + 2.5);
			fputs("\"/></g>\n", f);
		}
		if (p->syn || p->fin || p->rst) {
			const char *cls = p->rst ? "rst" : p->fin ? "fin" : "syn";
			double sy = Y(&g, (double)p->seq + p->len);
			fprintf(f, "<g class=\"mark %s\" data-i=\"%lld\"><title>packet %lld: %s %s at seq %u</title>"
			           "<circle r=\"4\" cx=\"", cls, p->i, p->i, who,
			        p->rst ? "RST" : p->fin ? "FIN" : "SYN", p->seq + p->len);
			html_coord(f, x);
			fputs("\" cy=\"", f);
			html_coord(f, sy);
			fputs("\"/>", f);
			/* a letter per mark, unless it would sit on the last one's */
			/* (the SYN, at the origin, needs no letter) */
			if (!p->syn && (fabs(x - last_mark_x) > 14 || fabs(sy - last_mark_y) > 12)) {
				fputs("<text x=\"", f);
				html_coord(f, x + 6);
				fputs("\" y=\"", f);
				html_coord(f, sy - 6);
				fprintf(f, "\">%s</text>", p->rst ? "R" : p->fin ? "F" : "S");
				last_mark_x = x;
				last_mark_y = sy;
			}
			fputs("</g>\n", f);
		}
	}
	/* the peer's FIN and RST, on the time axis */
	last_mark_x = -1e9;
	for (k = 0; k < tl.n; k++) {
		const struct rf_pkt *p = &tl.pkts[k];
		double x = X(&g, p->t), lx;
		if ((int)p->dir == dir || !(p->fin || p->rst))
			continue;
		fprintf(f, "<g class=\"peer-mark %s\" data-i=\"%lld\"><title>packet %lld: the %s's %s</title>"
		           "<line x1=\"", p->rst ? "rst" : "fin", p->i, p->i, peer, p->rst ? "RST" : "FIN");
		html_coord(f, x);
		fputs("\" x2=\"", f);
		html_coord(f, x);
		fputs("\" y1=\"", f);
		html_coord(f, TG_T);
		fputs("\" y2=\"", f);
		html_coord(f, TG_T + 10);
		fputs("\"/>", f);
		/* clear of the tick labels left of the axis, and of the last one */
		lx = fmin(fmax(x, TG_L + 30), TG_L + g.pw - 30);
		if (lx - last_mark_x > 60) {
			fputs("<text text-anchor=\"middle\" x=\"", f);
			html_coord(f, lx);
			fputs("\" y=\"", f);
			html_coord(f, TG_T - 3);
			fprintf(f, "\">%s %s</text>", peer, p->rst ? "R" : "F");
			last_mark_x = lx;
		}
		fputs("</g>\n", f);
	}
	if (tl.omitted > 0 && tl.omitted_after >= 0 && (size_t)tl.omitted_after + 1 < tl.n) {
		double xa = X(&g, tl.pkts[tl.omitted_after].t), xb = X(&g, tl.pkts[tl.omitted_after + 1].t);
		fputs("<text class=\"omitted\" text-anchor=\"middle\" x=\"", f);
		html_coord(f, (xa + xb) / 2);
		fprintf(f, "\" y=\"%.0f\">%lld packets not in the report</text>\n", TG_T + 12, tl.omitted);
	}
	/* legend */
	fprintf(f, "<g class=\"legend\"><path class=\"seg-key\" d=\"M%.0f,10 V24 M%.0f,10 H%.0f M%.0f,24 H%.0f\"/>"
	           "<text x=\"%.0f\" y=\"21\">%s data (%zu segment%s%s)</text>",
	        TG_L, TG_L - 3, TG_L + 3, TG_L - 3, TG_L + 3, TG_L + 10, who, nseg,
	        nseg == 1 ? "" : "s", nretx ? ", retransmissions in red" : "");
	fprintf(f, "<line class=\"tsg-ack\" x1=\"%.0f\" y1=\"17\" x2=\"%.0f\" y2=\"17\"/>"
	           "<text x=\"%.0f\" y=\"21\">%s's ACK</text>"
	           "<line class=\"tsg-win\" x1=\"%.0f\" y1=\"17\" x2=\"%.0f\" y2=\"17\"/>"
	           "<text x=\"%.0f\" y=\"21\">its window (ACK + win)</text></g>\n",
	        TG_L + 380, TG_L + 404, TG_L + 410, peer, TG_L + 530, TG_L + 554, TG_L + 560);
	fputs("</svg>\n", f);
	rf_timeline_free(&tl);
	return 0;
}
