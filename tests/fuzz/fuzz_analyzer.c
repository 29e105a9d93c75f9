/*
 * fuzz_analyzer.c - libFuzzer target over the whole analyzer: a sequence of
 * frames carved from the input goes through az_packet(), then az_finish(),
 * every accessor, az_free().
 *
 * Random bytes rarely make two frames of the same connection, so most of
 * the input describes TCP segments compactly and we build the frames: that
 * way the fuzzer steers handshakes, data, FINs, RSTs, retransmissions, wrap
 * and HTTP text into the connection tracker. Raw frames are mixed in too.
 *
 * Input: byte 0 = configuration (caps small or default, server port list
 * or not), then records until the input ends:
 *   op & 0x80: raw frame.  op & 7 picks the link type; next byte n; then
 *              n bytes of frame (fewer if the input ends).
 *   otherwise: a built IPv4/TCP segment on Ethernet, 5 more bytes:
 *     op:    bits 0-1 connection (4 share one server), bit 2 direction
 *            (server -> client), bit 3 add SYN options, bit 4 snaplen cut
 *            (payload not captured), bit 5 IPv6, bit 6 IPv4 fragment bits
 *     flags: TCP flags
 *     dseq:  signed offset from the sender's next sequence number
 *     dack:  signed offset from the peer's next sequence number
 *     len:   payload length; the payload bytes follow in the input
 *            (zeros if it runs out)
 *     dt:    time step, milliseconds (255: a 100 s gap)
 *
 * Triage: with LL_FUZZ_PCAP=out.pcap in the environment, the frames of the
 * input are also written there (Ethernet frames only; raw frames of other
 * link types are left out), so a crash can be replayed with
 * `lingerlab analyze -r out.pcap` and read with tcpdump.
 *
 * Invariants checked after az_finish(): every frame is counted once
 * (packets = sum of by_result + dropped), findings and retained connections
 * point at packets that exist, FIN_WAIT_2 series stay time-ordered with the
 * peak inside them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "analyzer/analyzer.h"

#define MAX_FRAME 1600

static const int raw_dlts[8] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL,
	DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_LOOP,
};

/* Abort with the broken invariant named, so a crash report says which. */
#define check(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
		        __LINE__, #cond); \
		abort(); \
	} \
} while (0)

struct gen {
	uint32_t nxt[4][2];      /* next sequence number per conn, direction */
	double t;
};

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Build one Ethernet + IPv4/IPv6 + TCP frame into f; returns its length
 * and sets *caplen (shorter when the op asks for a snaplen cut). */
static uint32_t build(struct gen *g, uint8_t op, uint8_t flags, int8_t dseq,
                      int8_t dack, const uint8_t *pay, uint32_t plen,
                      uint8_t *f, uint32_t *caplen)
{
	unsigned conn = op & 3, dir = (op >> 2) & 1;
	bool v6 = op & 0x20;
	uint32_t ipl = v6 ? 40 : 20, optl = (op & 0x08) ? 20 : 0;
	uint32_t tcpl = 20 + optl, off = 14, len;
	uint32_t seq = g->nxt[conn][dir] + (uint32_t)(int32_t)dseq;
	uint32_t ack = g->nxt[conn][!dir] + (uint32_t)(int32_t)dack;
	uint8_t cli[16] = { 10, 0, 0, (uint8_t)(1 + conn) };
	uint8_t srv[16] = { 10, 0, 0, 100 };
	uint16_t cport = (uint16_t)(40000 + conn), sport = 80;

	len = off + ipl + tcpl + plen;
	memset(f, 0, off + ipl + tcpl);
	f[0] = 2; f[6] = 2; f[11] = 1;                 /* MACs */
	if (v6) {
		cli[0] = 0xfd; srv[0] = 0xfd;
		f[12] = 0x86; f[13] = 0xdd;
		f[off] = 0x60;
		put16(f + off + 4, tcpl + plen);
		f[off + 6] = 6;
		f[off + 7] = 64;
		memcpy(f + off + 8, dir ? srv : cli, 16);
		memcpy(f + off + 24, dir ? cli : srv, 16);
	} else {
		f[12] = 0x08;
		f[off] = 0x45;
		put16(f + off + 2, ipl + tcpl + plen);
		if (op & 0x40)
			f[off + 6] = (uint8_t)(0x20 | (flags & 1)); /* MF, maybe offset */
		f[off + 8] = 64;
		f[off + 9] = 6;
		memcpy(f + off + 12, dir ? srv : cli, 4);
		memcpy(f + off + 16, dir ? cli : srv, 4);
	}
	off += ipl;
	put16(f + off, dir ? sport : cport);
	put16(f + off + 2, dir ? cport : sport);
	put32(f + off + 4, seq);
	put32(f + off + 8, ack);
	f[off + 12] = (uint8_t)((tcpl / 4) << 4);
	f[off + 13] = flags;
	put16(f + off + 14, 0x1000u + (uint32_t)(uint8_t)dseq * 64);
	if (optl) {
		static const uint8_t opts[20] = {
			2, 4, 0x05, 0xb4,               /* MSS 1460 */
			4, 2,                           /* SACK permitted */
			8, 10, 0, 0, 0, 1, 0, 0, 0, 0,  /* timestamps */
			1, 3, 3, 7,                     /* NOP, window scale 7 */
		};
		memcpy(f + off + 20, opts, optl);
	}
	off += tcpl;
	if (plen)
		memcpy(f + off, pay, plen);

	/* track the sender's highest next sequence number */
	{
		uint32_t end = seq + plen + ((flags & LL_TH_SYN) ? 1 : 0) +
		               ((flags & LL_TH_FIN) ? 1 : 0);

		if ((int32_t)(end - g->nxt[conn][dir]) > 0)
			g->nxt[conn][dir] = end;
	}
	*caplen = (op & 0x10) ? off : len;
	return len;
}

