/*
 * tunnel.c - the encapsulations between a frame's link header and the IP
 * packet that carries TCP, and the link types beyond Ethernet, cooked,
 * loopback and raw IP: each header read through decode_int.h's checked
 * cursor, nothing cast, nothing allocated.
 *
 * The list is what real captures carry and what Zeek's packet analysis
 * decodes (its packet_analysis/protocol folder): MPLS, PPPoE, 802.2
 * LLC/SNAP, GRE with ERSPAN I/II/III, VXLAN, Geneve, GTP-U, Teredo, AYIYA,
 * IP-in-IP in all four combinations, VN-Tag, FabricPath, PBB; the link
 * types PPP, NFLOG and 802.11 (with radiotap). Each section names the
 * document its layout comes from.
 *
 * Three outcomes besides decoding on:
 *   DEC_NOT_TCP     - a protocol known to carry no TCP (ARP, LLDP, STP,
 *                     PPP's control protocols, UDP on a port no tunnel
 *                     uses, 802.11 management and control frames);
 *   DEC_UNSUPPORTED - something that may carry TCP and is not opened here
 *                     (an unknown EtherType, ESP, an encrypted 802.11
 *                     frame, a GRE protocol we do not follow, tunnels
 *                     nested deeper than DEC_MAX_TUNNELS): named in
 *                     out->unsup_kind / unsup_value, never silent;
 *   DEC_TRUNCATED / DEC_INVALID as in decode.c.
 *
 * Tunnel identity: a tunnel that carries IP between two endpoints (IP-in-
 * IP, GRE, the UDP tunnels) is named by its kind and its outer addresses
 * in either order (so both directions name the same tunnel). Values that
 * may differ per direction stay out of it: GTP TEIDs and MPLS labels are
 * chosen by each receiver, GRE keys and PPTP call ids may be, VXLAN varies
 * the UDP source port per flow, and even VNIs differ per direction in
 * flow-based Open vSwitch tunnels (tcpdump's geneve.pcap: VNI 0x0a one
 * way, 0x0b the other, one TCP connection). Link-level encapsulations
 * (MPLS, PPPoE, VN-Tag, ...) are no tunnel of their own: the link is the
 * same for both directions only by accident of the capture point.
 */
#include "analyzer/decode_int.h"

#include <pcap/dlt.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

/* EtherTypes (IEEE registry) */
#define ET_ARP        0x0806
#define ET_RARP       0x8035
#define ET_MPLS       0x8847
#define ET_MPLS_MC    0x8848
#define ET_PPPOE_DISC 0x8863
#define ET_PPPOE_SESS 0x8864
#define ET_PBB        0x88E7  /* 802.1ah I-TAG */
#define ET_VNTAG      0x8926
#define ET_FABRICPATH 0x8903
#define ET_TEB        0x6558  /* transparent Ethernet bridging (GRE, Geneve) */
#define ET_ERSPAN_2   0x88BE  /* ERSPAN I and II */
#define ET_ERSPAN_3   0x22EB
#define ET_PPP        0x880B  /* PPP in PPTP's GRE */
#define ET_WCCP       0x883E  /* WCCP redirection in GRE */

/* IP protocols */
#define IPP_IPIP      4
#define IPP_UDP       17
#define IPP_IPV6      41
#define IPP_GRE       47
#define IPP_ESP       50
#define IPP_AH        51
#define IPP_ETHERIP   97
#define IPP_L2TP      115
#define IPP_MPLS      137

/* UDP ports of the UDP tunnels (IANA) */
#define PORT_GTPU     2152
#define PORT_TEREDO   3544
#define PORT_VXLAN    4789
#define PORT_AYIYA    5072
#define PORT_GENEVE   6081
#define PORT_MPLS_UDP 6635
#define PORT_VXLAN_LINUX 8472 /* Linux's default before IANA's */

/* PPP protocols (RFC 1661, IANA) */
#define PPP_IPV4      0x0021
#define PPP_IPV6      0x0057
#define PPP_MPLS      0x0281
#define PPP_VJC       0x002d  /* Van Jacobson compressed TCP/IP */
#define PPP_VJUC      0x002f
#define PPP_COMP      0x00fd  /* compressed datagram (CCP) */

/* Tunnel kinds, folded into the tunnel id. */
enum tun_kind {
	TK_IPIP = 1, TK_GRE, TK_VXLAN, TK_GENEVE, TK_GTPU, TK_TEREDO,
	TK_AYIYA, TK_MPLS_IP,
};

/* Link types libpcap may not name in older headers. */
#ifndef DLT_NFLOG
#define DLT_NFLOG 239
#endif
#ifndef DLT_PPP_ETHER
#define DLT_PPP_ETHER 51
#endif

/* Open one more tunnel: count it against the bound and fold in its
 * identity: kind, the two outer addresses in a fixed order (alen bytes
 * each, or none), and id (idlen bytes, or none). Returns false (and the
 * frame's result in *r) past DEC_MAX_TUNNELS. */
static bool tun_enter(struct dec_tcp *out, const char **why, enum dec_result *r,
                      uint8_t kind, const uint8_t *a1, const uint8_t *a2,
                      uint32_t alen, const uint8_t *id, uint32_t idlen)
{
	uint32_t h;

	if (out->tunnels >= DEC_MAX_TUNNELS) {
		*r = unsup(out, why, DEC_UNSUP_DEPTH, DEC_MAX_TUNNELS,
		           "tunnels nested too deep");
		return false;
	}
	h = out->tunnels == 0 ? 2166136261u : out->tunnel;
	h = tun_mix(h, &kind, 1);
	if (alen > 0) {
		bool swap = memcmp(a1, a2, alen) > 0;

		h = tun_mix(h, swap ? a2 : a1, alen);
		h = tun_mix(h, swap ? a1 : a2, alen);
	}
	if (idlen > 0)
		h = tun_mix(h, id, idlen);
	out->tunnel = h;
	out->tunnels++;
	return true;
}

