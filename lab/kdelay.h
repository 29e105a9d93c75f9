/*
 * kdelay.h - a delay line for kernel clients, without netem (this kernel
 * has neither sch_netem, sch_fq nor nft `queue`): the client kernel's
 * packets go through a TUN device that the runner drains, holds rtt/2 and
 * injects on the veth; the server's answers are taken off the veth, held
 * rtt/2 and written into the TUN device. As with the raw client, the
 * capture point (the veth) lies between the delay and the server.
 *
 * The plumbing, all inside the lab's namespaces (removed with them):
 *
 *   client namespace                                  server namespace
 *   kernel socket (SO_MARK KDELAY_MARK, bound to .4), or a client
 *   program's (any socket to the server but the raw client's, from .3,
 *   and the injector's, marked KDELAY_INJECT_MARK: ip rules 80-83)
 *     -> table 76: SERVER dev llNNNt src .4
 *     -> TUN llNNNt (.4/32)  --read-->  runner --hold rtt/2-->
 *        raw IPPROTO_RAW socket -> veth ----------------> server
 *   server -> .4 (a PERMANENT neighbour: the client veth's MAC)
 *     -> veth: an AF_PACKET socket copies it to the runner, nftables
 *        drops it before the client kernel sees it (prerouting, iif veth,
 *        daddr .4) --hold rtt/2--> checksums redone (the veth may hand
 *        over TSO super-frames with partial checksums) -> TUN -> socket
 *
 * One-way delay = rtt/2 in each direction, in FIFO order (a constant
 * delay keeps order), released by kdelay_pump, which the runner calls
 * every millisecond: a packet is held at least rtt/2, late by about 1 ms
 * (more when the machine is busy: 0.32 s for an RTT of 0.2 s was seen once
 * on a loaded 2-core host).
 *
 * Errors: kdelay_open returns NULL with "kdelay: what: detail" in err.
 */
#ifndef LL_LAB_KDELAY_H
#define LL_LAB_KDELAY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/netns.h"

#define KDELAY_MARK  0x4c4c   /* SO_MARK of kernel sockets that go through */
#define KDELAY_INJECT_MARK 0x4c4d /* the injector's: it keeps the veth */
#define KDELAY_TABLE "76"

struct kdelay;

/* Build the plumbing for lab ln; kernel clients and client programs then
 * speak from kdelay_addr(), held for whatever kdelay_set says (0: no
 * delay beyond the runner's tick). */
struct kdelay *kdelay_open(const struct labnet *ln, char *err, size_t errlen);

/* The address delayed kernel clients bind to (10.X.Y.4). */
struct in_addr kdelay_addr(const struct kdelay *d);

/* Set the one-way hold for packets that enter from now on. */
void kdelay_set(struct kdelay *d, uint32_t one_way_us);

/* Move packets: read what is waiting, release what is due at now_us.
 * Returns 0, or -1 with err set on a failure that ends the run. */
int kdelay_pump(struct kdelay *d, uint64_t now_us, char *err, size_t errlen);

/* Packets lost by the delay line so far (a queue over 64 MiB, a failed
 * injection): the runner notes them, since a lossy line would fake
 * retransmissions. */
uint64_t kdelay_dropped(const struct kdelay *d);

/* Close the sockets and free (the namespaces take the rest with them). */
void kdelay_free(struct kdelay *d);

#endif
