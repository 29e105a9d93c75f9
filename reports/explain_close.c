/*
 * explain_close.c - the notes of `lingerlab explain` on the packets that
 * close a connection where no finding speaks for them (contract in
 * explain.h): what each RST did at its receiver, a FIN sent again, and a
 * FIN_WAIT_2 the server's kernel timed out before a RST came.
 *
 * The analyzer decides which RST ended a connection (analyzer/judge.c,
 * rules 2 and 4) and the record's kind, close_initiator and end states say
 * so; a finding lists its RSTs' fates. For the RSTs no finding lists, the
 * story applies the same rule, az_rst_accept(), to what the timeline shows:
 * RCV.NXT is what the sender had sent before the RST, RCV.WUP the
 * receiver's last ACK, the window its last one; and it reads the answer in
 * the packets (a challenge ACK, the traffic that went on). A FIN sent
 * again is one with the sequence number of an earlier FIN of the same
 * side. The kernel's view of a FIN_WAIT_2 socket comes from a lab report
 * (scenarios[].kernel_fin_wait_2, cleanup_rst_packets, tcp_fin_timeout).
 */
#include <stdio.h>
#include <string.h>

#include "analyzer/analyzer.h"
#include "analyzer/seq.h"
#include "reports/explain.h"

static const char *side_name(enum rf_dir d) { return d == RF_C2S ? "client" : "server"; }

/* Sequence space a timeline packet takes, as its end (relative). */
static uint32_t end_of(const struct rf_pkt *p)
{
	return p->seq + (p->syn ? 1 : 0) + p->len + (p->fin ? 1 : 0);
}

/* True when a finding of the report speaks for the RSTs of direction d. */
static bool finding_covers(const struct story *s, enum rf_dir d)
{
	for (int j = 0; j < 2; j++) {
		const json_t *f = j ? s->other : s->finding;
		const char *snd = rf_str(f, "sender");
		if (snd && !strcmp(snd, side_name(d)))
			return true;
	}
	return false;
}

void ex_rst_view(const struct story *s, size_t k, struct ex_rst *v)
{
	double h_recv = !s->have_rtt ? 0 : s->tl.pkts[k].dir == RF_C2S ? s->to_server
	                                                                : s->to_client;
	ex_rst_judge(&s->tl, k, h_recv, v);
}

void ex_rst_judge(const struct rf_timeline *tl, size_t k, double h_recv, struct ex_rst *v)
{
	const struct rf_pkt *p = &tl->pkts[k];
	enum rf_dir d = p->dir;
	bool any = false, acked = false, fin_in = false;
	size_t j;

	memset(v, 0, sizeof *v);
	v->k = k;
	v->syn_sent = true;
	v->seq = p->seq;
	v->answer = -1;
	v->went_on = -1;
	for (j = 0; j < k; j++) {
		const struct rf_pkt *q = &tl->pkts[j];
		if (q->dir == d && q->syn)
			v->syn_sent = false;
		if (q->dir == d && !q->rst) {
			if (!any || seq_after(end_of(q), v->nxt))
				v->nxt = end_of(q);
			any = true;
			fin_in |= q->fin;
		} else if (q->dir != d) {
			if (q->rst)
				v->peer_reset = true;
			else if (q->ack) {
				v->wup = q->ack_no;
				acked = true;
			}
			v->win = q->win; /* a SYN's is never scaled */
		}
	}
	if (!any)
		v->nxt = p->seq; /* nothing of the sender's seen: no telling */
	/* a RST that answers a SYN meets a receiver in SYN-SENT, which
	 * checks its ACK, not its seq (RFC 9293 3.10.7.3) */
	v->syn_sent = v->syn_sent && k > 0 && tl->pkts[0].syn && !tl->pkts[0].ack &&
	              tl->pkts[0].dir != d;
	if (!acked)
		v->wup = v->nxt;
	v->nxt = seq_max(v->nxt, v->wup);
	v->fate = az_rst_accept(v->seq, v->nxt, v->wup, v->win, fin_in);
	/* the challenge ACK: the receiver's next packet, an ACK of RCV.NXT
	 * with nothing else, sent as the RST came (nothing of the sender's
	 * but RSTs in between) */
	for (j = k + 1; v->fate == AZ_ACCEPT_CHALLENGE_ACK && j < tl->n; j++) {
		const struct rf_pkt *q = &tl->pkts[j];
		if (q->rst)
			continue;
		if (q->dir != d && q->ack && q->len == 0 && !q->fin && !q->syn &&
		    q->ack_no == v->nxt && q->t <= p->t + h_recv + 0.2)
			v->answer = (long long)j;
		break;
	}
	/* the receiver's packets after the RST reached it */
	for (j = k + 1; j < tl->n; j++) {
		const struct rf_pkt *q = &tl->pkts[j];
		if (q->dir == d || q->rst || (q->t <= p->t + h_recv && (long long)j != v->answer))
			continue;
		v->went_on = (long long)j;
		break;
	}
	for (j = v->went_on < 0 ? tl->n : (size_t)v->went_on + 1; j < tl->n; j++)
		if (tl->pkts[j].dir == d && !tl->pkts[j].rst)
			v->both_on = true;
	/* rule 4: a RST it would not take ends nothing if it went on; one
	 * with the exact seq, only if both sides went on */
	v->ended = v->peer_reset ? false :
	           v->fate == AZ_ACCEPT_RESET ? !v->both_on : v->went_on < 0;
}