/* A tunnel between the two addresses of the IP header at ip_off. */
static bool tun_enter_ip(const struct buf *b, uint32_t ip_off, uint8_t af,
                         struct dec_tcp *out, const char **why,
                         enum dec_result *r, uint8_t kind,
                         const uint8_t *id, uint32_t idlen)
{
	uint32_t alen = af == 4 ? 4 : 16, at = af == 4 ? 12 : 8;

	/* the outer header was checked whole before its payload came here */
	if (!have(b, ip_off + at, 2 * alen)) {
		*r = fail(why, DEC_TRUNCATED, "outer IP header truncated");
		return false;
	}
	return tun_enter(out, why, r, kind, b->p + ip_off + at,
	                 b->p + ip_off + at + alen, alen, id, idlen);
}

/* ---- MPLS (RFC 3032) ----------------------------------------------------
 * 4-byte label stack entries, the bottom one with the S bit. The payload
 * type is not in the stack: as Zeek and Wireshark do, a first nibble 4 or 6
 * is IP; 0 is the pseudowire control word (RFC 4385), an Ethernet frame
 * after it (RFC 4448). */
#define MPLS_MAX_LABELS 16

static enum dec_result dec_mpls(const struct buf *b, uint32_t off,
                                uint32_t wirelen, struct dec_tcp *out,
                                const char **why)
{
	uint8_t first;

	for (int n = 0;; n++) {
		uint32_t e;

		if (n >= MPLS_MAX_LABELS)
			return fail(why, DEC_INVALID, "MPLS label stack too deep");
		if (!rd32(b, off, &e))
			return fail(why, DEC_TRUNCATED, "MPLS label truncated");
		off += 4;
		if (e & 0x100)
			break;          /* bottom of stack */
	}
	if (!rd8(b, off, &first))
		return fail(why, DEC_TRUNCATED, "MPLS payload truncated");
	switch (first >> 4) {
	case 4:
	case 6:
		return dec_ip_any(b, off, wirelen, out, why);
	case 0:
		return dec_ether(b, off + 4, wirelen, out, why);
	default:
		return unsup(out, why, DEC_UNSUP_MPLS, first,
		             "MPLS payload of unknown type");
	}
}

/* ---- PPP (RFC 1661, 1662) -----------------------------------------------
 * The protocol field: 2 bytes, or 1 when protocol-field compression left
 * out a leading zero (the byte is then odd). */
static enum dec_result dec_ppp_proto(const struct buf *b, uint32_t off,
                                     uint32_t wirelen, struct dec_tcp *out,
                                     const char **why)
{
	uint8_t p0;
	uint16_t proto;

	if (!rd8(b, off, &p0))
		return fail(why, DEC_TRUNCATED, "PPP protocol truncated");
	if (p0 & 1) {
		proto = p0;
		off += 1;
	} else {
		if (!rd16(b, off, &proto))
			return fail(why, DEC_TRUNCATED, "PPP protocol truncated");
		off += 2;
	}
	switch (proto) {
	case PPP_IPV4:
		return dec_ipv4(b, off, wirelen, out, why);
	case PPP_IPV6:
		return dec_ipv6(b, off, wirelen, out, why);
	case PPP_MPLS:
		return dec_mpls(b, off, wirelen, out, why);
	case PPP_VJC:
	case PPP_VJUC:
	case PPP_COMP:
		return unsup(out, why, DEC_UNSUP_PPP, proto,
		             "PPP payload compressed");
	default:
		/* 0x8xxx network control, 0xcxxx link control: no data */
		if (proto >= 0x8000)
			return fail(why, DEC_NOT_TCP, "PPP control protocol");
		return unsup(out, why, DEC_UNSUP_PPP, proto,
		             "PPP protocol not decoded");
	}
}

/* HDLC-like framing (RFC 1662): address 0xff, control 0x03, unless the
 * peers agreed to leave them out. */
static enum dec_result dec_ppp_hdlc(const struct buf *b, uint32_t off,
                                    uint32_t wirelen, struct dec_tcp *out,
                                    const char **why)
{
	uint8_t a, c;

	if (!rd8(b, off, &a))
		return fail(why, DEC_TRUNCATED, "PPP header truncated");
	if (a == 0xff) {
		if (!rd8(b, off + 1, &c))
			return fail(why, DEC_TRUNCATED, "PPP header truncated");
		if (c != 0x03)
			return fail(why, DEC_INVALID, "PPP control field is not 0x03");
		off += 2;
	}
	return dec_ppp_proto(b, off, wirelen, out, why);
}

/* PPPoE session stage (RFC 2516 4): ver/type 0x11, code 0, session id,
 * length, then the PPP protocol. */
static enum dec_result dec_pppoe(const struct buf *b, uint32_t off,
                                 uint32_t wirelen, struct dec_tcp *out,
                                 const char **why)
{
	uint8_t vt, code;

	if (!have(b, off, 6))
		return fail(why, DEC_TRUNCATED, "PPPoE header truncated");
	(void)rd8(b, off, &vt);
	(void)rd8(b, off + 1, &code);
	if (vt != 0x11)
		return fail(why, DEC_INVALID, "PPPoE version/type is not 1/1");
	if (code != 0)
		return fail(why, DEC_NOT_TCP, "PPPoE session packet with a code");
	return dec_ppp_proto(b, off + 6, wirelen, out, why);
}

