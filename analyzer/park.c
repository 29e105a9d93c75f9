/*
 * park.c - FIN_WAIT_2 holders parked (see struct parked in store.h).
 *
 * A server that closes first and whose clients never send their FIN
 * keeps its sockets in FIN_WAIT_2: a capture of such a server (or a
 * flood of clients doing it on purpose) holds connections that do
 * nothing for seconds or minutes. Tracked whole, each costs a slot and an
 * extension (about 3.5 KB). Parked, it costs its compressed image.
 *
 * What must survive parking. A holder's later outcomes are the peer's
 * FIN (graceful end), peer data after the FIN (lingering, or a RST for
 * data after close), a RST from either side, retransmissions, or nothing
 * (capture end). Judging them reads nearly everything: the directions'
 * counters, Zeek's state (struct zk: its letters and states change with
 * later packets), the HTTP and TLS parsers (later requests are counted),
 * the ACK history (a later RST's sender_acked is looked up in it, and its
 * merges depend on all of it), the data segments (risk packets), and the
 * timeline (ACK-of-an-ACK evidence, the receiver's last window, and the
 * retained timeline of a connection flagged later, for instance a client
 * that sends data after the server's FIN and then resets with it
 * unacknowledged). Rather than prove, case by case, which of these a
 * particular later packet can still reach, the parked form keeps all of
 * it: an exact image of struct conn, of the extension and of the kept
 * timeline entries. So unparking gives back the same bytes, and every
 * outcome is judged as if the connection had stayed in its slot (tests:
 * test_analyzer_park.c analyzes captures both ways and compares every
 * record, total, finding, timeline and FIN_WAIT_2 summary).
 *
 * Only what is never read is left out of the image, so that it
 * compresses: the parts of the rings and line buffers beyond their
 * counts, the RST judging state of a connection without a pending RST,
 * the HTTP response table beyond n_resp, and pointers (restored from
 * the slot and extension the connection is unparked into). The image is
 * compressed with zstd (Debian's libzstd, already used to read
 * compressed captures), against a dictionary: the first image parked,
 * since a capture's FIN_WAIT_2 holders tend to look alike.
 *
 * A RST finishes a connection at once, so a holder never has a RST
 * being judged (no RST fates, no pending judgement); store_park() checks
 * it all the same.
 */
#include "analyzer/store.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define PARK_LEVEL 1               /* zstd level: fast, and small enough */

struct park_codec {
	ZSTD_CCtx *cc;
	ZSTD_DCtx *dc;
	ZSTD_CDict *cdict;
	ZSTD_DDict *ddict;
	uint8_t *img;                  /* an image (64-byte aligned) */
	size_t cap_img;
	uint8_t *out;                  /* a compressed image */
	size_t cap_out;
};

static size_t tl_kept(const struct conn_ext *x)
{
	if (x->cap_tail == 0)
		return 0;
	return x->n_tail < x->cap_tail ? (size_t)x->n_tail : x->cap_tail;
}

#define IMG_EXT sizeof(struct conn)
#define IMG_TL (sizeof(struct conn) + sizeof(struct conn_ext))

static void xform(uint8_t *img, size_t n_tl, bool enc);

static struct park_codec *codec(struct az *az)
{
	struct park_codec *k = az->codec;

	if (k)
		return k;
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->cc = ZSTD_createCCtx();
	k->dc = ZSTD_createDCtx();
	if (!k->cc || !k->dc) {
		ZSTD_freeCCtx(k->cc);
		ZSTD_freeDCtx(k->dc);
		free(k);
		return NULL;
	}
	az->codec = k;
	return k;
}

/* Make room for an image of n bytes and its compressed form. */
static int scratch(struct park_codec *k, size_t n)
{
	size_t bound = ZSTD_compressBound(n);

	if (n > k->cap_img) {
		size_t cap = (n + 4095) & ~(size_t)4095;
		uint8_t *p = aligned_alloc(64, cap);

		if (!p)
			return -1;
		free(k->img);
		k->img = p;
		k->cap_img = cap;
	}
	if (bound > k->cap_out) {
		uint8_t *p = malloc(bound);

		if (!p)
			return -1;
		free(k->out);
		k->out = p;
		k->cap_out = bound;
	}
	return 0;
}

