/*
 * analyzer.c - connection tracking and teardown classification, the
 * analyzer's API (see analyzer.h).
 *
 * Inside, every sequence number is kept RAW (as on the wire) and compared
 * only with seq_before/seq_after; it becomes relative to the direction's
 * base (ISN, or first seq seen - 1) when a record is handed out. That way a
 * peer's ACK seen before any segment of the direction it acknowledges (the
 * seed PUT trace starts like that) needs no special case.
 *
 * The rooms: this file follows each packet to its connection (a new one,
 * embryos promoted, lookups) and tracks its sequence space, ACKs, data,
 * FINs, RSTs, lingering and the timeline; teardown.c moves each side's
 * state, opens and closes FIN_WAIT_2, keeps the findings and ends a
 * connection (azi_conn_close); judge.c decides what is flagged and why
 * (rst_before_ack, client_impact, lingering, which RST ended it); store.c
 * keeps the connections (pools, finished ones in their grace period,
 * expiry, the memory bound); summary.c builds the records and the totals;
 * create.c makes and frees an analyzer (az_new, az_free); results.c
 * ends an analysis (az_finish) and hands out what it found;
 * names.c names the enums. conn.h is one connection's state.
 *
 * Time: every rule uses capture timestamps, never the wall clock, so a
 * saved capture gives the same report every time it is read.
 */
#include "analyzer/analyzer.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/conn.h"
#include "analyzer/flowtab.h"
#include "analyzer/fw2.h"
#include "analyzer/judge.h"
#include "analyzer/store.h"
#include "analyzer/teardown.h"

static bool is_server_port(const struct az *az, uint16_t port)
{
	size_t i;

	for (i = 0; i < az->cfg.n_server_ports; i++)
		if (az->cfg.server_ports[i] == port)
			return true;
	return false;
}

static void dir_init(struct cdir *d)
{
	d->wscale = -1;
	d->state = AZ_ST_UNKNOWN;
}

/* Set up c (its slot's bytes, or a struct on the stack) as the fresh
 * connection whose first segment is s: what conn_new does but for the
 * store's part (slot, extension, table, live count). */
static inline __attribute__((always_inline)) void conn_setup(const struct az *az, struct conn *c, struct conn_ext *x,
                       const struct flow_key *k, uint32_t hash, bool src_is_lo,
                       const struct dec_tcp *s, double t, uint64_t idx, uint64_t id)
{
	bool src_client;

	memset(c, 0, offsetof(struct conn, http));
	c->x = x;
	c->in_use = true;
	c->key = *k;
	c->hash = hash;
	c->prev = c->next = NONE;
	c->list = L_NONE;
	c->id = id;
	c->first_time = c->last_time = t;
	c->first_packet = c->last_packet = idx;
	c->first_close = c->first_rst = c->first_fin = c->end_rst = -1;
	c->finding_idx[0] = c->finding_idx[1] = -1;
	dir_init(&c->d[0]);
	dir_init(&c->d[1]);
	http_init(&c->http);

	/* roles: the sender of a SYN without ACK is the client; a SYN-ACK
	 * shows the server; otherwise guess from the ports */
	if ((s->flags & LL_TH_SYN) && !(s->flags & LL_TH_ACK)) {
		src_client = true;
	} else if ((s->flags & LL_TH_SYN) && (s->flags & LL_TH_ACK)) {
		src_client = false;
	} else {
		c->role_inferred = true;
		if (is_server_port(az, s->dport))
			src_client = true;
		else if (is_server_port(az, s->sport))
			src_client = false;
		else
			src_client = s->sport >= s->dport;
		/* mid-stream: both sides are past the handshake */
		c->d[0].state = c->d[1].state = AZ_ST_ESTABLISHED;
	}
	c->client_is_lo = src_client == src_is_lo;
	zk_init(&c->zk, s, src_is_lo);
}

static struct conn *conn_new(struct az *az, const struct flow_key *k,
                             uint32_t hash, bool src_is_lo,
                             const struct dec_tcp *s, double t, uint64_t idx)
{
	uint32_t i = store_pool_get(&az->conns);
	struct conn_ext *x;
	struct conn *c;

	if (i == NONE)
		return NULL;
	x = store_ext_get(az);
	if (!x) {
		store_pool_put(&az->conns, i);
		return NULL;
	}
	if (ft_insert(&az->ft, hash, i) < 0) {
		store_pool_put(&az->exts, x->self);
		store_pool_put(&az->conns, i);
		return NULL;
	}
	c = slot(az, i);
	conn_setup(az, c, x, k, hash, src_is_lo, s, t, idx, az->next_id++);
	c->self = i;
	az->live++;
	return c;
}

