/*
 * findings.h - the words and numbers of a report about its findings
 * (docs/report-format.md): each findings[] member with its sentence, the
 * summary's counts, and the analyze verdict. The rule that flags a RST
 * lives in the analyzer (analyzer/judge.c); this module only says what it
 * decided, the server's view first and then the client's grading of it
 * (client_impact, RFC 5961 acceptance).
 *
 * Ownership as in report.h: a json_t * returned is the caller's one
 * reference; NULL only when memory runs out.
 */
#ifndef LL_REPORTS_FINDINGS_H
#define LL_REPORTS_FINDINGS_H

#include <jansson.h>
#include <stddef.h>

#include "analyzer/analyzer.h"

/* One findings[] member; t0 is input.start_time (absolute seconds). */
json_t *report_finding(const struct az_rst_finding *f, double t0);

/*
 * The finding's "summary" sentence into buf (always terminated, cut at
 * len): the sender's view, then what the peer lived through, e.g.
 * "server RST (packet 17) while 337 response bytes were unacknowledged as
 * far as the server could know; the client had acknowledged all of it
 * before any RST it would accept (reset_after_ack)".
 */
void report_finding_summary(const struct az_rst_finding *f, char *buf, size_t len);

/* The "summary" object of an analysis (after az_finish()). */
json_t *report_summary(const struct az *az);

/*
 * The analyze verdict sentence into buf: the findings and how the clients
 * fared (client_impact), or "no rst_before_ack in N connections", then the
 * server's FIN_WAIT_2 count and peak when there were any.
 */
void report_verdict_text(const struct az *az, char *buf, size_t len);

#endif
