/*
 * decode_int.h - what decode.c (link, IP, TCP) and tunnel.c (the
 * encapsulations between and around them) share: the bounds-checked
 * cursor and the entry points each calls in the other. Not an API: only
 * those two files include it.
 *
 * Every reader takes (b, off, ...) where off is where its header starts,
 * checks each field against b->len (caplen) before reading it, and
 * returns a dec_result with *why naming the rule that broke. wirelen is
 * the frame's length on the wire (0: unknown), used as in decode.h.
 *
 * Tunnels: each one opened adds to out->tunnels (at most DEC_MAX_TUNNELS,
 * past that the frame is DEC_UNSUPPORTED) and folds its identity into
 * out->tunnel (see tun_mix()); dec_tcp() turns that into the key's 24-bit
 * tunnel id when it reaches TCP.
 */
#ifndef LL_ANALYZER_DECODE_INT_H
#define LL_ANALYZER_DECODE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "analyzer/decode.h"

struct buf {
	const uint8_t *p;
	uint32_t len; /* caplen */
};

/* True if n bytes starting at off are inside the captured bytes. Written
 * so that off + n cannot overflow. */
static inline bool have(const struct buf *b, uint32_t off, uint32_t n)
{
	return off <= b->len && n <= b->len - off;
}

static inline bool rd8(const struct buf *b, uint32_t off, uint8_t *v)
{
	*v = 0;
	if (!have(b, off, 1))
		return false;
	*v = b->p[off];
	return true;
}

static inline bool rd16(const struct buf *b, uint32_t off, uint16_t *v)
{
	*v = 0;
	if (!have(b, off, 2))
		return false;
	*v = (uint16_t)((uint16_t)b->p[off] << 8 | b->p[off + 1]);
	return true;
}

static inline bool rd32(const struct buf *b, uint32_t off, uint32_t *v)
{
	*v = 0;
	if (!have(b, off, 4))
		return false;
	*v = (uint32_t)b->p[off] << 24 | (uint32_t)b->p[off + 1] << 16 |
	     (uint32_t)b->p[off + 2] << 8 | (uint32_t)b->p[off + 3];
	return true;
}

static inline bool rdn(const struct buf *b, uint32_t off, uint8_t *dst,
                       uint32_t n)
{
	if (!have(b, off, n))
		return false;
	memcpy(dst, b->p + off, n);
	return true;
}

/* Set the reason and return the result, so every exit is one line. */
static inline enum dec_result fail(const char **why, enum dec_result r,
                                   const char *reason)
{
	*why = reason;
	return r;
}

/* DEC_UNSUPPORTED, with what was not decoded named in out (decode.h). */
static inline enum dec_result unsup(struct dec_tcp *out, const char **why,
                                    enum dec_unsup kind, uint32_t value,
                                    const char *reason)
{
	out->unsup_kind = (uint8_t)kind;
	out->unsup_value = value;
	*why = reason;
	return DEC_UNSUPPORTED;
}

/* Fold n bytes of a tunnel's identity into h (FNV-1a, 32 bits: it only
 * has to tell tunnels apart, not resist an adversary, who could at worst
 * merge two of their own connections). */
static inline uint32_t tun_mix(uint32_t h, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

#define ETHERTYPE_IPV4     0x0800
#define ETHERTYPE_IPV6     0x86DD
#define IPPROTO_TCP_       6

/* decode.c */
enum dec_result dec_ipv4(const struct buf *b, uint32_t off, uint32_t wirelen,
                         struct dec_tcp *out, const char **why);
enum dec_result dec_ipv6(const struct buf *b, uint32_t off, uint32_t wirelen,
                         struct dec_tcp *out, const char **why);
/* IPv4 or IPv6 by the version nibble at off */
enum dec_result dec_ip_any(const struct buf *b, uint32_t off,
                           uint32_t wirelen, struct dec_tcp *out,
                           const char **why);
/* off is where the header after the EtherType starts (a VLAN tag's TCI,
 * or the network header) */
enum dec_result dec_ethertype(const struct buf *b, uint32_t off,
                              uint16_t type, uint32_t wirelen,
                              struct dec_tcp *out, const char **why);
/* an Ethernet frame (destination MAC) at off, as inside VXLAN or GRE */
enum dec_result dec_ether(const struct buf *b, uint32_t off, uint32_t wirelen,
                          struct dec_tcp *out, const char **why);

/* tunnel.c */
/* An EtherType decode.c does not know itself: MPLS, PPPoE, PBB, VN-Tag,
 * FabricPath; the rest is DEC_NOT_TCP (known protocols that carry no IP)
 * or DEC_UNSUPPORTED (the EtherType named). */
enum dec_result tun_ethertype(const struct buf *b, uint32_t off,
                              uint16_t type, uint32_t wirelen,
                              struct dec_tcp *out, const char **why);
/* An 802.3 frame: the LLC header at off (SNAP carries an EtherType). */
enum dec_result tun_llc(const struct buf *b, uint32_t off, uint32_t wirelen,
                        struct dec_tcp *out, const char **why);
/* An IP payload that is not TCP: proto at poff, plen bytes long (by the IP
 * lengths), carried by the IP header at ip_off (af 4 or 6), whose
 * addresses name the tunnel. */
enum dec_result tun_ip_payload(const struct buf *b, uint32_t ip_off, uint8_t af,
                               uint8_t proto, uint32_t poff, uint32_t plen,
                               uint32_t wirelen, struct dec_tcp *out,
                               const char **why);
/* A link type decode.c does not handle itself. */
enum dec_result tun_linktype(int dlt, const struct buf *b, uint32_t wirelen,
                             struct dec_tcp *out, const char **why);
bool tun_linktype_supported(int dlt);

#endif
