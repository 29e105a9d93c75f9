/*
 * diffrep.c - compare two reports figure by figure.
 */
#include "reports/diffrep.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/reportfile.h"

#define EPS 1e-9

enum dir { HIGHER_WORSE, LOWER_WORSE, NEUTRAL };

struct metric {
	const char *key;
	enum dir dir;
	struct dr_tol dflt;
	const char *unit;
	bool boolean;
};

/* Order is the order of the output. */
static const struct metric METRICS[] = {
	{ "rst_before_ack",         HIGHER_WORSE, { 0, 0, false },  "",        false },
	/* 10% of BASE: a response's length can move by a few bytes between
	 * runs of one build (request ids, cookies, an address in an error
	 * page); from 0 any amount is a regression */
	{ "bytes_at_risk",          HIGHER_WORSE, { 0, 10, false }, "bytes",   false },
	{ "client_impact",          HIGHER_WORSE, { 0, 0, false },  "",        false },
	{ "expectations",           HIGHER_WORSE, { 0, 0, false },  "",        false },
	{ "reset_seen",             HIGHER_WORSE, { 0, 0, false },  "",        true },
	{ "responses_complete",     LOWER_WORSE,  { 0, 0, false },  "",        false },
	{ "lingered",               NEUTRAL,      { 0, 0, true },   "",        false },
	{ "linger_seconds",         HIGHER_WORSE, { 0, 0, true },   "s",       false },
	{ "fin_wait_2_count",       HIGHER_WORSE, { 0, 0, true },   "sockets", false },
	{ "fin_wait_2_peak",        HIGHER_WORSE, { 1, 10, false }, "sockets", false },
	{ "fin_wait_2_p50",         HIGHER_WORSE, { 0, 0, true },   "s",       false },
	{ "fin_wait_2_p90",         HIGHER_WORSE, { 0, 0, true },   "s",       false },
	{ "fin_wait_2_max",         HIGHER_WORSE, { 0, 0, true },   "s",       false },
	{ "kernel_fin_wait_2_peak", HIGHER_WORSE, { 1, 10, false }, "sockets", false },
	{ "leaked_rst",             HIGHER_WORSE, { 0, 0, false },  "",        false },
};
#define NMETRICS (sizeof METRICS / sizeof METRICS[0])

/* The noise band of the timing figures (diffrep.h, "Noise"). */
static const struct dr_tol NOISE_DEFAULT = { 0.1, 5, false };

const char *dr_known_keys(void)
{
	return "rst_before_ack, bytes_at_risk, client_impact, expectations, reset_seen, responses_complete, "
	       "lingered, linger_seconds, fin_wait_2_count, fin_wait_2_peak, fin_wait_2_p50, "
	       "fin_wait_2_p90, fin_wait_2_max, kernel_fin_wait_2_peak, leaked_rst, noise";
}

const char *dr_change_name(enum dr_change c)
{
	switch (c) {
	case DR_BETTER: return "better";
	case DR_WORSE: return "worse";
	case DR_CHANGED: return "changed";
	default: return "same";
	}
}

static const struct metric *find_metric(const char *key)
{
	for (size_t i = 0; i < NMETRICS; i++)
		if (!strcmp(METRICS[i].key, key))
			return &METRICS[i];
	return NULL;
}

