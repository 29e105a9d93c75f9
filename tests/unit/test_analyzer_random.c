/*
 * test_analyzer_random.c - 200 000 random segments over a few dozen
 * tuples (random flags, sequence numbers near a handful of bases and
 * anywhere, HTTP-looking and random payload, snaplen cuts, time jumps and
 * small steps backwards): the analyzer must not crash (run it under
 * `make asan`) and its books must balance - every connection summarized
 * once, counts by kind and initiator add up, every FIN_WAIT_2 interval
 * ended exactly once, every finding belongs to a retained connection.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/analyzer_helpers.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static uint64_t seen_ids[1 << 16];
static size_t n_seen;
static bool dup_id;

static void on_conn(const struct az_conn *c, void *arg)
{
	size_t i;
	(void)arg;
	for (i = 0; i < n_seen; i++)
		if (seen_ids[i] == c->id)
			dup_id = true;
	if (n_seen < sizeof(seen_ids) / sizeof(seen_ids[0]))
		seen_ids[n_seen++] = c->id;
}

static const char *const pieces[] = {
	"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	"5\r\nhello\r\n0\r\n\r\n",
	"HEAD / HTTP/1.0\r\n\r\n",
	"HTTP/1.1 100 Continue\r\n\r\n",
	"Content-Length: 99999999999999999999999\r\n",
	"\r\n\r\n",
	"ffffffffffffffff\r\n",
};

static void test_random_segments(void **state)
{
	enum { TUPLES = 40, PACKETS = 200000 };
	static uint32_t base[TUPLES][2];
	struct az_config cfg;
	struct pb_list l;
	struct pb_conn conns[TUPLES];
	struct az *az;
	const struct az_totals *tot;
	const struct az_fw2_summary *fs;
	uint64_t sum;
	uint8_t payload[1600];
	double t = 1000.0;
	size_t i, k;
	int side;
	(void)state;

	memset(&cfg, 0, sizeof(cfg));
	cfg.on_conn = on_conn;
	cfg.max_retained = 50;
	cfg.timeline_head = 5;
	cfg.timeline_tail = 7;
	cfg.max_series = 64;
	az = az_new(&cfg);
	assert_non_null(az);
	for (i = 0; i < TUPLES; i++) {
		char cli[32];
		uint16_t port = (uint16_t)(1024 + i * 3);

		if (i % 2 == 0) {
			snprintf(cli, sizeof(cli), "10.1.%u.%u", (unsigned)(i / 7),
			         (unsigned)(i % 7 + 2));
			assert_int_equal(pb_conn_init(&conns[i], cli, port, "10.1.0.1",
			                              80, 0, 0), 0);
		} else {
			snprintf(cli, sizeof(cli), "fd00::%x", (unsigned)(i + 2));
			assert_int_equal(pb_conn_init(&conns[i], cli, port, "fd00::1",
			                              443, 0, 0), 0);
		}
		base[i][0] = rnd();
		base[i][1] = i % 5 == 0 ? 0xfffffff0u : rnd();
		conns[i].snaplen = i % 3 == 0 ? 80 : 0;
	}
	pb_list_init(&l, PB_DLT_EN10MB);
	for (i = 0; i < PACKETS; i++) {
		size_t tu = rnd() % TUPLES;
		struct pb_seg s;
		uint32_t r = rnd();

		memset(&s, 0, sizeof(s));
		side = (int)(r & 1);
		s.dir = side ? PB_S2C : PB_C2S;
		/* mostly forward in time; sometimes a jump, sometimes a step back */
		t += (r >> 1) % 100 == 0 ? 5.0 : (r >> 1) % 97 == 0 ? -0.001 : 0.0003;
		s.t = t;
		s.flags = (uint8_t)(rnd() & 0x1f);
		if (rnd() % 4)
			s.flags = (uint8_t)((s.flags & ~PB_RST) | PB_ACK); /* RST rarer */
		s.absolute = true;
		s.seq = rnd() % 50 == 0 ? rnd() : base[tu][side] + rnd() % 4000;
		s.ack = rnd() % 50 == 0 ? rnd() : base[tu][!side] + rnd() % 4000;
		s.win = (int32_t)(rnd() & 0xffff);
		if (rnd() % 3 == 0) {
			s.len = 0;
		} else if (rnd() % 2) {
			const char *p = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];
			s.len = (uint32_t)strlen(p);
			s.payload = p;
		} else {
			s.len = rnd() % sizeof(payload);
			for (k = 0; k < s.len; k++)
				payload[k] = (uint8_t)rnd();
			s.payload = payload;
		}
		/* new connections now and then: a fresh SYN with new bases */
		if (rnd() % 500 == 0) {
			base[tu][0] = rnd();
			base[tu][1] = rnd();
			s.flags = PB_SYN;
			s.dir = PB_C2S;
			s.seq = base[tu][0];
			s.len = 0;
		}
		assert_int_equal(pb_seg(&l, &conns[tu], &s), 0);
		az_packet(az, l.dlt, l.frames[0].t, l.frames[0].bytes,
		          l.frames[0].caplen, l.frames[0].wirelen);
		pb_list_free(&l);
		pb_list_init(&l, PB_DLT_EN10MB);
	}
	az_finish(az);
	az_finish(az); /* idempotent */

	tot = az_totals(az);
	print_message("# %llu connections, %llu rst_before_ack, %llu lingered, "
	              "fin_wait_2 %llu/%llu\n",
	              (unsigned long long)tot->connections,
	              (unsigned long long)tot->rst_before_ack,
	              (unsigned long long)tot->lingered,
	              (unsigned long long)az_fw2(az, AZ_SERVER)->count,
	              (unsigned long long)az_fw2(az, AZ_CLIENT)->count);
	assert_false(dup_id);
	assert_int_equal(n_seen, tot->connections);
	assert_int_equal(az_stats(az)->packets, PACKETS);
	for (sum = 0, k = 0; k < AZ_NKINDS; k++)
		sum += tot->by_kind[k];
	assert_int_equal(sum, tot->connections);
	for (sum = 0, k = 0; k < AZ_NINITIATORS; k++)
		sum += tot->by_initiator[k];
	assert_int_equal(sum, tot->connections);
	/* a connection carries up to one finding per sender */
	assert_int_equal(tot->rst_before_ack_by_sender[0] + tot->rst_before_ack_by_sender[1],
	                 tot->rst_before_ack);
	assert_true(tot->retained + tot->not_retained <= tot->rst_before_ack);
	assert_true(2 * (tot->retained + tot->not_retained) >= tot->rst_before_ack);
	for (side = 0; side < 2; side++) {
		for (sum = 0, k = 0; k < AZ_NIMPACTS; k++)
			sum += tot->by_impact[side][k];
		assert_int_equal(sum, tot->rst_before_ack_by_sender[side]);
	}
	assert_true(az_n_retained(az) <= 50);
	for (sum = 0, k = 0; k < az_n_retained(az); k++) {
		const struct az_conn *c = az_retained(az, k);
		const struct az_rst_finding *f;
		int q;
		assert_true(c->finding >= 0);
		assert_true(c->finding == c->finding_of[AZ_SERVER] ||
		            (c->finding_of[AZ_SERVER] < 0 && c->finding == c->finding_of[AZ_CLIENT]));
		for (q = 0; q < 2; q++) {
			if (c->finding_of[q] < 0)
				continue;
			sum++;
			f = az_finding(az, (size_t)c->finding_of[q]);
			assert_non_null(f);
			assert_int_equal(f->conn_id, c->id);
			assert_int_equal(f->sender, q);
			/* the sender's own view decides a finding */
			assert_true(f->bytes_at_risk_at_server > 0);
			assert_true(f->n_fates <= AZ_MAX_RST_FATES && f->n_fates <= f->rsts_total);
			assert_true(f->accepted_rst_packet == 0 || f->impact != AZ_IMPACT_NO_RESET);
		}
		f = az_finding(az, (size_t)c->finding);
		assert_true(f->n_risk_packets <= AZ_MAX_RISK_PACKETS);
		assert_true(c->n_head <= 5 && c->n_tail <= 7);
		if (k > 0)
			assert_true(az_retained(az, k - 1)->id < c->id);
		assert_ptr_equal(az_retained_by_id(az, c->id), c);
	}
	assert_int_equal(sum, az_n_findings(az));
	for (side = 0; side < 2; side++) {
		fs = az_fw2(az, (enum az_side)side);
		for (sum = 0, k = 0; k < AZ_NFW2_ENDS; k++)
			sum += fs->endings[k];
		assert_int_equal(sum, fs->count);
		assert_true(fs->n_series <= 64);
		assert_true(fs->p50 <= fs->p90 && fs->p90 <= fs->max);
		for (k = 0; k < fs->n_series; k++)
			assert_true(fs->series[k].n <= fs->peak);
		if (fs->series_exact && fs->n_series > 0)
			assert_int_equal(fs->series[fs->n_series - 1].n, 0);
	}
	az_free(az);
	pb_list_free(&l);
}

