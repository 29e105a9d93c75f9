/*
 * judge.h - the rules: when a RST is flagged (rst_before_ack), what it did
 * at its receiver (client_impact), when a close lingered. Internal to
 * analyzer/; analyzer.c tracks the packets, judge.c decides. The rules are
 * written out in judge.c's opening comment and in docs/report-format.md.
 *
 * Nothing here allocates or keeps state of its own: every function reads
 * (and the bookkeeping ones update) the connection it is given.
 */
#ifndef LL_ANALYZER_JUDGE_H
#define LL_ANALYZER_JUDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "analyzer/analyzer.h"
#include "analyzer/conn.h"
#include "analyzer/decode.h"

/* Where the capture point sat, from the handshake's two half round trips. */
enum az_vantage judge_vantage(const struct conn *c);

/*
 * Highest ACK for direction D captured at time <= lim (X: D's history, or
 * NULL once released: then the ACK seen so far is all that is known).
 * Exact unless lim falls inside a merged run of the history: then the true
 * value lies between *surely and the value returned.
 */
uint32_t judge_acked_at(const struct cdir *D, const struct xdir *X, double lim,
                        uint32_t *surely);

/*
 * The first RST sent in direction d (segment s, captured at t as frame
 * idx): fill pd with what its sender knew was acknowledged and why, and
 * with the receiver's view so far (pd->recv_acked keeps rising with ACKs
 * captured up to pd->limit). Sets pd->active.
 */
void judge_rst_open(const struct conn *c, int d, const struct dec_tcp *s,
                    double t, uint64_t idx, struct pend *pd);

/*
 * Decide the RST pd describes: true (and f filled, impact fields left for
 * judge_impact()) if its sender reset while some of its own data was not
 * yet acknowledged as far as it could know: an rst_before_ack.
 */
bool judge_rst(const struct conn *c, int d, const struct pend *pd,
               struct az_rst_finding *f);

/* Every RST sent in direction d: remember it for judge_impact(). */
void judge_note_rst(struct conn *c, int d, const struct dec_tcp *s, double t,
                    uint64_t idx);

/*
 * The receiver's side of direction d's RSTs (client_impact for a server
 * RST): the fate of each under RFC 5961 and the impact. Call when the
 * connection is summarized (every RST and ACK is in). Fills f's impact,
 * impact_estimated, accepted_rst_packet, unacked_at_accept, fates,
 * n_fates and rsts_total.
 */
void judge_impact(const struct conn *c, int d, struct az_rst_finding *f);

/*
 * Lingering close: the server, after its FIN, kept ACKing client data.
 * False (outputs untouched) if it did not; else the bytes drained, the
 * seconds from the server's FIN to the end, and what ended it.
 */
bool judge_linger(const struct conn *c, uint64_t *bytes, double *seconds,
                  enum az_linger_end *end);

/*
 * Evidence bookkeeping (the rule is in judge.c, "ACK of an ACK"). A
 * segment of direction d took sequence space up to end and carried ack:
 * remember it until the peer ACKs it.
 */
static inline void judge_proof_push(struct conn *c, int d, uint32_t end,
                                    uint32_t ack, uint64_t idx)
{
	struct xdir *X;
	struct proofpt *p;

	if (!c->x)
		return;
	X = &c->x->x[d];
	if (X->p_n == PROOF_RING) {
		/* full: the newest takes this one's place, so a proof needs an
		 * ACK a little further on (never a proof that does not hold) */
		p = &X->proofs[(X->p_head + PROOF_RING - 1) % PROOF_RING];
	} else {
		p = &X->proofs[(X->p_head + X->p_n) % PROOF_RING];
		X->p_n++;
	}
	p->end = end;
	p->ack = ack;
	p->idx = idx;
}

/* A segment of direction d (frame idx) carries the ACK a for direction
 * !d: the peer segments it covers were received by d's sender, and with
 * them their ACK fields for d. */
static inline void judge_proof_ack(struct conn *c, int d, uint32_t a, uint64_t idx)
{
	struct cdir *Q = &c->d[d];
	const struct cdir *P = &c->d[!d];
	struct xdir *X;
	uint32_t p_nxt;

	if (!c->x || c->x->x[!d].p_n == 0)
		return;
	X = &c->x->x[!d];
	/* an ACK of bytes never sent proves nothing (RFC 9293 3.10.7.4) */
	p_nxt = P->fin_seen ? P->fin_seq + 1 : P->data_end;
	if (seq_after(a, p_nxt))
		return;
	while (X->p_n > 0) {
		const struct proofpt *p = &X->proofs[X->p_head];

		if (seq_after(p->end, a))
			break;
		if (!Q->proof_seen || seq_after(p->ack, Q->proof_acked)) {
			Q->proof_seen = true;
			Q->proof_acked = p->ack;
			Q->proof_packet = idx;
			Q->proof_peer_packet = p->idx;
		}
		X->p_head = (uint8_t)((X->p_head + 1) % PROOF_RING);
		X->p_n--;
	}
}

#endif
