/*
 * explain_notes.c - the notes of `lingerlab explain` (contract in
 * explain.h): plain-English words at the moments that matter, in the
 * spirit of the annotated 1997 trace in shared/seeds/, and for each RST
 * what it does at its receiver (RFC 5961 3.2, as the report's impact says).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/seq.h"
#include "reports/explain.h"
#include "reports/units.h"

const char *ex_ms(double s, char *buf, size_t len)
{
	return units_duration(s, buf, len);
}

void ex_code(const struct tout *o, struct story *s)
{
	if (s->fmt == EX_MARKDOWN && !s->in_code) {
		fputs("```text\n", o->f);
		s->in_code = true;
	}
}

void ex_end_code(const struct tout *o, struct story *s)
{
	if (s->in_code) {
		fputs("```\n\n", o->f);
		s->in_code = false;
	}
}

void ex_note(const struct tout *o, struct story *s, const char *text)
{
	if (s->fmt != EX_MARKDOWN) {
		tout_para(o, NOTE_PREFIX, TOUT_CYAN, TOUT_PLAIN, text);
		return;
	}
	ex_end_code(o, s);
	/* one quoted paragraph per line of the note */
	fputs("> ", o->f);
	for (const char *p = text; *p; p++) {
		if (*p == '\n')
			fputs("\n>\n> ", o->f);
		else
			fputc(*p, o->f);
	}
	fputs("\n\n", o->f);
}

void ex_story_init(struct story *s, const json_t *root, const json_t *conn)
{
	json_t *rtt = rf_obj(conn, "rtt"), *s2c = rf_obj(conn, "s2c"), *c2s = rf_obj(conn, "c2s");
	json_t *http = rf_obj(conn, "http"), *resp, *lg, *fw2;

	memset(s, 0, sizeof *s);
	s->root = root;
	s->conn = conn;
	s->finding = rf_finding_for(root, rf_int(conn, "id", -1));
	/* connection findings[]: the server's first, then the client's */
	json_t *fl = rf_arr(conn, "findings"), *all = rf_arr(root, "findings");
	for (size_t j = 0; fl && j < json_array_size(fl) && j < 2; j++) {
		json_t *f = json_array_get(all, (size_t)rf_val_int(json_array_get(fl, j), -1));
		if (!json_is_object(f))
			continue;
		if (j == 0)
			s->finding = f;
		else if (f != s->finding)
			s->other = f;
	}
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
	s->linger_end = rf_str(lg, "ended_by");
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

static void fw2_ending_words(const struct story *s, const json_t *fw2, struct sbuf *b,
                             const char *peer)
{
	const char *ending = rf_str(fw2, "ending");
	char d[32];

	ex_ms(rf_num(fw2, "duration", 0), d, sizeof d);
	if (!ending)
		sb_add(b, " The report does not say how this ended.");
	else if (!strcmp(ending, "capture_end"))
		sb_add(b, " Here it never came: the socket was still in FIN_WAIT_2 when the "
		          "capture ended, %s later. A socket that waits for a FIN that never "
		          "comes holds kernel memory until a timeout (Linux: tcp_fin_timeout, "
		          "60 s by default) frees it; many such clients can pile them up.", d);
	else if (strstr(ending, "_fin"))
		sb_add(b, " Here the %s's FIN came %s later, which ends it.", peer, d);
	else if (strstr(ending, "_rst") && !ex_fw2_kernel_words(s, fw2, b) &&
	         !ex_fw2_silence_words(s, fw2, b))
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
	       pkts == 1 ? "" : "s", first, ex_ms(late, d, sizeof d));
	return true;
}

/* How the lingering ended (connection linger.ended_by), as a sentence. */
static void linger_end_words(const struct story *s, struct sbuf *b)
{
	const char *e = s->linger_end;

	if (!e)
		return;
	if (!strcmp(e, "client_fin"))
		sb_add(b, " The lingering ended with the client's FIN.");
	else if (!strcmp(e, "server_rst"))
		sb_add(b, " The lingering ended when the server reset the connection, most "
		          "likely because its linger limit ran out.");
	else if (!strcmp(e, "client_rst"))
		sb_add(b, " The lingering ended with a RST from the client.");
	else if (!strcmp(e, "capture_end"))
		sb_add(b, " The server was still lingering when the capture ended.");
}

