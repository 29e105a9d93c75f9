/*
 * kdelay.c - the kernel clients' delay line (see kdelay.h).
 */
#include "lab/kdelay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_packet.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define PKT_MAX       65600
#define QUEUE_BYTES   (64u << 20)   /* held at most, each way */
#define BATCH         256           /* packets read per fd per pump */

struct kpkt {
	struct kpkt *next;
	uint64_t due;
	size_t len;
	uint8_t data[];
};

struct fifo {
	struct kpkt *head, *tail;
	size_t bytes;
};

struct kdelay_stats {
	uint64_t out, in;          /* packets released each way */
	uint64_t dropped;          /* queue full or injection failed */
};

struct kdelay {
	int tun, pkt, raw;
	struct in_addr addr, server;
	uint32_t hold_us;
	struct fifo out, in;
	struct kdelay_stats st;
	uint8_t *buf;
};

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

/* Redo the IPv4 header and TCP checksums of a packet the veth handed
 * over (possibly CHECKSUM_PARTIAL). Returns false for anything that is
 * not a whole TCP/IPv4 packet. */
static bool fix_checksums(uint8_t *p, size_t len)
{
	if (len < 20 || (p[0] >> 4) != 4)
		return false;
	size_t ihl = (size_t)(p[0] & 0x0f) * 4;
	size_t tot = (size_t)p[2] << 8 | p[3];
	if (ihl < 20 || tot < ihl + 20 || tot > len || p[9] != IPPROTO_TCP)
		return false;
	p[10] = p[11] = 0;
	uint16_t ic = csum_fold(csum_add(0, p, ihl));
	p[10] = (uint8_t)(ic >> 8);
	p[11] = (uint8_t)ic;
	uint8_t *t = p + ihl;
	size_t tl = tot - ihl;
	t[16] = t[17] = 0;
	uint32_t s = csum_add(0, p + 12, 8);      /* source, destination */
	s += IPPROTO_TCP + (uint32_t)tl;
	uint16_t tc = csum_fold(csum_add(s, t, tl));
	t[16] = (uint8_t)(tc >> 8);
	t[17] = (uint8_t)tc;
	return true;
}

static void push(struct kdelay *d, struct fifo *q, const uint8_t *p, size_t n, uint64_t due)
{
	if (q->bytes + n > QUEUE_BYTES) {
		d->st.dropped++;
		return;
	}
	struct kpkt *k = malloc(sizeof *k + n);
	if (!k) {
		d->st.dropped++;
		return;
	}
	k->next = NULL;
	k->due = due;
	k->len = n;
	memcpy(k->data, p, n);
	if (q->tail)
		q->tail->next = k;
	else
		q->head = k;
	q->tail = k;
	q->bytes += n;
}

static struct kpkt *pop_due(struct fifo *q, uint64_t now)
{
	struct kpkt *k = q->head;
	if (!k || k->due > now)
		return NULL;
	q->head = k->next;
	if (!q->head)
		q->tail = NULL;
	q->bytes -= k->len;
	return k;
}

static void fifo_free(struct fifo *q)
{
	while (q->head) {
		struct kpkt *k = q->head;
		q->head = k->next;
		free(k);
	}
	q->tail = NULL;
	q->bytes = 0;
}

/* Run `ip ARGS...` (or nft) in ns; err gets the failure. */
static int run_in(const char *ns, char *const argv[], char *err, size_t errlen)
{
	char msg[512];
	if (labnet_exec(ns, argv, msg, sizeof msg) != LABNET_OK) {
		snprintf(err, errlen, "kdelay: %s", msg);
		return -1;
	}
	return 0;
}

/* The parts that must be opened inside the client namespace. */
struct opener {
	const struct labnet *ln;
	struct kdelay *d;
	char tun_name[IFNAMSIZ];
	char err[256];
};

