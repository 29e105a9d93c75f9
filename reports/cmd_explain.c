/*
 * cmd_explain.c - `lingerlab explain REPORT.json [--connection ID]
 * [--color=auto|always|never]`: the packet timeline of each flagged
 * connection, one line per packet, with plain-English notes at the moments
 * that matter, in the spirit of the annotated 1997 trace in shared/seeds/.
 *
 * It reads only the report (the timeline lives there); it decides nothing
 * the analyzer has not already decided, it only tells the story.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/seq.h"
#include "reports/cli.h"
#include "reports/pcaptl.h"
#include "reports/reportfile.h"
#include "reports/textout.h"

/* Connections explained when no --connection is given; the rest are listed. */
#define EXPLAIN_MAX_CONNS 3

#define NOTE_PREFIX "             | "

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: lingerlab explain REPORT.json [--connection ID] [--color=auto|always|never]\n"
	        "\n"
	        "Print the packet timeline of the report's flagged connections, one line\n"
	        "per packet, with notes that say what happened and why it matters.\n"
	        "\n"
	        "  -c, --connection ID   explain this connection (an id from the report)\n"
	        "      --color=WHEN      auto (default: colour when stdout is a terminal\n"
	        "                        and NO_COLOR is unset), always, never\n"
	        "  -h, --help            show this help\n"
	        "\n"
	        "REPORT.json is a report from lingerlab analyze, run or audit (\"-\": stdin).\n"
	        "Exit status: 0 explained, 2 bad usage or unreadable report.\n");
}

/* What we know about one connection before walking its packets. */
struct story {
	const json_t *root, *conn, *finding;
	struct rf_timeline tl;
	double t0;                  /* first timeline packet */
	bool have_rtt;
	double to_server, to_client;

	bool s_fin_known;           /* s2c.fin_seq is a number */
	uint32_t s_fin_seq;
	bool c_fin_known;
	uint32_t c_fin_seq;
	uint32_t s_data_end;        /* s2c.data_end */
	int status;                 /* HTTP status of the response at risk or
	                               the last one seen, 0 if none */
	long long resp_index;
	long long rst_packet;       /* the finding's RST, -1 if none */
	const char *finding_sender; /* "server" / "client" */
	bool lingered;
	double linger_seconds;
	long long linger_bytes;
	const json_t *fw2_server, *fw2_client;

	/* walk state */
	bool seen_s_fin, seen_c_fin, seen_rst_note, seen_other_rst;
	bool noted_handshake, noted_response, noted_late_data, noted_fw2,
	     noted_linger, noted_all_acked, noted_client_fin, noted_s_fin;
	double s_fin_t, last_s_data_t;
	bool seen_s_data;
	long long late_bytes;       /* client payload after the server FIN */
	long long late_packets;
};

static const char *dir_arrow(enum rf_dir d)
{
	return d == RF_C2S ? "C --> S" : "C <-- S";
}


static void endpoint(char *buf, size_t len, const json_t *ep)
{
	const char *a = rf_str(ep, "addr");
	long long port = rf_int(ep, "port", -1);

	if (!a)
		a = "?";
	if (strchr(a, ':'))
		snprintf(buf, len, "[%s]:%lld", a, port);
	else
		snprintf(buf, len, "%s:%lld", a, port);
}

static const char *ms(double s, char *buf, size_t len)
{
	if (s < 0.001)
		snprintf(buf, len, "%.0f µs", s * 1e6);
	else if (s < 1.0)
		snprintf(buf, len, "%.1f ms", s * 1e3);
	else
		snprintf(buf, len, "%.3f s", s);
	return buf;
}

static void note(const struct tout *o, const char *text)
{
	tout_para(o, NOTE_PREFIX, TOUT_CYAN, TOUT_PLAIN, text);
}

