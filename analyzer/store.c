/*
 * store.c - where the analyzer keeps its connections (see store.h): slab
 * pools, the extensions, the embryo list, where finished connections
 * wait (the ring of seals, the list of tombs) and their expiry,
 * and the memory bound.
 *
 * Memory: a connection is a compact core (struct conn) plus an extension
 * (struct conn_ext: HTTP parser state, the ACK and data rings, the
 * timeline). Both live in slab pools that grow as the live set grows and
 * are reused through free lists; the 4-tuple tables (flowtab.c) double when
 * half full. A connection that ends gracefully (both FINs ACKed, no RST)
 * can no longer be flagged, so its extension goes back to the pool at once.
 * A finished connection waits out its grace period as a 64-byte seal in a
 * ring (struct ring) if it ended gracefully and nobody wants its record,
 * else in its slot as a tomb, linked in order of last activity (see
 * store.h). So a capture of many short connections holds about one seal
 * (or tomb) per connection closed in the last grace period, less those
 * whose port came round again. A packet allocates nothing, except that
 * a ring or the pool grows by a chunk now and then and a timeline buffer doubles
 * a few times (8, 16, ... up to timeline_head / timeline_tail entries) over
 * a long connection's life; small ones are kept with the pooled extension.
 * A client's SYN that a free slot cannot take (the pools would have to
 * grow: a SYN flood, a scan) is kept as an 80-byte embryo (struct embryo,
 * in a pool of its own) instead of a slot and an extension (about 3 KB):
 * what that SYN said, from which its next packet rebuilds the connection
 * exactly as if it had been tracked whole (2 million SYN-only flows take
 * about 190 MiB with the table). Connections that are only a client's
 * SYNs (embryos, and slots whose SYN came again) leave after EMBRYO_IDLE
 * seconds without a packet, oldest first, both kinds read as one list in
 * packet order. Other idle connections stay to the end: a socket parked
 * in FIN_WAIT_2 is exactly what the fin_wait_2 detector must see. When a
 * new connection would make the pools grow, the FIN_WAIT_2 holders that
 * entered it first are parked instead (park.c): an exact image of the
 * connection, its extension and its timeline, compressed to about 70
 * bytes beside a 64-byte record, unparked byte for byte by its next
 * packet (1 million holders take about 150 MB of the store with the
 * table: bench/memory.sh).
 * Past the memory bound (az_config.max_memory) connections are ended
 * early rather than the store growing, in this order: SYN-only flows
 * (embryos and slots alike, oldest first); finished connections still in
 * their grace period; connections in progress with nothing unacknowledged
 * and no FIN_WAIT_2 (least recently active first: they can no longer be
 * flagged); any other but FIN_WAIT_2 holders; FIN_WAIT_2 holders last,
 * those in slots, then parked ones (a holder is parked rather than ended
 * while the bound allows its image).
 * See store_make_room().
 */
#include "analyzer/store.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/http.h"
#include "analyzer/judge.h"

void store_pool_init(struct pool *p, size_t esize, size_t next_off)
{
	memset(p, 0, sizeof(*p));
	p->esize = esize;
	p->next_off = next_off;
	p->free_head = NONE;
	p->max = REF_SEAL;
	p->chunked = SLAB_SIZE * esize >= (64u << 10) &&
	             POOL_CHUNK % (SLAB_SIZE * esize) == 0;
}

/* A zeroed slab of a chunked pool: the next one of the current chunk, or
 * the first of a new one. NULL if no memory. */
static char *chunk_slab(struct pool *p)
{
	size_t sb = SLAB_SIZE * p->esize;
	char *a;

	if (p->chunk_left > 0) {
		p->chunk_left--;
		return p->slabs[p->n_slabs - 1] + sb;
	}
	a = hm_alloc(POOL_CHUNK);
	if (!a)
		return NULL;
	p->chunk_left = POOL_CHUNK / sb - 1;
	return a;
}

static inline uint32_t *pool_next(const struct pool *p, uint32_t i)
{
	return (uint32_t *)((char *)pool_at(p, i) + p->next_off);
}

/* A free element index, growing the pool by one zeroed slab if needed;
 * NONE on allocation failure. */