int dr_parse_tol(const char *arg, struct dr_tol_arg *t, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	const char *val;
	char *end;
	double v;
	size_t kl;

	memset(t, 0, sizeof *t);
	if (!eq || eq == arg) {
		snprintf(err, errlen, "--tolerance: expected KEY=VALUE, found '%s'", arg);
		return -1;
	}
	kl = (size_t)(eq - arg);
	if (kl >= sizeof t->key) {
		snprintf(err, errlen, "--tolerance: unknown key '%.*s' (known: %s)", (int)kl, arg, dr_known_keys());
		return -1;
	}
	memcpy(t->key, arg, kl);
	t->key[kl] = '\0';
	if (!find_metric(t->key) && strcmp(t->key, "noise")) {
		snprintf(err, errlen, "--tolerance: unknown key '%s' (known: %s)", t->key, dr_known_keys());
		return -1;
	}
	val = eq + 1;
	if (!strcmp(val, "inf")) {
		t->tol.off = true;
		return 0;
	}
	/* one or two parts: "A", "N%", "A,N%" (either order) */
	for (int part = 0; part < 2; part++) {
		errno = 0;
		v = strtod(val, &end);
		if (errno || end == val || !isfinite(v) || v < 0 || *val == '+' || *val == '-')
			goto bad;
		if (!strncmp(end, "ms", 2)) {
			v /= 1000;
			end += 2;
		}
		if (*end == '%') {
			if (end[-1] == 's' || t->tol.pct > 0)
				goto bad;
			t->tol.pct = v;
			end++;
		} else {
			if (part && t->tol.abs > 0)
				goto bad;
			t->tol.abs = v;
		}
		if (*end == '\0')
			return 0;
		if (*end != ',' || part)
			goto bad;
		val = end + 1;
	}
bad:
	snprintf(err, errlen, "--tolerance %s: expected a number, N%%, both (0.1,5%%) or inf, found '%s'",
	         t->key, eq + 1);
	return -1;
}

static struct dr_item *add_item(struct dr_result *r)
{
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 64;
		struct dr_item *ni = realloc(r->items, nc * sizeof *ni);
		if (!ni)
			return NULL;
		r->items = ni;
		r->cap = nc;
	}
	memset(&r->items[r->n], 0, sizeof r->items[0]);
	return &r->items[r->n++];
}

static bool find_tol(const struct dr_tol_arg *tols, size_t ntols, const char *key)
{
	for (size_t i = 0; i < ntols; i++)
		if (!strcmp(tols[i].key, key))
			return true;
	return false;
}

static struct dr_tol tol_for(const char *key, const struct metric *m,
                             const struct dr_tol_arg *tols, size_t ntols)
{
	for (size_t i = ntols; i-- > 0;)
		if (!strcmp(tols[i].key, key))
			return tols[i].tol;
	return m ? m->dflt : (struct dr_tol){ 0, 0, false };
}

/* Judge one numeric figure and append it. Returns -1 when memory runs out. */
static int judge(struct dr_result *r, const char *scope, const char *key,
                 const struct metric *m, bool hb, double b, bool hn, double n,
                 const struct dr_tol_arg *tols, size_t ntols)
{
	struct dr_item *it;
	enum dir dir = m ? m->dir : HIGHER_WORSE;
	double delta;

	/* a figure only one report can tell compares with nothing */
	if (!hb || !hn)
		return 0;
	if (!(it = add_item(r)))
		return -1;
	snprintf(it->scope, sizeof it->scope, "%s", scope);
	snprintf(it->metric, sizeof it->metric, "%s", key);
	it->has_base = hb;
	it->has_new = hn;
	it->base = b;
	it->new_ = n;
	it->unit = m ? m->unit : "";
	it->boolean = m && m->boolean;
	it->tol = tol_for(key, m, tols, ntols);
	delta = dir == LOWER_WORSE ? b - n : n - b;
	if (fabs(n - b) <= EPS)
		it->change = DR_SAME;
	else if (dir == NEUTRAL)
		it->change = DR_CHANGED;
	else
		it->change = delta > 0 ? DR_WORSE : DR_BETTER;
	if (it->change == DR_WORSE) {
		double allowed = fmax(it->tol.abs, it->tol.pct / 100.0 * fabs(b));
		it->regression = !it->tol.off && delta > allowed + EPS;
	}
	/* timing jitter: neither better nor worse (diffrep.h, "Noise") */
	if (it->change != DR_SAME && !it->regression && !strcmp(it->unit, "s") &&
	    !r->noise_band.off &&
	    fabs(n - b) <= fmax(r->noise_band.abs, r->noise_band.pct / 100.0 * fabs(b)) + EPS)
		it->noise = true;
	return 0;
}

/* --- figures of a scope ------------------------------------------------ */

