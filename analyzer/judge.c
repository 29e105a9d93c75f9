/*
 * judge.c - what lingerlab flags and why (see judge.h). Each rule names
 * what proves it; docs/report-format.md says the same for readers of the
 * report.
 *
 * 1. rst_before_ack (the seed's rule, the server's view). An endpoint
 *    sends RST while some of its own data is not acknowledged as far as
 *    it could know: bytes_at_risk = data_end - K > 0, where K is what the
 *    sender knew its peer had acknowledged when the RST left it. K is the
 *    highest of:
 *    - the estimate: with the handshake's half round trips h_s, h_c, a
 *      peer ACK captured at t_a reached the sender by t_a + h_send/2 and
 *      the RST left it at t_rst - h_send/2, so ACKs with t_a <= t_rst -
 *      h_send count (basis "timing"); without a handshake, every ACK
 *      captured before the RST counts (basis "capture_order");
 *    - evidence, which is proof and wins where it says more (basis
 *      "evidence"):
 *      a. ACK of an ACK: a packet the sender sent before the RST whose ACK
 *         field covers a peer segment proves the sender had that segment,
 *         and so the ACK field that segment carried (the ACK fields of a
 *         direction never go back, so any copy of the segment it got
 *         carried at least that much). Typical: the peer's FIN carries
 *         the ACK of every byte, the sender ACKs the FIN, then resets.
 *      b. A RST without the ACK flag whose seq lies inside the sender's
 *         data answers a segment (RFC 9293 3.10.7.1: a closed connection
 *         takes the reset's seq from the ACK field of the segment that
 *         provoked it; Linux's tcp_v4_send_reset does so, and its
 *         FIN_WAIT "data after shutdown" reset goes through it): the
 *         sender had that segment, so it had that ACK. The same RST also
 *         dates what the sender knew: it left when that segment arrived,
 *         and the peer's ACK field never goes back, so ACKs beyond it
 *         came in later segments, too late for it: its seq replaces the
 *         estimate, timing or capture order.
 *    A connection can carry one finding per sender (the first RST in each
 *    direction; after it the sender sends no more data).
 *
 * 2. client_impact (the receiver's view). Every RST of the sender meets
 *    the receiver's RFC 5961 3.2 check, as Linux implements it
 *    (tcp_validate_incoming, tcp_sequence, tcp_reset_check):
 *    - seq outside [RCV.WUP, RCV.WUP + RCV.WND] (RCV.WUP: the receiver's
 *      last ACK sent) is dropped silently: "ignored";
 *    - seq == RCV.NXT resets; so does RCV.NXT - 1 once the sender's FIN is
 *      in (CLOSE_WAIT, LAST_ACK, CLOSING): "reset";
 *    - any other in-window seq draws a challenge ACK: "challenge_ack". The
 *      challenge ACK carries RCV.NXT, so it moves RCV.WUP there: later
 *      RSTs meet that even where the capture lacks it (a raw lab client
 *      sends none), and it usually draws a RST with the exact seq.
 *    The receiver's RCV.NXT when a RST arrives is what the sender sent
 *    before it (same path, same order), unless a hole at the capture point
 *    held it back. Its last ACK is read from the capture: ACKs captured up
 *    to t_rst + h_recv left it before the RST reached it (at the
 *    receiver's vantage h_recv is about 0 and this is exact; elsewhere an
 *    estimate; without a handshake, capture order). The first RST it
 *    accepts decides: "reset_before_ack" if some of the sender's data was
 *    then still unACKed by it, "reset_after_ack" if it had ACKed all of
 *    it, "no_reset" if it accepts none.
 *
 * 3. Lingering close: after its FIN the server kept ACKing client data
 *    (in segments other than a RST). It ends with the client's FIN (once
 *    in order at the server), the server's RST (its linger limit ran out),
 *    the client's RST, or the end of the capture; a RST that ends a linger
 *    does not undo it. Only a RST that ended the connection (rule 4) ends
 *    a linger.
 *
 * 4. The end of a connection (every connection, flagged or not): the
 *    first RST that ended it, else its FINs. A RST ends a connection only
 *    if its receiver took it, and the receiver's own packets say whether
 *    it did, as rule 2 judges the seq:
 *    - a RST the receiver would not take (a challenge ACK, RFC 5961 3.2,
 *      or outside the window, RFC 9293 3.10.7.4) did not end it if the
 *      receiver sent anything (not a RST) after the RST reached it: the
 *      challenge ACK itself, or the traffic it went on with. Without such
 *      a segment it is taken as the end, as before: a capture that missed
 *      some of the sender's segments misjudges its seq, and a receiver
 *      that says nothing more may well have taken it;
 *    - a RST with the exact seq did not end it only if traffic went both
 *      ways after it reached the receiver (the receiver sent, then the
 *      RST's sender did): a receiver that took it has no connection to
 *      send on, and a peer that sends on regardless (a raw lab client)
 *      meets only RSTs.
 *    The ended connection's kind, who closed first and each side's end
 *    state follow from that RST (or from the FINs); Zeek's conn_state is
 *    left as Zeek computes it, which counts every RST (zeek.c).
 *
 * 5. A RST "after both FINs" (kind "reset", not "fin_then_rst" or
 *    "abort") is one whose sender had the peer's FIN when it sent it, not
 *    one that merely follows both FINs in the capture: captured at the
 *    peer's end, a RST that crossed the peer's FIN comes after it. The
 *    sender had the FIN when it ACKed it (or the RST's own ACK field
 *    covers it), or, by rule 1's estimate, when the FIN was captured at or
 *    before t_rst - h_send (capture order without a handshake).
 */
