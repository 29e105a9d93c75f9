/*
 * report.h - the JSON report (docs/report-format.md, checked against
 * reports/schema/report.schema.json) built from an analyzer's results.
 *
 * The analyzer knows nothing about JSON; this module turns what it found
 * into jansson values, using the analyzer's own *_name() functions for
 * every enumerated word, and writes them to disk atomically.
 *
 * Times in the report are seconds relative to input.start_time (the first
 * frame's timestamp); durations are seconds. Member order follows the
 * format document, so reports read top-down: tool, input, summary,
 * findings, fin_wait_2, connections, verdict.
 *
 * Ownership: every function returning json_t * hands the caller one
 * reference (json_decref() it). Functions taking a json_t * borrow it.
 * Returns NULL only when memory runs out.
 */
#ifndef LL_REPORTS_REPORT_H
#define LL_REPORTS_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "analyzer/analyzer.h"

#define REPORT_VERSION 1

/* Series points per side given to the analyzer (az_config.max_series) by
 * report users: a chart needs no more, and a million-point series would
 * cost more memory as JSON than the whole analysis. */
#define REPORT_MAX_SERIES 16384

/* What the report says about where the packets came from and how they were
 * read. Every pointer may be NULL (written as null); nothing is kept. */
struct report_input {
	const char *command;        /* "analyze", "run", "audit" */
	const char *source;         /* file path ("-": standard input) or
	                               interface name */
	bool live;                  /* source is an interface */
	const char *link_type;      /* cap_datalink_name() */
	const char *filter;         /* BPF expression */
	const uint16_t *server_ports;
	size_t n_server_ports;
	uint64_t count;             /* -c limit, 0: none */
	double duration;            /* --duration limit, 0: none */
	const char *read_error;     /* set when reading stopped on an error:
	                               the report covers the frames before it */
	bool kernel_stats;          /* live: the kernel's counters below were
	                               read (else they are written as null) */
	uint64_t kernel_dropped;    /* frames the kernel dropped, its capture
	                               buffer full (pcap_stats ps_drop) */
	uint64_t interface_dropped; /* frames the interface dropped (ps_ifdrop) */
	int exit_code;              /* what the command exits with, written as
	                               verdict.exit_code (0, 1 with
	                               --fail-on-hazard, 2 after a read error) */
	time_t generated_at;        /* 0: now */
	const json_t *input_extra;  /* members added at the end of "input"
	                               (borrowed; NULL: none): what the
	                               capture reader knows (files, unsupported
	                               frames by kind, pcapng interfaces) */
};

/*
 * The whole report object for `analyze` after az_finish(): report_version,
 * tool, generated_at, command, input, options, summary, findings,
 * fin_wait_2, connections (every retained connection, with its timeline)
 * and verdict (hazard = any rst_before_ack finding, exit_code in->exit_code; the text
 * says the analysis is incomplete when the kernel or the interface
 * dropped frames of a live capture).
 * Lab reports add "lab" and "scenarios" and call report_set_verdict().
 */
json_t *report_analysis(const struct az *az, const struct report_input *in);

/*
 * One connection record (the shape of connections[] and of each line of
 * `--connections` JSON Lines). t0 is input.start_time (absolute seconds).
 * with_timeline adds the "timeline" member (only retained connections
 * carry one; a connection without packets gets an empty list).
 */
json_t *report_conn(const struct az_conn *c, double t0, bool with_timeline);

/*
 * Replace the verdict and move it to the end of the object:
 * { "hazard": hazard, "exit_code": exit_code, "text": text }.
 * Returns 0, or -1 when memory runs out.
 */
int report_set_verdict(json_t *report, bool hazard, int exit_code,
                       const char *text);

/*
 * Write a report as indented JSON (2 spaces, member order kept) plus a
 * newline. path "-" is standard output. A regular file is written to a
 * temporary file beside it and renamed over it, so readers never see half a
 * report; anything else (/dev/null, a FIFO) is written in place.
 * Returns 0, or -1 with "what: detail" in err.
 */
int report_write(const json_t *report, const char *path, char *err,
                 size_t errlen);

/*
 * Like report_write(report_analysis(az, in)), but the connection records
 * are built and written one at a time, so memory stays flat however many
 * connections were retained. Same bytes as the two-step form.
 */
int report_write_analysis(const struct az *az, const struct report_input *in,
                          const char *path, char *err, size_t errlen);

/*
 * For a caller that must open its report before it gives up root
 * (`analyze -i`, reports/privdrop.h): open path for writing now, in place
 * (created or truncated, as tcpdump -w does; "-" is standard output).
 * No temporary file and rename here: a process that is no longer root may
 * not rename in a root-owned directory. Returns NULL with "write report:
 * PATH: why" in err.
 */
FILE *report_open_early(const char *path, char *err, size_t errlen);

/* report_write_analysis() into f from report_open_early(); closes f
 * (standard output is only flushed), also on failure. path is for
 * messages. */
int report_write_analysis_to(FILE *f, const struct az *az, const struct report_input *in,
                             const char *path, char *err, size_t errlen);

/* report_write() into f, opened before privileges were dropped
 * (reports/privsep.h); closes f (standard output is only flushed), also on
 * failure. path is for messages. */
int report_write_to(FILE *f, const json_t *report, const char *path, char *err,
                    size_t errlen);

/* One compact JSON line for `--connections`. Returns 0, -1 on a write or
 * memory error (errno set). */
int report_conn_line(FILE *f, const struct az_conn *c, double t0);

#endif
