/*
 * connwriter.c - connection records written by a thread (connwriter.h).
 *
 * The analyzer hands out a record per connection (on_conn) and forgets
 * it; here it is copied into a ring of QUEUE slots and the writer thread
 * formats it (report_conn_line) and writes it. The analysis waits only
 * when the ring is full, and the thread only when it is empty: each side
 * wakes the other when that changes, and otherwise goes on without a
 * system call (the ring's counters are read under the mutex, which is
 * held for a copy at most).
 */
#include "reports/connwriter.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "reports/report.h"

#define QUEUE 4096   /* records in flight (about 3 MiB) */

struct item {
	struct az_conn c;
	double t0;
};

struct connwriter {
	FILE *f;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	uint64_t head, tail;       /* ring positions: [head, tail) queued */
	bool done;
	int err;                   /* first errno of a failed write */
	struct item ring[QUEUE];
};

static void *writer_main(void *arg)
{
	struct connwriter *cw = arg;

	pthread_mutex_lock(&cw->mu);
	for (;;) {
		while (cw->head == cw->tail && !cw->done)
			pthread_cond_wait(&cw->not_empty, &cw->mu);
		if (cw->head == cw->tail)
			break;
		uint64_t from = cw->head, to = cw->tail;
		pthread_mutex_unlock(&cw->mu);
		/* the slots [from, to) are ours until head moves past them */
		for (uint64_t i = from; i < to; i++) {
			struct item *it = &cw->ring[i % QUEUE];
			if (!cw->err && report_conn_line(cw->f, &it->c, it->t0) != 0)
				cw->err = errno ? errno : EIO;
		}
		pthread_mutex_lock(&cw->mu);
		bool was_full = cw->tail - cw->head == QUEUE;
		cw->head = to;
		if (was_full)
			pthread_cond_signal(&cw->not_full);
	}
	pthread_mutex_unlock(&cw->mu);
	if (!cw->err && fflush(cw->f) != 0)
		cw->err = errno ? errno : EIO;
	return NULL;
}

struct connwriter *connwriter_start(FILE *f)
{
	struct connwriter *cw = calloc(1, sizeof *cw);

	if (!cw)
		return NULL;
	cw->f = f;
	if (pthread_mutex_init(&cw->mu, NULL) != 0)
		goto fail_mu;
	if (pthread_cond_init(&cw->not_empty, NULL) != 0)
		goto fail_ne;
	if (pthread_cond_init(&cw->not_full, NULL) != 0)
		goto fail_nf;
	if (pthread_create(&cw->thread, NULL, writer_main, cw) != 0)
		goto fail_thread;
	return cw;
fail_thread:
	pthread_cond_destroy(&cw->not_full);
fail_nf:
	pthread_cond_destroy(&cw->not_empty);
fail_ne:
	pthread_mutex_destroy(&cw->mu);
fail_mu:
	free(cw);
	return NULL;
}

void connwriter_push(struct connwriter *cw, const struct az_conn *c, double t0)
{
	pthread_mutex_lock(&cw->mu);
	while (cw->tail - cw->head == QUEUE)
		pthread_cond_wait(&cw->not_full, &cw->mu);
	uint64_t pos = cw->tail;
	bool was_empty = cw->head == cw->tail;
	pthread_mutex_unlock(&cw->mu);
	/* the slot at tail is the producer's until tail moves past it */
	struct item *it = &cw->ring[pos % QUEUE];
	it->c = *c;
	it->t0 = t0;
	pthread_mutex_lock(&cw->mu);
	cw->tail = pos + 1;
	if (was_empty || cw->head == pos)
		pthread_cond_signal(&cw->not_empty);
	pthread_mutex_unlock(&cw->mu);
}

int connwriter_finish(struct connwriter *cw)
{
	int err;

	pthread_mutex_lock(&cw->mu);
	cw->done = true;
	pthread_cond_signal(&cw->not_empty);
	pthread_mutex_unlock(&cw->mu);
	pthread_join(cw->thread, NULL);
	err = cw->err;
	pthread_cond_destroy(&cw->not_full);
	pthread_cond_destroy(&cw->not_empty);
	pthread_mutex_destroy(&cw->mu);
	free(cw);
	return err;
}