/* ------------------------------------------------------------------ */
/* timeline                                                            */

static inline __attribute__((always_inline)) void tl_append(struct az *az, struct conn_ext *c, const struct dec_tcp *s,
                      int d, double t, uint64_t idx)
{
	struct az_tl_pkt *e;
	uint32_t head_max = az->cfg.timeline_head, tail_max = az->cfg.timeline_tail;

	if (c->n_head < head_max) {
		if (c->n_head == c->cap_head) {
			uint32_t ncap = c->cap_head ? c->cap_head * 2 : TL_MIN;
			struct az_tl_pkt *nb;

			if (ncap > head_max)
				ncap = head_max;
			nb = realloc(c->tl_head, ncap * sizeof(*nb));
			if (!nb) {
				c->tl_lost++;
				return;
			}
			az->tl_bytes += (ncap - c->cap_head) * sizeof(*nb);
			c->tl_head = nb;
			c->cap_head = ncap;
		}
		e = &c->tl_head[c->n_head++];
	} else {
		if (tail_max == 0)
			return;
		if (c->n_tail == c->cap_tail && c->cap_tail < tail_max) {
			/* not wrapped yet: growing keeps the order */
			uint32_t ncap = c->cap_tail ? c->cap_tail * 2 : TL_MIN;
			struct az_tl_pkt *nb;

			if (ncap > tail_max)
				ncap = tail_max;
			nb = realloc(c->tl_tail, ncap * sizeof(*nb));
			if (!nb) {
				c->tl_lost++;
				return;
			}
			az->tl_bytes += (ncap - c->cap_tail) * sizeof(*nb);
			c->tl_tail = nb;
			c->cap_tail = ncap;
		}
		if (c->cap_tail == 0) {
			c->tl_lost++;
			return;
		}
		e = &c->tl_tail[c->n_tail % c->cap_tail];
		c->n_tail++;
	}
	/* raw numbers; made relative when the connection is retained */
	e->t = t;
	e->index = idx;
	e->seq = s->seq;
	e->ack = s->ack;
	e->len = s->seg_len;
	e->win = s->win;
	e->dir = (uint8_t)d;
	e->flags = s->flags;
}

/* ------------------------------------------------------------------ */
/* tracking                                                            */

/*
 * Record an ACK advance at t. When the history is full, two neighbours
 * merge into a run, which keeps both ends (so a lookup inside it still
 * gets true bounds, see acked_at()) and loses only the advances between:
 *  - the oldest two, if the second ends at or before the horizon: a RST
 *    from now on looks up ACKs at t_rst - h_send >= horizon, so it stops
 *    at that entry or a newer one and the older history is not needed
 *    (kept coarsely all the same, in case timestamps step back);
 *  - otherwise the pair whose run would span the least time, so that the
 *    history stays evenly fine over the stretch a lookup can still hit
 *    (dropping the oldest, as a plain ring would, left a RST whose lookup
 *    fell before the ring with an ACK the sender could not have seen yet,
 *    and so understated its risk).
 * horizon: t - h_send of this direction's sender, or -INFINITY without
 * handshake timing.
 */
static void ack_push(struct xdir *X, double t, uint32_t ack, double horizon)
{
	struct ackev *e = X->acks;
	int n = X->ack_n, k, best = 0;

	if (n == ACK_RING) {
		if (!(e[1].t1 <= horizon)) {
			double span = e[1].t1 - e[0].t0;

			for (k = 1; k + 1 < n; k++)
				if (e[k + 1].t1 - e[k].t0 < span) {
					span = e[k + 1].t1 - e[k].t0;
					best = k;
				}
		}
		e[best].t1 = e[best + 1].t1;
		e[best].ack1 = e[best + 1].ack1;
		memmove(&e[best + 1], &e[best + 2],
		        (size_t)(n - best - 2) * sizeof(*e));
		n--;
	}
	e[n] = (struct ackev){ .t0 = t, .t1 = t, .ack0 = ack, .ack1 = ack };
	X->ack_n = (uint8_t)(n + 1);
}

