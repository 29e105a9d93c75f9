/*
 * teardown.c - the teardown's bookkeeping inside the analyzer (see
 * teardown.h; each side's state, moved by the events analyzer.c sees, is
 * inline there, on the per-packet path): the FIN_WAIT_2 intervals
 * (their totals in fw2.c), the RSTs handed to judge.c and kept as
 * findings, and a connection's end: judged, summarized, handed out
 * (azi_conn_close) and its memory given back to the store.
 */
#include "analyzer/teardown.h"

#include <stdlib.h>

#include "analyzer/flowtab.h"
#include "analyzer/fw2.h"
#include "analyzer/judge.h"
#include "analyzer/zeek.h"

/* ------------------------------------------------------------------ */
/* FIN_WAIT_2                                                          */

void azi_fw2_open(struct az *az, struct conn *c, enum az_side holder, double t)
{
	if (c->fw2_open[holder] || c->fw2[holder].present)
		return;
	c->fw2_open[holder] = true;
	/* FIN_WAIT_2 holders in the order they entered it: the first to
	 * park (store_park_oldest); a finished one (a RST it went on after)
	 * waits in a ring, not in a slot, and is never parked */
	if (c->list == L_NONE && !c->finished)
		store_list_append(az, c, L_FW2);
	c->fw2[holder].present = true;
	c->fw2[holder].start = t;
	c->fw2[holder].end = t;
	fw2_start(&az->fw2[holder], t);
}

void azi_fw2_close(struct az *az, struct conn *c, enum az_side holder,
                      enum az_fw2_end how, double t)
{
	if (!c->fw2_open[holder])
		return;
	c->fw2_open[holder] = false;
	if (c->list == L_FW2 && !c->fw2_open[!holder])
		store_list_unlink(az, c);
	if (t < c->fw2[holder].start)
		t = c->fw2[holder].start;
	c->fw2[holder].end = t;
	c->fw2[holder].ending = how;
	fw2_end(&az->fw2[holder], c->fw2[holder].start, t, how);
}

/* ------------------------------------------------------------------ */
/* rst_before_ack                                                      */

/* Keep the finding f of direction d's sender (the RST's judging is
 * judge.c's): one per sender and connection. */
static void record_finding(struct az *az, struct conn *c, int d,
                           const struct az_rst_finding *f)
{
	enum az_side side = side_of(d);

	if (c->flagged_sides & (1u << side))
		return;
	c->flagged_sides |= (uint8_t)(1u << side);
	az->totals.rst_before_ack++;
	az->totals.rst_before_ack_by_sender[side]++;
	az->totals.by_basis[f->basis]++;
	uint32_t risk = f->bytes_at_risk_at_server > f->bytes_at_risk_at_client
	                ? f->bytes_at_risk_at_server : f->bytes_at_risk_at_client;
	if (risk > az->totals.bytes_at_risk_max[side])
		az->totals.bytes_at_risk_max[side] = risk;
	if (az->n_findings >= az->cfg.max_retained)
		return;
	if (az->n_findings == az->cap_findings) {
		size_t ncap = az->cap_findings ? az->cap_findings * 2 : 16;
		struct az_rst_finding *nf = realloc(az->findings, ncap * sizeof(*nf));
		if (!nf)
			return; /* flagged but not kept: counted as not retained */
		az->findings = nf;
		az->cap_findings = ncap;
	}
	c->finding_idx[side] = (int32_t)az->n_findings;
	az->findings[az->n_findings] = *f;
	az->findings[az->n_findings].conn_id = c->id;
	az->n_findings++;
}

/* Decide the RST pd describes (sent in direction d), once. */
void azi_judge(struct az *az, struct conn *c, int d, struct pend *pd)
{
	struct az_rst_finding f;

	if (!pd->active)
		return;
	pd->active = false;
	if (judge_rst(c, d, pd, &f))
		record_finding(az, c, d, &f);
}

void azi_pend_finalize(struct az *az, struct conn *c, int d)
{
	if (c->x && c->x->pend[d].active)
		azi_judge(az, c, d, &c->x->pend[d]);
}

bool azi_has_pending(const struct conn *c)
{
	return c->x && (c->x->pend[0].active || c->x->pend[1].active);
}

/* The first RST in direction d: what each end could know (judge.c). */
void azi_pend_start(struct az *az, struct conn *c, int d,
                       const struct dec_tcp *s, double t, uint64_t idx)
{
	struct pend local;
	/* without the extension (a RST long after a graceful end) the RST is
	 * judged at once on what is known now */
	struct pend *pd = c->x ? &c->x->pend[d] : &local;

	judge_rst_open(c, d, s, t, idx, pd);
	if (!c->rtt_known || !c->x)
		azi_judge(az, c, d, pd);
}

