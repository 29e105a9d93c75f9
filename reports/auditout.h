/*
 * auditout.h - `lingerlab audit`'s outputs, written by the analysis child
 * (reports/privsep.h) once the lab is gone: report.json, report.html,
 * diff.json and diff.txt (--baseline), the JUnit file, TAP, and the table.
 */
#ifndef LL_REPORTS_AUDITOUT_H
#define LL_REPORTS_AUDITOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lab/run.h"
#include "reports/diffrep.h"
#include "reports/privsep.h"
#include "reports/textout.h"

/* What the analysis child needs (privsep.h). */
struct audit_out {
	const char *cap, *rep, *html, *djs, *dtxt, *junit, *basepath;
	json_t *base;
	const struct dr_tol_arg *tols;
	size_t ntols;
	bool tap, quiet;
	enum tout_color_mode mode;
	size_t i_rep, i_html, i_djs, i_dtxt, i_junit;
	char open_err[1024];        /* a file beside the report could not be opened */
};

/*
 * The privsep_run() callback (arg: a struct audit_out whose i_* are the
 * files the parent added; open_err set when one beside the report could
 * not be opened: the report's verdict says so). run_conclude, the
 * baseline comparison, every file, the table. Returns the exit code.
 */
int audit_outputs(struct privsep *ps, struct run_outcome *out, void *arg);

#endif
