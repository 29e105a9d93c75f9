/*
 * flowtab.h - the analyzer's table of live connections: a 4-tuple key
 * (both directions map to the same key) to a 32-bit value (a connection
 * slot), open addressing with linear probing.
 *
 * The table starts at a given power-of-two size and doubles when it is half
 * full, so lookups stay short and memory grows geometrically with the number
 * of live connections, never per packet. Removal shifts later entries back
 * (no tombstones), so a table that sees millions of short connections does
 * not degrade.
 *
 * A slot holds only the hash and the value (8 bytes, so the table stays in
 * cache); keys live with the caller, which the table asks through key_of()
 * when a hash matches.
 *
 * Key building, hashing, comparing and the lookup are inline: they run for
 * every packet, and the lookup takes key_of as an argument so that a
 * caller passing its own static function gets it inlined too (no call
 * through a pointer per probe).
 */
#ifndef LL_ANALYZER_FLOWTAB_H
#define LL_ANALYZER_FLOWTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FT_NONE UINT32_MAX

/* Normalized 4-tuple: endpoint "lo" is the smaller (address, port), with
 * addresses compared as byte strings (memcmp order). */
struct flow_key {
	uint8_t lo_addr[16], hi_addr[16];
	uint16_t lo_port, hi_port;
	uint8_t af;
	uint8_t tunnel[3];         /* the tunnel carrying the connection
	                              (dec_tcp.tunnel, 24 bits, little-endian;
	                              0: none): keys compare as words */
};
_Static_assert(sizeof(struct flow_key) == 40 &&
               offsetof(struct flow_key, lo_port) == 32 &&
               offsetof(struct flow_key, hi_port) == 34 &&
               offsetof(struct flow_key, af) == 36,
               "flow_key: ft_key() writes it as five words");

struct ft_slot {
	uint32_t hash;
	uint32_t val;              /* FT_NONE: empty */
};

/* The key stored for value val (the caller's record). */
typedef const struct flow_key *(*ft_key_fn)(const void *ctx, uint32_t val);

struct flowtab {
	struct ft_slot *slots;
	size_t mask;               /* size - 1 */
	size_t used;
	ft_key_fn key_of;
	const void *ctx;
};