struct scope {
	const json_t *root;
	const json_t *scn;      /* NULL: the whole report */
	const json_t *ids;      /* scn's connection ids */
};

static bool in_scope(const struct scope *s, long long id)
{
	json_t *v;
	size_t i;

	if (!s->scn)
		return true;
	json_array_foreach(s->ids, i, v)
		if (json_is_integer(v) && json_integer_value(v) == id)
			return true;
	return false;
}

static double finding_count(const struct scope *s, const char *type)
{
	json_t *fs = rf_arr(s->root, "findings"), *f;
	size_t i;
	double n = 0;

	json_array_foreach(fs, i, f)
		if (!strcmp(rf_str(f, "type"), type) && in_scope(s, rf_int(f, "connection", -1)))
			n++;
	/* findings beyond the analyzer's retention cap are still counted there */
	if (!s->scn && !strcmp(type, "rst_before_ack"))
		n = fmax(n, rf_num(rf_obj(s->root, "summary"), "rst_before_ack", 0));
	return n;
}

static double bytes_at_risk(const struct scope *s)
{
	json_t *fs = rf_arr(s->root, "findings"), *f;
	size_t i;
	double n = 0;

	json_array_foreach(fs, i, f)
		if (in_scope(s, rf_int(f, "connection", -1)))
			n += fmax(rf_num(f, "bytes_at_risk_at_server", 0), rf_num(f, "bytes_at_risk_at_client", 0));
	return n;
}

/*
 * client_impact of a scope: the worst grade among its server findings, as
 * a rank (see diffrep.h) and a word. False when a server finding does not
 * grade it (a report from before client_impact existed).
 */
static bool client_impact(const struct scope *s, double *rank, char *word, size_t len)
{
	static const char *const grades[] = { "no_reset", "reset_after_ack", "reset_before_ack" };
	json_t *fs = rf_arr(s->root, "findings"), *f;
	size_t i;
	int worst = -1;

	json_array_foreach(fs, i, f) {
		const char *g = rf_str(f, "client_impact");
		const char *sender = rf_str(f, "sender");
		int k;
		if (!sender || strcmp(sender, "server") || !in_scope(s, rf_int(f, "connection", -1)))
			continue;
		for (k = 0; g && k < 3 && strcmp(g, grades[k]); k++)
			;
		if (!g || k == 3)
			return false;
		if (k > worst)
			worst = k;
	}
	*rank = worst > 0 ? worst : 0;
	snprintf(word, len, "%s", worst >= 0 ? grades[worst] : "none");
	return true;
}

