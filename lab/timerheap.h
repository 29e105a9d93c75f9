/*
 * timerheap.h - an intrusive binary min-heap of deadlines, for event loops.
 *
 * The caller embeds a struct theap_node in its own object (a connection, a
 * held packet, a timer) and pushes the node; the heap stores only pointers,
 * so pushing, re-keying and removing never allocate except when the pointer
 * array grows (geometrically). Each node knows its index, which makes
 * theap_remove and theap_update O(log n).
 *
 * Order: by `when`, then by insertion order (a tie counter), so nodes with
 * the same deadline come out first-in first-out: a delay queue built on it
 * keeps packets of equal release time in the order they were queued.
 *
 * Ownership: the heap never frees nodes. Not thread-safe.
 */
#ifndef LL_LAB_TIMERHEAP_H
#define LL_LAB_TIMERHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THEAP_NONE SIZE_MAX /* index of a node that is not in any heap */

struct theap_node {
	uint64_t when;   /* deadline (the caller's clock) */
	uint64_t tie;    /* insertion order, set by the heap */
	size_t idx;      /* position in the heap, THEAP_NONE if not in it */
};

struct theap {
	struct theap_node **v;
	size_t n, cap;
	uint64_t next_tie;
};

/* Mark a node as "in no heap"; call once before first use. */
static inline void theap_node_init(struct theap_node *x) { x->when = 0; x->tie = 0; x->idx = THEAP_NONE; }
static inline bool theap_linked(const struct theap_node *x) { return x->idx != THEAP_NONE; }

/* An empty heap; no allocation until the first push. */
void theap_init(struct theap *h);
/* Free the pointer array (not the nodes); the heap is empty afterwards. */
void theap_fini(struct theap *h);

/*
 * Insert x with deadline when, or re-key it if it is already in h (it then
 * also moves behind other nodes with the same deadline). Returns 0, or -1
 * if the array could not grow (x is then not in the heap).
 */
int theap_set(struct theap *h, struct theap_node *x, uint64_t when);
/* Remove x if it is in h; no-op otherwise. */
void theap_remove(struct theap *h, struct theap_node *x);
/* The earliest node, or NULL when empty. */
static inline struct theap_node *theap_top(const struct theap *h) { return h->n ? h->v[0] : NULL; }
/* Remove and return the earliest node, or NULL when empty. */
struct theap_node *theap_pop(struct theap *h);
static inline size_t theap_len(const struct theap *h) { return h->n; }

#endif