static void story_init(struct story *s, const json_t *root, const json_t *conn)
{
	json_t *rtt = rf_obj(conn, "rtt"), *s2c = rf_obj(conn, "s2c"), *c2s = rf_obj(conn, "c2s");
	json_t *http = rf_obj(conn, "http"), *resp, *lg, *fw2;

	memset(s, 0, sizeof *s);
	s->root = root;
	s->conn = conn;
	s->finding = rf_finding_for(root, rf_int(conn, "id", -1));
	s->have_rtt = rf_is_num(rtt, "to_server") && rf_is_num(rtt, "to_client");
	s->to_server = rf_num(rtt, "to_server", 0);
	s->to_client = rf_num(rtt, "to_client", 0);
	s->s_fin_known = rf_is_num(s2c, "fin_seq");
	s->s_fin_seq = (uint32_t)rf_int(s2c, "fin_seq", 0);
	s->c_fin_known = rf_is_num(c2s, "fin_seq");
	s->c_fin_seq = (uint32_t)rf_int(c2s, "fin_seq", 0);
	s->s_data_end = (uint32_t)rf_int(s2c, "data_end", 0);
	s->rst_packet = s->finding ? rf_int(s->finding, "rst_packet", -1) : -1;
	s->finding_sender = rf_str(s->finding, "sender");
	resp = rf_obj(s->finding, "response");
	if (resp) {
		s->status = (int)rf_int(resp, "status", 0);
		s->resp_index = rf_int(resp, "index", 0);
	} else {
		json_t *rs = rf_arr(http, "responses");
		size_t n = rs ? json_array_size(rs) : 0;
		if (n) {
			s->status = (int)rf_int(json_array_get(rs, n - 1), "status", 0);
			s->resp_index = rf_int(json_array_get(rs, n - 1), "index", 0);
		}
	}
	s->lingered = rf_bool(conn, "lingered", false);
	lg = rf_obj(conn, "linger");
	s->linger_seconds = rf_num(lg, "seconds", 0);
	s->linger_bytes = rf_int(lg, "bytes_drained", 0);
	fw2 = rf_obj(conn, "fin_wait_2");
	s->fw2_server = rf_obj(fw2, "server");
	s->fw2_client = rf_obj(fw2, "client");
}

static void response_words(const struct story *s, struct sbuf *b)
{
	if (s->status >= 400)
		sb_add(b, "its HTTP %d error response", s->status);
	else if (s->status > 0)
		sb_add(b, "its HTTP %d response", s->status);
	else
		sb_add(b, "its response");
}

static void fw2_ending_words(const json_t *fw2, struct sbuf *b, const char *peer)
{
	const char *ending = rf_str(fw2, "ending");
	char d[32];

	ms(rf_num(fw2, "duration", 0), d, sizeof d);
	if (!ending)
		sb_add(b, " The report does not say how this ended.");
	else if (!strcmp(ending, "capture_end"))
		sb_add(b, " Here it never came: the socket was still in FIN_WAIT_2 when the "
		          "capture ended, %s later. A socket that waits for a FIN that never "
		          "comes holds kernel memory until a timeout (Linux: tcp_fin_timeout, "
		          "60 s by default) frees it; many such clients can pile them up.", d);
	else if (strstr(ending, "_fin"))
		sb_add(b, " Here the %s's FIN came %s later, which ends it.", peer, d);
	else if (strstr(ending, "_rst"))
		sb_add(b, " Here a RST ended it %s later.", d);
}

/*
 * Client data seen before the server's FIN (packet k) at the capture point
 * may still reach the server after the server sent that FIN: with the
 * round trip to the server known, a client packet seen at t arrives at
 * t + to_server/2, and the FIN left at fin_t - to_server/2.
 */
static bool in_flight(struct story *s, size_t k, struct sbuf *b)
{
	double fin_t = s->tl.pkts[k].t, late = 0;
	long long bytes = 0, pkts = 0, first = 0;
	char d[32];
	size_t j;

	if (!s->have_rtt || s->to_server <= 0)
		return false;
	for (j = 0; j < k; j++) {
		const struct rf_pkt *p = &s->tl.pkts[j];
		if (p->dir != RF_C2S || p->len == 0 || p->t <= fin_t - s->to_server)
			continue;
		if (!pkts)
			first = p->i;
		pkts++;
		bytes += p->len;
		if (p->t - fin_t + s->to_server > late)
			late = p->t - fin_t + s->to_server;
	}
	if (!pkts)
		return false;
	s->noted_late_data = true;
	s->late_packets += pkts;
	sb_add(b, "Meanwhile client data is still on its way: %lld byte%s in %lld "
	          "packet%s (from #%lld on) reach the server only after it sent this FIN, "
	          "up to %s after, because the client sent them before it could know the "
	          "server was closing. That is legal TCP: the FIN closed only the server's "
	          "direction. ", bytes, bytes == 1 ? "" : "s", pkts,
	       pkts == 1 ? "" : "s", first, ms(late, d, sizeof d));
	return true;
}

