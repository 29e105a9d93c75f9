/*
 * rawtcp.c - userspace TCP client: libnet out, libpcap in (see rawtcp.h).
 *
 * Layout of this file:
 *   1. helpers: errors, clock, PRNG, packet pool
 *   2. the wire: building segments (held in the delay queue), injecting
 *      them with libnet at release time, reading frames with libpcap (the
 *      record) and lab/earlyrx.c (the server's segments, without the
 *      capture ring's 1 ms block wait)
 *   3. one connection: output (segmentation, FIN), input (ACK, data, FIN,
 *      RST), timers (RTO, delayed ACK, persist, body pacing, TIME_WAIT)
 *   4. the public API and the event loop
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
 */
#include "lab/rawtcp.h"

#include <errno.h>
#include <libnet.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/decode.h"
#include "analyzer/seq.h"
#include "lab/addr.h"
#include "lab/earlyrx.h"
#include "lab/timerheap.h"
#include "lab/errmsg.h"

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

/* ------------------------------------------------------------------ */
/* 1. helpers                                                          */

uint64_t rawtcp_now_us(void)
{
	struct timespec ts;
	/* CLOCK_MONOTONIC cannot fail with a valid pointer; keep 0 if it did. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int rawtcp_realtime(int prio, char *err, size_t errlen)
{
	struct sched_param sp = { .sched_priority = prio };
	if (prio < 1 || prio > 99) {
		errmsg_set(err, errlen, "rawtcp_realtime: priority %d is not in 1..99", prio);
		return -1;
	}
	/* Locked first: a page fault in the loop would be a tail of its own. */
	if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
		errmsg_set(err, errlen, "rawtcp_realtime: mlockall: %s", strerror(errno));
		return -1;
	}
	if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) {
		errmsg_set(err, errlen, "rawtcp_realtime: SCHED_FIFO %d: %s", prio, strerror(errno));
		(void)munlockall();
		return -1;
	}
	return 0;
}

