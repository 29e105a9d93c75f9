/*
 * merge.h - several saved captures read as one, in timestamp order, as
 * Wireshark's mergecap merges them: a k-way merge that always takes the
 * record with the earliest timestamp among the files' next records, and on
 * equal timestamps the one from the file given first. So the files of a
 * rotating tcpdump set (-C, -G, -W) can be given in any order, and two
 * captures of one conversation from two points interleave as they
 * happened. Each file keeps its own link type and filter program.
 * Timestamps are compared in microseconds (libpcap scales nanosecond
 * files): two records of nanosecond files within one microsecond keep the
 * order the files were given, where mergecap orders them by nanosecond.
 *
 * Packet indexes (analyzer.h) count the merged stream: index N is the Nth
 * frame of `mergecap -w merged.pcap FILES...`. Where the report names a
 * packet, ms_locate() (and the runs it rests on) says which file and which
 * record of it that is.
 *
 * One file is read exactly as cap_run() reads it (the reader thread, the
 * in-place reader); several are read by the calling thread, one record
 * ahead per file, each in place where cap_run() would read it so
 * (cap_next()), else through libpcap.
 *
 * Errors: NULL / -1 with "what: detail" in err, as capture.h.
 */
#ifndef LL_ANALYZER_MERGE_H
#define LL_ANALYZER_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"
#include "capture.h"

/* Files at most: each holds a descriptor and a libpcap buffer open. */
#define MS_MAX_FILES 1024
/* Runs kept per file (see ms_runs()); past them the file's map is cut. */
#define MS_MAX_RUNS 4096

struct ms; /* opaque */

/* A run: packets first_packet .. first_packet + count - 1 of the merged
 * stream are records first_record .. of one file (all 1-based). */
struct ms_run {
	uint64_t first_packet;
	uint64_t first_record;
	uint64_t count;
};

/* Open every file (cap_open_offline(): compressed, standard input for
 * one "-" at most). Fails for the first that cannot be opened, with its
 * message, or for more than MS_MAX_FILES files. */
struct ms *ms_open(const char *const *paths, size_t n, char *err, size_t errlen);

/* The filter, compiled for each file's link type. */
int ms_set_filter(struct ms *m, const char *expr, char *err, size_t errlen);

/* Read all files merged, handing frames to az as cap_run() does (lim as
 * there; lim->count counts frames handed to the analyzer). A read error
 * ends the whole run ("FILE: record N: why"); the frames before it were
 * analyzed. */
int ms_run(struct ms *m, struct az *az, const struct cap_limits *lim,
           char *err, size_t errlen);

size_t ms_count(const struct ms *m);
struct cap *ms_cap(const struct ms *m, size_t i);      /* file i's reader */
const char *ms_path(const struct ms *m, size_t i);
uint64_t ms_records(const struct ms *m, size_t i);      /* records read */

/* File i's runs in packet order; *truncated when more than MS_MAX_RUNS
 * were needed (the map then stops at the last run kept). */
size_t ms_runs(const struct ms *m, size_t i, const struct ms_run **runs,
               bool *truncated);

/* Which file and record packet index idx is: 0 and *file, *record set, or
 * -1 when no run kept says so. */
int ms_locate(const struct ms *m, uint64_t idx, size_t *file,
              uint64_t *record);

/* The sum of the files' sizes (0 if one is unknown). */
uint64_t ms_total_size(const struct ms *m);

void ms_close(struct ms *m);

#endif
