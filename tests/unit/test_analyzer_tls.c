/*
 * test_analyzer_tls.c - TLS record boundaries without keys
 * (analyzer/tls.c), and what a finding says about them.
 *
 *  - records whose headers and bodies are split across segments anyhow
 *    are found whole, with their types;
 *  - the ServerHello's version: legacy_version alone (1.2), and the
 *    supported_versions extension (1.3); unknown when the bytes kept
 *    end before the extensions do and legacy_version says 1.2;
 *  - a hole in the bytes, a header that breaks the rules, or bytes that
 *    are not TLS at all stop the parse (what was found stays);
 *  - a server RST with an application_data record and an alert record
 *    unacknowledged: the finding counts both, by type, and under TLS 1.2
 *    says an alert record (a close_notify) was among them.
 */
#include "analyzer/tls.h"
#include "tests/unit/analyzer_helpers.h"

/* A ServerHello record choosing `version` (0x0304 through the
 * supported_versions extension); returns its length. */
static size_t server_hello(uint8_t *b, uint16_t version)
{
	size_t n = 0, body;
	b[n++] = 22; b[n++] = 3; b[n++] = 3; b[n++] = 0; b[n++] = 0; /* length later */
	body = n;
	b[n++] = 2; b[n++] = 0; b[n++] = 0; b[n++] = 0;               /* ServerHello, length later */
	b[n++] = 3; b[n++] = 3;                                        /* legacy_version */
	memset(b + n, 0x5a, 32); n += 32;                              /* random */
	b[n++] = 0;                                                    /* session id */
	b[n++] = 0x13; b[n++] = 0x01;                                  /* cipher */
	b[n++] = 0;                                                    /* compression */
	if (version == 0x0304) {
		b[n++] = 0; b[n++] = 6;                                /* extensions */
		b[n++] = 0; b[n++] = 43; b[n++] = 0; b[n++] = 2; b[n++] = 3; b[n++] = 4;
	} else {
		b[n++] = 0; b[n++] = 0;
	}
	size_t rec = n - body, msg = n - body - 4;
	b[3] = (uint8_t)(rec >> 8); b[4] = (uint8_t)rec;
	b[body + 2] = (uint8_t)(msg >> 8); b[body + 3] = (uint8_t)msg;
	return n;
}

static size_t record(uint8_t *b, uint8_t type, uint16_t len)
{
	b[0] = type; b[1] = 3; b[2] = 3; b[3] = (uint8_t)(len >> 8); b[4] = (uint8_t)len;
	memset(b + 5, 0xab, len);
	return 5 + (size_t)len;
}

static void test_split_records(void **st)
{
	(void)st;
	uint8_t buf[2048];
	size_t n = server_hello(buf, 0x0304);
	n += record(buf + n, AZ_TLS_CHANGE_CIPHER_SPEC, 1);
	n += record(buf + n, AZ_TLS_APPLICATION_DATA, 300);
	n += record(buf + n, AZ_TLS_APPLICATION_DATA, 40);
	/* every way of cutting the stream in three gives the same records */
	for (size_t a = 1; a < n; a += 7) {
		for (size_t b = a; b < n; b += 13) {
			struct tls_dir t;
			uint8_t types[8];
			tls_begin(&t, 1000);
			tls_segment(&t, 1000, buf, (uint32_t)a, (uint32_t)a, NULL);
			tls_segment(&t, 1000 + (uint32_t)a, buf + a, (uint32_t)(b - a), (uint32_t)(b - a), NULL);
			tls_segment(&t, 1000 + (uint32_t)b, buf + b, (uint32_t)(n - b), (uint32_t)(n - b), NULL);
			assert_int_equal(t.records, 4);
			assert_int_equal(t.version, 0x0304);
			assert_int_equal(tls_records_in(&t, 1000, 1000 + (uint32_t)n, types, 8), 4);
			assert_int_equal(types[0], AZ_TLS_HANDSHAKE);
			assert_int_equal(types[1], AZ_TLS_CHANGE_CIPHER_SPEC);
			assert_int_equal(types[3], AZ_TLS_APPLICATION_DATA);
			/* only the last record ends past 40 bytes before the end */
			assert_int_equal(tls_records_in(&t, 1000 + (uint32_t)n - 40, 1000 + (uint32_t)n,
			                                 types, 8), 1);
		}
	}
}