static uint64_t realtime_us(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* xorshift64*: ISNs and port starts need to differ between runs, not to
 * resist an attacker (the lab has none). */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* Connections and pending RSTs are found by (local address, port). */
static uint32_t lkey(uint16_t lidx, uint16_t port) { return (uint32_t)lidx << 16 | port; }

/* The last 32 bits of an address, as a number. */
static uint32_t tail32(int af, const uint8_t *b)
{
	const uint8_t *t = b + (af == 6 ? 12 : 0);
	return (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3];
}

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

static const uint32_t pkt_class_cap[3] = { 2048, 16384, 65536 };

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

struct rawtcp {
	bool offline;
	char iface[64];
	struct lladdr local, peer;       /* one family, 4 or 6 */
	uint16_t nlocal;                 /* local, local + 1, ... local + nlocal - 1 */
	uint32_t next_slot;              /* alloc_port's cursor over (address, port) */
	uint32_t rtt_us;
	uint16_t port_min, port_max, next_port;
	uint16_t peer_port;              /* target mode (config), 0: lab */
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

/* Which of our local addresses bytes is (0 = local_addr), or -1. */
static int local_index(const struct rawtcp *c, int af, const uint8_t *bytes)
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
static struct lladdr local_at(const struct rawtcp *c, uint16_t i)
{
	struct lladdr a = c->local;
	uint8_t *t = a.b + (a.af == 6 ? 12 : 0);
	uint32_t v = tail32(a.af, a.b) + i;
	t[0] = (uint8_t)(v >> 24); t[1] = (uint8_t)(v >> 16); t[2] = (uint8_t)(v >> 8); t[3] = (uint8_t)v;
	return a;
}

/* Take a packet buffer that holds len payload bytes, from the pool. */
static struct pkt *pkt_get(struct rawtcp *c, uint32_t len)
{
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

static void pkt_put(struct rawtcp *c, struct pkt *p)
{
	p->next_free = c->free_pkts[p->cls];
	c->free_pkts[p->cls] = p;
}

/* Hold p until when. A packet that cannot be queued is lost (counted). */
static void delay_push(struct rawtcp *c, struct pkt *p, uint64_t when)
{
	if (theap_set(&c->delayq, &p->node, when) != 0) {
		c->st.inject_errors++;
		pkt_put(c, p);
		return;
	}
	if (theap_len(&c->delayq) > c->st.delayq_peak)
		c->st.delayq_peak = (uint32_t)theap_len(&c->delayq);
}

static void push_event(struct rawtcp *c, enum rawtcp_event_type type, struct rawtcp_conn *k,
                       uint64_t now, uint64_t bytes, uint64_t cookie)
{
	struct rawtcp_event *e;
	if (c->ev_len >= c->max_events) {
		c->st.events_dropped++;
		return;
	}
	if (c->ev_len == c->ev_cap) {
		size_t ncap = c->ev_cap ? c->ev_cap * 2 : 256;
		struct rawtcp_event *nev;
		if (ncap > c->max_events)
			ncap = c->max_events;
		nev = malloc(ncap * sizeof *nev);
		if (!nev) {
			c->st.events_dropped++;
			return;
		}
		/* Unroll the ring into the new array. */
		for (size_t i = 0; i < c->ev_len; i++)
			nev[i] = c->ev[(c->ev_head + i) % c->ev_cap];
		free(c->ev);
		c->ev = nev;
		c->ev_cap = ncap;
		c->ev_head = 0;
	}
	e = &c->ev[(c->ev_head + c->ev_len) % c->ev_cap];
	memset(e, 0, sizeof *e);
	e->type = type;
	e->conn = k;
	e->user = k ? k->o.user : NULL;
	e->time_us = now;
	e->bytes = bytes;
	e->reason = k ? k->reason : RAWTCP_CLOSE_NONE;
	e->cookie = cookie;
	c->ev_len++;
}

/* ------------------------------------------------------------------ */
/* 2. the wire                                                         */

static uint32_t snd_seq(const struct rawtcp_conn *k, uint64_t rel) { return k->iss + 1 + (uint32_t)rel; }
static uint32_t rcv_seq(const struct rawtcp_conn *k, uint64_t rel) { return k->irs + 1 + (uint32_t)rel; }
static uint64_t full_ack(const struct rawtcp_conn *k) { return k->rx_received + (k->peer_fin ? 1 : 0); }
static uint32_t ts_now(const struct rawtcp_conn *k, uint64_t now) { return (uint32_t)(now / 1000u) + k->ts_off; }
static bool synchronized(const struct rawtcp_conn *k) { return k->state != RAWTCP_SYN_SENT && k->state != RAWTCP_CLOSED; }

/* Largest payload per segment: the smaller MSS, minus the option bytes
 * every segment carries (RFC 9293 3.7.1). */
static uint32_t eff_mss(const struct rawtcp_conn *k)
{
	uint32_t m = k->peer_mss < k->o.mss ? k->peer_mss : k->o.mss;
	if (k->ts_ok)
		m -= RT_TS_OPTLEN;
	return m;
}

/* Receive window we may offer now, in bytes (before scaling). */
static uint32_t window_now(const struct rawtcp_conn *k)
{
	uint64_t used = k->rx_received - k->rx_delivered;
	uint64_t space = k->o.rcvbuf_cap > used ? k->o.rcvbuf_cap - used : 0;
	return (uint32_t)min64(k->o.window, space);
}

/* The acknowledgment the ACK policy lets any segment carry now. */
static uint64_t ack_allowed(const struct rawtcp_conn *k)
{
	uint64_t full = full_ack(k);
	switch (k->o.ack.mode) {
	case RAWTCP_ACK_NOW:
	case RAWTCP_ACK_DELAYED:
		return full;
	case RAWTCP_ACK_NEVER:
		return k->ack_sent;
	case RAWTCP_ACK_UPTO:
		return max64(k->ack_sent, min64(full, k->o.ack.upto));
	}
	return k->ack_sent;
}

/* SYN options, in Linux's order: MSS, SACK-permitted + timestamps (or
 * NOPs), NOP + window scale. Returns the length (a multiple of 4). */
static uint8_t syn_options(const struct rawtcp_conn *k, uint32_t tsval, uint8_t *o)
{
	uint8_t n = 0;
	o[n++] = 2; o[n++] = 4;
	o[n++] = (uint8_t)(k->o.mss >> 8); o[n++] = (uint8_t)k->o.mss;
	if (k->o.sack_permitted && k->o.timestamps) {
		o[n++] = 4; o[n++] = 2;
	} else if (k->o.sack_permitted) {
		o[n++] = 1; o[n++] = 1; o[n++] = 4; o[n++] = 2;
	} else if (k->o.timestamps) {
		o[n++] = 1; o[n++] = 1;
	}
	if (k->o.timestamps) {
		o[n++] = 8; o[n++] = 10;
		o[n++] = (uint8_t)(tsval >> 24); o[n++] = (uint8_t)(tsval >> 16);
		o[n++] = (uint8_t)(tsval >> 8); o[n++] = (uint8_t)tsval;
		o[n++] = 0; o[n++] = 0; o[n++] = 0; o[n++] = 0;
	}
	if (k->o.wscale >= 0) {
		o[n++] = 1; o[n++] = 3; o[n++] = 3; o[n++] = (uint8_t)k->o.wscale;
	}
	return n;
}

/* ---- faults: loss and reordering on the client's side (rawtcp.h) ---- */

/* Count the segment (dir) and say which rule it meets, if any: the first
 * unused rule of dir whose number it is, or that waits for a FIN it
 * carries. Returns the rule's kind, 0 for none. */
static int fault_match(struct rawtcp_conn *k, int dir, uint8_t flags)
{
	uint32_t n = ++k->segs[dir];
	for (unsigned i = 0; i < k->o.n_faults && i < RAWTCP_MAX_FAULTS; i++) {
		const struct rawtcp_fault *f = &k->o.faults[i];
		if (f->dir != dir || (k->fault_used & (1u << i)))
			continue;
		if (f->fin ? (flags & LL_TH_FIN) != 0 : f->nth == n) {
			k->fault_used |= 1u << i;
			return f->kind;
		}
	}
	return 0;
}

/* An outbound segment leaves the client, to be injected at when: lost,
 * held back, or queued (then a held one goes right after it). */
static void out_segment(struct rawtcp_conn *k, struct pkt *p, uint64_t when)
{
	struct rawtcp *c = k->c;
	int f = fault_match(k, RAWTCP_DIR_OUT, p->u.o.flags);
	if (f == RAWTCP_FAULT_DROP) {
		k->dropped[RAWTCP_DIR_OUT]++;
		pkt_put(c, p);
		return;
	}
	if (f == RAWTCP_FAULT_REORDER && !k->held[RAWTCP_DIR_OUT]) {
		k->reordered[RAWTCP_DIR_OUT]++;
		k->held[RAWTCP_DIR_OUT] = p;
		return;
	}
	delay_push(c, p, when);
	struct pkt *h = k->held[RAWTCP_DIR_OUT];
	if (h) {
		k->held[RAWTCP_DIR_OUT] = NULL;
		delay_push(c, h, when + 1);
	}
}

static void conn_input(struct rawtcp_conn *k, const struct dec_tcp *d, uint64_t now);

/* An inbound segment reaches the client at its release time: lost, held
 * back, or processed (then a held one right after it). Returns true when
 * it kept p (the caller must not free it). */
static bool in_segment(struct rawtcp_conn *k, struct pkt *p)
{
	struct rawtcp *c = k->c;
	int f = fault_match(k, RAWTCP_DIR_IN, p->u.in.flags);
	if (f == RAWTCP_FAULT_DROP) {
		k->dropped[RAWTCP_DIR_IN]++;
		return false;
	}
	if (f == RAWTCP_FAULT_REORDER && !k->held[RAWTCP_DIR_IN]) {
		k->reordered[RAWTCP_DIR_IN]++;
		k->held[RAWTCP_DIR_IN] = p;
		return true;
	}
	conn_input(k, &p->u.in, p->node.when);
	struct pkt *h = k->held[RAWTCP_DIR_IN];
	if (h) {
		k->held[RAWTCP_DIR_IN] = NULL;
		if (k->state != RAWTCP_CLOSED)
			conn_input(k, &h->u.in, p->node.when);
		pkt_put(c, h);
	}
	return false;
}

/*
 * Make one segment and hold it for rtt/2. seq is the raw sequence number;
 * flags LL_TH_*; ACK segments carry the acknowledgment the policy allows
 * (and record it as sent). Returns 0, or -1 when the pool is exhausted
 * (the segment is lost, as on a congested wire, and counted).
 */
static int emit(struct rawtcp_conn *k, uint64_t now, uint32_t seq, uint8_t flags,
                const uint8_t *payload, uint32_t len)
{
	struct rawtcp *c = k->c;
	struct pkt *p;
	struct seg_out *s;
	uint32_t win;

	if (k->silent)
		return 0;
	p = pkt_get(c, len);
	if (!p) {
		c->st.inject_errors++;
		return -1;
	}
	p->dir = PKT_OUT;
	s = &p->u.o;
	memset(s, 0, offsetof(struct seg_out, opt));
	s->sport = k->lport;
	s->lidx = k->lidx;
	s->dport = k->o.dport;
	s->seq = seq;
	s->flags = flags;
	s->len = len;
	if (len)
		memcpy(p->data, payload, len);

	win = window_now(k);
	if (flags & LL_TH_SYN) {
		/* RFC 7323 2.2: the SYN's window is never scaled. */
		s->win = (uint16_t)min64(win, 65535);
		k->adv_window = s->win;
		s->optlen = syn_options(k, ts_now(k, now), s->opt);
	} else {
		uint32_t field = (uint32_t)min64(win >> k->rcv_wscale, 65535);
		s->win = (uint16_t)field;
		k->adv_window = field << k->rcv_wscale;
		if (k->ts_ok) {
			uint32_t v = ts_now(k, now), e = k->ts_recent;
			uint8_t *o = s->opt;
			o[0] = 1; o[1] = 1; o[2] = 8; o[3] = 10;
			o[4] = (uint8_t)(v >> 24); o[5] = (uint8_t)(v >> 16); o[6] = (uint8_t)(v >> 8); o[7] = (uint8_t)v;
			o[8] = (uint8_t)(e >> 24); o[9] = (uint8_t)(e >> 16); o[10] = (uint8_t)(e >> 8); o[11] = (uint8_t)e;
			s->optlen = RT_TS_OPTLEN;
		}
	}
	if (flags & LL_TH_ACK) {
		uint64_t a = ack_allowed(k);
		s->ack = rcv_seq(k, a);
		if (k->rst_ack_adjust)
			s->ack += (uint32_t)k->rst_ack_off;
		k->ack_sent = a;
		if (a >= full_ack(k))
			k->dack_at = 0;
		if (k->peer_fin && a > k->rx_received)
			k->peer_fin_acked = true;
	}
	if (!(flags & LL_TH_SYN))
		k->rx_edge = max64(k->rx_edge, k->rx_received + k->adv_window);
	out_segment(k, p, now + k->half_us);
	return 0;
}

/* A segment with no data: an ACK (also a window update or a dup ACK). */
static void send_ack(struct rawtcp_conn *k, uint64_t now)
{
	uint64_t rel = k->tx_nxt + (k->fin_in_pass ? 1 : 0);
	emit(k, now, snd_seq(k, rel), LL_TH_ACK, NULL, 0);
}

/* Build the held segment with libnet and inject it (or, offline, hand the
 * bytes to the out hook). */
static void inject(struct rawtcp *c, struct pkt *p)
{
	struct seg_out *s = &p->u.o;
	libnet_t *l = c->ln;
	uint32_t tcplen = LIBNET_TCP_H + s->optlen + s->len;
	struct lladdr from = local_at(c, s->lidx);
	uint32_t key = lkey(s->lidx, s->sport);

	libnet_clear_packet(l);
	if (s->optlen && libnet_build_tcp_options(s->opt, s->optlen, l, 0) == -1)
		goto fail;
	if (libnet_build_tcp(s->sport, s->dport, s->seq, s->ack, s->flags, s->win, 0, 0,
	                     tcplen, s->len ? p->data : NULL, s->len, l, 0) == -1)
		goto fail;
	if (c->local.af == 6) {
		/* RFC 8200 3: payload length excludes the 40-byte header; no
		 * extension headers, so the TCP checksum libnet fills in covers
		 * the RFC 8200 8.1 pseudo-header (addresses, length, 6). */
		struct libnet_in6_addr src, dst;
		memcpy(src.libnet_s6_addr, from.b, 16);
		memcpy(dst.libnet_s6_addr, c->peer.b, 16);
		if (libnet_build_ipv6(0, 0, (uint16_t)tcplen, IPPROTO_TCP, 64, src, dst,
		                      NULL, 0, l, 0) == -1)
			goto fail;
	} else {
		uint32_t src, dst;
		memcpy(&src, from.b, 4);
		memcpy(&dst, c->peer.b, 4);
		if (libnet_build_ipv4(LIBNET_IPV4_H + tcplen, 0, c->ip_id++, IP_DF, 64, IPPROTO_TCP, 0,
		                      src, dst, NULL, 0, l, 0) == -1)
			goto fail;
	}
	if (s->flags & LL_TH_RST) {
		/* Before the write: the capture will see it as ours, not a leak. */
		if (c->rst_pending[key] < UINT8_MAX)
			c->rst_pending[key]++;
	}
	if (c->offline) {
		uint8_t *bytes = NULL;
		uint32_t n = 0;
		if (libnet_pblock_coalesce(l, &bytes, &n) == -1)
			goto fail;
		if (c->out)
			c->out(c->out_arg, bytes, n);
		libnet_adv_free_packet(l, bytes);
	} else if (libnet_write(l) == -1) {
		goto fail;
	}
	c->st.packets_out++;
	c->inject_fail_run = 0;
	libnet_clear_packet(l);
	return;
fail:
	if ((s->flags & LL_TH_RST) && c->rst_pending[key] > 0)
		c->rst_pending[key]--;
	c->st.inject_errors++;
	c->inject_fail_run++;
	snprintf(c->inject_err, sizeof c->inject_err, "%s", libnet_geterror(l));
	libnet_clear_packet(l);
}

/* Hold an inbound segment for the connection's rtt/2 (less what it already
 * waited in the capture buffer). */
static void queue_inbound(struct rawtcp *c, const struct dec_tcp *d, uint64_t now, uint64_t lag)
{
	int li = local_index(c, d->af, d->dst);
	struct rawtcp_conn *k = li >= 0 ? c->ports[lkey((uint16_t)li, d->dport)] : NULL;
	uint64_t half = k ? k->half_us : c->rtt_us / 2;
	struct pkt *p = pkt_get(c, d->payload_caplen);
	if (!p) {
		/* Out of memory: lost, as on a congested wire; the server will
		 * retransmit. Counted with the frames we could not use. */
		c->st.frames_undecoded++;
		return;
	}
	p->dir = PKT_IN;
	p->u.in = *d;
	if (d->payload_caplen)
		memcpy(p->data, d->payload, d->payload_caplen);
	p->u.in.payload = d->payload_caplen ? p->data : NULL;
	delay_push(c, p, now + (half > lag ? half - lag : 0));
}

/* Target mode: the frame belongs to local:[port_min, port_max] <->
 * peer:peer_port. On loopback local == peer, so the ports, not the
 * addresses, tell the directions apart. */
static bool target_frame(const struct rawtcp *c, const struct dec_tcp *d)
{
	if (lladdr_is(&c->local, d->af, d->src) && lladdr_is(&c->peer, d->af, d->dst) &&
	    d->sport >= c->port_min && d->sport <= c->port_max && d->dport == c->peer_port)
		return true;
	return lladdr_is(&c->peer, d->af, d->src) && lladdr_is(&c->local, d->af, d->dst) &&
	       d->sport == c->peer_port && d->dport >= c->port_min && d->dport <= c->port_max;
}

struct frame_ctx {
	struct rawtcp *c;
	uint64_t now, real;
};

/* Classify one captured frame: the server's segments to us are held and
 * then processed; our own RSTs are ticked off; any other RST from the
 * client side is a kernel's. */
static void on_frame(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct frame_ctx *fx = (struct frame_ctx *)(void *)arg;
	struct rawtcp *c = fx->c;
	struct dec_tcp d;
	enum dec_result r;

	c->st.frames_seen++;
	if (c->dumper) {
		pcap_dump((u_char *)c->dumper, h, bytes);
		c->st.frames_dumped++;
		/* stdio keeps the error: one flag test per frame */
		if (!c->st.dump_errno && ferror(pcap_dump_file(c->dumper)))
			c->st.dump_errno = errno ? errno : EIO;
	}
	r = dec_packet(c->dlt, bytes, h->caplen, h->len, &d, NULL);
	if (r != DEC_OK || d.af != c->local.af) {
		c->st.frames_undecoded++;
		return;
	}
	if (c->peer_port && !target_frame(c, &d)) {
		/* not our conversation (the BPF filter should have kept it
		 * out): neither processed nor counted */
		c->st.frames_undecoded++;
		return;
	}
	if (lladdr_is(&c->peer, d.af, d.src) && local_index(c, d.af, d.dst) >= 0 &&
	    (!c->peer_port || d.sport == c->peer_port)) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		uint64_t lag = fx->real > ts ? fx->real - ts : 0;
		if (c->early_fd >= 0)
			return; /* the early receiver fed it to the TCP already */
		if (d.payload_caplen < d.seg_len) {
			c->st.frames_undecoded++;
			return;
		}
		queue_inbound(c, &d, fx->now, lag);
	} else if (local_index(c, d.af, d.src) >= 0) {
		if (d.flags & LL_TH_RST) {
			uint32_t key = lkey((uint16_t)local_index(c, d.af, d.src), d.sport);
			if (c->rst_pending[key] > 0)
				c->rst_pending[key]--;
			else
				c->st.leaked_rsts++;
		}
	} else if (lladdr_is(&c->peer, d.af, d.dst) && (d.flags & LL_TH_RST)) {
		c->st.client_kernel_rsts++;
	}
}

/* ------------------------------------------------------------------ */
/* 3. one connection                                                   */

static void conn_rearm(struct rawtcp_conn *k)
{
	uint64_t when = 0;
	uint64_t t[5] = { k->rto_at, k->dack_at, k->persist_at, k->gen_at, k->tw_at };
	for (int i = 0; i < 5; i++)
		if (t[i] && (!when || t[i] < when))
			when = t[i];
	if (!when) {
		theap_remove(&k->c->timers, &k->tnode);
		return;
	}
	if (theap_linked(&k->tnode) && k->tnode.when == when)
		return;
	/* The node was linked once at connect, so the array has room. */
	(void)theap_set(&k->c->timers, &k->tnode, when);
}

static void conn_close(struct rawtcp_conn *k, enum rawtcp_close_reason why, uint64_t now)
{
	struct rawtcp *c = k->c;
	if (k->state == RAWTCP_CLOSED)
		return;
	k->state = RAWTCP_CLOSED;
	k->reason = why;
	k->t_closed = now;
	if (k->held[RAWTCP_DIR_OUT]) {
		/* reorder: nothing came after it; it goes now */
		delay_push(c, k->held[RAWTCP_DIR_OUT], now + k->half_us);
		k->held[RAWTCP_DIR_OUT] = NULL;
	}
	k->rto_at = k->dack_at = k->persist_at = k->gen_at = k->tw_at = 0;
	k->gen_on = false;
	theap_remove(&c->timers, &k->tnode);
	if (c->ports[lkey(k->lidx, k->lport)] == k)
		c->ports[lkey(k->lidx, k->lport)] = NULL;
	c->st.conns_live--;
	/* The send buffer is of no more use; the receive buffer stays for
	 * rawtcp_peek. */
	free(k->sb);
	k->sb = NULL;
	k->sb_alloc = k->sb_head = 0;
	push_event(c, RAWTCP_EV_CLOSED, k, now, k->rx_received, 0);
}

/* Append n bytes (pattern bytes when data is NULL, numbered from pat_off)
 * to the send buffer; the caller checked the cap. Returns -1 on ENOMEM. */
static int sb_append(struct rawtcp_conn *k, const uint8_t *data, size_t n, uint64_t pat_off)
{
	size_t used = (size_t)(k->tx_end - k->tx_una);
	if (k->sb_head + used + n > k->sb_alloc) {
		if (used + n <= k->sb_alloc && k->sb_head > 0) {
			memmove(k->sb, k->sb + k->sb_head, used);
			k->sb_head = 0;
		} else {
			size_t na = k->sb_alloc ? k->sb_alloc : 4096;
			uint8_t *nb;
			while (na < used + n)
				na *= 2;
			if (na > k->o.sndbuf_cap)
				na = k->o.sndbuf_cap;
			nb = malloc(na);
			if (!nb)
				return -1;
			if (used)
				memcpy(nb, k->sb + k->sb_head, used);
			free(k->sb);
			k->sb = nb;
			k->sb_alloc = na;
			k->sb_head = 0;
		}
	}
	if (data) {
		memcpy(k->sb + k->sb_head + used, data, n);
	} else {
		/* The body pattern: printable, and its offset is readable from
		 * any captured byte ("abc...z" repeating from body byte 0). */
		uint8_t *dst = k->sb + k->sb_head + used;
		for (size_t i = 0; i < n; i++)
			dst[i] = (uint8_t)('a' + (pat_off + i) % 26);
	}
	k->tx_end += n;
	return 0;
}

/* Forget acknowledged bytes at the head of the send buffer. */
static void sb_drop(struct rawtcp_conn *k, uint64_t n)
{
	/* Called before tx_una moves: an emptied buffer restarts at 0. */
	if (k->tx_end - k->tx_una == n)
		k->sb_head = 0;
	else
		k->sb_head += (size_t)n;
}

static const uint8_t *sb_at(const struct rawtcp_conn *k, uint64_t rel)
{
	return k->sb + k->sb_head + (size_t)(rel - k->tx_una);
}

static bool outstanding(const struct rawtcp_conn *k)
{
	return k->tx_una < k->tx_max || (k->fin_sent && !k->fin_acked);
}

static void gen_step(struct rawtcp_conn *k, uint64_t now);

/*
 * Send what the peer's window allows (no Nagle), then the FIN if it is due;
 * keep the RTO and persist timers right. RFC 9293 3.8.6.2 (segmentation).
 */
static void conn_output(struct rawtcp_conn *k, uint64_t now)
{
	uint32_t mss;
	if (k->silent || !synchronized(k))
		return;
	mss = eff_mss(k);
	if (k->after_rst) {
		/* The peer is gone; a client that has not noticed keeps
		 * writing. Nothing will be ACKed, so nothing is kept. */
		while (k->tx_nxt < k->tx_end) {
			uint32_t len = (uint32_t)min64(k->tx_end - k->tx_nxt, mss);
			emit(k, now, snd_seq(k, k->tx_nxt), LL_TH_ACK | LL_TH_PSH, sb_at(k, k->tx_nxt), len);
			k->tx_nxt += len;
			k->tx_max = max64(k->tx_max, k->tx_nxt);
			sb_drop(k, len);
			k->tx_una = k->tx_nxt;
		}
		if (!k->gen_on)
			conn_close(k, RAWTCP_CLOSE_RESET, now);
		return;
	}
	while (k->tx_nxt < k->tx_end) {
		uint64_t in_flight = k->tx_nxt - k->tx_una;
		uint64_t room = k->snd_wnd > in_flight ? k->snd_wnd - in_flight : 0;
		uint32_t len;
		uint8_t flags = LL_TH_ACK;
		if (room == 0)
			break;
		len = (uint32_t)min64(min64(k->tx_end - k->tx_nxt, mss), room);
		if (k->tx_nxt + len == k->tx_end)
			flags |= LL_TH_PSH;
		if (k->tx_nxt == k->tx_max && !k->timing) {
			k->timing = true;
			k->timed_end = k->tx_nxt + len;
			k->timed_at = now;
		}
		emit(k, now, snd_seq(k, k->tx_nxt), flags, sb_at(k, k->tx_nxt), len);
		k->tx_nxt += len;
		k->tx_max = max64(k->tx_max, k->tx_nxt);
	}
	if (k->fin_queued && !k->gen_on && k->tx_nxt == k->tx_end && !k->fin_in_pass) {
		emit(k, now, snd_seq(k, k->tx_end), LL_TH_FIN | LL_TH_ACK, NULL, 0);
		k->fin_in_pass = true;
		if (!k->fin_sent) {
			k->fin_sent = true;
			/* RFC 9293 3.10.4 CLOSE: ESTABLISHED -> FIN-WAIT-1,
			 * CLOSE-WAIT -> LAST-ACK. */
			if (k->state == RAWTCP_ESTABLISHED)
				k->state = RAWTCP_FIN_WAIT_1;
			else if (k->state == RAWTCP_CLOSE_WAIT)
				k->state = RAWTCP_LAST_ACK;
		}
	}
	if (outstanding(k)) {
		if (!k->rto_at)
			k->rto_at = now + k->rto_us;
	} else {
		k->rto_at = 0;
	}
	/* RFC 9293 3.8.6.1: probe a zero window. */
	if (k->tx_nxt < k->tx_end && k->snd_wnd == 0 && !outstanding(k)) {
		if (!k->persist_at)
			k->persist_at = now + ((uint64_t)k->rto_us << k->persist_shift);
	} else {
		k->persist_at = 0;
		k->persist_shift = 0;
	}
	conn_rearm(k);
}

/* RFC 6298 (2.2), (2.3): fold one RTT sample into SRTT / RTTVAR / RTO. */
static void rtt_sample(struct rawtcp_conn *k, uint64_t r)
{
	uint64_t rto;
	if (r == 0)
		r = 1;
	if (k->srtt_us == 0) {
		k->srtt_us = (uint32_t)min64(r, UINT32_MAX);
		k->rttvar_us = k->srtt_us / 2;
	} else {
		uint64_t diff = k->srtt_us > r ? k->srtt_us - r : r - k->srtt_us;
		k->rttvar_us = (uint32_t)((3 * (uint64_t)k->rttvar_us + diff) / 4);
		k->srtt_us = (uint32_t)((7 * (uint64_t)k->srtt_us + r) / 8);
	}
	rto = (uint64_t)k->srtt_us + max64(1000, 4 * (uint64_t)k->rttvar_us);
	rto = max64(rto, k->o.rto_min_us);
	k->rto_us = (uint32_t)min64(rto, RT_MAX_RTO_US);
}

/* What the ACK policy says to do after in-order data or a FIN arrived
 * (dup: something odd arrived, answer at once unless ACKs are off). */
static void ack_after_input(struct rawtcp_conn *k, uint64_t now, bool dup)
{
	uint64_t full = full_ack(k);
	switch (k->o.ack.mode) {
	case RAWTCP_ACK_NOW:
		if (dup || full > k->ack_sent)
			send_ack(k, now);
		break;
	case RAWTCP_ACK_DELAYED:
		if (dup)
			send_ack(k, now);
		else if (full > k->ack_sent && !k->dack_at)
			k->dack_at = now + k->o.ack.delay_us;
		break;
	case RAWTCP_ACK_NEVER:
		break;
	case RAWTCP_ACK_UPTO:
		if (dup || min64(full, k->o.ack.upto) > k->ack_sent)
			send_ack(k, now);
		break;
	}
	conn_rearm(k);
}

static void handle_rst(struct rawtcp_conn *k, const struct dec_tcp *d, uint64_t now)
{
	k->rsts_received++;
	if (k->state == RAWTCP_SYN_SENT) {
		/* RFC 9293 3.10.7.3: acceptable if it ACKs our SYN. */
		if ((d->flags & LL_TH_ACK) && d->ack == k->iss + 1) {
			k->peer_rst = true;
			k->rst_seq = d->seq;
			k->t_peer_rst = now;
			push_event(k->c, RAWTCP_EV_PEER_RST, k, now, 0, 0);
			conn_close(k, RAWTCP_CLOSE_RESET, now);
		}
		return;
	}
	/*
	 * Lenient acceptance (RFC 5961 challenge ACKs are not modelled): any
	 * seq from the last ACK we sent to the right edge of our window. A
	 * server kernel's RST carries either its snd_nxt or the ACK of the
	 * segment that provoked it, and both fall in there.
	 */
	{
		uint32_t lo = rcv_seq(k, k->ack_sent);
		uint32_t hi = rcv_seq(k, full_ack(k)) + (uint32_t)max64(k->adv_window, 1);
		if (seq_before(d->seq, lo) || seq_after(d->seq, hi))
			return;
	}
	if (!k->peer_rst) {
		k->peer_rst = true;
		k->rst_seq = d->seq;
		k->rst_rel_seq = (uint64_t)(uint32_t)(d->seq - (k->irs + 1));
		k->rst_rx_received = k->rx_received;
		k->rst_rx_delivered = k->rx_delivered;
		k->rst_unacked = k->rx_received - min64(k->ack_sent, k->rx_received);
		k->t_peer_rst = now;
		push_event(k->c, RAWTCP_EV_PEER_RST, k, now, k->rx_received, 0);
	} else if (k->after_rst) {
		push_event(k->c, RAWTCP_EV_PEER_RST, k, now, k->rx_received, 0);
		return;
	}
	if (k->silent) {
		conn_close(k, RAWTCP_CLOSE_SILENT, now);
		return;
	}
	if (k->o.send_after_rst && (k->tx_nxt < k->tx_end || k->gen_on)) {
		k->after_rst = true;
		k->rto_at = k->dack_at = k->persist_at = k->tw_at = 0;
		/* What was in flight is gone; stream on from snd_nxt. */
		sb_drop(k, k->tx_nxt - k->tx_una);
		k->tx_una = k->tx_nxt;
		conn_rearm(k);
		return;
	}
	conn_close(k, RAWTCP_CLOSE_RESET, now);
}

/* SYN-SENT: the SYN-ACK. RFC 9293 3.10.7.3. */
static void synsent_input(struct rawtcp_conn *k, const struct dec_tcp *d, uint64_t now)
{
	if (!(d->flags & LL_TH_SYN) || !(d->flags & LL_TH_ACK) || d->ack != k->iss + 1)
		return;
	k->irs = d->seq;
	k->peer_mss = d->mss ? d->mss : RT_MSS_PEER_DEFAULT(k->c->local.af);
	if (k->peer_mss > RT_MAX_MSS)
		k->peer_mss = RT_MAX_MSS;
	if (k->peer_mss < RT_MIN_MSS)
		k->peer_mss = RT_MIN_MSS;
	k->peer_wscale = d->wscale;
	if (d->wscale >= 0 && k->o.wscale >= 0) {
		/* RFC 7323 2.3: shifts above 14 are taken as 14. */
		k->snd_wscale = (uint8_t)(d->wscale > 14 ? 14 : d->wscale);
		k->rcv_wscale = (uint8_t)k->o.wscale;
	}
	k->ts_ok = k->o.timestamps && d->has_ts;
	if (k->ts_ok)
		k->ts_recent = d->ts_val;
	k->sack_ok = k->o.sack_permitted && d->sack_permitted;
	k->snd_wnd = d->win; /* never scaled in a SYN */
	k->state = RAWTCP_ESTABLISHED;
	k->t_established = now;
	k->retries = 0;
	if (!k->syn_retx)
		rtt_sample(k, now - k->t_connect);
	k->rto_at = 0;
	/* The handshake's ACK is sent whatever the ACK policy: it is not a
	 * data ACK, and without it there is no connection to study. */
	{
		enum rawtcp_ack_mode m = k->o.ack.mode;
		k->o.ack.mode = RAWTCP_ACK_NOW;
		send_ack(k, now);
		k->o.ack.mode = m;
	}
	push_event(k->c, RAWTCP_EV_CONNECTED, k, now, 0, 0);
	conn_output(k, now);
}

static void process_ack(struct rawtcp_conn *k, const struct dec_tcp *d, uint64_t now)
{
	uint32_t una_w = snd_seq(k, k->tx_una);
	uint64_t max_rel = k->tx_max + (k->fin_sent ? 1 : 0);
	uint64_t adv;
	bool progress = false, fin_now = false;

	if (seq_before(d->ack, una_w))
		return; /* old: neither progress nor a fresh window */
	adv = (uint32_t)(d->ack - una_w);
	if (adv > max_rel - k->tx_una)
		return; /* ACKs something never sent: ignore (RFC 9293 3.10.7.4) */
	if (adv > 0) {
		uint64_t new_una = k->tx_una + adv;
		if (k->fin_sent && new_una == k->tx_end + 1) {
			fin_now = !k->fin_acked;
			new_una = k->tx_end;
		}
		if (new_una > k->tx_una) {
			sb_drop(k, new_una - k->tx_una);
			k->tx_una = new_una;
			if (k->tx_una == k->tx_end && !k->gen_on) {
				/* Idle connections keep no send buffer. */
				free(k->sb);
				k->sb = NULL;
				k->sb_alloc = k->sb_head = 0;
			}
			if (k->tx_nxt < k->tx_una)
				k->tx_nxt = k->tx_una;
			progress = true;
		}
		if (fin_now) {
			k->fin_acked = true;
			progress = true;
		}
	}
	k->snd_wnd = (uint32_t)min64((uint64_t)d->win << k->snd_wscale, UINT32_MAX);
	if (!progress)
		return;
	k->retries = 0;
	if (k->timing && k->tx_una >= k->timed_end) {
		k->timing = false;
		rtt_sample(k, now - k->timed_at);
	}
	k->rto_at = outstanding(k) ? now + k->rto_us : 0;
	if (fin_now) {
		switch (k->state) {
		case RAWTCP_FIN_WAIT_1: /* RFC 9293 3.10.7.4: our FIN is ACKed */
			k->state = RAWTCP_FIN_WAIT_2;
			break;
		case RAWTCP_CLOSING:    /* ... enter TIME-WAIT */
			k->state = RAWTCP_TIME_WAIT;
			k->tw_at = now + k->o.time_wait_us;
			break;
		case RAWTCP_LAST_ACK:   /* ... the connection is over */
			conn_close(k, RAWTCP_CLOSE_NORMAL, now);
			return;
		default:
			break;
		}
	}
	if (k->tx_una == k->tx_end && (!k->fin_sent || k->fin_acked))
		push_event(k->c, RAWTCP_EV_ALL_ACKED, k, now, k->tx_una, 0);
	if (k->gen_on && !k->gen_at)
		k->gen_at = now; /* a blocked generator has room again */
	conn_rearm(k);
}

static int rb_append(struct rawtcp_conn *k, const uint8_t *data, size_t n)
{
	size_t used = (size_t)(k->rx_received - k->rx_delivered);
	if (k->rb_head + used + n > k->rb_alloc) {
		if (used + n <= k->rb_alloc && k->rb_head > 0) {
			memmove(k->rb, k->rb + k->rb_head, used);
			k->rb_head = 0;
		} else {
			size_t na = k->rb_alloc ? k->rb_alloc : 4096;
			uint8_t *nb;
			while (na < used + n)
				na *= 2;
			if (na > k->o.rcvbuf_cap)
				na = k->o.rcvbuf_cap;
			nb = malloc(na);
			if (!nb)
				return -1;
			if (used)
				memcpy(nb, k->rb + k->rb_head, used);
			free(k->rb);
			k->rb = nb;
			k->rb_alloc = na;
			k->rb_head = 0;
		}
	}
	memcpy(k->rb + k->rb_head + used, data, n);
	return 0;
}

/* The peer's FIN arrived in order. RFC 9293 3.10.7.4, eighth step. */
static void peer_fin_arrived(struct rawtcp_conn *k, uint64_t now)
{
	k->peer_fin = true;
	k->peer_fin_at = k->rx_received;
	k->t_peer_fin = now;
	switch (k->state) {
	case RAWTCP_ESTABLISHED:
		k->state = RAWTCP_CLOSE_WAIT;
		break;
	case RAWTCP_FIN_WAIT_1:
		k->state = k->fin_acked ? RAWTCP_TIME_WAIT : RAWTCP_CLOSING;
		break;
	case RAWTCP_FIN_WAIT_2:
		k->state = RAWTCP_TIME_WAIT;
		break;
	default:
		break;
	}
	if (k->state == RAWTCP_TIME_WAIT)
		k->tw_at = now + k->o.time_wait_us;
	push_event(k->c, RAWTCP_EV_PEER_FIN, k, now, k->rx_received, 0);
	if (k->o.stop_on_peer_fin) {
		/* The application noticed: no more body, unsent bytes dropped. */
		k->gen_on = false;
		k->gen_at = 0;
		if (k->tx_end > k->tx_max)
			k->tx_end = k->tx_max;
		if (k->tx_nxt > k->tx_end)
			k->tx_nxt = k->tx_end;
	}
}

/* Data and FIN of an ESTABLISHED-or-later segment; in order only. */
static void process_data(struct rawtcp_conn *k, const struct dec_tcp *d, uint64_t now)
{
	uint32_t len = d->seg_len;
	bool fin = (d->flags & LL_TH_FIN) != 0;
	uint32_t nxt = rcv_seq(k, k->rx_received);
	int32_t off;
	uint32_t skip, fresh, take;
	uint64_t room_wnd, room_buf;
	bool trimmed = false;

	if (len == 0 && !fin)
		return;
	if (k->peer_fin) {
		/* A retransmission of what we already have (the FIN, say):
		 * our ACK was lost or withheld. Answer as the policy allows;
		 * TIME-WAIT restarts (RFC 9293 3.10.7.4). */
		if (k->state == RAWTCP_TIME_WAIT)
			k->tw_at = now + k->o.time_wait_us;
		ack_after_input(k, now, true);
		return;
	}
	off = (int32_t)(d->seq - nxt);
	if (off > 0) {
		/* Out of order: dropped, the server will retransmit. */
		k->rx_dropped_ooo++;
		ack_after_input(k, now, true);
		return;
	}
	skip = (uint32_t)(-(int64_t)off);
	if (skip > len || (skip == len && !fin)) {
		ack_after_input(k, now, true); /* a pure duplicate */
		return;
	}
	fresh = len - skip;
	room_wnd = k->rx_edge > k->rx_received ? k->rx_edge - k->rx_received : 0;
	{
		uint64_t used = k->rx_received - k->rx_delivered;
		room_buf = k->o.rcvbuf_cap > used ? k->o.rcvbuf_cap - used : 0;
	}
	take = (uint32_t)min64(fresh, min64(room_wnd, room_buf));
	if (take < fresh)
		trimmed = true; /* beyond our window: the rest is dropped */
	if (take > 0) {
		if (rb_append(k, d->payload + skip, take) != 0) {
			take = 0;
			trimmed = true;
		} else {
			k->rx_received += take;
			push_event(k->c, RAWTCP_EV_DATA, k, now, take, 0);
		}
	}
	if (fin && !trimmed)
		peer_fin_arrived(k, now);
	ack_after_input(k, now, trimmed);
}

static void conn_input(struct rawtcp_conn *k, const struct dec_tcp *d, uint64_t now)
{
	k->c->st.packets_in++;
	if (d->flags & LL_TH_RST) {
		handle_rst(k, d, now);
		return;
	}
	if (k->after_rst)
		return;
	if (k->state == RAWTCP_SYN_SENT) {
		synsent_input(k, d, now);
		return;
	}
	if (d->flags & LL_TH_SYN) {
		/* A repeated SYN-ACK: our handshake ACK is late or lost. */
		if (d->seq == k->irs)
			send_ack(k, now);
		return;
	}
	if (!(d->flags & LL_TH_ACK))
		return; /* RFC 9293 3.10.7.4: no ACK bit, drop */
	if (k->ts_ok && d->has_ts && seq_leq(d->seq, rcv_seq(k, full_ack(k))))
		k->ts_recent = d->ts_val;
	process_ack(k, d, now);
	if (k->state == RAWTCP_CLOSED)
		return;
	process_data(k, d, now);
	if (k->state == RAWTCP_CLOSED)
		return;
	conn_output(k, now);
}

/* Write body chunks while the pace and the send buffer allow. */
static void gen_step(struct rawtcp_conn *k, uint64_t now)
{
	k->gen_at = 0;
	while (k->gen_on && k->gen_done < k->gen_total) {
		uint64_t n = min64(k->gen_chunk, k->gen_total - k->gen_done);
		uint64_t used = k->tx_end - k->tx_una;
		uint64_t space = k->o.sndbuf_cap > used ? k->o.sndbuf_cap - used : 0;
		if (k->gen_rate) {
			uint64_t due = k->gen_start + k->gen_done / k->gen_rate * 1000000u +
			               (k->gen_done % k->gen_rate) * 1000000u / k->gen_rate;
			if (due > now) {
				k->gen_at = due;
				break;
			}
		}
		if (space == 0)
			break; /* blocked: process_ack restarts us */
		n = min64(n, space);
		if (sb_append(k, NULL, (size_t)n, k->gen_done) != 0)
			break;
		k->gen_done += n;
	}
	if (k->gen_on && k->gen_done == k->gen_total) {
		k->gen_on = false;
		push_event(k->c, RAWTCP_EV_BODY_DONE, k, now, k->gen_total, 0);
	}
	conn_output(k, now);
	/* After a RST nothing is ACKed: output empties the buffer itself, so a
	 * generator that ran out of room goes on at once. */
	if (k->gen_on && !k->gen_at && k->after_rst && k->state != RAWTCP_CLOSED)
		k->gen_at = now;
	conn_rearm(k);
}

static void send_syn(struct rawtcp_conn *k, uint64_t now)
{
	emit(k, now, k->iss, LL_TH_SYN, NULL, 0);
}

static void conn_timers(struct rawtcp_conn *k, uint64_t now)
{
	if (k->state == RAWTCP_CLOSED)
		return;
	if (k->tw_at && k->tw_at <= now) {
		k->tw_at = 0;
		conn_close(k, RAWTCP_CLOSE_NORMAL, now);
		return;
	}
	if (k->rto_at && k->rto_at <= now) {
		k->rto_at = 0;
		if (k->retries >= k->o.max_retries) {
			conn_close(k, RAWTCP_CLOSE_TIMEOUT, now);
			return;
		}
		k->retries++;
		k->retransmits++;
		k->rto_us = (uint32_t)min64((uint64_t)k->rto_us * 2, RT_MAX_RTO_US);
		k->timing = false;
		if (k->state == RAWTCP_SYN_SENT) {
			k->syn_retx = true;
			send_syn(k, now);
			k->rto_at = now + k->rto_us;
		} else {
			/* Go back N: resend from the oldest unacknowledged byte. */
			k->tx_nxt = k->tx_una;
			k->fin_in_pass = false;
			k->rto_at = now + k->rto_us;
			conn_output(k, now);
		}
	}
	if (k->state == RAWTCP_CLOSED)
		return;
	if (k->dack_at && k->dack_at <= now) {
		k->dack_at = 0;
		send_ack(k, now);
	}
	if (k->persist_at && k->persist_at <= now) {
		/* A window probe that carries no data (seq one below snd_una,
		 * as Linux does): the peer answers with its current window. */
		k->persist_at = 0;
		emit(k, now, snd_seq(k, k->tx_una) - 1, LL_TH_ACK, NULL, 0);
		if (k->persist_shift < 6)
			k->persist_shift++;
		k->persist_at = now + min64((uint64_t)k->rto_us << k->persist_shift, RT_MAX_RTO_US);
	}
	if (k->gen_at && k->gen_at <= now)
		gen_step(k, now);
	if (k->state != RAWTCP_CLOSED)
		conn_rearm(k);
}

/* ------------------------------------------------------------------ */
/* 4. public API                                                       */

void rawtcp_config_init(struct rawtcp_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->port_min = 20000;
	cfg->port_max = 60999;
	cfg->max_conns = 60000;
	cfg->pcap_buffer_bytes = 32u << 20;
	cfg->max_events = 1u << 20;
}

void rawtcp_conn_opts_init(struct rawtcp_conn_opts *o)
{
	memset(o, 0, sizeof *o);
	o->rtt_us = -1;
	o->mss = 0;
	o->wscale = 7;
	o->sack_permitted = true;
	o->timestamps = true;
	o->window = 65535;
	o->rcvbuf_cap = 1u << 20;
	o->sndbuf_cap = 256u << 10;
	o->ack.mode = RAWTCP_ACK_NOW;
	o->max_retries = 6;
	o->rto_initial_us = 1000000;
	o->rto_min_us = 200000;
	o->time_wait_us = 1000000;
}

static int parse_addr(const char *what, const char *s, struct lladdr *out, char *err, size_t errlen)
{
	if (!s) {
		errmsg_set(err, errlen, "rawtcp_open: %s: missing", what);
		return -1;
	}
	if (lladdr_parse(s, out, NULL, 0) != 0) {
		errmsg_set(err, errlen, "rawtcp_open: %s: not an IPv4 or IPv6 address: %s", what, s);
		return -1;
	}
	return 0;
}

static int open_live(struct rawtcp *c, const struct rawtcp_config *cfg, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	char lerr[LIBNET_ERRBUF_SIZE] = "";
	char filter[2048], hosts[1400] = "", la[LLADDR_STRLEN], pa[LLADDR_STRLEN];
	struct bpf_program prog;
	int r;

	c->pcap = pcap_create(cfg->iface, perr);
	if (!c->pcap) {
		errmsg_set(err, errlen, "rawtcp_open: pcap: %s", perr);
		return -1;
	}
	/*
	 * Not immediate mode: libpcap 1.10 answers it with TPACKET_V2, whose
	 * ring slots are all snaplen-sized (256 KiB here, since veth does
	 * segmentation offload and a frame can be a 64 KiB super-segment), so
	 * 32 MiB holds only ~128 frames and a burst of handshakes overflows it.
	 * TPACKET_V3 packs frames into blocks, handed over when full or after
	 * the 1 ms block timeout: right for the record (the dump, our RSTs,
	 * leaks), too late for the TCP (a floor of ~1 ms under the emulated
	 * RTT). So the server's segments reach the TCP through the early
	 * receiver (lab/earlyrx.h, same filter) as soon as the kernel has
	 * them; queue_inbound() still subtracts the time a frame waited from
	 * its rtt/2 hold. Where the early receiver cannot serve the link type
	 * the ring feeds the TCP as before.
	 */
	if (pcap_set_snaplen(c->pcap, RT_SNAPLEN) != 0 || pcap_set_promisc(c->pcap, 0) != 0 ||
	    pcap_set_timeout(c->pcap, 1) != 0 ||
	    pcap_set_buffer_size(c->pcap, (int)min64(cfg->pcap_buffer_bytes, INT_MAX)) != 0) {
		errmsg_set(err, errlen, "rawtcp_open: pcap: cannot set options on %s", cfg->iface);
		return -1;
	}
	r = pcap_activate(c->pcap);
	if (r < 0) {
		errmsg_set(err, errlen, "rawtcp_open: pcap: %s: %s", cfg->iface, pcap_geterr(c->pcap));
		return -1;
	}
	if (pcap_setnonblock(c->pcap, 1, perr) != 0) {
		errmsg_set(err, errlen, "rawtcp_open: pcap: %s", perr);
		return -1;
	}
	c->dlt = pcap_datalink(c->pcap);
	if (!dec_linktype_supported(c->dlt)) {
		errmsg_set(err, errlen, "rawtcp_open: pcap: %s: link type %d is not supported",
		       cfg->iface, c->dlt);
		return -1;
	}
	/* "ip6 and tcp": TCP right after the IPv6 header (the raw client
	 * and the lab use no extension headers); the analyzer decodes the
	 * same frames again from the saved capture. */
	lladdr_str(&c->local, la, sizeof la);
	lladdr_str(&c->peer, pa, sizeof pa);
	const char *proto = c->local.af == 6 ? "ip6 and tcp" : "tcp";
	if (c->peer_port)
		snprintf(filter, sizeof filter,
		         "%s and ((src host %s and src portrange %u-%u and dst host %s and dst port %u) or "
		         "(src host %s and src port %u and dst host %s and dst portrange %u-%u))",
		         proto, la, c->port_min, c->port_max, pa, c->peer_port,
		         pa, c->peer_port, la, c->port_min, c->port_max);
	else {
		/* "host A or host A+1 ... or host PEER" */
		size_t used = 0;
		for (uint16_t i = 0; i < c->nlocal; i++) {
			struct lladdr a = local_at(c, i);
			lladdr_str(&a, la, sizeof la);
			used += (size_t)snprintf(hosts + used, sizeof hosts - used, "host %s or ", la);
		}
		snprintf(filter, sizeof filter, "%s and (%shost %s)", proto, hosts, pa);
	}
	if (pcap_compile(c->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		errmsg_set(err, errlen, "rawtcp_open: pcap: filter \"%s\": %s", filter, pcap_geterr(c->pcap));
		return -1;
	}
	r = pcap_setfilter(c->pcap, &prog);
	if (r != 0) {
		pcap_freecode(&prog);
		errmsg_set(err, errlen, "rawtcp_open: pcap: filter: %s", pcap_geterr(c->pcap));
		return -1;
	}
	c->early_buf = malloc(RT_SNAPLEN);
	if (c->early_buf)
		c->early_fd = earlyrx_open(cfg->iface, c->dlt, &prog, cfg->pcap_buffer_bytes, NULL, 0);
	pcap_freecode(&prog);
	c->pcap_fd = pcap_get_selectable_fd(c->pcap);
	if (c->pcap_fd < 0) {
		errmsg_set(err, errlen, "rawtcp_open: pcap: %s has no selectable fd", cfg->iface);
		return -1;
	}
	/* RAW6: an IPPROTO_RAW IPv6 socket, which the kernel treats as
	 * header-included (net/ipv6/raw.c rawv6_send_hdrinc), as RAW4's
	 * IP_HDRINCL socket: our source address goes out as written. */
	c->ln = libnet_init(c->local.af == 6 ? LIBNET_RAW6 : LIBNET_RAW4, cfg->iface, lerr);
	if (!c->ln) {
		errmsg_set(err, errlen, "rawtcp_open: libnet: %s", lerr);
		return -1;
	}
	/* Route through our interface only, whatever else the namespace has. */
	if (setsockopt(libnet_getfd(c->ln), SOL_SOCKET, SO_BINDTODEVICE, cfg->iface,
	               (socklen_t)strlen(cfg->iface)) != 0) {
		errmsg_set(err, errlen, "rawtcp_open: libnet: bind to %s: %s", cfg->iface, strerror(errno));
		return -1;
	}
	if (cfg->mark && setsockopt(libnet_getfd(c->ln), SOL_SOCKET, SO_MARK, &cfg->mark,
	                            sizeof cfg->mark) != 0) {
		errmsg_set(err, errlen, "rawtcp_open: libnet: SO_MARK: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct rawtcp *rawtcp_open(const struct rawtcp_config *cfg, char *err, size_t errlen)
{
	struct rawtcp *c = calloc(1, sizeof *c);
	if (!c) {
		errmsg_set(err, errlen, "rawtcp_open: out of memory");
		return NULL;
	}
	c->pcap_fd = -1;
	c->early_fd = -1;
	theap_init(&c->timers);
	theap_init(&c->delayq);
	theap_init(&c->utimers);
	c->offline = cfg->iface == NULL;
	if (parse_addr("local_addr", cfg->local_addr, &c->local, err, errlen) != 0 ||
	    parse_addr("peer_addr", cfg->peer_addr, &c->peer, err, errlen) != 0)
		goto err;
	c->nlocal = cfg->local_addr_count ? cfg->local_addr_count : 1;
	if (c->nlocal > RT_MAX_LOCAL || (c->nlocal > 1 && cfg->peer_port)) {
		errmsg_set(err, errlen, "rawtcp_open: local_addr_count: %u is not in 1..%d%s",
		           cfg->local_addr_count, RT_MAX_LOCAL, cfg->peer_port ? " (a target takes 1)" : "");
		goto err;
	}
	if (tail32(c->local.af, c->local.b) > UINT32_MAX - (c->nlocal - 1u)) {
		errmsg_set(err, errlen, "rawtcp_open: local_addr_count: %s + %u wraps around",
		           cfg->local_addr, c->nlocal - 1u);
		goto err;
	}
	if (c->local.af != c->peer.af) {
		errmsg_set(err, errlen, "rawtcp_open: local_addr %s and peer_addr %s are not of one family",
		           cfg->local_addr, cfg->peer_addr);
		goto err;
	}
	if (cfg->port_min == 0 || cfg->port_min > cfg->port_max) {
		errmsg_set(err, errlen, "rawtcp_open: port range %u..%u is empty or starts at 0",
		       cfg->port_min, cfg->port_max);
		goto err;
	}
	if (!c->offline && strlen(cfg->iface) >= sizeof c->iface) {
		errmsg_set(err, errlen, "rawtcp_open: iface: name too long: %s", cfg->iface);
		goto err;
	}
	if (!c->offline)
		snprintf(c->iface, sizeof c->iface, "%s", cfg->iface);
	c->rtt_us = cfg->rtt_us;
	c->port_min = cfg->port_min;
	c->port_max = cfg->port_max;
	c->peer_port = cfg->peer_port;
	c->max_conns = cfg->max_conns ? cfg->max_conns : 60000;
	c->max_events = cfg->max_events ? cfg->max_events : 1u << 20;
	c->out = cfg->out;
	c->out_arg = cfg->out_arg;
	c->rng = cfg->seed;
	if (c->rng == 0 && getrandom(&c->rng, sizeof c->rng, 0) != (ssize_t)sizeof c->rng)
		c->rng = rawtcp_now_us() ^ ((uint64_t)getpid() << 32);
	if (c->rng == 0)
		c->rng = 0x9E3779B97F4A7C15ull;
	c->next_port = (uint16_t)(c->port_min + rng_next(&c->rng) % ((uint32_t)c->port_max - c->port_min + 1));
	c->next_slot = (uint32_t)(c->next_port - c->port_min);
	c->ip_id = (uint16_t)rng_next(&c->rng);
	c->ports = calloc((size_t)RT_NPORTS * c->nlocal, sizeof *c->ports);
	c->rst_pending = calloc((size_t)RT_NPORTS * c->nlocal, 1);
	if (!c->ports || !c->rst_pending) {
		errmsg_set(err, errlen, "rawtcp_open: out of memory");
		goto err;
	}
	if (c->offline) {
		char lerr[LIBNET_ERRBUF_SIZE] = "";
		c->ln = libnet_init(LIBNET_NONE, NULL, lerr);
		if (!c->ln) {
			errmsg_set(err, errlen, "rawtcp_open: libnet: %s", lerr);
			goto err;
		}
	} else if (open_live(c, cfg, err, errlen) != 0) {
		goto err;
	}
	return c;
err:
	rawtcp_free(c);
	return NULL;
}

static void conn_free(struct rawtcp_conn *k)
{
	for (int d = 0; d < 2; d++)
		if (k->held[d])
			pkt_put(k->c, k->held[d]);
	free(k->sb);
	k->sb = NULL;
	free(k->rb);
	k->rb = NULL;
	free(k);
}

void rawtcp_free(struct rawtcp *c)
{
	struct theap_node *n;
	if (!c)
		return;
	rawtcp_dump_close(c);
	if (c->pcap) {
		pcap_close(c->pcap);
		c->pcap = NULL;
	}
	if (c->early_fd >= 0)
		close(c->early_fd);
	c->early_fd = -1;
	free(c->early_buf);
	c->early_buf = NULL;
	if (c->ln) {
		libnet_destroy(c->ln);
		c->ln = NULL;
	}
	/* Unlink connection timer nodes before the connections go. */
	theap_fini(&c->timers);
	while (c->conns) {
		struct rawtcp_conn *k = c->conns;
		c->conns = k->next;
		conn_free(k);
	}
	while ((n = theap_pop(&c->delayq)) != NULL)
		pkt_put(c, PKT_OF(n));
	for (int i = 0; i < 3; i++) {
		while (c->free_pkts[i]) {
			struct pkt *p = c->free_pkts[i];
			c->free_pkts[i] = p->next_free;
			free(p);
		}
	}
	while ((n = theap_pop(&c->utimers)) != NULL)
		free(UTIMER_OF(n));
	theap_fini(&c->delayq);
	theap_fini(&c->utimers);
	free(c->ev);
	free(c->ports);
	free(c->rst_pending);
	free(c);
}

int rawtcp_dump_open(struct rawtcp *c, const char *path, char *err, size_t errlen)
{
	if (c->offline) {
		errmsg_set(err, errlen, "rawtcp_dump_open: %s: no capture in offline mode", path);
		return -1;
	}
	if (c->dumper) {
		errmsg_set(err, errlen, "rawtcp_dump_open: %s: a dump is already open", path);
		return -1;
	}
	c->dumper = pcap_dump_open(c->pcap, path);
	if (!c->dumper) {
		errmsg_set(err, errlen, "rawtcp_dump_open: %s", pcap_geterr(c->pcap));
		return -1;
	}
	return 0;
}

int rawtcp_dump_flush(struct rawtcp *c, char *err, size_t errlen)
{
	if (c->dumper && pcap_dump_flush(c->dumper) != 0) {
		if (!c->st.dump_errno)
			c->st.dump_errno = errno ? errno : EIO;
		errmsg_set(err, errlen, "rawtcp_dump_flush: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Read whatever the kernel has queued for us right now. */
static int drain_capture(struct rawtcp *c, uint64_t now, char *err, size_t errlen)
{
	struct frame_ctx fx = { c, now, realtime_us() };
	/* Bounded: a busy wire must not starve timers and the delay queue. */
	for (int i = 0; i < 64; i++) {
		int r = pcap_dispatch(c->pcap, 512, on_frame, (u_char *)&fx);
		if (r < 0) {
			errmsg_set(err, errlen, "rawtcp_run: pcap: %s", pcap_geterr(c->pcap));
			return -1;
		}
		if (r == 0)
			break;
	}
	return 0;
}

/* Read what the early receiver holds: the server's segments, held for
 * rtt/2 less the time since the kernel received them. */
static int drain_early(struct rawtcp *c, uint64_t now, char *err, size_t errlen)
{
	uint64_t real = realtime_us();
	/* Bounded as drain_capture(): the rest waits for the next turn. */
	for (int i = 0; i < 4096; i++) {
		struct dec_tcp d;
		size_t wire;
		uint64_t ts;
		long n = earlyrx_read(c->early_fd, c->early_buf, RT_SNAPLEN, &wire, &ts);
		if (n < 0) {
			errmsg_set(err, errlen, "rawtcp_run: %s: early receiver: %s", c->iface, strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		if (dec_packet(c->dlt, c->early_buf, (uint32_t)n, (uint32_t)wire, &d, NULL) != DEC_OK ||
		    d.af != c->local.af || (c->peer_port && !target_frame(c, &d)))
			continue; /* the ring's on_frame() counts it */
		if (!lladdr_is(&c->peer, d.af, d.src) || local_index(c, d.af, d.dst) < 0 ||
		    (c->peer_port && d.sport != c->peer_port))
			continue;
		if (d.payload_caplen < d.seg_len) {
			c->st.frames_undecoded++;
			continue;
		}
		queue_inbound(c, &d, now, real > ts && ts ? real - ts : 0);
	}
	return 0;
}

void rawtcp_dump_close(struct rawtcp *c)
{
	if (!c || !c->dumper)
		return;
	(void)drain_capture(c, rawtcp_now_us(), NULL, 0);
	/* pcap_dump_close() says nothing of a failed write: flush first */
	errno = 0;
	if ((pcap_dump_flush(c->dumper) != 0 || ferror(pcap_dump_file(c->dumper))) &&
	    !c->st.dump_errno)
		c->st.dump_errno = errno ? errno : EIO;
	pcap_dump_close(c->dumper);
	c->dumper = NULL;
}

/* A free (address, port): round-robin over the ports of every local
 * address in turn. Returns the port (0: none free) and sets *lidx. */
static uint16_t alloc_port(struct rawtcp *c, uint16_t *lidx)
{
	uint32_t range = (uint32_t)c->port_max - c->port_min + 1, slots = range * c->nlocal;
	for (uint32_t i = 0; i < slots; i++) {
		uint32_t slot = c->next_slot;
		uint16_t li = (uint16_t)(slot / range), p = (uint16_t)(c->port_min + slot % range);
		c->next_slot = slot + 1 == slots ? 0 : slot + 1;
		if (!c->ports[lkey(li, p)]) {
			*lidx = li;
			return p;
		}
	}
	return 0;
}

struct rawtcp_conn *rawtcp_connect(struct rawtcp *c, const struct rawtcp_conn_opts *o,
                                   char *err, size_t errlen)
{
	struct rawtcp_conn *k;
	uint64_t now = rawtcp_now_us();
	uint16_t port, lidx = 0;

	if (o->dport == 0) {
		errmsg_set(err, errlen, "rawtcp_connect: dport: must not be 0");
		return NULL;
	}
	if (o->wscale < -1 || o->wscale > 14) {
		errmsg_set(err, errlen, "rawtcp_connect: wscale: %d is out of range 0..14 or -1", o->wscale);
		return NULL;
	}
	if (o->mss != 0 && (o->mss < RT_MIN_MSS || o->mss > RT_MAX_MSS)) {
		errmsg_set(err, errlen, "rawtcp_connect: mss: must be %d..%d", RT_MIN_MSS, RT_MAX_MSS);
		return NULL;
	}
	if (o->rcvbuf_cap == 0 || o->sndbuf_cap == 0) {
		errmsg_set(err, errlen, "rawtcp_connect: rcvbuf_cap and sndbuf_cap must not be 0");
		return NULL;
	}
	if (c->st.conns_live >= c->max_conns) {
		errmsg_set(err, errlen, "rawtcp_connect: too many connections (max %u)", c->max_conns);
		return NULL;
	}
	port = alloc_port(c, &lidx);
	if (port == 0) {
		errmsg_set(err, errlen, "rawtcp_connect: no free local port");
		return NULL;
	}
	k = calloc(1, sizeof *k);
	if (!k) {
		errmsg_set(err, errlen, "rawtcp_connect: out of memory");
		return NULL;
	}
	k->c = c;
	k->o = *o;
	if (k->o.mss == 0)
		k->o.mss = RT_MSS_DEFAULT(c->local.af);
	theap_node_init(&k->tnode);
	k->state = RAWTCP_SYN_SENT;
	k->lport = port;
	k->lidx = lidx;
	k->rtt_us = o->rtt_us >= 0 ? (uint32_t)min64((uint64_t)o->rtt_us, UINT32_MAX) : c->rtt_us;
	k->half_us = k->rtt_us / 2;
	k->peer_mss = RT_MSS_PEER_DEFAULT(c->local.af);
	k->peer_wscale = -1;
	k->iss = (uint32_t)rng_next(&c->rng);
	k->ts_off = (uint32_t)rng_next(&c->rng);
	k->rto_us = o->rto_initial_us ? o->rto_initial_us : 1000000;
	k->t_connect = now;
	/* Link the timer node now: later re-links then never allocate. */
	k->rto_at = now + k->rto_us;
	if (theap_set(&c->timers, &k->tnode, k->rto_at) != 0) {
		free(k);
		errmsg_set(err, errlen, "rawtcp_connect: out of memory");
		return NULL;
	}
	c->ports[lkey(lidx, port)] = k;
	k->next = c->conns;
	if (c->conns)
		c->conns->prev = k;
	c->conns = k;
	c->st.conns_live++;
	c->st.conns_total++;
	if (c->st.conns_live > c->st.conns_peak)
		c->st.conns_peak = c->st.conns_live;
	send_syn(k, now);
	return k;
}

int rawtcp_send(struct rawtcp_conn *k, const void *data, size_t len, char *err, size_t errlen)
{
	uint64_t used;
	if (k->state == RAWTCP_CLOSED) {
		errmsg_set(err, errlen, "rawtcp_send: connection is closed");
		return -1;
	}
	if (k->fin_queued) {
		errmsg_set(err, errlen, "rawtcp_send: already shut down");
		return -1;
	}
	if (k->gen_on) {
		errmsg_set(err, errlen, "rawtcp_send: body generator still running");
		return -1;
	}
	used = k->tx_end - k->tx_una;
	if (len > k->o.sndbuf_cap - used) {
		errmsg_set(err, errlen, "rawtcp_send: send buffer full (%llu of %u bytes used)",
		       (unsigned long long)used, k->o.sndbuf_cap);
		return -1;
	}
	if (len == 0)
		return 0;
	if (sb_append(k, data, len, 0) != 0) {
		errmsg_set(err, errlen, "rawtcp_send: out of memory");
		return -1;
	}
	conn_output(k, rawtcp_now_us());
	return 0;
}

int rawtcp_send_body(struct rawtcp_conn *k, uint64_t total, uint64_t rate_bps, uint32_t chunk,
                     char *err, size_t errlen)
{
	uint64_t now = rawtcp_now_us();
	if (k->state == RAWTCP_CLOSED) {
		errmsg_set(err, errlen, "rawtcp_send_body: connection is closed");
		return -1;
	}
	if (k->fin_queued) {
		errmsg_set(err, errlen, "rawtcp_send_body: already shut down");
		return -1;
	}
	if (k->gen_on) {
		errmsg_set(err, errlen, "rawtcp_send_body: body generator still running");
		return -1;
	}
	k->gen_on = true;
	k->gen_total = total;
	k->gen_done = 0;
	k->gen_rate = rate_bps;
	k->gen_chunk = chunk ? chunk : 16384;
	k->gen_start = now;
	gen_step(k, now);
	return 0;
}

int rawtcp_shutdown(struct rawtcp_conn *k, char *err, size_t errlen)
{
	if (k->state == RAWTCP_CLOSED) {
		errmsg_set(err, errlen, "rawtcp_shutdown: connection is closed");
		return -1;
	}
	if (k->fin_queued)
		return 0;
	k->fin_queued = true;
	conn_output(k, rawtcp_now_us());
	return 0;
}

void rawtcp_abort(struct rawtcp_conn *k)
{
	uint64_t now = rawtcp_now_us();
	if (k->state == RAWTCP_CLOSED)
		return;
	if (!k->silent) {
		uint64_t rel = k->tx_max + (k->fin_sent ? 1 : 0);
		if (k->state == RAWTCP_SYN_SENT)
			emit(k, now, k->iss + 1, LL_TH_RST, NULL, 0);
		else
			emit(k, now, snd_seq(k, rel), LL_TH_RST | LL_TH_ACK, NULL, 0);
	}
	conn_close(k, k->silent ? RAWTCP_CLOSE_SILENT : RAWTCP_CLOSE_ABORTED, now);
}

int rawtcp_add_fault(struct rawtcp_conn *k, const struct rawtcp_fault *f,
                     char *err, size_t errlen)
{
	if (k->o.n_faults >= RAWTCP_MAX_FAULTS) {
		errmsg_set(err, errlen, "rawtcp_add_fault: at most %d rules per connection",
		           RAWTCP_MAX_FAULTS);
		return -1;
	}
	k->o.faults[k->o.n_faults++] = *f;
	return 0;
}

int rawtcp_send_rst(struct rawtcp_conn *k, int64_t seq_off, bool with_ack, int64_t ack_off,
                    char *err, size_t errlen)
{
	if (!synchronized(k)) {
		errmsg_set(err, errlen, "rawtcp_send_rst: connection is not established");
		return -1;
	}
	uint64_t rel = k->tx_max + (k->fin_sent ? 1 : 0);
	k->rst_ack_adjust = with_ack;
	k->rst_ack_off = ack_off;
	emit(k, rawtcp_now_us(), snd_seq(k, rel) + (uint32_t)seq_off,
	     (uint8_t)(LL_TH_RST | (with_ack ? LL_TH_ACK : 0)), NULL, 0);
	k->rst_ack_adjust = false;
	return 0;
}

void rawtcp_silence(struct rawtcp_conn *k)
{
	if (k->state == RAWTCP_CLOSED)
		return;
	k->silent = true;
	k->gen_on = false;
	k->rto_at = k->dack_at = k->persist_at = k->gen_at = 0;
	conn_rearm(k);
}

void rawtcp_set_ack_policy(struct rawtcp_conn *k, const struct rawtcp_ack_policy *p)
{
	k->o.ack = *p;
	if (p->mode != RAWTCP_ACK_DELAYED)
		k->dack_at = 0;
	if (synchronized(k) && !k->silent)
		ack_after_input(k, rawtcp_now_us(), false);
}

void rawtcp_set_window(struct rawtcp_conn *k, uint32_t window)
{
	k->o.window = window;
	if (synchronized(k) && !k->silent) {
		uint32_t before = k->adv_window;
		uint32_t field = (uint32_t)min64(window_now(k) >> k->rcv_wscale, 65535);
		if ((field << k->rcv_wscale) != before)
			send_ack(k, rawtcp_now_us());
	}
}

size_t rawtcp_peek(const struct rawtcp_conn *k, const uint8_t **data)
{
	size_t n = (size_t)(k->rx_received - k->rx_delivered);
	*data = n ? k->rb + k->rb_head : NULL;
	return n;
}

void rawtcp_consume(struct rawtcp_conn *k, size_t n)
{
	size_t have = (size_t)(k->rx_received - k->rx_delivered);
	uint32_t before = k->adv_window;
	if (n > have)
		n = have;
	k->rx_delivered += n;
	k->rb_head += n;
	if (k->rx_delivered == k->rx_received) {
		/* All read: idle connections keep no receive buffer. */
		free(k->rb);
		k->rb = NULL;
		k->rb_alloc = k->rb_head = 0;
	}
	/* RFC 9293 3.8.6.2.2 (receiver SWS avoidance): announce a window
	 * that grew by at least an MSS or half the buffer. */
	if (synchronized(k) && !k->silent && !k->peer_rst) {
		uint32_t now_w = (uint32_t)min64(window_now(k) >> k->rcv_wscale, 65535) << k->rcv_wscale;
		uint32_t step = (uint32_t)min64(eff_mss(k), k->o.rcvbuf_cap / 2);
		if (now_w > before && now_w - before >= step)
			send_ack(k, rawtcp_now_us());
	}
}

void rawtcp_conn_release_noted(struct rawtcp_conn *k, struct rawtcp_rst_note *note)
{
	memset(note, 0, sizeof *note);
	note->local_port = k->lport;
	if (k->state != RAWTCP_CLOSED && !k->silent) {
		/* the RST rawtcp_abort is about to emit */
		note->sent = true;
		note->seq = k->state == RAWTCP_SYN_SENT
		            ? k->iss + 1 : snd_seq(k, k->tx_max + (k->fin_sent ? 1 : 0));
		note->out_us = rawtcp_now_us() + k->half_us;
	}
	rawtcp_conn_release(k);
}

void rawtcp_conn_release(struct rawtcp_conn *k)
{
	struct rawtcp *c = k->c;
	if (k->state != RAWTCP_CLOSED)
		rawtcp_abort(k);
	for (size_t i = 0; i < c->ev_len; i++) {
		struct rawtcp_event *e = &c->ev[(c->ev_head + i) % c->ev_cap];
		if (e->conn == k)
			e->type = 0; /* skipped by rawtcp_next_event */
	}
	theap_remove(&c->timers, &k->tnode);
	if (c->ports[lkey(k->lidx, k->lport)] == k)
		c->ports[lkey(k->lidx, k->lport)] = NULL;
	if (k->prev)
		k->prev->next = k->next;
	else
		c->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	conn_free(k);
}

void rawtcp_conn_info(const struct rawtcp_conn *k, struct rawtcp_conn_info *out)
{
	memset(out, 0, sizeof *out);
	out->state = k->state;
	out->close_reason = k->reason;
	out->local_port = k->lport;
	out->peer_port = k->o.dport;
	out->rtt_us = k->rtt_us;
	out->isn = k->iss;
	out->peer_isn = k->irs;
	out->peer_mss = k->peer_mss;
	out->peer_wscale = k->peer_wscale;
	out->peer_sack_permitted = k->sack_ok;
	out->peer_timestamps = k->ts_ok;
	out->peer_window = k->snd_wnd;
	out->adv_window = k->adv_window;
	out->bytes_queued = k->tx_end;
	out->bytes_sent = k->tx_max;
	out->bytes_acked = k->tx_una;
	out->fin_sent = k->fin_sent;
	out->fin_acked = k->fin_acked;
	out->retransmits = k->retransmits;
	out->srtt_us = k->srtt_us;
	out->rto_us = k->rto_us;
	out->rx_received = k->rx_received;
	out->rx_delivered = k->rx_delivered;
	out->rx_acked = min64(k->ack_sent, k->rx_received);
	out->rx_dropped_ooo = k->rx_dropped_ooo;
	out->peer_fin = k->peer_fin;
	out->peer_fin_acked = k->peer_fin_acked;
	out->peer_fin_at = k->peer_fin_at;
	out->peer_rst = k->peer_rst;
	out->rsts_received = k->rsts_received;
	out->rst_seq = k->rst_seq;
	out->rst_rel_seq = k->rst_rel_seq;
	out->rst_rx_received = k->rst_rx_received;
	out->rst_rx_delivered = k->rst_rx_delivered;
	out->rst_lost_on_flush = k->rst_rx_received - k->rst_rx_delivered;
	out->rst_unacked = k->rst_unacked;
	out->t_connect_us = k->t_connect;
	out->t_established_us = k->t_established;
	out->t_peer_fin_us = k->t_peer_fin;
	out->t_peer_rst_us = k->t_peer_rst;
	out->t_closed_us = k->t_closed;
	out->user = k->o.user;
	for (int d = 0; d < 2; d++) {
		out->segs[d] = k->segs[d];
		out->dropped[d] = k->dropped[d];
		out->reordered[d] = k->reordered[d];
	}
}

enum rawtcp_state rawtcp_conn_state(const struct rawtcp_conn *k) { return k->state; }
void *rawtcp_conn_user(const struct rawtcp_conn *k) { return k->o.user; }
uint16_t rawtcp_conn_local_port(const struct rawtcp_conn *k) { return k->lport; }

bool rawtcp_next_event(struct rawtcp *c, struct rawtcp_event *ev)
{
	while (c->ev_len > 0) {
		struct rawtcp_event *e = &c->ev[c->ev_head];
		c->ev_head = (c->ev_head + 1) % c->ev_cap;
		c->ev_len--;
		if (e->type == 0)
			continue;
		*ev = *e;
		return true;
	}
	return false;
}

uint64_t rawtcp_timer_add(struct rawtcp *c, uint64_t when_us, uint64_t cookie, char *err, size_t errlen)
{
	struct utimer *t = malloc(sizeof *t);
	if (!t) {
		errmsg_set(err, errlen, "rawtcp_timer_add: out of memory");
		return 0;
	}
	theap_node_init(&t->node);
	t->id = ++c->next_utimer_id;
	t->cookie = cookie;
	if (theap_set(&c->utimers, &t->node, when_us) != 0) {
		free(t);
		errmsg_set(err, errlen, "rawtcp_timer_add: out of memory");
		return 0;
	}
	return t->id;
}

void rawtcp_timer_cancel(struct rawtcp *c, uint64_t id)
{
	for (size_t i = 0; i < c->utimers.n; i++) {
		struct utimer *t = UTIMER_OF(c->utimers.v[i]);
		if (t->id == id) {
			theap_remove(&c->utimers, &t->node);
			free(t);
			return;
		}
	}
}

/* One inbound packet of the offline mode, decoded as link type dlt;
 * name is the API function's, for messages. */
static int input_packet(struct rawtcp *c, int dlt, const char *name, const uint8_t *pkt,
                        size_t len, char *err, size_t errlen)
{
	struct dec_tcp d;
	const char *why = NULL;
	enum dec_result r;
	if (len > UINT32_MAX) {
		errmsg_set(err, errlen, "%s: packet too long", name);
		return -1;
	}
	r = dec_packet(dlt, pkt, (uint32_t)len, (uint32_t)len, &d, &why);
	if (r != DEC_OK) {
		errmsg_set(err, errlen, "%s: %s", name, why ? why : dec_result_name(r));
		return -1;
	}
	if (!lladdr_is(&c->peer, d.af, d.src) || local_index(c, d.af, d.dst) < 0) {
		errmsg_set(err, errlen, "%s: not from peer_addr to local_addr", name);
		return -1;
	}
	if (d.payload_caplen < d.seg_len) {
		errmsg_set(err, errlen, "%s: payload truncated", name);
		return -1;
	}
	queue_inbound(c, &d, rawtcp_now_us(), 0);
	return 0;
}

int rawtcp_input_ipv4(struct rawtcp *c, const uint8_t *pkt, size_t len, char *err, size_t errlen)
{
	return input_packet(c, DLT_IPV4, "rawtcp_input_ipv4", pkt, len, err, errlen);
}

int rawtcp_input_ip(struct rawtcp *c, const uint8_t *pkt, size_t len, char *err, size_t errlen)
{
	return input_packet(c, DLT_RAW, "rawtcp_input_ip", pkt, len, err, errlen);
}

/* Run what is due: held packets, connection timers, runner timers,
 * earliest first, at most RT_DUE_BUDGET of them. Returns true if more are
 * due: the loop then reads the capture and comes back without sleeping.
 * Why a budget: the capture ring retires a block every millisecond even if
 * nobody reads it, so a long burst of injections (20000 RSTs at the end of
 * a bench) would exhaust the ring and drop frames. */
static bool due_now(const struct rawtcp *c, uint64_t now)
{
	const struct theap_node *h[3] = { theap_top(&c->delayq), theap_top(&c->timers),
	                                   theap_top(&c->utimers) };
	for (int i = 0; i < 3; i++)
		if (h[i] && h[i]->when <= now)
			return true;
	return false;
}

static bool run_due(struct rawtcp *c, uint64_t now)
{
	for (unsigned budget = RT_DUE_BUDGET; budget > 0; budget--) {
		struct theap_node *a = theap_top(&c->delayq);
		struct theap_node *b = theap_top(&c->timers);
		struct theap_node *t = theap_top(&c->utimers);
		struct theap_node *best = NULL;
		if (a && a->when <= now)
			best = a;
		if (b && b->when <= now && (!best || b->when < best->when))
			best = b;
		if (t && t->when <= now && (!best || t->when < best->when))
			best = t;
		if (!best)
			return false;
		if (best == a) {
			struct pkt *p = PKT_OF(theap_pop(&c->delayq));
			if (p->dir == PKT_OUT) {
				inject(c, p);
			} else {
				int li = local_index(c, p->u.in.af, p->u.in.dst);
				struct rawtcp_conn *k = li >= 0 ? c->ports[lkey((uint16_t)li, p->u.in.dport)] : NULL;
				/* Processed "at" its scheduled release time: what it causes
				 * is held rtt/2 from then, so the loop's wake-up latency
				 * and a burst ahead of it do not stretch the emulated RTT. */
				if (!k)
					c->st.no_conn++;
				else if (in_segment(k, p))
					continue; /* held back (reorder) */
			}
			pkt_put(c, p);
		} else if (best == b) {
			struct rawtcp_conn *k = (struct rawtcp_conn *)(void *)
				((char *)theap_pop(&c->timers) - offsetof(struct rawtcp_conn, tnode));
			conn_timers(k, now);
		} else {
			struct utimer *u = UTIMER_OF(theap_pop(&c->utimers));
			push_event(c, RAWTCP_EV_TIMER, NULL, now, 0, u->cookie);
			free(u);
		}
	}
	return due_now(c, now);
}

int rawtcp_run(struct rawtcp *c, uint64_t deadline_us, rawtcp_stop_fn stop, void *arg,
               char *err, size_t errlen)
{
	for (;;) {
		uint64_t now = rawtcp_now_us(), next = deadline_us;
		struct theap_node *heads[3];
		struct pollfd pfd[2];
		struct timespec ts;
		int r;
		bool more;

		more = run_due(c, now);
		if (c->inject_fail_run >= RT_INJECT_FATAL) {
			errmsg_set(err, errlen, "rawtcp_run: inject: %s", c->inject_err);
			return -1;
		}
		if (stop && stop(c, arg))
			return 1;
		now = rawtcp_now_us();
		if (now >= deadline_us)
			return 0;
		heads[0] = theap_top(&c->delayq);
		heads[1] = theap_top(&c->timers);
		heads[2] = theap_top(&c->utimers);
		for (int i = 0; i < 3; i++)
			if (heads[i] && heads[i]->when < next)
				next = heads[i]->when;
		if (next < now || more)
			next = now;
		ts.tv_sec = (time_t)((next - now) / 1000000u);
		ts.tv_nsec = (long)((next - now) % 1000000u) * 1000;
		pfd[0].fd = c->pcap_fd;
		pfd[1].fd = c->early_fd;
		pfd[0].events = pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		r = ppoll(pfd, c->offline ? 0 : c->early_fd >= 0 ? 2 : 1, &ts, NULL);
		if (r < 0) {
			if (errno == EINTR)
				continue; /* the stop predicate sees the runner's flag */
			errmsg_set(err, errlen, "rawtcp_run: poll: %s", strerror(errno));
			return -1;
		}
		if (r > 0 && ((pfd[0].revents | pfd[1].revents) & (POLLERR | POLLNVAL))) {
			errmsg_set(err, errlen, "rawtcp_run: pcap: %s: capture descriptor failed", c->iface);
			return -1;
		}
		if (r > 0 && pfd[1].revents && drain_early(c, rawtcp_now_us(), err, errlen) != 0)
			return -1;
		if (r > 0 && pfd[0].revents && drain_capture(c, rawtcp_now_us(), err, errlen) != 0)
			return -1;
	}
}

void rawtcp_stats(struct rawtcp *c, struct rawtcp_stats *out)
{
	*out = c->st;
	out->delayq_len = (uint32_t)theap_len(&c->delayq);
	if (c->pcap) {
		struct pcap_stat ps;
		if (pcap_stats(c->pcap, &ps) == 0)
			out->pcap_drops = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
	}
	out->early_rx = c->early_fd >= 0;
	if (c->early_fd >= 0) {
		c->early_drops += earlyrx_drops(c->early_fd);
		out->pcap_drops += c->early_drops;
	}
}

const char *rawtcp_state_name(enum rawtcp_state s)
{
	switch (s) {
	case RAWTCP_SYN_SENT:    return "SYN_SENT";
	case RAWTCP_ESTABLISHED: return "ESTABLISHED";
	case RAWTCP_FIN_WAIT_1:  return "FIN_WAIT_1";
	case RAWTCP_FIN_WAIT_2:  return "FIN_WAIT_2";
	case RAWTCP_CLOSING:     return "CLOSING";
	case RAWTCP_TIME_WAIT:   return "TIME_WAIT";
	case RAWTCP_CLOSE_WAIT:  return "CLOSE_WAIT";
	case RAWTCP_LAST_ACK:    return "LAST_ACK";
	case RAWTCP_CLOSED:      return "CLOSED";
	}
	return "?";
}

const char *rawtcp_close_reason_name(enum rawtcp_close_reason r)
{
	switch (r) {
	case RAWTCP_CLOSE_NONE:    return "none";
	case RAWTCP_CLOSE_NORMAL:  return "normal";
	case RAWTCP_CLOSE_RESET:   return "reset";
	case RAWTCP_CLOSE_ABORTED: return "aborted";
	case RAWTCP_CLOSE_TIMEOUT: return "timeout";
	case RAWTCP_CLOSE_SILENT:  return "silent";
	}
	return "?";
}

const char *rawtcp_event_name(enum rawtcp_event_type t)
{
	switch (t) {
	case RAWTCP_EV_CONNECTED: return "connected";
	case RAWTCP_EV_DATA:      return "data";
	case RAWTCP_EV_PEER_FIN:  return "peer_fin";
	case RAWTCP_EV_PEER_RST:  return "peer_rst";
	case RAWTCP_EV_ALL_ACKED: return "all_acked";
	case RAWTCP_EV_BODY_DONE: return "body_done";
	case RAWTCP_EV_CLOSED:    return "closed";
	case RAWTCP_EV_TIMER:     return "timer";
	}
	return "?";
}
