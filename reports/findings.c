/*
 * findings.c - findings[], the summary's counts and the analyze verdict
 * (contract in findings.h, format in docs/report-format.md).
 *
 * A finding holds two views. The sender's (the seed's rule: never reset
 * before the ACK of everything sent has arrived) is the finding itself:
 * bytes_at_risk_at_server and its basis. The peer's grades it: every RST of
 * the sender's with its fate at the peer under RFC 5961 3.2 (reset,
 * challenge ACK, ignored) and the resulting impact. The JSON names the two
 * "client_impact" (server RSTs only) and "impact" (either sender).
 *
 * Ownership as in jhelp.h: every value is created inline in set()/push().
 */
#include "reports/findings.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "reports/jhelp.h"

/* printf into buf at *n, never past len; *n stays at the terminator. */
__attribute__((format(printf, 4, 5)))
static void add(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*n + 1 >= len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *n, len - *n, fmt, ap);
	va_end(ap);
	if (w > 0)
		*n += (size_t)w < len - *n ? (size_t)w : len - *n - 1;
}

static json_t *jevidence(const struct az_rst_finding *f)
{
	if (f->basis != AZ_BASIS_EVIDENCE)
		return json_null();
	json_t *o = json_object();
	int bad = set(o, "packet", jint(f->evidence_packet));
	bad |= set(o, "peer_packet", f->evidence_peer_packet ? jint(f->evidence_peer_packet)
	                                                     : json_null());
	bad |= set(o, "acked", jint(f->evidence_acked));
	return done(o, bad);
}

static json_t *jfate(const struct az_rst_fate *r, double t0)
{
	json_t *o = json_object();
	int bad = set(o, "packet", jint(r->packet));
	bad |= set(o, "time", jsec(r->arrival - t0));
	bad |= set(o, "seq", jint(r->seq));
	bad |= set(o, "rcv_nxt", jint(r->rcv_nxt));
	bad |= set(o, "peer_acked", jint(r->peer_acked));
	bad |= set(o, "accept", json_string(az_accept_name(r->accept)));
	return done(o, bad);
}

/* The peer's side: at = the RST receiver. */
static json_t *jimpact(const struct az_rst_finding *f, double t0)
{
	json_t *rs = json_array();
	int bad = 0;
	for (uint32_t i = 0; i < f->n_fates && i < AZ_MAX_RST_FATES; i++)
		bad |= push(rs, jfate(&f->fates[i], t0));
	json_t *o = json_object();
	bad |= set(o, "at", json_string(side_name(f->sender == AZ_SERVER ? AZ_CLIENT : AZ_SERVER)));
	bad |= set(o, "grade", json_string(az_impact_name(f->impact)));
	bad |= set(o, "estimated", json_boolean(f->impact_estimated));
	bad |= set(o, "accepted_rst_packet", f->accepted_rst_packet
	                                     ? jint(f->accepted_rst_packet) : json_null());
	bad |= set(o, "unacked_at_accept", jint(f->unacked_at_accept));
	bad |= set(o, "rsts_total", jint(f->rsts_total));
	bad |= set(o, "rsts", rs);
	return done(o, bad);
}

/* Whether a close_notify can be among the records at risk (judged in
 * analyzer/judge.c: TLS 1.2 shows an alert's type, TLS 1.3 needs keys). */
static const char *tls_close_notify(const struct az_rst_finding *f)
{
	return az_tls_close_notify_name(f->tls_close_notify);
}

static json_t *jtls(const struct az_rst_finding *f)
{
	if (!f->tls)
		return json_null();
	json_t *o = json_object(), *types = json_array();
	const char *v = az_tls_version_name(f->tls_version);
	uint32_t n = f->tls_records_at_risk < AZ_MAX_TLS_AT_RISK ? f->tls_records_at_risk
	                                                         : AZ_MAX_TLS_AT_RISK;
	int bad = !types;
	for (uint32_t i = 0; i < n; i++)
		bad |= push(types, json_string(az_tls_type_name(f->tls_types[i])));
	bad |= set(o, "version", v ? json_string(v) : json_null());
	bad |= set(o, "records_at_risk", jint(f->tls_records_at_risk));
	bad |= set(o, "types", types);
	bad |= set(o, "close_notify", json_string(tls_close_notify(f)));
	bad |= set(o, "decrypted", json_boolean(f->tls_decrypted));
	bad |= set(o, "not_decrypted_at_risk", jint(f->tls_not_decrypted_at_risk));
	return done(o, bad);
}

