/*
 * diffout.c - a comparison of two reports (diffrep.h) as text and as JSON
 * (contract in diffout.h): `lingerlab diff` prints them, `audit
 * --baseline` writes them beside its report.
 */
#include "reports/diffout.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "reports/safetext.h"
#include "reports/textout.h"

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
void diffout_value_text(char *buf, size_t len, const struct dr_item *it, bool has, double v,
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

void diffout_text(const struct tout *o, const struct dr_result *r, const char *bn,
                  const char *nn, bool verbose)
{
	const char *scope = NULL;
	size_t i, same = 0, quiet = 0, listed;
	char vb[64], vn[64], tt[64];

	tout_fprintf(o->f, "lingerlab diff: base %s -> new %s\n", bn, nn);
	for (i = 0; i <= r->n; i++) {
		const struct dr_item *it = i < r->n ? &r->items[i] : NULL;
		if (!it || !scope || strcmp(scope, it->scope)) {
			if (scope && (same || quiet)) {
				tout_style(o, TOUT_DIM);
				if (same)
					tout_fprintf(o->f, "  (%zu figure%s unchanged", same, same == 1 ? "" : "s");
				if (quiet)
					tout_fprintf(o->f, "%s%zu timing difference%s within noise", same ? "; " : "  (",
					             quiet, quiet == 1 ? "" : "s");
				fputs(")", o->f);
				tout_style(o, TOUT_PLAIN);
				fputc('\n', o->f);
			}
			if (!it)
				break;
			scope = it->scope;
			same = quiet = 0;
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
		if (it->noise && !verbose) {
			quiet++;
			continue;
		}
		diffout_value_text(vb, sizeof vb, it, it->has_base, it->base, it->base_word);
		diffout_value_text(vn, sizeof vn, it, it->has_new, it->new_, it->new_word);
		tout_printf(o, it->noise ? TOUT_DIM :
		            it->change == DR_WORSE ? (it->regression ? TOUT_BOLD_RED : TOUT_YELLOW)
		                                   : it->change == DR_BETTER ? TOUT_GREEN : TOUT_PLAIN,
		            "  %-8s", it->noise ? "noise" : dr_change_name(it->change));
		if (it->text[0])
			tout_fprintf(o->f, " expectation \"%s\": %s -> %s", it->text, vb, vn);
		else
			tout_fprintf(o->f, " %-24s %s -> %s", it->metric, vb, vn);
		if (it->regression) {
			tol_text(tt, sizeof tt, &it->tol);
			tout_printf(o, TOUT_BOLD_RED, "   REGRESSION");
			tout_fprintf(o->f, " (%s)", tt);
		} else if (it->noise) {
			tout_fprintf(o->f, "   (within the noise band, %g s or %g%%)", r->noise_band.abs,
			             r->noise_band.pct);
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
			diffout_value_text(vb, sizeof vb, it, it->has_base, it->base, it->base_word);
			diffout_value_text(vn, sizeof vn, it, it->has_new, it->new_, it->new_word);
			tout_fprintf(o->f, "%s %s %s %s -> %s", listed ? ";" : "",
			        strcmp(it->scope, "report") ? it->scope : r->lab ? "whole report" : "whole capture",
			        it->text[0] ? it->text : it->metric, vb, vn);
			listed++;
		}
		tout_fprintf(o->f, "%s\n", r->regressions > listed ? "; ..." : "");
	} else {
		tout_printf(o, TOUT_BOLD_GREEN, "no regression:");
		tout_fprintf(o->f, " %zu better, %zu worse within tolerance", r->better, r->worse);
		if (r->noise)
			tout_fprintf(o->f, "; %zu timing difference%s within noise%s", r->noise,
			             r->noise == 1 ? "" : "s", verbose ? "" : " (--verbose lists them)");
		fputc('\n', o->f);
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

json_t *diffout_json(const struct dr_result *r, const char *bn, const char *nn)
{
	json_t *root = json_object(), *items = json_array();
	size_t i;

	if (!root || !items)
		goto fail;
	for (i = 0; i < r->n; i++) {
		const struct dr_item *it = &r->items[i];
		json_t *o = json_object(), *tol;
		if (!o)
			goto fail;
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
		    json_object_set_new(o, "noise", json_boolean(it->noise)) ||
		    json_object_set_new(o, "tolerance", tol) ||
		    json_array_append_new(items, o))
			goto fail;
	}
	json_t *band = r->noise_band.off ? json_string("inf")
	             : json_pack("{s:f,s:f}", "abs", r->noise_band.abs, "pct", r->noise_band.pct);
	if (json_object_set_new(root, "base", safe_jstring(bn)) ||
	    json_object_set_new(root, "new", safe_jstring(nn)) ||
	    json_object_set_new(root, "compared", json_string(r->lab ? "scenarios" : "capture")) ||
	    json_object_set_new(root, "regression", json_boolean(r->regressions > 0)) ||
	    json_object_set_new(root, "regressions", json_integer((json_int_t)r->regressions)) ||
	    json_object_set_new(root, "better", json_integer((json_int_t)r->better)) ||
	    json_object_set_new(root, "worse", json_integer((json_int_t)r->worse)) ||
	    json_object_set_new(root, "noise", json_integer((json_int_t)r->noise)) ||
	    json_object_set_new(root, "noise_band", band))
		goto fail;
	if (json_object_set_new(root, "items", items)) {
		items = NULL;   /* taken, even on failure */
		goto fail;
	}
	return root;
fail:
	json_decref(items);
	json_decref(root);
	return NULL;
}