/* Who receives a finding's RSTs: impact.at, else the sender's peer. */
static const char *impact_at(const json_t *f)
{
	const char *at = rf_str(rf_obj(f, "impact"), "at");
	const char *sender = rf_str(f, "sender");

	if (at && (!strcmp(at, "client") || !strcmp(at, "server")))
		return at;
	return sender && !strcmp(sender, "client") ? "server" : "client";
}

/* The impact.rsts entry of packet i, or NULL. */
static const json_t *fate_of(const json_t *f, long long i)
{
	const json_t *rs = rf_arr(rf_obj(f, "impact"), "rsts"), *r;
	size_t k;

	json_array_foreach(rs, k, r)
		if (rf_int(r, "packet", -1) == i)
			return r;
	return NULL;
}

/*
 * What one RST does at its receiver, under RFC 5961 3.2 (the report's
 * impact.rsts[].accept), e.g. "RST seq 1 reaches the client after it has
 * ACKed up to 338: out of its window, ignored (RFC 5961)."
 */
static void fate_words(struct story *s, const json_t *f, const json_t *r, struct sbuf *b)
{
	const json_t *im = rf_obj(f, "impact");
	const char *at = impact_at(f), *acc = rf_str(r, "accept");
	const char *what = !strcmp(at, "client") ? "response" : "request";
	long long i = rf_int(r, "packet", -1);
	long long accepted = rf_int(im, "accepted_rst_packet", -1);
	long long seq = rf_int(r, "seq", 0), nxt = rf_int(r, "rcv_nxt", 0);

	sb_add(b, "RST seq %lld reaches the %s", rf_int(r, "seq", 0), at);
	if (rf_is_num(r, "peer_acked") && rf_int(r, "peer_acked", 0) == 1)
		sb_add(b, " before it has ACKed any of the %s", what);
	else if (rf_is_num(r, "peer_acked") && rf_int(r, "peer_acked", 0) > 1)
		sb_add(b, " after it has ACKed up to %lld", rf_int(r, "peer_acked", 0));
	if (!acc) {
		sb_add(b, ". ");
	} else if (!strcmp(acc, "ignored") && accepted > 0 && i > accepted) {
		sb_add(b, ": its connection is already reset by packet %lld, nothing is left "
		          "to reset; ignored. ", accepted);
	} else if (!strcmp(acc, "ignored") && seq_geq((uint32_t)seq, (uint32_t)rf_int(r, "peer_acked", 0)) &&
	           seq_leq((uint32_t)seq, (uint32_t)nxt)) {
		/* in its window, yet dropped: the receiver's end is gone */
		long long own = -1;
		for (size_t k = 0; k < s->tl.n && own < 0; k++)
			if (s->tl.pkts[k].rst && s->tl.pkts[k].i < i &&
			    (s->tl.pkts[k].dir == RF_C2S) == !strcmp(at, "client"))
				own = s->tl.pkts[k].i;
		sb_add(b, ": in its window, but the %s had already reset its own end", at);
		if (own > 0)
			sb_add(b, " (packet %lld)", own);
		sb_add(b, ", so nothing is left to reset; ignored (RFC 9293 3.10.7.1). ");
	} else if (!strcmp(acc, "ignored")) {
		sb_add(b, ": out of its window, ignored (RFC 5961). ");
	} else if (!strcmp(acc, "challenge_ack")) {
		sb_add(b, ": in its window but not at the next byte it expects (%lld), so it "
		          "answers with a challenge ACK and keeps the connection (RFC 5961). ",
		       rf_int(r, "rcv_nxt", 0));
	} else if (i == rf_int(im, "accepted_rst_packet", -1) &&
	           rf_int(im, "unacked_at_accept", 0) > 0) {
		sb_add(b, ": accepted: the connection is reset while %lld %s bytes are "
		          "unacknowledged. ", rf_int(im, "unacked_at_accept", 0), what);
	} else {
		sb_add(b, ": accepted: the connection is reset, but only after the %s had "
		          "acknowledged all of the %s. ", at, what);
	}
	if (acc && !strcmp(acc, "reset") && seq + 1 == nxt)
		sb_add(b, "(Its seq is one short of the next byte the %s expects, %lld: Linux "
		          "accepts that once the sender's FIN is in, tcp_reset_check().) ", at, nxt);
	if (rf_bool(im, "estimated", false) && !s->noted_estimate) {
		s->noted_estimate = true;
		sb_add(b, "(The capture point is not next to the %s, so its state when the "
		          "RST arrived is estimated %s.)", at,
		       s->have_rtt ? "from the round trips" : "in capture order");
	}
}

