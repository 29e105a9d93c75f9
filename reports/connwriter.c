/*
 * connwriter.c - connection records written by a thread (connwriter.h).
 *
 * The analyzer hands out a record per connection (on_conn) and forgets
 * it; it is built in a ring of QUEUE slots (connwriter_slot, the
 * analyzer's conn_slot) or copied there (connwriter_push), and the writer thread
 * formats what is queued (connline_format) into a large buffer that goes
 * out with one write(2) per OUT_SIZE bytes.
 *
 * A capture of short connections gives a record every ten packets, so the
 * hand-off must cost next to nothing: the ring has one producer (the
 * analysis) and one consumer (the writer), and its two positions are
 * atomics, so queueing a record is a store, with no lock and no system
 * call; building it in its slot (rather than copying it there) spares a
 * copy of its ~800 bytes. The writer, when it has drained the ring, writes
 * out what it formatted (a live capture's records do not wait for a full
 * buffer) and sleeps; the producer wakes it only when a quarter of the
 * ring is queued, and otherwise it wakes by itself after a short while (so
 * a trickle of records is written within SLEEP_MAX_MS). The producer waits
 * only when the ring is full. Each side announces that it sleeps in a flag
 * that the other reads after publishing its position (sequentially
 * consistent; for the producer's tail, a release store and a fence before
 * it reads the flag), so one of the two always sees the other, and takes
 * the mutex only to sleep or to wake the other: no wake-up is lost.
 */
#include "reports/connwriter.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/hugemem.h"
#include "reports/connline.h"

#define QUEUE         4096        /* records in flight (about 3 MiB) */
#define WAKE_AT       (QUEUE / 4) /* queued records that wake the writer */
#define OUT_SIZE      (256u << 10) /* bytes formatted per write(2) */
#define SLEEP_MIN_MS  2           /* the writer's nap when records come */
#define SLEEP_MAX_MS  64          /* ... and at most, when none come */

struct item {
	struct az_conn c;
	double t0;
};

struct connwriter {
	int fd;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake_writer, wake_producer;
	_Atomic uint64_t head;      /* next slot to format (writer's) */
	_Atomic uint64_t tail;      /* next slot to fill (producer's) */
	atomic_bool writer_asleep, producer_waits;
	bool done;                  /* under mu: no more records come */
	int err;                    /* writer's: first errno of a failed write */
	struct connline_names names;
	size_t out_len;
	char out[OUT_SIZE + CONNLINE_MAX];
	struct item ring[QUEUE];
};

/* out[0, out_len) to the file, whole; after a failure nothing more is
 * written (the records are still taken from the ring, so the analysis
 * goes on, and connwriter_finish reports the errno). */
static void flush_out(struct connwriter *cw)
{
	size_t off = 0;

	while (!cw->err && off < cw->out_len) {
		ssize_t n = write(cw->fd, cw->out + off, cw->out_len - off);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EINTR)
			cw->err = errno;
		else if (n == 0)
			cw->err = EIO;
	}
	cw->out_len = 0;
}

/* Sleep until the producer wakes us, ms pass, or connwriter_finish.
 * Returns false when there is nothing more to come. */
static bool writer_sleep(struct connwriter *cw, uint64_t head, long ms)
{
	struct timespec until;
	bool more;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += ms * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&cw->mu);
	atomic_store(&cw->writer_asleep, true);
	/* the producer reads writer_asleep after it moves tail: if it did
	 * not see us asleep, we see its record here */
	if (atomic_load(&cw->tail) == head && !cw->done)
		pthread_cond_timedwait(&cw->wake_writer, &cw->mu, &until);
	atomic_store(&cw->writer_asleep, false);
	/* done is set after the last push, so with done a tail that has not
	 * moved is the end */
	more = !(cw->done && atomic_load(&cw->tail) == head);
	pthread_mutex_unlock(&cw->mu);
	return more;
}

static void *writer_main(void *arg)
{
	struct connwriter *cw = arg;
	uint64_t head = 0;
	long nap = SLEEP_MIN_MS;

	for (;;) {
		uint64_t tail = atomic_load_explicit(&cw->tail, memory_order_acquire);

		if (tail == head) {
			/* drained: what is formatted goes out now */
			flush_out(cw);
			if (!writer_sleep(cw, head, nap))
				break;
			if (atomic_load_explicit(&cw->tail, memory_order_acquire) == head)
				nap = nap * 2 > SLEEP_MAX_MS ? SLEEP_MAX_MS : nap * 2;
			else
				nap = SLEEP_MIN_MS;
			continue;
		}
		/* the slots [head, tail) are ours until head moves past them;
		 * they are handed back in steps so the producer never waits
		 * for a whole ring to be formatted */
		while (head != tail) {
			uint64_t to = tail - head > WAKE_AT ? head + WAKE_AT : tail;

			for (; head != to; head++) {
				const struct item *it = &cw->ring[head % QUEUE];

				if (cw->out_len >= OUT_SIZE)
					flush_out(cw);
				cw->out_len += connline_format(&cw->names, cw->out + cw->out_len,
				                               &it->c, it->t0);
			}
			atomic_store(&cw->head, head);
			if (atomic_load(&cw->producer_waits)) {
				pthread_mutex_lock(&cw->mu);
				pthread_cond_signal(&cw->wake_producer);
				pthread_mutex_unlock(&cw->mu);
			}
		}
	}
	flush_out(cw);
	return NULL;
}