/* ---- EtherTypes beyond IP and VLAN ---------------------------------------- */

/* Known EtherTypes that never carry IP: not TCP, nothing missed. */
static bool ethertype_no_ip(uint16_t t)
{
	switch (t) {
	case ET_ARP: case ET_RARP: case ET_PPPOE_DISC:
	case 0x0842: /* Wake-on-LAN */
	case 0x6002: case 0x6003: case 0x6004: /* DEC MOP, DECnet, LAT */
	case 0x809B: case 0x80F3: /* AppleTalk, AARP */
	case 0x8137: case 0x8138: /* IPX */
	case 0x8808: /* Ethernet flow control */
	case 0x8809: /* slow protocols: LACP, OAM */
	case 0x8819: /* CobraNet */
	case 0x8892: /* PROFINET */
	case 0x88A4: /* EtherCAT */
	case 0x88AB: /* Ethernet POWERLINK */
	case 0x88B8: case 0x88B9: case 0x88BA: /* IEC 61850 */
	case 0x88CC: /* LLDP */
	case 0x88E3: /* MRP */
	case 0x888E: /* EAPOL (802.1X) */
	case 0x88F7: /* PTP */
	case 0x88FB: /* PRP */
	case 0x8902: /* CFM (802.1ag) */
	case 0x8906: case 0x8914: /* FCoE, FIP */
	case 0x892F: /* HSR */
	case 0x893A: /* IEEE 1905 */
	case 0x22F0: /* AVTP */
	case 0x886F: /* Microsoft NLB heartbeat */
	case 0x88A2: /* ATA over Ethernet */
	case 0x88CA: /* TIPC */
	case 0x8947: /* GeoNetworking */
	case 0x9000: /* configuration test protocol (loopback) */
		return true;
	default:
		return false;
	}
}

enum dec_result tun_ethertype(const struct buf *b, uint32_t off,
                              uint16_t type, uint32_t wirelen,
                              struct dec_tcp *out, const char **why)
{
	uint16_t inner;

	switch (type) {
	case ET_MPLS:
	case ET_MPLS_MC:
		return dec_mpls(b, off, wirelen, out, why);
	case ET_PPPOE_SESS:
		return dec_pppoe(b, off, wirelen, out, why);
	case ET_PBB:
		/* 802.1ah: I-TAG (4: flags, I-SID), the customer frame's
		 * destination and source (12), its EtherType */
		if (!rd16(b, off + 16, &inner))
			return fail(why, DEC_TRUNCATED, "PBB I-TAG truncated");
		return dec_ethertype(b, off + 18, inner, wirelen, out, why);
	case ET_VNTAG:
		/* Cisco VN-Tag (802.1Qbh draft): 4 bytes, then the EtherType */
		if (!rd16(b, off + 4, &inner))
			return fail(why, DEC_TRUNCATED, "VN-Tag truncated");
		return dec_ethertype(b, off + 6, inner, wirelen, out, why);
	case ET_FABRICPATH:
		/* Cisco FabricPath: after the outer addresses and this type,
		 * FTag/TTL (2), then the classical Ethernet frame whole */
		if (!have(b, off, 2))
			return fail(why, DEC_TRUNCATED, "FabricPath tag truncated");
		return dec_ether(b, off + 2, wirelen, out, why);
	case ET_TEB:
		return dec_ether(b, off, wirelen, out, why);
	default:
		if (ethertype_no_ip(type))
			return fail(why, DEC_NOT_TCP, "link-layer protocol is not IP");
		return unsup(out, why, DEC_UNSUP_ETHERTYPE, type,
		             "EtherType not decoded");
	}
}

/* ---- 802.2 LLC and SNAP (IEEE 802.2, RFC 1042) -----------------------------
 * DSAP, SSAP, control; SNAP (AA AA 03) adds an OUI and an EtherType. */
enum dec_result tun_llc(const struct buf *b, uint32_t off, uint32_t wirelen,
                        struct dec_tcp *out, const char **why)
{
	uint8_t dsap, ssap, ctl;
	uint16_t type;

	if (!rd8(b, off, &dsap) || !rd8(b, off + 1, &ssap) ||
	    !rd8(b, off + 2, &ctl))
		return fail(why, DEC_TRUNCATED, "LLC header truncated");
	if (dsap == 0xaa && ssap == 0xaa && ctl == 0x03) {
		uint8_t oui[3];

		if (!rdn(b, off + 3, oui, 3) || !rd16(b, off + 6, &type))
			return fail(why, DEC_TRUNCATED, "SNAP header truncated");
		/* OUI 0 (RFC 1042) or 00-00-F8 (802.1H): an EtherType;
		 * another OUI: the vendor's own protocol numbers (Cisco's
		 * CDP, VTP, PVST+), no IP */
		if (!(oui[0] == 0 && oui[1] == 0 && (oui[2] == 0 || oui[2] == 0xf8)))
			return fail(why, DEC_NOT_TCP, "SNAP protocol of a vendor");
		return dec_ethertype(b, off + 8, type, wirelen, out, why);
	}
	if (dsap == 0x06 && ssap == 0x06 && ctl == 0x03)
		return dec_ipv4(b, off + 3, wirelen, out, why); /* IP over LLC */
	switch (dsap) {
	case 0x42: /* spanning tree */
	case 0xe0: /* Novell */
	case 0xf0: /* NetBIOS */
	case 0xfe: /* ISO network layer (IS-IS, CLNP) */
	case 0x00: /* null SAP, XID and TEST */
	case 0x04: case 0x05: case 0x08: case 0x0c: /* SNA */
	case 0xbc: /* Banyan */
	case 0xff: /* global: XID/TEST replies */
		return fail(why, DEC_NOT_TCP, "LLC protocol is not IP");
	default:
		return unsup(out, why, DEC_UNSUP_LLC,
		             (uint32_t)dsap << 8 | ssap, "LLC SAP not decoded");
	}
}

