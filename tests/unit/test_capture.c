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
#include <dirent.h>
#include <sched.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <signal.h>
#include <stdio_ext.h>

#include "analyzer/analyzer.h"
#include "analyzer/capture.h"
#include "analyzer/pcapread.h"
#include "tests/support/pktbuild.h"

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
}

/* A link type the decoder does not know is read all the same: its frames
 * count as unsupported, and the reader names the link type (issue 10:
 * never silent, and the report is still written). */
static void test_unsupported_linktype(void **state)
{
	char err[256] = "", text[96];
	struct cap *c;
	struct az *az;
	uint64_t n = 0;

	(void)state;
	c = cap_open_offline(FIX "unsupported-linktype.pcap", err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(cap_datalink_name(c), "IEEE802_15_4");
	az = az_new(NULL);
	assert_non_null(az);
	assert_int_equal(cap_run(c, az, NULL, err, sizeof(err)), 0);
	az_finish(az);
	assert_int_equal(az_stats(az)->packets, 3);
	assert_int_equal(az_stats(az)->by_result[DEC_UNSUPPORTED], 3);
	assert_int_equal(cap_unsupported(c, 0, text, sizeof(text), &n), 1);
	assert_string_equal(text, "link type IEEE802_15_4 (195)");
	assert_int_equal(n, 3);
	az_free(az);
	cap_close(c);
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

/* ---- the reader thread: many batches, same results ----------------------
 *
 * cap_run() reads a saved capture in a thread of its own and hands frames
 * over in batches. The oracle below is the plain one-thread libpcap loop;
 * both feed an analyzer whose every connection record, finding and count
 * is folded into a digest, so a frame lost, repeated, reordered, altered
 * or wrongly skipped anywhere in a capture of many batches shows. */

#define BIG_CONNS 8000          /* 9 or 10 frames each: > 64 Ki frames */

struct fold {
	uint64_t h;
	uint64_t conns;
};

static void fold(struct fold *f, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		f->h ^= b[i];
		f->h *= 1099511628211ull;       /* FNV-1a */
	}
}

#define FOLD(f, v) do { __typeof__(v) v_ = (v); fold((f), &v_, sizeof(v_)); } while (0)

static void fold_dir(struct fold *f, const struct az_dir *d)
{
	FOLD(f, d->data_end);
	FOLD(f, d->fin_seen);
	FOLD(f, d->fin_packet);
	FOLD(f, d->rst_packet);
	FOLD(f, d->packets);
	FOLD(f, d->bytes);
	FOLD(f, d->retrans_packets);
	FOLD(f, d->http_messages);
}

static void on_conn_fold(const struct az_conn *c, void *arg)
{
	struct fold *f = arg;

	f->conns++;
	FOLD(f, c->id);
	FOLD(f, c->client_port);
	FOLD(f, c->server_port);
	FOLD(f, c->first_time);
	FOLD(f, c->last_time);
	FOLD(f, c->first_packet);
	FOLD(f, c->last_packet);
	FOLD(f, c->initiator);
	FOLD(f, c->kind);
	FOLD(f, c->lingered);
	FOLD(f, c->finding);
	fold_dir(f, &c->c2s);
	fold_dir(f, &c->s2c);
}

struct outcome {
	int rc;
	char err[512];
	struct az_stats st;
	uint64_t conns, findings, digest;
};

/* Finish az and fold what it found into o. */
static void finish_outcome(struct outcome *o, struct az *az, struct fold *f)
{
	az_finish(az);
	o->st = *az_stats(az);
	fold(f, &o->st.packets, sizeof(o->st.packets));
	fold(f, &o->st.filtered, sizeof(o->st.filtered));
	fold(f, &o->st.tcp, sizeof(o->st.tcp));
	fold(f, o->st.by_result, sizeof(o->st.by_result));
	fold(f, &o->st.bytes, sizeof(o->st.bytes));
	fold(f, &o->st.first_time, sizeof(o->st.first_time));
	fold(f, &o->st.last_time, sizeof(o->st.last_time));
	o->findings = az_n_findings(az);
	for (size_t i = 0; i < o->findings; i++) {
		const struct az_rst_finding *x = az_finding(az, i);

		FOLD(f, x->conn_id);
		FOLD(f, x->rst_packet);
		FOLD(f, x->bytes_at_risk_at_server);
		FOLD(f, x->bytes_at_risk_at_client);
	}
	o->conns = f->conns;
	o->digest = f->h;
	az_free(az);
}

static struct az *fold_az(struct fold *f)
{
	struct az_config cfg = { .on_conn = on_conn_fold, .arg = f };
	struct az *az;

	f->h = 14695981039346656037ull;
	f->conns = 0;
	az = az_new(&cfg);
	assert_non_null(az);
	return az;
}

/* The one-thread loop, straight on libpcap. */
static struct outcome oracle(const char *path, const char *filter,
                             uint64_t count)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	struct outcome o = { 0 };
	uint64_t records = 0, fed = 0;
	struct fold f;
	struct az *az = fold_az(&f);
	pcap_t *p;

	p = pcap_open_offline_with_tstamp_precision(path,
	        PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	assert_non_null(p);
	if (filter)
		assert_int_equal(pcap_compile(p, &prog, filter, 1,
		                              PCAP_NETMASK_UNKNOWN), 0);
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc;

		if (count && fed >= count)
			break;
		rc = pcap_next_ex(p, &h, &data);
		if (rc == PCAP_ERROR_BREAK)
			break;
		if (rc != 1) {
			snprintf(o.err, sizeof(o.err), "%s: record %llu: %s",
			         path, (unsigned long long)records + 1,
			         pcap_geterr(p));
			o.rc = -1;
			break;
		}
		records++;
		if (filter && pcap_offline_filter(&prog, h, data) == 0) {
			az_skip_frame(az);
			continue;
		}
		fed++;
		az_packet(az, pcap_datalink(p),
		          (double)h->ts.tv_sec + (double)h->ts.tv_usec * 1e-6,
		          data, h->caplen, h->len);
	}
	if (filter)
		pcap_freecode(&prog);
	pcap_close(p);
	finish_outcome(&o, az, &f);
	return o;
}

