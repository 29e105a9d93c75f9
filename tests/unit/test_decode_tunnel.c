/*
 * test_decode_tunnel.c - the encapsulations of analyzer/tunnel.c on
 * hand-built frames: each one around the same inner segment (IPv4 or IPv6
 * TCP 40000 -> 80, "GET /"), the tunnel id that keys inner connections,
 * the depth bound, what unsupported frames are called, and every prefix
 * of every frame (a snaplen anywhere) decoded from a heap copy of exactly
 * that size, so `make asan` catches a read past the captured bytes.
 *
 * Layouts, from the documents tunnel.c names: MPLS RFC 3032, PPPoE RFC
 * 2516, PPP RFC 1661/1662, SNAP RFC 1042, GRE RFC 2784/2890, ERSPAN
 * draft-foschiano-erspan, VXLAN RFC 7348, Geneve RFC 8926, GTP-U 3GPP TS
 * 29.281, Teredo RFC 4380, AYIYA draft-massar-v6ops-ayiya, 802.1ah,
 * radiotap.org, IEEE 802.11-2020 9.2.3.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pcap/dlt.h>

#include "analyzer/analyzer.h"
#include "analyzer/decode.h"

/* ---- the inner packets ---------------------------------------------------- */

/* IPv4 (20) + TCP (20) + "GET /": 10.0.0.1:40000 -> 10.0.0.2:80 [P.] */
static const uint8_t in4[] = {
	0x45, 0x00, 0x00, 0x2d, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
	10, 0, 0, 1, 10, 0, 0, 2,
	0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0xa0, 0xb0, 0xc0, 0xd0,
	0x50, 0x18, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,
	'G', 'E', 'T', ' ', '/',
};
/* IPv6 (40) + the same TCP: 2001:db8::1 -> 2001:db8::2 */
static const uint8_t in6[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x19, 0x06, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
	0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0xa0, 0xb0, 0xc0, 0xd0,
	0x50, 0x18, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,
	'G', 'E', 'T', ' ', '/',
};

/* ---- a frame builder: bytes appended piece by piece ------------------------ */

struct fr {
	uint8_t b[1024];
	uint32_t n;
};

static void put(struct fr *f, const void *p, uint32_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put8(struct fr *f, uint8_t v) { put(f, &v, 1); }

static void put16(struct fr *f, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	put(f, x, 2);
}

static void put32(struct fr *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

/* Ethernet: destination, source, type. */
static void eth(struct fr *f, uint16_t type)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
	put(f, macs, 12);
	put16(f, type);
}

/* Outer IPv4 header from a.b.c.d to w.x.y.z carrying len bytes of proto. */
static void ip4(struct fr *f, uint8_t proto, uint32_t src, uint32_t dst,
                uint32_t len)
{
	put16(f, 0x4500);
	put16(f, (uint16_t)(20 + len));
	put32(f, 0);                    /* id, flags, fragment offset */
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);                    /* checksum (not checked) */
	put32(f, src);
	put32(f, dst);
}

/* Outer IPv6 header ::src -> ::dst (2001:db8:ffff::src) carrying len
 * bytes with next header nh. */
static void ip6(struct fr *f, uint8_t nh, uint8_t src, uint8_t dst,
                uint32_t len)
{
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff };

	put32(f, 0x60000000);
	put16(f, (uint16_t)len);
	put8(f, nh);
	put8(f, 64);
	a[15] = src;
	put(f, a, 16);
	a[15] = dst;
	put(f, a, 16);
}

static void udp(struct fr *f, uint16_t sport, uint16_t dport, uint32_t len)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, (uint16_t)(8 + len));
	put16(f, 0);
}

#define A(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define OUT1 A(192, 0, 2, 1)
#define OUT2 A(192, 0, 2, 2)
#define OUT3 A(192, 0, 2, 3)

/* ---- checks -------------------------------------------------------------- */

/* Every prefix of f decoded from a heap copy of exactly that size: never
 * a crash or an overread, never DEC_OK until the TCP header is whole. */
