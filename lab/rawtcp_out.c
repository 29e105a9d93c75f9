/*
 * rawtcp_out.c - what one connection of the raw TCP client sends: the send
 * buffer, segmentation to the peer's window (no Nagle), the FIN, the paced
 * body generator, and making each segment (emit: header fields, options,
 * the ACK the policy allows), which then waits rtt/2 in the delay queue
 * (lab/rawtcp_wire.c builds and injects it). RFC 9293 3.8.6, RFC 7323.
 */
#include "lab/rawtcp_int.h"

/* The acknowledgment the ACK policy lets any segment carry now. */
static uint64_t ack_allowed(const struct rawtcp_conn *k)
{
	uint64_t full = full_ack(k);
	switch (k->o.ack.mode) {
	case RAWTCP_ACK_NOW:
	case RAWTCP_ACK_DELAYED:
		return full;
	case RAWTCP_ACK_NEVER:
		return k->ack_sent;
	case RAWTCP_ACK_UPTO:
		return max64(k->ack_sent, min64(full, k->o.ack.upto));
	}
	return k->ack_sent;
}

/* SYN options, in Linux's order: MSS, SACK-permitted + timestamps (or
 * NOPs), NOP + window scale. Returns the length (a multiple of 4). */
static uint8_t syn_options(const struct rawtcp_conn *k, uint32_t tsval, uint8_t *o)
{
	uint8_t n = 0;
	o[n++] = 2; o[n++] = 4;
	o[n++] = (uint8_t)(k->o.mss >> 8); o[n++] = (uint8_t)k->o.mss;
	if (k->o.sack_permitted && k->o.timestamps) {
		o[n++] = 4; o[n++] = 2;
	} else if (k->o.sack_permitted) {
		o[n++] = 1; o[n++] = 1; o[n++] = 4; o[n++] = 2;
	} else if (k->o.timestamps) {
		o[n++] = 1; o[n++] = 1;
	}
	if (k->o.timestamps) {
		o[n++] = 8; o[n++] = 10;
		o[n++] = (uint8_t)(tsval >> 24); o[n++] = (uint8_t)(tsval >> 16);
		o[n++] = (uint8_t)(tsval >> 8); o[n++] = (uint8_t)tsval;
		o[n++] = 0; o[n++] = 0; o[n++] = 0; o[n++] = 0;
	}
	if (k->o.wscale >= 0) {
		o[n++] = 1; o[n++] = 3; o[n++] = 3; o[n++] = (uint8_t)k->o.wscale;
	}
	return n;
}

/*
 * Make one segment and hold it for rtt/2. seq is the raw sequence number;
 * flags LL_TH_*; ACK segments carry the acknowledgment the policy allows
 * (and record it as sent). Returns 0, or -1 when the pool is exhausted
 * (the segment is lost, as on a congested wire, and counted).
 */
int rt_emit(struct rawtcp_conn *k, uint64_t now, uint32_t seq, uint8_t flags,
            const uint8_t *payload, uint32_t len)
{
	struct rawtcp *c = k->c;
	struct pkt *p;
	struct seg_out *s;
	uint32_t win;

	if (k->silent)
		return 0;
	p = pkt_get(c, len);
	if (!p) {
		c->st.inject_errors++;
		return -1;
	}
	p->dir = PKT_OUT;
	s = &p->u.o;
	memset(s, 0, offsetof(struct seg_out, opt));
	s->sport = k->lport;
	s->lidx = k->lidx;
	s->dport = k->o.dport;
	s->seq = seq;
	s->flags = flags;
	s->len = len;
	if (len)
		memcpy(p->data, payload, len);

	win = window_now(k);
	if (flags & LL_TH_SYN) {
		/* RFC 7323 2.2: the SYN's window is never scaled. */
		s->win = (uint16_t)min64(win, 65535);
		k->adv_window = s->win;
		s->optlen = syn_options(k, ts_now(k, now), s->opt);
	} else {
		uint32_t field = (uint32_t)min64(win >> k->rcv_wscale, 65535);
		s->win = (uint16_t)field;
		k->adv_window = field << k->rcv_wscale;
		if (k->ts_ok) {
			uint32_t v = ts_now(k, now), e = k->ts_recent;
			uint8_t *o = s->opt;
			o[0] = 1; o[1] = 1; o[2] = 8; o[3] = 10;
			o[4] = (uint8_t)(v >> 24); o[5] = (uint8_t)(v >> 16); o[6] = (uint8_t)(v >> 8); o[7] = (uint8_t)v;
			o[8] = (uint8_t)(e >> 24); o[9] = (uint8_t)(e >> 16); o[10] = (uint8_t)(e >> 8); o[11] = (uint8_t)e;
			s->optlen = RT_TS_OPTLEN;
		}
	}
	if (flags & LL_TH_ACK) {
		uint64_t a = ack_allowed(k);
		s->ack = rcv_seq(k, a);
		if (k->rst_ack_adjust)
			s->ack += (uint32_t)k->rst_ack_off;
		k->ack_sent = a;
		if (a >= full_ack(k))
			k->dack_at = 0;
		if (k->peer_fin && a > k->rx_received)
			k->peer_fin_acked = true;
	}
	if (!(flags & LL_TH_SYN))
		k->rx_edge = max64(k->rx_edge, k->rx_received + k->adv_window);
	rt_out_segment(k, p, now + k->half_us);
	return 0;
}

