/*
 * compact_helpers.h - for the tests of the store's compact forms
 * (test_analyzer_embryo.c, test_analyzer_park.c): a capture analyzed once
 * with every connection kept compact whenever it can be (COMPACT_ALWAYS)
 * and once whole (COMPACT_NEVER) must hand out the same records, totals,
 * findings, kept connections and FIN_WAIT_2 summaries, byte for byte.
 */
#ifndef LL_TESTS_COMPACT_HELPERS_H
#define LL_TESTS_COMPACT_HELPERS_H

#include <stdio.h>
#include <stdlib.h>

#include "analyzer/store.h"
#include "tests/unit/analyzer_helpers.h"

/* Every record on_conn hands out, in order. */
struct rec {
	struct az_conn *c;
	size_t n, cap;
};

static void rec_on_conn(const struct az_conn *c, void *arg)
{
	struct rec *r = arg;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->c = realloc(r->c, r->cap * sizeof(*r->c));
		assert_non_null(r->c);
	}
	r->c[r->n] = *c;
	r->n++;
}

/* Analyze l with embryos made and holders parked as compact says; the caller frees *az and
 * r->c. */
static struct az *analyze(const struct pb_list *l, uint8_t compact, struct rec *r,
                          const struct az_config *base, bool records)
{
	struct az_config cfg;
	struct az *az;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (base)
		cfg = *base;
	else
		memset(&cfg, 0, sizeof(cfg));
	if (records) {
		cfg.on_conn = rec_on_conn;
		cfg.arg = r;
	}
	az = az_new(&cfg);
	assert_non_null(az);
	az->compact = compact;
	for (i = 0; i < l->n; i++)
		assert_int_equal(az_packet(az, l->dlt, l->frames[i].t, l->frames[i].bytes,
		                           l->frames[i].caplen, l->frames[i].wirelen), DEC_OK);
	az_finish(az);
	return az;
}

static void same_fw2(const struct az_fw2_summary *a, const struct az_fw2_summary *b)
{
	size_t i;

	assert_int_equal(a->count, b->count);
	assert_int_equal(a->peak, b->peak);
	assert_memory_equal(&a->peak_time, &b->peak_time, sizeof(double));
	assert_memory_equal(&a->p50, &b->p50, sizeof(double));
	assert_memory_equal(&a->p90, &b->p90, sizeof(double));
	assert_memory_equal(&a->max, &b->max, sizeof(double));
	assert_memory_equal(a->endings, b->endings, sizeof(a->endings));
	assert_int_equal(a->n_series, b->n_series);
	for (i = 0; i < a->n_series; i++) {
		assert_memory_equal(&a->series[i].t, &b->series[i].t, sizeof(double));
		assert_int_equal(a->series[i].n, b->series[i].n);
	}
}

/*
 * l analyzed compact (embryos, parked holders) and whole must say the
 * same; returns how many
 * records it gave. Records and findings are built from zeroed structs
 * (azi_fill_pub, judge_rst) and copied whole, so they compare as bytes.
 */
static size_t same_both_ways(const struct pb_list *l, const struct az_config *cfg,
                             bool records, uint64_t *parks, uint64_t *unparks)
{
	struct rec ra, rb;
	struct az *a = analyze(l, COMPACT_ALWAYS, &ra, cfg, records);
	struct az *b = analyze(l, COMPACT_NEVER, &rb, cfg, records);
	size_t i, n = ra.n;
	int side;

	assert_int_equal(ra.n, rb.n);
	for (i = 0; i < ra.n; i++) {
		if (memcmp(&ra.c[i], &rb.c[i], sizeof(ra.c[i])) != 0)
			fail_msg("record %zu (id %llu / %llu) differs", i,
			         (unsigned long long)ra.c[i].id, (unsigned long long)rb.c[i].id);
	}
	assert_memory_equal(az_totals(a), az_totals(b), sizeof(struct az_totals));
	assert_memory_equal(az_stats(a), az_stats(b), sizeof(struct az_stats));
	assert_int_equal(az_dropped(a), 0);
	assert_int_equal(az_dropped(b), 0);
	assert_int_equal(az_n_findings(a), az_n_findings(b));
	for (i = 0; i < az_n_findings(a); i++)
		assert_memory_equal(az_finding(a, i), az_finding(b, i),
		                    sizeof(struct az_rst_finding));
	assert_int_equal(az_n_retained(a), az_n_retained(b));
	for (i = 0; i < az_n_retained(a); i++) {
		const struct az_conn *x = az_retained(a, i), *y = az_retained(b, i);

		assert_memory_equal(x, y, offsetof(struct az_conn, tl_head));
		assert_int_equal(x->id, y->id);
		assert_int_equal(x->n_head, y->n_head);
		assert_int_equal(x->n_tail, y->n_tail);
		assert_int_equal(x->tl_omitted, y->tl_omitted);
		same_tl(x->tl_head, y->tl_head, x->n_head);
		same_tl(x->tl_tail, y->tl_tail, x->n_tail);
	}
	for (side = 0; side < 2; side++)
		same_fw2(az_fw2(a, (enum az_side)side), az_fw2(b, (enum az_side)side));
	/* the NEVER way parked nothing; the ALWAYS way did (the caller says
	 * how much it expects) */
	assert_int_equal(b->n_parks, 0);
	if (parks)
		*parks = a->n_parks;
	if (unparks)
		*unparks = a->n_unparks;
	n = records ? ra.n : az_totals(a)->connections;
	free(ra.c);
	free(rb.c);
	az_free(a);
	az_free(b);
	return n;
}

#endif