static void all_prefixes(int dlt, const struct fr *f)
{
	for (uint32_t len = 0; len <= f->n; len++) {
		uint8_t *p = malloc(len ? len : 1);
		struct dec_tcp t;
		const char *why = NULL;
		enum dec_result r;

		assert_non_null(p);
		memcpy(p, f->b, len);
		r = dec_packet(dlt, len ? p : NULL, len, f->n, &t, &why);
		assert_non_null(why);
		if (r == DEC_OK)
			assert_true(t.payload_caplen <= t.seg_len);
		free(p);
	}
}

/* f decodes to the inner segment (af 4 or 6) through `tunnels` tunnels. */
static struct dec_tcp expect_inner(int dlt, const struct fr *f, int af,
                                   unsigned tunnels)
{
	struct dec_tcp t;
	const char *why = NULL;

	assert_int_equal(dec_packet(dlt, f->b, f->n, f->n, &t, &why), DEC_OK);
	assert_string_equal(why, "ok");
	assert_int_equal(t.af, af);
	assert_int_equal(t.sport, 40000);
	assert_int_equal(t.dport, 80);
	assert_int_equal(t.seq, 0x01020304u);
	assert_int_equal(t.seg_len, 5);
	assert_memory_equal(t.payload, "GET /", 5);
	assert_int_equal(t.tunnels, tunnels);
	if (tunnels == 0)
		assert_int_equal(t.tunnel, 0);
	else
		assert_true(t.tunnel != 0 && t.tunnel <= 0xffffff);
	all_prefixes(dlt, f);
	return t;
}

/* f is DEC_UNSUPPORTED, named text. */
static void expect_unsup(int dlt, const struct fr *f, const char *text)
{
	struct dec_tcp t;
	char buf[96];

	assert_int_equal(dec_packet(dlt, f->b, f->n, f->n, &t, NULL),
	                 DEC_UNSUPPORTED);
	assert_string_equal(dec_unsupported_text(&t, buf, sizeof(buf)), text);
	all_prefixes(dlt, f);
}

static void expect_result(int dlt, const struct fr *f, enum dec_result r,
                          const char *why_expected)
{
	const char *why = NULL;

	assert_int_equal(dec_packet(dlt, f->b, f->n, f->n, NULL, &why), r);
	if (why_expected)
		assert_string_equal(why, why_expected);
}

/* ---- link-level encapsulations --------------------------------------------- */

static void test_mpls(void **state)
{
	struct fr f = { .n = 0 };

	(void)state;
	/* two labels, the second with the bottom-of-stack bit, IPv4 */
	eth(&f, 0x8847);
	put32(&f, 16 << 12 | 0x40);      /* label 16, TTL 64 */
	put32(&f, 17 << 12 | 0x100 | 0x40);
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_EN10MB, &f, 4, 0);

	/* pseudowire control word, then an Ethernet frame (RFC 4448) */
	f.n = 0;
	eth(&f, 0x8847);
	put32(&f, 18 << 12 | 0x100 | 0x40);
	put32(&f, 0);                    /* control word */
	eth(&f, 0x86dd);
	put(&f, in6, sizeof(in6));
	expect_inner(DLT_EN10MB, &f, 6, 0);

	/* after the stack, a byte that is neither IP nor a control word */
	f.n = 0;
	eth(&f, 0x8847);
	put32(&f, 18 << 12 | 0x100 | 0x40);
	put8(&f, 0x95);
	put(&f, in4, 8);
	expect_unsup(DLT_EN10MB, &f, "MPLS payload starting 0x95");
}

