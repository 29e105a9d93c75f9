/*
 * scn_blocks.c - how a script is shaped into sets of connections
 * (docs/scenario-language.md, "Structure"): `connections N [stagger D]` for
 * the top level, `parallel N [stagger D] {` for a set of its own, `repeat N
 * {` for a loop inside one connection, and the `}` that closes either.
 */
#include "lab/scn_int.h"

#include <stdio.h>
#include <string.h>

static bool get_count(struct parser *ps, uint32_t *out)
{
	uint64_t v;
	char what[64];
	snprintf(what, sizeof what, "a count from 1 to %d", SCN_MAX_CONNECTIONS);
	if (!scn_get_uint(ps, scn_next(ps), 1, SCN_MAX_CONNECTIONS, what, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

/* [stagger DURATION] */
static bool get_stagger(struct parser *ps, int64_t *out)
{
	const struct tok *t = scn_peek(ps);
	if (scn_tok_is(t, "stagger")) {
		ps->cur++;
		return scn_get_duration(ps, scn_next(ps), 0, out);
	}
	return true;
}

/* The `{` that ends a `parallel` or `repeat` line. */
static bool open_brace(struct parser *ps)
{
	const struct tok *t = scn_next(ps);
	if (!scn_tok_is(t, "{")) {
		scn_fail_tok(ps, t, "\"{\"");
		return false;
	}
	return scn_expect_end(ps);
}

bool scn_st_connections(struct parser *ps, const struct tok *kw)
{
	if (!scn_once(ps, kw, &ps->have_conns))
		return false;
	ps->conns_line = ps->line;
	ps->conns_col = kw->col;
	if (!get_count(ps, &ps->stack[0].count))
		return false;
	if (!get_stagger(ps, &ps->stack[0].stagger_us))
		return false;
	return scn_expect_end(ps);
}

bool scn_st_parallel(struct parser *ps, const struct tok *kw)
{
	if (ps->s->n_groups >= SCN_MAX_GROUPS) {
		scn_fail_tok(ps, kw, "at most %d \"parallel\" blocks", SCN_MAX_GROUPS - 1);
		return false;
	}
	struct frame *f = &ps->stack[++ps->depth];
	memset(f, 0, sizeof *f);
	f->kind = FR_PARALLEL;
	f->line = ps->line;
	f->col = kw->col;
	/* the group slot is taken now so the count check sees it */
	ps->s->n_groups++;
	if (!get_count(ps, &f->count) || !get_stagger(ps, &f->stagger_us))
		return false;
	return open_brace(ps);
}

bool scn_st_repeat(struct parser *ps, const struct tok *kw)
{
	size_t repeats = 0;
	for (size_t i = 1; i <= ps->depth; i++)
		repeats += ps->stack[i].kind == FR_REPEAT;
	if (repeats >= SCN_MAX_DEPTH) {
		scn_fail_tok(ps, kw, "at most %d nested \"repeat\" blocks", SCN_MAX_DEPTH);
		return false;
	}
	struct frame *f = &ps->stack[++ps->depth];
	memset(f, 0, sizeof *f);
	f->kind = FR_REPEAT;
	f->line = ps->line;
	f->col = kw->col;
	uint64_t v;
	if (!scn_get_uint(ps, scn_next(ps), 1, SCN_MAX_REPEAT, "a count from 1 to 1000000", &v))
		return false;
	f->count = (uint32_t)v;
	return open_brace(ps);
}

bool scn_close_block(struct parser *ps, const struct tok *kw)
{
	if (ps->depth == 0) {
		scn_fail_tok(ps, kw, "a statement");
		return false;
	}
	if (!scn_expect_end(ps))
		return false;
	struct frame *f = &ps->stack[ps->depth];
	if (f->steps.n == 0) {
		scn_fail_tok(ps, kw, "a step inside the block opened at line %u", f->line);
		return false;
	}
	if (f->kind == FR_REPEAT) {
		struct list body = f->steps;
		f->steps = (struct list){ 0 };
		ps->depth--;
		/* list_push counts a step; the repeat statement is one */
		struct scn_step *st = scn_list_push(ps, &ps->stack[ps->depth].steps);
		if (!st) {
			scn_steps_free(body.v, body.n);
			return false;
		}
		st->kind = SCN_REPEAT;
		st->line = f->line;
		st->col = f->col;
		st->u.repeat.count = f->count;
		st->u.repeat.body.v = body.v;
		st->u.repeat.body.n = body.n;
		return true;
	}
	/* parallel: becomes the next group */
	size_t gi = ps->s->n_groups - 1;
	struct scn_group *g = &ps->s->groups[gi];
	g->line = f->line;
	g->connections = f->count;
	g->stagger_us = f->stagger_us;
	g->steps.v = f->steps.v;
	g->steps.n = f->steps.n;
	f->steps = (struct list){ 0 };
	ps->depth--;
	return true;
}
