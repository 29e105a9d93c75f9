/*
 * store.h - where the analyzer keeps its connections (internal to
 * analyzer/; the public contract is analyzer.h): the slab pools of
 * connections in progress and their extensions, the rings where finished
 * ones wait out their grace period (seals and tombs), the SYN-only flows
 * (embryos: a client's SYN in 80 bytes, and the list of them), the
 * FIN_WAIT_2 holders parked (park.c), expiry, and the memory bound.
 * store.c does the keeping; analyzer.c
 * tracks packets on what it is handed and summarizes connections.
 *
 * struct az is here so that both rooms can reach the store's parts
 * directly on the per-packet path (the lookups below are inline).
 */
#ifndef LL_ANALYZER_STORE_H
#define LL_ANALYZER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/analyzer.h"
#include "analyzer/conn.h"
#include "analyzer/flowtab.h"
#include "analyzer/fw2.h"
#include "analyzer/hugemem.h"

#define SLAB_SHIFT 8
#define SLAB_SIZE (1u << SLAB_SHIFT)
#define POOL_CHUNK HM_ALIGN         /* see struct pool */
#define TL_MIN 8             /* first timeline allocation */
#define TL_KEEP 16           /* buffers up to this size survive slot reuse */
#define GRACE_MIN 2.0        /* seconds a finished connection stays */
#define GRACE_MAX 60.0
#define EMBRYO_IDLE 130.0    /* a SYN nobody answered: past Linux's SYN
                                retries (tcp_syn_retries 6: 127 s) */
#define SEQ_SANE (1u << 30)  /* a jump further than this is not TCP */
#define NONE FT_NONE

/* A list of connections linked through conn.prev/next, oldest first.
 * deadline caches when the head expires (its last_time + grace, or +
 * EMBRYO_IDLE) so that a packet need not read the head to know nothing
 * expires: -INFINITY means "not known, look", +INFINITY an empty list. */
struct dlist {
	uint32_t head, tail;
	double deadline;
};

enum { L_NONE = 0, L_EMBRYO, L_FW2 };

/*
 * An embryo: a connection that is so far only its client's first SYN
 * (no ACK, FIN, RST or payload), in 80 bytes instead of a struct conn
 * and an extension (about 2.8 KB). It holds what that SYN said, which is
 * all tracking it had produced: the connection is rebuilt from it
 * (store_embryo_fill) exactly as if it had been tracked whole from the
 * SYN, on its next packet (promoted to a slot) or when it is summarized
 * (a SYN nobody answered). Embryos live in a pool of their own, linked
 * oldest first (a struct dlist through prev/next); the table ft refers to
 * one by REF_EMBRYO and its pool index. A SYN repeated, a SYN-ACK, data,
 * anything else promotes it.
 */
#define EMB_SACK 1             /* SACK permitted */
#define EMB_TS 2               /* timestamps */
#define EMB_CLIENT_LO 4        /* the client is the key's lo endpoint */
#define EMB_LIVE 8             /* in use (not on the free list) */
#define EMB_MAX ((uint64_t)1 << 48) /* ids and packet indexes it can hold */

/* When a SYN becomes an embryo rather than a slot, and a FIN_WAIT_2
 * holder is parked (struct az.compact). By default only when a slot would
 * make the pools grow: a free slot costs nothing more, and a slot saves
 * promoting (or unparking) it, which matters in captures of many short
 * connections. ALWAYS makes every client's SYN alone an embryo and parks
 * every holder after each of its packets; NEVER does neither. The forms
 * give the same results; tests compare them with ALWAYS and NEVER. */
enum { COMPACT_AUTO = 0, COMPACT_ALWAYS, COMPACT_NEVER };

struct embryo {
	struct flow_key key;
	uint32_t isn;
	uint16_t win, mss;
	int8_t wscale;
	uint8_t flags;             /* the SYN's TCP flags */
	uint8_t bits;              /* EMB_* */
	uint8_t pad;
	uint32_t prev, next;       /* the embryo list; next: the free list */
	uint32_t id_lo, pkt_lo;    /* id and packet index: 48 bits each */
	uint16_t id_hi, pkt_hi;
	double t;                  /* the SYN's time */
};
_Static_assert(sizeof(struct embryo) == 80, "struct embryo: 80 bytes");

static inline uint64_t emb_id(const struct embryo *e)
{
	return (uint64_t)e->id_hi << 32 | e->id_lo;
}

static inline uint64_t emb_pkt(const struct embryo *e)
{
	return (uint64_t)e->pkt_hi << 32 | e->pkt_lo;
}

