/*
 * story.c - how a connection ended, told for every teardown (contract in
 * explain.h): who closed first and what each side went through (RFC 9293
 * 3.6 and its state diagram), a simultaneous close, a half-close, a
 * lingering close and how it ended, an abort, a refused connection, who
 * is left in TIME_WAIT and why that exists, and what the peer made of
 * each RST (RFC 5961 3.2, as the report's impact.rsts judges it). And the
 * remedy that fits the cause, when a RST put data at risk.
 *
 * It reads only the connection record, its timeline and its findings; it
 * decides nothing the analyzer has not decided, except what the timeline
 * shows plainly (a packet's order and flags).
 */
#include <stdio.h>
#include <string.h>

#include "analyzer/seq.h"
#include "reports/explain.h"

static bool is(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* First timeline packet of direction d with a FIN (or RST), -1 if none. */
static long long first_flag(const struct story *s, enum rf_dir d, bool rst)
{
	for (size_t k = 0; k < s->tl.n; k++)
		if (s->tl.pkts[k].dir == d && (rst ? s->tl.pkts[k].rst : s->tl.pkts[k].fin))
			return (long long)k;
	return -1;
}

/*
 * Server bytes the client received after it sent its FIN (timeline index
 * kf): those beyond the FIN's own ACK field, which is what the client had
 * when it sent it (the capture order can show the FIN later, when it was
 * on its way while the server answered). *pkts gets the segments.
 */
static long long data_after_fin(const struct story *s, long long kf, long long *pkts)
{
	const struct rf_pkt *fin = &s->tl.pkts[kf];
	long long bytes = 0;

	*pkts = 0;
	if (!fin->ack)
		return 0;
	for (size_t k = 0; k < s->tl.n; k++) {
		const struct rf_pkt *p = &s->tl.pkts[k];
		if (p->dir != RF_S2C || p->len == 0 || p->rst || !seq_after(p->seq + p->len, fin->ack_no))
			continue;
		bytes += seq_after(p->seq, fin->ack_no) ? p->len : p->seq + p->len - fin->ack_no;
		(*pkts)++;
	}
	return bytes;
}

/* Client bytes sent after the server's FIN, in capture order, not counting
 * a RST's. */
static long long data_after(const struct story *s, long long kf, enum rf_dir d, long long *pkts)
{
	long long bytes = 0;

	*pkts = 0;
	for (size_t k = (size_t)kf + 1; kf >= 0 && k < s->tl.n; k++)
		if (s->tl.pkts[k].dir == d && s->tl.pkts[k].len > 0 && !s->tl.pkts[k].rst) {
			bytes += s->tl.pkts[k].len;
			(*pkts)++;
		}
	return bytes;
}

bool ex_gave_up(const struct story *s, const json_t *f, int *retx)
{
	long long rst = rf_int(f, "rst_packet", -1);
	enum rf_dir d = is(rf_str(f, "sender"), "client") ? RF_C2S : RF_S2C;
	uint32_t sent = 0;
	bool any = false;
	size_t k, krst = s->tl.n;
	int n = 0;

	*retx = 0;
	for (k = 0; k < s->tl.n; k++)
		if (s->tl.pkts[k].i == rst)
			krst = k;
	if (krst == s->tl.n)
		return false;
	/* the highest byte sent before the RST */
	for (k = 0; k < krst; k++) {
		const struct rf_pkt *p = &s->tl.pkts[k];
		if (p->dir == d && p->len > 0 && (!any || seq_after(p->seq + p->len, sent))) {
			sent = p->seq + p->len;
			any = true;
		}
	}
	/* walking back from the RST: only the sender's retransmissions of
	 * bytes already sent, and nothing from the peer in between */
	for (k = krst; k-- > 0;) {
		const struct rf_pkt *p = &s->tl.pkts[k];
		if (p->dir != d)
			break;
		if (p->len == 0 || p->syn || p->rst)
			continue;
		if (p->len > 0 && seq_after(p->seq + p->len, sent))
			break;
		/* the first send of the highest segment is not a retransmission */
		bool earlier = false;
		for (size_t j = 0; j < k; j++)
			if (s->tl.pkts[j].dir == d && s->tl.pkts[j].len > 0 &&
			    seq_geq(s->tl.pkts[j].seq + s->tl.pkts[j].len, p->seq + p->len))
				earlier = true;
		if (!earlier)
			break;
		n++;
	}
	*retx = n;
	return n >= 2;
}

bool ex_fin_before(const struct story *s, const json_t *f)
{
	enum rf_dir d = is(rf_str(f, "sender"), "client") ? RF_C2S : RF_S2C;
	long long rst = rf_int(f, "rst_packet", -1);

	for (size_t k = 0; k < s->tl.n && s->tl.pkts[k].i != rst; k++)
		if (s->tl.pkts[k].dir == d && s->tl.pkts[k].fin)
			return true;
	return false;
}

void ex_remedy(const struct story *s, const json_t *f, struct sbuf *b)
{
	const char *cause = rf_str(f, "cause");
	const char *me = is(rf_str(f, "sender"), "client") ? "client" : "server";
	int retx = 0;

	if (ex_gave_up(s, f, &retx)) {
		sb_add(b, "A lingering close would not help here: the %s was not closing, it gave "
		          "up. It sent the same unacknowledged bytes %d times over with no answer "
		          "from its peer, then reset (Linux does so after tcp_retries2 "
		          "retransmissions or a TCP_USER_TIMEOUT). The peer or the path was gone; "
		          "what to fix is there, not in how the %s closes.", me, retx + 1, me);
	} else if (is(cause, "data_after_fin") || is(cause, "unread_at_close")) {
		sb_add(b, "The cure is a lingering close: shut down only the sending half, read "
		          "and discard until the %s closes or a timeout passes, then close.",
		       is(me, "server") ? "client" : "server");
	} else if (is(cause, "abort") && ex_fin_before(s, f)) {
		/* SO_LINGER 0 sends no FIN: a FIN first means a close (or a
		 * shutdown) that reset on data it had not read */
		sb_add(b, "The %s sent its FIN before this RST, so it did not abort with "
		          "SO_LINGER 0 (that sends no FIN): it closed, and reset because data "
		          "of its peer's was still coming or unread. The cure is a lingering "
		          "close: shut down only the sending half, read and discard until the "
		          "%s closes or a timeout passes, then close.", me,
		       is(me, "server") ? "client" : "server");
	} else if (is(cause, "abort")) {
		sb_add(b, "A lingering close would not help here: the %s did not close with data "
		          "unread, it aborted (a RST with nothing of its peer's left to read: "
		          "SO_LINGER with a zero timeout, or a process that crashed or was "
		          "killed). The fix is to close normally, with a FIN, once the last "
		          "bytes are sent.", me);
	} else {
		sb_add(b, "The capture does not show why the %s reset, so no remedy is "
		          "certain: if it closed with data unread, a lingering close cures it.", me);
	}
}

/* What the peer made of the RSTs of finding f, in one sentence with the
 * rule behind it. The report lists at most 8 RSTs one by one
 * (impact.rsts); the one the peer accepts is impact.accepted_rst_packet,
 * listed or not. */
static void fates_words(const json_t *f, struct sbuf *b)
{
	const json_t *im = rf_obj(f, "impact"), *r;
	const char *at = rf_str(im, "at");
	const char *sender = is(at, "server") ? "client" : "server";
	const char *peer = is(at, "server") ? "server" : "client";
	long long n[3] = { 0, 0, 0 }, total = rf_int(im, "rsts_total", 0);
	long long accepted = rf_int(im, "accepted_rst_packet", -1);
	size_t k, listed;

	json_array_foreach(rf_arr(im, "rsts"), k, r) {
		const char *a = rf_str(r, "accept");
		n[is(a, "reset") ? 0 : is(a, "challenge_ack") ? 1 : 2]++;
	}
	listed = (size_t)(n[0] + n[1] + n[2]);
	if (listed == 0)
		return;
	sb_add(b, " The %s sent %lld RST%s; ", sender, total, total == 1 ? "" : "s");
	if ((long long)listed < total)
		sb_add(b, "of the %zu the report judges one by one, ", listed);
	sb_add(b, "the %s ignores %lld and answers %lld with a challenge ACK, and ", peer,
	       n[2], n[1]);
	if (accepted > 0)
		sb_add(b, "it accepts packet %lld, which resets the connection.", accepted);
	else
		sb_add(b, "it accepts none.");
	sb_add(b, " That is RFC 5961 3.2 at work: a receiver resets only on a RST whose seq "
	          "is exactly the next byte it expects (RCV.NXT); one elsewhere inside its "
	          "window draws a challenge ACK (a genuine sender answers it with a RST at "
	          "the right seq); one outside the window, such as a RST built from an ACK "
	          "the receiver has long since moved past, is dropped, which is also what "
	          "shields connections from blind RST injection. A RST that comes after the "
	          "connection is already gone finds nothing to reset.");
}

/* One space between sentences, however the pieces were joined. */
static void squeeze(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++)
		if (!(*r == ' ' && (w == s || w[-1] == ' ')))
			*w++ = *r;
	while (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
}

/* Where each side ends, and why TIME_WAIT exists. */
static void end_words(const struct story *s, struct sbuf *b)
{
	const char *ce = rf_str(s->conn, "client_end"), *se = rf_str(s->conn, "server_end");
	bool ctw = is(ce, "TIME_WAIT"), stw = is(se, "TIME_WAIT");

	if (ce && se)
		sb_add(b, " As far as the wire shows, the client ends in %s and the server in %s.",
		       ce, se);
	if (ctw && stw)
		sb_add(b, " Both sides are in TIME_WAIT:");
	else if (ctw)
		sb_add(b, " TIME_WAIT is on the client's side, where it costs a busy server "
		          "nothing:");
	else if (stw)
		sb_add(b, " TIME_WAIT is on the server's side, because it closed first; a busy "
		          "server that closes first collects these sockets:");
	if (ctw || stw)
		sb_add(b, " the side that sent the last ACK keeps the connection's addresses "
		          "and ports for twice the maximum segment lifetime (Linux: 60 s), so it "
		          "can ACK the peer's FIN again should that last ACK be lost, and so no "
		          "stray segment of this connection is taken for one of a new connection "
		          "on the same ports.");
	if (is(ce, "CLOSING") || is(se, "CLOSING"))
		sb_add(b, " CLOSING: that side had the peer's FIN but not yet the ACK of its own "
		          "when the capture ended.");
	if (is(se, "CLOSE_WAIT") || is(ce, "CLOSE_WAIT"))
		sb_add(b, " CLOSE_WAIT: that side has the peer's FIN and has not closed itself "
		          "(its application has not called close() yet).");
}

void ex_teardown_story(const struct tout *o, struct story *s)
{
	const char *init = rf_str(s->conn, "close_initiator"), *kind = rf_str(s->conn, "kind");
	long long kcf = first_flag(s, RF_C2S, false), ksf = first_flag(s, RF_S2C, false);
	long long kcr = first_flag(s, RF_C2S, true), ksr = first_flag(s, RF_S2C, true);
	long long pk = 0, after;
	struct sbuf b;
	char d[32];

	sb_init(&b);
	sb_add(&b, "How it ended: ");
	if (is(kind, "reset") && s->tl.n >= 2 && s->tl.pkts[0].syn && !s->tl.pkts[0].ack &&
	    ksr == 1 && ksf < 0) {
		sb_add(&b, "the server refused the connection. A RST answers the SYN: nothing "
		           "listens on that port (or a firewall says so), so the client's "
		           "connect() fails at once with \"connection refused\".");
		ex_note(o, s, b.s);
		return;
	}
	if (is(init, "simultaneous")) {
		sb_add(&b, "a simultaneous close. Each side sent its FIN before the other's "
		           "reached it, so the FINs cross on the wire. Each then receives a FIN "
		           "while still waiting for the ACK of its own (FIN_WAIT_1), ACKs it and "
		           "moves to CLOSING; when the ACK of its own FIN comes it enters "
		           "TIME_WAIT (RFC 9293 3.6). So both ends wait out TIME_WAIT, not just "
		           "one.");
	} else if (is(init, "client") || is(init, "server")) {
		bool cl = is(init, "client");
		const char *first = init, *other = cl ? "server" : "client";
		long long kfin = cl ? kcf : ksf, krst = cl ? kcr : ksr;
		if (kfin >= 0 && (krst < 0 || krst > kfin))
			sb_add(&b, "the %s closed first (the active close): its FIN takes it through "
			           "FIN_WAIT_1 and, once ACKed, FIN_WAIT_2; the %s, told by the FIN, "
			           "is in CLOSE_WAIT until it closes too (LAST_ACK). ", first, other);
		else
			sb_add(&b, "the %s ended it with a RST, without a FIN. ", first);

		if (!cl && ksf >= 0 && (kcf < 0 || kcf > ksf) &&
		    (after = data_after(s, ksf, RF_C2S, &pk)) > 0 && !s->lingered)
			sb_add(&b, "The client kept sending after the server's FIN: %lld byte%s in "
			           "%lld packet%s. ", after, after == 1 ? "" : "s", pk, pk == 1 ? "" : "s");
	} else {
		sb_add(&b, "nobody closed within the capture: the connection was still open "
		           "when it ended. ");
	}
	/* a half-close: the client's FIN, and it goes on reading */
	if ((is(init, "client") || is(init, "simultaneous")) && kcf >= 0 &&
	    (after = data_after_fin(s, kcf, &pk)) > 0)
		sb_add(&b, "%sThe client's FIN was a half-close: it only said \"I will send "
		           "nothing more\" (shutdown(SHUT_WR)), and the client kept reading: "
		           "%lld byte%s of the server's, in %lld segment%s, reached it after it "
		           "had sent its FIN (beyond the FIN's ack %u), and TCP delivered them as "
		           "usual. ", is(init, "simultaneous") ? " " : "", after,
		       after == 1 ? "" : "s", pk, pk == 1 ? "" : "s", s->tl.pkts[kcf].ack_no);
	if (s->lingered) {
		sb_add(&b, " The server closed with a lingering close: after its FIN it kept "
		           "reading and discarding for %s (%lld bytes).",
		       ex_ms(s->linger_seconds, d, sizeof d), s->linger_bytes);
		if (is(s->linger_end, "server_rst"))
			sb_add(&b, " Its linger limit ran out before the client closed, so it reset "
			           "the connection (nginx's lingering_time, the lingering timeouts "
			           "of lighttpd and Apache, Go's rstAvoidanceDelay end this way)%s.",
			       s->finding ? "" : "; by then the client had acknowledged the whole "
			                        "response, so the RST put nothing at risk");
		else if (is(s->linger_end, "client_fin"))
			sb_add(&b, " The client's FIN ended it: the gentle way.");
		else if (is(s->linger_end, "client_rst"))
			sb_add(&b, " The client's RST ended it.");
	}
	long long kr = kcr >= 0 && (ksr < 0 || kcr < ksr) ? kcr : ksr;
	if (is(kind, "abort") && !s->finding && kr >= 0 && ex_cleanup_rst(s, s->tl.pkts[kr].i))
		sb_add(&b, " The RST came without a FIN, but it is no abort of the client's: it "
		           "is the lab runner's clean-up, which resets what its raw client still "
		           "holds when a scenario's time is up.");
	else if (is(kind, "abort") && !s->finding)
		sb_add(&b, " The RST came without a FIN (an abortive close), but its sender had "
		           "nothing unacknowledged, so no data was lost to it.");
	else if (is(kind, "fin_then_rst") && !s->finding && !s->lingered)
		sb_add(&b, " A RST followed the FIN, but only after the peer had acknowledged "
		           "everything: nothing was lost to it.");
	else if (is(kind, "half_open"))
		sb_add(&b, " Only one side's FIN is in the capture: the other never closed "
		           "before it ended.");
	else if (is(kind, "graceful") && !is(init, "simultaneous"))
		sb_add(&b, " Both FINs were sent and acknowledged: a graceful close.");
	end_words(s, &b);
	for (int j = 0; j < 2; j++) {
		const json_t *f = j ? s->other : s->finding;
		if (f)
			fates_words(f, &b);
	}
	/* the RSTs no finding speaks for: what their receivers made of them */
	ex_rst_end_words(s, &b);
	ex_fw2_cleanup_words(s, &b);
	squeeze(b.s);
	ex_note(o, s, b.s);
}
