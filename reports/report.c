/*
 * report.c - the JSON report writer (contract in report.h, format in
 * docs/report-format.md).
 *
 * Ownership rule, kept everywhere in this file: json_object_set_new() and
 * json_array_append_new() take ownership of the fresh value they are given,
 * even when they fail (and a NULL value simply fails). So every value is
 * created inline as the argument of a *_new call and never touched again;
 * failures are OR-ed into a `bad` flag and the container is dropped once at
 * the end. No json_incref anywhere, no value shared between two parents.
 */
#include "reports/report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lab/errmsg.h"

/* Reals: every time is rounded to the microsecond (jsec), so relative
 * times and durations have at most 15 significant digits and print exactly
 * with %.15g; jansson's default %.17g, or even %.16g, shows 0.008285 as
 * 0.008285000000000001. Absolute epoch times (input.start_time, end_time)
 * need 16 digits for their microseconds: they alone are written with
 * REPORT_EPOCH_PRECISION (see dump_members). */
#define REPORT_REAL_PRECISION 15
#define REPORT_EPOCH_PRECISION 16
#define REPORT_DUMP_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(REPORT_REAL_PRECISION))

static int set(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) ? 1 : 0;
}

static int push(json_t *a, json_t *v)
{
	return json_array_append_new(a, v) ? 1 : 0;
}

/* Seconds, rounded to the microsecond that pcap timestamps carry. */
static json_t *jsec(double s)
{
	if (!isfinite(s))
		return json_null();
	return json_real(round(s * 1e6) / 1e6);
}

