/*
 * conn.h - one connection as the analyzer tracks it (internal to
 * analyzer/; the public contract is analyzer.h).
 *
 * analyzer.c keeps these in its store and updates them packet by packet;
 * judge.c reads them to decide what is flagged and why. Sequence numbers
 * are RAW (as on the wire) and compared only with seq.h's helpers.
 */
#ifndef LL_ANALYZER_CONN_H
#define LL_ANALYZER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/analyzer.h"
#include "analyzer/flowtab.h"
#include "analyzer/http.h"
#include "analyzer/seq.h"
#include "analyzer/tls.h"
#include "analyzer/tlsdec.h"
#include "analyzer/zeek.h"

#define ACK_RING 16          /* ACK advances (or runs) kept per direction */
#define DATA_RING 16         /* data segments kept per direction */

/* An ACK advance seen at t0 carrying ack0, or a run of them merged when
 * the history was full: the first at t0 with ack0, the last at t1 with
 * ack1 (t0 == t1 and ack0 == ack1 for a single advance). */
struct ackev {
	double t0, t1;
	uint32_t ack0, ack1;
};

struct dseg {
	uint32_t start, end;
	uint64_t idx;
};

/* One RST sent in a direction, as the capture saw it, for its fate at the
 * receiver (judge.c): the receiver's RCV.NXT when it arrived is what the
 * sender had sent before it, unless a hole held it back. */
struct rstrec {
	double t;
	double limit;              /* receiver ACKs captured up to here left
	                              it before the RST reached it */
	uint64_t idx;
	uint32_t seq;
	uint32_t data_end;         /* the sender's data_end then (raw) */
	uint32_t rcv_nxt;          /* the receiver's RCV.NXT estimate (raw) */
	bool fin_in;               /* the sender's FIN had been sent, in order */
	uint32_t rcv_win;          /* the receiver's last window, bytes (0:
	                              unknown) */
	/* what the connection was when it left: the teardown it makes if it
	 * ends the connection (judge_end) */
	bool had_fin, both_fins, refused_syn;
};

/* A RST that may have ended the connection (judge.c, rule 4): it did,
 * unless its receiver showed afterwards that it still had the connection.
 * One with fate "reset" is dismissed only by traffic both ways (the
 * receiver sent a segment after the RST reached it, then the RST's sender
 * sent one): a receiver that accepted it has no connection to send on,
 * and a raw lab client that sends on regardless meets only RSTs. One the
 * receiver would not take (a challenge ACK, or ignored) is dismissed by
 * any segment of the receiver's after it arrived: its challenge ACK, or
 * whatever it went on sending. */
struct rstend {
	double t, limit;           /* as struct rstrec's */
	double recv_on;            /* the receiver's first segment (not a RST)
	                              captured after limit; 0: none yet */
	uint64_t idx;
	uint8_t accept;            /* enum az_accept */
	bool had_fin, both_fins, refused_syn, dismissed;
};
#define RST_ENDS 4

/* One direction, raw numbers. The sender of this direction is the side
 * whose state is `state` (c2s: the client). */
struct cdir {
	bool base_known, isn_known;
	uint32_t base;             /* relative 0 */
	uint32_t data_end;
	bool fin_seen, fin_acked, syn_acked;
	uint32_t fin_seq;
	bool fin_ack_valid;
	uint32_t fin_ack;          /* the ACK field of our FIN segment */
	double fin_time;
	uint64_t fin_packet;
	bool acked_seen;
	uint32_t acked;            /* highest ACK the peer sent for us */
	uint32_t first_ack;
	bool rst_seen, rst_has_ack;
	uint32_t rst_seq, rst_count;
	double rst_time;
	uint64_t rst_packet;
	uint64_t packets, bytes, retrans_packets, retrans_bytes;
	uint16_t mss;
	int8_t wscale;
	bool sack_permitted, timestamps;
	bool data_after_peer_fin;  /* new data sent after the peer's FIN */
	double last_data_time;
	enum az_state state;       /* RSTs left out: judge_end() applies the
	                              one that ended the connection */
	/* a hole at the capture point: a segment began past data_end, and
	 * nothing has filled gap_start yet (nor has the peer ACKed past it);
	 * the receiver's RCV.NXT cannot pass gap_start (see judge.c) */
	bool gap;
	uint32_t gap_start;
};

