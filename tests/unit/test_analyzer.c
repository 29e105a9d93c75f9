/*
 * test_analyzer.c - connection tracking and teardown classification: each
 * close kind and initiator, each side's end state, relative and wrapping
 * sequence numbers, retransmissions, tuple reuse, role inference and
 * grace-period expiry. Frames come from tests/support/pktbuild and are fed
 * to az_packet() directly.
 */
#include "tests/unit/analyzer_helpers.h"

#define CLI "10.0.0.2"
#define SRV "10.0.0.1"
#define REQ "GET / HTTP/1.1\r\nHost: lab\r\n\r\n"                       /* 29 */
#define RESP "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"         /* 43 */

/* SYN at t, SYN-ACK 10 ms later, ACK 10 ms after that; then the request
 * at t+0.030 and the response at t+0.040. */
static void open_and_exchange(struct pb_list *l, struct pb_conn *c, double t)
{
	assert_int_equal(pb_syn(l, c, t), 0);
	assert_int_equal(pb_synack(l, c, t + 0.010), 0);
	assert_int_equal(pb_ack(l, c, PB_C2S, t + 0.020, PB_NEXT, PB_NEXT), 0);
	assert_int_equal(pb_send(l, c, PB_C2S, t + 0.030, PB_NEXT, PB_NEXT, REQ), 0);
	assert_int_equal(pb_send(l, c, PB_S2C, t + 0.040, PB_NEXT, PB_NEXT, RESP), 0);
}

static void new_conn(struct pb_conn *c, uint16_t cport, uint32_t cisn, uint32_t sisn)
{
	assert_int_equal(pb_conn_init(c, CLI, cport, SRV, 80, cisn, sisn), 0);
}

/* The server closes first, the client follows: graceful, server in
 * TIME_WAIT, a short FIN_WAIT_2 on the server side. */
static void test_graceful_server_first(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	const struct az_fw2_summary *fs;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	new_conn(&c, 40000, 1000, 5000);
	open_and_exchange(&l, &c, 1.0);
	pb_fin(&l, &c, PB_S2C, 1.041, PB_NEXT, PB_NEXT);  /* pkt 6, FIN 44 */
	pb_ack(&l, &c, PB_C2S, 1.050, PB_NEXT, PB_NEXT);  /* ack 45 */
	pb_fin(&l, &c, PB_C2S, 1.060, PB_NEXT, PB_NEXT);  /* FIN 30 */
	pb_ack(&l, &c, PB_S2C, 1.070, PB_NEXT, PB_NEXT);  /* ack 31 */
	run_list(&r, &l, NULL);

	assert_int_equal(r.n, 1);
	k = run_conn(&r, 1);
	assert_int_equal(k->initiator, AZ_INIT_SERVER);
	assert_int_equal(k->kind, AZ_KIND_GRACEFUL);
	assert_int_equal(k->server_end, AZ_ST_TIME_WAIT);
	assert_int_equal(k->client_end, AZ_ST_CLOSED);
	assert_false(k->role_inferred);
	assert_true(k->handshake_seen);
	assert_int_equal(k->client_port, 40000);
	assert_int_equal(k->server_port, 80);
	assert_memory_equal(k->server_addr, "\x0a\x00\x00\x01", 4);
	ASSERT_CLOSE(k->h_s, 0.010);
	ASSERT_CLOSE(k->h_c, 0.010);
	assert_int_equal(k->c2s.isn, 1000);
	assert_int_equal(k->c2s.data_end, 30);
	assert_int_equal(k->c2s.bytes, 29);
	assert_int_equal(k->c2s.fin_seq, 30);
	assert_int_equal(k->c2s.acked, 31);
	assert_int_equal(k->s2c.data_end, 44);
	assert_int_equal(k->s2c.bytes, 43);
	assert_int_equal(k->s2c.fin_seq, 44);
	assert_int_equal(k->s2c.fin_packet, 6);
	assert_int_equal(k->s2c.acked, 45);
	assert_int_equal(k->c2s.packets, 5);
	assert_int_equal(k->s2c.packets, 4);
	assert_int_equal(k->s2c.mss, 1460);
	assert_int_equal(k->s2c.wscale, 7);
	assert_false(k->lingered);
	assert_int_equal(k->finding, -1);
	assert_true(k->server_fw2.present);
	ASSERT_CLOSE(k->server_fw2.start, 1.050);
	ASSERT_CLOSE(k->server_fw2.end, 1.060);
	assert_int_equal(k->server_fw2.ending, AZ_FW2_CLIENT_FIN);
	assert_false(k->client_fw2.present);
	assert_int_equal(k->http_requests, 1);
	assert_int_equal(k->http_responses, 1);
	assert_int_equal(k->n_responses, 1);
	assert_int_equal(k->responses[0].status, 200);
	assert_int_equal(k->responses[0].seq_start, 1);
	assert_int_equal(k->responses[0].seq_end, 44);
	assert_true(k->responses[0].complete);
	assert_int_equal(az_totals(r.az)->by_kind[AZ_KIND_GRACEFUL], 1);
	assert_int_equal(az_totals(r.az)->by_initiator[AZ_INIT_SERVER], 1);
	fs = az_fw2(r.az, AZ_SERVER);
	assert_int_equal(fs->count, 1);
	assert_int_equal(fs->endings[AZ_FW2_CLIENT_FIN], 1);
	ASSERT_CLOSE(fs->max, 0.010);
	assert_int_equal(az_fw2(r.az, AZ_CLIENT)->count, 0);
	assert_int_equal(az_stats(r.az)->packets, 9);
	assert_int_equal(az_stats(r.az)->tcp, 9);
	az_free(r.az);
	pb_list_free(&l);
}