#include "analyzer/judge.h"

#include <string.h>

enum az_vantage judge_vantage(const struct conn *c)
{
	if (!c->rtt_known)
		return AZ_VANTAGE_UNKNOWN;
	if (c->h_s < 0.001 && c->h_c < 0.001)
		return AZ_VANTAGE_MIDDLE; /* both ends within a millisecond */
	if (c->h_c * 4 < c->h_s)
		return AZ_VANTAGE_CLIENT;
	if (c->h_s * 4 < c->h_c)
		return AZ_VANTAGE_SERVER;
	return AZ_VANTAGE_MIDDLE;
}

uint32_t judge_acked_at(const struct cdir *D, const struct xdir *X, double lim,
                        uint32_t *surely)
{
	uint32_t lo = acked_floor(D);
	int k;

	if (!X) {
		*surely = acked_now(D);
		return *surely;
	}
	for (k = (int)X->ack_n - 1; k >= 0; k--) {
		const struct ackev *e = &X->acks[k];

		if (e->t1 <= lim) {
			*surely = seq_max(e->ack1, lo);
			return *surely;
		}
		if (e->t0 <= lim) {
			*surely = seq_max(e->ack0, lo);
			return seq_max(e->ack1, lo);
		}
	}
	*surely = lo;
	return lo;
}

/* Why the sender reset: what it had done and what its peer was doing. */
static enum az_cause cause_of(const struct conn *c, int d)
{
	const struct cdir *D = &c->d[d], *P = &c->d[!d];

	if (D->fin_seen) {
		/* peer data the sender had not taken in when it sent its FIN
		 * (beyond the FIN's ACK field) reached it after its close: a
		 * close with unread data sends RST, not FIN */
		bool after = P->data_after_peer_fin ||
		    (D->fin_ack_valid && P->base_known &&
		     seq_after(P->data_end, seq_max(D->fin_ack, P->base + 1)));
		/* no peer data after the FIN: a RST after shutdown(SHUT_WR)
		 * comes from close() with received bytes still unread (Linux
		 * tcp_close(): data_was_unread) or from SO_LINGER 0. The
		 * kernel ACKed those bytes, so the FIN's ACK covers them; only
		 * a peer that sent nothing rules the first out. (python's
		 * http.server: 501 + FIN, then RST for the PUT body it never
		 * read; this said "abort: RST without FIN".) */
		bool peer_data = P->base_known && seq_after(P->data_end, P->base + 1);
		if (after)
			return AZ_CAUSE_DATA_AFTER_FIN;
		return peer_data ? AZ_CAUSE_UNREAD_AT_CLOSE : AZ_CAUSE_ABORT;
	} else {
		/* peer data not ACKed yet, or not answered: it arrived after
		 * the RST sender last sent data */
		bool peer_data = P->base_known && seq_after(P->data_end, P->base + 1);
		bool unread = peer_data &&
		    (seq_after(P->data_end, acked_now(P)) ||
		     P->last_data_time >= D->last_data_time);
		return unread ? AZ_CAUSE_UNREAD_AT_CLOSE : AZ_CAUSE_ABORT;
	}
}

/* What rule 1a proves, and the two packets that prove it. */
struct proof {
	uint32_t acked;            /* raw: d's data acknowledged, proven */
	uint64_t packet;           /* the sender's packet whose ACK covers... */
	uint64_t peer_packet;      /* ...this peer segment, which said so */
};

#define PROOF_WAIT 8

/* The timeline entries of x in capture order, one at a time: the head,
 * then the tail ring. Returns NULL at the end. */
static const struct az_tl_pkt *tl_next(const struct conn_ext *x, uint64_t *k)
{
	uint64_t tail_kept, first;

	if (*k < x->n_head)
		return &x->tl_head[(*k)++];
	tail_kept = x->cap_tail == 0 ? 0 :
	            (x->n_tail < x->cap_tail ? x->n_tail : x->cap_tail);
	if (*k - x->n_head >= tail_kept)
		return NULL;
	first = x->n_tail - tail_kept;
	return &x->tl_tail[(first + (*k)++ - x->n_head) % x->cap_tail];
}