static json_t *jint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Finish a container: NULL (and freed) when any member failed. */
static json_t *done(json_t *o, int bad)
{
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *jaddr(uint8_t af, const uint8_t addr[16], uint16_t port)
{
	char buf[INET6_ADDRSTRLEN];
	if (!inet_ntop(af == 6 ? AF_INET6 : AF_INET, addr, buf, sizeof buf))
		snprintf(buf, sizeof buf, "?");
	json_t *o = json_object();
	int bad = set(o, "addr", json_string(buf));
	bad |= set(o, "port", json_integer(port));
	return done(o, bad);
}

/*
 * FIN_WAIT_2 endings by role. The analyzer names them for the server table
 * (peer = client); in the client table the peer is the server, so the same
 * enum values read server_fin, server_rst, client_rst (see analyzer.h).
 */
static const char *fw2_ending(enum az_side side, enum az_fw2_end e)
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

/* Order of the endings members, as the format document lists them (the
 * same for both tables: peer FIN, peer RST, holder RST, capture end). */
static const enum az_fw2_end fw2_order[AZ_NFW2_ENDS] = {
	AZ_FW2_CLIENT_FIN, AZ_FW2_CLIENT_RST, AZ_FW2_SERVER_RST, AZ_FW2_CAPTURE_END,
};

static json_t *fw2_interval(const struct az_fw2_interval *iv, enum az_side side,
                            double t0)
{
	if (!iv->present)
		return json_null();
	json_t *o = json_object();
	int bad = set(o, "start", jsec(iv->start - t0));
	bad |= set(o, "end", jsec(iv->end - t0));
	bad |= set(o, "duration", jsec(iv->end - iv->start));
	bad |= set(o, "ending", json_string(fw2_ending(side, iv->ending)));
	return done(o, bad);
}

static json_t *jdir(const struct az_dir *d)
{
	json_t *o = json_object();
	int bad = set(o, "data_end", jint(d->data_end));
	bad |= set(o, "fin_seq", d->fin_seen ? jint(d->fin_seq) : json_null());
	bad |= set(o, "acked", d->acked_seen ? jint(d->acked) : json_null());
	bad |= set(o, "packets", jint(d->packets));
	bad |= set(o, "bytes", jint(d->bytes));
	bad |= set(o, "retransmissions", jint(d->retrans_packets));
	bad |= set(o, "rst", json_boolean(d->rst_seen));
	bad |= set(o, "fin_packet", d->fin_seen ? jint(d->fin_packet) : json_null());
	bad |= set(o, "rst_packet", d->rst_seen ? jint(d->rst_packet) : json_null());
	bad |= set(o, "http_messages", jint(d->http_messages));
	bad |= set(o, "mss", d->mss ? jint(d->mss) : json_null());
	bad |= set(o, "wscale", d->wscale >= 0 ? json_integer(d->wscale) : json_null());
	bad |= set(o, "sack_permitted", json_boolean(d->sack_permitted));
	bad |= set(o, "timestamps", json_boolean(d->timestamps));
	return done(o, bad);
}

static json_t *jtl_pkt(const struct az_tl_pkt *p, double t0)
{
	char fl[12];
	json_t *o = json_object();
	int bad = set(o, "i", jint(p->index));
	bad |= set(o, "t", jsec(p->t - t0));
	bad |= set(o, "dir", json_string(p->dir == AZ_C2S ? "c2s" : "s2c"));
	bad |= set(o, "flags", json_string(az_flags_str(p->flags, fl)));
	bad |= set(o, "seq", jint(p->seq));
	bad |= set(o, "ack", jint(p->ack));
	bad |= set(o, "len", jint(p->len));
	bad |= set(o, "win", jint(p->win));
	return done(o, bad);
}

static json_t *jtimeline(const struct az_conn *c, double t0)
{
	json_t *pk = json_array();
	int bad = 0;
	for (uint32_t i = 0; c->tl_head && i < c->n_head; i++)
		bad |= push(pk, jtl_pkt(&c->tl_head[i], t0));
	for (uint32_t i = 0; c->tl_tail && i < c->n_tail; i++)
		bad |= push(pk, jtl_pkt(&c->tl_tail[i], t0));
	json_t *o = json_object();
	bad |= set(o, "packets", pk);
	bad |= set(o, "omitted", jint(c->tl_omitted));
	bad |= set(o, "omitted_after", c->tl_omitted && c->n_head
	                               ? jint(c->n_head - 1) : json_null());
	return done(o, bad);
}

static json_t *jhttp(const struct az_conn *c)
{
	json_t *rs = json_array();
	int bad = 0;
	for (unsigned i = 0; i < c->n_responses && i < AZ_MAX_HTTP_RESPONSES; i++) {
		const struct az_http_response *r = &c->responses[i];
		json_t *o = json_object();
		int b = set(o, "index", json_integer(i + 1));
		b |= set(o, "status", json_integer(r->status));
		b |= set(o, "complete", json_boolean(r->complete));
		bad |= push(rs, done(o, b));
	}
	json_t *o = json_object();
	bad |= set(o, "requests", jint(c->http_requests));
	bad |= set(o, "responses", rs);
	bad |= set(o, "unanswered", jint(c->http_unanswered));
	return done(o, bad);
}

json_t *report_conn(const struct az_conn *c, double t0, bool with_timeline)
{
	json_t *o = json_object();
	int bad = set(o, "id", jint(c->id));
	bad |= set(o, "af", json_integer(c->af));
	bad |= set(o, "client", jaddr(c->af, c->client_addr, c->client_port));
	bad |= set(o, "server", jaddr(c->af, c->server_addr, c->server_port));
	bad |= set(o, "role_inferred", json_boolean(c->role_inferred));
	bad |= set(o, "handshake", json_boolean(c->handshake_seen));
	if (c->rtt_known) {
		json_t *r = json_object();
		int b = set(r, "to_server", jsec(c->h_s));
		b |= set(r, "to_client", jsec(c->h_c));
		bad |= set(o, "rtt", done(r, b));
	} else {
		bad |= set(o, "rtt", json_null());
	}
	bad |= set(o, "first_time", jsec(c->first_time - t0));
	bad |= set(o, "last_time", jsec(c->last_time - t0));
	bad |= set(o, "first_packet", jint(c->first_packet));
	bad |= set(o, "last_packet", jint(c->last_packet));
	bad |= set(o, "close_initiator", json_string(az_initiator_name(c->initiator)));
	bad |= set(o, "kind", json_string(az_kind_name(c->kind)));
	bad |= set(o, "client_end", json_string(az_state_name(c->client_end)));
	bad |= set(o, "server_end", json_string(az_state_name(c->server_end)));
	bad |= set(o, "c2s", jdir(&c->c2s));
	bad |= set(o, "s2c", jdir(&c->s2c));
	bad |= set(o, "lingered", json_boolean(c->lingered));
	if (c->lingered) {
		json_t *l = json_object();
		int b = set(l, "seconds", jsec(c->linger_seconds));
		b |= set(l, "bytes_drained", jint(c->linger_bytes));
		bad |= set(o, "linger", done(l, b));
	} else {
		bad |= set(o, "linger", json_null());
	}
	json_t *fw = json_object();
	int b = set(fw, "server", fw2_interval(&c->server_fw2, AZ_SERVER, t0));
	b |= set(fw, "client", fw2_interval(&c->client_fw2, AZ_CLIENT, t0));
	bad |= set(o, "fin_wait_2", done(fw, b));
	bad |= set(o, "http", jhttp(c));
	bad |= set(o, "finding", c->finding >= 0 ? json_integer(c->finding) : json_null());
	if (with_timeline)
		bad |= set(o, "timeline", jtimeline(c, t0));
	return done(o, bad);
}

static const char *side_name(enum az_side s)
{
	return s == AZ_SERVER ? "server" : "client";
}

static json_t *jfinding(const struct az_rst_finding *f, double t0)
{
	const char *what = f->sender == AZ_SERVER ? "response" : "request";
	const char *peer = f->sender == AZ_SERVER ? "client" : "server";
	char text[320];
	int n = snprintf(text, sizeof text, "%s RST (packet %llu) while %u %s bytes were "
	                 "unacknowledged as far as the %s could know",
	                 side_name(f->sender), (unsigned long long)f->rst_packet,
	                 f->bytes_at_risk_at_server, what, side_name(f->sender));
	if (f->bytes_at_risk_at_client > 0 && n > 0 && (size_t)n < sizeof text)
		snprintf(text + n, sizeof text - (size_t)n,
		         "; the %s had not acknowledged %u of them when the RST reached it",
		         peer, f->bytes_at_risk_at_client);

	json_t *rp = json_array();
	int bad = 0;
	for (uint32_t i = 0; i < f->n_risk_packets && i < AZ_MAX_RISK_PACKETS; i++)
		bad |= push(rp, jint(f->risk_packets[i]));

	json_t *o = json_object();
	bad |= set(o, "type", json_string("rst_before_ack"));
	bad |= set(o, "connection", jint(f->conn_id));
	bad |= set(o, "sender", json_string(side_name(f->sender)));
	bad |= set(o, "rst_packet", jint(f->rst_packet));
	bad |= set(o, "time", jsec(f->rst_time - t0));
	bad |= set(o, "rst_seq", jint(f->rst_seq));
	bad |= set(o, "rst_has_ack", json_boolean(f->rst_has_ack));
	bad |= set(o, "data_end", jint(f->data_end));
	bad |= set(o, "acked_at_capture", jint(f->acked_at_capture));
	bad |= set(o, "bytes_at_risk_at_server", jint(f->bytes_at_risk_at_server));
	bad |= set(o, "bytes_at_risk_at_server_max", jint(f->bytes_at_risk_at_server_max));
	bad |= set(o, "bytes_at_risk_at_client", jint(f->bytes_at_risk_at_client));
	bad |= set(o, "basis", json_string(az_basis_name(f->basis)));
	bad |= set(o, "seq_evidence", json_boolean(f->seq_evidence));
	bad |= set(o, "cause", json_string(az_cause_name(f->cause)));
	bad |= set(o, "vantage", json_string(az_vantage_name(f->vantage)));
	bad |= set(o, "at_risk_packets", rp);
	if (f->response_index > 0) {
		json_t *r = json_object();
		int b = set(r, "index", jint(f->response_index));
		b |= set(r, "status", json_integer(f->response_status));
		bad |= set(o, "response", done(r, b));
	} else {
		bad |= set(o, "response", json_null());
	}
	bad |= set(o, "unanswered_requests", jint(f->unanswered_requests));
	bad |= set(o, "summary", json_string(text));
	return done(o, bad);
}

static json_t *jfw2(const struct az_fw2_summary *s, enum az_side side, double t0)
{
	if (!s)
		return json_null();
	json_t *o = json_object();
	int bad = set(o, "count", jint(s->count));
	bad |= set(o, "peak", jint(s->peak));
	bad |= set(o, "peak_time", s->count ? jsec(s->peak_time - t0) : json_null());
	if (s->count) {
		json_t *d = json_object();
		int b = set(d, "p50", jsec(s->p50));
		b |= set(d, "p90", jsec(s->p90));
		b |= set(d, "max", jsec(s->max));
		bad |= set(o, "duration", done(d, b));
	} else {
		bad |= set(o, "duration", json_null());
	}
	json_t *e = json_object();
	int b = 0;
	for (int i = 0; i < AZ_NFW2_ENDS; i++) {
		enum az_fw2_end k = fw2_order[i];
		b |= set(e, fw2_ending(side, k), jint(s->endings[k]));
	}
	bad |= set(o, "endings", done(e, b));
	json_t *ser = json_array();
	for (size_t i = 0; s->series && i < s->n_series; i++) {
		json_t *pt = json_array();
		int pb = push(pt, jsec(s->series[i].t - t0));
		pb |= push(pt, jint(s->series[i].n));
		bad |= push(ser, done(pt, pb));
	}
	bad |= set(o, "series", ser);
	bad |= set(o, "series_exact", json_boolean(s->series_exact));
	return done(o, bad);
}

static json_t *jtool(void)
{
	json_t *o = json_object();
	int bad = set(o, "name", json_string("lingerlab"));
	bad |= set(o, "version", json_string(LL_VERSION));
	return done(o, bad);
}

static json_t *jtimestamp(time_t t)
{
	struct tm tm;
	char buf[32];
	if (!t)
		t = time(NULL);
	if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return json_null();
	return json_string(buf);
}

static json_t *jinput(const struct az *az, const struct report_input *in)
{
	const struct az_stats *st = az_stats(az);
	bool any = st->packets > st->filtered; /* a frame was analyzed */
	json_t *o = json_object();
	int bad = set(o, "source", jstr(in->source));
	bad |= set(o, "live", json_boolean(in->live));
	bad |= set(o, "link_type", jstr(in->link_type));
	bad |= set(o, "start_time", any ? jsec(st->first_time) : json_null());
	bad |= set(o, "end_time", any ? jsec(st->last_time) : json_null());
	bad |= set(o, "duration", jsec(any ? st->last_time - st->first_time : 0));
	bad |= set(o, "packets", jint(st->packets));
	bad |= set(o, "filtered", jint(st->filtered));
	bad |= set(o, "tcp_packets", jint(st->tcp));
	bad |= set(o, "bytes", jint(st->bytes));
	bad |= set(o, "truncated", jint(st->by_result[DEC_TRUNCATED]));
	bad |= set(o, "invalid", jint(st->by_result[DEC_INVALID]));
	bad |= set(o, "skipped", jint(st->by_result[DEC_NOT_TCP]));
	bad |= set(o, "fragments", jint(st->by_result[DEC_FRAGMENT]));
	bad |= set(o, "unsupported", jint(st->by_result[DEC_UNSUPPORTED]));
	bad |= set(o, "dropped", jint(az_dropped(az)));
	bad |= set(o, "filter", jstr(in->filter));
	bad |= set(o, "read_error", jstr(in->read_error));
	bad |= set(o, "kernel_dropped",
	           in->kernel_stats ? jint(in->kernel_dropped) : json_null());
	bad |= set(o, "interface_dropped",
	           in->kernel_stats ? jint(in->interface_dropped) : json_null());
	return done(o, bad);
}

static json_t *joptions(const struct report_input *in)
{
	json_t *ports = json_array();
	int bad = 0;
	for (size_t i = 0; in->server_ports && i < in->n_server_ports; i++)
		bad |= push(ports, json_integer(in->server_ports[i]));
	json_t *o = json_object();
	bad |= set(o, "server_ports", ports);
	bad |= set(o, "count", in->count ? jint(in->count) : json_null());
	bad |= set(o, "duration", in->duration > 0 ? jsec(in->duration) : json_null());
	return done(o, bad);
}

static json_t *jsummary(const struct az *az)
{
	const struct az_totals *t = az_totals(az);
	json_t *k = json_object();
	int bad = 0;
	for (int i = 0; i < AZ_NKINDS; i++)
		bad |= set(k, az_kind_name((enum az_kind)i), jint(t->by_kind[i]));
	json_t *ini = json_object();
	for (int i = 0; i < AZ_NINITIATORS; i++)
		bad |= set(ini, az_initiator_name((enum az_initiator)i), jint(t->by_initiator[i]));
	json_t *o = json_object();
	bad |= set(o, "connections", jint(t->connections));
	bad |= set(o, "by_kind", k);
	bad |= set(o, "by_initiator", ini);
	bad |= set(o, "lingered", jint(t->lingered));
	bad |= set(o, "role_inferred", jint(t->role_inferred));
	bad |= set(o, "rst_before_ack", jint(t->rst_before_ack));
	bad |= set(o, "not_retained", jint(t->not_retained));
	bad |= set(o, "hazard", json_boolean(t->rst_before_ack > 0));
	return done(o, bad);
}

/* The end of the verdict (text, a NUL-terminated string in size bytes)
 * when a live capture lost frames before the analyzer saw them: nothing
 * the verdict says can be vouched for. Cut short if text is full. */
static void verdict_capture_losses(char *text, size_t size, const struct report_input *in)
{
	size_t len = strlen(text);
	uint64_t k = in->kernel_dropped, i = in->interface_dropped;
	if (!in->kernel_stats || (k == 0 && i == 0) || len + 1 >= size)
		return;
	if (k && i)
		snprintf(text + len, size - len, "; analysis incomplete: the kernel dropped "
		         "%llu packet%s and the interface %llu", (unsigned long long)k,
		         k == 1 ? "" : "s", (unsigned long long)i);
	else
		snprintf(text + len, size - len, "; analysis incomplete: the %s dropped %llu packet%s",
		         k ? "kernel" : "interface", (unsigned long long)(k ? k : i),
		         (k ? k : i) == 1 ? "" : "s");
}

/* The analyze verdict, one sentence a person can act on. */
static int set_analysis_verdict(json_t *root, const struct az *az,
                                const struct report_input *in)
{
	const struct az_totals *t = az_totals(az);
	uint64_t srv = 0, cli = 0;
	uint32_t most = 0;
	for (size_t i = 0; i < az_n_findings(az); i++) {
		const struct az_rst_finding *f = az_finding(az, i);
		uint32_t risk = f->bytes_at_risk_at_server > f->bytes_at_risk_at_client
		                ? f->bytes_at_risk_at_server : f->bytes_at_risk_at_client;
		if (f->sender == AZ_SERVER) {
			srv++;
			if (risk > most)
				most = risk;
		} else {
			cli++;
		}
	}
	char text[512];
	size_t len = 0;
	int n;
	if (t->rst_before_ack == 0)
		n = snprintf(text, sizeof text, "no rst_before_ack in %llu connection%s",
		             (unsigned long long)t->connections, t->connections == 1 ? "" : "s");
	else
		n = snprintf(text, sizeof text, "%llu rst_before_ack: the server reset %llu "
		             "connection%s with up to %u response bytes unacknowledged",
		             (unsigned long long)t->rst_before_ack, (unsigned long long)srv,
		             srv == 1 ? "" : "s", most);
	if (n > 0)
		len = (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
	if (cli && len < sizeof text) {
		n = snprintf(text + len, sizeof text - len, "; the client reset %llu with "
		             "request bytes unacknowledged", (unsigned long long)cli);
		if (n > 0)
			len += (size_t)n < sizeof text - len ? (size_t)n : sizeof text - len - 1;
	}
	const struct az_fw2_summary *fw = az_fw2(az, AZ_SERVER);
	if (fw && fw->count && len < sizeof text)
		snprintf(text + len, sizeof text - len, "; server FIN_WAIT_2: %llu socket%s, peak %u",
		         (unsigned long long)fw->count, fw->count == 1 ? "" : "s", fw->peak);
	verdict_capture_losses(text, sizeof text, in);
	/* exit_code: frames the capture lost (verdict_capture_losses) leave
	 * the analysis unvouched; once the CI exit codes exist (issue 10, exit
	 * 4), this argument and cmd_analyze()'s return are where it is mapped. */
	return report_set_verdict(root, t->rst_before_ack > 0, 0, text);
}

/* Everything but the connection records, which the callers add (in one
 * piece or streamed). */
static json_t *analysis_head(const struct az *az, const struct report_input *in,
                             double *t0)
{
	const struct az_stats *st = az_stats(az);
	*t0 = st->packets ? st->first_time : 0;
	json_t *fd = json_array();
	int bad = 0;
	for (size_t i = 0; i < az_n_findings(az); i++)
		bad |= push(fd, jfinding(az_finding(az, i), *t0));
	json_t *fw = json_object();
	int b = set(fw, "server", jfw2(az_fw2(az, AZ_SERVER), AZ_SERVER, *t0));
	b |= set(fw, "client", jfw2(az_fw2(az, AZ_CLIENT), AZ_CLIENT, *t0));

	json_t *o = json_object();
	bad |= set(o, "report_version", json_integer(REPORT_VERSION));
	bad |= set(o, "tool", jtool());
	bad |= set(o, "generated_at", jtimestamp(in->generated_at));
	bad |= set(o, "command", jstr(in->command ? in->command : "analyze"));
	bad |= set(o, "input", jinput(az, in));
	bad |= set(o, "options", joptions(in));
	bad |= set(o, "summary", jsummary(az));
	bad |= set(o, "findings", fd);
	bad |= set(o, "fin_wait_2", done(fw, b));
	/* a placeholder keeps the member order; filled or streamed later */
	bad |= set(o, "connections", json_array());
	if (!bad)
		bad |= set_analysis_verdict(o, az, in) ? 1 : 0;
	return done(o, bad);
}

json_t *report_analysis(const struct az *az, const struct report_input *in)
{
	double t0;
	json_t *o = analysis_head(az, in, &t0);
	if (!o)
		return NULL;
	json_t *conns = json_object_get(o, "connections"); /* borrowed */
	int bad = 0;
	for (size_t i = 0; i < az_n_retained(az); i++)
		bad |= push(conns, report_conn(az_retained(az, i), t0, true));
	return done(o, bad);
}

int report_set_verdict(json_t *report, bool hazard, int exit_code, const char *text)
{
	json_t *v = json_object();
	int bad = set(v, "hazard", json_boolean(hazard));
	bad |= set(v, "exit_code", json_integer(exit_code));
	bad |= set(v, "text", jstr(text));
	v = done(v, bad);
	if (!v)
		return -1;
	/* delete first so the verdict lands last, after any lab members */
	json_object_del(report, "verdict");
	return json_object_set_new(report, "verdict", v) ? -1 : 0;
}

/* ---- writing ---------------------------------------------------------- */

/*
 * Dump v as json_dumps would at nesting depth `depth`: every line after the
 * first is indented 2*depth more. Safe because JSON strings never hold a
 * raw newline (jansson escapes it), so every '\n' is a line break.
 */
static int dump_at_prec(FILE *f, const json_t *v, int depth, int prec)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_REAL_PRECISION(prec) | JSON_ENCODE_ANY);
	if (!s) {
		errno = ENOMEM;
		return -1;
	}
	int rc = 0;
	for (const char *p = s; *p && rc == 0; ) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (fwrite(p, 1, n, f) != n)
			rc = -1;
		if (nl && rc == 0 && fprintf(f, "%*s", 2 * depth, "") < 0)
			rc = -1;
		p += n;
	}
	free(s);
	s = NULL;
	return rc;
}