/* The client closes first: client in TIME_WAIT, a FIN_WAIT_2 on the client
 * side ended by the server's FIN, none on the server side. */
static void test_graceful_client_first(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	new_conn(&c, 40000, 1000, 5000);
	open_and_exchange(&l, &c, 1.0);
	pb_fin(&l, &c, PB_C2S, 1.050, PB_NEXT, PB_NEXT);
	pb_ack(&l, &c, PB_S2C, 1.060, PB_NEXT, PB_NEXT);
	pb_fin(&l, &c, PB_S2C, 1.070, PB_NEXT, PB_NEXT);
	pb_ack(&l, &c, PB_C2S, 1.080, PB_NEXT, PB_NEXT);
	run_list(&r, &l, NULL);

	k = run_conn(&r, 1);
	assert_int_equal(k->initiator, AZ_INIT_CLIENT);
	assert_int_equal(k->kind, AZ_KIND_GRACEFUL);
	assert_int_equal(k->client_end, AZ_ST_TIME_WAIT);
	assert_int_equal(k->server_end, AZ_ST_CLOSED);
	assert_false(k->server_fw2.present);
	assert_true(k->client_fw2.present);
	ASSERT_CLOSE(k->client_fw2.start, 1.060);
	ASSERT_CLOSE(k->client_fw2.end, 1.070);
	assert_int_equal(k->client_fw2.ending, AZ_FW2_CLIENT_FIN); /* peer's FIN */
	assert_int_equal(az_fw2(r.az, AZ_SERVER)->count, 0);
	assert_int_equal(az_fw2(r.az, AZ_CLIENT)->count, 1);
	az_free(r.az);
	pb_list_free(&l);
}

/* The server answers the client's FIN with FIN-ACK at once: no FIN_WAIT_2
 * for anybody, server in CLOSED after the last ACK. */
static void test_client_close_finack(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	new_conn(&c, 40000, 1000, 5000);
	open_and_exchange(&l, &c, 1.0);
	pb_fin(&l, &c, PB_C2S, 1.050, PB_NEXT, PB_NEXT);
	pb_fin(&l, &c, PB_S2C, 1.051, PB_NEXT, PB_NEXT); /* acks the client FIN */
	pb_ack(&l, &c, PB_C2S, 1.052, PB_NEXT, PB_NEXT);
	run_list(&r, &l, NULL);

	k = run_conn(&r, 1);
	assert_int_equal(k->initiator, AZ_INIT_CLIENT);
	assert_int_equal(k->client_end, AZ_ST_TIME_WAIT);
	assert_int_equal(k->server_end, AZ_ST_CLOSED);
	assert_false(k->client_fw2.present);
	assert_false(k->server_fw2.present);
	az_free(r.az);
	pb_list_free(&l);
}