static void ring_push_data(struct xdir *D, uint32_t start, uint32_t end, uint64_t idx)
{
	struct dseg g = { .start = start, .end = end, .idx = idx };

	if (D->d_n == DATA_RING) {
		D->dring[D->d_head] = g;
		D->d_head = (uint8_t)((D->d_head + 1) % DATA_RING);
	} else {
		D->dring[(D->d_head + D->d_n) % DATA_RING] = g;
		D->d_n++;
	}
}

static void set_base(struct conn *c, int d, uint32_t base)
{
	struct cdir *D = &c->d[d];

	D->base_known = true;
	D->base = base;
	D->data_end = base + 1;
	if (c->x) {
		http_begin(&c->x->hd[d], base + 1);
		tls_begin(&c->x->td[d], base + 1);
	}
}

static inline __attribute__((always_inline)) void on_syn(struct conn *c, const struct dec_tcp *s, int d, double t)
{
	struct cdir *D = &c->d[d];

	if (!D->isn_known) {
		D->isn_known = true;
		if (!D->base_known)
			set_base(c, d, s->seq);
	} else if (s->seq == D->base) {
		D->retrans_packets++; /* the SYN again */
	}
	D->mss = s->mss;
	D->wscale = s->wscale;
	D->sack_permitted = s->sack_permitted;
	D->timestamps = s->has_ts;
	if (!(s->flags & LL_TH_ACK)) {
		if (d == AZ_C2S) {
			/* the SYN the SYN-ACK answers; a SYN captured after its
			 * SYN-ACK (reordered at the capture point) gives no
			 * timing: h_s comes out negative */
			if (!c->synack_seen || !c->syn_seen)
				c->t_syn = t;
			c->syn_seen = true;
		}
		azi_side_ev(c, side_of(d), EV_SND_SYN);
	} else {
		if (d == AZ_S2C && !c->synack_seen) {
			c->synack_seen = true;
			c->t_synack = t;
		}
		azi_side_ev(c, side_of(d), EV_SND_SYNACK);
	}
}

static void on_data(struct az *az, struct conn *c, const struct dec_tcp *s, int d, double t,
                    uint64_t idx, uint32_t start)
{
	struct cdir *D = &c->d[d];
	uint32_t len = s->seg_len, end = start + len;

	if (seq_after(end, D->data_end)) {
		uint32_t from = seq_max(start, D->data_end);
		uint32_t fresh = end - from;

		if (end - D->data_end > SEQ_SANE)
			return; /* not a plausible segment of this connection */
		if (fresh < len) {
			D->retrans_packets++;
			D->retrans_bytes += len - fresh;
		}
		/* a hole: this segment begins past everything seen so far */
		if (!D->gap && seq_after(start, D->data_end)) {
			D->gap = true;
			D->gap_start = D->data_end;
		}
		D->data_end = end;
		D->bytes += fresh;
		D->last_data_time = t;
		if (c->d[!d].fin_seen)
			D->data_after_peer_fin = true;
	} else {
		D->retrans_packets++;
		D->retrans_bytes += len;
	}
	/* a retransmission that covers the hole's start fills it */
	if (D->gap && seq_leq(start, D->gap_start) && seq_after(end, D->gap_start))
		D->gap = false;
	if (c->x) {
		ring_push_data(&c->x->x[d], start, end, idx);
		http_segment(&c->http, &c->x->hd[d], d, start, s->payload,
		             s->payload_caplen, len);
		if (az->tlsd.keys) {
			/* a key log: records may be decrypted (tlsdec.h) */
			struct tls_sink sk = { &az->tlsd, &c->x->dec, &c->x->td[!d],
			                       &c->http, d };
			tls_segment(&c->x->td[d], start, s->payload, s->payload_caplen, len, &sk);
		} else {
			tls_segment(&c->x->td[d], start, s->payload, s->payload_caplen, len, NULL);
		}
	}
}