/*
 * Rule 1a over the connection's timeline (its first and last packets, up
 * to the one being judged): the highest ACK field for direction d among
 * peer segments that took sequence space and that d's sender ACKed
 * afterwards. Read from the timeline only when a RST is judged, so the
 * per-packet path pays nothing for it; packets the timeline omitted (the
 * middle of a long connection) can only prove less. Returns false if
 * nothing is proven.
 */
static bool ack_of_ack(const struct conn *c, int d, struct proof *out)
{
	struct { uint32_t end, ack; uint64_t idx; } w[PROOF_WAIT];
	unsigned n = 0, h = 0;
	bool peer_end_known = false, found = false;
	uint32_t peer_end = 0;
	const struct az_tl_pkt *e;
	uint64_t k = 0;

	if (!c->x)
		return false;
	while ((e = tl_next(c->x, &k)) != NULL) {
		uint32_t start, end;

		if (e->dir != d) {
			/* a peer segment that took new sequence space: wait for
			 * d's sender to ACK it (only its first copy counts; a
			 * higher ACK field than the last waiting one, or it
			 * would prove nothing more) */
			if (!(e->flags & LL_TH_ACK) || (e->flags & LL_TH_RST))
				continue;
			start = e->seq + ((e->flags & LL_TH_SYN) ? 1 : 0);
			end = start + e->len + ((e->flags & LL_TH_FIN) ? 1 : 0);
			if (end == start || (peer_end_known && !seq_after(end, peer_end)))
				continue;
			peer_end = end;
			peer_end_known = true;
			if (n > 0 && !seq_after(e->ack, w[(h + n - 1) % PROOF_WAIT].ack))
				continue;
			if (found && !seq_after(e->ack, out->acked))
				continue;
			if (n == PROOF_WAIT)
				n--; /* the newest gives way: a proof needs a bit more */
			w[(h + n) % PROOF_WAIT].end = end;
			w[(h + n) % PROOF_WAIT].ack = e->ack;
			w[(h + n) % PROOF_WAIT].idx = e->index;
			n++;
			continue;
		}
		if (!(e->flags & LL_TH_ACK))
			continue;
		/* d's sender ACKs up to e->ack: it had every waiting segment
		 * that ends there (an ACK of bytes never sent proves nothing,
		 * RFC 9293 3.10.7.4) */
		if (peer_end_known && seq_after(e->ack, peer_end))
			continue;
		while (n > 0 && !seq_after(w[h].end, e->ack)) {
			if (!found || seq_after(w[h].ack, out->acked)) {
				found = true;
				out->acked = w[h].ack;
				out->packet = e->index;
				out->peer_packet = w[h].idx;
			}
			h = (h + 1) % PROOF_WAIT;
			n--;
		}
	}
	return found;
}

/*
 * A RST without ACK at the sender's SND.NXT is either RFC 9293's ABORT
 * (3.10.5: <SEQ=SND.NXT><CTL=RST>) or the reply to a peer segment whose
 * ACK field was SND.NXT (3.10.7.1: <SEQ=SEG.ACK><CTL=RST>). Linux, the
 * BSDs and Windows abort with RST|ACK (Linux tcp_send_active_reset), so a
 * bare one from them is a reply. It is taken as one when the timeline
 * holds, before it, a peer segment whose ACK field is exactly that seq:
 * the sender then knew all it had sent up to there was acknowledged.
 */
static bool peer_acked_exactly(const struct conn *c, int d, uint32_t seq)
{
	const struct az_tl_pkt *e;
	uint64_t k = 0;

	if (!c->x)
		return false;
	while ((e = tl_next(c->x, &k)) != NULL)
		if (e->dir != d && (e->flags & LL_TH_ACK) &&
		    !(e->flags & LL_TH_RST) && e->ack == seq)
			return true;
	return false;
}

bool judge_had_peer_fin(const struct conn *c, int d, const struct dec_tcp *s, double t)
{
	const struct cdir *R = &c->d[!d];
	double h_send = d == AZ_C2S ? c->h_c : c->h_s;

	if (!R->fin_seen)
		return false;
	if (R->fin_acked ||
	    ((s->flags & LL_TH_ACK) && seq_after(s->ack, R->fin_seq)))
		return true; /* its ACK of the FIN proves it */
	return !c->rtt_known || R->fin_time <= t - h_send;
}

