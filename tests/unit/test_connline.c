/*
 * test_connline.c - `analyze --connections` records (reports/connline.h)
 * and their writer thread (reports/connwriter.h): numbers, times and
 * strings come out as jansson writes them, at their edges (0, the
 * largest integers, sub-microsecond and nanosecond times, negative
 * durations, exponents, characters JSON must escape); the longest record
 * there is fits CONNLINE_MAX and equals report_conn() through jansson;
 * the writer keeps the records and their order however many are queued,
 * and reports a failed write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/connline.h"
#include "reports/connwriter.h"
#include "reports/report.h"

static void check_u64(uint64_t v)
{
	char d[24], want[24];

	size_t n = connline_u64(d, v);
	snprintf(want, sizeof want, "%" PRIu64, v);
	assert_int_equal(n, strlen(want));
	d[n] = '\0';
	assert_string_equal(d, want);
}

static void test_u64(void **state)
{
	(void)state;
	for (uint64_t v = 0; v <= 100000; v++)
		check_u64(v);
	/* every power of ten and its neighbours, up to the largest value */
	for (uint64_t p = 10; ; p *= 10) {
		check_u64(p - 1);
		check_u64(p);
		check_u64(p + 1);
		if (p > UINT64_MAX / 10)
			break;
	}
	/* values of every bit length (the digit count comes from it) */
	srand(11);
	for (int bits = 1; bits <= 64; bits++)
		for (int k = 0; k < 500; k++) {
			uint64_t r = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
			uint64_t top = (uint64_t)1 << (bits - 1);
			check_u64(top | (r & (top - 1)));
			check_u64(top | (top - 1));
		}
	check_u64(UINT32_MAX);
	check_u64((uint64_t)UINT32_MAX + 1);
	check_u64(INT64_MAX);
	check_u64(UINT64_MAX - 1);
	check_u64(UINT64_MAX);
	char d[24];
	assert_int_equal(connline_u64(d, UINT64_MAX), 20);
}

/* connline_sec(s) is what jansson prints for report.c's jsec(s). */
static void check_sec(double s)
{
	char d[40];
	size_t n = connline_sec(d, s);

	assert_true(n <= 24);
	d[n] = '\0';
	json_t *v = isfinite(s) ? json_real(round(s * 1e6) / 1e6) : json_null();
	assert_non_null(v);
	char *want = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
	assert_non_null(want);
	if (strcmp(d, want) != 0)
		fail_msg("seconds %.17g: wrote %s, jansson %s", s, d, want);
	free(want);
	json_decref(v);
}

static void test_sec(void **state)
{
	(void)state;
	static const double edge[] = {
		0.0, -0.0, 1e-6, -1e-6, 4.9e-7, 5e-7, 5.1e-7, -4.9e-7, 9e-6, 1e-5,
		1.5e-5, 9.9e-5, 1e-4, 0.000123, 0.1, 0.5, 1, 10, 59.000001, 3600.25,
		86399.999999, 999999.999999, 999999.9999995, 1e6, 1e6 + 1e-6,
		2.5e7, 123456789.123456, 1e12, 1e15, 1e17, 1e21, 1.5e302,
		-1.5e302, -0.5, -1234.000001, 1e-300, -1e-300,
		/* nanosecond precision: rounded to the microsecond */
		1.000000499, 1.000000501, 0.000000999, 42.123456789,
		/* a capture's epoch time (relative times are differences) */
		1763742000.123456,
	};
	for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
		check_sec(edge[i]);
	check_sec(NAN);
	check_sec(INFINITY);
	check_sec(-INFINITY);
	char d[8];
	assert_int_equal(connline_sec(d, NAN), 4);
	assert_memory_equal(d, "null", 4);
	/* s * 1e6 not finite: no JSON number (jansson has none either) */
	assert_int_equal(connline_sec(d, 1.7976931348623157e308), 4);
	assert_memory_equal(d, "null", 4);
	assert_int_equal(connline_sec(d, -1e305), 4);
	assert_memory_equal(d, "null", 4);
	/* every microsecond count around the forms' edges, both signs, and
	 * times between whole microseconds */
	for (long long us = -2000; us <= 2000; us++) {
		check_sec((double)us * 1e-6);
		check_sec((double)us * 1e-6 + 3e-7);
		check_sec((double)us * 1e-6 - 4.99e-7);
		check_sec(999999.0 + (double)us * 1e-6);
	}
	/* a spread of magnitudes */
	srand(7);
	for (int i = 0; i < 20000; i++) {
		double m = (double)rand() / RAND_MAX;
		int e = rand() % 30 - 12;
		check_sec((rand() & 1 ? -1 : 1) * m * pow(10, e));
	}
}

