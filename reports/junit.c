/*
 * junit.c - a lab run as JUnit XML, the format CI systems read (GitLab,
 * Jenkins, GitHub Actions' test reporters): one testsuite for the target,
 * one testcase per scenario, a <failure> per failed expectation naming its
 * script line, and the run's verdict in the suite's <system-out>; a
 * testcase "lab" in <error> when the lab cannot vouch for the result, and
 * "baseline" with a <failure> per regression (citest.h: the same content
 * as tap.c's).
 *
 * Every string from outside (scenario names, file names, expectation
 * texts and details, the target's command) is made printable with the
 * terminal rule of safetext.h first (no control characters: XML 1.0
 * forbids most of them), then escaped for XML.
 */
#include "reports/junit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/scenario.h"
#include "reports/citest.h"
#include "reports/labreport.h"
#include "reports/safetext.h"

/* Write s to f as XML character data / attribute text. */
static void xml_put(FILE *f, const char *s)
{
	char buf[1024], *p = buf;
	size_t need;

	if (!s)
		return;
	need = safe_escape(buf, sizeof buf, s, strlen(s), false);
	if (need >= sizeof buf) {
		p = malloc(need + 1);
		if (!p)
			return;
		safe_escape(p, need + 1, s, strlen(s), false);
	}
	for (const char *q = p; *q; q++) {
		switch (*q) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default: fputc(*q, f);
		}
	}
	if (p != buf)
		free(p);
}

/* <testcase classname="lingerlab.TARGET" name="NAME" [file="FILE"] time="T"> */
static void open_case(FILE *f, const char *target, const char *name, const char *file, double t)
{
	fputs("    <testcase classname=\"lingerlab.", f);
	xml_put(f, target);
	fputs("\" name=\"", f);
	xml_put(f, name);
	if (file) {
		fputs("\" file=\"", f);
		xml_put(f, file);
	}
	fprintf(f, "\" time=\"%.3f\">\n", t);
}

int junit_write(const struct run_outcome *o, const struct dr_result *cmp, const char *path,
                char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return junit_write_to(f, o, cmp, path, err, errlen);
}

int junit_write_to(FILE *f, const struct run_outcome *o, const struct dr_result *cmp,
                   const char *path, char *err, size_t errlen)
{
	char target[320], verdict[1024], lab[640], line[1024];
	size_t tests = o->n_scenarios, failures = 0, errors = 0;
	size_t regressions = ci_regression(cmp, 0, NULL);
	bool unvouched = ci_lab_error(o, lab, sizeof lab);
	double total = 0;
	int e;

	for (size_t i = 0; i < o->n_scenarios; i++) {
		const struct run_scenario *rs = &o->scenarios[i];
		failures += ci_case_failures(rs) > 0;
		total += ci_case_seconds(rs);
	}
	tests += unvouched + (cmp != NULL);
	errors += unvouched;
	failures += regressions > 0;
	ci_target_name(o, target, sizeof target);
	labreport_verdict_text(o, verdict, sizeof verdict);

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites name=\"lingerlab\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
	        "time=\"%.3f\">\n", tests, failures, errors, total);
	fputs("  <testsuite name=\"", f);
	xml_put(f, target);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" time=\"%.3f\">\n",
	        tests, failures, errors, total);
	for (size_t i = 0; i < o->n_scenarios; i++) {
		const struct run_scenario *rs = &o->scenarios[i];

		open_case(f, target, rs->scn->name, rs->scn->file, ci_case_seconds(rs));
		for (size_t j = 0; j < rs->n_results; j++) {
			const struct run_expect_result *r = &rs->results[j];
			char msg[256];

			if (r->passed)
				continue;
			ci_failure_message(r, msg, sizeof msg);
			ci_failure_text(rs, r, line, sizeof line);
			fputs("      <failure type=\"expectation\" message=\"", f);
			xml_put(f, msg);
			fputs("\">", f);
			xml_put(f, line);
			fputs("</failure>\n", f);
		}
		fputs("    </testcase>\n", f);
	}
	if (unvouched) {
		open_case(f, target, "lab", NULL, 0);
		fputs("      <error type=\"unvouched\" message=\"", f);
		xml_put(f, lab);
		fputs("\"/>\n    </testcase>\n", f);
	}
	if (cmp) {
		open_case(f, target, "baseline", NULL, 0);
		for (size_t i = 0; i < regressions; i++) {
			struct ci_regression g;
			ci_regression(cmp, i, &g);
			fputs("      <failure type=\"regression\" message=\"", f);
			xml_put(f, g.text);
			fputs("\"/>\n", f);
		}
		fputs("    </testcase>\n", f);
	}
	fputs("    <system-out>", f);
	xml_put(f, verdict);
	fputs("</system-out>\n  </testsuite>\n</testsuites>\n", f);
	e = ferror(f) ? EIO : 0;
	if (fclose(f) != 0 && !e)
		e = errno;
	if (e) {
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -1;
	}
	return 0;
}
