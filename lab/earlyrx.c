/*
 * earlyrx.c - the raw client's early receiver (see earlyrx.h).
 * packet(7): a SOCK_RAW packet socket bound to one interface; the filter
 * goes on before the bind so that no frame slips in unfiltered.
 */
#include "lab/earlyrx.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lab/errmsg.h"

int earlyrx_open(const char *iface, int dlt, const struct bpf_program *prog,
                 uint32_t bufbytes, char *err, size_t errlen)
{
	struct sock_fprog fp;
	struct sockaddr_ll sll;
	unsigned idx;
	int one = 1, fd, sz;

	if (dlt != DLT_EN10MB && dlt != DLT_RAW) {
		errmsg_set(err, errlen, "earlyrx: %s: link type %d is not served", iface, dlt);
		return -1;
	}
	idx = if_nametoindex(iface);
	if (!idx) {
		errmsg_set(err, errlen, "earlyrx: %s: %s", iface, strerror(errno));
		return -1;
	}
	/* Protocol 0: nothing is delivered until the bind below. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		errmsg_set(err, errlen, "earlyrx: socket: %s", strerror(errno));
		return -1;
	}
	/* struct bpf_insn and struct sock_filter have one layout (libpcap
	 * hands the same program to the kernel). */
	fp.len = (unsigned short)prog->bf_len;
	fp.filter = (struct sock_filter *)(void *)prog->bf_insns;
	sz = bufbytes > (uint32_t)INT32_MAX ? INT32_MAX : (int)bufbytes;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof one) != 0 ||
	    (sz > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) != 0 &&
	     setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz) != 0)) {
		errmsg_set(err, errlen, "earlyrx: %s: socket options: %s", iface, strerror(errno));
		close(fd);
		return -1;
	}
	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)idx;
	if (bind(fd, (struct sockaddr *)&sll, sizeof sll) != 0) {
		errmsg_set(err, errlen, "earlyrx: bind to %s: %s", iface, strerror(errno));
		close(fd);
		return -1;
	}
	(void)earlyrx_drops(fd); /* start counting now */
	return fd;
}

long earlyrx_read(int fd, uint8_t *buf, size_t cap, size_t *wire, uint64_t *ts_us)
{
	for (;;) {
		struct sockaddr_ll from;
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct timeval))];
		} ctl;
		struct iovec iov = { buf, cap };
		struct msghdr m;
		struct cmsghdr *cm;
		ssize_t n;

		memset(&m, 0, sizeof m);
		m.msg_name = &from;
		m.msg_namelen = sizeof from;
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = ctl.b;
		m.msg_controllen = sizeof ctl.b;
		n = recvmsg(fd, &m, MSG_TRUNC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		*ts_us = 0;
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMP &&
			    cm->cmsg_len >= CMSG_LEN(sizeof(struct timeval))) {
				struct timeval tv;
				memcpy(&tv, CMSG_DATA(cm), sizeof tv);
				*ts_us = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
			}
		}
		*wire = (size_t)n;
		return (long)((size_t)n < cap ? (size_t)n : cap);
	}
}

uint64_t earlyrx_drops(int fd)
{
	struct tpacket_stats st;
	socklen_t len = sizeof st;
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0)
		return 0;
	return st.tp_drops;
}
