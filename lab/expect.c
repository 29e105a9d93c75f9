/*
 * expect.c - judging a scenario's expectations (run_judge in run.h) from
 * what a run gathered: the analyzer's findings and FIN_WAIT_2 intervals as
 * the runner tallied them per scenario (lab artefacts left out), the
 * kernel samples, and what the client received. One function per subject;
 * each writes the one-line detail the report shows, pass or fail, in the
 * words of docs/scenario-language.md ("Expectations").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/run.h"

static bool bare(const struct scn_expect *x, uint64_t count)
{
	return x->negated ? count == 0 : count >= 1;
}

static void conn_name(const struct run_conn *c, char *buf, size_t cap)
{
	if (c->az_id)
		snprintf(buf, cap, "connection %llu (port %u)",
		         (unsigned long long)c->az_id, c->port);
	else if (c->port)
		snprintf(buf, cap, "client port %u", c->port);
	else
		snprintf(buf, cap, "connection %u of set %u", c->index + 1, c->group);
}

static bool judge_response(const struct run_scenario *rs, const struct scn_expect *x,
                           char *d, size_t cap)
{
	char who[64];
	uint32_t n = x->response;
	if (rs->n_conns == 0) {
		snprintf(d, cap, "no connections");
		return false;
	}
	for (size_t i = 0; i < rs->n_conns; i++) {
		const struct run_conn *c = &rs->conns[i];
		conn_name(c, who, sizeof who);
		if (x->negated) {
			if (c->responses_started >= n) {
				snprintf(d, cap, "%s received response %u (status %u)", who, n,
				         n <= c->n_records ? (unsigned)c->rec[n - 1].status : 0u);
				return false;
			}
			continue;
		}
		if (c->responses_started < n) {
			snprintf(d, cap, "%s received %llu response%s", who,
			         (unsigned long long)c->responses_started,
			         c->responses_started == 1 ? "" : "s");
			return false;
		}
		const struct rsp_record *r = &c->rec[n - 1];
		if (x->status && r->status != x->status) {
			snprintf(d, cap, "%s: response %u has status %u", who, n, r->status);
			return false;
		}
		if (x->check == SCN_RC_COMPLETE && !r->complete) {
			snprintf(d, cap, "%s: response %u (status %u) is incomplete (%llu bytes)",
			         who, n, r->status, (unsigned long long)r->bytes);
			return false;
		}
		if (x->check == SCN_RC_INCOMPLETE && r->complete) {
			snprintf(d, cap, "%s: response %u (status %u) is complete", who, n,
			         r->status);
			return false;
		}
	}
	if (x->negated)
		snprintf(d, cap, "no connection received a response %u", n);
	else if (rs->n_conns == 1)
		snprintf(d, cap, "response %u: status %u, %s, %llu bytes", n,
		         rs->conns[0].rec[n - 1].status,
		         rs->conns[0].rec[n - 1].complete ? "complete" : "incomplete",
		         (unsigned long long)rs->conns[0].rec[n - 1].bytes);
	else
		snprintf(d, cap, "all %zu connections received it as stated", rs->n_conns);
	return true;
}

/* `expect [no] closed_by|kind|server end|client end WORD`: the teardown as
 * the analyzer read it. Holds when every connection of the scenario has
 * it (with `no`: none has); a connection the analyzer did not find fails
 * the bare form. */