/* Both FINs cross (neither acknowledges the other): simultaneous, both
 * sides end in TIME_WAIT, nobody sits in FIN_WAIT_2. */
static void test_simultaneous_close(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	new_conn(&c, 40000, 1000, 5000);
	open_and_exchange(&l, &c, 1.0);
	pb_fin(&l, &c, PB_C2S, 1.050, PB_NEXT, PB_NEXT);  /* FIN 30, ack 44 */
	pb_fin(&l, &c, PB_S2C, 1.0501, PB_NEXT, 30);      /* FIN 44, ack 30 only */
	pb_ack(&l, &c, PB_C2S, 1.060, PB_NEXT, PB_NEXT);  /* ack 45 */
	pb_ack(&l, &c, PB_S2C, 1.0601, PB_NEXT, PB_NEXT); /* ack 31 */
	run_list(&r, &l, NULL);

	k = run_conn(&r, 1);
	assert_int_equal(k->initiator, AZ_INIT_SIMULTANEOUS);
	assert_int_equal(k->kind, AZ_KIND_GRACEFUL);
	assert_int_equal(k->client_end, AZ_ST_TIME_WAIT);
	assert_int_equal(k->server_end, AZ_ST_TIME_WAIT);
	assert_false(k->server_fw2.present);
	assert_false(k->client_fw2.present);
	assert_int_equal(az_totals(r.az)->by_initiator[AZ_INIT_SIMULTANEOUS], 1);
	az_free(r.az);
	pb_list_free(&l);
}

/* The server closes, the client ACKs and never closes: half-open, the
 * server censored in FIN_WAIT_2 until the capture ends (t = 5.0, the last
 * frame, from another connection). */
static void test_half_open_censored(void **state)
{
	struct pb_list l;
	struct pb_conn c, c2;
	struct run r;
	const struct az_conn *k;
	const struct az_fw2_summary *fs;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	new_conn(&c, 40000, 1000, 5000);
	new_conn(&c2, 40001, 2000, 6000);
	open_and_exchange(&l, &c, 1.0);
	pb_fin(&l, &c, PB_S2C, 1.041, PB_NEXT, PB_NEXT);
	pb_ack(&l, &c, PB_C2S, 1.050, PB_NEXT, PB_NEXT);
	pb_syn(&l, &c2, 5.0);
	run_list(&r, &l, NULL);

	assert_int_equal(r.n, 2);
	k = run_conn(&r, 1);
	assert_int_equal(k->kind, AZ_KIND_HALF_OPEN);
	assert_int_equal(k->initiator, AZ_INIT_SERVER);
	assert_int_equal(k->server_end, AZ_ST_FIN_WAIT_2);
	assert_int_equal(k->client_end, AZ_ST_CLOSE_WAIT);
	assert_true(k->server_fw2.present);
	ASSERT_CLOSE(k->server_fw2.start, 1.050);
	ASSERT_CLOSE(k->server_fw2.end, 5.0);
	assert_int_equal(k->server_fw2.ending, AZ_FW2_CAPTURE_END);
	fs = az_fw2(r.az, AZ_SERVER);
	assert_int_equal(fs->count, 1);
	assert_int_equal(fs->endings[AZ_FW2_CAPTURE_END], 1);
	ASSERT_CLOSE(fs->max, 3.95);
	ASSERT_CLOSE(fs->p50, 3.95);
	/* the lone SYN: open, client in SYN_SENT */
	k = run_conn(&r, 2);
	assert_int_equal(k->kind, AZ_KIND_OPEN);
	assert_int_equal(k->initiator, AZ_INIT_NONE);
	assert_int_equal(k->client_end, AZ_ST_SYN_SENT);
	assert_false(k->handshake_seen);
	az_free(r.az);
	pb_list_free(&l);
}