/* The same through cap_run() (lim may be NULL). */
static struct outcome threaded(const char *path, const char *filter,
                               const struct cap_limits *lim)
{
	struct outcome o = { 0 };
	struct fold f;
	struct az *az = fold_az(&f);
	struct cap *c;

	c = cap_open_offline(path, o.err, sizeof(o.err));
	assert_non_null(c);
	if (filter)
		assert_int_equal(cap_set_filter(c, filter, o.err,
		                                sizeof(o.err)), 0);
	o.rc = cap_run(c, az, lim, o.err, sizeof(o.err));
	cap_close(c);
	finish_outcome(&o, az, &f);
	return o;
}

static void expect_same(const struct outcome *a, const struct outcome *b)
{
	assert_int_equal(a->rc, b->rc);
	assert_string_equal(a->err, b->err);
	assert_int_equal(a->st.packets, b->st.packets);
	assert_int_equal(a->st.filtered, b->st.filtered);
	assert_int_equal(a->conns, b->conns);
	assert_int_equal(a->findings, b->findings);
	assert_int_equal(a->digest, b->digest);
}

/* Connection i: handshake, a request, a response of 100 to 1499 bytes, the
 * server's FIN; then every 7th client sends more and the server answers
 * with a RST (an rst_before_ack finding), the others close gracefully.
 * Servers alternate between ports 80 and 8080. Returns frames added. */
