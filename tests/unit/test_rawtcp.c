/*
 * test_rawtcp.c - the raw TCP client's endpoint logic, in offline mode: the
 * client hands every packet it would inject to a hook, and each test plays
 * the server by feeding hand-built segments back. Covers the handshake
 * options, segmentation to MSS and window, the emulated delay, ACK
 * policies, the receive window (zero included), FIN and RST bookkeeping,
 * retransmission, the body generator, and the exact error messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <pcap/dlt.h>

#include "analyzer/decode.h"
#include "lab/rawtcp.h"

#include "tests/unit/rawtcp_helpers.h"

static size_t count_events(struct fx *f, enum rawtcp_event_type t, struct rawtcp_event *last)
{
	struct rawtcp_event ev = { 0 };
	size_t n = 0;
	while (rawtcp_next_event(f->c, &ev)) {
		if (ev.type == t) {
			n++;
			if (last)
				*last = ev;
		}
	}
	return n;
}

/* Connect and complete the handshake; returns the connection. */
static struct rawtcp_conn *connected(struct fx *f, struct rawtcp_conn_opts *o, uint16_t mss, int ws,
                                     uint16_t win)
{
	struct rawtcp_conn *k = rawtcp_connect(f->c, o, f->err, sizeof f->err);
	assert_non_null(k);
	pump(f, 2);
	assert_int_equal(f->w.n, 1);
	srv_synack(f, &f->w.v[0], mss, ws, win);
	pump(f, 2);
	assert_int_equal(rawtcp_conn_state(k), RAWTCP_ESTABLISHED);
	return k;
}

static void default_opts(struct rawtcp_conn_opts *o)
{
	rawtcp_conn_opts_init(o);
	o->dport = SPORT;
}

/* The SYN offers MSS, SACK-permitted, timestamps and window scale; the
 * handshake ACK acknowledges the SYN-ACK and echoes its TSval. */
static void test_handshake_options(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn_info info;
	struct rawtcp_conn *k;
	default_opts(&o);
	k = connected(f, &o, 1000, 2, 5000);
	{
		const struct dec_tcp *syn = &f->w.v[0].d;
		assert_int_equal(syn->flags, LL_TH_SYN);
		assert_int_equal(syn->mss, 1460);
		assert_int_equal(syn->wscale, 7);
		assert_true(syn->sack_permitted);
		assert_true(syn->has_ts);
		assert_int_equal(syn->win, 65535);
		assert_int_equal(syn->dport, SPORT);
		/* the SYN is 20 IP + 20 TCP + 20 option bytes */
		assert_int_equal(f->w.v[0].raw[2] * 256 + f->w.v[0].raw[3], 60);
	}
	assert_int_equal(f->w.n, 2);
	{
		const struct dec_tcp *ack = &f->w.v[1].d;
		assert_int_equal(ack->flags, LL_TH_ACK);
		assert_int_equal(ack->seq, f->w.v[0].d.seq + 1);
		assert_int_equal(ack->ack, SISN + 1);
		assert_true(ack->has_ts);
		assert_int_equal(ack->ts_ecr, 777);
		/* 65535 advertised with scale 7 is 511 * 128 */
		assert_int_equal(ack->win, 511);
	}
	rawtcp_conn_info(k, &info);
	assert_int_equal(info.peer_mss, 1000);
	assert_int_equal(info.peer_wscale, 2);
	assert_true(info.peer_sack_permitted);
	assert_true(info.peer_timestamps);
	assert_int_equal(info.peer_window, 5000);
	assert_int_equal(count_events(f, RAWTCP_EV_CONNECTED, NULL), 1);
	fx_free(f);
}

/* Options switched off are left out of the SYN. */
static void test_handshake_without_options(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	default_opts(&o);
	o.wscale = -1;
	o.sack_permitted = false;
	o.timestamps = false;
	o.mss = 536;
	assert_non_null(rawtcp_connect(f->c, &o, f->err, sizeof f->err));
	pump(f, 2);
	assert_int_equal(f->w.n, 1);
	assert_int_equal(f->w.v[0].d.mss, 536);
	assert_int_equal(f->w.v[0].d.wscale, -1);
	assert_false(f->w.v[0].d.sack_permitted);
	assert_false(f->w.v[0].d.has_ts);
	assert_int_equal(f->w.v[0].raw[2] * 256 + f->w.v[0].raw[3], 44);
	fx_free(f);
}

/* Segments are cut to the peer's MSS minus the timestamp option, and no
 * more than the peer's window is in flight; an ACK releases the rest. */
