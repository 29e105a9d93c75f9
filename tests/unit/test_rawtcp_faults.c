/*
 * test_rawtcp_faults.c - the raw client's teaching hooks, offline (the
 * out hook is the wire, rawtcp_input_ipv4 the server): `drop out N` keeps
 * a segment off the wire and the TCP retransmits it, `drop in fin` hides
 * the server's FIN until it comes again, `reorder out|in N` swaps a
 * segment with the next one, segments are counted as rawtcp.h says, and
 * rawtcp_send_rst sends a RST with the asked sequence and ACK numbers
 * without closing the connection. (The helpers: rawtcp_helpers.h.)
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


static uint32_t isn_of(struct fx *f) { return f->w.v[0].d.seq; }

/* drop out 3: the first data segment never reaches the wire; the client
 * retransmits it on its timer. */
static void test_drop_out_data(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn_info info;
	default_opts(&o);
	o.faults[o.n_faults++] = (struct rawtcp_fault){ .dir = RAWTCP_DIR_OUT,
		.kind = RAWTCP_FAULT_DROP, .nth = 3 };
	struct rawtcp_conn *k = connected(f, &o, 1460, 7, 65535);
	assert_int_equal(rawtcp_send(k, "hello", 5, f->err, sizeof f->err), 0);
	pump(f, 5);
	assert_int_equal(f->w.n, 2); /* SYN, ACK: the data was lost */
	pump(f, 1300);               /* an RTO (200 ms floor, 1 s at most here) */
	assert_true(f->w.n >= 3);
	assert_int_equal(f->w.v[2].d.seq, isn_of(f) + 1);
	assert_int_equal(f->w.v[2].d.payload_caplen, 5);
	rawtcp_conn_info(k, &info);
	assert_int_equal(info.dropped[RAWTCP_DIR_OUT], 1);
	/* SYN, ACK, the lost segment, then each retransmission */
	assert_int_equal(info.segs[RAWTCP_DIR_OUT], f->w.n + 1);
	assert_int_equal(info.retransmits, f->w.n - 2);
	assert_int_equal(info.segs[RAWTCP_DIR_IN], 1); /* the SYN-ACK */
	fx_free(f);
}

/* drop in fin: the server's FIN is not taken (no ACK for it); its second
 * copy is. */
static void test_drop_in_fin(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn_info info;
	default_opts(&o);
	o.faults[o.n_faults++] = (struct rawtcp_fault){ .dir = RAWTCP_DIR_IN,
		.kind = RAWTCP_FAULT_DROP, .fin = true };
	struct rawtcp_conn *k = connected(f, &o, 1460, 7, 65535);
	uint32_t ack = isn_of(f) + 1;
	srv_seg(f, k, 0, ack, LL_TH_ACK | LL_TH_PSH, 512, "abc", 3);
	pump(f, 5);
	size_t n = f->w.n;
	srv_seg(f, k, 3, ack, LL_TH_ACK | LL_TH_FIN, 512, NULL, 0);
	pump(f, 5);
	rawtcp_conn_info(k, &info);
	assert_false(info.peer_fin);
	assert_int_equal(f->w.n, n); /* nothing answered it */
	assert_int_equal(info.dropped[RAWTCP_DIR_IN], 1);
	srv_seg(f, k, 3, ack, LL_TH_ACK | LL_TH_FIN, 512, NULL, 0);
	pump(f, 5);
	rawtcp_conn_info(k, &info);
	assert_true(info.peer_fin);
	assert_int_equal(f->w.v[f->w.n - 1].d.ack, SISN + 1 + 3 + 1);
	assert_int_equal(info.segs[RAWTCP_DIR_IN], 4);
	fx_free(f);
}