static void test_pppoe_and_ppp(void **state)
{
	struct fr f = { .n = 0 };

	(void)state;
	eth(&f, 0x8864);
	put8(&f, 0x11);                  /* version 1, type 1 */
	put8(&f, 0);                     /* code: session data */
	put16(&f, 0x0017);               /* session id */
	put16(&f, (uint16_t)(2 + sizeof(in4)));
	put16(&f, 0x0021);               /* PPP: IPv4 */
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_EN10MB, &f, 4, 0);

	/* LCP echo in a session: a control protocol, no TCP */
	f.n = 0;
	eth(&f, 0x8864);
	put8(&f, 0x11); put8(&f, 0); put16(&f, 0x17); put16(&f, 10);
	put16(&f, 0xc021);
	put32(&f, 0x09010008); put32(&f, 0);
	expect_result(DLT_EN10MB, &f, DEC_NOT_TCP, "PPP control protocol");

	/* link type PPP: HDLC-like framing, then IPv6 */
	f.n = 0;
	put8(&f, 0xff); put8(&f, 0x03); put16(&f, 0x0057);
	put(&f, in6, sizeof(in6));
	expect_inner(DLT_PPP, &f, 6, 0);
	/* address and control left out, protocol compressed to one byte */
	f.n = 0;
	put8(&f, 0x21);
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_PPP_SERIAL, &f, 4, 0);
	/* Van Jacobson compressed TCP: named, not guessed at */
	f.n = 0;
	put8(&f, 0xff); put8(&f, 0x03); put16(&f, 0x002d);
	put(&f, in4 + 20, 10);
	expect_unsup(DLT_PPP, &f, "PPP protocol 0x002d (VJ compressed TCP)");
	/* a bad control field is invalid */
	f.n = 0;
	put8(&f, 0xff); put8(&f, 0x5f); put16(&f, 0x0021);
	put(&f, in4, sizeof(in4));
	expect_result(DLT_PPP, &f, DEC_INVALID, "PPP control field is not 0x03");
}

static void test_llc_snap(void **state)
{
	struct fr f = { .n = 0 };
	static const uint8_t snap_ip[] = { 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00 };
	static const uint8_t snap_cisco[] = { 0xaa, 0xaa, 0x03, 0, 0, 0x0c, 0x01, 0x0b };

	(void)state;
	eth(&f, (uint16_t)(sizeof(snap_ip) + sizeof(in4)));  /* 802.3 length */
	put(&f, snap_ip, sizeof(snap_ip));
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_EN10MB, &f, 4, 0);

	/* Cisco's PVST+ in SNAP: a vendor protocol, no IP */
	f.n = 0;
	eth(&f, 50);
	put(&f, snap_cisco, sizeof(snap_cisco));
	put(&f, in4, 20);
	expect_result(DLT_EN10MB, &f, DEC_NOT_TCP, "SNAP protocol of a vendor");

	/* an 802.3 frame behind a VLAN tag */
	f.n = 0;
	eth(&f, 0x8100);
	put16(&f, 100);
	put16(&f, (uint16_t)(sizeof(snap_ip) + sizeof(in4)));
	put(&f, snap_ip, sizeof(snap_ip));
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_EN10MB, &f, 4, 0);

	/* an LLC SAP nobody here knows: named */
	f.n = 0;
	eth(&f, 20);
	put8(&f, 0x45); put8(&f, 0x10); put8(&f, 0x03);
	put(&f, in4, 17);
	expect_unsup(DLT_EN10MB, &f, "LLC DSAP 0x45 SSAP 0x10");
}

static void test_vntag_fabricpath_pbb(void **state)
{
	struct fr f = { .n = 0 };

	(void)state;
	eth(&f, 0x8926);                 /* VN-Tag */
	put32(&f, 0x80010002);
	put16(&f, 0x0800);
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_EN10MB, &f, 4, 0);

	f.n = 0;
	eth(&f, 0x8903);                 /* FabricPath: FTag/TTL, inner frame */
	put16(&f, 0x0401);
	eth(&f, 0x86dd);
	put(&f, in6, sizeof(in6));
	expect_inner(DLT_EN10MB, &f, 6, 0);

	f.n = 0;
	eth(&f, 0x88e7);                 /* PBB: I-TAG, customer addresses */
	put32(&f, 0x00010203);
	eth(&f, 0x0800);
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_EN10MB, &f, 4, 0);
}

/* ---- IP tunnels ----------------------------------------------------------- */