static void test_versions(void **st)
{
	(void)st;
	uint8_t buf[256];
	struct tls_dir t;
	size_t n = server_hello(buf, 0x0303);

	tls_begin(&t, 1);
	tls_segment(&t, 1, buf, (uint32_t)n, (uint32_t)n, NULL);
	assert_int_equal(t.version, 0x0303);
	assert_string_equal(az_tls_version_name(t.version), "1.2");
	n = server_hello(buf, 0x0304);
	tls_begin(&t, 1);
	/* the body cut by the snaplen after 35 bytes: too short for the
	 * extensions. A 1.3 ServerHello says 1.2 in legacy_version, so 1.2
	 * there proves nothing: unknown (a 128-byte snaplen cut nginx's TLS
	 * 1.3 ServerHello this way, and lingerlab said "1.2") */
	tls_segment(&t, 1, buf, 40, (uint32_t)n, NULL);
	assert_int_equal(t.version, 0);
	assert_null(az_tls_version_name(t.version));
	assert_int_equal(t.records, 1);
	/* the same cut through a 1.2 ServerHello with no extensions: it
	 * could still be followed by extensions, so unknown too ... */
	n = server_hello(buf, 0x0303);
	tls_begin(&t, 1);
	tls_segment(&t, 1, buf, (uint32_t)n - 3, (uint32_t)n, NULL);
	assert_int_equal(t.version, 0);
	/* ... but a legacy_version below 1.2 decides, cut or not (a 1.3
	 * ServerHello always says 1.2 there) */
	n = server_hello(buf, 0x0303);
	buf[5 + 4] = 3; buf[5 + 5] = 1;
	tls_begin(&t, 1);
	tls_segment(&t, 1, buf, 20, (uint32_t)n, NULL);
	assert_int_equal(t.version, 0x0301);
	/* a whole 1.2 ServerHello with no extensions block at all */
	n = server_hello(buf, 0x0303);
	buf[3] = 0; buf[4] = (uint8_t)(buf[4] - 2);  /* record length */
	buf[5 + 3] = (uint8_t)(buf[5 + 3] - 2);      /* message length */
	n -= 2;
	tls_begin(&t, 1);
	tls_segment(&t, 1, buf, (uint32_t)n, (uint32_t)n, NULL);
	assert_int_equal(t.version, 0x0303);
	assert_int_equal(t.records, 1);
}

/* A 1.3 ServerHello whose supported_versions comes after a key share
 * too big for the bytes kept (TLS_HELLO_MAX): the version is unknown,
 * not the legacy 1.2. With the key share small, 1.3 is found. */
static void test_hello_long_key_share(void **st)
{
	(void)st;
	uint8_t b[1400];
	size_t n = 0, body, k;

	for (k = 0; k < 2; k++) {
		size_t share = k == 0 ? 1124 : 36;
		struct tls_dir t;

		n = 0;
		b[n++] = 22; b[n++] = 3; b[n++] = 3; b[n++] = 0; b[n++] = 0;
		body = n;
		b[n++] = 2; b[n++] = 0; b[n++] = 0; b[n++] = 0;
		b[n++] = 3; b[n++] = 3;
		memset(b + n, 0x5a, 32); n += 32;
		b[n++] = 0;
		b[n++] = 0x13; b[n++] = 0x02;
		b[n++] = 0;
		b[n++] = (uint8_t)((4 + share + 6) >> 8); b[n++] = (uint8_t)(4 + share + 6);
		b[n++] = 0; b[n++] = 51;                       /* key_share */
		b[n++] = (uint8_t)(share >> 8); b[n++] = (uint8_t)share;
		memset(b + n, 0x77, share); n += share;
		b[n++] = 0; b[n++] = 43; b[n++] = 0; b[n++] = 2; b[n++] = 3; b[n++] = 4;
		b[3] = (uint8_t)((n - body) >> 8); b[4] = (uint8_t)(n - body);
		b[body + 2] = (uint8_t)((n - body - 4) >> 8); b[body + 3] = (uint8_t)(n - body - 4);
		tls_begin(&t, 1);
		tls_segment(&t, 1, b, (uint32_t)n, (uint32_t)n, NULL);
		assert_int_equal(t.records, 1);
		assert_int_equal(t.version, k == 0 ? 0 : 0x0304);
	}
}