/* The fates of one direction's RSTs at their receiver (judge.c): each
 * waits in q until no ACK that left the receiver before it arrived can
 * still show up, then is judged; the first AZ_MAX_RST_FATES are listed. */
#define RST_PENDING 8
struct rstfates {
	uint8_t q_n, q_head;
	struct rstrec q[RST_PENDING];
	bool accepted;             /* the receiver accepted one: it is gone */
	bool challenged;           /* it answered one with a challenge ACK,
	                              which moved its RCV.WUP to wup_floor */
	uint32_t wup_floor;
	uint8_t n_fates;
	uint8_t n_ends;            /* ends[] in use (set up by judge_rp_init) */
	uint64_t accepted_packet;
	uint32_t unacked_at_accept;
	struct az_rst_fate fates[AZ_MAX_RST_FATES]; /* relative numbers */
	struct rstend ends[RST_ENDS]; /* the earliest not dismissed, in order */
};

/* Both directions' fates, in a pool of their own: most connections never
 * see a RST, so their extension does not carry them. */
struct rstpair {
	uint32_t self, next_free;
	struct rstfates rf[2];     /* [d] */
};

/* The recent history of one direction, for judging a RST. */
struct xdir {
	/* the counts first, so a fresh extension is set up in one line */
	uint8_t ack_n;             /* acks[] in use */
	uint8_t d_n, d_head;       /* dring[]: oldest first from d_head */
	/* ACK advances for this direction (sent by the peer), oldest first;
	 * when more come than fit, neighbours merge into runs (see
	 * ack_push()), so the history always reaches back to the first */
	struct ackev acks[ACK_RING];
	/* data segments */
	struct dseg dring[DATA_RING];
};

/* A RST being judged: the receiver's view is final only once no ACK that
 * left the receiver before the RST reached it can still show up. */
struct pend {
	bool active;
	double limit;              /* ACKs seen up to this time still count */
	double t_rst;
	uint64_t rst_packet;
	uint32_t rst_seq;
	bool rst_has_ack;
	uint32_t data_end, acked_cap, sender_acked, recv_acked;
	uint32_t sender_acked_surely; /* <= sender_acked: they differ when the
	                                 ACK history was merged around the time
	                                 that counts (see acked_at()) */
	enum az_basis basis;
	bool seq_evidence;
	enum az_cause cause;
	uint64_t evidence_packet, evidence_peer_packet;
	uint32_t evidence_acked;
};


/* The part of a connection needed only while it can still change much. */
struct conn_ext {
	uint32_t self, next_free;
	struct http_dir hd[2];
	struct tls_dir td[2];      /* TLS record boundaries, per direction */
	struct tlsdec *dec;        /* their decryption (a key log matched the
	                              session), or NULL */
	struct xdir x[2];
	struct pend pend[2];       /* [d]: the first RST sent in direction d */
	/* timeline: head array, then a ring for the tail (buffers survive
	 * reuse of this slot while they are small) */
	struct az_tl_pkt *tl_head;
	uint32_t n_head, cap_head;
	struct az_tl_pkt *tl_tail;
	uint32_t cap_tail;
	uint64_t n_tail;           /* tail packets seen (kept: min(n, cap)) */
	uint64_t tl_lost;          /* not recorded for lack of memory */
	struct rstpair *rp;        /* the fates of the RSTs, from the first
	                              RST on; NULL before */
};

struct __attribute__((aligned(64))) conn {
	/* lines 0 and 1: what a lookup and the expiry of a tomb read */
	struct flow_key key;
	uint32_t hash;
	uint32_t self;             /* slot index, or tomb reference */
	uint32_t prev, next;       /* links in the embryo list */
	double last_time;

