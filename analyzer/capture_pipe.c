/*
 * capture_pipe.c - a saved capture through a reader thread.
 *
 * Reading a saved capture (record parsing, the filter, the copies) took
 * a good part of the time (about 40% on the HTTP bench capture, through
 * libpcap), so a reader thread does it while the calling thread analyzes.
 * For a classic pcap file it reads the file in place (reader_fast(),
 * pcapread.h: one pread() per batch, no copy per record); for anything
 * else (pcapng, standard input) through libpcap (reader_main()). The reader
 * puts records into batches; CAP_NBATCH batches go round a ring, handed
 * over under one mutex once per batch (thousands of frames), so locking
 * costs next to nothing per frame; a side that must wait sleeps on a
 * condition variable, never spins.
 *
 * The reader works ahead of the analyzer but never past lim->count frames
 * (it counts those its filter lets through), so it reads no record the
 * single-threaded loop would not read: a pipe that has delivered enough is
 * not waited on, and a damaged record after the limit is no error.
 * Everything the analyzer sees (frames, their order, skip marks, progress
 * positions, the error text) is made by the reader and handed over with
 * the batch; the reader touches nothing else the caller can see.
 */
#include "analyzer/capture_int.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cap_arena_grow(struct prd_buf *a, size_t need)
{
	size_t sz = align_up(need);
	uint8_t *m = realloc(a->mem, sz);

	if (!m)
		return -1;
	a->mem = m;
	a->size = sz;
	return 0;
}

void cap_pipe_free(struct cap_pipe *pp)
{
	if (!pp)
		return;
	for (size_t i = 0; i < pp->nbatch; i++) {
		free(pp->b[i].recs);
		pp->b[i].recs = NULL;
		free(pp->b[i].pre);
		pp->b[i].pre = NULL;
		free(pp->b[i].a.mem);
		pp->b[i].a.mem = NULL;
	}
	pthread_cond_destroy(&pp->freed);
	pthread_cond_destroy(&pp->filled);
	pthread_mutex_destroy(&pp->mu);
	free(pp);
}

/* CPUs this thread may run on (taskset, a container's cpuset). */
static long cpus_usable(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set);
	return sysconf(_SC_NPROCESSORS_ONLN);
}

struct cap_pipe *cap_pipe_new(struct cap *c, const struct cap_limits *lim)
{
	struct cap_pipe *pp = calloc(1, sizeof(*pp));

	if (!pp)
		return NULL;
	/* Initialize all three before any can fail, so cap_pipe_free() may
	 * destroy them; if one fails we do not use the pipe anyway. */
	if (pthread_mutex_init(&pp->mu, NULL) != 0) {
		free(pp);
		return NULL;
	}
	if (pthread_cond_init(&pp->filled, NULL) != 0) {
		pthread_mutex_destroy(&pp->mu);
		free(pp);
		return NULL;
	}
	if (pthread_cond_init(&pp->freed, NULL) != 0) {
		pthread_cond_destroy(&pp->filled);
		pthread_mutex_destroy(&pp->mu);
		free(pp);
		return NULL;
	}
	pp->c = c;
	pp->count = lim->count;
	pp->want_pos = lim->progress != NULL;
	pp->nbatch = c->live ? CAP_LIVE_NBATCH : CAP_NBATCH;
	pp->duration = lim->duration;
	atomic_init(&pp->quit, false);
	atomic_init(&pp->stop_reading, false);
	atomic_init(&pp->hungry, false);
	/* Live frames are decoded by the analyzer's thread: the capturing
	 * thread must keep up with the wire. Decoding on the reader's thread
	 * trades CPU time (the decoded frames cross from core to core: 0.162
	 * against 0.136 s on the bench capture) for wall time (0.096 against
	 * 0.109 s), which only a second core can give. */
	bool predecode = !c->live && cpus_usable() > 1;

	for (size_t i = 0; i < pp->nbatch; i++) {
		pp->b[i].recs = malloc(CAP_BATCH_RECS * sizeof(struct cap_rec));
		pp->b[i].a.mem = malloc(CAP_ARENA);
		pp->b[i].a.size = CAP_ARENA;
		if (predecode)
			pp->b[i].pre = malloc(CAP_BATCH_RECS * sizeof(struct az_pre));
		if (!pp->b[i].recs || !pp->b[i].a.mem || (predecode && !pp->b[i].pre)) {
			cap_pipe_free(pp);
			return NULL;
		}
	}
	return pp;
}

/* Reader: wait for batch number w to be free; NULL once the analyzer quit. */
struct cap_batch *cap_reader_take(struct cap_pipe *pp, uint64_t w)
{
	struct cap_batch *b = NULL;

