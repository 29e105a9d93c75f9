/*
 * test_analyzer_rst_end.c - which RST ends a connection that nothing
 * flags (judge.c rule 4): only one its receiver took. Each connection is
 * built as the lab's lessons saw it against a Linux 6.1 server (capture
 * next to the server: 20 us to it, 100 ms to the raw client):
 *  - rst-in-window: the client's RST 1000 bytes ahead of RCV.NXT draws a
 *    challenge ACK (RFC 5961 3.2) and the connection goes on to a
 *    graceful close the server started;
 *  - rst-out-of-window: RSTs 1 MiB ahead and one byte behind are dropped
 *    without an answer (RFC 9293 3.10.7.4), and the connection goes on;
 *  - rst-exact: a RST at RCV.NXT resets the server; the request after it
 *    meets no socket and draws a RST (RFC 9293 3.10.7.1);
 *  - a server that resets on late data (the exact seq) while the raw
 *    client, which takes no notice, keeps sending: still the server's
 *    RST ends it (what the lab captures of nginx with lingering_close off
 *    show);
 *  - an in-window RST with no answer and nothing after it: taken as the
 *    end, since nothing shows the receiver went on.
 */
#include "tests/unit/analyzer_helpers.h"

#define CLI "10.0.0.3"
#define SRV "10.0.0.1"

/* SYN, SYN-ACK, ACK: 20 us to the server, 100 ms to the client. */
static void handshake(struct pb_list *l, struct pb_conn *c)
{
	pb_list_init(l, PB_DLT_EN10MB);
	assert_int_equal(pb_conn_init(c, CLI, 47171, SRV, 80, 1000, 90000), 0);
	pb_syn(l, c, 10.000000);
	pb_synack(l, c, 10.000020);
	pb_ack(l, c, PB_C2S, 10.100100, 1, 1);
}

/* What comes after the RSTs in the first two lessons: the request, the
 * 685-byte response and the server's FIN, the client's ACKs and FIN, the
 * server's last ACK. */
static void then_graceful(struct pb_list *l, struct pb_conn *c)
{
	pb_data(l, c, PB_C2S, 10.602300, 1, 1, NULL, 67);
	pb_ack(l, c, PB_S2C, 10.602335, 1, 68);
	pb_data(l, c, PB_S2C, 10.602480, 1, 68, NULL, 685);
	pb_fin(l, c, PB_S2C, 10.602496, 686, 68);
	pb_ack(l, c, PB_C2S, 10.704510, 68, 686);
	pb_ack(l, c, PB_C2S, 10.704540, 68, 687);
	pb_fin(l, c, PB_C2S, 10.704565, 68, 687);
	pb_ack(l, c, PB_S2C, 10.704580, 687, 69);
}

/* Told by the FINs: the server closed first, both FINs ACKed. */
static void assert_graceful_server_first(const struct run *r)
{
	const struct az_conn *c = run_conn(r, 1);

	assert_int_equal(r->n, 1); /* one connection, not split by the RST */
	assert_int_equal(az_n_findings(r->az), 0);
	assert_int_equal(c->initiator, AZ_INIT_SERVER);
	assert_int_equal(c->kind, AZ_KIND_GRACEFUL);
	assert_int_equal(c->client_end, AZ_ST_CLOSED);    /* LAST_ACK, ACKed */
	assert_int_equal(c->server_end, AZ_ST_TIME_WAIT);
	/* the server's FIN_WAIT_2 (the client ACKed its FIN) ended with the
	 * client's FIN, not with the RST before it */
	assert_true(c->server_fw2.present);
	assert_int_equal(c->server_fw2.ending, AZ_FW2_CLIENT_FIN);
	assert_true(c->c2s.rst_seen);
	assert_int_equal(az_totals(r->az)->by_kind[AZ_KIND_GRACEFUL], 1);
	assert_int_equal(az_totals(r->az)->by_initiator[AZ_INIT_SERVER], 1);
}

/* Each test: one connection from handshake() on (l, c), judged by
 * judge() into r; freed by stop() whether the test passed or not. */
struct lesson {
	struct pb_list l;
	struct pb_conn c;
	struct run r;
};

static int start(void **state)
{
	struct lesson *t = test_calloc(1, sizeof *t);

	assert_non_null(t);
	handshake(&t->l, &t->c);
	*state = t;
	return 0;
}

static int stop(void **state)
{
	struct lesson *t = *state;

	az_free(t->r.az);
	pb_list_free(&t->l);
	test_free(t);
	return 0;
}

/* Run the analyzer over the lesson's packets: its one connection. */
static const struct az_conn *judge(struct lesson *t)
{
	run_list(&t->r, &t->l, NULL);
	return run_conn(&t->r, 1);
}

static void test_in_window_challenge_ack(void **state)
{
	struct lesson *t = *state;
	struct pb_list *l = &t->l;
	struct pb_conn *c = &t->c;

	pb_rst(l, c, PB_C2S, 10.302227, 1001);      /* RCV.NXT is 1 */
	pb_ack(l, c, PB_S2C, 10.302252, 1, 1);      /* the challenge ACK */
	then_graceful(l, c);
	judge(t);
	assert_graceful_server_first(&t->r);
	/* Zeek counts the RST as Zeek does, whatever its fate: the
	 * originator's endpoint was reset (RSTO) */
	assert_int_equal(run_conn(&t->r, 1)->zeek_state, AZ_ZK_RSTO);
}