static void on_ack(struct az *az, struct conn *c, const struct dec_tcp *s,
                   int d, double t)
{
	struct cdir *D = &c->d[d], *P = &c->d[!d];
	uint32_t a = s->ack;

	if (P->acked_seen && !seq_after(a, P->acked))
		return;
	if (P->acked_seen && a - P->acked > SEQ_SANE)
		return;
	if (!P->acked_seen)
		P->first_ack = a;
	P->acked_seen = true;
	P->acked = a;
	/* the receiver had what the capture point missed */
	if (P->gap && seq_after(a, P->gap_start))
		P->gap = false;
	if (c->x)
		/* ACKs for direction !d: its sender is the side this ACK
		 * came to, whose round trip is h_c for the client */
		ack_push(&c->x->x[!d], t, a, c->rtt_known ?
		         t - (d == AZ_S2C ? c->h_c : c->h_s) : -INFINITY);
	if (c->x && c->x->pend[!d].active)
		c->x->pend[!d].recv_acked = seq_max(c->x->pend[!d].recv_acked, a);

	/* the client ACKs the server's SYN: both ends established */
	if (d == AZ_C2S && P->isn_known && !P->syn_acked &&
	    seq_geq(a, P->base + 1)) {
		P->syn_acked = true;
		azi_side_ev(c, AZ_CLIENT, EV_ESTAB);
		azi_side_ev(c, AZ_SERVER, EV_ESTAB);
	}
	if (d == AZ_C2S && c->synack_seen && c->syn_seen && !c->hsack_seen &&
	    !(s->flags & LL_TH_SYN)) {
		c->hsack_seen = true;
		c->t_hsack = t;
		c->h_s = c->t_synack - c->t_syn;
		c->h_c = c->t_hsack - c->t_synack;
		c->rtt_known = c->h_s >= 0 && c->h_c >= 0;
	}
	if (P->fin_seen && seq_geq(a, P->fin_seq + 1)) {
		/* this side accepted the peer's FIN: a FIN that came beyond a
		 * hole ends this side's FIN_WAIT_2 (and a linger) only now */
		azi_fw2_close(az, c, side_of(d), AZ_FW2_CLIENT_FIN, t);
		if (d == AZ_S2C && c->t_client_fin_in == 0)
			c->t_client_fin_in = t;
	}
	if (P->fin_seen && !P->fin_acked && seq_geq(a, P->fin_seq + 1)) {
		P->fin_acked = true;
		azi_side_ev(c, side_of(!d), EV_FIN_ACKED);
		azi_side_ev(c, side_of(d), EV_RCV_FIN);
		/* the FIN sender now waits for its peer's FIN: FIN_WAIT_2,
		 * unless that FIN is already here (or in this segment) */
		/* (not after a RST of the FIN sender's own: it has no
		 * socket left; nor after one that ended the connection) */
		if (!D->fin_seen && !(s->flags & LL_TH_FIN) &&
		    !P->rst_seen && !c->rst_took && !(s->flags & LL_TH_RST))
			azi_fw2_open(az, c, side_of(!d), t);
	}
	/* the server ACKs client data after its FIN: lingering (an ACK in
	 * a RST drains nothing) */
	if (d == AZ_S2C && c->linger_armed && !(s->flags & LL_TH_RST)) {
		c->linger_upto_seen = true;
		c->linger_upto = a;
	}
}

static void on_fin(struct az *az, struct conn *c, const struct dec_tcp *s,
                   int d, double t, uint64_t idx, uint32_t start)
{
	struct cdir *D = &c->d[d], *P = &c->d[!d];
	uint32_t fseq = start + s->seg_len;

	if (D->fin_seen) {
		if (s->seg_len == 0 && fseq == D->fin_seq)
			D->retrans_packets++; /* the FIN again */
		return;
	}
	D->fin_seen = true;
	D->fin_seq = fseq;
	D->fin_time = t;
	D->fin_packet = idx;
	D->fin_ack_valid = (s->flags & LL_TH_ACK) != 0;
	D->fin_ack = s->ack;
	if (c->first_close < 0) {
		c->first_close = (int8_t)side_of(d);
		c->first_close_rst = false;
	}
	if (c->first_fin < 0) {
		c->first_fin = (int8_t)side_of(d);
	} else if (c->first_fin == (int8_t)side_of(!d) && P->fin_seen && !P->fin_acked) {
		/* this FIN does not acknowledge the other: they crossed (a
		 * RST before them that ended the connection undoes it in
		 * judge_end()) */
		c->simultaneous = true;
	}
	azi_side_ev(c, side_of(d), EV_SND_FIN);
	if (c->x)
		http_fin(&c->http, &c->x->hd[d], d, fseq);
	if (d == AZ_S2C) {
		c->linger_armed = true;
		c->linger_from_start = !P->base_known && !P->acked_seen;
		c->linger_acked0 = acked_now(P);
	}
	/* the peer's ACK of this FIN came first in the capture (captures
	 * merged by timestamp, a mirror port, a tap whose two directions
	 * raced): the FIN is acknowledged as it passes, and its sender waits
	 * for the peer's FIN (on_ack could not know it ACKed a FIN) */
	if (D->acked_seen && !D->fin_acked && seq_geq(D->acked, fseq + 1)) {
		D->fin_acked = true;
		azi_side_ev(c, side_of(d), EV_FIN_ACKED);
		azi_side_ev(c, side_of(!d), EV_RCV_FIN);
		if (!P->fin_seen && !D->rst_seen && !P->rst_seen && !c->rst_took)
			azi_fw2_open(az, c, side_of(d), t);
	}
	/* a FIN in order ends the peer's FIN_WAIT_2 when it passes; one
	 * beyond a hole only when the peer ACKs it (on_ack) */
	if (!D->gap) {
		azi_fw2_close(az, c, side_of(!d), AZ_FW2_CLIENT_FIN, t);
		if (d == AZ_C2S && c->t_client_fin_in == 0)
			c->t_client_fin_in = t;
	}
}