/* A segment with no data: an ACK (also a window update or a dup ACK). */
void rt_send_ack(struct rawtcp_conn *k, uint64_t now)
{
	uint64_t rel = k->tx_nxt + (k->fin_in_pass ? 1 : 0);
	rt_emit(k, now, snd_seq(k, rel), LL_TH_ACK, NULL, 0);
}

void rt_send_syn(struct rawtcp_conn *k, uint64_t now)
{
	rt_emit(k, now, k->iss, LL_TH_SYN, NULL, 0);
}

/* Append n bytes (pattern bytes when data is NULL, numbered from pat_off)
 * to the send buffer; the caller checked the cap. Returns -1 on ENOMEM. */
int rt_sb_append(struct rawtcp_conn *k, const uint8_t *data, size_t n, uint64_t pat_off)
{
	size_t used = (size_t)(k->tx_end - k->tx_una);
	if (buf_room(&k->sb, &k->sb_alloc, &k->sb_head, used, n, k->o.sndbuf_cap) != 0)
		return -1;
	if (data) {
		memcpy(k->sb + k->sb_head + used, data, n);
	} else {
		/* The body pattern: printable, and its offset is readable from
		 * any captured byte ("abc...z" repeating from body byte 0). */
		uint8_t *dst = k->sb + k->sb_head + used;
		for (size_t i = 0; i < n; i++)
			dst[i] = (uint8_t)('a' + (pat_off + i) % 26);
	}
	k->tx_end += n;
	return 0;
}

/* Forget acknowledged bytes at the head of the send buffer. */
void rt_sb_drop(struct rawtcp_conn *k, uint64_t n)
{
	/* Called before tx_una moves: an emptied buffer restarts at 0. */
	if (k->tx_end - k->tx_una == n)
		k->sb_head = 0;
	else
		k->sb_head += (size_t)n;
}

static const uint8_t *sb_at(const struct rawtcp_conn *k, uint64_t rel)
{
	return k->sb + k->sb_head + (size_t)(rel - k->tx_una);
}

/*
 * Send what the peer's window allows (no Nagle), then the FIN if it is due;
 * keep the RTO and persist timers right. RFC 9293 3.8.6.2 (segmentation).
 */