/* Each side's finding gets its receiver's side (client_impact), now that
 * every RST and ACK of the connection is in; counted in the totals. */
void azi_finish_findings(struct az *az, struct conn *c)
{
	int side;

	for (side = 0; side < 2; side++) {
		struct az_rst_finding tmp, *f;

		if (!(c->flagged_sides & (1u << side)))
			continue;
		f = c->finding_idx[side] >= 0 ? &az->findings[c->finding_idx[side]] : &tmp;
		judge_impact(c, dir_of((enum az_side)side), f);
		az->totals.by_impact[side][f->impact]++;
	}
}

/* A RST ended c (as far as known now): FIN_WAIT_2 ends with it. */
void azi_rst_ends(struct az *az, struct conn *c, int d, double t)
{
	enum az_side sender = side_of(d);
	int h;

	c->rst_took = true;
	for (h = 0; h < 2; h++)
		azi_fw2_close(az, c, (enum az_side)h,
		          (enum az_side)h == sender ? AZ_FW2_SERVER_RST :
		                                      AZ_FW2_CLIENT_RST, t);
}

/* ------------------------------------------------------------------ */
/* the end of a connection                                             */

/* Summarize c, hand it out, and free its slot. */
void azi_conn_close(struct az *az, struct conn *c, double end_time)
{
	bool lingered;
	int k;
	enum az_kind kind;
	enum az_initiator init;
	enum az_zeek_state zeek;

	enum az_linger_end how = AZ_LINGER_CAPTURE_END;

	if (is_tomb(c->self)) {
		/* a tomb read back (its port came round, or its grace is
		 * over): its neighbours' links, written when it leaves the
		 * list (store_tomb_free), are out of cache; ask for them now,
		 * so that those misses overlap the summary's work */
		if (c->prev != NONE)
			__builtin_prefetch(&tomb_at(az, c->prev)->next, 1);
		if (c->next != NONE)
			__builtin_prefetch(&tomb_at(az, c->next)->prev, 1);
	}
	for (k = 0; k < 2; k++)
		azi_pend_finalize(az, c, k);
	if (c->flagged_sides)
		azi_finish_findings(az, c);
	judge_end(c);
	/* a RST that seemed not to end it when it passed, and did */
	if (c->end_rst >= 0 && !c->rst_took)
		azi_rst_ends(az, c, dir_of((enum az_side)c->end_rst),
		         end_time > c->end_rst_time ? end_time : c->end_rst_time);
	azi_fw2_close(az, c, AZ_SERVER, AZ_FW2_CAPTURE_END, end_time);
	azi_fw2_close(az, c, AZ_CLIENT, AZ_FW2_CAPTURE_END, end_time);
	if (az->cfg.on_conn || c->flagged_sides) {
		struct az_conn own;
		/* the caller's slot, if it gives one: it is the caller's
		 * again once on_conn has it, so that call comes last */
		struct az_conn *pub = az->cfg.on_conn && az->cfg.conn_slot ?
		                      az->cfg.conn_slot(az->cfg.arg) : &own;

		azi_fill_pub(c, pub);
		for (k = 0; k < 2; k++)
			if (c->finding_idx[k] >= 0)
				az->findings[c->finding_idx[k]].unanswered_requests =
					pub->http_unanswered;
		lingered = pub->lingered;
		how = pub->linger_end;
		/* the record has them: not worked out twice */
		kind = pub->kind;
		init = pub->initiator;
		zeek = pub->zeek_state;
		if (c->flagged_sides) {
			if (c->finding_idx[0] >= 0 || c->finding_idx[1] >= 0)
				azi_retain(az, c, pub);
			else
				az->totals.not_retained++;
		}
		if (az->cfg.on_conn)
			az->cfg.on_conn(pub, az->cfg.arg);
	} else {
		/* nobody wants the record: count it without building it
		 * (most connections of a long capture end here) */
		uint64_t lb;
		double ls;

		lingered = judge_linger(c, &lb, &ls, &how);
		kind = azi_kind_of(c);
		init = azi_initiator_of(c);
		zeek = zk_state(&c->zk);
	}
	azi_count_conn(az, kind, init, lingered, how, c->role_inferred, zeek);
	store_list_unlink(az, c);
	ft_remove(&az->ft, c->hash, c->self);
	if (az->last == c->self)
		az->last = NONE;
	az->live--;
	c->in_use = false;
	if (is_compact(c->self))
		return; /* a copy on the stack: store_embryo_close() or
		           store_parked_close() frees what it used */
	store_ext_release(az, c);
	if (!is_tomb(c->self))
		store_pool_put(&az->conns, c->self);
	else
		store_tomb_free(az, c->self);
}
