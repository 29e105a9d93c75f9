/*
 * rawtcp_in.c - what one connection of the raw TCP client does with a
 * segment from the server, at its release time: the SYN-ACK, ACKs (and the
 * RTT samples they give, RFC 6298), in-order data and the FIN, RSTs (when
 * one is accepted, and what it leaves unacknowledged), and the ACK the
 * policy then sends. RFC 9293 3.10.7.
 */
#include "lab/rawtcp_int.h"

#include "analyzer/seq.h"

/* RFC 6298 (2.2), (2.3): fold one RTT sample into SRTT / RTTVAR / RTO. */
static void rtt_sample(struct rawtcp_conn *k, uint64_t r)
{
	uint64_t rto;
	if (r == 0)
		r = 1;
	if (k->srtt_us == 0) {
		k->srtt_us = (uint32_t)min64(r, UINT32_MAX);
		k->rttvar_us = k->srtt_us / 2;
	} else {
		uint64_t diff = k->srtt_us > r ? k->srtt_us - r : r - k->srtt_us;
		k->rttvar_us = (uint32_t)((3 * (uint64_t)k->rttvar_us + diff) / 4);
		k->srtt_us = (uint32_t)((7 * (uint64_t)k->srtt_us + r) / 8);
	}
	rto = (uint64_t)k->srtt_us + max64(1000, 4 * (uint64_t)k->rttvar_us);
	rto = max64(rto, k->o.rto_min_us);
	k->rto_us = (uint32_t)min64(rto, RT_MAX_RTO_US);
}

/* What the ACK policy says to do after in-order data or a FIN arrived
 * (dup: something odd arrived, answer at once unless ACKs are off). */
void rt_ack_after_input(struct rawtcp_conn *k, uint64_t now, bool dup)
{
	uint64_t full = full_ack(k);
	switch (k->o.ack.mode) {
	case RAWTCP_ACK_NOW:
		if (dup || full > k->ack_sent)
			rt_send_ack(k, now);
		break;
	case RAWTCP_ACK_DELAYED:
		if (dup)
			rt_send_ack(k, now);
		else if (full > k->ack_sent && !k->dack_at)
			k->dack_at = now + k->o.ack.delay_us;
		break;
	case RAWTCP_ACK_NEVER:
		break;
	case RAWTCP_ACK_UPTO:
		if (dup || min64(full, k->o.ack.upto) > k->ack_sent)
			rt_send_ack(k, now);
		break;
	}
	rt_conn_rearm(k);
}

static void handle_rst(struct rawtcp_conn *k, const struct dec_tcp *d, uint64_t now)
{
	k->rsts_received++;
	if (k->state == RAWTCP_SYN_SENT) {
		/* RFC 9293 3.10.7.3: acceptable if it ACKs our SYN. */
		if ((d->flags & LL_TH_ACK) && d->ack == k->iss + 1) {
			k->peer_rst = true;
			k->rst_seq = d->seq;
			k->t_peer_rst = now;
			rt_push_event(k->c, RAWTCP_EV_PEER_RST, k, now, 0, 0);
			rt_conn_close(k, RAWTCP_CLOSE_RESET, now);
		}
		return;
	}
	/*
	 * Lenient acceptance (RFC 5961 challenge ACKs are not modelled): any
	 * seq from the last ACK we sent to the right edge of our window. A
	 * server kernel's RST carries either its snd_nxt or the ACK of the
	 * segment that provoked it, and both fall in there.
	 */
	{
		uint32_t lo = rcv_seq(k, k->ack_sent);
		uint32_t hi = rcv_seq(k, full_ack(k)) + (uint32_t)max64(k->adv_window, 1);
		if (seq_before(d->seq, lo) || seq_after(d->seq, hi))
			return;
	}
	if (!k->peer_rst) {
		k->peer_rst = true;
		k->rst_seq = d->seq;
		k->rst_rel_seq = (uint64_t)(uint32_t)(d->seq - (k->irs + 1));
		k->rst_rx_received = k->rx_received;
		k->rst_rx_delivered = k->rx_delivered;
		k->rst_unacked = k->rx_received - min64(k->ack_sent, k->rx_received);
		k->t_peer_rst = now;
		rt_push_event(k->c, RAWTCP_EV_PEER_RST, k, now, k->rx_received, 0);
	} else if (k->after_rst) {
		rt_push_event(k->c, RAWTCP_EV_PEER_RST, k, now, k->rx_received, 0);
		return;
	}
	if (k->silent) {
		rt_conn_close(k, RAWTCP_CLOSE_SILENT, now);
		return;
	}
	if (k->o.send_after_rst && (k->tx_nxt < k->tx_end || k->gen_on)) {
		k->after_rst = true;
		k->rto_at = k->dack_at = k->persist_at = k->tw_at = 0;
		/* What was in flight is gone; stream on from snd_nxt. */
		rt_sb_drop(k, k->tx_nxt - k->tx_una);
		k->tx_una = k->tx_nxt;
		rt_conn_rearm(k);
		return;
	}
	rt_conn_close(k, RAWTCP_CLOSE_RESET, now);
}

