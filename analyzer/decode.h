/*
 * decode.h - bounds-checked decoding of one captured frame down to TCP.
 *
 * Untrusted bytes: every read is checked against caplen (the bytes actually
 * captured), never against the on-the-wire length. The decoder never
 * allocates and never keeps a pointer past the call except out->payload,
 * which points into the caller's buffer.
 *
 * Link types (pcap DLT numbers): EN10MB (with 802.1Q / stacked 802.1ad
 * tags), LINUX_SLL, LINUX_SLL2, NULL and LOOP (BSD loopback, either byte
 * order), RAW / IPV4 / IPV6 (raw IP).
 * Network: IPv4 with options (non-first fragments are DEC_FRAGMENT), IPv6
 * with extension headers (hop-by-hop, routing, destination options,
 * fragment; a non-first fragment is DEC_FRAGMENT).
 * TCP: header with options MSS, window scale, SACK-permitted, SACK blocks,
 * timestamps. Malformed options, or options cut off by the snaplen, stop
 * option parsing (opts_bad is set) but do not reject the segment.
 *
 * Encapsulations (analyzer/tunnel.c): MPLS, PPPoE, 802.2 LLC/SNAP, PBB
 * (802.1ah), VN-Tag, FabricPath on Ethernet; GRE (with ERSPAN I, II, III,
 * PPTP's enhanced GRE), IP-in-IP (4in4, 6in4, 4in6, 6in6), MPLS-in-IP;
 * VXLAN (UDP 4789, 8472), Geneve (6081), GTP-U (2152), Teredo (3544),
 * AYIYA (5072), MPLS over UDP (6635); the link types PPP, PPP_SERIAL,
 * PPP_ETHER, C_HDLC, NFLOG, IEEE802_11 and IEEE802_11_RADIO (802.11 data
 * frames, radiotap). At most DEC_MAX_TUNNELS tunnels are opened per frame.
 * A segment inside tunnels carries a tunnel id (dec_tcp.tunnel) that the
 * connection key includes: two tunnels carrying the same inner 4-tuple
 * are two connections.
 *
 * What is not decoded is never silent: DEC_UNSUPPORTED says that a link
 * type or an encapsulation that could carry TCP was not opened, and
 * unsup_kind/unsup_value (dec_unsupported_text()) name it; DEC_NOT_TCP is
 * kept for packets that are known to carry no TCP (ARP, LLDP, UDP that is
 * no tunnel, ICMP...).
 */
#ifndef LL_ANALYZER_DECODE_H
#define LL_ANALYZER_DECODE_H

#include <stdbool.h>
#include <stdint.h>

/* TCP flag bits, as on the wire. */
#define LL_TH_FIN 0x01
#define LL_TH_SYN 0x02
#define LL_TH_RST 0x04
#define LL_TH_PSH 0x08
#define LL_TH_ACK 0x10
#define LL_TH_URG 0x20
#define LL_TH_ECE 0x40
#define LL_TH_CWR 0x80

enum dec_result {
	DEC_OK = 0,      /* a TCP segment; *out is filled */
	DEC_NOT_TCP,     /* a well-formed packet that is not TCP (ARP, UDP, ...) */
	DEC_FRAGMENT,    /* a non-first IP fragment: skipped, counted */
	DEC_TRUNCATED,   /* caplen ended inside a header we need */
	DEC_INVALID,     /* a header field is impossible (IHL < 5, TCP data
	                    offset < 5 or past the IP payload, bad IP version...) */
	DEC_UNSUPPORTED, /* a link type or link-layer protocol we do not decode */
};
#define DEC_NRESULTS 6

struct dec_sack_block {
	uint32_t left, right;
};