/* No FIN, no RST: open, both established. */
static void test_open(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	new_conn(&c, 40000, 1000, 5000);
	open_and_exchange(&l, &c, 1.0);
	run_list(&r, &l, NULL);
	assert_int_equal(r.n_before_finish, 0);
	assert_int_equal(r.n, 1);
	k = run_conn(&r, 1);
	assert_int_equal(k->kind, AZ_KIND_OPEN);
	assert_int_equal(k->initiator, AZ_INIT_NONE);
	assert_int_equal(k->client_end, AZ_ST_ESTABLISHED);
	assert_int_equal(k->server_end, AZ_ST_ESTABLISHED);
	assert_int_equal(az_totals(r.az)->by_kind[AZ_KIND_OPEN], 1);
	az_free(r.az);
	pb_list_free(&l);
}

/* The server resets without a FIN after the request (close with unread
 * data, or SO_LINGER 0): abort; with no server data there is no finding. */
static void test_abort(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	new_conn(&c, 40000, 1000, 5000);
	pb_syn(&l, &c, 1.0);
	pb_synack(&l, &c, 1.010);
	pb_ack(&l, &c, PB_C2S, 1.020, PB_NEXT, PB_NEXT);
	pb_send(&l, &c, PB_C2S, 1.030, PB_NEXT, PB_NEXT, REQ);
	pb_rstack(&l, &c, PB_S2C, 1.031, PB_NEXT, PB_NEXT);
	run_list(&r, &l, NULL);

	k = run_conn(&r, 1);
	assert_int_equal(k->kind, AZ_KIND_ABORT);
	assert_int_equal(k->initiator, AZ_INIT_SERVER);
	assert_int_equal(k->client_end, AZ_ST_CLOSED);
	assert_int_equal(k->server_end, AZ_ST_CLOSED);
	assert_true(k->s2c.rst_seen);
	assert_int_equal(k->s2c.rst_packet, 5);
	assert_int_equal(k->s2c.rst_seq, 1);
	assert_int_equal(k->s2c.rst_count, 1);
	assert_int_equal(az_totals(r.az)->rst_before_ack, 0);
	assert_int_equal(az_n_findings(r.az), 0);
	az_free(r.az);
	pb_list_free(&l);
}

/* FIN, then the client's late data, then the server's RST: fin_then_rst.
 * Everything the server sent was ACKed: no finding. */
static void test_fin_then_rst_all_acked(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	new_conn(&c, 40000, 1000, 5000);
	open_and_exchange(&l, &c, 1.0);
	pb_fin(&l, &c, PB_S2C, 1.041, PB_NEXT, PB_NEXT);
	pb_ack(&l, &c, PB_C2S, 1.050, PB_NEXT, PB_NEXT);           /* ack 45 */
	pb_send(&l, &c, PB_C2S, 1.060, PB_NEXT, PB_NEXT, REQ);
	pb_rstack(&l, &c, PB_S2C, 1.061, PB_NEXT, PB_NEXT);
	run_list(&r, &l, NULL);

	k = run_conn(&r, 1);
	assert_int_equal(k->kind, AZ_KIND_FIN_THEN_RST);
	assert_int_equal(k->initiator, AZ_INIT_SERVER);
	assert_int_equal(k->server_end, AZ_ST_CLOSED);
	assert_false(k->lingered);
	/* the FIN_WAIT_2 that began with the client's ACK ended with the
	 * holder's own RST */
	assert_true(k->server_fw2.present);
	assert_int_equal(k->server_fw2.ending, AZ_FW2_SERVER_RST);
	assert_int_equal(az_n_findings(r.az), 0);
	assert_int_equal(az_totals(r.az)->rst_before_ack, 0);
	az_free(r.az);
	pb_list_free(&l);
}