/*
 * A parked connection (park.c): a FIN_WAIT_2 holder that waits for its
 * peer, kept as an exact image of its state (struct conn, the extension
 * with its rings and parser state, the timeline), compressed, instead of
 * a slot and an extension. Its next packet (or its summary) unparks it
 * into a slot, byte for byte what it was: every later outcome (the
 * peer's FIN, data, a RST, nothing) is judged as if it had never left.
 * Parked connections live in a pool of their own (64 bytes each, and
 * the image, about 70 bytes); the table ft refers to one by REF_PARKED
 * and its pool index.
 */
#define PK_LIVE 1                  /* in use (not on the free list) */
#define PK_DICT 2                  /* compressed against the store's
                                      dictionary (park.c) */

struct parked {
	struct flow_key key;
	uint32_t hash;                 /* free: the pool's free list */
	uint32_t len;                  /* bytes at blob */
	uint8_t *blob;                 /* the compressed image (malloc) */
	uint32_t id_lo;                /* the connection's id: 48 bits */
	uint16_t id_hi;
	uint8_t bits;                  /* PK_* */
	uint8_t pad;
};
_Static_assert(sizeof(struct parked) == 64, "struct parked: 64 bytes");

static inline uint64_t pk_id(const struct parked *p)
{
	return (uint64_t)p->id_hi << 32 | p->id_lo;
}


/* Finished connections wait out their grace period in the order of their
 * last packet (az->tombs, az->seals).
 *
 * A connection that ended gracefully (both FINs ACKed, no RST) is final:
 * every byte was acknowledged, so it can no longer be flagged, and its
 * summary no longer changes, except that a late RST makes it "reset".
 * Unless someone wants its record (on_conn), it waits as a 64-byte seal
 * (struct seal) in a ring: the key, what tells a repeated SYN from a new
 * connection, and the summary; expiry reads the ring front to back, which
 * the hardware prefetcher follows. Anything else (a RST, a finding, a
 * record wanted) waits whole, in its own slot, as a "tomb" (its table
 * value tagged REF_TOMB, in_use false: not in progress), linked oldest
 * first (az->tombs, through conn.prev/next): a late packet is tracked on
 * the tomb, which then moves to the list's tail. Most tombs leave before
 * their grace period ends, when their 4-tuple comes round again (a client
 * port reused: in the bench capture a median 0.4 s after the end, against
 * a 2 s grace), and the pool hands the slot they leave, last in first
 * out, to the connection that SYN starts, while it is still in cache.
 * (Tombs were copies in a pool of their own, so that the slots held only
 * connections in progress: the copy of about 800 bytes per connection
 * cost more than it saved, 0.134 s against 0.128 s for the bench capture
 * with --connections. A ring of tombs, as the seals', before that held
 * every tomb of the last grace period, the early-gone ones as dead
 * entries: 50 MB on the bench capture, every tomb written and read back
 * from memory.)
 *
 * Ring positions count up forever. The table refers to a slot by its
 * index, to a tomb by a tag and the same index, and to a seal by a tag
 * and 30 bits of its ring position (REF_*), which stays unambiguous while
 * fewer than 2^30 entries are in the ring. */
#define RING_SHIFT 8
#define RING_CHUNK (1u << RING_SHIFT)
#define REF_POS_MASK 0x3fffffffu
#define REF_SEAL 0x40000000u       /* 01: a seal */
#define REF_TOMB 0x80000000u       /* 10: a tomb; 00: a slot; 11: NONE */
#define REF_EMBRYO REF_SEAL        /* 010 in ft (seals are only in fs) */
#define REF_PARKED 0x60000000u     /* 011 in ft: a parked connection */
#define REF_SUB_MASK 0x1fffffffu   /* pool index under REF_EMBRYO/PARKED */
#define COMPACT_POOL_MAX ((uint32_t)1 << 29) /* elements those pools hold */

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
	uint8_t zeek_state;        /* enum az_zeek_state (a late RST after both
	                              FINs leaves it as it was: zeek.c) */
	double last_time;
	double grace;
};
_Static_assert(sizeof(struct seal) == 64, "struct seal: one cache line");

/* Fixed-size elements in slabs of SLAB_SIZE, addressed by a 32-bit index
 * below max, with a free list threaded through a uint32_t at next_off. */
struct pool {
	char **slabs;
	size_t n_slabs, cap_slabs;
	size_t esize, next_off;
	uint32_t free_head;
	uint32_t max;              /* REF_SEAL, or COMPACT_POOL_MAX */
	/* a pool of big elements (the connections, tombs among them)
	 * takes its slabs from 2 MiB chunks that the kernel may back with a huge page: a new
	 * slab costs no page faults, and a connection read at random (a
	 * tomb) no TLB miss of its own */
	bool chunked;
	size_t chunk_left;         /* slabs still free in the current chunk */
};

