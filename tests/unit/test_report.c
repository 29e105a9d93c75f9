/*
 * test_report.c - the JSON report writer (reports/report.h): the streamed
 * writer gives the same bytes as the whole-object one, the lab can amend
 * the verdict, reports are replaced atomically and write errors come back
 * as messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/analyzer.h"
#include "reports/findings.h"
#include "reports/report.h"
#include "tests/support/pktbuild.h"

#define T0 1763742000.0

/* A server that answers 404 and FIN while a pipelined GET is under way,
 * then resets it (seed case 2, fast network), plus a clean connection. */
static struct az *analyze_sample(void)
{
	struct pb_list l;
	struct pb_conn a, b;
	static const char get1[] = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";
	static const char get2[] = "GET /y HTTP/1.1\r\nHost: t\r\n\r\n";
	static const char r404[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
	static const char r200[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	const uint32_t l1 = sizeof get1 - 1, rl = sizeof r404 - 1;

	pb_list_init(&l, PB_DLT_EN10MB);
	assert_int_equal(pb_conn_init(&a, "10.1.1.2", 40000, "10.1.1.1", 80, 100, 200), 0);
	assert_int_equal(pb_conn_init(&b, "10.1.1.3", 40001, "10.1.1.1", 80, 300, 400), 0);
	int rc = 0;
	rc |= pb_syn(&l, &a, T0);
	rc |= pb_synack(&l, &a, T0 + 0.01);
	rc |= pb_ack(&l, &a, PB_C2S, T0 + 0.0101, 1, 1);
	rc |= pb_send(&l, &a, PB_C2S, T0 + 0.0102, 1, 1, get1);
	rc |= pb_send(&l, &a, PB_C2S, T0 + 0.0150, PB_NEXT, 1, get2);
	rc |= pb_send(&l, &a, PB_S2C, T0 + 0.0202, 1, 1 + l1, r404);
	rc |= pb_fin(&l, &a, PB_S2C, T0 + 0.0203, 1 + rl, 1 + l1);
	rc |= pb_ack(&l, &a, PB_C2S, T0 + 0.0204, PB_NEXT, PB_NEXT);
	rc |= pb_rst(&l, &a, PB_S2C, T0 + 0.0250, 1);
	rc |= pb_syn(&l, &b, T0 + 1);
	rc |= pb_synack(&l, &b, T0 + 1.001);
	rc |= pb_ack(&l, &b, PB_C2S, T0 + 1.002, 1, 1);
	rc |= pb_send(&l, &b, PB_C2S, T0 + 1.003, 1, 1, get1);
	rc |= pb_send(&l, &b, PB_S2C, T0 + 1.004, 1, PB_NEXT, r200);
	rc |= pb_fin(&l, &b, PB_C2S, T0 + 1.005, PB_NEXT, PB_NEXT);
	rc |= pb_fin(&l, &b, PB_S2C, T0 + 1.006, PB_NEXT, PB_NEXT);
	rc |= pb_ack(&l, &b, PB_C2S, T0 + 1.007, PB_NEXT, PB_NEXT);
	assert_int_equal(rc, 0);

	struct az *az = az_new(NULL);
	assert_non_null(az);
	for (size_t i = 0; i < l.n; i++)
		az_packet(az, l.dlt, l.frames[i].t, l.frames[i].bytes,
		          l.frames[i].caplen, l.frames[i].wirelen);
	az_finish(az);
	pb_list_free(&l);
	return az;
}

static const struct report_input sample_input = {
	.command = "analyze", .source = "sample.pcap", .link_type = "EN10MB",
	.generated_at = 1763742000,
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

struct tmpdir {
	char path[64];
};

static void mkdir_tmp(struct tmpdir *d)
{
	snprintf(d->path, sizeof d->path, "/tmp/ll-test-report.XXXXXX");
	assert_non_null(mkdtemp(d->path));
}

static void rm_tmp(struct tmpdir *d, const char *const *names)
{
	char p[128];
	for (; *names; names++) {
		snprintf(p, sizeof p, "%s/%s", d->path, *names);
		unlink(p);
	}
	assert_int_equal(rmdir(d->path), 0); /* fails if anything was left */
}

/* The streamed writer must give exactly the bytes of the two-step one. */
static void test_stream_equals_object(void **state)
{
	(void)state;
	struct az *az = analyze_sample();
	struct tmpdir d;
	char a[128], b[128], err[256];
	mkdir_tmp(&d);
	snprintf(a, sizeof a, "%s/a.json", d.path);
	snprintf(b, sizeof b, "%s/b.json", d.path);

	json_t *rep = report_analysis(az, &sample_input);
	assert_non_null(rep);
	assert_int_equal(json_array_size(json_object_get(rep, "connections")), 1);
	assert_int_equal(report_write(rep, a, err, sizeof err), 0);
	assert_int_equal(report_write_analysis(az, &sample_input, b, err, sizeof err), 0);
	char *ta = slurp(a), *tb = slurp(b);
	assert_string_equal(ta, tb);
	/* it reads back as the same values, reals included */
	json_error_t je;
	json_t *back = json_load_file(a, 0, &je);
	assert_non_null(back);
	assert_true(json_equal(back, rep));
	/* times print as written: no 0.008285000000000001, epoch times keep
	 * their microseconds */
	assert_non_null(strstr(ta, "\"start_time\": 1763742000.0,"));
	assert_non_null(strstr(ta, "\"time\": 0.025,"));

	json_decref(back);
	free(ta);
	free(tb);
	json_decref(rep);
	az_free(az);
	rm_tmp(&d, (const char *const[]){ "a.json", "b.json", NULL });
}

/* Members in the order of docs/report-format.md; the verdict stays last
 * when the lab adds its members and sets its own. */
static void test_order_and_verdict(void **state)
{
	(void)state;
	static const char *const order[] = {
		"report_version", "tool", "generated_at", "command", "input", "options",
		"summary", "findings", "fin_wait_2", "connections", "verdict",
	};
	struct az *az = analyze_sample();
	json_t *rep = report_analysis(az, &sample_input);
	assert_non_null(rep);
	size_t i = 0;
	const char *key;
	json_t *v;
	json_object_foreach(rep, key, v) {
		assert_true(i < sizeof order / sizeof order[0]);
		assert_string_equal(key, order[i]);
		i++;
	}
	assert_int_equal(i, sizeof order / sizeof order[0]);
	assert_string_equal(json_string_value(json_object_get(rep, "generated_at")),
	                    "2025-11-21T16:20:00Z");
	assert_true(json_is_true(json_object_get(json_object_get(rep, "verdict"), "hazard")));

	assert_int_equal(json_object_set_new(rep, "lab", json_object()), 0);
	assert_int_equal(json_object_set_new(rep, "scenarios", json_array()), 0);
	assert_int_equal(report_set_verdict(rep, false, 1, "1 expectation failed"), 0);
	const char *last = NULL;
	json_object_foreach(rep, key, v)
		last = key;
	assert_string_equal(last, "verdict");
	json_t *vd = json_object_get(rep, "verdict");
	assert_int_equal(json_integer_value(json_object_get(vd, "exit_code")), 1);
	assert_string_equal(json_string_value(json_object_get(vd, "text")), "1 expectation failed");
	json_decref(rep);
	az_free(az);
}

/* A connection record: relative times, names from the analyzer, and the
 * timeline only when asked for. */
static void test_conn_record(void **state)
{
	(void)state;
	struct az *az = analyze_sample();
	const struct az_conn *c = az_retained(az, 0);
	assert_non_null(c);
	json_t *with = report_conn(c, T0, true), *without = report_conn(c, T0, false);
	assert_non_null(with);
	assert_non_null(without);
	assert_null(json_object_get(without, "timeline"));
	json_t *tl = json_object_get(with, "timeline");
	assert_int_equal(json_array_size(json_object_get(tl, "packets")), 9);
	assert_true(json_is_null(json_object_get(tl, "omitted_after")));
	json_t *p0 = json_array_get(json_object_get(tl, "packets"), 0);
	assert_string_equal(json_string_value(json_object_get(p0, "dir")), "c2s");
	assert_true(json_real_value(json_object_get(p0, "t")) == 0.0);
	assert_true(json_real_value(json_object_get(with, "last_time")) == 0.025);
	assert_string_equal(json_string_value(json_object_get(with, "kind")),
	                    az_kind_name(c->kind));
	assert_string_equal(json_string_value(json_object_get(json_object_get(with, "client"), "addr")),
	                    "10.1.1.2");
	/* the server's finding, the only one, in both members */
	assert_int_equal(json_integer_value(json_object_get(with, "finding")), 0);
	json_t *fl = json_object_get(with, "findings");
	assert_int_equal(json_array_size(fl), 1);
	assert_int_equal(json_integer_value(json_array_get(fl, 0)), 0);
	json_decref(with);
	json_decref(without);
	az_free(az);
}

/* A replaced report is a new file renamed into place, nothing left over;
 * a failed write says where and why and keeps the old report. */
static void test_atomic_write_and_errors(void **state)
{
	(void)state;
	struct tmpdir d;
	char path[128], err[256];
	struct stat before, after;
	mkdir_tmp(&d);
	snprintf(path, sizeof path, "%s/r.json", d.path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("old\n", f);
	fclose(f);
	assert_int_equal(stat(path, &before), 0);

	json_t *o = json_pack("{s:i}", "a", 1);
	assert_int_equal(report_write(o, path, err, sizeof err), 0);
	assert_int_equal(stat(path, &after), 0);
	assert_true(before.st_ino != after.st_ino);
	char *t = slurp(path);
	assert_string_equal(t, "{\n  \"a\": 1\n}\n");
	free(t);

	assert_int_equal(report_write(o, "/dev/full", err, sizeof err), -1);
	assert_string_equal(err, "write report: /dev/full: No space left on device");
	char bad[160];
	snprintf(bad, sizeof bad, "%s/missing/r.json", d.path);
	assert_int_equal(report_write(o, bad, err, sizeof err), -1);
	char want[256];
	snprintf(want, sizeof want, "write report: %s: No such file or directory", bad);
	assert_string_equal(err, want);
	json_t *arr = json_array();
	assert_int_equal(report_write(arr, path, err, sizeof err), -1);
	assert_string_equal(err, "write report: not a JSON object");
	t = slurp(path);
	assert_string_equal(t, "{\n  \"a\": 1\n}\n");
	free(t);

	json_decref(arr);
	json_decref(o);
	rm_tmp(&d, (const char *const[]){ "r.json", NULL });
}

/* The JSON Lines writer prints what jansson prints for report_conn(),
 * byte for byte, whatever the times (they take the printf-free path or
 * not depending on their size). */
static void check_line_equals_jansson(const struct az_conn *c, double t0)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(report_conn_line(f, c, t0), 0);
	fclose(f);
	json_t *o = report_conn(c, t0, false);
	assert_non_null(o);
	char *want = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
	assert_non_null(want);
	assert_int_equal(len, strlen(want) + 1);
	buf[len - 1] = '\0';
	assert_string_equal(buf, want);
	free(want);
	json_decref(o);
	free(buf);
}

static void test_line_equals_jansson(void **state)
{
	(void)state;
	struct az *az = analyze_sample();
	check_line_equals_jansson(az_retained(az, 0), T0);
	struct az_conn c = *az_retained(az, 0);
	static const double times[] = {
		0, 1e-6, 5e-6, 9.9e-5, 1e-4, 0.000123, 0.008285, 0.1, 0.25, 0.999999,
		1, 1.5, 59.000001, 3600.25, 86399.999999, 999999.999999, 1e6, 2.5e7,
		123456789.123456, -0.5, -1e-6,
	};
	for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
		c.first_time = T0 + times[i];
		c.last_time = T0 + times[i] * 2;
		c.h_s = times[i];
		c.h_c = times[i] / 3;
		c.lingered = true;
		c.linger_seconds = times[i] * 7;
		c.server_fw2 = (struct az_fw2_interval){ true, T0 + times[i], T0 + times[i] * 4,
		                                         AZ_FW2_CAPTURE_END };
		c.linger_end = (enum az_linger_end)(i % AZ_NLINGER_ENDS);
		check_line_equals_jansson(&c, T0);
	}
	/* a connection with two findings (client's and server's), one, none */
	static const int32_t fx[][3] = { { 0, 0, 1 }, { 1, 1, 0 }, { 2, 2, -1 },
	                                 { 3, -1, 3 }, { -1, -1, -1 } };
	for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++) {
		c.finding = fx[i][0];
		c.finding_of[AZ_SERVER] = fx[i][1];
		c.finding_of[AZ_CLIENT] = fx[i][2];
		check_line_equals_jansson(&c, T0);
	}
	/* IPv4 addresses written by hand: every octet value in each place */
	for (int v = 0; v < 256; v++) {
		uint8_t a4[4] = { (uint8_t)v, (uint8_t)(255 - v), (uint8_t)(v / 7), (uint8_t)(v * 3) };
		memset(c.client_addr, 0, sizeof c.client_addr);
		memset(c.server_addr, 0, sizeof c.server_addr);
		memcpy(c.client_addr, a4, 4);
		memcpy(c.server_addr + 1, a4, 3);
		check_line_equals_jansson(&c, T0);
	}
	/* every microsecond count around the edges of the printf-free forms
	 * (exponents below 100 us, the 1e6 s limit), both signs, and times
	 * that are not whole microseconds */
	for (long long us = -1200; us <= 1200; us++) {
		double v = (double)us * 1e-6;
		double odd = v + 4.9e-7 * (us % 3 == 0 ? 1 : -1);

		c.h_s = v;
		c.h_c = odd;
		c.linger_seconds = -v;
		c.first_time = T0 + 999999.99 + v;
		c.last_time = T0 + odd * 1000;
		check_line_equals_jansson(&c, T0);
	}
	az_free(az);
}

/* JSON Lines: one compact line per connection. */
static void test_conn_line(void **state)
{
	(void)state;
	struct az *az = analyze_sample();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(report_conn_line(f, az_retained(az, 0), T0), 0);
	fclose(f);
	assert_true(len > 2);
	assert_int_equal(buf[len - 1], '\n');
	assert_null(memchr(buf, '\n', len - 1));
	json_error_t je;
	json_t *o = json_loads(buf, 0, &je);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "id")), 1);
	json_decref(o);
	free(buf);
	az_free(az);
}


