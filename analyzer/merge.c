/*
 * merge.c - several captures merged by timestamp (see merge.h).
 *
 * The merge keeps each file's next record (its "head") and a binary heap
 * of the files ordered by (head timestamp, file number): the root is the
 * record mergecap would write next. Comparing the timeval's seconds and
 * microseconds as integers keeps the order exact (no double rounding).
 * Taking a record feeds it to the analyzer, reads that file's next record
 * and sifts it down: log2(files) comparisons a record.
 */
#include "analyzer/merge.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_PROGRESS_MASK 0xffffu

struct ms_file {
	struct cap *c;
	const char *path;
	struct cap_frame head;      /* valid while live */
	bool live;                  /* head holds a record */
	uint64_t records;           /* handed to the analyzer */
	struct ms_run *runs;
	size_t n_runs, cap_runs;
	bool runs_truncated;
};

struct ms {
	struct ms_file *f;
	size_t n;
	size_t *heap;               /* file numbers, a min-heap on heads */
	size_t n_heap;
};

struct ms *ms_open(const char *const *paths, size_t n, char *err, size_t errlen)
{
	struct ms *m;
	size_t stdin_uses = 0;

	if (n == 0) {
		snprintf(err, errlen, "capture: no file name");
		return NULL;
	}
	if (n > MS_MAX_FILES) {
		snprintf(err, errlen, "-r: at most %d files, found %zu",
		         MS_MAX_FILES, n);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		stdin_uses += strcmp(paths[i], "-") == 0;
	if (stdin_uses > 1) {
		snprintf(err, errlen, "-r: standard input (\"-\") can be read once");
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		goto oom;
	m->f = calloc(n, sizeof(*m->f));
	m->heap = calloc(n, sizeof(*m->heap));
	if (!m->f || !m->heap)
		goto oom;
	m->n = n;
	for (size_t i = 0; i < n; i++) {
		m->f[i].path = paths[i];
		m->f[i].c = cap_open_offline(paths[i], err, errlen);
		if (!m->f[i].c)
			goto err;
	}
	return m;
oom:
	snprintf(err, errlen, "capture: out of memory");
err:
	ms_close(m);
	return NULL;
}

int ms_set_filter(struct ms *m, const char *expr, char *err, size_t errlen)
{
	for (size_t i = 0; i < m->n; i++)
		if (cap_set_filter(m->f[i].c, expr, err, errlen) != 0)
			return -1;
	return 0;
}

/* The map: packet idx is record rec of file i. */
static void note_run(struct ms_file *f, uint64_t idx, uint64_t rec)
{
	struct ms_run *r = f->n_runs ? &f->runs[f->n_runs - 1] : NULL;

	if (r && r->first_packet + r->count == idx &&
	    r->first_record + r->count == rec) {
		r->count++;
		return;
	}
	if (f->runs_truncated)
		return;
	if (f->n_runs == MS_MAX_RUNS) {
		f->runs_truncated = true;
		return;
	}
	if (f->n_runs == f->cap_runs) {
		size_t nc = f->cap_runs ? f->cap_runs * 2 : 16;
		struct ms_run *nr = realloc(f->runs, nc * sizeof(*nr));

		if (!nr) {
			f->runs_truncated = true;  /* the map is cut, said so */
			return;
		}
		f->runs = nr;
		f->cap_runs = nc;
	}
	f->runs[f->n_runs++] = (struct ms_run){ idx, rec, 1 };
}

/* a's head comes before b's: earlier timestamp, or the same and a was
 * given first */
static bool before(const struct ms *m, size_t a, size_t b)
{
	const struct timeval *x = &m->f[a].head.h.ts, *y = &m->f[b].head.h.ts;

	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec;
	if (x->tv_usec != y->tv_usec)
		return x->tv_usec < y->tv_usec;
	return a < b;
}

static void sift_down(struct ms *m, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, s = i, t;

		if (l < m->n_heap && before(m, m->heap[l], m->heap[s]))
			s = l;
		if (r < m->n_heap && before(m, m->heap[r], m->heap[s]))
			s = r;
		if (s == i)
			return;
		t = m->heap[i];
		m->heap[i] = m->heap[s];
		m->heap[s] = t;
		i = s;
	}
}

static void sift_up(struct ms *m, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2, t;

		if (!before(m, m->heap[i], m->heap[p]))
			return;
		t = m->heap[i];
		m->heap[i] = m->heap[p];
		m->heap[p] = t;
		i = p;
	}
}

