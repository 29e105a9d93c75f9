/*
 * citest.c - the content of a lab run's CI test results (contract in
 * citest.h), shared by junit.c and tap.c.
 */
#include "reports/citest.h"

#include <stdio.h>
#include <string.h>

#include "reports/diffout.h"
#include "reports/labreport.h"

void ci_target_name(const struct run_outcome *o, char *buf, size_t cap)
{
	if (o->kind == RUN_TARGET_BUILTIN)
		snprintf(buf, cap, "builtin %s", o->policy);
	else if (o->command)
		snprintf(buf, cap, "%s", o->command);
	else if (o->address[0])
		snprintf(buf, cap, "%s:%u", o->address, o->port);
	else
		snprintf(buf, cap, "target");
}

double ci_case_seconds(const struct run_scenario *rs)
{
	return rs->end > rs->start ? rs->end - rs->start : 0;
}

size_t ci_case_failures(const struct run_scenario *rs)
{
	size_t n = 0;

	for (size_t j = 0; j < rs->n_results; j++)
		n += !rs->results[j].passed;
	return n;
}

void ci_failure_message(const struct run_expect_result *r, char *buf, size_t cap)
{
	snprintf(buf, cap, "line %u: %s", r->x->line, r->x->text);
}

void ci_failure_text(const struct run_scenario *rs, const struct run_expect_result *r,
                     char *buf, size_t cap)
{
	snprintf(buf, cap, "%s:%u:%u: %s: %s", rs->scn->file ? rs->scn->file : rs->scn->name,
	         r->x->line, r->x->col, r->x->text, r->detail);
}

bool ci_lab_error(const struct run_outcome *o, char *buf, size_t cap)
{
	char why[512];

	if (!labreport_unvouched(o, why, sizeof why)) {
		if (cap)
			buf[0] = '\0';
		return false;
	}
	snprintf(buf, cap, "the lab could not vouch for this result: %s", why);
	return true;
}

size_t ci_regression(const struct dr_result *cmp, size_t i, struct ci_regression *out)
{
	size_t k = 0;

	if (!cmp)
		return 0;
	for (size_t j = 0; j < cmp->n && out; j++) {
		const struct dr_item *it = &cmp->items[j];
		if (!it->regression || k++ != i)
			continue;
		snprintf(out->scope, sizeof out->scope, "%s",
		         strcmp(it->scope, "report") ? it->scope : "whole report");
		snprintf(out->figure, sizeof out->figure, "%s", it->text[0] ? it->text : it->metric);
		diffout_value_text(out->base, sizeof out->base, it, it->has_base, it->base, it->base_word);
		diffout_value_text(out->new_, sizeof out->new_, it, it->has_new, it->new_, it->new_word);
		snprintf(out->text, sizeof out->text, "%s: %s %s -> %s", out->scope, out->figure,
		         out->base, out->new_);
	}
	return cmp->regressions;
}
