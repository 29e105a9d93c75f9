/*
 * tap.c - a lab run as TAP version 13 (contract in tap.h).
 *
 *   TAP version 13
 *   1..3
 *   # lingerlab: builtin close
 *   ok 1 - clean-close
 *   not ok 2 - pipelined-404
 *     ---
 *     message: "line 25: expect no rst_before_ack"
 *     severity: fail
 *     file: "scenarios/pipelined-404.scn"
 *     duration_ms: 812
 *     failures:
 *       - file: "scenarios/pipelined-404.scn"
 *         line: 25
 *         col: 1
 *         expectation: "expect no rst_before_ack"
 *         detail: "1 rst_before_ack finding (server RST), up to 412 bytes at risk"
 *     ...
 *   ok 3 - vanishing-client
 *   # 1 of 3 scenarios failed its expectations; ...
 *
 * Lists hold maps, never bare strings: TAP::Parser's YAMLish reader (what
 * prove uses) drops a whole block whose list item is a quoted string with
 * ": " in it.
 *
 * Strings from outside are made printable by safetext.h's terminal rule
 * (no control characters, so no line breaks inside a value), then quoted
 * as YAML double-quoted scalars ('\' and '"' escaped). A description
 * cannot start a directive: '#' in it is written "\#" as the
 * specification asks, and '\' as "\\".
 */
#include "reports/tap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lab/scenario.h"
#include "reports/citest.h"
#include "reports/labreport.h"
#include "reports/safetext.h"

/* s made printable; a fresh string or NULL (out of memory). */
static char *printable(const char *s)
{
	size_t n = s ? strlen(s) : 0, need = safe_escape(NULL, 0, s ? s : "", n, false);
	char *p = malloc(need + 1);

	if (p)
		safe_escape(p, need + 1, s ? s : "", n, false);
	return p;
}

/* s as a YAML double-quoted scalar. */
static void yaml_put(FILE *f, const char *s)
{
	char *p = printable(s);

	fputc('"', f);
	for (const char *q = p ? p : ""; *q; q++) {
		if (*q == '"' || *q == '\\')
			fputc('\\', f);
		fputc(*q, f);
	}
	fputc('"', f);
	free(p);
}

/* s as a test point's description. */
static void desc_put(FILE *f, const char *s)
{
	char *p = printable(s);

	for (const char *q = p ? p : ""; *q; q++) {
		if (*q == '#' || *q == '\\')
			fputc('\\', f);
		fputc(*q, f);
	}
	free(p);
}

static void point(FILE *f, bool ok, size_t n, const char *name)
{
	fprintf(f, "%sok %zu - ", ok ? "" : "not ", n);
	desc_put(f, name);
	fputc('\n', f);
}

int tap_write(FILE *f, const struct run_outcome *o, const struct dr_result *cmp)
{
	char target[320], line[1024], verdict[1024];
	size_t n = 0, regressions = ci_regression(cmp, 0, NULL);
	bool unvouched = ci_lab_error(o, line, sizeof line);

	ci_target_name(o, target, sizeof target);
	fputs("TAP version 13\n", f);
	fprintf(f, "1..%zu\n", o->n_scenarios + unvouched + (cmp != NULL));
	fputs("# lingerlab: ", f);
	desc_put(f, target);
	fputc('\n', f);
	for (size_t i = 0; i < o->n_scenarios; i++) {
		const struct run_scenario *rs = &o->scenarios[i];
		size_t failed = ci_case_failures(rs);
		bool first = true;

		point(f, failed == 0, ++n, rs->scn->name);
		if (!failed)
			continue;
		fputs("  ---\n", f);
		for (size_t j = 0; j < rs->n_results; j++) {
			const struct run_expect_result *r = &rs->results[j];
			if (r->passed)
				continue;
			if (first) {
				ci_failure_message(r, line, sizeof line);
				fputs("  message: ", f);
				yaml_put(f, line);
				fputs("\n  severity: fail\n  file: ", f);
				yaml_put(f, rs->scn->file);
				fprintf(f, "\n  duration_ms: %.0f\n  failures:\n", ci_case_seconds(rs) * 1e3);
				first = false;
			}
			fputs("    - file: ", f);
			yaml_put(f, rs->scn->file);
			fprintf(f, "\n      line: %u\n      col: %u\n      expectation: ", r->x->line,
			        r->x->col);
			yaml_put(f, r->x->text);
			fputs("\n      detail: ", f);
			yaml_put(f, r->detail);
			fputc('\n', f);
		}
		fputs("  ...\n", f);
	}
	if (unvouched) {
		ci_lab_error(o, line, sizeof line);
		point(f, false, ++n, "lab");
		fputs("  ---\n  message: ", f);
		yaml_put(f, line);
		fputs("\n  severity: error\n  ...\n", f);
	}
	if (cmp) {
		point(f, regressions == 0, ++n, "baseline");
		if (regressions) {
			fprintf(f, "  ---\n  message: \"%zu figure%s regressed against the baseline\"\n"
			        "  severity: fail\n  regressions:\n", regressions,
			        regressions == 1 ? "" : "s");
			for (size_t i = 0; i < regressions; i++) {
				struct ci_regression g;
				ci_regression(cmp, i, &g);
				fputs("    - scope: ", f);
				yaml_put(f, g.scope);
				fputs("\n      figure: ", f);
				yaml_put(f, g.figure);
				fputs("\n      base: ", f);
				yaml_put(f, g.base);
				fputs("\n      new: ", f);
				yaml_put(f, g.new_);
				fputc('\n', f);
			}
			fputs("  ...\n", f);
		}
	}
	labreport_verdict_text(o, verdict, sizeof verdict);
	fputs("# ", f);
	desc_put(f, verdict);
	fputc('\n', f);
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

void tap_bail_out(FILE *f, const char *why)
{
	fputs("TAP version 13\nBail out! ", f);
	desc_put(f, why);
	fputc('\n', f);
	fflush(f);
}