static int dump_at(FILE *f, const json_t *v, int depth)
{
	return dump_at_prec(f, v, depth, REPORT_REAL_PRECISION);
}

/* The retained connections as a JSON array at depth 1, one at a time. */
static int dump_conns(FILE *f, const struct az *az, double t0)
{
	size_t n = az_n_retained(az);
	if (n == 0)
		return fputs("[]", f) < 0 ? -1 : 0;
	if (fputs("[\n", f) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_t *c = report_conn(az_retained(az, i), t0, true);
		if (!c) {
			errno = ENOMEM;
			return -1;
		}
		int rc = fputs("    ", f) < 0 ? -1 : dump_at(f, c, 2);
		json_decref(c);
		if (rc || fputs(i + 1 < n ? ",\n" : "\n  ]", f) < 0)
			return -1;
	}
	return 0;
}

/*
 * An object at nesting depth `depth`, member by member, laid out exactly as
 * json_dumps(REPORT_DUMP_FLAGS) would: the top level (depth 0) streams
 * `connections` from az when given and descends into `input`, whose epoch
 * times get their 16 digits.
 */
static int dump_members(FILE *f, const json_t *obj, int depth, const struct az *az, double t0)
{
	const char *key;
	json_t *v;
	bool first = true;
	int ind = 2 * (depth + 1);
	if (!json_object_size(obj))
		return fputs("{}", f) < 0 ? -1 : 0;
	if (fputs("{\n", f) < 0)
		return -1;
	json_object_foreach((json_t *)obj, key, v) {
		json_t *k = json_string(key);
		int rc = k ? 0 : -1;
		if (rc == 0 && fprintf(f, "%s%*s", first ? "" : ",\n", ind, "") < 0)
			rc = -1;
		if (rc == 0)
			rc = dump_at(f, k, depth + 1);
		json_decref(k);
		if (rc == 0 && fputs(": ", f) < 0)
			rc = -1;
		if (rc)
			return -1;
		if (depth == 0 && az && !strcmp(key, "connections"))
			rc = dump_conns(f, az, t0);
		else if (depth == 0 && !strcmp(key, "input") && json_is_object(v))
			rc = dump_members(f, v, 1, NULL, 0);
		else if (depth == 1 && (!strcmp(key, "start_time") || !strcmp(key, "end_time")))
			rc = dump_at_prec(f, v, depth + 1, REPORT_EPOCH_PRECISION);
		else
			rc = dump_at(f, v, depth + 1);
		if (rc)
			return -1;
		first = false;
	}
	return fprintf(f, "\n%*s}", 2 * depth, "") < 0 ? -1 : 0;
}