struct park_codec;

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
	struct pool embs;          /* struct embryo */
	struct pool parks;         /* struct parked */
	struct dlist tombs;        /* the tombs (in conns), by last activity */
	struct ring seals;         /* struct seal, ended gracefully, likewise */
	struct dlist embryo;       /* SYN only, in order of last activity:
	                              slots (a SYN repeated) */
	struct dlist cembryo;      /* and embryos (struct embryo), likewise */
	struct dlist fw2list;      /* FIN_WAIT_2 holders in slots, in order of
	                              last activity: the first to park */
	size_t n_parked;           /* parked connections now */
	size_t park_bytes;         /* their compressed images */
	uint32_t park_cursor;      /* where the memory bound looks for the
	                              next parked connection to end */
	struct park_codec *codec;  /* park.c's compressor state, NULL before
	                              the first park */
	uint64_t n_parks, n_unparks; /* connections parked, unparked so far */
	uint8_t compact;           /* COMPACT_*: when to make embryos */
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
	struct tlsdec_ctx tlsd;    /* the key log and decryption buffers */

	/* the memory bound (see az_new in analyzer.h) */
	size_t mem_limit;          /* SIZE_MAX: none */
	size_t mem_peak;
	size_t tl_bytes;           /* timeline buffers of the extensions */
};

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

/* The tomb in slot i (a table value REF_TOMB | i). */
static inline struct conn *tomb_at(const struct az *az, uint32_t i)
{
	return (struct conn *)az->conns.slabs[i >> SLAB_SHIFT] + (i & (SLAB_SIZE - 1));
}

static inline struct seal *seal_at(const struct az *az, uint64_t pos)
{
	return ring_at(&az->seals, pos);
}

static inline bool is_tomb(uint32_t ref) { return (ref >> 30) == 2; }
/* in ft; in fs the same tag is a seal */
static inline bool is_embryo(uint32_t ref) { return (ref >> 29) == 2; }
static inline bool is_parked(uint32_t ref) { return (ref >> 29) == 3; }
/* an embryo or a parked connection: not in the slot pool */
static inline bool is_compact(uint32_t ref) { return (ref >> 30) == 1; }

static inline struct embryo *embryo_at(const struct az *az, uint32_t ref)
{
	return pool_at(&az->embs, ref & REF_SUB_MASK);
}

static inline struct parked *parked_at(const struct az *az, uint32_t ref)
{
	return pool_at(&az->parks, ref & REF_SUB_MASK);
}
static inline bool is_seal(uint32_t ref) { return (ref >> 30) == 1; }

/* The position in R that a ring reference names (see struct ring). */
static inline uint64_t ref_pos(const struct ring *R, uint32_t ref)
{
	uint64_t h = R->head;

	return h + (((ref & REF_POS_MASK) - (uint32_t)h) & REF_POS_MASK);
}

static inline uint32_t tomb_idx(uint32_t ref)
{
	return ref & REF_POS_MASK;
}

/* The connection a table value names: a slot or a tomb (not a seal). */
static inline struct conn *conn_at(const struct az *az, uint32_t ref)
{
	return is_tomb(ref) ? tomb_at(az, tomb_idx(ref)) : slot(az, ref);
}

/* The key of a value of ft: a slot, a tomb, an embryo or a parked
 * connection. (Inlined in every lookup: it runs for each probe.) */
static inline __attribute__((always_inline)) const struct flow_key *
store_conn_key(const void *ctx, uint32_t ref)
{
	const struct az *az = ctx;

	if (is_compact(ref))
		return is_parked(ref) ? &parked_at(az, ref)->key : &embryo_at(az, ref)->key;
	return &conn_at(az, ref)->key;
}

/* The key of a value of fs: a seal. */
static inline const struct flow_key *store_seal_key(const void *ctx, uint32_t ref)
{
	const struct az *az = ctx;

	return &seal_at(az, ref_pos(&az->seals, ref))->key;
}

/* ---- the store (store.c) ---- */

/* Close whatever finished waiting by capture time now. */
void store_expire(struct az *az, double now);

/* A fresh extension from the pool (NULL without memory). */
struct conn_ext *store_ext_get(struct az *az);

/* Give c's extension back (c->x becomes NULL). */
void store_ext_release(struct az *az, struct conn *c);

/* Put c at the tail of list which (L_EMBRYO). */
void store_list_append(struct az *az, struct conn *c, uint8_t which);

/* Take c off the list it is on (if any). */
void store_list_unlink(struct az *az, struct conn *c);

/* A new connection is about to be made: keep the store under its bound
 * (see az_new in analyzer.h). embryo: as an embryo, else a slot. */
void store_make_room(struct az *az, bool embryo);

/* A new embryo for the SYN s (no ACK/FIN/RST, no payload) of a tuple not
 * in the tables: k, hash, src_is_lo as for the table; id its connection
 * id. Returns false (nothing changed) without memory. */