/* File i's next record into its head: 1, 0 at its end, -1 error. */
static int advance(struct ms *m, size_t i, char *err, size_t errlen)
{
	int rc = cap_next(m->f[i].c, &m->f[i].head, err, errlen);

	m->f[i].live = rc == 1;
	return rc;
}

int ms_run(struct ms *m, struct az *az, const struct cap_limits *lim,
           char *err, size_t errlen)
{
	static const struct cap_limits none;
	uint64_t idx = 0, fed = 0;

	if (!lim)
		lim = &none;
	if (m->n == 1) {
		/* one file: cap_run()'s reader thread and in-place reader */
		uint64_t before_n = az_stats(az)->packets;
		int rc = cap_run(m->f[0].c, az, lim, err, errlen);
		uint64_t got = az_stats(az)->packets - before_n;

		if (got > 0) {
			m->f[0].runs = calloc(1, sizeof(*m->f[0].runs));
			if (m->f[0].runs) {
				m->f[0].runs[0] = (struct ms_run){ before_n + 1, 1, got };
				m->f[0].n_runs = m->f[0].cap_runs = 1;
			} else {
				m->f[0].runs_truncated = true;
			}
		}
		m->f[0].records = got;
		return rc;
	}
	idx = az_stats(az)->packets;
	m->n_heap = 0;
	for (size_t i = 0; i < m->n; i++) {
		int rc = advance(m, i, err, errlen);

		if (rc < 0)
			return -1;
		if (rc == 1) {
			m->heap[m->n_heap++] = i;
			sift_up(m, m->n_heap - 1);
		}
	}
	while (m->n_heap > 0) {
		size_t i = m->heap[0];
		struct ms_file *f = &m->f[i];
		int rc;

		if (lim->stop && *lim->stop)
			break;
		if (lim->count && fed >= lim->count)
			break;
		idx++;
		fed += !f->head.skip;
		f->records++;
		note_run(f, idx, f->head.record);
		cap_feed(f->c, az, &f->head);
		if (lim->progress && (idx & MS_PROGRESS_MASK) == 0)
			lim->progress(idx, 0, 0, lim->progress_arg);
		/* the limit is looked at before each read, as cap_run() does:
		 * a damaged record after it is no error */
		if (lim->count && fed >= lim->count)
			break;
		rc = advance(m, i, err, errlen);
		if (rc < 0)
			return -1;
		if (rc == 0)
			m->heap[0] = m->heap[--m->n_heap];
		sift_down(m, 0);
	}
	return 0;
}

size_t ms_count(const struct ms *m) { return m->n; }
struct cap *ms_cap(const struct ms *m, size_t i) { return i < m->n ? m->f[i].c : NULL; }
const char *ms_path(const struct ms *m, size_t i) { return i < m->n ? m->f[i].path : NULL; }

uint64_t ms_records(const struct ms *m, size_t i)
{
	return i < m->n ? m->f[i].records : 0;
}

size_t ms_runs(const struct ms *m, size_t i, const struct ms_run **runs,
               bool *truncated)
{
	if (i >= m->n) {
		*runs = NULL;
		*truncated = false;
		return 0;
	}
	*runs = m->f[i].runs;
	*truncated = m->f[i].runs_truncated;
	return m->f[i].n_runs;
}

int ms_locate(const struct ms *m, uint64_t idx, size_t *file,
              uint64_t *record)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct ms_file *f = &m->f[i];
		size_t lo = 0, hi = f->n_runs;

		/* runs are in packet order: the last one starting at or
		 * before idx */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (f->runs[mid].first_packet <= idx)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo > 0 && idx < f->runs[lo - 1].first_packet + f->runs[lo - 1].count) {
			*file = i;
			*record = f->runs[lo - 1].first_record +
			          (idx - f->runs[lo - 1].first_packet);
			return 0;
		}
	}
	return -1;
}

uint64_t ms_total_size(const struct ms *m)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < m->n; i++) {
		uint64_t s = cap_file_size(m->f[i].c);

		if (s == 0)
			return 0;
		sum += s;
	}
	return sum;
}

void ms_close(struct ms *m)
{
	if (!m)
		return;
	for (size_t i = 0; m->f && i < m->n; i++) {
		cap_close(m->f[i].c);
		m->f[i].c = NULL;
		free(m->f[i].runs);
		m->f[i].runs = NULL;
	}
	free(m->f);
	m->f = NULL;
	free(m->heap);
	m->heap = NULL;
	free(m);
}