static void on_rst_first(struct az *az, struct conn *c, const struct dec_tcp *s,
                         int d, double t, uint64_t idx)
{
	struct cdir *D = &c->d[d];

	D->rst_seen = true;
	D->rst_time = t;
	D->rst_packet = idx;
	D->rst_seq = s->seq;
	D->rst_has_ack = (s->flags & LL_TH_ACK) != 0;
	if (c->first_close < 0) {
		c->first_close = (int8_t)side_of(d);
		c->first_close_rst = true;
	}
	if (c->first_rst < 0) {
		c->first_rst = (int8_t)side_of(d);
		c->rst_after_both_fins = D->fin_seen && judge_had_peer_fin(c, d, s, t);
		c->rst_sender_had_fin = D->fin_seen;
		c->rst_refused_syn = d == AZ_S2C && c->syn_seen && !c->synack_seen;
	}
	/* after a graceful end every byte was acknowledged: nothing left
	 * for a RST to destroy (and a seal could not record a finding) */
	if (!c->ended_gracefully)
		azi_pend_start(az, c, d, s, t, idx);
}

/* How long a finished connection's 4-tuple stays its own. */
static double grace_of(const struct conn *c)
{
	double rtt = c->rtt_known ? c->h_s + c->h_c : 0.0;
	double g = 4 * rtt;

	if (g < GRACE_MIN)
		g = GRACE_MIN;
	if (g > GRACE_MAX)
		g = GRACE_MAX;
	return g;
}

static void mark_finished(struct az *az, struct conn *c)
{
	c->finished = true;
	c->grace = grace_of(c);
	/* a RST that seems not to end it (judge.c rule 4): the connection
	 * may go on for a while yet; it waits as long as any */
	if ((c->d[0].rst_seen || c->d[1].rst_seen) && !c->rst_took)
		c->grace = GRACE_MAX;
	/* az_packet() moves it to the tomb ring after this packet */
	store_list_unlink(az, c);
}

