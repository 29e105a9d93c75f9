/*
 * rawtcp_wire.c - the raw TCP client's wire: where a made segment meets the
 * outside. Outbound: loss and reordering faults, then at release time libnet
 * builds and injects the held segment (lab/rawtcp_int.h says why then).
 * Inbound: libpcap reads every frame of the conversation (the record: the
 * saved capture, our own RSTs ticked off, a kernel's RSTs counted as leaks)
 * and lab/earlyrx.c hands the server's segments to the TCP without the
 * capture ring's 1 ms block wait; each is held rtt/2 less what it waited.
 * Offline (no interface) the bytes go to the out hook and come in through
 * rawtcp_input_ip.
 */
#include "lab/rawtcp_int.h"

#include <errno.h>
#include <limits.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "lab/earlyrx.h"
#include "lab/errmsg.h"

/* ---- faults: loss and reordering on the client's side (rawtcp.h) ---- */

/* Count the segment (dir) and say which rule it meets, if any: the first
 * unused rule of dir whose number it is, or that waits for a FIN it
 * carries. Returns the rule's kind, 0 for none. */
static int fault_match(struct rawtcp_conn *k, int dir, uint8_t flags)
{
	uint32_t n = ++k->segs[dir];
	for (unsigned i = 0; i < k->o.n_faults && i < RAWTCP_MAX_FAULTS; i++) {
		const struct rawtcp_fault *f = &k->o.faults[i];
		if (f->dir != dir || (k->fault_used & (1u << i)))
			continue;
		if (f->fin ? (flags & LL_TH_FIN) != 0 : f->nth == n) {
			k->fault_used |= 1u << i;
			return f->kind;
		}
	}
	return 0;
}

/* An outbound segment leaves the client, to be injected at when: lost,
 * held back, or queued (then a held one goes right after it). */
void rt_out_segment(struct rawtcp_conn *k, struct pkt *p, uint64_t when)
{
	struct rawtcp *c = k->c;
	int f = fault_match(k, RAWTCP_DIR_OUT, p->u.o.flags);
	if (f == RAWTCP_FAULT_DROP) {
		k->dropped[RAWTCP_DIR_OUT]++;
		pkt_put(c, p);
		return;
	}
	if (f == RAWTCP_FAULT_REORDER && !k->held[RAWTCP_DIR_OUT]) {
		k->reordered[RAWTCP_DIR_OUT]++;
		k->held[RAWTCP_DIR_OUT] = p;
		return;
	}
	delay_push(c, p, when);
	struct pkt *h = k->held[RAWTCP_DIR_OUT];
	if (h) {
		k->held[RAWTCP_DIR_OUT] = NULL;
		delay_push(c, h, when + 1);
	}
}

/* An inbound segment reaches the client at its release time: lost, held
 * back, or processed (then a held one right after it). Returns true when
 * it kept p (the caller must not free it). */
bool rt_in_segment(struct rawtcp_conn *k, struct pkt *p)
{
	struct rawtcp *c = k->c;
	int f = fault_match(k, RAWTCP_DIR_IN, p->u.in.flags);
	if (f == RAWTCP_FAULT_DROP) {
		k->dropped[RAWTCP_DIR_IN]++;
		return false;
	}
	if (f == RAWTCP_FAULT_REORDER && !k->held[RAWTCP_DIR_IN]) {
		k->reordered[RAWTCP_DIR_IN]++;
		k->held[RAWTCP_DIR_IN] = p;
		return true;
	}
	rt_conn_input(k, &p->u.in, p->node.when);
	struct pkt *h = k->held[RAWTCP_DIR_IN];
	if (h) {
		k->held[RAWTCP_DIR_IN] = NULL;
		if (k->state != RAWTCP_CLOSED)
			rt_conn_input(k, &h->u.in, p->node.when);
		pkt_put(c, h);
	}
	return false;
}

/* ---- out: the libnet side ------------------------------------------- */

/* Build the held segment with libnet and inject it (or, offline, hand the
 * bytes to the out hook). */