void judge_rst_open(const struct conn *c, int d, const struct dec_tcp *s,
                    double t, uint64_t idx, struct pend *pd)
{
	const struct cdir *D = &c->d[d];
	const struct xdir *X = c->x ? &c->x->x[d] : NULL;
	double h_send = d == AZ_C2S ? c->h_c : c->h_s;
	double h_recv = d == AZ_C2S ? c->h_s : c->h_c;
	uint32_t lo = acked_floor(D), ev = 0;
	bool have_ev = false, answers, dated;
	struct proof pf = { 0, 0, 0 };

	memset(pd, 0, sizeof(*pd));
	pd->t_rst = t;
	pd->rst_packet = idx;
	pd->rst_seq = s->seq;
	pd->rst_has_ack = (s->flags & LL_TH_ACK) != 0;
	pd->data_end = D->data_end;
	pd->acked_cap = acked_now(D);
	pd->recv_acked = pd->acked_cap;
	/* rule 1b: a RST without ACK whose seq is inside our data answers a
	 * peer segment that carried that ACK; one at our SND.NXT (the data's
	 * end, or past our FIN) does when such a peer segment was seen */
	answers = !pd->rst_has_ack && seq_geq(s->seq, lo) &&
	          (seq_before(s->seq, D->data_end) ||
	           (seq_leq(s->seq, D->fin_seen ? D->fin_seq + 1 : D->data_end) &&
	            peer_acked_exactly(c, d, s->seq)));
	if (c->rtt_known) {
		pd->basis = AZ_BASIS_TIMING;
		pd->sender_acked = judge_acked_at(D, X, t - h_send,
		                                  &pd->sender_acked_surely);
		pd->limit = t + h_recv;
	} else {
		pd->basis = AZ_BASIS_CAPTURE_ORDER;
		pd->sender_acked = pd->sender_acked_surely = pd->acked_cap;
		pd->limit = t;
	}
	/* a RST that answers a segment left when that segment arrived, and
	 * the peer's ACK field never goes back: every peer segment carrying
	 * more was sent after it and arrived after it on the same path, so
	 * the sender knew exactly its seq, whatever the estimate says (rule
	 * 1b; with a handshake too: at a far vantage the estimate is only as
	 * good as the round trips are steady) */
	dated = answers && c->rtt_known && seq_after(pd->sender_acked, s->seq);
	if (answers) {
		pd->sender_acked = pd->sender_acked_surely = lo;
		pd->seq_evidence = true;
		ev = s->seq;
		have_ev = true;
		pd->evidence_packet = idx;
	}
	/* rule 1a: ACK of an ACK */
	if (ack_of_ack(c, d, &pf) && seq_geq(pf.acked, lo) &&
	    seq_leq(pf.acked, D->fin_seen ? D->fin_seq + 1 : D->data_end) &&
	    (!have_ev || seq_after(pf.acked, ev))) {
		ev = pf.acked;
		have_ev = true;
		pd->evidence_packet = pf.packet;
		pd->evidence_peer_packet = pf.peer_packet;
	}
	/* evidence decides where it proves more than the estimate, or as
	 * much when that is more than the bare floor or when a reply RST
	 * cut an estimate that said more */
	if (have_ev && (seq_after(ev, pd->sender_acked) ||
	                (ev == pd->sender_acked && (dated || seq_after(ev, lo))))) {
		pd->basis = AZ_BASIS_EVIDENCE;
		pd->sender_acked = ev;
		pd->evidence_acked = ev;
	}
	pd->sender_acked_surely = seq_max(pd->sender_acked_surely,
	                                  have_ev ? ev : lo);
	if (seq_after(pd->sender_acked_surely, pd->sender_acked))
		pd->sender_acked_surely = pd->sender_acked;
	pd->cause = cause_of(c, d);
	pd->active = true;
}

/* The TLS records of direction d with bytes in [lo, hi) (raw), told as
 * far as the capture and the key log allow. A close_notify is an alert
 * (RFC 8446 6.1, RFC 5246 7.2.1): under TLS 1.2 and before the record
 * type shows it (its description is encrypted; at a close an alert is the
 * close_notify); under TLS 1.3 alerts travel as application_data, so
 * only decryption tells them: then a decrypted alert with description 0
 * is one, and "none" needs every encrypted record at risk decrypted. */
static void judge_tls(const struct conn *c, int d, uint32_t lo, uint32_t hi,
                      struct az_rst_finding *f)
{
	const struct tls_dir *t = &c->x->td[d];
	uint32_t undecrypted, close_notify, i, n;
	bool alert = false;

	f->tls = true;
	f->tls_version = c->x->td[AZ_S2C].version;
	f->tls_records_at_risk = tls_records_told(t, lo, hi, f->tls_types,
	                                          AZ_MAX_TLS_AT_RISK, &undecrypted,
	                                          &close_notify);
	f->tls_decrypted = tlsdec_decrypted(c->x->dec, d);
	f->tls_not_decrypted_at_risk = undecrypted;
	n = f->tls_records_at_risk < AZ_MAX_TLS_AT_RISK ? f->tls_records_at_risk
	                                                : AZ_MAX_TLS_AT_RISK;
	for (i = 0; i < n; i++)
		alert |= f->tls_types[i] == AZ_TLS_ALERT;
	if (close_notify > 0)
		f->tls_close_notify = AZ_TLS_CN_ALERT_RECORD;
	else if (f->tls_decrypted && undecrypted == 0)
		f->tls_close_notify = AZ_TLS_CN_NONE;
	else if (f->tls_version == 0 || f->tls_version >= 0x0304)
		f->tls_close_notify = AZ_TLS_CN_CANNOT_TELL;
	else
		f->tls_close_notify = alert ? AZ_TLS_CN_ALERT_RECORD : AZ_TLS_CN_NONE;
}

