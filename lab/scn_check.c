/*
 * scn_check.c - the checks over the whole script, once it is read: in
 * each group one `connect` per connection, at the group's own level,
 * before every step that needs the connection, with `after` ahead of it;
 * expectations that fit the client; the number of connections in all.
 */
#include "lab/scn_int.h"

#include <stdio.h>

/* ---- checks over a finished group ------------------------------------- */

static bool needs_connection(enum scn_step_kind k)
{
	switch (k) {
	case SCN_SEND: case SCN_REQUEST: case SCN_BODY: case SCN_SHUTDOWN:
	case SCN_ABORT: case SCN_WAIT: case SCN_HOLD: case SCN_VANISH: case SCN_RST:
		return true;
	default:
		return false;
	}
}

static const struct scn_step *first_needing(const struct scn_steps *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct scn_step *st = &l->v[i];
		if (needs_connection(st->kind))
			return st;
		if (st->kind == SCN_REPEAT) {
			const struct scn_step *r = first_needing(&st->u.repeat.body);
			if (r)
				return r;
		}
	}
	return NULL;
}

static const struct scn_step *find_kind_in(const struct scn_steps *l,
                                           enum scn_step_kind k)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].kind == k)
			return &l->v[i];
		if (l->v[i].kind == SCN_REPEAT) {
			const struct scn_step *r = find_kind_in(&l->v[i].u.repeat.body, k);
			if (r)
				return r;
		}
	}
	return NULL;
}

static void found_word(const char *word, char *out, size_t cap)
{
	snprintf(out, cap, "\"%s\"", word);
}

/* One `connect`, at the group's own level, before any step that needs the
 * connection. */
static bool check_group(struct parser *ps, const struct scn_group *g)
{
	const struct scn_steps *l = &g->steps;
	const struct scn_step *conn = NULL;
	char found[32];
	for (size_t i = 0; i < l->n; i++) {
		const struct scn_step *st = &l->v[i];
		if (st->kind == SCN_REPEAT) {
			const struct scn_step *c = find_kind_in(&st->u.repeat.body, SCN_CONNECT);
			if (c) {
				found_word("connect", found, sizeof found);
				scn_fail_at(ps, c->line, c->col, found, "\"connect\" outside \"repeat\"");
				return false;
			}
		}
		if (st->kind == SCN_CONNECT) {
			if (conn) {
				found_word("connect", found, sizeof found);
				scn_fail_at(ps, st->line, st->col, found,
				            "one \"connect\" per connection (the first is at line %u)",
				            conn->line);
				return false;
			}
			conn = st;
			continue;
		}
		if (conn) {
			/* `after` sets how the connection is opened */
			const struct scn_step *late = st->kind == SCN_AFTER ? st : NULL;
			if (!late && st->kind == SCN_REPEAT)
				late = find_kind_in(&st->u.repeat.body, SCN_AFTER);
			if (late) {
				found_word("after", found, sizeof found);
				scn_fail_at(ps, late->line, late->col, found,
				            "\"after\" before \"connect\" (line %u)", conn->line);
				return false;
			}
			continue;
		}
		const struct scn_step *need = needs_connection(st->kind) ? st : NULL;
		if (!need && st->kind == SCN_REPEAT)
			need = first_needing(&st->u.repeat.body);
		if (need) {
			found_word(scn_step_name(need->kind), found, sizeof found);
			scn_fail_at(ps, need->line, need->col, found, "\"connect\" before \"%s\"",
			            scn_step_name(need->kind));
			return false;
		}
	}
	if (!conn) {
		unsigned line = g->line ? g->line : l->v[0].line;
		scn_fail_at(ps, line, 1, "none", "a \"connect\" step");
		return false;
	}
	return true;
}

/* The whole script, once read (eof_line:eof_col is where a missing piece
 * is reported): `connections` has top-level steps to repeat, every group
 * passes check_group(), each expectation fits the client, and the
 * connections add up to at least one and at most SCN_MAX_CONNECTIONS
 * (a client program makes none of its own). Sets s->total_connections. */
bool scn_check_script(struct parser *ps, unsigned eof_line, unsigned eof_col)
{
	struct scn_scenario *s = ps->s;
	const struct scn_group *g0 = &s->groups[0];

	if (ps->have_conns && !g0->steps.n) {
		scn_fail_at(ps, ps->conns_line, ps->conns_col, "none",
		            "steps at the top level for \"connections\"");
		return false;
	}
	uint64_t total = 0;
	for (size_t i = 0; i < s->n_groups; i++) {
		if (s->groups[i].steps.n && !check_group(ps, &s->groups[i]))
			return false;
		total += s->groups[i].connections;
	}
	for (size_t i = 0; i < s->n_expects; i++) {
		const struct scn_expect *x = &s->expects[i];
		bool app = x->subject == SCN_X_APP_RESPONSE || x->subject == SCN_X_APP_ERROR;
		bool prog = x->subject == SCN_X_CLIENT_EXIT || x->subject == SCN_X_CLIENT_OUTPUT;
		if (app && s->client != SCN_CLIENT_KERNEL) {
			scn_fail_at(ps, x->line, x->subject_col, "\"app\"",
			            "\"client kernel\" for \"expect app\" (only a kernel client has an application)");
			return false;
		}
		if (prog && s->client != SCN_CLIENT_COMMAND) {
			scn_fail_at(ps, x->line, x->subject_col,
			            x->subject == SCN_X_CLIENT_EXIT ? "\"exit\"" : "\"output\"",
			            "\"client command\" for \"expect client %s\"",
			            x->subject == SCN_X_CLIENT_EXIT ? "exit" : "output");
			return false;
		}
	}
	if (s->client == SCN_CLIENT_COMMAND) {
		s->total_connections = 0;
		return true;
	}
	if (total == 0) {
		scn_fail_at(ps, eof_line, eof_col, "end of file",
		            "at least one step (connect, send, ...)");
		return false;
	}
	if (total > SCN_MAX_CONNECTIONS) {
		scn_fail_at(ps, eof_line, eof_col, "end of file",
		            "at most %d connections in all", SCN_MAX_CONNECTIONS);
		return false;
	}
	s->total_connections = (uint32_t)total;
	return true;
}