/* connline_str(s) is what jansson writes for json_string(s). */
static void check_str(const char *s)
{
	char d[2 + 6 * 64];
	size_t n = connline_str(d, s, 64);

	assert_true(n <= 2 + 6 * strlen(s));
	d[n] = '\0';
	json_t *v = json_string(s);
	assert_non_null(v);
	char *want = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	assert_string_equal(d, want);
	free(want);
	json_decref(v);
}

static void test_str(void **state)
{
	(void)state;
	check_str("");
	check_str("ShADadfF");
	check_str("^hADFfR");
	check_str("a\"b\\c/d");
	check_str("\b\f\n\r\t");
	check_str("\x01\x02\x1f\x7f end");
	check_str("caf\xc3\xa9 \xe2\x82\xac");
	char all[32];
	for (int i = 0; i < 31; i++)
		all[i] = (char)(i + 1);
	all[31] = '\0';
	check_str(all);
	/* at most max bytes of s */
	char d[16];
	assert_int_equal(connline_str(d, "abcdef", 3), 5);
	assert_memory_equal(d, "\"abc\"", 5);
}

/* the bytes json_dumps gives for report_conn(c, t0, false), with '\n' */
static char *jansson_line(const struct az_conn *c, double t0)
{
	json_t *o = report_conn(c, t0, false);
	assert_non_null(o);
	char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
	assert_non_null(s);
	json_decref(o);
	size_t n = strlen(s);
	char *line = malloc(n + 2);
	assert_non_null(line);
	memcpy(line, s, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	free(s);
	return line;
}

/* Format c into a buffer with a guard past CONNLINE_MAX; check the guard,
 * the length and, when jansson writes the values the same (integers up
 * to INT64_MAX), the bytes. Returns the length. */
static size_t check_record(const struct az_conn *c, double t0, bool vs_jansson)
{
	static struct connline_names nm;
	static char buf[CONNLINE_MAX + 256];

	assert_int_equal(connline_init(&nm), 0);
	memset(buf, 0xa5, sizeof buf);
	size_t n = connline_format(&nm, buf, c, t0);
	assert_true(n > 0 && n <= CONNLINE_MAX);
	for (size_t i = CONNLINE_MAX; i < sizeof buf; i++)
		assert_int_equal((unsigned char)buf[i], 0xa5);
	assert_int_equal(buf[n - 1], '\n');
	assert_null(memchr(buf, '\n', n - 1));
	if (vs_jansson) {
		char *want = jansson_line(c, t0);
		assert_int_equal(n, strlen(want));
		assert_memory_equal(buf, want, n);
		free(want);
	}
	return n;
}

/* Every member at its longest: IPv6, all optional parts present, 16
 * responses, two findings, a history of characters escaped as \u00XX,
 * times printed with exponents, names out of range or the longest. */
static void fill_longest(struct az_conn *c, uint64_t big, uint32_t big32)
{
	memset(c, 0, sizeof *c);
	c->id = big;
	c->af = 6;
	memset(c->client_addr, 0xff, 16);
	memset(c->server_addr, 0xfe, 16);
	c->client_port = c->server_port = 65535;
	c->role_inferred = c->handshake_seen = c->rtt_known = true;
	c->h_s = -1.23456789012345e300;
	c->h_c = 9.87654321098765e299;
	c->first_time = -1.23456789012345e300;
	c->last_time = 1.23456789012345e300;
	c->first_packet = c->last_packet = big;
	struct az_dir *dirs[2] = { &c->c2s, &c->s2c };
	for (int k = 0; k < 2; k++) {
		struct az_dir *d = dirs[k];
		d->data_end = d->fin_seq = d->acked = big32;
		d->fin_seen = d->acked_seen = d->rst_seen = true;
		d->fin_packet = d->rst_packet = d->packets = d->bytes = d->retrans_packets = big;
		d->http_messages = big32;
		d->mss = 65535;
		d->wscale = 127;
		d->sack_permitted = d->timestamps = true;
	}
	c->initiator = (enum az_initiator)AZ_INIT_SIMULTANEOUS;
	c->kind = (enum az_kind)(AZ_NKINDS + 5);         /* "unknown" */
	c->client_end = AZ_ST_SYN_RECEIVED;
	c->server_end = (enum az_state)-1;               /* "UNKNOWN" */
	c->lingered = true;
	c->linger_seconds = -9.99999999999999e299;
	c->linger_bytes = big;
	c->linger_end = (enum az_linger_end)77;
	c->server_fw2 = (struct az_fw2_interval){ true, -1e300, 1e300, AZ_FW2_CAPTURE_END };
	c->client_fw2 = (struct az_fw2_interval){ true, -1.5e299, 2.5e299, (enum az_fw2_end)9 };
	c->http_requests = c->http_responses = c->http_unanswered = big32;
	c->n_responses = AZ_MAX_HTTP_RESPONSES;
	for (int i = 0; i < AZ_MAX_HTTP_RESPONSES; i++)
		c->responses[i] = (struct az_http_response){ .status = 65535, .complete = true,
		                                             .parse_lost = true };
	c->finding = INT32_MAX;
	c->finding_of[AZ_SERVER] = INT32_MAX;
	c->finding_of[AZ_CLIENT] = INT32_MAX - 1;
	c->evicted = true;
	c->tls_records_c2s = c->tls_records_s2c = big32;
	c->tls_version = 0x0300;
	c->tls_decrypted = true;
	c->tls_records_decrypted = big32;
	for (int r = 0; r < AZ_TLS_NSKIPS; r++)
		c->tls_not_decrypted[r] = big32;
	c->zeek_state = (enum az_zeek_state)AZ_NZEEK_STATES;
	memset(c->zeek_history, 0x01, sizeof c->zeek_history - 1);
	c->zeek_history[sizeof c->zeek_history - 1] = '\0';
	c->zeek_orig_is_client = false;
}

static void test_longest_record(void **state)
{
	(void)state;
	struct az_conn c;

	/* beyond INT64_MAX jansson's integers turn negative: length only */
	fill_longest(&c, UINT64_MAX, UINT32_MAX);
	size_t longest = check_record(&c, 0.0, false);
	/* the bound is generous, not loose by an order of magnitude */
	assert_true(longest > CONNLINE_MAX / 2);
	fill_longest(&c, INT64_MAX, UINT32_MAX);
	check_record(&c, 0.0, true);
	/* and the other branches: no rtt, tls, linger, fw2, findings;
	 * IPv4; every name in range */
	memset(&c, 0, sizeof c);
	c.af = 4;
	c.c2s.wscale = c.s2c.wscale = -1;
	c.finding = c.finding_of[0] = c.finding_of[1] = -1;
	check_record(&c, 0.0, true);
	for (int k = 0; k <= AZ_NKINDS; k++) {
		c.kind = (enum az_kind)k;
		c.initiator = (enum az_initiator)(k % (AZ_NINITIATORS + 1));
		c.client_end = (enum az_state)(k % (AZ_NSTATES + 1));
		c.server_end = (enum az_state)((k + 5) % (AZ_NSTATES + 1));
		c.zeek_state = (enum az_zeek_state)(k * 2 % (AZ_NZEEK_STATES + 1));
		c.tls_records_s2c = (uint32_t)k;
		c.tls_version = (uint16_t)(0x0300 + k);
		c.lingered = k & 1;
		c.linger_end = (enum az_linger_end)(k % (AZ_NLINGER_ENDS + 1));
		c.server_fw2 = (struct az_fw2_interval){ k & 1, 100.25, 3600.5,
		                                         (enum az_fw2_end)(k % (AZ_NFW2_ENDS + 1)) };
		c.client_fw2 = (struct az_fw2_interval){ k & 2, 100.25, 100.25,
		                                         (enum az_fw2_end)((k + 1) % (AZ_NFW2_ENDS + 1)) };
		c.finding = k - 2;
		c.finding_of[AZ_SERVER] = k % 3 - 1;
		c.finding_of[AZ_CLIENT] = k % 2 - 1;
		c.zeek_orig_is_client = k & 1;
		snprintf(c.zeek_history, sizeof c.zeek_history, "S%.*s", k, "hADadfFrR\"\\");
		check_record(&c, 12.5, true);
	}
}

/* A record of its own for each i: values that take different lengths. */
static void vary(struct az_conn *c, unsigned i)
{
	memset(c, 0, sizeof *c);
	c->id = i + 1;
	c->af = i % 3 ? 4 : 6;
	c->client_addr[0] = (uint8_t)i;
	c->client_addr[3] = (uint8_t)(i >> 8);
	c->server_addr[15] = (uint8_t)(i * 7);
	c->client_port = (uint16_t)(i * 13);
	c->server_port = 80;
	c->rtt_known = i & 1;
	c->h_s = (double)(i % 1000) * 1e-6;
	c->first_time = 1000.0 + i * 0.001;
	c->last_time = c->first_time + (i % 17) * 0.25;
	c->c2s.packets = i;
	c->s2c.bytes = (uint64_t)i * i * i;
	c->c2s.wscale = c->s2c.wscale = (int8_t)(i % 15 - 1);
	c->n_responses = (uint8_t)(i % 4);
	c->finding = c->finding_of[0] = c->finding_of[1] = -1;
	snprintf(c->zeek_history, sizeof c->zeek_history, "Sh%u", i % 1000);
}

/* A new temporary file from the template path (its name is left there),
 * open for writing. */
static FILE *temp_file(char *path)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	return f;
}

