/*
 * results.c - the end of an analysis and what it found: az_finish
 * summarizes every connection still held (live, parked, embryos, the
 * finished ones in their grace period) in id order, and the accessors
 * hand out the stats, totals, findings and kept connections (see
 * analyzer.h; the names are in names.c).
 */
#include "analyzer/analyzer.h"

#include <stdlib.h>
#include <string.h>

#include "analyzer/conn.h"
#include "analyzer/flowtab.h"
#include "analyzer/fw2.h"
#include "analyzer/store.h"

/* A live connection at the end, sorted by id without touching it. */
struct live_ref {
	uint64_t id;
	uint32_t ref;              /* slot or tomb, as the table has it */
};

static int cmp_live(const void *a, const void *b)
{
	uint64_t x = ((const struct live_ref *)a)->id, y = ((const struct live_ref *)b)->id;
	return (x > y) - (x < y);
}

static int cmp_pub_id(const void *a, const void *b)
{
	uint64_t x = ((const struct az_conn *)a)->id, y = ((const struct az_conn *)b)->id;
	return (x > y) - (x < y);
}

void az_finish(struct az *az)
{
	struct live_ref *live = NULL;
	size_t n = 0, i;
	uint64_t p;

	if (az->finished)
		return;
	az->finished = true;

	/* everything still here, in id order (on_conn sees that order) */
	if (az->live > 0)
		live = malloc(az->live * sizeof(*live));
	for (i = 0; i < store_pool_capacity(&az->conns); i++) {
		struct conn *c = slot(az, (uint32_t)i);
		if (!c->in_use)
			continue;
		if (live)
			live[n++] = (struct live_ref){ .id = c->id, .ref = c->self };
		else
			azi_conn_close(az, c, az->stats.last_time);
	}
	for (uint32_t t = az->tombs.head, tn; t != NONE; t = tn) {
		struct conn *c = tomb_at(az, t);

		tn = c->next;
		if (live)
			live[n++] = (struct live_ref){ .id = c->id, .ref = c->self };
		else
			azi_conn_close(az, c, az->stats.last_time);
	}
	while (az->cembryo.head != NONE) {
		uint32_t ref = REF_EMBRYO | az->cembryo.head;

		if (!live) {
			store_embryo_close(az, ref);
			continue;
		}
		live[n++] = (struct live_ref){ .id = emb_id(embryo_at(az, ref)), .ref = ref };
		store_embryo_hold(az, ref); /* off the list; closed below */
	}
	for (i = 0; az->n_parked > 0 && i < store_pool_capacity(&az->parks); i++) {
		const struct parked *pp = pool_at(&az->parks, (uint32_t)i);

		if (!(pp->bits & PK_LIVE))
			continue;
		if (live)
			live[n++] = (struct live_ref){ .id = pk_id(pp), .ref = REF_PARKED | (uint32_t)i };
		else
			store_parked_close(az, REF_PARKED | (uint32_t)i, az->stats.last_time, false);
	}
	for (p = az->seals.head; p != az->seals.tail; p++) {
		struct seal *e = seal_at(az, p);
		if (e->flags & SEAL_LIVE)
			store_seal_close(az, e, p, ft_hash(&e->key));
	}
	if (live) {
		qsort(live, n, sizeof(*live), cmp_live);
		for (i = 0; i < n; i++) {
			if (is_embryo(live[i].ref))
				store_embryo_close(az, live[i].ref);
			else if (is_parked(live[i].ref))
				store_parked_close(az, live[i].ref, az->stats.last_time, false);
			else
				azi_conn_close(az, conn_at(az, live[i].ref), az->stats.last_time);
		}
		free(live);
		live = NULL;
	}
	if (!az->retained_sorted) {
		qsort(az->retained, az->n_retained, sizeof(*az->retained), cmp_pub_id);
		az->retained_sorted = true;
	}
	fw2_summary(&az->fw2[AZ_SERVER]);
	fw2_summary(&az->fw2[AZ_CLIENT]);
}

/* ------------------------------------------------------------------ */
/* accessors (the names are in names.c)                               */

const struct az_stats *az_stats(const struct az *az) { return &az->stats; }
const struct az_totals *az_totals(const struct az *az) { return &az->totals; }
uint64_t az_dropped(const struct az *az) { return az->dropped; }

size_t az_memory_limit(const struct az *az) { return az->mem_limit; }

size_t az_memory(const struct az *az, size_t *peak)
{
	size_t now = store_mem_used(az);

	if (peak)
		*peak = now > az->mem_peak ? now : az->mem_peak;
	return now;
}
size_t az_n_findings(const struct az *az) { return az->n_findings; }

const struct az_rst_finding *az_finding(const struct az *az, size_t i)
{
	return i < az->n_findings ? &az->findings[i] : NULL;
}

size_t az_n_retained(const struct az *az) { return az->n_retained; }

const struct az_conn *az_retained(const struct az *az, size_t i)
{
	return i < az->n_retained ? &az->retained[i] : NULL;
}

const struct az_conn *az_retained_by_id(const struct az *az, uint64_t id)
{
	size_t lo = 0, hi = az->n_retained, i;

	if (!az->retained_sorted) {
		for (i = 0; i < az->n_retained; i++)
			if (az->retained[i].id == id)
				return &az->retained[i];
		return NULL;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (az->retained[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < az->n_retained && az->retained[lo].id == id ? &az->retained[lo] : NULL;
}

const struct az_fw2_summary *az_fw2(const struct az *az, enum az_side side)
{
	/* the summary is a cache inside the aggregate: filling it does not
	 * change what the analyzer has seen */
	struct az *m = (struct az *)az;
	return fw2_summary(&m->fw2[side == AZ_CLIENT ? AZ_CLIENT : AZ_SERVER]);
}
