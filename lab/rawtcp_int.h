/*
 * rawtcp_int.h - the insides of the raw TCP client (lab/rawtcp.h is its
 * API; nothing outside lab/rawtcp*.c includes this file).
 *
 * The client's rooms:
 *   lab/rawtcp.c         the client: open, free, events, stats, the event
 *                        loop that runs what is due and reads the wire
 *   lab/rawtcp_conn.c    one connection's API: connect, send, shutdown,
 *                        abort, RSTs on demand, window and ACK policy,
 *                        reading, release, info
 *   lab/rawtcp_out.c     one connection's output: the send buffer,
 *                        segmentation, FIN, the body generator, and
 *                        making each segment (emit)
 *   lab/rawtcp_in.c      one connection's input: handshake, ACK, data,
 *                        FIN, RST
 *   lab/rawtcp_timers.c  one connection's timers (RTO, delayed ACK,
 *                        persist, body pacing, TIME_WAIT) and the
 *                        runner's timers
 *   lab/rawtcp_wire.c    the wire: loss and reordering faults, injecting
 *                        held segments with libnet, reading frames with
 *                        libpcap (the record) and lab/earlyrx.c (the
 *                        server's segments), the saved capture
 * and here: the two structs, the packet pool and the small helpers every
 * room needs (static inline: they sit on the per-segment path).
 *
 * Why segments are built at release time: libnet builds a packet into its
 * own context and writes it at once (culling the bytes is only offered in
 * link mode), so the delay queue holds a description of each segment (the
 * header fields, the options bytes and a copy of the payload) and libnet
 * builds and checksums it when its rtt/2 hold is over. Every field is fixed
 * when the segment is made (the TSval too), so the wire shows exactly what
 * a TCP that sent at that moment would send, only later.
 *
 * Memory: held packets come from a per-client pool of fixed size classes
 * (kept on free lists, freed only with the client); the timer and delay
 * heaps store pointers to nodes embedded in connections and packets;
 * connection lookup is a table of 65536 entries per local address
 * (rawtcp_config.local_addr_count), indexed by address and port. Send and
 * receive buffers are allocated on first use and grow geometrically up to
 * their caps. libnet itself allocates its protocol blocks per packet.
 *
 * Functions shared between rooms carry the prefix rt_.
 */
#ifndef LL_LAB_RAWTCP_INT_H
#define LL_LAB_RAWTCP_INT_H

#include <libnet.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/decode.h"
#include "lab/addr.h"
#include "lab/rawtcp.h"
#include "lab/timerheap.h"

#define RT_NPORTS 65536
#define RT_MAX_LOCAL 16          /* local addresses (rawtcp_config.local_addr_count) */
#define RT_SNAPLEN 262144
#define RT_MAX_RTO_US 60000000u  /* RFC 6298 (2.5): an upper bound of 60 s */
#define RT_MIN_MSS 64
#define RT_MAX_MSS 65495         /* 65535 - 20 (IP) - 20 (TCP) */
/* The MSS a 1500-byte Ethernet MTU allows (RFC 9293 3.7.1, RFC 8200 8.3:
 * the IPv6 header is 40 bytes), announced when the caller sets none, and
 * the peer's when it announces none (RFC 9293 3.7.1: 536; RFC 8200 5:
 * the 1280-byte minimum link MTU less 60 = 1220). */
#define RT_MSS_DEFAULT(af) ((af) == 6 ? 1440 : 1460)
#define RT_MSS_PEER_DEFAULT(af) ((af) == 6 ? 1220 : 536)
#define RT_TS_OPTLEN 12          /* NOP NOP TS(10) on every segment */
#define RT_INJECT_FATAL 1000     /* consecutive failed injections = fatal */
#define RT_DUE_BUDGET 256      /* due items per loop turn, see run_due() */

/* A held packet. Outbound: the segment to build (o, payload in data[]).
 * Inbound: the decoded segment (in, payload copied to data[]). */