static void test_ip_in_ip(void **state)
{
	struct fr f = { .n = 0 };

	(void)state;
	eth(&f, 0x0800);                 /* 4in4 */
	ip4(&f, 4, OUT1, OUT2, sizeof(in4));
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_EN10MB, &f, 4, 1);

	f.n = 0;                         /* 6in4 */
	ip4(&f, 41, OUT1, OUT2, sizeof(in6));
	put(&f, in6, sizeof(in6));
	expect_inner(DLT_RAW, &f, 6, 1);

	f.n = 0;                         /* 4in6 */
	ip6(&f, 4, 1, 2, sizeof(in4));
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_RAW, &f, 4, 1);

	f.n = 0;                         /* 6in6 */
	ip6(&f, 41, 1, 2, sizeof(in6));
	put(&f, in6, sizeof(in6));
	expect_inner(DLT_RAW, &f, 6, 1);
}

static void test_gre(void **state)
{
	struct fr f = { .n = 0 };

	(void)state;
	/* plain GRE carrying IPv4 */
	ip4(&f, 47, OUT1, OUT2, 4 + sizeof(in4));
	put16(&f, 0x0000); put16(&f, 0x0800);
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_RAW, &f, 4, 1);

	/* checksum, key and sequence number present (RFC 2890) */
	f.n = 0;
	ip4(&f, 47, OUT1, OUT2, 16 + sizeof(in6));
	put16(&f, 0xb000); put16(&f, 0x86dd);
	put32(&f, 0); put32(&f, 0x1234); put32(&f, 7);
	put(&f, in6, sizeof(in6));
	expect_inner(DLT_RAW, &f, 6, 1);

	/* transparent Ethernet bridging (0x6558) */
	f.n = 0;
	ip4(&f, 47, OUT1, OUT2, 4 + 14 + sizeof(in4));
	put16(&f, 0); put16(&f, 0x6558);
	eth(&f, 0x0800);
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_RAW, &f, 4, 1);

	/* PPTP's enhanced GRE (version 1, key, sequence, ack), PPP inside */
	f.n = 0;
	ip4(&f, 47, OUT1, OUT2, 16 + 4 + sizeof(in4));
	put16(&f, 0x3081); put16(&f, 0x880b);
	put32(&f, (uint32_t)(4 + sizeof(in4)) << 16 | 5); put32(&f, 1); put32(&f, 0);
	put8(&f, 0xff); put8(&f, 0x03); put16(&f, 0x0021);
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_RAW, &f, 4, 1);

	/* a keepalive (protocol 0) carries no TCP; an unknown protocol is
	 * named */
	f.n = 0;
	ip4(&f, 47, OUT1, OUT2, 8);
	put16(&f, 0); put16(&f, 0); put32(&f, 0);
	expect_result(DLT_RAW, &f, DEC_NOT_TCP, "GRE payload is not IP");
	f.n = 0;
	ip4(&f, 47, OUT1, OUT2, 8);
	put16(&f, 0); put16(&f, 0x8909); put32(&f, 0);
	expect_unsup(DLT_RAW, &f, "GRE version 0 protocol 0x8909");
}

static void test_erspan(void **state)
{
	struct fr f = { .n = 0 };

	(void)state;
	/* type I: no sequence number, the mirrored frame at once */
	ip4(&f, 47, OUT1, OUT2, 4 + 14 + sizeof(in4));
	put16(&f, 0x0000); put16(&f, 0x88be);
	eth(&f, 0x0800);
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_RAW, &f, 4, 1);

	/* type II: sequence number, 8-byte header (version 1) */
	f.n = 0;
	ip4(&f, 47, OUT1, OUT2, 8 + 8 + 14 + sizeof(in4));
	put16(&f, 0x1000); put16(&f, 0x88be); put32(&f, 42);
	put32(&f, 0x10010064);           /* version 1, VLAN 1, session 100 */
	put32(&f, 0x00000005);           /* index */
	eth(&f, 0x0800);
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_RAW, &f, 4, 1);

	/* type III with the optional platform subheader (O flag) */
	f.n = 0;
	ip4(&f, 47, OUT1, OUT2, 8 + 12 + 8 + 14 + sizeof(in6));
	put16(&f, 0x1000); put16(&f, 0x22eb); put32(&f, 43);
	put32(&f, 0x20010065);           /* version 2, VLAN 1, session 101 */
	put32(&f, 0x11223344);           /* timestamp */
	put16(&f, 0);                    /* SGT */
	put16(&f, 0x8001);               /* P 1, FT 0 (Ethernet), O 1 */
	put32(&f, 0x04000000); put32(&f, 0);   /* platform subheader */
	eth(&f, 0x86dd);
	put(&f, in6, sizeof(in6));
	expect_inner(DLT_RAW, &f, 6, 1);

	/* type III, frame type 7: named */
	f.n = 0;
	ip4(&f, 47, OUT1, OUT2, 8 + 12 + 20);
	put16(&f, 0x1000); put16(&f, 0x22eb); put32(&f, 44);
	put32(&f, 0x20010065); put32(&f, 0);
	put16(&f, 0); put16(&f, (7 << 2) << 8);   /* P 0, FT 7 */
	put(&f, in4, 20);
	expect_unsup(DLT_RAW, &f, "ERSPAN version 2 frame type 7");
}

