/*
 * tap.h - a lab run (`run --tap`, `audit --tap`) as TAP version 13 (the
 * Test Anything Protocol, testanything.org/tap-version-13-specification)
 * for CI systems and harnesses that read it (prove, tap-junit, GitLab via
 * converters): the same content as JUnit (citest.h): one test point per
 * scenario, "not ok" with a YAML block naming each failed expectation's
 * line and detail; a point "lab" (not ok, severity error) when the lab
 * cannot vouch for the result; a point "baseline" with the regressions of
 * `audit --baseline`; the verdict as a closing comment.
 */
#ifndef LL_REPORTS_TAP_H
#define LL_REPORTS_TAP_H

#include <stdio.h>

#include "lab/run.h"

struct dr_result;

/* Write o (and cmp, the baseline comparison, or NULL) to f. Returns 0, or
 * -1 when f reports a write error (errno kept). */
int tap_write(FILE *f, const struct run_outcome *o, const struct dr_result *cmp);

/* When the run could not happen (exit 2 or 3 after the options were
 * taken: not root, a target that would not start, an interrupt): the TAP
 * way to say the tests could not run, "TAP version 13\nBail out! WHY\n",
 * WHY made printable. */
void tap_bail_out(FILE *f, const char *why);

#endif