struct dec_tcp {
	/* first, so that the flow table's 8-byte reads are aligned */
	uint8_t src[16], dst[16];   /* IPv4 uses the first 4 bytes, rest zero */
	uint8_t af;                 /* 4 or 6 */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;              /* LL_TH_* */
	uint16_t win;               /* raw window field, not scaled */
	uint32_t seg_len;           /* TCP payload length on the wire, from the
	                               IP length fields (not from caplen) */
	uint32_t payload_caplen;    /* payload bytes actually captured, <= seg_len */
	const uint8_t *payload;     /* into the caller's buffer; NULL if none */
	/* TCP options */
	uint16_t mss;               /* 0 if absent */
	int8_t wscale;              /* -1 if absent */
	bool sack_permitted;
	bool has_ts;
	uint32_t ts_val, ts_ecr;
	uint8_t n_sack;             /* SACK blocks present, at most 4 */
	struct dec_sack_block sack[4];
	bool opts_bad;              /* option list malformed or truncated */
	/* encapsulation */
	uint32_t tunnel;            /* DEC_OK: 0 outside any tunnel, else the
	                               tunnel's id (24 bits, never 0): a hash of
	                               each tunnel's kind and outer addresses
	                               (in either order) */
	uint8_t tunnels;            /* tunnels opened to reach this packet */
	uint8_t unsup_kind;         /* DEC_UNSUPPORTED: enum dec_unsup */
	uint32_t unsup_value;       /* ... and its number (link type, ...) */
};

/* Tunnels opened per frame at most; a deeper frame is DEC_UNSUPPORTED. */
#define DEC_MAX_TUNNELS 8

/* What a DEC_UNSUPPORTED frame carried that was not decoded. */
enum dec_unsup {
	DEC_UNSUP_NONE = 0,
	DEC_UNSUP_LINKTYPE,  /* value: the pcap link type */
	DEC_UNSUP_ETHERTYPE, /* value: the EtherType */
	DEC_UNSUP_IPPROTO,   /* value: the IP protocol (ESP, L2TPv3, ...) */
	DEC_UNSUP_GRE,       /* value: GRE version << 16 | protocol type */
	DEC_UNSUP_PPP,       /* value: the PPP protocol */
	DEC_UNSUP_LLC,       /* value: DSAP << 8 | SSAP (not SNAP) */
	DEC_UNSUP_MPLS,      /* value: first byte after the label stack */
	DEC_UNSUP_80211,     /* value: 1 protected (encrypted) data */
	DEC_UNSUP_ERSPAN,    /* value: version << 8 | frame type */
	DEC_UNSUP_TUNNEL_PAYLOAD, /* value: tunnel << 16 | payload type
	                             (Geneve, GTP-U, AYIYA next header) */
	DEC_UNSUP_DEPTH,     /* value: DEC_MAX_TUNNELS */
};
#define DEC_NUNSUP 12

/*
 * Decode one frame. dlt is the pcap link type, bytes/caplen what was
 * captured, wirelen the original length (used only when an IPv4 total
 * length of 0 shows a segmentation-offloaded frame, and to reject what
 * cannot fit in it: a record whose caplen exceeds it, an IP length beyond
 * it: DEC_INVALID; pass 0 if unknown). caplen 0 is DEC_INVALID too (as
 * tcpdump: a record header that makes no sense).
 * Returns DEC_OK and fills *out, or another result; *why (if not NULL) is
 * set to a static human-readable reason naming the rule that broke, e.g.
 * "TCP data offset too big". Never reads outside bytes[0..caplen).
 */
enum dec_result dec_packet(int dlt, const uint8_t *bytes, uint32_t caplen,
                           uint32_t wirelen, struct dec_tcp *out,
                           const char **why);

/* Name of a result for reports: "ok", "not_tcp", "fragment", ... */
const char *dec_result_name(enum dec_result r);

/* True if dec_packet knows this pcap link type. */
bool dec_linktype_supported(int dlt);

/* What a DEC_UNSUPPORTED result left undecoded, in words, into buf (len
 * bytes, always NUL-terminated): "link type IEEE802_15_4 (195)",
 * "EtherType 0x88e5 (MACsec)", "IP protocol 50 (ESP)", "GRE protocol
 * 0x880b", ... Returns buf. */
const char *dec_unsupported_text(const struct dec_tcp *d, char *buf,
                                 unsigned len);

#endif
