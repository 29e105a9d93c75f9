/*
 * cmd_diff.c - `lingerlab diff BASE.json NEW.json [--json]
 * [--tolerance KEY=VALUE ...]`: what got better or worse between two
 * reports; exit 1 when something regressed beyond its tolerance.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/cli.h"
#include "reports/diffrep.h"
#include "reports/reportfile.h"
#include "reports/safetext.h"
#include "reports/textout.h"

#define MAX_TOLS 64

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: lingerlab diff BASE.json NEW.json [--json] [--tolerance KEY=VALUE ...]\n"
	        "                      [--color=auto|always|never]\n"
	        "\n"
	        "Compare two reports of the same scenarios (or two analyze reports) and\n"
	        "print what got better or worse: findings by type, bytes at risk, the\n"
	        "client's grade (client_impact), expectations, what the client saw,\n"
	        "lingering, FIN_WAIT_2 peak and durations.\n"
	        "\n"
	        "  -j, --json                print the comparison as JSON\n"
	        "  -t, --tolerance KEY=VALUE how much KEY may get worse and still pass:\n"
	        "                            a number (absolute), N%% (of BASE), or inf\n"
	        "                            (shown, never a regression); repeatable\n"
	        "      --color=WHEN          auto (default), always, never\n"
	        "  -h, --help                show this help\n"
	        "\n"
	        "Keys: %s.\n"
	        "Defaults: 0 for findings, bytes_at_risk, client_impact, expectations,\n"
	        "reset_seen, responses_complete and leaked_rst; the larger of 1 and 10%% for\n"
	        "fin_wait_2_peak and kernel_fin_wait_2_peak; inf for the rest.\n"
	        "\n"
	        "Exit status: 0 nothing regressed beyond its tolerance, 1 something did,\n"
	        "2 bad usage, unreadable reports, or reports that cannot be compared.\n",
	        dr_known_keys());
}

/* Seconds in the unit that keeps their microseconds visible (reports round
 * times to the microsecond): "27 µs", "10.5 ms", "3.5 s", so two different
 * durations never print alike ("0.000 s -> 0.000 s"). */
static void seconds_text(char *buf, size_t len, double v)
{
	double a = fabs(v);
	const char *unit = "s";
	char *p;

	if (v == 0) {
		snprintf(buf, len, "0 s");
		return;
	}
	if (a < 1e-3) {
		snprintf(buf, len, "%.0f µs", v * 1e6);
		return;
	}
	if (a < 1) {
		v *= 1e3;
		unit = "ms";
		snprintf(buf, len, "%.3f", v);
	} else {
		snprintf(buf, len, "%.6f", v);
	}
	p = buf + strlen(buf);  /* drop trailing zeros, and a bare '.' */
	while (p > buf && p[-1] == '0')
		*--p = '\0';
	if (p > buf && p[-1] == '.')
		*--p = '\0';
	snprintf(p, len - (size_t)(p - buf), " %s", unit);
}

/* One side's value; word is the side's grade name (client_impact) or "". */
static void value_text(char *buf, size_t len, const struct dr_item *it, bool has, double v,
                       const char *word)
{
	if (!has)
		snprintf(buf, len, "n/a");
	else if (word[0])
		snprintf(buf, len, "%s", word);
	else if (!strcmp(it->metric, "expectations"))
		snprintf(buf, len, "%s", v > 0.5 ? "held" : "failed");
	else if (it->boolean)
		snprintf(buf, len, "%s", v > 0.5 ? "yes" : "no");
	else if (!strcmp(it->unit, "s"))
		seconds_text(buf, len, v);
	else if (v == 1 && it->unit[0] && strcmp(it->unit, "s"))
		snprintf(buf, len, "1 %.*s", (int)strlen(it->unit) - 1, it->unit); /* "1 socket" */
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f%s%s", v, it->unit[0] ? " " : "", it->unit);
	else
		snprintf(buf, len, "%.3f%s%s", v, it->unit[0] ? " " : "", it->unit);
}

static void tol_text(char *buf, size_t len, const struct dr_tol *t)
{
	if (t->off)
		snprintf(buf, len, "not gated");
	else if (t->abs > 0 && t->pct > 0)
		snprintf(buf, len, "tolerance %g or %g%%", t->abs, t->pct);
	else if (t->pct > 0)
		snprintf(buf, len, "tolerance %g%%", t->pct);
	else
		snprintf(buf, len, "tolerance %g", t->abs);
}

