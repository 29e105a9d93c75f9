/*
 * flowtab.c - connection table (see flowtab.h).
 */
#include "analyzer/flowtab.h"

#include <stdlib.h>
#include <string.h>

static struct ft_slot *alloc_slots(size_t n)
{
	struct ft_slot *s = malloc(n * sizeof(*s));
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < n; i++)
		s[i].val = FT_NONE;
	return s;
}

int ft_init(struct flowtab *t, size_t size, ft_key_fn key_of, const void *ctx)
{
	size_t n = 16;

	t->key_of = key_of;
	t->ctx = ctx;
	while (n < size)
		n *= 2;
	t->slots = alloc_slots(n);
	if (!t->slots)
		return -1;
	t->mask = n - 1;
	t->used = 0;
	return 0;
}

uint32_t ft_find(const struct flowtab *t, const struct flow_key *k, uint32_t hash)
{
	return ft_lookup(t, k, hash, t->key_of, t->ctx);
}

static void place(struct ft_slot *slots, size_t mask, const struct ft_slot *src)
{
	size_t i = src->hash & mask;

	while (slots[i].val != FT_NONE)
		i = (i + 1) & mask;
	slots[i] = *src;
}

static int grow(struct flowtab *t)
{
	size_t n = (t->mask + 1) * 2, i;
	struct ft_slot *ns = alloc_slots(n);

	if (!ns)
		return -1;
	for (i = 0; i <= t->mask; i++)
		if (t->slots[i].val != FT_NONE)
			place(ns, n - 1, &t->slots[i]);
	free(t->slots);
	t->slots = ns;
	t->mask = n - 1;
	return 0;
}

int ft_insert(struct flowtab *t, uint32_t hash, uint32_t val)
{
	struct ft_slot s;

	/* keep the load at or under one half */
	if ((t->used + 1) * 2 > t->mask + 1 && grow(t) < 0)
		return -1;
	s.hash = hash;
	s.val = val;
	place(t->slots, t->mask, &s);
	t->used++;
	return 0;
}

void ft_replace(struct flowtab *t, uint32_t hash, uint32_t old_val, uint32_t new_val)
{
	size_t i = hash & t->mask;

	for (;;) {
		struct ft_slot *s = &t->slots[i];
		if (s->val == FT_NONE)
			return;
		if (s->val == old_val) {
			s->val = new_val;
			return;
		}
		i = (i + 1) & t->mask;
	}
}

void ft_remove(struct flowtab *t, uint32_t hash, uint32_t val)
{
	size_t i = hash & t->mask, j;

	for (;;) {
		struct ft_slot *s = &t->slots[i];
		if (s->val == FT_NONE)
			return;
		if (s->val == val)
			break;
		i = (i + 1) & t->mask;
	}
	/* backward-shift deletion: move up any later entry whose home slot
	 * does not lie in the cyclic range (i, j] */
	t->slots[i].val = FT_NONE;
	j = i;
	for (;;) {
		size_t home;

		j = (j + 1) & t->mask;
		if (t->slots[j].val == FT_NONE)
			break;
		home = t->slots[j].hash & t->mask;
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->slots[i] = t->slots[j];
		t->slots[j].val = FT_NONE;
		i = j;
	}
	t->used--;
}

void ft_free(struct flowtab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->mask = 0;
	t->used = 0;
}
