/*
 * junit.c - a lab run as JUnit XML, the format CI systems read (GitLab,
 * Jenkins, GitHub Actions' test reporters): one testsuite for the target,
 * one testcase per scenario, a <failure> per failed expectation naming its
 * script line, and the run's verdict in the suite's <system-out>.
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

static size_t failures_of(const struct run_scenario *rs)
{
	size_t n = 0;

	for (size_t j = 0; j < rs->n_results; j++)
		n += !rs->results[j].passed;
	return n;
}

int junit_write(const struct run_outcome *o, const char *path, char *err, size_t errlen)
{
	char target[320], verdict[1024];
	size_t tests = o->n_scenarios, failures = 0;
	double total = 0;
	FILE *f;
	int e;

	for (size_t i = 0; i < o->n_scenarios; i++) {
		const struct run_scenario *rs = &o->scenarios[i];
		failures += failures_of(rs) || !rs->passed;
		if (rs->end > rs->start)
			total += rs->end - rs->start;
	}
	if (o->kind == RUN_TARGET_BUILTIN)
		snprintf(target, sizeof target, "builtin %s", o->policy);
	else
		snprintf(target, sizeof target, "%s", o->command ? o->command : "target");
	labreport_verdict_text(o, verdict, sizeof verdict);

	f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites name=\"lingerlab\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
	        "time=\"%.3f\">\n", tests, failures, total);
	fputs("  <testsuite name=\"", f);
	xml_put(f, target);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"%.3f\">\n",
	        tests, failures, total);
	for (size_t i = 0; i < o->n_scenarios; i++) {
		const struct run_scenario *rs = &o->scenarios[i];
		double t = rs->end > rs->start ? rs->end - rs->start : 0;

		fputs("    <testcase classname=\"lingerlab.", f);
		xml_put(f, target);
		fputs("\" name=\"", f);
		xml_put(f, rs->scn->name);
		fputs("\" file=\"", f);
		xml_put(f, rs->scn->file);
		fprintf(f, "\" time=\"%.3f\">\n", t);
		for (size_t j = 0; j < rs->n_results; j++) {
			const struct run_expect_result *r = &rs->results[j];
			char msg[256];

			if (r->passed)
				continue;
			snprintf(msg, sizeof msg, "line %u: %s", r->x->line, r->x->text);
			fputs("      <failure type=\"expectation\" message=\"", f);
			xml_put(f, msg);
			fputs("\">", f);
			xml_put(f, rs->scn->file);
			fprintf(f, ":%u:%u: ", r->x->line, r->x->col);
			xml_put(f, r->x->text);
			fputs(": ", f);
			xml_put(f, r->detail);
			fputs("</failure>\n", f);
		}
		if (rs->passed == false && failures_of(rs) == 0)
			fputs("      <failure type=\"lab\" message=\"the lab could not vouch for "
			      "this scenario (a leaked RST or a timeout)\"/>\n", f);
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