static void test_segmentation_mss_and_window(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	uint8_t data[5000];
	uint32_t iss;
	size_t first;
	default_opts(&o);
	k = connected(f, &o, 1000, 0, 3000);
	iss = f->w.v[0].d.seq;
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)i;
	assert_int_equal(rawtcp_send(k, data, sizeof data, f->err, sizeof f->err), 0);
	pump(f, 2);
	first = f->w.n;
	/* 3000 bytes of window: 988 + 988 + 988 + 36 */
	assert_int_equal(first, 2 + 4);
	assert_int_equal(f->w.v[2].d.seg_len, 988);
	assert_int_equal(f->w.v[3].d.seg_len, 988);
	assert_int_equal(f->w.v[4].d.seg_len, 988);
	assert_int_equal(f->w.v[5].d.seg_len, 36);
	assert_int_equal(f->w.v[3].d.seq, iss + 1 + 988);
	assert_memory_equal(f->w.v[3].payload, data + 988, 988);
	/* the server ACKs 2000 bytes, window 3000 again: 2000 more may go */
	srv_seg(f, k, 0, iss + 1 + 2000, LL_TH_ACK, 3000, NULL, 0);
	pump(f, 2);
	{
		uint32_t more = 0;
		for (size_t i = first; i < f->w.n; i++)
			more += f->w.v[i].d.seg_len;
		assert_int_equal(more, 2000);
		assert_int_equal(f->w.v[f->w.n - 1].d.seq + f->w.v[f->w.n - 1].d.seg_len, iss + 1 + 5000);
		assert_true(f->w.v[f->w.n - 1].d.flags & LL_TH_PSH);
	}
	fx_free(f);
}

/* Each direction is held rtt/2: the SYN leaves rtt/2 after connect, and the
 * handshake ACK leaves rtt after the SYN-ACK came in. */
static void test_emulated_rtt(void **state)
{
	(void)state;
	struct fx *f = fx_new(60000);
	struct rawtcp_conn_opts o;
	uint64_t t0, t1;
	default_opts(&o);
	t0 = rawtcp_now_us();
	assert_non_null(rawtcp_connect(f->c, &o, f->err, sizeof f->err));
	pump(f, 10);
	assert_int_equal(f->w.n, 0);            /* still held */
	pump(f, 40);
	assert_int_equal(f->w.n, 1);
	assert_in_range(f->w.v[0].t - t0, 29000, 45000);
	t1 = rawtcp_now_us();
	srv_synack(f, &f->w.v[0], 1460, 7, 65535);
	pump(f, 80);
	assert_int_equal(f->w.n, 2);
	assert_in_range(f->w.v[1].t - t1, 59000, 80000);
	fx_free(f);
}

/* A per-connection RTT overrides the client's. */
static void test_per_connection_rtt(void **state)
{
	(void)state;
	struct fx *f = fx_new(200000);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn_info info;
	struct rawtcp_conn *k;
	uint64_t t0 = rawtcp_now_us();
	default_opts(&o);
	o.rtt_us = 0;
	k = rawtcp_connect(f->c, &o, f->err, sizeof f->err);
	pump(f, 5);
	assert_int_equal(f->w.n, 1);
	assert_true(f->w.v[0].t - t0 < 10000);
	rawtcp_conn_info(k, &info);
	assert_int_equal(info.rtt_us, 0);
	fx_free(f);
}

/* The delay queue orders by release time across connections: a SYN with
 * a 10 ms RTT leaves before one queued earlier with a 60 ms RTT, and each
 * leaves after its own half RTT. */
static void test_delay_queue_across_connections(void **state)
{
	(void)state;
	struct fx *f = fx_new(60000);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *slow, *fast;
	uint64_t t0 = rawtcp_now_us();
	default_opts(&o);
	slow = rawtcp_connect(f->c, &o, f->err, sizeof f->err);
	o.rtt_us = 10000;
	fast = rawtcp_connect(f->c, &o, f->err, sizeof f->err);
	assert_non_null(slow);
	assert_non_null(fast);
	pump(f, 50);
	assert_int_equal(f->w.n, 2);
	assert_int_equal(f->w.v[0].d.sport, rawtcp_conn_local_port(fast));
	assert_int_equal(f->w.v[1].d.sport, rawtcp_conn_local_port(slow));
	assert_in_range(f->w.v[0].t - t0, 4500, 15000);
	assert_in_range(f->w.v[1].t - t0, 29000, 45000);
	fx_free(f);
}

/* Deliver `len` response bytes at relative seq rel and return what the
 * client sent back. */
static size_t deliver(struct fx *f, struct rawtcp_conn *k, uint32_t rel, const char *data, size_t len,
                      uint8_t extra_flags)
{
	size_t before = f->w.n;
	uint32_t iss = f->w.v[0].d.seq;
	srv_seg(f, k, rel, iss + 1, LL_TH_ACK | LL_TH_PSH | extra_flags, 1000, data, len);
	pump(f, 2);
	return f->w.n - before;
}

