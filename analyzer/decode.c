/*
 * decode.c - bounds-checked decoding of one captured frame down to TCP.
 *
 * Every field is read through rd8/rd16/rd32, which check offset + width
 * against caplen (the bytes we really have) before touching the buffer.
 * Nothing here casts packet bytes to a struct: captures come from anywhere,
 * are cut by snaplen anywhere, and are not aligned.
 *
 * Two outcomes are kept apart on purpose (as tcpdump does):
 *   DEC_TRUNCATED - the capture stopped inside a header we need; the packet
 *                   may have been fine on the wire.
 *   DEC_INVALID   - a field we could read is impossible (IHL < 5, a TCP
 *                   data offset past the IP payload, IP version 7...).
 * When a length field is readable we judge it against the IP lengths first
 * (invalid) and against caplen second (truncated), so a snaplen-cut frame
 * with sane headers is never called invalid.
 */
#include "analyzer/decode.h"
#include "analyzer/decode_int.h"

#include <pcap/dlt.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Link types that share a number with something else on some systems, or
 * that libpcap headers name only as LINKTYPE_ values. */
#define LL_DLT_RAW_OPENBSD 14  /* DLT_RAW on OpenBSD (and BSD/OS) */
#define LL_LINKTYPE_RAW    101 /* LINKTYPE_RAW in savefiles */

#define ETHERTYPE_VLAN     0x8100 /* 802.1Q */
#define ETHERTYPE_QINQ     0x88A8 /* 802.1ad service tag */
#define ETHERTYPE_QINQ_OLD 0x9100 /* pre-standard stacked tag */

/* More than this many stacked VLAN tags is not a real network. */
#define MAX_VLAN_TAGS      8
/* Longest IPv6 extension header chain we walk before calling it invalid;
 * real traffic carries at most three or four. */
#define MAX_IPV6_EXT       16

#define IP6_HOPOPTS        0
#define IP6_ROUTING        43
#define IP6_FRAGMENT       44
#define IP6_AH             51
#define IP6_NONE           59
#define IP6_DSTOPTS        60

#define TCPOPT_EOL         0
#define TCPOPT_NOP         1
#define TCPOPT_MSS         2
#define TCPOPT_WSCALE      3
#define TCPOPT_SACKOK      4
#define TCPOPT_SACK        5
#define TCPOPT_TS          8
/* RFC 7323 2.3: a shift count above 14 is used as 14. */
#define TCP_MAX_WSCALE     14

/* The cursor (have, rd8/16/32, rdn) and fail() are in decode_int.h,
 * shared with tunnel.c. */

/* ---- TCP -------------------------------------------------------------- */

/*
 * Options live in [off + 20, off + hlen), perhaps cut short by caplen: every
 * read is checked, so an option the capture cut off counts as malformed.
 * A malformed option stops parsing; what was parsed before it is kept.
 */
static void tcp_options(const struct buf *b, uint32_t off, uint32_t hlen,
                        struct dec_tcp *out)
{
	uint32_t i = off + 20, end = off + hlen;

	while (i < end) {
		uint8_t kind, len;

		if (!rd8(b, i, &kind))
			goto bad;
		if (kind == TCPOPT_EOL)
			return;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= end || !rd8(b, i + 1, &len) || len < 2 ||
		    len > end - i)
			goto bad;
		switch (kind) {
		case TCPOPT_MSS:
			if (len != 4 || !rd16(b, i + 2, &out->mss))
				goto bad;
			break;
		case TCPOPT_WSCALE: {
			uint8_t shift;

			if (len != 3 || !rd8(b, i + 2, &shift))
				goto bad;
			out->wscale = (int8_t)(shift > TCP_MAX_WSCALE ?
			                       TCP_MAX_WSCALE : shift);
			break;
		}
		case TCPOPT_SACKOK:
			if (len != 2)
				goto bad;
			out->sack_permitted = true;
			break;
		case TCPOPT_SACK: {
			uint32_t n = (uint32_t)(len - 2) / 8;

			if ((len - 2) % 8 != 0 || n < 1 || n > 4)
				goto bad;
			for (uint32_t k = 0; k < n; k++) {
				if (!rd32(b, i + 2 + 8 * k, &out->sack[k].left) ||
				    !rd32(b, i + 6 + 8 * k, &out->sack[k].right))
					goto bad;
			}
			out->n_sack = (uint8_t)n;
			break;
		}
		case TCPOPT_TS:
			if (len != 10 || !rd32(b, i + 2, &out->ts_val) ||
			    !rd32(b, i + 6, &out->ts_ecr))
				goto bad;
			out->has_ts = true;
			break;
		default:
			break; /* unknown kinds are skipped by their length */
		}
		i += len;
	}
	return;
