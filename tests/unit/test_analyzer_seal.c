/*
 * test_analyzer_seal.c - the fast path for connections that ended
 * gracefully gives the same answers as the plain one.
 *
 *  - an analyzer without on_conn, where a connection that ended gracefully
 *    waits out its grace period as a 64-byte seal, against one with
 *    on_conn, where it stays a whole copy: every total, finding and
 *    FIN_WAIT_2 figure must agree, with and without skipped frames;
 *  - what a seal still has to do: a late RST makes the connection
 *    "reset" (and, as every byte was acknowledged, no finding), a repeated
 *    SYN stays with it, a new SYN is a new connection, and it is counted
 *    once its grace period is over;
 *  - each finished connection's grace period is its own, also when one
 *    with a longer grace period sits ahead of it in the ring.
 *
 * The traffic is a few thousand short HTTP connections that reuse a small
 * set of client ports (so new SYNs land on finished tuples, inside and
 * outside the grace period), mixed with aborts, server RSTs with data in
 * flight, late RSTs and retransmissions after graceful ends, FIN_WAIT_2
 * holders, unanswered SYNs, non-TCP frames and truncated frames.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/analyzer_helpers.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static const char REQ[] = "GET /a HTTP/1.1\r\nHost: lab\r\n\r\n";
static const char RESP[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody";
static const char RESP404[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

/* One connection's life from t, picked by `how`. */
static void one_conn(struct pb_list *l, struct pb_conn *c, double t, unsigned how)
{
	assert_int_equal(pb_syn(l, c, t), 0);
	if (how == 9)
		return; /* nobody answers */
	assert_int_equal(pb_synack(l, c, t + 0.0002), 0);
	assert_int_equal(pb_ack(l, c, PB_C2S, t + 0.0004, PB_NEXT, PB_NEXT), 0);
	assert_int_equal(pb_send(l, c, PB_C2S, t + 0.0005, PB_NEXT, PB_NEXT, REQ), 0);
	switch (how) {
	case 0: case 1: case 2: case 3: case 4:
		/* the common case: response, server FIN, client FIN */
		assert_int_equal(pb_send(l, c, PB_S2C, t + 0.0007, PB_NEXT, PB_NEXT, RESP), 0);
		assert_int_equal(pb_fin(l, c, PB_S2C, t + 0.0008, PB_NEXT, PB_NEXT), 0);
		assert_int_equal(pb_ack(l, c, PB_C2S, t + 0.0009, PB_NEXT, PB_NEXT), 0);
		assert_int_equal(pb_fin(l, c, PB_C2S, t + 0.0010, PB_NEXT, PB_NEXT), 0);
		assert_int_equal(pb_ack(l, c, PB_S2C, t + 0.0011, PB_NEXT, PB_NEXT), 0);
		if (how == 1) /* a late retransmitted FIN, then the last ACK again */
			assert_int_equal(pb_fin(l, c, PB_C2S, t + 0.3,
			                        (uint32_t)(1 + strlen(REQ)), PB_NEXT), 0);
		if (how == 2) /* a late RST after the graceful end */
			assert_int_equal(pb_rst(l, c, PB_S2C, t + 0.5, 1), 0);
		break;
	case 5:
		/* the server answers 404, closes, and resets the pipelined
		 * request that follows: rst_before_ack */
		assert_int_equal(pb_send(l, c, PB_S2C, t + 0.0007, PB_NEXT, PB_NEXT, RESP404), 0);
		assert_int_equal(pb_fin(l, c, PB_S2C, t + 0.0008, PB_NEXT, PB_NEXT), 0);
		assert_int_equal(pb_send(l, c, PB_C2S, t + 0.0009, PB_NEXT, 1, REQ), 0);
		assert_int_equal(pb_rst(l, c, PB_S2C, t + 0.0010, 1), 0);
		break;
	case 6:
		/* the server closes, the client ACKs and stays: FIN_WAIT_2 */
		assert_int_equal(pb_send(l, c, PB_S2C, t + 0.0007, PB_NEXT, PB_NEXT, RESP), 0);
		assert_int_equal(pb_fin(l, c, PB_S2C, t + 0.0008, PB_NEXT, PB_NEXT), 0);
		assert_int_equal(pb_ack(l, c, PB_C2S, t + 0.0009, PB_NEXT, PB_NEXT), 0);
		break;
	case 7:
		/* the client aborts */
		assert_int_equal(pb_rstack(l, c, PB_C2S, t + 0.0007, PB_NEXT, PB_NEXT), 0);
		break;
	default:
		/* the client closes first, the server lingers a little */
		assert_int_equal(pb_fin(l, c, PB_C2S, t + 0.0006, PB_NEXT, PB_NEXT), 0);
		assert_int_equal(pb_send(l, c, PB_S2C, t + 0.0007, PB_NEXT, PB_NEXT, RESP), 0);
		assert_int_equal(pb_fin(l, c, PB_S2C, t + 0.0008, PB_NEXT, PB_NEXT), 0);
		assert_int_equal(pb_ack(l, c, PB_C2S, t + 0.0009, PB_NEXT, PB_NEXT), 0);
		break;
	}
}

