/*
 * citest.h - a lab run (`run`, `audit`) as the test results CI systems
 * read: what JUnit XML (junit.h) and TAP (tap.h) both carry, built once so
 * that the two say the same thing.
 *
 * The content: one test case per scenario, named by the scenario; a
 * failure per failed expectation, with a short message ("line 25: expect
 * no rst_before_ack") and a full text ("FILE:25:1: expect no
 * rst_before_ack: DETAIL"); the run's verdict; and, when the lab cannot
 * vouch for the result (labreport_unvouched: exit 4), one more case named
 * "lab" in error, so a CI dashboard shows a flaky environment apart from a
 * server that failed. With a baseline (`audit --baseline`), one more case
 * named "baseline" with a failure per figure that regressed.
 *
 * Strings here are raw (they come from scenario files, the command line and
 * reports); each writer escapes them for its format (safetext.h's terminal
 * rule first, then XML or YAML quoting).
 */
#ifndef LL_REPORTS_CITEST_H
#define LL_REPORTS_CITEST_H

#include <stdbool.h>
#include <stddef.h>

#include "lab/run.h"

struct dr_result;

/* The target's name for suites and class names: "builtin close", else the
 * --serve command, else "HOST:PORT"/"target". */
void ci_target_name(const struct run_outcome *o, char *buf, size_t cap);

/* Seconds the scenario ran (0 when unknown). */
double ci_case_seconds(const struct run_scenario *rs);

/* Failed expectations of a scenario. */
size_t ci_case_failures(const struct run_scenario *rs);

/* "line N: TEXT" for one failed expectation. */
void ci_failure_message(const struct run_expect_result *r, char *buf, size_t cap);

/* "FILE:LINE:COL: TEXT: DETAIL" for one failed expectation of rs. */
void ci_failure_text(const struct run_scenario *rs, const struct run_expect_result *r,
                     char *buf, size_t cap);

/* When the lab cannot vouch for the result: true, and the "lab" case's
 * message ("the lab could not vouch for this result: 2 leaked RSTs ..."). */
bool ci_lab_error(const struct run_outcome *o, char *buf, size_t cap);

/* One regression of a baseline comparison, in words. */
struct ci_regression {
	char scope[140];    /* scenario name, or "whole report" */
	char figure[200];   /* the figure, or the expectation's text */
	char base[64], new_[64];   /* its values ("0", "412 bytes", "held") */
	char text[600];     /* "SCOPE: FIGURE BASE -> NEW" */
};

/* The regressions of a baseline comparison (cmp may be NULL: none): fills
 * *out with the i-th when out is not NULL and i is below their number.
 * Returns how many there are. */
size_t ci_regression(const struct dr_result *cmp, size_t i, struct ci_regression *out);

#endif
