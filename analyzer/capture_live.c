/*
 * capture_live.c - a live interface through a reader thread.
 *
 * Measured before it: nginx and wrk (Connection: close) on loopback at
 * some 25,000 connections a second, on two cores busy with them; the
 * analyzer read frames itself, between two packets' analysis, from
 * libpcap's default 2 MiB ring, which filled whenever the analyzer (or
 * the core it ran on) was busy for a few milliseconds: it saw fewer than
 * half the frames, and said nothing. tcpdump, doing nothing per frame,
 * lost none.
 *
 * So the reader empties the kernel's ring into the batches of the saved
 * capture's pipe (a copy per frame: libpcap's ring must be given back to
 * the kernel), CAP_LIVE_NBATCH of them, while the analyzer catches up. A
 * batch is handed over when it is full, or as soon as it holds a frame
 * while the analyzer waits (hungry): on a quiet link a frame reaches the
 * analyzer at once, on a busy one batches stay large and the handovers
 * few. Only the reader touches the pcap handle while cap_run() runs,
 * including pcap_stats() once a second (libpcap's handle is not shared
 * between threads). With the queue full the reader waits; the kernel's
 * ring then fills and the kernel counts what it drops, which is what
 * cap_kernel_stats() reports: nothing is lost silently.
 */
#include "analyzer/capture_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAP_LIVE_HOLD_MS 10 /* a frame waits at most this long in a batch
                               the analyzer has not asked for yet */

/* capture.h promises this bound; a frame never needs more than a batch's
 * arena (CAP_SNAPLEN), so no live arena ever grows. */
_Static_assert(CAP_LIVE_QUEUE_BYTES ==
               CAP_LIVE_NBATCH * (CAP_ARENA + CAP_BATCH_RECS * sizeof(struct cap_rec)),
               "CAP_LIVE_QUEUE_BYTES and the live batches disagree");
_Static_assert(CAP_SNAPLEN <= CAP_ARENA, "a live frame may not fit a batch");

struct live_fill {
	struct cap_pipe *pp;
	struct cap_batch *b;       /* being filled; NULL once the analyzer quit */
	uint64_t w;                /* its number */
	uint64_t got;              /* frames put into batches */
	bool oom;
};

/* Reader, live: pcap_dispatch()'s callback, one frame into the batch
 * (into the next one when its bytes do not fit; the dispatch is never
 * asked for more frames than the batch has records free). */
static void live_put(u_char *user, const struct pcap_pkthdr *h,
                     const u_char *data)
{
	struct live_fill *lf = (struct live_fill *)(void *)user;
	struct cap_batch *b = lf->b;
	size_t need = h->caplen;

	if (!b || lf->oom)
		return;
	if (b->a.pos + need > b->a.size) {
		if (b->n > 0) {
			cap_reader_give(lf->pp, b, CAP_MORE);
			b = lf->b = cap_reader_take(lf->pp, ++lf->w);
			if (!b) {
				pcap_breakloop(lf->pp->c->p);
				return;
			}
		}
		if (need > b->a.size && cap_arena_grow(&b->a, need) != 0) {
			lf->oom = true;
			pcap_breakloop(lf->pp->c->p);
			return;
		}
	}
	put_rec(&b->recs[b->n++], h, false, b->a.pos);
	memcpy(b->a.mem + b->a.pos, data, need);
	b->a.pos = align_up(b->a.pos + need);
	lf->got++;
}