/* SYN-SENT: the SYN-ACK. RFC 9293 3.10.7.3. */
static void synsent_input(struct rawtcp_conn *k, const struct dec_tcp *d, uint64_t now)
{
	if (!(d->flags & LL_TH_SYN) || !(d->flags & LL_TH_ACK) || d->ack != k->iss + 1)
		return;
	k->irs = d->seq;
	k->peer_mss = d->mss ? d->mss : RT_MSS_PEER_DEFAULT(k->c->local.af);
	if (k->peer_mss > RT_MAX_MSS)
		k->peer_mss = RT_MAX_MSS;
	if (k->peer_mss < RT_MIN_MSS)
		k->peer_mss = RT_MIN_MSS;
	k->peer_wscale = d->wscale;
	if (d->wscale >= 0 && k->o.wscale >= 0) {
		/* RFC 7323 2.3: shifts above 14 are taken as 14. */
		k->snd_wscale = (uint8_t)(d->wscale > 14 ? 14 : d->wscale);
		k->rcv_wscale = (uint8_t)k->o.wscale;
	}
	k->ts_ok = k->o.timestamps && d->has_ts;
	if (k->ts_ok)
		k->ts_recent = d->ts_val;
	k->sack_ok = k->o.sack_permitted && d->sack_permitted;
	k->snd_wnd = d->win; /* never scaled in a SYN */
	k->state = RAWTCP_ESTABLISHED;
	k->t_established = now;
	k->retries = 0;
	if (!k->syn_retx)
		rtt_sample(k, now - k->t_connect);
	k->rto_at = 0;
	/* The handshake's ACK is sent whatever the ACK policy: it is not a
	 * data ACK, and without it there is no connection to study. */
	{
		enum rawtcp_ack_mode m = k->o.ack.mode;
		k->o.ack.mode = RAWTCP_ACK_NOW;
		rt_send_ack(k, now);
		k->o.ack.mode = m;
	}
	rt_push_event(k->c, RAWTCP_EV_CONNECTED, k, now, 0, 0);
	rt_conn_output(k, now);
}

static void process_ack(struct rawtcp_conn *k, const struct dec_tcp *d, uint64_t now)
{
	uint32_t una_w = snd_seq(k, k->tx_una);
	uint64_t max_rel = snd_max_rel(k);
	uint64_t adv;
	bool progress = false, fin_now = false;

	if (seq_before(d->ack, una_w))
		return; /* old: neither progress nor a fresh window */
	adv = (uint32_t)(d->ack - una_w);
	if (adv > max_rel - k->tx_una)
		return; /* ACKs something never sent: ignore (RFC 9293 3.10.7.4) */
	if (adv > 0) {
		uint64_t new_una = k->tx_una + adv;
		if (k->fin_sent && new_una == k->tx_end + 1) {
			fin_now = !k->fin_acked;
			new_una = k->tx_end;
		}
		if (new_una > k->tx_una) {
			rt_sb_drop(k, new_una - k->tx_una);
			k->tx_una = new_una;
			if (k->tx_una == k->tx_end && !k->gen_on) {
				/* Idle connections keep no send buffer. */
				free(k->sb);
				k->sb = NULL;
				k->sb_alloc = k->sb_head = 0;
			}
			if (k->tx_nxt < k->tx_una)
				k->tx_nxt = k->tx_una;
			progress = true;
		}
		if (fin_now) {
			k->fin_acked = true;
			progress = true;
		}
	}
	k->snd_wnd = (uint32_t)min64((uint64_t)d->win << k->snd_wscale, UINT32_MAX);
	if (!progress)
		return;
	k->retries = 0;
	if (k->timing && k->tx_una >= k->timed_end) {
		k->timing = false;
		rtt_sample(k, now - k->timed_at);
	}
	k->rto_at = outstanding(k) ? now + k->rto_us : 0;
	if (fin_now) {
		switch (k->state) {
		case RAWTCP_FIN_WAIT_1: /* RFC 9293 3.10.7.4: our FIN is ACKed */
			k->state = RAWTCP_FIN_WAIT_2;
			break;
		case RAWTCP_CLOSING:    /* ... enter TIME-WAIT */
			k->state = RAWTCP_TIME_WAIT;
			k->tw_at = now + k->o.time_wait_us;
			break;
		case RAWTCP_LAST_ACK:   /* ... the connection is over */
			if (!peer_waits(k)) {
				rt_conn_close(k, RAWTCP_CLOSE_NORMAL, now);
				return;
			}
			break;          /* (see peer_waits) */
		default:
			break;
		}
	}
	if (k->tx_una == k->tx_end && (!k->fin_sent || k->fin_acked))
		rt_push_event(k->c, RAWTCP_EV_ALL_ACKED, k, now, k->tx_una, 0);
	if (k->gen_on && !k->gen_at)
		k->gen_at = now; /* a blocked generator has room again */
	rt_conn_rearm(k);
}

