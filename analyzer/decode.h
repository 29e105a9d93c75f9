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
};

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

#endif