static void print_text(const struct tout *o, const struct dr_result *r, const char *bn,
                       const char *nn)
{
	const char *scope = NULL;
	size_t i, same = 0, listed;
	char vb[64], vn[64], tt[64];

	tout_fprintf(o->f, "lingerlab diff: base %s -> new %s\n", bn, nn);
	for (i = 0; i <= r->n; i++) {
		const struct dr_item *it = i < r->n ? &r->items[i] : NULL;
		if (!it || !scope || strcmp(scope, it->scope)) {
			if (scope && same)
				tout_printf(o, TOUT_DIM, "  (%zu figure%s unchanged)\n", same, same == 1 ? "" : "s");
			if (!it)
				break;
			scope = it->scope;
			same = 0;
			fputc('\n', o->f);
			if (!strcmp(scope, "report") && r->lab)
				tout_printf(o, TOUT_BOLD, "whole report\n");
			else if (!strcmp(scope, "report"))
				tout_printf(o, TOUT_BOLD, "whole capture\n");
			else
				tout_printf(o, TOUT_BOLD, "scenario %s\n", scope);
		}
		if (it->change == DR_SAME) {
			same++;
			continue;
		}
		value_text(vb, sizeof vb, it, it->has_base, it->base, it->base_word);
		value_text(vn, sizeof vn, it, it->has_new, it->new_, it->new_word);
		tout_printf(o, it->change == DR_WORSE ? (it->regression ? TOUT_BOLD_RED : TOUT_YELLOW)
		                                      : it->change == DR_BETTER ? TOUT_GREEN : TOUT_PLAIN,
		            "  %-8s", dr_change_name(it->change));
		if (it->text[0])
			tout_fprintf(o->f, " expectation \"%s\": %s -> %s", it->text, vb, vn);
		else
			tout_fprintf(o->f, " %-24s %s -> %s", it->metric, vb, vn);
		if (it->regression) {
			tol_text(tt, sizeof tt, &it->tol);
			tout_printf(o, TOUT_BOLD_RED, "   REGRESSION");
			tout_fprintf(o->f, " (%s)", tt);
		} else if (it->change == DR_WORSE) {
			tol_text(tt, sizeof tt, &it->tol);
			tout_fprintf(o->f, it->tol.off ? "   (%s)" : "   (within %s)", tt);
		}
		fputc('\n', o->f);
	}
	fputc('\n', o->f);
	if (r->regressions) {
		tout_printf(o, TOUT_BOLD_RED, "REGRESSION:");
		tout_fprintf(o->f, " %zu figure%s got worse beyond %s tolerance:", r->regressions,
		        r->regressions == 1 ? "" : "s", r->regressions == 1 ? "its" : "their");
		listed = 0;
		for (i = 0; i < r->n && listed < 6; i++) {
			const struct dr_item *it = &r->items[i];
			if (!it->regression)
				continue;
			value_text(vb, sizeof vb, it, it->has_base, it->base, it->base_word);
			value_text(vn, sizeof vn, it, it->has_new, it->new_, it->new_word);
			tout_fprintf(o->f, "%s %s %s %s -> %s", listed ? ";" : "",
			        strcmp(it->scope, "report") ? it->scope : r->lab ? "whole report" : "whole capture",
			        it->text[0] ? it->text : it->metric, vb, vn);
			listed++;
		}
		tout_fprintf(o->f, "%s\n", r->regressions > listed ? "; ..." : "");
	} else {
		tout_printf(o, TOUT_BOLD_GREEN, "no regression:");
		tout_fprintf(o->f, " %zu better, %zu worse within tolerance\n", r->better, r->worse);
	}
}

static json_t *jvalue(const struct dr_item *it, bool has, double v, const char *word)
{
	if (!has)
		return json_null();
	if (word[0])
		return safe_jstring(word);
	if (it->boolean)
		return json_boolean(v > 0.5);
	if (v == floor(v) && fabs(v) < 9e15)
		return json_integer((json_int_t)v);
	return json_real(v);
}