static void test_ack_now(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	default_opts(&o);
	k = connected(f, &o, 1460, 7, 1000);
	assert_int_equal(deliver(f, k, 0, "HTTP/1.1 404", 12, 0), 1);
	assert_int_equal(f->w.v[f->w.n - 1].d.ack, SISN + 1 + 12);
	assert_int_equal(deliver(f, k, 12, "x", 1, LL_TH_FIN), 1);
	/* data and FIN: the FIN takes one more sequence number */
	assert_int_equal(f->w.v[f->w.n - 1].d.ack, SISN + 1 + 13 + 1);
	assert_int_equal(rawtcp_conn_state(k), RAWTCP_CLOSE_WAIT);
	{
		struct rawtcp_conn_info info;
		rawtcp_conn_info(k, &info);
		assert_true(info.peer_fin);
		assert_true(info.peer_fin_acked);
		assert_int_equal(info.peer_fin_at, 13);
		assert_int_equal(info.rx_acked, 13);
	}
	fx_free(f);
}

/* "never": data and FIN arrive and nothing is ACKed; a data segment we send
 * still carries the handshake's acknowledgment only. */
static void test_ack_never(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	struct rawtcp_conn_info info;
	default_opts(&o);
	o.ack.mode = RAWTCP_ACK_NEVER;
	k = connected(f, &o, 1460, 7, 1000);
	assert_int_equal(deliver(f, k, 0, "HTTP/1.1 200 OK\r\n", 17, LL_TH_FIN), 0);
	assert_int_equal(rawtcp_send(k, "GET", 3, f->err, sizeof f->err), 0);
	pump(f, 2);
	assert_int_equal(f->w.v[f->w.n - 1].d.seg_len, 3);
	assert_int_equal(f->w.v[f->w.n - 1].d.ack, SISN + 1);
	rawtcp_conn_info(k, &info);
	assert_int_equal(info.rx_received, 17);
	assert_int_equal(info.rx_acked, 0);
	assert_false(info.peer_fin_acked);
	/* switching to "now" sends the withheld ACK at once */
	{
		struct rawtcp_ack_policy p = { RAWTCP_ACK_NOW, 0, 0 };
		size_t before = f->w.n;
		rawtcp_set_ack_policy(k, &p);
		pump(f, 2);
		assert_int_equal(f->w.n, before + 1);
		assert_int_equal(f->w.v[f->w.n - 1].d.ack, SISN + 1 + 18);
	}
	fx_free(f);
}

/* "up to N": the acknowledgment stops at byte N of the peer's stream. */
static void test_ack_upto(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	char body[300];
	default_opts(&o);
	o.ack.mode = RAWTCP_ACK_UPTO;
	o.ack.upto = 100;
	k = connected(f, &o, 1460, 7, 1000);
	memset(body, 'r', sizeof body);
	assert_int_equal(deliver(f, k, 0, body, 60, 0), 1);
	assert_int_equal(f->w.v[f->w.n - 1].d.ack, SISN + 1 + 60);
	assert_int_equal(deliver(f, k, 60, body, 240, 0), 1);
	assert_int_equal(f->w.v[f->w.n - 1].d.ack, SISN + 1 + 100);
	/* more data: nothing more may be acknowledged, so no new ACK */
	assert_int_equal(deliver(f, k, 300, body, 10, 0), 0);
	fx_free(f);
}

/* "delayed by D": one ACK D after the first unacknowledged byte. */
static void test_ack_delayed(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	uint64_t t0;
	default_opts(&o);
	o.ack.mode = RAWTCP_ACK_DELAYED;
	o.ack.delay_us = 40000;
	k = connected(f, &o, 1460, 7, 1000);
	t0 = rawtcp_now_us();
	assert_int_equal(deliver(f, k, 0, "abc", 3, 0), 0);
	assert_int_equal(deliver(f, k, 3, "def", 3, 0), 0);
	pump(f, 60);
	assert_int_equal(f->w.n, 3);
	assert_int_equal(f->w.v[2].d.ack, SISN + 1 + 6);
	assert_in_range(f->w.v[2].t - t0, 39000, 65000);
	fx_free(f);
}

/* A zero window is advertised from the SYN on; data beyond it is dropped
 * and answered at once; opening the window sends an update. */