bad:
	out->opts_bad = true;
}

/*
 * The TCP header at off; ip_len is the TCP segment's length on the wire
 * according to the IP header(s) (header + payload).
 */
static enum dec_result dec_tcp(const struct buf *b, uint32_t off,
                               uint32_t ip_len, struct dec_tcp *out,
                               const char **why)
{
	uint8_t doff_byte;
	uint32_t hlen, poff;

	if (ip_len < 20)
		return fail(why, DEC_INVALID,
		            "IP payload too short for a TCP header");
	if (!have(b, off, 20))
		return fail(why, DEC_TRUNCATED, "TCP header truncated");
	(void)rd8(b, off + 12, &doff_byte);
	hlen = (uint32_t)(doff_byte >> 4) * 4;
	if (hlen < 20)
		return fail(why, DEC_INVALID, "TCP data offset too small");
	if (hlen > ip_len)
		return fail(why, DEC_INVALID, "TCP data offset too big");
	/* A snaplen that ends inside the options (tcpdump -s 64 on Ethernet
	 * with timestamps) still leaves every field the analyzer needs in the
	 * fixed 20 bytes: keep the segment, parse the options we have and
	 * mark the rest opts_bad, as tcpdump prints such frames. */

	(void)rd16(b, off, &out->sport);
	(void)rd16(b, off + 2, &out->dport);
	(void)rd32(b, off + 4, &out->seq);
	(void)rd32(b, off + 8, &out->ack);
	(void)rd8(b, off + 13, &out->flags);
	(void)rd16(b, off + 14, &out->win);
	if (hlen > 20)
		tcp_options(b, off, hlen, out);

	poff = off + hlen;
	out->seg_len = ip_len - hlen;
	/* What is really there: cut by caplen, and never past the IP length
	 * (Ethernet pads short frames; the padding is not payload). */
	out->payload_caplen = have(b, off, hlen) ? b->len - poff : 0;
	if (out->payload_caplen > out->seg_len)
		out->payload_caplen = out->seg_len;
	out->payload = out->payload_caplen > 0 ? b->p + poff : NULL;
	/* the tunnels' hash, folded to the key's 24 bits; 0 means none */
	if (out->tunnels > 0) {
		uint32_t id = (out->tunnel ^ out->tunnel >> 24) & 0xffffffu;

		out->tunnel = id != 0 ? id : 1;
	}
	*why = "ok";
	return DEC_OK;
}

/* ---- IPv4 ------------------------------------------------------------- */

enum dec_result dec_ipv4(const struct buf *b, uint32_t off, uint32_t wirelen,
                         struct dec_tcp *out, const char **why)
{
	uint8_t vihl, proto;
	uint16_t tot, frag;
	uint32_t hlen, ip_len;

	if (!rd8(b, off, &vihl))
		return fail(why, DEC_TRUNCATED, "IPv4 header truncated");
	if (vihl >> 4 != 4)
		return fail(why, DEC_INVALID, "IPv4 header version is not 4");
	if (!have(b, off, 20))
		return fail(why, DEC_TRUNCATED, "IPv4 header truncated");
	hlen = (uint32_t)(vihl & 0x0f) * 4;
	if (hlen < 20)
		return fail(why, DEC_INVALID,
		            "IPv4 header length less than 20 bytes");
	(void)rd16(b, off + 2, &tot);
	ip_len = tot;
	if (ip_len == 0) {
		/* A segmentation-offloaded super-packet captured before the
		 * NIC split it: the stack leaves total length 0; the frame's
		 * wire length is the only length there is. */
		if (wirelen <= off)
			return fail(why, DEC_INVALID, "IPv4 total length is 0");
		ip_len = wirelen - off;
	}
	if (ip_len < hlen)
		return fail(why, DEC_INVALID,
		            "IPv4 total length less than header length");
	/* The packet cannot be longer than the frame that carried it (the
	 * frame may be longer: Ethernet padding, a trailing FCS). Without
	 * this a corrupt length would invent up to 64 KiB of payload. */
	if (wirelen != 0 && (wirelen < off || ip_len > wirelen - off))
		return fail(why, DEC_INVALID,
		            "IPv4 total length beyond the frame");
	if (!have(b, off, hlen))
		return fail(why, DEC_TRUNCATED, "IPv4 options truncated");