/* The image of c (with its extension) into img; its length. What is
 * zeroed here is never read (see the opening comment). */
static size_t image_of(const struct conn *c, uint8_t *img)
{
	struct conn *ic = (struct conn *)img;
	struct conn_ext *ix = (struct conn_ext *)(img + IMG_EXT);
	const struct conn_ext *x = c->x;
	struct az_tl_pkt *tl = (struct az_tl_pkt *)(img + IMG_TL);
	size_t kept = tl_kept(x);
	int d, k;

	memcpy(ic, c, sizeof(*c));
	/* the parked record keeps these */
	memset(&ic->key, 0, sizeof(ic->key));
	ic->hash = 0;
	ic->id = 0;
	ic->x = NULL;
	ic->self = ic->prev = ic->next = ic->next_free = 0;
	ic->list = L_NONE;
	memset(&ic->http.resp[c->http.n_resp], 0,
	       (AZ_MAX_HTTP_RESPONSES - c->http.n_resp) * sizeof(ic->http.resp[0]));
	memcpy(ix, x, sizeof(*x));
	ix->self = ix->next_free = 0;
	ix->tl_head = ix->tl_tail = NULL;
	ix->rp = NULL;
	ix->dec = NULL;
	for (d = 0; d < 2; d++) {
		struct http_dir *hd = &ix->hd[d];
		struct tls_dir *td = &ix->td[d];
		struct xdir *X = &ix->x[d];

		memset(hd->line + hd->line_len, 0, HTTP_LINE_MAX - hd->line_len);
		memset(td->hello + td->hello_n, 0, TLS_HELLO_MAX - td->hello_n);
		memset(td->hdr + td->hdr_n, 0, sizeof(td->hdr) - td->hdr_n);
		for (k = td->n; k < TLS_RING; k++)
			memset(&td->ring[(td->head + k) % TLS_RING], 0, sizeof(td->ring[0]));
		memset(&X->acks[X->ack_n], 0, (ACK_RING - X->ack_n) * sizeof(X->acks[0]));
		for (k = X->d_n; k < DATA_RING; k++)
			memset(&X->dring[(X->d_head + k) % DATA_RING], 0, sizeof(X->dring[0]));
		if (!ix->pend[d].active)
			memset(&ix->pend[d], 0, sizeof(ix->pend[d]));
	}
	if (x->n_head)
		memcpy(tl, x->tl_head, x->n_head * sizeof(*tl));
	if (kept)
		memcpy(tl + x->n_head, x->tl_tail, kept * sizeof(*tl));
	/* the entries' padding was never written (realloc'd memory): zeros,
	 * so that the same connection always makes the same image */
	for (size_t i = 0; i < x->n_head + kept; i++)
		memset((char *)&tl[i] + offsetof(struct az_tl_pkt, flags) + 1, 0,
		       sizeof(*tl) - offsetof(struct az_tl_pkt, flags) - 1);
	xform(img, x->n_head + kept, true);
	return IMG_TL + (x->n_head + kept) * sizeof(*tl);
}

/*
 * Before compressing, times, packet indexes and sequence numbers are
 * written as differences from the connection's own first time (its bit
 * pattern: for times of one exponent the difference of the patterns is
 * proportional to the difference of the times), first packet and each
 * direction's base, so that the bytes that differ from one connection to
 * the next become zeros. f(v) = v - a + 1 (so a itself, the most common
 * value, is 1), except that 0 stays 0 (a field not set) and a - 1 takes
 * the place 0 would have had, 1 - a: a bijection, undone below.
 */
static void fx64(uint8_t *p, uint64_t a, bool enc)
{
	uint64_t v;

	memcpy(&v, p, 8);
	if (enc)
		v = v == 0 ? 0 : v == a - 1 ? 1 - a : v - a + 1;
	else
		v = v == 0 ? 0 : v == 1 - a ? a - 1 : v + a - 1;
	memcpy(p, &v, 8);
}