/* ---- GRE (RFC 2784, 2890; PPTP's enhanced GRE, RFC 2637) -------------------
 * flags and version (2), protocol type (2), then checksum+reserved (C),
 * key (K), sequence number (S) and, in version 1, acknowledgment (A).
 * ERSPAN (draft-foschiano-erspan): protocol 0x88BE without S is type I
 * (the mirrored frame follows at once), with S type II (an 8-byte header);
 * 0x22EB is type III (12 bytes, 8 more with the O flag). */
static enum dec_result dec_gre(const struct buf *b, uint32_t ip_off,
                               uint8_t af, uint32_t off, uint32_t wirelen,
                               struct dec_tcp *out, const char **why)
{
	uint16_t fl, proto;
	uint32_t hl = 4;
	unsigned ver;
	enum dec_result r;

	if (!rd16(b, off, &fl) || !rd16(b, off + 2, &proto))
		return fail(why, DEC_TRUNCATED, "GRE header truncated");
	ver = fl & 7;
	if (ver > 1)
		return unsup(out, why, DEC_UNSUP_GRE, (uint32_t)ver << 16 | proto,
		             "GRE version not decoded");
	if (fl & 0x4000)
		return unsup(out, why, DEC_UNSUP_GRE, (uint32_t)ver << 16 | proto,
		             "GRE with source routing");
	if (fl & 0x8000)
		hl += 4;
	if (fl & 0x2000)
		hl += 4;
	if (fl & 0x1000)
		hl += 4;
	if (ver == 1 && (fl & 0x0080))
		hl += 4;
	if (!have(b, off, hl))
		return fail(why, DEC_TRUNCATED, "GRE header truncated");
	if (!tun_enter_ip(b, ip_off, af, out, why, &r, TK_GRE, NULL, 0))
		return r;
	off += hl;
	switch (proto) {
	case ETHERTYPE_IPV4:
		return dec_ipv4(b, off, wirelen, out, why);
	case ETHERTYPE_IPV6:
		return dec_ipv6(b, off, wirelen, out, why);
	case ET_TEB:
		return dec_ether(b, off, wirelen, out, why);
	case ET_MPLS:
	case ET_MPLS_MC:
		return dec_mpls(b, off, wirelen, out, why);
	case ET_PPP:
		return dec_ppp_hdlc(b, off, wirelen, out, why);
	case ET_WCCP: {
		/* WCCPv2 (draft-mclaggan-wccp-v2rev1 4.12): a 4-byte redirect
		 * header before the IP packet, which WCCPv1 leaves out */
		uint8_t v;

		if (!rd8(b, off, &v))
			return fail(why, DEC_TRUNCATED, "WCCP header truncated");
		return dec_ip_any(b, v >> 4 == 4 ? off : off + 4, wirelen, out, why);
	}
	case ET_ERSPAN_2: {
		uint8_t v;

		if (!(fl & 0x1000))
			return dec_ether(b, off, wirelen, out, why); /* type I */
		if (!rd8(b, off, &v))
			return fail(why, DEC_TRUNCATED, "ERSPAN header truncated");
		if (v >> 4 != 1)
			return unsup(out, why, DEC_UNSUP_ERSPAN, (uint32_t)(v >> 4) << 8,
			             "ERSPAN version not decoded");
		return dec_ether(b, off + 8, wirelen, out, why);
	}
	case ET_ERSPAN_3: {
		uint8_t v, b10, b11;
		unsigned ft;

		/* version (4) ...; timestamp (4); SGT (2), then P(1) FT(5)
		 * HW ID(6) D(1) Gra(2) O(1) */
		if (!rd8(b, off, &v) || !rd8(b, off + 10, &b10) ||
		    !rd8(b, off + 11, &b11))
			return fail(why, DEC_TRUNCATED, "ERSPAN header truncated");
		if (v >> 4 != 2)
			return unsup(out, why, DEC_UNSUP_ERSPAN, (uint32_t)(v >> 4) << 8,
			             "ERSPAN version not decoded");
		ft = (unsigned)(b10 >> 2) & 0x1f;
		off += 12 + ((b11 & 1) ? 8 : 0);
		if (ft == 0)            /* an Ethernet frame */
			return dec_ether(b, off, wirelen, out, why);
		if (ft == 2)            /* an IP packet */
			return dec_ip_any(b, off, wirelen, out, why);
		return unsup(out, why, DEC_UNSUP_ERSPAN, 2u << 8 | ft,
		             "ERSPAN frame type not decoded");
	}
	default:
		/* 0: a keepalive (RFC 8157 reflects an inner GRE packet);
		 * 0x2000: CDP; and the EtherTypes that carry no IP */
		if (proto == 0 || proto == 0x2000 || ethertype_no_ip(proto))
			return fail(why, DEC_NOT_TCP, "GRE payload is not IP");
		return unsup(out, why, DEC_UNSUP_GRE, (uint32_t)ver << 16 | proto,
		             "GRE protocol not decoded");
	}
}

/* ---- UDP tunnels -------------------------------------------------------------- */