static int open_inside(void *arg)
{
	struct opener *o = arg;
	struct kdelay *d = o->d;
	d->tun = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (d->tun < 0) {
		snprintf(o->err, sizeof o->err, "kdelay: /dev/net/tun: %s", strerror(errno));
		return -1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", o->tun_name);
	if (ioctl(d->tun, TUNSETIFF, &ifr) < 0) {
		snprintf(o->err, sizeof o->err, "kdelay: TUNSETIFF %s: %s", o->tun_name, strerror(errno));
		return -1;
	}
	d->pkt = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (d->pkt < 0) {
		snprintf(o->err, sizeof o->err, "kdelay: AF_PACKET: %s", strerror(errno));
		return -1;
	}
	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_IP);
	sll.sll_ifindex = o->ln->client_ifindex;
	/* only the server's packets to the delayed address (IPv4
	 * destination at offset 16 of a SOCK_DGRAM packet) */
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 16),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(d->addr.s_addr), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = sizeof code / sizeof code[0], .filter = code };
	int one = 1;
	if (setsockopt(d->pkt, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0 ||
	    bind(d->pkt, (struct sockaddr *)&sll, sizeof sll) < 0 ||
	    setsockopt(d->pkt, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0) {
		snprintf(o->err, sizeof o->err, "kdelay: AF_PACKET on %s: %s", o->ln->client_if,
		         strerror(errno));
		return -1;
	}
	d->raw = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
	int mark = KDELAY_INJECT_MARK;
	if (d->raw < 0 || setsockopt(d->raw, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) {
		snprintf(o->err, sizeof o->err, "kdelay: raw socket: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct kdelay *kdelay_open(const struct labnet *ln, char *err, size_t errlen)
{
	struct kdelay *d = calloc(1, sizeof *d);
	if (!d || !(d->buf = malloc(PKT_MAX))) {
		snprintf(err, errlen, "kdelay: out of memory");
		free(d);
		return NULL;
	}
	d->tun = d->pkt = d->raw = -1;
	d->server = ln->server_addr;
	d->addr.s_addr = htonl((ntohl(ln->server_addr.s_addr) & 0xffffff00u) | 4u);

	struct opener o = { .ln = ln, .d = d };
	snprintf(o.tun_name, sizeof o.tun_name, "ll%dt", (int)ln->owner);
	char lerr[256];
	if (labnet_run_in(ln->client_ns, open_inside, &o, lerr, sizeof lerr) != 0) {
		snprintf(err, errlen, "%s", o.err[0] ? o.err : lerr);
		goto fail;
	}
	char a4[INET_ADDRSTRLEN + 4], sv[INET_ADDRSTRLEN], mac[18], mark[16], imark[16];
	char a3[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &ln->raw_addr, a3, sizeof a3);
	char a4only[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &d->addr, a4only, sizeof a4only);
	snprintf(a4, sizeof a4, "%.16s/32", a4only);
	inet_ntop(AF_INET, &d->server, sv, sizeof sv);
	snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", ln->client_mac[0],
	         ln->client_mac[1], ln->client_mac[2], ln->client_mac[3], ln->client_mac[4],
	         ln->client_mac[5]);
	snprintf(mark, sizeof mark, "%#x", KDELAY_MARK);
	snprintf(imark, sizeof imark, "%#x", KDELAY_INJECT_MARK);
	char iif[40];
	snprintf(iif, sizeof iif, "\"%s\"", ln->client_if);
	char *const steps[][13] = {
		{ "ip", "link", "set", o.tun_name, "up", NULL },
		{ "ip", "addr", "add", a4, "dev", o.tun_name, NULL },
		/* the raw client and the injector keep the veth; every other
		 * packet of the client namespace to the server (kernel
		 * clients, programs) takes the TUN device */
		{ "ip", "rule", "add", "from", a3, "lookup", "main", "priority", "80", NULL },
		{ "ip", "rule", "add", "fwmark", imark, "lookup", "main", "priority", "81", NULL },
		{ "ip", "rule", "add", "fwmark", mark, "table", KDELAY_TABLE, "priority", "82", NULL },
		{ "ip", "rule", "add", "to", sv, "table", KDELAY_TABLE, "priority", "83", NULL },
		{ "ip", "route", "add", sv, "dev", o.tun_name, "src", a4only, "table", KDELAY_TABLE, NULL },
		{ "nft", "add", "table", "ip", "lldelay", NULL },
		{ "nft", "add", "chain", "ip", "lldelay", "pre",
		  "{ type filter hook prerouting priority -300 ; }", NULL },
		{ "nft", "add", "rule", "ip", "lldelay", "pre", "iifname", iif, "ip", "daddr",
		  a4only, "drop" },
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (run_in(ln->client_ns, steps[i], err, errlen) < 0)
			goto fail;
	char rp_tun[96];
	snprintf(rp_tun, sizeof rp_tun, "/proc/sys/net/ipv4/conf/%s/rp_filter", o.tun_name);
	char msg[256];
	if (labnet_sysctl(ln->client_ns, "/proc/sys/net/ipv4/conf/all/rp_filter", "0", NULL, 0,
	                  msg, sizeof msg) != LABNET_OK ||
	    labnet_sysctl(ln->client_ns, rp_tun, "0", NULL, 0, msg, sizeof msg) != LABNET_OK) {
		snprintf(err, errlen, "kdelay: %s", msg);
		goto fail;
	}
	char *const neigh[] = { "ip", "neigh", "replace", a4only, "lladdr", mac, "dev",
	                        (char *)ln->server_if, "nud", "permanent", NULL };
	if (run_in(ln->server_ns, neigh, err, errlen) < 0)
		goto fail;
	return d;
fail:
	kdelay_free(d);
	return NULL;
}

struct in_addr kdelay_addr(const struct kdelay *d)
{
	return d->addr;
}

void kdelay_set(struct kdelay *d, uint32_t one_way_us)
{
	d->hold_us = one_way_us;
}

int kdelay_pump(struct kdelay *d, uint64_t now, char *err, size_t errlen)
{
	/* the client kernel's packets, out of the TUN device */
	for (int i = 0; i < BATCH; i++) {
		ssize_t n = read(d->tun, d->buf, PKT_MAX);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			snprintf(err, errlen, "kdelay: read tun: %s", strerror(errno));
			return -1;
		}
		if (n >= 20 && (d->buf[0] >> 4) == 4)
			push(d, &d->out, d->buf, (size_t)n, now + d->hold_us);
	}
	/* the server's packets to the delayed address, off the veth */
	for (int i = 0; i < BATCH; i++) {
		ssize_t n = recv(d->pkt, d->buf, PKT_MAX, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			snprintf(err, errlen, "kdelay: read veth: %s", strerror(errno));
			return -1;
		}
		if (n >= 20 && (d->buf[0] >> 4) == 4 && !memcmp(d->buf + 16, &d->addr, 4) &&
		    !memcmp(d->buf + 12, &d->server, 4))
			push(d, &d->in, d->buf, (size_t)n, now + d->hold_us);
	}
	struct kpkt *k;
	while ((k = pop_due(&d->out, now))) {
		struct sockaddr_in to = { .sin_family = AF_INET };
		memcpy(&to.sin_addr, k->data + 16, 4);
		if (sendto(d->raw, k->data, k->len, 0, (struct sockaddr *)&to, sizeof to) < 0)
			d->st.dropped++;
		else
			d->st.out++;
		free(k);
	}
	while ((k = pop_due(&d->in, now))) {
		if (!fix_checksums(k->data, k->len) || write(d->tun, k->data, k->len) < 0)
			d->st.dropped++;
		else
			d->st.in++;
		free(k);
	}
	return 0;
}

uint64_t kdelay_dropped(const struct kdelay *d)
{
	return d->st.dropped;
}

void kdelay_free(struct kdelay *d)
{
	if (!d)
		return;
	if (d->tun >= 0)
		close(d->tun);
	if (d->pkt >= 0)
		close(d->pkt);
	if (d->raw >= 0)
		close(d->raw);
	fifo_free(&d->out);
	fifo_free(&d->in);
	free(d->buf);
	free(d);
}