static void fx32(uint8_t *p, uint32_t a, bool enc)
{
	uint32_t v;

	memcpy(&v, p, 4);
	if (enc)
		v = v == 0 ? 0 : v == a - 1 ? 1 - a : v - a + 1;
	else
		v = v == 0 ? 0 : v == 1 - a ? a - 1 : v + a - 1;
	memcpy(p, &v, 4);
}

#define F64(base, type, field, a) fx64((uint8_t *)(base) + offsetof(type, field), (a), enc)
#define F32(base, type, field, a) fx32((uint8_t *)(base) + offsetof(type, field), (a), enc)

static void xform_dir(struct cdir *D, uint64_t at, uint64_t ap, uint32_t b, uint32_t pb,
                      bool enc)
{
	F32(D, struct cdir, data_end, b);
	F32(D, struct cdir, fin_seq, b);
	F32(D, struct cdir, fin_ack, pb);
	F64(D, struct cdir, fin_time, at);
	F64(D, struct cdir, fin_packet, ap);
	F32(D, struct cdir, acked, b);
	F32(D, struct cdir, first_ack, b);
	F32(D, struct cdir, rst_seq, b);
	F64(D, struct cdir, rst_time, at);
	F64(D, struct cdir, rst_packet, ap);
	F64(D, struct cdir, last_data_time, at);
	F32(D, struct cdir, gap_start, b);
}

static void xform_zk(struct zk_end *e, uint32_t b, bool enc)
{
	F32(e, struct zk_end, start, b);
	F32(e, struct zk_end, last, b);
	F32(e, struct zk_end, ack_seq, b);
	F32(e, struct zk_end, fin_end, b);
	F32(e, struct zk_end, deliv, b);
	F32(e, struct zk_end, oo_start, b);
	F32(e, struct zk_end, oo_end, b);
}

/* Write the image img's numbers as differences (enc), or back. */
static void xform(uint8_t *img, size_t n_tl, bool enc)
{
	struct conn *c = (struct conn *)img;
	struct conn_ext *x = (struct conn_ext *)(img + IMG_EXT);
	struct az_tl_pkt *tl = (struct az_tl_pkt *)(img + IMG_TL);
	uint64_t at, ap = c->first_packet;
	uint32_t b[2] = { c->d[0].base, c->d[1].base };
	size_t i;
	int d, k;

	memcpy(&at, &c->first_time, 8);
	F64(c, struct conn, last_time, at);
	F64(c, struct conn, t_syn, at);
	F64(c, struct conn, t_synack, at);
	F64(c, struct conn, t_hsack, at);
	F64(c, struct conn, last_packet, ap);
	F64(c, struct conn, t_client_fin_in, at);
	F32(c, struct conn, linger_acked0, b[AZ_C2S]);
	F32(c, struct conn, linger_upto, b[AZ_C2S]);
	for (d = 0; d < 2; d++) {
		xform_dir(&c->d[d], at, ap, b[d], b[!d], enc);
		/* zk's ends: [0] is the key's lo end */
		xform_zk(&c->zk.e[d], b[(d == 0) == c->client_is_lo ? AZ_C2S : AZ_S2C], enc);
		F64(&c->fw2[d], struct az_fw2_interval, start, at);
		F64(&c->fw2[d], struct az_fw2_interval, end, at);
		F32(&x->hd[d], struct http_dir, next, b[d]);
		F32(&x->hd[d], struct http_dir, line_seq, b[d]);
		F32(&x->td[d], struct tls_dir, next, b[d]);
		F32(&x->td[d], struct tls_dir, cur.start, b[d]);
		F32(&x->td[d], struct tls_dir, cur.end, b[d]);
		for (k = 0; k < TLS_RING; k++) {
			F32(&x->td[d].ring[k], struct tls_rec, start, b[d]);
			F32(&x->td[d].ring[k], struct tls_rec, end, b[d]);
		}
		for (k = 0; k < x->x[d].ack_n; k++) {
			struct ackev *e = &x->x[d].acks[k];

			F64(e, struct ackev, t0, at);
			F64(e, struct ackev, t1, at);
			F32(e, struct ackev, ack0, b[d]);
			F32(e, struct ackev, ack1, b[d]);
		}
		for (k = 0; k < DATA_RING; k++) {
			struct dseg *g = &x->x[d].dring[k];

			F32(g, struct dseg, start, b[d]);
			F32(g, struct dseg, end, b[d]);
			F64(g, struct dseg, idx, ap);
		}
	}
	for (k = 0; k < c->http.n_resp; k++) {
		F32(&c->http.resp[k], struct az_http_response, seq_start, b[AZ_S2C]);
		F32(&c->http.resp[k], struct az_http_response, seq_end, b[AZ_S2C]);
	}
	for (i = 0; i < n_tl; i++) {
		F64(&tl[i], struct az_tl_pkt, t, at);
		F64(&tl[i], struct az_tl_pkt, index, ap);
		F32(&tl[i], struct az_tl_pkt, seq, b[tl[i].dir & 1]);
		F32(&tl[i], struct az_tl_pkt, ack, b[!(tl[i].dir & 1)]);
	}
}

