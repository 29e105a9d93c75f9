/*
 * test_analyzer_memory.c - the memory bound (az_config.max_memory, issue
 * 13): a SYN flood and a crowd of idle connections under a 1 MiB bound
 * stay under it, every connection is still counted once, what was ended
 * early is counted and marked, and FIN_WAIT_2 holders go last.
 */
#include <stdio.h>

#include "analyzer/analyzer.h"
#include "tests/support/pktbuild.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define LIMIT ((size_t)1 << 20)

struct tally {
	uint64_t records, evicted, evicted_fw2_open;
};

static void on_conn(const struct az_conn *c, void *arg)
{
	struct tally *t = arg;

	t->records++;
	if (c->evicted) {
		t->evicted++;
		/* an evicted FIN_WAIT_2 holder's interval ends early */
		if (c->server_fw2.present && c->server_fw2.ending == AZ_FW2_CAPTURE_END)
			t->evicted_fw2_open++;
	}
}

/* Feed l's frames to az and drop them, so that a long build does not hold
 * every frame in memory at once. */
static void feed(struct az *az, struct pb_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		assert_int_equal(az_packet(az, l->dlt, l->frames[i].t, l->frames[i].bytes,
		                           l->frames[i].caplen, l->frames[i].wirelen), DEC_OK);
	pb_list_free(l);
	pb_list_init(l, PB_DLT_EN10MB);
}

