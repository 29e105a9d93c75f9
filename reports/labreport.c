/*
 * labreport.c - the lab's members of a report, its verdict and the human
 * summary of `lingerlab run` (contract in labreport.h).
 *
 * Ownership rule, as in report.c: json_object_set_new() and
 * json_array_append_new() take ownership of the fresh value they are given
 * even when they fail, so values are created inline as their argument,
 * failures are OR-ed into `bad`, and a container is dropped once at the end.
 */
#include "reports/labreport.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "reports/appreport.h"
#include "reports/cli.h"
#include "reports/report.h"
#include "reports/safetext.h"
#include "reports/textout.h"

static int set(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) ? 1 : 0;
}

static int push(json_t *a, json_t *v)
{
	return json_array_append_new(a, v) ? 1 : 0;
}

static json_t *done(json_t *o, int bad)
{
	if (bad || !o) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *jsec(double s)
{
	if (!isfinite(s))
		return json_null();
	return json_real(round(s * 1e6) / 1e6);
}

/* Relative time, never before the capture's first frame. */
static json_t *jrel(double t, double t0)
{
	return jsec(t > t0 ? t - t0 : 0.0);
}

static json_t *jint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

/* Strings from outside (scenario files, the command line, what the server
 * sent): safe_jstring() keeps a report possible when they are not UTF-8. */
static json_t *jstr(const char *s)
{
	return s && *s ? safe_jstring(s) : json_null();
}

double labreport_t0(const struct run_outcome *o)
{
	const struct az_stats *st = o->az ? az_stats(o->az) : NULL;
	if (st && st->packets)
		return st->first_time;
	return o->n_scenarios ? o->scenarios[0].start : 0.0;
}

json_t *labreport_kernel_counts(const uint32_t n[SCN_NKSTATES])
{
	json_t *o = json_object();
	int bad = 0;
	for (int k = 0; k < SCN_NKSTATES; k++)
		bad |= set(o, scn_kstate_name((enum scn_kstate)k), jint(n[k]));
	return done(o, bad);
}

static json_t *packet_list(const uint64_t *v, size_t n)
{
	json_t *a = json_array();
	int bad = 0;
	for (size_t i = 0; i < n && !bad; i++)
		bad |= push(a, jint(v[i]));
	return done(a, bad);
}

json_t *labreport_lab(const struct run_outcome *o, double t0)
{
	json_t *lab = json_object();
	int bad = 0;

	json_t *t = json_object();
	int tb = set(t, "kind", json_string(run_target_kind_name(o->kind)));
	tb |= set(t, "policy", o->kind == RUN_TARGET_BUILTIN ? jstr(o->policy) : json_null());
	tb |= set(t, "command", jstr(o->command));
	tb |= set(t, "address", jstr(o->address));
	tb |= set(t, "port", o->port ? json_integer(o->port) : json_null());
	if (o->kind == RUN_TARGET_REMOTE) {
		/* how the raw client reached a target outside the lab */
		json_t *r = json_object();
		int rb = set(r, "interface", jstr(o->iface));
		rb |= set(r, "source", jstr(o->source));
		rb |= set(r, "gateway", jstr(o->gateway));
		rb |= set(r, "local", json_boolean(o->target_local));
		rb |= set(r, "client_ports", json_pack("[ii]", o->client_port_lo, o->client_port_hi));
		json_t *f = json_null();
		if (o->kernel_rst_filter) {
			f = json_object();
			int fb = set(f, "table", jstr(o->filter_table));
			fb |= set(f, "rule", jstr(o->filter_rule));
			fb |= set(f, "dropped", jint(o->filter_dropped));
			f = done(f, fb);
		}
		rb |= set(r, "kernel_rst_filter", f);
		tb |= set(t, "route", done(r, rb));
	}
	bad |= set(lab, "target", done(t, tb));

	bad |= set(lab, "capture", jstr(o->capture_path));
	json_t *ns = json_object();
	int nb = set(ns, "server", jstr(o->server_ns));
	nb |= set(ns, "client", jstr(o->client_ns));
	bad |= set(lab, "namespaces", done(ns, nb));
	bad |= set(lab, "leaked_rst", jint(o->leaked_rst));
	bad |= set(lab, "capture_dropped", jint(o->pcap_drops));
	json_t *rt = json_object();
	int rtb = set(rt, "granted", json_boolean(o->realtime));
	rtb |= set(rt, "policy", o->realtime ? json_string("SCHED_FIFO") : json_null());
	rtb |= set(rt, "priority", o->realtime ? json_integer(o->realtime_priority) : json_null());
	rtb |= set(rt, "refused", jstr(o->realtime_refused));
	bad |= set(lab, "realtime", done(rt, rtb));
	bad |= set(lab, "cleanup_error", jstr(o->lab_error));
	bad |= set(lab, "cleanup_rst_packets",
	           packet_list(o->cleanup_rst_packets, o->n_cleanup_rst_packets));
	bad |= set(lab, "emulated_rtt", jsec(o->rtt_us / 1e6));

	json_t *k = json_object();
	int kb = set(k, "interval", jsec(o->sample_interval));
	kb |= set(k, "peak", labreport_kernel_counts(o->kernel_peak));
	json_t *pt = json_object();
	int pb = 0;
	for (int s = 0; s < SCN_NKSTATES; s++)
		pb |= set(pt, scn_kstate_name((enum scn_kstate)s),
		          o->kernel_peak[s] ? jrel(o->kernel_peak_time[s], t0) : json_null());
	kb |= set(k, "peak_time", done(pt, pb));
	json_t *samples = json_array();
	int sb = 0;
	for (size_t i = 0; i < o->n_samples && !sb; i++) {
		json_t *e = json_object();
		int eb = set(e, "t", jrel(o->samples[i].t, t0));
		eb |= set(e, "states", labreport_kernel_counts(o->samples[i].n));
		eb |= set(e, "client_states", appreport_client_states(o, &o->samples[i]));
		sb |= push(samples, done(e, eb));
	}
	kb |= set(k, "samples", done(samples, sb));
	kb |= set(k, "fin_wait_2_timeouts", jint(o->fin_wait_2_timeouts));
	bad |= set(lab, "kernel", done(k, kb));
	return done(lab, bad);
}

static json_t *client_member(const struct run_scenario *rs)
{
	json_t *c = json_object();
	json_t *resp = json_array();
	int bad = 0, rb = 0;
	size_t listed = 0;
	for (size_t i = 0; i < rs->n_conns && !rb; i++) {
		const struct run_conn *k = &rs->conns[i];
		if (!k->az_id)
			continue;
		for (uint32_t j = 0; j < k->n_records && listed < LABREPORT_MAX_RESPONSES; j++) {
			json_t *e = json_object();
			int eb = set(e, "connection", jint(k->az_id));
			eb |= set(e, "index", jint(j + 1));
			eb |= set(e, "status", k->rec[j].status ? json_integer(k->rec[j].status)
			                                         : json_null());
			eb |= set(e, "complete", json_boolean(k->rec[j].complete));
			eb |= set(e, "bytes", jint(k->rec[j].bytes));
			rb |= push(resp, done(e, eb));
			listed++;
		}
	}
	bad |= set(c, "responses", done(resp, rb));
	bad |= set(c, "reset_seen", json_boolean(rs->reset_seen));
	bad |= set(c, "bytes_received", jint(rs->bytes_received));
	/* TLS: the version the handshakes settled on, and how many
	 * connections got the server's close_notify */
	const char *ver = NULL;
	uint64_t cn = 0, tls_conns = 0;
	for (size_t i = 0; i < rs->n_conns; i++) {
		if (rs->conns[i].tls_version[0]) {
			tls_conns++;
			if (!ver)
				ver = rs->conns[i].tls_version;
		}
		cn += rs->conns[i].tls_peer_close_notify;
	}
	if (tls_conns) {
		json_t *t = json_object();
		int tb = set(t, "version", json_string(ver));
		tb |= set(t, "connections", jint(tls_conns));
		tb |= set(t, "server_close_notify", jint(cn));
		bad |= set(c, "tls", done(t, tb));
	} else {
		bad |= set(c, "tls", json_null());
	}
	return done(c, bad);
}

static json_t *summary_member(const struct run_scenario *rs)
{
	json_t *s = json_object();
	int bad = set(s, "rst_before_ack", jint(rs->rst_before_ack[AZ_SERVER]));
	bad |= set(s, "bytes_at_risk", jint(rs->bytes_at_risk_max[AZ_SERVER]));
	bad |= set(s, "client_rst_before_ack", jint(rs->rst_before_ack[AZ_CLIENT]));
	json_t *ci = json_object();
	int cb = 0;
	for (int i = 0; i < AZ_NIMPACTS; i++)
		cb |= set(ci, az_impact_name((enum az_impact)i), jint(rs->client_impact[i]));
	bad |= set(s, "client_impact", done(ci, cb));
	bad |= set(s, "lingered", jint(rs->lingered));
	bad |= set(s, "bytes_drained", jint(rs->linger_bytes));
	json_t *le = json_object();
	int lb = 0;
	for (int i = 0; i < AZ_NLINGER_ENDS; i++)
		lb |= set(le, az_linger_end_name((enum az_linger_end)i), jint(rs->linger_ended_by[i]));
	bad |= set(s, "linger_ended_by", done(le, lb));
	bad |= set(s, "fin_wait_2_count", jint(rs->fw2[AZ_SERVER].count));
	bad |= set(s, "fin_wait_2_peak", jint(rs->fw2[AZ_SERVER].peak));
	json_t *fe = json_object();
	int fb = 0;
	for (int i = 0; i < RUN_NFW2_ENDS; i++)
		fb |= set(fe, run_fw2_end_name((enum run_fw2_end)i),
		          jint(rs->fw2_endings[AZ_SERVER][i]));
	bad |= set(s, "fin_wait_2_endings", done(fe, fb));
	bad |= set(s, "fin_wait_2_timeouts",
	           jint(rs->fw2_endings[AZ_SERVER][RUN_FW2_KERNEL_TIMEOUT]));
	bad |= set(s, "kernel_fin_wait_2_count", jint(rs->kernel_fw2_count));
	bad |= set(s, "kernel_fin_wait_2_max", jsec(rs->kernel_fw2_max));
	bad |= set(s, "cleanup_rsts", jint(rs->cleanup_rsts));
	bad |= set(s, "client_aborts", jint(rs->client_aborts));
	bad |= set(s, "lab_artefacts", jint(rs->lab_artefacts));
	bad |= set(s, "kernel_peak", labreport_kernel_counts(rs->kernel_peak));
	bad |= set(s, "leaked_rst", jint(rs->leaked_rst));
	bad |= set(s, "timed_out", json_boolean(rs->timed_out));
	return done(s, bad);
}

/* The scenario's findings as the lab sees them: lab artefacts flagged. */
static json_t *findings_member(const struct run_outcome *o, const struct run_scenario *rs)
{
	json_t *a = json_array();
	int bad = 0;
	for (size_t i = 0; i < rs->n_findings && !bad; i++) {
		const struct az_rst_finding *f = az_finding(o->az, rs->findings[i].index);
		json_t *e = json_object();
		int eb = set(e, "connection", jint(f->conn_id));
		eb |= set(e, "sender", json_string(f->sender == AZ_SERVER ? "server" : "client"));
		eb |= set(e, "rst_packet", jint(f->rst_packet));
		eb |= set(e, "bytes_at_risk", jint(f->bytes_at_risk_at_server));
		eb |= set(e, "impact", json_string(az_impact_name(f->impact)));
		eb |= set(e, "lab_artefact", json_boolean(rs->findings[i].lab_artefact));
		if (rs->findings[i].tls_response) {
			/* under TLS the analyzer sees records; the lab decrypted them */
			json_t *r = json_object();
			int rb = set(r, "index", jint(rs->findings[i].tls_response));
			rb |= set(r, "status", jint(rs->findings[i].tls_status));
			rb |= set(r, "from", json_string("decrypted"));
			eb |= set(e, "response", done(r, rb));
		} else {
			eb |= set(e, "response", json_null());
		}
		bad |= push(a, done(e, eb));
	}
	return done(a, bad);
}

/* Per connection: the server socket as the kernel samples showed it in
 * FIN_WAIT_2, beside the interval the report keeps and the wire's. */
static json_t *kernel_fw2_member(const struct run_scenario *rs, double t0)
{
	json_t *a = json_array();
	int bad = 0;
	size_t n = 0;
	for (size_t i = 0; i < rs->n_conns && !bad && n < LABREPORT_MAX_RESPONSES; i++) {
		struct run_conn c = rs->conns[i]; /* run_kernel_fw2 is idempotent */
		double ks;
		run_kernel_fw2(&c, &ks);
		if (ks < 0)
			continue;
		n++;
		json_t *e = json_object();
		int eb = set(e, "connection", c.az_id ? jint(c.az_id) : json_null());
		eb |= set(e, "port", jint(c.port));
		eb |= set(e, "first_seen", jrel(c.kfw2_first, t0));
		eb |= set(e, "gone", c.kfw2_gone > 0 ? jrel(c.kfw2_gone, t0) : json_null());
		eb |= set(e, "seconds", jsec(ks));
		const struct az_fw2_interval *iv = &c.fw2[AZ_SERVER];
		eb |= set(e, "start", iv->present ? jrel(iv->start, t0) : json_null());
		eb |= set(e, "end", iv->present ? jrel(iv->end, t0) : json_null());
		eb |= set(e, "ending", iv->present
		          ? json_string(run_fw2_end_name(c.fw2_ending[AZ_SERVER])) : json_null());
		eb |= set(e, "wire_end", c.fw2_wire.present ? jrel(c.fw2_wire.end, t0) : json_null());
		eb |= set(e, "wire_ending", c.fw2_wire.present
		          ? json_string(az_fw2_end_name(c.fw2_wire.ending)) : json_null());
		bad |= push(a, done(e, eb));
	}
	return done(a, bad);
}

static json_t *cleanup_member(const struct run_scenario *rs)
{
	json_t *a = json_array();
	int bad = 0;
	for (size_t i = 0; i < rs->n_conns && !bad; i++)
		if (rs->conns[i].cleanup_rst_packet)
			bad |= push(a, jint(rs->conns[i].cleanup_rst_packet));
	return done(a, bad);
}

static json_t *notes_member(const struct run_scenario *rs)
{
	json_t *a = json_array();
	int bad = 0;
	size_t n = 0, noted = 0;
	for (size_t i = 0; i < rs->n_conns; i++) {
		const struct run_conn *c = &rs->conns[i];
		if (!c->note[0] && !c->http_failed)
			continue;
		noted++;
		if (n >= LABREPORT_MAX_NOTES)
			continue;
		char who[64], line[320];
		if (c->az_id)
			snprintf(who, sizeof who, "connection %llu (port %u)",
			         (unsigned long long)c->az_id, c->port);
		else if (c->port)
			snprintf(who, sizeof who, "client port %u", c->port);
		else
			snprintf(who, sizeof who, "connection %u of set %u", c->index + 1, c->group);
		snprintf(line, sizeof line, "%s: %s%s%s", who, c->note,
		         c->note[0] && c->http_failed ? "; " : "",
		         c->http_failed ? "the server's bytes stopped looking like HTTP" : "");
		bad |= push(a, safe_jstring(line));   /* c->note: the server's bytes */
		n++;
	}
	if (noted > n) {
		char line[96];
		snprintf(line, sizeof line, "... and %zu more connections with notes", noted - n);
		bad |= push(a, json_string(line));
	}
	return done(a, bad);
}

json_t *labreport_scenarios(const struct run_outcome *o, double t0)
{
	json_t *arr = json_array();
	int bad = 0;
	for (size_t i = 0; i < o->n_scenarios && !bad; i++) {
		const struct run_scenario *rs = &o->scenarios[i];
		const struct scn_scenario *scn = rs->scn;
		json_t *s = json_object();
		int b = set(s, "name", safe_jstring(scn->name));
		b |= set(s, "file", jstr(scn->file));
		b |= set(s, "about", jstr(scn->about));
		json_t *ids = json_array();
		int ib = 0;
		for (size_t j = 0; j < rs->n_conns; j++)
			if (rs->conns[j].az_id)
				ib |= push(ids, jint(rs->conns[j].az_id));
		b |= set(s, "connections", done(ids, ib));
		b |= set(s, "client", client_member(rs));
		json_t *ex = json_array();
		int xb = 0;
		for (size_t j = 0; j < rs->n_results; j++) {
			const struct run_expect_result *r = &rs->results[j];
			json_t *e = json_object();
			int eb = set(e, "line", jint(r->x->line));
			eb |= set(e, "text", safe_jstring(r->x->text));
			eb |= set(e, "passed", json_boolean(r->passed));
			eb |= set(e, "detail", jstr(r->detail));
			xb |= push(ex, done(e, eb));
		}
		b |= set(s, "expectations", done(ex, xb));
		b |= set(s, "passed", json_boolean(rs->passed));
		b |= set(s, "rtt", jsec(rs->rtt_us / 1e6));
		b |= set(s, "start", jrel(rs->start, t0));
		b |= set(s, "end", jrel(rs->end, t0));
		b |= set(s, "tcp_fin_timeout", rs->tcp_fin_timeout ? jint(rs->tcp_fin_timeout)
		                                                  : json_null());
		b |= set(s, "summary", summary_member(rs));
		b |= set(s, "findings", findings_member(o, rs));
		b |= set(s, "kernel_fin_wait_2", kernel_fw2_member(rs, t0));
		b |= set(s, "cleanup_rst_packets", cleanup_member(rs));
		b |= set(s, "notes", notes_member(rs));
		b |= appreport_scenario(s, rs) < 0;
		bad |= push(arr, done(s, b));
	}
	return done(arr, bad);
}

bool labreport_unvouched(const struct run_outcome *o, char *why, size_t cap)
{
	size_t len = 0;
	int n = 0;

	why[0] = '\0';
#define WHY(...) do { \
		if (len < cap) { \
			n = snprintf(why + len, cap - len, "%s", len ? ", " : ""); \
			len += n > 0 ? (size_t)n : 0; \
		} \
		if (len < cap) { \
			n = snprintf(why + len, cap - len, __VA_ARGS__); \
			len += n > 0 ? (size_t)n : 0; \
		} \
	} while (0)
	if (o->leaked_rst)
		WHY("%llu leaked RST%s from the client side", (unsigned long long)o->leaked_rst,
		    o->leaked_rst == 1 ? "" : "s");
	if (o->pcap_drops)
		WHY("the capture dropped %llu packet%s", (unsigned long long)o->pcap_drops,
		    o->pcap_drops == 1 ? "" : "s");
	if (o->read_error[0])
		WHY("reading the capture stopped early");
	if (o->lab_error[0])
		WHY("removing the lab failed (`lingerlab lab clean` removes the rest)");
#undef WHY
	return len > 0;
}