static bool judge_teardown(const struct run_scenario *rs, const struct scn_expect *x,
                           char *d, size_t cap)
{
	const char *what = x->subject == SCN_X_CLOSED_BY ? "closed by"
	                   : x->subject == SCN_X_KIND ? "kind"
	                   : x->side == SCN_SIDE_CLIENT ? "client end" : "server end";
	const char *want = x->subject == SCN_X_CLOSED_BY ? scn_closer_name(x->teardown)
	                   : x->subject == SCN_X_KIND ? scn_kind_name(x->teardown)
	                   : scn_end_name(x->teardown);
	uint64_t hits = 0;
	const struct run_conn *odd = NULL;
	if (rs->n_conns == 0) {
		snprintf(d, cap, "no connections");
		return x->negated;
	}
	for (size_t i = 0; i < rs->n_conns; i++) {
		const struct run_conn *c = &rs->conns[i];
		int v = x->subject == SCN_X_CLOSED_BY ? (int)c->initiator
		        : x->subject == SCN_X_KIND ? (int)c->kind
		        : x->side == SCN_SIDE_CLIENT ? (int)c->client_end : (int)c->server_end;
		bool hit = c->az_id && v == x->teardown;
		hits += hit;
		if (!odd && hit == x->negated)
			odd = c;
	}
	if (!odd) {
		snprintf(d, cap, "%s %s%s on %s%zu connection%s", what,
		         x->negated ? "not " : "", want, rs->n_conns == 1 ? "" : "all ",
		         rs->n_conns, rs->n_conns == 1 ? "" : "s");
		return true;
	}
	char who[64];
	conn_name(odd, who, sizeof who);
	if (!odd->az_id) {
		snprintf(d, cap, "%s: not found in the capture", who);
		return false;
	}
	int v = x->subject == SCN_X_CLOSED_BY ? (int)odd->initiator
	        : x->subject == SCN_X_KIND ? (int)odd->kind
	        : x->side == SCN_SIDE_CLIENT ? (int)odd->client_end : (int)odd->server_end;
	const char *got = x->subject == SCN_X_CLOSED_BY ? scn_closer_name(v)
	                  : x->subject == SCN_X_KIND ? scn_kind_name(v) : scn_end_name(v);
	snprintf(d, cap, "%s: %s %s (%llu of %zu connection%s %s)", who, what, got,
	         (unsigned long long)hits, rs->n_conns, rs->n_conns == 1 ? "" : "s", want);
	return false;
}

size_t run_app_errors_text(const struct run_app *a, char *buf, size_t cap)
{
	size_t len = 0;
	if (cap)
		buf[0] = '\0';
	if (!a->n_errors)
		return (size_t)snprintf(buf, cap, "no syscall error");
	for (uint32_t i = 0; i < a->n_errors && i < RUN_APP_MAX_ERRORS; i++) {
		const char *name = strerrorname_np(a->err[i].errnum);
		int r = snprintf(buf + len, len < cap ? cap - len : 0, "%s%s: %s at %.3f s",
		                 i ? ", " : "", a->err[i].call, name ? name : "?", a->err[i].t);
		if (r > 0)
			len += (size_t)r;
	}
	if (a->errors_dropped) {
		int r = snprintf(buf + len, len < cap ? cap - len : 0, ", and %u more",
		                 a->errors_dropped);
		if (r > 0)
			len += (size_t)r;
	}
	return len;
}

/* `expect app error ERRNO` / `expect app no error [ERRNO]`: some kernel
 * connection's application got errnum (any, when 0) from a syscall. */
static bool judge_app_error(const struct run_scenario *rs, const struct scn_expect *x,
                            char *d, size_t cap)
{
	uint64_t n = 0;
	const struct run_conn *first = NULL;
	for (size_t i = 0; i < rs->n_conns; i++) {
		const struct run_app *a = &rs->conns[i].app;
		bool hit = false;
		for (uint32_t j = 0; j < a->n_errors && j < RUN_APP_MAX_ERRORS; j++)
			hit |= !x->errnum || a->err[j].errnum == x->errnum;
		hit |= !x->errnum && a->errors_dropped;
		if (hit) {
			n++;
			if (!first)
				first = &rs->conns[i];
		}
	}
	const char *name = x->errnum ? strerrorname_np(x->errnum) : NULL;
	char who[64], errs[160];
	if (first) {
		conn_name(first, who, sizeof who);
		run_app_errors_text(&first->app, errs, sizeof errs);
		snprintf(d, cap, "%llu of %zu connection%s got %s; %s: %.120s", (unsigned long long)n,
		         rs->n_conns, rs->n_conns == 1 ? "" : "s", name ? name : "an error",
		         who, errs);
	} else {
		snprintf(d, cap, "no connection got %s from a syscall", name ? name : "an error");
	}
	return bare(x, n);
}

