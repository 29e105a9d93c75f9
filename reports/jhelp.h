/*
 * jhelp.h - the few jansson helpers the report writers share (report.c,
 * findings.c). Private to reports/: not part of any module's contract.
 *
 * Ownership rule, kept by every caller: json_object_set_new() and
 * json_array_append_new() take ownership of the fresh value they are given,
 * even when they fail (and a NULL value simply fails). So every value is
 * created inline as the argument of set() or push() and never touched
 * again; failures are OR-ed into a `bad` flag and the container is dropped
 * once at the end by done().
 */
#ifndef LL_REPORTS_JHELP_H
#define LL_REPORTS_JHELP_H

#include <jansson.h>
#include <math.h>
#include <stdint.h>

#include "analyzer/analyzer.h"
#include "reports/safetext.h"

/* Reals print with 15 significant digits (microsecond times, see report.c);
 * the JSON Lines writer (connline.c) prints them the same way. */
#define REPORT_REAL_PRECISION 15

static inline int set(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) ? 1 : 0;
}

static inline int push(json_t *a, json_t *v)
{
	return json_array_append_new(a, v) ? 1 : 0;
}

/* Seconds, rounded to the microsecond that pcap timestamps carry. */
static inline json_t *jsec(double s)
{
	if (!isfinite(s))
		return json_null();
	return json_real(round(s * 1e6) / 1e6);
}

static inline json_t *jint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

/* A string that may come from outside (a file name, a filter, an error
 * naming either): never refused for not being UTF-8 (safetext.h). */
static inline json_t *jstr(const char *s)
{
	return safe_jstring(s);
}

/* Finish a container: NULL (and freed) when any member failed. */
static inline json_t *done(json_t *o, int bad)
{
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static inline const char *side_name(enum az_side s)
{
	return s == AZ_SERVER ? "server" : "client";
}

/*
 * FIN_WAIT_2 endings by role. The analyzer names them for the server table
 * (peer = client); in the client table the peer is the server, so the same
 * enum values read server_fin, server_rst, client_rst (see analyzer.h).
 */
static inline const char *fw2_ending(enum az_side side, enum az_fw2_end e)
{
	if (side == AZ_SERVER)
		return az_fw2_end_name(e);
	switch (e) {
	case AZ_FW2_CLIENT_FIN: return "server_fin";
	case AZ_FW2_CLIENT_RST: return "server_rst";
	case AZ_FW2_SERVER_RST: return "client_rst";
	case AZ_FW2_CAPTURE_END: return "capture_end";
	}
	return "unknown";
}

/*
 * The connection's findings, server's first (az_conn.finding_of); at most
 * two. A connection without a primary finding has none.
 */
static inline unsigned conn_findings(const struct az_conn *c, int32_t out[2])
{
	unsigned n = 0;
	if (c->finding < 0)
		return 0;
	if (c->finding_of[AZ_SERVER] >= 0)
		out[n++] = c->finding_of[AZ_SERVER];
	if (c->finding_of[AZ_CLIENT] >= 0 && (n == 0 || out[0] != c->finding_of[AZ_CLIENT]))
		out[n++] = c->finding_of[AZ_CLIENT];
	if (n == 0)
		out[n++] = c->finding;
	return n;
}

#endif