static size_t add_conn(struct pb_list *l, int i)
{
	struct pb_conn c;
	double t = 1700000000.0 + i * 0.002;
	size_t n0 = l->n;

	assert_int_equal(pb_conn_init(&c, "10.0.0.1", (uint16_t)(10000 + i % 50000),
	                              "10.0.0.2", i % 2 ? 8080 : 80,
	                              1000u + (uint32_t)i, 5000000u + (uint32_t)i), 0);
	assert_int_equal(pb_syn(l, &c, t), 0);
	assert_int_equal(pb_synack(l, &c, t + 0.0001), 0);
	assert_int_equal(pb_ack(l, &c, PB_C2S, t + 0.0002, PB_NEXT, PB_NEXT), 0);
	assert_int_equal(pb_send(l, &c, PB_C2S, t + 0.0003, PB_NEXT, PB_NEXT,
	                         "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	assert_int_equal(pb_data(l, &c, PB_S2C, t + 0.0004, PB_NEXT, PB_NEXT,
	                         NULL, 100 + (uint32_t)(i * 37) % 1400), 0);
	assert_int_equal(pb_fin(l, &c, PB_S2C, t + 0.0005, PB_NEXT, PB_NEXT), 0);
	if (i % 7 == 0) {
		assert_int_equal(pb_send(l, &c, PB_C2S, t + 0.0006, PB_NEXT,
		                         1, "more"), 0);
		assert_int_equal(pb_rst(l, &c, PB_S2C, t + 0.0007, PB_NEXT), 0);
	} else {
		assert_int_equal(pb_ack(l, &c, PB_C2S, t + 0.0006, PB_NEXT,
		                        PB_NEXT), 0);
		assert_int_equal(pb_fin(l, &c, PB_C2S, t + 0.0007, PB_NEXT,
		                        PB_NEXT), 0);
		assert_int_equal(pb_ack(l, &c, PB_S2C, t + 0.0008, PB_NEXT,
		                        PB_NEXT), 0);
	}
	return l->n - n0;
}

/* Write the big capture (BIG_CONNS connections; with huge, also two
 * records bigger than a batch's byte arena in the middle) to a temporary
 * file; its name goes to path, its frame count to *frames. */
static void write_big(char *path, size_t pathlen, bool huge, size_t *frames)
{
	static uint8_t junk[262144];
	struct pb_list l;
	char err[256];
	int fd;

	snprintf(path, pathlen, "/tmp/ll-test-capture-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	pb_list_init(&l, PB_DLT_EN10MB);
	for (int i = 0; i < BIG_CONNS; i++) {
		add_conn(&l, i);
		if (huge && (i == 10 || i == 11)) {
			memset(junk, 0xa5, sizeof(junk));
			assert_int_equal(pb_raw(&l, 1700000000.0 + i * 0.002 + 0.001,
			                        junk, i == 10 ? 200000 : 262144,
			                        262144), 0);
		}
	}
	*frames = l.n;
	assert_int_equal(pb_write_pcap(&l, path, err, sizeof(err)), 0);
	pb_list_free(&l);
}

static void test_thread_many_batches(void **state)
{
	char path[64];
	size_t frames;
	struct outcome a, b;
	struct cap_limits lim = { 0 };

	(void)state;
	write_big(path, sizeof(path), false, &frames);

	a = threaded(path, NULL, NULL);
	b = oracle(path, NULL, 0);
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.st.packets, frames);
	assert_int_equal(a.st.by_result[DEC_OK], frames);
	assert_int_equal(a.conns, BIG_CONNS);
	assert_int_equal(a.findings, (BIG_CONNS + 6) / 7);
	expect_same(&a, &b);

	/* the filter runs in the reader: rejected frames still count */
	a = threaded(path, "tcp port 8080", NULL);
	b = oracle(path, "tcp port 8080", 0);
	assert_int_equal(a.conns, BIG_CONNS / 2);
	assert_true(a.st.filtered > frames / 3 && a.st.filtered < frames * 2 / 3);
	assert_int_equal(a.st.packets, frames);
	expect_same(&a, &b);

	/* count stops at exactly that frame, with and without a filter */
	lim.count = 12345;
	a = threaded(path, NULL, &lim);
	b = oracle(path, NULL, 12345);
	assert_int_equal(a.st.packets, 12345);
	expect_same(&a, &b);
	a = threaded(path, "tcp port 8080", &lim);
	b = oracle(path, "tcp port 8080", 12345);
	assert_int_equal(a.st.packets - a.st.filtered, 12345);
	expect_same(&a, &b);
	unlink(path);
}

/* Records of 200000 and 262144 bytes, bigger than a batch's byte arena,
 * amid small ones. */
static void test_thread_huge_records(void **state)
{
	char path[64];
	size_t frames;
	struct outcome a, b;

	(void)state;
	write_big(path, sizeof(path), true, &frames);
	a = threaded(path, NULL, NULL);
	b = oracle(path, NULL, 0);
	unlink(path);
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.st.packets, frames);
	assert_int_equal(a.st.by_result[DEC_OK], frames - 2);
	expect_same(&a, &b);
}