/* Notes that belong after packet k; printed right under its line. */
static void packet_notes(const struct tout *o, struct story *s, size_t k)
{
	const struct rf_pkt *p = &s->tl.pkts[k];
	struct sbuf b;
	char d1[32], d2[32];

	/* handshake complete: say where the capture point sits */
	if (!s->noted_handshake && p->dir == RF_C2S && p->ack && !p->syn && k >= 2 &&
	    s->tl.pkts[0].syn && s->have_rtt) {
		const char *v = rf_str(s->finding, "vantage");
		/* no finding, no analyzer estimate: one round trip ten times the
		 * other puts the capture point next to the short one's end */
		if (!v && s->to_server > 0 && s->to_client > 0)
			v = s->to_server * 10 <= s->to_client ? "server" :
			    s->to_client * 10 <= s->to_server ? "client" : "middle";
		s->noted_handshake = true;
		sb_init(&b);
		sb_add(&b, "Handshake done. Seen from the capture point, a round trip to the "
		           "server takes %s and to the client %s",
		       ms(s->to_server, d1, sizeof d1), ms(s->to_client, d2, sizeof d2));
		if (v && !strcmp(v, "client"))
			sb_add(&b, ", so this capture was taken next to the client");
		else if (v && !strcmp(v, "server"))
			sb_add(&b, ", so this capture was taken next to the server");
		else if (v && !strcmp(v, "middle"))
			sb_add(&b, ", so this capture was taken somewhere in between");
		sb_add(&b, ". Keep these delays in mind: a packet seen here has not yet "
		           "reached the other end.");
		note(o, b.s);
	}

	if (p->dir == RF_S2C && p->len > 0) {
		s->last_s_data_t = p->t;
		s->seen_s_data = true;
		if (!s->noted_response && s->finding && rf_at_risk(s->finding, p->i)) {
			s->noted_response = true;
			sb_init(&b);
			sb_add(&b, "The server answers: ");
			response_words(s, &b);
			sb_add(&b, " begins here. Lines marked \"at risk\" carry response bytes "
			           "the server had no acknowledgement for when it later sent its RST.");
			note(o, b.s);
		}
	}

	/* the server's FIN */
	if (p->dir == RF_S2C && p->fin && !s->seen_s_fin) {
		s->seen_s_fin = true;
		s->s_fin_t = p->t;
		if (!s->noted_s_fin) {
			double gap = p->len > 0 ? 0 : p->t - s->last_s_data_t;
			s->noted_s_fin = true;
			sb_init(&b);
			sb_add(&b, "The server closes: FIN means \"I will send nothing more\". ");
			if (s->seen_s_data || p->len > 0) {
				sb_add(&b, "It comes ");
				if (p->len > 0)
					sb_add(&b, "in the same packet as the last response bytes");
				else
					sb_add(&b, "%s after the last response bytes", ms(gap, d1, sizeof d1));
				sb_add(&b, ": the server closed right after sending ");
				response_words(s, &b);
				sb_add(&b, ". ");
			}
			bool flying = in_flight(s, k, &b);
			if (s->lingered)
				sb_add(&b, "This server only shut down its sending half; it keeps "
				           "reading what the client still sends (lingering close).");
			else if (flying && s->finding)
				sb_add(&b, "But a server that called close() has stopped reading too: "
				           "its kernel will answer that data with RST.");
			else
				sb_add(&b, "If the server called close(), it has also stopped reading: "
				           "anything the client sends from now on will be answered with RST.");
			note(o, b.s);
		}
	}

	/* client data after the server's FIN */
	if (p->dir == RF_C2S && p->len > 0 && s->seen_s_fin) {
		s->late_bytes += p->len;
		s->late_packets++;
		if (!s->noted_late_data) {
			s->noted_late_data = true;
			sb_init(&b);
			sb_add(&b, "Client data is still arriving after the server's FIN, %s later. "
			           "That is legal TCP: the FIN closed only the server's direction, "
			           "and the client is still sending (a request body, or a pipelined "
			           "request it sent before it could see the FIN). ",
			       ms(p->t - s->s_fin_t, d1, sizeof d1));
			if (s->lingered)
				sb_add(&b, "A lingering server reads it and throws it away.");
			else if (s->finding)
				sb_add(&b, "But this server is no longer reading, so its kernel "
				           "treats the data as an error and answers with RST.");
			note(o, b.s);
		}
	}

	/* the server drains while lingering */
	if (s->lingered && !s->noted_linger && s->seen_s_fin && p->dir == RF_S2C &&
	    !p->fin && !p->rst && p->ack && p->len == 0 && s->late_packets > 0) {
		s->noted_linger = true;
		sb_init(&b);
		sb_add(&b, "The server acknowledges the late data without a RST: it is "
		           "lingering, reading and discarding until the client closes or a "
		           "timeout ends it. ");
		sb_add(&b, "It lingered %s and drained %lld bytes this way. Because it "
		           "never reset, the client keeps the whole response.",
		       ms(s->linger_seconds, d1, sizeof d1), s->linger_bytes);
		note(o, b.s);
	}

	/* the client has acknowledged the whole response */
	if (!s->noted_all_acked && s->finding && p->dir == RF_C2S && p->ack &&
	    s->s_data_end > 1 && seq_geq(p->ack_no, s->s_data_end) &&
	    (s->rst_packet < 0 || p->i < s->rst_packet)) {
		s->noted_all_acked = true;
		sb_init(&b);
		sb_add(&b, "The client acknowledges all %u response bytes (ack %u). What "
		           "matters is whether this ACK reaches the server before the server "
		           "sends a RST: a RST carries the last acknowledgement its sender had "
		           "seen, and the client may throw away what lies after it.",
		       s->s_data_end - 1, p->ack_no);
		note(o, b.s);
	}

	/* the client's ACK of the server's FIN: FIN_WAIT_2 */
	if (!s->noted_fw2 && s->fw2_server && s->s_fin_known && p->dir == RF_C2S && p->ack &&
	    !p->rst && seq_after(p->ack_no, s->s_fin_seq)) {
		s->noted_fw2 = true;
		sb_init(&b);
		sb_add(&b, "The client acknowledges the server's FIN (ack %u). The server's "
		           "socket is now in FIN_WAIT_2: its own half is closed and "
		           "acknowledged, and it waits for the client's FIN.",
		       s->s_fin_seq + 1);
		fw2_ending_words(s->fw2_server, &b, "client");
		note(o, b.s);
	}

	/* the client's FIN */
	if (p->dir == RF_C2S && p->fin && !s->seen_c_fin) {
		s->seen_c_fin = true;
		if (s->seen_s_fin && !s->noted_client_fin) {
			s->noted_client_fin = true;
			sb_init(&b);
			sb_add(&b, "The client closes its half too. ");
			if (s->noted_fw2)
				sb_add(&b, "This ends the server's FIN_WAIT_2; the server side "
				           "goes on to TIME_WAIT.");
			else
				sb_add(&b, "Both directions are now closed.");
			note(o, b.s);
		}
	}

	/* RSTs */
	if (p->rst) {
		if (p->i == s->rst_packet && !s->seen_rst_note) {
			json_t *f = (json_t *)s->finding;
			long long at_s = rf_int(f, "bytes_at_risk_at_server", 0);
			long long at_c = rf_int(f, "bytes_at_risk_at_client", 0);
			long long data_end = rf_int(f, "data_end", 0);
			long long rseq = rf_int(f, "rst_seq", 0);
			const char *cause = rf_str(f, "cause");
			const char *basis = rf_str(f, "basis");
			long long risk = at_s > at_c ? at_s : at_c;
			bool server = s->finding_sender && !strcmp(s->finding_sender, "server");

			s->seen_rst_note = true;
			sb_init(&b);
			sb_add(&b, "RST from the %s: the connection is torn down at once. ",
			       server ? "server" : "client");
			if (cause && !strcmp(cause, "data_after_fin"))
				sb_add(&b, "Cause: the client kept sending after the server's FIN, "
				           "and a server that has called close() no longer reads, so "
				           "its kernel answers the late data with RST. ");
			else if (cause && !strcmp(cause, "unread_at_close"))
				sb_add(&b, "Cause: the server closed while client data sat unread "
				           "in its socket; closing a socket with unread data makes the "
				           "kernel send RST instead of a polite FIN. ");
			else if (cause && !strcmp(cause, "abort"))
				sb_add(&b, "Cause: an abortive close (RST without FIN, e.g. "
				           "SO_LINGER with a zero timeout). ");
			if (rf_bool(f, "seq_evidence", false))
				sb_add(&b, "Look at its sequence number, %lld: a socket that is "
				           "already gone builds its RST from the ACK of the segment it "
				           "answers, so this RST answers a client segment that had "
				           "acknowledged only up to %lld. ", rseq, rseq);
			if (at_s > 0)
				sb_add(&b, "When the %s sent it, %lld of its %lld bytes (sequence "
				           "%lld to %lld) were not yet acknowledged as far as it could "
				           "know. ", server ? "server" : "client", at_s,
				       data_end > 0 ? data_end - 1 : 0, data_end - at_s, data_end - 1);
			if (at_c > 0)
				sb_add(&b, "When it reached the %s, %lld bytes were still "
				           "unacknowledged there. ", server ? "client" : "server", at_c);
			if (basis && !strcmp(basis, "capture_order"))
				sb_add(&b, "(No handshake timing here, so this is judged in capture "
				           "order.) ");
			if (server && risk > 0) {
				sb_add(&b, "\nWhy it matters: a client TCP that receives a RST may throw away data it "
				           "has received but the application has not read yet: BSD "
				           "stacks flush everything after the RST's sequence number. "
				           "Up to %lld bytes of ", risk);
				response_words(s, &b);
				sb_add(&b, " can vanish this way, and the user sees \"connection reset "
				           "by peer\" instead of the %s. ",
				       s->status >= 400 ? "error page" : "response");
				sb_add(&b, "The cure is a lingering close: shut down only the sending "
				           "half, read and discard until the client closes or a timeout "
				           "passes, then close.");
			}
			note(o, b.s);
		} else if (!s->seen_other_rst && p->dir == RF_S2C) {
			s->seen_other_rst = true;
			if (s->seen_rst_note)
				note(o, "Another RST: the server's kernel answers each late client "
				        "segment the same way.");
		}
	}
}