/* The kernel's FIN_WAIT_2 interval of this connection in a lab report
 * (scenarios[].kernel_fin_wait_2) when the kernel timed it out (its
 * samples showed the socket gone before the wire ended it), or NULL. */
static const json_t *kernel_fw2(const struct story *s)
{
	long long id = rf_int(s->conn, "id", -1);
	const json_t *sc, *e;
	size_t i, j;

	json_array_foreach(rf_arr(s->root, "scenarios"), i, sc)
		json_array_foreach(rf_arr(sc, "kernel_fin_wait_2"), j, e)
			if (rf_int(e, "connection", -2) == id && rf_str(e, "ending") &&
			    !strcmp(rf_str(e, "ending"), "kernel_timeout"))
				return e;
	return NULL;
}

/* The scenario of this connection in a lab report, or NULL. */
static const json_t *scenario(const struct story *s)
{
	long long id = rf_int(s->conn, "id", -1);
	const json_t *sc, *v;
	size_t i, j;

	json_array_foreach(rf_arr(s->root, "scenarios"), i, sc)
		json_array_foreach(rf_arr(sc, "connections"), j, v)
			if (rf_val_int(v, -1) == id)
				return sc;
	return NULL;
}

bool ex_cleanup_rst(const struct story *s, long long i)
{
	const json_t *v;
	size_t j;

	json_array_foreach(rf_arr(rf_obj(s->root, "lab"), "cleanup_rst_packets"), j, v)
		if (rf_val_int(v, -1) == i)
			return true;
	json_array_foreach(rf_arr(scenario(s), "cleanup_rst_packets"), j, v)
		if (rf_val_int(v, -1) == i)
			return true;
	return false;
}

