/*
 * test_rawtcp6.c - the raw TCP client over IPv6, in offline mode: what it
 * would inject is a well-formed IPv6 packet (version 6, next header TCP,
 * hop limit 64, payload length = TCP header + data, our addresses) whose
 * TCP checksum is right over the RFC 8200 8.1 pseudo-header, checked here
 * by an independent sum; the SYN announces the IPv6 MSS (1440); the
 * server's IPv6 segments are taken in (handshake, data, FIN) and acked;
 * packets of the other family or from another address are refused.
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
#include <pcap/dlt.h>

#include "analyzer/decode.h"
#include "lab/rawtcp.h"

#define CLIENT6 "fd6c:6c6c:4a12::3"
#define SERVER6 "fd6c:6c6c:4a12::1"
#define SPORT 80

struct out6 {
	uint8_t pkt[4][2048];
	size_t len[4];
	size_t n;
};

static void on_out(void *arg, const uint8_t *ip, size_t len)
{
	struct out6 *o = arg;

	assert_true(len <= sizeof o->pkt[0]);
	if (o->n < 4) {
		memcpy(o->pkt[o->n], ip, len);
		o->len[o->n] = len;
	}
	o->n++;
}

/* RFC 1071 one's-complement sum, continued from sum. */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The TCP checksum of an IPv6 packet over the pseudo-header (source,
 * destination, upper-layer length, next header 6) and the segment, with
 * the checksum field as sent: 0 means it is right. */