static const char *scenario_of(const json_t *root, long long id)
{
	json_t *sc = rf_arr(root, "scenarios"), *s, *ids, *v;
	size_t i, j;

	json_array_foreach(sc, i, s) {
		ids = rf_arr(s, "connections");
		json_array_foreach(ids, j, v)
			if (json_is_integer(v) && json_integer_value(v) == id)
				return rf_str(s, "name");
	}
	return NULL;
}

static int explain_conn(const struct tout *o, const json_t *root, const json_t *conn,
                        char *err, size_t errlen)
{
	struct story s;
	char cl[80], sv[80], seqs[48], acks[24], d1[32], d2[32];
	long long id = rf_int(conn, "id", -1);
	const char *sc = scenario_of(root, id);
	size_t k;

	story_init(&s, root, conn);
	if (rf_timeline(conn, &s.tl, err, errlen) < 0)
		return -1;
	endpoint(cl, sizeof cl, rf_obj(conn, "client"));
	endpoint(sv, sizeof sv, rf_obj(conn, "server"));

	tout_printf(o, TOUT_BOLD, "connection %lld", id);
	fprintf(o->f, "  client %s  ->  server %s", cl, sv);
	if (sc)
		fprintf(o->f, "  (scenario %s)", sc);
	fputc('\n', o->f);
	if (s.finding && rf_str(s.finding, "summary")) {
		fputs("  finding: ", o->f);
		tout_printf(o, TOUT_BOLD_RED, "%s", rf_str(s.finding, "type"));
		fputc('\n', o->f);
		tout_para(o, "    ", TOUT_PLAIN, TOUT_PLAIN, rf_str(s.finding, "summary"));
	}
	fprintf(o->f, "  closed first by %s, %s; the wire leaves the client %s and the server %s\n",
	        rf_str(conn, "close_initiator") ? rf_str(conn, "close_initiator") : "?",
	        rf_str(conn, "kind") ? rf_str(conn, "kind") : "?",
	        rf_str(conn, "client_end") ? rf_str(conn, "client_end") : "?",
	        rf_str(conn, "server_end") ? rf_str(conn, "server_end") : "?");
	if (rf_bool(conn, "role_inferred", false))
		fputs("  (no handshake showed who is who: the roles are guessed from the ports)\n", o->f);
	if (s.have_rtt)
		fprintf(o->f, "  round trip from the capture point: %s to the server, %s to the client\n",
		        ms(s.to_server, d1, sizeof d1), ms(s.to_client, d2, sizeof d2));
	fputc('\n', o->f);

	if (s.tl.n == 0) {
		fputs("  The report holds no packet timeline for this connection.\n\n", o->f);
		rf_timeline_free(&s.tl);
		return 0;
	}
	s.t0 = s.tl.pkts[0].t;
	tout_printf(o, TOUT_DIM, "  %9s  %-7s  %-5s  %-22s %-12s %-12s %s\n",
	            "time", "", "flags", "seq:end(len)", "ack", "win", "packet");
	for (k = 0; k < s.tl.n; k++) {
		const struct rf_pkt *p = &s.tl.pkts[k];
		bool risk = s.finding && rf_at_risk(s.finding, p->i);
		enum tout_style st = TOUT_PLAIN;

		if (p->rst)
			st = TOUT_BOLD_RED;
		else if (risk)
			st = TOUT_MAGENTA;
		else if (p->fin)
			st = TOUT_YELLOW;
		snprintf(seqs, sizeof seqs, "%u:%u(%u)", p->seq, p->seq + p->len, p->len);
		if (p->ack)
			snprintf(acks, sizeof acks, "ack %u", p->ack_no);
		else
			acks[0] = '\0';
		tout_style(o, st);
		fprintf(o->f, "  %9.6f  %s  %-5s  %-22s %-12s win %-8u #%lld",
		        p->t - s.t0, dir_arrow(p->dir), p->flags, seqs, acks, p->win, p->i);
		if (risk)
			fputs("  at risk", o->f);
		if (p->i == s.rst_packet)
			fputs("  <- the RST", o->f);
		if (st != TOUT_PLAIN)
			tout_style(o, TOUT_PLAIN);
		fputc('\n', o->f);
		packet_notes(o, &s, k);
		if ((long long)k == s.tl.omitted_after)
			tout_printf(o, TOUT_DIM, "  %9s  ... %lld packets of this connection are not "
			            "in the report (it keeps the first and the last ones) ...\n",
			            "", s.tl.omitted);
	}
	if (s.lingered && !s.noted_linger) {
		char buf[200];
		snprintf(buf, sizeof buf, "The server lingered after its FIN for %s and drained %lld bytes.",
		         ms(s.linger_seconds, d1, sizeof d1), s.linger_bytes);
		note(o, buf);
	}
	if (s.fw2_server && !s.noted_fw2) {
		struct sbuf b;
		sb_init(&b);
		sb_add(&b, "The server socket went into FIN_WAIT_2 at %.6f s (the client "
		           "had acknowledged its FIN).", rf_num(s.fw2_server, "start", 0) - s.t0);
		fw2_ending_words(s.fw2_server, &b, "client");
		note(o, b.s);
	}
	fputc('\n', o->f);
	rf_timeline_free(&s.tl);
	return 0;
}