/* `expect client exit` and `expect client output contains`. */
static bool judge_program(const struct run_scenario *rs, const struct scn_expect *x,
                          char *d, size_t cap)
{
	const struct run_program *p = &rs->program;
	if (!p->ran) {
		snprintf(d, cap, "the client program did not run%s%.180s",
		         p->error[0] ? ": " : "", p->error);
		return false;
	}
	if (x->subject == SCN_X_CLIENT_EXIT) {
		if (!p->exited) {
			snprintf(d, cap, "the client program was killed by signal %d%s", p->signal,
			         p->timed_out ? " at the scenario's timeout" : "");
			return false;
		}
		snprintf(d, cap, "the client program exited %d after %.3f s", p->exit_status,
		         p->duration);
		bool ok = scn_compare(p->exit_status, x->op, x->value);
		return x->negated ? !ok : ok;
	}
	bool found = p->output && memmem(p->output, p->output_len, x->output,
	                                 strlen(x->output)) != NULL;
	snprintf(d, cap, "its output (%zu bytes) %s \"%.60s\"", p->output_len,
	         found ? "contains" : "does not contain", x->output);
	return x->negated ? !found : found;
}

/* fin_wait_2 ending NAME: the side's intervals that ended that way. */
static bool judge_fw2_ending(const struct run_scenario *rs, const struct scn_expect *x,
                             int side, char *d, size_t cap)
{
	uint64_t n = 0, other[SCN_NFW2_ENDINGS] = { 0 };
	double max = 0;
	for (size_t i = 0; i < rs->n_conns; i++) {
		const struct run_conn *c = &rs->conns[i];
		const struct az_fw2_interval *iv = &c->fw2[side];
		if (!c->az_id || !iv->present)
			continue;
		if ((int)c->fw2_ending[side] != (int)x->ending) {
			if ((unsigned)c->fw2_ending[side] < SCN_NFW2_ENDINGS)
				other[c->fw2_ending[side]]++;
			continue;
		}
		n++;
		if (iv->end - iv->start > max)
			max = iv->end - iv->start;
	}
	int w = snprintf(d, cap, "%s fin_wait_2 ending %s: %llu socket%s, longest %.3f s",
	                 side == AZ_CLIENT ? "client" : "server", scn_fw2_ending_name(x->ending),
	                 (unsigned long long)n, n == 1 ? "" : "s", max);
	/* the intervals that ended otherwise: "0 sockets" alone leaves the
	 * reader guessing (tcp_fin_timeout expires orphans only: sockets a
	 * lingering server still holds may end lab_cleanup instead) */
	bool any = false;
	for (int e = 0; e < SCN_NFW2_ENDINGS && w > 0 && (size_t)w < cap; e++) {
		if (!other[e])
			continue;
		w += snprintf(d + w, cap - (size_t)w, "%s%llu %s", any ? ", " : " (the others: ",
		              (unsigned long long)other[e],
		              scn_fw2_ending_name((enum scn_fw2_ending)e));
		any = true;
	}
	if (any && w > 0 && (size_t)w < cap)
		snprintf(d + w, cap - (size_t)w, ")");
	switch (x->metric) {
	case SCN_M_NONE:  return bare(x, n);
	case SCN_M_COUNT: return scn_compare((int64_t)n, x->op, x->value);
	default:          return scn_compare((int64_t)(max * 1e6 + 0.5), x->op, x->value);
	}
}