void report_finding_summary(const struct az_rst_finding *f, char *buf, size_t len)
{
	const char *what = f->sender == AZ_SERVER ? "response" : "request";
	const char *sender = side_name(f->sender);
	const char *peer = side_name(f->sender == AZ_SERVER ? AZ_CLIENT : AZ_SERVER);
	size_t n = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	add(buf, len, &n, "%s RST (packet %llu) while %u %s bytes were unacknowledged as "
	    "far as the %s could know", sender, (unsigned long long)f->rst_packet,
	    f->bytes_at_risk_at_server, what, sender);
	add(buf, len, &n, "; %s", f->impact_estimated ? "by estimate, " : "");
	switch (f->impact) {
	case AZ_IMPACT_RESET_BEFORE_ACK:
		add(buf, len, &n, "the %s accepted a RST (packet %llu) while it had not "
		    "acknowledged %u of them (reset_before_ack)", peer,
		    (unsigned long long)(f->accepted_rst_packet ? f->accepted_rst_packet
		                                                : f->rst_packet),
		    f->unacked_at_accept);
		break;
	case AZ_IMPACT_RESET_AFTER_ACK:
		add(buf, len, &n, "the %s had acknowledged all of it before any RST it "
		    "would accept (reset_after_ack)", peer);
		break;
	case AZ_IMPACT_NO_RESET:
		add(buf, len, &n, "the %s would accept no RST of the %s's (no_reset)", peer, sender);
		break;
	}
	if (f->tls && f->tls_records_at_risk > 0) {
		/* "; TLS 1.3: 2 records at risk (1 application_data, 1 alert)" */
		static const int order[] = { AZ_TLS_HANDSHAKE, AZ_TLS_CHANGE_CIPHER_SPEC,
		                             AZ_TLS_APPLICATION_DATA, AZ_TLS_ALERT,
		                             AZ_TLS_HEARTBEAT };
		uint32_t m = f->tls_records_at_risk < AZ_MAX_TLS_AT_RISK ? f->tls_records_at_risk
		                                                         : AZ_MAX_TLS_AT_RISK;
		const char *v = az_tls_version_name(f->tls_version);
		const char *sep = " (";
		add(buf, len, &n, "; TLS%s%s: %u record%s at risk", v ? " " : "", v ? v : "",
		    f->tls_records_at_risk, f->tls_records_at_risk == 1 ? "" : "s");
		for (size_t t = 0; t < sizeof order / sizeof order[0]; t++) {
			uint32_t c = 0;
			for (uint32_t i = 0; i < m; i++)
				c += f->tls_types[i] == order[t];
			if (c) {
				add(buf, len, &n, "%s%u %s", sep, c, az_tls_type_name(order[t]));
				sep = ", ";
			}
		}
		if (sep[0] == ',')
			add(buf, len, &n, "%s", m < f->tls_records_at_risk ? ", ...)" : ")");
		if (f->tls_close_notify == AZ_TLS_CN_CANNOT_TELL)
			add(buf, len, &n, "; a close_notify cannot be told from data without keys");
		else if (f->tls_decrypted && f->tls_close_notify == AZ_TLS_CN_ALERT_RECORD)
			add(buf, len, &n, "; decrypted: a close_notify is among them");
		else if (f->tls_decrypted)
			add(buf, len, &n, "; decrypted: no close_notify among them");
	}
}