/*
 * Note r as the last RST fate told; false when it reads like the one told
 * just before (same finding, seq, peer ACK and accept, neither accepted),
 * so a burst of identical RSTs gets one note.
 */
static bool remember_fate(struct story *s, const json_t *f, const json_t *r)
{
	const char *acc = rf_str(r, "accept");
	long long accepted = rf_int(rf_obj(f, "impact"), "accepted_rst_packet", -1);
	long long key = rf_int(r, "seq", 0) * 8589934592LL + rf_int(r, "peer_acked", 0);
	bool same = r && s->last_fate_f == f && s->last_fate_key == key && acc &&
	            s->last_fate_acc && !strcmp(acc, s->last_fate_acc) &&
	            rf_int(r, "packet", -1) != accepted &&
	            (accepted < 0 || rf_int(r, "packet", -1) < accepted) == s->last_before_accept;

	if (!r)
		return true;
	s->last_fate_f = f;
	s->last_fate_key = key;
	s->last_fate_acc = acc;
	s->last_before_accept = accepted < 0 || rf_int(r, "packet", -1) < accepted;
	return !same;
}

/* The evidence that the sender had the peer's ACK (basis "evidence"). */
static void evidence_words(const struct story *s, const json_t *f, struct sbuf *b)
{
	const json_t *ev = rf_obj(f, "evidence");
	const char *sender = rf_str(f, "sender");
	bool server = sender && !strcmp(sender, "server");
	const char *peer = server ? "client" : "server";
	long long pk = rf_int(ev, "packet", -1), peer_pk = rf_int(ev, "peer_packet", -1);
	long long acked = rf_int(ev, "acked", 0), data_end = rf_int(f, "data_end", 0);
	const char *seg = "segment";
	size_t k;

	if (!ev)
		return;
	for (k = 0; k < s->tl.n; k++)
		if (s->tl.pkts[k].i == peer_pk && s->tl.pkts[k].fin)
			seg = "FIN";
	if (pk == rf_int(f, "rst_packet", -1)) {
		sb_add(b, "Evidence: this RST carries no ACK flag, and its sequence number %lld "
		          "is the ACK field of ", rf_int(f, "rst_seq", 0));
		if (peer_pk > 0)
			sb_add(b, "the %s's %s (packet %lld)", peer, seg, peer_pk);
		else
			sb_add(b, "a %s segment", peer);
		sb_add(b, ": it answers that segment, so the %s had the %s's ACK ",
		       server ? "server" : "client", peer);
	} else {
		sb_add(b, "Evidence: the %s had ACKed the %s's %s (packet %lld) in its packet "
		          "%lld, so it had the ACK that %s carried: ", server ? "server" : "client",
		       peer, seg, peer_pk, pk, !strcmp(seg, "FIN") ? "FIN" : "segment");
	}
	if (data_end > 1 && acked >= data_end)
		sb_add(b, "of all %lld bytes. ", data_end - 1);
	else
		sb_add(b, "up to %lld. ", acked);
	/* judge.c rule 1b: a reply RST also bounds what its sender knew */
	if (pk == rf_int(f, "rst_packet", -1) && acked < data_end)
		sb_add(b, "And no more: the RST left when that segment arrived, and any %s "
		          "ACK beyond %lld was sent after it and arrived after it. ", peer, acked);
}

/* The grade at the client, after the server's RST note. */
static void impact_words(const struct story *s, const json_t *f, long long risk,
                         struct sbuf *b)
{
	const char *g = rf_str(f, "client_impact");