/* Per-connection figures need a record for every connection of the scope. */
static bool records_cover(const struct scope *s)
{
	json_t *conns = rf_arr(s->root, "connections"), *v;
	size_t i;

	if (!s->scn)
		return rf_int(rf_obj(s->root, "summary"), "connections", -1) == (long long)json_array_size(conns);
	if (!s->ids || json_array_size(s->ids) == 0)
		return false;
	json_array_foreach(s->ids, i, v)
		if (!json_is_integer(v) || !rf_conn(s->root, json_integer_value(v)))
			return false;
	return true;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct fw2figs {
	double count, peak, p50, p90, max;
};

struct edge {
	double t;
	int step;               /* +1 a socket enters FIN_WAIT_2, -1 one leaves */
};

/* Ends sort before starts at equal times: a socket that leaves as another
 * enters does not count twice. */
static int edge_cmp(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->step - y->step;
}

/* FIN_WAIT_2 figures of the server side from the scope's connection records. */
static int fw2_from_records(const struct scope *s, struct fw2figs *out)
{
	json_t *conns = rf_arr(s->root, "connections"), *c;
	size_t i, n = 0, cap = json_array_size(conns);
	double *dur = NULL;
	struct edge *ev = NULL;
	int rc = -1, cur = 0;

	memset(out, 0, sizeof *out);
	if (cap == 0)
		return 0;
	dur = calloc(cap, sizeof *dur);
	ev = calloc(cap * 2, sizeof *ev);
	if (!dur || !ev)
		goto out;
	json_array_foreach(conns, i, c) {
		const json_t *fw = rf_obj(rf_obj(c, "fin_wait_2"), "server");
		if (!fw || !in_scope(s, rf_int(c, "id", -1)))
			continue;
		dur[n] = rf_num(fw, "duration", 0);
		ev[2 * n] = (struct edge){ rf_num(fw, "start", 0), 1 };
		ev[2 * n + 1] = (struct edge){ rf_num(fw, "end", 0), -1 };
		n++;
	}
	out->count = (double)n;
	if (n) {
		qsort(ev, 2 * n, sizeof *ev, edge_cmp);
		for (i = 0; i < 2 * n; i++) {
			cur += ev[i].step;
			if (cur > out->peak)
				out->peak = cur;
		}
		qsort(dur, n, sizeof *dur, dcmp);
		out->p50 = dur[(n - 1) / 2];
		out->p90 = dur[(size_t)ceil(0.9 * (double)n) - 1];
		out->max = dur[n - 1];
	}
	rc = 0;
out:
	free(dur);
	dur = NULL;
	free(ev);
	ev = NULL;
	return rc;
}

static void linger_from_records(const struct scope *s, double *lingered, double *secs)
{
	json_t *conns = rf_arr(s->root, "connections"), *c;
	size_t i;

	*lingered = 0;
	*secs = 0;
	json_array_foreach(conns, i, c) {
		if (!in_scope(s, rf_int(c, "id", -1)) || !rf_bool(c, "lingered", false))
			continue;
		(*lingered)++;
		*secs = fmax(*secs, rf_num(rf_obj(c, "linger"), "seconds", 0));
	}
}

/*
 * A lab report's scenarios carry their own figures (scenarios[].summary),
 * computed by the runner over exactly that scenario's connections; they
 * win over what the connection records can tell.
 */
static bool scenario_summary(const json_t *scn, const char *key, double *v)
{
	static const struct { const char *key, *member; } map[] = {
		{ "lingered", "lingered" },
		{ "linger_seconds", "linger_seconds" },
		{ "fin_wait_2_count", "fin_wait_2_count" },
		{ "fin_wait_2_peak", "fin_wait_2_peak" },
		{ "fin_wait_2_max", "fin_wait_2_max" },
		{ "leaked_rst", "leaked_rst" },
	};
	const json_t *sum = rf_obj(scn, "summary");
	size_t i;

	if (!sum)
		return false;
	if (!strcmp(key, "kernel_fin_wait_2_peak")) {
		const json_t *kp = rf_obj(sum, "kernel_peak");
		if (!rf_is_num(kp, "FIN_WAIT_2"))
			return false;
		*v = rf_num(kp, "FIN_WAIT_2", 0);
		return true;
	}
	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(key, map[i].key) && rf_is_num(sum, map[i].member)) {
			*v = rf_num(sum, map[i].member, 0);
			return true;
		}
	return false;
}