bool ex_fw2_kernel_words(const struct story *s, const json_t *fw2, struct sbuf *b)
{
	const json_t *e = kernel_fw2(s), *sc = scenario(s);
	char d1[32], d2[32];
	double gone;

	if (!e || !rf_is_num(e, "gone") || !rf_is_num(fw2, "start"))
		return false;
	gone = rf_num(e, "gone", 0);
	sb_add(b, " The server's kernel dropped the socket %s after it entered FIN_WAIT_2 "
	          "(its samples show it there until %.3f s, then gone), without a packet: "
	          "an orphan (a socket its application has closed) waits for the peer's "
	          "FIN at most net.ipv4.tcp_fin_timeout",
	       ex_ms(gone - rf_num(fw2, "start", 0), d1, sizeof d1), gone - s->t0);
	if (rf_is_num(sc, "tcp_fin_timeout"))
		sb_add(b, " (%s in this run; 60 s by default)",
		       ex_ms(rf_num(sc, "tcp_fin_timeout", 0), d2, sizeof d2));
	else
		sb_add(b, " (60 s by default)");
	sb_add(b, " after it is orphaned, then Linux frees it (tcp_fin_timeout, the "
	          "FIN_WAIT_2 timer). (Counted from the orphaning, which comes later than "
	          "the FIN when a server shuts down its sending half and reads on before "
	          "it closes.)");
	if (rf_is_num(fw2, "end") && rf_num(fw2, "end", 0) > gone)
		sb_add(b, " The wire alone shows the interval ending %s later, at the RST "
		          "below.", ex_ms(rf_num(fw2, "end", 0) - gone, d1, sizeof d1));
	return true;
}

bool ex_fw2_silence_words(const struct story *s, const json_t *fw2, struct sbuf *b)
{
	const char *ending = rf_str(fw2, "ending");
	double end = rf_num(fw2, "end", 0), last = -1;
	char d1[32], d2[32];

	if (!ending || !strstr(ending, "_rst") || !rf_is_num(fw2, "end"))
		return false;
	for (size_t k = 0; k < s->tl.n && s->tl.pkts[k].t < end - 1e-7; k++)
		last = s->tl.pkts[k].t;
	if (last < 0 || end - last < 1.0)
		return false;
	sb_add(b, " Here a RST came %s later, after %s with no packet at all. A FIN_WAIT_2 "
	          "socket whose application has closed it does not wait forever: Linux "
	          "frees it after net.ipv4.tcp_fin_timeout (60 s by default, often set "
	          "lower), without a packet, so the server's socket may have been gone "
	          "before this RST came; the capture alone cannot tell.",
	       ex_ms(rf_num(fw2, "duration", 0), d1, sizeof d1), ex_ms(end - last, d2, sizeof d2));
	return true;
}

/* The note for a RST the runner sent to a socket the kernel had dropped. */
static bool cleanup_words(const struct story *s, size_t k, struct sbuf *b)
{
	const struct rf_pkt *p = &s->tl.pkts[k];
	const json_t *e = kernel_fw2(s);
	char d[32];
	bool answered = false;

	if (!ex_cleanup_rst(s, p->i))
		return false;
	sb_add(b, "This RST is the lab's, not the client's: when a scenario's time is up, "
	          "the runner resets the connections its raw client still holds. ");
	if (e && rf_is_num(e, "gone") && rf_num(e, "gone", 0) <= p->t) {
		sb_add(b, "The server's kernel had dropped this socket %s before (its FIN_WAIT_2 "
		          "timed out), so the RST finds no socket to reset. ",
		       ex_ms(p->t - rf_num(e, "gone", 0), d, sizeof d));
	}
	for (size_t j = k + 1; j < s->tl.n; j++)
		answered |= s->tl.pkts[j].dir != p->dir;
	if (!answered)
		sb_add(b, "Nothing came back: a RST is never answered (RFC 9293 3.10.7.1).");
	return true;
}

