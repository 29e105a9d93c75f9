/*
 * summary.c - a connection as the report tells it: its kind, who closed
 * first, each direction's figures made relative, lingering, the timeline
 * of a retained (flagged) connection, and the totals every connection is
 * counted in. analyzer.c calls these when a connection is summarized
 * (azi_conn_close); the record's fields are analyzer.h's struct az_conn.
 */
#include <stdlib.h>
#include <string.h>

#include "analyzer/judge.h"
#include "analyzer/store.h"

enum az_kind azi_kind_of(const struct conn *c)
{
	bool fin0 = c->d[0].fin_seen, fin1 = c->d[1].fin_seen;

	if (c->first_rst < 0) {
		if (fin0 && fin1)
			return AZ_KIND_GRACEFUL;
		if (fin0 || fin1)
			return AZ_KIND_HALF_OPEN;
		return AZ_KIND_OPEN;
	}
	if (c->rst_after_both_fins || c->rst_refused_syn)
		return AZ_KIND_RESET;
	return c->rst_sender_had_fin ? AZ_KIND_FIN_THEN_RST : AZ_KIND_ABORT;
}

enum az_initiator azi_initiator_of(const struct conn *c)
{
	if (c->simultaneous)
		return AZ_INIT_SIMULTANEOUS;
	if (c->first_close < 0)
		return AZ_INIT_NONE;
	return c->first_close == AZ_CLIENT ? AZ_INIT_CLIENT : AZ_INIT_SERVER;
}

/* The base of direction d for output: known, or guessed from the peer's
 * first ACK when the direction never sent a segment. */
static uint32_t out_base(const struct cdir *D)
{
	if (D->base_known)
		return D->base;
	if (D->acked_seen)
		return D->first_ack - 1;
	return 0;
}

static void fill_dir(struct az_dir *o, const struct cdir *D, uint32_t http_msgs)
{
	uint32_t b = out_base(D);

	o->isn_known = D->isn_known;
	o->isn = b;
	o->data_end = D->base_known ? D->data_end - b : 0;
	o->fin_seen = D->fin_seen;
	o->fin_seq = D->fin_seen ? D->fin_seq - b : 0;
	o->fin_time = D->fin_time;
	o->fin_packet = D->fin_packet;
	o->acked_seen = D->acked_seen;
	o->acked = D->acked_seen ? D->acked - b : 0;
	o->rst_seen = D->rst_seen;
	o->rst_time = D->rst_time;
	o->rst_packet = D->rst_packet;
	o->rst_seq = D->rst_seen ? D->rst_seq - b : 0;
	o->rst_count = D->rst_count;
	o->packets = D->packets;
	o->bytes = D->bytes;
	o->retrans_packets = D->retrans_packets;
	o->retrans_bytes = D->retrans_bytes;
	o->mss = D->mss;
	o->wscale = D->wscale;
	o->sack_permitted = D->sack_permitted;
	o->timestamps = D->timestamps;
	o->http_messages = http_msgs;
}

void azi_fill_pub(const struct conn *c, struct az_conn *o)
{
	const struct flow_key *k = &c->key;
	const struct cdir *cs = &c->d[AZ_C2S], *sc = &c->d[AZ_S2C];
	int i;

	memset(o, 0, sizeof(*o));
	o->id = c->id;
	o->af = k->af;
	memcpy(o->client_addr, c->client_is_lo ? k->lo_addr : k->hi_addr, 16);
	memcpy(o->server_addr, c->client_is_lo ? k->hi_addr : k->lo_addr, 16);
	o->client_port = c->client_is_lo ? k->lo_port : k->hi_port;
	o->server_port = c->client_is_lo ? k->hi_port : k->lo_port;
	o->role_inferred = c->role_inferred;
	o->handshake_seen = c->syn_seen && c->synack_seen && c->hsack_seen;
	o->rtt_known = c->rtt_known;
	o->h_s = c->rtt_known ? c->h_s : 0;
	o->h_c = c->rtt_known ? c->h_c : 0;
	o->first_time = c->first_time;
	o->last_time = c->last_time;
	o->first_packet = c->first_packet;
	o->last_packet = c->last_packet;
	fill_dir(&o->c2s, cs, c->http.requests);
	fill_dir(&o->s2c, sc, c->http.status_lines);
	o->initiator = azi_initiator_of(c);
	o->kind = azi_kind_of(c);
	o->client_end = cs->state;
	o->server_end = sc->state;
	if (c->x) {
		o->tls_records_c2s = c->x->td[AZ_C2S].records;
		o->tls_records_s2c = c->x->td[AZ_S2C].records;
		o->tls_version = c->x->td[AZ_S2C].version;
		memset(o->tls_not_decrypted, 0, sizeof o->tls_not_decrypted);
		o->tls_records_decrypted = tlsdec_counts(c->x->dec, c->x->td,
		                                         o->tls_not_decrypted);
	} else {
		o->tls_records_c2s = c->tls_records[AZ_C2S];
		o->tls_records_s2c = c->tls_records[AZ_S2C];
		o->tls_version = c->tls_version;
		o->tls_records_decrypted = c->tls_kept.decrypted;
		for (int r = 0; r < AZ_TLS_NSKIPS; r++)
			o->tls_not_decrypted[r] = c->tls_kept.skip[r];
	}
	o->tls_decrypted = o->tls_records_decrypted > 0;
	o->zeek_state = zk_state(&c->zk);
	memcpy(o->zeek_history, c->zk.h, sizeof o->zeek_history);
	o->zeek_orig_is_client = zk_orig_is_client(&c->zk, c->client_is_lo);

	o->lingered = judge_linger(c, &o->linger_bytes, &o->linger_seconds,
	                           &o->linger_end);
	o->server_fw2 = c->fw2[AZ_SERVER];
	o->client_fw2 = c->fw2[AZ_CLIENT];

	o->http_requests = c->http.requests;
	o->http_responses = c->http.responses;
	o->http_unanswered = c->http.requests > c->http.responses ?
	                     c->http.requests - c->http.responses : 0;
	o->n_responses = c->http.n_resp;
	for (i = 0; i < c->http.n_resp; i++) {
		uint32_t b = out_base(sc);
		o->responses[i] = c->http.resp[i];
		o->responses[i].seq_start -= b;
		if (o->responses[i].seq_end)
			o->responses[i].seq_end -= b;
	}
	o->evicted = c->evicted;
	o->finding_of[AZ_CLIENT] = c->finding_idx[AZ_CLIENT];
	o->finding_of[AZ_SERVER] = c->finding_idx[AZ_SERVER];
	o->finding = c->finding_idx[AZ_SERVER] >= 0 ? c->finding_idx[AZ_SERVER] :
	             c->finding_idx[AZ_CLIENT];
}

