/*
 * junit.h - a lab run (`run`, `audit`) as JUnit XML for CI systems: one
 * testsuite for the target, one testcase per scenario, a <failure> per
 * failed expectation with its script line and detail, the verdict in
 * <system-out>.
 */
#ifndef LL_REPORTS_JUNIT_H
#define LL_REPORTS_JUNIT_H

#include <stddef.h>

#include "lab/run.h"

/* Write o to path. Returns 0, or -1 with err set ("PATH: why"). */
int junit_write(const struct run_outcome *o, const char *path, char *err, size_t errlen);

#endif
