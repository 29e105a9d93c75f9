/*
 * test_analyzer_zeek.c - Zeek's conn_state and history (analyzer/zeek.c)
 * for the teardowns Zeek's own documentation and test suite name: each
 * case is a packet sequence and the two strings Zeek writes for it,
 * worked out from Zeek's TCP session adapter (see zeek.c).
 *
 * Packets are fed to struct zk directly (zk_init on the first, zk_packet
 * on each), then once more through the whole analyzer for a case, so the
 * record and the summary count carry the same answer.
 */
#include "analyzer/seq.h"
#include "analyzer/zeek.h"
#include "tests/unit/analyzer_helpers.h"

enum { C = 1, S = 0 }; /* sender: client (the key's lo end) or server */
#define F_ LL_TH_FIN
#define S_ LL_TH_SYN
#define R_ LL_TH_RST
#define A_ LL_TH_ACK

struct pk {
	int from;
	uint8_t fl;
	uint32_t seq, ack, len;
	uint16_t win;
};

/* client ISN 1000, server ISN 5000; ports 40000 -> 80 unless given */
static void run(const struct pk *p, size_t n, uint16_t cport, uint16_t sport,
                struct zk *z)
{
	for (size_t i = 0; i < n; i++) {
		struct dec_tcp s;
		memset(&s, 0, sizeof s);
		s.af = 4;
		s.flags = p[i].fl;
		s.seq = p[i].seq;
		s.ack = p[i].ack;
		s.seg_len = p[i].len;
		s.win = p[i].win ? p[i].win : 1000;
		s.sport = p[i].from == C ? cport : sport;
		s.dport = p[i].from == C ? sport : cport;
		if (i == 0)
			zk_init(z, &s, p[i].from == C);
		zk_packet(z, &s, p[i].from == C);
	}
}

static void expect(const struct pk *p, size_t n, const char *state, const char *hist)
{
	struct zk z;
	run(p, n, 40000, 80, &z);
	assert_string_equal(az_zeek_state_name(zk_state(&z)), state);
	assert_string_equal(z.h, hist);
}
#define EXPECT(arr, st, h) expect(arr, sizeof arr / sizeof arr[0], st, h)

/* the handshake and one request/response */
#define HS \
	{ C, S_, 1000, 0, 0, 0 }, { S, S_ | A_, 5000, 1001, 0, 0 }, \
	{ C, A_, 1001, 5001, 0, 0 }, { C, A_, 1001, 5001, 10, 0 }, \
	{ S, A_, 5001, 1011, 0, 0 }, { S, A_, 5001, 1011, 20, 0 }, \
	{ C, A_, 1011, 5021, 0, 0 }

static void test_sf_server_closes(void **st)
{
	(void)st;
	static const struct pk p[] = {
		HS,
		{ S, F_ | A_, 5021, 1011, 0, 0 }, { C, A_, 1011, 5022, 0, 0 },
		{ C, F_ | A_, 1011, 5022, 0, 0 }, { S, A_, 5022, 1012, 0, 0 },
	};
	EXPECT(p, "SF", "ShADadfF");
}

static void test_s1_and_s2_s3(void **st)
{
	(void)st;
	static const struct pk open[] = { HS };
	static const struct pk s2[] = { HS, { C, F_ | A_, 1011, 5021, 0, 0 } };
	static const struct pk s3[] = { HS, { S, F_ | A_, 5021, 1011, 0, 0 } };
	EXPECT(open, "S1", "ShADad");
	EXPECT(s2, "S2", "ShADadF");
	EXPECT(s3, "S3", "ShADadf");
}