static void test_zero_window(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	struct rawtcp_conn_info info;
	default_opts(&o);
	o.window = 0;
	k = connected(f, &o, 1460, 7, 1000);
	assert_int_equal(f->w.v[0].d.win, 0);
	assert_int_equal(f->w.v[1].d.win, 0);
	assert_int_equal(deliver(f, k, 0, "HTTP", 4, 0), 1);
	assert_int_equal(f->w.v[f->w.n - 1].d.ack, SISN + 1);
	assert_int_equal(f->w.v[f->w.n - 1].d.win, 0);
	rawtcp_conn_info(k, &info);
	assert_int_equal(info.rx_received, 0);
	rawtcp_set_window(k, 4096);
	pump(f, 2);
	assert_int_equal(f->w.v[f->w.n - 1].d.win, 4096 >> 7);
	assert_int_equal(deliver(f, k, 0, "HTTP", 4, 0), 1);
	rawtcp_conn_info(k, &info);
	assert_int_equal(info.rx_received, 4);
	fx_free(f);
}

/* The receive buffer fills when the runner does not consume, the window
 * shrinks with it, and consuming opens it again. */
static void test_window_follows_buffer(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	char blk[1000];
	const uint8_t *p;
	default_opts(&o);
	o.rcvbuf_cap = 3000;
	o.wscale = 0;
	k = connected(f, &o, 1460, 0, 1000);
	memset(blk, 'z', sizeof blk);
	deliver(f, k, 0, blk, 1000, 0);
	assert_int_equal(f->w.v[f->w.n - 1].d.win, 2000);
	deliver(f, k, 1000, blk, 1000, 0);
	deliver(f, k, 2000, blk, 1000, 0);
	assert_int_equal(f->w.v[f->w.n - 1].d.win, 0);
	assert_int_equal(rawtcp_peek(k, &p), 3000);
	assert_int_equal(p[2999], 'z');
	{
		size_t before = f->w.n;
		rawtcp_consume(k, 2000);
		pump(f, 2);
		assert_int_equal(f->w.n, before + 1);
		assert_int_equal(f->w.v[f->w.n - 1].d.win, 2000);
	}
	assert_int_equal(rawtcp_peek(k, &p), 1000);
	fx_free(f);
}

/* The RST bookkeeping: what arrived, what the application had read, and
 * what a flush-on-RST client would have lost. */
static void test_rst_after_response(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	struct rawtcp_conn_info info;
	struct rawtcp_event ev = { 0 };
	char resp[500];
	default_opts(&o);
	o.ack.mode = RAWTCP_ACK_NEVER;
	k = connected(f, &o, 1460, 7, 1000);
	memset(resp, 'h', sizeof resp);
	deliver(f, k, 0, resp, 500, LL_TH_FIN);
	rawtcp_consume(k, 200);
	/* the server kernel's RST after close: seq = its snd_nxt (FIN + 1) */
	srv_seg(f, k, 501, 0, LL_TH_RST, 0, NULL, 0);
	pump(f, 2);
	rawtcp_conn_info(k, &info);
	assert_int_equal(info.state, RAWTCP_CLOSED);
	assert_int_equal(info.close_reason, RAWTCP_CLOSE_RESET);
	assert_true(info.peer_rst);
	assert_true(info.peer_fin);
	assert_int_equal(info.rst_rel_seq, 501);
	assert_int_equal(info.rst_rx_received, 500);
	assert_int_equal(info.rst_rx_delivered, 200);
	assert_int_equal(info.rst_lost_on_flush, 300);
	assert_int_equal(info.rst_unacked, 500);
	assert_int_equal(count_events(f, RAWTCP_EV_CLOSED, &ev), 1);
	assert_int_equal(ev.reason, RAWTCP_CLOSE_RESET);
	/* the received bytes stay readable after the reset */
	{
		const uint8_t *p;
		assert_int_equal(rawtcp_peek(k, &p), 300);
	}
	fx_free(f);
}

/* A RST far outside the window is ignored (counted only). */
static void test_rst_out_of_window_ignored(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	struct rawtcp_conn_info info;
	default_opts(&o);
	k = connected(f, &o, 1460, 7, 1000);
	srv_seg(f, k, 10000000, 0, LL_TH_RST, 0, NULL, 0);
	pump(f, 2);
	rawtcp_conn_info(k, &info);
	assert_int_equal(info.state, RAWTCP_ESTABLISHED);
	assert_int_equal(info.rsts_received, 1);
	assert_false(info.peer_rst);
	fx_free(f);
}

/* A refused connection (RST+ACK to the SYN). */
static void test_refused(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	struct rawtcp_conn_info info;
	default_opts(&o);
	k = rawtcp_connect(f->c, &o, f->err, sizeof f->err);
	pump(f, 2);
	srv(f, f->w.v[0].d.sport, 0, f->w.v[0].d.seq + 1, LL_TH_RST | LL_TH_ACK, 0, NULL, 0, NULL, 0);
	pump(f, 2);
	rawtcp_conn_info(k, &info);
	assert_int_equal(info.state, RAWTCP_CLOSED);
	assert_int_equal(info.close_reason, RAWTCP_CLOSE_RESET);
	fx_free(f);
}