static void print_origin(const struct tout *o, const char *path, const json_t *root)
{
	const json_t *lab = rf_obj(root, "lab"), *in = rf_obj(root, "input");
	const json_t *tg = rf_obj(lab, "target");

	tout_printf(o, TOUT_BOLD, "%s", path);
	fprintf(o->f, ": lingerlab %s report", rf_str(root, "command"));
	if (tg) {
		const char *kind = rf_str(tg, "kind");
		if (kind && !strcmp(kind, "builtin"))
			fprintf(o->f, " against the reference target, close policy %s",
			        rf_str(tg, "policy") ? rf_str(tg, "policy") : "?");
		else if (rf_str(tg, "command"))
			fprintf(o->f, " against `%s`", rf_str(tg, "command"));
		else if (rf_str(tg, "address"))
			fprintf(o->f, " against %s:%lld", rf_str(tg, "address"), rf_int(tg, "port", 0));
	} else if (rf_str(in, "source")) {
		fprintf(o->f, " of %s", rf_str(in, "source"));
	}
	fprintf(o->f, "\n\n");
}

/* Nothing flagged: say so, and what the report does show. */
static void summarize(const struct tout *o, const json_t *root)
{
	const json_t *sum = rf_obj(root, "summary"), *fw = rf_obj(root, "fin_wait_2");
	const json_t *by_kind = rf_obj(sum, "by_kind"), *by_init = rf_obj(sum, "by_initiator");
	const json_t *sc = rf_arr(root, "scenarios"), *v;
	const char *k;
	size_t i;
	bool first;
	static const char *const sides[] = { "server", "client" };

	tout_printf(o, TOUT_BOLD_GREEN, "No flagged connection.");
	fputc('\n', o->f);
	tout_para(o, "", TOUT_PLAIN, TOUT_PLAIN,
	          "Nobody reset a connection while some of its own data was still "
	          "unacknowledged, so no client can have lost a response to a RST.");
	fputc('\n', o->f);
	fprintf(o->f, "  connections: %lld", rf_int(sum, "connections", 0));
	first = true;
	if (by_kind) {
		json_object_foreach((json_t *)by_kind, k, v) {
			if (rf_val_num(v, 0) <= 0)
				continue;
			fprintf(o->f, "%s%s %lld", first ? " (" : ", ", k, rf_val_int(v, 0));
			first = false;
		}
	}
	fputs(first ? "\n" : ")\n", o->f);
	first = true;
	if (by_init) {
		fputs("  closed first by:", o->f);
		json_object_foreach((json_t *)by_init, k, v)
			if (rf_val_num(v, 0) > 0) {
				fprintf(o->f, "%s %s %lld", first ? "" : ",", k, rf_val_int(v, 0));
				first = false;
			}
		fputs(first ? " nobody\n" : "\n", o->f);
	}
	fprintf(o->f, "  lingering closes (the server kept reading after its FIN): %lld\n",
	        rf_int(sum, "lingered", 0));
	for (i = 0; i < 2; i++) {
		const json_t *side = rf_obj(fw, sides[i]);
		const json_t *dur = rf_obj(side, "duration");
		if (!side)
			continue;
		fprintf(o->f, "  fin_wait_2 (%s closed first): %lld socket%s", sides[i],
		        rf_int(side, "count", 0), rf_int(side, "count", 0) == 1 ? "" : "s");
		if (rf_int(side, "count", 0) > 0)
			fprintf(o->f, ", peak %lld at %.3f s, durations p50 %.3f s, p90 %.3f s, max %.3f s",
			        rf_int(side, "peak", 0), rf_num(side, "peak_time", 0),
			        rf_num(dur, "p50", 0), rf_num(dur, "p90", 0), rf_num(dur, "max", 0));
		fputc('\n', o->f);
	}
	if (rf_int(rf_obj(fw, "server"), "count", 0) > 0) {
		fputc('\n', o->f);
		tout_para(o, "", TOUT_PLAIN, TOUT_PLAIN,
		          "FIN_WAIT_2 means: the server closed first, the client acknowledged "
		          "its FIN but has not sent its own. Each such server socket waits for "
		          "that FIN, or for the kernel's timeout; clients that never close "
		          "can pile them up.");
	}
	json_array_foreach(sc, i, v) {
		if (i == 0)
			fputc('\n', o->f);
		fprintf(o->f, "  scenario %-28s ", rf_str(v, "name"));
		if (rf_bool(v, "passed", false))
			tout_printf(o, TOUT_GREEN, "passed\n");
		else
			tout_printf(o, TOUT_RED, "failed\n");
	}
}

