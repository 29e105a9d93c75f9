/*
 * ladder_bands.c - which packets of a ladder are drawn one by one and
 * which runs become bands (contract in ladder.h). What matters to a
 * teardown is always drawn: the handshake, the first and last data of each
 * side, every retransmission and FIN, the RSTs that do something, the
 * finding's at-risk packets, the ACKs that cover each side's last data and
 * FIN. The rest, bulk data and its ACKs and a kernel's RST for each late
 * segment, may be folded when BAND_MIN or more of them run together.
 */
#include "reports/ladder.h"

#include <stdlib.h>
#include <string.h>

#include "analyzer/analyzer.h"
#include "analyzer/seq.h"
#include "reports/explain.h"

const char *lad_rst_accept(const struct lad *L, size_t k, bool *at_server)
{
	const struct rf_pkt *p = &L->tl.pkts[k];
	const json_t *im = rf_obj(L->finding, "impact"), *r, *rtt;
	const char *sender = rf_str(L->finding, "sender");
	struct ex_rst v;
	size_t j;

	if (sender && !strcmp(sender, p->dir == RF_C2S ? "client" : "server")) {
		/* the finding's sender: its impact.rsts say */
		*at_server = rf_str(im, "at") && !strcmp(rf_str(im, "at"), "server");
		json_array_foreach(rf_arr(im, "rsts"), j, r) {
			const char *a = rf_str(r, "accept");
			if (rf_int(r, "packet", -1) != p->i || !a)
				continue;
			if (!strcmp(a, "reset") || !strcmp(a, "challenge_ack") || !strcmp(a, "ignored"))
				return a;
		}
		return NULL;
	}
	/* no finding speaks for it: RFC 5961 3.2 on the timeline, as the
	 * story tells it (reports/explain_close.c) */
	rtt = rf_obj(L->conn, "rtt");
	ex_rst_judge(&L->tl, k, !rtt ? 0 : rf_num(rtt, p->dir == RF_C2S ? "to_server" : "to_client", 0),
	             &v);
	if (v.syn_sent || v.peer_reset || (v.fate == AZ_ACCEPT_RESET && !v.ended))
		return NULL;
	*at_server = p->dir == RF_C2S;
	return v.fate == AZ_ACCEPT_RESET ? "reset" :
	       v.fate == AZ_ACCEPT_CHALLENGE_ACK ? "challenge_ack" : "ignored";
}

/*
 * A RST is drawn on its own when it is the first or the last of its
 * direction, the finding's, or one its receiver does not simply ignore
 * (the one it accepts, one it answers with a challenge ACK). The others
 * are a kernel answering each late segment alike; they may join a band.
 */
static bool rst_matters(const struct lad *L, size_t k)
{
	const struct rf_timeline *tl = &L->tl;
	const struct rf_pkt *p = &tl->pkts[k];
	bool at_server;
	const char *acc = lad_rst_accept(L, k, &at_server);
	size_t j;
	bool first = true, last = true;

	if (L->finding && p->i == rf_int(L->finding, "rst_packet", -1))
		return true;
	if (acc && strcmp(acc, "ignored"))
		return true;
	for (j = 0; j < tl->n; j++) {
		if (!tl->pkts[j].rst || tl->pkts[j].dir != p->dir || j == k)
			continue;
		if (j < k)
			first = false;
		else
			last = false;
	}
	return first || last;
}

/*
 * Mark the packets that must be drawn one by one (see the opening
 * comment); the rest may join a band.
 */