/* A refused SYN and a RST after both FINs are both "reset". */
static void test_reset_kinds(void **state)
{
	struct pb_list l;
	struct pb_conn c, c2;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	new_conn(&c, 40000, 1000, 5000);
	pb_syn(&l, &c, 1.0);
	pb_rstack(&l, &c, PB_S2C, 1.001, 0, 1);
	new_conn(&c2, 40001, 2000, 6000);
	open_and_exchange(&l, &c2, 2.0);
	pb_fin(&l, &c2, PB_C2S, 2.050, PB_NEXT, PB_NEXT);
	pb_fin(&l, &c2, PB_S2C, 2.051, PB_NEXT, PB_NEXT);
	pb_ack(&l, &c2, PB_C2S, 2.052, PB_NEXT, PB_NEXT);
	pb_rst(&l, &c2, PB_C2S, 2.500, PB_NEXT);
	run_list(&r, &l, NULL);

	k = run_conn(&r, 1);
	assert_int_equal(k->kind, AZ_KIND_RESET);
	assert_int_equal(k->initiator, AZ_INIT_SERVER);
	assert_int_equal(k->client_end, AZ_ST_CLOSED);
	assert_false(k->handshake_seen);
	assert_false(k->rtt_known);
	k = run_conn(&r, 2);
	assert_int_equal(k->kind, AZ_KIND_RESET);
	assert_int_equal(k->initiator, AZ_INIT_CLIENT);
	assert_int_equal(k->c2s.rst_count, 1);
	assert_int_equal(az_totals(r.az)->by_kind[AZ_KIND_RESET], 2);
	az_free(r.az);
	pb_list_free(&l);
}

/* ISNs just below 2^32: relative numbers and byte counts stay right when
 * the raw numbers wrap, and a retransmission across the wrap is one. */
static void test_sequence_wrap(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	new_conn(&c, 40000, 0xffffff00u, 0xfffffff0u);
	pb_syn(&l, &c, 1.0);
	pb_synack(&l, &c, 1.010);
	pb_ack(&l, &c, PB_C2S, 1.020, PB_NEXT, PB_NEXT);
	pb_data(&l, &c, PB_C2S, 1.030, PB_NEXT, PB_NEXT, NULL, 300); /* 1..301 */
	pb_data(&l, &c, PB_S2C, 1.040, PB_NEXT, PB_NEXT, NULL, 500); /* 1..501 */
	pb_data(&l, &c, PB_S2C, 1.240, 1, PB_NEXT, NULL, 500);       /* again */
	pb_ack(&l, &c, PB_C2S, 1.250, PB_NEXT, PB_NEXT);
	pb_fin(&l, &c, PB_C2S, 1.260, PB_NEXT, PB_NEXT);
	pb_fin(&l, &c, PB_S2C, 1.270, PB_NEXT, PB_NEXT);
	pb_ack(&l, &c, PB_C2S, 1.280, PB_NEXT, PB_NEXT);
	run_list(&r, &l, NULL);

	k = run_conn(&r, 1);
	assert_int_equal(k->c2s.isn, 0xffffff00u);
	assert_int_equal(k->c2s.data_end, 301);
	assert_int_equal(k->c2s.bytes, 300);
	assert_int_equal(k->c2s.fin_seq, 301);
	assert_int_equal(k->c2s.acked, 302);
	assert_int_equal(k->s2c.data_end, 501);
	assert_int_equal(k->s2c.bytes, 500);
	assert_int_equal(k->s2c.retrans_packets, 1);
	assert_int_equal(k->s2c.retrans_bytes, 500);
	assert_int_equal(k->s2c.fin_seq, 501);
	assert_int_equal(k->s2c.acked, 502);
	assert_int_equal(k->kind, AZ_KIND_GRACEFUL);
	assert_int_equal(k->initiator, AZ_INIT_CLIENT);
	assert_int_equal(k->client_end, AZ_ST_TIME_WAIT);
	assert_int_equal(k->server_end, AZ_ST_CLOSED);
	az_free(r.az);
	pb_list_free(&l);
}

