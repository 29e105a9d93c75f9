/*
 * test_rawtcp_locals.c - the raw client speaking from several local
 * addresses (rawtcp_config.local_addr_count), offline (the out hook): each
 * address has the whole port range, segments leave from their
 * connection's address, the server's segments find their connection by
 * address and port, and bad counts are refused with a clear message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/decode.h"
#include "lab/rawtcp.h"

#define SERVER_IP "10.99.0.1"

struct sent {
	uint8_t src[4];
	uint16_t sport;
	uint32_t seq;
	uint8_t flags;
};

struct wire {
	struct sent v[16];
	size_t n;
};

static void on_out(void *arg, const uint8_t *ip, size_t len)
{
	struct wire *w = arg;
	struct dec_tcp d;
	assert_int_equal(dec_packet(DLT_IPV4, ip, (uint32_t)len, (uint32_t)len, &d, NULL), DEC_OK);
	assert_true(w->n < 16);
	memcpy(w->v[w->n].src, d.src, 4);
	w->v[w->n].sport = d.sport;
	w->v[w->n].seq = d.seq;
	w->v[w->n].flags = d.flags;
	w->n++;
}

/* A SYN-ACK from the server to dst:dport acknowledging iss. */
static int synack(struct rawtcp *c, const char *dst, uint16_t dport, uint32_t iss, char *err, size_t errlen)
{
	uint8_t b[40] = { 0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6 };
	uint32_t seq = htonl(5000), ack = htonl(iss + 1);
	inet_pton(AF_INET, SERVER_IP, b + 12);
	inet_pton(AF_INET, dst, b + 16);
	b[20] = 0; b[21] = 80;
	b[22] = (uint8_t)(dport >> 8); b[23] = (uint8_t)dport;
	memcpy(b + 24, &seq, 4);
	memcpy(b + 28, &ack, 4);
	b[32] = 5 << 4;
	b[33] = 0x12; /* SYN ACK */
	b[34] = 0xff; b[35] = 0xff;
	return rawtcp_input_ipv4(c, b, sizeof b, err, errlen);
}

static void test_three_addresses(void **state)
{
	struct wire w = { .n = 0 };
	struct rawtcp_config cfg;
	struct rawtcp_conn_opts o;
	struct rawtcp_conn *k[3];
	struct rawtcp_event ev;
	struct rawtcp *c;
	char err[256] = "";
	uint8_t seen = 0;
	int connected = 0;
	(void)state;

	rawtcp_config_init(&cfg);
	cfg.local_addr = "10.99.0.3";
	cfg.peer_addr = SERVER_IP;
	cfg.local_addr_count = 3;
	cfg.port_min = cfg.port_max = 40000; /* one port: each address holds one */
	cfg.out = on_out;
	cfg.out_arg = &w;
	c = rawtcp_open(&cfg, err, sizeof err);
	assert_non_null(c);
	rawtcp_conn_opts_init(&o);
	o.dport = 80;
	for (int i = 0; i < 3; i++) {
		k[i] = rawtcp_connect(c, &o, err, sizeof err);
		assert_non_null(k[i]);
		assert_int_equal(rawtcp_conn_local_port(k[i]), 40000);
	}
	assert_null(rawtcp_connect(c, &o, err, sizeof err));
	assert_string_equal(err, "rawtcp_connect: no free local port");
	assert_int_equal(rawtcp_run(c, rawtcp_now_us() + 2000, NULL, NULL, err, sizeof err), 0);

	/* three SYNs, one from each of .3 .4 .5, all from port 40000 */
	assert_int_equal(w.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(w.v[i].flags, 0x02);
		assert_int_equal(w.v[i].sport, 40000);
		assert_true(w.v[i].src[0] == 10 && w.v[i].src[1] == 99 && w.v[i].src[2] == 0);
		assert_in_range(w.v[i].src[3], 3, 5);
		seen |= (uint8_t)(1u << (w.v[i].src[3] - 3));
	}
	assert_int_equal(seen, 7);

	/* the SYN-ACK to .4 opens exactly the connection that spoke from .4 */
	for (size_t i = 0; i < 3; i++)
		if (w.v[i].src[3] == 4)
			assert_int_equal(synack(c, "10.99.0.4", 40000, w.v[i].seq, err, sizeof err), 0);
	assert_int_equal(rawtcp_run(c, rawtcp_now_us() + 2000, NULL, NULL, err, sizeof err), 0);
	while (rawtcp_next_event(c, &ev))
		if (ev.type == RAWTCP_EV_CONNECTED)
			connected++;
	assert_int_equal(connected, 1);
	assert_int_equal(w.n, 4);
	assert_int_equal(w.v[3].flags, 0x10); /* its ACK, from .4 */
	assert_int_equal(w.v[3].src[3], 4);

	/* .6 is not ours */
	assert_int_equal(synack(c, "10.99.0.6", 40000, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "not from peer_addr to local_addr"));
	rawtcp_free(c);
}

static void test_refused_counts(void **state)
{
	struct rawtcp_config cfg;
	char err[256] = "";
	(void)state;
	rawtcp_config_init(&cfg);
	cfg.local_addr = "10.99.0.3";
	cfg.peer_addr = SERVER_IP;
	cfg.local_addr_count = 17;
	assert_null(rawtcp_open(&cfg, err, sizeof err));
	assert_string_equal(err, "rawtcp_open: local_addr_count: 17 is not in 1..16");
	cfg.local_addr_count = 2;
	cfg.peer_port = 80;
	assert_null(rawtcp_open(&cfg, err, sizeof err));
	assert_string_equal(err, "rawtcp_open: local_addr_count: 2 is not in 1..16 (a target takes 1)");
	cfg.peer_port = 0;
	cfg.local_addr = "255.255.255.254";
	cfg.local_addr_count = 3;
	assert_null(rawtcp_open(&cfg, err, sizeof err));
	assert_string_equal(err, "rawtcp_open: local_addr_count: 255.255.255.254 + 2 wraps around");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_addresses),
		cmocka_unit_test(test_refused_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
