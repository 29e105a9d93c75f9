/*
 * ladder.h - what the two rooms of the ladder share (internal to
 * reports/ladder.c, which draws, and reports/ladder_bands.c, which decides
 * which runs of packets become bands). Callers use svg.h.
 */
#ifndef LL_REPORTS_LADDER_H
#define LL_REPORTS_LADDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "reports/reportfile.h"

#define BAND_MIN   6       /* packets in a run before it becomes a band */

struct band {
	size_t k0, k1;         /* timeline packets k0..k1, inclusive */
	double y0, y1;
	long long data[2], bytes[2], acks[2], rsts[2]; /* [RF_C2S], [RF_S2C] */
};

struct lad {
	const json_t *conn, *finding;
	const char *where;      /* id prefix: "" or "conn-", "scn-" */
	struct rf_timeline tl;
	bool collapse;
	int *band_of;          /* per packet: band number or -1 */
	struct band *bands;
	size_t nband;
};

/* What the receiver does with the RST at timeline index k: the finding's
 * impact.rsts for its sender's RSTs, RFC 5961 3.2 on the timeline for
 * the others (as `explain` tells them): "reset", "challenge_ack",
 * "ignored", or NULL when neither says (a RST that answers a SYN, or finds
 * the connection already reset). *at_server: the receiver is the server.
 * Only those three words reach a class name. */
const char *lad_rst_accept(const struct lad *L, size_t k, bool *at_server);

/*
 * Fill L->band_of (every packet's band, -1 for none) and L->bands, when
 * L->collapse: the runs of BAND_MIN or more packets that do not matter to
 * the teardown. L->band_of and L->bands are the caller's, sized for
 * L->tl.n packets and L->tl.n / BAND_MIN + 1 bands. Returns 0, or -1 when
 * out of memory.
 */
int lad_find_bands(struct lad *L);

/* "143 data segments, 37.0 KiB, 70 ACKs" for direction d of band b. */
void lad_band_words(FILE *f, const struct band *b, int d);

#endif