json_t *report_finding(const struct az_rst_finding *f, double t0)
{
	char text[400];
	report_finding_summary(f, text, sizeof text);

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
	bad |= set(o, "evidence", jevidence(f));
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
	bad |= set(o, "tls", jtls(f));
	bad |= set(o, "client_impact", f->sender == AZ_SERVER
	                               ? json_string(az_impact_name(f->impact)) : json_null());
	bad |= set(o, "impact", jimpact(f, t0));
	bad |= set(o, "summary", json_string(text));
	return done(o, bad);
}

/* Members named by the analyzer's words, in enum order. */
static json_t *jcounts(const uint64_t *v, int n, const char *(*name)(int))
{
	json_t *o = json_object();
	int bad = 0;
	for (int i = 0; i < n; i++)
		bad |= set(o, name(i), jint(v[i]));
	return done(o, bad);
}

static const char *kind_name(int i) { return az_kind_name((enum az_kind)i); }
static const char *zeek_name(int i) { return az_zeek_state_name((enum az_zeek_state)i); }
static const char *initiator_name(int i) { return az_initiator_name((enum az_initiator)i); }
static const char *impact_name(int i) { return az_impact_name((enum az_impact)i); }
static const char *linger_end_name(int i) { return az_linger_end_name((enum az_linger_end)i); }

/* by_basis lists the proof first: evidence, timing, capture_order. */
static json_t *jby_basis(const uint64_t by_basis[3])
{
	static const enum az_basis order[3] = {
		AZ_BASIS_EVIDENCE, AZ_BASIS_TIMING, AZ_BASIS_CAPTURE_ORDER,
	};
	json_t *o = json_object();
	int bad = 0;
	for (int i = 0; i < 3; i++)
		bad |= set(o, az_basis_name(order[i]), jint(by_basis[order[i]]));
	return done(o, bad);
}

/* The memory bound and what it cost (analyzer.h, az_new). */
static json_t *jmemory(const struct az *az)
{
	const struct az_totals *t = az_totals(az);
	size_t peak, limit = az_memory_limit(az);
	json_t *o = json_object();

	(void)az_memory(az, &peak);
	int bad = set(o, "limit", limit == SIZE_MAX ? json_null() : jint(limit));
	bad |= set(o, "peak", jint(peak));
	bad |= set(o, "evicted", jint(t->evicted));
	bad |= set(o, "evicted_fin_wait_2", jint(t->evicted_fin_wait_2));
	bad |= set(o, "evicted_embryos", jint(t->evicted_embryos));
	bad |= set(o, "grace_cut", jint(t->grace_cut));
	return done(o, bad);
}

json_t *report_summary(const struct az *az)
{
	const struct az_totals *t = az_totals(az);
	json_t *o = json_object();
	int bad = set(o, "connections", jint(t->connections));
	bad |= set(o, "by_kind", jcounts(t->by_kind, AZ_NKINDS, kind_name));
	bad |= set(o, "by_initiator", jcounts(t->by_initiator, AZ_NINITIATORS, initiator_name));
	bad |= set(o, "lingered", jint(t->lingered));
	bad |= set(o, "linger_ended_by", jcounts(t->linger_ends, AZ_NLINGER_ENDS, linger_end_name));
	bad |= set(o, "role_inferred", jint(t->role_inferred));
	bad |= set(o, "by_zeek_conn_state", jcounts(t->by_zeek_state, AZ_NZEEK_STATES, zeek_name));
	bad |= set(o, "rst_before_ack", jint(t->rst_before_ack));
	bad |= set(o, "rst_before_ack_server", jint(t->rst_before_ack_by_sender[AZ_SERVER]));
	bad |= set(o, "rst_before_ack_client", jint(t->rst_before_ack_by_sender[AZ_CLIENT]));
	bad |= set(o, "client_impact", jcounts(t->by_impact[AZ_SERVER], AZ_NIMPACTS, impact_name));
	bad |= set(o, "by_basis", jby_basis(t->by_basis));
	bad |= set(o, "not_retained", jint(t->not_retained));
	bad |= set(o, "memory", jmemory(az));
	bad |= set(o, "hazard", json_boolean(t->rst_before_ack > 0));
	return done(o, bad);
}