	(void)rd16(b, off + 6, &frag);
	(void)rd8(b, off + 9, &proto);
	if ((frag & 0x1fff) != 0)
		return fail(why, DEC_FRAGMENT, "non-first IPv4 fragment");
	if (proto != IPPROTO_TCP_)
		return tun_ip_payload(b, off, 4, proto, off + hlen, ip_len - hlen,
		                      wirelen, out, why);

	out->af = 4;
	(void)rdn(b, off + 12, out->src, 4);
	(void)rdn(b, off + 16, out->dst, 4);
	/* A first fragment (MF set, offset 0) still starts with the TCP
	 * header; its seg_len covers only this fragment's bytes. */
	return dec_tcp(b, off + hlen, ip_len - hlen, out, why);
}

/* ---- IPv6 ------------------------------------------------------------- */

enum dec_result dec_ipv6(const struct buf *b, uint32_t off, uint32_t wirelen,
                         struct dec_tcp *out, const char **why)
{
	uint8_t v, nh;
	uint16_t plen16;
	uint32_t plen, pos;

	if (!rd8(b, off, &v))
		return fail(why, DEC_TRUNCATED, "IPv6 header truncated");
	if (v >> 4 != 6)
		return fail(why, DEC_INVALID, "IPv6 header version is not 6");
	if (!have(b, off, 40))
		return fail(why, DEC_TRUNCATED, "IPv6 header truncated");
	(void)rd16(b, off + 4, &plen16);
	(void)rd8(b, off + 6, &nh);
	plen = plen16;
	if (plen == 0 && nh != IP6_NONE && wirelen > off + 40) {
		/* Jumbogram or offloaded super-packet: the length is only in
		 * a hop-by-hop option or nowhere; take the frame's. */
		plen = wirelen - off - 40;
	}
	if (wirelen != 0 && (wirelen < off + 40 || plen > wirelen - off - 40))
		return fail(why, DEC_INVALID,
		            "IPv6 payload length beyond the frame");
	pos = off + 40;

	for (int n = 0;; n++) {
		uint8_t hn, hl;
		uint32_t len;
		uint16_t fo;

		switch (nh) {
		case IPPROTO_TCP_:
			out->af = 6;
			(void)rdn(b, off + 8, out->src, 16);
			(void)rdn(b, off + 24, out->dst, 16);
			return dec_tcp(b, pos, plen, out, why);
		case IP6_NONE:
			return fail(why, DEC_NOT_TCP, "IPv6 no next header");
		case IP6_HOPOPTS:
		case IP6_ROUTING:
		case IP6_DSTOPTS:
		case IP6_AH:
			if (plen < 2)
				return fail(why, DEC_INVALID,
				            "IPv6 extension header longer than payload");
			if (!rd8(b, pos, &hn) || !rd8(b, pos + 1, &hl))
				return fail(why, DEC_TRUNCATED,
				            "IPv6 extension header truncated");
			/* AH counts 4-octet units minus 2 (RFC 4302); the
			 * others 8-octet units not counting the first. */
			len = nh == IP6_AH ? ((uint32_t)hl + 2) * 4 :
			                     ((uint32_t)hl + 1) * 8;
			break;
		case IP6_FRAGMENT:
			len = 8;
			if (plen < len)
				return fail(why, DEC_INVALID,
				            "IPv6 extension header longer than payload");
			if (!rd8(b, pos, &hn) || !rd16(b, pos + 2, &fo))
				return fail(why, DEC_TRUNCATED,
				            "IPv6 extension header truncated");
			if ((fo >> 3) != 0)
				return fail(why, DEC_FRAGMENT,
				            "non-first IPv6 fragment");
			break;
		default:
			return tun_ip_payload(b, off, 6, nh, pos, plen, wirelen,
			                      out, why);
		}
		if (n >= MAX_IPV6_EXT)
			return fail(why, DEC_INVALID,
			            "too many IPv6 extension headers");
		if (len > plen)
			return fail(why, DEC_INVALID,
			            "IPv6 extension header longer than payload");
		if (!have(b, pos, len))
			return fail(why, DEC_TRUNCATED,
			            "IPv6 extension header truncated");
		nh = hn;
		pos += len;
		plen -= len;
	}
}