/* Copy a timeline entry, made relative. */
static struct az_tl_pkt tl_rel(const struct conn *c, const struct az_tl_pkt *e)
{
	struct az_tl_pkt r = *e;
	const struct cdir *D = &c->d[e->dir & 1], *P = &c->d[!(e->dir & 1)];

	r.seq = e->seq - out_base(D);
	r.ack = (e->flags & LL_TH_ACK) ? e->ack - out_base(P) : 0;
	if (!(e->flags & LL_TH_SYN) && D->wscale >= 0 && P->wscale >= 0)
		r.win = e->win << (D->wscale > 14 ? 14 : D->wscale);
	return r;
}

void azi_retain(struct az *az, const struct conn *c, const struct az_conn *pub)
{
	const struct conn_ext *x = c->x;
	struct az_conn *o;
	struct az_tl_pkt *tl = NULL;
	uint32_t n_tail = 0, i;
	uint64_t first;

	if (az->n_retained == az->cap_retained) {
		size_t ncap = az->cap_retained ? az->cap_retained * 2 : 16;
		struct az_conn *nr = realloc(az->retained, ncap * sizeof(*nr));
		if (!nr) {
			az->totals.not_retained++;
			return;
		}
		az->retained = nr;
		az->cap_retained = ncap;
	}
	if (x) {
		n_tail = x->cap_tail == 0 ? 0 :
		         (uint32_t)(x->n_tail < x->cap_tail ? x->n_tail : x->cap_tail);
		tl = malloc(((size_t)x->n_head + n_tail + 1) * sizeof(*tl));
	}
	o = &az->retained[az->n_retained++];
	*o = *pub;
	az->totals.retained++;
	if (az->n_retained > 1 && az->retained[az->n_retained - 2].id > o->id)
		az->retained_sorted = false;
	if (!tl)
		return; /* kept without a timeline */
	for (i = 0; i < x->n_head; i++)
		tl[i] = tl_rel(c, &x->tl_head[i]);
	first = x->n_tail > n_tail ? x->n_tail % x->cap_tail : 0;
	for (i = 0; i < n_tail; i++)
		tl[x->n_head + i] = tl_rel(c, &x->tl_tail[(first + i) % x->cap_tail]);
	o->tl_head = tl;
	o->n_head = x->n_head;
	o->tl_tail = tl + x->n_head;
	o->n_tail = n_tail;
	o->tl_omitted = (x->n_tail - n_tail) + x->tl_lost;
}

/* One connection more in the totals (a seal's, or azi_conn_close()'s). */
void azi_count_conn(struct az *az, enum az_kind kind, enum az_initiator init,
                    bool lingered, enum az_linger_end how, bool role_inferred,
                    enum az_zeek_state zeek)
{
	az->totals.connections++;
	if ((unsigned)zeek < AZ_NZEEK_STATES)
		az->totals.by_zeek_state[zeek]++;
	az->totals.by_kind[kind]++;
	az->totals.by_initiator[init]++;
	if (lingered) {
		az->totals.lingered++;
		az->totals.linger_ends[how]++;
	}
	if (role_inferred)
		az->totals.role_inferred++;
}