static struct parked *pk(const struct az *az, uint32_t i)
{
	return pool_at(&az->parks, i);
}

bool store_park(struct az *az, struct conn *c)
{
	struct park_codec *k;
	const struct conn_ext *x = c->x;
	struct parked *p;
	size_t n, z, used, grow = 0;
	uint8_t *blob;
	uint32_t i, ref;

	/* (a TLS decryptor, tlsdec.c, is state of its own, not in the image:
	 * a connection being decrypted stays whole) */
	if (!x || c->finished || c->id >= EMB_MAX || x->rp || x->dec ||
	    x->pend[0].active || x->pend[1].active ||
	    !(c->fw2_open[0] || c->fw2_open[1]) || is_compact(c->self))
		return false;
	k = codec(az);
	if (!k)
		return false;
	n = IMG_TL + (x->n_head + tl_kept(x)) * sizeof(struct az_tl_pkt);
	if (scratch(k, n) < 0)
		return false;
	n = image_of(c, k->img);
	if (k->cdict)
		z = ZSTD_compress_usingCDict(k->cc, k->out, k->cap_out, k->img, n, k->cdict);
	else
		z = ZSTD_compressCCtx(k->cc, k->out, k->cap_out, k->img, n, PARK_LEVEL);
	if (ZSTD_isError(z))
		return false;
	/* within the memory bound: the blob, and a slab if the pool grows
	 * (the slot and extension it frees are not given back to the system) */
	if (az->parks.free_head == NONE)
		grow = SLAB_SIZE * az->parks.esize;
	used = store_mem_used(az) + grow + z;
	if (az->mem_limit != SIZE_MAX && used > az->mem_limit)
		return false;
	if (used > az->mem_peak)
		az->mem_peak = used;
	blob = malloc(z);
	if (!blob)
		return false;
	i = store_pool_get(&az->parks);
	if (i == NONE) {
		free(blob);
		return false;
	}
	memcpy(blob, k->out, z);
	ref = REF_PARKED | i;
	p = pk(az, i);
	p->key = c->key;
	p->hash = c->hash;
	p->len = (uint32_t)z;
	p->id_lo = (uint32_t)c->id;
	p->id_hi = (uint16_t)(c->id >> 32);
	p->blob = blob;
	p->bits = PK_LIVE | (k->cdict ? PK_DICT : 0);
	az->park_bytes += z;
	az->n_parked++;
	if (!k->cdict) {
		/* the first image is the dictionary for those that follow
		 * (zstd copies it) */
		k->cdict = ZSTD_createCDict(k->img, n, PARK_LEVEL);
		k->ddict = ZSTD_createDDict(k->img, n);
		if (!k->cdict || !k->ddict) {
			ZSTD_freeCDict(k->cdict);
			ZSTD_freeDDict(k->ddict);
			k->cdict = NULL;
			k->ddict = NULL;
		}
	}
	/* the slot and extension go back to their pools */
	ft_replace(&az->ft, c->hash, c->self, ref);
	store_list_unlink(az, c);
	if (az->last == c->self)
		az->last = NONE;
	store_ext_release(az, c);
	c->in_use = false;
	store_pool_put(&az->conns, c->self);
	az->n_parks++;
	return true;
}