void rt_inject(struct rawtcp *c, struct pkt *p)
{
	struct seg_out *s = &p->u.o;
	libnet_t *l = c->ln;
	uint32_t tcplen = LIBNET_TCP_H + s->optlen + s->len;
	struct lladdr from = local_at(c, s->lidx);
	uint32_t key = lkey(s->lidx, s->sport);

	libnet_clear_packet(l);
	if (s->optlen && libnet_build_tcp_options(s->opt, s->optlen, l, 0) == -1)
		goto fail;
	if (libnet_build_tcp(s->sport, s->dport, s->seq, s->ack, s->flags, s->win, 0, 0,
	                     tcplen, s->len ? p->data : NULL, s->len, l, 0) == -1)
		goto fail;
	if (c->local.af == 6) {
		/* RFC 8200 3: payload length excludes the 40-byte header; no
		 * extension headers, so the TCP checksum libnet fills in covers
		 * the RFC 8200 8.1 pseudo-header (addresses, length, 6). */
		struct libnet_in6_addr src, dst;
		memcpy(src.libnet_s6_addr, from.b, 16);
		memcpy(dst.libnet_s6_addr, c->peer.b, 16);
		if (libnet_build_ipv6(0, 0, (uint16_t)tcplen, IPPROTO_TCP, 64, src, dst,
		                      NULL, 0, l, 0) == -1)
			goto fail;
	} else {
		uint32_t src, dst;
		memcpy(&src, from.b, 4);
		memcpy(&dst, c->peer.b, 4);
		if (libnet_build_ipv4(LIBNET_IPV4_H + tcplen, 0, c->ip_id++, IP_DF, 64, IPPROTO_TCP, 0,
		                      src, dst, NULL, 0, l, 0) == -1)
			goto fail;
	}
	if (s->flags & LL_TH_RST) {
		/* Before the write: the capture will see it as ours, not a leak. */
		if (c->rst_pending[key] < UINT8_MAX)
			c->rst_pending[key]++;
	}
	if (c->offline) {
		uint8_t *bytes = NULL;
		uint32_t n = 0;
		if (libnet_pblock_coalesce(l, &bytes, &n) == -1)
			goto fail;
		if (c->out)
			c->out(c->out_arg, bytes, n);
		libnet_adv_free_packet(l, bytes);
	} else if (libnet_write(l) == -1) {
		goto fail;
	}
	c->st.packets_out++;
	c->inject_fail_run = 0;
	libnet_clear_packet(l);
	return;
fail:
	if ((s->flags & LL_TH_RST) && c->rst_pending[key] > 0)
		c->rst_pending[key]--;
	c->st.inject_errors++;
	c->inject_fail_run++;
	snprintf(c->inject_err, sizeof c->inject_err, "%s", libnet_geterror(l));
	libnet_clear_packet(l);
}

/* ---- in: the libpcap and early-receiver side --------------------------- */

static uint64_t realtime_us(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Hold an inbound segment for the connection's rtt/2 (less what it already
 * waited in the capture buffer). */
void rt_queue_inbound(struct rawtcp *c, const struct dec_tcp *d, uint64_t now, uint64_t lag)
{
	struct rawtcp_conn *k = conn_at(c, d->af, d->dst, d->dport);
	uint64_t half = k ? k->half_us : c->rtt_us / 2;
	struct pkt *p = pkt_get(c, d->payload_caplen);
	if (!p) {
		/* Out of memory: lost, as on a congested wire; the server will
		 * retransmit. Counted with the frames we could not use. */
		c->st.frames_undecoded++;
		return;
	}
	p->dir = PKT_IN;
	p->u.in = *d;
	if (d->payload_caplen)
		memcpy(p->data, d->payload, d->payload_caplen);
	p->u.in.payload = d->payload_caplen ? p->data : NULL;
	delay_push(c, p, now + (half > lag ? half - lag : 0));
}

/* Target mode: the frame belongs to local:[port_min, port_max] <->
 * peer:peer_port. On loopback local == peer, so the ports, not the
 * addresses, tell the directions apart. */