/* The traffic described at the top, sorted by time. */
static void build_traffic(struct pb_list *l)
{
	enum { CONNS = 3000, PORTS = 97 };
	static const uint8_t junk[60] = { 0 }; /* an Ethernet frame of type 0 */
	double t = 100.0;
	size_t i;

	pb_list_init(l, PB_DLT_EN10MB);
	for (i = 0; i < CONNS; i++) {
		struct pb_conn c;
		uint16_t port = (uint16_t)(30000 + rnd() % PORTS);

		assert_int_equal(pb_conn_init(&c, "10.9.0.2", port, "10.9.0.1", 80,
		                              rnd(), rnd()), 0);
		one_conn(l, &c, t, rnd() % 10);
		/* about 100 connections a second, with pauses past the grace
		 * period now and then */
		t += rnd() % 200 == 0 ? 3.0 : 0.001 * (rnd() % 20);
		if (rnd() % 50 == 0)
			assert_int_equal(pb_raw(l, t, junk, sizeof(junk), sizeof(junk)), 0);
	}
	pb_sort(l);
	/* cut some frames short: truncated */
	for (i = 0; i < l->n; i += 101)
		if (l->frames[i].caplen > 40)
			l->frames[i].caplen = 40;
}

struct result {
	struct az_stats stats;
	struct az_totals totals;
	uint64_t dropped;
	size_t n_findings;
	struct az_rst_finding findings[64];
	struct az_fw2_summary fw2[2];
	struct az_fw2_point series[2][64];
};

/* Frames at positions i with i % skip_every == skip_every - 1 are
 * skipped (as a filter would), if skip_every > 0. */
static bool skipped(size_t i, size_t skip_every)
{
	return skip_every > 0 && i % skip_every == skip_every - 1;
}

static void ignore_conn(const struct az_conn *c, void *arg)
{
	(void)c;
	(void)arg;
}

/* Analyze l frame by frame. */
static void analyze(const struct pb_list *l, size_t skip_every, bool with_on_conn,
                    struct result *out)
{
	struct az_config cfg;
	struct az *az;
	size_t i, k;

	memset(&cfg, 0, sizeof(cfg));
	if (with_on_conn)
		cfg.on_conn = ignore_conn;
	az = az_new(&cfg);
	assert_non_null(az);
	for (i = 0; i < l->n; i++) {
		const struct pb_frame *f = &l->frames[i];

		if (skipped(i, skip_every))
			az_skip_frame(az);
		else
			az_packet(az, l->dlt, f->t, f->bytes, f->caplen, f->wirelen);
	}
	az_finish(az);

	memset(out, 0, sizeof(*out));
	out->stats = *az_stats(az);
	out->totals = *az_totals(az);
	out->dropped = az_dropped(az);
	out->n_findings = az_n_findings(az);
	for (i = 0; i < out->n_findings && i < 64; i++)
		out->findings[i] = *az_finding(az, i);
	for (k = 0; k < 2; k++) {
		out->fw2[k] = *az_fw2(az, (enum az_side)k);
		for (i = 0; i < out->fw2[k].n_series && i < 64; i++)
			out->series[k][i] = out->fw2[k].series[i];
		out->fw2[k].series = NULL;
	}
	az_free(az);
}

