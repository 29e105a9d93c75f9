/*
 * analyzer.c - connection tracking, teardown classification and the
 * rst_before_ack / fin_wait_2 / lingering detectors (see analyzer.h).
 *
 * Inside, every sequence number is kept RAW (as on the wire) and compared
 * only with seq_before/seq_after; it becomes relative to the direction's
 * base (ISN, or first seq seen - 1) when a record is handed out. That way a
 * peer's ACK seen before any segment of the direction it acknowledges (the
 * seed PUT trace starts like that) needs no special case.
 *
 * Memory: a connection is a compact core (struct conn) plus an extension
 * (struct conn_ext: HTTP parser state, the ACK and data rings, the
 * timeline). Both live in slab pools that grow as the live set grows and
 * are reused through free lists; the 4-tuple tables (flowtab.c) double when
 * half full. A connection that ends gracefully (both FINs ACKed, no RST)
 * can no longer be flagged, so its extension goes back to the pool at once.
 * A finished connection waits out its grace period in a ring (struct
 * ring): as a 64-byte seal if it ended gracefully and nobody wants its
 * record, else as a copy of its core (a tomb); its slot is reused at once.
 * So the pool holds only connections in progress, which stay in cache, and
 * a capture of many short connections holds about one seal per connection
 * closed in the last grace period. A packet allocates nothing, except that
 * a ring grows by a chunk now and then and a timeline buffer doubles
 * a few times (8, 16, ... up to timeline_head / timeline_tail entries) over
 * a long connection's life; small ones are kept with the pooled extension.
 * Connections that are only a client's SYNs leave after EMBRYO_IDLE
 * seconds without a packet, so a scan cannot fill memory either. Other
 * idle connections stay to the end: a socket parked in FIN_WAIT_2 is
 * exactly what the fin_wait_2 detector must see.
 *
 * Time: every rule uses capture timestamps, never the wall clock, so a
 * saved capture gives the same report every time it is read.
 */
#include "analyzer/analyzer.h"

#include <math.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/conn.h"
#include "analyzer/flowtab.h"
#include "analyzer/fw2.h"
#include "analyzer/judge.h"

#define SLAB_SHIFT 8
#define SLAB_SIZE (1u << SLAB_SHIFT)
#define TL_MIN 8             /* first timeline allocation */
#define TL_KEEP 16           /* buffers up to this size survive slot reuse */
#define GRACE_MIN 2.0        /* seconds a finished connection stays */
#define GRACE_MAX 60.0
#define EMBRYO_IDLE 130.0    /* a SYN nobody answered: past Linux's SYN
                                retries (tcp_syn_retries 6: 127 s) */
#define SEQ_SANE (1u << 30)  /* a jump further than this is not TCP */
#define NONE FT_NONE

enum ev {
	EV_SND_SYN,        /* this side sent a SYN */
	EV_SND_SYNACK,     /* this side sent a SYN-ACK */
	EV_ESTAB,          /* the client ACKed the server's SYN */
	EV_SND_FIN,        /* this side sent its FIN */
	EV_FIN_ACKED,      /* the peer ACKed this side's FIN */
	EV_RCV_FIN,        /* this side ACKed the peer's FIN */
	EV_RST,            /* a RST was sent by either side */
};

/* The part of a connection needed only while it can still change much. */
/* A list of connections linked through conn.prev/next, oldest first.
 * deadline caches when the head expires (its last_time + grace, or +
 * EMBRYO_IDLE) so that a packet need not read the head to know nothing
 * expires: -INFINITY means "not known, look", +INFINITY an empty list. */
struct dlist {
	uint32_t head, tail;
	double deadline;
};

enum { L_NONE = 0, L_EMBRYO };


/* Finished connections wait out their grace period in rings, in the
 * order of their last packet, and their slots are reused at once: the
 * pool holds only the connections still in progress, which stay in cache,
 * and expiry reads a ring front to back, which the hardware prefetcher
 * follows (with a slot per finished connection a long capture kept
 * thousands of cold slots and paid a cache miss for nearly every line).
 *
 * Two rings. A connection that ended gracefully (both FINs ACKed, no RST)
 * is final: every byte was acknowledged, so it can no longer be flagged,
 * and its summary no longer changes, except that a late RST makes it
 * "reset". Unless someone wants its record (on_conn), it waits as a
 * 64-byte seal (struct seal): the key, what tells a repeated SYN from a
 * new connection, and the summary. Anything else (a RST, a finding, a
 * record wanted) waits as a whole copy of its struct conn, a "tomb": a
 * late packet is tracked on the copy, which then moves to the tail again
 * (the old place is left dead). Copying whole connections to cold memory
 * cost about 400 ns each; a seal is one cache line.
 *
 * Positions count up forever. The table refers to a slot by its index
 * and to a ring entry by a tag and 30 bits of its position (REF_*), which
 * stays unambiguous while fewer than 2^30 entries are in a ring. */
#define RING_SHIFT 8
#define RING_CHUNK (1u << RING_SHIFT)
#define REF_POS_MASK 0x3fffffffu
#define REF_SEAL 0x40000000u       /* 01: a seal */
#define REF_TOMB 0x80000000u       /* 10: a tomb; 00: a slot; 11: NONE */

struct ring {
	char **chunks;             /* circular, cap_chunks (a power of two) */
	size_t cap_chunks;
	size_t esize;              /* bytes per entry, a multiple of 64 */
	uint64_t head, tail;       /* live positions: [head, tail) */
	char *spare;               /* an emptied chunk kept for the next one */
	double deadline;           /* as struct dlist's, for the head */
};

enum {
	SEAL_LIVE = 1,             /* not yet summarized or moved on */
	SEAL_ISN_KNOWN = 2,        /* base is the client's ISN */
	SEAL_CLIENT_LO = 4,        /* the client is the key's lo endpoint */
	SEAL_LINGERED = 8,
	SEAL_ROLE_INFERRED = 16,
	SEAL_LATE_RST = 32,        /* a RST came after the graceful end */
};

struct __attribute__((aligned(64))) seal {
	struct flow_key key;
	uint32_t base;             /* c2s: a SYN with this seq is a repeat */
	uint8_t flags;             /* SEAL_* */
	uint8_t initiator;         /* enum az_initiator */
	double last_time;
	double grace;
};
_Static_assert(sizeof(struct seal) == 64, "struct seal: one cache line");

/* Fixed-size elements in slabs of SLAB_SIZE, addressed by a 32-bit index,
 * with a free list threaded through a uint32_t at next_off. */
struct pool {
	char **slabs;
	size_t n_slabs, cap_slabs;
	size_t esize, next_off;
	uint32_t free_head;
};

struct az {
	struct az_config cfg;
	uint16_t *server_ports;
	struct az_stats stats;
	struct az_totals totals;
	uint64_t dropped;
	bool finished;

	/* two tables: the seals, which are most entries of a capture of
	 * short connections, apart, so that the lookup every packet makes in
	 * ft stays in cache; only a tuple not in ft is looked up in fs */
	struct flowtab ft;         /* slots and tombs */
	struct flowtab fs;         /* seals */
	struct pool conns;         /* struct conn */
	struct pool exts;          /* struct conn_ext */
	struct pool rps;           /* struct rstpair */
	struct ring tombs;         /* struct conn, finished, by last activity */
	struct ring seals;         /* struct seal, ended gracefully, likewise */
	struct dlist embryo;       /* SYN only, in order of last activity */
	uint64_t next_id;
	size_t live;
	uint32_t last;             /* connection of the previous segment: the
	                              next one is often of the same */

	struct az_rst_finding *findings;
	size_t n_findings, cap_findings;
	struct az_conn *retained;
	size_t n_retained, cap_retained;
	bool retained_sorted;

	struct fw2 fw2[2];         /* [AZ_SERVER], [AZ_CLIENT] */

	/* the memory bound (see az_new in analyzer.h) */
	size_t mem_limit;          /* SIZE_MAX: none */
	size_t mem_peak;
	size_t tl_bytes;           /* timeline buffers of the extensions */
};

static void ring_free(struct ring *R);
static bool ring_may_grow(struct az *az, const struct ring *R);
static void make_room(struct az *az);

static inline void *pool_at(const struct pool *p, uint32_t i)
{
	return p->slabs[i >> SLAB_SHIFT] + (size_t)(i & (SLAB_SIZE - 1)) * p->esize;
}

/* The same with the element type known, so no multiply by esize. */
static inline struct conn *slot(const struct az *az, uint32_t i)
{
	return (struct conn *)az->conns.slabs[i >> SLAB_SHIFT] + (i & (SLAB_SIZE - 1));
}

static inline void *ring_at(const struct ring *R, uint64_t pos)
{
	return R->chunks[(pos >> RING_SHIFT) & (R->cap_chunks - 1)] +
	       (size_t)(pos & (RING_CHUNK - 1)) * R->esize;
}

static inline struct conn *tomb_at(const struct az *az, uint64_t pos)
{
	return ring_at(&az->tombs, pos);
}

static inline struct seal *seal_at(const struct az *az, uint64_t pos)
{
	return ring_at(&az->seals, pos);
}

static inline bool is_tomb(uint32_t ref) { return (ref >> 30) == 2; }
static inline bool is_seal(uint32_t ref) { return (ref >> 30) == 1; }

/* The position in R that a ring reference names (see struct ring). */
static inline uint64_t ref_pos(const struct ring *R, uint32_t ref)
{
	uint64_t h = R->head;

	return h + (((ref & REF_POS_MASK) - (uint32_t)h) & REF_POS_MASK);
}