static bool judge_one(const struct run_scenario *rs, const struct scn_expect *x,
                      char *d, size_t cap)
{
	int side = x->side == SCN_SIDE_CLIENT ? AZ_CLIENT : AZ_SERVER;
	const char *sname = side == AZ_CLIENT ? "client" : "server";
	int64_t v = 0;
	char a[32], b[32];
	switch (x->subject) {
	case SCN_X_RST_BEFORE_ACK: {
		uint64_t n = rs->rst_before_ack[side];
		uint64_t risk = rs->bytes_at_risk_max[side];
		if (n)
			snprintf(d, cap, "%llu rst_before_ack finding%s (%s RST), up to %llu bytes at risk",
			         (unsigned long long)n, n == 1 ? "" : "s", sname,
			         (unsigned long long)risk);
		else
			snprintf(d, cap, "no rst_before_ack finding (%s RST)", sname);
		if (x->metric == SCN_M_NONE)
			return bare(x, n);
		v = x->metric == SCN_M_COUNT ? (int64_t)n : (int64_t)risk;
		return scn_compare(v, x->op, x->value);
	}
	case SCN_X_LINGERED:
		snprintf(d, cap, "%llu connection%s lingered, %llu bytes drained, longest %.3f s",
		         (unsigned long long)rs->lingered, rs->lingered == 1 ? "" : "s",
		         (unsigned long long)rs->linger_bytes, rs->linger_max);
		switch (x->metric) {
		case SCN_M_NONE:  return bare(x, rs->lingered);
		case SCN_M_COUNT: v = (int64_t)rs->lingered; break;
		case SCN_M_BYTES: v = (int64_t)rs->linger_bytes; break;
		default:          v = (int64_t)(rs->linger_max * 1e6 + 0.5); break;
		}
		return scn_compare(v, x->op, x->value);
	case SCN_X_FIN_WAIT_2: {
		if (x->has_ending)
			return judge_fw2_ending(rs, x, side, d, cap);
		const struct run_fw2 *f = &rs->fw2[side];
		snprintf(d, cap, "%s fin_wait_2 (analyzer): %llu socket%s, peak %u, longest %.3f s",
		         sname, (unsigned long long)f->count, f->count == 1 ? "" : "s",
		         f->peak, f->max);
		switch (x->metric) {
		case SCN_M_NONE:  return bare(x, f->count);
		case SCN_M_COUNT: v = (int64_t)f->count; break;
		case SCN_M_PEAK:  v = f->peak; break;
		default:          v = (int64_t)(f->max * 1e6 + 0.5); break;
		}
		return scn_compare(v, x->op, x->value);
	}
	case SCN_X_KERNEL: {
		if (rs->kernel_unsampled) {
			snprintf(d, cap, "no kernel samples: the target's host is not this one (--target)");
			return false;
		}
		if (x->kstate == SCN_K_FIN_WAIT_2 &&
		    (x->metric == SCN_M_COUNT || x->metric == SCN_M_MAX)) {
			snprintf(d, cap, "kernel FIN_WAIT_2: %llu server socket%s, longest %.3f s "
			         "(sampled)", (unsigned long long)rs->kernel_fw2_count,
			         rs->kernel_fw2_count == 1 ? "" : "s", rs->kernel_fw2_max);
			v = x->metric == SCN_M_COUNT ? (int64_t)rs->kernel_fw2_count
			                             : (int64_t)(rs->kernel_fw2_max * 1e6 + 0.5);
			return scn_compare(v, x->op, x->value);
		}
		if (x->metric == SCN_M_DURATION) {
			double t = rs->kernel_duration[x->kstate];
			snprintf(d, cap, "kernel %s for %.3f s (sampled; %u there at the start)",
			         scn_kstate_name(x->kstate), t, rs->kernel_baseline[x->kstate]);
			return scn_compare((int64_t)(t * 1e6 + 0.5), x->op, x->value);
		}
		uint32_t p = rs->kernel_peak[x->kstate];
		snprintf(d, cap, "kernel %s peak %u (sampled; %u there at the start)",
		         scn_kstate_name(x->kstate), p, rs->kernel_baseline[x->kstate]);
		if (x->metric == SCN_M_NONE)
			return bare(x, p);
		return scn_compare(p, x->op, x->value);
	}
	case SCN_X_RESPONSE:
		return judge_response(rs, x, d, cap);
	case SCN_X_CLOSED_BY:
	case SCN_X_KIND:
	case SCN_X_END:
		return judge_teardown(rs, x, d, cap);
	case SCN_X_APP_RESPONSE: {
		/* a kernel client's responses are what its application read;
		 * the detail adds its syscall errors, in order */
		bool ok = judge_response(rs, x, d, cap);
		if (rs->n_conns == 1) {
			char errs[160];
			size_t len = strlen(d);
			run_app_errors_text(&rs->conns[0].app, errs, sizeof errs);
			snprintf(d + len, cap - len, " (read %llu bytes; %s)",
			         (unsigned long long)rs->conns[0].app.bytes_read, errs);
		}
		return ok;
	}
	case SCN_X_APP_ERROR:
		return judge_app_error(rs, x, d, cap);
	case SCN_X_CLIENT_EXIT:
	case SCN_X_CLIENT_OUTPUT:
		return judge_program(rs, x, d, cap);
	case SCN_X_RESPONSES: {
		if (rs->n_conns == 0) {
			snprintf(d, cap, "no connections");
			return false;
		}
		uint64_t lo = UINT64_MAX, hi = 0;
		bool ok = true;
		char who[64] = "";
		for (size_t i = 0; i < rs->n_conns; i++) {
			const struct run_conn *c = &rs->conns[i];
			uint64_t n = c->responses_complete;
			lo = n < lo ? n : lo;
			hi = n > hi ? n : hi;
			bool good = x->negated ? n == 0 : scn_compare((int64_t)n, x->op, x->value);
			if (!good && ok) {
				ok = false;
				conn_name(c, who, sizeof who);
			}
		}
		if (lo == hi)
			snprintf(a, sizeof a, "%llu", (unsigned long long)lo);
		else
			snprintf(a, sizeof a, "%llu to %llu", (unsigned long long)lo,
			         (unsigned long long)hi);
		if (ok)
			snprintf(d, cap, "%s complete response%s per connection", a,
			         hi == 1 ? "" : "s");
		else
			snprintf(d, cap, "%s complete responses per connection; %s does not match",
			         a, who);
		return ok;
	}
	case SCN_X_RESET: {
		uint64_t n = 0;
		for (size_t i = 0; i < rs->n_conns; i++)
			n += rs->conns[i].reset_seen;
		snprintf(d, cap, "%llu of %zu connection%s received a RST",
		         (unsigned long long)n, rs->n_conns, rs->n_conns == 1 ? "" : "s");
		return bare(x, n);
	}
	case SCN_X_CLIENT_IMPACT: {
		const uint64_t *ci = rs->client_impact;
		uint64_t n = ci[x->impact];
		snprintf(d, cap, "client_impact of %llu server finding%s: %llu reset_before_ack, "
		         "%llu reset_after_ack, %llu no_reset",
		         (unsigned long long)(ci[0] + ci[1] + ci[2]),
		         ci[0] + ci[1] + ci[2] == 1 ? "" : "s", (unsigned long long)ci[0],
		         (unsigned long long)ci[1], (unsigned long long)ci[2]);
		if (x->metric == SCN_M_NONE)
			return bare(x, n);
		return scn_compare((int64_t)n, x->op, x->value);
	}
	case SCN_X_LEAKED_RST:
		snprintf(d, cap, "%llu leaked RST%s", (unsigned long long)rs->leaked_rst,
		         rs->leaked_rst == 1 ? "" : "s");
		if (x->metric == SCN_M_NONE)
			return bare(x, rs->leaked_rst);
		return scn_compare((int64_t)rs->leaked_rst, x->op, x->value);
	}
	(void)b;
	snprintf(d, cap, "unknown expectation");
	return false;
}