static void assert_same(const struct result *a, const struct result *b, bool stats_too)
{
	size_t i, k;

	if (stats_too)
		assert_memory_equal(&a->stats, &b->stats, sizeof(a->stats));
	assert_int_equal(a->totals.connections, b->totals.connections);
	for (i = 0; i < AZ_NKINDS; i++)
		assert_int_equal(a->totals.by_kind[i], b->totals.by_kind[i]);
	for (i = 0; i < AZ_NINITIATORS; i++)
		assert_int_equal(a->totals.by_initiator[i], b->totals.by_initiator[i]);
	assert_int_equal(a->totals.lingered, b->totals.lingered);
	assert_int_equal(a->totals.rst_before_ack, b->totals.rst_before_ack);
	assert_int_equal(a->totals.role_inferred, b->totals.role_inferred);
	assert_int_equal(a->totals.retained, b->totals.retained);
	assert_int_equal(a->dropped, b->dropped);
	assert_int_equal(a->n_findings, b->n_findings);
	for (i = 0; i < a->n_findings && i < 64; i++)
		assert_memory_equal(&a->findings[i], &b->findings[i], sizeof(a->findings[i]));
	for (k = 0; k < 2; k++) {
		assert_int_equal(a->fw2[k].count, b->fw2[k].count);
		assert_int_equal(a->fw2[k].peak, b->fw2[k].peak);
		ASSERT_CLOSE(a->fw2[k].peak_time, b->fw2[k].peak_time);
		ASSERT_CLOSE(a->fw2[k].p50, b->fw2[k].p50);
		ASSERT_CLOSE(a->fw2[k].p90, b->fw2[k].p90);
		ASSERT_CLOSE(a->fw2[k].max, b->fw2[k].max);
		for (i = 0; i < AZ_NFW2_ENDS; i++)
			assert_int_equal(a->fw2[k].endings[i], b->fw2[k].endings[i]);
		assert_int_equal(a->fw2[k].n_series, b->fw2[k].n_series);
		for (i = 0; i < a->fw2[k].n_series && i < 64; i++) {
			ASSERT_CLOSE(a->series[k][i].t, b->series[k][i].t);
			assert_int_equal(a->series[k][i].n, b->series[k][i].n);
		}
	}
}

/* The traffic has what the comparisons need to mean something. */
static void test_traffic_covers_the_cases(void **state)
{
	struct pb_list l;
	struct result r;
	(void)state;

	build_traffic(&l);
	analyze(&l, 0, false, &r);
	print_message("# %llu frames, %llu connections, %llu reset, %llu findings, "
	              "%llu truncated, fin_wait_2 %llu\n",
	              (unsigned long long)r.stats.packets,
	              (unsigned long long)r.totals.connections,
	              (unsigned long long)r.totals.by_kind[AZ_KIND_RESET],
	              (unsigned long long)r.totals.rst_before_ack,
	              (unsigned long long)r.stats.by_result[DEC_TRUNCATED],
	              (unsigned long long)r.fw2[AZ_SERVER].count);
	assert_true(r.totals.connections > 2500);
	assert_true(r.totals.by_kind[AZ_KIND_GRACEFUL] > 1000);
	assert_true(r.totals.by_kind[AZ_KIND_RESET] > 50);  /* late RSTs */
	assert_true(r.totals.by_kind[AZ_KIND_ABORT] > 50);
	assert_true(r.totals.rst_before_ack > 50);
	assert_true(r.fw2[AZ_SERVER].count > 50);
	assert_true(r.stats.by_result[DEC_TRUNCATED] > 50);
	assert_true(r.stats.by_result[DEC_NOT_TCP] + r.stats.by_result[DEC_UNSUPPORTED] > 10);
	pb_list_free(&l);
}

/* Seals (no on_conn) and whole copies (on_conn) give the same report,
 * with and without frames a filter skipped. */
static void test_seals_match_copies(void **state)
{
	struct pb_list l;
	static struct result a, b;
	size_t skip;
	(void)state;

	build_traffic(&l);
	for (skip = 0; skip <= 13; skip += 13) {
		analyze(&l, skip, true, &a);
		analyze(&l, skip, false, &b);
		assert_same(&a, &b, true);
	}
	pb_list_free(&l);
}

static void conn_at(struct pb_conn *c, uint32_t cisn)
{
	assert_int_equal(pb_conn_init(c, "10.9.0.2", 40000, "10.9.0.1", 80, cisn, 7000), 0);
}

static void graceful(struct pb_list *l, struct pb_conn *c, double t)
{
	one_conn(l, c, t, 0);
}

/* Without on_conn: a late RST after a graceful end makes it "reset", with
 * no finding; a repeated SYN stays with the sealed connection; a new SYN
 * (other ISN) within the grace period is a new connection; a seal is
 * counted when its grace period is over, before the end of the capture. */