static int rb_append(struct rawtcp_conn *k, const uint8_t *data, size_t n)
{
	size_t used = (size_t)(k->rx_received - k->rx_delivered);
	if (buf_room(&k->rb, &k->rb_alloc, &k->rb_head, used, n, k->o.rcvbuf_cap) != 0)
		return -1;
	memcpy(k->rb + k->rb_head + used, data, n);
	return 0;
}

/* The peer's FIN arrived in order. RFC 9293 3.10.7.4, eighth step. */
static void peer_fin_arrived(struct rawtcp_conn *k, uint64_t now)
{
	k->peer_fin = true;
	k->peer_fin_at = k->rx_received;
	k->t_peer_fin = now;
	switch (k->state) {
	case RAWTCP_ESTABLISHED:
		k->state = RAWTCP_CLOSE_WAIT;
		break;
	case RAWTCP_FIN_WAIT_1:
		k->state = k->fin_acked ? RAWTCP_TIME_WAIT : RAWTCP_CLOSING;
		break;
	case RAWTCP_FIN_WAIT_2:
		k->state = RAWTCP_TIME_WAIT;
		break;
	default:
		break;
	}
	if (k->state == RAWTCP_TIME_WAIT)
		k->tw_at = now + k->o.time_wait_us;
	rt_push_event(k->c, RAWTCP_EV_PEER_FIN, k, now, k->rx_received, 0);
	if (k->o.stop_on_peer_fin) {
		/* The application noticed: no more body, unsent bytes dropped. */
		k->gen_on = false;
		k->gen_at = 0;
		if (k->tx_end > k->tx_max)
			k->tx_end = k->tx_max;
		if (k->tx_nxt > k->tx_end)
			k->tx_nxt = k->tx_end;
	}
}

/* Data and FIN of an ESTABLISHED-or-later segment; in order only. */
static void process_data(struct rawtcp_conn *k, const struct dec_tcp *d, uint64_t now)
{
	uint32_t len = d->seg_len;
	bool fin = (d->flags & LL_TH_FIN) != 0;
	uint32_t nxt = rcv_seq(k, k->rx_received);
	int32_t off;
	uint32_t skip, fresh, take;
	uint64_t room_wnd, room_buf;
	bool trimmed = false;

	if (len == 0 && !fin)
		return;
	if (k->peer_fin) {
		/* A retransmission of what we already have (the FIN, say):
		 * our ACK was lost or withheld. Answer as the policy allows;
		 * TIME-WAIT restarts (RFC 9293 3.10.7.4). */
		if (k->state == RAWTCP_TIME_WAIT)
			k->tw_at = now + k->o.time_wait_us;
		rt_ack_after_input(k, now, true);
		return;
	}
	off = (int32_t)(d->seq - nxt);
	if (off > 0) {
		/* Out of order: dropped, the server will retransmit. */
		k->rx_dropped_ooo++;
		rt_ack_after_input(k, now, true);
		return;
	}
	skip = (uint32_t)(-(int64_t)off);
	if (skip > len || (skip == len && !fin)) {
		rt_ack_after_input(k, now, true); /* a pure duplicate */
		return;
	}
	fresh = len - skip;
	room_wnd = k->rx_edge > k->rx_received ? k->rx_edge - k->rx_received : 0;
	{
		uint64_t used = k->rx_received - k->rx_delivered;
		room_buf = k->o.rcvbuf_cap > used ? k->o.rcvbuf_cap - used : 0;
	}
	take = (uint32_t)min64(fresh, min64(room_wnd, room_buf));
	if (take < fresh)
		trimmed = true; /* beyond our window: the rest is dropped */
	if (take > 0) {
		if (rb_append(k, d->payload + skip, take) != 0) {
			take = 0;
			trimmed = true;
		} else {
			k->rx_received += take;
			rt_push_event(k->c, RAWTCP_EV_DATA, k, now, take, 0);
		}
	}
	if (fin && !trimmed)
		peer_fin_arrived(k, now);
	rt_ack_after_input(k, now, trimmed);
}

void rt_conn_input(struct rawtcp_conn *k, const struct dec_tcp *d, uint64_t now)
{
	k->c->st.packets_in++;
	if (d->flags & LL_TH_RST) {
		handle_rst(k, d, now);
		return;
	}
	if (k->after_rst)
		return;
	if (k->state == RAWTCP_SYN_SENT) {
		synsent_input(k, d, now);
		return;
	}
	if (d->flags & LL_TH_SYN) {
		/* A repeated SYN-ACK: our handshake ACK is late or lost. */
		if (d->seq == k->irs)
			rt_send_ack(k, now);
		return;
	}
	if (!(d->flags & LL_TH_ACK))
		return; /* RFC 9293 3.10.7.4: no ACK bit, drop */
	if (k->ts_ok && d->has_ts && seq_leq(d->seq, rcv_seq(k, full_ack(k))))
		k->ts_recent = d->ts_val;
	process_ack(k, d, now);
	if (k->state == RAWTCP_CLOSED)
		return;
	process_data(k, d, now);
	if (k->state == RAWTCP_CLOSED)
		return;
	rt_conn_output(k, now);
}