/* Unanswered data is retransmitted from snd_una with a doubling RTO, and
 * the connection gives up after max_retries. */
static void test_retransmission_and_timeout(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	struct rawtcp_conn_info info;
	struct rawtcp_event ev = { 0 };
	default_opts(&o);
	o.rto_initial_us = 20000;
	o.rto_min_us = 20000;
	o.max_retries = 2;
	k = connected(f, &o, 1460, 7, 1000);
	assert_int_equal(rawtcp_send(k, "PUT /x", 6, f->err, sizeof f->err), 0);
	pump(f, 2);
	assert_int_equal(f->w.n, 3);
	pump(f, 300);
	rawtcp_conn_info(k, &info);
	assert_int_equal(info.state, RAWTCP_CLOSED);
	assert_int_equal(info.close_reason, RAWTCP_CLOSE_TIMEOUT);
	assert_int_equal(info.retransmits, 2);
	assert_int_equal(f->w.n, 5);
	assert_int_equal(f->w.v[3].d.seq, f->w.v[2].d.seq);
	assert_memory_equal(f->w.v[4].payload, "PUT /x", 6);
	/* the gaps double: the second is about twice the first */
	{
		uint64_t g1 = f->w.v[3].t - f->w.v[2].t, g2 = f->w.v[4].t - f->w.v[3].t;
		assert_true(g2 > g1 + g1 / 2);
	}
	assert_int_equal(count_events(f, RAWTCP_EV_CLOSED, &ev), 1);
	assert_int_equal(ev.reason, RAWTCP_CLOSE_TIMEOUT);
	fx_free(f);
}

/* Our FIN follows the queued data; FIN_WAIT_2 once it is ACKed; the
 * peer's FIN leads to TIME_WAIT and then CLOSED (normal). */
static void test_orderly_close(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	struct rawtcp_event ev = { 0 };
	uint32_t iss;
	default_opts(&o);
	o.time_wait_us = 30000;
	k = connected(f, &o, 1460, 7, 1000);
	iss = f->w.v[0].d.seq;
	assert_int_equal(rawtcp_send(k, "GET / HTTP/1.0\r\n\r\n", 18, f->err, sizeof f->err), 0);
	assert_int_equal(rawtcp_shutdown(k, f->err, sizeof f->err), 0);
	pump(f, 2);
	assert_int_equal(f->w.n, 4);
	assert_int_equal(f->w.v[3].d.flags, LL_TH_FIN | LL_TH_ACK);
	assert_int_equal(f->w.v[3].d.seq, iss + 1 + 18);
	assert_int_equal(rawtcp_conn_state(k), RAWTCP_FIN_WAIT_1);
	assert_int_equal(rawtcp_send(k, "x", 1, f->err, sizeof f->err), -1);
	assert_string_equal(f->err, "rawtcp_send: already shut down");
	srv_seg(f, k, 0, iss + 1 + 19, LL_TH_ACK, 1000, NULL, 0);
	pump(f, 2);
	assert_int_equal(rawtcp_conn_state(k), RAWTCP_FIN_WAIT_2);
	assert_int_equal(count_events(f, RAWTCP_EV_ALL_ACKED, NULL), 1);
	srv_seg(f, k, 0, iss + 1 + 19, LL_TH_ACK | LL_TH_FIN, 1000, NULL, 0);
	pump(f, 2);
	assert_int_equal(rawtcp_conn_state(k), RAWTCP_TIME_WAIT);
	assert_int_equal(f->w.v[f->w.n - 1].d.ack, SISN + 2);
	pump(f, 50);
	assert_int_equal(rawtcp_conn_state(k), RAWTCP_CLOSED);
	assert_int_equal(count_events(f, RAWTCP_EV_CLOSED, &ev), 1);
	assert_int_equal(ev.reason, RAWTCP_CLOSE_NORMAL);
	fx_free(f);
}

/* Abort sends RST at snd_nxt and closes at once. */
static void test_abort(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	uint32_t iss;
	default_opts(&o);
	k = connected(f, &o, 1460, 7, 1000);
	iss = f->w.v[0].d.seq;
	assert_int_equal(rawtcp_send(k, "abc", 3, f->err, sizeof f->err), 0);
	rawtcp_abort(k);
	pump(f, 2);
	assert_int_equal(f->w.v[f->w.n - 1].d.flags, LL_TH_RST | LL_TH_ACK);
	assert_int_equal(f->w.v[f->w.n - 1].d.seq, iss + 1 + 3);
	assert_int_equal(rawtcp_conn_state(k), RAWTCP_CLOSED);
	fx_free(f);
}

