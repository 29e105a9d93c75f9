/*
 * fw2.c - FIN_WAIT_2 aggregate for one side (see fw2.h).
 */
#include "analyzer/fw2.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void fw2_init(struct fw2 *f, size_t max_series)
{
	memset(f, 0, sizeof(*f));
	/* at least 2 points, so thinning by pairs always makes room */
	f->max_series = max_series ? max_series : (size_t)1 << 20;
	if (f->max_series < 2)
		f->max_series = 2;
	f->stride = 1;
}

/* Append a point to the stored series, thinning when the cap is hit. */
static void series_store(struct fw2 *f, struct az_fw2_point p)
{
	if (f->n_pts == f->cap_pts) {
		size_t i, j;

		if (f->cap_pts < f->max_series) {
			size_t ncap = f->cap_pts ? f->cap_pts * 2 : 256;
			struct az_fw2_point *np;

			if (ncap > f->max_series)
				ncap = f->max_series;
			np = realloc(f->pts, ncap * sizeof(*np));
			if (!np) {
				f->oom = true;
				return;
			}
			f->pts = np;
			f->cap_pts = ncap;
		} else {
			/* Full: merge neighbours pairwise, keeping the earlier
			 * time and the larger count, so the peak survives. */
			for (i = 0, j = 0; i < f->n_pts; i += 2, j++) {
				struct az_fw2_point m = f->pts[i];
				if (i + 1 < f->n_pts && f->pts[i + 1].n > m.n)
					m.n = f->pts[i + 1].n;
				f->pts[j] = m;
			}
			f->n_pts = j;
			f->stride *= 2;
			f->thinned = true;
		}
	}
	f->pts[f->n_pts++] = p;
}

/* Take one raw (exact) point: stored as is until the series was thinned,
 * then merged `stride` at a time. */
static void series_add(struct fw2 *f, double t, uint32_t n)
{
	if (f->have_last && f->last_n == n)
		return; /* no step */
	f->have_last = true;
	f->last_n = n;
	if (!f->thinned) {
		series_store(f, (struct az_fw2_point){ .t = t, .n = n });
		return;
	}
	if (f->acc_count == 0) {
		f->acc.t = t;
		f->acc.n = n;
	} else if (n > f->acc.n) {
		f->acc.n = n;
	}
	if (++f->acc_count >= f->stride) {
		series_store(f, f->acc);
		f->acc_count = 0;
	}
}

/* The value at cur_t is final: record it. */
static void commit(struct fw2 *f)
{
	if (!f->have_cur)
		return;
	if (f->cur_n > f->peak) {
		f->peak = f->cur_n;
		f->peak_time = f->cur_t;
	}
	series_add(f, f->cur_t, f->cur_n);
}

static void step(struct fw2 *f, double t, int delta)
{
	if (!f->have_cur || t != f->cur_t) {
		commit(f);
		f->have_cur = true;
		f->cur_t = t;
		f->cur_rising = false;
	} else if (delta < 0 && f->cur_rising) {
		/* Sockets entered and now one leaves within one timestamp:
		 * the high point is real (in capture order they were all in
		 * FIN_WAIT_2), so it becomes a point of its own, a zero-width
		 * step, and counts for the peak. Without it a socket that
		 * enters on the capture's last frame, and so ends there as
		 * capture_end, left count 1 with peak 0. */
		commit(f);
	}
	if (delta < 0 && f->cur_n == 0)
		return; /* an end without a start: ignore rather than wrap */
	f->cur_n = (uint32_t)((int64_t)f->cur_n + delta);
	f->cur_rising = delta > 0;
}

void fw2_start(struct fw2 *f, double t)
{
	f->count++;
	step(f, t, +1);
}

static size_t hist_bucket(double d)
{
	double b;

	if (!(d >= 1e-6))
		return 0;
	b = log2(d / 1e-6) * FW2_HIST_SUB;
	if (b >= (double)(FW2_HIST_N - 2))
		return FW2_HIST_N - 1;
	return 1 + (size_t)b;
}

/* A representative duration for bucket i: its geometric middle. */
static double hist_value(size_t i)
{
	if (i == 0)
		return 0.0;
	return 1e-6 * exp2(((double)(i - 1) + 0.5) / FW2_HIST_SUB);
}

void fw2_end(struct fw2 *f, double start, double t, enum az_fw2_end how)
{
	double d = t - start;

	if (d < 0)
		d = 0;
	step(f, t, -1);
	if ((unsigned)how < AZ_NFW2_ENDS)
		f->endings[how]++;
	if (f->n_dur < FW2_EXACT)
		f->exact[f->n_dur] = d;
	f->hist[hist_bucket(d)]++;
	f->n_dur++;
	if (d > f->max)
		f->max = d;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile p (0..100) of the recorded durations. */
static double percentile(struct fw2 *f, double p)
{
	uint64_t rank, seen = 0;
	size_t i;
	double v;

	if (f->n_dur == 0)
		return 0.0;
	rank = (uint64_t)ceil(p / 100.0 * (double)f->n_dur);
	if (rank < 1)
		rank = 1;
	if (f->n_dur <= FW2_EXACT)
		return f->exact[rank - 1]; /* sorted by fw2_summary */
	for (i = 0; i < FW2_HIST_N; i++) {
		seen += f->hist[i];
		if (seen >= rank)
			break;
	}
	v = hist_value(i < FW2_HIST_N ? i : FW2_HIST_N - 1);
	return v > f->max ? f->max : v;
}

const struct az_fw2_summary *fw2_summary(struct fw2 *f)
{
	struct az_fw2_summary *s = &f->sum;

	commit(f);
	if (f->thinned && f->acc_count > 0) {
		series_store(f, f->acc);
		f->acc_count = 0;
	}
	if (f->n_dur <= FW2_EXACT)
		qsort(f->exact, (size_t)f->n_dur, sizeof(double), cmp_double);
	memset(s, 0, sizeof(*s));
	s->count = f->count;
	s->peak = f->peak;
	s->peak_time = f->peak_time;
	s->p50 = percentile(f, 50.0);
	s->p90 = percentile(f, 90.0);
	s->max = f->max;
	memcpy(s->endings, f->endings, sizeof(s->endings));
	s->series = f->pts;
	s->n_series = f->n_pts;
	s->series_exact = !f->thinned && !f->oom;
	return s;
}

void fw2_free(struct fw2 *f)
{
	free(f->pts);
	f->pts = NULL;
	f->n_pts = f->cap_pts = 0;
}