static inline uint64_t tomb_pos(const struct az *az, uint32_t ref)
{
	return ref_pos(&az->tombs, ref);
}

/* The connection a table value names: a slot or a tomb (not a seal). */
static inline struct conn *conn_at(const struct az *az, uint32_t ref)
{
	return is_tomb(ref) ? tomb_at(az, tomb_pos(az, ref)) : slot(az, ref);
}

static void pool_init(struct pool *p, size_t esize, size_t next_off)
{
	memset(p, 0, sizeof(*p));
	p->esize = esize;
	p->next_off = next_off;
	p->free_head = NONE;
}

static inline uint32_t *pool_next(const struct pool *p, uint32_t i)
{
	return (uint32_t *)((char *)pool_at(p, i) + p->next_off);
}

/* A free element index, growing the pool by one zeroed slab if needed;
 * NONE on allocation failure. */
static uint32_t pool_get(struct pool *p)
{
	uint32_t i;

	if (p->free_head == NONE) {
		char *slab;
		uint32_t base = (uint32_t)(p->n_slabs << SLAB_SHIFT);

		/* indexes stay below REF_SEAL (see struct ring) */
		if ((uint64_t)(p->n_slabs + 1) << SLAB_SHIFT > REF_SEAL)
			return NONE;
		if (p->n_slabs == p->cap_slabs) {
			size_t ncap = p->cap_slabs ? p->cap_slabs * 2 : 16;
			char **ns = realloc(p->slabs, ncap * sizeof(*ns));
			if (!ns)
				return NONE;
			p->slabs = ns;
			p->cap_slabs = ncap;
		}
		/* cache-line aligned, so a connection's first line really
		 * holds what struct conn puts there */
		if (posix_memalign((void **)&slab, 64, SLAB_SIZE * p->esize) != 0)
			return NONE;
		memset(slab, 0, SLAB_SIZE * p->esize);
		p->slabs[p->n_slabs++] = slab;
		/* thread the new elements onto the free list, lowest first */
		for (i = SLAB_SIZE; i-- > 0;) {
			*pool_next(p, base + i) = p->free_head;
			p->free_head = base + i;
		}
	}
	i = p->free_head;
	p->free_head = *pool_next(p, i);
	return i;
}

static void pool_put(struct pool *p, uint32_t i)
{
	*pool_next(p, i) = p->free_head;
	p->free_head = i;
}

static size_t pool_capacity(const struct pool *p)
{
	return p->n_slabs << SLAB_SHIFT;
}

static void pool_free(struct pool *p)
{
	size_t i;

	for (i = 0; i < p->n_slabs; i++) {
		free(p->slabs[i]);
		p->slabs[i] = NULL;
	}
	free(p->slabs);
	p->slabs = NULL;
	p->n_slabs = p->cap_slabs = 0;
}


/* ------------------------------------------------------------------ */
/* creation and teardown                                               */

static const struct flow_key *conn_key(const void *ctx, uint32_t ref)
{
	const struct az *az = ctx;

	if (is_seal(ref))
		return &seal_at(az, ref_pos(&az->seals, ref))->key;
	return &conn_at(az, ref)->key;
}

struct az *az_new(const struct az_config *cfg)
{
	struct az *az = calloc(1, sizeof(*az));

	if (!az)
		return NULL;
	if (cfg)
		az->cfg = *cfg;
	az->cfg.server_ports = NULL;
	az->cfg.n_server_ports = 0;
	if (cfg && cfg->n_server_ports > 0 && cfg->server_ports) {
		az->server_ports = malloc(cfg->n_server_ports * sizeof(uint16_t));
		if (!az->server_ports)
			goto err;
		memcpy(az->server_ports, cfg->server_ports,
		       cfg->n_server_ports * sizeof(uint16_t));
		az->cfg.server_ports = az->server_ports;
		az->cfg.n_server_ports = cfg->n_server_ports;
	}
	if (!az->cfg.timeline_head)
		az->cfg.timeline_head = 100;
	if (!az->cfg.timeline_tail)
		az->cfg.timeline_tail = 100;
	if (!az->cfg.max_retained)
		az->cfg.max_retained = 10000;
	if (!az->cfg.max_series)
		az->cfg.max_series = (size_t)1 << 20;
	az->mem_limit = az->cfg.max_memory ? az->cfg.max_memory : AZ_DEFAULT_MAX_MEMORY;
	pool_init(&az->conns, sizeof(struct conn), offsetof(struct conn, next_free));
	if (ft_init(&az->ft, 1024, conn_key, az) < 0)
		goto err;
	if (ft_init(&az->fs, 1024, conn_key, az) < 0) {
		ft_free(&az->ft);
		goto err;
	}
	pool_init(&az->exts, sizeof(struct conn_ext), offsetof(struct conn_ext, next_free));
	pool_init(&az->rps, sizeof(struct rstpair), offsetof(struct rstpair, next_free));
	az->embryo.head = az->embryo.tail = NONE;
	az->embryo.deadline = INFINITY;
	az->tombs.esize = sizeof(struct conn);
	az->tombs.deadline = INFINITY;
	az->seals.esize = sizeof(struct seal);
	az->seals.deadline = INFINITY;
	az->next_id = 1;
	az->last = NONE;
	az->retained_sorted = true;
	fw2_init(&az->fw2[AZ_SERVER], az->cfg.max_series);
	fw2_init(&az->fw2[AZ_CLIENT], az->cfg.max_series);
	return az;
err:
	free(az->server_ports);
	az->server_ports = NULL;
	free(az);
	return NULL;
}

void az_free(struct az *az)
{
	size_t i;

	if (!az)
		return;
	for (i = 0; i < pool_capacity(&az->exts); i++) {
		struct conn_ext *x = pool_at(&az->exts, (uint32_t)i);
		free(x->tl_head);
		x->tl_head = NULL;
		free(x->tl_tail);
		x->tl_tail = NULL;
	}
	pool_free(&az->exts);
	pool_free(&az->rps);
	pool_free(&az->conns);
	ring_free(&az->tombs);
	ring_free(&az->seals);
	for (i = 0; i < az->n_retained; i++) {
		/* head and tail share one allocation, owned through tl_head */
		free((void *)az->retained[i].tl_head);
		az->retained[i].tl_head = NULL;
	}
	free(az->retained);
	az->retained = NULL;
	free(az->findings);
	az->findings = NULL;
	fw2_free(&az->fw2[0]);
	fw2_free(&az->fw2[1]);
	ft_free(&az->ft);
	ft_free(&az->fs);
	free(az->server_ports);
	az->server_ports = NULL;
	free(az);
}

/* A fresh extension, its small timeline buffers kept from earlier use.
 * Only the fields that carry state are reset: the rings and line buffers
 * are read only below their counts, and clearing 1.7 KB per connection
 * shows in the profile of captures full of short connections. */
static struct conn_ext *ext_get(struct az *az)
{
	uint32_t i = pool_get(&az->exts);
	struct conn_ext *x;
	int d;

	if (i == NONE)
		return NULL;
	x = pool_at(&az->exts, i);
	x->self = i;
	for (d = 0; d < 2; d++) {
		http_dir_init(&x->hd[d]);
		x->x[d].ack_n = 0;
		x->x[d].d_n = x->x[d].d_head = 0;
		x->pend[d].active = false;
	}
	x->n_head = 0;
	x->n_tail = 0;
	x->tl_lost = 0;
	x->rp = NULL;
	return x;
}

static void ext_release(struct az *az, struct conn *c)
{
	struct conn_ext *x = c->x;

	if (!x)
		return;
	/* small buffers stay for the next connection, so a stream of short
	 * connections allocates nothing at all */
	if (x->cap_head > TL_KEEP) {
		az->tl_bytes -= x->cap_head * sizeof(*x->tl_head);
		free(x->tl_head);
		x->tl_head = NULL;
		x->cap_head = 0;
	}
	if (x->cap_tail > TL_KEEP) {
		az->tl_bytes -= x->cap_tail * sizeof(*x->tl_tail);
		free(x->tl_tail);
		x->tl_tail = NULL;
		x->cap_tail = 0;
	}
	if (x->rp) {
		pool_put(&az->rps, x->rp->self);
		x->rp = NULL;
	}
	pool_put(&az->exts, x->self);
	c->x = NULL;
}

/* Set up x's RST fates from their pool (left NULL without memory: the
 * RSTs then go unjudged at their receiver). */
static void rp_get(struct az *az, struct conn_ext *x)
{
	uint32_t i = pool_get(&az->rps);
	int d;

	if (i == NONE)
		return;
	x->rp = pool_at(&az->rps, i);
	x->rp->self = i;
	for (d = 0; d < 2; d++) {
		x->rp->rf[d].q_n = x->rp->rf[d].q_head = 0;
		x->rp->rf[d].accepted = false;
		x->rp->rf[d].challenged = false;
		x->rp->rf[d].n_fates = 0;
	}
}

static struct dlist *list_of(struct az *az, const struct conn *c)
{
	return c->list == L_EMBRYO ? &az->embryo : NULL;
}

static void list_unlink(struct az *az, struct conn *c)
{
	struct dlist *L = list_of(az, c);

	if (!L)
		return;
	if (c->prev != NONE) {
		slot(az, c->prev)->next = c->next;
	} else {
		L->head = c->next;
		L->deadline = -INFINITY;
	}
	if (c->next != NONE)
		slot(az, c->next)->prev = c->prev;
	else
		L->tail = c->prev;
	c->prev = c->next = NONE;
	c->list = L_NONE;
}