static void test_attempts(void **st)
{
	(void)st;
	static const struct pk s0[] = { { C, S_, 1000, 0, 0, 0 }, { C, S_, 1000, 0, 0, 0 } };
	static const struct pk s0new[] = { { C, S_, 1000, 0, 0, 0 }, { C, S_, 7000, 0, 0, 0 } };
	static const struct pk rej[] = { { C, S_, 1000, 0, 0, 0 }, { S, R_ | A_, 0, 1001, 0, 0 } };
	static const struct pk rstos0[] = { { C, S_, 1000, 0, 0, 0 }, { C, R_, 1001, 0, 0, 0 } };
	static const struct pk sh[] = { { C, S_, 1000, 0, 0, 0 }, { C, F_, 1001, 0, 0, 0 } };
	EXPECT(s0, "S0", "S");
	/* a SYN with a new ISN starts the numbering anew (init_endpoint), so
	 * it sits at relative 0 again: no second 'S' */
	EXPECT(s0new, "S0", "S");
	EXPECT(rej, "REJ", "Sr");
	EXPECT(rstos0, "RSTOS0", "SR");
	EXPECT(sh, "SH", "SF");
}

static void test_resets(void **st)
{
	(void)st;
	/* the server resets with the client's request half read; then again
	 * at another sequence number: a second 'r' */
	static const struct pk rstr[] = {
		HS, { S, R_ | A_, 5021, 1011, 0, 0 }, { S, R_, 5030, 0, 0, 0 },
	};
	static const struct pk rsto[] = { HS, { C, R_ | A_, 1011, 5021, 0, 0 } };
	/* the server closes, then resets; the client's FIN comes later:
	 * Zeek turns the RST back into CLOSED (a FIN-then-RST is normal
	 * termination to it) */
	static const struct pk fin_rst[] = {
		HS, { S, F_ | A_, 5021, 1011, 0, 0 }, { S, R_, 5022, 0, 0, 0 },
		{ C, F_ | A_, 1011, 5022, 0, 0 },
	};
	EXPECT(rstr, "RSTR", "ShADadrr");
	EXPECT(rsto, "RSTO", "ShADadR");
	EXPECT(fin_rst, "SF", "ShADadfrF");
}

static void test_flips(void **st)
{
	(void)st;
	/* the capture starts at the SYN-ACK from port 80: the roles flip at
	 * once ('^'), the server's letters are lower case */
	static const struct pk synack_first[] = {
		{ S, S_ | A_, 5000, 1001, 0, 0 }, { C, A_, 1001, 5001, 0, 0 },
		{ C, A_, 1001, 5001, 10, 0 }, { S, A_, 5001, 1011, 20, 0 },
	};
	/* midstream, from the client: no flip, both partial */
	static const struct pk mid[] = {
		{ C, A_, 1011, 5021, 10, 0 }, { S, A_, 5021, 1021, 20, 0 },
	};
	EXPECT(synack_first, "S1", "^hADd");
	EXPECT(mid, "OTH", "Dd");
}

static void test_scaled_letters(void **st)
{
	(void)st;
	struct pk p[40] = { HS };
	size_t n = 7;
	/* ten retransmissions of the client's request: 'T' at the 1st and
	 * the 10th; a zero window from the server once: 'w' */
	for (int i = 0; i < 10; i++)
		p[n++] = (struct pk){ C, A_, 1001, 5021, 10, 0 };
	p[n++] = (struct pk){ S, A_, 5021, 1011, 0, 0 };
	p[n - 1].win = 0;
	p[n] = p[n - 1];
	p[n].win = 0;
	n++;
	/* win 0 is read as "default" by run(): set it after */
	struct zk z;
	run(p, n - 2, 40000, 80, &z);
	assert_string_equal(z.h, "ShADadTT");
	struct dec_tcp s;
	memset(&s, 0, sizeof s);
	s.af = 4;
	s.flags = A_;
	s.seq = 5021;
	s.ack = 1011;
	s.sport = 80;
	s.dport = 40000;
	zk_packet(&z, &s, false);
	zk_packet(&z, &s, false);
	assert_string_equal(z.h, "ShADadTTw");
	assert_string_equal(az_zeek_state_name(zk_state(&z)), "S1");
}

