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

/* Had the sender of a RST in direction d, sent at capture time t, the
 * peer's FIN when the RST left it (rule 5 of judge.c)? */
bool judge_had_peer_fin(const struct conn *c, int d, const struct dec_tcp *s, double t);

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

/* Every RST sent in direction d: its fate at the receiver is judged once
 * the ACKs that left the receiver before it arrived are in (judge_rst_due,
 * or judge_impact at the end). Needs c->x->rp (the caller sets it up at
 * the connection's first RST, and judge_rp_init() on it); without it
 * nothing is recorded. Returns whether the RST ends the connection on what
 * the capture shows now (rule 2, without the ACKs still on their way and
 * the receiver's answer): true without c->x->rp. */
bool judge_note_rst(struct conn *c, int d, const struct dec_tcp *s, double t,
                    uint64_t idx);

/* Set up the parts of fresh RST fates that rule 4 uses. */
void judge_rp_init(struct rstpair *rp);

/* A packet of direction d with these flags came at t: rule 4 reads it as
 * a sign that the receiver of an earlier RST still had the connection. */
void judge_rst_life(struct conn *c, int d, uint8_t flags, double t);

/*
 * Rule 4, once every packet of the connection is in: judge every RST
 * still waiting and decide which one ended the connection, if any; set
 * c->end_rst and c->end_rst_time, and make first_rst (with the three
 * fields that describe it), first_close and simultaneous, and both
 * sides' states, tell that end. Runs once; a connection without a RST is
 * left as tracked.
 */
void judge_end(struct conn *c);

/* A packet of the connection came at t: judge direction d's RSTs whose
 * time is up. */
void judge_rst_due(struct conn *c, int d, double t);

/*
 * The receiver's side of direction d's RSTs (client_impact for a server
 * RST): the fate of each under RFC 5961 and the impact. Call when the
 * connection is summarized (every RST and ACK is in): it judges those
 * still waiting. Fills f's impact,
 * impact_estimated, accepted_rst_packet, unacked_at_accept, fates,
 * n_fates and rsts_total.
 */
void judge_impact(struct conn *c, int d, struct az_rst_finding *f);

/*
 * Lingering close: the server, after its FIN, kept ACKing client data.
 * False (outputs untouched) if it did not; else the bytes drained, the
 * seconds from the server's FIN to the end, and what ended it.
 */
bool judge_linger(const struct conn *c, uint64_t *bytes, double *seconds,
                  enum az_linger_end *end);

#endif
