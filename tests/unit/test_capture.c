/*
 * test_capture.c - capture.c on real files: good ones in both formats and
 * the broken ones in tests/fixtures/malformed/ (see its README.md), read
 * through cap_open_offline() + cap_run() into an analyzer.
 *
 * A damaged file must give one exact error line ("FILE: ..." or
 * "FILE: record N: ...") after analyzing every frame before the damage; a
 * damaged frame must be counted by the analyzer's input statistics and
 * reading must go on. Run from the repository root (tests/run does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/analyzer.h"
#include "analyzer/capture.h"

#define FIX "tests/fixtures/malformed/"

struct run {
	int open_ok;            /* cap_open_offline succeeded */
	int rc;                 /* cap_run's result */
	char err[512];
	struct az_stats st;     /* copy, taken after az_finish */
	char dlt_name[32];
	uint64_t file_size;
};

/* Open path, optionally set a filter, run it to the end into a fresh
 * analyzer with limits lim (may be NULL). */
static struct run run_file(const char *path, const char *filter,
                           const struct cap_limits *lim)
{
	struct run r;
	struct cap *c;
	struct az *az;

	memset(&r, 0, sizeof(r));
	r.rc = -99;
	c = cap_open_offline(path, r.err, sizeof(r.err));
	if (!c)
		return r;
	r.open_ok = 1;
	snprintf(r.dlt_name, sizeof(r.dlt_name), "%s", cap_datalink_name(c));
	r.file_size = cap_file_size(c);
	assert_false(cap_is_live(c));
	if (filter)
		assert_int_equal(cap_set_filter(c, filter, r.err, sizeof(r.err)), 0);
	az = az_new(NULL);
	assert_non_null(az);
	r.rc = cap_run(c, az, lim, r.err, sizeof(r.err));
	az_finish(az);
	r.st = *az_stats(az);
	az_free(az);
	cap_close(c);
	return r;
}

static void expect_open_error(const char *path, const char *msg)
{
	struct run r = run_file(path, NULL, NULL);

	assert_false(r.open_ok);
	assert_string_equal(r.err, msg);
}

/* ---- files that are fine --------------------------------------------------- */

static void test_good_pcap(void **state)
{
	struct run r;

	(void)state;
	r = run_file(FIX "good.pcap", NULL, NULL);
	assert_true(r.open_ok);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.dlt_name, "EN10MB");
	assert_int_equal(r.file_size, 234);
	assert_int_equal(r.st.packets, 3);
	assert_int_equal(r.st.tcp, 3);
	assert_int_equal(r.st.by_result[DEC_OK], 3);
	assert_int_equal(r.st.bytes, 3 * 54);
	assert_true(fabs(r.st.first_time - 1700000000.0) < 1e-6);
	assert_true(fabs(r.st.last_time - 1700000000.5) < 1e-6);
}

static void test_good_pcapng(void **state)
{
	struct run r;

	(void)state;
	r = run_file(FIX "good.pcapng", NULL, NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.dlt_name, "EN10MB");
	assert_int_equal(r.st.packets, 3);
	assert_int_equal(r.st.by_result[DEC_OK], 3);
	assert_true(fabs(r.st.last_time - 1700000000.5) < 1e-6);
}

/* Nanosecond files are read with microsecond meaning: same times. */
static void test_nanosecond(void **state)
{
	struct run r;

	(void)state;
	r = run_file(FIX "nanosecond.pcap", NULL, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.st.by_result[DEC_OK], 3);
	assert_true(fabs(r.st.first_time - 1700000000.0) < 1e-6);
	assert_true(fabs(r.st.last_time - 1700000000.5) < 1e-6);
}

static void test_header_only(void **state)
{
	struct run r;

	(void)state;
	r = run_file(FIX "header-only.pcap", NULL, NULL);
	assert_true(r.open_ok);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.st.packets, 0);
}

/* "-" reads standard input; messages call it "standard input". */
static void test_stdin(void **state)
{
	int saved, fd;
	struct run r;

	(void)state;
	saved = dup(0);
	assert_true(saved >= 0);
	fd = open(FIX "good.pcap", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 0), 0);
	close(fd);
	r = run_file("-", NULL, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.st.by_result[DEC_OK], 3);

	fd = open(FIX "garbage.bin", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 0), 0);
	close(fd);
	clearerr(stdin);
	r = run_file("-", NULL, NULL);
	assert_false(r.open_ok);
	assert_string_equal(r.err, "standard input: unknown file format "
	                    "(not a pcap or pcapng capture)");
	assert_int_equal(dup2(saved, 0), 0);
	close(saved);
}

/* ---- files that cannot be read at all ------------------------------------ */