void rt_conn_output(struct rawtcp_conn *k, uint64_t now)
{
	uint32_t mss;
	if (k->silent || !synchronized(k))
		return;
	mss = eff_mss(k);
	if (k->after_rst) {
		/* The peer is gone; a client that has not noticed keeps
		 * writing. Nothing will be ACKed, so nothing is kept. */
		while (k->tx_nxt < k->tx_end) {
			uint32_t len = (uint32_t)min64(k->tx_end - k->tx_nxt, mss);
			rt_emit(k, now, snd_seq(k, k->tx_nxt), LL_TH_ACK | LL_TH_PSH, sb_at(k, k->tx_nxt), len);
			k->tx_nxt += len;
			k->tx_max = max64(k->tx_max, k->tx_nxt);
			rt_sb_drop(k, len);
			k->tx_una = k->tx_nxt;
		}
		if (!k->gen_on)
			rt_conn_close(k, RAWTCP_CLOSE_RESET, now);
		return;
	}
	while (k->tx_nxt < k->tx_end) {
		uint64_t in_flight = k->tx_nxt - k->tx_una;
		uint64_t room = k->snd_wnd > in_flight ? k->snd_wnd - in_flight : 0;
		uint32_t len;
		uint8_t flags = LL_TH_ACK;
		if (room == 0)
			break;
		len = (uint32_t)min64(min64(k->tx_end - k->tx_nxt, mss), room);
		if (k->tx_nxt + len == k->tx_end)
			flags |= LL_TH_PSH;
		if (k->tx_nxt == k->tx_max && !k->timing) {
			k->timing = true;
			k->timed_end = k->tx_nxt + len;
			k->timed_at = now;
		}
		rt_emit(k, now, snd_seq(k, k->tx_nxt), flags, sb_at(k, k->tx_nxt), len);
		k->tx_nxt += len;
		k->tx_max = max64(k->tx_max, k->tx_nxt);
	}
	if (k->fin_queued && !k->gen_on && k->tx_nxt == k->tx_end && !k->fin_in_pass) {
		rt_emit(k, now, snd_seq(k, k->tx_end), LL_TH_FIN | LL_TH_ACK, NULL, 0);
		k->fin_in_pass = true;
		if (!k->fin_sent) {
			k->fin_sent = true;
			/* RFC 9293 3.10.4 CLOSE: ESTABLISHED -> FIN-WAIT-1,
			 * CLOSE-WAIT -> LAST-ACK. */
			if (k->state == RAWTCP_ESTABLISHED)
				k->state = RAWTCP_FIN_WAIT_1;
			else if (k->state == RAWTCP_CLOSE_WAIT)
				k->state = RAWTCP_LAST_ACK;
		}
	}
	if (outstanding(k)) {
		if (!k->rto_at)
			k->rto_at = now + k->rto_us;
	} else {
		k->rto_at = 0;
	}
	/* RFC 9293 3.8.6.1: probe a zero window. */
	if (k->tx_nxt < k->tx_end && k->snd_wnd == 0 && !outstanding(k)) {
		if (!k->persist_at)
			k->persist_at = now + ((uint64_t)k->rto_us << k->persist_shift);
	} else {
		k->persist_at = 0;
		k->persist_shift = 0;
	}
	rt_conn_rearm(k);
}

/* Write body chunks while the pace and the send buffer allow. */
void rt_gen_step(struct rawtcp_conn *k, uint64_t now)
{
	k->gen_at = 0;
	while (k->gen_on && k->gen_done < k->gen_total) {
		uint64_t n = min64(k->gen_chunk, k->gen_total - k->gen_done);
		uint64_t used = k->tx_end - k->tx_una;
		uint64_t space = k->o.sndbuf_cap > used ? k->o.sndbuf_cap - used : 0;
		if (k->gen_rate) {
			uint64_t due = k->gen_start + k->gen_done / k->gen_rate * 1000000u +
			               (k->gen_done % k->gen_rate) * 1000000u / k->gen_rate;
			if (due > now) {
				k->gen_at = due;
				break;
			}
		}
		if (space == 0)
			break; /* blocked: process_ack restarts us */
		n = min64(n, space);
		if (rt_sb_append(k, NULL, (size_t)n, k->gen_done) != 0)
			break;
		k->gen_done += n;
	}
	if (k->gen_on && k->gen_done == k->gen_total) {
		k->gen_on = false;
		rt_push_event(k->c, RAWTCP_EV_BODY_DONE, k, now, k->gen_total, 0);
	}
	rt_conn_output(k, now);
	/* After a RST nothing is ACKed: output empties the buffer itself, so a
	 * generator that ran out of room goes on at once. */
	if (k->gen_on && !k->gen_at && k->after_rst && k->state != RAWTCP_CLOSED)
		k->gen_at = now;
	rt_conn_rearm(k);
}
