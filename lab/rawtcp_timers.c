/*
 * rawtcp_timers.c - the raw TCP client's timers: per connection one node in
 * the client's timer heap at the earliest of its deadlines (RTO with
 * go-back-N, delayed ACK, zero-window probe, body pacing, TIME_WAIT), and
 * the runner's own timers (rawtcp_timer_add), which come back as events.
 */
#include "lab/rawtcp_int.h"

#include "lab/errmsg.h"

void rt_conn_rearm(struct rawtcp_conn *k)
{
	uint64_t when = 0;
	uint64_t t[5] = { k->rto_at, k->dack_at, k->persist_at, k->gen_at, k->tw_at };
	for (int i = 0; i < 5; i++)
		if (t[i] && (!when || t[i] < when))
			when = t[i];
	if (!when) {
		theap_remove(&k->c->timers, &k->tnode);
		return;
	}
	if (theap_linked(&k->tnode) && k->tnode.when == when)
		return;
	/* The node was linked once at connect, so the array has room. */
	(void)theap_set(&k->c->timers, &k->tnode, when);
}

void rt_conn_timers(struct rawtcp_conn *k, uint64_t now)
{
	if (k->state == RAWTCP_CLOSED)
		return;
	if (k->tw_at && k->tw_at <= now) {
		k->tw_at = 0;
		if (!peer_waits(k)) {
			rt_conn_close(k, RAWTCP_CLOSE_NORMAL, now);
			return;
		}
	}
	if (k->rto_at && k->rto_at <= now) {
		k->rto_at = 0;
		if (k->retries >= k->o.max_retries) {
			rt_conn_close(k, RAWTCP_CLOSE_TIMEOUT, now);
			return;
		}
		k->retries++;
		k->retransmits++;
		k->rto_us = (uint32_t)min64((uint64_t)k->rto_us * 2, RT_MAX_RTO_US);
		k->timing = false;
		if (k->state == RAWTCP_SYN_SENT) {
			k->syn_retx = true;
			rt_send_syn(k, now);
			k->rto_at = now + k->rto_us;
		} else {
			/* Go back N: resend from the oldest unacknowledged byte. */
			k->tx_nxt = k->tx_una;
			k->fin_in_pass = false;
			k->rto_at = now + k->rto_us;
			rt_conn_output(k, now);
		}
	}
	if (k->state == RAWTCP_CLOSED)
		return;
	if (k->dack_at && k->dack_at <= now) {
		k->dack_at = 0;
		rt_send_ack(k, now);
	}
	if (k->persist_at && k->persist_at <= now) {
		/* A window probe that carries no data (seq one below snd_una,
		 * as Linux does): the peer answers with its current window. */
		k->persist_at = 0;
		rt_emit(k, now, snd_seq(k, k->tx_una) - 1, LL_TH_ACK, NULL, 0);
		if (k->persist_shift < 6)
			k->persist_shift++;
		k->persist_at = now + min64((uint64_t)k->rto_us << k->persist_shift, RT_MAX_RTO_US);
	}
	if (k->gen_at && k->gen_at <= now)
		rt_gen_step(k, now);
	if (k->state != RAWTCP_CLOSED)
		rt_conn_rearm(k);
}

uint64_t rawtcp_timer_add(struct rawtcp *c, uint64_t when_us, uint64_t cookie, char *err, size_t errlen)
{
	struct utimer *t = malloc(sizeof *t);
	if (!t) {
		errmsg_set(err, errlen, "rawtcp_timer_add: out of memory");
		return 0;
	}
	theap_node_init(&t->node);
	t->id = ++c->next_utimer_id;
	t->cookie = cookie;
	if (theap_set(&c->utimers, &t->node, when_us) != 0) {
		free(t);
		errmsg_set(err, errlen, "rawtcp_timer_add: out of memory");
		return 0;
	}
	return t->id;
}

void rawtcp_timer_cancel(struct rawtcp *c, uint64_t id)
{
	for (size_t i = 0; i < c->utimers.n; i++) {
		struct utimer *t = UTIMER_OF(c->utimers.v[i]);
		if (t->id == id) {
			theap_remove(&c->utimers, &t->node);
			free(t);
			return;
		}
	}
}