static int dump_report(FILE *f, const json_t *root, const struct az *az, double t0)
{
	if (dump_members(f, root, 0, az, t0) != 0)
		return -1;
	return fputc('\n', f) == EOF ? -1 : 0;
}

/*
 * Open where the report goes: stdout, the file itself when it is not a
 * regular file (never rename over /dev/null), else a temporary file in the
 * same directory (rename is atomic only within one file system).
 */
static FILE *open_out(const char *path, char *tmp, size_t tmplen, char *err, size_t errlen)
{
	struct stat sb;
	tmp[0] = '\0';
	if (!strcmp(path, "-"))
		return stdout;
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		FILE *f = fopen(path, "w");
		if (!f)
			errmsg_set(err, errlen, "write report: %s: %s", path, strerror(errno));
		return f;
	}
	int n = snprintf(tmp, tmplen, "%s.%ld.tmp", path, (long)getpid());
	if (n < 0 || (size_t)n >= tmplen) {
		errmsg_set(err, errlen, "write report: %s: path too long", path);
		tmp[0] = '\0';
		return NULL;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		errmsg_set(err, errlen, "write report: %s: %s", path, strerror(errno));
		tmp[0] = '\0';
		return NULL;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		errmsg_set(err, errlen, "write report: %s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		tmp[0] = '\0';
	}
	return f;
}