/* Offset of record n (1-based) of a pcap file held in buf. */
static size_t record_offset(const uint8_t *buf, size_t len, uint64_t n)
{
	size_t off = 24;

	for (uint64_t i = 1; i < n; i++) {
		uint32_t caplen;

		assert_true(off + 16 <= len);
		caplen = (uint32_t)buf[off + 8] | (uint32_t)buf[off + 9] << 8 |
		         (uint32_t)buf[off + 10] << 16 | (uint32_t)buf[off + 11] << 24;
		off += 16 + caplen;
	}
	return off;
}

/* Record 50001 cut short, far beyond the first batches: the error names
 * it only after the 50000 frames before it were analyzed, and a count
 * that ends before it means no error (the reader must not read ahead into
 * it). */
static void test_thread_cut_late(void **state)
{
	char path[64], msg[512];
	size_t frames, off;
	struct outcome a, b;
	struct cap_limits lim = { 0 };
	struct stat st;
	uint8_t *buf;
	FILE *f;

	(void)state;
	write_big(path, sizeof(path), false, &frames);
	assert_true(frames > 60000);
	assert_int_equal(stat(path, &st), 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	off = record_offset(buf, (size_t)st.st_size, 50001);
	assert_int_equal(truncate(path, (off_t)(off + 16 + 5)), 0);
	snprintf(msg, sizeof(msg), "%s: record 50001: truncated dump file; "
	         "tried to read %u captured bytes, only got 5", path,
	         (unsigned)(buf[off + 8] | buf[off + 9] << 8));
	free(buf);

	a = threaded(path, NULL, NULL);
	b = oracle(path, NULL, 0);
	assert_int_equal(a.rc, -1);
	assert_string_equal(a.err, msg);
	assert_int_equal(a.st.packets, 50000);
	expect_same(&a, &b);

	lim.count = 50000;
	a = threaded(path, NULL, &lim);
	assert_int_equal(a.rc, 0);
	assert_string_equal(a.err, "");
	assert_int_equal(a.st.packets, 50000);
	lim.count = 50001;
	a = threaded(path, NULL, &lim);
	assert_int_equal(a.rc, -1);
	assert_string_equal(a.err, msg);
	unlink(path);
}

/* A stop request (here from the progress callback, at frame 65536) ends
 * the run at that frame although the reader has read ahead. */
static void set_stop(uint64_t packets, uint64_t bytes_read,
                     uint64_t file_size, void *arg)
{
	volatile sig_atomic_t *stop = arg;

	(void)packets; (void)bytes_read; (void)file_size;
	*stop = 1;
}

static void test_thread_stop(void **state)
{
	volatile sig_atomic_t stop = 0;
	struct cap_limits lim = { .stop = &stop, .progress = set_stop,
	                          .progress_arg = (void *)&stop };
	char path[64];
	size_t frames;
	struct outcome a;

	(void)state;
	write_big(path, sizeof(path), false, &frames);
	a = threaded(path, NULL, &lim);
	unlink(path);
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.st.packets, 65536);
}

static void on_alarm(int sig)
{
	(void)sig;
	_exit(99);      /* cap_run hung: fail loudly */
}

/* Standard input from a pipe whose writer stays open: with -c the run
 * ends when the count is reached, without waiting for more input. */
static void test_thread_pipe_count(void **state)
{
	struct cap_limits lim = { .count = 3 };
	uint8_t buf[234];
	int fds[2], saved, fd;
	struct run r;

	(void)state;
	fd = open(FIX "good.pcap", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], buf, sizeof(buf)), (ssize_t)sizeof(buf));
	saved = dup(0);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fds[0], 0), 0);
	close(fds[0]);
	/* drop what stdin buffered from files earlier tests put there */
	__fpurge(stdin);
	clearerr(stdin);
	signal(SIGALRM, on_alarm);
	alarm(10);
	r = run_file("-", NULL, &lim);
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	close(fds[1]);
	assert_int_equal(dup2(saved, 0), 0);
	close(saved);
	clearerr(stdin);
	assert_string_equal(r.err, "");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.st.packets, 3);
	assert_int_equal(r.st.by_result[DEC_OK], 3);
}