/* ---- UDP tunnels ----------------------------------------------------------- */

static void test_vxlan_geneve(void **state)
{
	struct fr f = { .n = 0 };

	(void)state;
	ip4(&f, 17, OUT1, OUT2, 8 + 8 + 14 + sizeof(in4));
	udp(&f, 51000, 4789, 8 + 14 + sizeof(in4));
	put32(&f, 0x08000000); put32(&f, 0x00006400);  /* I flag, VNI 100 */
	eth(&f, 0x0800);
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_RAW, &f, 4, 1);

	/* Geneve with 8 bytes of options, an Ethernet frame */
	f.n = 0;
	ip6(&f, 17, 1, 2, 8 + 16 + 14 + sizeof(in6));
	udp(&f, 40123, 6081, 16 + 14 + sizeof(in6));
	put8(&f, 0x02); put8(&f, 0); put16(&f, 0x6558);
	put32(&f, 0x00000b00);           /* VNI 11 */
	put32(&f, 0x01020301); put32(&f, 0xdeadbeef);  /* one option */
	eth(&f, 0x86dd);
	put(&f, in6, sizeof(in6));
	expect_inner(DLT_RAW, &f, 6, 1);

	/* Geneve carrying IPv4 directly */
	f.n = 0;
	ip4(&f, 17, OUT1, OUT2, 8 + 8 + sizeof(in4));
	udp(&f, 40123, 6081, 8 + sizeof(in4));
	put8(&f, 0); put8(&f, 0); put16(&f, 0x0800); put32(&f, 0x00000a00);
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_RAW, &f, 4, 1);

	/* VXLAN without the I flag is invalid */
	f.n = 0;
	ip4(&f, 17, OUT1, OUT2, 8 + 8 + 14);
	udp(&f, 51000, 4789, 8 + 14);
	put32(&f, 0); put32(&f, 0);
	eth(&f, 0x0800);
	expect_result(DLT_RAW, &f, DEC_INVALID, "VXLAN header without a VNI");

	/* UDP elsewhere is just UDP */
	f.n = 0;
	ip4(&f, 17, OUT1, OUT2, 8 + 4);
	udp(&f, 5353, 53, 4);
	put32(&f, 0);
	expect_result(DLT_RAW, &f, DEC_NOT_TCP, "IPv4 protocol is not TCP");
}