/* A server finding as the analyzer hands it over for seed case 2 when the
 * client had ACKed the whole response before the RST reached it: the
 * server's view flags it, the client ignores the first RST (stale seq) and
 * accepts the second only after its ACK of all 338 bytes. */
static struct az_rst_finding graded_finding(void)
{
	struct az_rst_finding f;
	memset(&f, 0, sizeof f);
	f.conn_id = 3;
	f.sender = AZ_SERVER;
	f.rst_packet = 17;
	f.rst_time = T0 + 0.6115;
	f.rst_seq = 1;
	f.data_end = 338;
	f.acked_at_capture = 339;
	f.bytes_at_risk_at_server = 337;
	f.bytes_at_risk_at_server_max = 337;
	f.basis = AZ_BASIS_EVIDENCE;
	f.seq_evidence = true;
	f.evidence_packet = 9;
	f.evidence_peer_packet = 8;
	f.evidence_acked = 339;
	f.cause = AZ_CAUSE_DATA_AFTER_FIN;
	f.vantage = AZ_VANTAGE_CLIENT;
	f.n_risk_packets = 1;
	f.risk_packets[0] = 5;
	f.response_index = 1;
	f.response_status = 401;
	f.impact = AZ_IMPACT_RESET_AFTER_ACK;
	f.impact_estimated = false;
	f.accepted_rst_packet = 19;
	f.unacked_at_accept = 0;
	f.rsts_total = 2;
	f.n_fates = 2;
	f.fates[0] = (struct az_rst_fate){ 17, T0 + 0.6116, 1, 339, 339, AZ_ACCEPT_IGNORED };
	f.fates[1] = (struct az_rst_fate){ 19, T0 + 0.7, 339, 339, 339, AZ_ACCEPT_RESET };
	return f;
}

