/*
 * connwriter.h - `analyze --connections`: connection records written as
 * JSON lines by a thread of their own, so that formatting them does not
 * hold up the analysis (a capture of short connections gives a record
 * every ten packets, and a record takes longer to write than its packets
 * take to analyze).
 */
#ifndef LL_REPORTS_CONNWRITER_H
#define LL_REPORTS_CONNWRITER_H

#include <stdio.h>

#include "analyzer/analyzer.h"

struct connwriter;

/* Start writing to f (kept open; the caller closes it after
 * connwriter_finish). f is flushed now and the records go to its file
 * descriptor directly, in large write(2)s, not through f's buffer: write
 * nothing else to f until connwriter_finish. NULL if out of memory, no
 * thread, or f cannot be flushed. */
struct connwriter *connwriter_start(FILE *f);

/* Queue a copy of c (records are written in the order they are queued);
 * t0 is the capture's first time. Waits while the queue is full. */
void connwriter_push(struct connwriter *cw, const struct az_conn *c, double t0);

/* The next queue slot, for the caller to build a record in (waits while
 * the queue is full); connwriter_commit queues it. Between the two, the
 * slot is the caller's, and nothing else may be queued. */
struct az_conn *connwriter_slot(struct connwriter *cw);
void connwriter_commit(struct connwriter *cw, double t0);

/* Write what is queued, flush f, stop the thread and free cw. Returns 0,
 * or the errno of the first failed write (later records are dropped once
 * one fails). */
int connwriter_finish(struct connwriter *cw);

#endif