static void mark_important(const struct lad *L, bool *imp)
{
	const struct rf_timeline *tl = &L->tl;
	long long first_data[2] = { -1, -1 }, last_data[2] = { -1, -1 };
	uint32_t end[2] = { 0, 0 }, fin[2] = { 0, 0 };
	bool has_data[2] = { false, false }, has_fin[2] = { false, false };
	bool covered_data[2] = { false, false }, covered_fin[2] = { false, false };
	bool has_syn[2] = { false, false }, covered_syn[2] = { false, false };
	size_t k;

	for (k = 0; k < tl->n; k++) {
		const struct rf_pkt *p = &tl->pkts[k];
		int d = p->dir;
		if (p->syn || p->fin)
			imp[k] = true;
		if (p->syn)
			has_syn[d] = true;
		if (p->rst && rst_matters(L, k))
			imp[k] = true;
		if (L->finding && rf_at_risk(L->finding, p->i))
			imp[k] = true;
		if (p->len > 0) {
			/* a retransmission (no new byte) tells of loss or of a
			 * peer gone silent: always drawn */
			if (has_data[d] && !seq_after(p->seq + p->len, end[d]))
				imp[k] = true;
			if (first_data[d] < 0)
				first_data[d] = (long long)k;
			last_data[d] = (long long)k;
			if (!has_data[d] || seq_after(p->seq + p->len, end[d]))
				end[d] = p->seq + p->len;
			has_data[d] = true;
		}
		if (p->fin) {
			has_fin[d] = true;
			fin[d] = p->seq + p->len;
		}
		/* the packets around the omitted middle frame it */
		if (tl->omitted_after >= 0 && (k == (size_t)tl->omitted_after ||
		                               k == (size_t)tl->omitted_after + 1))
			imp[k] = true;
	}
	for (int d = 0; d < 2; d++) {
		if (first_data[d] >= 0)
			imp[first_data[d]] = true;
		if (last_data[d] >= 0)
			imp[last_data[d]] = true;
	}
	/* the first ACK that covers each side's last data byte, and its FIN */
	for (k = 0; k < tl->n; k++) {
		const struct rf_pkt *p = &tl->pkts[k];
		int o = !p->dir;        /* the direction p acknowledges */
		if (!p->ack)
			continue;
		/* the handshake's third packet */
		if (has_syn[o] && !covered_syn[o] && !p->syn) {
			covered_syn[o] = true;
			imp[k] = true;
		}
		if (has_data[o] && !covered_data[o] && seq_geq(p->ack_no, end[o])) {
			covered_data[o] = true;
			imp[k] = true;
		}
		if (has_fin[o] && !covered_fin[o] && seq_after(p->ack_no, fin[o])) {
			covered_fin[o] = true;
			imp[k] = true;
		}
	}
}

/* Find the bands: runs of BAND_MIN or more unimportant packets. */
int lad_find_bands(struct lad *L)
{
	const struct rf_timeline *tl = &L->tl;
	bool *imp = calloc(tl->n, sizeof *imp);
	size_t k, run = 0;

	if (!imp)
		return -1;
	for (k = 0; k < tl->n; k++)
		L->band_of[k] = -1;
	if (!L->collapse) {
		free(imp);
		return 0;
	}
	mark_important(L, imp);
	for (k = 0; k <= tl->n; k++) {
		if (k < tl->n && !imp[k]) {
			run++;
			continue;
		}
		if (run >= BAND_MIN) {
			struct band *b = &L->bands[L->nband];
			memset(b, 0, sizeof *b);
			b->k0 = k - run;
			b->k1 = k - 1;
			for (size_t j = b->k0; j <= b->k1; j++) {
				const struct rf_pkt *p = &tl->pkts[j];
				L->band_of[j] = (int)L->nband;
				if (p->rst) {
					b->rsts[p->dir]++;
				} else if (p->len > 0) {
					b->data[p->dir]++;
					b->bytes[p->dir] += p->len;
				} else {
					b->acks[p->dir]++;
				}
			}
			L->nband++;
		}
		run = 0;
	}
	free(imp);
	return 0;
}

/* "143 data segments, 37.0 KiB" / "70 ACKs" / both, for one direction. */
void lad_band_words(FILE *f, const struct band *b, int d)
{
	bool any = false;

	if (b->data[d] > 0) {
		fprintf(f, "%lld data segment%s, ", b->data[d], b->data[d] == 1 ? "" : "s");
		if (b->bytes[d] >= 1024)
			fprintf(f, "%.1f KiB", b->bytes[d] / 1024.0);
		else
			fprintf(f, "%lld bytes", b->bytes[d]);
		any = true;
	}
	if (b->acks[d] > 0) {
		fprintf(f, "%s%lld ACK%s", any ? ", " : "", b->acks[d], b->acks[d] == 1 ? "" : "s");
		any = true;
	}
	if (b->rsts[d] > 0)
		fprintf(f, "%s%lld RST%s alike", any ? ", " : "", b->rsts[d], b->rsts[d] == 1 ? "" : "s");
}