/* A silenced connection injects nothing, not even retransmissions. */
static void test_silence(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	size_t before;
	default_opts(&o);
	o.rto_initial_us = o.rto_min_us = 10000;
	k = connected(f, &o, 1460, 7, 1000);
	assert_int_equal(rawtcp_send(k, "abc", 3, f->err, sizeof f->err), 0);
	pump(f, 2);
	rawtcp_silence(k);
	before = f->w.n;
	deliver(f, k, 0, "HTTP/1.1 200 OK\r\n", 17, 0);
	pump(f, 60);
	assert_int_equal(f->w.n, before);
	srv_seg(f, k, 17, 0, LL_TH_RST, 0, NULL, 0);
	pump(f, 2);
	{
		struct rawtcp_conn_info info;
		rawtcp_conn_info(k, &info);
		assert_int_equal(info.close_reason, RAWTCP_CLOSE_SILENT);
		assert_int_equal(info.rx_received, 17);
	}
	fx_free(f);
}

/* Out-of-order segments are dropped and answered with a duplicate ACK. */
static void test_out_of_order_dropped(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	struct rawtcp_conn_info info;
	default_opts(&o);
	k = connected(f, &o, 1460, 7, 1000);
	assert_int_equal(deliver(f, k, 100, "late", 4, 0), 1);
	assert_int_equal(f->w.v[f->w.n - 1].d.ack, SISN + 1);
	assert_int_equal(deliver(f, k, 0, "0123456789", 10, 0), 1);
	/* a retransmission overlapping what we have: only the new part */
	assert_int_equal(deliver(f, k, 5, "56789ABCDE", 10, 0), 1);
	rawtcp_conn_info(k, &info);
	assert_int_equal(info.rx_dropped_ooo, 1);
	assert_int_equal(info.rx_received, 15);
	{
		const uint8_t *p;
		assert_int_equal(rawtcp_peek(k, &p), 15);
		assert_memory_equal(p, "0123456789ABCDE", 15);
	}
	fx_free(f);
}

/* The body generator paces chunks at the rate, in the pattern, and says
 * when it is done. */
static void test_body_generator(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	struct rawtcp_event ev = { 0 };
	uint64_t t0;
	uint64_t bytes = 0;
	uint32_t iss;
	default_opts(&o);
	k = connected(f, &o, 1460, 7, 60000);
	iss = f->w.v[0].d.seq;
	t0 = rawtcp_now_us();
	assert_int_equal(rawtcp_send_body(k, 10000, 100000, 1000, f->err, sizeof f->err), 0);
	assert_int_equal(rawtcp_send(k, "x", 1, f->err, sizeof f->err), -1);
	assert_string_equal(f->err, "rawtcp_send: body generator still running");
	/* Pump until the generator reports done (bounded), so a loaded machine
	 * cannot make the test miss the event; the timing check below is what
	 * shows the rate is honoured. */
	size_t done = 0;
	for (int round = 0; round < 100 && done == 0; round++) {
		pump(f, 20);
		done += count_events(f, RAWTCP_EV_BODY_DONE, &ev);
	}
	for (size_t i = 2; i < f->w.n; i++) {
		const struct dec_tcp *d = &f->w.v[i].d;
		uint32_t off = d->seq - (iss + 1);
		assert_true(d->seg_len <= 1000);
		for (uint32_t j = 0; j < d->seg_len; j++)
			assert_int_equal(f->w.v[i].payload[j], 'a' + (off + j) % 26);
		bytes += d->seg_len;
	}
	assert_int_equal(bytes, 10000);
	assert_int_equal(done, 1);
	assert_int_equal(count_events(f, RAWTCP_EV_BODY_DONE, NULL), 0);
	/* 10000 bytes at 100000 B/s: the last chunk is due after 90 ms; never
	 * sooner (the rate holds), and not wildly later (the timer fires). */
	assert_in_range(ev.time_us - t0, 88000, 1000000);
	fx_free(f);
}

/* After the server's RST, send_after_rst keeps streaming the body (no
 * window, no retransmission); each later RST is reported. */
static void test_send_after_rst(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	struct rawtcp_conn_info info;
	uint32_t iss;
	uint64_t bytes = 0;
	default_opts(&o);
	o.send_after_rst = true;
	k = connected(f, &o, 1460, 7, 4000);
	iss = f->w.v[0].d.seq;
	assert_int_equal(rawtcp_send_body(k, 20000, 200000, 2000, f->err, sizeof f->err), 0);
	pump(f, 5);
	/* the server answered 401, closed, and reset on the next data */
	deliver(f, k, 0, "HTTP/1.1 401", 12, LL_TH_FIN);
	srv_seg(f, k, 13, 0, LL_TH_RST, 0, NULL, 0);
	pump(f, 2);
	rawtcp_conn_info(k, &info);
	assert_true(info.peer_rst);
	assert_int_not_equal(info.state, RAWTCP_CLOSED);
	srv_seg(f, k, 13, 0, LL_TH_RST, 0, NULL, 0);
	pump(f, 150);
	rawtcp_conn_info(k, &info);
	assert_int_equal(info.state, RAWTCP_CLOSED);
	assert_int_equal(info.close_reason, RAWTCP_CLOSE_RESET);
	assert_int_equal(info.rsts_received, 2);
	assert_int_equal(info.bytes_sent, 20000);
	for (size_t i = 2; i < f->w.n; i++)
		if (f->w.v[i].d.seg_len)
			bytes = f->w.v[i].d.seq - (iss + 1) + f->w.v[i].d.seg_len;
	assert_int_equal(bytes, 20000);
	assert_int_equal(count_events(f, RAWTCP_EV_PEER_RST, NULL), 2);
	fx_free(f);
}

