/*
 * svg.h - the pictures of `lingerlab render`, as inline SVG elements: the
 * ladder (sequence) diagram of one connection and the FIN_WAIT_2
 * concurrency chart. Styling is by class names, defined once in the page's
 * <style> (reports/cmd_render.c); nothing here fetches anything.
 *
 * Both read a report checked by rf_load() and trust none of its values:
 * strings are escaped, numbers clamped to the drawing.
 */
#ifndef LL_REPORTS_SVG_H
#define LL_REPORTS_SVG_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/*
 * One <svg class="ladder" data-connection="ID"> for connection record conn
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
 * Returns 0; -1 with a message in err if the timeline is malformed
 * (nothing written). A connection without timeline writes a note instead.
 */
int svg_ladder(FILE *f, const json_t *conn, const json_t *finding, char *err,
               size_t errlen);

/*
 * One <svg class="fw2-chart" data-side="SIDE"> step chart of
 * fin_wait_2.SIDE.series (SIDE "server" or "client") over the capture's
 * duration, with the kernel's sampled FIN_WAIT_2 counts
 * (lab.kernel.samples) overlaid as points and a dashed step line when the
 * report has them and side is "server" (the lab samples the server's
 * namespace).
 */
void svg_fw2_chart(FILE *f, const json_t *root, const char *side);

#endif
