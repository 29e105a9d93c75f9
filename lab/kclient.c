/*
 * kclient.c - one kernel-socket client connection (see kclient.h): the
 * syscalls an application makes, in the order it makes them, and every
 * error it gets back.
 */
#include "lab/kclient.h"

#include <errno.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF     65536
#define READ_BUDGET  (1u << 20)   /* bytes per pump, so one busy connection
                                     cannot starve the loop */
#define PATTERN      "abcdefghijklmnopqrstuvwxyz"
#define PATTERN_LEN  26

struct kc_conn {
	int fd;
	struct kc_opts o;
	struct kc_info i;
	bool sends_done;
	bool want_shut, want_close;
	bool written_noted;           /* KC_EV_WRITTEN reported for the
	                                 current batch of writes */
	/* the application's write queue */
	uint8_t *wq;
	size_t wq_len, wq_off;
	/* the body write loop */
	bool body;
	uint64_t body_left, body_off, body_rate, body_next_us;
	uint32_t body_chunk;
};

static uint64_t since_t0(const struct kc_conn *k, uint64_t now_us)
{
	return now_us > k->o.t0_us ? now_us - k->o.t0_us : 0;
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void record(struct kc_conn *k, const char *call, int e)
{
	if (e == ECONNRESET)
		k->i.reset = true;
	if (k->i.n_errors >= KC_MAX_ERRORS) {
		k->i.errors_dropped++;
		return;
	}
	struct kc_error *x = &k->i.err[k->i.n_errors++];
	snprintf(x->call, sizeof x->call, "%s", call);
	x->errnum = e;
	x->t_us = since_t0(k, mono_us());
}

static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return 0;
	return ti.tcpi_state;
}

static bool writes_pending(const struct kc_conn *k)
{
	return !k->i.write_failed && (k->wq_off < k->wq_len || k->body);
}

static void do_close(struct kc_conn *k, bool abort_it)
{
	if (k->fd < 0)
		return;
	if (abort_it) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };
		if (setsockopt(k->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) < 0)
			record(k, "setsockopt", errno);
		k->i.aborted = true;
	}
	if (close(k->fd) < 0)
		record(k, "close", errno);
	k->fd = -1;
	k->i.fd_open = false;
	k->wq_len = k->wq_off = 0;
	k->body = false;
}

struct kc_conn *kc_open(const struct kc_opts *o, char *err, size_t errlen)
{
	struct kc_conn *k = calloc(1, sizeof *k);
	if (!k) {
		snprintf(err, errlen, "kclient: out of memory");
		return NULL;
	}
	k->o = *o;
	k->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (k->fd < 0) {
		snprintf(err, errlen, "kclient: socket: %s", strerror(errno));
		free(k);
		return NULL;
	}
	k->i.fd_open = true;
	if (o->has_rcvbuf) {
		int v = (int)o->rcvbuf;
		if (setsockopt(k->fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) < 0)
			record(k, "setsockopt", errno);
	}
	if (o->mark) {
		int m = (int)o->mark;
		if (setsockopt(k->fd, SOL_SOCKET, SO_MARK, &m, sizeof m) < 0)
			record(k, "setsockopt", errno);
	}
	if (o->has_bind) {
		struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr = o->bind_addr };
		if (bind(k->fd, (struct sockaddr *)&me, sizeof me) < 0)
			record(k, "bind", errno);
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(o->port),
	                          .sin_addr = o->server };
	if (connect(k->fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
		k->i.connected = true;
	} else if (errno != EINPROGRESS) {
		record(k, "connect", errno);
		k->i.connect_failed = true;
	}
	struct sockaddr_in me;
	socklen_t ml = sizeof me;
	if (getsockname(k->fd, (struct sockaddr *)&me, &ml) == 0)
		k->i.local_port = ntohs(me.sin_port);
	return k;
}

int kc_fd(const struct kc_conn *k)
{
	return k->fd;
}

static bool may_read(const struct kc_conn *k)
{
	if (k->fd < 0 || !k->i.connected || k->i.eof || k->i.read_failed)
		return false;
	switch (k->o.read) {
	case KC_READ_CONCURRENTLY:
		return true;
	case KC_READ_AFTER_SEND:
		return k->i.write_failed || (k->sends_done && !writes_pending(k));
	case KC_READ_NEVER:
		return false;
	}
	return false;
}

short kc_poll_events(const struct kc_conn *k)
{
	if (k->fd < 0 || k->i.connect_failed)
		return 0;
	short ev = 0;
	if (!k->i.connected)
		return POLLOUT;
	if (may_read(k))
		ev |= POLLIN;
	if (writes_pending(k))
		ev |= POLLOUT;
	return ev;
}

