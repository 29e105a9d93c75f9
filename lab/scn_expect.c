/*
 * scn_expect.c - the `expect` statement (docs/scenario-language.md,
 * "Expectations"): its subjects, their metrics, comparisons and values.
 * Judging them after a run is lab/expect.c's job.
 */
#include "lab/scn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool get_op(struct parser *ps, enum scn_op *op)
{
	const struct tok *t = scn_next(ps);
	for (int i = SCN_OP_EQ; i <= SCN_OP_GE; i++)
		if (scn_tok_is(t, scn_op_name((enum scn_op)i))) {
			*op = (enum scn_op)i;
			return true;
		}
	scn_fail_tok(ps, t, "a comparison (==, !=, <, <=, >, >=)");
	return false;
}

enum vtype { V_COUNT, V_SIZE, V_DURATION };

static bool get_value(struct parser *ps, enum vtype vt, int64_t *out)
{
	const struct tok *t = scn_next(ps);
	uint64_t v;
	switch (vt) {
	case V_COUNT:
		if (!scn_get_uint(ps, t, 0, (1ull << 53), "a count", &v))
			return false;
		*out = (int64_t)v;
		return true;
	case V_SIZE:
		if (!scn_get_size(ps, t, 0, 1ull << 50, "a size of at most 1PiB", &v))
			return false;
		*out = (int64_t)v;
		return true;
	default:
		return scn_get_duration(ps, t, 0, out);
	}
}

struct metric_def {
	const char *name;
	enum scn_metric m;
	enum vtype vt;
};

/* [METRIC OP VALUE] after a subject; metrics: NULL-terminated table. */
static bool get_metric(struct parser *ps, struct scn_expect *x,
                       const struct metric_def *defs, const char *names)
{
	const struct tok *t = scn_next(ps);
	if (!t)
		return true; /* bare form */
	if (x->negated) {
		/* "expect no kernel fin_wait_2 peak > 1" is a natural thing to
		 * write; say what to write instead (scnbash) */
		bool word = t->kind == TOK_WORD && t->len <= 16;
		scn_fail_tok(ps, t, "end of line (\"no\" takes no metric: drop \"no\" and "
		             "compare, e.g. \"%.*s == 0\")", word ? (int)t->len : 6,
		             word ? t->p : "METRIC");
		return false;
	}
	for (const struct metric_def *d = defs; d->name; d++)
		if (scn_tok_is(t, d->name)) {
			x->metric = d->m;
			return get_op(ps, &x->op) && get_value(ps, d->vt, &x->value) &&
			       scn_expect_end(ps);
		}
	scn_fail_tok(ps, t, "%s", names);
	return false;
}

/* `expect [no] client exit [OP] N`, `expect [no] client output contains
 * "TEXT"`: about a client program (`client command`). */
static bool st_expect_program(struct parser *ps, struct scn_expect *x)
{
	const struct tok *t = scn_next(ps);
	x->subject_col = t->col;
	if (scn_tok_is(t, "exit")) {
		x->subject = SCN_X_CLIENT_EXIT;
		x->op = SCN_OP_EQ;
		t = scn_peek(ps);
		if (t && t->kind == TOK_WORD && t->len && (t->p[0] < '0' || t->p[0] > '9')) {
			if (!get_op(ps, &x->op))
				return false;
		}
		uint64_t v;
		if (!scn_get_uint(ps, scn_next(ps), 0, 255, "an exit status from 0 to 255", &v))
			return false;
		x->value = (int64_t)v;
		return scn_expect_end(ps);
	}
	x->subject = SCN_X_CLIENT_OUTPUT;
	t = scn_next(ps);
	if (!scn_tok_is(t, "contains")) {
		scn_fail_tok(ps, t, "contains");
		return false;
	}
	struct scn_bytes b = { 0 };
	if (!scn_get_strings(ps, &b))
		return false;
	if (b.len == 0 || b.len >= sizeof x->output || memchr(b.data, '\0', b.len)) {
		scn_fail_tok(ps, &ps->toks[ps->cur - 1], "a text of 1 to %zu bytes without NUL",
		             sizeof x->output - 1);
		free(b.data);
		return false;
	}
	memcpy(x->output, b.data, b.len);
	x->output[b.len] = '\0';
	free(b.data);
	return scn_expect_end(ps);
}

