/*
 * zeek.c - a connection's Zeek conn.log `conn_state` and `history`.
 *
 * Users keep Zeek logs; to join lingerlab's findings with them, every
 * connection record carries the two fields Zeek would write for it. They
 * are computed as Zeek 6/7 computes them, from its sources (the TCP
 * session adapter's state machine and history, TCP_Endpoint's Size(),
 * base/protocols/conn/main.zeek's conn_state()), re-expressed here:
 *
 * Roles. Zeek's originator is the sender of the first packet, unless that
 * packet is not a pure SYN and its source port is a "likely server port"
 * (the TCP ports Zeek's base scripts register, zk_server_port()) and its
 * destination port is not, or both are and the packet has no SYN and the
 * source port is the lower: then the roles flip at once, and the history
 * starts with '^'. A pure SYN answering the originator's SYN-ACK flips
 * them later (again '^'). The originator's letters are upper case, the
 * responder's lower case.
 *
 * Endpoint states: INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL,
 * ESTABLISHED, CLOSED, RESET, moved by each packet's flags as Zeek's
 * UpdateStateMachine does (a SYN-ACK establishes both ends; data without
 * a SYN makes an end PARTIAL; a FIN closes; a RST resets, except that an
 * end that has sent its FIN keeps CLOSED once its peer has too, and a FIN
 * after the peer's FIN-then-RST turns that RST back into CLOSED).
 *
 * History letters, per packet: SYN 's' (or 'h' with ACK), FIN 'f', RST
 * 'r' (again each time the sequence number differs from that end's last
 * one of the kind); with none of these, data 'd' or a pure ACK 'a' (once
 * per end); FIN+RST 'i' and other multi-flag packets 'q' (once); 't' a
 * retransmission (a segment with payload that does not advance the end's
 * highest sequence number), 'w' a zero window (not with or after a RST,
 * nor after the peer's FIN), 'g' a content gap (an ACK covering bytes
 * never seen while both ends are established or closed from established):
 * these three at the 1st, 10th, 100th... time.
 *
 * Where lingerlab differs from Zeek, it says so here: checksums are not
 * verified (as `zeek -C`, the usual way to read captures taken on a
 * sending host), so there is no 'c'; relative sequence numbers are taken
 * modulo 2^32 (Zeek counts wraps; only a repeated SYN/FIN/RST more than
 * 4 GiB away could differ); the reassembly buffer behind 'g' is one range
 * past the in-order point (Zeek keeps every block: two holes covered by
 * one ACK are one gap here); connections are split where lingerlab splits
 * them (a new SYN after the end), which is where Zeek's reuse check splits
 * them in practice; no 'x' (lingerlab analyses every connection whole).
 */
#include "analyzer/zeek.h"

#include <string.h>

#include "analyzer/seq.h"


/* the letters written once per end: a bit each, +8 for the responder */
enum { HS_SYN, HS_FIN, HS_RST, HS_DATA, HS_ACK, HS_FIN_RST, HS_MULTI };

/* Zeek ignores SYN and RST sequence numbers that jump this far */
#define TOO_LARGE_SEQ_DELTA 1048576

/* The TCP ports of likely_server_ports after Zeek's base scripts load
 * (each protocol script adds the ports it registers its analyzer for). */
