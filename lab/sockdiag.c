/*
 * sockdiag.c - count TCP sockets per state through NETLINK_SOCK_DIAG
 * (see sockdiag.h).
 */
#include "lab/sockdiag.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lab/netns.h"
#include "lab/errmsg.h"

/* One receive buffer per sampler, sized so a dump of thousands of sockets
 * (about 100 bytes each without extensions) takes few recv() calls. */
#define SOCKDIAG_BUF (64 * 1024)

struct sockdiag {
	int fd;
	uint32_t seq;
	unsigned char *buf;
};

static const char *const state_names[] = {
	[SOCKDIAG_ESTABLISHED] = "ESTABLISHED",
	[SOCKDIAG_SYN_SENT]    = "SYN_SENT",
	[SOCKDIAG_SYN_RECV]    = "SYN_RECV",
	[SOCKDIAG_FIN_WAIT_1]  = "FIN_WAIT_1",
	[SOCKDIAG_FIN_WAIT_2]  = "FIN_WAIT_2",
	[SOCKDIAG_TIME_WAIT]   = "TIME_WAIT",
	[SOCKDIAG_CLOSE]       = "CLOSE",
	[SOCKDIAG_CLOSE_WAIT]  = "CLOSE_WAIT",
	[SOCKDIAG_LAST_ACK]    = "LAST_ACK",
	[SOCKDIAG_LISTEN]      = "LISTEN",
	[SOCKDIAG_CLOSING]     = "CLOSING",
};

const char *sockdiag_state_name(int state)
{
	if (state <= 0 || state >= (int)(sizeof state_names / sizeof state_names[0]))
		return NULL;
	return state_names[state];
}

bool sockdiag_state_reported(int state)
{
	switch (state) {
	case SOCKDIAG_ESTABLISHED:
	case SOCKDIAG_SYN_RECV:
	case SOCKDIAG_FIN_WAIT_1:
	case SOCKDIAG_FIN_WAIT_2:
	case SOCKDIAG_TIME_WAIT:
	case SOCKDIAG_CLOSE_WAIT:
	case SOCKDIAG_LAST_ACK:
	case SOCKDIAG_CLOSING:
		return true;
	default:
		return false;
	}
}

struct sockdiag *sockdiag_open(char *err, size_t errlen)
{
	struct sockdiag *sd = calloc(1, sizeof *sd);

	if (!sd) {
		errmsg_set(err, errlen, "sockdiag: out of memory");
		return NULL;
	}
	sd->buf = malloc(SOCKDIAG_BUF);
	if (!sd->buf) {
		errmsg_set(err, errlen, "sockdiag: out of memory");
		free(sd);
		return NULL;
	}
	sd->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (sd->fd < 0) {
		errmsg_set(err, errlen, "sockdiag: netlink socket: %s", strerror(errno));
		free(sd->buf);
		sd->buf = NULL;
		free(sd);
		return NULL;
	}
	return sd;
}

struct open_arg {
	struct sockdiag *sd;
	char *err;
	size_t errlen;
};

static int open_here(void *p)
{
	struct open_arg *a = p;

	a->sd = sockdiag_open(a->err, a->errlen);
	return a->sd ? 0 : -1;
}

struct sockdiag *sockdiag_open_in(const char *ns, char *err, size_t errlen)
{
	struct open_arg a = { NULL, err, errlen };
	int rc = labnet_run_in(ns, open_here, &a, err, errlen);

	if (rc != 0) {
		sockdiag_close(a.sd);
		return NULL;
	}
	return a.sd;
}

void sockdiag_close(struct sockdiag *sd)
{
	if (!sd)
		return;
	if (sd->fd >= 0)
		close(sd->fd);
	free(sd->buf);
	sd->buf = NULL;
	free(sd);
}

/* The request: header, inet_diag_req_v2, and an optional bytecode filter
 * "local port == port" (INET_DIAG_BC_S_EQ, whose operand rides in the
 * `no` field of a second op). Accept: the program ends exactly at its
 * length; reject: jump 4 bytes past it. */
struct diag_req {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 r;
	struct nlattr bc_attr;
	struct inet_diag_bc_op bc[2];
};

