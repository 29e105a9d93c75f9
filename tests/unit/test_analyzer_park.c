/*
 * test_analyzer_park.c - parked FIN_WAIT_2 holders (struct parked in
 * analyzer/store.h, analyzer/park.c, issue 13): a connection whose server
 * (or client) waits in FIN_WAIT_2 is kept as a compressed image of its
 * state and unparked, byte for byte, by its next packet. Each capture here
 * is analyzed twice: once parking every FIN_WAIT_2 holder after each of
 * its packets (COMPACT_ALWAYS: every later packet unparks it first) and
 * once tracking every connection whole (COMPACT_NEVER). The records handed
 * out (in the same order), the totals, the findings, the retained
 * connections with their timelines and the FIN_WAIT_2 summaries must be
 * the same, byte for byte, whatever comes after the park: the client's
 * FIN, more requests (counted), data the server resets, data the client
 * resets itself (a finding made after the park, whose timeline reaches
 * back before it), RSTs, retransmissions, a new SYN on the tuple, time
 * stepping back, or nothing. Then 1 million holders' worth: N parked
 * connections fit in 256 bytes each by the store's own accounting.
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

/* Handshake, a request, the response with the server's FIN, the client's
 * ACK of it: the server is in FIN_WAIT_2 from t + 0.04. */