static void test_gtpu(void **state)
{
	struct fr f = { .n = 0 };

	(void)state;
	/* flags: version 1, PT 1, E 1; G-PDU; one extension header (PDU
	 * session container, 4 bytes), then IPv4 */
	ip4(&f, 17, OUT1, OUT2, 8 + 12 + 4 + sizeof(in4));
	udp(&f, 2152, 2152, 12 + 4 + sizeof(in4));
	put8(&f, 0x34); put8(&f, 0xff);
	put16(&f, (uint16_t)(4 + 4 + sizeof(in4)));
	put32(&f, 0x0000abcd);           /* TEID */
	put16(&f, 0); put8(&f, 0); put8(&f, 0x85);     /* next: PDU session */
	put8(&f, 1); put8(&f, 0x00); put8(&f, 0x09); put8(&f, 0x00);
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_RAW, &f, 4, 1);

	/* no optional fields, IPv6 */
	f.n = 0;
	ip4(&f, 17, OUT1, OUT2, 8 + 8 + sizeof(in6));
	udp(&f, 2152, 2152, 8 + sizeof(in6));
	put8(&f, 0x30); put8(&f, 0xff); put16(&f, sizeof(in6)); put32(&f, 7);
	put(&f, in6, sizeof(in6));
	expect_inner(DLT_RAW, &f, 6, 1);

	/* echo request: no user data */
	f.n = 0;
	ip4(&f, 17, OUT1, OUT2, 8 + 12);
	udp(&f, 2152, 2152, 12);
	put8(&f, 0x32); put8(&f, 1); put16(&f, 4); put32(&f, 0); put32(&f, 0);
	expect_result(DLT_RAW, &f, DEC_NOT_TCP, "GTP-U message is not user data");
}

static void test_teredo_ayiya(void **state)
{
	struct fr f = { .n = 0 };

	(void)state;
	/* Teredo with an origin indication */
	ip4(&f, 17, OUT1, OUT2, 8 + 8 + sizeof(in6));
	udp(&f, 3544, 40000, 8 + sizeof(in6));
	put16(&f, 0x0000); put16(&f, 0x1234); put32(&f, 0xc0000201);
	put(&f, in6, sizeof(in6));
	expect_inner(DLT_RAW, &f, 6, 1);

	/* Teredo with an authentication indicator (id 2, auth 3 bytes) */
	f.n = 0;
	ip4(&f, 17, OUT1, OUT2, 8 + 4 + 5 + 9 + sizeof(in6));
	udp(&f, 40000, 3544, 4 + 5 + 9 + sizeof(in6));
	put16(&f, 0x0001); put8(&f, 2); put8(&f, 3);
	put(&f, "ab", 2); put(&f, "xyz", 3);
	put32(&f, 1); put32(&f, 2); put8(&f, 0);       /* nonce, confirmation */
	put(&f, in6, sizeof(in6));
	expect_inner(DLT_RAW, &f, 6, 1);

	/* AYIYA: 16-byte identity (2^4), 20-byte signature (5 words),
	 * forward, next header IPv6 */
	f.n = 0;
	ip4(&f, 17, OUT1, OUT2, 8 + 8 + 16 + 20 + sizeof(in6));
	udp(&f, 5072, 5072, 8 + 16 + 20 + sizeof(in6));
	put8(&f, 0x41); put8(&f, 0x52); put8(&f, 0x11); put8(&f, 41);
	put32(&f, 0x5f000000);           /* epoch */
	for (int i = 0; i < 36; i++)
		put8(&f, (uint8_t)i);        /* identity and signature */
	put(&f, in6, sizeof(in6));
	expect_inner(DLT_RAW, &f, 6, 1);
}

/* ---- link types ------------------------------------------------------------ */

static void test_nflog(void **state)
{
	struct fr f = { .n = 0 };
	uint16_t len, type;

	(void)state;
	put8(&f, 2); put8(&f, 0); put16(&f, 0);        /* AF_INET, v0, res 0 */
	/* TLVs in host byte order: a prefix TLV, then the payload */
	len = 8; type = 10;              /* NFULA_PREFIX */
	put(&f, &len, 2); put(&f, &type, 2); put(&f, "abc", 4);
	len = (uint16_t)(4 + sizeof(in4)); type = 9;   /* NFULA_PAYLOAD */
	put(&f, &len, 2); put(&f, &type, 2);
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_NFLOG, &f, 4, 0);

	/* a TLV shorter than its header */
	f.n = 0;
	put8(&f, 2); put8(&f, 0); put16(&f, 0);
	len = 2; type = 9;
	put(&f, &len, 2); put(&f, &type, 2);
	expect_result(DLT_NFLOG, &f, DEC_INVALID, "NFLOG TLV shorter than its header");
}