/* Value of a figure in a scope; false when the report does not tell. */
static bool figure(const struct scope *s, const char *key, double *v)
{
	const json_t *fw = rf_obj(rf_obj(s->root, "fin_wait_2"), "server");
	const json_t *client = rf_obj(s->scn, "client");
	struct fw2figs f2;
	double lg, ls;

	*v = 0;
	if (s->scn && scenario_summary(s->scn, key, v))
		return true;
	if (!strcmp(key, "bytes_at_risk")) {
		*v = bytes_at_risk(s);
		return true;
	}
	if (!strcmp(key, "reset_seen")) {
		if (!s->scn || !json_is_boolean(json_object_get(client, "reset_seen")))
			return false;
		*v = rf_bool(client, "reset_seen", false);
		return true;
	}
	if (!strcmp(key, "responses_complete")) {
		json_t *rs = rf_arr(client, "responses"), *r;
		size_t i;
		if (!s->scn || !rs)
			return false;
		json_array_foreach(rs, i, r)
			*v += rf_bool(r, "complete", false);
		return true;
	}
	if (!strcmp(key, "leaked_rst")) {
		if (s->scn || !rf_is_num(rf_obj(s->root, "lab"), "leaked_rst"))
			return false;
		*v = rf_num(rf_obj(s->root, "lab"), "leaked_rst", 0);
		return true;
	}
	if (!strcmp(key, "kernel_fin_wait_2_peak")) {
		const json_t *pk = rf_obj(rf_obj(rf_obj(s->root, "lab"), "kernel"), "peak");
		if (s->scn || !pk)
			return false;
		*v = rf_num(pk, "FIN_WAIT_2", 0);
		return true;
	}
	if (!strcmp(key, "lingered") || !strcmp(key, "linger_seconds")) {
		if (!s->scn && !strcmp(key, "lingered") && rf_is_num(rf_obj(s->root, "summary"), "lingered")) {
			*v = rf_num(rf_obj(s->root, "summary"), "lingered", 0);
			return true;
		}
		if (!records_cover(s))
			return false;
		linger_from_records(s, &lg, &ls);
		*v = !strcmp(key, "lingered") ? lg : ls;
		return true;
	}
	if (!strncmp(key, "fin_wait_2_", 11)) {
		const char *k = key + 11;
		if (s->scn) {
			if (!records_cover(s) || fw2_from_records(s, &f2) < 0)
				return false;
		} else {
			if (!fw)
				return false;
			f2.count = rf_num(fw, "count", 0);
			f2.peak = rf_num(fw, "peak", 0);
			f2.p50 = rf_num(rf_obj(fw, "duration"), "p50", 0);
			f2.p90 = rf_num(rf_obj(fw, "duration"), "p90", 0);
			f2.max = rf_num(rf_obj(fw, "duration"), "max", 0);
		}
		*v = !strcmp(k, "count") ? f2.count : !strcmp(k, "peak") ? f2.peak :
		     !strcmp(k, "p50") ? f2.p50 : !strcmp(k, "p90") ? f2.p90 : f2.max;
		return true;
	}
	return false;
}

/* Finding types present in either report, rst_before_ack always first. */
static size_t finding_types(const json_t *a, const json_t *b, const char **types, size_t max)
{
	const json_t *roots[2] = { a, b }, *f;
	size_t n = 0, i, j, k;

	types[n++] = "rst_before_ack";
	for (k = 0; k < 2; k++)
		json_array_foreach(rf_arr(roots[k], "findings"), i, f) {
			const char *t = rf_str(f, "type");
			for (j = 0; j < n && strcmp(types[j], t); j++)
				;
			if (j == n && n < max)
				types[n++] = t;
		}
	return n;
}

/* The expectation of `other` that matches arr[idx]: the same text, and the
 * same occurrence of it (the second "expect no reset" matches the second),
 * or NULL. */
static const json_t *match_expectation(const json_t *arr, size_t idx, const json_t *other)
{
	const char *t = rf_str(json_array_get(arr, idx), "text"), *u;
	size_t occ = 0, seen = 0, k;
	const json_t *e;

	if (!t)
		return NULL;
	for (k = 0; k < idx; k++)
		if ((u = rf_str(json_array_get(arr, k), "text")) && !strcmp(u, t))
			occ++;
	json_array_foreach(other, k, e)
		if ((u = rf_str(e, "text")) && !strcmp(u, t) && seen++ == occ)
			return e;
	return NULL;
}