struct connwriter *connwriter_start(FILE *f)
{
	/* the queue (3 MiB) is written at random slots, by this thread and
	 * read by the writer: huge pages spare both 800 page faults */
	struct connwriter *cw = hm_alloc(sizeof *cw);
	pthread_condattr_t ca;
	bool bad;

	if (!cw)
		return NULL;
	/* the records go straight to the file, in large writes: nothing of
	 * f's own buffer may come after them */
	if (fflush(f) != 0 || (cw->fd = fileno(f)) < 0 || connline_init(&cw->names) != 0)
		goto fail_mu;
	if (pthread_mutex_init(&cw->mu, NULL) != 0)
		goto fail_mu;
	if (pthread_condattr_init(&ca) != 0)
		goto fail_ww;
	/* the writer's naps are timed on the monotonic clock */
	bad = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	      pthread_cond_init(&cw->wake_writer, &ca) != 0;
	pthread_condattr_destroy(&ca);
	if (bad)
		goto fail_ww;
	if (pthread_cond_init(&cw->wake_producer, NULL) != 0)
		goto fail_wp;
	if (pthread_create(&cw->thread, NULL, writer_main, cw) != 0)
		goto fail_thread;
	return cw;
fail_thread:
	pthread_cond_destroy(&cw->wake_producer);
fail_wp:
	pthread_cond_destroy(&cw->wake_writer);
fail_ww:
	pthread_mutex_destroy(&cw->mu);
fail_mu:
	hm_free(cw, sizeof *cw);
	return NULL;
}

struct az_conn *connwriter_slot(struct connwriter *cw)
{
	uint64_t tail = atomic_load_explicit(&cw->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&cw->head, memory_order_acquire);

	if (tail - head == QUEUE) {
		pthread_mutex_lock(&cw->mu);
		atomic_store(&cw->producer_waits, true);
		/* the writer reads producer_waits after it moves head */
		while (tail - atomic_load(&cw->head) == QUEUE) {
			/* a full ring is work for a writer that naps */
			pthread_cond_signal(&cw->wake_writer);
			pthread_cond_wait(&cw->wake_producer, &cw->mu);
		}
		atomic_store(&cw->producer_waits, false);
		pthread_mutex_unlock(&cw->mu);
	}
	/* the slot at tail is the producer's until tail moves past it */
	return &cw->ring[tail % QUEUE].c;
}

void connwriter_commit(struct connwriter *cw, double t0)
{
	uint64_t tail = atomic_load_explicit(&cw->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&cw->head, memory_order_relaxed);

	cw->ring[tail % QUEUE].t0 = t0;
	/* a release store: a sequentially consistent one (xchg) would wait
	 * for the slot's fresh cache lines to leave the store buffer, at
	 * every record */
	atomic_store_explicit(&cw->tail, tail + 1, memory_order_release);
	/* the next slot's lines were last the writer's (its core's cache):
	 * ask for them now, to write, so that the next record (some packets
	 * from now) is built in lines already here */
	const char *next = (const char *)&cw->ring[(tail + 1) % QUEUE];
	for (size_t off = 0; off < sizeof(struct item); off += 64)
		__builtin_prefetch(next + off, 1);
	/* Below WAKE_AT the writer is never woken, so whether it sleeps
	 * does not matter; from there on, the fence orders the store of
	 * tail before the load of writer_asleep (the writer stores that
	 * flag, then loads tail, both sequentially consistent), so one of
	 * the two sees the other. head may be stale (older, smaller): then
	 * the check comes early, never late. */
	if (tail + 1 - head >= WAKE_AT) {
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load(&cw->writer_asleep)) {
			pthread_mutex_lock(&cw->mu);
			pthread_cond_signal(&cw->wake_writer);
			pthread_mutex_unlock(&cw->mu);
		}
	}
}

void connwriter_push(struct connwriter *cw, const struct az_conn *c, double t0)
{
	struct az_conn *slot = connwriter_slot(cw);
	/* all but the unused end of the response table (connline_format
	 * reads only n_responses of them) */
	size_t used = offsetof(struct az_conn, responses) +
	              (c->n_responses < AZ_MAX_HTTP_RESPONSES ? c->n_responses :
	                                                        AZ_MAX_HTTP_RESPONSES) *
	              sizeof(c->responses[0]);
	size_t rest = offsetof(struct az_conn, responses) + sizeof(c->responses);

	memcpy(slot, c, used);
	memcpy((char *)slot + rest, (const char *)c + rest, sizeof(*c) - rest);
	connwriter_commit(cw, t0);
}

int connwriter_finish(struct connwriter *cw)
{
	int err;

	pthread_mutex_lock(&cw->mu);
	cw->done = true;
	pthread_cond_signal(&cw->wake_writer);
	pthread_mutex_unlock(&cw->mu);
	pthread_join(cw->thread, NULL);
	err = cw->err;
	pthread_cond_destroy(&cw->wake_producer);
	pthread_cond_destroy(&cw->wake_writer);
	pthread_mutex_destroy(&cw->mu);
	hm_free(cw, sizeof *cw);
	return err;
}