static void list_append(struct az *az, struct conn *c, uint8_t which)
{
	struct dlist *L;

	list_unlink(az, c);
	c->list = which;
	L = list_of(az, c);
	c->prev = L->tail;
	c->next = NONE;
	if (L->tail != NONE) {
		slot(az, L->tail)->next = c->self;
	} else {
		L->head = c->self;
		L->deadline = -INFINITY;
	}
	L->tail = c->self;
}

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

static struct conn *conn_new(struct az *az, const struct flow_key *k,
                             uint32_t hash, bool src_is_lo,
                             const struct dec_tcp *s, double t, uint64_t idx)
{
	uint32_t i = pool_get(&az->conns);
	struct conn_ext *x;
	struct conn *c;
	bool src_client;

	if (i == NONE)
		return NULL;
	x = ext_get(az);
	if (!x) {
		pool_put(&az->conns, i);
		return NULL;
	}
	if (ft_insert(&az->ft, hash, i) < 0) {
		pool_put(&az->exts, x->self);
		pool_put(&az->conns, i);
		return NULL;
	}
	c = slot(az, i);
	memset(c, 0, offsetof(struct conn, http));
	c->self = i;
	c->x = x;
	c->in_use = true;
	c->key = *k;
	c->hash = hash;
	c->prev = c->next = NONE;
	c->list = L_NONE;
	c->id = az->next_id++;
	c->first_time = c->last_time = t;
	c->first_packet = c->last_packet = idx;
	c->first_close = c->first_rst = -1;
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
	az->live++;
	return c;
}

/* ------------------------------------------------------------------ */
/* per-side state, as far as the wire shows it                         */

static enum az_state next_state(enum az_state s, enum ev e)
{
	if (e == EV_RST)
		return AZ_ST_CLOSED; /* RFC 9293 3.10.7: an accepted RST closes any state */
	switch (s) {
	case AZ_ST_UNKNOWN:
		/* nothing sent yet (a listener, or the capture began late) */
		if (e == EV_SND_SYN)
			return AZ_ST_SYN_SENT;       /* RFC 9293 3.10.1: OPEN sends SYN */
		if (e == EV_SND_SYNACK)
			return AZ_ST_SYN_RECEIVED;   /* RFC 9293 3.10.7.2: LISTEN gets SYN */
		if (e == EV_ESTAB)
			return AZ_ST_ESTABLISHED;
		if (e == EV_SND_FIN)
			return AZ_ST_FIN_WAIT_1;
		if (e == EV_RCV_FIN)
			return AZ_ST_CLOSE_WAIT;
		return s;
	case AZ_ST_SYN_SENT:
		if (e == EV_ESTAB)
			return AZ_ST_ESTABLISHED;    /* RFC 9293 3.10.7.3: SYN-ACK, send ACK */
		if (e == EV_SND_SYNACK)
			return AZ_ST_SYN_RECEIVED;   /* RFC 9293 3.10.7.3: simultaneous open */
		return s;
	case AZ_ST_SYN_RECEIVED:
		if (e == EV_ESTAB)
			return AZ_ST_ESTABLISHED;    /* RFC 9293 3.10.7.4: ACK of our SYN */
		if (e == EV_SND_FIN)
			return AZ_ST_FIN_WAIT_1;     /* RFC 9293 3.10.4: CLOSE in SYN-RECEIVED */
		return s;
	case AZ_ST_ESTABLISHED:
		if (e == EV_SND_FIN)
			return AZ_ST_FIN_WAIT_1;     /* RFC 9293 3.10.4: CLOSE sends FIN */
		if (e == EV_RCV_FIN)
			return AZ_ST_CLOSE_WAIT;     /* RFC 9293 3.10.7.4 eighth: FIN received */
		return s;
	case AZ_ST_FIN_WAIT_1:
		if (e == EV_FIN_ACKED)
			return AZ_ST_FIN_WAIT_2;     /* RFC 9293 3.10.7.4: our FIN ACKed */
		if (e == EV_RCV_FIN)
			return AZ_ST_CLOSING;        /* RFC 9293 3.10.7.4: FIN before our FIN's ACK */
		return s;
	case AZ_ST_FIN_WAIT_2:
		if (e == EV_RCV_FIN)
			return AZ_ST_TIME_WAIT;      /* RFC 9293 3.10.7.4: FIN in FIN-WAIT-2 */
		return s;
	case AZ_ST_CLOSING:
		if (e == EV_FIN_ACKED)
			return AZ_ST_TIME_WAIT;      /* RFC 9293 3.10.7.4: ACK of our FIN in CLOSING */
		return s;
	case AZ_ST_CLOSE_WAIT:
		if (e == EV_SND_FIN)
			return AZ_ST_LAST_ACK;       /* RFC 9293 3.10.4: CLOSE in CLOSE-WAIT */
		return s;
	case AZ_ST_LAST_ACK:
		if (e == EV_FIN_ACKED)
			return AZ_ST_CLOSED;         /* RFC 9293 3.10.7.4: ACK of our FIN in LAST-ACK */
		return s;
	case AZ_ST_TIME_WAIT:                /* RFC 9293 3.10.7.4: waits out 2 MSL */
	case AZ_ST_CLOSED:                   /* RFC 9293 3.3.2: no connection */
		return s;
	}
	return s;
}

static void side_ev(struct conn *c, enum az_side side, enum ev e)
{
	struct cdir *d = &c->d[dir_of(side)];
	d->state = next_state(d->state, e);
}

/* ------------------------------------------------------------------ */
/* FIN_WAIT_2                                                          */

static void fw2_open(struct az *az, struct conn *c, enum az_side holder, double t)
{
	if (c->fw2_open[holder] || c->fw2[holder].present)
		return;
	c->fw2_open[holder] = true;
	c->fw2[holder].present = true;
	c->fw2[holder].start = t;
	c->fw2[holder].end = t;
	fw2_start(&az->fw2[holder], t);
}

static void fw2_close(struct az *az, struct conn *c, enum az_side holder,
                      enum az_fw2_end how, double t)
{
	if (!c->fw2_open[holder])
		return;
	c->fw2_open[holder] = false;
	if (t < c->fw2[holder].start)
		t = c->fw2[holder].start;
	c->fw2[holder].end = t;
	c->fw2[holder].ending = how;
	fw2_end(&az->fw2[holder], c->fw2[holder].start, t, how);
}

/* ------------------------------------------------------------------ */
/* rst_before_ack                                                      */

/* Keep the finding f of direction d's sender (the RST's judging is
 * judge.c's): one per sender and connection. */
static void record_finding(struct az *az, struct conn *c, int d,
                           const struct az_rst_finding *f)
{
	enum az_side side = side_of(d);

	if (c->flagged_sides & (1u << side))
		return;
	c->flagged_sides |= (uint8_t)(1u << side);
	c->flagged = true;
	az->totals.rst_before_ack++;
	az->totals.rst_before_ack_by_sender[side]++;
	az->totals.by_basis[f->basis]++;
	uint32_t risk = f->bytes_at_risk_at_server > f->bytes_at_risk_at_client
	                ? f->bytes_at_risk_at_server : f->bytes_at_risk_at_client;
	if (risk > az->totals.bytes_at_risk_max[side])
		az->totals.bytes_at_risk_max[side] = risk;
	if (az->n_findings >= az->cfg.max_retained)
		return;
	if (az->n_findings == az->cap_findings) {
		size_t ncap = az->cap_findings ? az->cap_findings * 2 : 16;
		struct az_rst_finding *nf = realloc(az->findings, ncap * sizeof(*nf));
		if (!nf)
			return; /* flagged but not kept: counted as not retained */
		az->findings = nf;
		az->cap_findings = ncap;
	}
	c->finding_idx[side] = (int32_t)az->n_findings;
	az->findings[az->n_findings] = *f;
	az->findings[az->n_findings].conn_id = c->id;
	az->n_findings++;
}

/* Decide the RST pd describes (sent in direction d), once. */
static void judge(struct az *az, struct conn *c, int d, struct pend *pd)
{
	struct az_rst_finding f;

	if (!pd->active)
		return;
	pd->active = false;
	if (judge_rst(c, d, pd, &f))
		record_finding(az, c, d, &f);
}

static void pend_finalize(struct az *az, struct conn *c, int d)
{
	if (c->x && c->x->pend[d].active)
		judge(az, c, d, &c->x->pend[d]);
}

static bool has_pending(const struct conn *c)
{
	return c->x && (c->x->pend[0].active || c->x->pend[1].active);
}

/* The first RST in direction d: what each end could know (judge.c). */
static void pend_start(struct az *az, struct conn *c, int d,
                       const struct dec_tcp *s, double t, uint64_t idx)
{
	struct pend local;
	/* without the extension (a RST long after a graceful end) the RST is
	 * judged at once on what is known now */
	struct pend *pd = c->x ? &c->x->pend[d] : &local;

	judge_rst_open(c, d, s, t, idx, pd);
	if (!c->rtt_known || !c->x)
		judge(az, c, d, pd);
}

/* Each side's finding gets its receiver's side (client_impact), now that
 * every RST and ACK of the connection is in; counted in the totals. */