enum { PKT_OUT = 1, PKT_IN = 2 };

struct seg_out {
	uint16_t sport, dport;    /* addresses: local address lidx and the peer */
	uint16_t lidx;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint8_t optlen;
	uint8_t opt[40];
	uint32_t len;             /* payload bytes in data[] */
};

struct pkt {
	struct theap_node node;
	struct pkt *next_free;
	uint8_t cls;
	uint8_t dir;
	union {
		struct seg_out o;
		struct dec_tcp in;
	} u;
	uint8_t data[];
};

#define PKT_OF(n) ((struct pkt *)(void *)((char *)(n) - offsetof(struct pkt, node)))

struct utimer {
	struct theap_node node;
	uint64_t id, cookie;
};
#define UTIMER_OF(n) ((struct utimer *)(void *)((char *)(n) - offsetof(struct utimer, node)))

struct rawtcp_conn {
	struct rawtcp *c;
	struct rawtcp_conn *prev, *next;   /* every connection of the client */
	struct theap_node tnode;           /* earliest of the deadlines below */
	struct rawtcp_conn_opts o;
	enum rawtcp_state state;
	enum rawtcp_close_reason reason;
	uint16_t lport;
	uint16_t lidx;                     /* local address: local_addr + lidx */
	uint32_t rtt_us, half_us;

	bool silent;       /* rawtcp_silence: inject nothing */
	bool after_rst;    /* send_after_rst: RST seen, still streaming */
	bool fin_queued;   /* rawtcp_shutdown called */
	bool fin_sent;     /* our FIN went out at least once */
	bool fin_acked;
	bool fin_in_pass;  /* FIN sent since the last go-back-N rewind */
	bool syn_retx;     /* the SYN was retransmitted (Karn) */

	/* negotiated in the handshake */
	uint16_t peer_mss;
	int8_t peer_wscale;          /* -1: none */
	uint8_t snd_wscale;          /* shift for the peer's window field */
	uint8_t rcv_wscale;          /* shift for ours (0 unless both offered) */
	bool ts_ok, sack_ok;
	uint32_t ts_recent;
	uint32_t ts_off;

	/* send side; 64-bit offsets relative to iss + 1 */
	uint32_t iss;
	uint64_t tx_una, tx_nxt, tx_max, tx_end;
	uint32_t snd_wnd;            /* bytes, scaled */
	uint8_t *sb;                 /* bytes [tx_una, tx_end) from sb[sb_head] */
	size_t sb_alloc, sb_head;

	/* timers (0 = off), microseconds */
	uint64_t rto_at, dack_at, persist_at, gen_at, tw_at;
	uint32_t rto_us, srtt_us, rttvar_us;
	uint8_t retries;
	uint8_t persist_shift;
	uint32_t retransmits;
	bool timing;                 /* one segment timed for an RTT sample */
	uint64_t timed_end, timed_at;

	/* body generator */
	bool gen_on;
	uint64_t gen_total, gen_done, gen_rate, gen_start;
	uint32_t gen_chunk;

	/* receive side; offsets relative to irs + 1 (the FIN counts one) */
	uint32_t irs;
	uint64_t rx_received, rx_delivered;
	uint64_t ack_sent;           /* rel. seq we acknowledged last */
	uint64_t rx_edge;            /* highest right edge we advertised */
	uint64_t rx_dropped_ooo;
	uint8_t *rb;                 /* bytes [rx_delivered, rx_received) */
	size_t rb_alloc, rb_head;
	uint32_t adv_window;         /* last advertised, bytes */

	bool peer_fin, peer_fin_acked;
	uint64_t peer_fin_at;
	bool peer_rst;
	uint32_t rsts_received, rst_seq;
	uint64_t rst_rel_seq, rst_rx_received, rst_rx_delivered, rst_unacked;

	uint64_t t_connect, t_established, t_peer_fin, t_peer_rst, t_closed;