static void test_80211_radiotap(void **state)
{
	static const uint8_t snap_ip[] = { 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00 };
	static const uint8_t addrs[18] = { 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2,
	                                   3, 3, 3, 3, 3, 3 };
	struct fr f = { .n = 0 };

	(void)state;
	/* radiotap: version 0, length 12 (little-endian), present word,
	 * 4 bytes of fields; then a QoS data frame to the DS */
	put8(&f, 0); put8(&f, 0); put8(&f, 12); put8(&f, 0);
	put32(&f, 0x02000000); put32(&f, 0);
	put8(&f, 0x88); put8(&f, 0x01);  /* QoS data, ToDS */
	put16(&f, 0);                    /* duration */
	put(&f, addrs, 18);
	put16(&f, 0);                    /* sequence control */
	put16(&f, 0);                    /* QoS control */
	put(&f, snap_ip, sizeof(snap_ip));
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_IEEE802_11_RADIO, &f, 4, 0);

	/* plain 802.11, four addresses (ToDS and FromDS), data */
	f.n = 0;
	put8(&f, 0x08); put8(&f, 0x03); put16(&f, 0);
	put(&f, addrs, 18); put16(&f, 0); put(&f, addrs, 6);
	put(&f, snap_ip, sizeof(snap_ip));
	put(&f, in4, sizeof(in4));
	expect_inner(DLT_IEEE802_11, &f, 4, 0);

	/* protected: named, not guessed */
	f.n = 0;
	put8(&f, 0x08); put8(&f, 0x41); put16(&f, 0);
	put(&f, addrs, 18); put16(&f, 0);
	put(&f, in4, sizeof(in4));
	expect_unsup(DLT_IEEE802_11, &f, "802.11 protected (encrypted) data");

	/* a beacon: management, no TCP */
	f.n = 0;
	put8(&f, 0x80); put8(&f, 0x00); put16(&f, 0);
	put(&f, addrs, 18); put16(&f, 0);
	expect_result(DLT_IEEE802_11, &f, DEC_NOT_TCP, "802.11 frame is not data");
}

/* ---- naming what is not decoded ---------------------------------------------- */

static void test_unsupported_named(void **state)
{
	struct fr f = { .n = 0 };

	(void)state;
	eth(&f, 0x88e5);                 /* MACsec */
	put(&f, in4, sizeof(in4));
	expect_unsup(DLT_EN10MB, &f, "EtherType 0x88e5 (MACsec)");

	f.n = 0;
	ip4(&f, 50, OUT1, OUT2, 16);     /* ESP */
	put32(&f, 0x1000); put32(&f, 1); put32(&f, 0); put32(&f, 0);
	expect_unsup(DLT_RAW, &f, "IP protocol 50 (ESP)");

	f.n = 0;
	put(&f, in4, sizeof(in4));
	expect_unsup(DLT_FDDI, &f, "link type FDDI (10)");

	/* known non-IP EtherTypes stay "not TCP" */
	f.n = 0;
	eth(&f, 0x88cc);                 /* LLDP */
	put32(&f, 0);
	expect_result(DLT_EN10MB, &f, DEC_NOT_TCP, "link-layer protocol is not IP");
}

/* ---- the tunnel id and the depth bound ----------------------------------------- */

/* in4 (or its reverse) in 4in4 from o_src to o_dst. */
static void ipip(struct fr *f, uint32_t o_src, uint32_t o_dst, bool reverse)
{
	uint8_t in[sizeof(in4)];

	memcpy(in, in4, sizeof(in));
	if (reverse) {
		memcpy(in + 12, in4 + 16, 4);
		memcpy(in + 16, in4 + 12, 4);
		memcpy(in + 20, in4 + 22, 2);
		memcpy(in + 22, in4 + 20, 2);
	}
	f->n = 0;
	ip4(f, 4, o_src, o_dst, sizeof(in));
	put(f, in, sizeof(in));
}