bool judge_rst(const struct conn *c, int d, const struct pend *pd,
               struct az_rst_finding *f)
{
	const struct cdir *D = &c->d[d];
	const struct xdir *X = c->x ? &c->x->x[d] : NULL;
	uint32_t risk_s, risk_r, risk_s_max, lo, base = D->base;
	int k;

	risk_s = unacked(pd->data_end, pd->sender_acked);
	if (risk_s == 0)
		return false; /* the sender knew every byte was acknowledged */
	risk_r = unacked(pd->data_end, pd->recv_acked);
	risk_s_max = unacked(pd->data_end, pd->sender_acked_surely);

	memset(f, 0, sizeof(*f));
	f->sender = side_of(d);
	f->rst_packet = pd->rst_packet;
	f->rst_time = pd->t_rst;
	f->rst_seq = pd->rst_seq - base;
	f->rst_has_ack = pd->rst_has_ack;
	f->data_end = pd->data_end - base;
	f->acked_at_capture = pd->acked_cap - base;
	f->bytes_at_risk_at_server = risk_s;
	f->bytes_at_risk_at_server_max = risk_s_max > risk_s ? risk_s_max : risk_s;
	f->bytes_at_risk_at_client = risk_r;
	f->basis = pd->basis;
	f->seq_evidence = pd->seq_evidence;
	f->cause = pd->cause;
	f->vantage = judge_vantage(c);
	if (pd->basis == AZ_BASIS_EVIDENCE) {
		f->evidence_packet = pd->evidence_packet;
		f->evidence_peer_packet = pd->evidence_peer_packet;
		f->evidence_acked = pd->evidence_acked - base;
	}

	/* the data segments carrying bytes from the lower view on */
	lo = seq_min(pd->sender_acked, pd->recv_acked);
	for (k = 0; X && k < X->d_n && f->n_risk_packets < AZ_MAX_RISK_PACKETS; k++) {
		const struct dseg *g = &X->dring[(X->d_head + k) % DATA_RING];
		uint32_t j;
		bool dup = false;

		if (!seq_after(g->end, lo) || !seq_before(g->start, pd->data_end) ||
		    g->idx > pd->rst_packet)
			continue;
		for (j = 0; j < f->n_risk_packets; j++)
			dup |= f->risk_packets[j] == g->idx;
		if (!dup)
			f->risk_packets[f->n_risk_packets++] = g->idx;
	}
	if (d == AZ_S2C) {
		for (k = 0; k < c->http.n_resp; k++) {
			const struct az_http_response *r = &c->http.resp[k];
			bool ends_after = r->seq_end == 0 || seq_after(r->seq_end, lo);

			if (ends_after && seq_before(r->seq_start, pd->data_end)) {
				f->response_index = (uint32_t)k + 1;
				f->response_status = r->status;
				break;
			}
		}
	}
	f->unanswered_requests = c->http.requests > c->http.responses ?
	                         c->http.requests - c->http.responses : 0;
	if (c->x && tls_seen(&c->x->td[d]))
		judge_tls(c, d, lo, pd->data_end, f);
	return true;
}

/* The latest segment of direction dir in the connection's timeline (it
 * keeps the last packets), or NULL. */
static const struct az_tl_pkt *last_seg(const struct conn_ext *x, int dir)
{
	uint64_t k;
	uint32_t i;

	for (k = x->n_tail; x->cap_tail > 0 && k > 0 && x->n_tail - k < x->cap_tail; k--) {
		const struct az_tl_pkt *e = &x->tl_tail[(k - 1) % x->cap_tail];
		if (e->dir == dir)
			return e;
	}
	for (i = x->n_head; i > 0; i--)
		if (x->tl_head[i - 1].dir == dir)
			return &x->tl_head[i - 1];
	return NULL;
}

/* The receiver's window in bytes as its last segment advertised it; 0
 * when it is not known (mid-stream, its scale unknown: then nothing ahead
 * of RCV.NXT is called out of window). The window of a SYN is never
 * scaled (RFC 7323 2.2): a RST right after the handshake meets the
 * SYN-ACK's window as it stands (Linux: rcv_wnd from the SYN-ACK). */
static uint32_t recv_window(const struct conn *c, int recv_dir)
{
	const struct cdir *R = &c->d[recv_dir], *S = &c->d[!recv_dir];
	const struct az_tl_pkt *e = last_seg(c->x, recv_dir);

	if (!e)
		return 0;
	if (e->flags & LL_TH_SYN)
		return e->win;
	if (R->wscale >= 0 && S->wscale >= 0)
		return (uint32_t)e->win << (R->wscale > 14 ? 14 : R->wscale);
	if (c->syn_seen && c->synack_seen)
		return e->win; /* no window scaling on this connection */
	return 0;
}