	/* faults (rawtcp.h: struct rawtcp_fault); rules are in o.faults */
	uint32_t fault_used;         /* bit i: rule i has applied */
	uint32_t segs[2], dropped[2], reordered[2]; /* by enum rawtcp_dir */
	struct pkt *held[2];         /* a segment held back (reorder) */
	bool rst_ack_adjust;         /* rawtcp_send_rst: emit adds ... */
	int64_t rst_ack_off;         /* ... this to the ACK number */
};
/* Over for us, not for the peer: its FIN was never ACKed (ack never, ack
 * upto), so it holds the connection (CLOSING, LAST_ACK) and sends its FIN
 * again. Such a connection stays open here (LAST_ACK, TIME_WAIT past its
 * time) until it is released, whose RST ends it on the peer too, as the
 * lab's clean-up, not in the next scenario's window. */
static inline bool peer_waits(const struct rawtcp_conn *k)
{
	return k->peer_fin && !k->peer_fin_acked && !k->silent;
}

struct rawtcp {
	bool offline;
	char iface[64];
	struct lladdr local, peer;       /* one family, 4 or 6 */
	uint16_t nlocal;                 /* local, local + 1, ... local + nlocal - 1 */
	uint32_t next_slot;              /* alloc_port's cursor over (address, port) */
	uint32_t rtt_us;
	uint16_t port_min, port_max, next_port;
	uint16_t peer_port;              /* target mode (config), 0: lab */
	uint16_t mss_default;            /* o.mss 0: RT_MSS_DEFAULT, capped by the MTU */
	uint32_t max_conns, max_events;
	rawtcp_out_fn out;
	void *out_arg;

	pcap_t *pcap;
	int pcap_fd;
	int dlt;
	int early_fd;                    /* lab/earlyrx.h; -1: the ring feeds the TCP */
	uint8_t *early_buf;              /* RT_SNAPLEN bytes */
	uint64_t early_drops;
	pcap_dumper_t *dumper;
	libnet_t *ln;
	uint16_t ip_id;

	uint64_t rng;
	struct rawtcp_conn **ports;      /* live connections by lkey() */
	uint8_t *rst_pending;            /* RSTs injected, not yet seen, by lkey() */
	struct rawtcp_conn *conns;       /* list of all connections */

	struct theap timers, delayq, utimers;
	uint64_t next_utimer_id;
	struct pkt *free_pkts[3];

	struct rawtcp_event *ev;         /* ring */
	size_t ev_cap, ev_head, ev_len;

	struct rawtcp_stats st;
	uint32_t inject_fail_run;        /* consecutive failed injections */
	char inject_err[160];
};
/* ---- helpers -------------------------------------------------------- */

/* xorshift64*: ISNs and port starts need to differ between runs, not to
 * resist an attacker (the lab has none). */
static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static inline uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static inline uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* Connections and pending RSTs are found by (local address, port). */
static inline uint32_t lkey(uint16_t lidx, uint16_t port) { return (uint32_t)lidx << 16 | port; }

/* The last 32 bits of an address, as a number. */
static inline uint32_t tail32(int af, const uint8_t *b)
{
	const uint8_t *t = b + (af == 6 ? 12 : 0);
	return (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3];
}

/* Which of our local addresses bytes is (0 = local_addr), or -1. */
static inline int local_index(const struct rawtcp *c, int af, const uint8_t *bytes)
{
	uint32_t d;
	if (af != c->local.af)
		return -1;
	if (c->nlocal <= 1)
		return lladdr_is(&c->local, af, bytes) ? 0 : -1;
	if (af == 6 && memcmp(bytes, c->local.b, 12) != 0)
		return -1;
	d = tail32(af, bytes) - tail32(af, c->local.b);
	return d < c->nlocal ? (int)d : -1;
}