	pthread_mutex_lock(&pp->mu);
	/* A reader faster than the analyzer would otherwise be woken for
	 * every batch given back, and a wakeup costs the analyzer's thread a
	 * futex call and the sleeping core an interrupt: wait for half the
	 * ring instead. */
	if (pp->nfull == pp->nbatch)
		pp->reader_waits = true;
	while (pp->reader_waits && !atomic_load(&pp->quit))
		pthread_cond_wait(&pp->freed, &pp->mu);
	if (!atomic_load(&pp->quit))
		b = &pp->b[w % pp->nbatch];
	pthread_mutex_unlock(&pp->mu);
	if (b) {
		b->n = 0;
		b->a.pos = 0;
		b->a.end = 0;
		b->end = CAP_MORE;
	}
	return b;
}

/* Reader: hand the batch being filled to the analyzer. */
void cap_reader_give(struct cap_pipe *pp, struct cap_batch *b,
                     enum cap_end end)
{
	b->end = end;
	/* Decoding is a pure function of the bytes: done here, on the
	 * reader's core, the analyzer's thread only tracks connections.
	 * (Prefetching, on the analyzer's thread, the table entries and the
	 * connections of the frames a few ahead measured slower: 0.126 s
	 * against 0.117 s with --connections on the bench capture.) */
	if (b->pre) {
		int dlt = pp->c->dlt;

		for (size_t i = 0; i < b->n; i++) {
			const struct cap_rec *rec = &b->recs[i];

			if (!rec->skip)
				az_predecode(dlt, b->a.mem + rec->off, rec->caplen,
				             rec->len, &b->pre[i]);
		}
	}
	pthread_mutex_lock(&pp->mu);
	pp->nfull++;
	pthread_cond_signal(&pp->filled);
	pthread_mutex_unlock(&pp->mu);
}

/* The batch the fast reader is filling. What changes with every record
 * (the record count, the buffer's pos and end) is kept here, apart from
 * the batch, whose cache line it shares with the neighbouring batches the
 * analyzer is reading; it goes into the batch when it is handed over. */
struct fast_fill {
	struct cap_batch *b;
	struct prd_buf a;
	size_t n;
};

static void fill_start(struct fast_fill *ff, struct cap_batch *b)
{
	ff->b = b;
	ff->a = b->a;           /* cap_reader_take() emptied it */
	ff->n = 0;
}

static void fill_give(struct cap_pipe *pp, struct fast_fill *ff,
                      enum cap_end end)
{
	ff->b->a = ff->a;
	ff->b->n = ff->n;
	cap_reader_give(pp, ff->b, end);
}

/* Reader, fast path: go on in the next batch, with room for need bytes
 * (prd_need()), the bytes read but not parsed yet moving along (if the
 * batch holds no record yet, it just grows). The batch handed over is
 * still read here after the handover (prd_carry() only reads, and so does
 * the analyzer; neither writes it until the reader takes it again,
 * CAP_NBATCH batches later). Returns 0, 1 once the analyzer quit, -1 out
 * of memory. */
static int reader_next_fast(struct cap_pipe *pp, struct fast_fill *ff,
                            uint64_t *w, size_t need)
{
	struct prd_buf old = ff->a;
	size_t unparsed = old.end - old.pos;
	bool moved = false;

	if (need < unparsed)
		need = unparsed;
	if (ff->n > 0) {
		struct cap_batch *nb;

		fill_give(pp, ff, CAP_MORE);
		nb = cap_reader_take(pp, ++*w);
		if (!nb)
			return 1;
		fill_start(ff, nb);
		moved = true;
	}
	if (need > ff->a.size) {
		/* the same batch keeps its bytes; a fresh one has none yet */
		if (cap_arena_grow(&ff->a, need) != 0)
			return -1;
		ff->b->a.mem = ff->a.mem;
		ff->b->a.size = ff->a.size;
	}
	if (moved)
		prd_carry(&old, &ff->a);
	return 0;
}

/* Reader, fast path (a classic pcap file, see pcapread.h): records are
 * read into the batches' arenas and stay where they land, no copy. */