/* A full and a partial retransmission: bytes count each byte once. */
static void test_retransmissions(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	new_conn(&c, 40000, 1000, 5000);
	pb_syn(&l, &c, 1.0);
	pb_synack(&l, &c, 1.010);
	pb_ack(&l, &c, PB_C2S, 1.020, PB_NEXT, PB_NEXT);
	pb_data(&l, &c, PB_C2S, 1.030, 1, 1, NULL, 100);
	pb_data(&l, &c, PB_C2S, 1.230, 1, 1, NULL, 100);  /* full repeat */
	pb_data(&l, &c, PB_C2S, 1.430, 51, 1, NULL, 100); /* 50 old, 50 new */
	pb_ack(&l, &c, PB_S2C, 1.440, 1, 151);
	run_list(&r, &l, NULL);

	k = run_conn(&r, 1);
	assert_int_equal(k->c2s.bytes, 150);
	assert_int_equal(k->c2s.data_end, 151);
	assert_int_equal(k->c2s.retrans_packets, 2);
	assert_int_equal(k->c2s.retrans_bytes, 150);
	assert_int_equal(k->c2s.acked, 151);
	az_free(r.az);
	pb_list_free(&l);
}

/* A new SYN (another ISN) on a closed tuple is a new connection: the old
 * one is summarized first. A repeated SYN (same ISN) is not; the RTT is
 * taken from the SYN the SYN-ACK answered. */
static void test_tuple_reuse(void **state)
{
	struct pb_list l;
	struct pb_conn c, c2;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	new_conn(&c, 40000, 1000, 5000);
	open_and_exchange(&l, &c, 1.0);
	pb_fin(&l, &c, PB_C2S, 1.050, PB_NEXT, PB_NEXT);
	pb_fin(&l, &c, PB_S2C, 1.051, PB_NEXT, PB_NEXT);
	pb_ack(&l, &c, PB_C2S, 1.052, PB_NEXT, PB_NEXT);
	new_conn(&c2, 40000, 9000, 7000);
	pb_syn(&l, &c2, 1.500);
	pb_syn(&l, &c2, 1.600);                 /* retransmitted SYN */
	pb_synack(&l, &c2, 1.620);
	pb_ack(&l, &c2, PB_C2S, 1.621, PB_NEXT, PB_NEXT);
	run_list(&r, &l, NULL);

	assert_int_equal(r.n, 2);
	assert_int_equal(r.n_before_finish, 1);
	assert_int_equal(r.conns[0].id, 1);
	assert_int_equal(r.conns[0].kind, AZ_KIND_GRACEFUL);
	assert_int_equal(r.conns[0].c2s.isn, 1000);
	k = run_conn(&r, 2);
	assert_int_equal(k->c2s.isn, 9000);
	assert_int_equal(k->s2c.isn, 7000);
	assert_int_equal(k->c2s.retrans_packets, 1);
	assert_int_equal(k->first_packet, 9);
	assert_int_equal(k->c2s.packets, 3);
	ASSERT_CLOSE(k->h_s, 0.020);
	ASSERT_CLOSE(k->h_c, 0.001);
	assert_int_equal(az_totals(r.az)->connections, 2);
	az_free(r.az);
	pb_list_free(&l);
}

/* Without a handshake roles come from the ports: a --server-port first,
 * else the lower port; role_inferred says so. */
static void test_role_inference(void **state)
{
	struct pb_list l;
	struct pb_conn c, c2;
	struct run r;
	struct az_config cfg;
	static const uint16_t ports[] = { 8080 };
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	new_conn(&c, 40000, 1000, 5000);
	/* the server speaks first in the capture */
	pb_data(&l, &c, PB_S2C, 1.0, 1, 1, NULL, 100);
	pb_ack(&l, &c, PB_C2S, 1.1, 1, 101);
	/* 10.0.0.2:5000 talks to 10.0.0.1:8080, 5000 sending first */
	assert_int_equal(pb_conn_init(&c2, CLI, 5000, SRV, 8080, 1, 2), 0);
	pb_data(&l, &c2, PB_C2S, 1.2, 1, 1, NULL, 10);

	run_list(&r, &l, NULL);
	k = run_conn(&r, 1);
	assert_true(k->role_inferred);
	assert_int_equal(k->server_port, 80);
	assert_int_equal(k->client_port, 40000);
	assert_int_equal(k->s2c.data_end, 101);
	assert_int_equal(k->s2c.acked, 101);
	assert_int_equal(k->client_end, AZ_ST_ESTABLISHED);
	k = run_conn(&r, 2);
	assert_int_equal(k->server_port, 5000); /* the lower port */
	assert_int_equal(az_totals(r.az)->role_inferred, 2);
	az_free(r.az);

	memset(&cfg, 0, sizeof(cfg));
	cfg.server_ports = ports;
	cfg.n_server_ports = 1;
	run_list(&r, &l, &cfg);
	k = run_conn(&r, 2);
	assert_true(k->role_inferred);
	assert_int_equal(k->server_port, 8080);
	assert_int_equal(k->client_port, 5000);
	assert_int_equal(k->c2s.data_end, 11);
	az_free(r.az);
	pb_list_free(&l);
}

