/*
 * reportfile.h - read a lingerlab JSON report back in (docs/report-format.md)
 * for the commands that show, compare and teach from it: explain, render,
 * diff, audit.
 *
 * A report file is untrusted input like any other: it may be truncated, not
 * JSON at all, JSON of another shape, or a hand-edited report with strange
 * values. rf_load() checks the skeleton (the members every command walks)
 * once; the accessors below never trust a deeper member's type and fall
 * back to a default, so a command can print "?" instead of crashing.
 *
 * Ownership: rf_load() returns one reference (json_decref() it). Every
 * json_t * an accessor returns is borrowed from the root and lives as long
 * as the root. struct rf_timeline owns its packet array (rf_timeline_free).
 */
#ifndef LL_REPORTS_REPORTFILE_H
#define LL_REPORTS_REPORTFILE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest report file we read (a report with 10,000 flagged connections and
 * their timelines stays well below this). */
#define RF_MAX_BYTES (512u << 20)

/*
 * Load the report at path ("-": standard input) and check its skeleton:
 * an object with report_version 1, tool, command, input, summary, findings
 * (array of objects with a string "type"), fin_wait_2, connections (array
 * of objects with an integer "id"), verdict; lab and scenarios, when
 * present, an object and an array of objects with a string "name".
 * Returns the root, or NULL with a one-line message in err:
 *   "PATH: No such file or directory"
 *   "PATH: empty file, not a JSON report"
 *   "PATH:LINE:COL: truncated JSON: <parser's words>"  (input ends early)
 *   "PATH:LINE:COL: invalid JSON: <parser's words>"
 *   "PATH: not a lingerlab report: <what is missing or wrong>"
 */
json_t *rf_load(const char *path, char *err, size_t errlen);

/* Typed member reads; NULL obj or a member of another type gives dflt. */
double rf_num(const json_t *obj, const char *key, double dflt);
bool rf_is_num(const json_t *obj, const char *key);
long long rf_int(const json_t *obj, const char *key, long long dflt);
bool rf_bool(const json_t *obj, const char *key, bool dflt);
const char *rf_str(const json_t *obj, const char *key); /* NULL if none */
json_t *rf_obj(const json_t *obj, const char *key);     /* NULL if none */
json_t *rf_arr(const json_t *obj, const char *key);     /* NULL if none */

/* A number from a JSON value (integer or real), or dflt. */
double rf_val_num(const json_t *v, double dflt);
/* An integer from a JSON value (an integer, or a real with no fraction
 * within range), or dflt. */
long long rf_val_int(const json_t *v, long long dflt);

/* A lab report (`run`, `audit`) has "lab" and "scenarios". */
bool rf_is_lab(const json_t *root);

/* connections[] record with this id, or NULL. */
json_t *rf_conn(const json_t *root, long long id);

/* True if packet idx is among a finding's at_risk_packets. */
bool rf_at_risk(const json_t *finding, long long idx);

/* findings[] entry about connection id (first one), or NULL. */
json_t *rf_finding_for(const json_t *root, long long id);

/* One timeline packet, checked and with its fields decoded. */
enum rf_dir { RF_C2S = 0, RF_S2C = 1 };
struct rf_pkt {
	long long i;        /* packet index in the capture */
	double t;           /* seconds relative to input.start_time */
	enum rf_dir dir;
	char flags[12];     /* tcpdump letters, e.g. "FP." */
	bool syn, fin, rst, ack, psh;
	uint32_t seq, ack_no, len, win;
};

struct rf_timeline {
	struct rf_pkt *pkts;
	size_t n;
	long long omitted;      /* packets cut from the middle */
	long long omitted_after;/* index into pkts after which they were cut,
	                           -1 when nothing was cut */
};

/*
 * Decode conn's "timeline". A connection without one gives n = 0 and
 * returns 0. Returns -1 with "connection ID: timeline packet K: <what>" in
 * err when a packet lacks a field or has one of the wrong type, or memory
 * runs out. Packets whose times go backwards are kept (capture order wins).
 */
int rf_timeline(const json_t *conn, struct rf_timeline *tl, char *err,
                size_t errlen);
void rf_timeline_free(struct rf_timeline *tl);

/* Sum of the integer members of an object such as summary.by_kind. */
long long rf_sum_members(const json_t *obj);

#endif