/* Local address number i: local_addr + i in its last 32 bits. */
static inline struct lladdr local_at(const struct rawtcp *c, uint16_t i)
{
	struct lladdr a = c->local;
	uint8_t *t = a.b + (a.af == 6 ? 12 : 0);
	uint32_t v = tail32(a.af, a.b) + i;
	t[0] = (uint8_t)(v >> 24); t[1] = (uint8_t)(v >> 16); t[2] = (uint8_t)(v >> 8); t[3] = (uint8_t)v;
	return a;
}

/* Take a packet buffer that holds len payload bytes, from the pool. */
static inline struct pkt *pkt_get(struct rawtcp *c, uint32_t len)
{
	static const uint32_t pkt_class_cap[3] = { 2048, 16384, 65536 };
	uint8_t cls;
	struct pkt *p;
	if (len <= pkt_class_cap[0])
		cls = 0;
	else if (len <= pkt_class_cap[1])
		cls = 1;
	else if (len <= pkt_class_cap[2])
		cls = 2;
	else
		return NULL;
	p = c->free_pkts[cls];
	if (p) {
		c->free_pkts[cls] = p->next_free;
	} else {
		p = malloc(sizeof *p + pkt_class_cap[cls]);
		if (!p)
			return NULL;
		p->cls = cls;
	}
	p->next_free = NULL;
	theap_node_init(&p->node);
	return p;
}

static inline void pkt_put(struct rawtcp *c, struct pkt *p)
{
	p->next_free = c->free_pkts[p->cls];
	c->free_pkts[p->cls] = p;
}

/* Hold p until when. A packet that cannot be queued is lost (counted). */
static inline void delay_push(struct rawtcp *c, struct pkt *p, uint64_t when)
{
	if (theap_set(&c->delayq, &p->node, when) != 0) {
		c->st.inject_errors++;
		pkt_put(c, p);
		return;
	}
	if (theap_len(&c->delayq) > c->st.delayq_peak)
		c->st.delayq_peak = (uint32_t)theap_len(&c->delayq);
}

static inline uint32_t snd_seq(const struct rawtcp_conn *k, uint64_t rel) { return k->iss + 1 + (uint32_t)rel; }
static inline uint32_t rcv_seq(const struct rawtcp_conn *k, uint64_t rel) { return k->irs + 1 + (uint32_t)rel; }
static inline uint64_t full_ack(const struct rawtcp_conn *k) { return k->rx_received + (k->peer_fin ? 1 : 0); }
static inline uint32_t ts_now(const struct rawtcp_conn *k, uint64_t now) { return (uint32_t)(now / 1000u) + k->ts_off; }
static inline bool synchronized(const struct rawtcp_conn *k) { return k->state != RAWTCP_SYN_SENT && k->state != RAWTCP_CLOSED; }

/* Largest payload per segment: the smaller MSS, minus the option bytes
 * every segment carries (RFC 9293 3.7.1). */
static inline uint32_t eff_mss(const struct rawtcp_conn *k)
{
	uint32_t m = k->peer_mss < k->o.mss ? k->peer_mss : k->o.mss;
	if (k->ts_ok)
		m -= RT_TS_OPTLEN;
	return m;
}

/* Receive window we may offer now, in bytes (before scaling). */
static inline uint32_t window_now(const struct rawtcp_conn *k)
{
	uint64_t used = k->rx_received - k->rx_delivered;
	uint64_t space = k->o.rcvbuf_cap > used ? k->o.rcvbuf_cap - used : 0;
	return (uint32_t)min64(k->o.window, space);
}

static inline bool outstanding(const struct rawtcp_conn *k)
{
	return k->tx_una < k->tx_max || (k->fin_sent && !k->fin_acked);
}

/* The sequence space we have sent, relative to iss + 1: the bytes and our
 * FIN. A RST of ours carries snd_seq() of it, as a kernel's snd_nxt. */
static inline uint64_t snd_max_rel(const struct rawtcp_conn *k)
{
	return k->tx_max + (k->fin_sent ? 1 : 0);
}