/* A finished connection is summarized once its grace period has passed
 * in capture time (not only at the end), and exactly once. */
static void test_grace_expiry(void **state)
{
	struct pb_list l;
	struct pb_conn c, c2;
	struct run r;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	new_conn(&c, 40000, 1000, 5000);
	open_and_exchange(&l, &c, 1.0);
	pb_rstack(&l, &c, PB_C2S, 1.050, PB_NEXT, PB_NEXT);
	new_conn(&c2, 40001, 1000, 5000);
	pb_syn(&l, &c2, 2.0);   /* within 2 s of the RST: still there */
	pb_syn(&l, &c2, 3.06);  /* more than 2 s later: gone */
	run_list(&r, &l, NULL);
	assert_int_equal(r.n_before_finish, 1);
	assert_int_equal(r.conns[0].id, 1);
	assert_int_equal(r.n, 2);
	assert_int_equal(az_totals(r.az)->connections, 2);
	az_free(r.az);
	pb_list_free(&l);
}

/* A SYN nobody answers is summarized after 130 s without a packet (so a
 * scan does not pile up connections); a retransmitted SYN keeps it. */
static void test_unanswered_syn_expiry(void **state)
{
	struct pb_list l;
	struct pb_conn a, b, z;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	new_conn(&a, 40000, 1000, 5000);
	new_conn(&b, 40001, 2000, 6000);
	new_conn(&z, 40002, 3000, 7000);
	pb_syn(&l, &a, 1.0);
	pb_syn(&l, &b, 2.0);
	pb_syn(&l, &b, 100.0);   /* retried: b stays */
	pb_syn(&l, &z, 200.0);   /* a idle 199 s: summarized now */
	run_list(&r, &l, NULL);
	assert_int_equal(r.n_before_finish, 1);
	assert_int_equal(r.conns[0].id, 1);
	k = &r.conns[0];
	assert_int_equal(k->kind, AZ_KIND_OPEN);
	assert_int_equal(k->client_end, AZ_ST_SYN_SENT);
	assert_int_equal(r.n, 3);
	k = run_conn(&r, 2);
	assert_int_equal(k->c2s.packets, 2);
	assert_int_equal(k->c2s.retrans_packets, 1);
	az_free(r.az);
	pb_list_free(&l);
}

/* IPv6 and raw-IP frames are tracked the same way. */
static void test_ipv6_raw(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	static const uint8_t srv6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0,
	                                  0, 0, 0, 0, 0, 0, 0, 1 };
	(void)state;

	pb_list_init(&l, PB_DLT_RAW);
	assert_int_equal(pb_conn_init(&c, "fd00::2", 40000, "fd00::1", 443, 10, 20), 0);
	pb_syn(&l, &c, 1.0);
	pb_synack(&l, &c, 1.010);
	pb_ack(&l, &c, PB_C2S, 1.020, PB_NEXT, PB_NEXT);
	pb_data(&l, &c, PB_C2S, 1.030, PB_NEXT, PB_NEXT, NULL, 64);
	pb_fin(&l, &c, PB_C2S, 1.040, PB_NEXT, PB_NEXT);
	pb_fin(&l, &c, PB_S2C, 1.050, PB_NEXT, PB_NEXT);
	pb_ack(&l, &c, PB_C2S, 1.060, PB_NEXT, PB_NEXT);
	run_list(&r, &l, NULL);
	k = run_conn(&r, 1);
	assert_int_equal(k->af, 6);
	assert_memory_equal(k->server_addr, srv6, 16);
	assert_int_equal(k->server_port, 443);
	assert_int_equal(k->c2s.data_end, 65);
	assert_int_equal(k->kind, AZ_KIND_GRACEFUL);
	assert_int_equal(k->http_requests, 0); /* 'x' filler is not HTTP */
	az_free(r.az);
	pb_list_free(&l);
}