/* reorder out 3: the first of two data segments goes after the second. */
static void test_reorder_out(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn_info info;
	default_opts(&o);
	struct rawtcp_conn *k = connected(f, &o, 1460, 7, 65535);
	struct rawtcp_fault r = { .dir = RAWTCP_DIR_OUT, .kind = RAWTCP_FAULT_REORDER, .nth = 3 };
	assert_int_equal(rawtcp_add_fault(k, &r, f->err, sizeof f->err), 0);
	assert_int_equal(rawtcp_send(k, "first", 5, f->err, sizeof f->err), 0);
	pump(f, 5);
	assert_int_equal(f->w.n, 2); /* held back */
	assert_int_equal(rawtcp_send(k, "second", 6, f->err, sizeof f->err), 0);
	pump(f, 5);
	assert_int_equal(f->w.n, 4);
	assert_int_equal(f->w.v[2].d.seq, isn_of(f) + 1 + 5);
	assert_int_equal(f->w.v[2].d.payload_caplen, 6);
	assert_int_equal(f->w.v[3].d.seq, isn_of(f) + 1);
	assert_int_equal(f->w.v[3].d.payload_caplen, 5);
	rawtcp_conn_info(k, &info);
	assert_int_equal(info.reordered[RAWTCP_DIR_OUT], 1);
	/* a ninth rule is refused */
	for (int i = 1; i < RAWTCP_MAX_FAULTS; i++)
		assert_int_equal(rawtcp_add_fault(k, &r, f->err, sizeof f->err), 0);
	assert_int_equal(rawtcp_add_fault(k, &r, f->err, sizeof f->err), -1);
	assert_string_equal(f->err, "rawtcp_add_fault: at most 8 rules per connection");
	fx_free(f);
}

/* reorder in 2: the server's first data segment comes after its second;
 * the client, which keeps no out-of-order data, drops the second (a
 * duplicate ACK) and takes the first. */
static void test_reorder_in(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	struct rawtcp_conn_info info;
	default_opts(&o);
	o.faults[o.n_faults++] = (struct rawtcp_fault){ .dir = RAWTCP_DIR_IN,
		.kind = RAWTCP_FAULT_REORDER, .nth = 2 };
	struct rawtcp_conn *k = connected(f, &o, 1460, 7, 65535);
	uint32_t ack = isn_of(f) + 1;
	srv_seg(f, k, 0, ack, LL_TH_ACK, 512, "aaaa", 4);
	pump(f, 5);
	rawtcp_conn_info(k, &info);
	assert_int_equal(info.rx_received, 0); /* held */
	srv_seg(f, k, 4, ack, LL_TH_ACK, 512, "bbbb", 4);
	pump(f, 5);
	rawtcp_conn_info(k, &info);
	assert_int_equal(info.rx_received, 4);
	assert_int_equal(info.rx_dropped_ooo, 1);
	assert_int_equal(info.reordered[RAWTCP_DIR_IN], 1);
	assert_int_equal(f->w.v[f->w.n - 1].d.ack, SISN + 1 + 4);
	fx_free(f);
}

/* rawtcp_send_rst: seq = next + offset, ACK only when asked, and the
 * connection goes on. */
static void test_send_rst(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rawtcp_conn_opts o;
	default_opts(&o);
	struct rawtcp_conn *k = rawtcp_connect(f->c, &o, f->err, sizeof f->err);
	assert_non_null(k);
	assert_int_equal(rawtcp_send_rst(k, 0, false, 0, f->err, sizeof f->err), -1);
	assert_string_equal(f->err, "rawtcp_send_rst: connection is not established");
	pump(f, 2);
	srv_synack(f, &f->w.v[0], 1460, 7, 65535);
	pump(f, 2);
	uint32_t next = isn_of(f) + 1;
	assert_int_equal(rawtcp_send_rst(k, 1000, false, 0, f->err, sizeof f->err), 0);
	assert_int_equal(rawtcp_send_rst(k, -1, true, 5, f->err, sizeof f->err), 0);
	assert_int_equal(rawtcp_send_rst(k, 0, true, 0, f->err, sizeof f->err), 0);
	pump(f, 5);
	assert_int_equal(f->w.n, 5);
	assert_int_equal(f->w.v[2].d.flags, LL_TH_RST);
	assert_int_equal(f->w.v[2].d.seq, next + 1000);
	assert_int_equal(f->w.v[3].d.flags, LL_TH_RST | LL_TH_ACK);
	assert_int_equal(f->w.v[3].d.seq, next - 1);
	assert_int_equal(f->w.v[3].d.ack, SISN + 1 + 5);
	assert_int_equal(f->w.v[4].d.seq, next);
	assert_int_equal(f->w.v[4].d.ack, SISN + 1);
	assert_int_equal(rawtcp_conn_state(k), RAWTCP_ESTABLISHED);
	/* and it still sends: the next data segment has the next seq */
	assert_int_equal(rawtcp_send(k, "x", 1, f->err, sizeof f->err), 0);
	pump(f, 5);
	assert_int_equal(f->w.v[f->w.n - 1].d.seq, next);
	assert_int_equal(f->w.v[f->w.n - 1].d.ack, SISN + 1);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_out_data),
		cmocka_unit_test(test_drop_in_fin),
		cmocka_unit_test(test_reorder_out),
		cmocka_unit_test(test_reorder_in),
		cmocka_unit_test(test_send_rst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
