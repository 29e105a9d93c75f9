/*
 * test_decode.c - dec_packet() on annotated byte arrays.
 *
 * Every frame below is written out byte by byte with a comment naming the
 * header field. Frames are copied into a heap buffer of exactly caplen
 * bytes before decoding, so under `make asan` any read past the captured
 * bytes is caught, not just wrong answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pcap/dlt.h>

#include "analyzer/decode.h"

/* ---- reusable pieces --------------------------------------------------- */

/* IPv4 (20) + TCP (20) + "GET /" (5):
 * 10.0.0.1:40000 -> 10.0.0.2:80, seq 0x01020304, ack 0xa0b0c0d0, [P.] */
static const uint8_t ip4_tcp[] = {
	/* IPv4 */
	0x45, 0x00,             /* version 4, IHL 5; TOS 0 */
	0x00, 0x2d,             /* total length 45 */
	0x12, 0x34,             /* id */
	0x40, 0x00,             /* flags DF, fragment offset 0 */
	0x40, 0x06,             /* TTL 64, protocol 6 (TCP) */
	0x00, 0x00,             /* header checksum (not checked) */
	0x0a, 0x00, 0x00, 0x01, /* source 10.0.0.1 */
	0x0a, 0x00, 0x00, 0x02, /* destination 10.0.0.2 */
	/* TCP */
	0x9c, 0x40,             /* source port 40000 */
	0x00, 0x50,             /* destination port 80 */
	0x01, 0x02, 0x03, 0x04, /* sequence number */
	0xa0, 0xb0, 0xc0, 0xd0, /* acknowledgment number */
	0x50, 0x18,             /* data offset 5; flags PSH|ACK */
	0xfa, 0xf0,             /* window 64240 */
	0x00, 0x00, 0x00, 0x00, /* checksum, urgent pointer */
	/* payload */
	'G', 'E', 'T', ' ', '/',
};

/* IPv6 (40) + TCP (20) + "GET /" (5): 2001:db8::1:40000 -> 2001:db8::2:80 */
static const uint8_t ip6_tcp[] = {
	/* IPv6 */
	0x60, 0x00, 0x00, 0x00, /* version 6, traffic class 0, flow label 0 */
	0x00, 0x19,             /* payload length 25 */
	0x06, 0x40,             /* next header 6 (TCP), hop limit 64 */
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, /* src */
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, /* dst */
	/* TCP: same as in ip4_tcp */
	0x9c, 0x40, 0x00, 0x50,
	0x01, 0x02, 0x03, 0x04,
	0xa0, 0xb0, 0xc0, 0xd0,
	0x50, 0x18, 0xfa, 0xf0,
	0x00, 0x00, 0x00, 0x00,
	'G', 'E', 'T', ' ', '/',
};

/* Ethernet II header, EtherType IPv4 (change bytes 12-13 for others). */
static const uint8_t eth_ip4[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* destination MAC */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* source MAC */
	0x08, 0x00,                         /* EtherType IPv4 */
};
static const uint8_t eth_ip6[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x86, 0xdd,                         /* EtherType IPv6 */
};
/* 802.1Q: one tag between the MACs and the EtherType. */
static const uint8_t eth_vlan_ip4[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x81, 0x00,                         /* TPID 802.1Q */
	0x20, 0x64,                         /* PCP 1, VLAN 100 */
	0x08, 0x00,                         /* inner EtherType IPv4 */
};
/* 802.1ad QinQ: service tag 0x88a8, then customer tag 0x8100. */
static const uint8_t eth_qinq_ip6[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x88, 0xa8, 0x00, 0x0a,             /* S-tag, VLAN 10 */
	0x81, 0x00, 0x00, 0x14,             /* C-tag, VLAN 20 */
	0x86, 0xdd,                         /* EtherType IPv6 */
};
/* Pre-standard stacking: 0x9100 outer, 0x8100 inner. */
static const uint8_t eth_9100_ip4[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x91, 0x00, 0x00, 0x0a,             /* outer tag, VLAN 10 */
	0x81, 0x00, 0x00, 0x14,             /* inner tag, VLAN 20 */
	0x08, 0x00,                         /* EtherType IPv4 */
};
/* Linux cooked v1: 16 bytes, protocol last. */
static const uint8_t sll_ip4[] = {
	0x00, 0x00,                         /* packet type: to us */
	0x00, 0x01,                         /* ARPHRD_ETHER */
	0x00, 0x06,                         /* address length 6 */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, /* address, padded */
	0x08, 0x00,                         /* protocol IPv4 */
};
/* Linux cooked v2: 20 bytes, protocol first. */
static const uint8_t sll2_ip6[] = {
	0x86, 0xdd,                         /* protocol IPv6 */
	0x00, 0x00,                         /* reserved */
	0x00, 0x00, 0x00, 0x02,             /* interface index 2 */
	0x00, 0x01,                         /* ARPHRD_ETHER */
	0x04,                               /* packet type: outgoing */
	0x06,                               /* address length 6 */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, /* address, padded */
};
/* BSD loopback: 4-byte address family. */
static const uint8_t null_le_inet[] = { 0x02, 0x00, 0x00, 0x00 }; /* AF_INET, little-endian host */
static const uint8_t null_be_inet[] = { 0x00, 0x00, 0x00, 0x02 }; /* AF_INET, big-endian */

/* ---- helpers ------------------------------------------------------------ */

struct frame {
	uint8_t *buf; /* exactly caplen bytes on the heap (ASan sees overreads) */
	uint32_t len; /* caplen */
	uint32_t wire;/* length on the wire: len before any cut() */
};

/* Concatenate up to three parts into a fresh exact-size buffer. */
static struct frame mk(const uint8_t *a, size_t an, const uint8_t *b,
                       size_t bn, const uint8_t *c, size_t cn)
{
	struct frame f;

	f.len = (uint32_t)(an + bn + cn);
	f.wire = f.len;
	f.buf = malloc(f.len ? f.len : 1);
	assert_non_null(f.buf);
	if (an)
		memcpy(f.buf, a, an);
	if (bn)
		memcpy(f.buf + an, b, bn);
	if (cn)
		memcpy(f.buf + an + bn, c, cn);
	return f;
}
#define MK1(a)       mk(a, sizeof(a), NULL, 0, NULL, 0)
#define MK2(a, b)    mk(a, sizeof(a), b, sizeof(b), NULL, 0)

