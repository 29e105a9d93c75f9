/*
 * test_analyzer_embryo.c - embryos (struct embryo in analyzer/store.h,
 * issue 13): a connection that is only its client's SYN so far is kept in
 * 80 bytes and rebuilt when more comes. Each capture here is analyzed
 * twice, once with every such SYN made an embryo (COMPACT_ALWAYS) and
 * once with every connection tracked whole from its first packet
 * (COMPACT_NEVER): the records handed out (in the same order), the
 * totals, the findings, the retained connections with their timelines and
 * the FIN_WAIT_2 summaries must be the same, byte for byte. Then a SYN
 * flood: N embryos fit under a stated number of bytes by the store's own
 * accounting (az_memory), where whole connections take over 2 KB each.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/compact_helpers.h"

static void conn(struct pb_conn *c, unsigned i, uint32_t cisn, uint32_t sisn)
{
	char cli[32];

	snprintf(cli, sizeof(cli), "10.%u.%u.%u", 100 + ((i >> 16) & 127), (i >> 8) & 255, i & 255);
	assert_int_equal(pb_conn_init(c, cli, (uint16_t)(40000 + i), "10.9.255.1", 80,
	                              cisn, sisn), 0);
}

/* A whole exchange: handshake, a request, a response, both FINs. */
static void exchange(struct pb_list *l, struct pb_conn *c, double t)
{
	pb_syn(l, c, t);
	pb_synack(l, c, t + 0.010);
	pb_ack(l, c, PB_C2S, t + 0.020, PB_NEXT, PB_NEXT);
	pb_send(l, c, PB_C2S, t + 0.021, PB_NEXT, PB_NEXT, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	pb_send(l, c, PB_S2C, t + 0.031, PB_NEXT, PB_NEXT,
	        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	pb_ack(l, c, PB_C2S, t + 0.041, PB_NEXT, PB_NEXT);
	pb_fin(l, c, PB_S2C, t + 0.050, PB_NEXT, PB_NEXT);
	pb_fin(l, c, PB_C2S, t + 0.060, PB_NEXT, PB_NEXT);
	pb_ack(l, c, PB_S2C, t + 0.070, PB_NEXT, PB_NEXT);
}

/* The connections whose SYN is promoted on its next packet: a whole
 * exchange, a SYN-ACK after a repeated SYN, a refusal, a SYN that a new
 * SYN (another ISN) replaces, a simultaneous open, a finding (the SYN in
 * its timeline), a FIN_WAIT_2 holder to the end, IPv6, a SYN with ECN
 * flags and other options. All interleaved in time. */
static void test_promoted_same_as_whole(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct pb_seg s;
	unsigned i = 0;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	conn(&c, i++, 1000, 5000);
	exchange(&l, &c, 1.000);

	/* the SYN again before its SYN-ACK */
	conn(&c, i++, 2000, 6000);
	pb_syn(&l, &c, 1.001);
	pb_syn(&l, &c, 2.001);
	pb_synack(&l, &c, 2.011);
	pb_ack(&l, &c, PB_C2S, 2.021, PB_NEXT, PB_NEXT);

	/* refused: the server answers with RST-ACK */
	conn(&c, i++, 3000, 0);
	pb_syn(&l, &c, 1.002);
	pb_rstack(&l, &c, PB_S2C, 1.003, 0, 1);

	/* a new SYN (another ISN) on the tuple: a new connection */
	conn(&c, i++, 4000, 7000);
	pb_syn(&l, &c, 1.004);
	conn(&c, i - 1, 4500, 7000);
	exchange(&l, &c, 1.500);

	/* simultaneous open: the other end's SYN without ACK */
	conn(&c, i++, 5000, 8000);
	pb_syn(&l, &c, 1.005);
	memset(&s, 0, sizeof(s));
	s.dir = PB_S2C;
	s.t = 1.006;
	s.flags = PB_SYN;
	s.seq = 0;
	s.win = -1;
	assert_int_equal(pb_seg(&l, &c, &s), 0);
	pb_synack(&l, &c, 1.007);

	/* a finding: the server resets with its response unacknowledged */
	conn(&c, i++, 6000, 9000);
	pb_syn(&l, &c, 1.010);
	pb_synack(&l, &c, 1.020);
	pb_ack(&l, &c, PB_C2S, 1.030, PB_NEXT, PB_NEXT);
	pb_send(&l, &c, PB_C2S, 1.031, PB_NEXT, PB_NEXT, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	pb_send(&l, &c, PB_S2C, 1.041, PB_NEXT, PB_NEXT,
	        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	pb_rstack(&l, &c, PB_S2C, 1.042, PB_NEXT, PB_NEXT);

	/* the server in FIN_WAIT_2 to the end of the capture */
	conn(&c, i++, 7000, 10000);
	pb_syn(&l, &c, 1.100);
	pb_synack(&l, &c, 1.110);
	pb_ack(&l, &c, PB_C2S, 1.120, PB_NEXT, PB_NEXT);
	pb_fin(&l, &c, PB_S2C, 1.130, PB_NEXT, PB_NEXT);
	pb_ack(&l, &c, PB_C2S, 1.140, PB_NEXT, PB_NEXT);

	/* IPv6 */
	assert_int_equal(pb_conn_init(&c, "fd00::7", 41000, "fd00::1", 443, 8000, 11000), 0);
	exchange(&l, &c, 1.200);

	/* ECN on the SYN, timestamps, no SACK, no window scale */
	conn(&c, i++, 9000, 12000);
	c.timestamps = true;
	c.sack_permitted = false;
	c.wscale = -1;
	c.mss = 536;
	memset(&s, 0, sizeof(s));
	s.dir = PB_C2S;
	s.t = 1.300;
	s.flags = PB_SYN | 0xc0; /* ECE, CWR */
	s.win = 4321;
	assert_int_equal(pb_seg(&l, &c, &s), 0);
	pb_synack(&l, &c, 1.310);
	pb_data(&l, &c, PB_C2S, 1.320, PB_NEXT, PB_NEXT, NULL, 100);

	/* a SYN nobody answers, summarized at the end */
	conn(&c, i++, 10000, 0);
	pb_syn(&l, &c, 1.400);

	pb_sort(&l);
	assert_int_equal(same_both_ways(&l, NULL, true, NULL, NULL), i + 1 /* IPv6 */ + 1 /* the new SYN */);
	pb_list_free(&l);
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

/* 40,000 random segments over 300 tuples, a third of them a client's SYN
 * alone (a new ISN now and then, the same one again, with or without
 * options), the rest any flags, sequence numbers near the ISNs, payload,
 * time steps with jumps past EMBRYO_IDLE and small steps back: both ways
 * give the same. */
static void test_random_same_as_whole(void **state)
{
	enum { TUPLES = 300, PACKETS = 40000 };
	static struct pb_conn cs[TUPLES];
	static uint32_t isn[TUPLES][2];
	struct az_config cfg = { .max_retained = 100, .timeline_head = 6, .timeline_tail = 5 };
	struct pb_list l;
	double t = 1000.0;
	size_t i, n;
	(void)state;

	for (i = 0; i < TUPLES; i++) {
		conn(&cs[i], (unsigned)i, 0, 0);
		isn[i][0] = rnd();
		isn[i][1] = rnd();
		cs[i].timestamps = i % 4 == 0;
		cs[i].sack_permitted = i % 3 != 0;
	}
	pb_list_init(&l, PB_DLT_RAW);
	for (i = 0; i < PACKETS; i++) {
		size_t tu = rnd() % TUPLES;
		uint32_t r = rnd();
		struct pb_seg s;

		memset(&s, 0, sizeof(s));
		t += r % 1000 == 0 ? EMBRYO_IDLE * 0.6 : r % 89 == 0 ? -0.002 : 0.0005;
		s.t = t;
		s.absolute = true;
		s.win = -1;
		if (rnd() % 3 == 0) {
			/* a client's SYN: a new ISN sometimes, else the same */
			if (rnd() % 4 == 0)
				isn[tu][0] = rnd();
			s.dir = PB_C2S;
			s.flags = PB_SYN | (rnd() % 8 == 0 ? 0xc0 : 0);
			s.seq = isn[tu][0];
		} else {
			int side = (int)(rnd() & 1);

			s.dir = side ? PB_S2C : PB_C2S;
			s.flags = (uint8_t)(rnd() & 0x1f);
			if (rnd() % 4)
				s.flags = (uint8_t)((s.flags & ~PB_RST) | PB_ACK);
			s.seq = isn[tu][side] + rnd() % 3000;
			s.ack = isn[tu][!side] + rnd() % 3000;
			if (rnd() % 2)
				s.len = rnd() % 400;
		}
		assert_int_equal(pb_seg(&l, &cs[tu], &s), 0);
	}
	n = same_both_ways(&l, &cfg, true, NULL, NULL);
	print_message("# %zu connections the same both ways\n", n);
	assert_true(n > 1000);
	pb_list_free(&l);
}

/* SYNs nobody answers leave after EMBRYO_IDLE, oldest activity first,
 * whether they were embryos or slots (a SYN repeated): the records come
 * out in the same order both ways, before the packet that is past them. */
static void test_expiry_order(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	unsigned i;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	for (i = 0; i < 12; i++) {
		conn(&c, i, 100 * i, 0);
		pb_syn(&l, &c, 1.0 + 0.25 * i);
		if (i % 3 == 0)
			pb_syn(&l, &c, 2.0 + 0.5 * i); /* again: a slot, later */
	}
	/* long after: they expire, then this connection runs */
	conn(&c, 500, 1, 2);
	exchange(&l, &c, 1.0 + EMBRYO_IDLE + 10.0);
	pb_sort(&l);
	assert_int_equal(same_both_ways(&l, NULL, true, NULL, NULL), 13);
	pb_list_free(&l);
}

/* Under a memory bound (1 MiB), embryos are ended first, oldest first:
 * every flow is still counted once, the newest are there at the end. */
static void test_embryos_evicted_first(void **state)
{
	struct az_config cfg = { .max_memory = (size_t)1 << 20 };
	struct pb_list l;
	struct pb_conn c;
	struct rec r;
	struct az *az;
	unsigned i;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	for (i = 0; i < 30000; i++) {
		conn(&c, i, i * 7, 0);
		pb_syn(&l, &c, 1.0 + i * 1e-5);
	}
	az = analyze(&l, COMPACT_ALWAYS, &r, &cfg, true);
	assert_int_equal(r.n, 30000);
	assert_int_equal(az_totals(az)->connections, 30000);
	assert_true(az_totals(az)->evicted_embryos > 10000);
	assert_int_equal(az_totals(az)->evicted, 0);
	assert_true(az_memory(az, NULL) <= cfg.max_memory);
	/* oldest first: the last SYNs are the ones still there at the end,
	 * summarized in id order after every eviction */
	assert_int_equal(r.c[r.n - 1].id, 30000);
	assert_int_equal(r.c[0].id, 1);
	free(r.c);
	az_free(az);
	pb_list_free(&l);
}

/*
 * 100,000 SYN-only flows in the store: at most 128 bytes each by the
 * store's own accounting (its peak: an 80-byte embryo, and 8-byte table
 * slots at a load between 1/4 and 1/2, the doubling counted), so 2
 * million fit in 256 MiB. Tracked whole (10,000 of them, to spare the
 * test's memory), each took over 2 KB.
 */
static void test_embryos_fit(void **state)
{
	enum { N = 100000, N_WHOLE = 10000 };
	struct az_config cfg = { .max_memory = SIZE_MAX };
	struct pb_list l, lw;
	struct pb_conn c;
	struct rec r;
	struct az *az;
	size_t peak, peak_whole;
	unsigned i;
	(void)state;

	pb_list_init(&l, PB_DLT_RAW);
	pb_list_init(&lw, PB_DLT_RAW);
	for (i = 0; i < N; i++) {
		conn(&c, i, i * 7, 0);
		pb_syn(&l, &c, 1.0 + i * 1e-6);
		if (i < N_WHOLE)
			pb_syn(&lw, &c, 1.0 + i * 1e-6);
	}
	az = analyze(&l, COMPACT_AUTO, &r, &cfg, true);
	(void)az_memory(az, &peak);
	print_message("# %d SYN-only flows: store peak %zu bytes (%zu per flow)\n",
	              N, peak, peak / N);
	assert_true(peak <= (size_t)N * 128);
	assert_int_equal(r.n, N);
	assert_int_equal(az_totals(az)->evicted_embryos, 0);
	free(r.c);
	az_free(az);

	az = analyze(&lw, COMPACT_NEVER, &r, &cfg, true);
	(void)az_memory(az, &peak_whole);
	print_message("# tracked whole: %zu bytes for %d (%zu per flow)\n", peak_whole,
	              N_WHOLE, peak_whole / N_WHOLE);
	assert_true(peak_whole > (size_t)N_WHOLE * 2048);
	assert_int_equal(r.n, N_WHOLE);
	free(r.c);
	az_free(az);
	pb_list_free(&l);
	pb_list_free(&lw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_promoted_same_as_whole),
		cmocka_unit_test(test_random_same_as_whole),
		cmocka_unit_test(test_expiry_order),
		cmocka_unit_test(test_embryos_evicted_first),
		cmocka_unit_test(test_embryos_fit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