static uint16_t tcp6_verify(const uint8_t *ip, size_t len)
{
	uint8_t ph[40];
	uint32_t tcplen = (uint32_t)len - 40;

	memcpy(ph, ip + 8, 32);
	ph[32] = (uint8_t)(tcplen >> 24); ph[33] = (uint8_t)(tcplen >> 16);
	ph[34] = (uint8_t)(tcplen >> 8); ph[35] = (uint8_t)tcplen;
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = 6;
	return fold(sum16(ip + 40, tcplen, sum16(ph, sizeof ph, 0)));
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* A server segment over IPv6 (the client does not check checksums). */
static size_t srv6(uint8_t *b, const char *src, const char *dst, uint16_t dport, uint32_t seq,
                   uint32_t ack, uint8_t flags, const uint8_t *opt, size_t optlen,
                   const char *data)
{
	size_t dl = data ? strlen(data) : 0, th = 20 + optlen, tot = 40 + th + dl;

	memset(b, 0, 60);
	b[0] = 0x60;
	b[4] = (uint8_t)((th + dl) >> 8); b[5] = (uint8_t)(th + dl);
	b[6] = 6;
	b[7] = 64;
	inet_pton(AF_INET6, src, b + 8);
	inet_pton(AF_INET6, dst, b + 24);
	b[40] = SPORT >> 8; b[41] = SPORT & 0xff;
	b[42] = (uint8_t)(dport >> 8); b[43] = (uint8_t)dport;
	put32(b + 44, seq);
	put32(b + 48, ack);
	b[52] = (uint8_t)((th / 4) << 4);
	b[53] = flags;
	b[54] = 0xff; b[55] = 0xff;
	if (optlen)
		memcpy(b + 60, opt, optlen);
	if (dl)
		memcpy(b + 40 + th, data, dl);
	return tot;
}

static void pump(struct rawtcp *c)
{
	char err[200];
	assert_int_equal(rawtcp_run(c, rawtcp_now_us() + 5000, NULL, NULL, err, sizeof err), 0);
}

static void test_ipv6_conversation(void **state)
{
	struct rawtcp_config cfg;
	struct rawtcp_conn_opts o;
	struct rawtcp_conn_info info;
	struct rawtcp *c;
	struct rawtcp_conn *k;
	struct out6 *w = calloc(1, sizeof *w);
	struct dec_tcp d;
	uint8_t b[2048], a[16];
	char err[200];
	size_t n;
	const uint8_t mss[4] = { 2, 4, 0x05, 0xa0 };   /* 1440 */

	(void)state;
	assert_non_null(w);
	rawtcp_config_init(&cfg);
	cfg.local_addr = CLIENT6;
	cfg.peer_addr = SERVER6;
	cfg.seed = 7;
	cfg.out = on_out;
	cfg.out_arg = w;
	c = rawtcp_open(&cfg, err, sizeof err);
	assert_non_null(c);
	rawtcp_conn_opts_init(&o);
	o.dport = SPORT;
	k = rawtcp_connect(c, &o, err, sizeof err);
	assert_non_null(k);
	pump(c);
	assert_int_equal(w->n, 1);

	/* the SYN: an IPv6 header libnet built, then TCP */
	const uint8_t *p = w->pkt[0];
	assert_int_equal(p[0] >> 4, 6);
	assert_int_equal(p[6], 6);                     /* next header: TCP */
	assert_int_equal(p[7], 64);                    /* hop limit */
	assert_int_equal((size_t)(p[4] << 8 | p[5]) + 40, w->len[0]);
	inet_pton(AF_INET6, CLIENT6, a);
	assert_memory_equal(p + 8, a, 16);
	inet_pton(AF_INET6, SERVER6, a);
	assert_memory_equal(p + 24, a, 16);
	assert_int_equal(tcp6_verify(p, w->len[0]), 0);
	assert_int_equal(dec_packet(DLT_RAW, p, (uint32_t)w->len[0], (uint32_t)w->len[0], &d, NULL), DEC_OK);
	assert_int_equal(d.af, 6);
	assert_int_equal(d.flags, LL_TH_SYN);
	assert_int_equal(d.mss, 1440);                 /* 1500 - 40 - 20 */
	uint32_t iss = d.seq;
	uint16_t lport = d.sport;

	/* SYN-ACK, then a response with FIN */
	n = srv6(b, SERVER6, CLIENT6, lport, 5000, iss + 1, LL_TH_SYN | LL_TH_ACK, mss, 4, NULL);
	assert_int_equal(rawtcp_input_ip(c, b, n, err, sizeof err), 0);
	pump(c);
	assert_int_equal(rawtcp_conn_state(k), RAWTCP_ESTABLISHED);
	assert_int_equal(rawtcp_send(k, "GET / HTTP/1.1\r\n\r\n", 18, err, sizeof err), 0);
	pump(c);
	n = srv6(b, SERVER6, CLIENT6, lport, 5001, iss + 19, LL_TH_ACK | LL_TH_PSH | LL_TH_FIN,
	         NULL, 0, "HTTP/1.1 404 Not Found\r\n\r\n");
	assert_int_equal(rawtcp_input_ip(c, b, n, err, sizeof err), 0);
	pump(c);
	rawtcp_conn_info(k, &info);
	assert_int_equal(info.peer_mss, 1440);
	assert_int_equal(info.rx_received, 26);
	assert_true(info.peer_fin && info.peer_fin_acked);
	assert_int_equal(info.bytes_acked, 18);
	assert_true(w->n >= 4);
	/* every packet it made: IPv6 with a right checksum; the data
	 * segment carries the request */
	for (size_t i = 1; i < 4; i++) {
		assert_int_equal(w->pkt[i][0] >> 4, 6);
		assert_int_equal(tcp6_verify(w->pkt[i], w->len[i]), 0);
	}
	assert_int_equal(dec_packet(DLT_RAW, w->pkt[2], (uint32_t)w->len[2], (uint32_t)w->len[2], &d, NULL),
	                 DEC_OK);
	assert_int_equal(d.seg_len, 18);
	assert_memory_equal(d.payload, "GET / HTTP/1.1\r\n\r\n", 18);
	/* a flipped payload bit would show in the checksum */
	w->pkt[2][w->len[2] - 1] ^= 1;
	assert_int_not_equal(tcp6_verify(w->pkt[2], w->len[2]), 0);

	/* refused: from another address, the other family, by name */
	n = srv6(b, "fd6c:6c6c:4a12::9", CLIENT6, lport, 5028, iss + 19, LL_TH_ACK, NULL, 0, NULL);
	assert_int_equal(rawtcp_input_ip(c, b, n, err, sizeof err), -1);
	assert_string_equal(err, "rawtcp_input_ip: not from peer_addr to local_addr");
	assert_int_equal(rawtcp_input_ipv4(c, b, n, err, sizeof err), -1);
	assert_true(strncmp(err, "rawtcp_input_ipv4: ", 19) == 0);
	rawtcp_free(c);
	free(w);
}

/* rawtcp_input_ip takes IPv4 too, for an IPv4 client. */
static void test_input_ip_v4(void **state)
{
	struct rawtcp_config cfg;
	struct rawtcp *c;
	struct out6 *w = calloc(1, sizeof *w);
	uint8_t b[40] = { 0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 3,
	                  0, 80, 0x9c, 0x40, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, LL_TH_RST, 0, 0 };
	char err[200];

	(void)state;
	rawtcp_config_init(&cfg);
	cfg.local_addr = "10.0.0.3";
	cfg.peer_addr = "10.0.0.1";
	cfg.out = on_out;
	cfg.out_arg = w;
	c = rawtcp_open(&cfg, err, sizeof err);
	assert_non_null(c);
	assert_int_equal(rawtcp_input_ip(c, b, sizeof b, err, sizeof err), 0);
	b[15] = 2;
	assert_int_equal(rawtcp_input_ip(c, b, sizeof b, err, sizeof err), -1);
	assert_string_equal(err, "rawtcp_input_ip: not from peer_addr to local_addr");
	rawtcp_free(c);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv6_conversation),
		cmocka_unit_test(test_input_ip_v4),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