static void *reader_fast(struct cap_pipe *pp)
{
	struct cap *c = pp->c;
	uint64_t records = 0, passed = 0, w = 0;
	enum cap_end end = CAP_EOF;
	struct cap_batch *first = cap_reader_take(pp, w);
	struct fast_fill ff;

	if (!first)
		return NULL;
	fill_start(&ff, first);
	for (;;) {
		enum prd_status st = PRD_FULL;
		struct prd_rec pr;
		size_t need = 0;
		bool skip;
		int rc;

		if (atomic_load_explicit(&pp->quit, memory_order_relaxed))
			return NULL;    /* nobody reads this batch any more */
		if (pp->count && passed >= pp->count)
			break;
		if (ff.n < CAP_BATCH_RECS)
			st = prd_next(pp->rd, &ff.a, &pr);
		if (st == PRD_EOF)
			break;
		if (st == PRD_ERROR) {
			cap_record_err(pp->err, sizeof(pp->err), c, records + 1,
			               prd_error(pp->rd));
			end = CAP_ERROR;
			break;
		}
		if (st == PRD_FULL) {
			if (ff.n < CAP_BATCH_RECS)
				need = prd_need(pp->rd);
			rc = reader_next_fast(pp, &ff, &w, need);
			if (rc > 0)
				return NULL;
			if (rc < 0) {
				cap_record_err(pp->err, sizeof(pp->err), c,
				               records + 1, "out of memory");
				end = CAP_ERROR;
				break;
			}
			continue;
		}
		records++;
		skip = c->have_filter &&
		       pcap_offline_filter(&c->prog, &pr.h,
		                           ff.a.mem + pr.off) == 0;
		passed += !skip;
		put_rec(&ff.b->recs[ff.n++], &pr.h, skip, pr.off);
		if ((records & CAP_PROGRESS_MASK) == 0)
			ff.b->pos = pr.end;
	}
	fill_give(pp, &ff, end);
	return NULL;
}

static void *reader_main(void *arg)
{
	struct cap_pipe *pp = arg;
	struct cap *c = pp->c;
	FILE *f = pp->want_pos ? pcap_file(c->p) : NULL;
	uint64_t records = 0, passed = 0, est_bytes = PCAP_FILE_HDR, w = 0;
	enum cap_end end = CAP_EOF;
	struct cap_batch *b;

	if (c->live)
		return cap_reader_live(pp);
	if (pp->rd)
		return reader_fast(pp);
	b = cap_reader_take(pp, w);
	while (b) {
		struct pcap_pkthdr *h;
		const u_char *data;
		size_t need;
		bool skip;
		int rc;

		if (atomic_load_explicit(&pp->quit, memory_order_relaxed))
			return NULL;    /* nobody reads this batch any more */
		if (pp->count && passed >= pp->count)
			break;
		rc = pcap_next_ex(c->p, &h, &data);
		if (rc == PCAP_ERROR_BREAK)
			break;
		if (rc != 1) {
			cap_record_err(pp->err, sizeof(pp->err), c, records + 1,
			               pcap_geterr(c->p));
			end = CAP_ERROR;
			break;
		}
		records++;
		est_bytes += PCAP_REC_HDR + h->caplen;
		skip = c->have_filter &&
		       pcap_offline_filter(&c->prog, h, data) == 0;
		passed += !skip;
		need = skip ? 0 : h->caplen;

		/* No room: hand this batch over and go on in the next one;
		 * data stays valid until the next pcap_next_ex(). */
		if (b->n == CAP_BATCH_RECS || b->a.pos + need > b->a.size) {
			if (b->n > 0) {
				cap_reader_give(pp, b, CAP_MORE);
				b = cap_reader_take(pp, ++w);
				if (!b)
					return NULL;
			}
			if (need > b->a.size && cap_arena_grow(&b->a, need) != 0) {
				cap_record_err(pp->err, sizeof(pp->err), c, records,
				               "out of memory");
				end = CAP_ERROR;
				break;
			}
		}
		put_rec(&b->recs[b->n++], h, skip, b->a.pos);
		if (need) {
			memcpy(b->a.mem + b->a.pos, data, need);
			b->a.pos = align_up(b->a.pos + need);
		}
		if (pp->want_pos && (records & CAP_PROGRESS_MASK) == 0) {
			long pos = f && !c->zr ? ftell(f) : -1;

			b->pos = c->zr ? zr_bytes_in(c->zr) :
			         pos >= 0 ? (uint64_t)pos : est_bytes;
		}
	}
	if (b)
		cap_reader_give(pp, b, end);
	return NULL;
}

/* Analyzer: batch number r once the reader has handed it over; NULL if
 * *stop was set while waiting (looked at every CAP_TIMEOUT_MS). */
static struct cap_batch *analyzer_take(struct cap_pipe *pp, uint64_t r,
                                       volatile sig_atomic_t *stop)
{
	bool stopped = false;

	pthread_mutex_lock(&pp->mu);
	while (pp->nfull == 0) {
		struct timespec ts;

		if (stop && *stop) {
			stopped = true;
			break;
		}
		if (!stop || cap_wait_deadline(&ts) != 0) {
			pthread_cond_wait(&pp->filled, &pp->mu);
			continue;
		}
		pthread_cond_timedwait(&pp->filled, &pp->mu, &ts);
	}
	pthread_mutex_unlock(&pp->mu);
	return stopped ? NULL : &pp->b[r % pp->nbatch];
}