static void finish_findings(struct az *az, struct conn *c)
{
	int side;

	for (side = 0; side < 2; side++) {
		struct az_rst_finding tmp, *f;

		if (!(c->flagged_sides & (1u << side)))
			continue;
		f = c->finding_idx[side] >= 0 ? &az->findings[c->finding_idx[side]] : &tmp;
		judge_impact(c, dir_of((enum az_side)side), f);
		az->totals.by_impact[side][f->impact]++;
	}
}

/* ------------------------------------------------------------------ */
/* timeline                                                            */

static void tl_append(struct az *az, struct conn_ext *c, const struct dec_tcp *s,
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
	if (c->x)
		http_begin(&c->x->hd[d], base + 1);
}

static void on_syn(struct conn *c, const struct dec_tcp *s, int d, double t)
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
		side_ev(c, side_of(d), EV_SND_SYN);
	} else {
		if (d == AZ_S2C && !c->synack_seen) {
			c->synack_seen = true;
			c->t_synack = t;
		}
		side_ev(c, side_of(d), EV_SND_SYNACK);
	}
}

static void on_data(struct conn *c, const struct dec_tcp *s, int d, double t,
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
		side_ev(c, AZ_CLIENT, EV_ESTAB);
		side_ev(c, AZ_SERVER, EV_ESTAB);
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
		fw2_close(az, c, side_of(d), AZ_FW2_CLIENT_FIN, t);
		if (d == AZ_S2C && c->t_client_fin_in == 0)
			c->t_client_fin_in = t;
	}
	if (P->fin_seen && !P->fin_acked && seq_geq(a, P->fin_seq + 1)) {
		P->fin_acked = true;
		side_ev(c, side_of(!d), EV_FIN_ACKED);
		side_ev(c, side_of(d), EV_RCV_FIN);
		/* the FIN sender now waits for its peer's FIN: FIN_WAIT_2,
		 * unless that FIN is already here (or in this segment) */
		if (!D->fin_seen && !(s->flags & LL_TH_FIN) &&
		    !D->rst_seen && !P->rst_seen && !(s->flags & LL_TH_RST))
			fw2_open(az, c, side_of(!d), t);
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
	} else if (!c->first_close_rst && c->first_close == (int8_t)side_of(!d) &&
	           P->fin_seen && !P->fin_acked) {
		/* this FIN does not acknowledge the other: they crossed */
		c->simultaneous = true;
	}
	side_ev(c, side_of(d), EV_SND_FIN);
	if (c->x)
		http_fin(&c->http, &c->x->hd[d], d, fseq);
	if (d == AZ_S2C) {
		c->linger_armed = true;
		c->linger_from_start = !P->base_known && !P->acked_seen;
		c->linger_acked0 = acked_now(P);
	}
	/* a FIN in order ends the peer's FIN_WAIT_2 when it passes; one
	 * beyond a hole only when the peer ACKs it (on_ack) */
	if (!D->gap) {
		fw2_close(az, c, side_of(!d), AZ_FW2_CLIENT_FIN, t);
		if (d == AZ_C2S && c->t_client_fin_in == 0)
			c->t_client_fin_in = t;
	}
}

static void on_rst_first(struct az *az, struct conn *c, const struct dec_tcp *s,
                         int d, double t, uint64_t idx)
{
	struct cdir *D = &c->d[d], *P = &c->d[!d];

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
		c->rst_after_both_fins = D->fin_seen && P->fin_seen;
		c->rst_sender_had_fin = D->fin_seen;
		c->rst_refused_syn = d == AZ_S2C && c->syn_seen && !c->synack_seen;
	}
	/* after a graceful end every byte was acknowledged: nothing left
	 * for a RST to destroy (and a seal could not record a finding) */
	if (!c->ended_gracefully)
		pend_start(az, c, d, s, t, idx);
}

static void mark_finished(struct az *az, struct conn *c)
{
	double rtt = c->rtt_known ? c->h_s + c->h_c : 0.0;

	c->finished = true;
	c->grace = 4 * rtt;
	if (c->grace < GRACE_MIN)
		c->grace = GRACE_MIN;
	if (c->grace > GRACE_MAX)
		c->grace = GRACE_MAX;
	/* az_packet() moves it to the tomb ring after this packet */
	list_unlink(az, c);
}

static void track(struct az *az, struct conn *c, const struct dec_tcp *s,
                  int d, double t, uint64_t idx)
{
	struct cdir *D = &c->d[d];
	uint8_t fl = s->flags;
	uint32_t start;
	int k;

	/* a RST's receiver view is final once a later packet shows up */
	if (c->finished && c->x) {
		/* only a RST has these waiting (and a RST finishes it) */
		for (k = 0; k < 2; k++) {
			if (c->x->pend[k].active && t > c->x->pend[k].limit)
				judge(az, c, k, &c->x->pend[k]);
			if (c->x->rp && c->x->rp->rf[k].q_n > 0)
				judge_rst_due(c, k, t);
		}
	}
	c->last_time = t;
	c->last_packet = idx;
	D->packets++;
	if (c->x)
		tl_append(az, c->x, s, d, t, idx);
	/* keep the embryo list in order of last activity; a connection
	 * stays in it only while its client's SYNs are all there is (a
	 * finished one goes to the tomb ring's tail after this packet) */
	if (!c->finished) {
		if ((s->flags & (LL_TH_SYN | LL_TH_ACK | LL_TH_RST)) == LL_TH_SYN &&
		    d == AZ_C2S && !c->synack_seen && c->d[AZ_S2C].packets == 0)
			list_append(az, c, L_EMBRYO);
		else if (c->list == L_EMBRYO)
			list_unlink(az, c);
	}

	if (fl & LL_TH_SYN)
		on_syn(c, s, d, t);
	else if (!D->base_known)
		set_base(c, d, s->seq - 1);
	start = s->seq + ((fl & LL_TH_SYN) ? 1 : 0);

	if (s->seg_len > 0 && !(fl & LL_TH_RST))
		on_data(c, s, d, t, idx, start);
	if (fl & LL_TH_RST) {
		D->rst_count++;
		if (!c->ended_gracefully) {
			if (c->x && !c->x->rp)
				rp_get(az, c->x);
			judge_note_rst(c, d, s, t, idx);
		}
		if (!D->rst_seen)
			on_rst_first(az, c, s, d, t, idx);
	}
	if (fl & LL_TH_ACK)
		on_ack(az, c, s, d, t);
	if ((fl & LL_TH_FIN) && !(fl & LL_TH_RST))
		on_fin(az, c, s, d, t, idx, start);
	if (fl & LL_TH_RST) {
		enum az_side sender = side_of(d);
		int h;

		for (h = 0; h < 2; h++)
			fw2_close(az, c, (enum az_side)h,
			          (enum az_side)h == sender ? AZ_FW2_SERVER_RST :
			                                      AZ_FW2_CLIENT_RST, t);
		side_ev(c, AZ_CLIENT, EV_RST);
		side_ev(c, AZ_SERVER, EV_RST);
	}
	if (!c->finished &&
	    (c->d[0].rst_seen || c->d[1].rst_seen ||
	     (c->d[0].fin_acked && c->d[1].fin_acked))) {
		mark_finished(az, c);
		/* ended gracefully: every byte was ACKed, so nothing can flag
		 * it any more; its history and parser state can go now */
		if (!c->d[0].rst_seen && !c->d[1].rst_seen &&
		    !has_pending(c)) {
			enum az_linger_end how;

			c->g_lingered = judge_linger(c, &c->g_linger_bytes,
			                             &c->g_linger_seconds, &how);
			c->ended_gracefully = true;
			c->tl_dropped = true;
			ext_release(az, c);
		}
	}
}

/* ------------------------------------------------------------------ */
/* summaries                                                           */

static enum az_kind kind_of(const struct conn *c)
{
	bool fin0 = c->d[0].fin_seen, fin1 = c->d[1].fin_seen;

	if (c->first_rst < 0) {
		if (fin0 && fin1)
			return AZ_KIND_GRACEFUL;
		if (fin0 || fin1)
			return AZ_KIND_HALF_OPEN;
		return AZ_KIND_OPEN;
	}
	if (c->rst_after_both_fins || c->rst_refused_syn)
		return AZ_KIND_RESET;
	return c->rst_sender_had_fin ? AZ_KIND_FIN_THEN_RST : AZ_KIND_ABORT;
}

static enum az_initiator initiator_of(const struct conn *c)
{
	if (c->simultaneous)
		return AZ_INIT_SIMULTANEOUS;
	if (c->first_close < 0)
		return AZ_INIT_NONE;
	return c->first_close == AZ_CLIENT ? AZ_INIT_CLIENT : AZ_INIT_SERVER;
}

/* The base of direction d for output: known, or guessed from the peer's
 * first ACK when the direction never sent a segment. */
static uint32_t out_base(const struct cdir *D)
{
	if (D->base_known)
		return D->base;
	if (D->acked_seen)
		return D->first_ack - 1;
	return 0;
}

static void fill_dir(struct az_dir *o, const struct cdir *D, uint32_t http_msgs)
{
	uint32_t b = out_base(D);

	o->isn_known = D->isn_known;
	o->isn = b;
	o->data_end = D->base_known ? D->data_end - b : 0;
	o->fin_seen = D->fin_seen;
	o->fin_seq = D->fin_seen ? D->fin_seq - b : 0;
	o->fin_time = D->fin_time;
	o->fin_packet = D->fin_packet;
	o->acked_seen = D->acked_seen;
	o->acked = D->acked_seen ? D->acked - b : 0;
	o->rst_seen = D->rst_seen;
	o->rst_time = D->rst_time;
	o->rst_packet = D->rst_packet;
	o->rst_seq = D->rst_seen ? D->rst_seq - b : 0;
	o->rst_count = D->rst_count;
	o->packets = D->packets;
	o->bytes = D->bytes;
	o->retrans_packets = D->retrans_packets;
	o->retrans_bytes = D->retrans_bytes;
	o->mss = D->mss;
	o->wscale = D->wscale;
	o->sack_permitted = D->sack_permitted;
	o->timestamps = D->timestamps;
	o->http_messages = http_msgs;
}