/* VXLAN (RFC 7348): flags (I bit 0x08), 3 reserved, VNI (3), reserved;
 * an Ethernet frame follows. */
static enum dec_result dec_vxlan(const struct buf *b, uint32_t ip_off, uint8_t af,
                                 uint32_t off, uint32_t wirelen,
                                 struct dec_tcp *out, const char **why)
{
	uint8_t fl;
	enum dec_result r;

	if (!have(b, off, 8))
		return fail(why, DEC_TRUNCATED, "VXLAN header truncated");
	(void)rd8(b, off, &fl);
	if (!(fl & 0x08))
		return fail(why, DEC_INVALID, "VXLAN header without a VNI");
	if (!tun_enter_ip(b, ip_off, af, out, why, &r, TK_VXLAN, NULL, 0))
		return r;
	return dec_ether(b, off + 8, wirelen, out, why);
}

/* Geneve (RFC 8926): version (2 bits) and option length in 4-byte words
 * (6), flags, protocol type, VNI (3), reserved, options. */
static enum dec_result dec_geneve(const struct buf *b, uint32_t ip_off, uint8_t af,
                                  uint32_t off, uint32_t wirelen,
                                  struct dec_tcp *out, const char **why)
{
	uint8_t v;
	uint16_t proto;
	uint32_t hl;
	enum dec_result r;

	if (!have(b, off, 8))
		return fail(why, DEC_TRUNCATED, "Geneve header truncated");
	(void)rd8(b, off, &v);
	(void)rd16(b, off + 2, &proto);
	if (v >> 6 != 0)
		return unsup(out, why, DEC_UNSUP_TUNNEL_PAYLOAD,
		             (uint32_t)TK_GENEVE << 16 | (v >> 6),
		             "Geneve version not decoded");
	hl = 8 + (uint32_t)(v & 0x3f) * 4;
	if (!have(b, off, hl))
		return fail(why, DEC_TRUNCATED, "Geneve options truncated");
	if (!tun_enter_ip(b, ip_off, af, out, why, &r, TK_GENEVE, NULL, 0))
		return r;
	switch (proto) {
	case ET_TEB:
		return dec_ether(b, off + hl, wirelen, out, why);
	case ETHERTYPE_IPV4:
		return dec_ipv4(b, off + hl, wirelen, out, why);
	case ETHERTYPE_IPV6:
		return dec_ipv6(b, off + hl, wirelen, out, why);
	default:
		return unsup(out, why, DEC_UNSUP_TUNNEL_PAYLOAD,
		             (uint32_t)TK_GENEVE << 16 | proto,
		             "Geneve protocol not decoded");
	}
}

/* GTP-U (3GPP TS 29.281 5): flags (version 1, PT 1, E, S, PN), message
 * type (255: G-PDU, user data), length, TEID; with any of E, S, PN four
 * more bytes (sequence number, N-PDU number, next extension type), then
 * extension headers, each length (in 4-byte units) first and the next
 * type last. */
#define GTP_MAX_EXT 16

static enum dec_result dec_gtpu(const struct buf *b, uint32_t ip_off, uint8_t af,
                                uint32_t off, uint32_t wirelen,
                                struct dec_tcp *out, const char **why)
{
	uint8_t fl, type, next, first;
	uint32_t pos = off + 8;
	enum dec_result r;

	if (!have(b, off, 8))
		return fail(why, DEC_TRUNCATED, "GTP-U header truncated");
	(void)rd8(b, off, &fl);
	(void)rd8(b, off + 1, &type);
	if (fl >> 5 != 1 || !(fl & 0x10))
		return fail(why, DEC_NOT_TCP, "GTP packet is not GTPv1-U");
	if (type != 0xff)
		return fail(why, DEC_NOT_TCP, "GTP-U message is not user data");
	if (fl & 0x07) {
		if (!rd8(b, off + 11, &next))
			return fail(why, DEC_TRUNCATED, "GTP-U header truncated");
		pos = off + 12;
		for (int n = 0; (fl & 0x04) && next != 0; n++) {
			uint8_t len;

			if (n >= GTP_MAX_EXT)
				return fail(why, DEC_INVALID,
				            "too many GTP-U extension headers");
			if (!rd8(b, pos, &len))
				return fail(why, DEC_TRUNCATED,
				            "GTP-U extension header truncated");
			if (len == 0)
				return fail(why, DEC_INVALID,
				            "GTP-U extension header of length 0");
			if (!rd8(b, pos + (uint32_t)len * 4 - 1, &next))
				return fail(why, DEC_TRUNCATED,
				            "GTP-U extension header truncated");
			pos += (uint32_t)len * 4;
		}
	}
	if (!rd8(b, pos, &first))
		return fail(why, DEC_TRUNCATED, "GTP-U payload truncated");
	if (!tun_enter_ip(b, ip_off, af, out, why, &r, TK_GTPU, NULL, 0))
		return r;
	if (first >> 4 != 4 && first >> 4 != 6)
		return unsup(out, why, DEC_UNSUP_TUNNEL_PAYLOAD,
		             (uint32_t)TK_GTPU << 16 | first,
		             "GTP-U payload is not IP");
	return dec_ip_any(b, pos, wirelen, out, why);
}

/* Teredo (RFC 4380 5.1.1): IPv6 in UDP, perhaps after an authentication
 * indicator (0x0001, client id and auth value lengths, both, nonce (8),
 * confirmation (1)) and/or an origin indication (0x0000, 6 bytes). A
 * payload that is not IPv6 is no Teredo packet. */