/* Expectations of a scenario pair, matched by text (and occurrence). */
static int compare_expectations(struct dr_result *r, const char *scope, const json_t *sb,
                                const json_t *sn, const struct dr_tol_arg *tols, size_t ntols)
{
	const json_t *eb = rf_arr(sb, "expectations"), *en = rf_arr(sn, "expectations"), *e, *e2;
	const struct metric *m = find_metric("expectations");
	struct dr_tol tol = tol_for("expectations", m, tols, ntols);
	size_t i, j, first = r->n;
	double newly_failed = 0, held_base = 0;

	json_array_foreach(eb, i, e) {
		const char *t = rf_str(e, "text");
		const json_t *match = match_expectation(eb, i, en);
		struct dr_item *it;
		if (!t)
			continue;
		held_base += rf_bool(e, "passed", false);
		if (!(it = add_item(r)))
			return -1;
		snprintf(it->scope, sizeof it->scope, "%s", scope);
		snprintf(it->metric, sizeof it->metric, "expectations");
		snprintf(it->text, sizeof it->text, "%s", t);
		it->boolean = true;
		it->unit = "";
		it->tol = tol;
		it->has_base = true;
		it->base = rf_bool(e, "passed", false);
		it->has_new = match != NULL;
		it->new_ = match ? rf_bool(match, "passed", false) : 0;
		if (!match)
			it->change = DR_CHANGED;
		else if (it->base == it->new_)
			it->change = DR_SAME;
		else if (it->base > it->new_) {
			it->change = DR_WORSE;
			newly_failed++;
		} else
			it->change = DR_BETTER;
	}
	/* expectations only NEW has */
	json_array_foreach(en, j, e2) {
		const char *t = rf_str(e2, "text");
		struct dr_item *it;
		if (!t || match_expectation(en, j, eb))
			continue;
		if (!(it = add_item(r)))
			return -1;
		snprintf(it->scope, sizeof it->scope, "%s", scope);
		snprintf(it->metric, sizeof it->metric, "expectations");
		snprintf(it->text, sizeof it->text, "%s", t);
		it->boolean = true;
		it->unit = "";
		it->tol = tol;
		it->has_new = true;
		it->new_ = rf_bool(e2, "passed", false);
		it->change = DR_CHANGED;
	}
	if (!tol.off && newly_failed > fmax(tol.abs, tol.pct / 100.0 * held_base) + EPS)
		for (i = first; i < r->n; i++)
			if (r->items[i].change == DR_WORSE)
				r->items[i].regression = true;
	return 0;
}

static int compare_scope(struct dr_result *r, const char *name, const struct scope *b,
                         const struct scope *n, const struct dr_tol_arg *tols, size_t ntols)
{
	const char *types[32];
	size_t nt = finding_types(b->root, n->root, types, 32), i;
	double vb, vn;
	bool hb, hn;

	for (i = 0; i < nt; i++) {
		const struct metric *m = find_metric(types[i]);
		if (judge(r, name, types[i], m, true, finding_count(b, types[i]), true,
		          finding_count(n, types[i]), tols, ntols) < 0)
			return -1;
	}
	for (i = 1; i < NMETRICS; i++) {
		if (!strcmp(METRICS[i].key, "client_impact")) {
			char wb[24], wn[24];
			size_t at = r->n;
			hb = client_impact(b, &vb, wb, sizeof wb);
			hn = client_impact(n, &vn, wn, sizeof wn);
			if (judge(r, name, METRICS[i].key, &METRICS[i], hb, vb, hn, vn, tols, ntols) < 0)
				return -1;
			if (r->n > at) {
				struct dr_item *it = &r->items[at];
				snprintf(it->base_word, sizeof it->base_word, "%s", wb);
				snprintf(it->new_word, sizeof it->new_word, "%s", wn);
				/* a finding that comes or goes is rst_before_ack's
				 * figure; the grade compares two graded scopes */
				if (strcmp(wb, wn) && (!strcmp(wb, "none") || !strcmp(wn, "none"))) {
					it->change = DR_CHANGED;
					it->regression = false;
				}
			}
			continue;
		}
		if (!strcmp(METRICS[i].key, "expectations")) {
			if (b->scn && compare_expectations(r, name, b->scn, n->scn, tols, ntols) < 0)
				return -1;
			continue;
		}
		hb = figure(b, METRICS[i].key, &vb);
		hn = figure(n, METRICS[i].key, &vn);
		if (judge(r, name, METRICS[i].key, &METRICS[i], hb, vb, hn, vn, tols, ntols) < 0)
			return -1;
	}
	return 0;
}

static const json_t *scenario_named(const json_t *root, const char *name)
{
	const json_t *s;
	size_t i;

	json_array_foreach(rf_arr(root, "scenarios"), i, s)
		if (!strcmp(rf_str(s, "name"), name))
			return s;
	return NULL;
}