/* ---- link layers ------------------------------------------------------ */

/* Dispatch on an EtherType; off is where the network header (or the first
 * VLAN tag) starts. */
enum dec_result dec_ethertype(const struct buf *b, uint32_t off,
                              uint16_t type, uint32_t wirelen,
                              struct dec_tcp *out, const char **why)
{
	/* Stacked tags: each is TCI (2) + the next EtherType (2). */
	for (int tags = 0; type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
	                   type == ETHERTYPE_QINQ_OLD; tags++) {
		if (tags >= MAX_VLAN_TAGS)
			return fail(why, DEC_INVALID, "too many VLAN tags");
		if (!rd16(b, off + 2, &type))
			return fail(why, DEC_TRUNCATED, "VLAN tag truncated");
		off += 4;
	}
	if (type == ETHERTYPE_IPV4)
		return dec_ipv4(b, off, wirelen, out, why);
	if (type == ETHERTYPE_IPV6)
		return dec_ipv6(b, off, wirelen, out, why);
	if (type <= 1500)       /* a length after a VLAN tag: 802.3 + LLC */
		return tun_llc(b, off, wirelen, out, why);
	return tun_ethertype(b, off, type, wirelen, out, why);
}

/* An Ethernet frame at off: dst(6) src(6) type(2); a type below 0x0600 is
 * an 802.3 length, and an 802.2 LLC header follows. */
enum dec_result dec_ether(const struct buf *b, uint32_t off, uint32_t wirelen,
                          struct dec_tcp *out, const char **why)
{
	uint16_t type;

	if (!rd16(b, off + 12, &type))
		return fail(why, DEC_TRUNCATED, "Ethernet header truncated");
	if (type <= 1500)
		return tun_llc(b, off + 14, wirelen, out, why);
	if (type < 0x0600)
		return fail(why, DEC_INVALID,
		            "Ethernet type field between 1500 and 0x0600");
	return dec_ethertype(b, off + 14, type, wirelen, out, why);
}

/* Raw IP: the version nibble says which. */
enum dec_result dec_ip_any(const struct buf *b, uint32_t off,
                           uint32_t wirelen, struct dec_tcp *out,
                           const char **why)
{
	uint8_t v;

	if (!rd8(b, off, &v))
		return fail(why, DEC_TRUNCATED, "IP header truncated");
	switch (v >> 4) {
	case 4:
		return dec_ipv4(b, off, wirelen, out, why);
	case 6:
		return dec_ipv6(b, off, wirelen, out, why);
	default:
		return fail(why, DEC_INVALID, "IP version is neither 4 nor 6");
	}
}

/* BSD loopback: a 4-byte address family, in the writer's byte order for
 * DLT_NULL and in network order for DLT_LOOP; we accept both orders for
 * both (a family value always fits in 16 bits). AF_INET6 differs between
 * systems. */
static enum dec_result dec_null(const struct buf *b, uint32_t wirelen,
                                struct dec_tcp *out, const char **why)
{
	uint32_t fam;

	if (!rd32(b, 0, &fam))
		return fail(why, DEC_TRUNCATED, "loopback header truncated");
	if ((fam & 0xffff0000u) != 0)
		fam = (fam >> 24) | ((fam >> 8) & 0xff00u) |
		      ((fam << 8) & 0xff0000u) | (fam << 24);
	switch (fam) {
	case 2:                     /* AF_INET everywhere */
		return dec_ipv4(b, 4, wirelen, out, why);
	case 10:                    /* AF_INET6: Linux */
	case 24:                    /* NetBSD, OpenBSD, BSD/OS */
	case 28:                    /* FreeBSD, DragonFly */
	case 30:                    /* Darwin */
		return dec_ipv6(b, 4, wirelen, out, why);
	default:
		return fail(why, DEC_NOT_TCP, "loopback family is not IP");
	}
}

