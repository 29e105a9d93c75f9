/*
 * appreport.h - what kernel clients' applications and client programs saw,
 * as the report's per-scenario members `client_kind`, `app`, `program`
 * and `client_kernel_peak`, the samples' `client_states`, and the lines
 * the run's summary prints under a scenario (docs/report-format.md,
 * "Kernel clients and client programs").
 *
 * Same ownership rule as labreport.c: fresh values handed to jansson's
 * json_object_set_new / json_array_append_new are owned by it even on
 * failure.
 */
#ifndef LL_REPORTS_APPREPORT_H
#define LL_REPORTS_APPREPORT_H

#include <jansson.h>
#include <stdio.h>

#include "lab/run.h"

/* Connections listed in `app` at most. */
#define APPREPORT_MAX_CONNS 64

/* Add the members above to scenario object s. Returns 0 or -1. */
int appreport_scenario(json_t *s, const struct run_scenario *rs);

/* The client namespace's counts of one sample (NULL when not sampled). */
json_t *appreport_client_states(const struct run_outcome *o, const struct run_sample *smp);

/* Summary lines for a scenario of a kernel client or a client program
 * (nothing for a raw one), through tout_fprintf. */
void appreport_print(FILE *f, const struct run_scenario *rs);

#endif