int labreport_exit_code(const struct run_outcome *o)
{
	char why[8];

	if (labreport_unvouched(o, why, sizeof why))
		return LL_EXIT_UNVOUCHED;
	return o->passed ? LL_EXIT_OK : LL_EXIT_FAIL;
}

bool labreport_hazard(const struct run_outcome *o)
{
	for (size_t i = 0; i < o->n_scenarios; i++)
		if (o->scenarios[i].rst_before_ack[AZ_SERVER])
			return true;
	return false;
}

void labreport_verdict_text(const struct run_outcome *o, char *buf, size_t cap)
{
	size_t failed = 0, findings = 0, listed;
	uint64_t risk = 0, unlisted = 0;
	for (size_t i = 0; i < o->n_scenarios; i++) {
		const struct run_scenario *rs = &o->scenarios[i];
		failed += !rs->passed;
		findings += rs->rst_before_ack[AZ_SERVER];
		if (rs->bytes_at_risk_max[AZ_SERVER] > risk)
			risk = rs->bytes_at_risk_max[AZ_SERVER];
	}
	/* The scenarios know only the findings the analyzer kept (its
	 * retention cap, summary.not_retained); its totals count them all.
	 * The server's findings are never lab artefacts (those are the
	 * runner's own RSTs), so its total is the run's. */
	listed = findings;
	if (o->az && az_totals(o->az)->not_retained) {
		const struct az_totals *t = az_totals(o->az);
		unlisted = t->not_retained;
		if (t->rst_before_ack_by_sender[AZ_SERVER] > findings)
			findings = (size_t)t->rst_before_ack_by_sender[AZ_SERVER];
		if (t->bytes_at_risk_max[AZ_SERVER] > risk)
			risk = t->bytes_at_risk_max[AZ_SERVER];
	}
	int n;
	if (failed)
		n = snprintf(buf, cap, "%zu of %zu scenario%s failed %s expectations", failed,
		             o->n_scenarios, o->n_scenarios == 1 ? "" : "s",
		             failed == 1 ? "its" : "their");
	else
		n = snprintf(buf, cap, "all %zu scenario%s passed", o->n_scenarios,
		             o->n_scenarios == 1 ? "" : "s");
	if (n < 0 || (size_t)n >= cap)
		return;
	size_t len = (size_t)n;
	if (findings)
		len += (size_t)snprintf(buf + len, cap - len,
		        "; %zu rst_before_ack: the server reset %zu connection%s with up to %llu "
		        "response bytes unacknowledged", findings, findings,
		        findings == 1 ? "" : "s", (unsigned long long)risk);
	if (unlisted && findings && len < cap)
		len += (size_t)snprintf(buf + len, cap - len,
		        "; the scenarios list %zu of them; %llu more flagged connection%s %s "
		        "counted here but listed nowhere (summary.not_retained)", listed,
		        (unsigned long long)unlisted, unlisted == 1 ? "" : "s",
		        unlisted == 1 ? "is" : "are");
	else if (!findings && len < cap)
		len += (size_t)snprintf(buf + len, cap - len, "; no rst_before_ack");
	if (o->target_exited && len < cap)
		len += (size_t)snprintf(buf + len, cap - len, "; the target exited during the run");
	char why[400];
	if (labreport_unvouched(o, why, sizeof why) && len < cap)
		snprintf(buf + len, cap - len, "; the lab cannot vouch for this result: %s", why);
}