static void track(struct az *az, struct conn *c, const struct dec_tcp *s,
                  int d, double t, uint64_t idx)
{
	struct cdir *D = &c->d[d];
	uint8_t fl = s->flags;
	uint32_t start;
	bool rst_took = true;
	int k;

	/* a RST's receiver view is final once a later packet shows up */
	if (c->finished && c->x) {
		/* only a RST has these waiting (and a RST finishes it) */
		for (k = 0; k < 2; k++) {
			if (c->x->pend[k].active && t > c->x->pend[k].limit)
				azi_judge(az, c, k, &c->x->pend[k]);
			if (c->x->rp && c->x->rp->rf[k].q_n > 0)
				judge_rst_due(c, k, t);
		}
		if (c->x->rp) {
			/* a RST that seemed not to end it, accepted after all
			 * once the ACKs on their way were in */
			for (k = 0; k < 2 && !c->rst_took; k++)
				if (c->x->rp->rf[k].accepted)
					azi_rst_ends(az, c, k, t);
			/* the receiver of a RST still has the connection? */
			judge_rst_life(c, d, s->flags, t);
		}
	}
	c->last_time = t;
	c->last_packet = idx;
	D->packets++;
	zk_packet(&c->zk, s, (d == AZ_C2S) == c->client_is_lo);
	if (c->x)
		tl_append(az, c->x, s, d, t, idx);
	/* keep the embryo list in order of last activity; a connection
	 * stays in it only while its client's SYNs are all there is (a
	 * finished one goes to the tomb ring's tail after this packet) */
	if (!c->finished) {
		if ((s->flags & (LL_TH_SYN | LL_TH_ACK | LL_TH_RST)) == LL_TH_SYN &&
		    d == AZ_C2S && !c->synack_seen && c->d[AZ_S2C].packets == 0)
			store_list_append(az, c, L_EMBRYO);
		else if (c->list == L_EMBRYO)
			store_list_unlink(az, c);
	}

	if (fl & LL_TH_SYN)
		on_syn(c, s, d, t);
	else if (!D->base_known)
		set_base(c, d, s->seq - 1);
	start = s->seq + ((fl & LL_TH_SYN) ? 1 : 0);

	if (s->seg_len > 0 && !(fl & LL_TH_RST))
		on_data(az, c, s, d, t, idx, start);
	if (fl & LL_TH_RST) {
		D->rst_count++;
		if (!c->ended_gracefully) {
			if (c->x && !c->x->rp) {
				store_rp_get(az, c->x);
				if (c->x->rp)
					judge_rp_init(c->x->rp);
			}
			rst_took = judge_note_rst(c, d, s, t, idx);
		}
		if (!D->rst_seen)
			on_rst_first(az, c, s, d, t, idx);
	}
	if (fl & LL_TH_ACK)
		on_ack(az, c, s, d, t);
	if ((fl & LL_TH_FIN) && !(fl & LL_TH_RST))
		on_fin(az, c, s, d, t, idx, start);
	/* a RST ends its sender's FIN_WAIT_2 (it has no socket left), and
	 * its receiver's if the receiver takes it; the states take it in
	 * judge_end(), once it is known which RST ended the connection */
	if (fl & LL_TH_RST) {
		azi_fw2_close(az, c, side_of(d), AZ_FW2_SERVER_RST, t);
		if (rst_took)
			azi_rst_ends(az, c, d, t);
	}
	/* a RST that did not seem to end it, then a graceful close */
	if (c->finished && !c->rst_took && c->d[0].fin_acked && c->d[1].fin_acked)
		c->grace = grace_of(c);
	if (!c->finished &&
	    (c->d[0].rst_seen || c->d[1].rst_seen ||
	     (c->d[0].fin_acked && c->d[1].fin_acked))) {
		mark_finished(az, c);
		/* ended gracefully: every byte was ACKed, so nothing can flag
		 * it any more; its history and parser state can go now */
		if (!c->d[0].rst_seen && !c->d[1].rst_seen &&
		    !azi_has_pending(c)) {
			enum az_linger_end how;

			c->g_lingered = judge_linger(c, &c->g_linger_bytes,
			                             &c->g_linger_seconds, &how);
			c->ended_gracefully = true;
			c->tl_dropped = true;
			store_ext_release(az, c);
		}
	}
}

/* ------------------------------------------------------------------ */
/* embryos (see struct embryo in store.h)                              */

void azi_embryo_syn(const struct embryo *e, struct dec_tcp *s)
{
	memset(s, 0, sizeof(*s));
	s->af = e->key.af;
	s->flags = e->flags;
	s->seq = e->isn;
	s->win = e->win;
	s->mss = e->mss;
	s->wscale = e->wscale;
	s->sack_permitted = (e->bits & EMB_SACK) != 0;
	s->has_ts = (e->bits & EMB_TS) != 0;
}

void azi_embryo_fill(struct az *az, struct conn *c, const struct embryo *e,
                     struct conn_ext *x)
{
	struct dec_tcp s;

	azi_embryo_syn(e, &s);
	conn_setup(az, c, x, &e->key, ft_hash(&e->key),
	           (e->bits & EMB_CLIENT_LO) != 0, &s, e->t, emb_pkt(e), emb_id(e));
	/* what track() does with a connection's first SYN */
	c->d[AZ_C2S].packets++;
	zk_packet(&c->zk, &s, (e->bits & EMB_CLIENT_LO) != 0);
	on_syn(c, &s, AZ_C2S, e->t);
}

/* The embryo ref becomes a connection in a slot, just as if it had been
 * tracked whole from its SYN. NULL without memory: then it is summarized
 * as it is. */
static struct conn *promote(struct az *az, uint32_t ref)
{
	const struct embryo *e;
	struct conn_ext *x;
	struct conn *c;
	struct dec_tcp syn;
	uint32_t i;

