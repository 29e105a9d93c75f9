/*
 * analyzer_helpers.h - shared by tests/unit/test_analyzer*.c: feed a list
 * of built frames to an analyzer and keep every connection record that
 * on_conn hands out (in the order it handed them out).
 */
#ifndef LL_TESTS_ANALYZER_HELPERS_H
#define LL_TESTS_ANALYZER_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "analyzer/analyzer.h"
#include "tests/support/pktbuild.h"

#define RUN_MAX_CONNS 64

struct run {
	struct az *az;
	size_t n;                        /* on_conn calls */
	struct az_conn conns[RUN_MAX_CONNS];
	size_t n_before_finish;          /* on_conn calls before az_finish */
};

static void run_on_conn(const struct az_conn *c, void *arg)
{
	struct run *r = arg;

	if (r->n < RUN_MAX_CONNS) {
		r->conns[r->n] = *c;
		/* timelines are not part of on_conn records */
		r->conns[r->n].tl_head = r->conns[r->n].tl_tail = NULL;
	}
	r->n++;
}

/* Feed every frame of l (in list order) to a fresh analyzer configured by
 * cfg (may be NULL), then az_finish(). The caller frees r->az. */
static inline void run_list(struct run *r, const struct pb_list *l,
                            const struct az_config *cfg)
{
	struct az_config c;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (cfg)
		c = *cfg;
	else
		memset(&c, 0, sizeof(c));
	c.on_conn = run_on_conn;
	c.arg = r;
	r->az = az_new(&c);
	assert_non_null(r->az);
	for (i = 0; i < l->n; i++) {
		const struct pb_frame *f = &l->frames[i];
		assert_int_equal(az_packet(r->az, l->dlt, f->t, f->bytes,
		                           f->caplen, f->wirelen), DEC_OK);
	}
	r->n_before_finish = r->n;
	az_finish(r->az);
}

/* The record of connection id (1-based), failing the test if absent. */
static inline const struct az_conn *run_conn(const struct run *r, uint64_t id)
{
	size_t i;

	for (i = 0; i < r->n && i < RUN_MAX_CONNS; i++)
		if (r->conns[i].id == id)
			return &r->conns[i];
	fail_msg("connection %llu was never summarized", (unsigned long long)id);
	return NULL;
}

/* The only finding, failing the test unless there is exactly one. */
static inline const struct az_rst_finding *one_finding(const struct run *r)
{
	assert_int_equal(az_n_findings(r->az), 1);
	return az_finding(r->az, 0);
}

/* Two timelines the same, field by field (the padding of a timeline
 * packet is not set), times bit for bit. */
static inline void same_tl(const struct az_tl_pkt *a, const struct az_tl_pkt *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		assert_memory_equal(&a[i].t, &b[i].t, sizeof(double));
		assert_int_equal(a[i].index, b[i].index);
		assert_int_equal(a[i].seq, b[i].seq);
		assert_int_equal(a[i].ack, b[i].ack);
		assert_int_equal(a[i].len, b[i].len);
		assert_int_equal(a[i].win, b[i].win);
		assert_int_equal(a[i].dir, b[i].dir);
		assert_int_equal(a[i].flags, b[i].flags);
	}
}

/* Seconds equal to a microsecond (pcap's resolution). */
#define ASSERT_CLOSE(a, b) do { \
	double a_ = (a), b_ = (b); \
	if (!(a_ - b_ < 1e-6 && b_ - a_ < 1e-6)) \
		fail_msg("%s = %.9f, expected %.9f", #a, a_, b_); \
} while (0)

#endif