static void fill_pub(const struct conn *c, struct az_conn *o)
{
	const struct flow_key *k = &c->key;
	const struct cdir *cs = &c->d[AZ_C2S], *sc = &c->d[AZ_S2C];
	int i;

	memset(o, 0, sizeof(*o));
	o->id = c->id;
	o->af = k->af;
	memcpy(o->client_addr, c->client_is_lo ? k->lo_addr : k->hi_addr, 16);
	memcpy(o->server_addr, c->client_is_lo ? k->hi_addr : k->lo_addr, 16);
	o->client_port = c->client_is_lo ? k->lo_port : k->hi_port;
	o->server_port = c->client_is_lo ? k->hi_port : k->lo_port;
	o->role_inferred = c->role_inferred;
	o->handshake_seen = c->syn_seen && c->synack_seen && c->hsack_seen;
	o->rtt_known = c->rtt_known;
	o->h_s = c->rtt_known ? c->h_s : 0;
	o->h_c = c->rtt_known ? c->h_c : 0;
	o->first_time = c->first_time;
	o->last_time = c->last_time;
	o->first_packet = c->first_packet;
	o->last_packet = c->last_packet;
	fill_dir(&o->c2s, cs, c->http.requests);
	fill_dir(&o->s2c, sc, c->http.status_lines);
	o->initiator = initiator_of(c);
	o->kind = kind_of(c);
	o->client_end = cs->state;
	o->server_end = sc->state;

	o->lingered = judge_linger(c, &o->linger_bytes, &o->linger_seconds,
	                           &o->linger_end);
	o->server_fw2 = c->fw2[AZ_SERVER];
	o->client_fw2 = c->fw2[AZ_CLIENT];

	o->http_requests = c->http.requests;
	o->http_responses = c->http.responses;
	o->http_unanswered = c->http.requests > c->http.responses ?
	                     c->http.requests - c->http.responses : 0;
	o->n_responses = c->http.n_resp;
	for (i = 0; i < c->http.n_resp; i++) {
		uint32_t b = out_base(sc);
		o->responses[i] = c->http.resp[i];
		o->responses[i].seq_start -= b;
		if (o->responses[i].seq_end)
			o->responses[i].seq_end -= b;
	}
	o->evicted = c->evicted;
	o->finding_of[AZ_CLIENT] = c->finding_idx[AZ_CLIENT];
	o->finding_of[AZ_SERVER] = c->finding_idx[AZ_SERVER];
	o->finding = c->finding_idx[AZ_SERVER] >= 0 ? c->finding_idx[AZ_SERVER] :
	             c->finding_idx[AZ_CLIENT];
}

/* Copy a timeline entry, made relative. */
static struct az_tl_pkt tl_rel(const struct conn *c, const struct az_tl_pkt *e)
{
	struct az_tl_pkt r = *e;
	const struct cdir *D = &c->d[e->dir & 1], *P = &c->d[!(e->dir & 1)];

	r.seq = e->seq - out_base(D);
	r.ack = (e->flags & LL_TH_ACK) ? e->ack - out_base(P) : 0;
	if (!(e->flags & LL_TH_SYN) && D->wscale >= 0 && P->wscale >= 0)
		r.win = e->win << (D->wscale > 14 ? 14 : D->wscale);
	return r;
}

static void retain(struct az *az, const struct conn *c, const struct az_conn *pub)
{
	const struct conn_ext *x = c->x;
	struct az_conn *o;
	struct az_tl_pkt *tl = NULL;
	uint32_t n_tail = 0, i;
	uint64_t first;

	if (az->n_retained == az->cap_retained) {
		size_t ncap = az->cap_retained ? az->cap_retained * 2 : 16;
		struct az_conn *nr = realloc(az->retained, ncap * sizeof(*nr));
		if (!nr) {
			az->totals.not_retained++;
			return;
		}
		az->retained = nr;
		az->cap_retained = ncap;
	}
	if (x) {
		n_tail = x->cap_tail == 0 ? 0 :
		         (uint32_t)(x->n_tail < x->cap_tail ? x->n_tail : x->cap_tail);
		tl = malloc(((size_t)x->n_head + n_tail + 1) * sizeof(*tl));
	}
	o = &az->retained[az->n_retained++];
	*o = *pub;
	az->totals.retained++;
	if (az->n_retained > 1 && az->retained[az->n_retained - 2].id > o->id)
		az->retained_sorted = false;
	if (!tl)
		return; /* kept without a timeline */
	for (i = 0; i < x->n_head; i++)
		tl[i] = tl_rel(c, &x->tl_head[i]);
	first = x->n_tail > n_tail ? x->n_tail % x->cap_tail : 0;
	for (i = 0; i < n_tail; i++)
		tl[x->n_head + i] = tl_rel(c, &x->tl_tail[(first + i) % x->cap_tail]);
	o->tl_head = tl;
	o->n_head = x->n_head;
	o->tl_tail = tl + x->n_head;
	o->n_tail = n_tail;
	o->tl_omitted = (x->n_tail - n_tail) + x->tl_lost;
}

/* One connection more in the totals (a seal's, or conn_close()'s). */
static void count_conn(struct az *az, enum az_kind kind, enum az_initiator init,
                       bool lingered, enum az_linger_end how, bool role_inferred)
{
	az->totals.connections++;
	az->totals.by_kind[kind]++;
	az->totals.by_initiator[init]++;
	if (lingered) {
		az->totals.lingered++;
		az->totals.linger_ends[how]++;
	}
	if (role_inferred)
		az->totals.role_inferred++;
}

/* Summarize c, hand it out, and free its slot. */
static void conn_close(struct az *az, struct conn *c, double end_time)
{
	bool lingered;
	int k;

	enum az_linger_end how = AZ_LINGER_CAPTURE_END;

	for (k = 0; k < 2; k++)
		pend_finalize(az, c, k);
	if (c->flagged)
		finish_findings(az, c);
	fw2_close(az, c, AZ_SERVER, AZ_FW2_CAPTURE_END, end_time);
	fw2_close(az, c, AZ_CLIENT, AZ_FW2_CAPTURE_END, end_time);
	if (az->cfg.on_conn || c->flagged) {
		struct az_conn pub;

		fill_pub(c, &pub);
		for (k = 0; k < 2; k++)
			if (c->finding_idx[k] >= 0)
				az->findings[c->finding_idx[k]].unanswered_requests =
					pub.http_unanswered;
		if (az->cfg.on_conn)
			az->cfg.on_conn(&pub, az->cfg.arg);
		lingered = pub.lingered;
		how = pub.linger_end;
		if (c->flagged) {
			if (c->finding_idx[0] >= 0 || c->finding_idx[1] >= 0)
				retain(az, c, &pub);
			else
				az->totals.not_retained++;
		}
	} else {
		/* nobody wants the record: count it without building it
		 * (most connections of a long capture end here) */
		uint64_t lb;
		double ls;

		lingered = judge_linger(c, &lb, &ls, &how);
	}
	count_conn(az, kind_of(c), initiator_of(c), lingered, how, c->role_inferred);
	list_unlink(az, c);
	ft_remove(&az->ft, c->hash, c->self);
	if (az->last == c->self)
		az->last = NONE;
	az->live--;
	ext_release(az, c);
	c->in_use = false;
	if (!is_tomb(c->self))
		pool_put(&az->conns, c->self);
	else if (tomb_pos(az, c->self) == az->tombs.head)
		az->tombs.deadline = -INFINITY; /* a later tomb may be due sooner */
}

/* ------------------------------------------------------------------ */
/* the rings of finished connections (see struct ring)                 */

/* Make sure R's tail position has a chunk. Returns 0, or -1 without
 * memory. */
static int ring_room(struct ring *R)
{
	uint64_t first = R->head >> RING_SHIFT, want = R->tail >> RING_SHIFT;
	char *chunk;

	if ((R->tail & (RING_CHUNK - 1)) != 0)
		return 0; /* inside a chunk that is there */
	if (R->tail - R->head >= REF_POS_MASK)
		return -1; /* references would become ambiguous */
	if (want - first >= R->cap_chunks) {
		/* every chunk pointer is in use: double the circle, each chunk
		 * keeping its place modulo the new size */
		size_t ncap = R->cap_chunks ? R->cap_chunks * 2 : 16;
		char **nc = calloc(ncap, sizeof(*nc));
		uint64_t q;

		if (!nc)
			return -1;
		for (q = first; q < want; q++)
			nc[q & (ncap - 1)] = R->chunks[q & (R->cap_chunks - 1)];
		free(R->chunks);
		R->chunks = nc;
		R->cap_chunks = ncap;
	}
	if (R->spare) {
		chunk = R->spare;
		R->spare = NULL;
	} else if (posix_memalign((void **)&chunk, 64, RING_CHUNK * R->esize) != 0) {
		return -1;
	}
	R->chunks[want & (R->cap_chunks - 1)] = chunk;
	return 0;
}