/* The live connection at one of our addresses (dst) and port, or NULL. */
static inline struct rawtcp_conn *conn_at(const struct rawtcp *c, int af, const uint8_t *dst,
                                          uint16_t port)
{
	int li = local_index(c, af, dst);
	return li >= 0 ? c->ports[lkey((uint16_t)li, port)] : NULL;
}

/* A segment of the server's conversation with us: from the peer to one of
 * our addresses (and, in target mode, from the target's port). */
static inline bool from_peer(const struct rawtcp *c, const struct dec_tcp *d)
{
	return lladdr_is(&c->peer, d->af, d->src) && local_index(c, d->af, d->dst) >= 0 &&
	       (!c->peer_port || d->sport == c->peer_port);
}

/* A connection's send or receive buffer holds used bytes from buf[head].
 * Make room for n more after them: slide them to the front, or move them
 * to a buffer grown geometrically from 4096 up to cap (the caller checked
 * used + n <= cap). Returns -1 on ENOMEM (the buffer is as it was). */
static inline int buf_room(uint8_t **buf, size_t *alloc, size_t *head, size_t used, size_t n,
                           size_t cap)
{
	size_t na;
	uint8_t *nb;
	if (*head + used + n <= *alloc)
		return 0;
	if (used + n <= *alloc && *head > 0) {
		memmove(*buf, *buf + *head, used);
		*head = 0;
		return 0;
	}
	na = *alloc ? *alloc : 4096;
	while (na < used + n)
		na *= 2;
	if (na > cap)
		na = cap;
	nb = malloc(na);
	if (!nb)
		return -1;
	if (used)
		memcpy(nb, *buf + *head, used);
	free(*buf);
	*buf = nb;
	*alloc = na;
	*head = 0;
	return 0;
}

/* ---- shared between the rooms ---------------------------------------- */

/* lab/rawtcp.c */
void rt_push_event(struct rawtcp *c, enum rawtcp_event_type type, struct rawtcp_conn *k,
                   uint64_t now, uint64_t bytes, uint64_t cookie);

/* lab/rawtcp_conn.c */
void rt_conn_close(struct rawtcp_conn *k, enum rawtcp_close_reason why, uint64_t now);
void rt_conn_free(struct rawtcp_conn *k);

/* lab/rawtcp_out.c */
int rt_emit(struct rawtcp_conn *k, uint64_t now, uint32_t seq, uint8_t flags,
            const uint8_t *payload, uint32_t len);
void rt_send_ack(struct rawtcp_conn *k, uint64_t now);
void rt_send_syn(struct rawtcp_conn *k, uint64_t now);
int rt_sb_append(struct rawtcp_conn *k, const uint8_t *data, size_t n, uint64_t pat_off);
void rt_sb_drop(struct rawtcp_conn *k, uint64_t n);
void rt_conn_output(struct rawtcp_conn *k, uint64_t now);
void rt_gen_step(struct rawtcp_conn *k, uint64_t now);

/* lab/rawtcp_in.c */
void rt_conn_input(struct rawtcp_conn *k, const struct dec_tcp *d, uint64_t now);
void rt_ack_after_input(struct rawtcp_conn *k, uint64_t now, bool dup);

/* lab/rawtcp_timers.c */
void rt_conn_rearm(struct rawtcp_conn *k);
void rt_conn_timers(struct rawtcp_conn *k, uint64_t now);

/* lab/rawtcp_wire.c */
void rt_out_segment(struct rawtcp_conn *k, struct pkt *p, uint64_t when);
bool rt_in_segment(struct rawtcp_conn *k, struct pkt *p);
void rt_inject(struct rawtcp *c, struct pkt *p);
void rt_queue_inbound(struct rawtcp *c, const struct dec_tcp *d, uint64_t now, uint64_t lag);
int rt_open_live(struct rawtcp *c, const struct rawtcp_config *cfg, char *err, size_t errlen);
int rt_drain_capture(struct rawtcp *c, uint64_t now, char *err, size_t errlen);
int rt_drain_early(struct rawtcp *c, uint64_t now, char *err, size_t errlen);

#endif