void store_park_oldest(struct az *az)
{
	int tries;

	for (tries = 0; tries < 4 && az->fw2list.head != NONE; tries++) {
		struct conn *c = slot(az, az->fw2list.head);

		if (store_park(az, c))
			return;
		/* cannot be parked (no memory): not the first to try again */
		store_list_append(az, c, L_FW2);
	}
}

/* Decode the parked p into c and x: x's own timeline buffers (x->self's)
 * are reused, sized to what the image says; tmp: x is not from the pool
 * (its buffers are the caller's to free, tl_bytes untouched). Returns 0,
 * or -1 without memory. */
static int restore(struct az *az, const struct parked *p, struct conn *c,
                   struct conn_ext *x, bool tmp)
{
	struct park_codec *k = az->codec;
	const struct conn_ext *ix;
	const struct az_tl_pkt *tl;
	struct az_tl_pkt *th = x->tl_head, *tt = x->tl_tail;
	uint32_t ch = x->cap_head, ct = x->cap_tail, self = x->self;
	size_t n, kept;

	if (!k || scratch(k, IMG_TL) < 0)
		return -1;
	n = ZSTD_getFrameContentSize(p->blob, p->len);
	if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n < IMG_TL ||
	    scratch(k, n) < 0)
		return -1;
	if (p->bits & PK_DICT)
		n = ZSTD_decompress_usingDDict(k->dc, k->img, k->cap_img, p->blob, p->len, k->ddict);
	else
		n = ZSTD_decompressDCtx(k->dc, k->img, k->cap_img, p->blob, p->len);
	if (ZSTD_isError(n) || n < IMG_TL || (n - IMG_TL) % sizeof(*tl) != 0)
		return -1;
	xform(k->img, (n - IMG_TL) / sizeof(*tl), false);
	ix = (const struct conn_ext *)(k->img + IMG_EXT);
	tl = (const struct az_tl_pkt *)(k->img + IMG_TL);
	/* the timeline buffers, at the capacities they had (the tail ring's
	 * positions depend on it) */
	if (ch != ix->cap_head) {
		struct az_tl_pkt *nb = ix->cap_head ? realloc(th, ix->cap_head * sizeof(*nb)) : NULL;

		if (ix->cap_head && !nb)
			return -1;
		if (!ix->cap_head)
			free(th);
		if (!tmp)
			az->tl_bytes = az->tl_bytes - ch * sizeof(*nb) + ix->cap_head * sizeof(*nb);
		th = nb;
		ch = ix->cap_head;
		x->tl_head = th;
		x->cap_head = ch;
	}
	if (ct != ix->cap_tail) {
		struct az_tl_pkt *nb = ix->cap_tail ? realloc(tt, ix->cap_tail * sizeof(*nb)) : NULL;

		if (ix->cap_tail && !nb)
			return -1;
		if (!ix->cap_tail)
			free(tt);
		if (!tmp)
			az->tl_bytes = az->tl_bytes - ct * sizeof(*nb) + ix->cap_tail * sizeof(*nb);
		tt = nb;
		ct = ix->cap_tail;
		x->tl_tail = tt;
		x->cap_tail = ct;
	}
	memcpy(c, k->img, sizeof(*c));
	memcpy(x, ix, sizeof(*x));
	x->self = self;
	x->tl_head = th;
	x->cap_head = ch;
	x->tl_tail = tt;
	x->cap_tail = ct;
	x->rp = NULL;
	x->dec = NULL;
	kept = tl_kept(x);
	if (x->n_head)
		memcpy(th, tl, x->n_head * sizeof(*tl));
	if (kept)
		memcpy(tt, tl + x->n_head, kept * sizeof(*tl));
	c->x = x;
	c->key = p->key;
	c->hash = p->hash;
	c->id = pk_id(p);
	c->prev = c->next = NONE;
	c->list = L_NONE;
	return 0;
}