	bool in_use;
	bool finished;             /* both FINs ACKed, or a RST */
	uint8_t list;              /* L_NONE or L_EMBRYO */
	bool client_is_lo;         /* the client is the key's lo endpoint */
	bool role_inferred;
	bool syn_seen, synack_seen, hsack_seen, rtt_known;
	uint8_t flagged_sides;     /* bit (1 << enum az_side): a finding;
	                              nonzero: the connection is flagged */
	bool evicted;              /* ended early for the memory bound */
	bool fw2_open[2];          /* [AZ_SERVER], [AZ_CLIENT] */
	uint32_t next_free;
	double grace;
	uint64_t id;
	struct conn_ext *x;        /* NULL once released */

	double t_syn, t_synack, t_hsack, h_s, h_c;
	double first_time;
	uint64_t first_packet, last_packet;
	struct cdir d[2];
	uint16_t tls_version;      /* kept from the extension when it goes */
	uint16_t tls_records[2];   /* (saturating) */
	struct tlsdec_kept tls_kept; /* decryption counts, likewise */
	struct zk zk;              /* Zeek's view of it (zeek.c), next to the
	                              directions that every packet touches too */

	int8_t first_close;        /* enum az_side of the first FIN/RST, -1
	                              (once judge_end() ran: of the first FIN
	                              or the RST that ended it) */
	int8_t first_fin;          /* enum az_side of the first FIN, -1 */
	bool rst_took;             /* a RST ended it, as far as known while
	                              tracking (judge_note_rst) */
	bool end_judged;           /* judge_end() ran */
	int8_t end_rst;            /* judge_end(): enum az_side of the RST that
	                              ended it, -1: none did */
	double end_rst_time;
	bool first_close_rst;
	bool simultaneous;
	int8_t first_rst;          /* enum az_side of the first RST, -1 (once
	                              judge_end() ran: of the RST that ended
	                              it, and the three below describe it) */
	bool rst_after_both_fins, rst_sender_had_fin, rst_refused_syn;

	bool linger_armed;
	bool linger_from_start;    /* the client had sent nothing yet */
	bool linger_upto_seen;
	uint32_t linger_acked0;
	uint32_t linger_upto;      /* the server's last ACK of client data
	                              (not in a RST) since its FIN */

	struct az_fw2_interval fw2[2];

	int32_t finding_idx[2];    /* [enum az_side of the sender]: index into
	                              az->findings, or -1 */
	bool tl_dropped;           /* the timeline went with the extension */
	/* both FINs ACKed and no RST: final but for a late RST (see struct
	 * ring); lingering as it was then */
	bool ended_gracefully;
	bool g_lingered;
	uint64_t g_linger_bytes;
	double g_linger_seconds;
	double t_client_fin_in;    /* when the client's FIN was in order at the
	                              server (its FIN_WAIT_2 ended), 0 if not */
	/* last: conn_new clears everything before it; http_init() sets what
	 * it needs (its response table is read only below n_resp) */
	struct http_conn http;
};
_Static_assert(offsetof(struct conn, grace) + sizeof(double) <= 128,
               "struct conn: what expiry reads must fit lines 0 and 1");
_Static_assert(offsetof(struct conn, http.resp) > 128 &&
               sizeof(struct conn) % 16 == 0, "struct conn: 16-byte multiple");

/* side of the sender of direction d: c2s is the client */
static inline enum az_side side_of(int d) { return d == AZ_C2S ? AZ_CLIENT : AZ_SERVER; }
static inline int dir_of(enum az_side s) { return s == AZ_CLIENT ? AZ_C2S : AZ_S2C; }

static inline uint32_t unacked(uint32_t data_end, uint32_t acked)
{
	return seq_after(data_end, acked) ? data_end - acked : 0;
}

/* Lowest "acked" value of direction D: nothing but the SYN acknowledged. */
static inline uint32_t acked_floor(const struct cdir *D) { return D->base + 1; }

static inline uint32_t acked_now(const struct cdir *D)
{
	uint32_t lo = acked_floor(D);
	return D->acked_seen ? seq_max(D->acked, lo) : lo;
}

#endif