static void test_out_of_window_ignored(void **state)
{
	struct lesson *t = *state;
	struct pb_list *l = &t->l;
	struct pb_conn *c = &t->c;

	pb_rst(l, c, PB_C2S, 10.302227, 1 + 1048576); /* far past the window */
	pb_rst(l, c, PB_C2S, 10.302240, 0);           /* behind RCV.WUP */
	then_graceful(l, c);
	judge(t);
	assert_graceful_server_first(&t->r);
}

static void test_exact_accepted(void **state)
{
	struct lesson *t = *state;
	struct pb_list *l = &t->l;
	struct pb_conn *c = &t->c;
	const struct az_conn *k;

	pb_rst(l, c, PB_C2S, 10.302227, 1);         /* exactly RCV.NXT */
	/* the client's TCP never knew: its request meets no socket, and
	 * the server's kernel answers with seq = the request's ACK */
	pb_data(l, c, PB_C2S, 10.602300, 1, 1, NULL, 48);
	pb_rst(l, c, PB_S2C, 10.602330, 1);
	k = judge(t);
	assert_int_equal(t->r.n, 1);
	assert_int_equal(k->initiator, AZ_INIT_CLIENT);
	assert_int_equal(k->kind, AZ_KIND_ABORT);
	assert_int_equal(k->client_end, AZ_ST_CLOSED);
	assert_int_equal(k->server_end, AZ_ST_CLOSED);
}

/* The server (its FIN sent, 100 bytes ACKed) resets on late data with
 * the exact seq; the raw client sends on and meets another RST. */
static void test_raw_client_sends_on(void **state)
{
	struct lesson *t = *state;
	struct pb_list *l = &t->l;
	struct pb_conn *c = &t->c;
	const struct az_conn *k;

	pb_data(l, c, PB_C2S, 10.100200, 1, 1, NULL, 40);
	pb_data(l, c, PB_S2C, 10.100300, 1, 41, NULL, 100);
	pb_fin(l, c, PB_S2C, 10.100320, 101, 41);
	pb_ack(l, c, PB_C2S, 10.200400, 41, 102);
	pb_data(l, c, PB_C2S, 10.220000, 41, 102, NULL, 48);
	pb_rst(l, c, PB_S2C, 10.220020, 102);
	pb_data(l, c, PB_C2S, 10.240000, 89, 102, NULL, 48);
	pb_rst(l, c, PB_S2C, 10.240020, 102);
	k = judge(t);
	assert_int_equal(k->initiator, AZ_INIT_SERVER);
	assert_int_equal(k->kind, AZ_KIND_FIN_THEN_RST);
	assert_int_equal(k->client_end, AZ_ST_CLOSED);
	assert_int_equal(k->server_end, AZ_ST_CLOSED);
	/* the client's ACK of the FIN opened the server's FIN_WAIT_2, the
	 * server's own RST ended it */
	assert_true(k->server_fw2.present);
	assert_int_equal(k->server_fw2.ending, AZ_FW2_SERVER_RST);
}

/* An in-window RST after which the receiver says nothing: nothing shows
 * that it went on, so the RST ends the connection (a capture that missed
 * some of the sender's segments would misjudge its seq). */
static void test_in_window_silence_ends(void **state)
{
	struct lesson *t = *state;
	struct pb_list *l = &t->l;
	struct pb_conn *c = &t->c;
	const struct az_conn *k;

	pb_rst(l, c, PB_C2S, 10.302227, 1001);
	k = judge(t);
	assert_int_equal(k->initiator, AZ_INIT_CLIENT);
	assert_int_equal(k->kind, AZ_KIND_ABORT);
	assert_int_equal(k->server_end, AZ_ST_CLOSED);
}

/* A RST the receiver ignored, then one it took: the second ends it. */
static void test_ignored_then_exact(void **state)
{
	struct lesson *t = *state;
	struct pb_list *l = &t->l;
	struct pb_conn *c = &t->c;
	const struct az_conn *k;

	pb_data(l, c, PB_S2C, 10.100300, 1, 1, NULL, 100);
	pb_ack(l, c, PB_C2S, 10.200400, 1, 101);
	pb_rst(l, c, PB_S2C, 10.300000, 1 + 1048576); /* out of window */
	pb_data(l, c, PB_C2S, 10.500000, 1, 101, NULL, 30);
	pb_ack(l, c, PB_S2C, 10.500030, 101, 31);
	pb_fin(l, c, PB_S2C, 10.500040, 101, 31);
	pb_rstack(l, c, PB_C2S, 10.600000, 31, 102);  /* exact */
	k = judge(t);
	assert_int_equal(t->r.n, 1);
	/* the server's FIN came first; the client's RST ended it */
	assert_int_equal(k->initiator, AZ_INIT_SERVER);
	assert_int_equal(k->kind, AZ_KIND_ABORT);       /* the client sent no FIN */
	assert_int_equal(k->client_end, AZ_ST_CLOSED);
	assert_int_equal(k->server_end, AZ_ST_CLOSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_window_challenge_ack, start, stop),
		cmocka_unit_test_setup_teardown(test_out_of_window_ignored, start, stop),
		cmocka_unit_test_setup_teardown(test_exact_accepted, start, stop),
		cmocka_unit_test_setup_teardown(test_raw_client_sends_on, start, stop),
		cmocka_unit_test_setup_teardown(test_in_window_silence_ends, start, stop),
		cmocka_unit_test_setup_teardown(test_ignored_then_exact, start, stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
