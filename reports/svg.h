/*
 * svg.h - the pictures of `lingerlab render`, as inline SVG elements: the
 * ladder (sequence) diagram of one connection (reports/ladder.c), its
 * time-sequence graph (reports/tsg.c) and the FIN_WAIT_2 concurrency
 * chart (reports/svg.c). Styling is by class names, defined once in the page's
 * <style> (reports/cmd_render.c); nothing here fetches anything.
 *
 * Both read a report checked by rf_load() and trust none of its values:
 * strings are escaped, numbers clamped to the drawing.
 */
#ifndef LL_REPORTS_SVG_H
#define LL_REPORTS_SVG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * One <svg class="ladder" id="ladder-WHEREID" data-connection="ID"> for
 * connection record conn (where: an id prefix that keeps ids unique when
 * a page draws a connection twice, NULL for none)
 * (a connections[] member) from its timeline: a client and a server column,
 * each packet a <g class="pkt c2s|s2c ..."> arrow from its sender's column
 * to its receiver's. With conn.rtt known, the arrow leaves its sender half
 * the sender's round trip before the capture point saw it and reaches the
 * receiver half the receiver's round trip after, bent where the capture
 * point sits (a dashed line), so latency shows as slope; otherwise a fixed
 * small slope. Long idle gaps are cut and labelled. The finding's RST and
 * at-risk response packets are picked out, the interval in which the
 * at-risk bytes sat unacknowledged at the client is marked, and the
 * server's FIN_WAIT_2 interval is shaded. finding may be NULL.
 * Each arrow is labelled on itself ("#12 P. 1:338(337) ack 42"), and a
 * time axis with ticks runs down the left. Runs of packets that do not
 * matter to the teardown (bulk data and its ACKs) are drawn as labelled
 * bands (<g class="band">); the ladder is then written twice, inside
 * <details class="ladder-box">: the banded one (data-view="collapsed") in
 * the <summary>, the whole one (data-view="full") in the body, so a click
 * shows every packet without any script.
 * Returns 0; -1 with a message in err if the timeline is malformed
 * (nothing written). A connection without timeline writes a note instead.
 */
int svg_ladder(FILE *f, const json_t *conn, const json_t *finding, const char *where,
               char *err, size_t errlen);

/*
 * One <svg class="fw2-chart" data-side="SIDE"> step chart of
 * fin_wait_2.SIDE.series (SIDE "server" or "client") over the capture's
 * duration, with the kernel's sampled FIN_WAIT_2 counts
 * (lab.kernel.samples) overlaid as points and a dashed step line when the
 * report has them and side is "server" (the lab samples the server's
 * namespace).
 */
void svg_fw2_chart(FILE *f, const json_t *root, const char *side);

/*
 * One <svg class="tsg" data-connection="ID" data-dir="s2c|c2s">: the
 * time-sequence graph (tcptrace/xplot style) of conn's direction dir
 * (RF_S2C: the server's data, RF_C2S: the client's) from its timeline:
 * segments as bars against time, the peer's ACK and window lines, SYN,
 * FIN and RST marked, and a finding's bytes at risk shaded when the
 * finding's sender sends in dir. finding may be NULL. Returns 0 (nothing
 * written without a timeline); -1 with err if the timeline is malformed.
 */
int svg_tsg(FILE *f, const json_t *conn, const json_t *finding, int dir, const char *where,
            char *err, size_t errlen);

/* True when the client sent two data segments or more (a PUT, a POST, a
 * pipeline): its direction deserves a graph of its own. */
bool svg_tsg_wants_client(const json_t *conn);

#endif
