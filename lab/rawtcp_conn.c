/*
 * rawtcp_conn.c - one connection of the raw TCP client, as the API shows it
 * (rawtcp.h): open (connect), write (send, a paced body), close (shutdown,
 * abort, a RST on demand, silence), the knobs a scenario turns (ACK policy,
 * window, faults), reading (peek, consume), release and info; and the
 * connection's end (rt_conn_close) and freeing. What a connection sends is
 * lab/rawtcp_out.c, what it receives lab/rawtcp_in.c.
 */
#include "lab/rawtcp_int.h"

#include <stdio.h>

#include "lab/errmsg.h"

void rawtcp_conn_opts_init(struct rawtcp_conn_opts *o)
{
	memset(o, 0, sizeof *o);
	o->rtt_us = -1;
	o->mss = 0;
	o->wscale = 7;
	o->sack_permitted = true;
	o->timestamps = true;
	o->window = 65535;
	o->rcvbuf_cap = 1u << 20;
	o->sndbuf_cap = 256u << 10;
	o->ack.mode = RAWTCP_ACK_NOW;
	o->max_retries = 6;
	o->rto_initial_us = 1000000;
	o->rto_min_us = 200000;
	o->time_wait_us = 1000000;
}

void rt_conn_close(struct rawtcp_conn *k, enum rawtcp_close_reason why, uint64_t now)
{
	struct rawtcp *c = k->c;
	if (k->state == RAWTCP_CLOSED)
		return;
	k->state = RAWTCP_CLOSED;
	k->reason = why;
	k->t_closed = now;
	if (k->held[RAWTCP_DIR_OUT]) {
		/* reorder: nothing came after it; it goes now */
		delay_push(c, k->held[RAWTCP_DIR_OUT], now + k->half_us);
		k->held[RAWTCP_DIR_OUT] = NULL;
	}
	k->rto_at = k->dack_at = k->persist_at = k->gen_at = k->tw_at = 0;
	k->gen_on = false;
	theap_remove(&c->timers, &k->tnode);
	if (c->ports[lkey(k->lidx, k->lport)] == k)
		c->ports[lkey(k->lidx, k->lport)] = NULL;
	c->st.conns_live--;
	/* The send buffer is of no more use; the receive buffer stays for
	 * rawtcp_peek. */
	free(k->sb);
	k->sb = NULL;
	k->sb_alloc = k->sb_head = 0;
	rt_push_event(c, RAWTCP_EV_CLOSED, k, now, k->rx_received, 0);
}

void rt_conn_free(struct rawtcp_conn *k)
{
	for (int d = 0; d < 2; d++)
		if (k->held[d])
			pkt_put(k->c, k->held[d]);
	free(k->sb);
	k->sb = NULL;
	free(k->rb);
	k->rb = NULL;
	free(k);
}

/* A free (address, port): round-robin over the ports of every local
 * address in turn. Returns the port (0: none free) and sets *lidx. */
static uint16_t alloc_port(struct rawtcp *c, uint16_t *lidx)
{
	uint32_t range = (uint32_t)c->port_max - c->port_min + 1, slots = range * c->nlocal;
	for (uint32_t i = 0; i < slots; i++) {
		uint32_t slot = c->next_slot;
		uint16_t li = (uint16_t)(slot / range), p = (uint16_t)(c->port_min + slot % range);
		c->next_slot = slot + 1 == slots ? 0 : slot + 1;
		if (!c->ports[lkey(li, p)]) {
			*lidx = li;
			return p;
		}
	}
	return 0;
}