/* ---- records built in the caller's memory (az_config.conn_slot) ------- */

#define SLOT_MAX 8192

struct slot_sink {
	struct az_conn *recs;      /* every record on_conn saw, in order */
	size_t n;
	struct az_conn slots[3];   /* handed out in turn, garbage inside */
	size_t next;
	struct az_conn *given;     /* the slot conn_slot gave last */
	bool wrong_ptr;            /* on_conn saw another pointer */
};

static struct az_conn *sink_slot(void *arg)
{
	struct slot_sink *k = arg;
	k->given = &k->slots[k->next++ % 3];
	/* what an earlier record (or anything) left there */
	memset(k->given, 0xa5, sizeof *k->given);
	return k->given;
}

static void sink_conn(const struct az_conn *c, void *arg)
{
	struct slot_sink *k = arg;
	if (k->given && c != k->given)
		k->wrong_ptr = true;
	k->given = NULL;
	if (k->n < SLOT_MAX)
		k->recs[k->n] = *c;
	k->n++;
}

/* The same random traffic to two analyzers, one building each record in
 * the caller's slot (full of garbage beforehand): the same records in
 * the same order, the slot's pointer handed to on_conn, and the same
 * findings and retained connections (built from that slot). */
static void test_conn_slot(void **state)
{
	enum { TUPLES = 24, PACKETS = 60000 };
	static uint32_t base[TUPLES][2];
	struct pb_conn conns[TUPLES];
	struct slot_sink sk[2];
	struct az *az[2];
	struct pb_list l;
	uint8_t payload[600];
	double t = 1000.0;
	size_t i, k;
	int v;
	(void)state;

	for (v = 0; v < 2; v++) {
		struct az_config cfg;
		memset(&sk[v], 0, sizeof sk[v]);
		sk[v].recs = calloc(SLOT_MAX, sizeof *sk[v].recs);
		assert_non_null(sk[v].recs);
		memset(&cfg, 0, sizeof(cfg));
		cfg.on_conn = sink_conn;
		cfg.conn_slot = v ? sink_slot : NULL;
		cfg.arg = &sk[v];
		cfg.timeline_head = 3;
		cfg.timeline_tail = 3;
		az[v] = az_new(&cfg);
		assert_non_null(az[v]);
	}
	for (i = 0; i < TUPLES; i++) {
		char cli[32];
		snprintf(cli, sizeof(cli), "10.2.%u.%u", (unsigned)(i / 7), (unsigned)(i % 7 + 2));
		assert_int_equal(pb_conn_init(&conns[i], cli, (uint16_t)(2000 + i), "10.2.0.1",
		                              80, 0, 0), 0);
		base[i][0] = rnd();
		base[i][1] = rnd();
	}
	pb_list_init(&l, PB_DLT_EN10MB);
	for (i = 0; i < PACKETS; i++) {
		size_t tu = rnd() % TUPLES;
		struct pb_seg s;
		int side = (int)(rnd() & 1);

		memset(&s, 0, sizeof(s));
		s.dir = side ? PB_S2C : PB_C2S;
		t += rnd() % 200 == 0 ? 5.0 : 0.0003;
		s.t = t;
		s.flags = (uint8_t)(rnd() & 0x1f);
		if (rnd() % 4)
			s.flags = (uint8_t)((s.flags & ~PB_RST) | PB_ACK);
		s.absolute = true;
		s.seq = base[tu][side] + rnd() % 4000;
		s.ack = base[tu][!side] + rnd() % 4000;
		s.win = (int32_t)(rnd() & 0xffff);
		if (rnd() % 2) {
			const char *p = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];
			s.len = (uint32_t)strlen(p);
			s.payload = p;
		} else if (rnd() % 2) {
			s.len = rnd() % sizeof(payload);
			for (k = 0; k < s.len; k++)
				payload[k] = (uint8_t)rnd();
			s.payload = payload;
		}
		if (rnd() % 300 == 0) {
			base[tu][0] = rnd();
			base[tu][1] = rnd();
			s.flags = PB_SYN;
			s.dir = PB_C2S;
			s.seq = base[tu][0];
			s.len = 0;
		}
		assert_int_equal(pb_seg(&l, &conns[tu], &s), 0);
		for (v = 0; v < 2; v++)
			az_packet(az[v], l.dlt, l.frames[0].t, l.frames[0].bytes,
			          l.frames[0].caplen, l.frames[0].wirelen);
		pb_list_free(&l);
		pb_list_init(&l, PB_DLT_EN10MB);
	}
	for (v = 0; v < 2; v++)
		az_finish(az[v]);

	print_message("# %zu records, %zu retained, %zu findings\n", sk[0].n,
	              az_n_retained(az[0]), az_n_findings(az[0]));
	assert_true(sk[0].n > 100 && sk[0].n <= SLOT_MAX);
	assert_true(az_n_retained(az[0]) > 0);
	assert_false(sk[1].wrong_ptr);
	assert_int_equal(sk[1].next, sk[1].n);
	assert_int_equal(sk[0].n, sk[1].n);
	for (i = 0; i < sk[0].n; i++) {
		/* the caller's slot was full of 0xa5: every byte is the record's */
		if (memcmp(&sk[0].recs[i], &sk[1].recs[i], sizeof(struct az_conn)) != 0)
			fail_msg("record %zu (id %llu) differs", i,
			         (unsigned long long)sk[0].recs[i].id);
	}
	assert_int_equal(az_n_findings(az[0]), az_n_findings(az[1]));
	for (i = 0; i < az_n_findings(az[0]); i++)
		assert_memory_equal(az_finding(az[0], i), az_finding(az[1], i),
		                    sizeof(struct az_rst_finding));
	assert_int_equal(az_n_retained(az[0]), az_n_retained(az[1]));
	for (i = 0; i < az_n_retained(az[0]); i++) {
		struct az_conn a = *az_retained(az[0], i), b = *az_retained(az[1], i);
		assert_int_equal(a.n_head, b.n_head);
		assert_int_equal(a.n_tail, b.n_tail);
		same_tl(a.tl_head, b.tl_head, a.n_head);
		same_tl(a.tl_tail, b.tl_tail, a.n_tail);
		a.tl_head = b.tl_head = NULL;
		a.tl_tail = b.tl_tail = NULL;
		assert_memory_equal(&a, &b, sizeof a);
	}
	for (v = 0; v < 2; v++) {
		az_free(az[v]);
		free(sk[v].recs);
	}
	pb_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_segments),
		cmocka_unit_test(test_conn_slot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