static void test_names(void **state)
{
	char buf[12];
	(void)state;

	assert_string_equal(az_flags_str(LL_TH_SYN | LL_TH_ACK, buf), "S.");
	assert_string_equal(az_flags_str(LL_TH_FIN | LL_TH_PSH | LL_TH_ACK, buf), "FP.");
	assert_string_equal(az_flags_str(LL_TH_RST, buf), "R");
	assert_string_equal(az_flags_str(0, buf), "none");
	assert_string_equal(az_kind_name(AZ_KIND_HALF_OPEN), "half_open");
	assert_string_equal(az_kind_name(AZ_KIND_FIN_THEN_RST), "fin_then_rst");
	assert_string_equal(az_initiator_name(AZ_INIT_SIMULTANEOUS), "simultaneous");
	assert_string_equal(az_state_name(AZ_ST_FIN_WAIT_2), "FIN_WAIT_2");
	assert_string_equal(az_fw2_end_name(AZ_FW2_CAPTURE_END), "capture_end");
	assert_string_equal(az_cause_name(AZ_CAUSE_DATA_AFTER_FIN), "data_after_fin");
	assert_string_equal(az_vantage_name(AZ_VANTAGE_MIDDLE), "middle");
	assert_string_equal(az_basis_name(AZ_BASIS_CAPTURE_ORDER), "capture_order");
}

/* Frames that are not TCP are counted by result and get packet indexes. */
static void test_non_tcp_counted(void **state)
{
	static const uint8_t arp[42] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                 2, 0, 0, 0, 0, 1, 0x08, 0x06 };
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	size_t i;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	new_conn(&c, 40000, 1000, 5000);
	pb_raw(&l, 0.5, arp, sizeof(arp), sizeof(arp));
	pb_syn(&l, &c, 1.0);
	memset(&r, 0, sizeof(r));
	r.az = az_new(NULL);
	assert_non_null(r.az);
	for (i = 0; i < l.n; i++)
		az_packet(r.az, l.dlt, l.frames[i].t, l.frames[i].bytes,
		          l.frames[i].caplen, l.frames[i].wirelen);
	az_finish(r.az);
	assert_int_equal(az_stats(r.az)->packets, 2);
	assert_int_equal(az_stats(r.az)->tcp, 1);
	assert_int_equal(az_stats(r.az)->by_result[DEC_NOT_TCP], 1);
	assert_int_equal(az_stats(r.az)->by_result[DEC_OK], 1);
	assert_int_equal(az_totals(r.az)->connections, 1);
	assert_int_equal(az_n_retained(r.az), 0);
	(void)k;
	az_free(r.az);
	pb_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_graceful_server_first),
		cmocka_unit_test(test_graceful_client_first),
		cmocka_unit_test(test_client_close_finack),
		cmocka_unit_test(test_simultaneous_close),
		cmocka_unit_test(test_half_open_censored),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_fin_then_rst_all_acked),
		cmocka_unit_test(test_reset_kinds),
		cmocka_unit_test(test_sequence_wrap),
		cmocka_unit_test(test_retransmissions),
		cmocka_unit_test(test_tuple_reuse),
		cmocka_unit_test(test_role_inference),
		cmocka_unit_test(test_grace_expiry),
		cmocka_unit_test(test_unanswered_syn_expiry),
		cmocka_unit_test(test_ipv6_raw),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_non_tcp_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
