/*
 * test_analyzer_pktbuild.c - the test packet builder the analyzer tests and
 * the golden captures rest on: valid IPv4 and TCP checksums (so tcpdump and
 * Wireshark show no errors in golden files), IPv6 TCP checksums, relative
 * numbers and PB_NEXT, snaplen cuts, a pcap round trip with microsecond
 * timestamps, and the error for a file that cannot be written.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <unistd.h>

#include "tests/unit/analyzer_helpers.h"

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* A frame's checksums verify: the one's-complement sums come to 0xffff. */
static void assert_checksums(const struct pb_frame *f)
{
	const uint8_t *ip = f->bytes + 14;
	uint32_t s;
	size_t tcp_len;

	if (ip[0] >> 4 == 4) {
		assert_int_equal(fold(sum16(ip, 20, 0)), 0xffff);
		tcp_len = (size_t)(ip[2] << 8 | ip[3]) - 20;
		s = sum16(ip + 12, 8, 0) + 6 + (uint32_t)tcp_len;
		assert_int_equal(fold(sum16(ip + 20, tcp_len, s)), 0xffff);
	} else {
		tcp_len = (size_t)(ip[4] << 8 | ip[5]);
		s = sum16(ip + 8, 32, 0) + 6 + (uint32_t)tcp_len;
		assert_int_equal(fold(sum16(ip + 40, tcp_len, s)), 0xffff);
	}
}

static void test_checksums_and_numbers(void **state)
{
	struct pb_list l;
	struct pb_conn c, c6;
	struct dec_tcp t;
	size_t i;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	assert_int_equal(pb_conn_init(&c, "10.0.0.2", 40000, "10.0.0.1", 80,
	                              4294967000u, 77), 0);
	c.timestamps = true;
	assert_int_equal(pb_syn(&l, &c, 1.0), 0);
	assert_int_equal(pb_synack(&l, &c, 1.1), 0);
	assert_int_equal(pb_ack(&l, &c, PB_C2S, 1.2, PB_NEXT, PB_NEXT), 0);
	assert_int_equal(pb_send(&l, &c, PB_C2S, 1.3, PB_NEXT, PB_NEXT, "odd!!"), 0);
	assert_int_equal(pb_rst(&l, &c, PB_S2C, 1.4, PB_NEXT), 0);
	assert_int_equal(pb_conn_init(&c6, "fd00::2", 5, "fd00::1", 6, 1, 2), 0);
	assert_int_equal(pb_data(&l, &c6, PB_C2S, 1.5, 1, 1, NULL, 301), 0);
	for (i = 0; i < l.n; i++)
		assert_checksums(&l.frames[i]);

	/* the data segment: client ISN + 1, acking server ISN + 1 */
	assert_int_equal(dec_packet(PB_DLT_EN10MB, l.frames[3].bytes, l.frames[3].caplen,
	                            l.frames[3].wirelen, &t, NULL), DEC_OK);
	assert_int_equal(t.seq, 4294967001u);
	assert_int_equal(t.ack, 78);
	assert_int_equal(t.seg_len, 5);
	assert_int_equal(t.flags, PB_PSH | PB_ACK);
	assert_true(t.has_ts);
	/* the RST at PB_NEXT: the server's next seq (1), no ACK */
	assert_int_equal(dec_packet(PB_DLT_EN10MB, l.frames[4].bytes, l.frames[4].caplen,
	                            l.frames[4].wirelen, &t, NULL), DEC_OK);
	assert_int_equal(t.seq, 78);
	assert_int_equal(t.flags, PB_RST);
	assert_int_equal(c.snd_nxt[PB_C2S], 6);
	/* the SYN carries MSS, SACK-permitted, timestamps, window scale */
	assert_int_equal(dec_packet(PB_DLT_EN10MB, l.frames[0].bytes, l.frames[0].caplen,
	                            l.frames[0].wirelen, &t, NULL), DEC_OK);
	assert_int_equal(t.mss, 1460);
	assert_int_equal(t.wscale, 7);
	assert_true(t.sack_permitted);
	pb_list_free(&l);
}

/* Snaplen keeps the headers and cuts the payload; the decoder still sees
 * the wire length. */
static void test_snaplen(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct dec_tcp t;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	assert_int_equal(pb_conn_init(&c, "10.0.0.2", 40000, "10.0.0.1", 80, 1, 2), 0);
	c.snaplen = 64;
	assert_int_equal(pb_data(&l, &c, PB_C2S, 1.0, 1, 1, NULL, 1000), 0);
	assert_int_equal(l.frames[0].caplen, 64);
	assert_int_equal(l.frames[0].wirelen, 14 + 20 + 20 + 1000);
	assert_int_equal(dec_packet(PB_DLT_EN10MB, l.frames[0].bytes, l.frames[0].caplen,
	                            l.frames[0].wirelen, &t, NULL), DEC_OK);
	assert_int_equal(t.seg_len, 1000);
	assert_int_equal(t.payload_caplen, 10);
	pb_list_free(&l);
}

/* Written frames read back unchanged, in order, with their times. */
static void test_pcap_round_trip(void **state)
{
	char path[64], err[256], perr[PCAP_ERRBUF_SIZE];
	struct pb_list l;
	struct pb_conn c;
	struct pcap_pkthdr *h;
	const u_char *b;
	pcap_t *p;
	size_t i = 0;
	(void)state;

	snprintf(path, sizeof(path), "/tmp/ll-pktbuild-%ld.pcap", (long)getpid());
	pb_list_init(&l, PB_DLT_RAW);
	assert_int_equal(pb_conn_init(&c, "10.0.0.2", 40000, "10.0.0.1", 80, 1, 2), 0);
	pb_syn(&l, &c, 855460649.171129);
	pb_synack(&l, &c, 855460649.999999);
	pb_ack(&l, &c, PB_C2S, 855460650.5, PB_NEXT, PB_NEXT);
	assert_int_equal(pb_write_pcap(&l, path, err, sizeof(err)), 0);
	p = pcap_open_offline(path, perr);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_RAW);
	while (pcap_next_ex(p, &h, &b) == 1) {
		assert_true(i < l.n);
		assert_int_equal(h->caplen, l.frames[i].caplen);
		assert_int_equal(h->len, l.frames[i].wirelen);
		assert_memory_equal(b, l.frames[i].bytes, h->caplen);
		ASSERT_CLOSE((double)h->ts.tv_sec + h->ts.tv_usec * 1e-6, l.frames[i].t);
		i++;
	}
	assert_int_equal(i, 3);
	pcap_close(p);
	assert_int_equal(unlink(path), 0);

	assert_int_equal(pb_write_pcap(&l, "/nonexistent-dir/x.pcap", err, sizeof(err)), -1);
	assert_memory_equal(err, "pcap: /nonexistent-dir/x.pcap: ", 31);
	pb_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksums_and_numbers),
		cmocka_unit_test(test_snaplen),
		cmocka_unit_test(test_pcap_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
