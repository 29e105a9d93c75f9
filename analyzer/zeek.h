/*
 * zeek.h - a connection in Zeek's words: its conn.log `conn_state` and
 * `history`, computed packet by packet the way Zeek's TCP analyzer does
 * (see zeek.c for the rules and where they come from).
 *
 * Internal to analyzer/: analyzer.c keeps one struct zk in each
 * connection and feeds it every packet; the public names are in
 * analyzer.h (enum az_zeek_state, az_zeek_state_name()).
 */
#ifndef LL_ANALYZER_ZEEK_H
#define LL_ANALYZER_ZEEK_H

#include <stdbool.h>
#include <stdint.h>

#include "analyzer/analyzer.h"
#include "analyzer/decode.h"

/* Longest history kept; a longer one ends in '+' (Zeek has no bound, but
 * only storms of SYNs, FINs or RSTs with ever new sequence numbers, or
 * 10^9 retransmissions, write that many letters). */
#define ZK_HISTORY_MAX 23

enum zk_estate {
	ZE_INACTIVE = 0, ZE_SYN_SENT, ZE_SYN_ACK_SENT, ZE_PARTIAL,
	ZE_ESTABLISHED, ZE_CLOSED, ZE_RESET,
};

/* One endpoint as Zeek's TCP_Endpoint sees it (the fields that shape
 * the state and the history). Sequence numbers are raw. */
struct zk_end {
	uint8_t state, prev_state;     /* enum zk_estate (zeek.c) */
	bool fin_seen;
	bool ack_known;                /* ack_seq has been set */
	uint32_t start, last;          /* start_seq, last_seq */
	uint32_t ack_seq;              /* highest ACK the peer sent for us */
	uint32_t h_syn, h_fin, h_rst;  /* relative seq of the last SYN/FIN/RST
	                                  (a repeat at the same place adds no
	                                  letter) */
	uint32_t fin_end;              /* just past our last FIN (raw) */
	uint32_t deliv;                /* our data is in order up to here (raw) */
	uint32_t oo_start, oo_end;     /* one range of ours past deliv (empty
	                                  when equal) */
	uint32_t n_rxmt, n_win0, n_gap; /* counts behind the scaled letters */
};

struct zk {
	uint8_t orig_lo;               /* Zeek's originator is the key's lo end */
	uint8_t n;                     /* letters in h */
	uint16_t seen;                 /* the once-only letters already written:
	                                  bit (kind + 8 * responder) */
	char h[ZK_HISTORY_MAX + 1];    /* NUL-terminated */
	struct zk_end e[2];            /* [0]: the key's lo end, [1]: hi */
};

/* A connection's first packet, sent by the lo end if src_is_lo: decides
 * Zeek's originator (the sender, unless the port heuristic flips it). */
void zk_init(struct zk *z, const struct dec_tcp *s, bool src_is_lo);

void zk_packet_slow(struct zk *z, const struct dec_tcp *s, bool src_is_lo);
void zk_established(struct zk *z, struct zk_end *e, struct zk_end *peer,
                    bool orig, const struct dec_tcp *s);

/* Every packet of the connection, the first one included, in order. The
 * common one (an ACK, with or without data, between ends that are
 * established or closed: the exchange, and the ACKs of the FINs) takes a
 * short path. */
#define ZK_FAST_STATES ((1u << ZE_ESTABLISHED) | (1u << ZE_CLOSED))
static inline void zk_packet(struct zk *z, const struct dec_tcp *s, bool src_is_lo)
{
	struct zk_end *e = &z->e[src_is_lo ? 0 : 1], *peer = &z->e[src_is_lo ? 1 : 0];

	if ((s->flags & (LL_TH_SYN | LL_TH_FIN | LL_TH_RST | LL_TH_ACK)) == LL_TH_ACK &&
	    (((1u << e->state) | (1u << peer->state)) & ~ZK_FAST_STATES) == 0)
		zk_established(z, e, peer, (z->orig_lo != 0) == src_is_lo, s);
	else
		zk_packet_slow(z, s, src_is_lo);
}

/* Zeek's conn_state of the connection as it stands. */
enum az_zeek_state zk_state(const struct zk *z);

/* Whether Zeek's originator is our client (client_is_lo: the client is
 * the key's lo end). */
static inline bool zk_orig_is_client(const struct zk *z, bool client_is_lo)
{
	return (z->orig_lo != 0) == client_is_lo;
}

#endif