static enum dec_result dec_teredo(const struct buf *b, uint32_t ip_off, uint8_t af,
                                  uint32_t off, uint32_t wirelen,
                                  struct dec_tcp *out, const char **why)
{
	uint8_t v;
	uint16_t ind;
	enum dec_result r;

	if (rd16(b, off, &ind) && ind == 0x0001) {
		uint8_t idl, aul;

		if (!rd8(b, off + 2, &idl) || !rd8(b, off + 3, &aul))
			return fail(why, DEC_TRUNCATED, "Teredo authentication truncated");
		off += 4 + (uint32_t)idl + aul + 9;
	}
	if (rd16(b, off, &ind) && ind == 0x0000)
		off += 8;
	if (!rd8(b, off, &v))
		return fail(why, DEC_TRUNCATED, "Teredo payload truncated");
	if (v >> 4 != 6)
		return fail(why, DEC_NOT_TCP, "UDP port 3544 without IPv6 (not Teredo)");
	if (!tun_enter_ip(b, ip_off, af, out, why, &r, TK_TEREDO, NULL, 0))
		return r;
	return dec_ipv6(b, off, wirelen, out, why);
}

/* AYIYA (draft-massar-v6ops-ayiya): identity length (2^n bytes) and type,
 * signature length (4-byte words) and hash method, authentication method
 * and opcode (1: forward), next header, epoch (4), identity, signature. */
static enum dec_result dec_ayiya(const struct buf *b, uint32_t ip_off, uint8_t af,
                                 uint32_t off, uint32_t wirelen,
                                 struct dec_tcp *out, const char **why)
{
	uint8_t b0, b1, b2, nh;
	uint32_t hl;
	enum dec_result r;

	if (!have(b, off, 8))
		return fail(why, DEC_TRUNCATED, "AYIYA header truncated");
	(void)rd8(b, off, &b0);
	(void)rd8(b, off + 1, &b1);
	(void)rd8(b, off + 2, &b2);
	(void)rd8(b, off + 3, &nh);
	if ((b2 & 0x0f) != 1)
		return fail(why, DEC_NOT_TCP, "AYIYA packet is not forwarded data");
	hl = 8 + (1u << (b0 >> 4)) + (uint32_t)(b1 >> 4) * 4;
	if (!have(b, off, hl))
		return fail(why, DEC_TRUNCATED, "AYIYA header truncated");
	if (!tun_enter_ip(b, ip_off, af, out, why, &r, TK_AYIYA, NULL, 0))
		return r;
	if (nh == IPP_IPIP)
		return dec_ipv4(b, off + hl, wirelen, out, why);
	if (nh == IPP_IPV6)
		return dec_ipv6(b, off + hl, wirelen, out, why);
	return unsup(out, why, DEC_UNSUP_TUNNEL_PAYLOAD,
	             (uint32_t)TK_AYIYA << 16 | nh, "AYIYA payload is not IP");
}

/* UDP (RFC 768): a tunnel if either port is one of theirs, else no TCP. */
static enum dec_result dec_udp(const struct buf *b, uint32_t ip_off, uint8_t af,
                               uint32_t off, uint32_t plen, uint32_t wirelen,
                               struct dec_tcp *out, const char **why)
{
	uint16_t sp, dp, port;
	enum dec_result r;

	if (plen < 8)
		return fail(why, DEC_INVALID, "IP payload too short for a UDP header");
	if (!rd16(b, off, &sp) || !rd16(b, off + 2, &dp) || !have(b, off, 8))
		return fail(why, DEC_NOT_TCP, "UDP header truncated");
	/* the server's port names the tunnel; try the destination first */
	for (int i = 0; i < 2; i++) {
		port = i == 0 ? dp : sp;
		switch (port) {
		case PORT_VXLAN:
		case PORT_VXLAN_LINUX:
			return dec_vxlan(b, ip_off, af, off + 8, wirelen, out, why);
		case PORT_GENEVE:
			return dec_geneve(b, ip_off, af, off + 8, wirelen, out, why);
		case PORT_GTPU:
			return dec_gtpu(b, ip_off, af, off + 8, wirelen, out, why);
		case PORT_TEREDO:
			return dec_teredo(b, ip_off, af, off + 8, wirelen, out, why);
		case PORT_AYIYA:
			return dec_ayiya(b, ip_off, af, off + 8, wirelen, out, why);
		case PORT_MPLS_UDP:
			if (!tun_enter_ip(b, ip_off, af, out, why, &r, TK_MPLS_IP,
			                  NULL, 0))
				return r;
			return dec_mpls(b, off + 8, wirelen, out, why);
		default:
			break;
		}
	}
	return fail(why, DEC_NOT_TCP, af == 4 ? "IPv4 protocol is not TCP"
	                                      : "IPv6 next header is not TCP");
}

