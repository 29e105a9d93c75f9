/*
 * rawtcp_helpers.h - shared by tests/unit/test_rawtcp*.c: the raw client
 * offline, its out hook the wire (what it injected, decoded) and
 * rawtcp_input_ipv4 the server (segments built by hand). Include after
 * <cmocka.h>.
 */
#ifndef LL_TESTS_RAWTCP_HELPERS_H
#define LL_TESTS_RAWTCP_HELPERS_H

#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/decode.h"
#include "lab/rawtcp.h"

#define CLIENT_IP "10.99.0.3"
#define SERVER_IP "10.99.0.1"
#define SPORT 8080
#define SISN 1000000u

/* What the client injected, decoded. */
struct sent {
	uint64_t t;                 /* rawtcp_now_us() at the hook */
	struct dec_tcp d;
	uint8_t payload[2048];
	uint8_t raw[128];           /* first bytes of the IP packet */
	size_t rawlen;
};

struct wire {
	struct sent *v;
	size_t n, cap;
};

static inline void on_out(void *arg, const uint8_t *ip, size_t len)
{
	struct wire *w = arg;
	struct sent *s;
	enum dec_result r;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->v = realloc(w->v, w->cap * sizeof *w->v);
		assert_non_null(w->v);
	}
	s = &w->v[w->n++];
	memset(s, 0, sizeof *s);
	s->t = rawtcp_now_us();
	s->rawlen = len < sizeof s->raw ? len : sizeof s->raw;
	memcpy(s->raw, ip, s->rawlen);
	r = dec_packet(DLT_IPV4, ip, (uint32_t)len, (uint32_t)len, &s->d, NULL);
	assert_int_equal(r, DEC_OK);
	if (s->d.payload_caplen) {
		assert_true(s->d.payload_caplen <= sizeof s->payload);
		memcpy(s->payload, s->d.payload, s->d.payload_caplen);
	}
	s->d.payload = s->payload;
}

struct fx {
	struct rawtcp *c;
	struct wire w;
	char err[256];
};

static inline struct fx *fx_new(uint32_t rtt_us)
{
	struct fx *f = calloc(1, sizeof *f);
	struct rawtcp_config cfg;
	assert_non_null(f);
	rawtcp_config_init(&cfg);
	cfg.local_addr = CLIENT_IP;
	cfg.peer_addr = SERVER_IP;
	cfg.rtt_us = rtt_us;
	cfg.seed = 42;
	cfg.out = on_out;
	cfg.out_arg = &f->w;
	f->c = rawtcp_open(&cfg, f->err, sizeof f->err);
	assert_non_null(f->c);
	return f;
}

static inline void fx_free(struct fx *f)
{
	rawtcp_free(f->c);
	free(f->w.v);
	free(f);
}

/* Run the loop for ms milliseconds. */
static inline void pump(struct fx *f, unsigned ms)
{
	int r = rawtcp_run(f->c, rawtcp_now_us() + ms * 1000ull, NULL, NULL, f->err, sizeof f->err);
	assert_int_equal(r, 0);
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Feed one server segment (checksums are not checked by the decoder). */
static inline void srv(struct fx *f, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
                const uint8_t *opt, size_t optlen, const void *data, size_t len)
{
	uint8_t b[4096];
	size_t th = 20 + optlen, tot = 20 + th + len;
	assert_true(tot <= sizeof b && optlen % 4 == 0);
	memset(b, 0, 40);
	b[0] = 0x45;
	b[2] = (uint8_t)(tot >> 8); b[3] = (uint8_t)tot;
	b[8] = 64; b[9] = 6;
	inet_pton(AF_INET, SERVER_IP, b + 12);
	inet_pton(AF_INET, CLIENT_IP, b + 16);
	b[20] = SPORT >> 8; b[21] = SPORT & 0xff;
	b[22] = (uint8_t)(dport >> 8); b[23] = (uint8_t)dport;
	put32(b + 24, seq);
	put32(b + 28, ack);
	b[32] = (uint8_t)((th / 4) << 4);
	b[33] = flags;
	b[34] = (uint8_t)(win >> 8); b[35] = (uint8_t)win;
	if (optlen)
		memcpy(b + 40, opt, optlen);
	if (len)
		memcpy(b + 20 + th, data, len);
	assert_int_equal(rawtcp_input_ipv4(f->c, b, tot, f->err, sizeof f->err), 0);
}

/* The server's SYN-ACK with MSS / SACK-permitted / TS / wscale options. */
static inline void srv_synack(struct fx *f, const struct sent *syn, uint16_t mss, int wscale, uint16_t win)
{
	uint8_t o[20] = { 2, 4, (uint8_t)(mss >> 8), (uint8_t)mss, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 0 };
	put32(o + 8, 777);
	put32(o + 12, syn->d.ts_val);
	o[19] = (uint8_t)(wscale < 0 ? 0 : wscale);
	srv(f, syn->d.sport, SISN, syn->d.seq + 1, LL_TH_SYN | LL_TH_ACK, win, o, wscale < 0 ? 16 : 20,
	    NULL, 0);
}

/* A server segment after the handshake, with a TS option. */
static inline void srv_seg(struct fx *f, const struct rawtcp_conn *k, uint32_t rel_seq, uint32_t ack,
                    uint8_t flags, uint16_t win, const void *data, size_t len)
{
	uint8_t o[12] = { 1, 1, 8, 10 };
	put32(o + 4, 800);
	put32(o + 8, 0);
	srv(f, rawtcp_conn_local_port(k), SISN + 1 + rel_seq, ack, flags, win, o, 12, data, len);
}

#endif