int cmd_explain(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "connection", required_argument, NULL, 'c' },
		{ "color", optional_argument, NULL, 'C' },
		{ "colour", optional_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum tout_color_mode mode = TOUT_AUTO;
	long long want = -1;
	struct tout o;
	json_t *root = NULL, *conns, *c, *rebuilt = NULL;
	char err[512];
	int opt, rc = LL_EXIT_USAGE;
	size_t i, shown = 0, flagged = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': {
			char *end;
			errno = 0;
			want = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || want < 1) {
				fprintf(stderr, "lingerlab explain: --connection: expected a connection id, found '%s'\n", optarg);
				return LL_EXIT_USAGE;
			}
			break;
		}
		case 'C':
			if (tout_parse_color(optarg, &mode, err, sizeof err) < 0) {
				fprintf(stderr, "lingerlab explain: %s\n", err);
				return LL_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return LL_EXIT_OK;
		default:
			usage(stderr);
			return LL_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "lingerlab explain: %s\n",
		        argc - optind < 1 ? "no report given" : "one report at a time");
		usage(stderr);
		return LL_EXIT_USAGE;
	}
	root = rf_load(argv[optind], err, sizeof err);
	if (!root) {
		fprintf(stderr, "lingerlab explain: %s\n", err);
		return LL_EXIT_USAGE;
	}
	tout_init(&o, stdout, mode);
	conns = rf_arr(root, "connections");

	if (want > 0) {
		c = rf_conn(root, want);
		if (!c) {
			/* not flagged, so no record: ask the capture */
			rebuilt = ptl_connection(root, want, err, sizeof err);
			if (!rebuilt) {
				struct sbuf b;
				sb_init(&b);
				json_array_foreach(conns, i, c)
					sb_add(&b, "%s%lld", i ? ", " : "", rf_int(c, "id", 0));
				fprintf(stderr, "lingerlab explain: connection %lld is not in %s (it has "
				        "records for %s), and the capture cannot tell: %s\n",
				        want, argv[optind], b.n ? b.s : "no connection", err);
				goto out;
			}
			c = rebuilt;
		}
		print_origin(&o, argv[optind], root);
		if (rebuilt)
			tout_para(&o, "", TOUT_DIM, TOUT_DIM, "(The report keeps records of flagged "
			          "connections only; this one was rebuilt from the capture it names.)");
		if (rebuilt)
			fputc('\n', o.f);
		if (explain_conn(&o, root, c, err, sizeof err) < 0) {
			fprintf(stderr, "lingerlab explain: %s: %s\n", argv[optind], err);
			goto out;
		}
		rc = LL_EXIT_OK;
		goto out;
	}

	print_origin(&o, argv[optind], root);
	json_array_foreach(conns, i, c) {
		long long id = rf_int(c, "id", -1);
		if (!rf_finding_for(root, id))
			continue;
		flagged++;
		if (shown >= EXPLAIN_MAX_CONNS)
			continue;
		if (explain_conn(&o, root, c, err, sizeof err) < 0) {
			fprintf(stderr, "lingerlab explain: %s: %s\n", argv[optind], err);
			goto out;
		}
		shown++;
	}
	if (flagged == 0) {
		summarize(&o, root);
	} else if (flagged > shown) {
		struct sbuf b;
		size_t listed = 0;
		sb_init(&b);
		json_array_foreach(conns, i, c) {
			long long id = rf_int(c, "id", -1);
			if (!rf_finding_for(root, id))
				continue;
			if (listed++ < shown)
				continue;
			if (listed > shown + 20) {
				sb_add(&b, ", ...");
				break;
			}
			sb_add(&b, "%s%lld", listed == shown + 1 ? "" : ", ", id);
		}
		fprintf(o.f, "%zu more flagged connections (%s); pick one with --connection ID.\n",
		        flagged - shown, b.s);
	}
	if (rf_str(rf_obj(root, "verdict"), "text")) {
		if (flagged == 0)
			fputc('\n', o.f);
		fputs("verdict: ", o.f);
		tout_printf(&o, rf_bool(rf_obj(root, "verdict"), "hazard", false) ? TOUT_BOLD_RED : TOUT_BOLD_GREEN,
		            "%s\n", rf_str(rf_obj(root, "verdict"), "text"));
	}
	rc = LL_EXIT_OK;
out:
	if (fflush(stdout) != 0 && rc == LL_EXIT_OK) {
		perror("lingerlab explain: stdout");
		rc = LL_EXIT_USAGE;
	}
	json_decref(rebuilt);
	json_decref(root);
	return rc;
}