/* ---- the in-place reader (pcapread) against libpcap ------------------------
 *
 * A classic pcap file (either byte order, either precision) is read by
 * analyzer/pcapread.c, not libpcap, except for records that are not
 * plainly well-formed. Each test compares with a plain libpcap loop: record
 * by record (prd_vs_libpcap) and through cap_run() (threaded vs oracle). */

static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	FILE *f;

	assert_int_equal(stat(path, &st), 0);
	*len = (size_t)st.st_size;
	buf = malloc(*len ? *len : 1);
	assert_non_null(buf);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

static void spit(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void wr32(uint8_t *p, uint32_t v, bool swap)
{
	if (swap)
		v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
}

/* Rewrite the pcap file at path (as pb_write_pcap writes it, in our byte
 * order): swap puts every header into the other byte order; nsec makes it
 * a nanosecond file (fraction * 1000 + 999, which libpcap's division must
 * drop); snaplen, if not 0, goes into the file header. */
static void rewrite_pcap(const char *path, bool swap, bool nsec,
                         uint32_t snaplen)
{
	size_t len, off = 24;
	uint8_t *b = slurp(path, &len);
	uint16_t v16[2];

	assert_true(len >= 24);
	wr32(b, nsec ? 0xa1b23c4du : 0xa1b2c3d4u, swap);
	memcpy(v16, b + 4, 4);
	if (swap) {
		v16[0] = __builtin_bswap16(v16[0]);
		v16[1] = __builtin_bswap16(v16[1]);
	}
	memcpy(b + 4, v16, 4);
	for (size_t i = 8; i < 24; i += 4)
		wr32(b + i, i == 16 && snaplen ? snaplen : rd32(b + i), swap);
	while (off + 16 <= len) {
		uint32_t caplen = rd32(b + off + 8);
		uint32_t frac = rd32(b + off + 4);

		wr32(b + off, rd32(b + off), swap);
		wr32(b + off + 4, nsec ? frac * 1000 + 999 : frac, swap);
		wr32(b + off + 8, caplen, swap);
		wr32(b + off + 12, rd32(b + off + 12), swap);
		off += 16 + caplen;
	}
	spit(path, b, len);
	free(b);
}

/* Read path through pcapread, in buffers of bufsize bytes (a new one, as
 * big as asked for, whenever a record does not fit), and through libpcap
 * side by side: every record, the end and any error text must be the
 * same. Returns the records read; the error text, if any, goes to err. */
static size_t prd_vs_libpcap(const char *path, size_t bufsize, char *err,
                             size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct prd_buf b = { .size = bufsize };
	pcap_t *a, *o;
	struct prd *r;
	size_t n = 0;

	err[0] = '\0';
	a = pcap_open_offline_with_tstamp_precision(path,
	        PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	o = pcap_open_offline_with_tstamp_precision(path,
	        PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	assert_non_null(a);
	assert_non_null(o);
	r = prd_open(a);
	assert_non_null(r);
	b.mem = malloc(b.size);
	assert_non_null(b.mem);
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *d;
		struct prd_rec rec;
		enum prd_status st = prd_next(r, &b, &rec);
		int rc;

		if (st == PRD_FULL) {
			struct prd_buf nb = { .size = prd_need(r) };

			if (nb.size < bufsize)
				nb.size = bufsize;
			nb.mem = malloc(nb.size);
			assert_non_null(nb.mem);
			prd_carry(&b, &nb);
			free(b.mem);
			b = nb;
			continue;
		}
		rc = pcap_next_ex(o, &h, &d);
		if (st == PRD_EOF) {
			assert_int_equal(rc, PCAP_ERROR_BREAK);
			break;
		}
		if (st == PRD_ERROR) {
			assert_int_equal(rc, PCAP_ERROR);
			assert_string_equal(prd_error(r), pcap_geterr(o));
			snprintf(err, errlen, "%s", prd_error(r));
			break;
		}
		assert_int_equal(st, PRD_REC);
		assert_int_equal(rc, 1);
		n++;
		assert_int_equal(rec.h.ts.tv_sec, h->ts.tv_sec);
		assert_int_equal(rec.h.ts.tv_usec, h->ts.tv_usec);
		assert_int_equal(rec.h.caplen, h->caplen);
		assert_int_equal(rec.h.len, h->len);
		assert_memory_equal(b.mem + rec.off, d, h->caplen);
		assert_int_equal(rec.end, (uint64_t)ftello(pcap_file(o)));
	}
	free(b.mem);
	assert_int_equal(prd_close(r), 0);
	pcap_close(a);
	pcap_close(o);
	return n;
}

/* cap_run() and the plain libpcap loop agree on path, with and without a
 * filter, and every record passes pcapread in small and large buffers. */
static void expect_fast_same(const char *path, size_t frames)
{
	struct outcome a, b;
	char err[PCAP_ERRBUF_SIZE];

	assert_int_equal(prd_vs_libpcap(path, 1u << 20, err, sizeof(err)), frames);
	assert_int_equal(prd_vs_libpcap(path, 300, err, sizeof(err)), frames);
	a = threaded(path, NULL, NULL);
	b = oracle(path, NULL, 0);
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.st.packets, frames);
	expect_same(&a, &b);
	a = threaded(path, "tcp port 8080", NULL);
	b = oracle(path, "tcp port 8080", 0);
	assert_int_equal(a.conns, BIG_CONNS / 2);
	expect_same(&a, &b);
}

static void test_fast_swapped(void **state)
{
	char path[64];
	size_t frames;
	struct outcome a;

	(void)state;
	write_big(path, sizeof(path), false, &frames);
	rewrite_pcap(path, true, false, 0);
	expect_fast_same(path, frames);
	/* the same analysis as the file in our byte order */
	a = threaded(path, NULL, NULL);
	assert_int_equal(a.conns, BIG_CONNS);
	assert_int_equal(a.findings, (BIG_CONNS + 6) / 7);
	assert_int_equal(a.st.by_result[DEC_OK], frames);
	assert_true(fabs(a.st.first_time - 1700000000.0) < 1e-6);
	unlink(path);
}

static void test_fast_nanosecond(void **state)
{
	char path[64];
	size_t frames;
	struct outcome a;

	(void)state;
	write_big(path, sizeof(path), false, &frames);
	rewrite_pcap(path, false, true, 0);
	expect_fast_same(path, frames);
	a = threaded(path, NULL, NULL);
	/* 999 ns more than a whole microsecond: cut, not rounded */
	assert_true(fabs(a.st.first_time - 1700000000.0) < 1e-7);
	rewrite_pcap(path, true, true, 0);
	expect_fast_same(path, frames);
	unlink(path);
}

/* Records across the end of a buffer, and records of 200000 and 262144
 * bytes, bigger than the buffer (and than a batch's arena). */
static void test_fast_small_buffers(void **state)
{
	char path[64], err[PCAP_ERRBUF_SIZE];
	size_t frames;

	(void)state;
	write_big(path, sizeof(path), true, &frames);
	assert_int_equal(prd_vs_libpcap(path, 64, err, sizeof(err)), frames);
	assert_int_equal(prd_vs_libpcap(path, 4096, err, sizeof(err)), frames);
	assert_int_equal(prd_vs_libpcap(path, 128u << 10, err, sizeof(err)),
	                 frames);
	unlink(path);
}

/* A record with caplen beyond the file's snaplen (but within libpcap's
 * maximum) in the middle: libpcap keeps snaplen bytes of it and skips the
 * rest; the records after it are read as before. */
static void test_fast_over_snaplen_middle(void **state)
{
	static uint8_t junk[3000];
	char path[64] = "/tmp/ll-test-capture-XXXXXX", err[PCAP_ERRBUF_SIZE];
	struct pb_list l;
	struct outcome a, b;
	size_t frames;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	pb_list_init(&l, PB_DLT_EN10MB);
	for (int i = 0; i < 300; i++) {
		add_conn(&l, i);
		if (i == 150) {
			memset(junk, 0x5a, sizeof(junk));
			assert_int_equal(pb_raw(&l, 1700000000.0 + i * 0.002 +
			                        0.001, junk, sizeof(junk),
			                        sizeof(junk)), 0);
		}
	}
	frames = l.n;
	assert_int_equal(pb_write_pcap(&l, path, err, sizeof(err)), 0);
	pb_list_free(&l);
	rewrite_pcap(path, false, false, 2000);
	assert_int_equal(prd_vs_libpcap(path, 1u << 20, err, sizeof(err)),
	                 frames);
	assert_int_equal(prd_vs_libpcap(path, 2500, err, sizeof(err)), frames);
	a = threaded(path, NULL, NULL);
	b = oracle(path, NULL, 0);
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.st.packets, frames);
	assert_int_equal(a.conns, 300);
	expect_same(&a, &b);
	unlink(path);
}