struct rawtcp_conn *rawtcp_connect(struct rawtcp *c, const struct rawtcp_conn_opts *o,
                                   char *err, size_t errlen)
{
	struct rawtcp_conn *k;
	uint64_t now = rawtcp_now_us();
	uint16_t port, lidx = 0;

	if (o->dport == 0) {
		errmsg_set(err, errlen, "rawtcp_connect: dport: must not be 0");
		return NULL;
	}
	if (o->wscale < -1 || o->wscale > 14) {
		errmsg_set(err, errlen, "rawtcp_connect: wscale: %d is out of range 0..14 or -1", o->wscale);
		return NULL;
	}
	if (o->mss != 0 && (o->mss < RT_MIN_MSS || o->mss > RT_MAX_MSS)) {
		errmsg_set(err, errlen, "rawtcp_connect: mss: must be %d..%d", RT_MIN_MSS, RT_MAX_MSS);
		return NULL;
	}
	if (o->rcvbuf_cap == 0 || o->sndbuf_cap == 0) {
		errmsg_set(err, errlen, "rawtcp_connect: rcvbuf_cap and sndbuf_cap must not be 0");
		return NULL;
	}
	if (c->st.conns_live >= c->max_conns) {
		errmsg_set(err, errlen, "rawtcp_connect: too many connections (max %u)", c->max_conns);
		return NULL;
	}
	port = alloc_port(c, &lidx);
	if (port == 0) {
		errmsg_set(err, errlen, "rawtcp_connect: no free local port");
		return NULL;
	}
	k = calloc(1, sizeof *k);
	if (!k) {
		errmsg_set(err, errlen, "rawtcp_connect: out of memory");
		return NULL;
	}
	k->c = c;
	k->o = *o;
	if (k->o.mss == 0)
		k->o.mss = c->mss_default;
	theap_node_init(&k->tnode);
	k->state = RAWTCP_SYN_SENT;
	k->lport = port;
	k->lidx = lidx;
	k->rtt_us = o->rtt_us >= 0 ? (uint32_t)min64((uint64_t)o->rtt_us, UINT32_MAX) : c->rtt_us;
	k->half_us = k->rtt_us / 2;
	k->peer_mss = RT_MSS_PEER_DEFAULT(c->local.af);
	k->peer_wscale = -1;
	k->iss = (uint32_t)rng_next(&c->rng);
	k->ts_off = (uint32_t)rng_next(&c->rng);
	k->rto_us = o->rto_initial_us ? o->rto_initial_us : 1000000;
	k->t_connect = now;
	/* Link the timer node now: later re-links then never allocate. */
	k->rto_at = now + k->rto_us;
	if (theap_set(&c->timers, &k->tnode, k->rto_at) != 0) {
		free(k);
		errmsg_set(err, errlen, "rawtcp_connect: out of memory");
		return NULL;
	}
	c->ports[lkey(lidx, port)] = k;
	k->next = c->conns;
	if (c->conns)
		c->conns->prev = k;
	c->conns = k;
	c->st.conns_live++;
	c->st.conns_total++;
	if (c->st.conns_live > c->st.conns_peak)
		c->st.conns_peak = c->st.conns_live;
	rt_send_syn(k, now);
	return k;
}

int rawtcp_send(struct rawtcp_conn *k, const void *data, size_t len, char *err, size_t errlen)
{
	uint64_t used;
	if (k->state == RAWTCP_CLOSED) {
		errmsg_set(err, errlen, "rawtcp_send: connection is closed");
		return -1;
	}
	if (k->fin_queued) {
		errmsg_set(err, errlen, "rawtcp_send: already shut down");
		return -1;
	}
	if (k->gen_on) {
		errmsg_set(err, errlen, "rawtcp_send: body generator still running");
		return -1;
	}
	used = k->tx_end - k->tx_una;
	if (len > k->o.sndbuf_cap - used) {
		errmsg_set(err, errlen, "rawtcp_send: send buffer full (%llu of %u bytes used)",
		       (unsigned long long)used, k->o.sndbuf_cap);
		return -1;
	}
	if (len == 0)
		return 0;
	if (rt_sb_append(k, data, len, 0) != 0) {
		errmsg_set(err, errlen, "rawtcp_send: out of memory");
		return -1;
	}
	rt_conn_output(k, rawtcp_now_us());
	return 0;
}

int rawtcp_send_body(struct rawtcp_conn *k, uint64_t total, uint64_t rate_bps, uint32_t chunk,
                     char *err, size_t errlen)
{
	uint64_t now = rawtcp_now_us();
	if (k->state == RAWTCP_CLOSED) {
		errmsg_set(err, errlen, "rawtcp_send_body: connection is closed");
		return -1;
	}
	if (k->fin_queued) {
		errmsg_set(err, errlen, "rawtcp_send_body: already shut down");
		return -1;
	}
	if (k->gen_on) {
		errmsg_set(err, errlen, "rawtcp_send_body: body generator still running");
		return -1;
	}
	k->gen_on = true;
	k->gen_total = total;
	k->gen_done = 0;
	k->gen_rate = rate_bps;
	k->gen_chunk = chunk ? chunk : 16384;
	k->gen_start = now;
	rt_gen_step(k, now);
	return 0;
}

