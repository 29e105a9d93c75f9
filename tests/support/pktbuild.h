/*
 * pktbuild.h - build TCP frames in memory for tests, and save them as pcap.
 *
 * Used only by tests (unit tests feed the frames straight to az_packet();
 * golden tests write them to a .pcap and run `lingerlab analyze` on it).
 *
 * A pb_conn names one connection: endpoints, ISNs, default windows and the
 * SYN options. Builders append one frame to a pb_list. Sequence and ACK
 * numbers are given RELATIVE to the ISNs, like tcpdump prints them: `seq` is
 * relative to the sender's ISN (SYN = 0, first data byte = 1), `ack` to the
 * peer's ISN. PB_NEXT as seq means "the sender's next sequence number" and
 * as ack "everything the peer has sent so far" (the builder tracks both per
 * direction: snd_nxt[] is the highest seq + length + SYN/FIN built so far).
 * For frames with absolute numbers, set pb_seg.absolute.
 *
 * Frames are hand-assembled (Ethernet II or raw IP, IPv4 or IPv6, TCP) with
 * correct IP and TCP checksums. Why not libnet: Debian 12 ships libnet
 * 1.1.6, whose only way to hand back wire-ready bytes is the advanced link
 * mode, which opens a packet socket on a real interface (root, a device);
 * unit tests must build bytes unprivileged and also make frames libnet will
 * not (captured length shorter than the wire length).
 *
 * Errors: builders return 0, or -1 on allocation failure or impossible
 * input (payload over 65000 bytes, unknown address family); the list is
 * unchanged then. pb_write_pcap() writes "what: detail" into err.
 *
 * Ownership: a pb_list owns copies of every frame; pb_list_free() releases
 * them. Payload pointers passed in are copied, never kept.
 */
#ifndef LL_TESTS_PKTBUILD_H
#define LL_TESTS_PKTBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* pcap link types pktbuild can produce (pcap's DLT_ numbers). */
#define PB_DLT_EN10MB 1   /* Ethernet II */
#define PB_DLT_RAW    12  /* raw IP (Linux DLT_RAW; written as LINKTYPE_RAW) */

/* TCP flags, same bits as the wire (and LL_TH_* in analyzer/decode.h). */
#define PB_FIN 0x01
#define PB_SYN 0x02
#define PB_RST 0x04
#define PB_PSH 0x08
#define PB_ACK 0x10

/* Directions: same numbers as enum az_dir_id. */
enum pb_dir { PB_C2S = 0, PB_S2C = 1 };

#define PB_NEXT UINT32_MAX /* seq/ack placeholder, see above */

struct pb_frame {
	double t;            /* absolute seconds */
	uint32_t caplen;     /* bytes stored in `bytes` */
	uint32_t wirelen;    /* length on the wire (>= caplen) */
	uint8_t *bytes;
};

struct pb_list {
	int dlt;             /* PB_DLT_EN10MB or PB_DLT_RAW */
	struct pb_frame *frames;
	size_t n, cap;
};

struct pb_conn {
	uint8_t af;                  /* 4 or 6 */
	uint8_t addr[2][16];         /* [PB_C2S] client, [PB_S2C] server */
	uint16_t port[2];            /* [PB_C2S] client port, [PB_S2C] server */
	uint32_t isn[2];             /* [PB_C2S] client ISN, [PB_S2C] server */
	uint16_t win[2];             /* raw window field each side sends */
	/* SYN options, both sides (0 / -1 / false: left out) */
	uint16_t mss;
	int8_t wscale;
	bool sack_permitted;
	bool timestamps;             /* also on every later segment */
	uint32_t snaplen;            /* 0: frames captured whole */
	uint32_t snd_nxt[2];         /* relative, tracked for PB_NEXT */
};

/* One segment, fully specified (pb_seg). */
struct pb_seg {
	enum pb_dir dir;
	double t;
	uint8_t flags;               /* PB_* bits */
	uint32_t seq, ack;           /* relative (or PB_NEXT) unless absolute */
	bool absolute;               /* seq/ack are raw wire values */
	int32_t win;                 /* raw window; -1: the connection's win[] */
	const void *payload;         /* NULL: len bytes of 'x' */
	uint32_t len;                /* payload length on the wire */
	uint32_t caplen;             /* 0: conn->snaplen rule; else cut the
	                                frame to this many bytes */
};

/* Start an empty list of frames of link type dlt. */
void pb_list_init(struct pb_list *l, int dlt);
void pb_list_free(struct pb_list *l);

/*
 * Fill *c for a connection between client (address text, IPv4 or IPv6)
 * and server with the given ISNs. Defaults: windows 65535, MSS 1460,
 * wscale 7, SACK-permitted, no timestamps, no snaplen. Returns 0, or -1 if
 * an address does not parse or the families differ.
 */
int pb_conn_init(struct pb_conn *c, const char *client, uint16_t cport,
                 const char *server, uint16_t sport,
                 uint32_t client_isn, uint32_t server_isn);

/* Append the segment s of connection c. */
int pb_seg(struct pb_list *l, struct pb_conn *c, const struct pb_seg *s);

/* Shorthands (relative numbers, PB_NEXT allowed):
 *   pb_syn     client SYN (seq 0) with the SYN options
 *   pb_synack  server SYN-ACK (seq 0, ack 1) with the SYN options
 *   pb_ack     pure ACK
 *   pb_data    PSH-ACK carrying len bytes (payload NULL: 'x' filler)
 *   pb_send    pb_data with a C string payload
 *   pb_fin     FIN-ACK
 *   pb_rst     RST without ACK (as a host answers a segment for a
 *              connection it no longer has, seq from that segment's ACK)
 *   pb_rstack  RST-ACK */
int pb_syn(struct pb_list *l, struct pb_conn *c, double t);
int pb_synack(struct pb_list *l, struct pb_conn *c, double t);
int pb_ack(struct pb_list *l, struct pb_conn *c, enum pb_dir d, double t,
           uint32_t seq, uint32_t ack);
int pb_data(struct pb_list *l, struct pb_conn *c, enum pb_dir d, double t,
            uint32_t seq, uint32_t ack, const void *payload, uint32_t len);
int pb_send(struct pb_list *l, struct pb_conn *c, enum pb_dir d, double t,
            uint32_t seq, uint32_t ack, const char *text);
int pb_fin(struct pb_list *l, struct pb_conn *c, enum pb_dir d, double t,
           uint32_t seq, uint32_t ack);
int pb_rst(struct pb_list *l, struct pb_conn *c, enum pb_dir d, double t,
           uint32_t seq);
int pb_rstack(struct pb_list *l, struct pb_conn *c, enum pb_dir d, double t,
              uint32_t seq, uint32_t ack);

/* Append a frame of arbitrary bytes (for non-TCP or malformed frames). */
int pb_raw(struct pb_list *l, double t, const void *bytes, uint32_t caplen,
           uint32_t wirelen);

/*
 * Sort frames by time (stable: equal times keep their order). Useful when
 * several connections were built one after another but overlap in time.
 */
void pb_sort(struct pb_list *l);

/*
 * Write every frame to a pcap file at path (microsecond timestamps,
 * snaplen 262144). Returns 0, or -1 with err set ("pcap: <path>: why").
 */
int pb_write_pcap(const struct pb_list *l, const char *path,
                  char *err, size_t errlen);

#endif