uint32_t store_pool_get(struct pool *p)
{
	uint32_t i;

	if (p->free_head == NONE) {
		char *slab;
		uint32_t base = (uint32_t)(p->n_slabs << SLAB_SHIFT);

		/* indexes stay below REF_SEAL (see struct ring), or below
		 * COMPACT_POOL_MAX (they share a tag, REF_EMBRYO/PARKED) */
		if ((uint64_t)(p->n_slabs + 1) << SLAB_SHIFT > p->max)
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
		if (p->chunked) {
			slab = chunk_slab(p);
			if (!slab)
				return NONE;
		} else {
			if (posix_memalign((void **)&slab, 64, SLAB_SIZE * p->esize) != 0)
				return NONE;
			memset(slab, 0, SLAB_SIZE * p->esize);
		}
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

void store_pool_put(struct pool *p, uint32_t i)
{
	*pool_next(p, i) = p->free_head;
	p->free_head = i;
}

size_t store_pool_capacity(const struct pool *p)
{
	return p->n_slabs << SLAB_SHIFT;
}

void store_pool_free(struct pool *p)
{
	size_t i;

	for (i = 0; i < p->n_slabs; i++) {
		/* a chunk goes with its first slab */
		if (!p->chunked)
			free(p->slabs[i]);
		else if (((uintptr_t)p->slabs[i] & (POOL_CHUNK - 1)) == 0)
			hm_free(p->slabs[i], POOL_CHUNK);
		p->slabs[i] = NULL;
	}
	p->chunk_left = 0;
	free(p->slabs);
	p->slabs = NULL;
	p->n_slabs = p->cap_slabs = 0;
}


/* A fresh extension, its small timeline buffers kept from earlier use.
 * Only the fields that carry state are reset: the rings and line buffers
 * are read only below their counts, and clearing 1.7 KB per connection
 * shows in the profile of captures full of short connections. */
struct conn_ext *store_ext_get(struct az *az)
{
	uint32_t i = store_pool_get(&az->exts);
	struct conn_ext *x;
	int d;

	if (i == NONE)
		return NULL;
	x = pool_at(&az->exts, i);
	x->self = i;
	for (d = 0; d < 2; d++) {
		http_dir_init(&x->hd[d]);
		tls_dir_init(&x->td[d]);
		x->x[d].ack_n = 0;
		x->x[d].d_n = x->x[d].d_head = 0;
		x->pend[d].active = false;
	}
	x->n_head = 0;
	x->n_tail = 0;
	x->tl_lost = 0;
	x->rp = NULL;
	x->dec = NULL;
	return x;
}

void store_ext_release(struct az *az, struct conn *c)
{
	struct conn_ext *x = c->x;

	if (!x)
		return;
	/* what the record says about TLS outlives the parser */
	c->tls_version = x->td[AZ_S2C].version;
	for (int d = 0; d < 2; d++)
		c->tls_records[d] = x->td[d].records > UINT16_MAX ? UINT16_MAX
		                                                  : (uint16_t)x->td[d].records;
	tlsdec_keep(&c->tls_kept, x->dec, x->td);
	tlsdec_free(&az->tlsd, x->dec);
	x->dec = NULL;
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
		store_pool_put(&az->rps, x->rp->self);
		x->rp = NULL;
	}
	store_pool_put(&az->exts, x->self);
	c->x = NULL;
}

/* Set up x's RST fates from their pool (left NULL without memory: the
 * RSTs then go unjudged at their receiver). */
void store_rp_get(struct az *az, struct conn_ext *x)
{
	uint32_t i = store_pool_get(&az->rps);
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
	if (c->list == L_EMBRYO)
		return &az->embryo;
	return c->list == L_FW2 ? &az->fw2list : NULL;
}

void store_list_unlink(struct az *az, struct conn *c)
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

void store_list_append(struct az *az, struct conn *c, uint8_t which)
{
	struct dlist *L;

	store_list_unlink(az, c);
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


/* ------------------------------------------------------------------ */
/* embryos (see struct embryo)                                         */

static struct embryo *emb(const struct az *az, uint32_t i)
{
	return pool_at(&az->embs, i);
}

bool store_embryo_new(struct az *az, const struct flow_key *k, uint32_t hash,
                      bool src_is_lo, const struct dec_tcp *s, double t,
                      uint64_t idx, uint64_t id)
{
	struct dlist *L = &az->cembryo;
	uint32_t i = store_pool_get(&az->embs);
	struct embryo *e;

	if (i == NONE)
		return false;
	if (ft_insert(&az->ft, hash, REF_EMBRYO | i) < 0) {
		store_pool_put(&az->embs, i);
		return false;
	}
	e = emb(az, i);
	e->key = *k;
	e->isn = s->seq;
	e->win = s->win;
	e->mss = s->mss;
	e->wscale = s->wscale;
	e->flags = s->flags;
	/* the sender of a SYN without ACK is the client */
	e->bits = EMB_LIVE | (s->sack_permitted ? EMB_SACK : 0) |
	          (s->has_ts ? EMB_TS : 0) | (src_is_lo ? EMB_CLIENT_LO : 0);
	e->pad = 0;
	e->id_lo = (uint32_t)id;
	e->id_hi = (uint16_t)(id >> 32);
	e->pkt_lo = (uint32_t)idx;
	e->pkt_hi = (uint16_t)(idx >> 32);
	e->t = t;
	/* at the tail: the list is in order of the SYNs */
	e->prev = L->tail;
	e->next = NONE;
	if (L->tail != NONE) {
		emb(az, L->tail)->next = i;
	} else {
		L->head = i;
		L->deadline = -INFINITY;
	}
	L->tail = i;
	az->live++;
	return true;
}

void store_embryo_hold(struct az *az, uint32_t ref)
{
	struct dlist *L = &az->cembryo;
	uint32_t i = ref & REF_POS_MASK;
	struct embryo *e = emb(az, i);

	if (!(e->bits & EMB_LIVE))
		return;
	if (e->prev != NONE) {
		emb(az, e->prev)->next = e->next;
	} else {
		L->head = e->next;
		L->deadline = -INFINITY;
	}
	if (e->next != NONE)
		emb(az, e->next)->prev = e->prev;
	else
		L->tail = e->prev;
	e->prev = e->next = NONE;
	e->bits &= (uint8_t)~EMB_LIVE;
}

void store_embryo_free(struct az *az, uint32_t ref)
{
	store_embryo_hold(az, ref);
	store_pool_put(&az->embs, ref & REF_POS_MASK);
}

void store_embryo_close(struct az *az, uint32_t ref)
{
	/* the connection it stands for, on the stack: summarized as a slot
	 * would be (azi_conn_close() leaves the rest to us) */
	struct conn c;

	azi_embryo_fill(az, &c, embryo_at(az, ref), NULL);
	c.self = ref;
	azi_conn_close(az, &c, c.last_time);
	store_embryo_free(az, ref);
}

/* ------------------------------------------------------------------ */
/* where finished connections wait: seals, tombs (see struct ring)   */

/* A chunk for R (64-byte aligned), NULL without memory. */
static char *chunk_get(struct ring *R)
{
	char *chunk;

	return posix_memalign((void **)&chunk, 64, RING_CHUNK * R->esize) == 0 ? chunk : NULL;
}

static void chunk_put(struct ring *R, char *chunk)
{
	(void)R;
	free(chunk);
}

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
	} else if (!(chunk = chunk_get(R))) {
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
			chunk_put(R, *cp);
		else
			R->spare = *cp;
		*cp = NULL;
	}
}

