/*
 * labreport.h - a run's outcome (lab/run.h) as JSON: the report's `lab`
 * and `scenarios` members (docs/report-format.md, "Lab reports"), the
 * verdict, and the short human summary `lingerlab run` prints.
 *
 * The lab knows nothing about JSON; this module is where its plain structs
 * become report members. Times are seconds relative to t0, the report's
 * input.start_time (the capture's first frame); a time before it (the
 * kernel sample taken just before the first SYN) is written as 0.
 *
 * Ownership: functions returning json_t * hand the caller one reference;
 * the outcome is only read.
 */
#ifndef LL_REPORTS_LABREPORT_H
#define LL_REPORTS_LABREPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "lab/run.h"

/* Client responses listed per scenario at most (the count is in the text). */
#define LABREPORT_MAX_RESPONSES 2000
/* Per-connection notes listed per scenario at most. */
#define LABREPORT_MAX_NOTES 50

/* input.start_time of the report for this outcome (first frame; else the
 * first scenario's start). */
double labreport_t0(const struct run_outcome *o);

json_t *labreport_lab(const struct run_outcome *o, double t0);
json_t *labreport_scenarios(const struct run_outcome *o, double t0);

/*
 * Whether the lab can vouch for the outcome. It cannot when a kernel on
 * the client side answered for the raw client (leaked RSTs), when the
 * capture dropped packets (pcap_stats: the analysis misses them), when
 * reading the capture back stopped early, or when the lab could not be
 * removed. Returns true with the reasons, comma-separated, in why (e.g.
 * "2 leaked RSTs from the client side, the capture dropped 3 packets"),
 * false with why "".
 */
bool labreport_unvouched(const struct run_outcome *o, char *why, size_t cap);

/* Process exit code for the outcome: 4 (LL_EXIT_UNVOUCHED) when the lab
 * cannot vouch for it, else 0 all expectations hold, else 1. */
int labreport_exit_code(const struct run_outcome *o);

/* Any server rst_before_ack among the scenarios' connections. */
bool labreport_hazard(const struct run_outcome *o);

/* One sentence for verdict.text, e.g. "1 of 5 scenarios failed: ...". */
void labreport_verdict_text(const struct run_outcome *o, char *buf, size_t cap);

/*
 * Add "lab" and "scenarios" to report (an analysis report of o->az) and
 * set its verdict (report_set_verdict, so it stays last). Returns 0, or -1
 * when memory runs out.
 */
int labreport_add(json_t *report, const struct run_outcome *o);

struct tout;
/*
 * Change a report's verdict after the fact: exit_code becomes exit_code
 * and, when more is not NULL, "; MORE" is added to its text (e.g. a JUnit
 * file that could not be written: exit 3). Keeps verdict.exit_code equal
 * to the exit status when something beside the report fails. Returns 0,
 * or -1 when memory runs out.
 */
int labreport_verdict_amend(json_t *report, int exit_code, const char *more);

/* The failed expectations of one scenario, as `run` and `audit` list
 * them under its row: "    line N: TEXT\n      -> DETAIL\n". */
void labreport_print_failures(const struct tout *t, const struct run_scenario *rs);

/* The human summary: per scenario findings, bytes at risk, lingering,
 * fin_wait_2 peak (analyzer and kernel) and expectations; failed
 * expectations with their detail. Written to t->f, the escaping filter:
 * scenario names, expectation texts and the target's output come from
 * outside. */
void labreport_print_summary(const struct tout *t, const struct run_outcome *o);

/* A kernel sample's counts by TCP state, as the report writes them. */
json_t *labreport_kernel_counts(const uint32_t n[SCN_NKSTATES]);

#endif