bool store_embryo_new(struct az *az, const struct flow_key *k, uint32_t hash,
                      bool src_is_lo, const struct dec_tcp *s, double t,
                      uint64_t idx, uint64_t id);

/* Take the embryo ref off its list (it is about to be promoted: the
 * memory bound must not choose it). */
void store_embryo_hold(struct az *az, uint32_t ref);

/* Forget the embryo ref: the table entry was replaced or removed. */
void store_embryo_free(struct az *az, uint32_t ref);

/* Summarize the embryo ref (through azi_conn_close) and forget it. */
void store_embryo_close(struct az *az, uint32_t ref);

/* Bytes the store holds now. */
size_t store_mem_used(const struct az *az);

/* Elements the pool has room for without growing. */
size_t store_pool_capacity(const struct pool *p);

/* Free the pool's slabs. */
void store_pool_free(struct pool *p);

/* A free element index, growing the pool by one zeroed slab if needed;
 * NONE on allocation failure. */
uint32_t store_pool_get(struct pool *p);

/* An empty pool of esize-byte elements whose free list runs through the
 * uint32_t at next_off. */
void store_pool_init(struct pool *p, size_t esize, size_t next_off);

/* Give element i back to the pool. */
void store_pool_put(struct pool *p, uint32_t i);

/* Free a ring's chunks. */
void store_ring_free(struct ring *R);

/* Set up x's RST fates from their pool (left NULL without memory). */
void store_rp_get(struct az *az, struct conn_ext *x);

/* Count the seal at position pos (live) and forget it. */
void store_seal_close(struct az *az, struct seal *e, uint64_t pos, uint32_t hash);

/* A packet that is not a new connection came for a seal. */
void store_seal_late(struct az *az, struct seal *e, uint32_t ref, uint32_t hash,
                     const struct dec_tcp *s, double t);

/* A SYN on a sealed tuple that starts a new connection. */
bool store_seal_starts_new(const struct seal *e, const struct dec_tcp *s, int d);

/* Take the tomb ref off the tomb list and give it back to its pool (it
 * was summarized, or moved on). */
void store_tomb_free(struct az *az, uint32_t ref);

/* c is finished: it waits out its grace period as a seal or a tomb (or is
 * summarized at once when no ring can take it). */
void store_finished(struct az *az, struct conn *c);

/* ---- parked connections (park.c) ---- */

/* Park c (a slot, not finished, a FIN_WAIT_2 holder) if it can be: no RST
 * of its is being judged. Returns true if it was (its slot is free). */
bool store_park(struct az *az, struct conn *c);

/* Park the FIN_WAIT_2 holders that have been idle longest, so that a
 * new connection finds a free slot and extension without the pools
 * growing. */
void store_park_oldest(struct az *az);

/* The parked connection ref back in a slot (its table entry too), as it
 * was. NULL without memory: then it has been summarized as it was. */
struct conn *store_unpark(struct az *az, uint32_t ref);

/* Summarize the parked connection ref as it is (through azi_conn_close,
 * ending at end_time, or at its last packet if end_time < 0 or evict:
 * evicted, as the memory bound's last resort) and forget it. */
void store_parked_close(struct az *az, uint32_t ref, double end_time, bool evict);

/* Free the parked connections and the codec (az_free). */
void store_park_free(struct az *az);

/* ---- what the store calls back in analyzer.c and summary.c ---- */

/* Summarize c, hand it out (on_conn, retained), count it, free its slot. */
void azi_conn_close(struct az *az, struct conn *c, double end_time);
/* Fill c (a slot with the extension x, or a struct on the stack with x
 * NULL) with the connection embryo e stands for: what conn_new and
 * tracking its SYN made of it (but the timeline, the lists and c->self,
 * which are the caller's). */
void azi_embryo_fill(struct az *az, struct conn *c, const struct embryo *e,
                     struct conn_ext *x);
/* The SYN e recorded, as the decoder gave it (what tracking reads). */
void azi_embryo_syn(const struct embryo *e, struct dec_tcp *s);
/* ---- a connection's record and the totals (summary.c) ---- */

/* The teardown kind, as analyzer.h's enum az_kind says it. */
enum az_kind azi_kind_of(const struct conn *c);
/* Fill the public record o of c (relative numbers, no timeline). */
void azi_fill_pub(const struct conn *c, struct az_conn *o);
/* Keep pub, with c's timeline, among the retained (flagged) connections. */
void azi_retain(struct az *az, const struct conn *c, const struct az_conn *pub);
/* One connection more in the totals. */
void azi_count_conn(struct az *az, enum az_kind kind, enum az_initiator init,
                    bool lingered, enum az_linger_end how, bool role_inferred,
                    enum az_zeek_state zeek);
/* A RST of c's still waits to be judged. */
bool azi_has_pending(const struct conn *c);
enum az_initiator azi_initiator_of(const struct conn *c);

#endif