/* stop_on_peer_fin: the body stops when the server's FIN arrives. */
static void test_stop_on_peer_fin(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k;
	struct rawtcp_conn_info info;
	default_opts(&o);
	o.stop_on_peer_fin = true;
	k = connected(f, &o, 1460, 7, 60000);
	assert_int_equal(rawtcp_send_body(k, 1000000, 100000, 1000, f->err, sizeof f->err), 0);
	pump(f, 20);
	deliver(f, k, 0, "HTTP/1.1 401", 12, LL_TH_FIN);
	pump(f, 50);
	rawtcp_conn_info(k, &info);
	assert_true(info.bytes_queued < 10000);
	assert_int_equal(info.bytes_sent, info.bytes_queued);
	assert_int_equal(count_events(f, RAWTCP_EV_BODY_DONE, NULL), 0);
	fx_free(f);
}

/* Local ports go round-robin and are not reused while live. */
static void test_ports_and_limits(void **state)
{
	(void)state;
	struct fx *f = calloc(1, sizeof *f);
	struct rawtcp_config cfg;
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k[3];
	rawtcp_config_init(&cfg);
	cfg.local_addr = CLIENT_IP;
	cfg.peer_addr = SERVER_IP;
	cfg.port_min = 30000;
	cfg.port_max = 30002;
	cfg.max_conns = 3;
	cfg.out = on_out;
	cfg.out_arg = &f->w;
	f->c = rawtcp_open(&cfg, f->err, sizeof f->err);
	assert_non_null(f->c);
	default_opts(&o);
	for (int i = 0; i < 3; i++) {
		k[i] = rawtcp_connect(f->c, &o, f->err, sizeof f->err);
		assert_non_null(k[i]);
		assert_in_range(rawtcp_conn_local_port(k[i]), 30000, 30002);
	}
	assert_int_not_equal(rawtcp_conn_local_port(k[0]), rawtcp_conn_local_port(k[1]));
	assert_int_not_equal(rawtcp_conn_local_port(k[1]), rawtcp_conn_local_port(k[2]));
	assert_null(rawtcp_connect(f->c, &o, f->err, sizeof f->err));
	assert_string_equal(f->err, "rawtcp_connect: too many connections (max 3)");
	rawtcp_conn_release(k[1]);
	{
		struct rawtcp_event ev;
		while (rawtcp_next_event(f->c, &ev))
			assert_ptr_not_equal(ev.conn, k[1]); /* its events are gone */
	}
	assert_non_null(rawtcp_connect(f->c, &o, f->err, sizeof f->err));
	fx_free(f);
}