int rawtcp_shutdown(struct rawtcp_conn *k, char *err, size_t errlen)
{
	if (k->state == RAWTCP_CLOSED) {
		errmsg_set(err, errlen, "rawtcp_shutdown: connection is closed");
		return -1;
	}
	if (k->fin_queued)
		return 0;
	k->fin_queued = true;
	rt_conn_output(k, rawtcp_now_us());
	return 0;
}

void rawtcp_abort(struct rawtcp_conn *k)
{
	uint64_t now = rawtcp_now_us();
	if (k->state == RAWTCP_CLOSED)
		return;
	if (!k->silent) {
		if (k->state == RAWTCP_SYN_SENT)
			rt_emit(k, now, k->iss + 1, LL_TH_RST, NULL, 0);
		else
			rt_emit(k, now, snd_seq(k, snd_max_rel(k)), LL_TH_RST | LL_TH_ACK, NULL, 0);
	}
	rt_conn_close(k, k->silent ? RAWTCP_CLOSE_SILENT : RAWTCP_CLOSE_ABORTED, now);
}

int rawtcp_add_fault(struct rawtcp_conn *k, const struct rawtcp_fault *f,
                     char *err, size_t errlen)
{
	if (k->o.n_faults >= RAWTCP_MAX_FAULTS) {
		errmsg_set(err, errlen, "rawtcp_add_fault: at most %d rules per connection",
		           RAWTCP_MAX_FAULTS);
		return -1;
	}
	k->o.faults[k->o.n_faults++] = *f;
	return 0;
}

int rawtcp_send_rst(struct rawtcp_conn *k, int64_t seq_off, bool with_ack, int64_t ack_off,
                    char *err, size_t errlen)
{
	if (!synchronized(k)) {
		errmsg_set(err, errlen, "rawtcp_send_rst: connection is not established");
		return -1;
	}
	k->rst_ack_adjust = with_ack;
	k->rst_ack_off = ack_off;
	rt_emit(k, rawtcp_now_us(), snd_seq(k, snd_max_rel(k)) + (uint32_t)seq_off,
	     (uint8_t)(LL_TH_RST | (with_ack ? LL_TH_ACK : 0)), NULL, 0);
	k->rst_ack_adjust = false;
	return 0;
}

void rawtcp_silence(struct rawtcp_conn *k)
{
	if (k->state == RAWTCP_CLOSED)
		return;
	k->silent = true;
	k->gen_on = false;
	k->rto_at = k->dack_at = k->persist_at = k->gen_at = 0;
	rt_conn_rearm(k);
}

void rawtcp_set_ack_policy(struct rawtcp_conn *k, const struct rawtcp_ack_policy *p)
{
	k->o.ack = *p;
	if (p->mode != RAWTCP_ACK_DELAYED)
		k->dack_at = 0;
	if (synchronized(k) && !k->silent)
		rt_ack_after_input(k, rawtcp_now_us(), false);
}

void rawtcp_set_window(struct rawtcp_conn *k, uint32_t window)
{
	k->o.window = window;
	if (synchronized(k) && !k->silent) {
		uint32_t before = k->adv_window;
		uint32_t field = (uint32_t)min64(window_now(k) >> k->rcv_wscale, 65535);
		if ((field << k->rcv_wscale) != before)
			rt_send_ack(k, rawtcp_now_us());
	}
}

size_t rawtcp_peek(const struct rawtcp_conn *k, const uint8_t **data)
{
	size_t n = (size_t)(k->rx_received - k->rx_delivered);
	*data = n ? k->rb + k->rb_head : NULL;
	return n;
}

void rawtcp_consume(struct rawtcp_conn *k, size_t n)
{
	size_t have = (size_t)(k->rx_received - k->rx_delivered);
	uint32_t before = k->adv_window;
	if (n > have)
		n = have;
	k->rx_delivered += n;
	k->rb_head += n;
	if (k->rx_delivered == k->rx_received) {
		/* All read: idle connections keep no receive buffer. */
		free(k->rb);
		k->rb = NULL;
		k->rb_alloc = k->rb_head = 0;
	}
	/* RFC 9293 3.8.6.2.2 (receiver SWS avoidance): announce a window
	 * that grew by at least an MSS or half the buffer. */
	if (synchronized(k) && !k->silent && !k->peer_rst) {
		uint32_t now_w = (uint32_t)min64(window_now(k) >> k->rcv_wscale, 65535) << k->rcv_wscale;
		uint32_t step = (uint32_t)min64(eff_mss(k), k->o.rcvbuf_cap / 2);
		if (now_w > before && now_w - before >= step)
			rt_send_ack(k, rawtcp_now_us());
	}
}