	if (!g || !strcmp(g, "reset_before_ack")) {
		sb_add(b, "\nWhy it matters: a client TCP that receives a RST may throw away data it "
		          "has received but the application has not read yet: BSD "
		          "stacks flush everything after the RST's sequence number. "
		          "Up to %lld bytes of ", risk);
		response_words(s, b);
		sb_add(b, " can vanish this way, and the user sees \"connection reset "
		          "by peer\" instead of the %s. ",
		       s->status >= 400 ? "error page" : "response");
	} else if (!strcmp(g, "reset_after_ack")) {
		sb_add(b, "\nAt the client: it had acknowledged all of ");
		response_words(s, b);
		sb_add(b, " before any RST it would accept (reset_after_ack). A Linux or BSD "
		          "application can still read it from its receive buffer; a Windows one "
		          "loses it, and one still writing its request body sees ECONNRESET or "
		          "EPIPE first. The server's rule is still broken: when it reset, it could "
		          "not know the client had the response. ");
	} else if (!strcmp(g, "no_reset")) {
		sb_add(b, "\nAt the client: it would accept none of the server's RSTs "
		          "(no_reset), so it keeps ");
		response_words(s, b);
		sb_add(b, ". That is luck, not design: when the server reset, it could not know "
		          "the client had the response, and a RST that reached a client still "
		          "short of it would have destroyed it. ");
	}
	ex_remedy(s, f, b);
}

/* Notes that belong after packet k; printed right under its line. */
/* The note under a finding's RST: the cause, the sender's view and why
 * it holds, then what the peer lived through. */
static void rst_note(const struct tout *o, struct story *s, const json_t *f);