static int send_dump(struct sockdiag *sd, int family, uint32_t states, int port,
                     char *err, size_t errlen)
{
	struct diag_req req;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	size_t len = NLMSG_LENGTH(sizeof req.r);
	ssize_t n;

	memset(&req, 0, sizeof req);
	req.r.sdiag_family = (uint8_t)family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = states;
	req.r.idiag_ext = 0;   /* no extensions: counting needs only the state */
	if (port > 0) {
		req.bc_attr.nla_type = INET_DIAG_REQ_BYTECODE;
		req.bc_attr.nla_len = (uint16_t)(NLA_HDRLEN + sizeof req.bc);
		req.bc[0].code = INET_DIAG_BC_S_EQ;
		req.bc[0].yes = sizeof req.bc;                 /* -> end: accept */
		req.bc[0].no = (uint16_t)(sizeof req.bc + 4);  /* past end: reject */
		req.bc[1].no = (uint16_t)port;
		len = NLMSG_LENGTH(sizeof req.r) + NLA_HDRLEN + sizeof req.bc;
	}
	req.nlh.nlmsg_len = (uint32_t)len;
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nlh.nlmsg_seq = ++sd->seq;
	do
		n = sendto(sd->fd, &req, len, 0, (struct sockaddr *)&kernel, sizeof kernel);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len) {
		errmsg_set(err, errlen, "sockdiag: send: %s", n < 0 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}

/*
 * Read the dump for the last request, adding each socket's state into
 * counts (may be NULL) and counting them. Returns the count, or -1.
 * Messages of older sequence numbers (a dump abandoned by an earlier error)
 * are skipped.
 */
struct each {
	uint32_t states;
	sockdiag_sock_fn fn;
	void *arg;
};

static void report_sock(const struct inet_diag_msg *m, const struct each *e)
{
	struct sockdiag_sock s;
	if (!e || !e->fn || m->idiag_state >= 32 || !(e->states & (1u << m->idiag_state)))
		return;
	memset(&s, 0, sizeof s);
	s.family = m->idiag_family;
	s.state = m->idiag_state;
	memcpy(s.local_addr, m->id.idiag_src, 16);
	memcpy(s.remote_addr, m->id.idiag_dst, 16);
	s.local_port = ntohs(m->id.idiag_sport);
	s.remote_port = ntohs(m->id.idiag_dport);
	e->fn(&s, e->arg);
}

static int read_dump(struct sockdiag *sd, unsigned *counts, const struct each *each,
                     int *nl_errno, char *err, size_t errlen)
{
	int total = 0;

	*nl_errno = 0;
	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = { sd->buf, SOCKDIAG_BUF };
		struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof from,
		                      .msg_iov = &iov, .msg_iovlen = 1 };
		const struct nlmsghdr *h;
		ssize_t n;
		size_t left;

		do
			n = recvmsg(sd->fd, &msg, 0);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			errmsg_set(err, errlen, "sockdiag: receive: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			errmsg_set(err, errlen, "sockdiag: receive: netlink socket closed");
			return -1;
		}
		if (msg.msg_flags & MSG_TRUNC) {
			errmsg_set(err, errlen, "sockdiag: receive: message larger than %d bytes", SOCKDIAG_BUF);
			return -1;
		}
		left = (size_t)n;
		for (h = (const struct nlmsghdr *)sd->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != sd->seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return total;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e)) {
					errmsg_set(err, errlen, "sockdiag: truncated netlink error message");
					return -1;
				}
				*nl_errno = -e->error;
				errmsg_set(err, errlen, "sockdiag: dump: %s", strerror(-e->error));
				return -1;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
				continue;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
				errmsg_set(err, errlen, "sockdiag: truncated socket record (%u bytes)", h->nlmsg_len);
				return -1;
			}
			{
				const struct inet_diag_msg *m = NLMSG_DATA(h);

				if (counts && m->idiag_state < SOCKDIAG_MAX_STATES)
					counts[m->idiag_state]++;
				report_sock(m, each);
				total++;
			}
		}
		if (left != 0) {
			errmsg_set(err, errlen, "sockdiag: malformed netlink message (%zu stray bytes)", left);
			return -1;
		}
	}
}

/* Dump AF_INET and AF_INET6 (only: one of them; 0 both). */
static int dump_families(struct sockdiag *sd, int only, unsigned *counts, uint32_t states,
                         int port, const struct each *each, char *err, size_t errlen)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int total = 0;

	if (port < 0 || port > 65535) {
		errmsg_set(err, errlen, "sockdiag: port %d out of range", port);
		return -1;
	}
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
		int n;

		int nl_errno;

		if (only && families[i] != only)
			continue;
		if (send_dump(sd, families[i], states, port, err, errlen) != 0)
			return -1;
		n = read_dump(sd, counts, each, &nl_errno, err, errlen);
		/* A kernel without IPv6 has no AF_INET6 handler: no sockets. */
		if (n < 0 && families[i] == AF_INET6 && (nl_errno == ENOENT || nl_errno == EAFNOSUPPORT))
			n = 0;
		if (n < 0)
			return -1;
		total += n;
	}
	return total;
}

static int dump_both(struct sockdiag *sd, unsigned *counts, uint32_t states, int port,
                     const struct each *each, char *err, size_t errlen)
{
	return dump_families(sd, 0, counts, states, port, each, err, errlen);
}

int sockdiag_sample(struct sockdiag *sd, unsigned counts[SOCKDIAG_MAX_STATES],
                    int port, char *err, size_t errlen)
{
	memset(counts, 0, SOCKDIAG_MAX_STATES * sizeof counts[0]);
	return dump_both(sd, counts, ~0u, port, NULL, err, errlen);
}

int sockdiag_sample_each(struct sockdiag *sd, unsigned counts[SOCKDIAG_MAX_STATES],
                         int port, uint32_t states, sockdiag_sock_fn fn, void *arg,
                         char *err, size_t errlen)
{
	struct each e = { states, fn, arg };
	memset(counts, 0, SOCKDIAG_MAX_STATES * sizeof counts[0]);
	return dump_both(sd, counts, ~0u, port, &e, err, errlen);
}

int sockdiag_listening(struct sockdiag *sd, int port, char *err, size_t errlen)
{
	return sockdiag_listening_family(sd, port, 0, err, errlen);
}

int sockdiag_listening_family(struct sockdiag *sd, int port, int family, char *err, size_t errlen)
{
	int n;

	if (family != 0 && family != AF_INET && family != AF_INET6) {
		errmsg_set(err, errlen, "sockdiag: family %d is neither AF_INET nor AF_INET6", family);
		return -1;
	}
	n = dump_families(sd, family, NULL, 1u << SOCKDIAG_LISTEN, port, NULL, err, errlen);
	return n < 0 ? -1 : n > 0;
}