/* Rule 2 for one RST: its fate at a receiver whose RCV.NXT is nxt and
 * whose last ACK (RCV.WUP) is wup. */
enum az_accept az_rst_accept(uint32_t seq, uint32_t rcv_nxt, uint32_t rcv_wup,
                             uint32_t rcv_wnd, bool fin_in)
{
	if (seq == rcv_nxt || (fin_in && seq == rcv_nxt - 1))
		return AZ_ACCEPT_RESET;            /* RFC 5961 3.2; tcp_reset_check */
	if (seq_geq(seq, rcv_wup) &&
	    (rcv_wnd == 0 || seq_leq(seq, rcv_wup + rcv_wnd)))
		return AZ_ACCEPT_CHALLENGE_ACK;    /* RFC 5961 3.2: in the window */
	return AZ_ACCEPT_IGNORED;                  /* RFC 9293 3.10.7.4: not acceptable */
}

static enum az_accept accept_of(const struct rstrec *r, uint32_t nxt, uint32_t wup)
{
	return az_rst_accept(r->seq, nxt, wup, r->rcv_win, r->fin_in);
}

/* Rule 4: RST r, whose fate is accept, may have ended the connection.
 * The earliest candidates not dismissed are kept; when full, dismissed
 * ones make room, else the newest is not kept (an older one ends the
 * connection first unless dismissed, and then so would most later ones
 * be). */
static void end_add(struct rstfates *F, const struct rstrec *r, enum az_accept accept)
{
	struct rstend *e;
	uint8_t i, n = 0;

	if (F->n_ends == RST_ENDS) {
		for (i = 0; i < F->n_ends; i++)
			if (!F->ends[i].dismissed)
				F->ends[n++] = F->ends[i];
		F->n_ends = n;
		if (n == RST_ENDS)
			return;
	}
	e = &F->ends[F->n_ends++];
	memset(e, 0, sizeof(*e));
	e->t = r->t;
	e->limit = r->limit;
	e->idx = r->idx;
	e->accept = (uint8_t)accept;
	e->had_fin = r->had_fin;
	e->both_fins = r->both_fins;
	e->refused_syn = r->refused_syn;
}

/* Judge the oldest waiting RST of direction d (its time is up, or the
 * end has come). */
static void fate_pop(struct conn *c, int d)
{
	struct rstfates *F = &c->x->rp->rf[d];
	const struct rstrec *r = &F->q[F->q_head];
	const struct cdir *D = &c->d[d], *R = &c->d[!d];
	uint32_t surely, wup, nxt, base = D->base;
	double h_recv = r->limit - r->t;
	struct az_rst_fate o;

	/* the receiver's last ACK before the RST reached it: ACKs captured
	 * up to the limit had left it (of a merged run, the lower value:
	 * certainly sent) */
	(void)judge_acked_at(D, &c->x->x[d], r->limit, &surely);
	wup = surely;
	/* a challenge ACK it sent for an earlier RST carried its RCV.NXT
	 * (RFC 5961 3.2), whether or not the capture shows it (a raw lab
	 * client sends none): a later RST meets that RCV.WUP */
	if (F->challenged)
		wup = seq_max(wup, F->wup_floor);
	nxt = seq_max(r->rcv_nxt, wup);
	memset(&o, 0, sizeof(o));
	o.packet = r->idx;
	o.arrival = r->t + h_recv / 2;
	o.seq = r->seq - base;
	o.rcv_nxt = nxt - base;
	o.peer_acked = wup - base;
	if (F->accepted || (R->rst_seen && R->rst_time < r->limit)) {
		/* the receiver no longer had the connection: it had accepted
		 * a RST, or reset it itself (RFC 9293 3.10.7.1: a RST for a
		 * closed connection is discarded) */
		o.accept = AZ_ACCEPT_IGNORED;
	} else {
		o.accept = accept_of(r, nxt, wup);
		if (o.accept == AZ_ACCEPT_CHALLENGE_ACK) {
			F->challenged = true;
			F->wup_floor = nxt;
		}
		if (o.accept == AZ_ACCEPT_RESET) {
			F->accepted = true;
			F->accepted_packet = r->idx;
			F->unacked_at_accept = unacked(r->data_end, wup);
		}
	}
	if (F->n_fates < AZ_MAX_RST_FATES)
		F->fates[F->n_fates++] = o;
	end_add(F, r, o.accept);
	F->q_head = (uint8_t)((F->q_head + 1) % RST_PENDING);
	F->q_n--;
}