static bool zk_server_port(uint16_t p)
{
	static const uint16_t ports[] = {
		21, 22, 25, 53, 80, 81, 88, 110, 135, 139, 143, 389, 443, 445,
		502, 563, 585, 587, 614, 631, 636, 989, 990, 992, 993, 995, 1080,
		1883, 2811, 3128, 3268, 3306, 3389, 5222, 5223, 5269, 5432, 6379,
		6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000,
	};
	size_t lo = 0, hi = sizeof ports / sizeof ports[0];

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (ports[mid] == p)
			return true;
		if (ports[mid] < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static void add(struct zk *z, char ch)
{
	if (z->n < ZK_HISTORY_MAX) {
		z->h[z->n++] = ch;
		z->h[z->n] = '\0';
	} else {
		z->h[ZK_HISTORY_MAX - 1] = '+';
	}
}

static char letter(char upper, bool orig)
{
	return orig ? upper : (char)(upper - 'A' + 'a');
}

/* Zeek's CheckHistory: write the letter the first time; true if seen. */
static bool check(struct zk *z, int kind, bool orig, char upper)
{
	uint16_t bit = (uint16_t)(1u << (kind + (orig ? 0 : 8)));

	if (z->seen & bit)
		return true;
	z->seen |= bit;
	add(z, letter(upper, orig));
	return false;
}

/* Zeek's ScaledHistoryEntry with base 10: the 1st, 10th, 100th... */
static void scaled(struct zk *z, uint32_t *count, bool orig, char upper)
{
	uint32_t n;

	if (*count == UINT32_MAX)
		return;
	n = ++*count;
	while (n % 10 == 0)
		n /= 10;
	if (n == 1)
		add(z, letter(upper, orig));
}

static void set_state(struct zk_end *e, enum zk_estate s)
{
	if (e->state != s) {
		e->prev_state = e->state;
		e->state = (uint8_t)s;
	}
}

static void init_seq(struct zk_end *e, uint32_t start, uint32_t last)
{
	e->start = start;
	e->ack_seq = start;
	e->ack_known = true;
	e->last = last;
	e->deliv = start + 1;
	e->oo_start = e->oo_end = start + 1;
}

void zk_init(struct zk *z, const struct dec_tcp *s, bool src_is_lo)
{
	bool flip = false;
	uint8_t fl = s->flags;

	memset(z, 0, sizeof *z);
	z->orig_lo = src_is_lo;
	if (!(fl & LL_TH_SYN) || (fl & LL_TH_ACK)) {
		if (zk_server_port(s->sport)) {
			if (zk_server_port(s->dport))
				flip = !(fl & LL_TH_SYN) && s->sport < s->dport;
			else
				flip = true;
		}
	}
	if (flip) {
		z->orig_lo = !src_is_lo;
		add(z, '^');
	}
}

/* Zeek's init_endpoint: where an end's relative numbering starts. */
static void init_endpoint(struct zk_end *e, uint8_t fl, uint32_t seq, uint32_t last)
{
	switch (e->state) {
	case ZE_INACTIVE:
		if (fl & LL_TH_SYN)
			init_seq(e, seq, last);
		else
			init_seq(e, seq - 1, seq);
		break;
	case ZE_SYN_SENT:
	case ZE_SYN_ACK_SENT:
		if ((fl & LL_TH_SYN) && seq != e->start)
			init_seq(e, seq, last);
		break;
	case ZE_ESTABLISHED:
	case ZE_PARTIAL:
		if (fl & LL_TH_SYN)
			init_seq(e, seq, last);
		break;
	case ZE_RESET:
		if ((fl & LL_TH_SYN) && e->prev_state == ZE_INACTIVE)
			init_seq(e, seq, last);
		break;
	default:
		break;
	}
}

static void update_history(struct zk *z, struct zk_end *e, bool orig,
                           uint8_t fl, uint32_t rel, uint32_t len)
{
	int bits = !!(fl & LL_TH_SYN) + !!(fl & LL_TH_FIN) + !!(fl & LL_TH_RST);

	if (bits > 1) {
		if ((fl & LL_TH_FIN) && (fl & LL_TH_RST))
			check(z, HS_FIN_RST, orig, 'I');
		else
			check(z, HS_MULTI, orig, 'Q');
	} else if (bits == 1) {
		if (fl & LL_TH_SYN) {
			char code = (fl & LL_TH_ACK) ? 'H' : 'S';
			if (check(z, HS_SYN, orig, code) && rel != e->h_syn)
				add(z, letter(code, orig));
			e->h_syn = rel;
		}
		if (fl & LL_TH_FIN) {
			if (check(z, HS_FIN, orig, 'F') && rel + len != e->h_fin)
				add(z, letter('F', orig));
			e->h_fin = rel + len;
		}
		if (fl & LL_TH_RST) {
			if (check(z, HS_RST, orig, 'R') && rel != e->h_rst)
				add(z, letter('R', orig));
			e->h_rst = rel;
		}
	} else if (len) {
		check(z, HS_DATA, orig, 'D');
	} else if (fl & LL_TH_ACK) {
		check(z, HS_ACK, orig, 'A');
	}
}

/* Zeek's update_last_seq: the end's highest sequence number, and 't' for
 * a segment with payload that does not pass it. */
static void update_last(struct zk *z, struct zk_end *e, bool orig, uint8_t fl,
                        uint32_t next, uint32_t len)
{
	int32_t delta = (int32_t)(next - e->last);

	if ((fl & (LL_TH_SYN | LL_TH_RST)) &&
	    (delta > TOO_LARGE_SEQ_DELTA || delta < -TOO_LARGE_SEQ_DELTA))
		return;
	if ((fl & LL_TH_FIN) && e->last == e->start + 1)
		e->last = next;
	else if (e->state == ZE_RESET)
		return;
	else if (delta > 0)
		e->last = next;
	else if (len > 0)
		scaled(z, &e->n_rxmt, orig, 'T');
}

/* Zeek's UpdateStateMachine, for the end that sent this packet. Returns
 * true if the roles flipped (a SYN answering the originator's SYN-ACK). */
static bool update_state(struct zk_end *e, struct zk_end *peer, bool orig,
                         uint8_t fl, uint32_t len)
{
	bool flipped = false;

	switch (e->state) {
	case ZE_INACTIVE:
		if (fl & LL_TH_SYN) {
			if (orig) {
				set_state(e, (fl & LL_TH_ACK) ? ZE_SYN_ACK_SENT : ZE_SYN_SENT);
			} else {
				if (!(fl & LL_TH_ACK) && peer->state == ZE_SYN_ACK_SENT) {
					flipped = true;
					set_state(peer, ZE_ESTABLISHED);
				}
				if (peer->state == ZE_SYN_SENT)
					set_state(peer, ZE_ESTABLISHED);
				set_state(e, ZE_ESTABLISHED);
			}
		}
		if (fl & LL_TH_FIN)
			set_state(e, ZE_CLOSED);
		if (fl & LL_TH_RST)
			set_state(e, ZE_RESET);
		if (e->state == ZE_INACTIVE) {
			if (!orig && len == 0 && peer->state == ZE_SYN_SENT)
				; /* an ACK of the SYN before the SYN-ACK */
			else if ((fl & LL_TH_ACK) && peer->state == ZE_ESTABLISHED)
				set_state(e, ZE_ESTABLISHED);
			else
				set_state(e, ZE_PARTIAL);
		}
		break;
	case ZE_SYN_SENT:
	case ZE_SYN_ACK_SENT:
		if (fl & LL_TH_FIN)
			set_state(e, ZE_CLOSED);
		if (fl & LL_TH_RST)
			set_state(e, ZE_RESET);
		break;
	case ZE_ESTABLISHED:
	case ZE_PARTIAL:
		if ((fl & LL_TH_SYN) && !(fl & LL_TH_ACK) &&
		    e->state == ZE_PARTIAL && peer->state == ZE_INACTIVE)
			set_state(e, ZE_SYN_SENT);
		if ((fl & LL_TH_FIN) && !(fl & LL_TH_RST)) {
			set_state(e, ZE_CLOSED);
			if (peer->state == ZE_RESET && peer->prev_state == ZE_CLOSED)
				set_state(peer, ZE_CLOSED);
		}
		if (fl & LL_TH_RST)
			set_state(e, ZE_RESET);
		break;
	case ZE_CLOSED:
		if ((fl & LL_TH_RST) && peer->state != ZE_CLOSED)
			set_state(e, ZE_RESET);
		break;
	default:
		break;
	}
	return flipped;
}

static bool clean(const struct zk_end *e)
{
	return e->state == ZE_ESTABLISHED ||
	       (e->state == ZE_CLOSED && e->prev_state == ZE_ESTABLISHED);
}

/* The sender's data [seq, seq+len) reaches the reassembler. */
static void data_sent(struct zk_end *e, uint32_t seq, uint32_t len)
{
	uint32_t end = seq + len;

	if (seq_leq(seq, e->deliv)) {
		if (seq_after(end, e->deliv))
			e->deliv = end;
	} else if (e->oo_start == e->oo_end) {
		e->oo_start = seq;
		e->oo_end = end;
	} else if (seq_leq(seq, e->oo_end) && seq_geq(end, e->oo_start)) {
		e->oo_start = seq_min(e->oo_start, seq);
		e->oo_end = seq_max(e->oo_end, end);
	} else if (seq_after(seq, e->oo_end)) {
		e->oo_start = seq; /* keep the latest range */
		e->oo_end = end;
	}
	if (e->oo_start != e->oo_end && seq_geq(e->deliv, e->oo_start)) {
		e->deliv = seq_max(e->deliv, e->oo_end);
		e->oo_start = e->oo_end = e->deliv;
	}
}

/* The peer ACKed e's data up to ack: bytes it covers that were never seen
 * are a content gap ('g' for e), when both ends are in a clean state. */
static void ack_received(struct zk *z, struct zk_end *e, const struct zk_end *peer,
                         bool e_orig, uint32_t ack, bool partial)
{
	bool missing;

	if (e->fin_seen && seq_geq(ack, e->fin_end))
		ack = e->fin_end - 1;
	if (seq_leq(ack, e->deliv))
		return;
	if (partial && (uint32_t)(ack - e->start) <= 2) {
		e->deliv = ack;
		return;
	}
	missing = e->oo_start == e->oo_end || seq_after(e->oo_start, e->deliv);
	if (missing && clean(e) && clean(peer))
		scaled(z, &e->n_gap, e_orig, 'G');
	e->deliv = ack;
	if (e->oo_start != e->oo_end && seq_geq(ack, e->oo_start)) {
		e->deliv = seq_max(ack, e->oo_end);
		e->oo_start = e->oo_end = e->deliv;
	}
}

/* The common packet in one piece: an ACK (no SYN, FIN or RST), with or
 * without data, between two ends each ESTABLISHED or CLOSED (the same
 * steps as zk_packet_slow's, with the branches that cannot apply taken
 * out: no end is INACTIVE, PARTIAL or RESET, and such a packet changes no
 * state; see zk_packet()). */
void zk_established(struct zk *z, struct zk_end *e, struct zk_end *peer,
                    bool orig, const struct dec_tcp *s)
{
	uint32_t len = s->seg_len, next = s->seq + len;
	int32_t d;

	if (len)
		check(z, HS_DATA, orig, 'D');
	else
		check(z, HS_ACK, orig, 'A');
	if (s->win == 0 && peer->state != ZE_CLOSED)
		scaled(z, &e->n_win0, orig, 'W');
	d = (int32_t)(s->ack - peer->ack_seq);
	if (d > 0 && !(s->ack == 0 && d > TOO_LARGE_SEQ_DELTA))
		peer->ack_seq = s->ack;
	if ((int32_t)(next - e->last) > 0)
		e->last = next;
	else if (len > 0)
		scaled(z, &e->n_rxmt, orig, 'T');
	if (seq_after(s->ack, peer->deliv))
		ack_received(z, peer, e, !orig, s->ack, false);
	if (len)
		data_sent(e, s->seq, len);
}

void zk_packet_slow(struct zk *z, const struct dec_tcp *s, bool src_is_lo)
{
	int me = src_is_lo ? 0 : 1;
	struct zk_end *e = &z->e[me], *peer = &z->e[!me];
	bool orig = (z->orig_lo != 0) == src_is_lo;
	uint8_t fl = s->flags;
	uint32_t len = s->seg_len;
	uint32_t seg = len + !!(fl & LL_TH_SYN) + !!(fl & LL_TH_FIN);
	bool partial;
	uint32_t rel;

	if (fl & LL_TH_RST)
		seg -= len;
	/* a connection Zeek would call partial: it saw no SYN first */
	partial = e->state == ZE_PARTIAL || peer->state == ZE_PARTIAL;
	init_endpoint(e, fl, s->seq, s->seq + seg);
	rel = s->seq - e->start;
	update_history(z, e, orig, fl, rel, len);
	if (s->win == 0 && !(fl & LL_TH_RST) && peer->state != ZE_CLOSED &&
	    e->state != ZE_RESET)
		scaled(z, &e->n_win0, orig, 'W');
	if (fl & LL_TH_FIN)
		e->fin_seen = true, e->fin_end = s->seq + seg;
	if (fl & LL_TH_ACK) {
		if (peer->state == ZE_INACTIVE) {
			init_seq(peer, s->ack - 1, s->ack - 1);
		} else if (!(fl & LL_TH_RST)) {
			int32_t d = (int32_t)(s->ack - peer->ack_seq);
			if (!(s->ack == 0 && d > TOO_LARGE_SEQ_DELTA) && d > 0)
				peer->ack_seq = s->ack;
		}
	}
	update_last(z, e, orig, fl, s->seq + seg, len);
	if (update_state(e, peer, orig, fl, len)) {
		z->orig_lo = !z->orig_lo;
		add(z, '^');
	}
	orig = (z->orig_lo != 0) == src_is_lo;
	if ((fl & LL_TH_ACK) && !(fl & LL_TH_RST))
		ack_received(z, peer, e, !orig, s->ack, partial);
	if (len > 0 && !(fl & LL_TH_RST))
		data_sent(e, (fl & LL_TH_SYN) ? s->seq + 1 : s->seq, len);
}

/* TCP_Endpoint::Size(): the payload bytes an end sent, from its sequence
 * numbers (or its peer's ACKs, if further), less the SYN and FIN. Only
 * whether it is zero matters here. */
static bool size_zero(const struct zk_end *e, const struct zk_end *peer)
{
	uint32_t top;
	int32_t size;

	if (e->prev_state == ZE_SYN_SENT && e->state == ZE_RESET &&
	    peer->state == ZE_INACTIVE &&
	    !(e->ack_seq == e->start || e->ack_seq == e->start + 1))
		return true;
	top = seq_after(e->last, e->ack_seq) ? e->last : e->ack_seq;
	size = (int32_t)(top - e->start);
	if (size != 0)
		size--;
	if (e->fin_seen && size != 0)
		size--;
	return size == 0;
}

/* A history matching ^?S[^HAFGIQ]*R.* (a SYN, then a RST before any
 * handshake, ACK, FIN, gap or odd packet of the originator). */
static bool syn_then_rst(const char *h)
{
	if (*h == '^')
		h++;
	if (*h++ != 'S')
		return false;
	for (; *h; h++) {
		if (*h == 'R')
			return true;
		if (strchr("HAFGIQ", *h))
			return false;
	}
	return false;
}

enum az_zeek_state zk_state(const struct zk *z)
{
	const struct zk_end *o = &z->e[z->orig_lo ? 0 : 1];
	const struct zk_end *r = &z->e[z->orig_lo ? 1 : 0];
	bool o_inactive = o->state == ZE_INACTIVE || o->state == ZE_PARTIAL;
	bool r_inactive = r->state == ZE_INACTIVE || r->state == ZE_PARTIAL;

	if (r->state == ZE_RESET) {
		if (o->state == ZE_SYN_SENT || o->state == ZE_SYN_ACK_SENT ||
		    (o->state == ZE_RESET && size_zero(o, r) && size_zero(r, o)))
			return AZ_ZK_REJ;
		return o_inactive ? AZ_ZK_RSTRH : AZ_ZK_RSTR;
	}
	if (o->state == ZE_RESET) {
		if (r_inactive)
			return syn_then_rst(z->h) ? AZ_ZK_RSTOS0 : AZ_ZK_OTH;
		return AZ_ZK_RSTO;
	}
	if (r->state == ZE_CLOSED && o->state == ZE_CLOSED)
		return AZ_ZK_SF;
	if (o->state == ZE_CLOSED)
		return r_inactive ? AZ_ZK_SH : AZ_ZK_S2;
	if (r->state == ZE_CLOSED)
		return o_inactive ? AZ_ZK_SHR : AZ_ZK_S3;
	if (o->state == ZE_SYN_SENT && r->state == ZE_INACTIVE)
		return AZ_ZK_S0;
	if (o->state == ZE_ESTABLISHED && r->state == ZE_ESTABLISHED)
		return AZ_ZK_S1;
	return AZ_ZK_OTH;
}
