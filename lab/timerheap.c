/*
 * timerheap.c - intrusive binary min-heap (see timerheap.h).
 */
#include "lab/timerheap.h"

#include <stdlib.h>

static bool node_less(const struct theap_node *a, const struct theap_node *b)
{
	if (a->when != b->when)
		return a->when < b->when;
	return a->tie < b->tie;
}

static void place(struct theap *h, size_t i, struct theap_node *x)
{
	h->v[i] = x;
	x->idx = i;
}

static void sift_up(struct theap *h, size_t i)
{
	struct theap_node *x = h->v[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!node_less(x, h->v[parent]))
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, x);
}

static void sift_down(struct theap *h, size_t i)
{
	struct theap_node *x = h->v[i];
	for (;;) {
		size_t l = 2 * i + 1, best;
		if (l >= h->n)
			break;
		best = l;
		if (l + 1 < h->n && node_less(h->v[l + 1], h->v[l]))
			best = l + 1;
		if (!node_less(h->v[best], x))
			break;
		place(h, i, h->v[best]);
		i = best;
	}
	place(h, i, x);
}

void theap_init(struct theap *h)
{
	h->v = NULL;
	h->n = 0;
	h->cap = 0;
	h->next_tie = 0;
}

void theap_fini(struct theap *h)
{
	for (size_t i = 0; i < h->n; i++)
		h->v[i]->idx = THEAP_NONE;
	free(h->v);
	h->v = NULL;
	h->n = 0;
	h->cap = 0;
}

int theap_set(struct theap *h, struct theap_node *x, uint64_t when)
{
	if (theap_linked(x)) {
		/* Re-key in place: a fresh tie sends it behind equal deadlines. */
		x->when = when;
		x->tie = h->next_tie++;
		sift_up(h, x->idx);
		sift_down(h, x->idx);
		return 0;
	}
	if (h->n == h->cap) {
		size_t ncap = h->cap ? h->cap * 2 : 64;
		struct theap_node **nv = realloc(h->v, ncap * sizeof *nv);
		if (!nv)
			return -1;
		h->v = nv;
		h->cap = ncap;
	}
	x->when = when;
	x->tie = h->next_tie++;
	place(h, h->n++, x);
	sift_up(h, x->idx);
	return 0;
}

void theap_remove(struct theap *h, struct theap_node *x)
{
	size_t i = x->idx;
	if (i == THEAP_NONE || i >= h->n || h->v[i] != x)
		return;
	x->idx = THEAP_NONE;
	h->n--;
	if (i == h->n)
		return;
	{
		struct theap_node *moved = h->v[h->n];
		place(h, i, moved);
		/* The moved node may belong above or below its new place. */
		sift_up(h, i);
		sift_down(h, moved->idx);
	}
}

struct theap_node *theap_pop(struct theap *h)
{
	struct theap_node *x = theap_top(h);
	if (x)
		theap_remove(h, x);
	return x;
}