/* ---- the common case in one piece ------------------------------------
 * IPv4 without options, right after a plain link header, carrying TCP
 * whose header is all captured: what nearly every frame of a real capture
 * is. Decoded here with one bounds check per header instead of one per
 * field, every field of *out set directly (no clearing first), and the
 * option layouts Linux sends read in one go. Anything else, and every
 * frame with something wrong, returns false with *out untouched and goes
 * the general way below, which gives the same answer for the frames this
 * accepts (so errors and their reasons come from one place only). */

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* An IPv4 address as the first 4 bytes of an 8-byte word, rest zero. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define V4_WORD(a) ((uint64_t)(a) << 32)
#else
#define V4_WORD(a) ((uint64_t)(a))
#endif

static bool dec_fast(int dlt, const struct buf *b, uint32_t wirelen,
                     struct dec_tcp *out, const char **why)
{
	const uint8_t *p = b->p, *ip, *th;
	uint32_t off, ip_len, hlen, poff;

	switch (dlt) {
	case DLT_EN10MB:
		if (!have(b, 0, 14) || be16(p + 12) != ETHERTYPE_IPV4)
			return false;
		off = 14;
		break;
	case DLT_LINUX_SLL:
		if (!have(b, 0, 16) || be16(p + 14) != ETHERTYPE_IPV4)
			return false;
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (!have(b, 0, 20) || be16(p) != ETHERTYPE_IPV4)
			return false;
		off = 20;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		/* AF_INET (2) in either byte order, as dec_null() reads it */
		if (!have(b, 0, 4) || (be32(p) != 2 && be32(p) != 0x02000000u))
			return false;
		off = 4;
		break;
	case DLT_RAW:
	case LL_DLT_RAW_OPENBSD:
	case LL_LINKTYPE_RAW:
	case DLT_IPV4:
		off = 0;
		break;
	default:
		return false;
	}
	/* IPv4, header length 20, not a fragment, TCP; total length sane
	 * (not 0, which needs the wire length) and within the frame */
	if (!have(b, off, 40))
		return false;
	ip = p + off;
	ip_len = be16(ip + 2);
	if (ip[0] != 0x45 || ip[9] != IPPROTO_TCP_ || (be16(ip + 6) & 0x1fff) != 0 ||
	    ip_len < 40 || (wirelen != 0 && (wirelen < off || ip_len > wirelen - off)))
		return false;
	th = ip + 20;
	hlen = (uint32_t)(th[12] >> 4) * 4;
	if (hlen < 20 || hlen > ip_len - 20 || !have(b, off + 20, hlen))
		return false;

	out->af = 4;
	{
		/* as the 8-byte words the flow table reads right away: narrower
		 * stores under a wider load cannot be forwarded, and that stall
		 * was an eighth of the analyzer's time */
		uint32_t a4;
		uint64_t w, zero = 0;

		memcpy(&a4, ip + 12, 4);
		w = V4_WORD(a4);
		memcpy(out->src, &w, 8);
		memcpy(out->src + 8, &zero, 8);
		memcpy(&a4, ip + 16, 4);
		w = V4_WORD(a4);
		memcpy(out->dst, &w, 8);
		memcpy(out->dst + 8, &zero, 8);
	}
	out->sport = be16(th);
	out->dport = be16(th + 2);
	out->seq = be32(th + 4);
	out->ack = be32(th + 8);
	out->flags = th[13];
	out->win = be16(th + 14);
	out->mss = 0;
	out->wscale = -1;
	out->sack_permitted = false;
	out->has_ts = false;
	out->ts_val = out->ts_ecr = 0;
	out->n_sack = 0;
	for (int k = 0; k < 4; k++)
		out->sack[k] = (struct dec_sack_block){ 0, 0 };
	out->opts_bad = false;
	out->tunnel = 0;
	out->tunnels = 0;
	out->unsup_kind = 0;
	out->unsup_value = 0;
	if (hlen == 32 && th[20] == TCPOPT_NOP && th[21] == TCPOPT_NOP &&
	    th[22] == TCPOPT_TS && th[23] == 10) {
		/* what every segment after the SYN carries on Linux */
		out->has_ts = true;
		out->ts_val = be32(th + 24);
		out->ts_ecr = be32(th + 28);
	} else if (hlen == 40 && th[20] == TCPOPT_MSS && th[21] == 4 &&
	           th[24] == TCPOPT_SACKOK && th[25] == 2 &&
	           th[26] == TCPOPT_TS && th[27] == 10 &&
	           th[36] == TCPOPT_NOP && th[37] == TCPOPT_WSCALE &&
	           th[38] == 3) {
		/* and what its SYN and SYN-ACK carry */
		out->mss = be16(th + 22);
		out->sack_permitted = true;
		out->has_ts = true;
		out->ts_val = be32(th + 28);
		out->ts_ecr = be32(th + 32);
		out->wscale = (int8_t)(th[39] > TCP_MAX_WSCALE ?
		                       TCP_MAX_WSCALE : th[39]);
	} else if (hlen > 20) {
		tcp_options(b, off + 20, hlen, out);
	}
	poff = off + 20 + hlen;
	out->seg_len = ip_len - 20 - hlen;
	out->payload_caplen = b->len - poff; /* poff <= b->len: checked */
	if (out->payload_caplen > out->seg_len)
		out->payload_caplen = out->seg_len;
	out->payload = out->payload_caplen > 0 ? p + poff : NULL;
	*why = "ok";
	return true;
}