void store_ring_free(struct ring *R)
{
	size_t i;

	for (i = 0; i < R->cap_chunks; i++) {
		chunk_put(R, R->chunks[i]);
		R->chunks[i] = NULL;
	}
	free(R->chunks);
	R->chunks = NULL;
	chunk_put(R, R->spare);
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
size_t store_mem_used(const struct az *az)
{
	return pool_bytes(&az->conns) + pool_bytes(&az->exts) + pool_bytes(&az->rps) +
	       pool_bytes(&az->embs) + pool_bytes(&az->parks) + az->park_bytes +
	       ring_bytes(&az->seals) +
	       (az->ft.mask + 1 + az->fs.mask + 1) * sizeof(struct ft_slot) +
	       az->tl_bytes;
}

/* True if growing the store by grow bytes keeps it within the bound
 * (and notes the peak it would reach). */
static bool mem_may_grow(struct az *az, size_t grow)
{
	size_t now = store_mem_used(az);

	if (az->mem_limit != SIZE_MAX && now + grow > az->mem_limit)
		return false;
	if (now + grow > az->mem_peak)
		az->mem_peak = now + grow;
	return true;
}

/* What one more connection in progress would add to the store (as an
 * embryo, or in a slot). */
static size_t growth_for_new(const struct az *az, bool embryo)
{
	size_t g = 0;

	if (embryo) {
		if (az->embs.free_head == NONE)
			g += SLAB_SIZE * az->embs.esize;
	} else if (az->conns.free_head == NONE)
		g += SLAB_SIZE * az->conns.esize;
	if (!embryo && az->exts.free_head == NONE)
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

	if (azi_has_pending(c))
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
	azi_conn_close(az, c, c->last_time);
}

/* End up to n connections in progress, least recently active first: in
 * pass 0 only settled ones without FIN_WAIT_2, in pass 1 any but
 * FIN_WAIT_2 holders, in pass 2 any. Returns how many. */
static size_t evict_live(struct az *az, size_t n)
{
	enum { SAMPLE = 4096 };
	double *smp, thr;
	size_t cap = store_pool_capacity(&az->conns), step, i, k = 0, done = 0;
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
void store_make_room(struct az *az, bool embryo)
{
	size_t want, done = 0, g;

	/* a FIN_WAIT_2 holder parked frees a slot and an extension, and
	 * loses nothing (see park.c) */
	if (!embryo && az->compact != COMPACT_NEVER &&
	    (az->conns.free_head == NONE || az->exts.free_head == NONE))
		store_park_oldest(az);
	want = az->live / 16 + 1;
	g = growth_for_new(az, embryo);
	if (g == 0 || mem_may_grow(az, g))
		return; /* (most of the time: a free slot is waiting) */
	/* the SYN-only flows, oldest first (two lists, one order) */
	while (done < want) {
		uint32_t hs = az->embryo.head, he = az->cembryo.head;

		if (hs == NONE && he == NONE)
			break;
		az->totals.evicted_embryos++;
		if (he == NONE || (hs != NONE && slot(az, hs)->last_packet < emb_pkt(emb(az, he))))
			azi_conn_close(az, slot(az, hs), slot(az, hs)->last_time);
		else
			store_embryo_close(az, REF_EMBRYO | he);
		done++;
	}
	/* finished connections hold an extension until their grace ends */
	while (done < want && az->tombs.head != NONE) {
		struct conn *c = tomb_at(az, az->tombs.head);

		az->totals.grace_cut++;
		azi_conn_close(az, c, c->last_time); /* (unlinks it) */
		done++;
	}
	az->tombs.deadline = az->tombs.head == NONE ? INFINITY : -INFINITY;
	if (done < want)
		done += evict_live(az, want - done);
	/* parked FIN_WAIT_2 holders last, in the order of their pool */
	while (done < want && az->n_parked > 0) {
		const struct parked *p;
		uint32_t i = az->park_cursor;

		if (i >= store_pool_capacity(&az->parks))
			i = 0;
		az->park_cursor = i + 1;
		p = pool_at(&az->parks, i);
		if (p->bits & PK_LIVE) {
			store_parked_close(az, REF_PARKED | i, -1.0, true);
			done++;
		}
	}
}

/* The connection at old (a slot, a tomb or a seal) now lives at ref, the
 * table entry already says so: free what old held. */
static void release(struct az *az, uint32_t old, uint32_t ref)
{
	/* (az->last never names a seal; an embryo has the same tag) */
	if (!is_seal(old) && az->last == old)
		az->last = is_seal(ref) ? NONE : ref;
	if (is_seal(old)) {
		if (ref_pos(&az->seals, old) == az->seals.head)
			az->seals.deadline = -INFINITY;
	} else if (is_tomb(old)) {
		store_tomb_free(az, old);
	} else {
		store_pool_put(&az->conns, old);
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
	e.initiator = (uint8_t)azi_initiator_of(c);
	e.zeek_state = (uint8_t)zk_state(&c->zk);
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

/* Put the tomb t (index i) at the tail of the tomb list. */
static void tomb_append(struct az *az, struct conn *t, uint32_t i)
{
	struct dlist *L = &az->tombs;

	t->prev = L->tail;
	t->next = NONE;
	if (L->tail != NONE) {
		tomb_at(az, L->tail)->next = i;
	} else {
		L->head = i;
		L->deadline = -INFINITY;
	}
	L->tail = i;
}

static void tomb_unlink(struct az *az, struct conn *t)
{
	struct dlist *L = &az->tombs;

	if (t->prev != NONE) {
		tomb_at(az, t->prev)->next = t->next;
	} else {
		L->head = t->next;
		L->deadline = -INFINITY; /* a later tomb may be due sooner */
	}
	if (t->next != NONE)
		tomb_at(az, t->next)->prev = t->prev;
	else
		L->tail = t->prev;
	t->prev = t->next = NONE;
}

void store_tomb_free(struct az *az, uint32_t ref)
{
	tomb_unlink(az, tomb_at(az, tomb_idx(ref)));
	store_pool_put(&az->conns, tomb_idx(ref));
}

/* c (in a slot, or a tomb that just took a late packet) is finished: a
 * seal if nothing about it can matter but its summary, else a tomb (in the
 * same slot) at the list's tail. Nothing is allocated: under the memory
 * bound, tombs are ended early, oldest first, when a new connection needs
 * room (store_make_room()). */
void store_finished(struct az *az, struct conn *c)
{
	uint32_t i, ref;

	if (c->ended_gracefully && !az->cfg.on_conn && !c->flagged_sides &&
	    !c->fw2_open[0] && !c->fw2_open[1] && seal_put(az, c) == 0)
		return;
	if (is_tomb(c->self)) {
		/* a late packet: it waits its grace period again, from now */
		tomb_unlink(az, c);
		tomb_append(az, c, tomb_idx(c->self));
		return;
	}
	/* its slot is its tomb from now on: nothing is copied or allocated */
	i = c->self;
	ref = REF_TOMB | i;
	c->self = ref;
	c->in_use = false;         /* not among the connections in progress */
	tomb_append(az, c, i);
	ft_replace(&az->ft, c->hash, i, ref);
	if (az->last == i)
		az->last = ref;
}

/* Count the seal at position pos (live) and forget it. */
void store_seal_close(struct az *az, struct seal *e, uint64_t pos, uint32_t hash)
{
	azi_count_conn(az, (e->flags & SEAL_LATE_RST) ? AZ_KIND_RESET : AZ_KIND_GRACEFUL,
	           (enum az_initiator)e->initiator, (e->flags & SEAL_LINGERED) != 0,
	           AZ_LINGER_CLIENT_FIN,
	           (e->flags & SEAL_ROLE_INFERRED) != 0,
	           (enum az_zeek_state)e->zeek_state);
	ft_remove(&az->fs, hash, REF_SEAL | (uint32_t)(pos & REF_POS_MASK));
	e->flags &= (uint8_t)~SEAL_LIVE;
	if (pos == az->seals.head)
		az->seals.deadline = -INFINITY;
}

/* A packet that is not a new connection came for the seal at pos (table
 * value ref, under hash) at t: a RST makes it "reset"; it waits its grace
 * period again from t, from the ring's tail. */
void store_seal_late(struct az *az, struct seal *e, uint32_t ref, uint32_t hash,
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
bool store_seal_starts_new(const struct seal *e, const struct dec_tcp *s, int d)
{
	if (!(s->flags & LL_TH_SYN) || (s->flags & LL_TH_ACK))
		return false;
	return !(d == AZ_C2S && (e->flags & SEAL_ISN_KNOWN) && s->seq == e->base);
}

/* Close the tombs whose grace is over, front to back, stopping at the
 * first not yet due. */
static void expire_tombs(struct az *az, double now)
{
	struct dlist *L = &az->tombs;

	while (L->head != NONE) {
		struct conn *c = tomb_at(az, L->head);
		double dl = c->last_time + c->grace;

		if (dl >= now) {
			L->deadline = dl;
			ft_prefetch(&az->ft, c->hash);
			return;
		}
		azi_conn_close(az, c, c->last_time); /* (unlinks it) */
	}
	L->deadline = INFINITY;
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
			store_seal_close(az, e, R->head, hash);
		}
		ring_pop(R);
	}
	R->deadline = INFINITY;
}

/* Close the SYN-only flows whose time is up, oldest first, and cache when
 * the next one's is (see struct dlist). The two lists (slots, embryos)
 * are read as the one list a capture tracked whole would have: in the
 * order of their last packets, stopping at the first not yet due. */
static void expire_embryos(struct az *az, double now)
{
	for (;;) {
		uint32_t hs = az->embryo.head, he = az->cembryo.head;
		struct conn *c;
		const struct embryo *e;
		double dl;

		if (hs == NONE && he == NONE)
			break;
		if (he == NONE || (hs != NONE && slot(az, hs)->last_packet < emb_pkt(emb(az, he)))) {
			c = slot(az, hs);
			dl = c->last_time + EMBRYO_IDLE;
			if (dl < now) {
				azi_conn_close(az, c, c->last_time);
				continue;
			}
			/* what closing it will touch: its table slot */
			ft_prefetch(&az->ft, c->hash);
		} else {
			e = emb(az, he);
			dl = e->t + EMBRYO_IDLE;
			if (dl < now) {
				store_embryo_close(az, REF_EMBRYO | he);
				continue;
			}
		}
		az->embryo.deadline = az->cembryo.deadline = dl;
		return;
	}
	az->embryo.deadline = az->cembryo.deadline = INFINITY;
}

void store_expire(struct az *az, double now)
{
	if (now > az->seals.deadline)
		expire_seals(az, now);
	if (now > az->tombs.deadline)
		expire_tombs(az, now);
	/* unanswered SYNs (a scan, a dead host) would otherwise be held to
	 * the end of the capture */
	if (now > az->embryo.deadline || now > az->cembryo.deadline)
		expire_embryos(az, now);
}