static void test_unreadable_files(void **state)
{
	(void)state;
	expect_open_error(FIX "empty.pcap", FIX "empty.pcap: empty file "
	                  "(not a pcap or pcapng capture)");
	expect_open_error(FIX "short-header.pcap", FIX "short-header.pcap: "
	                  "truncated dump file; tried to read 24 file header "
	                  "bytes, only got 6");
	expect_open_error(FIX "wrong-magic.pcap", FIX "wrong-magic.pcap: "
	                  "unknown file format (not a pcap or pcapng capture)");
	expect_open_error(FIX "garbage.bin", FIX "garbage.bin: unknown file "
	                  "format (not a pcap or pcapng capture)");
	expect_open_error(FIX "no-such-file.pcap", FIX "no-such-file.pcap: "
	                  "No such file or directory");
	expect_open_error(FIX "unsupported-linktype.pcap",
	                  FIX "unsupported-linktype.pcap: link type IEEE802_11 (105) "
	                  "is not supported (Ethernet, Linux cooked, BSD "
	                  "loopback and raw IP are)");
}

/* ---- files damaged part way: frames before the damage count -------------- */

static void expect_read_error(const char *path, uint64_t packets,
                              const char *msg)
{
	struct run r = run_file(path, NULL, NULL);

	assert_true(r.open_ok);
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, msg);
	assert_int_equal(r.st.packets, packets);
	assert_int_equal(r.st.by_result[DEC_OK], packets);
}

static void test_cut_files(void **state)
{
	(void)state;
	expect_read_error(FIX "cut-record-header.pcap", 2,
	                  FIX "cut-record-header.pcap: record 3: truncated "
	                  "dump file; tried to read 16 header bytes, only got 7");
	expect_read_error(FIX "cut-record-body.pcap", 2,
	                  FIX "cut-record-body.pcap: record 3: truncated dump "
	                  "file; tried to read 54 captured bytes, only got 20");
	expect_read_error(FIX "cut.pcapng", 2,
	                  FIX "cut.pcapng: record 3: truncated pcapng dump "
	                  "file; tried to read 80 bytes, only got 22");
}

static void test_huge_caplen(void **state)
{
	(void)state;
	expect_read_error(FIX "huge-caplen.pcap", 1,
	                  FIX "huge-caplen.pcap: record 2: invalid packet "
	                  "capture length 300000, bigger than snaplen of 262144");
}

/* ---- damaged frames in a readable file: counted, reading goes on -------- */

static void expect_counts(const char *path, uint64_t packets, uint64_t ok,
                          uint64_t truncated, uint64_t invalid)
{
	struct run r = run_file(path, NULL, NULL);

	assert_true(r.open_ok);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.st.packets, packets);
	assert_int_equal(r.st.by_result[DEC_OK], ok);
	assert_int_equal(r.st.by_result[DEC_TRUNCATED], truncated);
	assert_int_equal(r.st.by_result[DEC_INVALID], invalid);
}

static void test_bad_records(void **state)
{
	(void)state;
	expect_counts(FIX "caplen-over-len.pcap", 3, 2, 0, 1);
	expect_counts(FIX "caplen-zero.pcap", 3, 2, 0, 1);
	/* snaplen 40 keeps 40 of 54 bytes: every TCP header is cut */
	expect_counts(FIX "over-snaplen.pcap", 3, 0, 3, 0);
}

static void test_bad_headers(void **state)
{
	(void)state;
	expect_counts(FIX "bad-ihl.pcap", 3, 2, 0, 1);
	expect_counts(FIX "bad-doff.pcap", 4, 2, 0, 2);
}

static void test_garbage_frames(void **state)
{
	struct run r;
	uint64_t sum = 0;

	(void)state;
	r = run_file(FIX "garbage-frames.pcap", NULL, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.st.packets, 8);
	assert_int_equal(r.st.tcp, 0);
	for (int i = 0; i < DEC_NRESULTS; i++)
		sum += r.st.by_result[i];
	assert_int_equal(sum, 8);
}

/* ---- filters and limits ------------------------------------------------------ */

static void test_filter(void **state)
{
	struct run r;
	struct cap *c;
	char err[256];

	(void)state;
	/* SYN set: the SYN and the SYN-ACK pass, the ACK does not; it still
	 * counts (as filtered), so packet indexes stay file positions. */
	r = run_file(FIX "good.pcap", "tcp[tcpflags] & tcp-syn != 0", NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.st.packets, 3);
	assert_int_equal(r.st.filtered, 1);
	assert_int_equal(r.st.tcp, 2);

	/* With a filter the error still names the record's place in the
	 * file, not its place among the frames that passed. */
	r = run_file(FIX "cut-record-header.pcap", "tcp[tcpflags] == tcp-syn",
	             NULL);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.st.packets - r.st.filtered, 1);
	assert_string_equal(r.err, FIX "cut-record-header.pcap: record 3: "
	                    "truncated dump file; tried to read 16 header "
	                    "bytes, only got 7");

	c = cap_open_offline(FIX "good.pcap", err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(cap_set_filter(c, "tcp port nonsense", err,
	                                sizeof(err)), -1);
	assert_string_equal(err, "filter \"tcp port nonsense\": unknown port "
	                    "'nonsense'");
	/* an empty expression means no filter */
	assert_int_equal(cap_set_filter(c, "", err, sizeof(err)), 0);
	cap_close(c);
}