void ex_rst_fate_words(const struct story *s, const struct ex_rst *v, struct sbuf *b)
{
	const struct rf_pkt *p = &s->tl.pkts[v->k];
	const char *rc = side_name(p->dir == RF_C2S ? RF_S2C : RF_C2S);
	bool behind = seq_before(v->seq, v->wup);

	if (v->peer_reset) {
		const struct rf_pkt *q = NULL, *own = NULL;
		for (size_t j = v->k; j-- > 0;)
			if (s->tl.pkts[j].dir != p->dir && !q)
				q = &s->tl.pkts[j];
		for (size_t j = 0; j < v->k && !own; j++)
			if (s->tl.pkts[j].dir != p->dir && s->tl.pkts[j].rst)
				own = &s->tl.pkts[j];
		if (q && own && !q->rst && q->ack && !p->ack && p->seq == q->ack_no)
			sb_add(b, "This RST answers the %s's segment #%lld the way a closed port "
			          "does: its seq is that segment's ACK (RFC 9293 3.10.7.1), so the %s "
			          "no longer has the connection, since the %s's own RST (#%lld). "
			          "That RST was no close of the %s's TCP, which went on sending "
			          "(a forged one, as the lab's raw client sends); this one tells it "
			          "the connection is gone.", rc, q->i, side_name(p->dir), rc, own->i, rc);
		else
			sb_add(b, "The %s had already reset the connection itself: this RST finds "
			          "nothing there to reset (a RST for a connection that does not "
			          "exist is dropped, RFC 9293 3.10.7.1).", rc);
		return;
	}
	if (v->fate == AZ_ACCEPT_RESET) {
		sb_add(b, "The %s takes this RST: its seq, %u, is exactly the next byte the %s "
		          "expects (RCV.NXT), which is what RFC 5961 3.2 asks of a RST before "
		          "it resets. ", rc, v->seq, rc);
		if (v->both_on)
			sb_add(b, "Yet both sides sent on after it reached the %s, which a TCP "
			          "that took it could not do: the capture must lack some of the "
			          "sender's segments, and the RST did not end the connection.", rc);
		else
			sb_add(b, "The %s's side of the connection is gone at once: no FIN, no "
			          "TIME_WAIT.", rc);
		return;
	}
	if (v->fate == AZ_ACCEPT_CHALLENGE_ACK) {
		sb_add(b, "The %s does not take this RST: its seq, %u, is inside the %s's "
		          "receive window but is not %u, the next byte it expects (RCV.NXT). "
		          "Since RFC 5961 (3.2) such a RST draws a challenge ACK, an ACK of "
		          "what the %s really has, and is otherwise ignored: a genuine sender, "
		          "whose connection is gone, answers it with a RST at the right seq, "
		          "while a blind attacker, who before had only to land somewhere in the "
		          "window, gets nowhere. ", rc, v->seq, rc, v->nxt, rc);
		if (v->answer >= 0)
			sb_add(b, "Here it is, #%lld (ack %u). ", s->tl.pkts[v->answer].i,
			       s->tl.pkts[v->answer].ack_no);
	} else {
		sb_add(b, "The %s drops this RST without an answer: its seq, %u, lies %s the "
		          "%s's receive window (", rc, v->seq, behind ? "before" : "beyond", rc);
		if (v->win > 0)
			sb_add(b, "%u to %u", v->wup, v->wup + v->win);
		else
			sb_add(b, "from %u on", v->wup);
		sb_add(b, "%s). A receiver looks at a RST only if its seq is in the window "
		          "(RFC 9293 3.10.7.4, RFC 5961 3.2): one outside is stale or forged, "
		          "and gets no challenge ACK either. ",
		       behind ? ": bytes it has already acknowledged" : "");
	}
	if (v->went_on >= 0 && v->went_on == v->answer)
		sb_add(b, "That ACK shows the %s still has the connection: it lives on.", rc);
	else if (v->went_on >= 0)
		sb_add(b, "The %s goes on (#%lld): the connection lives on.", rc,
		       s->tl.pkts[v->went_on].i);
	else
		sb_add(b, "But nothing more came from the %s to show that it went on, so this "
		          "RST is taken as the end (a capture that missed some of the sender's "
		          "segments would put its seq wrong).", rc);
}

/* A FIN of direction d at k with the seq of an earlier one: its index. */
static long long first_copy(const struct story *s, size_t k)
{
	const struct rf_pkt *p = &s->tl.pkts[k];

	for (size_t j = 0; j < k; j++) {
		const struct rf_pkt *q = &s->tl.pkts[j];
		if (q->dir == p->dir && q->fin && !q->rst && end_of(q) == end_of(p))
			return (long long)j;
	}
	return -1;
}