static int print_json(const struct dr_result *r, const char *bn, const char *nn)
{
	json_t *root = json_object(), *items = json_array();
	int rc = -1;
	size_t i;

	if (!root || !items)
		goto out;
	for (i = 0; i < r->n; i++) {
		const struct dr_item *it = &r->items[i];
		json_t *o = json_object(), *tol;
		if (!o)
			goto out;
		if (it->tol.off)
			tol = json_string("inf");
		else
			tol = json_pack("{s:f,s:f}", "abs", it->tol.abs, "pct", it->tol.pct);
		/* json_object_set_new takes ownership of each fresh value */
		if (json_object_set_new(o, "scope", safe_jstring(it->scope)) ||
		    json_object_set_new(o, "metric", safe_jstring(it->metric)) ||
		    json_object_set_new(o, "text", it->text[0] ? safe_jstring(it->text) : json_null()) ||
		    json_object_set_new(o, "base", jvalue(it, it->has_base, it->base, it->base_word)) ||
		    json_object_set_new(o, "new", jvalue(it, it->has_new, it->new_, it->new_word)) ||
		    json_object_set_new(o, "unit", json_string(it->unit)) ||
		    json_object_set_new(o, "change", json_string(dr_change_name(it->change))) ||
		    json_object_set_new(o, "regression", json_boolean(it->regression)) ||
		    json_object_set_new(o, "tolerance", tol) ||
		    json_array_append_new(items, o))
			goto out;
	}
	if (json_object_set_new(root, "base", safe_jstring(bn)) ||
	    json_object_set_new(root, "new", safe_jstring(nn)) ||
	    json_object_set_new(root, "compared", json_string(r->lab ? "scenarios" : "capture")) ||
	    json_object_set_new(root, "regression", json_boolean(r->regressions > 0)) ||
	    json_object_set_new(root, "regressions", json_integer((json_int_t)r->regressions)) ||
	    json_object_set_new(root, "better", json_integer((json_int_t)r->better)) ||
	    json_object_set_new(root, "worse", json_integer((json_int_t)r->worse)) ||
	    json_object_set_new(root, "items", items))
		goto out;
	items = NULL;
	if (json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		goto out;
	fputc('\n', stdout);
	rc = 0;
out:
	json_decref(items);
	json_decref(root);
	return rc;
}

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "tolerance", required_argument, NULL, 't' },
		{ "color", optional_argument, NULL, 'C' },
		{ "colour", optional_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dr_tol_arg tols[MAX_TOLS];
	size_t ntols = 0;
	enum tout_color_mode mode = TOUT_AUTO;
	bool as_json = false;
	json_t *base = NULL, *cand = NULL;
	struct dr_result res = { 0 };
	struct tout o;
	char err[1024];
	int opt, rc = LL_EXIT_USAGE;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jt:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			as_json = true;
			break;
		case 't':
			if (ntols == MAX_TOLS) {
				tout_fprintf(stderr, "lingerlab diff: more than %d --tolerance options\n", MAX_TOLS);
				return LL_EXIT_USAGE;
			}
			if (dr_parse_tol(optarg, &tols[ntols], err, sizeof err) < 0) {
				tout_fprintf(stderr, "lingerlab diff: %s\n", err);
				return LL_EXIT_USAGE;
			}
			ntols++;
			break;
		case 'C':
			if (tout_parse_color(optarg, &mode, err, sizeof err) < 0) {
				tout_fprintf(stderr, "lingerlab diff: %s\n", err);
				return LL_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return LL_EXIT_OK;
		default:
			usage(stderr);
			return LL_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		tout_fprintf(stderr, "lingerlab diff: expected two reports, BASE.json and NEW.json\n");
		usage(stderr);
		return LL_EXIT_USAGE;
	}
	if (!(base = rf_load(argv[optind], err, sizeof err)) ||
	    !(cand = rf_load(argv[optind + 1], err, sizeof err))) {
		tout_fprintf(stderr, "lingerlab diff: %s\n", err);
		goto out;
	}
	if (dr_compare(base, cand, argv[optind], argv[optind + 1], tols, ntols, &res, err, sizeof err) < 0) {
		tout_fprintf(stderr, "lingerlab diff: %s\n", err);
		goto out;
	}
	if (as_json) {
		if (print_json(&res, argv[optind], argv[optind + 1]) < 0) {
			tout_fprintf(stderr, "lingerlab diff: cannot write the JSON comparison\n");
			goto out;
		}
	} else {
		if (tout_init(&o, stdout, mode) < 0) {
			tout_fprintf(stderr, "lingerlab diff: out of memory\n");
			goto out;
		}
		print_text(&o, &res, argv[optind], argv[optind + 1]);
		tout_close(&o);
	}
	if (fflush(stdout) != 0) {
		perror("lingerlab diff: stdout");
		goto out;
	}
	rc = res.regressions ? LL_EXIT_FAIL : LL_EXIT_OK;
out:
	dr_free(&res);
	json_decref(base);
	json_decref(cand);
	return rc;
}
