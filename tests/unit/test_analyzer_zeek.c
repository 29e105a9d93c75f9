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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