/* How the clients fared under the server's RSTs, e.g. "at the client: 1
 * reset before it acknowledged the response (reset_before_ack), 1 only
 * after (reset_after_ack)". */
static void impact_words(const struct az_totals *t, char *buf, size_t len, size_t *n)
{
	const uint64_t *im = t->by_impact[AZ_SERVER];
	unsigned long long rba = im[AZ_IMPACT_RESET_BEFORE_ACK];
	unsigned long long raa = im[AZ_IMPACT_RESET_AFTER_ACK];
	unsigned long long none = im[AZ_IMPACT_NO_RESET];
	const char *sep = "";

	if (rba + raa + none == 0)
		return;
	add(buf, len, n, "; at the client: ");
	if (rba) {
		add(buf, len, n, "%llu reset before it acknowledged the response "
		    "(reset_before_ack)", rba);
		sep = ", ";
	}
	if (raa) {
		add(buf, len, n, "%s%llu %s after it had acknowledged all of it "
		    "(reset_after_ack)", sep, raa, rba ? "only" : "reset only");
		sep = ", ";
	}
	if (none)
		add(buf, len, n, "%s%llu never reset: it would accept none of the server's "
		    "RSTs (no_reset)", sep, none);
}

void report_verdict_text(const struct az *az, char *buf, size_t len)
{
	const struct az_totals *t = az_totals(az);
	unsigned long long srv = t->rst_before_ack_by_sender[AZ_SERVER];
	unsigned long long cli = t->rst_before_ack_by_sender[AZ_CLIENT];
	/* over every finding: the report keeps only the first max_retained */
	uint32_t most = t->bytes_at_risk_max[AZ_SERVER];
	size_t n = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (t->rst_before_ack == 0)
		add(buf, len, &n, "no rst_before_ack in %llu connection%s",
		    (unsigned long long)t->connections, t->connections == 1 ? "" : "s");
	else
		add(buf, len, &n, "%llu rst_before_ack: ", (unsigned long long)t->rst_before_ack);
	if (srv) {
		add(buf, len, &n, "the server reset %llu connection%s with up to %u response "
		    "bytes unacknowledged", srv, srv == 1 ? "" : "s", most);
		impact_words(t, buf, len, &n);
	}
	if (cli)
		add(buf, len, &n, "%sthe client reset %llu%s with request bytes unacknowledged",
		    srv ? "; " : "", cli, srv ? "" : cli == 1 ? " connection" : " connections");
	/* the retention cap limits what is listed, never what is counted */
	if (t->not_retained)
		add(buf, len, &n, "; the report lists the first %zu finding%s (findings[]); %llu "
		    "more flagged connection%s %s counted above but not listed "
		    "(summary.not_retained)", az_n_findings(az), az_n_findings(az) == 1 ? "" : "s",
		    (unsigned long long)t->not_retained, t->not_retained == 1 ? "" : "s",
		    t->not_retained == 1 ? "is" : "are");
	const struct az_fw2_summary *fw = az_fw2(az, AZ_SERVER);
	if (fw && fw->count)
		add(buf, len, &n, "; server FIN_WAIT_2: %llu socket%s, peak %u",
		    (unsigned long long)fw->count, fw->count == 1 ? "" : "s", fw->peak);
	/* the memory bound: what it ended early */
	if (t->evicted)
		add(buf, len, &n, "; incomplete: %llu connection%s in progress %s not tracked "
		    "to the end (memory bound %zu MiB)", (unsigned long long)t->evicted,
		    t->evicted == 1 ? "" : "s", t->evicted == 1 ? "was" : "were",
		    az_memory_limit(az) >> 20);
	if (t->evicted_embryos)
		add(buf, len, &n, "; %llu SYN-only flow%s ended early (memory bound %zu MiB)",
		    (unsigned long long)t->evicted_embryos, t->evicted_embryos == 1 ? "" : "s",
		    az_memory_limit(az) >> 20);
}