int run_judge(struct run_scenario *rs)
{
	const struct scn_scenario *scn = rs->scn;
	free(rs->results);
	rs->results = NULL;
	rs->n_results = 0;
	rs->passed = true;
	/* the client side, over all connections */
	rs->reset_seen = false;
	rs->bytes_received = 0;
	for (size_t i = 0; i < rs->n_conns; i++) {
		rs->reset_seen |= rs->conns[i].reset_seen;
		rs->bytes_received += rs->conns[i].bytes_received;
	}
	if (!scn->n_expects)
		return 0;
	rs->results = calloc(scn->n_expects, sizeof *rs->results);
	if (!rs->results)
		return -1;
	for (size_t i = 0; i < scn->n_expects; i++) {
		struct run_expect_result *r = &rs->results[i];
		r->x = &scn->expects[i];
		r->passed = judge_one(rs, r->x, r->detail, sizeof r->detail);
		rs->passed &= r->passed;
	}
	rs->n_results = scn->n_expects;
	return 0;
}


/* The teardown words of the scenario language name the analyzer's values. */
_Static_assert(AZ_INIT_SIMULTANEOUS == 3 && AZ_INIT_CLIENT == 1, "scn_closer_name order");
_Static_assert(AZ_KIND_OPEN == 0 && AZ_KIND_GRACEFUL == 1 && AZ_KIND_HALF_OPEN == 2 &&
               AZ_KIND_FIN_THEN_RST == 3 && AZ_KIND_ABORT == 4 && AZ_KIND_RESET == 5,
               "scn_kind_name order");
_Static_assert(AZ_ST_SYN_SENT == 1 && AZ_ST_TIME_WAIT == 7 && AZ_ST_CLOSED == 10,
               "scn_end_name order");