void kc_set_read(struct kc_conn *k, enum kc_read r)
{
	k->o.read = r;
}

void kc_set_rcvbuf(struct kc_conn *k, uint32_t bytes)
{
	int v = (int)bytes;
	if (k->fd >= 0 && setsockopt(k->fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) < 0)
		record(k, "setsockopt", errno);
}

void kc_sends_done(struct kc_conn *k)
{
	k->sends_done = true;
}

static const char *cannot_write(const struct kc_conn *k)
{
	if (k->fd < 0)
		return "the application closed the socket";
	if (k->i.connect_failed)
		return "connect failed";
	if (k->i.write_failed)
		return "an earlier write failed";
	if (k->want_shut || k->i.shut_wr)
		return "the client already shut down its sending side";
	if (k->want_close)
		return "the application is closing the socket";
	return NULL;
}

int kc_write(struct kc_conn *k, const uint8_t *p, size_t n, const char **why)
{
	*why = cannot_write(k);
	if (*why)
		return -1;
	if (k->wq_off > 0 && k->wq_off == k->wq_len)
		k->wq_off = k->wq_len = 0;
	if (k->wq_len - k->wq_off + n > KC_WQ_CAP) {
		*why = "the application's write queue is full";
		return -1;
	}
	if (k->wq_off > 0) {
		memmove(k->wq, k->wq + k->wq_off, k->wq_len - k->wq_off);
		k->wq_len -= k->wq_off;
		k->wq_off = 0;
	}
	uint8_t *nv = realloc(k->wq, k->wq_len + n ? k->wq_len + n : 1);
	if (!nv) {
		*why = "out of memory";
		return -1;
	}
	k->wq = nv;
	memcpy(k->wq + k->wq_len, p, n);
	k->wq_len += n;
	k->written_noted = false;
	return 0;
}

int kc_body(struct kc_conn *k, uint64_t size, uint64_t rate, uint32_t chunk,
            const char **why)
{
	*why = cannot_write(k);
	if (!*why && k->body)
		*why = "a body is already being written";
	if (*why)
		return -1;
	k->body = size > 0;
	k->body_left = size;
	k->body_off = 0;
	k->body_rate = rate;
	k->body_chunk = chunk ? chunk : KC_DEFAULT_CHUNK;
	k->body_next_us = 0;
	k->written_noted = false;
	return 0;
}

void kc_shutdown(struct kc_conn *k)
{
	k->want_shut = true;
}

void kc_close(struct kc_conn *k)
{
	k->want_close = true;
}

void kc_abort(struct kc_conn *k)
{
	do_close(k, true);
}

/* One send(): 1 written (maybe partly), 0 would block, -1 failed. */
static int one_send(struct kc_conn *k, const uint8_t *p, size_t n, size_t *done)
{
	ssize_t r = send(k->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		record(k, "send", errno);
		k->i.write_failed = true;
		k->wq_len = k->wq_off = 0;
		k->body = false;
		return -1;
	}
	*done = (size_t)r;
	k->i.bytes_written += (uint64_t)r;
	return 1;
}

static unsigned do_writes(struct kc_conn *k, uint64_t now_us)
{
	size_t done;
	while (k->wq_off < k->wq_len) {
		int r = one_send(k, k->wq + k->wq_off, k->wq_len - k->wq_off, &done);
		if (r < 0)
			return KC_EV_ERROR;
		if (r == 0 || done == 0)
			return 0;
		k->wq_off += done;
	}
	uint8_t buf[KC_DEFAULT_CHUNK > 65536 ? KC_DEFAULT_CHUNK : 65536];
	while (k->body) {
		if (k->body_rate && k->body_next_us > now_us)
			return 0;
		size_t n = k->body_chunk < sizeof buf ? k->body_chunk : sizeof buf;
		if (n > k->body_left)
			n = (size_t)k->body_left;
		for (size_t j = 0; j < n; j++)
			buf[j] = (uint8_t)PATTERN[(k->body_off + j) % PATTERN_LEN];
		int r = one_send(k, buf, n, &done);
		if (r < 0)
			return KC_EV_ERROR;
		if (r == 0 || done == 0)
			return 0;
		k->body_off += done;
		k->body_left -= done;
		if (!k->body_left)
			k->body = false;
		if (k->body_rate) {
			uint64_t step = (uint64_t)done * 1000000u / k->body_rate;
			k->body_next_us = (k->body_next_us ? k->body_next_us : now_us) + step;
		}
	}
	return 0;
}