/* Everything dec_fast() does not take. Kept out of line so that the
 * common case pays no stack frame for it. */
static __attribute__((noinline)) enum dec_result
dec_general(int dlt, const uint8_t *bytes, uint32_t caplen, uint32_t wirelen,
            struct dec_tcp *out, const char **why)
{
	struct buf b = { bytes, bytes ? caplen : 0 };
	uint16_t type;

	memset(out, 0, sizeof(*out));
	out->wscale = -1;

	/* Record headers tcpdump also rejects before decoding: nothing
	 * captured, or more captured than was on the wire (wirelen 0 means
	 * the caller does not know it). */
	if (b.len == 0)
		return fail(why, DEC_INVALID, "captured length is 0");
	if (wirelen != 0 && caplen > wirelen)
		return fail(why, DEC_INVALID,
		            "captured length greater than wire length");

	switch (dlt) {
	case DLT_EN10MB:
		return dec_ether(&b, 0, wirelen, out, why);
	case DLT_LINUX_SLL:
		/* type(2) hatype(2) halen(2) addr(8) protocol(2) */
		if (!rd16(&b, 14, &type))
			return fail(why, DEC_TRUNCATED,
			            "Linux cooked header truncated");
		return dec_ethertype(&b, 16, type, wirelen, out, why);
	case DLT_LINUX_SLL2:
		/* protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1)
		 * halen(1) addr(8) */
		if (!have(&b, 0, 20))
			return fail(why, DEC_TRUNCATED,
			            "Linux cooked v2 header truncated");
		(void)rd16(&b, 0, &type);
		return dec_ethertype(&b, 20, type, wirelen, out, why);
	case DLT_NULL:
	case DLT_LOOP:
		return dec_null(&b, wirelen, out, why);
	case DLT_RAW:
	case LL_DLT_RAW_OPENBSD:
	case LL_LINKTYPE_RAW:
		return dec_ip_any(&b, 0, wirelen, out, why);
	case DLT_IPV4:
		return dec_ipv4(&b, 0, wirelen, out, why);
	case DLT_IPV6:
		return dec_ipv6(&b, 0, wirelen, out, why);
	default:
		return tun_linktype(dlt, &b, wirelen, out, why);
	}
}

enum dec_result dec_packet(int dlt, const uint8_t *bytes, uint32_t caplen,
                           uint32_t wirelen, struct dec_tcp *out,
                           const char **why)
{
	struct buf b = { bytes, bytes ? caplen : 0 };
	struct dec_tcp scratch;
	const char *dummy;

	if (!out)
		out = &scratch;
	if (!why)
		why = &dummy;
	if (b.len != 0 && (wirelen == 0 || caplen <= wirelen) &&
	    dec_fast(dlt, &b, wirelen, out, why))
		return DEC_OK;
	return dec_general(dlt, bytes, caplen, wirelen, out, why);
}

const char *dec_result_name(enum dec_result r)
{
	switch (r) {
	case DEC_OK:          return "ok";
	case DEC_NOT_TCP:     return "not_tcp";
	case DEC_FRAGMENT:    return "fragment";
	case DEC_TRUNCATED:   return "truncated";
	case DEC_INVALID:     return "invalid";
	case DEC_UNSUPPORTED: return "unsupported";
	}
	return "unknown";
}

bool dec_linktype_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
	case LL_DLT_RAW_OPENBSD:
	case LL_LINKTYPE_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return true;
	default:
		return tun_linktype_supported(dlt);
	}
}
