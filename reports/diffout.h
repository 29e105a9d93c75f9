/*
 * diffout.h - a comparison of two reports (diffrep.h) for people and for
 * machines: the text `lingerlab diff` prints (a block per scenario, what
 * got better or worse, REGRESSION lines, the one-line verdict) and the
 * JSON of `diff --json`. `audit --baseline` writes both beside its report.
 */
#ifndef LL_REPORTS_DIFFOUT_H
#define LL_REPORTS_DIFFOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "reports/diffrep.h"

struct tout;

/* One side's value of an item as text ("337 bytes", "10.5 ms", "held",
 * "reset_after_ack", "n/a" when !has); word is the grade name or "". */
void diffout_value_text(char *buf, size_t len, const struct dr_item *it, bool has, double v,
                        const char *word);

/* The comparison as text to o->f: bn and nn name BASE and NEW. Timing
 * differences within the noise band are listed only when verbose (else
 * counted per scope). */
void diffout_text(const struct tout *o, const struct dr_result *r, const char *bn,
                  const char *nn, bool verbose);

/* The comparison as JSON (docs/report-format.md, "diff --json"): a new
 * reference, or NULL when out of memory. */
json_t *diffout_json(const struct dr_result *r, const char *bn, const char *nn);

#endif