static void test_error_messages(void **state)
{
	(void)state;
	struct rawtcp_config cfg;
	struct rawtcp_conn_opts o;
	char err[200];
	struct fx *f;
	struct rawtcp_conn *k;
	char big[300000];

	rawtcp_config_init(&cfg);
	cfg.local_addr = "10.0.0.300";
	cfg.peer_addr = SERVER_IP;
	assert_null(rawtcp_open(&cfg, err, sizeof err));
	assert_string_equal(err, "rawtcp_open: local_addr: not an IPv4 or IPv6 address: 10.0.0.300");
	cfg.local_addr = CLIENT_IP;
	cfg.peer_addr = "fd00::1";
	assert_null(rawtcp_open(&cfg, err, sizeof err));
	assert_string_equal(err, "rawtcp_open: local_addr " CLIENT_IP " and peer_addr fd00::1 are not of one family");
	cfg.peer_addr = NULL;
	assert_null(rawtcp_open(&cfg, err, sizeof err));
	assert_string_equal(err, "rawtcp_open: peer_addr: missing");

	f = fx_new(0);
	default_opts(&o);
	o.dport = 0;
	assert_null(rawtcp_connect(f->c, &o, err, sizeof err));
	assert_string_equal(err, "rawtcp_connect: dport: must not be 0");
	default_opts(&o);
	o.wscale = 15;
	assert_null(rawtcp_connect(f->c, &o, err, sizeof err));
	assert_string_equal(err, "rawtcp_connect: wscale: 15 is out of range 0..14 or -1");
	default_opts(&o);
	o.mss = 10;
	assert_null(rawtcp_connect(f->c, &o, err, sizeof err));
	assert_string_equal(err, "rawtcp_connect: mss: must be 64..65495");
	default_opts(&o);
	o.sndbuf_cap = 1000;
	k = rawtcp_connect(f->c, &o, err, sizeof err);
	assert_non_null(k);
	memset(big, 'b', sizeof big);
	assert_int_equal(rawtcp_send(k, big, 600, err, sizeof err), 0);
	assert_int_equal(rawtcp_send(k, big, 600, err, sizeof err), -1);
	assert_string_equal(err, "rawtcp_send: send buffer full (600 of 1000 bytes used)");
	assert_int_equal(rawtcp_send_body(k, 10, 0, 0, err, sizeof err), 0);
	assert_int_equal(rawtcp_send_body(k, 10, 0, 0, err, sizeof err), 0); /* first one done */
	rawtcp_abort(k);
	assert_int_equal(rawtcp_send(k, "x", 1, err, sizeof err), -1);
	assert_string_equal(err, "rawtcp_send: connection is closed");
	assert_int_equal(rawtcp_shutdown(k, err, sizeof err), -1);
	assert_string_equal(err, "rawtcp_shutdown: connection is closed");
	{
		uint8_t junk[30] = { 0x45, 0, 0, 30 };
		assert_int_equal(rawtcp_input_ipv4(f->c, junk, sizeof junk, err, sizeof err), -1);
		assert_true(strncmp(err, "rawtcp_input_ipv4: ", 19) == 0);
	}
	fx_free(f);
}

/* Runner timers fire in order, cancelled ones never. */
static void test_runner_timers(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_event ev = { 0 };
	uint64_t now = rawtcp_now_us();
	uint64_t id;
	assert_int_not_equal(rawtcp_timer_add(f->c, now + 20000, 2, f->err, sizeof f->err), 0);
	assert_int_not_equal(rawtcp_timer_add(f->c, now + 10000, 1, f->err, sizeof f->err), 0);
	id = rawtcp_timer_add(f->c, now + 15000, 99, f->err, sizeof f->err);
	rawtcp_timer_cancel(f->c, id);
	pump(f, 30);
	assert_true(rawtcp_next_event(f->c, &ev));
	assert_int_equal(ev.type, RAWTCP_EV_TIMER);
	assert_int_equal(ev.cookie, 1);
	assert_true(ev.time_us >= now + 10000);
	assert_true(rawtcp_next_event(f->c, &ev));
	assert_int_equal(ev.cookie, 2);
	assert_false(rawtcp_next_event(f->c, &ev));
	fx_free(f);
}

static bool stop_on_event(struct rawtcp *c, void *arg)
{
	(void)c;
	struct fx *f = arg;
	return f->w.n > 0;
}

/* rawtcp_run returns 1 as soon as the predicate holds. */
static void test_run_stops_on_predicate(void **state)
{
	(void)state;
	struct fx *f = fx_new(20000);
	struct rawtcp_conn_opts o;
	uint64_t t0 = rawtcp_now_us();
	default_opts(&o);
	assert_non_null(rawtcp_connect(f->c, &o, f->err, sizeof f->err));
	assert_int_equal(rawtcp_run(f->c, t0 + 2000000, stop_on_event, f, f->err, sizeof f->err), 1);
	assert_true(rawtcp_now_us() - t0 < 100000);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_options),
		cmocka_unit_test(test_handshake_without_options),
		cmocka_unit_test(test_segmentation_mss_and_window),
		cmocka_unit_test(test_emulated_rtt),
		cmocka_unit_test(test_per_connection_rtt),
		cmocka_unit_test(test_delay_queue_across_connections),
		cmocka_unit_test(test_ack_now),
		cmocka_unit_test(test_ack_never),
		cmocka_unit_test(test_ack_upto),
		cmocka_unit_test(test_ack_delayed),
		cmocka_unit_test(test_zero_window),
		cmocka_unit_test(test_window_follows_buffer),
		cmocka_unit_test(test_rst_after_response),
		cmocka_unit_test(test_rst_out_of_window_ignored),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_retransmission_and_timeout),
		cmocka_unit_test(test_orderly_close),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_silence),
		cmocka_unit_test(test_out_of_order_dropped),
		cmocka_unit_test(test_body_generator),
		cmocka_unit_test(test_send_after_rst),
		cmocka_unit_test(test_stop_on_peer_fin),
		cmocka_unit_test(test_ports_and_limits),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_runner_timers),
		cmocka_unit_test(test_run_stops_on_predicate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