/* Analyzer: give a batch it has finished with back to the reader. */
void cap_analyzer_give(struct cap_pipe *pp)
{
	pthread_mutex_lock(&pp->mu);
	pp->nfull--;
	if (pp->reader_waits && pp->nfull <= pp->nbatch / 2) {
		pp->reader_waits = false;
		pthread_cond_signal(&pp->freed);
	}
	pthread_mutex_unlock(&pp->mu);
}

/* Start the reader thread, with every signal blocked from its first
 * instruction on (it inherits the mask), so SIGINT and SIGTERM go to the
 * calling thread as before. */
int cap_pipe_start(struct cap_pipe *pp)
{
	sigset_t all, old;
	int rc;

	if (sigfillset(&all) != 0 ||
	    pthread_sigmask(SIG_SETMASK, &all, &old) != 0)
		return -1;
	rc = pthread_create(&pp->reader, NULL, reader_main, pp);
	/* Restoring the mask just read cannot fail (the only error is a
	 * bad "how"). */
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0 ? 0 : -1;
}

/* Tell the reader to stop and wait for it. */
void cap_pipe_stop(struct cap_pipe *pp)
{
	pthread_mutex_lock(&pp->mu);
	atomic_store(&pp->quit, true);
	pthread_cond_broadcast(&pp->freed);
	pthread_mutex_unlock(&pp->mu);
	/* cannot fail: the thread is joinable, ours, and not this one */
	(void)pthread_join(pp->reader, NULL);
}

/* The in-place reader over a decompressed stream or standard input
 * (pcapread.h's stream mode), when libpcap has read no more than the file
 * header (zread.h hands those 24 bytes out on their own); else NULL. */
struct prd *cap_stream_reader(struct cap *c)
{
	const uint8_t *head;
	FILE *f = pcap_file(c->p);

	if (!f || !zr_nothing_buffered(f) || zr_head(c->zr, &head) < PCAP_FILE_HDR)
		return NULL;
	return prd_open_stream(c->p, head, zr_read_raw, c->zr);
}

/* Saved capture through the reader thread. Returns 0, -1 (err set), or 1
 * if the thread could not be started (nothing was read). */
int cap_run_piped(struct cap *c, struct az *az,
                  const struct cap_limits *lim, char *err, size_t errlen)
{
	struct cap_pipe *pp = cap_pipe_new(c, lim);
	uint64_t records = 0, fed = 0, r = 0;
	int ret = 0;

	if (!pp)
		return 1;
	/* NULL (libpcap reads every record) for standard input, pcapng and
	 * the rarer pcap variants */
	pp->rd = c->zr ? cap_stream_reader(c) : prd_open(c->p);
	if (cap_pipe_start(pp) != 0) {
		/* nothing read yet, so libpcap's FILE is where it was */
		(void)prd_close(pp->rd);
		cap_pipe_free(pp);
		return 1;
	}
	for (;;) {
		struct cap_batch *b = analyzer_take(pp, r, lim->stop);

		if (!b)
			goto out;
		for (size_t i = 0; i < b->n; i++) {
			const struct cap_rec *rec = &b->recs[i];

			if (lim->stop && *lim->stop)
				goto out;
			if (lim->count && fed >= lim->count)
				goto out;
			records++;
			if (rec->skip) {
				az_skip_frame(az);
				continue;
			}
			fed++;
			if (!b->pre)
				feed(c, az, c->dlt, rec->t, b->a.mem + rec->off,
				     rec->caplen, rec->len);
			else if (__builtin_expect(az_packet_pre(az, rec->t, rec->caplen,
			                                        &b->pre[i]) == DEC_UNSUPPORTED, 0))
				cap_unsup_note(c, c->dlt, b->a.mem + rec->off,
				               rec->caplen, rec->len);
			if (lim->progress && (records & CAP_PROGRESS_MASK) == 0)
				lim->progress(records, b->pos, c->file_size,
				              lim->progress_arg);
		}
		if (b->end != CAP_MORE) {
			/* the single-threaded loop looks at the limits before
			 * each read, so before the failed one too */
			if (b->end == CAP_ERROR && !(lim->stop && *lim->stop) &&
			    !(lim->count && fed >= lim->count)) {
				snprintf(err, errlen, "%s", pp->err);
				ret = -1;
			}
			goto out;
		}
		cap_analyzer_give(pp);
		r++;
	}
out:
	cap_pipe_stop(pp);
	/* Leaves libpcap's FILE after the last record read, as reading
	 * through libpcap would; only a later cap_run() on c would notice a
	 * failure, so there is nothing to report here. */
	(void)prd_close(pp->rd);
	cap_pipe_free(pp);
	return ret;
}