static int write_common(const json_t *root, const struct az *az, double t0,
                        const char *path, char *err, size_t errlen)
{
	char tmp[4096];
	FILE *f = open_out(path, tmp, sizeof tmp, err, errlen);
	if (!f)
		return -1;
	int rc = dump_report(f, root, az, t0);
	int e = errno;
	if (f == stdout) {
		if (fflush(f) != 0 || ferror(f))
			rc = -1, e = errno;
	} else if (fclose(f) != 0) {
		if (rc == 0)
			e = errno;
		rc = -1;
	}
	f = NULL;
	if (rc) {
		errmsg_set(err, errlen, "write report: %s: %s", path, strerror(e ? e : EIO));
		goto out;
	}
	if (tmp[0] && rename(tmp, path) != 0) {
		errmsg_set(err, errlen, "write report: %s: %s", path, strerror(errno));
		rc = -1;
	}
out:
	if (rc && tmp[0])
		unlink(tmp);
	return rc;
}

int report_write(const json_t *report, const char *path, char *err, size_t errlen)
{
	if (!json_is_object(report)) {
		errmsg_set(err, errlen, "write report: not a JSON object");
		return -1;
	}
	return write_common(report, NULL, 0, path, err, errlen);
}

int report_write_analysis(const struct az *az, const struct report_input *in,
                          const char *path, char *err, size_t errlen)
{
	double t0;
	json_t *head = analysis_head(az, in, &t0);
	if (!head) {
		errmsg_set(err, errlen, "write report: out of memory");
		return -1;
	}
	int rc = write_common(head, az, t0, path, err, errlen);
	json_decref(head);
	return rc;
}

