/*
 * teardown.h - inside the analyzer (analyzer.c and teardown.c): the events
 * that move each side's RFC 9293 state, FIN_WAIT_2 intervals opened and
 * closed, and the RSTs judged into findings. Not part of the API.
 */
#ifndef LL_ANALYZER_TEARDOWN_H
#define LL_ANALYZER_TEARDOWN_H

#include <stdint.h>

#include "analyzer/conn.h"
#include "analyzer/decode.h"
#include "analyzer/store.h"

enum ev {
	EV_SND_SYN,        /* this side sent a SYN */
	EV_SND_SYNACK,     /* this side sent a SYN-ACK */
	EV_ESTAB,          /* the client ACKed the server's SYN */
	EV_SND_FIN,        /* this side sent its FIN */
	EV_FIN_ACKED,      /* the peer ACKed this side's FIN */
	EV_RCV_FIN,        /* this side ACKed the peer's FIN */
	/* a RST is no event here: which one ended the connection is known
	 * only later (judge.c rule 4), and judge_end() closes both sides */
};

/* ------------------------------------------------------------------ */
/* per-side state, as far as the wire shows it                         */

static inline enum az_state azi_next_state(enum az_state s, enum ev e)
{
	switch (s) {
	case AZ_ST_UNKNOWN:
		/* nothing sent yet (a listener, or the capture began late) */
		if (e == EV_SND_SYN)
			return AZ_ST_SYN_SENT;       /* RFC 9293 3.10.1: OPEN sends SYN */
		if (e == EV_SND_SYNACK)
			return AZ_ST_SYN_RECEIVED;   /* RFC 9293 3.10.7.2: LISTEN gets SYN */
		if (e == EV_ESTAB)
			return AZ_ST_ESTABLISHED;
		if (e == EV_SND_FIN)
			return AZ_ST_FIN_WAIT_1;
		if (e == EV_RCV_FIN)
			return AZ_ST_CLOSE_WAIT;
		return s;
	case AZ_ST_SYN_SENT:
		if (e == EV_ESTAB)
			return AZ_ST_ESTABLISHED;    /* RFC 9293 3.10.7.3: SYN-ACK, send ACK */
		if (e == EV_SND_SYNACK)
			return AZ_ST_SYN_RECEIVED;   /* RFC 9293 3.10.7.3: simultaneous open */
		return s;
	case AZ_ST_SYN_RECEIVED:
		if (e == EV_ESTAB)
			return AZ_ST_ESTABLISHED;    /* RFC 9293 3.10.7.4: ACK of our SYN */
		if (e == EV_SND_FIN)
			return AZ_ST_FIN_WAIT_1;     /* RFC 9293 3.10.4: CLOSE in SYN-RECEIVED */
		return s;
	case AZ_ST_ESTABLISHED:
		if (e == EV_SND_FIN)
			return AZ_ST_FIN_WAIT_1;     /* RFC 9293 3.10.4: CLOSE sends FIN */
		if (e == EV_RCV_FIN)
			return AZ_ST_CLOSE_WAIT;     /* RFC 9293 3.10.7.4 eighth: FIN received */
		return s;
	case AZ_ST_FIN_WAIT_1:
		if (e == EV_FIN_ACKED)
			return AZ_ST_FIN_WAIT_2;     /* RFC 9293 3.10.7.4: our FIN ACKed */
		if (e == EV_RCV_FIN)
			return AZ_ST_CLOSING;        /* RFC 9293 3.10.7.4: FIN before our FIN's ACK */
		return s;
	case AZ_ST_FIN_WAIT_2:
		if (e == EV_RCV_FIN)
			return AZ_ST_TIME_WAIT;      /* RFC 9293 3.10.7.4: FIN in FIN-WAIT-2 */
		return s;
	case AZ_ST_CLOSING:
		if (e == EV_FIN_ACKED)
			return AZ_ST_TIME_WAIT;      /* RFC 9293 3.10.7.4: ACK of our FIN in CLOSING */
		return s;
	case AZ_ST_CLOSE_WAIT:
		if (e == EV_SND_FIN)
			return AZ_ST_LAST_ACK;       /* RFC 9293 3.10.4: CLOSE in CLOSE-WAIT */
		return s;
	case AZ_ST_LAST_ACK:
		if (e == EV_FIN_ACKED)
			return AZ_ST_CLOSED;         /* RFC 9293 3.10.7.4: ACK of our FIN in LAST-ACK */
		return s;
	case AZ_ST_TIME_WAIT:                /* RFC 9293 3.10.7.4: waits out 2 MSL */
	case AZ_ST_CLOSED:                   /* RFC 9293 3.3.2: no connection */
		return s;
	}
	return s;
}

static inline void azi_side_ev(struct conn *c, enum az_side side, enum ev e)
{
	struct cdir *d = &c->d[dir_of(side)];
	d->state = azi_next_state(d->state, e);
}

/* holder's FIN_WAIT_2 begins at t (once), or ends at t, how. */
void azi_fw2_open(struct az *az, struct conn *c, enum az_side holder, double t);
void azi_fw2_close(struct az *az, struct conn *c, enum az_side holder,
                   enum az_fw2_end how, double t);

/* The first RST in direction d (packet idx at t): judged now, or once the
 * round trip has shown what its receiver had (azi_pend_finalize). */
void azi_pend_start(struct az *az, struct conn *c, int d,
                    const struct dec_tcp *s, double t, uint64_t idx);
void azi_pend_finalize(struct az *az, struct conn *c, int d);
/* Decide the RST pd describes (sent in direction d), once. */
void azi_judge(struct az *az, struct conn *c, int d, struct pend *pd);
/* A RST sent in direction d ended c at t: every FIN_WAIT_2 ends with it. */
void azi_rst_ends(struct az *az, struct conn *c, int d, double t);
/* Each finding's receiver side (client_impact), counted in the totals. */
void azi_finish_findings(struct az *az, struct conn *c);

#endif