/* The end of the file cutting a record header or a record body: the same
 * error text as libpcap's, for the fixtures and far into a big file. */
static void test_fast_cut(void **state)
{
	char path[64], err[PCAP_ERRBUF_SIZE], msg[512];
	size_t frames, off, len;
	struct outcome a, b;
	uint8_t *buf;

	(void)state;
	assert_int_equal(prd_vs_libpcap(FIX "cut-record-header.pcap", 4096, err,
	                                sizeof(err)), 2);
	assert_string_equal(err, "truncated dump file; tried to read 16 "
	                    "header bytes, only got 7");
	assert_int_equal(prd_vs_libpcap(FIX "cut-record-body.pcap", 40, err,
	                                sizeof(err)), 2);
	assert_string_equal(err, "truncated dump file; tried to read 54 "
	                    "captured bytes, only got 20");
	assert_int_equal(prd_vs_libpcap(FIX "huge-caplen.pcap", 4096, err,
	                                sizeof(err)), 1);
	assert_string_equal(err, "invalid packet capture length 300000, bigger "
	                    "than snaplen of 262144");

	write_big(path, sizeof(path), false, &frames);
	buf = slurp(path, &len);
	off = record_offset(buf, len, 70001);
	free(buf);
	assert_int_equal(truncate(path, (off_t)(off + 9)), 0);
	snprintf(msg, sizeof(msg), "%s: record 70001: truncated dump file; "
	         "tried to read 16 header bytes, only got 9", path);
	assert_int_equal(prd_vs_libpcap(path, 1000, err, sizeof(err)), 70000);
	a = threaded(path, NULL, NULL);
	b = oracle(path, NULL, 0);
	assert_int_equal(a.rc, -1);
	assert_string_equal(a.err, msg);
	assert_int_equal(a.st.packets, 70000);
	expect_same(&a, &b);
	unlink(path);
}