void *cap_reader_live(struct cap_pipe *pp)
{
	struct cap *c = pp->c;
	struct live_fill lf = { .pp = pp };
	double t0 = now_mono(), next_kst = t0;
	enum cap_end end = CAP_EOF;

	lf.b = cap_reader_take(pp, 0);
	while (lf.b) {
		double now = now_mono();
		int max, rc;

		if (atomic_load(&pp->stop_reading))
			break;
		if (pp->count && lf.got >= pp->count)
			break;
		if (pp->duration > 0 && now - t0 >= pp->duration)
			break;
		if (now >= next_kst) {
			cap_kstats_read(c);
			next_kst = now + CAP_KSTATS_SECONDS;
		}
		max = (int)(CAP_BATCH_RECS - lf.b->n);
		if (pp->count && pp->count - lf.got < (uint64_t)max)
			max = (int)(pp->count - lf.got);
		rc = pcap_dispatch(c->p, max, live_put, (u_char *)&lf);
		if (!lf.b)
			return NULL;    /* the analyzer quit */
		if (lf.oom) {
			snprintf(pp->err, sizeof(pp->err), "%s: out of memory",
			         c->name);
			end = CAP_ERROR;
			break;
		}
		if (rc < 0 && rc != PCAP_ERROR_BREAK) {
			snprintf(pp->err, sizeof(pp->err), "%s: %s", c->name,
			         pcap_geterr(c->p));
			end = CAP_ERROR;
			break;
		}
		if (lf.b->n == CAP_BATCH_RECS ||
		    (lf.b->n > 0 && atomic_load(&pp->hungry))) {
			cap_reader_give(pp, lf.b, CAP_MORE);
			lf.b = cap_reader_take(pp, ++lf.w);
			continue;
		}
		if (rc == 0) {
			/* nothing ready: wait for the kernel (EINTR is fine) */
			struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
			int ms = lf.b->n > 0 ? CAP_LIVE_HOLD_MS : CAP_TIMEOUT_MS;

			if (poll(&pfd, 1, ms) < 0 && errno != EINTR) {
				snprintf(pp->err, sizeof(pp->err), "%s: poll: %s",
				         c->name, strerror(errno));
				end = CAP_ERROR;
				break;
			}
		}
	}
	if (lf.b)
		cap_reader_give(pp, lf.b, end);
	return NULL;
}

/* Analyzer, live: batch number r, or NULL if none came within
 * CAP_TIMEOUT_MS. While it waits it is hungry (see above). */
static struct cap_batch *analyzer_poll_live(struct cap_pipe *pp, uint64_t r)
{
	struct cap_batch *b = NULL;
	struct timespec ts;

	pthread_mutex_lock(&pp->mu);
	if (pp->nfull == 0) {
		atomic_store(&pp->hungry, true);
		if (cap_wait_deadline(&ts) == 0) {
			pthread_cond_timedwait(&pp->filled, &pp->mu, &ts);
		} else {
			pthread_cond_wait(&pp->filled, &pp->mu);
		}
	}
	if (pp->nfull > 0)
		b = &pp->b[r % pp->nbatch];
	atomic_store(&pp->hungry, false);
	pthread_mutex_unlock(&pp->mu);
	return b;
}

/* Live capture through the reader thread. Returns 0, -1 (err set), or 1
 * if the thread could not be started (nothing was read). The reader ends
 * the capture (count, duration, *stop passed on as stop_reading); every
 * frame it read is analyzed, in the order read. */
int cap_run_live(struct cap *c, struct az *az, const struct cap_limits *lim,
                 char *err, size_t errlen)
{
	struct cap_pipe *pp = cap_pipe_new(c, lim);
	uint64_t records = 0, bytes = 0, r = 0;
	bool stopping = false;
	int ret = 0;

	if (!pp)
		return 1;
	if (cap_pipe_start(pp) != 0) {
		cap_pipe_free(pp);
		return 1;
	}
	for (;;) {
		struct cap_batch *b;

		if (!stopping && lim->stop && *lim->stop) {
			stopping = true;
			atomic_store(&pp->stop_reading, true);
		}
		b = analyzer_poll_live(pp, r);
		if (!b) {
			if (lim->progress)
				lim->progress(records, bytes, 0, lim->progress_arg);
			continue;
		}
		for (size_t i = 0; i < b->n; i++) {
			const struct cap_rec *rec = &b->recs[i];

			records++;
			bytes += rec->caplen;
			feed(c, az, c->dlt, rec->t, b->a.mem + rec->off,
			     rec->caplen, rec->len);
		}
		if (lim->progress)
			lim->progress(records, bytes, 0, lim->progress_arg);
		if (b->end != CAP_MORE) {
			if (b->end == CAP_ERROR) {
				snprintf(err, errlen, "%s", pp->err);
				ret = -1;
			}
			break;
		}
		cap_analyzer_give(pp);
		r++;
	}
	cap_pipe_stop(pp);
	cap_pipe_free(pp);
	return ret;
}