static void fin_again_words(const struct story *s, size_t k, size_t j0, struct sbuf *b)
{
	const struct rf_pkt *p = &s->tl.pkts[k], *f0 = &s->tl.pkts[j0];
	enum rf_dir d = p->dir, r = d == RF_C2S ? RF_S2C : RF_C2S;
	const char *me = side_name(d), *peer = side_name(r);
	long long ack_between = -1, peer_fin = -1, ack_short = -1;
	double h_peer = !s->have_rtt ? -1 : d == RF_S2C ? s->to_client : s->to_server;
	uint32_t fin_seq = end_of(p) - 1;
	char dt[32];
	size_t j;

	for (j = 0; j < k; j++) {
		const struct rf_pkt *q = &s->tl.pkts[j];
		if (q->dir == r && q->fin && peer_fin < 0)
			peer_fin = (long long)j;
		if (j > j0 && q->dir == r && q->ack && !q->rst && seq_after(q->ack_no, fin_seq) &&
		    ack_between < 0)
			ack_between = (long long)j;
		/* an ACK the peer sent well after the FIN had time to reach it
		 * (a quarter of the round trip and a millisecond to spare, for
		 * the error of the estimate) that stops short of the FIN: the
		 * peer never had it */
		if (j > j0 && q->dir == r && q->ack && !q->rst && !seq_after(q->ack_no, fin_seq) &&
		    h_peer >= 0 && q->t > f0->t + h_peer * 1.25 + 0.001 && ack_short < 0)
			ack_short = (long long)j;
	}
	sb_add(b, "The %s sends its FIN again (seq %u, as in #%lld, %s later): it had no "
	          "ACK for it, so its retransmission timer ran out (RTO, RFC 6298: at least "
	          "200 ms on Linux, doubling at each try) and TCP sent the FIN again, as it "
	          "does any unacknowledged segment; a FIN takes a sequence number so that "
	          "it can be acknowledged and retransmitted like data (RFC 9293 3.5). ",
	       me, fin_seq, f0->i, ex_ms(p->t - f0->t, dt, sizeof dt));
	if (ack_between < 0 && ack_short >= 0)
		sb_add(b, "It was the FIN that was lost, on its way to the %s: the %s's ACK #%lld "
		          "(ack %u), sent when the FIN should have reached it, acknowledges "
		          "what came before the FIN but not the FIN. ", peer, peer,
		       s->tl.pkts[ack_short].i, s->tl.pkts[ack_short].ack_no);
	else
		sb_add(b, "Either the FIN was lost on its way to the %s or the %s's ACK of it "
		          "was lost on the way back: ", peer, peer);
	if (ack_short >= 0 && ack_between < 0)
		;
	else if (ack_between >= 0)
		sb_add(b, "the %s's ACK (#%lld, ack %u) passed the capture point, so it was "
		          "lost after it, on its way to the %s. ", peer,
		       s->tl.pkts[ack_between].i, s->tl.pkts[ack_between].ack_no, me);
	else
		sb_add(b, "the capture shows no ACK of the FIN from the %s in between, so one of "
		          "the two was lost beyond the capture point. ", peer);
	if (peer_fin >= 0 && peer_fin < (long long)j0)
		sb_add(b, "The %s closed first (its FIN is #%lld), so the %s is in LAST_ACK "
		          "and the %s is still there to answer either way: in FIN_WAIT_2 if the "
		          "FIN was lost, in TIME_WAIT if its last ACK was. That is why TIME_WAIT "
		          "exists (RFC 9293 3.6): the side that sends the last ACK keeps the "
		          "connection for twice the maximum segment lifetime (2 MSL), so it can "
		          "ACK a repeated FIN; without it the FIN would meet no socket and draw "
		          "a RST, and the %s's close would end in an error.", peer,
		       s->tl.pkts[peer_fin].i, me, peer, me);
	else
		sb_add(b, "Until a copy gets through and is ACKed the %s stays in FIN_WAIT_1; "
		          "the %s learns of the close only from the copy that reaches it.",
		       me, peer);
}