static void test_tunnel_id(void **state)
{
	struct fr f = { .n = 0 };
	struct dec_tcp t;
	uint32_t a, b, c;

	(void)state;
	ipip(&f, OUT1, OUT2, false);
	assert_int_equal(dec_packet(DLT_RAW, f.b, f.n, f.n, &t, NULL), DEC_OK);
	a = t.tunnel;
	/* the other direction: outer and inner addresses swapped, one id */
	ipip(&f, OUT2, OUT1, true);
	assert_int_equal(dec_packet(DLT_RAW, f.b, f.n, f.n, &t, NULL), DEC_OK);
	b = t.tunnel;
	assert_int_equal(a, b);
	/* another tunnel endpoint: another id */
	ipip(&f, OUT1, OUT3, false);
	assert_int_equal(dec_packet(DLT_RAW, f.b, f.n, f.n, &t, NULL), DEC_OK);
	c = t.tunnel;
	assert_true(c != a);
	/* no tunnel: 0 */
	assert_int_equal(dec_packet(DLT_RAW, in4, sizeof(in4), sizeof(in4), &t,
	                            NULL), DEC_OK);
	assert_int_equal(t.tunnel, 0);
}

/* Two tunnels carrying the same inner 4-tuple are two connections; both
 * directions of one tunnel are one. */
static void test_tunnel_connections(void **state)
{
	struct fr f = { .n = 0 };
	struct az *az = az_new(NULL);
	double t = 1.0;

	(void)state;
	assert_non_null(az);
	ipip(&f, OUT1, OUT2, false);
	az_packet(az, DLT_RAW, t++, f.b, f.n, f.n);
	ipip(&f, OUT2, OUT1, true);
	az_packet(az, DLT_RAW, t++, f.b, f.n, f.n);
	ipip(&f, OUT1, OUT3, false);
	az_packet(az, DLT_RAW, t++, f.b, f.n, f.n);
	az_packet(az, DLT_RAW, t++, in4, sizeof(in4), sizeof(in4));
	az_finish(az);
	assert_int_equal(az_stats(az)->tcp, 4);
	assert_int_equal(az_totals(az)->connections, 3);
	az_free(az);
}

static void test_depth_bound(void **state)
{
	struct fr f = { .n = 0 };
	struct dec_tcp t;

	(void)state;
	/* DEC_MAX_TUNNELS nested 4in4 headers decode, one more does not */
	for (int depth = DEC_MAX_TUNNELS; depth <= DEC_MAX_TUNNELS + 1; depth++) {
		f.n = 0;
		for (int i = 0; i < depth; i++)
			ip4(&f, 4, OUT1, OUT2 + (uint32_t)i,
			    (uint32_t)(20 * (depth - 1 - i) + sizeof(in4)));
		put(&f, in4, sizeof(in4));
		if (depth == DEC_MAX_TUNNELS) {
			expect_inner(DLT_RAW, &f, 4, DEC_MAX_TUNNELS);
		} else {
			expect_unsup(DLT_RAW, &f, "more than 8 nested tunnels");
			(void)t;
		}
	}
	assert_true(dec_linktype_supported(DLT_NFLOG));
	assert_true(dec_linktype_supported(DLT_IEEE802_11_RADIO));
	assert_true(dec_linktype_supported(DLT_PPP));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mpls),
		cmocka_unit_test(test_pppoe_and_ppp),
		cmocka_unit_test(test_llc_snap),
		cmocka_unit_test(test_vntag_fabricpath_pbb),
		cmocka_unit_test(test_ip_in_ip),
		cmocka_unit_test(test_gre),
		cmocka_unit_test(test_erspan),
		cmocka_unit_test(test_vxlan_geneve),
		cmocka_unit_test(test_gtpu),
		cmocka_unit_test(test_teredo_ayiya),
		cmocka_unit_test(test_nflog),
		cmocka_unit_test(test_80211_radiotap),
		cmocka_unit_test(test_unsupported_named),
		cmocka_unit_test(test_tunnel_id),
		cmocka_unit_test(test_tunnel_connections),
		cmocka_unit_test(test_depth_bound),
	};
	return cmocka_run_group_tests_name("decode_tunnel", tests, NULL, NULL);
}