static const char *jstr_at(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	assert_non_null(s);
	return s;
}

static json_int_t jint_at(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

/* findings[]: the server's view stays, the client's grading comes beside
 * it with every RST's fate, and the sentence says both. */
static void test_finding_client_impact(void **state)
{
	(void)state;
	struct az_rst_finding f = graded_finding();
	json_t *o = report_finding(&f, T0);
	assert_non_null(o);
	assert_string_equal(jstr_at(o, "basis"), "evidence");
	json_t *ev = json_object_get(o, "evidence");
	assert_int_equal(jint_at(ev, "packet"), 9);
	assert_int_equal(jint_at(ev, "peer_packet"), 8);
	assert_int_equal(jint_at(ev, "acked"), 339);
	assert_int_equal(jint_at(o, "bytes_at_risk_at_server"), 337);
	assert_string_equal(jstr_at(o, "client_impact"), "reset_after_ack");
	json_t *im = json_object_get(o, "impact");
	assert_string_equal(jstr_at(im, "at"), "client");
	assert_string_equal(jstr_at(im, "grade"), "reset_after_ack");
	assert_true(json_is_false(json_object_get(im, "estimated")));
	assert_int_equal(jint_at(im, "accepted_rst_packet"), 19);
	assert_int_equal(jint_at(im, "unacked_at_accept"), 0);
	assert_int_equal(jint_at(im, "rsts_total"), 2);
	json_t *rs = json_object_get(im, "rsts");
	assert_int_equal(json_array_size(rs), 2);
	assert_string_equal(jstr_at(json_array_get(rs, 0), "accept"), "ignored");
	assert_string_equal(jstr_at(json_array_get(rs, 1), "accept"), "reset");
	assert_int_equal(jint_at(json_array_get(rs, 0), "rcv_nxt"), 339);
	assert_true(json_real_value(json_object_get(json_array_get(rs, 0), "time")) == 0.6116);
	assert_string_equal(jstr_at(o, "summary"),
	                    "server RST (packet 17) while 337 response bytes were unacknowledged "
	                    "as far as the server could know; the client had acknowledged all of "
	                    "it before any RST it would accept (reset_after_ack)");
	/* the summary is the last member, as before */
	const char *key, *last = NULL;
	json_t *v;
	json_object_foreach(o, key, v)
		last = key;
	assert_string_equal(last, "summary");
	json_decref(o);
}

/* Each grade in words; an estimate says so; the client's own RST has no
 * client_impact, its impact is at the server; no evidence gives null. */
static void test_finding_grades(void **state)
{
	(void)state;
	char buf[400];
	struct az_rst_finding f = graded_finding();

	f.impact = AZ_IMPACT_RESET_BEFORE_ACK;
	f.impact_estimated = true;
	f.accepted_rst_packet = 17;
	f.unacked_at_accept = 77;
	report_finding_summary(&f, buf, sizeof buf);
	assert_string_equal(buf, "server RST (packet 17) while 337 response bytes were "
	                    "unacknowledged as far as the server could know; by estimate, the "
	                    "client accepted a RST (packet 17) while it had not acknowledged 77 "
	                    "of them (reset_before_ack)");

	f.impact = AZ_IMPACT_NO_RESET;
	f.impact_estimated = false;
	f.accepted_rst_packet = 0;
	f.rsts_total = 1;
	report_finding_summary(&f, buf, sizeof buf);
	assert_string_equal(buf, "server RST (packet 17) while 337 response bytes were "
	                    "unacknowledged as far as the server could know; the client would "
	                    "accept no RST of the server's (no_reset)");
	json_t *o = report_finding(&f, T0);
	assert_string_equal(jstr_at(o, "client_impact"), "no_reset");
	assert_true(json_is_null(json_object_get(json_object_get(o, "impact"), "accepted_rst_packet")));
	json_decref(o);

	/* a RST that answers one of several segments with the same ACK names
	 * no peer packet */
	f.evidence_peer_packet = 0;
	o = report_finding(&f, T0);
	assert_true(json_is_null(json_object_get(json_object_get(o, "evidence"), "peer_packet")));
	assert_int_equal(jint_at(json_object_get(o, "evidence"), "packet"), 9);
	json_decref(o);

	/* a cut buffer stays terminated */
	report_finding_summary(&f, buf, 20);
	assert_string_equal(buf, "server RST (packet ");

	f.sender = AZ_CLIENT;
	f.basis = AZ_BASIS_TIMING;
	f.impact = AZ_IMPACT_RESET_BEFORE_ACK;
	f.accepted_rst_packet = 17;
	f.unacked_at_accept = 12;
	o = report_finding(&f, T0);
	assert_true(json_is_null(json_object_get(o, "client_impact")));
	assert_true(json_is_null(json_object_get(o, "evidence")));
	assert_string_equal(jstr_at(json_object_get(o, "impact"), "at"), "server");
	assert_string_equal(jstr_at(o, "summary"),
	                    "client RST (packet 17) while 337 request bytes were unacknowledged "
	                    "as far as the client could know; the server accepted a RST (packet "
	                    "17) while it had not acknowledged 12 of them (reset_before_ack)");
	json_decref(o);
}

/* summary: the new counts sit beside the old ones, named by the
 * analyzer's words, and hazard stays last. */
static void test_summary_members(void **state)
{
	(void)state;
	static const char *const order[] = {
		"connections", "by_kind", "by_initiator", "lingered", "linger_ended_by",
		"role_inferred", "by_zeek_conn_state", "rst_before_ack", "rst_before_ack_server",
		"rst_before_ack_client", "client_impact", "by_basis", "not_retained", "memory",
		"hazard",
	};
	struct az *az = analyze_sample();
	json_t *s = report_summary(az);
	assert_non_null(s);
	size_t i = 0;
	const char *key;
	json_t *v;
	json_object_foreach(s, key, v) {
		assert_true(i < sizeof order / sizeof order[0]);
		assert_string_equal(key, order[i]);
		i++;
	}
	assert_int_equal(i, sizeof order / sizeof order[0]);
	const struct az_totals *t = az_totals(az);
	json_t *ci = json_object_get(s, "client_impact");
	assert_int_equal(json_object_size(ci), 3);
	assert_int_equal(jint_at(ci, "reset_before_ack"), t->by_impact[AZ_SERVER][AZ_IMPACT_RESET_BEFORE_ACK]);
	assert_int_equal(jint_at(ci, "reset_after_ack"), t->by_impact[AZ_SERVER][AZ_IMPACT_RESET_AFTER_ACK]);
	assert_int_equal(jint_at(ci, "no_reset"), t->by_impact[AZ_SERVER][AZ_IMPACT_NO_RESET]);
	json_t *bb = json_object_get(s, "by_basis");
	assert_int_equal(jint_at(bb, "evidence") + jint_at(bb, "timing") + jint_at(bb, "capture_order"),
	                 (json_int_t)t->rst_before_ack);
	assert_int_equal(jint_at(s, "rst_before_ack_server") + jint_at(s, "rst_before_ack_client"),
	                 jint_at(s, "rst_before_ack"));
	json_t *le = json_object_get(s, "linger_ended_by");
	assert_int_equal(json_object_size(le), 4);
	assert_non_null(json_object_get(le, "server_rst"));
	json_t *mem = json_object_get(s, "memory");
	assert_int_equal(json_object_size(mem), 6);
	assert_int_equal(jint_at(mem, "limit"), (json_int_t)AZ_DEFAULT_MAX_MEMORY);
	assert_true(jint_at(mem, "peak") > 0 && jint_at(mem, "peak") <= jint_at(mem, "limit"));
	assert_int_equal(jint_at(mem, "evicted") + jint_at(mem, "evicted_embryos"), 0);
	json_decref(s);
	az_free(az);
}

/* The verdict text of report_analysis(az, in); the caller frees it. */
static char *verdict_text(const struct az *az, const struct report_input *in)
{
	json_t *rep = report_analysis(az, in);
	assert_non_null(rep);
	const char *t = json_string_value(json_object_get(json_object_get(rep, "verdict"), "text"));
	assert_non_null(t);
	char *copy = strdup(t);
	assert_non_null(copy);
	json_decref(rep);
	return copy;
}

/* A live capture whose kernel (or interface) dropped frames says so in
 * input and at the end of the verdict; a saved capture has no such
 * counters (null) and a live one without drops shows 0 and no clause. */
static void test_capture_losses(void **state)
{
	(void)state;
	static const struct {
		bool kstats;
		uint64_t kernel, iface;
		const char *clause;
	} cases[] = {
		{ false, 0, 0, "" },
		{ true, 0, 0, "" },
		{ true, 1234, 0, "; analysis incomplete: the kernel dropped 1234 packets" },
		{ true, 1, 0, "; analysis incomplete: the kernel dropped 1 packet" },
		{ true, 0, 1, "; analysis incomplete: the interface dropped 1 packet" },
		{ true, 1, 7, "; analysis incomplete: the kernel dropped 1 packet and the interface 7" },
	};
	struct az *az = analyze_sample();
	char *base = verdict_text(az, &sample_input);
	assert_null(strstr(base, "incomplete"));
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct report_input in = sample_input;
		in.live = cases[i].kstats;
		in.kernel_stats = cases[i].kstats;
		in.kernel_dropped = cases[i].kernel;
		in.interface_dropped = cases[i].iface;
		json_t *rep = report_analysis(az, &in);
		assert_non_null(rep);
		json_t *input = json_object_get(rep, "input");
		json_t *kd = json_object_get(input, "kernel_dropped");
		json_t *id = json_object_get(input, "interface_dropped");
		if (cases[i].kstats) {
			assert_int_equal(json_integer_value(kd), cases[i].kernel);
			assert_int_equal(json_integer_value(id), cases[i].iface);
		} else {
			assert_true(json_is_null(kd));
			assert_true(json_is_null(id));
		}
		/* a lost frame is no hazard found, just nothing vouched for */
		assert_true(json_is_true(json_object_get(json_object_get(rep, "verdict"), "hazard")));
		json_decref(rep);
		char want[512];
		snprintf(want, sizeof want, "%s%s", base, cases[i].clause);
		char *got = verdict_text(az, &in);
		assert_string_equal(got, want);
		free(got);
	}
	free(base);
	az_free(az);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_equals_object),
		cmocka_unit_test(test_order_and_verdict),
		cmocka_unit_test(test_capture_losses),
		cmocka_unit_test(test_conn_record),
		cmocka_unit_test(test_atomic_write_and_errors),
		cmocka_unit_test(test_conn_line),
		cmocka_unit_test(test_line_equals_jansson),
		cmocka_unit_test(test_finding_client_impact),
		cmocka_unit_test(test_finding_grades),
		cmocka_unit_test(test_summary_members),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