void ex_close_notes(const struct tout *o, struct story *s, size_t k)
{
	const struct rf_pkt *p = &s->tl.pkts[k];
	int d = p->dir == RF_C2S ? 0 : 1;
	struct sbuf b;

	if (p->fin && !p->rst && !s->noted_fin_again[d]) {
		long long j0 = first_copy(s, k);
		if (j0 >= 0) {
			s->noted_fin_again[d] = true;
			sb_init(&b);
			fin_again_words(s, k, (size_t)j0, &b);
			ex_note(o, s, b.s);
		}
	}
	if (p->rst && !finding_covers(s, p->dir)) {
		struct ex_rst v;
		int cls;

		sb_init(&b);
		if (cleanup_words(s, k, &b)) {
			ex_note(o, s, b.s);
			return;
		}
		ex_rst_view(s, k, &v);
		/* a run of RSTs that fare alike is told once */
		if (v.syn_sent || (v.fate == AZ_ACCEPT_RESET && v.ended && !v.peer_reset))
			return; /* told by how it ended */
		cls = 1 + (int)v.fate * 8 + (v.peer_reset ? 1 : 0) + (v.ended ? 2 : 0) +
		      (seq_before(v.seq, v.wup) ? 4 : 0);
		if (s->rst_told[d] == cls)
			return;
		s->rst_told[d] = cls;
		ex_rst_fate_words(s, &v, &b);
		ex_note(o, s, b.s);
	}
}

void ex_rst_end_words(const struct story *s, struct sbuf *b)
{
	bool told[2] = { false, false };

	for (size_t k = 0; k < s->tl.n; k++) {
		const struct rf_pkt *p = &s->tl.pkts[k];
		int d = p->dir == RF_C2S ? 0 : 1;
		struct ex_rst v;
		const char *me = side_name(p->dir), *rc = side_name(p->dir == RF_C2S ? RF_S2C : RF_C2S);

		if (!p->rst || told[d] || finding_covers(s, p->dir) || ex_cleanup_rst(s, p->i))
			continue;
		told[d] = true;
		ex_rst_view(s, k, &v);
		if (v.syn_sent)
			continue;
		if (v.ended && v.fate == AZ_ACCEPT_RESET)
			sb_add(b, " The %s took the %s's RST (#%lld): its seq was exactly the next "
			          "byte it expected (RFC 5961 3.2).", rc, me, p->i);
		else if (!v.ended && !v.peer_reset)
			sb_add(b, " The %s's RST (#%lld) did not end the connection: the %s %s it "
			          "and went on (RFC 5961 3.2).", me, p->i, rc,
			       v.fate == AZ_ACCEPT_CHALLENGE_ACK ? "answered it with a challenge "
			                                           "ACK instead of taking" :
			       v.fate == AZ_ACCEPT_IGNORED ? "dropped it without a word (its seq "
			                                     "was outside the window) instead of "
			                                     "taking" : "did not take");
	}
}

void ex_fw2_cleanup_words(const struct story *s, struct sbuf *b)
{
	const json_t *e = kernel_fw2(s);
	char d[32];

	if (!e || !rf_is_num(e, "gone") || !s->fw2_server)
		return;
	sb_add(b, " The server's socket did not wait for the client's FIN: its kernel "
	          "dropped it after tcp_fin_timeout, %s into FIN_WAIT_2, without a packet",
	       ex_ms(rf_num(e, "gone", 0) - rf_num(s->fw2_server, "start", 0), d, sizeof d));
	if (s->tl.n > 0 && s->tl.pkts[s->tl.n - 1].rst &&
	    s->tl.pkts[s->tl.n - 1].t >= rf_num(e, "gone", 0))
		sb_add(b, ", before the RST came: the socket ended CLOSED by that timeout, "
		          "not by the RST");
	sb_add(b, ".");
}