static void test_count_and_stop(void **state)
{
	struct cap_limits lim = { .count = 2 };
	volatile sig_atomic_t stop = 1;
	struct run r;

	(void)state;
	r = run_file(FIX "good.pcap", NULL, &lim);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.st.packets, 2);

	memset(&lim, 0, sizeof(lim));
	lim.stop = &stop;
	r = run_file(FIX "good.pcap", NULL, &lim);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.st.packets, 0);
}

/* ---- progress ---------------------------------------------------------------- */

struct prog_seen {
	int calls;
	uint64_t packets, bytes, size;
};

static void on_progress(uint64_t packets, uint64_t bytes_read,
                        uint64_t file_size, void *arg)
{
	struct prog_seen *p = arg;

	p->calls++;
	p->packets = packets;
	p->bytes = bytes_read;
	p->size = file_size;
}

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* 70000 records of a 54-byte frame: one progress call, at 64 Ki records,
 * with the exact byte position reached in the file. */
static void test_progress(void **state)
{
	char path[] = "/tmp/ll-test-capture-XXXXXX";
	uint8_t fh[24] = { 0 }, rh[16], frame[54];
	struct cap_limits lim = { .progress = on_progress };
	struct prog_seen seen = { 0 };
	struct run r;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "wb");
	assert_non_null(f);
	le32(fh, 0xa1b2c3d4);
	fh[4] = 2; fh[6] = 4;                   /* version 2.4 */
	le32(fh + 16, 262144);                  /* snaplen */
	le32(fh + 20, 1);                       /* Ethernet */
	assert_int_equal(fwrite(fh, 1, 24, f), 24);
	fd = open(FIX "good.pcap", O_RDONLY);   /* its first frame */
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, frame, 54, 24 + 16), 54);
	close(fd);
	for (uint32_t i = 0; i < 70000; i++) {
		le32(rh, 1700000000 + i / 1000);
		le32(rh + 4, (i % 1000) * 1000);
		le32(rh + 8, 54);
		le32(rh + 12, 54);
		assert_int_equal(fwrite(rh, 1, 16, f), 16);
		assert_int_equal(fwrite(frame, 1, 54, f), 54);
	}
	assert_int_equal(fclose(f), 0);

	lim.progress_arg = &seen;
	r = run_file(path, NULL, &lim);
	unlink(path);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.st.packets, 70000);
	assert_int_equal(r.file_size, 24 + 70000 * 70);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.packets, 65536);
	assert_int_equal(seen.bytes, 24 + 65536 * 70);
	assert_int_equal(seen.size, 24 + 70000 * 70);
}

/* ---- live ----------------------------------------------------------------------- */

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_live_errors(void **state)
{
	char err[256];

	(void)state;
	assert_null(cap_open_live("llnope0", err, sizeof(err)));
	assert_string_equal(err, "llnope0: No such device exists");
}

/* On loopback: a handshake made after the capture opened is read back,
 * and --duration ends an idle capture on time. */
static void test_live_loopback(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct cap_limits lim = { .count = 3, .duration = 5 };
	char err[256], filter[64];
	int ls, cs, as;
	struct cap *c;
	struct az *az;
	double t0;

	(void)state;
	if (geteuid() != 0)
		skip();
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(ls >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);

	c = cap_open_live("lo", err, sizeof(err));
	assert_non_null(c);
	assert_true(cap_is_live(c));
	assert_string_equal(cap_datalink_name(c), "EN10MB");
	assert_int_equal(cap_file_size(c), 0);
	snprintf(filter, sizeof(filter), "tcp port %u", ntohs(sa.sin_port));
	assert_int_equal(cap_set_filter(c, filter, err, sizeof(err)), 0);

	cs = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(cs >= 0);
	assert_int_equal(connect(cs, (struct sockaddr *)&sa, sizeof(sa)), 0);
	as = accept(ls, NULL, NULL);
	assert_true(as >= 0);

	az = az_new(NULL);
	assert_non_null(az);
	t0 = mono();
	assert_int_equal(cap_run(c, az, &lim, err, sizeof(err)), 0);
	assert_int_equal(az_stats(az)->by_result[DEC_OK], 3);
	assert_true(mono() - t0 < 4.0);

	/* Nothing more will come: the duration limit must end the run. */
	lim.count = 0;
	lim.duration = 0.3;
	t0 = mono();
	assert_int_equal(cap_run(c, az, &lim, err, sizeof(err)), 0);
	assert_true(mono() - t0 >= 0.3);
	assert_true(mono() - t0 < 1.5);
	assert_int_equal(az_stats(az)->packets, 3);

	az_finish(az);
	az_free(az);
	cap_close(c);
	close(as);
	close(cs);
	close(ls);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_pcap),
		cmocka_unit_test(test_good_pcapng),
		cmocka_unit_test(test_nanosecond),
		cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_unreadable_files),
		cmocka_unit_test(test_cut_files),
		cmocka_unit_test(test_huge_caplen),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_garbage_frames),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_count_and_stop),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_live_errors),
		cmocka_unit_test(test_live_loopback),
	};

	return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