void ex_packet_notes(const struct tout *o, struct story *s, size_t k)
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
		       ex_ms(s->to_server, d1, sizeof d1), ex_ms(s->to_client, d2, sizeof d2));
		if (v && !strcmp(v, "client"))
			sb_add(&b, ", so this capture was taken next to the client");
		else if (v && !strcmp(v, "server"))
			sb_add(&b, ", so this capture was taken next to the server");
		else if (v && !strcmp(v, "middle"))
			sb_add(&b, ", so this capture was taken somewhere in between");
		sb_add(&b, ". Keep these delays in mind: a packet seen here has not yet "
		           "reached the other end.");
		ex_note(o, s, b.s);
	}

	if (p->dir == RF_S2C && p->len > 0) {
		s->last_s_data_t = p->t;
		s->seen_s_data = true;
		if (!s->noted_response && s->finding && rf_at_risk(s->finding, p->i)) {
			s->noted_response = true;
			sb_init(&b);
			if (s->status == 0 && json_is_object(json_object_get(s->finding, "tls"))) {
				/* without keys the first record at risk may be a
				 * session ticket, not the response (HAProxy's and
				 * python's TLS 1.3 tickets came first) */
				sb_add(&b, "The server's bytes at risk begin here: TLS records, "
				           "which of them carry the response cannot be told "
				           "without keys. Lines marked \"at risk\" carry bytes the "
				           "server had no acknowledgement for when it later sent "
				           "its RST.");
			} else {
				sb_add(&b, "The server answers: ");
				response_words(s, &b);
				sb_add(&b, " begins here. Lines marked \"at risk\" carry response bytes "
				           "the server had no acknowledgement for when it later sent its RST.");
			}
			ex_note(o, s, b.s);
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
			if (s->seen_c_fin && p->ack && s->c_fin_known &&
			    seq_after(p->ack_no, s->c_fin_seq)) {
				/* it ACKs the client's FIN: a passive close (FINs that
				 * cross are a simultaneous close, told at the end) */
				if (s->seen_s_data && p->len == 0)
					sb_add(&b, "It comes %s after the last response bytes and ",
					       ex_ms(p->t - s->last_s_data_t, d1, sizeof d1));
				else
					sb_add(&b, "It comes ");
				sb_add(&b, "%s after the client's FIN, which it acknowledges (ack "
				           "%u): the server had the client's FIN when it closed, so "
				           "this is the passive close, from CLOSE_WAIT to LAST_ACK "
				           "until its own FIN is ACKed.",
				       ex_ms(p->t - s->c_fin_t, d2, sizeof d2), p->ack_no);
				ex_note(o, s, b.s);
				goto after_s_fin;
			}
			if (s->seen_s_data || p->len > 0) {
				sb_add(&b, "It comes ");
				if (p->len > 0)
					sb_add(&b, "in the same packet as the last response bytes");
				else
					sb_add(&b, "%s after the last response bytes", ex_ms(gap, d1, sizeof d1));
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
			ex_note(o, s, b.s);
		}
	}
after_s_fin:

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
			       ex_ms(p->t - s->s_fin_t, d1, sizeof d1));
			if (s->lingered)
				sb_add(&b, "A lingering server reads it and throws it away.");
			else if (s->finding)
				sb_add(&b, "But this server is no longer reading, so its kernel "
				           "treats the data as an error and answers with RST.");
			ex_note(o, s, b.s);
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
		sb_add(&b, "It lingered %s and drained %lld bytes this way.",
		       ex_ms(s->linger_seconds, d1, sizeof d1), s->linger_bytes);
		linger_end_words(s, &b);
		if (!s->linger_end || strcmp(s->linger_end, "server_rst"))
			sb_add(&b, " Because it never reset, the client keeps the whole response.");
		ex_note(o, s, b.s);
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
		ex_note(o, s, b.s);
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
		fw2_ending_words(s, s->fw2_server, &b, "client");
		ex_note(o, s, b.s);
	}

	/* the client's FIN */
	if (p->dir == RF_C2S && p->fin && !s->seen_c_fin) {
		s->seen_c_fin = true;
		s->c_fin_t = p->t;
		if (s->seen_s_fin && !s->noted_client_fin) {
			s->noted_client_fin = true;
			sb_init(&b);
			sb_add(&b, "The client closes its half too. ");
			if (s->noted_fw2)
				sb_add(&b, "This ends the server's FIN_WAIT_2; the server side "
				           "goes on to TIME_WAIT.");
			else
				sb_add(&b, "Both directions are now closed.");
			ex_note(o, s, b.s);
		}
	}

	/* RSTs: the finding's own, and what each does at its receiver */
	if (p->rst) {
		bool told = false;
		for (int j = 0; j < 2; j++) {
			const json_t *f = j ? s->other : s->finding;
			if (!f)
				continue;
			if (p->i == rf_int(f, "rst_packet", -1) && !s->noted_rst[j]) {
				s->noted_rst[j] = true;
				rst_note(o, s, f);
				remember_fate(s, f, fate_of(f, p->i));
				told = true;
			} else if (fate_of(f, p->i)) {
				/* a run of RSTs with the same fate is told once */
				const json_t *r = fate_of(f, p->i);
				told = true;
				if (!remember_fate(s, f, r))
					continue;
				sb_init(&b);
				fate_words(s, f, r, &b);
				ex_note(o, s, b.s);
			}
		}
		if (!told && !s->seen_other_rst && p->dir == RF_S2C) {
			s->seen_other_rst = true;
			if (s->noted_rst[0])
				ex_note(o, s, "Another RST: the server's kernel answers each late client "
				        "segment the same way.");
		}
	}
	/* FINs sent again; RSTs no finding speaks for */
	ex_close_notes(o, s, k);
}

void ex_closing_notes(const struct tout *o, struct story *s)
{
	struct sbuf b;
	char d1[32];

	if (s->lingered && !s->noted_linger) {
		sb_init(&b);
		sb_add(&b, "The server lingered after its FIN for %s and drained %lld bytes.",
		       ex_ms(s->linger_seconds, d1, sizeof d1), s->linger_bytes);
		linger_end_words(s, &b);
		ex_note(o, s, b.s);
	}
	if (s->fw2_server && !s->noted_fw2) {
		sb_init(&b);
		sb_add(&b, "The server socket went into FIN_WAIT_2 at %.6f s (the client "
		           "had acknowledged its FIN).", rf_num(s->fw2_server, "start", 0) - s->t0);
		fw2_ending_words(s, s->fw2_server, &b, "client");
		ex_note(o, s, b.s);
	}
}

