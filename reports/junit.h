/*
 * junit.h - a lab run (`run`, `audit`) as JUnit XML for CI systems: one
 * testsuite for the target, one testcase per scenario, a <failure> per
 * failed expectation with its script line and detail, the verdict in
 * <system-out>; a testcase "lab" with an <error> when the lab cannot vouch
 * for the result, and one named "baseline" with a <failure> per regression
 * of `audit --baseline` (the content is citest.h's, shared with TAP).
 */
#ifndef LL_REPORTS_JUNIT_H
#define LL_REPORTS_JUNIT_H

#include <stddef.h>
#include <stdio.h>

#include "lab/run.h"

struct dr_result;

/* Write o (and cmp, the baseline comparison, or NULL) to path. Returns 0,
 * or -1 with err set ("PATH: why"). */
int junit_write(const struct run_outcome *o, const struct dr_result *cmp, const char *path,
                char *err, size_t errlen);
/* The same into f (opened before privileges were dropped); closes f.
 * path is for messages. */
int junit_write_to(FILE *f, const struct run_outcome *o, const struct dr_result *cmp,
                   const char *path, char *err, size_t errlen);

#endif