enum dec_result tun_ip_payload(const struct buf *b, uint32_t ip_off, uint8_t af,
                               uint8_t proto, uint32_t poff, uint32_t plen,
                               uint32_t wirelen, struct dec_tcp *out,
                               const char **why)
{
	enum dec_result r;

	switch (proto) {
	case IPP_IPIP:
	case IPP_IPV6:
		if (!tun_enter_ip(b, ip_off, af, out, why, &r, TK_IPIP, NULL, 0))
			return r;
		return proto == IPP_IPIP ? dec_ipv4(b, poff, wirelen, out, why)
		                         : dec_ipv6(b, poff, wirelen, out, why);
	case IPP_GRE:
		return dec_gre(b, ip_off, af, poff, wirelen, out, why);
	case IPP_UDP:
		return dec_udp(b, ip_off, af, poff, plen, wirelen, out, why);
	case IPP_MPLS:
		if (!tun_enter_ip(b, ip_off, af, out, why, &r, TK_MPLS_IP, NULL, 0))
			return r;
		return dec_mpls(b, poff, wirelen, out, why);
	case IPP_AH:
		if (af == 4) {
			/* IPv4 AH (RFC 4302): next header, length in 4-byte
			 * words minus 2; IPv6 walks AH as an extension header */
			uint8_t nh, l;
			uint32_t len;

			if (!rd8(b, poff, &nh) || !rd8(b, poff + 1, &l))
				return fail(why, DEC_TRUNCATED, "AH header truncated");
			len = ((uint32_t)l + 2) * 4;
			if (len > plen)
				return fail(why, DEC_INVALID,
				            "AH header longer than the IP payload");
			if (nh == IPPROTO_TCP_)
				return unsup(out, why, DEC_UNSUP_IPPROTO, IPP_AH,
				             "TCP under IPv4 AH not decoded");
			return tun_ip_payload(b, ip_off, af, nh, poff + len,
			                      plen - len, wirelen, out, why);
		}
		return unsup(out, why, DEC_UNSUP_IPPROTO, proto,
		             "IP protocol not decoded");
	case IPP_ESP:
	case IPP_ETHERIP:
	case IPP_L2TP:
		return unsup(out, why, DEC_UNSUP_IPPROTO, proto,
		             "IP protocol not decoded");
	default:
		return fail(why, DEC_NOT_TCP, af == 4 ? "IPv4 protocol is not TCP"
		                                      : "IPv6 next header is not TCP");
	}
}

/* ---- link types ----------------------------------------------------------------- */

/* NFLOG (Linux nfnetlink_log, tcpdump's print-nflog.c): family (1),
 * version (1), resource id (2, big-endian), then TLVs whose length and
 * type are in the byte order of the host that reads them (libpcap turns
 * a file written elsewhere around); the length counts the 4-byte TLV
 * header, and TLVs are padded to 4 bytes. NFULA_PAYLOAD (9) holds the
 * packet. */
#define NFULA_PAYLOAD 9
#define NFLOG_MAX_TLVS 64

static uint16_t host16(const struct buf *b, uint32_t off)
{
	uint16_t v;

	memcpy(&v, b->p + off, 2); /* caller checked */
	return v;
}

static enum dec_result dec_nflog(const struct buf *b, uint32_t wirelen,
                                 struct dec_tcp *out, const char **why)
{
	uint8_t fam, ver;
	uint32_t pos = 4;

	if (!rd8(b, 0, &fam) || !rd8(b, 1, &ver) || !have(b, 0, 4))
		return fail(why, DEC_TRUNCATED, "NFLOG header truncated");
	if (ver != 0)
		return fail(why, DEC_INVALID, "NFLOG version is not 0");
	for (int n = 0; n < NFLOG_MAX_TLVS; n++) {
		uint16_t len, type;

		if (!have(b, pos, 4))
			return fail(why, DEC_TRUNCATED, "NFLOG TLV truncated");
		len = host16(b, pos);
		type = host16(b, pos + 2) & 0x7fff;
		if (len < 4)
			return fail(why, DEC_INVALID, "NFLOG TLV shorter than its header");
		if (type == NFULA_PAYLOAD) {
			/* the payload's wire length is the TLV's */
			uint32_t wl = wirelen ? wirelen : 0;

			if (fam == 2)
				return dec_ipv4(b, pos + 4, wl, out, why);
			if (fam == 10)
				return dec_ipv6(b, pos + 4, wl, out, why);
			return fail(why, DEC_NOT_TCP, "NFLOG family is not IP");
		}
		pos += ((uint32_t)len + 3) & ~3u;
	}
	return fail(why, DEC_INVALID, "NFLOG without a payload in 64 TLVs");
}

/* 802.11 (IEEE 802.11-2020 9.2.3): frame control (2: type and subtype,
 * ToDS/FromDS, protected, order), duration (2), three addresses (18),
 * sequence control (2), a fourth address when both DS bits are set, QoS
 * control (2) in QoS data subtypes, HT control (4) when QoS data has the
 * order bit; then LLC/SNAP. */
static enum dec_result dec_80211(const struct buf *b, uint32_t off,
                                 uint32_t wirelen, struct dec_tcp *out,
                                 const char **why)
{
	uint8_t fc0, fc1;
	uint32_t hl = 24;

	if (!rd8(b, off, &fc0) || !rd8(b, off + 1, &fc1))
		return fail(why, DEC_TRUNCATED, "802.11 header truncated");
	if ((fc0 & 0x03) != 0)
		return fail(why, DEC_INVALID, "802.11 protocol version is not 0");
	if (((fc0 >> 2) & 3) != 2)
		return fail(why, DEC_NOT_TCP, "802.11 frame is not data");
	if (fc0 & 0x40)
		return fail(why, DEC_NOT_TCP, "802.11 data frame without a body");
	if ((fc1 & 0x03) == 0x03)
		hl += 6;
	if (fc0 & 0x80) {
		hl += 2;
		if (fc1 & 0x80)
			hl += 4;
	}
	if (!have(b, off, hl))
		return fail(why, DEC_TRUNCATED, "802.11 header truncated");
	if (fc1 & 0x40)
		return unsup(out, why, DEC_UNSUP_80211, 1,
		             "802.11 frame encrypted");
	return tun_llc(b, off + hl, wirelen, out, why);
}

/* radiotap (radiotap.org): version 0, pad, length (2, little-endian),
 * present flags; the 802.11 frame starts after length bytes. The FCS
 * some drivers append is past the IP packet's end, where the IP lengths
 * stop us. */
