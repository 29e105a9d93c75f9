/*
 * test_analyzer_fw2.c - FIN_WAIT_2 intervals and their aggregate (step
 * series, peak, duration percentiles, endings, thinning), and lingering
 * close (positive and negative).
 */
#include <stdlib.h>

#include "analyzer/fw2.h"
#include "tests/unit/analyzer_helpers.h"

#define CLI "10.0.0.2"
#define SRV "10.0.0.1"

/* Connection on client port `port` whose server closes first: handshake
 * at t0, server FIN at fw_start - 0.01, client ACK of it at fw_start. The
 * caller ends it (or not). */
static void server_closes(struct pb_list *l, struct pb_conn *c, uint16_t port,
                          double t0, double fw_start)
{
	assert_int_equal(pb_conn_init(c, CLI, port, SRV, 80, 1000u * port, 7), 0);
	pb_syn(l, c, t0);
	pb_synack(l, c, t0 + 0.001);
	pb_ack(l, c, PB_C2S, t0 + 0.002, PB_NEXT, PB_NEXT);
	pb_fin(l, c, PB_S2C, fw_start - 0.01, PB_NEXT, PB_NEXT);
	pb_ack(l, c, PB_C2S, fw_start, PB_NEXT, PB_NEXT);
}

/*
 * Four server sockets in FIN_WAIT_2:
 *   A [1.0, 4.0] client FIN     B [2.0, 3.0] client FIN
 *   C [2.5, 5.0] client RST     D [3.0, 6.0] censored (capture ends 6.0)
 * At 3.0 B leaves and D enters: no step. Series (1,1) (2,2) (2.5,3) (4,2)
 * (5,1) (6,0); peak 3 at 2.5; durations 1, 2.5, 3, 3: p50 2.5, p90 3.
 */
static void build_four(struct pb_list *l)
{
	struct pb_conn a, b, c, d, e;

	server_closes(l, &a, 40001, 0.1, 1.0);
	pb_fin(l, &a, PB_C2S, 4.0, PB_NEXT, PB_NEXT);
	pb_ack(l, &a, PB_S2C, 4.001, PB_NEXT, PB_NEXT);
	server_closes(l, &b, 40002, 0.2, 2.0);
	pb_fin(l, &b, PB_C2S, 3.0, PB_NEXT, PB_NEXT);
	pb_ack(l, &b, PB_S2C, 3.001, PB_NEXT, PB_NEXT);
	server_closes(l, &c, 40003, 0.3, 2.5);
	pb_rst(l, &c, PB_C2S, 5.0, PB_NEXT);
	server_closes(l, &d, 40004, 0.4, 3.0);
	/* an unrelated frame marks the end of the capture */
	assert_int_equal(pb_conn_init(&e, CLI, 50000, SRV, 81, 1, 2), 0);
	pb_syn(l, &e, 6.0);
	pb_sort(l);
}

static void test_series_peak_percentiles(void **state)
{
	static const struct az_fw2_point want[] = {
		{ 1.0, 1 }, { 2.0, 2 }, { 2.5, 3 }, { 4.0, 2 }, { 5.0, 1 }, { 6.0, 0 },
	};
	struct pb_list l;
	struct run r;
	const struct az_fw2_summary *fs;
	size_t i;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	build_four(&l);
	run_list(&r, &l, NULL);
	fs = az_fw2(r.az, AZ_SERVER);
	assert_int_equal(fs->count, 4);
	assert_int_equal(fs->peak, 3);
	ASSERT_CLOSE(fs->peak_time, 2.5);
	ASSERT_CLOSE(fs->p50, 2.5);
	ASSERT_CLOSE(fs->p90, 3.0);
	ASSERT_CLOSE(fs->max, 3.0);
	assert_int_equal(fs->endings[AZ_FW2_CLIENT_FIN], 2);
	assert_int_equal(fs->endings[AZ_FW2_CLIENT_RST], 1);
	assert_int_equal(fs->endings[AZ_FW2_SERVER_RST], 0);
	assert_int_equal(fs->endings[AZ_FW2_CAPTURE_END], 1);
	assert_true(fs->series_exact);
	assert_int_equal(fs->n_series, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < fs->n_series; i++) {
		ASSERT_CLOSE(fs->series[i].t, want[i].t);
		assert_int_equal(fs->series[i].n, want[i].n);
	}
	assert_int_equal(az_fw2(r.az, AZ_CLIENT)->count, 0);
	assert_int_equal(az_fw2(r.az, AZ_CLIENT)->n_series, 0);
	/* per connection: C ended by the client's RST */
	assert_int_equal(run_conn(&r, 3)->server_fw2.ending, AZ_FW2_CLIENT_RST);
	ASSERT_CLOSE(run_conn(&r, 3)->server_fw2.end, 5.0);
	assert_int_equal(run_conn(&r, 3)->kind, AZ_KIND_ABORT);
	assert_int_equal(run_conn(&r, 4)->server_fw2.ending, AZ_FW2_CAPTURE_END);
	assert_int_equal(run_conn(&r, 4)->server_end, AZ_ST_FIN_WAIT_2);
	az_free(r.az);
	pb_list_free(&l);
}

