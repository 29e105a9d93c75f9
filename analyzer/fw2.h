/*
 * fw2.h - FIN_WAIT_2 aggregate for one side (server or client): how many
 * sockets of that side were in FIN_WAIT_2 over time, how long each stayed,
 * and how the intervals ended.
 *
 * Events at one timestamp coalesce into one point of the step series,
 * except that a rise followed by a fall within a timestamp keeps the high
 * point as a point of its own (two points with the same time: a zero-width
 * step). So peak, the series' maximum, counts every socket that was in
 * FIN_WAIT_2 at once in capture order, also one that enters on the
 * capture's last frame and ends there as capture_end.
 *
 * Events must come in non-decreasing time order (capture order gives that:
 * every start and end is stamped with the time of the packet that caused
 * it, and capture_end endings come last). The step series is exact until it
 * reaches its cap; then it is thinned by merging neighbours and keeping
 * their maximum, and series_exact becomes false. Durations are kept exactly
 * for the first FW2_EXACT intervals and in a log-bucket histogram (about 4%
 * resolution) beyond, so memory does not grow with the number of
 * connections; max is always exact.
 *
 * Ownership: the series array is owned by the fw2 and freed by fw2_free().
 */
#ifndef LL_ANALYZER_FW2_H
#define LL_ANALYZER_FW2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"

#define FW2_EXACT 4096          /* durations kept exactly */
#define FW2_HIST_SUB 16         /* histogram buckets per power of two */
#define FW2_HIST_OCTAVES 44     /* 1 us .. ~200 days */
#define FW2_HIST_N (1 + FW2_HIST_SUB * FW2_HIST_OCTAVES)

struct fw2 {
	size_t max_series;
	/* step series */
	struct az_fw2_point *pts;
	size_t n_pts, cap_pts;
	bool thinned;
	uint64_t stride;            /* raw points merged into one, when thinned */
	uint64_t acc_count;         /* raw points in the accumulator */
	struct az_fw2_point acc;
	/* the instant being built: events at equal times coalesce */
	bool have_cur;
	double cur_t;
	uint32_t cur_n;             /* concurrent sockets from cur_t on */
	bool cur_rising;            /* the last event of the instant was a start */
	bool have_last;
	uint32_t last_n;            /* value of the last committed raw point */
	/* summary */
	uint64_t count;
	uint32_t peak;
	double peak_time;
	double max;
	uint64_t endings[AZ_NFW2_ENDS];
	uint64_t n_dur;
	double exact[FW2_EXACT];
	uint64_t hist[FW2_HIST_N];
	bool oom;                   /* a series point could not be stored */
	struct az_fw2_summary sum;
};

/* Start empty; max_series 0 means 1<<20. Never fails (no allocation). */
void fw2_init(struct fw2 *f, size_t max_series);

/* A socket entered FIN_WAIT_2 at time t. */
void fw2_start(struct fw2 *f, double t);

/* A socket that entered at `start` left at time t (t >= start). */
void fw2_end(struct fw2 *f, double start, double t, enum az_fw2_end how);

/* Fill and return the summary (series, percentiles). May be called more
 * than once; events after it are still accepted. */
const struct az_fw2_summary *fw2_summary(struct fw2 *f);

void fw2_free(struct fw2 *f);

#endif