/* Drop R's (dead) head entry; an emptied chunk becomes the spare. */
static void ring_pop(struct ring *R)
{
	uint64_t q = R->head >> RING_SHIFT;

	R->head++;
	if ((R->head & (RING_CHUNK - 1)) == 0 || R->head == R->tail) {
		/* leaving chunk q (or the ring is empty: start over at a
		 * chunk boundary next time, so chunk q can be reused) */
		char **cp = &R->chunks[q & (R->cap_chunks - 1)];

		if (R->head == R->tail && (R->head & (RING_CHUNK - 1)) != 0)
			R->head = R->tail = (q + 1) << RING_SHIFT;
		if (R->spare)
			free(*cp);
		else
			R->spare = *cp;
		*cp = NULL;
	}
}

static void ring_free(struct ring *R)
{
	size_t i;

	for (i = 0; i < R->cap_chunks; i++) {
		free(R->chunks[i]);
		R->chunks[i] = NULL;
	}
	free(R->chunks);
	R->chunks = NULL;
	free(R->spare);
	R->spare = NULL;
}

/* ------------------------------------------------------------------ */
/* the memory bound (see az_new in analyzer.h)                         */

static size_t pool_bytes(const struct pool *p)
{
	return p->n_slabs * SLAB_SIZE * p->esize + p->cap_slabs * sizeof(char *);
}

static size_t ring_bytes(const struct ring *R)
{
	size_t chunks = 0;

	if (R->tail != R->head)
		chunks = (size_t)(((R->tail - 1) >> RING_SHIFT) - (R->head >> RING_SHIFT) + 1);
	if (R->spare)
		chunks++;
	return chunks * RING_CHUNK * R->esize + R->cap_chunks * sizeof(char *);
}

/* Bytes the store holds now. */
static size_t mem_used(const struct az *az)
{
	return pool_bytes(&az->conns) + pool_bytes(&az->exts) + pool_bytes(&az->rps) +
	       ring_bytes(&az->tombs) + ring_bytes(&az->seals) +
	       (az->ft.mask + 1 + az->fs.mask + 1) * sizeof(struct ft_slot) +
	       az->tl_bytes;
}

/* True if growing the store by grow bytes keeps it within the bound
 * (and notes the peak it would reach). */
static bool mem_may_grow(struct az *az, size_t grow)
{
	size_t now = mem_used(az);

	if (az->mem_limit != SIZE_MAX && now + grow > az->mem_limit)
		return false;
	if (now + grow > az->mem_peak)
		az->mem_peak = now + grow;
	return true;
}

/* What one more connection in progress would add to the store. */
static size_t growth_for_new(const struct az *az)
{
	size_t g = 0;

	if (az->conns.free_head == NONE)
		g += SLAB_SIZE * az->conns.esize;
	if (az->exts.free_head == NONE)
		/* and the small timeline buffers each one keeps */
		g += SLAB_SIZE * (az->exts.esize + 2 * TL_MIN * sizeof(struct az_tl_pkt));
	if ((az->ft.used + 1) * 2 > az->ft.mask + 1)
		g += 2 * (az->ft.mask + 1) * sizeof(struct ft_slot);
	return g;
}

/* May ring R take one more entry (a new chunk only within the bound)? */
static bool ring_may_grow(struct az *az, const struct ring *R)
{
	if ((R->tail & (RING_CHUNK - 1)) != 0 || R->spare)
		return true;
	return mem_may_grow(az, RING_CHUNK * R->esize);
}

/* Nothing of c's can still be at risk: every byte each side sent is
 * acknowledged and no RST waits to be judged. */