int labreport_add(json_t *report, const struct run_outcome *o)
{
	double t0 = labreport_t0(o);
	json_t *lab = labreport_lab(o, t0);
	json_t *scn = labreport_scenarios(o, t0);
	if (!lab || !scn) {
		json_decref(lab);
		json_decref(scn);
		return -1;
	}
	if (json_object_set_new(report, "lab", lab) ||
	    json_object_set_new(report, "scenarios", scn))
		return -1;
	char text[1024];
	labreport_verdict_text(o, text, sizeof text);
	return report_set_verdict(report, labreport_hazard(o), labreport_exit_code(o), text);
}

int labreport_verdict_amend(json_t *report, int exit_code, const char *more)
{
	const json_t *v = json_object_get(report, "verdict");
	const char *t = json_string_value(json_object_get(v, "text"));
	char text[2048];

	snprintf(text, sizeof text, "%s%s%s", t ? t : "", more ? "; " : "", more ? more : "");
	return report_set_verdict(report, json_is_true(json_object_get(v, "hazard")), exit_code, text);
}

/* ---- the terminal summary ------------------------------------------------ */

void labreport_print_failures(const struct tout *t, const struct run_scenario *rs)
{
	for (size_t j = 0; j < rs->n_results; j++) {
		const struct run_expect_result *r = &rs->results[j];
		if (!r->passed)
			tout_fprintf(t->f, "    line %u: %s\n      -> %s\n", r->x->line, r->x->text,
			             r->detail);
	}
}