/* A series over its cap is thinned: fewer points, not exact, the peak
 * kept both in the summary and in the points. */
static void test_series_thinned(void **state)
{
	struct pb_list l;
	struct run r;
	struct az_config cfg;
	const struct az_fw2_summary *fs;
	uint32_t top = 0;
	size_t i;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	build_four(&l);
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_series = 2;
	run_list(&r, &l, &cfg);
	fs = az_fw2(r.az, AZ_SERVER);
	assert_false(fs->series_exact);
	assert_true(fs->n_series >= 1 && fs->n_series <= 2);
	for (i = 0; i < fs->n_series; i++)
		if (fs->series[i].n > top)
			top = fs->series[i].n;
	assert_int_equal(top, 3);
	assert_int_equal(fs->peak, 3);
	assert_int_equal(fs->count, 4);
	az_free(r.az);
	pb_list_free(&l);
}

/* The client answers the server's FIN with its own FIN-ACK at once: the
 * server never sits in FIN_WAIT_2. */
static void test_no_fw2_when_client_closes_at_once(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	assert_int_equal(pb_conn_init(&c, CLI, 40000, SRV, 80, 1000, 5000), 0);
	pb_syn(&l, &c, 1.0);
	pb_synack(&l, &c, 1.001);
	pb_ack(&l, &c, PB_C2S, 1.002, PB_NEXT, PB_NEXT);
	pb_fin(&l, &c, PB_S2C, 1.010, PB_NEXT, PB_NEXT);
	pb_fin(&l, &c, PB_C2S, 1.011, PB_NEXT, PB_NEXT); /* acks the server FIN */
	pb_ack(&l, &c, PB_S2C, 1.012, PB_NEXT, PB_NEXT);
	run_list(&r, &l, NULL);
	k = run_conn(&r, 1);
	assert_false(k->server_fw2.present);
	assert_false(k->client_fw2.present);
	assert_int_equal(k->server_end, AZ_ST_TIME_WAIT);
	assert_int_equal(az_fw2(r.az, AZ_SERVER)->count, 0);
	assert_int_equal(az_fw2(r.az, AZ_SERVER)->peak, 0);
	az_free(r.az);
	pb_list_free(&l);
}

/* A client that closed first and whose server never closes: the client
 * side's table counts it, censored. */
static void test_client_side_fw2(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_fw2_summary *fs;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	assert_int_equal(pb_conn_init(&c, CLI, 40000, SRV, 80, 1000, 5000), 0);
	pb_syn(&l, &c, 1.0);
	pb_synack(&l, &c, 1.001);
	pb_ack(&l, &c, PB_C2S, 1.002, PB_NEXT, PB_NEXT);
	pb_fin(&l, &c, PB_C2S, 1.010, PB_NEXT, PB_NEXT);
	pb_ack(&l, &c, PB_S2C, 1.020, PB_NEXT, PB_NEXT);
	pb_data(&l, &c, PB_S2C, 3.020, PB_NEXT, PB_NEXT, NULL, 10); /* server still talks */
	run_list(&r, &l, NULL);
	fs = az_fw2(r.az, AZ_CLIENT);
	assert_int_equal(fs->count, 1);
	assert_int_equal(fs->endings[AZ_FW2_CAPTURE_END], 1);
	ASSERT_CLOSE(fs->max, 2.0);
	assert_int_equal(az_fw2(r.az, AZ_SERVER)->count, 0);
	assert_int_equal(run_conn(&r, 1)->client_end, AZ_ST_FIN_WAIT_2);
	assert_int_equal(run_conn(&r, 1)->kind, AZ_KIND_HALF_OPEN);
	assert_int_equal(run_conn(&r, 1)->initiator, AZ_INIT_CLIENT);
	az_free(r.az);
	pb_list_free(&l);
}

/* The capture ends on the client's ACK of the server's FIN (as `-c` can
 * cut it): the interval opens and is censored at the same instant. The
 * socket was in FIN_WAIT_2, so the peak is 1 at that frame's time (it was
 * 0 at absolute time 0, which reports turned into a negative time), and
 * the series shows it as a zero-width step (1, then 0, at 1.5). Also at
 * the fw2 level: a start and an end at one timestamp. */
static void test_fw2_opens_on_last_frame(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_fw2_summary *fs;
	struct fw2 *f;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	server_closes(&l, &c, 40000, 1.0, 1.5); /* last frame: ACK at 1.5 */
	run_list(&r, &l, NULL);
	fs = az_fw2(r.az, AZ_SERVER);
	assert_int_equal(fs->count, 1);
	assert_int_equal(fs->peak, 1);
	ASSERT_CLOSE(fs->peak_time, 1.5);
	assert_int_equal(fs->endings[AZ_FW2_CAPTURE_END], 1);
	ASSERT_CLOSE(fs->max, 0.0);
	assert_true(fs->series_exact);
	assert_int_equal(fs->n_series, 2);
	ASSERT_CLOSE(fs->series[0].t, 1.5);
	assert_int_equal(fs->series[0].n, 1);
	ASSERT_CLOSE(fs->series[1].t, 1.5);
	assert_int_equal(fs->series[1].n, 0);
	assert_true(run_conn(&r, 1)->server_fw2.present);
	ASSERT_CLOSE(run_conn(&r, 1)->server_fw2.start, 1.5);
	az_free(r.az);
	pb_list_free(&l);

	f = malloc(sizeof(*f));
	assert_non_null(f);
	fw2_init(f, 0);
	fw2_start(f, 7.25);
	fw2_end(f, 7.25, 7.25, AZ_FW2_CAPTURE_END);
	fs = fw2_summary(f);
	assert_int_equal(fs->count, 1);
	assert_int_equal(fs->peak, 1);
	ASSERT_CLOSE(fs->peak_time, 7.25);
	fw2_free(f);
	free(f);
}

