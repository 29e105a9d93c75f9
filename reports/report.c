/*
 * report.c - the JSON report writer (contract in report.h, format in
 * docs/report-format.md).
 *
 * Ownership rule, kept everywhere in this file (see reports/jhelp.h):
 * every value is created inline as the argument of set() or push(), which
 * take ownership even when they fail; failures are OR-ed into a `bad` flag
 * and the container is dropped once at the end. No json_incref anywhere,
 * no value shared between two parents. The findings and the summary's
 * words live in reports/findings.c, the JSON Lines writer (the same
 * connection record without jansson) in reports/connline.c.
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
#include "reports/findings.h"
#include "reports/jhelp.h"

/* Reals: every time is rounded to the microsecond (jsec), so relative
 * times and durations have at most 15 significant digits and print exactly
 * with %.15g; jansson's default %.17g, or even %.16g, shows 0.008285 as
 * 0.008285000000000001. Absolute epoch times (input.start_time, end_time)
 * need 16 digits for their microseconds: they alone are written with
 * REPORT_EPOCH_PRECISION (see dump_members). */
#define REPORT_EPOCH_PRECISION 16
#define REPORT_DUMP_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(REPORT_REAL_PRECISION))

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
		if (r->parse_lost)
			b |= set(o, "parse_lost", json_true());
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
	if (c->tls_records_c2s || c->tls_records_s2c) {
		json_t *t = json_object(), *r = json_object();
		const char *v = az_tls_version_name(c->tls_version);
		int b = set(r, "c2s", jint(c->tls_records_c2s));
		b |= set(r, "s2c", jint(c->tls_records_s2c));
		b |= set(t, "version", v ? json_string(v) : json_null());
		b |= set(t, "records", done(r, b));
		json_t *nd = json_object();
		int b2 = !nd;
		for (int k = 0; k < AZ_TLS_NSKIPS; k++)
			b2 |= set(nd, az_tls_skip_name((enum az_tls_skip)k),
			          jint(c->tls_not_decrypted[k]));
		b |= set(t, "decrypted", json_boolean(c->tls_decrypted));
		b |= set(t, "records_decrypted", jint(c->tls_records_decrypted));
		b |= set(t, "not_decrypted", done(nd, b2));
		bad |= set(o, "tls", done(t, b));
	} else {
		bad |= set(o, "tls", json_null());
	}
	bad |= set(o, "zeek_conn_state", json_string(az_zeek_state_name(c->zeek_state)));
	bad |= set(o, "zeek_history", json_string(c->zeek_history));
	bad |= set(o, "zeek_orig", json_string(c->zeek_orig_is_client ? "client" : "server"));
	bad |= set(o, "c2s", jdir(&c->c2s));
	bad |= set(o, "s2c", jdir(&c->s2c));
	bad |= set(o, "lingered", json_boolean(c->lingered));
	if (c->lingered) {
		json_t *l = json_object();
		int b = set(l, "seconds", jsec(c->linger_seconds));
		b |= set(l, "bytes_drained", jint(c->linger_bytes));
		b |= set(l, "ended_by", json_string(az_linger_end_name(c->linger_end)));
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
	int32_t fx[2];
	unsigned nf = conn_findings(c, fx);
	json_t *fl = json_array();
	for (unsigned i = 0; i < nf; i++)
		bad |= push(fl, json_integer(fx[i]));
	bad |= set(o, "findings", fl);
	bad |= set(o, "evicted", json_boolean(c->evicted));
	if (with_timeline)
		bad |= set(o, "timeline", jtimeline(c, t0));
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
	if (in->input_extra)
		bad |= json_object_update(o, (json_t *)in->input_extra) != 0;
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
	char text[1024];
	report_verdict_text(az, text, sizeof text);
	verdict_capture_losses(text, sizeof text, in);
	/* exit_code: frames the kernel dropped leave the analysis unvouched:
	 * cmd_analyze() makes it 4 (LL_EXIT_UNVOUCHED) */
	return report_set_verdict(root, az_totals(az)->rst_before_ack > 0, in->exit_code, text);
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
		bad |= push(fd, report_finding(az_finding(az, i), *t0));
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
	bad |= set(o, "summary", report_summary(az));
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

/* Dump into f and close it (flush only, for stdout). Returns 0, or -1
 * with "write report: PATH: why" in err. */
static int write_stream(FILE *f, const json_t *root, const struct az *az, double t0,
                        const char *path, char *err, size_t errlen)
{
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
	if (rc)
		errmsg_set(err, errlen, "write report: %s: %s", path, strerror(e ? e : EIO));
	return rc;
}

static int write_common(const json_t *root, const struct az *az, double t0,
                        const char *path, char *err, size_t errlen)
{
	char tmp[4096];
	FILE *f = open_out(path, tmp, sizeof tmp, err, errlen);
	if (!f)
		return -1;
	int rc = write_stream(f, root, az, t0, path, err, errlen);
	f = NULL;
	if (rc)
		goto out;
	if (tmp[0] && rename(tmp, path) != 0) {
		errmsg_set(err, errlen, "write report: %s: %s", path, strerror(errno));
		rc = -1;
	}
out:
	if (rc && tmp[0])
		unlink(tmp);
	return rc;
}

int report_write_to(FILE *f, const json_t *report, const char *path, char *err,
                    size_t errlen)
{
	if (!json_is_object(report)) {
		errmsg_set(err, errlen, "write report: not a JSON object");
		if (f != stdout)
			fclose(f);
		return -1;
	}
	return write_stream(f, report, NULL, 0, path, err, errlen);
}

FILE *report_open_early(const char *path, char *err, size_t errlen)
{
	if (!strcmp(path, "-"))
		return stdout;
	FILE *f = fopen(path, "we");
	if (!f)
		errmsg_set(err, errlen, "write report: %s: %s", path, strerror(errno));
	return f;
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

int report_write_analysis_to(FILE *f, const struct az *az, const struct report_input *in,
                             const char *path, char *err, size_t errlen)
{
	double t0;
	json_t *head = analysis_head(az, in, &t0);
	if (!head) {
		errmsg_set(err, errlen, "write report: out of memory");
		if (f != stdout)
			fclose(f);
		return -1;
	}
	int rc = write_stream(f, head, az, t0, path, err, errlen);
	json_decref(head);
	return rc;
}