static enum dec_result dec_radiotap(const struct buf *b, uint32_t wirelen,
                                    struct dec_tcp *out, const char **why)
{
	uint8_t v, l0, l1;
	uint32_t len;

	if (!rd8(b, 0, &v) || !rd8(b, 2, &l0) || !rd8(b, 3, &l1))
		return fail(why, DEC_TRUNCATED, "radiotap header truncated");
	if (v != 0)
		return fail(why, DEC_INVALID, "radiotap version is not 0");
	len = (uint32_t)l0 | (uint32_t)l1 << 8;
	if (len < 8)
		return fail(why, DEC_INVALID, "radiotap length less than 8");
	return dec_80211(b, len, wirelen, out, why);
}

enum dec_result tun_linktype(int dlt, const struct buf *b, uint32_t wirelen,
                             struct dec_tcp *out, const char **why)
{
	uint16_t type;

	switch (dlt) {
	case DLT_PPP:
	case DLT_PPP_SERIAL:
		return dec_ppp_hdlc(b, 0, wirelen, out, why);
	case DLT_PPP_ETHER:
		return dec_pppoe(b, 0, wirelen, out, why);
	case DLT_C_HDLC:
		/* Cisco HDLC: address, control, an EtherType */
		if (!rd16(b, 2, &type))
			return fail(why, DEC_TRUNCATED, "Cisco HDLC header truncated");
		return dec_ethertype(b, 4, type, wirelen, out, why);
	case DLT_NFLOG:
		return dec_nflog(b, wirelen, out, why);
	case DLT_IEEE802_11:
		return dec_80211(b, 0, wirelen, out, why);
	case DLT_IEEE802_11_RADIO:
		return dec_radiotap(b, wirelen, out, why);
	default:
		return unsup(out, why, DEC_UNSUP_LINKTYPE, (uint32_t)dlt,
		             "link type not supported");
	}
}

bool tun_linktype_supported(int dlt)
{
	switch (dlt) {
	case DLT_PPP:
	case DLT_PPP_SERIAL:
	case DLT_PPP_ETHER:
	case DLT_C_HDLC:
	case DLT_NFLOG:
	case DLT_IEEE802_11:
	case DLT_IEEE802_11_RADIO:
		return true;
	default:
		return false;
	}
}

/* ---- naming what was not decoded -------------------------------------------- */

static const char *ethertype_name(uint32_t t)
{
	switch (t) {
	case 0x88E5: return " (MACsec)";
	case 0x22F3: return " (TRILL)";
	case 0x8915: return " (RoCE)";
	case 0x894F: return " (NSH)";
	case 0x88B5: case 0x88B6: return " (local experimental)";
	default: return "";
	}
}

static const char *ipproto_name(uint32_t p)
{
	switch (p) {
	case IPP_ESP: return " (ESP)";
	case IPP_AH: return " (AH)";
	case IPP_ETHERIP: return " (EtherIP)";
	case IPP_L2TP: return " (L2TPv3)";
	default: return "";
	}
}

static const char *tunnel_name(uint32_t k)
{
	switch (k) {
	case TK_GENEVE: return "Geneve";
	case TK_GTPU: return "GTP-U";
	case TK_AYIYA: return "AYIYA";
	default: return "tunnel";
	}
}

const char *dec_unsupported_text(const struct dec_tcp *d, char *buf,
                                 unsigned len)
{
	uint32_t v = d->unsup_value;

	if (!buf || len == 0)
		return buf;
	switch (d->unsup_kind) {
	case DEC_UNSUP_LINKTYPE: {
		const char *n = pcap_datalink_val_to_name((int)v);

		snprintf(buf, len, "link type %s (%u)", n ? n : "unknown", v);
		break;
	}
	case DEC_UNSUP_ETHERTYPE:
		snprintf(buf, len, "EtherType 0x%04x%s", v, ethertype_name(v));
		break;
	case DEC_UNSUP_IPPROTO:
		snprintf(buf, len, "IP protocol %u%s", v, ipproto_name(v));
		break;
	case DEC_UNSUP_GRE:
		snprintf(buf, len, "GRE version %u protocol 0x%04x", v >> 16,
		         v & 0xffff);
		break;
	case DEC_UNSUP_PPP:
		snprintf(buf, len, "PPP protocol 0x%04x%s", v,
		         v == PPP_VJC || v == PPP_VJUC ? " (VJ compressed TCP)" :
		         v == PPP_COMP ? " (compressed)" : "");
		break;
	case DEC_UNSUP_LLC:
		snprintf(buf, len, "LLC DSAP 0x%02x SSAP 0x%02x", v >> 8, v & 0xff);
		break;
	case DEC_UNSUP_MPLS:
		snprintf(buf, len, "MPLS payload starting 0x%02x", v);
		break;
	case DEC_UNSUP_80211:
		snprintf(buf, len, "802.11 protected (encrypted) data");
		break;
	case DEC_UNSUP_ERSPAN:
		snprintf(buf, len, "ERSPAN version %u frame type %u", v >> 8,
		         v & 0xff);
		break;
	case DEC_UNSUP_TUNNEL_PAYLOAD:
		snprintf(buf, len, "%s payload type 0x%04x", tunnel_name(v >> 16),
		         v & 0xffff);
		break;
	case DEC_UNSUP_DEPTH:
		snprintf(buf, len, "more than %u nested tunnels", v);
		break;
	default:
		snprintf(buf, len, "unknown");
		break;
	}
	return buf;
}