/* Names in a but not in b, comma-separated into buf; returns how many. */
static size_t only_in(const json_t *a, const json_t *b, char *buf, size_t len)
{
	const json_t *s;
	size_t i, n = 0, used = 0;

	buf[0] = '\0';
	json_array_foreach(rf_arr(a, "scenarios"), i, s) {
		const char *nm = rf_str(s, "name");
		if (scenario_named(b, nm))
			continue;
		if (used < len) {
			int w = snprintf(buf + used, len - used, "%s%s", n ? ", " : "", nm);
			used += w > 0 ? (size_t)w : 0;
		}
		n++;
	}
	return n;
}

static int duplicate_name(const json_t *root, char *buf, size_t len)
{
	const json_t *s, *t;
	size_t i, j;

	json_array_foreach(rf_arr(root, "scenarios"), i, s)
		json_array_foreach(rf_arr(root, "scenarios"), j, t)
			if (j > i && !strcmp(rf_str(s, "name"), rf_str(t, "name"))) {
				snprintf(buf, len, "%s", rf_str(s, "name"));
				return 1;
			}
	return 0;
}

int dr_compare(const json_t *base, const json_t *cand, const char *base_name,
               const char *cand_name, const struct dr_tol_arg *tols, size_t ntols,
               struct dr_result *out, char *err, size_t errlen)
{
	bool lb = rf_is_lab(base), ln = rf_is_lab(cand);
	struct scope sb = { base, NULL, NULL }, sn = { cand, NULL, NULL };
	char ob[512], on[512];
	const json_t *s;
	size_t i;

	memset(out, 0, sizeof *out);
	out->noise_band = tol_for("noise", NULL, tols, ntols);
	if (!find_tol(tols, ntols, "noise"))
		out->noise_band = NOISE_DEFAULT;
	if (lb != ln) {
		snprintf(err, errlen, "%s is %s report and %s %s report: compare two lab reports "
		         "(run, audit) or two analyze reports", base_name, lb ? "a lab" : "an analyze",
		         cand_name, ln ? "a lab" : "an analyze");
		return -1;
	}
	if (lb) {
		size_t nb = only_in(base, cand, ob, sizeof ob), nn = only_in(cand, base, on, sizeof on);
		if (nb || nn) {
			snprintf(err, errlen, "%s and %s cover different scenarios: only in %s: %s; only in %s: %s",
			         base_name, cand_name, base_name, nb ? ob : "none", cand_name, nn ? on : "none");
			return -1;
		}
		if (duplicate_name(base, ob, sizeof ob) || duplicate_name(cand, ob, sizeof ob)) {
			snprintf(err, errlen, "scenario %s appears twice in one report: cannot pair scenarios", ob);
			return -1;
		}
		if (json_array_size(rf_arr(base, "scenarios")) == 0) {
			snprintf(err, errlen, "%s holds no scenario to compare", base_name);
			return -1;
		}
	}
	out->lab = lb;
	if (lb)
		json_array_foreach(rf_arr(base, "scenarios"), i, s) {
			const json_t *t = scenario_named(cand, rf_str(s, "name"));
			struct scope xb = { base, s, rf_arr(s, "connections") };
			struct scope xn = { cand, t, rf_arr(t, "connections") };
			if (compare_scope(out, rf_str(s, "name"), &xb, &xn, tols, ntols) < 0)
				goto oom;
		}
	if (compare_scope(out, "report", &sb, &sn, tols, ntols) < 0)
		goto oom;
	for (i = 0; i < out->n; i++) {
		const struct dr_item *it = &out->items[i];
		out->regressions += it->regression;
		out->noise += it->noise;
		out->better += !it->noise && it->change == DR_BETTER;
		out->worse += !it->noise && it->change == DR_WORSE;
	}
	return 0;
oom:
	dr_free(out);
	snprintf(err, errlen, "out of memory");
	return -1;
}

void dr_free(struct dr_result *r)
{
	free(r->items);
	r->items = NULL;
	r->n = r->cap = 0;
}