void rawtcp_conn_release_noted(struct rawtcp_conn *k, struct rawtcp_rst_note *note)
{
	memset(note, 0, sizeof *note);
	note->local_port = k->lport;
	if (k->state != RAWTCP_CLOSED && !k->silent) {
		/* the RST rawtcp_abort is about to emit */
		note->sent = true;
		note->seq = k->state == RAWTCP_SYN_SENT
		            ? k->iss + 1 : snd_seq(k, snd_max_rel(k));
		note->out_us = rawtcp_now_us() + k->half_us;
	}
	rawtcp_conn_release(k);
}

void rawtcp_conn_release(struct rawtcp_conn *k)
{
	struct rawtcp *c = k->c;
	if (k->state != RAWTCP_CLOSED)
		rawtcp_abort(k);
	for (size_t i = 0; i < c->ev_len; i++) {
		struct rawtcp_event *e = &c->ev[(c->ev_head + i) % c->ev_cap];
		if (e->conn == k)
			e->type = 0; /* skipped by rawtcp_next_event */
	}
	theap_remove(&c->timers, &k->tnode);
	if (c->ports[lkey(k->lidx, k->lport)] == k)
		c->ports[lkey(k->lidx, k->lport)] = NULL;
	if (k->prev)
		k->prev->next = k->next;
	else
		c->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	rt_conn_free(k);
}

void rawtcp_conn_info(const struct rawtcp_conn *k, struct rawtcp_conn_info *out)
{
	memset(out, 0, sizeof *out);
	out->state = k->state;
	out->close_reason = k->reason;
	out->local_port = k->lport;
	out->peer_port = k->o.dport;
	out->rtt_us = k->rtt_us;
	out->isn = k->iss;
	out->peer_isn = k->irs;
	out->peer_mss = k->peer_mss;
	out->peer_wscale = k->peer_wscale;
	out->peer_sack_permitted = k->sack_ok;
	out->peer_timestamps = k->ts_ok;
	out->peer_window = k->snd_wnd;
	out->adv_window = k->adv_window;
	out->bytes_queued = k->tx_end;
	out->bytes_sent = k->tx_max;
	out->bytes_acked = k->tx_una;
	out->fin_sent = k->fin_sent;
	out->fin_acked = k->fin_acked;
	out->retransmits = k->retransmits;
	out->srtt_us = k->srtt_us;
	out->rto_us = k->rto_us;
	out->rx_received = k->rx_received;
	out->rx_delivered = k->rx_delivered;
	out->rx_acked = min64(k->ack_sent, k->rx_received);
	out->rx_dropped_ooo = k->rx_dropped_ooo;
	out->peer_fin = k->peer_fin;
	out->peer_fin_acked = k->peer_fin_acked;
	out->peer_fin_at = k->peer_fin_at;
	out->peer_rst = k->peer_rst;
	out->rsts_received = k->rsts_received;
	out->rst_seq = k->rst_seq;
	out->rst_rel_seq = k->rst_rel_seq;
	out->rst_rx_received = k->rst_rx_received;
	out->rst_rx_delivered = k->rst_rx_delivered;
	out->rst_lost_on_flush = k->rst_rx_received - k->rst_rx_delivered;
	out->rst_unacked = k->rst_unacked;
	out->t_connect_us = k->t_connect;
	out->t_established_us = k->t_established;
	out->t_peer_fin_us = k->t_peer_fin;
	out->t_peer_rst_us = k->t_peer_rst;
	out->t_closed_us = k->t_closed;
	out->user = k->o.user;
	for (int d = 0; d < 2; d++) {
		out->segs[d] = k->segs[d];
		out->dropped[d] = k->dropped[d];
		out->reordered[d] = k->reordered[d];
	}
}

enum rawtcp_state rawtcp_conn_state(const struct rawtcp_conn *k) { return k->state; }
void *rawtcp_conn_user(const struct rawtcp_conn *k) { return k->o.user; }
uint16_t rawtcp_conn_local_port(const struct rawtcp_conn *k) { return k->lport; }
