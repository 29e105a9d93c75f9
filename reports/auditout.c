/*
 * auditout.c - what `lingerlab audit` writes once the lab is gone (see
 * auditout.h): run in the analysis child without privileges
 * (reports/privsep.h), it analyzes the capture, judges, compares with the
 * baseline, writes diff.json/diff.txt, the JUnit file, TAP, the page and
 * the report into the files the parent opened, and prints the table a
 * person reads in ten seconds.
 */
#include "reports/auditout.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "reports/cli.h"
#include "reports/diffout.h"
#include "reports/junit.h"
#include "reports/labcli.h"
#include "reports/labreport.h"
#include "reports/render.h"
#include "reports/report.h"
#include "reports/tap.h"

#define PROG "lingerlab audit"

/* diff.json and diff.txt into js and txt (opened before privileges were
 * dropped, reports/privsep.h; closed here); jsp and txtp name them. */
static int write_comparison(const struct dr_result *cmp, const char *base, const char *rep,
                            FILE *js, const char *jsp, FILE *txt, const char *txtp,
                            char *err, size_t errlen)
{
	json_t *j = diffout_json(cmp, base, rep);
	struct tout t;
	int e = 0;

	if (!j) {
		snprintf(err, errlen, "%.900s: out of memory", jsp);
		fclose(js);
		fclose(txt);
		return -1;
	}
	e = json_dumpf(j, js, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0;
	json_decref(j);
	if (fclose(js) != 0 || e) {
		snprintf(err, errlen, "%.900s: cannot write it", jsp);
		fclose(txt);
		return -1;
	}
	if (tout_init(&t, txt, TOUT_NEVER) < 0) {
		fclose(txt);
		snprintf(err, errlen, "%.900s: out of memory", txtp);
		return -1;
	}
	diffout_text(&t, cmp, base, rep, false);
	tout_close(&t);
	e = ferror(txt) ? EIO : 0;
	if (fclose(txt) != 0 && !e)
		e = errno;
	if (e) {
		snprintf(err, errlen, "%.900s: %s", txtp, strerror(e));
		return -1;
	}
	return 0;
}

/*
 * The client's side of a scenario's server findings: the worst
 * client_impact among them (reset_before_ack, then reset_after_ack, then
 * no_reset), "-" when the server reset nothing. Counts every grade into
 * graded[] for the verdict.
 */
static enum az_impact worst_impact(const struct run_outcome *out, const struct run_scenario *rs,
                                   uint64_t graded[AZ_NIMPACTS], bool *any)
{
	enum az_impact w = AZ_IMPACT_NO_RESET;

	*any = false;
	for (size_t j = 0; out->az && j < rs->n_findings; j++) {
		const struct az_rst_finding *f = az_finding(out->az, rs->findings[j].index);
		/* the runner's own clean-up RSTs are no finding of the server's */
		if (!f || rs->findings[j].lab_artefact || f->sender != AZ_SERVER ||
		    f->impact >= AZ_NIMPACTS)
			continue;
		graded[f->impact]++;
		if (!*any || f->impact < w)
			w = f->impact;
		*any = true;
	}
	return w;
}

static void table(const struct tout *o, const struct run_outcome *out)
{
	size_t i, j, failed = 0, hazardous = 0;
	uint64_t worst = 0, graded[AZ_NIMPACTS] = { 0 };

	tout_printf(o, TOUT_BOLD, "%-26s %14s %14s %-17s %-18s %-16s %s\n", "scenario",
	            "rst_before_ack", "bytes at risk", "client", "lingered", "fin_wait_2 peak",
	            "expectations");
	for (i = 0; i < out->n_scenarios; i++) {
		const struct run_scenario *rs = &out->scenarios[i];
		/* The server's findings are the row's figures (and the verdict's);
		 * the client's own (a client that reset with its request unACKed)
		 * are shown beside them, never added in: a row "1 46" under a
		 * verdict "no rst_before_ack" read as a contradiction. */
		uint64_t rst = rs->rst_before_ack[AZ_SERVER];
		uint64_t risk = rs->bytes_at_risk_max[AZ_SERVER];
		uint64_t crst = rs->rst_before_ack[AZ_CLIENT];
		char rstcol[48], riskcol[48];
		size_t held = 0;
		char lg[64], fw[64], ex[64];
		bool graded_any;
		enum az_impact wi = worst_impact(out, rs, graded, &graded_any);

		for (j = 0; j < rs->n_results; j++)
			held += rs->results[j].passed;
		if (rs->lingered)
			snprintf(lg, sizeof lg, "%llu, %.2f s max", (unsigned long long)rs->lingered, rs->linger_max);
		else
			snprintf(lg, sizeof lg, "no");
		snprintf(fw, sizeof fw, "%u (kernel %u)", rs->fw2[AZ_SERVER].peak,
		         rs->kernel_peak[SCN_K_FIN_WAIT_2]);
		snprintf(ex, sizeof ex, "%zu/%zu hold", held, rs->n_results);
		tout_fprintf(o->f, "%-26s ", rs->scn->name);
		if (crst) {
			snprintf(rstcol, sizeof rstcol, "%llu (client %llu)", (unsigned long long)rst,
			         (unsigned long long)crst);
			snprintf(riskcol, sizeof riskcol, "%llu (client %llu)", (unsigned long long)risk,
			         (unsigned long long)rs->bytes_at_risk_max[AZ_CLIENT]);
		} else {
			snprintf(rstcol, sizeof rstcol, "%llu", (unsigned long long)rst);
			snprintf(riskcol, sizeof riskcol, "%llu", (unsigned long long)risk);
		}
		tout_printf(o, rst ? TOUT_BOLD_RED : TOUT_PLAIN, "%14s", rstcol);
		tout_printf(o, risk ? TOUT_BOLD_RED : TOUT_PLAIN, " %14s", riskcol);
		tout_printf(o, graded_any && wi == AZ_IMPACT_RESET_BEFORE_ACK ? TOUT_BOLD_RED :
		            graded_any && wi == AZ_IMPACT_RESET_AFTER_ACK ? TOUT_YELLOW : TOUT_PLAIN,
		            " %-17s", graded_any ? az_impact_name(wi) : "-");
		tout_fprintf(o->f, " %-18s %-16s ", lg, fw);
		tout_printf(o, rs->passed ? TOUT_GREEN : TOUT_RED, "%s\n", ex);
		labreport_print_failures(o, rs);   /* as `run` names them */
		failed += !rs->passed;
		hazardous += rs->rst_before_ack[AZ_SERVER] > 0;
		if (rs->bytes_at_risk_max[AZ_SERVER] > worst)
			worst = rs->bytes_at_risk_max[AZ_SERVER];
	}
	/* The rows know only the findings the analyzer kept (its retention
	 * cap); its totals count every one: the verdict's figures are those. */
	const struct az_totals *t = out->az ? az_totals(out->az) : NULL;
	uint64_t unlisted = t ? t->not_retained : 0;
	if (unlisted) {
		for (j = 0; j < AZ_NIMPACTS; j++)
			if (t->by_impact[AZ_SERVER][j] > graded[j])
				graded[j] = t->by_impact[AZ_SERVER][j];
		if (t->bytes_at_risk_max[AZ_SERVER] > worst)
			worst = t->bytes_at_risk_max[AZ_SERVER];
	}
	fputc('\n', o->f);
	fputs("verdict: ", o->f);
	if (hazardous) {
		tout_printf(o, TOUT_BOLD_RED, "HAZARD: in %zu of %zu scenarios the server reset a "
		            "connection with up to %llu response bytes unacknowledged",
		            hazardous, out->n_scenarios, (unsigned long long)worst);
		fputs("; at the client:", o->f);
		for (j = 0; j < AZ_NIMPACTS; j++)
			tout_fprintf(o->f, "%s %llu %s", j ? "," : "", (unsigned long long)graded[j],
			        az_impact_name((enum az_impact)j));
		if (unlisted)
			fprintf(o->f, "; %llu more flagged connection%s beyond the retention cap %s "
			        "counted here but in no row (summary.not_retained)",
			        (unsigned long long)unlisted, unlisted == 1 ? "" : "s",
			        unlisted == 1 ? "is" : "are");
	} else {
		tout_printf(o, TOUT_BOLD_GREEN, "no rst_before_ack in %zu scenarios", out->n_scenarios);
	}
	if (failed)
		tout_fprintf(o->f, "; %zu scenario%s failed an expectation", failed, failed == 1 ? "" : "s");
	else
		fputs("; every expectation holds", o->f);
	char why[512];
	if (labreport_unvouched(out, why, sizeof why)) {
		fputs("; ", o->f);
		tout_printf(o, TOUT_BOLD_RED, "the lab cannot vouch for this result: %s", why);
	}
	fputs(".\n", o->f);
}


/* The page into f (closed here): the whole page, or -1 and it is dropped. */
static int write_page(FILE *f, const json_t *report, const char *rep, const char *html,
                      char *err, size_t errlen)
{
	int rc = render_html(f, report, rep, err, errlen);
	if (fflush(f) != 0 || ferror(f)) {
		if (!rc)
			snprintf(err, errlen, "%s: %s", html, strerror(errno));
		rc = -1;
	}
	if (fclose(f) != 0 && !rc) {
		snprintf(err, errlen, "%s: %s", html, strerror(errno));
		rc = -1;
	}
	return rc;
}

/*
 * In the child, without privileges: analyze the capture, judge, compare
 * with the baseline, write JUnit, TAP, the page, the comparison and the
 * report into the files the parent opened, print the table. Returns the
 * exit code.
 */
int audit_outputs(struct privsep *ps, struct run_outcome *out, void *arg)
{
	struct audit_out *w = arg;
	struct dr_result cmp = { 0 };
	bool have_cmp = false;
	json_t *report = NULL;
	char err[1024];
	struct tout o;
	int rc;

	enum run_status st = run_conclude(out, err, sizeof err);
	if (st != RUN_OK) {
		tout_fprintf(stderr, PROG ": %s\n", err);
		if (w->tap)
			tap_bail_out(stdout, err);
		return labcli_exit_code(st);
	}
	if (!(report = labcli_report("audit", w->cap, out))) {
		tout_fprintf(stderr, PROG ": out of memory building the report\n");
		return LL_EXIT_ENV;
	}
	rc = labreport_exit_code(out);
	if (w->base) {
		char text[1400];
		size_t len;
		if (dr_compare(w->base, report, w->basepath, w->rep, w->tols, w->ntols, &cmp,
		               err, sizeof err) < 0) {
			tout_fprintf(stderr, PROG ": --baseline: %s\n", err);
			rc = LL_EXIT_USAGE;
			goto out;
		}
		have_cmp = true;
		if (rc != LL_EXIT_UNVOUCHED)
			rc = cmp.regressions ? LL_EXIT_FAIL : LL_EXIT_OK;
		/* the verdict says what decided the exit status */
		labreport_verdict_text(out, text, sizeof text);
		len = strlen(text);
		if (cmp.regressions)
			snprintf(text + len, sizeof text - len, "; against the baseline %.300s: %zu "
			         "figure%s regressed", w->basepath, cmp.regressions,
			         cmp.regressions == 1 ? "" : "s");
		else
			snprintf(text + len, sizeof text - len, "; no regression against the baseline %.300s",
			         w->basepath);
		if (report_set_verdict(report, labreport_hazard(out), rc, text) < 0) {
			tout_fprintf(stderr, PROG ": out of memory building the report\n");
			rc = LL_EXIT_ENV;
			goto out;
		}
	}
	/* what goes beside the report first: when it cannot be written (exit
	 * 3), the report's verdict says so and keeps the exit status */
	bool bad = false;
	if (w->open_err[0]) {
		snprintf(err, sizeof err, "%s", w->open_err);
		bad = true;
	}
	if (!bad && have_cmp) {
		if (write_comparison(&cmp, w->basepath, w->rep, privsep_file(ps, w->i_djs), w->djs,
		                     privsep_file(ps, w->i_dtxt), w->dtxt, err, sizeof err) < 0) {
			bad = true;
		} else {
			privsep_done(ps, w->i_djs);
			privsep_done(ps, w->i_dtxt);
		}
	}
	if (!bad && w->junit) {
		if (junit_write_to(privsep_file(ps, w->i_junit), out, have_cmp ? &cmp : NULL,
		                   w->junit, err, sizeof err) < 0)
			bad = true;
		else
			privsep_done(ps, w->i_junit);
	}
	if (!bad) {
		if (write_page(privsep_file(ps, w->i_html), report, w->rep, w->html,
		               err, sizeof err) < 0)
			bad = true;
		else
			privsep_done(ps, w->i_html);
	}
	if (bad) {
		tout_fprintf(stderr, PROG ": %s\n", err);
		rc = LL_EXIT_ENV;
	} else if (w->tap && tap_write(stdout, out, have_cmp ? &cmp : NULL) < 0) {
		snprintf(err, sizeof err, "standard output: %s", strerror(errno));
		tout_fprintf(stderr, PROG ": %s\n", err);
		rc = LL_EXIT_ENV;
	}
	if (labcli_write_report(ps, w->i_rep, report, w->rep, rc, err, sizeof err) < 0) {
		tout_fprintf(stderr, PROG ": %s\n", err);
		rc = LL_EXIT_ENV;
		goto out;
	}
	if (rc == LL_EXIT_ENV)
		goto out;
	if (!w->quiet) {
		if (tout_init(&o, w->tap ? stderr : stdout, w->mode) < 0) {
			tout_fprintf(stderr, PROG ": out of memory\n");
			rc = LL_EXIT_ENV;
			goto out;
		}
		char where[LLADDR_PORTSTRLEN + 8];
		lladdr_text_port(out->address, out->port, where, sizeof where);
		if (out->kind == RUN_TARGET_BUILTIN)
			tout_fprintf(o.f, "audit of the reference target, close policy %s, at %s\n\n",
			             out->policy, where);
		else
			tout_fprintf(o.f, "audit of %s at %s\n\n", out->command ? out->command : "the target",
			             where);
		table(&o, out);
		if (have_cmp) {
			fputs("baseline: ", o.f);
			if (cmp.regressions)
				tout_printf(&o, TOUT_BOLD_RED, "REGRESSION: %zu figure%s got worse beyond %s "
				            "tolerance against %s", cmp.regressions,
				            cmp.regressions == 1 ? "" : "s",
				            cmp.regressions == 1 ? "its" : "their", w->basepath);
			else
				tout_printf(&o, TOUT_BOLD_GREEN, "no regression against %s", w->basepath);
			tout_fprintf(o.f, " (%zu better, %zu worse within tolerance); see %s\n",
			             cmp.better, cmp.worse, w->dtxt);
		}
		tout_fprintf(o.f, "report: %s\npage:   %s\ncapture: %s\n", w->rep, w->html, w->cap);
		tout_close(&o);
	}
out:
	dr_free(&cmp);
	json_decref(report);
	return rc;
}