/* Files the in-place reader leaves to libpcap. */
static void test_fast_refuses(void **state)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;

	(void)state;
	p = pcap_open_offline_with_tstamp_precision(FIX "good.pcapng",
	        PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	assert_non_null(p);
	assert_null(prd_open(p));
	pcap_close(p);
	/* nanoseconds asked for: libpcap scales, we do not */
	p = pcap_open_offline_with_tstamp_precision(FIX "good.pcap",
	        PCAP_TSTAMP_PRECISION_NANO, ebuf);
	assert_non_null(p);
	assert_null(prd_open(p));
	pcap_close(p);
	p = pcap_open_offline_with_tstamp_precision(FIX "good.pcap",
	        PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	assert_non_null(p);
	assert_int_equal(prd_close(prd_open(p)), 0);
	pcap_close(p);
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
	assert_null(cap_open_live_buffer("llnope0", 1 << 20, err, sizeof(err)));
	assert_string_equal(err, "llnope0: No such device exists");
	/* pcap_set_buffer_size() takes an int: more is refused, not cut */
	assert_null(cap_open_live_buffer("lo", CAP_BUFFER_MAX + 1, err, sizeof(err)));
	assert_string_equal(err, "lo: capture buffer: 2147483648 bytes is more "
	                         "than the 2147483647 libpcap takes");
}

/* A saved capture has no kernel counters. */
static void test_kernel_stats_offline(void **state)
{
	struct cap_kstats ks;
	char err[256];
	struct cap *c;

	(void)state;
	c = cap_open_offline(FIX "good.pcap", err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(cap_kernel_stats(c, &ks), -1);
	cap_close(c);
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

	/* the kernel's counters, read when the run ended: the three frames
	 * went through the filter (on loopback the kernel counts each twice,
	 * going out and coming in; libpcap drops the outgoing copy), none was
	 * dropped */
	{
		struct cap_kstats ks;

		assert_int_equal(cap_kernel_stats(c, &ks), 0);
		assert_true(ks.received >= 3);
		assert_int_equal(ks.kernel_dropped, 0);
	}

	az_finish(az);
	az_free(az);
	cap_close(c);
	close(as);
	close(cs);
	close(ls);
}

/* Frames decoded on the reader's thread (az_predecode(), cap_run() on a
 * saved file with two CPUs or more) and frames decoded by az_packet() on
 * the analyzer's (the plain loop; and cap_run() on one CPU, where the
 * reader does not decode): the same records, findings and counts on every
 * capture the repository keeps (real servers, tunnels, the damaged files),
 * whole and through a filter. */
static void same_on_captures(void)
{
	static const char *const dirs[] = {
		"tests/captures/real", "tests/captures/encap", FIX,
	};
	size_t files = 0;

	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		DIR *dp = opendir(dirs[d]);
		struct dirent *e;

		assert_non_null(dp);
		while ((e = readdir(dp)) != NULL) {
			char path[512];
			size_t n = strlen(e->d_name);
			struct outcome a, b;
			char ebuf[PCAP_ERRBUF_SIZE];
			pcap_t *p;

			if (!(n > 5 && strcmp(e->d_name + n - 5, ".pcap") == 0) &&
			    !(n > 7 && strcmp(e->d_name + n - 7, ".pcapng") == 0))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[d], e->d_name);
			/* the oracle reads through libpcap: only what it opens */
			struct bpf_program prog;
			bool filterable;

			p = pcap_open_offline(path, ebuf);
			if (!p)
				continue;
			/* a link type BPF has no "tcp" for is read whole only */
			filterable = pcap_compile(p, &prog, "tcp", 1,
			                          PCAP_NETMASK_UNKNOWN) == 0;
			if (filterable)
				pcap_freecode(&prog);
			pcap_close(p);
			a = threaded(path, NULL, NULL);
			b = oracle(path, NULL, 0);
			expect_same(&a, &b);
			if (filterable) {
				a = threaded(path, "tcp", NULL);
				b = oracle(path, "tcp", 0);
				expect_same(&a, &b);
			}
			files++;
		}
		closedir(dp);
	}
	/* the repository's captures were found */
	assert_true(files >= 30);
}