static void test_gap(void **st)
{
	(void)st;
	/* the server's first 100 bytes never reach the capture, and the
	 * client ACKs past them: a content gap in the server's data */
	static const struct pk p[] = {
		{ C, S_, 1000, 0, 0, 0 }, { S, S_ | A_, 5000, 1001, 0, 0 },
		{ C, A_, 1001, 5001, 0, 0 }, { C, A_, 1001, 5001, 10, 0 },
		{ S, A_, 5101, 1011, 50, 0 }, { C, A_, 1011, 5151, 0, 0 },
	};
	/* the same with the hole filled before the ACK: no gap */
	static const struct pk q[] = {
		{ C, S_, 1000, 0, 0, 0 }, { S, S_ | A_, 5000, 1001, 0, 0 },
		{ C, A_, 1001, 5001, 0, 0 }, { C, A_, 1001, 5001, 10, 0 },
		{ S, A_, 5101, 1011, 50, 0 }, { S, A_, 5001, 1011, 100, 0 },
		{ C, A_, 1011, 5151, 0, 0 },
	};
	/* the client's pure ACK adds no 'A': it had one in the handshake */
	EXPECT(p, "S1", "ShADdg");
	/* ...and the late fill, below the highest sequence number seen, is
	 * a retransmission to Zeek ('t') */
	EXPECT(q, "S1", "ShADdt");
}

static void test_odd_flags(void **st)
{
	(void)st;
	static const struct pk finrst[] = { HS, { C, F_ | R_ | A_, 1011, 5021, 0, 0 } };
	static const struct pk synfin[] = { { C, S_ | F_, 1000, 0, 0, 0 } };
	/* FIN+RST: 'I', and the RST resets the sender (its FIN does not
	 * count with a RST) */
	EXPECT(finrst, "RSTO", "ShADadI");
	/* SYN+FIN: 'Q'; the SYN makes it SYN_SENT, the FIN then CLOSED */
	EXPECT(synfin, "SH", "Q");
}

/* A zero window in the ACK of the peer's FIN: no 'w' (Zeek writes none
 * after the peer's FIN), though the ACK takes zk_packet()'s short path
 * (both ends established or closed). */
static void test_zero_window_after_fin(void **st)
{
	(void)st;
	static const struct pk p[] = {
		HS, { S, F_ | A_, 5021, 1011, 0, 0 },
	};
	struct zk z;
	struct dec_tcp s;

	run(p, sizeof p / sizeof p[0], 40000, 80, &z);
	assert_string_equal(z.h, "ShADadf");
	memset(&s, 0, sizeof s);
	s.af = 4;
	s.flags = A_;
	s.seq = 1011;
	s.ack = 5022;
	s.sport = 40000;
	s.dport = 80;
	zk_packet(&z, &s, true); /* win 0 */
	assert_string_equal(z.h, "ShADadf");
	/* the server's zero window before the client's FIN still counts */
	s.seq = 5022;
	s.ack = 1011;
	s.sport = 80;
	s.dport = 40000;
	zk_packet(&z, &s, false);
	assert_string_equal(z.h, "ShADadfw");
	assert_string_equal(az_zeek_state_name(zk_state(&z)), "S3");
}

/* zk_packet()'s short path (zk_established) is the long one with the
 * branches that cannot apply taken out: over many random packet
 * sequences (handshakes, data, retransmissions, holes, zero windows,
 * FINs, the odd RST), feeding every packet to zk_packet_slow() gives the
 * same struct zk, byte for byte, after every packet. */