static bool settled(const struct conn *c)
{
	int d;

	if (has_pending(c))
		return false;
	for (d = 0; d < 2; d++) {
		const struct cdir *D = &c->d[d];
		if (D->base_known && seq_after(D->data_end, acked_now(D)))
			return false;
	}
	return true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* End c, in progress, for the memory bound. */
static void evict(struct az *az, struct conn *c)
{
	az->totals.evicted++;
	if (c->fw2_open[0] || c->fw2_open[1])
		az->totals.evicted_fin_wait_2++;
	c->evicted = true;
	conn_close(az, c, c->last_time);
}

/* End up to n connections in progress, least recently active first: in
 * pass 0 only settled ones without FIN_WAIT_2, in pass 1 any but
 * FIN_WAIT_2 holders, in pass 2 any. Returns how many. */
static size_t evict_live(struct az *az, size_t n)
{
	enum { SAMPLE = 4096 };
	double *smp, thr;
	size_t cap = pool_capacity(&az->conns), step, i, k = 0, done = 0;
	int pass;

	if (az->live == 0 || n == 0)
		return 0;
	smp = malloc(SAMPLE * sizeof(*smp));
	if (!smp)
		return 0;
	/* the last activity below which about n of them lie, from a sample */
	step = cap / SAMPLE + 1;
	for (i = 0; i < cap && k < SAMPLE; i += step) {
		const struct conn *c = slot(az, (uint32_t)i);
		if (c->in_use)
			smp[k++] = c->last_time;
	}
	if (k == 0) {
		free(smp);
		return 0;
	}
	qsort(smp, k, sizeof(*smp), cmp_double);
	i = (size_t)((double)k * (double)n / (double)az->live);
	thr = smp[i < k ? i : k - 1];
	free(smp);
	for (pass = 0; pass < 3 && done < n; pass++) {
		for (i = 0; i < cap && done < n; i++) {
			struct conn *c = slot(az, (uint32_t)i);
			bool fw2 = c->fw2_open[0] || c->fw2_open[1];

			if (!c->in_use || c->last_time > thr)
				continue;
			if (pass < 2 && fw2)
				continue;
			if (pass == 0 && !settled(c))
				continue;
			evict(az, c);
			done++;
		}
		thr = INFINITY; /* later passes: whatever it takes */
	}
	return done;
}

/*
 * A new connection is about to be made and the store would have to grow
 * past the bound: end a batch of others (a sixteenth of those in
 * progress, at least one), so that their slots serve the next ones
 * without growing; in the order az_new's comment gives.
 */
static void make_room(struct az *az)
{
	size_t want = az->live / 16 + 1, done = 0, g = growth_for_new(az);
	struct ring *R = &az->tombs;

	if (g == 0 || mem_may_grow(az, g))
		return; /* (most of the time: a free slot is waiting) */
	while (done < want && az->embryo.head != NONE) {
		az->totals.evicted_embryos++;
		conn_close(az, slot(az, az->embryo.head), slot(az, az->embryo.head)->last_time);
		done++;
	}
	/* finished connections hold an extension until their grace ends */
	while (done < want && R->head != R->tail) {
		struct conn *c = tomb_at(az, R->head);

		if (c->in_use) {
			az->totals.grace_cut++;
			conn_close(az, c, c->last_time);
			done++;
		}
		ring_pop(R);
	}
	R->deadline = R->head == R->tail ? INFINITY : -INFINITY;
	if (done < want)
		evict_live(az, want - done);
}

/* Copy n bytes (a multiple of 16, both ends 16-byte aligned) to memory
 * not touched for seconds. With SSE2 the stores are non-temporal: plain
 * stores would first read every line in, doubling the memory traffic that
 * dominates the cost of a capture of short connections; what is copied
 * is read back only at expiry or if a late packet comes. */
static void copy_cold(void *dst, const void *src, size_t n)
{
#ifdef __SSE2__
	size_t i;

	for (i = 0; i < n; i += 16)
		_mm_stream_si128((__m128i *)((char *)dst + i),
		                 _mm_load_si128((const __m128i *)((const char *)src + i)));
	_mm_sfence();
#else
	memcpy(dst, src, n);
#endif
}

/* Copy c into the tomb t: all of it but the unused end of the HTTP
 * response table. Lines 0 and 1 go through the cache (expiry and a reused
 * tuple read them, and tomb_put() sets self right away; writing all of it
 * non-temporally measured slower), the rest does not. */
static void tomb_copy(struct conn *t, const struct conn *c)
{
	size_t n = offsetof(struct conn, http.resp) +
	           (size_t)c->http.n_resp * sizeof(c->http.resp[0]);

	memcpy(t, c, 128);
	/* may run up to 15 bytes past n, still inside struct conn */
	copy_cold((char *)t + 128, (const char *)c + 128, (n - 128 + 15) & ~(size_t)15);
}

/* The connection at old (a slot, or a ring entry) now lives at ref, the
 * table entry already says so: free what old held. */
static void release(struct az *az, uint32_t old, uint32_t ref)
{
	if (az->last == old)
		az->last = is_seal(ref) ? NONE : ref;
	if (is_seal(old)) {
		if (ref_pos(&az->seals, old) == az->seals.head)
			az->seals.deadline = -INFINITY;
	} else if (is_tomb(old)) {
		if (tomb_pos(az, old) == az->tombs.head)
			az->tombs.deadline = -INFINITY;
	} else {
		pool_put(&az->conns, old);
	}
}

/* Make c, which ended gracefully, a seal at the ring's tail; -1 (nothing
 * changed) without memory. */
static int seal_put(struct az *az, struct conn *c)
{
	struct ring *R = &az->seals;
	struct seal e;
	uint64_t lb;
	double ls;
	enum az_linger_end how;
	uint32_t ref;

	if (!ring_may_grow(az, R) || ring_room(R) < 0)
		return -1;
	if ((az->fs.used + 1) * 2 > az->fs.mask + 1 &&
	    !mem_may_grow(az, 2 * (az->fs.mask + 1) * sizeof(struct ft_slot)))
		return -1;
	ref = REF_SEAL | (uint32_t)(R->tail & REF_POS_MASK);
	if (ft_insert(&az->fs, c->hash, ref) < 0)
		return -1;
	memset(&e, 0, sizeof(e));
	e.key = c->key;
	e.base = c->d[AZ_C2S].base;
	e.flags = SEAL_LIVE |
	          (c->d[AZ_C2S].isn_known ? SEAL_ISN_KNOWN : 0) |
	          (c->client_is_lo ? SEAL_CLIENT_LO : 0) |
	          (judge_linger(c, &lb, &ls, &how) ? SEAL_LINGERED : 0) |
	          (c->role_inferred ? SEAL_ROLE_INFERRED : 0);
	e.initiator = (uint8_t)initiator_of(c);
	e.last_time = c->last_time;
	e.grace = c->grace;
	/* a plain store: the ring's memory was in use a grace period ago
	 * and is still in cache, and expiry or a reused tuple reads the seal
	 * back from there (written non-temporally, each read went to memory:
	 * 12 ms of 75 on the bench capture) */
	*seal_at(az, R->tail) = e;
	if (R->head == R->tail)
		R->deadline = -INFINITY;
	R->tail++;
	c->in_use = false;
	az->live--;
	ft_remove(&az->ft, c->hash, c->self);
	release(az, c->self, ref);
	return 0;
}

/* c (in a slot, or a tomb that just took a late packet) is finished: a
 * seal if nothing about it can matter but its summary, else a tomb at the
 * ring's tail. If the ring cannot grow, c is summarized now instead (its
 * grace period is lost, nothing else). */
static void tomb_put(struct az *az, struct conn *c)
{
	struct ring *R = &az->tombs;
	struct conn *t;
	uint32_t ref;

	if (c->ended_gracefully && !az->cfg.on_conn && !c->flagged &&
	    !c->fw2_open[0] && !c->fw2_open[1] && seal_put(az, c) == 0)
		return;
	if (!ring_may_grow(az, R) || ring_room(R) < 0) {
		/* no room to wait out its grace period: summarized now */
		if (az->mem_limit != SIZE_MAX)
			az->totals.grace_cut++;
		conn_close(az, c, c->last_time);
		return;
	}
	t = tomb_at(az, R->tail);
	ref = REF_TOMB | (uint32_t)(R->tail & REF_POS_MASK);
	tomb_copy(t, c);
	t->self = ref;
	c->in_use = false;
	if (R->head == R->tail)
		R->deadline = -INFINITY;
	R->tail++;
	ft_replace(&az->ft, c->hash, c->self, ref);
	release(az, c->self, ref);
}

/* Count the seal at position pos (live) and forget it. */
static void seal_close(struct az *az, struct seal *e, uint64_t pos, uint32_t hash)
{
	count_conn(az, (e->flags & SEAL_LATE_RST) ? AZ_KIND_RESET : AZ_KIND_GRACEFUL,
	           (enum az_initiator)e->initiator, (e->flags & SEAL_LINGERED) != 0,
	           AZ_LINGER_CLIENT_FIN,
	           (e->flags & SEAL_ROLE_INFERRED) != 0);
	ft_remove(&az->fs, hash, REF_SEAL | (uint32_t)(pos & REF_POS_MASK));
	e->flags &= (uint8_t)~SEAL_LIVE;
	if (pos == az->seals.head)
		az->seals.deadline = -INFINITY;
}

/* A packet that is not a new connection came for the seal at pos (table
 * value ref, under hash) at t: a RST makes it "reset"; it waits its grace
 * period again from t, from the ring's tail. */
static void seal_late(struct az *az, struct seal *e, uint32_t ref, uint32_t hash,
                      const struct dec_tcp *s, double t)
{
	struct ring *R = &az->seals;
	uint32_t nref;

	if (s->flags & LL_TH_RST)
		e->flags |= SEAL_LATE_RST;
	e->last_time = t;
	if (!ring_may_grow(az, R) || ring_room(R) < 0)
		return; /* stays where it is: it is only counted a little later */
	nref = REF_SEAL | (uint32_t)(R->tail & REF_POS_MASK);
	*seal_at(az, R->tail) = *e;
	e->flags &= (uint8_t)~SEAL_LIVE;
	R->tail++;
	ft_replace(&az->fs, hash, ref, nref);
	release(az, ref, nref);
}

/* A SYN (no ACK) on a sealed tuple starts a new connection unless it
 * repeats the client's SYN. */
static bool seal_starts_new(const struct seal *e, const struct dec_tcp *s, int d)
{
	if (!(s->flags & LL_TH_SYN) || (s->flags & LL_TH_ACK))
		return false;
	return !(d == AZ_C2S && (e->flags & SEAL_ISN_KNOWN) && s->seq == e->base);
}

/* Close the tombs whose grace is over, front to back (see expire_list). */
static void expire_tombs(struct az *az, double now)
{
	struct ring *R = &az->tombs;

	while (R->head != R->tail) {
		struct conn *c = tomb_at(az, R->head);

		if (c->in_use) {
			double dl = c->last_time + c->grace;

			if (dl >= now) {
				R->deadline = dl;
				ft_prefetch(&az->ft, c->hash);
				return;
			}
			conn_close(az, c, c->last_time);
		}
		ring_pop(R);
	}
	R->deadline = INFINITY;
}

/* The same for seals. */
static void expire_seals(struct az *az, double now)
{
	struct ring *R = &az->seals;

	while (R->head != R->tail) {
		struct seal *e = seal_at(az, R->head);

		if (e->flags & SEAL_LIVE) {
			double dl = e->last_time + e->grace;
			uint32_t hash = ft_hash(&e->key);

			if (dl >= now) {
				R->deadline = dl;
				ft_prefetch(&az->fs, hash);
				return;
			}
			seal_close(az, e, R->head, hash);
		}
		ring_pop(R);
	}
	R->deadline = INFINITY;
}

/* Close the connections of L whose time is up; cache when the next one's
 * is (see struct dlist). idle: the fixed grace of the embryo list, or < 0
 * for each connection's own. */
static void expire_list(struct az *az, struct dlist *L, double idle, double now)
{
	while (L->head != NONE) {
		struct conn *c = slot(az, L->head);
		double dl = c->last_time + (idle < 0 ? c->grace : idle);

		if (dl >= now) {
			L->deadline = dl;
			/* what closing it will touch: its table slot */
			ft_prefetch(&az->ft, c->hash);
			return;
		}
		conn_close(az, c, c->last_time);
	}
	L->deadline = INFINITY;
}

static void expire(struct az *az, double now)
{
	if (now > az->seals.deadline)
		expire_seals(az, now);
	if (now > az->tombs.deadline)
		expire_tombs(az, now);
	/* unanswered SYNs (a scan, a dead host) would otherwise be held to
	 * the end of the capture */
	if (now > az->embryo.deadline)
		expire_list(az, &az->embryo, EMBRYO_IDLE, now);
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
	    ts > az->embryo.deadline)
		expire(az, ts);

	if (az->last != NONE && ft_key_eq(&conn_at(az, az->last)->key, k))
		i = az->last;
	else
		i = ft_lookup(&az->ft, k, hash, conn_key, az);
	if (i == NONE)
		i = ft_lookup(&az->fs, k, hash, conn_key, az);
	/* A ring entry past its own grace period is over even if expiry has
	 * not reached it yet (a ring is in order of last activity, but grace
	 * periods differ: an entry behind a longer one waits): nothing joins
	 * it any more. */
	if (i != NONE && is_seal(i)) {
		struct seal *e = seal_at(az, ref_pos(&az->seals, i));

		d = (src_is_lo == ((e->flags & SEAL_CLIENT_LO) != 0)) ? AZ_C2S : AZ_S2C;
		if (!(ts > e->last_time + e->grace) && !seal_starts_new(e, s, d)) {
			az->stats.by_result[DEC_OK]++;
			seal_late(az, e, i, hash, s, ts);
			return;
		}
		seal_close(az, e, ref_pos(&az->seals, i), hash);
		i = NONE;
	}
	if (i != NONE) {
		c = conn_at(az, i);
		d = (src_is_lo == c->client_is_lo) ? AZ_C2S : AZ_S2C;
		if (is_tomb(i) && ts > c->last_time + c->grace) {
			conn_close(az, c, c->last_time);
			c = NULL;
		} else if (starts_new(c, s, d)) {
			/* End the old connection now, not at its last packet: as
			 * far as the wire shows, a FIN_WAIT_2 it left open lasted
			 * until this SYN, and the step series must stay in time
			 * order with what other connections recorded meanwhile. */
			conn_close(az, c, ts);
			c = NULL;
		}
	}
	if (!c) {
		make_room(az);
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
		tomb_put(az, c);
}

static void count_not_ok(struct az *az, enum dec_result r)
{
	if ((unsigned)r < DEC_NRESULTS)
		az->stats.by_result[r]++;
}

enum dec_result az_packet(struct az *az, int dlt, double ts,
                          const uint8_t *bytes, uint32_t caplen,
                          uint32_t wirelen)
{
	struct dec_tcp s;
	struct flow_key k;
	enum dec_result r;
	uint64_t idx;
	bool src_is_lo;

	idx = frame_in(az, ts, caplen);
	r = dec_packet(dlt, bytes, caplen, wirelen, &s, NULL);
	if (r != DEC_OK) {
		count_not_ok(az, r);
		return r;
	}
	ft_key(&k, s.af, s.src, s.sport, s.dst, s.dport, &src_is_lo);
	segment(az, &s, ts, idx, &k, ft_hash(&k), src_is_lo);
	return DEC_OK;
}

void az_skip_frame(struct az *az)
{
	az->stats.packets++;
	az->stats.filtered++;
}

/* A live connection at the end, sorted by id without touching it. */
struct live_ref {
	uint64_t id;
	uint32_t ref;              /* slot or tomb, as the table has it */
};

static int cmp_live(const void *a, const void *b)
{
	uint64_t x = ((const struct live_ref *)a)->id, y = ((const struct live_ref *)b)->id;
	return (x > y) - (x < y);
}

static int cmp_pub_id(const void *a, const void *b)
{
	uint64_t x = ((const struct az_conn *)a)->id, y = ((const struct az_conn *)b)->id;
	return (x > y) - (x < y);
}

void az_finish(struct az *az)
{
	struct live_ref *live = NULL;
	size_t n = 0, i;
	uint64_t p;

	if (az->finished)
		return;
	az->finished = true;
	/* everything still here, in id order (on_conn sees that order) */
	if (az->live > 0)
		live = malloc(az->live * sizeof(*live));
	for (i = 0; i < pool_capacity(&az->conns); i++) {
		struct conn *c = slot(az, (uint32_t)i);
		if (!c->in_use)
			continue;
		if (live)
			live[n++] = (struct live_ref){ .id = c->id, .ref = c->self };
		else
			conn_close(az, c, az->stats.last_time);
	}
	for (p = az->tombs.head; p != az->tombs.tail; p++) {
		struct conn *c = tomb_at(az, p);
		if (!c->in_use)
			continue;
		if (live)
			live[n++] = (struct live_ref){ .id = c->id, .ref = c->self };
		else
			conn_close(az, c, az->stats.last_time);
	}
	for (p = az->seals.head; p != az->seals.tail; p++) {
		struct seal *e = seal_at(az, p);
		if (e->flags & SEAL_LIVE)
			seal_close(az, e, p, ft_hash(&e->key));
	}
	if (live) {
		qsort(live, n, sizeof(*live), cmp_live);
		for (i = 0; i < n; i++)
			conn_close(az, conn_at(az, live[i].ref), az->stats.last_time);
		free(live);
		live = NULL;
	}
	if (!az->retained_sorted) {
		qsort(az->retained, az->n_retained, sizeof(*az->retained), cmp_pub_id);
		az->retained_sorted = true;
	}
	fw2_summary(&az->fw2[AZ_SERVER]);
	fw2_summary(&az->fw2[AZ_CLIENT]);
}

/* ------------------------------------------------------------------ */
/* accessors and names                                                 */

const struct az_stats *az_stats(const struct az *az) { return &az->stats; }
const struct az_totals *az_totals(const struct az *az) { return &az->totals; }
uint64_t az_dropped(const struct az *az) { return az->dropped; }

size_t az_memory_limit(const struct az *az) { return az->mem_limit; }

size_t az_memory(const struct az *az, size_t *peak)
{
	size_t now = mem_used(az);

	if (peak)
		*peak = now > az->mem_peak ? now : az->mem_peak;
	return now;
}
size_t az_n_findings(const struct az *az) { return az->n_findings; }

const struct az_rst_finding *az_finding(const struct az *az, size_t i)
{
	return i < az->n_findings ? &az->findings[i] : NULL;
}

size_t az_n_retained(const struct az *az) { return az->n_retained; }

const struct az_conn *az_retained(const struct az *az, size_t i)
{
	return i < az->n_retained ? &az->retained[i] : NULL;
}

const struct az_conn *az_retained_by_id(const struct az *az, uint64_t id)
{
	size_t lo = 0, hi = az->n_retained, i;

	if (!az->retained_sorted) {
		for (i = 0; i < az->n_retained; i++)
			if (az->retained[i].id == id)
				return &az->retained[i];
		return NULL;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (az->retained[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < az->n_retained && az->retained[lo].id == id ? &az->retained[lo] : NULL;
}

const struct az_fw2_summary *az_fw2(const struct az *az, enum az_side side)
{
	/* the summary is a cache inside the aggregate: filling it does not
	 * change what the analyzer has seen */
	struct az *m = (struct az *)az;
	return fw2_summary(&m->fw2[side == AZ_CLIENT ? AZ_CLIENT : AZ_SERVER]);
}

const char *az_kind_name(enum az_kind k)
{
	switch (k) {
	case AZ_KIND_OPEN: return "open";
	case AZ_KIND_GRACEFUL: return "graceful";
	case AZ_KIND_HALF_OPEN: return "half_open";
	case AZ_KIND_FIN_THEN_RST: return "fin_then_rst";
	case AZ_KIND_ABORT: return "abort";
	case AZ_KIND_RESET: return "reset";
	}
	return "unknown";
}

const char *az_initiator_name(enum az_initiator i)
{
	switch (i) {
	case AZ_INIT_NONE: return "none";
	case AZ_INIT_CLIENT: return "client";
	case AZ_INIT_SERVER: return "server";
	case AZ_INIT_SIMULTANEOUS: return "simultaneous";
	}
	return "unknown";
}

const char *az_state_name(enum az_state s)
{
	switch (s) {
	case AZ_ST_UNKNOWN: return "UNKNOWN";
	case AZ_ST_SYN_SENT: return "SYN_SENT";
	case AZ_ST_SYN_RECEIVED: return "SYN_RECEIVED";
	case AZ_ST_ESTABLISHED: return "ESTABLISHED";
	case AZ_ST_FIN_WAIT_1: return "FIN_WAIT_1";
	case AZ_ST_FIN_WAIT_2: return "FIN_WAIT_2";
	case AZ_ST_CLOSING: return "CLOSING";
	case AZ_ST_TIME_WAIT: return "TIME_WAIT";
	case AZ_ST_CLOSE_WAIT: return "CLOSE_WAIT";
	case AZ_ST_LAST_ACK: return "LAST_ACK";
	case AZ_ST_CLOSED: return "CLOSED";
	}
	return "UNKNOWN";
}

const char *az_fw2_end_name(enum az_fw2_end e)
{
	switch (e) {
	case AZ_FW2_CLIENT_FIN: return "client_fin";
	case AZ_FW2_CLIENT_RST: return "client_rst";
	case AZ_FW2_SERVER_RST: return "server_rst";
	case AZ_FW2_CAPTURE_END: return "capture_end";
	}
	return "unknown";
}

const char *az_cause_name(enum az_cause c)
{
	switch (c) {
	case AZ_CAUSE_UNKNOWN: return "unknown";
	case AZ_CAUSE_DATA_AFTER_FIN: return "data_after_fin";
	case AZ_CAUSE_UNREAD_AT_CLOSE: return "unread_at_close";
	case AZ_CAUSE_ABORT: return "abort";
	}
	return "unknown";
}

const char *az_vantage_name(enum az_vantage v)
{
	switch (v) {
	case AZ_VANTAGE_UNKNOWN: return "unknown";
	case AZ_VANTAGE_CLIENT: return "client";
	case AZ_VANTAGE_SERVER: return "server";
	case AZ_VANTAGE_MIDDLE: return "middle";
	}
	return "unknown";
}

const char *az_basis_name(enum az_basis b)
{
	switch (b) {
	case AZ_BASIS_CAPTURE_ORDER: return "capture_order";
	case AZ_BASIS_TIMING: return "timing";
	case AZ_BASIS_EVIDENCE: return "evidence";
	}
	return "unknown";
}

const char *az_flags_str(uint8_t flags, char buf[12])
{
	/* tcpdump's letters and order; "." for ACK */
	static const struct { uint8_t bit; char ch; } tab[] = {
		{ LL_TH_FIN, 'F' }, { LL_TH_SYN, 'S' }, { LL_TH_RST, 'R' },
		{ LL_TH_PSH, 'P' }, { LL_TH_ACK, '.' }, { LL_TH_URG, 'U' },
		{ LL_TH_ECE, 'E' }, { LL_TH_CWR, 'W' },
	};
	size_t i, n = 0;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (flags & tab[i].bit)
			buf[n++] = tab[i].ch;
	if (n == 0) {
		memcpy(buf, "none", 5);
		return buf;
	}
	buf[n] = '\0';
	return buf;
}

const char *az_accept_name(enum az_accept a)
{
	switch (a) {
	case AZ_ACCEPT_RESET: return "reset";
	case AZ_ACCEPT_CHALLENGE_ACK: return "challenge_ack";
	case AZ_ACCEPT_IGNORED: return "ignored";
	}
	return "unknown";
}

const char *az_impact_name(enum az_impact i)
{
	switch (i) {
	case AZ_IMPACT_RESET_BEFORE_ACK: return "reset_before_ack";
	case AZ_IMPACT_RESET_AFTER_ACK: return "reset_after_ack";
	case AZ_IMPACT_NO_RESET: return "no_reset";
	}
	return "unknown";
}

const char *az_linger_end_name(enum az_linger_end e)
{
	switch (e) {
	case AZ_LINGER_CLIENT_FIN: return "client_fin";
	case AZ_LINGER_SERVER_RST: return "server_rst";
	case AZ_LINGER_CLIENT_RST: return "client_rst";
	case AZ_LINGER_CAPTURE_END: return "capture_end";
	}
	return "unknown";
}