/* Forget the parked i (its table entry is the caller's). */
static void parked_free(struct az *az, uint32_t i)
{
	struct parked *p = pk(az, i);

	if (p->bits & PK_LIVE)
		az->n_parked--;
	az->park_bytes -= p->len;
	free(p->blob);
	p->blob = NULL;
	p->bits = 0;
	store_pool_put(&az->parks, i);
}

void store_parked_close(struct az *az, uint32_t ref, double end_time, bool evict)
{
	uint32_t i = ref & REF_SUB_MASK;
	struct parked *p = pk(az, i);
	struct conn c;
	struct conn_ext *x = calloc(1, sizeof(*x));
	bool have = false;

	if (p->bits & PK_LIVE) {
		az->n_parked--;
		p->bits &= (uint8_t)~PK_LIVE;
	}
	if (x) {
		x->self = NONE;
		have = restore(az, p, &c, x, true) == 0;
	}
	if (!have) {
		/* no memory for the image: what the table knows (counted, not
		 * its record) */
		memset(&c, 0, sizeof(c));
		c.key = p->key;
		c.hash = p->hash;
		c.id = pk_id(p);
		c.first_close = c.first_rst = -1;
		c.finding_idx[0] = c.finding_idx[1] = -1;
		az->dropped++;
	}
	c.self = ref;
	if (evict) {
		az->totals.evicted++;
		if (c.fw2_open[0] || c.fw2_open[1])
			az->totals.evicted_fin_wait_2++;
		c.evicted = true;
	}
	if (evict || end_time < 0)
		end_time = c.last_time;
	azi_conn_close(az, &c, end_time);
	if (x) {
		free(x->tl_head);
		free(x->tl_tail);
		free(x);
	}
	parked_free(az, i);
}

struct conn *store_unpark(struct az *az, uint32_t ref)
{
	uint32_t pi = ref & REF_SUB_MASK, i;
	struct parked *p = pk(az, pi);
	struct conn_ext *x;
	struct conn *c;

	/* not live first: the memory bound must not choose it */
	az->n_parked--;
	p->bits &= (uint8_t)~PK_LIVE;
	store_make_room(az, false);
	i = store_pool_get(&az->conns);
	if (i == NONE)
		goto fail;
	x = store_ext_get(az);
	if (!x) {
		store_pool_put(&az->conns, i);
		goto fail;
	}
	c = slot(az, i);
	if (restore(az, p, c, x, false) < 0) {
		c->x = x;
		store_ext_release(az, c);
		c->in_use = false;
		store_pool_put(&az->conns, i);
		goto fail;
	}
	c->self = i;
	if (c->fw2_open[0] || c->fw2_open[1])
		store_list_append(az, c, L_FW2);
	ft_replace(&az->ft, c->hash, ref, i);
	parked_free(az, pi);
	az->n_unparks++;
	return c;
fail:
	store_parked_close(az, ref, -1.0, false);
	return NULL;
}

void store_park_free(struct az *az)
{
	size_t i;
	struct park_codec *k = az->codec;

	for (i = 0; i < store_pool_capacity(&az->parks); i++) {
		struct parked *p = pk(az, (uint32_t)i);
		free(p->blob);
		p->blob = NULL;
	}
	store_pool_free(&az->parks);
	if (k) {
		ZSTD_freeCCtx(k->cc);
		ZSTD_freeDCtx(k->dc);
		ZSTD_freeCDict(k->cdict);
		ZSTD_freeDDict(k->ddict);
		free(k->img);
		free(k->out);
		free(k);
		az->codec = NULL;
	}
}