bool scn_st_expect(struct parser *ps, const struct tok *kw)
{
	if (ps->s->n_expects >= SCN_MAX_EXPECT) {
		scn_fail_tok(ps, kw, "at most %d expectations", SCN_MAX_EXPECT);
		return false;
	}
	if (ps->s->n_expects == ps->exp_cap) {
		size_t nc = ps->exp_cap ? ps->exp_cap * 2 : 8;
		struct scn_expect *nv = realloc(ps->s->expects, nc * sizeof *nv);
		if (!nv) {
			scn_oom(ps);
			return false;
		}
		ps->s->expects = nv;
		ps->exp_cap = nc;
	}
	struct scn_expect *x = &ps->s->expects[ps->s->n_expects];
	memset(x, 0, sizeof *x);
	x->line = ps->line;
	x->col = kw->col;
	/* the statement as written: from `expect` to the last token */
	const struct tok *last = &ps->toks[ps->ntok - 1];
	size_t from = (size_t)(kw->p - ps->lp);
	size_t to = (size_t)(last->p + last->len - ps->lp);
	snprintf(x->text, sizeof x->text, "%.*s", (int)(to - from), ps->lp + from);

	const struct tok *t = scn_next(ps);
	if (scn_tok_is(t, "no")) {
		x->negated = true;
		t = scn_next(ps);
	}
	bool sided = false, app = false;
	x->subject_col = t ? t->col : kw->col;
	if (scn_tok_is(t, "client") && (scn_tok_is(scn_peek(ps), "exit") || scn_tok_is(scn_peek(ps), "output"))) {
		if (!st_expect_program(ps, x))
			return false;
		ps->s->n_expects++;
		return true;
	}
	if (scn_tok_is(t, "app")) {
		app = true;
		t = scn_next(ps);
		if (scn_tok_is(t, "no") && !x->negated) {
			/* `expect app no error` reads better than `expect no app error` */
			x->negated = true;
			t = scn_next(ps);
		}
		if (scn_tok_is(t, "error")) {
			x->subject = SCN_X_APP_ERROR;
			t = scn_next(ps);
			if (t) {
				x->errnum = t->kind == TOK_WORD ? scn_errno_by_name(t->p, t->len) : 0;
				if (!x->errnum) {
					scn_fail_tok(ps, t, "an errno name (ECONNRESET, EPIPE, ...)");
					return false;
				}
			} else if (!x->negated) {
				scn_fail_tok(ps, t, "an errno name (ECONNRESET, EPIPE, ...)");
				return false;
			}
			if (!scn_expect_end(ps))
				return false;
			ps->s->n_expects++;
			return true;
		}
		if (!scn_tok_is(t, "response")) {
			scn_fail_tok(ps, t, "response or error after \"app\"");
			return false;
		}
	}
	if (scn_tok_is(t, "server") || scn_tok_is(t, "client")) {
		x->side = scn_tok_is(t, "client") ? SCN_SIDE_CLIENT : SCN_SIDE_SERVER;
		sided = true;
		t = scn_next(ps);
		if (!scn_tok_is(t, "rst_before_ack") && !scn_tok_is(t, "fin_wait_2") &&
		    !scn_tok_is(t, "end")) {
			scn_fail_tok(ps, t, "rst_before_ack, fin_wait_2 or end");
			return false;
		}
	}
	bool ok;
	if (scn_tok_is(t, "closed_by") || scn_tok_is(t, "kind") || (scn_tok_is(t, "end") && sided)) {
		/* the teardown as the analyzer read it, on every connection */
		const char *(*name)(int) = scn_closer_name;
		const char *list = "client, server or simultaneous";
		int lo = 1, hi = 3;
		x->subject = SCN_X_CLOSED_BY;
		if (scn_tok_is(t, "kind")) {
			x->subject = SCN_X_KIND;
			name = scn_kind_name;
			list = "a teardown kind (graceful, reset, half_open, fin_then_rst, abort, open)";
			lo = 0;
			hi = 5;
		} else if (scn_tok_is(t, "end")) {
			x->subject = SCN_X_END;
			name = scn_end_name;
			list = "a TCP state (TIME_WAIT, CLOSED, FIN_WAIT_2, FIN_WAIT_1, CLOSING, "
			       "LAST_ACK, CLOSE_WAIT, ESTABLISHED, SYN_SENT, SYN_RECEIVED)";
			lo = 1;
			hi = 10;
		}
		t = scn_next(ps);
		int v;
		for (v = lo; v <= hi; v++)
			if (scn_tok_is(t, name(v)))
				break;
		if (v > hi) {
			scn_fail_tok(ps, t, "%s", list);
			return false;
		}
		x->teardown = v;
		ok = scn_expect_end(ps);
	} else if (scn_tok_is(t, "rst_before_ack")) {
		static const struct metric_def d[] = {
			{ "count", SCN_M_COUNT, V_COUNT },
			{ "bytes_at_risk", SCN_M_BYTES_AT_RISK, V_SIZE }, { NULL, 0, 0 } };
		x->subject = SCN_X_RST_BEFORE_ACK;
		ok = get_metric(ps, x, d, "count or bytes_at_risk");
	} else if (scn_tok_is(t, "lingered")) {
		static const struct metric_def d[] = {
			{ "count", SCN_M_COUNT, V_COUNT }, { "bytes", SCN_M_BYTES, V_SIZE },
			{ "seconds", SCN_M_SECONDS, V_DURATION }, { NULL, 0, 0 } };
		x->subject = SCN_X_LINGERED;
		ok = get_metric(ps, x, d, "count, bytes or seconds");
	} else if (scn_tok_is(t, "fin_wait_2")) {
		static const struct metric_def d[] = {
			{ "count", SCN_M_COUNT, V_COUNT }, { "peak", SCN_M_PEAK, V_COUNT },
			{ "max", SCN_M_MAX, V_DURATION }, { NULL, 0, 0 } };
		static const struct metric_def de[] = {
			{ "count", SCN_M_COUNT, V_COUNT },
			{ "max", SCN_M_MAX, V_DURATION }, { NULL, 0, 0 } };
		x->subject = SCN_X_FIN_WAIT_2;
		if (scn_tok_is(scn_peek(ps), "ending")) {
			ps->cur++;
			t = scn_next(ps);
			int e;
			for (e = 0; e < SCN_NFW2_ENDINGS; e++)
				if (scn_tok_is(t, scn_fw2_ending_name((enum scn_fw2_ending)e)))
					break;
			if (e == SCN_NFW2_ENDINGS) {
				scn_fail_tok(ps, t, "a fin_wait_2 ending (client_fin, client_rst, server_rst, "
				             "capture_end, kernel_timeout, lab_cleanup)");
				return false;
			}
			x->has_ending = true;
			x->ending = (enum scn_fw2_ending)e;
			ok = get_metric(ps, x, de, "count or max");
		} else {
			ok = get_metric(ps, x, d, "count, peak, max or ending");
		}
	} else if (scn_tok_is(t, "kernel") && !sided) {
		static const char *states[SCN_NKSTATES] = {
			"established", "syn_recv", "fin_wait_1", "fin_wait_2",
			"time_wait", "close_wait", "last_ack", "closing" };
		static const struct metric_def d[] = {
			{ "peak", SCN_M_PEAK, V_COUNT },
			{ "duration", SCN_M_DURATION, V_DURATION }, { NULL, 0, 0 } };
		/* the sampler follows FIN_WAIT_2 sockets one by one (run.h) */
		static const struct metric_def dfw2[] = {
			{ "peak", SCN_M_PEAK, V_COUNT }, { "count", SCN_M_COUNT, V_COUNT },
			{ "max", SCN_M_MAX, V_DURATION },
			{ "duration", SCN_M_DURATION, V_DURATION }, { NULL, 0, 0 } };
		x->subject = SCN_X_KERNEL;
		t = scn_next(ps);
		int k;
		for (k = 0; k < SCN_NKSTATES; k++)
			if (scn_tok_is(t, states[k]))
				break;
		if (k == SCN_NKSTATES) {
			scn_fail_tok(ps, t, "a TCP state (established, syn_recv, fin_wait_1, "
			             "fin_wait_2, time_wait, close_wait, last_ack, closing)");
			return false;
		}
		x->kstate = (enum scn_kstate)k;
		if (x->kstate == SCN_K_FIN_WAIT_2)
			ok = get_metric(ps, x, dfw2, "peak, count, max or duration");
		else
			ok = get_metric(ps, x, d, "peak or duration");
	} else if (scn_tok_is(t, "response") && !sided) {
		x->subject = app ? SCN_X_APP_RESPONSE : SCN_X_RESPONSE;
		uint64_t v;
		char what[64];
		snprintf(what, sizeof what, "a response number from 1 to %d", SCN_MAX_RESPONSES);
		if (!scn_get_uint(ps, scn_next(ps), 1, SCN_MAX_RESPONSES, what, &v))
			return false;
		x->response = (uint32_t)v;
		ok = true;
		if (x->negated)
			ok = scn_expect_end(ps);
		bool seen_status = false, seen_check = false;
		while (ok && !x->negated && (t = scn_next(ps))) {
			if (scn_tok_is(t, "status") && !seen_status) {
				seen_status = true;
				ok = scn_get_uint(ps, scn_next(ps), 100, 999,
				                  "a status code from 100 to 999", &v);
				x->status = (int)v;
			} else if ((scn_tok_is(t, "complete") || scn_tok_is(t, "incomplete")) &&
			           !seen_check) {
				seen_check = true;
				x->check = scn_tok_is(t, "complete") ? SCN_RC_COMPLETE : SCN_RC_INCOMPLETE;
			} else {
				scn_fail_tok(ps, t, "status, complete or incomplete");
				ok = false;
			}
		}
	} else if (scn_tok_is(t, "responses") && !sided) {
		x->subject = SCN_X_RESPONSES;
		x->metric = SCN_M_COUNT;
		if (x->negated) /* no responses: == 0 on every connection */
			ok = scn_expect_end(ps);
		else
			ok = get_op(ps, &x->op) && get_value(ps, V_COUNT, &x->value) &&
			     scn_expect_end(ps);
	} else if (scn_tok_is(t, "reset") && !sided) {
		x->subject = SCN_X_RESET;
		if (scn_tok_is(scn_peek(ps), "seen"))
			ps->cur++;
		ok = scn_expect_end(ps);
	} else if (scn_tok_is(t, "client_impact") && !sided) {
		static const struct metric_def d[] = {
			{ "count", SCN_M_COUNT, V_COUNT }, { NULL, 0, 0 } };
		x->subject = SCN_X_CLIENT_IMPACT;
		t = scn_next(ps);
		int k;
		for (k = 0; k < SCN_NIMPACTS; k++)
			if (scn_tok_is(t, scn_impact_name((enum scn_impact)k)))
				break;
		if (k == SCN_NIMPACTS) {
			scn_fail_tok(ps, t, "a client_impact (reset_before_ack, reset_after_ack, no_reset)");
			return false;
		}
		x->impact = (enum scn_impact)k;
		ok = get_metric(ps, x, d, "count");
	} else if (scn_tok_is(t, "leaked_rst") && !sided) {
		static const struct metric_def d[] = {
			{ "count", SCN_M_COUNT, V_COUNT }, { NULL, 0, 0 } };
		x->subject = SCN_X_LEAKED_RST;
		ok = get_metric(ps, x, d, "count");
	} else {
		scn_fail_tok(ps, t, "an expectation (rst_before_ack, lingered, fin_wait_2, "
		             "kernel, client_impact, response, responses, reset, leaked_rst, "
		             "closed_by, kind, server end, client end)");
		return false;
	}
	if (!ok)
		return false;
	ps->s->n_expects++;
	return true;
}
