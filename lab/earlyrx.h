/*
 * earlyrx.h - the raw client's early receiver: a plain AF_PACKET socket
 * (no ring) that hands the server's segments to lab/rawtcp_wire.c the moment the
 * kernel has them.
 *
 * Why beside the capture: rawtcp's libpcap handle uses TPACKET_V3, whose
 * blocks reach user space only when full or when their 1 ms timeout
 * retires them; a frame can sit there up to that long, which put a floor
 * of ~1 ms under the emulated RTT and stretched every RTT below 2 ms.
 * TPACKET_V2 (pcap immediate mode) has no timeout but sizes every slot
 * for the snap length (256 KiB under segmentation offload). A plain
 * packet socket queues each frame as its own buffer, charged at its real
 * size, and wakes poll() at once. The capture ring stays the record (the
 * saved pcap, our own RSTs, leaked ones); this socket only feeds the TCP.
 *
 * The socket carries a classic BPF program (compiled by libpcap), so it
 * sees only what the program accepts; frames the kernel sent out on the
 * interface (PACKET_OUTGOING, e.g. the first copy of a loopback frame) are
 * skipped. Link-layer framing is the interface's own, which is what
 * libpcap reports as DLT_EN10MB (Ethernet and loopback) or DLT_RAW
 * (ARPHRD_NONE): earlyrx_open() refuses other link types and the caller
 * then stays with the ring.
 */
#ifndef LL_LAB_EARLYRX_H
#define LL_LAB_EARLYRX_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

/* Open the socket on iface with filter prog and a receive buffer of
 * bufbytes; dlt is the capture's link type. Returns a non-blocking fd, or
 * -1 with err set (not root, unknown interface, link type not served). */
int earlyrx_open(const char *iface, int dlt, const struct bpf_program *prog,
                 uint32_t bufbytes, char *err, size_t errlen);

/* Read one frame into buf. Returns its captured length (> 0) with *wire
 * its length on the wire (more than the return value when buf was too
 * small) and *ts_us its kernel receive time (CLOCK_REALTIME, us); 0 when
 * nothing is queued; -1 on an error (errno set). */
long earlyrx_read(int fd, uint8_t *buf, size_t cap, size_t *wire, uint64_t *ts_us);

/* Frames the kernel dropped for want of buffer since the last call. */
uint64_t earlyrx_drops(int fd);

#endif