	store_embryo_hold(az, ref);
	store_make_room(az, false);
	i = store_pool_get(&az->conns);
	if (i == NONE)
		goto fail;
	x = store_ext_get(az);
	if (!x) {
		store_pool_put(&az->conns, i);
		goto fail;
	}
	e = embryo_at(az, ref);
	c = slot(az, i);
	azi_embryo_fill(az, c, e, x);
	c->self = i;
	azi_embryo_syn(e, &syn);
	tl_append(az, x, &syn, AZ_C2S, e->t, emb_pkt(e));
	ft_replace(&az->ft, c->hash, ref, i);
	store_embryo_free(az, ref);
	return c;
fail:
	store_embryo_close(az, ref);
	return NULL;
}

/* A SYN (no ACK) on a tuple we already follow: a new connection, unless
 * it repeats the SYN we have or is the other half of a simultaneous open. */
static bool starts_new(const struct conn *c, const struct dec_tcp *s, int d)
{
	const struct cdir *C = &c->d[AZ_C2S];
	bool ended;

	if (!(s->flags & LL_TH_SYN) || (s->flags & LL_TH_ACK))
		return false;
	if (d == AZ_C2S && C->isn_known && s->seq == C->base)
		return false;
	/* the SYN of a SYN-ACK captured before it (reordered at the capture
	 * point): the SYN-ACK acknowledged exactly this SYN */
	if (d == AZ_C2S && !c->syn_seen && c->synack_seen && C->acked_seen &&
	    C->first_ack == s->seq + 1 && c->d[AZ_C2S].packets == 0)
		return false;
	ended = c->d[0].rst_seen || c->d[1].rst_seen ||
	        (c->d[0].fin_seen && c->d[1].fin_seen);
	if (ended || !c->syn_seen)
		return true;
	return d == AZ_C2S;
}

/* Count a frame handed in at ts; its packet index. */
static uint64_t frame_in(struct az *az, double ts, uint32_t caplen)
{
	uint64_t idx;
	bool first;

	az->stats.packets++;
	idx = az->stats.packets;
	az->stats.bytes += caplen;
	first = idx - az->stats.filtered == 1; /* the first frame handed in */
	if (first)
		az->stats.first_time = ts;
	if (ts > az->stats.last_time || first)
		az->stats.last_time = ts;
	return idx;
}

/* A decoded segment s, frame idx at ts; k and hash: its key (see ft_key). */
static void segment(struct az *az, const struct dec_tcp *s, double ts, uint64_t idx,
                    const struct flow_key *k, uint32_t hash, bool src_is_lo)
{
	struct conn *c = NULL;
	uint32_t i;
	int d;

	az->stats.tcp++;
	if (ts > az->seals.deadline || ts > az->tombs.deadline ||
	    ts > az->embryo.deadline || ts > az->cembryo.deadline)
		store_expire(az, ts);

	if (az->last != NONE && ft_key_eq(&conn_at(az, az->last)->key, k))
		i = az->last;
	else
		i = ft_lookup(&az->ft, k, hash, store_conn_key, az);
	if (i != NONE && is_compact(i)) {
		/* the packet after a SYN: a connection in full from now on;
		 * a FIN_WAIT_2 holder's next packet: back in its slot */
		c = is_embryo(i) ? promote(az, i) : store_unpark(az, i);
		if (!c) {
			az->dropped++;
			return;
		}
		i = c->self;
		c = NULL;
	} else if (i == NONE) {
		i = ft_lookup(&az->fs, k, hash, store_seal_key, az);
	}
	/* A ring entry past its own grace period is over even if expiry has
	 * not reached it yet (a ring is in order of last activity, but grace
	 * periods differ: an entry behind a longer one waits): nothing joins
	 * it any more. (i is a seal only if it came from fs.) */
	if (i != NONE && is_seal(i)) {
		struct seal *e = seal_at(az, ref_pos(&az->seals, i));

		d = (src_is_lo == ((e->flags & SEAL_CLIENT_LO) != 0)) ? AZ_C2S : AZ_S2C;
		if (!(ts > e->last_time + e->grace) && !store_seal_starts_new(e, s, d)) {
			az->stats.by_result[DEC_OK]++;
			store_seal_late(az, e, i, hash, s, ts);
			return;
		}
		store_seal_close(az, e, ref_pos(&az->seals, i), hash);
		i = NONE;
	}
	if (i != NONE) {
		c = conn_at(az, i);
		d = (src_is_lo == c->client_is_lo) ? AZ_C2S : AZ_S2C;
		if (is_tomb(i) && ts > c->last_time + c->grace) {
			azi_conn_close(az, c, c->last_time);
			c = NULL;
		} else if (starts_new(c, s, d)) {
			/* End the old connection now, not at its last packet: as
			 * far as the wire shows, a FIN_WAIT_2 it left open lasted
			 * until this SYN, and the step series must stay in time
			 * order with what other connections recorded meanwhile. */
			azi_conn_close(az, c, ts);
			c = NULL;
		}
	}
	if (!c) {
		/* a client's SYN alone: an embryo, until more comes, where
		 * a slot would cost memory (see COMPACT_AUTO) */
		bool emb = (s->flags & (LL_TH_SYN | LL_TH_ACK | LL_TH_FIN | LL_TH_RST)) == LL_TH_SYN &&
		           s->seg_len == 0 && az->compact != COMPACT_NEVER &&
		           (az->compact == COMPACT_ALWAYS || az->conns.free_head == NONE ||
		            az->exts.free_head == NONE) &&
		           az->next_id < EMB_MAX && idx < EMB_MAX;

		store_make_room(az, emb);
		if (emb) {
			if (!store_embryo_new(az, k, hash, src_is_lo, s, ts, idx,
			                      az->next_id)) {
				az->dropped++;
				return;
			}
			az->next_id++;
			az->stats.by_result[DEC_OK]++;
			return;
		}
		c = conn_new(az, k, hash, src_is_lo, s, ts, idx);
		if (!c) {
			az->dropped++;
			return;
		}
	}
	d = (src_is_lo == c->client_is_lo) ? AZ_C2S : AZ_S2C;
	az->last = c->self;
	az->stats.by_result[DEC_OK]++;
	track(az, c, s, d, ts, idx);
	if (c->finished)
		store_finished(az, c);
	else if (az->compact == COMPACT_ALWAYS && c->list == L_FW2)
		store_park(az, c);
}