/* The writer thread writes what report_conn_line writes, in order, past
 * a full ring (more records than it holds, queued without a pause);
 * records built in their queue slot (connwriter_slot) when in_slot, two
 * of every three (the rest pushed: both ways mix). */
static void writer_order(bool in_slot)
{
	char path[] = "/tmp/test_connline.XXXXXX";
	FILE *f = temp_file(path);
	char *want = NULL;
	size_t want_len = 0;
	FILE *w = open_memstream(&want, &want_len);
	assert_non_null(w);

	struct connwriter *cw = connwriter_start(f);
	assert_non_null(cw);
	const unsigned n = 20000;
	struct az_conn c;
	for (unsigned i = 0; i < n; i++) {
		vary(&c, i);
		if (in_slot && i % 3) {
			struct az_conn *slot = connwriter_slot(cw);
			assert_non_null(slot);
			/* over what an earlier lap of the ring left there */
			vary(slot, i);
			connwriter_commit(cw, 1000.0);
		} else {
			connwriter_push(cw, &c, 1000.0);
		}
		assert_int_equal(report_conn_line(w, &c, 1000.0), 0);
	}
	assert_int_equal(connwriter_finish(cw), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(fclose(w), 0);

	FILE *r = fopen(path, "r");
	assert_non_null(r);
	char *got = malloc(want_len + 1);
	assert_non_null(got);
	size_t got_len = fread(got, 1, want_len + 1, r);
	fclose(r);
	unlink(path);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	free(got);
	free(want);
}

static void test_writer_order(void **state)
{
	(void)state;
	writer_order(false);
}

static void test_writer_order_slots(void **state)
{
	(void)state;
	writer_order(true);
}

/* A trickle of records (a live capture) is written while the analysis
 * goes on, not only at its end. */
static void test_writer_trickle(void **state)
{
	(void)state;
	char path[] = "/tmp/test_connline.XXXXXX";
	FILE *f = temp_file(path);
	struct connwriter *cw = connwriter_start(f);
	assert_non_null(cw);
	struct az_conn c;
	vary(&c, 3);
	connwriter_push(cw, &c, 1000.0);
	/* within a second, though nothing more comes */
	off_t size = 0;
	for (int i = 0; i < 100 && size == 0; i++) {
		usleep(10000);
		FILE *r = fopen(path, "r");
		assert_non_null(r);
		fseeko(r, 0, SEEK_END);
		size = ftello(r);
		fclose(r);
	}
	assert_true(size > 0);
	assert_int_equal(connwriter_finish(cw), 0);
	fclose(f);
	unlink(path);
}

/* A failed write comes back as its errno; the analysis is not held up. */
static void test_writer_error(void **state)
{
	(void)state;
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		skip();
	struct connwriter *cw = connwriter_start(f);
	assert_non_null(cw);
	struct az_conn c;
	for (unsigned i = 0; i < 5000; i++) {
		vary(&c, i);
		connwriter_push(cw, &c, 0.0);
	}
	assert_int_equal(connwriter_finish(cw), ENOSPC);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_sec),
		cmocka_unit_test(test_str),
		cmocka_unit_test(test_longest_record),
		cmocka_unit_test(test_writer_order),
		cmocka_unit_test(test_writer_order_slots),
		cmocka_unit_test(test_writer_trickle),
		cmocka_unit_test(test_writer_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
