/*
 * rawtcp_cpu.c - the raw TCP client's per-segment CPU cost, with no wire:
 * the client runs offline (lab/rawtcp.h: no interface; its out hook takes
 * the bytes libnet built, rawtcp_input_ip takes the server's segments), so
 * what is measured is only lab/rawtcp*.c, libnet's building and the
 * decoder, never a system call or the scheduler. Used by bench/run to hold
 * the hot path's cost across changes (the rawtcp split was checked so).
 *
 * CONNS connections are opened and established (a SYN-ACK each, no
 * timestamps), then ROUNDS times every connection gets one 1000-byte data
 * segment, the loop runs until the delay queue is empty (each segment is
 * held rtt/2 = 0, processed, and answered with an ACK that is built and
 * handed to the out hook), and the bytes are consumed. Printed: the best of
 * REPEAT runs, in CPU nanoseconds (CLOCK_PROCESS_CPUTIME_ID, so a loaded
 * machine's waits do not count) per server segment and its ACK.
 *
 * Usage: rawtcp-cpu [CONNS [ROUNDS [REPEAT]]]   (default 1000 200 5)
 * Exit: 0 done, 1 the client failed (the message says why), 2 usage.
 */
#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer/decode.h"
#include "lab/rawtcp.h"

#define CLIENT "10.99.0.3"
#define SERVER "10.99.0.1"
#define SPORT 80
#define SISN 1000000u
#define SEG 1000

struct bench {
	struct rawtcp *c;
	uint32_t syn_seq[65536];   /* our ISN by local port, from the SYN */
	uint64_t out;              /* packets the out hook took */
	char err[256];
};

static void on_out(void *arg, const uint8_t *ip, size_t len)
{
	struct bench *b = arg;
	struct dec_tcp d;
	b->out++;
	if (dec_packet(DLT_RAW, ip, (uint32_t)len, (uint32_t)len, &d, NULL) == DEC_OK &&
	    (d.flags & LL_TH_SYN))
		b->syn_seq[d.sport] = d.seq;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void die(struct bench *b)
{
	fprintf(stderr, "rawtcp-cpu: %s\n", b->err);
	exit(1);
}

/* One server segment to local port dport: IPv4, no options but optlen. */
static void seg(struct bench *b, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                const uint8_t *opt, size_t optlen, size_t len)
{
	uint8_t p[40 + 40 + SEG];
	size_t th = 20 + optlen, tot = 20 + th + len;
	memset(p, 0, 40);
	p[0] = 0x45;
	p[2] = (uint8_t)(tot >> 8); p[3] = (uint8_t)tot;
	p[8] = 64; p[9] = 6;
	inet_pton(AF_INET, SERVER, p + 12);
	inet_pton(AF_INET, CLIENT, p + 16);
	p[20] = SPORT >> 8; p[21] = SPORT & 0xff;
	p[22] = (uint8_t)(dport >> 8); p[23] = (uint8_t)dport;
	put32(p + 24, seq);
	put32(p + 28, ack);
	p[32] = (uint8_t)((th / 4) << 4);
	p[33] = flags;
	p[34] = 0xff; p[35] = 0xff;
	if (optlen)
		memcpy(p + 40, opt, optlen);
	memset(p + 20 + th, 'x', len);
	if (rawtcp_input_ip(b->c, p, tot, b->err, sizeof b->err) != 0)
		die(b);
}

/* Run the loop until nothing is held. */
static void pump(struct bench *b)
{
	struct rawtcp_stats st;
	struct rawtcp_event ev;
	do {
		if (rawtcp_run(b->c, rawtcp_now_us(), NULL, NULL, b->err, sizeof b->err) < 0)
			die(b);
		rawtcp_stats(b->c, &st);
	} while (st.delayq_len);
	while (rawtcp_next_event(b->c, &ev))
		;
}

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long arg(int argc, char **argv, int i, long def, long max)
{
	char *end;
	long v;
	if (argc <= i)
		return def;
	v = strtol(argv[i], &end, 10);
	if (*end || v < 1 || v > max) {
		fprintf(stderr, "usage: rawtcp-cpu [CONNS (1..40000) [ROUNDS [REPEAT]]]\n");
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long conns = arg(argc, argv, 1, 1000, 40000), rounds = arg(argc, argv, 2, 200, 100000),
	     repeat = arg(argc, argv, 3, 5, 1000);
	static const uint8_t mss[4] = { 2, 4, 0x05, 0xb4 };
	struct bench *b = calloc(1, sizeof *b);
	struct rawtcp_conn **k = calloc((size_t)conns, sizeof *k);
	struct rawtcp_config cfg;
	struct rawtcp_conn_opts o;
	double best = 0;

	if (!b || !k) {
		fprintf(stderr, "rawtcp-cpu: out of memory\n");
		return 1;
	}
	rawtcp_config_init(&cfg);
	cfg.local_addr = CLIENT;
	cfg.peer_addr = SERVER;
	cfg.rtt_us = 0;
	cfg.seed = 42;
	cfg.out = on_out;
	cfg.out_arg = b;
	b->c = rawtcp_open(&cfg, b->err, sizeof b->err);
	if (!b->c)
		die(b);
	rawtcp_conn_opts_init(&o);
	o.dport = SPORT;
	o.timestamps = false;
	o.rcvbuf_cap = 1u << 20;
	for (long r = 0; r < repeat; r++) {
		double t0, ns;
		uint64_t out0;
		for (long i = 0; i < conns; i++)
			if (!(k[i] = rawtcp_connect(b->c, &o, b->err, sizeof b->err)))
				die(b);
		pump(b);
		for (long i = 0; i < conns; i++) {
			uint16_t p = rawtcp_conn_local_port(k[i]);
			seg(b, p, SISN, b->syn_seq[p] + 1, LL_TH_SYN | LL_TH_ACK, mss, sizeof mss, 0);
		}
		pump(b);
		t0 = cpu_s();
		out0 = b->out;
		for (long j = 0; j < rounds; j++) {
			for (long i = 0; i < conns; i++) {
				uint16_t p = rawtcp_conn_local_port(k[i]);
				seg(b, p, SISN + 1 + (uint32_t)j * SEG, b->syn_seq[p] + 1, LL_TH_ACK | LL_TH_PSH,
				    NULL, 0, SEG);
			}
			pump(b);
			for (long i = 0; i < conns; i++) {
				const uint8_t *d;
				rawtcp_consume(k[i], rawtcp_peek(k[i], &d));
			}
		}
		ns = (cpu_s() - t0) * 1e9 / ((double)conns * (double)rounds);
		if (b->out - out0 < (uint64_t)(conns * rounds)) {
			snprintf(b->err, sizeof b->err, "only %llu ACKs for %ld segments",
			         (unsigned long long)(b->out - out0), conns * rounds);
			die(b);
		}
		if (r == 0 || ns < best)
			best = ns;
		for (long i = 0; i < conns; i++)
			rawtcp_conn_release(k[i]);
		pump(b);
	}
	printf("ns_per_segment=%.0f\nconns=%ld\nrounds=%ld\nrepeat=%ld\n", best, conns, rounds, repeat);
	rawtcp_free(b->c);
	free(k);
	free(b);
	return 0;
}