static void test_seal_life(void **state)
{
	struct pb_list l;
	struct pb_conn c, c2, other;
	struct az_config cfg;
	struct az *az;
	size_t i;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	conn_at(&c, 1000);
	graceful(&l, &c, 1.0);
	assert_int_equal(pb_rst(&l, &c, PB_S2C, 1.5, 1), 0); /* late RST */
	assert_int_equal(pb_syn(&l, &c, 1.6), 0);            /* repeated SYN */
	conn_at(&c2, 9000);
	graceful(&l, &c2, 2.0);                              /* same tuple, new */
	/* an unrelated segment 10 s later: both are past their grace */
	assert_int_equal(pb_conn_init(&other, "10.9.0.3", 40001, "10.9.0.1", 80, 1, 1), 0);
	assert_int_equal(pb_syn(&l, &other, 12.0), 0);

	memset(&cfg, 0, sizeof(cfg));
	az = az_new(&cfg);
	assert_non_null(az);
	for (i = 0; i < l.n; i++) {
		const struct pb_frame *f = &l.frames[i];

		assert_int_equal(az_packet(az, l.dlt, f->t, f->bytes, f->caplen,
		                           f->wirelen), DEC_OK);
	}
	/* counted at expiry, before az_finish */
	assert_int_equal(az_totals(az)->connections, 2);
	assert_int_equal(az_totals(az)->by_kind[AZ_KIND_RESET], 1);
	assert_int_equal(az_totals(az)->by_kind[AZ_KIND_GRACEFUL], 1);
	assert_int_equal(az_totals(az)->by_initiator[AZ_INIT_SERVER], 2);
	az_finish(az);
	assert_int_equal(az_totals(az)->connections, 3);
	assert_int_equal(az_totals(az)->by_kind[AZ_KIND_OPEN], 1);
	assert_int_equal(az_n_findings(az), 0);
	assert_int_equal(az_totals(az)->rst_before_ack, 0);
	assert_int_equal(az_stats(az)->by_result[DEC_OK], l.n);
	az_free(az);
	pb_list_free(&l);
}

/* The same traffic with on_conn: the records agree with the seal's
 * counts (reset, no finding, the repeated SYN counted on it). */
static void test_late_rst_record(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	conn_at(&c, 1000);
	graceful(&l, &c, 1.0);
	assert_int_equal(pb_rst(&l, &c, PB_S2C, 1.5, 1), 0);
	assert_int_equal(pb_syn(&l, &c, 1.6), 0);
	run_list(&r, &l, NULL);
	assert_int_equal(r.n, 1);
	k = run_conn(&r, 1);
	assert_int_equal(k->kind, AZ_KIND_RESET);
	assert_int_equal(k->s2c.rst_count, 1);
	assert_int_equal(k->c2s.retrans_packets, 1); /* the SYN again */
	assert_int_equal(k->c2s.packets + k->s2c.packets, l.n);
	assert_int_equal(az_n_findings(r.az), 0);
	az_free(r.az);
	pb_list_free(&l);
}

/* Grace periods differ (4 round trips, at least 2 s): a connection that
 * ended behind one with a long round trip is still over after its own 2 s.
 * A SYN-ACK on its tuple after that (its SYN not captured) is a new
 * connection, with and without on_conn. */
static void test_grace_is_per_connection(void **state)
{
	struct pb_list l;
	struct pb_conn slow, fast, again;
	struct az_config cfg;
	int with;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	assert_int_equal(pb_conn_init(&slow, "10.9.0.5", 41000, "10.9.0.1", 80, 100, 200), 0);
	assert_int_equal(pb_syn(&l, &slow, 1.0), 0);
	assert_int_equal(pb_synack(&l, &slow, 2.0), 0); /* 1 s away: grace 4 s */
	assert_int_equal(pb_ack(&l, &slow, PB_C2S, 2.0001, PB_NEXT, PB_NEXT), 0);
	assert_int_equal(pb_fin(&l, &slow, PB_S2C, 2.0002, PB_NEXT, PB_NEXT), 0);
	assert_int_equal(pb_fin(&l, &slow, PB_C2S, 2.0003, PB_NEXT, PB_NEXT), 0);
	assert_int_equal(pb_ack(&l, &slow, PB_S2C, 2.0004, PB_NEXT, PB_NEXT), 0);
	conn_at(&fast, 1000);
	one_conn(&l, &fast, 2.1, 0);                     /* ends at 2.1011 */
	conn_at(&again, 5000);
	assert_int_equal(pb_synack(&l, &again, 4.5), 0);  /* past 2.1011 + 2 */
	assert_int_equal(pb_ack(&l, &again, PB_C2S, 4.5001, PB_NEXT, PB_NEXT), 0);

	for (with = 0; with < 2; with++) {
		struct az *az;
		size_t i;

		memset(&cfg, 0, sizeof(cfg));
		if (with)
			cfg.on_conn = ignore_conn;
		az = az_new(&cfg);
		assert_non_null(az);
		for (i = 0; i < l.n; i++)
			az_packet(az, l.dlt, l.frames[i].t, l.frames[i].bytes,
			          l.frames[i].caplen, l.frames[i].wirelen);
		az_finish(az);
		assert_int_equal(az_totals(az)->connections, 3);
		assert_int_equal(az_totals(az)->by_kind[AZ_KIND_GRACEFUL], 2);
		assert_int_equal(az_totals(az)->by_kind[AZ_KIND_OPEN], 1);
		az_free(az);
	}
	pb_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_traffic_covers_the_cases),
		cmocka_unit_test(test_seals_match_copies),
		cmocka_unit_test(test_seal_life),
		cmocka_unit_test(test_late_rst_record),
		cmocka_unit_test(test_grace_is_per_connection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