static inline uint64_t ft_word(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

/*
 * Build the key of a segment from src to dst inside tunnel (0: none, else
 * dec_tcp.tunnel). *src_is_lo tells which end of the key the sender is.
 * Addresses are 16 bytes (IPv4 in the first 4, rest zero, as decode.h
 * gives them).
 *
 * The key is written as five 8-byte words because it is read back as
 * words right away (hash, compare): narrower stores under a wide load
 * cannot be forwarded, and that stall showed in the profile.
 */
static inline void ft_key(struct flow_key *k, uint8_t af, const uint8_t src[16],
                          uint16_t sport, const uint8_t dst[16], uint16_t dport,
                          uint32_t tunnel, bool *src_is_lo)
{
	uint64_t s0 = ft_word(src), s1 = ft_word(src + 8);
	uint64_t d0 = ft_word(dst), d1 = ft_word(dst + 8);
	uint64_t sh = __builtin_bswap64(s0), dh = __builtin_bswap64(d0);
	uint64_t sl = __builtin_bswap64(s1), dl = __builtin_bswap64(d1);
	uint8_t *p = (uint8_t *)k;
	uint64_t w[5], tail;
	uint16_t lo_port, hi_port;
	bool lo;

	if (sh != dh)
		lo = sh < dh;
	else if (sl != dl)
		lo = sl < dl;
	else
		lo = sport <= dport;
	w[0] = lo ? s0 : d0;
	w[1] = lo ? s1 : d1;
	w[2] = lo ? d0 : s0;
	w[3] = lo ? d1 : s1;
	lo_port = lo ? sport : dport;
	hi_port = lo ? dport : sport;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* lo_port, hi_port, af, tunnel[3] as they lie in memory */
	tail = (uint64_t)lo_port | (uint64_t)hi_port << 16 | (uint64_t)af << 32 |
	       (uint64_t)(tunnel & 0xffffffu) << 40;
#else
	{
		struct flow_key t;

		memset(&t, 0, sizeof(t));
		t.lo_port = lo_port;
		t.hi_port = hi_port;
		t.af = af;
		t.tunnel[0] = (uint8_t)tunnel;
		t.tunnel[1] = (uint8_t)(tunnel >> 8);
		t.tunnel[2] = (uint8_t)(tunnel >> 16);
		memcpy(&tail, (const uint8_t *)&t + 32, 8);
	}
#endif
	w[4] = tail;
	memcpy(p, &w[0], 8);
	memcpy(p + 8, &w[1], 8);
	memcpy(p + 16, &w[2], 8);
	memcpy(p + 24, &w[3], 8);
	memcpy(p + 32, &w[4], 8);
	*src_is_lo = lo;
}

static inline bool ft_key_eq(const struct flow_key *a, const struct flow_key *b)
{
	const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;

	/* five words, no early exit: the branch would mispredict more than
	 * the loads cost */
	return ((ft_word(x) ^ ft_word(y)) | (ft_word(x + 8) ^ ft_word(y + 8)) |
	        (ft_word(x + 16) ^ ft_word(y + 16)) |
	        (ft_word(x + 24) ^ ft_word(y + 24)) |
	        (ft_word(x + 32) ^ ft_word(y + 32))) == 0;
}

static inline uint32_t ft_hash(const struct flow_key *k)
{
	/* the five 64-bit words multiplied by independent odd constants (the
	 * multiplies run in parallel), then a final avalanche */
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = ft_word(p) * 0x9e3779b97f4a7c15ull ^
	             ft_word(p + 8) * 0xc2b2ae3d27d4eb4full ^
	             ft_word(p + 16) * 0x165667b19e3779f9ull ^
	             ft_word(p + 24) * 0xd6e8feb86659fd93ull ^
	             ft_word(p + 32) * 0xff51afd7ed558ccdull;

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return (uint32_t)h;
}

/* Empty table of `size` slots (rounded up to a power of two, at least 16);
 * key_of(ctx, val) gives the key of a stored value. Returns 0, or -1 on
 * allocation failure. */
int ft_init(struct flowtab *t, size_t size, ft_key_fn key_of, const void *ctx);

/* Value stored for k, or FT_NONE; key_of/ctx as given to ft_init (passed
 * again so that an inlined call inlines key_of as well). */
static inline uint32_t ft_lookup(const struct flowtab *t, const struct flow_key *k,
                                 uint32_t hash, ft_key_fn key_of, const void *ctx)
{
	size_t i = hash & t->mask;

	for (;;) {
		const struct ft_slot *s = &t->slots[i];

		if (s->val == FT_NONE)
			return FT_NONE;
		if (s->hash == hash && ft_key_eq(key_of(ctx, s->val), k))
			return s->val;
		i = (i + 1) & t->mask;
	}
}

/* Value stored for k, or FT_NONE. */
uint32_t ft_find(const struct flowtab *t, const struct flow_key *k, uint32_t hash);

/* Hint that the slot for hash will be looked at soon. */
static inline void ft_prefetch(const struct flowtab *t, uint32_t hash)
{
	__builtin_prefetch(&t->slots[hash & t->mask], 1);
}

/* Store val under hash (its key, as key_of gives it, must not be present
 * yet). Returns 0, or -1 if the table had to grow and could not (then
 * nothing changed). */
int ft_insert(struct flowtab *t, uint32_t hash, uint32_t val);

/* The entry for old_val (stored under hash) now holds new_val (same key). */
void ft_replace(struct flowtab *t, uint32_t hash, uint32_t old_val, uint32_t new_val);

/* Remove the entry for val (stored under hash) if present. */
void ft_remove(struct flowtab *t, uint32_t hash, uint32_t val);

void ft_free(struct flowtab *t);

#endif