static uint32_t rnd_state = 12345;
static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static void test_short_path_is_exact(void **st)
{
	(void)st;
	size_t fast_taken = 0;

	for (int run_i = 0; run_i < 20000; run_i++) {
		struct zk a, b;
		uint32_t nxt[2] = { 1000, 5000 }; /* [C], [S] */
		int n = 2 + (int)rnd(24);

		for (int i = 0; i < n; i++) {
			struct dec_tcp s;
			int from = (int)rnd(2);
			uint32_t r = rnd(100);

			memset(&s, 0, sizeof s);
			s.af = 4;
			if (i == 0 && rnd(8) != 0) {
				from = C;
				s.flags = S_;
			} else if (i == 1 && rnd(8) != 0) {
				from = S;
				s.flags = S_ | A_;
			} else if (r < 55) {
				s.flags = A_;
			} else if (r < 80) {
				s.flags = F_ | A_;
			} else if (r < 85) {
				s.flags = R_ | (rnd(2) ? A_ : 0);
			} else if (r < 90) {
				s.flags = (uint8_t)rnd(32); /* anything */
			} else {
				s.flags = A_;
			}
			s.sport = from == C ? 40000 : 80;
			s.dport = from == C ? 80 : 40000;
			s.seq = nxt[from == C] - (rnd(6) == 0 ? rnd(40) : 0) +
			        (rnd(8) == 0 ? rnd(100) : 0);
			s.ack = nxt[from != C] + (rnd(5) == 0 ? rnd(3) : 0) -
			        (rnd(6) == 0 ? rnd(30) : 0);
			s.seg_len = rnd(3) == 0 ? rnd(50) : 0;
			s.win = rnd(6) == 0 ? 0 : 1000;
			if (s.flags & S_)
				s.seq = from == C ? 1000 : 5000;
			if (seq_after(s.seq + s.seg_len + !!(s.flags & (S_ | F_)), nxt[from == C]))
				nxt[from == C] = s.seq + s.seg_len + !!(s.flags & (S_ | F_));
			if (i == 0) {
				zk_init(&a, &s, from == C);
				zk_init(&b, &s, from == C);
			}
			{
				const struct zk_end *e = &a.e[from == C ? 0 : 1];
				const struct zk_end *pe = &a.e[from == C ? 1 : 0];
				if ((s.flags & (S_ | F_ | R_ | A_)) == A_ &&
				    (((1u << e->state) | (1u << pe->state)) & ~ZK_FAST_STATES) == 0)
					fast_taken++;
			}
			zk_packet(&a, &s, from == C);
			zk_packet_slow(&b, &s, from == C);
			assert_memory_equal(&a, &b, sizeof a);
		}
	}
	/* the short path was taken often, with ends closed too */
	assert_true(fast_taken > 20000);
}

/* Through the whole analyzer: the record and the summary agree. */
static void test_through_analyzer(void **st)
{
	(void)st;
	struct pb_conn pc;
	struct pb_list l;
	struct run r;

	pb_list_init(&l, PB_DLT_EN10MB);
	assert_int_equal(pb_conn_init(&pc, "10.0.0.1", 40000, "10.0.0.2", 80, 1000, 5000), 0);
	assert_int_equal(pb_syn(&l, &pc, 0.0), 0);
	assert_int_equal(pb_synack(&l, &pc, 0.001), 0);
	assert_int_equal(pb_ack(&l, &pc, PB_C2S, 0.002, 1, 1), 0);
	assert_int_equal(pb_data(&l, &pc, PB_C2S, 0.01, 1, 1, NULL, 10), 0);
	assert_int_equal(pb_fin(&l, &pc, PB_S2C, 0.02, 1, 11), 0);
	assert_int_equal(pb_rstack(&l, &pc, PB_C2S, 0.03, 11, 2), 0);
	run_list(&r, &l, NULL);
	assert_int_equal(r.n, 1);
	const struct az_conn *c = run_conn(&r, 1);
	assert_string_equal(az_zeek_state_name(c->zeek_state), "RSTO");
	assert_string_equal(c->zeek_history, "ShADfR");
	assert_true(c->zeek_orig_is_client);
	assert_int_equal(az_totals(r.az)->by_zeek_state[AZ_ZK_RSTO], 1);
	assert_int_equal(az_totals(r.az)->connections, 1);
	pb_list_free(&l);
	az_free(r.az);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sf_server_closes),
		cmocka_unit_test(test_s1_and_s2_s3),
		cmocka_unit_test(test_attempts),
		cmocka_unit_test(test_resets),
		cmocka_unit_test(test_flips),
		cmocka_unit_test(test_scaled_letters),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_odd_flags),
		cmocka_unit_test(test_through_analyzer),
		cmocka_unit_test(test_zero_window_after_fin),
		cmocka_unit_test(test_short_path_is_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