/* Cut a frame to caplen bytes, as a snaplen does: a fresh exact-size copy
 * (the old one is freed); the wire length stays. */
static void cut(struct frame *f, uint32_t caplen)
{
	uint8_t *n;

	assert_true(caplen <= f->len);
	n = malloc(caplen ? caplen : 1);
	assert_non_null(n);
	memcpy(n, f->buf, caplen);
	free(f->buf);
	f->buf = n;
	f->len = caplen;
}

static void drop(struct frame *f)
{
	free(f->buf);
	f->buf = NULL;
}

/* Decode with the frame's own caplen and wire length. */
static enum dec_result dec(int dlt, const struct frame *f, struct dec_tcp *t,
                           const char **why)
{
	return dec_packet(dlt, f->buf, f->len, f->wire, t, why);
}

/* Decode, expect result r with reason `reason`, free the frame. */
static void expect(int dlt, struct frame f, enum dec_result r,
                   const char *reason)
{
	struct dec_tcp t;
	const char *why = NULL;

	assert_string_equal(dec_result_name(dec(dlt, &f, &t, &why)),
	                    dec_result_name(r));
	assert_non_null(why);
	if (reason)
		assert_string_equal(why, reason);
	drop(&f);
}

/* The TCP fields every copy of ip4_tcp / ip6_tcp carries. */
static void assert_seg(const struct dec_tcp *t, int af)
{
	static const uint8_t v4s[16] = { 10, 0, 0, 1 }, v4d[16] = { 10, 0, 0, 2 };
	static const uint8_t v6s[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t v6d[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

	assert_int_equal(t->af, af);
	assert_memory_equal(t->src, af == 4 ? v4s : v6s, 16);
	assert_memory_equal(t->dst, af == 4 ? v4d : v6d, 16);
	assert_int_equal(t->sport, 40000);
	assert_int_equal(t->dport, 80);
	assert_int_equal(t->seq, 0x01020304u);
	assert_int_equal(t->ack, 0xa0b0c0d0u);
	assert_int_equal(t->flags, LL_TH_PSH | LL_TH_ACK);
	assert_int_equal(t->win, 64240);
	assert_int_equal(t->seg_len, 5);
	assert_int_equal(t->payload_caplen, 5);
	assert_non_null(t->payload);
	assert_memory_equal(t->payload, "GET /", 5);
	assert_int_equal(t->mss, 0);
	assert_int_equal(t->wscale, -1);
	assert_false(t->sack_permitted);
	assert_false(t->has_ts);
	assert_int_equal(t->n_sack, 0);
	assert_false(t->opts_bad);
}

static void expect_seg(int dlt, struct frame f, int af)
{
	struct dec_tcp t;
	const char *why = NULL;

	assert_int_equal(dec(dlt, &f, &t, &why), DEC_OK);
	assert_seg(&t, af);
	drop(&f);
}

/* ---- link types ---------------------------------------------------------- */

static void test_ethernet(void **state)
{
	(void)state;
	expect_seg(DLT_EN10MB, MK2(eth_ip4, ip4_tcp), 4);
	expect_seg(DLT_EN10MB, MK2(eth_ip6, ip6_tcp), 6);
}

static void test_vlan_and_qinq(void **state)
{
	(void)state;
	expect_seg(DLT_EN10MB, MK2(eth_vlan_ip4, ip4_tcp), 4);
	expect_seg(DLT_EN10MB, MK2(eth_qinq_ip6, ip6_tcp), 6);
	expect_seg(DLT_EN10MB, MK2(eth_9100_ip4, ip4_tcp), 4);
}

static void test_vlan_limits(void **state)
{
	/* Nine stacked 802.1Q tags: more than any real network uses. */
	uint8_t many[12 + 9 * 4 + 2];
	struct frame f;

	(void)state;
	memcpy(many, eth_ip4, 12);
	for (int i = 0; i < 9; i++) {
		many[12 + 4 * i] = 0x81;        /* TPID 802.1Q */
		many[13 + 4 * i] = 0x00;
		many[14 + 4 * i] = 0x00;        /* VLAN 1 */
		many[15 + 4 * i] = 0x01;
	}
	/* the last tag's "next type" is the 0x0800 below */
	many[sizeof(many) - 2] = 0x08;
	many[sizeof(many) - 1] = 0x00;
	expect(DLT_EN10MB, MK2(many, ip4_tcp), DEC_INVALID, "too many VLAN tags");

	/* A frame that ends inside the VLAN tag. */
	f = MK2(eth_vlan_ip4, ip4_tcp);
	cut(&f, 16);
	expect(DLT_EN10MB, f, DEC_TRUNCATED, "VLAN tag truncated");
}

static void test_linux_cooked(void **state)
{
	uint8_t sll_ip6[sizeof(sll_ip4)], sll2_ip4[sizeof(sll2_ip6)];

	(void)state;
	expect_seg(DLT_LINUX_SLL, MK2(sll_ip4, ip4_tcp), 4);
	expect_seg(DLT_LINUX_SLL2, MK2(sll2_ip6, ip6_tcp), 6);

	memcpy(sll_ip6, sll_ip4, sizeof(sll_ip6));
	sll_ip6[14] = 0x86;                     /* protocol IPv6 */
	sll_ip6[15] = 0xdd;
	expect_seg(DLT_LINUX_SLL, MK2(sll_ip6, ip6_tcp), 6);
	memcpy(sll2_ip4, sll2_ip6, sizeof(sll2_ip4));
	sll2_ip4[0] = 0x08;                     /* protocol IPv4 */
	sll2_ip4[1] = 0x00;
	expect_seg(DLT_LINUX_SLL2, MK2(sll2_ip4, ip4_tcp), 4);

	/* SLL protocol 0x0806 (ARP) is not TCP. */
	sll_ip6[14] = 0x08;
	sll_ip6[15] = 0x06;
	expect(DLT_LINUX_SLL, MK2(sll_ip6, ip4_tcp), DEC_NOT_TCP,
	       "link-layer protocol is not IP");
}

static void test_bsd_loopback(void **state)
{
	/* AF_INET6 is 10 on Linux, 24 on Net/OpenBSD, 28 on FreeBSD,
	 * 30 on Darwin; written in either byte order. */
	static const uint32_t inet6[] = { 10, 24, 28, 30 };
	uint8_t fam[4];

	(void)state;
	expect_seg(DLT_NULL, MK2(null_le_inet, ip4_tcp), 4);
	expect_seg(DLT_NULL, MK2(null_be_inet, ip4_tcp), 4);
	expect_seg(DLT_LOOP, MK2(null_be_inet, ip4_tcp), 4);
	for (size_t i = 0; i < sizeof(inet6) / sizeof(inet6[0]); i++) {
		fam[0] = (uint8_t)inet6[i]; fam[1] = 0; fam[2] = 0; fam[3] = 0;
		expect_seg(DLT_NULL, MK2(fam, ip6_tcp), 6);
		fam[0] = 0; fam[3] = (uint8_t)inet6[i];
		expect_seg(DLT_NULL, MK2(fam, ip6_tcp), 6);
		expect_seg(DLT_LOOP, MK2(fam, ip6_tcp), 6);
	}
	/* AF_APPLETALK (16): not IP */
	fam[0] = 0; fam[3] = 16;
	expect(DLT_NULL, MK2(fam, ip4_tcp), DEC_NOT_TCP,
	       "loopback family is not IP");
	expect(DLT_NULL, mk(fam, 3, NULL, 0, NULL, 0), DEC_TRUNCATED,
	       "loopback header truncated");
}

static void test_raw_ip(void **state)
{
	uint8_t v7[sizeof(ip4_tcp)];

	(void)state;
	/* DLT_RAW is 12 on Linux and 14 on OpenBSD; 101 is LINKTYPE_RAW as
	 * written in files. The version nibble chooses IPv4 or IPv6. */
	expect_seg(DLT_RAW, MK1(ip4_tcp), 4);
	expect_seg(DLT_RAW, MK1(ip6_tcp), 6);
	expect_seg(14, MK1(ip4_tcp), 4);
	expect_seg(101, MK1(ip6_tcp), 6);
	expect_seg(DLT_IPV4, MK1(ip4_tcp), 4);
	expect_seg(DLT_IPV6, MK1(ip6_tcp), 6);
	/* DLT_IPV4 carrying IPv6 is a lie. */
	expect(DLT_IPV4, MK1(ip6_tcp), DEC_INVALID,
	       "IPv4 header version is not 4");
	expect(DLT_IPV6, MK1(ip4_tcp), DEC_INVALID,
	       "IPv6 header version is not 6");

	memcpy(v7, ip4_tcp, sizeof(v7));
	v7[0] = 0x75;                           /* version 7, IHL 5 */
	expect(DLT_RAW, MK1(v7), DEC_INVALID, "IP version is neither 4 nor 6");
	expect(DLT_EN10MB, MK2(eth_ip4, v7), DEC_INVALID,
	       "IPv4 header version is not 4");
	expect(DLT_RAW, mk(v7, 0, NULL, 0, NULL, 0), DEC_INVALID,
	       "captured length is 0");
}

static void test_not_tcp(void **state)
{
	/* ARP request: Ethernet + 28 bytes of ARP. */
	static const uint8_t arp[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* broadcast */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x08, 0x06,                         /* EtherType ARP */
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, /* htype, ptype, lens, op */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 0, 1, /* sender */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 0, 2, /* target */
	};
	/* 802.3 frame: a length (< 0x0600) where the EtherType would be. */
	static const uint8_t llc[] = {
		0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, /* STP multicast */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x00, 0x26,                         /* length 38 */
		0x42, 0x42, 0x03,                   /* LLC DSAP/SSAP STP, UI */
	};
	uint8_t udp4[sizeof(ip4_tcp)], udp6[sizeof(ip6_tcp)], none6[40];

	(void)state;
	expect(DLT_EN10MB, MK1(arp), DEC_NOT_TCP, "link-layer protocol is not IP");
	expect(DLT_EN10MB, MK1(llc), DEC_NOT_TCP, "LLC protocol is not IP");

	memcpy(udp4, ip4_tcp, sizeof(udp4));
	udp4[9] = 17;                           /* protocol UDP */
	expect(DLT_RAW, MK1(udp4), DEC_NOT_TCP, "IPv4 protocol is not TCP");
	memcpy(udp6, ip6_tcp, sizeof(udp6));
	udp6[6] = 17;                           /* next header UDP */
	expect(DLT_RAW, MK1(udp6), DEC_NOT_TCP, "IPv6 next header is not TCP");
	memcpy(none6, ip6_tcp, 40);
	none6[4] = 0; none6[5] = 0;             /* payload length 0 */
	none6[6] = 59;                          /* no next header */
	expect(DLT_RAW, MK1(none6), DEC_NOT_TCP, "IPv6 no next header");
}

static void test_unsupported(void **state)
{
	(void)state;
	/* FDDI and 802.15.4: link types nobody decodes here (PPP and 802.11
	 * are decoded now: test_decode_tunnel.c) */
	expect(DLT_FDDI, MK1(ip4_tcp), DEC_UNSUPPORTED, "link type not supported");
	expect(DLT_IEEE802_15_4, MK1(ip4_tcp), DEC_UNSUPPORTED, NULL);
	assert_false(dec_linktype_supported(DLT_FDDI));
	assert_true(dec_linktype_supported(DLT_PPP));
	assert_false(dec_linktype_supported(-1));
	assert_true(dec_linktype_supported(DLT_EN10MB));
	assert_true(dec_linktype_supported(DLT_LINUX_SLL));
	assert_true(dec_linktype_supported(DLT_LINUX_SLL2));
	assert_true(dec_linktype_supported(DLT_NULL));
	assert_true(dec_linktype_supported(DLT_LOOP));
	assert_true(dec_linktype_supported(DLT_RAW));
	assert_true(dec_linktype_supported(14));
	assert_true(dec_linktype_supported(101));
	assert_true(dec_linktype_supported(DLT_IPV4));
	assert_true(dec_linktype_supported(DLT_IPV6));
}

/* ---- IPv4 ------------------------------------------------------------------ */

static void test_ipv4_options(void **state)
{
	/* IHL 7: 8 bytes of options (router alert + NOPs + EOL) before TCP. */
	static const uint8_t f[] = {
		0x47, 0x00,             /* version 4, IHL 7 (28 bytes) */
		0x00, 0x35,             /* total length 53 = 28 + 20 + 5 */
		0x00, 0x01, 0x00, 0x00, /* id, no flags */
		0x40, 0x06, 0x00, 0x00, /* TTL, TCP, checksum */
		0x0a, 0x00, 0x00, 0x01,
		0x0a, 0x00, 0x00, 0x02,
		0x94, 0x04, 0x00, 0x00, /* option: router alert (RFC 2113) */
		0x01, 0x01, 0x01, 0x00, /* NOP NOP NOP EOL */
		/* TCP header as in ip4_tcp */
		0x9c, 0x40, 0x00, 0x50,
		0x01, 0x02, 0x03, 0x04,
		0xa0, 0xb0, 0xc0, 0xd0,
		0x50, 0x18, 0xfa, 0xf0,
		0x00, 0x00, 0x00, 0x00,
		'G', 'E', 'T', ' ', '/',
	};
	struct frame fr;

	(void)state;
	expect_seg(DLT_RAW, MK1(f), 4);
	/* Cut inside the options: 24 of the 28 header bytes. */
	fr = MK1(f);
	cut(&fr, 24);
	expect(DLT_RAW, fr, DEC_TRUNCATED, "IPv4 options truncated");
}

static void test_ipv4_fragments(void **state)
{
	/* First fragment: MF set, offset 0; the TCP header is there. Its
	 * total length covers only this fragment. */
	static const uint8_t first[] = {
		0x45, 0x00, 0x00, 0x2d, /* IHL 5, total length 45 */
		0xbe, 0xef,             /* id */
		0x20, 0x00,             /* flags MF, offset 0 */
		0x40, 0x06, 0x00, 0x00,
		0x0a, 0x00, 0x00, 0x01,
		0x0a, 0x00, 0x00, 0x02,
		0x9c, 0x40, 0x00, 0x50,
		0x01, 0x02, 0x03, 0x04,
		0xa0, 0xb0, 0xc0, 0xd0,
		0x50, 0x18, 0xfa, 0xf0,
		0x00, 0x00, 0x00, 0x00,
		'G', 'E', 'T', ' ', '/',
	};
	/* Later fragment: offset 3 (24 bytes in), no TCP header here: its
	 * first bytes are payload that would decode as nonsense. */
	static const uint8_t later[] = {
		0x45, 0x00, 0x00, 0x1c, /* total length 28 */
		0xbe, 0xef,
		0x00, 0x03,             /* no MF, offset 3 (x8 bytes) */
		0x40, 0x06, 0x00, 0x00,
		0x0a, 0x00, 0x00, 0x01,
		0x0a, 0x00, 0x00, 0x02,
		'H', 'T', 'T', 'P', '/', '1', '.', '1', /* payload bytes */
	};
	uint8_t mid[sizeof(later)];

	(void)state;
	expect_seg(DLT_RAW, MK1(first), 4);
	expect(DLT_RAW, MK1(later), DEC_FRAGMENT, "non-first IPv4 fragment");
	memcpy(mid, later, sizeof(mid));
	mid[6] = 0x20;                          /* MF too: a middle fragment */
	expect(DLT_EN10MB, MK2(eth_ip4, mid), DEC_FRAGMENT,
	       "non-first IPv4 fragment");
}

static void test_ipv4_invalid(void **state)
{
	uint8_t f[sizeof(ip4_tcp)];

	(void)state;
	memcpy(f, ip4_tcp, sizeof(f));
	f[0] = 0x44;                            /* IHL 4: 16 bytes */
	expect(DLT_RAW, MK1(f), DEC_INVALID,
	       "IPv4 header length less than 20 bytes");

	memcpy(f, ip4_tcp, sizeof(f));
	f[2] = 0x00; f[3] = 0x13;               /* total length 19 < IHL 20 */
	expect(DLT_RAW, MK1(f), DEC_INVALID,
	       "IPv4 total length less than header length");

	memcpy(f, ip4_tcp, sizeof(f));
	f[2] = 0x00; f[3] = 0x1e;               /* total length 30: 10 for TCP */
	expect(DLT_RAW, MK1(f), DEC_INVALID,
	       "IP payload too short for a TCP header");

	/* Total length 1500 in a 59-byte frame: it would invent 1455 bytes
	 * of payload. (A frame longer than the packet is fine: padding.) */
	memcpy(f, ip4_tcp, sizeof(f));
	f[2] = 0x05; f[3] = 0xdc;
	expect(DLT_EN10MB, MK2(eth_ip4, f), DEC_INVALID,
	       "IPv4 total length beyond the frame");
}

static void test_ipv4_offload_length(void **state)
{
	/* A TSO super-packet captured on the sending host: total length 0,
	 * snaplen 54 (headers + 0 payload captured), 9054 bytes on the wire. */
	uint8_t f[sizeof(ip4_tcp)];
	struct frame fr;
	struct dec_tcp t;
	const char *why;

	(void)state;
	memcpy(f, ip4_tcp, sizeof(f));
	f[2] = 0; f[3] = 0;                     /* total length 0 */
	fr = MK2(eth_ip4, f);
	cut(&fr, 14 + 40);
	assert_int_equal(dec_packet(DLT_EN10MB, fr.buf, fr.len, 9054, &t, &why),
	                 DEC_OK);
	assert_int_equal(t.seg_len, 9054 - 14 - 40);
	assert_int_equal(t.payload_caplen, 0);
	assert_null(t.payload);
	/* Without a wire length there is no length at all. */
	assert_int_equal(dec_packet(DLT_EN10MB, fr.buf, fr.len, 0, &t, &why),
	                 DEC_INVALID);
	assert_string_equal(why, "IPv4 total length is 0");
	drop(&fr);
}

/* ---- IPv6 ------------------------------------------------------------------ */

static void test_ipv6_ext_headers(void **state)
{
	/* Hop-by-hop (8) + destination options (16) + fragment (8, first
	 * fragment with M set) + TCP (20) + "GET /" (5): payload length 57. */
	static const uint8_t f[] = {
		0x60, 0x00, 0x00, 0x00,
		0x00, 0x39,             /* payload length 57 */
		0x00, 0x40,             /* next header 0 (hop-by-hop) */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
		/* hop-by-hop: next 60, length 0 (8 bytes), PadN(4) */
		0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
		/* destination options: next 44, length 1 (16 bytes), PadN(12) */
		0x2c, 0x01, 0x01, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* fragment: next 6, reserved, offset 0 + M, identification */
		0x06, 0x00, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78,
		/* TCP */
		0x9c, 0x40, 0x00, 0x50,
		0x01, 0x02, 0x03, 0x04,
		0xa0, 0xb0, 0xc0, 0xd0,
		0x50, 0x18, 0xfa, 0xf0,
		0x00, 0x00, 0x00, 0x00,
		'G', 'E', 'T', ' ', '/',
	};
	/* Routing header (type 0-ish, 8 bytes) + AH (RFC 4302: length 4 means
	 * (4 + 2) * 4 = 24 bytes) + TCP: payload length 57. */
	static const uint8_t rt_ah[] = {
		0x60, 0x00, 0x00, 0x00,
		0x00, 0x39,             /* payload length 57 = 8 + 24 + 25 */
		0x2b, 0x40,             /* next header 43 (routing) */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
		/* routing: next 51, length 0, type 4 (SRH-ish), segments left 0 */
		0x33, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
		/* AH: next 6, payload len 4, reserved, SPI, seq, ICV (12) */
		0x06, 0x04, 0x00, 0x00,
		0x00, 0x00, 0x01, 0x00, /* SPI */
		0x00, 0x00, 0x00, 0x01, /* sequence */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* ICV */
		0x9c, 0x40, 0x00, 0x50,
		0x01, 0x02, 0x03, 0x04,
		0xa0, 0xb0, 0xc0, 0xd0,
		0x50, 0x18, 0xfa, 0xf0,
		0x00, 0x00, 0x00, 0x00,
		'G', 'E', 'T', ' ', '/',
	};
	uint8_t g[sizeof(f)];
	struct frame fr;

	(void)state;
	expect_seg(DLT_RAW, MK1(f), 6);
	expect_seg(DLT_EN10MB, MK2(eth_ip6, f), 6);
	expect_seg(DLT_RAW, MK1(rt_ah), 6);

	/* Non-first fragment: offset 1 (8 bytes). */
	memcpy(g, f, sizeof(g));
	g[40 + 8 + 16 + 3] = 0x08;              /* offset 1, M clear */
	expect(DLT_RAW, MK1(g), DEC_FRAGMENT, "non-first IPv6 fragment");

	/* Destination options claim 16 * 8 bytes: past the payload length. */
	memcpy(g, f, sizeof(g));
	g[40 + 8 + 1] = 0x0f;
	expect(DLT_RAW, MK1(g), DEC_INVALID,
	       "IPv6 extension header longer than payload");

	/* Cut inside the destination options header. */
	fr = MK1(f);
	cut(&fr, 40 + 8 + 10);
	expect(DLT_RAW, fr, DEC_TRUNCATED, "IPv6 extension header truncated");
	/* Cut right after the fixed header: the hop-by-hop header is absent. */
	fr = MK1(f);
	cut(&fr, 40);
	expect(DLT_RAW, fr, DEC_TRUNCATED, "IPv6 extension header truncated");
}

static void test_ipv6_chain_bound(void **state)
{
	/* 20 destination-options headers of 8 bytes each, then TCP: a chain
	 * longer than the decoder walks. */
	uint8_t f[40 + 20 * 8 + 25];
	uint32_t plen = 20 * 8 + 25;

	(void)state;
	memcpy(f, ip6_tcp, 40);
	f[4] = (uint8_t)(plen >> 8);
	f[5] = (uint8_t)plen;
	f[6] = 60;                              /* destination options */
	for (int i = 0; i < 20; i++) {
		uint8_t *h = f + 40 + 8 * i;

		memset(h, 0, 8);
		h[0] = i == 19 ? 6 : 60;        /* next header */
		h[2] = 0x01; h[3] = 0x04;       /* PadN(4) */
	}
	memcpy(f + 40 + 160, ip6_tcp + 40, 25);
	expect(DLT_RAW, MK1(f), DEC_INVALID, "too many IPv6 extension headers");
}

static void test_ipv6_truncated_and_jumbo(void **state)
{
	struct frame fr;
	uint8_t z[sizeof(ip6_tcp)];
	struct dec_tcp t;
	const char *why;

	(void)state;
	fr = MK2(eth_ip6, ip6_tcp);
	cut(&fr, 14 + 39);
	expect(DLT_EN10MB, fr, DEC_TRUNCATED, "IPv6 header truncated");

	/* Payload length 1000 in a 65-byte packet. */
	memcpy(z, ip6_tcp, sizeof(z));
	z[4] = 0x03; z[5] = 0xe8;
	expect(DLT_RAW, MK1(z), DEC_INVALID,
	       "IPv6 payload length beyond the frame");

	/* Payload length 0 with TCP next: take the length from the frame. */
	memcpy(z, ip6_tcp, sizeof(z));
	z[4] = 0; z[5] = 0;
	fr = MK1(z);
	assert_int_equal(dec_packet(DLT_RAW, fr.buf, fr.len, 40 + 20 + 9000, &t,
	                            &why), DEC_OK);
	assert_int_equal(t.seg_len, 9000);
	assert_int_equal(t.payload_caplen, 5);
	drop(&fr);
}

/* ---- TCP ----------------------------------------------------------------- */

/* A SYN with every option Linux sends: MSS 1460, SACK permitted,
 * timestamps, NOP, window scale 7 (data offset 10: 40 bytes). */
static const uint8_t syn_opts[] = {
	0x45, 0x00, 0x00, 0x3c, /* total length 60 */
	0x00, 0x00, 0x40, 0x00,
	0x40, 0x06, 0x00, 0x00,
	0x0a, 0x00, 0x00, 0x01,
	0x0a, 0x00, 0x00, 0x02,
	0x9c, 0x40, 0x00, 0x50,
	0xff, 0xff, 0xff, 0xf0, /* seq 0xfffffff0 (near the wrap) */
	0x00, 0x00, 0x00, 0x00, /* ack 0 */
	0xa0, 0x02,             /* data offset 10, flags SYN */
	0xfa, 0xf0,
	0x00, 0x00, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xb4, /* MSS 1460 */
	0x04, 0x02,             /* SACK permitted */
	0x08, 0x0a,             /* timestamps: */
	0x11, 0x22, 0x33, 0x44, /*   TSval */
	0x00, 0x00, 0x00, 0x00, /*   TSecr */
	0x01,                   /* NOP */
	0x03, 0x03, 0x07,       /* window scale 7 */
};

static void test_tcp_all_options(void **state)
{
	struct frame f = MK2(eth_ip4, syn_opts);
	struct dec_tcp t;
	const char *why;

	(void)state;
	assert_int_equal(dec(DLT_EN10MB, &f, &t, &why), DEC_OK);
	assert_int_equal(t.flags, LL_TH_SYN);
	assert_int_equal(t.seq, 0xfffffff0u);
	assert_int_equal(t.mss, 1460);
	assert_true(t.sack_permitted);
	assert_true(t.has_ts);
	assert_int_equal(t.ts_val, 0x11223344u);
	assert_int_equal(t.ts_ecr, 0);
	assert_int_equal(t.wscale, 7);
	assert_int_equal(t.n_sack, 0);
	assert_false(t.opts_bad);
	assert_int_equal(t.seg_len, 0);
	assert_int_equal(t.payload_caplen, 0);
	assert_null(t.payload);
	drop(&f);
}

static void test_tcp_sack_blocks(void **state)
{
	/* ACK with NOP NOP TS + NOP NOP SACK (3 blocks): 12 + 28 = 40 option
	 * bytes, the most TCP allows. */
	static const uint8_t f[] = {
		0x45, 0x00, 0x00, 0x50, /* total length 80 */
		0x00, 0x00, 0x40, 0x00,
		0x40, 0x06, 0x00, 0x00,
		0x0a, 0x00, 0x00, 0x02,
		0x0a, 0x00, 0x00, 0x01,
		0x00, 0x50, 0x9c, 0x40, /* 80 -> 40000 */
		0x00, 0x00, 0x10, 0x00, /* seq */
		0x00, 0x00, 0x20, 0x00, /* ack */
		0xf0, 0x10,             /* data offset 15 (60 bytes), ACK */
		0x01, 0xf5,             /* window 501 */
		0x00, 0x00, 0x00, 0x00,
		0x01, 0x01, 0x08, 0x0a, /* NOP NOP TS */
		0x00, 0x00, 0x00, 0x0a, /*   TSval 10 */
		0x00, 0x00, 0x00, 0x0b, /*   TSecr 11 */
		0x01, 0x01, 0x05, 0x1a, /* NOP NOP SACK length 26 */
		0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x34, 0x00, /* block 1 */
		0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x48, 0x00, /* block 2 */
		0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, /* block 3 (wraps) */
	};
	/* Four SACK blocks fill the 40 option bytes by themselves. */
	uint8_t four[20 + 20 + 36];
	struct frame fr = MK1(f);
	struct dec_tcp t;
	const char *why;

	(void)state;
	assert_int_equal(dec(DLT_RAW, &fr, &t, &why), DEC_OK);
	assert_true(t.has_ts);
	assert_int_equal(t.ts_val, 10);
	assert_int_equal(t.ts_ecr, 11);
	assert_int_equal(t.n_sack, 3);
	assert_int_equal(t.sack[0].left, 0x3000);
	assert_int_equal(t.sack[0].right, 0x3400);
	assert_int_equal(t.sack[1].left, 0x4000);
	assert_int_equal(t.sack[1].right, 0x4800);
	assert_int_equal(t.sack[2].left, 0xffffff00u);
	assert_int_equal(t.sack[2].right, 0x100);
	assert_false(t.opts_bad);
	drop(&fr);

	memcpy(four, f, 40);
	four[3] = sizeof(four);                 /* total length 76 */
	four[32] = 0xe0;                        /* data offset 14 */
	four[40] = 0x01; four[41] = 0x01;       /* NOP NOP */
	four[42] = 0x05; four[43] = 0x22;       /* SACK length 34: 4 blocks */
	for (int i = 0; i < 8; i++) {           /* edges 1..8 */
		uint8_t *e = four + 44 + 4 * i;

		e[0] = 0; e[1] = 0; e[2] = 0; e[3] = (uint8_t)(i + 1);
	}
	fr = MK1(four);
	assert_int_equal(dec(DLT_RAW, &fr, &t, &why), DEC_OK);
	assert_int_equal(t.n_sack, 4);
	assert_int_equal(t.sack[3].left, 7);
	assert_int_equal(t.sack[3].right, 8);
	assert_false(t.has_ts);
	assert_false(t.opts_bad);
	drop(&fr);
}

static void test_tcp_window_scale_clamp(void **state)
{
	uint8_t f[sizeof(syn_opts)];
	struct frame fr;
	struct dec_tcp t;
	const char *why;

	(void)state;
	memcpy(f, syn_opts, sizeof(f));
	f[59] = 200;                            /* shift 200: RFC 7323 says 14 */
	fr = MK1(f);
	assert_int_equal(dec(DLT_RAW, &fr, &t, &why), DEC_OK);
	assert_int_equal(t.wscale, 14);
	drop(&fr);
}

/* Options that break: parsing stops, what came before is kept, the
 * segment itself is still decoded. */
static void test_tcp_bad_options(void **state)
{
	uint8_t f[sizeof(syn_opts)];
	struct frame fr;
	struct dec_tcp t;
	const char *why;

	(void)state;
	/* MSS with length 3 after nothing: nothing kept. */
	memcpy(f, syn_opts, sizeof(f));
	f[41] = 3;
	fr = MK1(f);
	assert_int_equal(dec(DLT_RAW, &fr, &t, &why), DEC_OK);
	assert_true(t.opts_bad);
	assert_int_equal(t.mss, 0);
	assert_false(t.sack_permitted);
	assert_int_equal(t.wscale, -1);
	assert_int_equal(t.flags, LL_TH_SYN);
	drop(&fr);

	/* Timestamps with length 0: MSS and SACK-permitted before it kept. */
	memcpy(f, syn_opts, sizeof(f));
	f[47] = 0;
	fr = MK1(f);
	assert_int_equal(dec(DLT_RAW, &fr, &t, &why), DEC_OK);
	assert_true(t.opts_bad);
	assert_int_equal(t.mss, 1460);
	assert_true(t.sack_permitted);
	assert_false(t.has_ts);
	assert_int_equal(t.wscale, -1);
	drop(&fr);

	/* Window scale claiming 4 bytes where only 3 remain in the header. */
	memcpy(f, syn_opts, sizeof(f));
	f[58] = 4;
	fr = MK1(f);
	assert_int_equal(dec(DLT_RAW, &fr, &t, &why), DEC_OK);
	assert_true(t.opts_bad);
	assert_true(t.has_ts);
	assert_int_equal(t.wscale, -1);
	drop(&fr);

	/* SACK with length 11 (not 2 + 8n). */
	memcpy(f, syn_opts, sizeof(f));
	f[40] = 5; f[41] = 11;                  /* replaces MSS..SACKOK.. */
	fr = MK1(f);
	assert_int_equal(dec(DLT_RAW, &fr, &t, &why), DEC_OK);
	assert_true(t.opts_bad);
	assert_int_equal(t.n_sack, 0);
	drop(&fr);

	/* A lone kind byte at the very end (no room for its length). */
	memcpy(f, syn_opts, sizeof(f));
	f[56] = 0x01; f[57] = 0x01; f[58] = 0x01; f[59] = 0x1e; /* NOPs, kind 30 */
	fr = MK1(f);
	assert_int_equal(dec(DLT_RAW, &fr, &t, &why), DEC_OK);
	assert_true(t.opts_bad);
	assert_true(t.has_ts);
	drop(&fr);

	/* EOL ends the list: what follows is not parsed and not bad. */
	memcpy(f, syn_opts, sizeof(f));
	f[44] = 0x00;                           /* EOL where SACK-permitted was */
	f[45] = 0xff;                           /* garbage after EOL */
	fr = MK1(f);
	assert_int_equal(dec(DLT_RAW, &fr, &t, &why), DEC_OK);
	assert_false(t.opts_bad);
	assert_int_equal(t.mss, 1460);
	assert_false(t.sack_permitted);
	assert_false(t.has_ts);
	drop(&fr);
}

static void test_tcp_invalid(void **state)
{
	uint8_t f[sizeof(ip4_tcp)];

	(void)state;
	memcpy(f, ip4_tcp, sizeof(f));
	f[32] = 0x40;                           /* data offset 4 */
	expect(DLT_RAW, MK1(f), DEC_INVALID, "TCP data offset too small");

	memcpy(f, ip4_tcp, sizeof(f));
	f[32] = 0xf0;                           /* data offset 15 (60 > 25) */
	expect(DLT_RAW, MK1(f), DEC_INVALID, "TCP data offset too big");

	/* Data offset 6 fits the 25-byte segment but not the 22 bytes
	 * captured: not invalid, and the fixed header is all there, so the
	 * segment decodes with its options marked bad and no payload. */
	memcpy(f, ip4_tcp, sizeof(f));
	f[32] = 0x60;
	{
		struct frame fr = MK1(f);
		struct dec_tcp t;
		const char *why;

		cut(&fr, 20 + 22);
		assert_int_equal(dec(DLT_RAW, &fr, &t, &why), DEC_OK);
		assert_true(t.opts_bad);
		assert_int_equal(t.seg_len, 1);
		assert_int_equal(t.payload_caplen, 0);
		assert_null(t.payload);
		drop(&fr);
	}
}

/* ---- truncation at every layer ------------------------------------------ */

static void test_truncated_each_layer(void **state)
{
	static const struct {
		uint32_t caplen;
		const char *why;
	} cuts[] = {
		{ 1, "Ethernet header truncated" },
		{ 13, "Ethernet header truncated" },
		{ 14, "IPv4 header truncated" },      /* nothing after Ethernet */
		{ 14 + 19, "IPv4 header truncated" },
		{ 14 + 20, "TCP header truncated" },
		{ 14 + 20 + 19, "TCP header truncated" },
	};
	struct frame f;

	(void)state;
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		f = MK2(eth_ip4, ip4_tcp);
		cut(&f, cuts[i].caplen);
		expect(DLT_EN10MB, f, DEC_TRUNCATED, cuts[i].why);
	}
	f = MK2(eth_ip6, ip6_tcp);
	cut(&f, 14 + 40 + 12);
	expect(DLT_EN10MB, f, DEC_TRUNCATED, "TCP header truncated");
	f = MK2(sll_ip4, ip4_tcp);
	cut(&f, 15);
	expect(DLT_LINUX_SLL, f, DEC_TRUNCATED, "Linux cooked header truncated");
	f = MK2(sll2_ip6, ip6_tcp);
	cut(&f, 19);
	expect(DLT_LINUX_SLL2, f, DEC_TRUNCATED,
	       "Linux cooked v2 header truncated");
	/* SYN cut inside the options (data offset 10, 30 of 40 captured), as
	 * tcpdump -s 64 cuts every segment with timestamps: the segment is
	 * kept, with the options captured before the cut. */
	{
		struct dec_tcp t;
		const char *why;

		f = MK2(eth_ip4, syn_opts);
		cut(&f, 14 + 20 + 30);
		assert_int_equal(dec(DLT_EN10MB, &f, &t, &why), DEC_OK);
		assert_int_equal(t.flags, 0x02);
		assert_int_equal(t.seq, 0xfffffff0u);
		assert_int_equal(t.mss, 1460);
		assert_true(t.sack_permitted);
		assert_false(t.has_ts);
		assert_true(t.opts_bad);
		assert_int_equal(t.seg_len, 0);
		assert_null(t.payload);
		drop(&f);
	}
	/* Nothing captured at all is a bad record, not a cut header (tcpdump:
	 * "Invalid header: caplen==0"); NULL out and why are allowed. */
	assert_int_equal(dec_packet(DLT_RAW, NULL, 0, 0, NULL, NULL),
	                 DEC_INVALID);
	f = MK2(eth_ip4, ip4_tcp);
	cut(&f, 0);
	expect(DLT_EN10MB, f, DEC_INVALID, "captured length is 0");
}

/* snaplen cut the payload: the segment is fine, only part of it is here. */
static void test_snaplen_payload(void **state)
{
	struct frame f = MK2(eth_ip4, ip4_tcp);
	struct dec_tcp t;
	const char *why;

	(void)state;
	cut(&f, 14 + 40 + 2);
	assert_int_equal(dec_packet(DLT_EN10MB, f.buf, f.len, 14 + 45, &t, &why),
	                 DEC_OK);
	assert_int_equal(t.seg_len, 5);
	assert_int_equal(t.payload_caplen, 2);
	assert_memory_equal(t.payload, "GE", 2);
	drop(&f);

	/* Headers only: seg_len from IP, nothing captured. */
	f = MK2(eth_ip4, ip4_tcp);
	cut(&f, 14 + 40);
	assert_int_equal(dec(DLT_EN10MB, &f, &t, &why), DEC_OK);
	assert_int_equal(t.seg_len, 5);
	assert_int_equal(t.payload_caplen, 0);
	assert_null(t.payload);
	drop(&f);
}

/* A record whose caplen exceeds its wire length contradicts itself: it is
 * invalid whatever it holds; 0 means the caller does not know the length. */
static void test_caplen_over_wirelen(void **state)
{
	struct frame f = MK2(eth_ip4, ip4_tcp);
	struct dec_tcp t;
	const char *why;

	(void)state;
	assert_int_equal(dec_packet(DLT_EN10MB, f.buf, f.len, f.len - 1, &t,
	                            &why), DEC_INVALID);
	assert_string_equal(why, "captured length greater than wire length");
	assert_int_equal(dec_packet(DLT_EN10MB, f.buf, f.len, 0, &t, &why),
	                 DEC_OK);
	assert_seg(&t, 4);
	drop(&f);
}

/* Ethernet pads frames to 60 bytes: padding is not payload. */
static void test_ethernet_padding(void **state)
{
	/* An empty ACK: 14 + 20 + 20 = 54 bytes, padded with 6 zero bytes. */
	uint8_t ack[40];
	static const uint8_t pad[6] = { 0 };
	struct frame f;
	struct dec_tcp t;
	const char *why;

	(void)state;
	memcpy(ack, ip4_tcp, 40);
	ack[3] = 40;                            /* total length 40 */
	ack[33] = LL_TH_ACK;
	f = mk(eth_ip4, sizeof(eth_ip4), ack, sizeof(ack), pad, sizeof(pad));
	assert_int_equal(dec(DLT_EN10MB, &f, &t, &why), DEC_OK);
	assert_int_equal(t.seg_len, 0);
	assert_int_equal(t.payload_caplen, 0);
	assert_null(t.payload);
	drop(&f);
}

/* ---- garbage --------------------------------------------------------------- */

/* Deterministic pseudo-random bytes (xorshift32): the same run every time. */
static uint32_t xs(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_garbage(void **state)
{
	static const int dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
	                            DLT_NULL, DLT_LOOP, DLT_RAW, 14, 101,
	                            DLT_IPV4, DLT_IPV6, DLT_PPP };
	uint32_t seed = 0x2545f491;
	uint64_t by_result[DEC_NRESULTS] = { 0 };

	(void)state;
	for (int round = 0; round < 20000; round++) {
		uint32_t len = xs(&seed) % 200;
		uint8_t *p = malloc(len ? len : 1);
		int dlt = dlts[xs(&seed) % (sizeof(dlts) / sizeof(dlts[0]))];
		struct dec_tcp t;
		const char *why = NULL;
		enum dec_result r;

		assert_non_null(p);
		for (uint32_t i = 0; i < len; i++)
			p[i] = (uint8_t)xs(&seed);
		/* Half the time, make the start look like IP so the deeper
		 * layers are reached. */
		if (round & 1 && len > 0 && (dlt == DLT_RAW || dlt == DLT_IPV4))
			p[0] = (uint8_t)(0x45 + (xs(&seed) & 3));
		r = dec_packet(dlt, p, len, len + (xs(&seed) & 0xff), &t, &why);
		assert_true(r >= DEC_OK && r < DEC_NRESULTS);
		assert_non_null(why);
		by_result[r]++;
		if (r == DEC_OK) {
			assert_true(t.payload_caplen <= t.seg_len);
			if (t.payload_caplen) {
				assert_true(t.payload >= p);
				assert_true(t.payload + t.payload_caplen <= p + len);
			} else {
				assert_null(t.payload);
			}
			assert_true(t.n_sack <= 4);
			assert_true(t.wscale >= -1 && t.wscale <= 14);
		}
		free(p);
	}
	/* The generator really reached both ends of the decoder. */
	assert_true(by_result[DEC_TRUNCATED] > 0);
	assert_true(by_result[DEC_INVALID] > 0);
	assert_true(by_result[DEC_UNSUPPORTED] > 0);
}

static void test_result_names(void **state)
{
	(void)state;
	assert_string_equal(dec_result_name(DEC_OK), "ok");
	assert_string_equal(dec_result_name(DEC_NOT_TCP), "not_tcp");
	assert_string_equal(dec_result_name(DEC_FRAGMENT), "fragment");
	assert_string_equal(dec_result_name(DEC_TRUNCATED), "truncated");
	assert_string_equal(dec_result_name(DEC_INVALID), "invalid");
	assert_string_equal(dec_result_name(DEC_UNSUPPORTED), "unsupported");
	assert_string_equal(dec_result_name((enum dec_result)99), "unknown");
}

/* Every call starts from a clean record: nothing leaks from the last one. */
static void test_out_reset(void **state)
{
	struct frame a = MK2(eth_ip4, syn_opts), b = MK2(eth_ip4, ip4_tcp);
	struct dec_tcp t;
	const char *why;

	(void)state;
	assert_int_equal(dec(DLT_EN10MB, &a, &t, &why), DEC_OK);
	assert_int_equal(t.mss, 1460);
	assert_int_equal(dec(DLT_EN10MB, &b, &t, &why), DEC_OK);
	assert_seg(&t, 4);
	assert_string_equal(why, "ok");
	drop(&a);
	drop(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet),
		cmocka_unit_test(test_vlan_and_qinq),
		cmocka_unit_test(test_vlan_limits),
		cmocka_unit_test(test_linux_cooked),
		cmocka_unit_test(test_bsd_loopback),
		cmocka_unit_test(test_raw_ip),
		cmocka_unit_test(test_not_tcp),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_ipv4_invalid),
		cmocka_unit_test(test_ipv4_offload_length),
		cmocka_unit_test(test_ipv6_ext_headers),
		cmocka_unit_test(test_ipv6_chain_bound),
		cmocka_unit_test(test_ipv6_truncated_and_jumbo),
		cmocka_unit_test(test_tcp_all_options),
		cmocka_unit_test(test_tcp_sack_blocks),
		cmocka_unit_test(test_tcp_window_scale_clamp),
		cmocka_unit_test(test_tcp_bad_options),
		cmocka_unit_test(test_tcp_invalid),
		cmocka_unit_test(test_truncated_each_layer),
		cmocka_unit_test(test_snaplen_payload),
		cmocka_unit_test(test_caplen_over_wirelen),
		cmocka_unit_test(test_ethernet_padding),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_out_reset),
	};

	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