void labreport_print_summary(const struct tout *t, const struct run_outcome *o)
{
	FILE *f = t->f;

	tout_fprintf(f, "%-26s %5s %9s %8s %15s  %s\n", "scenario", "rst", "at risk",
	        "lingered", "fin_wait_2 peak", "expectations");
	tout_fprintf(f, "%-26s %5s %9s %8s %15s\n", "", "", "(bytes)", "", "analyzer/kernel");
	for (size_t i = 0; i < o->n_scenarios; i++) {
		const struct run_scenario *rs = &o->scenarios[i];
		size_t failed = 0;
		for (size_t j = 0; j < rs->n_results; j++)
			failed += !rs->results[j].passed;
		char fw2[48], ex[80];
		snprintf(fw2, sizeof fw2, "%u/%u", rs->fw2[AZ_SERVER].peak,
		         rs->kernel_peak[SCN_K_FIN_WAIT_2]);
		if (!rs->n_results)
			snprintf(ex, sizeof ex, "none");
		else if (failed)
			snprintf(ex, sizeof ex, "FAIL (%zu of %zu failed)", failed, rs->n_results);
		else
			snprintf(ex, sizeof ex, "pass (%zu)", rs->n_results);
		tout_fprintf(f, "%-26.26s %5llu %9llu %8llu %15s  %s\n", rs->scn->name,
		        (unsigned long long)rs->rst_before_ack[AZ_SERVER],
		        (unsigned long long)rs->bytes_at_risk_max[AZ_SERVER],
		        (unsigned long long)rs->lingered, fw2, ex);
		labreport_print_failures(t, rs);
		appreport_print(f, rs);
		if (rs->timed_out)
			tout_fprintf(f, "    (cut short by its timeout)\n");
		uint64_t kt = rs->fw2_endings[AZ_SERVER][RUN_FW2_KERNEL_TIMEOUT];
		if (kt)
			tout_fprintf(f, "    %llu FIN_WAIT_2 socket%s ended by the kernel's timeout "
			        "(tcp_fin_timeout%s), longest %.3f s\n", (unsigned long long)kt,
			        kt == 1 ? "" : "s", rs->tcp_fin_timeout ? " set by the scenario" : "",
			        rs->kernel_fw2_max);
	}
	if (o->leaked_rst)
		tout_fprintf(f, "leaked RSTs: %llu (a kernel on the client side answered for the raw "
		        "client: the run is not valid)\n", (unsigned long long)o->leaked_rst);
	if (o->pcap_drops)
		tout_fprintf(f, "capture drops: %llu (the analysis misses packets: the run is not "
		        "valid)\n", (unsigned long long)o->pcap_drops);
	if (o->target_exited) {
		/* the target's own lines: the filter escapes all but their newlines */
		tout_fprintf(f, "the target exited during the run; its output ends:\n");
		fprintf(f, "%s\n", o->target_log_tail);
	}
	if (o->read_error[0])
		tout_fprintf(f, "reading the capture stopped early: %s\n", o->read_error);
	if (o->lab_error[0])
		tout_fprintf(f, "removing the lab failed (`lingerlab lab clean` removes the rest): %s\n",
		        o->lab_error);
}