/* ---- JSON Lines --------------------------------------------------------
 *
 * `--connections` writes every connection of a capture, so this is a hot
 * path: through jansson a record costs some 140 allocations and a dump,
 * which made `analyze --connections` several times slower than the
 * analysis itself. The record is written here straight into a fixed
 * buffer instead, member for member as report_conn() builds it, in the
 * bytes json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(15)) would give;
 * tests/unit/test_report.c holds the two to that.
 */

struct jw {
	char buf[4096];            /* a record is < 1.5 KiB; more is refused */
	size_t len;
	bool full;
	bool comma;                /* a member or element came before */
};

static void jw_raw(struct jw *w, const char *s, size_t n)
{
	if (w->full || n > sizeof w->buf - w->len) {
		w->full = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void jw_lit(struct jw *w, const char *s)
{
	jw_raw(w, s, strlen(s));
}

/* A string, escaped as jansson does for what reaches here (names,
 * addresses: ASCII); runs of plain bytes are copied at once. */
static void jw_str(struct jw *w, const char *s)
{
	jw_raw(w, "\"", 1);
	for (;;) {
		size_t run = 0;
		while (s[run] && s[run] != '"' && s[run] != '\\' && (unsigned char)s[run] >= 0x20)
			run++;
		jw_raw(w, s, run);
		s += run;
		if (!*s)
			break;
		char esc[8];
		if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = *s;
			jw_raw(w, esc, 2);
		} else {
			snprintf(esc, sizeof esc, "\\u%04X", (unsigned char)*s);
			jw_raw(w, esc, 6);
		}
		s++;
	}
	jw_raw(w, "\"", 1);
}

static void jw_sep(struct jw *w)
{
	if (w->comma)
		jw_raw(w, ",", 1);
	w->comma = true;
}

/* Member names are this file's own identifiers: nothing to escape. */
static void jw_key(struct jw *w, const char *k)
{
	size_t n = strlen(k);
	jw_sep(w);
	if (w->full || n + 3 > sizeof w->buf - w->len) {
		w->full = true;
		return;
	}
	char *p = w->buf + w->len;
	p[0] = '"';
	memcpy(p + 1, k, n);
	p[n + 1] = '"';
	p[n + 2] = ':';
	w->len += n + 3;
}

static void jw_open(struct jw *w, const char *k, char brace)
{
	if (k)
		jw_key(w, k);
	else
		jw_sep(w);
	jw_raw(w, &brace, 1);
	w->comma = false;
}

static void jw_close(struct jw *w, char brace)
{
	jw_raw(w, &brace, 1);
	w->comma = true;
}

/* v in decimal at d (room for 20 digits); the number of digits. */
static size_t fmt_u64(char *d, uint64_t v)
{
	char t[20];
	size_t n = 0, m = 0;
	do {
		t[m++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (m > 0)
		d[n++] = t[--m];
	return n;
}

static void jw_u64(struct jw *w, const char *k, uint64_t v)
{
	char d[20];
	size_t n = fmt_u64(d, v);
	if (k)
		jw_key(w, k);
	else
		jw_sep(w);
	jw_raw(w, d, n);
}

static void jw_null(struct jw *w, const char *k)
{
	jw_key(w, k);
	jw_lit(w, "null");
}

static void jw_bool(struct jw *w, const char *k, bool v)
{
	jw_key(w, k);
	jw_lit(w, v ? "true" : "false");
}

static void jw_string(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	jw_str(w, v);
}

/* Seconds as jsec() rounds them, printed as jansson prints a real with
 * REPORT_REAL_PRECISION: %.15g, ".0" when that looks like an integer,
 * exponent without "+" or leading zeros. */
static void jw_sec(struct jw *w, const char *k, double s)
{
	char d[40];
	if (!isfinite(s)) {
		jw_null(w, k);
		return;
	}
	double r = round(s * 1e6) / 1e6;
	/* The common case without printf (a --connections line has several
	 * of these; printf was a fifth of writing one): a whole number of
	 * microseconds below 1e6 s has at most 12 significant digits, which
	 * %.15g prints exactly, trailing zeros dropped. Below 1e-4 %g turns to
	 * exponents: 1 to 99 us are "De-6", "De-5" or "D.De-5". Zero (and -0)
	 * go to printf. */
	if (fabs(r) < 1e6) {
		long long us = llround(fabs(r) * 1e6);
		int n = 0;

		if (r < 0)
			d[n++] = '-';
		if (us >= 100) {
			long long frac = us % 1000000;

			n += (int)fmt_u64(d + n, (uint64_t)(us / 1000000));
			d[n++] = '.';
			if (frac == 0) {
				d[n++] = '0';
			} else {
				for (int i = 5; i >= 0; i--, frac /= 10)
					d[n + i] = (char)('0' + frac % 10);
				n += 6;
				while (d[n - 1] == '0')
					n--;
			}
		} else if (us >= 10) {
			d[n++] = (char)('0' + us / 10);
			if (us % 10) {
				d[n++] = '.';
				d[n++] = (char)('0' + us % 10);
			}
			memcpy(d + n, "e-5", 3);
			n += 3;
		} else if (us > 0) {
			d[n++] = (char)('0' + us);
			memcpy(d + n, "e-6", 3);
			n += 3;
		}
		if (us > 0) {
			jw_key(w, k);
			jw_raw(w, d, (size_t)n);
			return;
		}
	}
	int n = snprintf(d, sizeof d, "%.*g", REPORT_REAL_PRECISION, r);
	if (n <= 0 || (size_t)n >= sizeof d - 2) {
		w->full = true;
		return;
	}
	char *e = strchr(d, 'e');
	if (!e && !strchr(d, '.')) {
		memcpy(d + n, ".0", 3);
		n += 2;
	} else if (e) {
		char *from = e + 1, *to = e + 1;
		if (*from == '+')
			from++;
		else if (*from == '-')
			from++, to++;
		while (*from == '0' && from[1])
			from++;
		memmove(to, from, strlen(from) + 1);
		n = (int)strlen(d);
	}
	jw_key(w, k);
	jw_raw(w, d, (size_t)n);
}

static void jw_addr(struct jw *w, const char *k, uint8_t af, const uint8_t addr[16],
                    uint16_t port)
{
	char buf[INET6_ADDRSTRLEN];
	if (af != 6) {
		/* what inet_ntop() writes, without its sprintf per address */
		char *p = buf;
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p += fmt_u64(p, addr[i]);
		}
		*p = '\0';
	} else if (!inet_ntop(AF_INET6, addr, buf, sizeof buf)) {
		snprintf(buf, sizeof buf, "?");
	}
	jw_open(w, k, '{');
	jw_string(w, "addr", buf);
	jw_u64(w, "port", port);
	jw_close(w, '}');
}

static void jw_opt_u64(struct jw *w, const char *k, bool present, uint64_t v)
{
	if (present)
		jw_u64(w, k, v);
	else
		jw_null(w, k);
}

static void jw_dir(struct jw *w, const char *k, const struct az_dir *d)
{
	jw_open(w, k, '{');
	jw_u64(w, "data_end", d->data_end);
	jw_opt_u64(w, "fin_seq", d->fin_seen, d->fin_seq);
	jw_opt_u64(w, "acked", d->acked_seen, d->acked);
	jw_u64(w, "packets", d->packets);
	jw_u64(w, "bytes", d->bytes);
	jw_u64(w, "retransmissions", d->retrans_packets);
	jw_bool(w, "rst", d->rst_seen);
	jw_opt_u64(w, "fin_packet", d->fin_seen, d->fin_packet);
	jw_opt_u64(w, "rst_packet", d->rst_seen, d->rst_packet);
	jw_u64(w, "http_messages", d->http_messages);
	jw_opt_u64(w, "mss", d->mss != 0, d->mss);
	jw_opt_u64(w, "wscale", d->wscale >= 0, (uint64_t)(d->wscale >= 0 ? d->wscale : 0));
	jw_bool(w, "sack_permitted", d->sack_permitted);
	jw_bool(w, "timestamps", d->timestamps);
	jw_close(w, '}');
}

static void jw_fw2(struct jw *w, const char *k, const struct az_fw2_interval *iv,
                   enum az_side side, double t0)
{
	if (!iv->present) {
		jw_null(w, k);
		return;
	}
	jw_open(w, k, '{');
	jw_sec(w, "start", iv->start - t0);
	jw_sec(w, "end", iv->end - t0);
	jw_sec(w, "duration", iv->end - iv->start);
	jw_string(w, "ending", fw2_ending(side, iv->ending));
	jw_close(w, '}');
}

/* report_conn(c, t0, false), written. Keep the two in step. */
static void jw_conn(struct jw *w, const struct az_conn *c, double t0)
{
	jw_open(w, NULL, '{');
	jw_u64(w, "id", c->id);
	jw_u64(w, "af", c->af);
	jw_addr(w, "client", c->af, c->client_addr, c->client_port);
	jw_addr(w, "server", c->af, c->server_addr, c->server_port);
	jw_bool(w, "role_inferred", c->role_inferred);
	jw_bool(w, "handshake", c->handshake_seen);
	if (c->rtt_known) {
		jw_open(w, "rtt", '{');
		jw_sec(w, "to_server", c->h_s);
		jw_sec(w, "to_client", c->h_c);
		jw_close(w, '}');
	} else {
		jw_null(w, "rtt");
	}
	jw_sec(w, "first_time", c->first_time - t0);
	jw_sec(w, "last_time", c->last_time - t0);
	jw_u64(w, "first_packet", c->first_packet);
	jw_u64(w, "last_packet", c->last_packet);
	jw_string(w, "close_initiator", az_initiator_name(c->initiator));
	jw_string(w, "kind", az_kind_name(c->kind));
	jw_string(w, "client_end", az_state_name(c->client_end));
	jw_string(w, "server_end", az_state_name(c->server_end));
	jw_dir(w, "c2s", &c->c2s);
	jw_dir(w, "s2c", &c->s2c);
	jw_bool(w, "lingered", c->lingered);
	if (c->lingered) {
		jw_open(w, "linger", '{');
		jw_sec(w, "seconds", c->linger_seconds);
		jw_u64(w, "bytes_drained", c->linger_bytes);
		jw_close(w, '}');
	} else {
		jw_null(w, "linger");
	}
	jw_open(w, "fin_wait_2", '{');
	jw_fw2(w, "server", &c->server_fw2, AZ_SERVER, t0);
	jw_fw2(w, "client", &c->client_fw2, AZ_CLIENT, t0);
	jw_close(w, '}');
	jw_open(w, "http", '{');
	jw_u64(w, "requests", c->http_requests);
	jw_open(w, "responses", '[');
	for (unsigned i = 0; i < c->n_responses && i < AZ_MAX_HTTP_RESPONSES; i++) {
		jw_open(w, NULL, '{');
		jw_u64(w, "index", i + 1);
		jw_u64(w, "status", c->responses[i].status);
		jw_bool(w, "complete", c->responses[i].complete);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_u64(w, "unanswered", c->http_unanswered);
	jw_close(w, '}');
	jw_opt_u64(w, "finding", c->finding >= 0, (uint64_t)(c->finding >= 0 ? c->finding : 0));
	jw_close(w, '}');
}

int report_conn_line(FILE *f, const struct az_conn *c, double t0)
{
	struct jw w;
	w.len = 0;
	w.full = false;
	w.comma = false;
	jw_conn(&w, c, t0);
	jw_raw(&w, "\n", 1);
	if (w.full) {
		errno = EOVERFLOW;
		return -1;
	}
	return fwrite(w.buf, 1, w.len, f) == w.len ? 0 : -1;
}