static void to_fw2(struct pb_list *l, struct pb_conn *c, double t)
{
	pb_syn(l, c, t);
	pb_synack(l, c, t + 0.010);
	pb_ack(l, c, PB_C2S, t + 0.020, PB_NEXT, PB_NEXT);
	pb_send(l, c, PB_C2S, t + 0.021, PB_NEXT, PB_NEXT, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	pb_send(l, c, PB_S2C, t + 0.031, PB_NEXT, PB_NEXT,
	        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	pb_fin(l, c, PB_S2C, t + 0.032, PB_NEXT, PB_NEXT);
	pb_ack(l, c, PB_C2S, t + 0.042, PB_NEXT, PB_NEXT);
}

static const char REQ[] = "GET /again HTTP/1.1\r\nHost: x\r\n\r\n";

/* Every way a FIN_WAIT_2 holder can go on, each its own connection, all
 * interleaved in time; with records wanted (on_conn) and without (the
 * graceful ones then end as seals). */
static void test_outcomes_same_as_whole(void **state)
{
	struct az_config cfg = { .timeline_head = 4, .timeline_tail = 3 };
	struct pb_list l;
	struct pb_conn c;
	struct pb_seg s;
	uint64_t parks, unparks;
	unsigned i = 0;
	int k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	/* nothing more: in FIN_WAIT_2 to the end of the capture */
	conn(&c, i++, 1000, 5000);
	to_fw2(&l, &c, 1.000);

	/* the client's FIN a minute later, the server's ACK: graceful */
	conn(&c, i++, 2000, 6000);
	to_fw2(&l, &c, 1.001);
	pb_fin(&l, &c, PB_C2S, 61.0, PB_NEXT, PB_NEXT);
	pb_ack(&l, &c, PB_S2C, 61.001, PB_NEXT, PB_NEXT);

	/* another request after the FIN (counted), ACKed (a lingering
	 * close), then the client's FIN */
	conn(&c, i++, 3000, 7000);
	to_fw2(&l, &c, 1.002);
	pb_send(&l, &c, PB_C2S, 5.0, PB_NEXT, PB_NEXT, REQ);
	pb_ack(&l, &c, PB_S2C, 5.001, PB_NEXT, PB_NEXT);
	pb_send(&l, &c, PB_C2S, 6.0, PB_NEXT, PB_NEXT, REQ);
	pb_ack(&l, &c, PB_S2C, 6.001, PB_NEXT, PB_NEXT);
	pb_fin(&l, &c, PB_C2S, 7.0, PB_NEXT, PB_NEXT);
	pb_ack(&l, &c, PB_S2C, 7.001, PB_NEXT, PB_NEXT);

	/* data after the FIN that the server resets (data after close) */
	conn(&c, i++, 4000, 8000);
	to_fw2(&l, &c, 1.003);
	pb_send(&l, &c, PB_C2S, 3.0, PB_NEXT, PB_NEXT, REQ);
	pb_rst(&l, &c, PB_S2C, 3.001, PB_NEXT);

	/* data after the FIN that the client itself resets before any ACK:
	 * the client is flagged after the park, its timeline goes back to
	 * the SYN (head) and ends with the RST (tail) */
	conn(&c, i++, 5000, 9000);
	to_fw2(&l, &c, 1.004);
	pb_data(&l, &c, PB_C2S, 4.0, PB_NEXT, PB_NEXT, NULL, 700);
	pb_data(&l, &c, PB_C2S, 4.0005, PB_NEXT, PB_NEXT, NULL, 700);
	pb_rstack(&l, &c, PB_C2S, 4.001, PB_NEXT, PB_NEXT);

	/* the server's RST long after (its FIN_WAIT_2 timer) */
	conn(&c, i++, 6000, 10000);
	to_fw2(&l, &c, 1.005);
	pb_rstack(&l, &c, PB_S2C, 61.5, PB_NEXT, PB_NEXT);

	/* the client's RST */
	conn(&c, i++, 7000, 11000);
	to_fw2(&l, &c, 1.006);
	pb_rst(&l, &c, PB_C2S, 8.0, PB_NEXT);

	/* the server's FIN again, ACKed again, then nothing */
	conn(&c, i++, 8000, 12000);
	to_fw2(&l, &c, 1.007);
	memset(&s, 0, sizeof(s));
	s.dir = PB_S2C;
	s.t = 2.0;
	s.flags = PB_FIN | PB_ACK;
	s.seq = 1 + 43;          /* the FIN's own seq (after 43 response bytes) */
	s.ack = PB_NEXT;
	s.win = -1;
	assert_int_equal(pb_seg(&l, &c, &s), 0);
	pb_ack(&l, &c, PB_C2S, 2.01, PB_NEXT, PB_NEXT);

	/* a new SYN on the tuple (another ISN): the holder ends there */
	conn(&c, i++, 9000, 13000);
	to_fw2(&l, &c, 1.008);
	conn(&c, i - 1, 9500, 13500);
	pb_syn(&l, &c, 9.0);
	pb_synack(&l, &c, 9.01);

	/* a long exchange first (the timeline's tail ring in use), then
	 * the FIN, then the client's data and FIN */
	conn(&c, i++, 10000, 14000);
	pb_syn(&l, &c, 1.009);
	pb_synack(&l, &c, 1.019);
	pb_ack(&l, &c, PB_C2S, 1.029, PB_NEXT, PB_NEXT);
	for (k = 0; k < 12; k++) {
		pb_data(&l, &c, PB_S2C, 1.03 + k * 0.001, PB_NEXT, PB_NEXT, NULL, 1000);
		pb_ack(&l, &c, PB_C2S, 1.0305 + k * 0.001, PB_NEXT, PB_NEXT);
	}
	pb_fin(&l, &c, PB_S2C, 1.05, PB_NEXT, PB_NEXT);
	pb_ack(&l, &c, PB_C2S, 1.06, PB_NEXT, PB_NEXT);
	pb_data(&l, &c, PB_C2S, 12.0, PB_NEXT, PB_NEXT, NULL, 300);
	pb_fin(&l, &c, PB_C2S, 12.5, PB_NEXT, PB_NEXT);

	/* a packet stamped before the holder's last one (timestamps that
	 * step back), then its RST */
	conn(&c, i++, 11000, 15000);
	to_fw2(&l, &c, 20.0);
	pb_data(&l, &c, PB_C2S, 20.030, PB_NEXT, PB_NEXT, NULL, 10);
	pb_rstack(&l, &c, PB_C2S, 20.031, PB_NEXT, PB_NEXT);

	/* IPv6, and the client (not the server) in FIN_WAIT_2: the client
	 * closes first, the server ACKs and keeps sending */
	assert_int_equal(pb_conn_init(&c, "fd00::7", 41000, "fd00::1", 443, 12000, 16000), 0);
	pb_syn(&l, &c, 1.010);
	pb_synack(&l, &c, 1.020);
	pb_ack(&l, &c, PB_C2S, 1.030, PB_NEXT, PB_NEXT);
	pb_fin(&l, &c, PB_C2S, 1.040, PB_NEXT, PB_NEXT);
	pb_ack(&l, &c, PB_S2C, 1.050, PB_NEXT, PB_NEXT);
	pb_data(&l, &c, PB_S2C, 2.0, PB_NEXT, PB_NEXT, NULL, 500);
	pb_ack(&l, &c, PB_C2S, 2.01, PB_NEXT, PB_NEXT);
	pb_rstack(&l, &c, PB_S2C, 3.0, PB_NEXT, PB_NEXT);

	pb_sort(&l);
	assert_int_equal(same_both_ways(&l, &cfg, true, &parks, &unparks), i + 2 /* the new SYN, IPv6 */);
	print_message("# %llu parks, %llu unparks\n", (unsigned long long)parks,
	              (unsigned long long)unparks);
	assert_true(parks >= i + 1);
	assert_true(unparks >= i);
	(void)same_both_ways(&l, &cfg, false, NULL, NULL);
	pb_list_free(&l);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

/* 400 connections brought to FIN_WAIT_2 (the server's, or now and then
 * the client's), then 40,000 random segments among them: the peer's FIN,
 * data from either side (in order, ahead of a hole, or old), RSTs with
 * and without ACK and any seq, SYNs, any flags, ACK fields moving on;
 * time steps forward, now and then far, now and then back. A small
 * timeline, so its tail ring wraps. Both ways give the same, with and
 * without records. */
static void test_random_same_as_whole(void **state)
{
	enum { TUPLES = 400, PACKETS = 40000 };
	static struct pb_conn cs[TUPLES];
	struct az_config cfg = { .max_retained = 100, .timeline_head = 5, .timeline_tail = 4 };
	struct pb_list l;
	double t = 1000.0;
	uint64_t parks, unparks;
	size_t i, n;
	(void)state;

	pb_list_init(&l, PB_DLT_RAW);
	for (i = 0; i < TUPLES; i++) {
		conn(&cs[i], (unsigned)i, rnd(), rnd());
		cs[i].timestamps = i % 4 == 0;
		cs[i].sack_permitted = i % 3 != 0;
		if (i % 7 == 0) {
			/* the client closes first */
			pb_syn(&l, &cs[i], t);
			pb_synack(&l, &cs[i], t + 0.001);
			pb_ack(&l, &cs[i], PB_C2S, t + 0.002, PB_NEXT, PB_NEXT);
			pb_fin(&l, &cs[i], PB_C2S, t + 0.003, PB_NEXT, PB_NEXT);
			pb_ack(&l, &cs[i], PB_S2C, t + 0.004, PB_NEXT, PB_NEXT);
		} else {
			to_fw2(&l, &cs[i], t);
		}
		t += 0.0001;
	}
	t += 1.0;
	for (i = 0; i < PACKETS; i++) {
		size_t tu = rnd() % TUPLES;
		struct pb_conn *c = &cs[tu];
		uint32_t r = rnd(), what = rnd() % 16;
		int side = (int)(rnd() & 1);
		struct pb_seg s;

		t += r % 997 == 0 ? 30.0 : r % 89 == 0 ? -0.003 : 0.0004;
		memset(&s, 0, sizeof(s));
		s.t = t;
		s.win = -1;
		s.dir = side ? PB_S2C : PB_C2S;
		s.seq = PB_NEXT;
		s.ack = PB_NEXT;
		if (what < 4) {
			/* in-order data */
			s.flags = PB_ACK | PB_PSH;
			s.len = 1 + rnd() % 600;
		} else if (what < 6) {
			/* a FIN */
			s.flags = PB_FIN | PB_ACK;
		} else if (what < 8) {
			/* an ACK */
			s.flags = PB_ACK;
		} else if (what == 8) {
			s.flags = PB_RST;
			s.seq = rnd() % 4000;
		} else if (what == 9) {
			s.flags = PB_RST | PB_ACK;
		} else if (what == 10) {
			/* ahead of a hole */
			s.flags = PB_ACK | PB_PSH;
			s.seq = c->snd_nxt[side] + 1 + rnd() % 3000;
			s.len = 1 + rnd() % 300;
		} else if (what == 11) {
			/* old data again */
			s.flags = PB_ACK;
			s.seq = rnd() % 2000;
			s.len = rnd() % 200;
		} else if (what == 12) {
			s.flags = PB_SYN;
			s.seq = 0;
			s.dir = PB_C2S;
		} else {
			s.flags = (uint8_t)(rnd() & 0x1f);
			s.seq = rnd() % 5000;
			s.ack = rnd() % 5000;
			if (rnd() % 2)
				s.len = rnd() % 400;
		}
		assert_int_equal(pb_seg(&l, c, &s), 0);
	}
	n = same_both_ways(&l, &cfg, true, &parks, &unparks);
	print_message("# %zu connections the same both ways (%llu parks, %llu unparks)\n", n,
	              (unsigned long long)parks, (unsigned long long)unparks);
	assert_true(n >= TUPLES);
	assert_true(parks > 1000);
	assert_true(unparks > 1000);
	n = same_both_ways(&l, &cfg, false, NULL, NULL);
	assert_true(n >= TUPLES);
	pb_list_free(&l);
}

/* The FIN_WAIT_2 bench in small: N holders, one after the other, with
 * records wanted, parked only when a slot would make the pools grow
 * (COMPACT_AUTO, the default). By the store's own accounting (its peak:
 * a 64-byte record, the image, the table) each takes under 256 bytes, so
 * a million fit in 256 MiB (bench/memory.sh measures that run); nothing
 * was ended early, all N are in FIN_WAIT_2 to the end. Tracked whole
 * (COMPACT_NEVER, 10,000 of them) each took over 2 KB. */
static void test_parked_fit(void **state)
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
		conn(&c, i, i * 7919u, i * 104729u);
		to_fw2(&l, &c, 1.7e9 + i * 1e-4);
		if (i < N_WHOLE) {
			conn(&c, i, i * 7919u, i * 104729u);
			to_fw2(&lw, &c, 1.7e9 + i * 1e-4);
		}
	}
	pb_sort(&l);
	pb_sort(&lw);
	az = analyze(&l, COMPACT_AUTO, &r, &cfg, true);
	(void)az_memory(az, &peak);
	print_message("# %d FIN_WAIT_2 holders: store peak %zu bytes (%zu each), %llu parked\n",
	              N, peak, peak / N, (unsigned long long)az->n_parks);
	assert_true(peak <= (size_t)N * 256);
	assert_true(az->n_parks > N - 1000);
	assert_int_equal(r.n, N);
	assert_int_equal(az_totals(az)->evicted, 0);
	assert_int_equal(az_fw2(az, AZ_SERVER)->count, N);
	assert_int_equal(az_fw2(az, AZ_SERVER)->endings[AZ_FW2_CAPTURE_END], N);
	free(r.c);
	az_free(az);

	az = analyze(&lw, COMPACT_NEVER, &r, &cfg, true);
	(void)az_memory(az, &peak_whole);
	print_message("# tracked whole: %zu bytes for %d (%zu each)\n", peak_whole, N_WHOLE,
	              peak_whole / N_WHOLE);
	assert_true(peak_whole > (size_t)N_WHOLE * 2048);
	assert_int_equal(r.n, N_WHOLE);
	free(r.c);
	az_free(az);
	pb_list_free(&l);
	pb_list_free(&lw);
}

/* Under a memory bound too small for them all (3 MiB): holders are
 * parked while the bound allows, then the first parked are ended (the
 * connections in progress, one at a time here, are not touched), each
 * counted once, as an evicted FIN_WAIT_2 holder; the store stays within
 * its bound, and the same capture gives the same counts every time (the
 * images are made of the connection's bytes only). */
static void test_parked_evicted_last(void **state)
{
	enum { N = 30000 };
	struct az_config cfg = { .max_memory = (size_t)3 << 20 };
	struct pb_list l;
	struct pb_conn c;
	struct rec r;
	struct az *az;
	unsigned i;
	(void)state;

	pb_list_init(&l, PB_DLT_RAW);
	for (i = 0; i < N; i++) {
		conn(&c, i, i * 13u, i * 17u);
		to_fw2(&l, &c, 1.7e9 + i * 0.05);
	}
	pb_sort(&l);
	az = analyze(&l, COMPACT_AUTO, &r, &cfg, true);
	print_message("# %zu records, %llu evicted (%llu FIN_WAIT_2), %llu parked\n", r.n,
	              (unsigned long long)az_totals(az)->evicted,
	              (unsigned long long)az_totals(az)->evicted_fin_wait_2,
	              (unsigned long long)az->n_parks);
	assert_int_equal(az_totals(az)->connections, N);
	assert_int_equal(r.n, N);
	assert_true(az->n_parks > 10000);
	assert_true(az_totals(az)->evicted_fin_wait_2 > 10000);
	assert_int_equal(az_totals(az)->evicted, az_totals(az)->evicted_fin_wait_2);
	assert_true(az_totals(az)->evicted < N);
	assert_true(az_memory(az, NULL) <= cfg.max_memory);
	/* every holder was in FIN_WAIT_2 once, ended by the bound (capture
	 * end, for the record) or by the capture's end */
	assert_int_equal(az_fw2(az, AZ_SERVER)->count, N);
	free(r.c);
	az_free(az);
	pb_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcomes_same_as_whole),
		cmocka_unit_test(test_random_same_as_whole),
		cmocka_unit_test(test_parked_fit),
		cmocka_unit_test(test_parked_evicted_last),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