static bool target_frame(const struct rawtcp *c, const struct dec_tcp *d)
{
	if (lladdr_is(&c->local, d->af, d->src) && lladdr_is(&c->peer, d->af, d->dst) &&
	    d->sport >= c->port_min && d->sport <= c->port_max && d->dport == c->peer_port)
		return true;
	return lladdr_is(&c->peer, d->af, d->src) && lladdr_is(&c->local, d->af, d->dst) &&
	       d->sport == c->peer_port && d->dport >= c->port_min && d->dport <= c->port_max;
}

struct frame_ctx {
	struct rawtcp *c;
	uint64_t now, real;
};

/* Classify one captured frame: the server's segments to us are held and
 * then processed; our own RSTs are ticked off; any other RST from the
 * client side is a kernel's. */
static void on_frame(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct frame_ctx *fx = (struct frame_ctx *)(void *)arg;
	struct rawtcp *c = fx->c;
	struct dec_tcp d;
	enum dec_result r;

	c->st.frames_seen++;
	if (c->dumper) {
		pcap_dump((u_char *)c->dumper, h, bytes);
		c->st.frames_dumped++;
		/* stdio keeps the error: one flag test per frame */
		if (!c->st.dump_errno && ferror(pcap_dump_file(c->dumper)))
			c->st.dump_errno = errno ? errno : EIO;
	}
	r = dec_packet(c->dlt, bytes, h->caplen, h->len, &d, NULL);
	if (r != DEC_OK || d.af != c->local.af) {
		c->st.frames_undecoded++;
		return;
	}
	if (c->peer_port && !target_frame(c, &d)) {
		/* not our conversation (the BPF filter should have kept it
		 * out): neither processed nor counted */
		c->st.frames_undecoded++;
		return;
	}
	if (from_peer(c, &d)) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		uint64_t lag = fx->real > ts ? fx->real - ts : 0;
		if (c->early_fd >= 0)
			return; /* the early receiver fed it to the TCP already */
		if (d.payload_caplen < d.seg_len) {
			c->st.frames_undecoded++;
			return;
		}
		rt_queue_inbound(c, &d, fx->now, lag);
	} else if (local_index(c, d.af, d.src) >= 0) {
		if (d.flags & LL_TH_RST) {
			uint32_t key = lkey((uint16_t)local_index(c, d.af, d.src), d.sport);
			if (c->rst_pending[key] > 0)
				c->rst_pending[key]--;
			else
				c->st.leaked_rsts++;
		}
	} else if (lladdr_is(&c->peer, d.af, d.dst) && (d.flags & LL_TH_RST)) {
		c->st.client_kernel_rsts++;
	}
}

/*
 * The capture ring first, the early receiver second, for every frame that
 * comes in. The kernel hands a received frame to an interface's packet
 * sockets in the order of its list, newest first (dev_add_pack adds at
 * the head), and the early receiver, opened after the ring, used to come
 * first: it woke the TCP, which could answer on the other CPU before the
 * ring's handler had stamped and stored the frame it answered. The record
 * then showed our ACK before the server's segment it acknowledges (seen:
 * an ACK of a response, and of a FIN, a few microseconds early). Binding
 * the ring's socket to another protocol takes its hook off the list (not
 * to protocol 0: packet_bind reads 0 as "the one it has"); binding it back
 * to ETH_P_ALL puts it at the head, so each frame is in the record, with
 * its time, before the TCP can see it (/proc/net/ptype lists the order).
 * The stand-in is the IEEE's local experimental ethertype, which no lab
 * frame carries; no frame of ours is lost, nothing has been sent yet. If
 * the first bind fails the order stays as it was, which only costs the
 * record that precision; if the second fails the ring would capture
 * nothing: -1 with errno.
 */
static int ring_first(int ring_fd, const char *iface)
{
	struct sockaddr_ll sll;

	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex(iface);
	if (ring_fd < 0 || sll.sll_ifindex == 0)
		return 0;
	sll.sll_protocol = htons(ETH_P_802_EX1);
	if (bind(ring_fd, (struct sockaddr *)&sll, sizeof sll) != 0)
		return 0;
	sll.sll_protocol = htons(ETH_P_ALL);
	return bind(ring_fd, (struct sockaddr *)&sll, sizeof sll);
}