static unsigned do_reads(struct kc_conn *k)
{
	unsigned ev = 0;
	uint8_t buf[READ_BUF];
	size_t budget = READ_BUDGET;
	while (budget && may_read(k)) {
		ssize_t r = recv(k->fd, buf, sizeof buf, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			record(k, "recv", errno);
			k->i.read_failed = true;
			ev |= KC_EV_ERROR;
			break;
		}
		if (r == 0) {
			k->i.eof = true;
			if (k->o.on_data)
				k->o.on_data(k->o.arg, buf, 0);
			ev |= KC_EV_EOF;
			break;
		}
		k->i.bytes_read += (uint64_t)r;
		budget = (size_t)r >= budget ? 0 : budget - (size_t)r;
		if (k->o.on_data)
			k->o.on_data(k->o.arg, buf, (size_t)r);
		ev |= KC_EV_DATA;
	}
	return ev;
}

unsigned kc_pump(struct kc_conn *k, short revents, uint64_t now_us)
{
	unsigned ev = 0;
	if (k->fd < 0)
		return 0;
	if (!k->i.connected) {
		if (k->i.connect_failed || !(revents & (POLLOUT | POLLERR | POLLHUP)))
			return 0;
		int e = 0;
		socklen_t el = sizeof e;
		if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
			e = errno;
		if (e) {
			record(k, "connect", e);
			k->i.connect_failed = true;
			return KC_EV_ERROR;
		}
		k->i.connected = true;
		ev |= KC_EV_CONNECTED;
	}
	/* a concurrent reader first: what arrived before this moment is read
	 * before the next write can fail */
	if (k->o.read == KC_READ_CONCURRENTLY)
		ev |= do_reads(k);
	bool had = writes_pending(k);
	ev |= do_writes(k, now_us);
	if ((had || !k->written_noted) && !writes_pending(k) && !k->i.write_failed) {
		k->written_noted = true;
		ev |= KC_EV_WRITTEN;
	}
	if (k->o.read != KC_READ_CONCURRENTLY)
		ev |= do_reads(k);
	if (k->want_shut && !k->i.shut_wr && !writes_pending(k) && k->fd >= 0) {
		k->i.shut_wr = true;
		if (shutdown(k->fd, SHUT_WR) < 0) {
			record(k, "shutdown", errno);
			ev |= KC_EV_ERROR;
		}
	}
	if (k->want_close && !writes_pending(k) && k->fd >= 0) {
		do_close(k, false);
		ev |= KC_EV_CLOSED;
	}
	return ev;
}

uint64_t kc_next_due(const struct kc_conn *k)
{
	return k->body && k->body_rate ? k->body_next_us : 0;
}

void kc_info(const struct kc_conn *k, struct kc_info *out)
{
	*out = k->i;
	out->writes_pending = writes_pending(k);
	out->body_active = k->body && !k->i.write_failed;
	out->tcp_state = k->fd >= 0 ? tcp_state(k->fd) : 0;
	out->unsent = out->unacked = 0;
	if (k->fd >= 0) {
		int v;
		if (ioctl(k->fd, SIOCOUTQNSD, &v) == 0 && v > 0)
			out->unsent = (uint64_t)v;
		if (ioctl(k->fd, SIOCOUTQ, &v) == 0 && v > 0)
			out->unacked = (uint64_t)v;
	}
}

const char *kc_tcp_state_name(int st)
{
	switch (st) {
	case TCP_ESTABLISHED: return "ESTABLISHED";
	case TCP_SYN_SENT:    return "SYN_SENT";
	case TCP_SYN_RECV:    return "SYN_RECV";
	case TCP_FIN_WAIT1:   return "FIN_WAIT_1";
	case TCP_FIN_WAIT2:   return "FIN_WAIT_2";
	case TCP_TIME_WAIT:   return "TIME_WAIT";
	case TCP_CLOSE_WAIT:  return "CLOSE_WAIT";
	case TCP_LAST_ACK:    return "LAST_ACK";
	case TCP_LISTEN:      return "LISTEN";
	case TCP_CLOSING:     return "CLOSING";
	default:              return "CLOSED";
	}
}

void kc_free(struct kc_conn *k, bool *rst)
{
	if (rst)
		*rst = false;
	if (!k)
		return;
	if (k->fd >= 0) {
		int st = tcp_state(k->fd);
		if (rst)
			*rst = st != 0 && st != TCP_CLOSE && st != TCP_TIME_WAIT &&
			       st != TCP_SYN_SENT;
		do_close(k, true);
	}
	free(k->wq);
	free(k);
}