const char *ex_packet_mark(const struct story *s, long long i)
{
	for (int j = 0; j < 2; j++) {
		const json_t *f = j ? s->other : s->finding;
		if (f && i == rf_int(f, "rst_packet", -1))
			return "  <- the RST";
	}
	for (int j = 0; j < 2; j++) {
		const json_t *f = j ? s->other : s->finding;
		const char *acc = rf_str(fate_of(f, i), "accept");
		bool at_server = !strcmp(impact_at(f), "server");
		if (!acc)
			continue;
		if (!strcmp(acc, "reset"))
			return at_server ? "  <- the server accepts it: reset" : "  <- the client accepts it: reset";
		if (!strcmp(acc, "challenge_ack"))
			return at_server ? "  <- the server answers with a challenge ACK"
			                 : "  <- the client answers with a challenge ACK";
		return at_server ? "  <- the server ignores it" : "  <- the client ignores it";
	}
	return "";
}

static void rst_note(const struct tout *o, struct story *s, const json_t *f)
{
	struct sbuf b;
	long long at_s = rf_int(f, "bytes_at_risk_at_server", 0);
	long long at_c = rf_int(f, "bytes_at_risk_at_client", 0);
	long long data_end = rf_int(f, "data_end", 0);
	long long rseq = rf_int(f, "rst_seq", 0);
	const char *cause = rf_str(f, "cause");
	const char *basis = rf_str(f, "basis");
	const char *sender = rf_str(f, "sender");
	long long risk = at_s > at_c ? at_s : at_c;
	bool server = sender && !strcmp(sender, "server");
	const json_t *fate = fate_of(f, rf_int(f, "rst_packet", -1));
	const char *me = server ? "server" : "client", *peer = server ? "client" : "server";
	bool sent_fin = server ? s->s_fin_known : s->c_fin_known;

	sb_init(&b);
	sb_add(&b, "RST from the %s: the connection is torn down at once. ",
	       server ? "server" : "client");
	if (cause && !strcmp(cause, "data_after_fin"))
		sb_add(&b, "Cause: the %s kept sending after the %s's FIN, "
		           "and a %s that has called close() no longer reads, so "
		           "its kernel answers the late data with RST. ", peer, me, me);
	else if (cause && !strcmp(cause, "unread_at_close"))
		sb_add(&b, "Cause: the %s closed while %s data sat unread "
		           "in its socket; closing a socket with unread data makes the "
		           "kernel send RST %s. ", me, peer,
		       sent_fin ? "even after a FIN sent by shutdown()"
		                : "instead of a polite FIN");
	else if (cause && !strcmp(cause, "abort") && ex_fin_before(s, f))
		sb_add(&b, "Cause: it comes right after the %s's own FIN, so this is a "
		           "close that reset (an abort with SO_LINGER 0 sends no FIN): "
		           "data of the %s's was still unread or on its way. ", me, peer);
	else if (cause && !strcmp(cause, "abort"))
		sb_add(&b, sent_fin ? "Cause: an abortive close after its FIN (e.g. "
		                      "SO_LINGER with a zero timeout). "
		                    : "Cause: an abortive close (RST without FIN, e.g. "
		                      "SO_LINGER with a zero timeout). ");
	if (rf_bool(f, "seq_evidence", false))
		sb_add(&b, "Look at its sequence number, %lld: a socket that is "
		           "already gone builds its RST from the ACK of the segment it "
		           "answers, so this RST answers a %s segment that had "
		           "acknowledged only up to %lld. ", rseq, peer, rseq);
	if (at_s > 0)
		sb_add(&b, "When the %s sent it, %lld of its %lld bytes (sequence "
		           "%lld to %lld) were not yet acknowledged as far as it could "
		           "know. ", server ? "server" : "client", at_s,
		       data_end > 0 ? data_end - 1 : 0, data_end - at_s, data_end - 1);
	if (basis && !strcmp(basis, "evidence"))
		evidence_words(s, f, &b);
	if (at_c > 0 && !fate)
		sb_add(&b, "When it reached the %s, %lld bytes were still "
		           "unacknowledged there. ", server ? "client" : "server", at_c);
	if (basis && !strcmp(basis, "capture_order"))
		sb_add(&b, "(No handshake timing here, so this is judged in capture "
		           "order.) ");
	if (fate) {
		sb_add(&b, "\n");
		fate_words(s, f, fate, &b);
	}
	if (server && risk > 0)
		impact_words(s, f, risk, &b);
	ex_note(o, s, b.s);
}