static void test_stops(void **st)
{
	(void)st;
	uint8_t buf[512];
	struct tls_dir t;
	uint8_t types[8];
	size_t n = record(buf, AZ_TLS_APPLICATION_DATA, 100);

	/* not TLS: an HTTP request */
	tls_begin(&t, 1);
	tls_segment(&t, 1, (const uint8_t *)"GET / HTTP/1.1\r\n", 16, 16, NULL);
	assert_false(tls_seen(&t));
	tls_segment(&t, 17, buf, (uint32_t)n, (uint32_t)n, NULL);
	assert_false(tls_seen(&t));
	/* a hole: the second record starts past the next expected byte */
	tls_begin(&t, 1);
	tls_segment(&t, 1, buf, (uint32_t)n, (uint32_t)n, NULL);
	tls_segment(&t, 1 + (uint32_t)n + 10, buf, (uint32_t)n, (uint32_t)n, NULL);
	assert_int_equal(t.records, 1);
	assert_int_equal(tls_records_in(&t, 1, 5000, types, 8), 1);
	/* a length beyond any record */
	tls_begin(&t, 1);
	uint8_t bad[5] = { 23, 3, 3, 0xff, 0xff };
	tls_segment(&t, 1, bad, 5, 5, NULL);
	assert_false(tls_seen(&t));
	/* a retransmission of what was parsed changes nothing */
	tls_begin(&t, 1);
	tls_segment(&t, 1, buf, (uint32_t)n, (uint32_t)n, NULL);
	tls_segment(&t, 1, buf, (uint32_t)n, (uint32_t)n, NULL);
	assert_int_equal(t.records, 1);
}

/* The server sends its response and a close_notify as two records and
 * resets before the client has ACKed either. */
static void test_finding(void **st)
{
	(void)st;
	struct pb_conn pc;
	struct pb_list l;
	struct run r;
	uint8_t hello[256], recs[600];
	size_t nh = server_hello(hello, 0x0303), nr;

	nr = record(recs, AZ_TLS_APPLICATION_DATA, 400);
	nr += record(recs + nr, AZ_TLS_ALERT, 26);
	pb_list_init(&l, PB_DLT_EN10MB);
	assert_int_equal(pb_conn_init(&pc, "10.0.0.1", 40000, "10.0.0.2", 443, 1000, 5000), 0);
	assert_int_equal(pb_syn(&l, &pc, 0.0), 0);
	assert_int_equal(pb_synack(&l, &pc, 0.001), 0);
	assert_int_equal(pb_ack(&l, &pc, PB_C2S, 0.002, 1, 1), 0);
	uint8_t ch[64];
	size_t nc = record(ch, AZ_TLS_HANDSHAKE, 50);
	ch[5] = 1; /* ClientHello */
	assert_int_equal(pb_data(&l, &pc, PB_C2S, 0.003, 1, 1, ch, (uint32_t)nc), 0);
	assert_int_equal(pb_data(&l, &pc, PB_S2C, 0.004, 1, 1 + (uint32_t)nc, hello, (uint32_t)nh), 0);
	assert_int_equal(pb_ack(&l, &pc, PB_C2S, 0.005, 1 + (uint32_t)nc, 1 + (uint32_t)nh), 0);
	assert_int_equal(pb_data(&l, &pc, PB_C2S, 0.006, 1 + (uint32_t)nc, 1 + (uint32_t)nh, ch, (uint32_t)nc), 0);
	uint32_t c_end = 1 + 2 * (uint32_t)nc, s_at = 1 + (uint32_t)nh;
	assert_int_equal(pb_data(&l, &pc, PB_S2C, 0.007, s_at, c_end, recs, (uint32_t)nr), 0);
	assert_int_equal(pb_rstack(&l, &pc, PB_S2C, 0.0071, s_at + (uint32_t)nr, c_end), 0);
	run_list(&r, &l, NULL);
	const struct az_rst_finding *f = one_finding(&r);
	assert_true(f->tls);
	assert_int_equal(f->tls_version, 0x0303);
	assert_int_equal(f->tls_records_at_risk, 2);
	assert_int_equal(f->tls_types[0], AZ_TLS_APPLICATION_DATA);
	assert_int_equal(f->tls_types[1], AZ_TLS_ALERT);
	const struct az_conn *c = run_conn(&r, 1);
	assert_int_equal(c->tls_records_c2s, 2);
	assert_int_equal(c->tls_records_s2c, 3);
	assert_int_equal(c->tls_version, 0x0303);
	pb_list_free(&l);
	az_free(r.az);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_records),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_hello_long_key_share),
		cmocka_unit_test(test_stops),
		cmocka_unit_test(test_finding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