static void count_not_ok(struct az *az, enum dec_result r)
{
	if ((unsigned)r < DEC_NRESULTS)
		az->stats.by_result[r]++;
}

_Static_assert(sizeof(((struct az_pre *)0)->key) == sizeof(struct flow_key),
               "az_pre.key holds a struct flow_key");

static inline __attribute__((always_inline)) void predecode(int dlt, const uint8_t *bytes,
                                                            uint32_t caplen, uint32_t wirelen,
                                                            struct az_pre *p)
{
	struct flow_key k;

	p->r = (uint8_t)dec_packet(dlt, bytes, caplen, wirelen, &p->s, NULL);
	if (p->r != DEC_OK)
		return;
	ft_key(&k, p->s.af, p->s.src, p->s.sport, p->s.dst, p->s.dport,
	       p->s.tunnel, &p->src_is_lo);
	p->hash = ft_hash(&k);
	memcpy(p->key, &k, sizeof(k));
}

void az_predecode(int dlt, const uint8_t *bytes, uint32_t caplen,
                  uint32_t wirelen, struct az_pre *p)
{
	predecode(dlt, bytes, caplen, wirelen, p);
}

static inline __attribute__((always_inline)) enum dec_result packet_pre(struct az *az, double ts,
                                                                        uint32_t caplen,
                                                                        const struct az_pre *p)
{
	struct flow_key k;
	uint64_t idx;

	idx = frame_in(az, ts, caplen);
	if (p->r != DEC_OK) {
		count_not_ok(az, (enum dec_result)p->r);
		return (enum dec_result)p->r;
	}
	memcpy(&k, p->key, sizeof(k));
	segment(az, &p->s, ts, idx, &k, p->hash, p->src_is_lo);
	return DEC_OK;
}

enum dec_result az_packet_pre(struct az *az, double ts, uint32_t caplen,
                              const struct az_pre *p)
{
	return packet_pre(az, ts, caplen, p);
}

enum dec_result az_packet(struct az *az, int dlt, double ts,
                          const uint8_t *bytes, uint32_t caplen,
                          uint32_t wirelen)
{
	struct az_pre p;

	predecode(dlt, bytes, caplen, wirelen, &p);
	return packet_pre(az, ts, caplen, &p);
}

void az_skip_frame(struct az *az)
{
	az->stats.packets++;
	az->stats.filtered++;
}