static void test_predecoded_same_on_captures(void **state)
{
	cpu_set_t all, one;
	(void)state;

	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	same_on_captures();
	/* on one CPU (the reader thread inherits the mask) */
	CPU_ZERO(&one);
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &all)) {
			CPU_SET(i, &one);
			break;
		}
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	same_on_captures();
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_pcap),
		cmocka_unit_test(test_kernel_stats_offline),
		cmocka_unit_test(test_good_pcapng),
		cmocka_unit_test(test_nanosecond),
		cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_unreadable_files),
		cmocka_unit_test(test_unsupported_linktype),
		cmocka_unit_test(test_cut_files),
		cmocka_unit_test(test_huge_caplen),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_garbage_frames),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_count_and_stop),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_thread_many_batches),
		cmocka_unit_test(test_thread_huge_records),
		cmocka_unit_test(test_thread_cut_late),
		cmocka_unit_test(test_thread_stop),
		cmocka_unit_test(test_thread_pipe_count),
		cmocka_unit_test(test_fast_swapped),
		cmocka_unit_test(test_fast_nanosecond),
		cmocka_unit_test(test_fast_small_buffers),
		cmocka_unit_test(test_fast_over_snaplen_middle),
		cmocka_unit_test(test_fast_cut),
		cmocka_unit_test(test_fast_refuses),
		cmocka_unit_test(test_predecoded_same_on_captures),
		cmocka_unit_test(test_live_errors),
		cmocka_unit_test(test_live_loopback),
	};

	return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
