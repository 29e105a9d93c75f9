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
 */
#ifndef LL_ANALYZER_FLOWTAB_H
#define LL_ANALYZER_FLOWTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FT_NONE UINT32_MAX

/* Normalized 4-tuple: endpoint "lo" is the smaller (address, port). */
struct flow_key {
	uint8_t lo_addr[16], hi_addr[16];
	uint16_t lo_port, hi_port;
	uint8_t af;
	uint8_t pad[3];            /* always zero: keys compare with memcmp */
};

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

/*
 * Build the key of a segment from src to dst. *src_is_lo tells which end
 * of the key the sender is. Addresses are 16 bytes (IPv4 in the first 4,
 * rest zero, as decode.h gives them).
 */
void ft_key(struct flow_key *k, uint8_t af, const uint8_t src[16],
            uint16_t sport, const uint8_t dst[16], uint16_t dport,
            bool *src_is_lo);

uint32_t ft_hash(const struct flow_key *k);

/* Empty table of `size` slots (rounded up to a power of two, at least 16);
 * key_of(ctx, val) gives the key of a stored value. Returns 0, or -1 on
 * allocation failure. */
int ft_init(struct flowtab *t, size_t size, ft_key_fn key_of, const void *ctx);

/* Value stored for k, or FT_NONE. */
uint32_t ft_find(const struct flowtab *t, const struct flow_key *k, uint32_t hash);

/* Store val under hash (its key, as key_of gives it, must not be present
 * yet). Returns 0, or -1 if the table had to grow and could not (then
 * nothing changed). */
int ft_insert(struct flowtab *t, uint32_t hash, uint32_t val);

/* Remove the entry for val (stored under hash) if present. */
void ft_remove(struct flowtab *t, uint32_t hash, uint32_t val);

void ft_free(struct flowtab *t);

#endif