int rt_open_live(struct rawtcp *c, const struct rawtcp_config *cfg, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	char lerr[LIBNET_ERRBUF_SIZE] = "";
	char filter[2048], hosts[1400] = "", la[LLADDR_STRLEN], pa[LLADDR_STRLEN];
	struct bpf_program prog;
	int r;

	c->pcap = pcap_create(cfg->iface, perr);
	if (!c->pcap) {
		errmsg_set(err, errlen, "rawtcp_open: pcap: %s", perr);
		return -1;
	}
	/*
	 * Not immediate mode: libpcap 1.10 answers it with TPACKET_V2, whose
	 * ring slots are all snaplen-sized (256 KiB here, since veth does
	 * segmentation offload and a frame can be a 64 KiB super-segment), so
	 * 32 MiB holds only ~128 frames and a burst of handshakes overflows it.
	 * TPACKET_V3 packs frames into blocks, handed over when full or after
	 * the 1 ms block timeout: right for the record (the dump, our RSTs,
	 * leaks), too late for the TCP (a floor of ~1 ms under the emulated
	 * RTT). So the server's segments reach the TCP through the early
	 * receiver (lab/earlyrx.h, same filter) as soon as the kernel has
	 * them; rt_queue_inbound() still subtracts the time a frame waited from
	 * its rtt/2 hold. Where the early receiver cannot serve the link type
	 * the ring feeds the TCP as before.
	 */
	if (pcap_set_snaplen(c->pcap, RT_SNAPLEN) != 0 || pcap_set_promisc(c->pcap, 0) != 0 ||
	    pcap_set_timeout(c->pcap, 1) != 0 ||
	    pcap_set_buffer_size(c->pcap, (int)min64(cfg->pcap_buffer_bytes, INT_MAX)) != 0) {
		errmsg_set(err, errlen, "rawtcp_open: pcap: cannot set options on %s", cfg->iface);
		return -1;
	}
	r = pcap_activate(c->pcap);
	if (r < 0) {
		errmsg_set(err, errlen, "rawtcp_open: pcap: %s: %s", cfg->iface, pcap_geterr(c->pcap));
		return -1;
	}
	if (pcap_setnonblock(c->pcap, 1, perr) != 0) {
		errmsg_set(err, errlen, "rawtcp_open: pcap: %s", perr);
		return -1;
	}
	c->dlt = pcap_datalink(c->pcap);
	if (!dec_linktype_supported(c->dlt)) {
		errmsg_set(err, errlen, "rawtcp_open: pcap: %s: link type %d is not supported",
		       cfg->iface, c->dlt);
		return -1;
	}
	/* "ip6 and tcp": TCP right after the IPv6 header (the raw client
	 * and the lab use no extension headers); the analyzer decodes the
	 * same frames again from the saved capture. */
	lladdr_str(&c->local, la, sizeof la);
	lladdr_str(&c->peer, pa, sizeof pa);
	const char *proto = c->local.af == 6 ? "ip6 and tcp" : "tcp";
	if (c->peer_port)
		snprintf(filter, sizeof filter,
		         "%s and ((src host %s and src portrange %u-%u and dst host %s and dst port %u) or "
		         "(src host %s and src port %u and dst host %s and dst portrange %u-%u))",
		         proto, la, c->port_min, c->port_max, pa, c->peer_port,
		         pa, c->peer_port, la, c->port_min, c->port_max);
	else {
		/* "host A or host A+1 ... or host PEER" */
		size_t used = 0;
		for (uint16_t i = 0; i < c->nlocal; i++) {
			struct lladdr a = local_at(c, i);
			lladdr_str(&a, la, sizeof la);
			used += (size_t)snprintf(hosts + used, sizeof hosts - used, "host %s or ", la);
		}
		snprintf(filter, sizeof filter, "%s and (%shost %s)", proto, hosts, pa);
	}
	if (pcap_compile(c->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		errmsg_set(err, errlen, "rawtcp_open: pcap: filter \"%s\": %s", filter, pcap_geterr(c->pcap));
		return -1;
	}
	r = pcap_setfilter(c->pcap, &prog);
	if (r != 0) {
		pcap_freecode(&prog);
		errmsg_set(err, errlen, "rawtcp_open: pcap: filter: %s", pcap_geterr(c->pcap));
		return -1;
	}
	c->early_buf = malloc(RT_SNAPLEN);
	if (c->early_buf)
		c->early_fd = earlyrx_open(cfg->iface, c->dlt, &prog, cfg->pcap_buffer_bytes, NULL, 0);
	pcap_freecode(&prog);
	c->pcap_fd = pcap_get_selectable_fd(c->pcap);
	if (c->pcap_fd < 0) {
		errmsg_set(err, errlen, "rawtcp_open: pcap: %s has no selectable fd", cfg->iface);
		return -1;
	}
	if (c->early_fd >= 0 && ring_first(c->pcap_fd, cfg->iface) != 0) {
		errmsg_set(err, errlen, "rawtcp_open: pcap: %s: bind: %s", cfg->iface, strerror(errno));
		return -1;
	}
	/* RAW6: an IPPROTO_RAW IPv6 socket, which the kernel treats as
	 * header-included (net/ipv6/raw.c rawv6_send_hdrinc), as RAW4's
	 * IP_HDRINCL socket: our source address goes out as written. */
	c->ln = libnet_init(c->local.af == 6 ? LIBNET_RAW6 : LIBNET_RAW4, cfg->iface, lerr);
	if (!c->ln) {
		errmsg_set(err, errlen, "rawtcp_open: libnet: %s", lerr);
		return -1;
	}
	/* Route through our interface only, whatever else the namespace has. */
	if (setsockopt(libnet_getfd(c->ln), SOL_SOCKET, SO_BINDTODEVICE, cfg->iface,
	               (socklen_t)strlen(cfg->iface)) != 0) {
		errmsg_set(err, errlen, "rawtcp_open: libnet: bind to %s: %s", cfg->iface, strerror(errno));
		return -1;
	}
	/* A raw socket that writes its own header is never fragmented: a
	 * packet beyond the interface's MTU is refused with EMSGSIZE
	 * (raw_send_hdrinc, rawv6_send_hdrinc). So the default MSS fits in it
	 * (RFC 9293 3.7.1: the MTU less the headers). A smaller MTU further
	 * on is not known here: the kernel's path MTU does not size these. */
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", cfg->iface);
	if (ioctl(libnet_getfd(c->ln), SIOCGIFMTU, &ifr) == 0) {
		int hdr = c->local.af == 6 ? 60 : 40;
		if (ifr.ifr_mtu - hdr >= RT_MIN_MSS && ifr.ifr_mtu - hdr < c->mss_default)
			c->mss_default = (uint16_t)(ifr.ifr_mtu - hdr);
	}
	if (cfg->mark && setsockopt(libnet_getfd(c->ln), SOL_SOCKET, SO_MARK, &cfg->mark,
	                            sizeof cfg->mark) != 0) {
		errmsg_set(err, errlen, "rawtcp_open: libnet: SO_MARK: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int rawtcp_dump_open(struct rawtcp *c, const char *path, char *err, size_t errlen)
{
	if (c->offline) {
		errmsg_set(err, errlen, "rawtcp_dump_open: %s: no capture in offline mode", path);
		return -1;
	}
	if (c->dumper) {
		errmsg_set(err, errlen, "rawtcp_dump_open: %s: a dump is already open", path);
		return -1;
	}
	c->dumper = pcap_dump_open(c->pcap, path);
	if (!c->dumper) {
		errmsg_set(err, errlen, "rawtcp_dump_open: %s", pcap_geterr(c->pcap));
		return -1;
	}
	return 0;
}

int rawtcp_dump_flush(struct rawtcp *c, char *err, size_t errlen)
{
	if (c->dumper && pcap_dump_flush(c->dumper) != 0) {
		if (!c->st.dump_errno)
			c->st.dump_errno = errno ? errno : EIO;
		errmsg_set(err, errlen, "rawtcp_dump_flush: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Read whatever the kernel has queued for us right now. */
int rt_drain_capture(struct rawtcp *c, uint64_t now, char *err, size_t errlen)
{
	struct frame_ctx fx = { c, now, realtime_us() };
	/* Bounded: a busy wire must not starve timers and the delay queue. */
	for (int i = 0; i < 64; i++) {
		int r = pcap_dispatch(c->pcap, 512, on_frame, (u_char *)&fx);
		if (r < 0) {
			errmsg_set(err, errlen, "rawtcp_run: pcap: %s", pcap_geterr(c->pcap));
			return -1;
		}
		if (r == 0)
			break;
	}
	return 0;
}

/* Read what the early receiver holds: the server's segments, held for
 * rtt/2 less the time since the kernel received them. */
int rt_drain_early(struct rawtcp *c, uint64_t now, char *err, size_t errlen)
{
	uint64_t real = realtime_us();
	/* Bounded as rt_drain_capture(): the rest waits for the next turn. */
	for (int i = 0; i < 4096; i++) {
		struct dec_tcp d;
		size_t wire;
		uint64_t ts;
		long n = earlyrx_read(c->early_fd, c->early_buf, RT_SNAPLEN, &wire, &ts);
		if (n < 0) {
			errmsg_set(err, errlen, "rawtcp_run: %s: early receiver: %s", c->iface, strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		if (dec_packet(c->dlt, c->early_buf, (uint32_t)n, (uint32_t)wire, &d, NULL) != DEC_OK ||
		    d.af != c->local.af || (c->peer_port && !target_frame(c, &d)))
			continue; /* the ring's on_frame() counts it */
		if (!from_peer(c, &d))
			continue;
		if (d.payload_caplen < d.seg_len) {
			c->st.frames_undecoded++;
			continue;
		}
		rt_queue_inbound(c, &d, now, real > ts && ts ? real - ts : 0);
	}
	return 0;
}

void rawtcp_dump_close(struct rawtcp *c)
{
	if (!c || !c->dumper)
		return;
	(void)rt_drain_capture(c, rawtcp_now_us(), NULL, 0);
	/* pcap_dump_close() says nothing of a failed write: flush first */
	errno = 0;
	if ((pcap_dump_flush(c->dumper) != 0 || ferror(pcap_dump_file(c->dumper))) &&
	    !c->st.dump_errno)
		c->st.dump_errno = errno ? errno : EIO;
	pcap_dump_close(c->dumper);
	c->dumper = NULL;
}

/* ---- offline input --------------------------------------------------- */

/* One inbound packet of the offline mode, decoded as link type dlt;
 * name is the API function's, for messages. */
static int input_packet(struct rawtcp *c, int dlt, const char *name, const uint8_t *pkt,
                        size_t len, char *err, size_t errlen)
{
	struct dec_tcp d;
	const char *why = NULL;
	enum dec_result r;
	if (len > UINT32_MAX) {
		errmsg_set(err, errlen, "%s: packet too long", name);
		return -1;
	}
	r = dec_packet(dlt, pkt, (uint32_t)len, (uint32_t)len, &d, &why);
	if (r != DEC_OK) {
		errmsg_set(err, errlen, "%s: %s", name, why ? why : dec_result_name(r));
		return -1;
	}
	if (!lladdr_is(&c->peer, d.af, d.src) || local_index(c, d.af, d.dst) < 0) {
		errmsg_set(err, errlen, "%s: not from peer_addr to local_addr", name);
		return -1;
	}
	if (d.payload_caplen < d.seg_len) {
		errmsg_set(err, errlen, "%s: payload truncated", name);
		return -1;
	}
	rt_queue_inbound(c, &d, rawtcp_now_us(), 0);
	return 0;
}

int rawtcp_input_ipv4(struct rawtcp *c, const uint8_t *pkt, size_t len, char *err, size_t errlen)
{
	return input_packet(c, DLT_IPV4, "rawtcp_input_ipv4", pkt, len, err, errlen);
}

int rawtcp_input_ip(struct rawtcp *c, const uint8_t *pkt, size_t len, char *err, size_t errlen)
{
	return input_packet(c, DLT_RAW, "rawtcp_input_ip", pkt, len, err, errlen);
}