bool judge_note_rst(struct conn *c, int d, const struct dec_tcp *s, double t,
                    uint64_t idx)
{
	const struct cdir *D = &c->d[d], *R = &c->d[!d];
	struct rstfates *F;
	struct rstrec *r, now;
	uint32_t surely, wup;

	if (!c->x || !c->x->rp)
		return true; /* not judged: the first RST ends it, as it seems */
	F = &c->x->rp->rf[d];
	/* its fate on what the capture shows so far (the ACKs still on their
	 * way from the receiver may change it: fate_pop() decides) */
	memset(&now, 0, sizeof(now));
	now.seq = s->seq;
	now.fin_in = D->fin_seen && !D->gap;
	now.rcv_nxt = D->gap ? D->gap_start : D->fin_seen ? D->fin_seq + 1 : D->data_end;
	now.rcv_win = recv_window(c, !d);
	(void)judge_acked_at(D, &c->x->x[d], t, &surely);
	wup = F->challenged ? seq_max(surely, F->wup_floor) : surely;
	bool takes = !F->accepted && !R->rst_seen &&
	             accept_of(&now, seq_max(now.rcv_nxt, wup), wup) == AZ_ACCEPT_RESET;

	if (F->accepted && F->n_fates >= AZ_MAX_RST_FATES)
		return takes; /* nothing more to learn or to list */
	if (F->q_n == RST_PENDING) {
		const struct rstrec *last = &F->q[(F->q_head + F->q_n - 1) % RST_PENDING];

		/* a stream of RSTs (one per late segment): one like the last
		 * waiting one, sent later, fares no better at the receiver
		 * (its RCV.WUP can only have grown), so it adds nothing */
		if (last->seq == s->seq && last->data_end == D->data_end &&
		    last->rcv_nxt == now.rcv_nxt)
			return takes;
		fate_pop(c, d); /* early, on what is known now */
	}
	r = &F->q[(F->q_head + F->q_n) % RST_PENDING];
	F->q_n++;
	*r = now;
	r->t = t;
	r->limit = t + (c->rtt_known ? (d == AZ_C2S ? c->h_s : c->h_c) : 0);
	r->idx = idx;
	r->data_end = D->data_end;
	r->had_fin = D->fin_seen;
	r->both_fins = D->fin_seen && judge_had_peer_fin(c, d, s, t);
	r->refused_syn = d == AZ_S2C && c->syn_seen && !c->synack_seen;
	return takes;
}

void judge_rst_due(struct conn *c, int d, double t)
{
	struct rstfates *F = &c->x->rp->rf[d];

	while (F->q_n > 0 && t > F->q[F->q_head].limit)
		fate_pop(c, d);
}

void judge_impact(struct conn *c, int d, struct az_rst_finding *f)
{
	enum az_vantage v = judge_vantage(c);
	const struct rstfates *F;

	f->impact = AZ_IMPACT_NO_RESET;
	f->impact_estimated = !(v == (d == AZ_S2C ? AZ_VANTAGE_CLIENT : AZ_VANTAGE_SERVER));
	f->accepted_rst_packet = 0;
	f->unacked_at_accept = 0;
	f->rsts_total = c->d[d].rst_count;
	f->n_fates = 0;
	if (!c->x || !c->x->rp)
		return;
	while (c->x->rp->rf[d].q_n > 0)
		fate_pop(c, d);
	F = &c->x->rp->rf[d];
	f->n_fates = F->n_fates;
	memcpy(f->fates, F->fates, F->n_fates * sizeof(F->fates[0]));
	if (F->accepted) {
		f->accepted_rst_packet = F->accepted_packet;
		f->unacked_at_accept = F->unacked_at_accept;
		f->impact = F->unacked_at_accept > 0 ? AZ_IMPACT_RESET_BEFORE_ACK :
		                                       AZ_IMPACT_RESET_AFTER_ACK;
	}
}

bool judge_linger(const struct conn *c, uint64_t *bytes, double *seconds,
                  enum az_linger_end *end)
{
	const struct cdir *cs = &c->d[AZ_C2S], *sc = &c->d[AZ_S2C];
	uint32_t upto, from, drained;
	double t_end;
	enum az_linger_end how;