#define PUT_HDR "PUT /f HTTP/1.1\r\nHost: lab\r\nContent-Length: 3000\r\n\r\n"
#define R401 "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"

/* The PUT of the seed, answered with lingering close: the server sends 401
 * and FIN, then keeps ACKing the 3000-byte body until the client's FIN.
 * Lingered from the server's FIN (1.041) to the client's FIN (1.080):
 * 0.039 s, 3000 bytes drained, ended by client_fin; no finding. */
static void build_linger(struct pb_list *l, bool server_resets)
{
	struct pb_conn c;

	assert_int_equal(pb_conn_init(&c, CLI, 40000, SRV, 80, 1000, 5000), 0);
	pb_syn(l, &c, 1.0);
	pb_synack(l, &c, 1.010);
	pb_ack(l, &c, PB_C2S, 1.020, PB_NEXT, PB_NEXT);
	pb_send(l, &c, PB_C2S, 1.030, PB_NEXT, PB_NEXT, PUT_HDR);
	pb_send(l, &c, PB_S2C, 1.040, PB_NEXT, PB_NEXT, R401);
	pb_fin(l, &c, PB_S2C, 1.041, PB_NEXT, PB_NEXT);
	pb_data(l, &c, PB_C2S, 1.050, PB_NEXT, PB_NEXT, NULL, 1000);
	if (server_resets) {
		pb_rstack(l, &c, PB_S2C, 1.061, PB_NEXT, PB_NEXT);
		return;
	}
	pb_ack(l, &c, PB_S2C, 1.055, PB_NEXT, PB_NEXT);
	pb_data(l, &c, PB_C2S, 1.060, PB_NEXT, PB_NEXT, NULL, 1000);
	pb_ack(l, &c, PB_S2C, 1.065, PB_NEXT, PB_NEXT);
	pb_data(l, &c, PB_C2S, 1.070, PB_NEXT, PB_NEXT, NULL, 1000);
	pb_ack(l, &c, PB_S2C, 1.075, PB_NEXT, PB_NEXT);
	pb_fin(l, &c, PB_C2S, 1.080, PB_NEXT, PB_NEXT);
	pb_ack(l, &c, PB_S2C, 1.085, PB_NEXT, PB_NEXT);
}

static void test_lingering(void **state)
{
	struct pb_list l;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	build_linger(&l, false);
	run_list(&r, &l, NULL);
	k = run_conn(&r, 1);
	assert_true(k->lingered);
	assert_int_equal(k->linger_bytes, 3000);
	ASSERT_CLOSE(k->linger_seconds, 0.039);
	assert_int_equal(k->linger_end, AZ_LINGER_CLIENT_FIN);
	assert_int_equal(az_totals(r.az)->linger_ends[AZ_LINGER_CLIENT_FIN], 1);
	assert_int_equal(k->kind, AZ_KIND_GRACEFUL);
	assert_int_equal(k->initiator, AZ_INIT_SERVER);
	assert_int_equal(k->server_end, AZ_ST_TIME_WAIT);
	assert_true(k->server_fw2.present);
	ASSERT_CLOSE(k->server_fw2.start, 1.050);
	ASSERT_CLOSE(k->server_fw2.end, 1.080);
	assert_int_equal(k->http_requests, 1);
	assert_int_equal(k->responses[0].status, 401);
	assert_int_equal(az_totals(r.az)->lingered, 1);
	assert_int_equal(az_n_findings(r.az), 0);
	az_free(r.az);
	pb_list_free(&l);
}

/* Same start, but the server resets on the first late body segment: it
 * did not linger. */
static void test_not_lingering(void **state)
{
	struct pb_list l;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	build_linger(&l, true);
	run_list(&r, &l, NULL);
	k = run_conn(&r, 1);
	assert_false(k->lingered);
	assert_int_equal(k->linger_bytes, 0);
	assert_int_equal(k->kind, AZ_KIND_FIN_THEN_RST);
	assert_int_equal(az_totals(r.az)->lingered, 0);
	az_free(r.az);
	pb_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_series_peak_percentiles),
		cmocka_unit_test(test_series_thinned),
		cmocka_unit_test(test_no_fw2_when_client_closes_at_once),
		cmocka_unit_test(test_client_side_fw2),
		cmocka_unit_test(test_fw2_opens_on_last_frame),
		cmocka_unit_test(test_lingering),
		cmocka_unit_test(test_not_lingering),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