static void client_addr(char *buf, size_t len, unsigned i)
{
	snprintf(buf, len, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
}

/* 50,000 SYNs nobody answers, under 1 MiB: the SYN-only flows go first,
 * all are counted, and the store never holds more than the bound. */
static void test_syn_flood(void **state)
{
	struct az_config cfg = { .max_memory = LIMIT, .on_conn = on_conn };
	struct tally t = { 0 };
	struct pb_list l;
	struct pb_conn c;
	struct az *az;
	size_t peak;
	unsigned i;
	char cli[32];
	(void)state;

	cfg.arg = &t;
	az = az_new(&cfg);
	assert_non_null(az);
	assert_int_equal(az_memory_limit(az), LIMIT);
	pb_list_init(&l, PB_DLT_EN10MB);
	for (i = 0; i < 50000; i++) {
		client_addr(cli, sizeof(cli), i + 1);
		assert_int_equal(pb_conn_init(&c, cli, 40000, "10.255.0.1", 80, i * 7, 1), 0);
		pb_syn(&l, &c, 1.0 + i * 1e-5);
		if (l.n == 1000)
			feed(az, &l);
	}
	feed(az, &l);
	az_finish(az);
	assert_true(az_memory(az, &peak) <= LIMIT);
	assert_true(peak <= LIMIT);
	assert_int_equal(az_totals(az)->connections, 50000);
	assert_int_equal(t.records, 50000);
	assert_true(az_totals(az)->evicted_embryos > 40000);
	assert_int_equal(az_totals(az)->evicted, 0);
	assert_int_equal(az_dropped(az), 0);
	az_free(az);
	pb_list_free(&l);
}

/*
 * 200 servers parked in FIN_WAIT_2 (the oldest), then 3,000 idle
 * keep-alive connections with everything acknowledged, under 1 MiB (about
 * 256 connections in progress fit). The idle ones are ended early to make
 * room; no FIN_WAIT_2 holder is, so the FIN_WAIT_2 figures stay exact.
 */
static void test_fin_wait_2_last(void **state)
{
	struct az_config cfg = { .max_memory = LIMIT, .on_conn = on_conn };
	struct tally t = { 0 };
	const struct az_fw2_summary *fw;
	struct pb_list l;
	struct pb_conn c;
	struct az *az;
	unsigned i;
	char cli[32];
	(void)state;

	cfg.arg = &t;
	az = az_new(&cfg);
	assert_non_null(az);
	pb_list_init(&l, PB_DLT_EN10MB);
	for (i = 0; i < 3200; i++) {
		double t0 = 1.0 + i * 0.001;

		client_addr(cli, sizeof(cli), i + 1);
		assert_int_equal(pb_conn_init(&c, cli, 40000, "10.255.0.1", 80, 1000, 5000), 0);
		pb_syn(&l, &c, t0);
		pb_synack(&l, &c, t0 + 0.0001);
		pb_ack(&l, &c, PB_C2S, t0 + 0.0002, PB_NEXT, PB_NEXT);
		pb_data(&l, &c, PB_C2S, t0 + 0.0003, PB_NEXT, PB_NEXT, NULL, 100);
		pb_data(&l, &c, PB_S2C, t0 + 0.0004, PB_NEXT, PB_NEXT, NULL, 300);
		if (i < 200) {
			/* the server closes; the client ACKs and never FINs */
			pb_fin(&l, &c, PB_S2C, t0 + 0.0005, PB_NEXT, PB_NEXT);
			pb_ack(&l, &c, PB_C2S, t0 + 0.0006, PB_NEXT, PB_NEXT);
		} else {
			pb_ack(&l, &c, PB_C2S, t0 + 0.0005, PB_NEXT, PB_NEXT);
		}
		if (l.n >= 1000)
			feed(az, &l);
	}
	feed(az, &l);
	az_finish(az);
	assert_int_equal(az_totals(az)->connections, 3200);
	assert_int_equal(t.records, 3200);
	assert_true(az_totals(az)->evicted > 2000);
	assert_int_equal(az_totals(az)->evicted, t.evicted);
	assert_int_equal(az_totals(az)->evicted_fin_wait_2, 0);
	assert_int_equal(t.evicted_fw2_open, 0);
	fw = az_fw2(az, AZ_SERVER);
	assert_int_equal(fw->count, 200);
	assert_int_equal(fw->peak, 200);
	assert_int_equal(fw->endings[AZ_FW2_CAPTURE_END], 200);
	assert_true(az_memory(az, NULL) <= LIMIT);
	az_free(az);
	pb_list_free(&l);
}

/* Without a bound nothing is ended early, and the default is 256 MiB. */
static void test_default_and_none(void **state)
{
	struct az_config cfg = { .max_memory = 0 };
	struct az *az = az_new(&cfg);
	(void)state;

	assert_non_null(az);
	assert_int_equal(az_memory_limit(az), AZ_DEFAULT_MAX_MEMORY);
	az_free(az);
	cfg.max_memory = SIZE_MAX;
	az = az_new(&cfg);
	assert_non_null(az);
	assert_int_equal(az_memory_limit(az), SIZE_MAX);
	az_free(az);
}

/* With every record wanted, each finished connection waits out its grace
 * period as a whole copy (a tomb, about 1 KB). One connection whose port
 * never comes back, then 20,000 in one second (all inside its 2 s grace
 * period) from 64 client ports, each port used again every 3 ms: a new
 * SYN on a port ends the tomb there, so no more than 65 wait at once, and
 * the store stays small, though the first tomb waits its whole grace
 * period ahead of the others (tombs kept in order of their end, each
 * until all ahead of it leave, were 20 MB); every connection is counted
 * and recorded once, none cut short. */
static void test_tombs_leave_with_their_port(void **state)
{
	struct az_config cfg = { .on_conn = on_conn };
	struct tally t = { 0 };
	struct pb_list l;
	struct pb_conn c;
	struct az *az;
	size_t peak;
	unsigned i;
	(void)state;

	cfg.arg = &t;
	az = az_new(&cfg);
	assert_non_null(az);
	pb_list_init(&l, PB_DLT_EN10MB);
	for (i = 0; i <= 20000; i++) {
		double t0 = 0.9 + i * 5e-5;

		/* i == 0: port 39999, never again */
		assert_int_equal(pb_conn_init(&c, "10.0.0.1",
		                              (uint16_t)(i ? 40000 + i % 64 : 39999),
		                              "10.255.0.1", 80, i * 100000u, 7), 0);
		assert_int_equal(pb_syn(&l, &c, t0), 0);
		assert_int_equal(pb_synack(&l, &c, t0 + 1e-6), 0);
		assert_int_equal(pb_ack(&l, &c, PB_C2S, t0 + 2e-6, PB_NEXT, PB_NEXT), 0);
		assert_int_equal(pb_fin(&l, &c, PB_S2C, t0 + 3e-6, PB_NEXT, PB_NEXT), 0);
		assert_int_equal(pb_ack(&l, &c, PB_C2S, t0 + 4e-6, PB_NEXT, PB_NEXT), 0);
		assert_int_equal(pb_fin(&l, &c, PB_C2S, t0 + 5e-6, PB_NEXT, PB_NEXT), 0);
		assert_int_equal(pb_ack(&l, &c, PB_S2C, t0 + 6e-6, PB_NEXT, PB_NEXT), 0);
		if (l.n >= 7000)
			feed(az, &l);
	}
	feed(az, &l);
	az_finish(az);
	(void)az_memory(az, &peak);
	assert_true(peak < ((size_t)4 << 20));
	assert_int_equal(az_totals(az)->connections, 20001);
	assert_int_equal(t.records, 20001);
	assert_int_equal(az_totals(az)->by_kind[AZ_KIND_GRACEFUL], 20001);
	assert_int_equal(az_totals(az)->grace_cut, 0);
	assert_int_equal(az_dropped(az), 0);
	az_free(az);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_flood),
		cmocka_unit_test(test_fin_wait_2_last),
		cmocka_unit_test(test_default_and_none),
		cmocka_unit_test(test_tombs_leave_with_their_port),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