	if (c->ended_gracefully) {
		/* what came after cannot have been lingering */
		if (c->g_lingered) {
			*bytes = c->g_linger_bytes;
			*seconds = c->g_linger_seconds;
			*end = AZ_LINGER_CLIENT_FIN;
		}
		return c->g_lingered;
	}
	if (!c->linger_armed || !c->linger_upto_seen || !cs->base_known)
		return false;
	upto = seq_min(c->linger_upto, cs->data_end);
	from = c->linger_from_start ? cs->base + 1 : c->linger_acked0;
	drained = unacked(upto, from);
	if (drained == 0)
		return false;
	/* the first of the events that end it (at one time: the client's
	 * FIN, then the server's RST, then the client's); none: the capture
	 * ended first. Once the end is judged (rule 4), only the RST that
	 * ended the connection counts. */
	t_end = c->last_time;
	how = AZ_LINGER_CAPTURE_END;
	if (c->end_judged) {
		if (c->end_rst >= 0) {
			t_end = c->end_rst_time;
			how = c->end_rst == AZ_CLIENT ? AZ_LINGER_CLIENT_RST : AZ_LINGER_SERVER_RST;
		}
	} else {
		if (cs->rst_seen) {
			t_end = cs->rst_time;
			how = AZ_LINGER_CLIENT_RST;
		}
		if (sc->rst_seen && (how == AZ_LINGER_CAPTURE_END || sc->rst_time <= t_end)) {
			t_end = sc->rst_time;
			how = AZ_LINGER_SERVER_RST;
		}
	}
	if (c->t_client_fin_in > 0 &&
	    (how == AZ_LINGER_CAPTURE_END || c->t_client_fin_in <= t_end)) {
		t_end = c->t_client_fin_in;
		how = AZ_LINGER_CLIENT_FIN;
	}
	*bytes = drained;
	*seconds = t_end - sc->fin_time;
	if (*seconds < 0)
		*seconds = 0;
	*end = how;
	return true;
}

void judge_rp_init(struct rstpair *rp)
{
	rp->rf[0].n_ends = rp->rf[1].n_ends = 0;
}

void judge_rst_life(struct conn *c, int d, uint8_t flags, double t)
{
	int k;
	uint8_t i;

	if ((flags & LL_TH_RST) || !c->x || !c->x->rp)
		return;
	for (k = 0; k < 2; k++) {
		struct rstfates *F = &c->x->rp->rf[k];

		for (i = 0; i < F->n_ends; i++) {
			struct rstend *e = &F->ends[i];

			if (e->dismissed)
				continue;
			if (d != k && t > e->limit) {
				/* the receiver sent this after the RST reached it */
				if (e->accept != AZ_ACCEPT_RESET)
					e->dismissed = true;
				else if (e->recv_on == 0)
					e->recv_on = t;
			} else if (d == k && e->recv_on > 0 && t > e->recv_on) {
				e->dismissed = true; /* and its sender answered */
			}
		}
	}
}

/* The earliest RST of direction d that ended the connection, or NULL. */
static const struct rstend *end_of(const struct rstfates *F)
{
	uint8_t i;

	for (i = 0; i < F->n_ends; i++)
		if (!F->ends[i].dismissed)
			return &F->ends[i];
	return NULL;
}

void judge_end(struct conn *c)
{
	const struct rstend *e = NULL, *e1;
	int d, de = -1, k;
	double t_fin2;

	if (c->end_judged)
		return;
	c->end_judged = true;
	c->end_rst = -1;
	if (!c->d[0].rst_seen && !c->d[1].rst_seen)
		return; /* the FINs tell it, as tracked */
	if (!c->x || !c->x->rp) {
		/* not judged (a RST after a graceful end, or no memory for
		 * the fates): the first RST ended it */
		c->end_rst = c->first_rst;
		c->end_rst_time = c->d[dir_of((enum az_side)c->first_rst)].rst_time;
		goto closed;
	}
	for (d = 0; d < 2; d++) {
		while (c->x->rp->rf[d].q_n > 0)
			fate_pop(c, d);
		e1 = end_of(&c->x->rp->rf[d]);
		if (e1 && (!e || e1->t < e->t)) {
			e = e1;
			de = d;
		}
	}
	if (!e) {
		/* every RST was answered by the receiver going on: the FINs
		 * tell how it ended */
		c->first_rst = -1;
		c->rst_after_both_fins = c->rst_sender_had_fin = c->rst_refused_syn = false;
		c->first_close = c->first_fin;
		c->first_close_rst = false;
		return;
	}
	c->end_rst = (int8_t)side_of(de);
	c->end_rst_time = e->t;
	c->first_rst = (int8_t)side_of(de);
	c->rst_after_both_fins = e->both_fins;
	c->rst_sender_had_fin = e->had_fin;
	c->rst_refused_syn = e->refused_syn;
	/* who closed first: a FIN before the RST, else the RST's sender */
	c->first_close = c->end_rst;
	c->first_close_rst = true;
	for (k = 0; k < 2; k++) {
		const struct cdir *D = &c->d[dir_of((enum az_side)k)];
		if (D->fin_seen && D->fin_time <= e->t &&
		    (c->first_close_rst || D->fin_time < c->d[dir_of((enum az_side)c->first_close)].fin_time)) {
			c->first_close = (int8_t)k;
			c->first_close_rst = false;
		}
	}
	/* FINs that crossed after the RST ended it did not cross */
	t_fin2 = c->d[0].fin_time > c->d[1].fin_time ? c->d[0].fin_time : c->d[1].fin_time;
	if (c->simultaneous && t_fin2 > e->t)
		c->simultaneous = false;
closed:
	/* RFC 9293 3.10.7: an accepted RST closes any state */
	c->d[0].state = c->d[1].state = AZ_ST_CLOSED;
}