/* Triage output (see the header comment); NULL when not asked for. */
struct dump {
	pcap_t *dead;
	pcap_dumper_t *d;
};

static void dump_open(struct dump *dp)
{
	const char *path = getenv("LL_FUZZ_PCAP");

	dp->dead = NULL;
	dp->d = NULL;
	if (!path)
		return;
	dp->dead = pcap_open_dead(DLT_EN10MB, 262144);
	check(dp->dead != NULL);
	dp->d = pcap_dump_open(dp->dead, path);
	check(dp->d != NULL);
}

static void dump_frame(struct dump *dp, int dlt, double t, const uint8_t *f,
                       uint32_t caplen, uint32_t len)
{
	struct pcap_pkthdr h;

	if (!dp->d || dlt != DLT_EN10MB)
		return;
	h.ts.tv_sec = (time_t)t;
	h.ts.tv_usec = (suseconds_t)((t - (double)h.ts.tv_sec) * 1e6);
	h.caplen = caplen;
	h.len = len;
	pcap_dump((u_char *)dp->d, &h, f);
}

static void dump_close(struct dump *dp)
{
	if (dp->d)
		pcap_dump_close(dp->d);
	if (dp->dead)
		pcap_close(dp->dead);
}

static void check_results(struct az *az, uint64_t fed)
{
	const struct az_stats *st = az_stats(az);
	const struct az_totals *tot = az_totals(az);
	uint64_t sum = 0;

	check(st->packets == fed);
	for (int i = 0; i < DEC_NRESULTS; i++)
		sum += st->by_result[i];
	check(sum + az_dropped(az) == fed);
	check(st->tcp <= fed);
	check(tot->retained == az_n_retained(az));

	for (size_t i = 0; i < az_n_findings(az); i++) {
		const struct az_rst_finding *f = az_finding(az, i);

		check(f != NULL);
		check(f->rst_packet >= 1 && f->rst_packet <= fed);
		check(f->n_risk_packets <= AZ_MAX_RISK_PACKETS);
		for (uint32_t k = 0; k < f->n_risk_packets; k++)
			check(f->risk_packets[k] >= 1 && f->risk_packets[k] <= fed);
		check(az_cause_name(f->cause) != NULL);
		check(az_vantage_name(f->vantage) != NULL);
		check(az_basis_name(f->basis) != NULL);
		/* issue 8: the sender's own view decides; the fates are the
		 * sender's RSTs in capture order, the accepted one among them */
		check(f->bytes_at_risk_at_server > 0);
		check(f->n_fates <= AZ_MAX_RST_FATES && f->n_fates <= f->rsts_total);
		check(az_impact_name(f->impact) != NULL);
		check((f->accepted_rst_packet == 0) == (f->impact == AZ_IMPACT_NO_RESET));
		check(f->impact != AZ_IMPACT_RESET_AFTER_ACK || f->unacked_at_accept == 0);
		check(f->impact != AZ_IMPACT_RESET_BEFORE_ACK || f->unacked_at_accept > 0);
		check(f->basis != AZ_BASIS_EVIDENCE ||
		      (f->evidence_packet >= 1 && f->evidence_packet <= f->rst_packet));
		for (uint32_t k = 0; k < f->n_fates; k++) {
			check(f->fates[k].packet >= f->rst_packet && f->fates[k].packet <= fed);
			check(k == 0 || f->fates[k].packet > f->fates[k - 1].packet);
			check(az_accept_name(f->fates[k].accept) != NULL);
		}
		if (f->n_fates > 0)
			check(f->fates[0].packet == f->rst_packet);
	}
	check(tot->rst_before_ack_by_sender[0] + tot->rst_before_ack_by_sender[1] ==
	      tot->rst_before_ack);
	check(tot->by_basis[0] + tot->by_basis[1] + tot->by_basis[2] == tot->rst_before_ack);
	for (size_t i = 0; i < az_n_retained(az); i++) {
		const struct az_conn *c = az_retained(az, i);
		char fl[12];

		check(c != NULL);
		check(az_retained_by_id(az, c->id) == c);
		check(c->first_packet >= 1 && c->first_packet <= c->last_packet);
		check(c->last_packet <= fed);
		check(c->n_responses <= AZ_MAX_HTTP_RESPONSES);
		check(az_kind_name(c->kind) != NULL);
		check(az_initiator_name(c->initiator) != NULL);
		check(az_state_name(c->client_end) != NULL);
		check(az_state_name(c->server_end) != NULL);
		for (uint32_t k = 0; k < c->n_head; k++) {
			check(c->tl_head[k].index >= 1 && c->tl_head[k].index <= fed);
			check(az_flags_str(c->tl_head[k].flags, fl) != NULL);
		}
		for (uint32_t k = 0; k < c->n_tail; k++)
			check(c->tl_tail[k].index >= 1 && c->tl_tail[k].index <= fed);
	}
	for (int side = AZ_CLIENT; side <= AZ_SERVER; side++) {
		const struct az_fw2_summary *s = az_fw2(az, (enum az_side)side);
		uint32_t peak = 0;

		check(s != NULL);
		for (size_t k = 0; k < s->n_series; k++) {
			if (k > 0)
				check(s->series[k].t >= s->series[k - 1].t);
			if (s->series[k].n > peak)
				peak = s->series[k].n;
		}
		if (s->series_exact)
			check(peak == s->peak);
		check(s->p50 <= s->p90 && s->p90 <= s->max);
		for (int e = 0; e < AZ_NFW2_ENDS; e++)
			check(az_fw2_end_name((enum az_fw2_end)e) != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Wanting records keeps finished connections as whole copies ("tombs")
 * rather than seals (analyzer.c, struct ring): both paths get inputs. */
static void want_records(const struct az_conn *c, void *arg)
{
	uint64_t *n = arg;

	check(c->id > 0);
	(*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t ports[] = { 80, 8080 };
	struct az_config cfg = { 0 };
	struct gen g;
	struct dump dp;
	struct az *az;
	uint64_t fed = 0, records = 0;
	size_t i = 1;
	uint8_t *frame;

	if (size < 1)
		return 0;
	if (data[0] & 1) {              /* tiny caps: exercise the limits */
		cfg.timeline_head = 2;
		cfg.timeline_tail = 2;
		cfg.max_retained = 2;
		cfg.max_series = 4;
	}
	if (data[0] & 2) {
		cfg.server_ports = ports;
		cfg.n_server_ports = 2;
	}
	if (data[0] & 8) {
		cfg.on_conn = want_records;
		cfg.arg = &records;
	}
	az = az_new(&cfg);
	check(az != NULL);
	frame = malloc(MAX_FRAME);
	check(frame != NULL);
	dump_open(&dp);

	memset(&g, 0, sizeof(g));
	g.t = 1700000000.0;
	for (int c = 0; c < 4; c++) {   /* start near the wrap for some */
		g.nxt[c][0] = (data[0] & 4) ? 0xffffff00u + (uint32_t)c : 1000u * (uint32_t)c;
		g.nxt[c][1] = 0x7fffff00u - (uint32_t)c;
	}

	while (i < size && fed < 4096) {
		uint8_t op = data[i++];

		if (op & 0x80) {
			uint32_t n = i < size ? data[i++] : 0;
			uint8_t *exact;

			if (n > size - i)
				n = (uint32_t)(size - i);
			/* exact-size copy: ASan sees any read past caplen */
			exact = malloc(n ? n : 1);
			check(exact != NULL);
			memcpy(exact, data + i, n);
			i += n;
			g.t += 0.001;
			az_packet(az, raw_dlts[op & 7], g.t, exact, n, n);
			dump_frame(&dp, raw_dlts[op & 7], g.t, exact, n, n);
			free(exact);
		} else {
			uint8_t hdr[5] = { 0 }, pay[255] = { 0 };
			uint32_t plen, len, caplen, take;
			uint8_t *exact;

			take = size - i < 5 ? (uint32_t)(size - i) : 5;
			memcpy(hdr, data + i, take);
			i += take;
			plen = hdr[3];
			take = size - i < plen ? (uint32_t)(size - i) : plen;
			memcpy(pay, data + i, take);
			i += take;
			g.t += hdr[4] == 255 ? 100.0 : hdr[4] * 0.001;
			len = build(&g, op, hdr[0], (int8_t)hdr[1], (int8_t)hdr[2],
			            pay, plen, frame, &caplen);
			exact = malloc(caplen);
			check(exact != NULL);
			memcpy(exact, frame, caplen);
			az_packet(az, DLT_EN10MB, g.t, exact, caplen, len);
			dump_frame(&dp, DLT_EN10MB, g.t, exact, caplen, len);
			free(exact);
		}
		fed++;
	}
	dump_close(&dp);
	az_finish(az);
	check_results(az, fed);
	/* every connection counted was handed out once, when records are
	 * wanted */
	check(!cfg.on_conn || records == az_totals(az)->connections);
	az_finish(az);                  /* idempotent */
	check_results(az, fed);
	az_free(az);
	free(frame);
	return 0;
}
