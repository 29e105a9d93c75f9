/*
 * test_kclient.c - the kernel-socket client (lab/kclient.h) against real
 * Linux TCP on loopback: each scenario step's syscall, the three read
 * policies, and the errors an application gets, with their errno, as
 * Linux hands them out (no root needed: 127.0.0.1 in the test's own
 * namespace).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lab/kclient.h"

static const char RESP[] = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\n\r\nnope\n";

struct sink {
	uint8_t buf[1 << 16];
	size_t len;
	int eofs;
};

static void on_data(void *arg, const uint8_t *p, size_t n)
{
	struct sink *s = arg;
	if (!n) {
		s->eofs++;
		return;
	}
	if (s->len + n <= sizeof s->buf) {
		memcpy(s->buf + s->len, p, n);
		s->len += n;
	}
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A listener on 127.0.0.1, any port. */
static int listener(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(fd, 8), 0);
	socklen_t l = sizeof sa;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &l), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static struct kc_conn *open_to(uint16_t port, enum kc_read r, struct sink *s)
{
	struct kc_opts o;
	memset(&o, 0, sizeof o);
	o.server.s_addr = htonl(INADDR_LOOPBACK);
	o.port = port;
	o.read = r;
	o.t0_us = now_us();
	o.on_data = on_data;
	o.arg = s;
	char err[200];
	struct kc_conn *k = kc_open(&o, err, sizeof err);
	if (!k)
		fail_msg("%s", err);
	return k;
}

/* Pump the application for up to ms milliseconds (polling its socket),
 * until done(k) holds. */
static void run_until(struct kc_conn *k, int ms, bool (*done)(struct kc_conn *))
{
	uint64_t end = now_us() + (uint64_t)ms * 1000u;
	while (now_us() < end) {
		struct pollfd p = { .fd = kc_fd(k), .events = kc_poll_events(k) };
		if (p.fd >= 0)
			poll(&p, 1, 2);
		kc_pump(k, p.revents, now_us());
		if (done && done(k))
			return;
	}
}

static bool connected(struct kc_conn *k)
{
	struct kc_info i;
	kc_info(k, &i);
	return i.connected || i.connect_failed;
}

static bool eof_or_error(struct kc_conn *k)
{
	struct kc_info i;
	kc_info(k, &i);
	return i.eof || i.read_failed;
}

static bool written(struct kc_conn *k)
{
	struct kc_info i;
	kc_info(k, &i);
	return !i.writes_pending;
}

static int accept_one(int lfd)
{
	int s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(s >= 0);
	return s;
}

static void send_all(int fd, const void *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void rst_close(int fd)
{
	struct linger l = { 1, 0 };
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l), 0);
	close(fd);
}

/* connect, send (a request), read concurrently: the response and EOF,
 * no error. */
static void test_request_response(void **state)
{
	(void)state;
	uint16_t port;
	int lfd = listener(&port);
	struct sink s = { .len = 0 };
	struct kc_conn *k = open_to(port, KC_READ_CONCURRENTLY, &s);
	run_until(k, 2000, connected);
	int sfd = accept_one(lfd);
	const char *req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	const char *why;
	assert_int_equal(kc_write(k, (const uint8_t *)req, strlen(req), &why), 0);
	run_until(k, 200, written);
	char got[256];
	ssize_t n = recv(sfd, got, sizeof got, 0);
	assert_int_equal(n, (ssize_t)strlen(req));
	send_all(sfd, RESP, strlen(RESP));
	close(sfd);
	run_until(k, 2000, eof_or_error);
	struct kc_info i;
	kc_info(k, &i);
	assert_true(i.connected);
	assert_true(i.eof);
	assert_int_equal(i.n_errors, 0);
	assert_int_equal(i.bytes_written, strlen(req));
	assert_int_equal(i.bytes_read, strlen(RESP));
	assert_int_equal(s.len, strlen(RESP));
	assert_memory_equal(s.buf, RESP, strlen(RESP));
	assert_int_equal(s.eofs, 1);
	assert_int_equal(i.tcp_state, TCP_CLOSE_WAIT);
	kc_free(k, NULL);
	close(lfd);
}

/* read after send: the answer sits unread while the application writes;
 * it reads once kc_sends_done says the script will write no more and the
 * queue is empty. read never: it never reads. */
static void test_read_policies(void **state)
{
	(void)state;
	uint16_t port;
	int lfd = listener(&port);
	for (int pol = KC_READ_AFTER_SEND; pol <= KC_READ_NEVER; pol++) {
		struct sink s = { .len = 0 };
		struct kc_conn *k = open_to(port, (enum kc_read)pol, &s);
		run_until(k, 2000, connected);
		int sfd = accept_one(lfd);
		send_all(sfd, RESP, strlen(RESP));
		const char *why;
		assert_int_equal(kc_write(k, (const uint8_t *)"PUT", 3, &why), 0);
		run_until(k, 100, NULL);
		struct kc_info i;
		kc_info(k, &i);
		assert_int_equal(i.bytes_written, 3);
		assert_int_equal(i.bytes_read, 0);   /* not yet done sending */
		kc_sends_done(k);
		run_until(k, 200, NULL);
		kc_info(k, &i);
		if (pol == KC_READ_AFTER_SEND) {
			assert_int_equal(i.bytes_read, strlen(RESP));
			assert_memory_equal(s.buf, RESP, strlen(RESP));
		} else {
			assert_int_equal(i.bytes_read, 0);
			assert_int_equal(s.len, 0);
		}
		assert_int_equal(i.n_errors, 0);
		kc_free(k, NULL);
		close(sfd);
	}
	close(lfd);
}

/* The upload client and a server that answers and resets: the write
 * fails with ECONNRESET (recorded, with the call), and what had arrived
 * before the RST is still read afterwards: Linux keeps it readable. */
static void test_reset_while_sending(void **state)
{
	(void)state;
	uint16_t port;
	int lfd = listener(&port);
	struct sink s = { .len = 0 };
	struct kc_conn *k = open_to(port, KC_READ_AFTER_SEND, &s);
	run_until(k, 2000, connected);
	int sfd = accept_one(lfd);
	send_all(sfd, RESP, strlen(RESP));
	usleep(20000);           /* the response is in the client's queue */
	rst_close(sfd);          /* RST from ESTABLISHED: sk_err ECONNRESET */
	usleep(20000);
	const char *why;
	assert_int_equal(kc_body(k, 1 << 20, 0, 0, &why), 0);
	kc_sends_done(k);
	run_until(k, 500, eof_or_error);
	struct kc_info i;
	kc_info(k, &i);
	assert_true(i.write_failed);
	assert_true(i.n_errors >= 1);
	assert_string_equal(i.err[0].call, "send");
	assert_int_equal(i.err[0].errnum, ECONNRESET);
	assert_true(i.reset);
	assert_int_equal(i.bytes_written, 0);
	assert_int_equal(i.bytes_read, strlen(RESP));
	assert_memory_equal(s.buf, RESP, strlen(RESP));
	/* a write queued afterwards is refused by the application itself */
	assert_int_equal(kc_write(k, (const uint8_t *)"x", 1, &why), -1);
	assert_string_equal(why, "an earlier write failed");
	kc_free(k, NULL);
	close(lfd);
}

/* A RST after the server's FIN (the client in CLOSE_WAIT): Linux's
 * tcp_reset() gives EPIPE, not ECONNRESET. */
static void test_reset_after_fin_is_epipe(void **state)
{
	(void)state;
	uint16_t port;
	int lfd = listener(&port);
	struct sink s = { .len = 0 };
	struct kc_conn *k = open_to(port, KC_READ_AFTER_SEND, &s);
	run_until(k, 2000, connected);
	int sfd = accept_one(lfd);
	send_all(sfd, RESP, strlen(RESP));
	shutdown(sfd, SHUT_WR);  /* FIN */
	usleep(20000);
	rst_close(sfd);          /* RST after the FIN */
	usleep(20000);
	const char *why;
	assert_int_equal(kc_body(k, 1 << 20, 0, 0, &why), 0);
	kc_sends_done(k);
	run_until(k, 500, eof_or_error);
	struct kc_info i;
	kc_info(k, &i);
	assert_true(i.n_errors >= 1);
	assert_string_equal(i.err[0].call, "send");
	assert_int_equal(i.err[0].errnum, EPIPE);
	assert_int_equal(i.bytes_read, strlen(RESP));
	kc_free(k, NULL);
	close(lfd);
}

/* shutdown: SHUT_WR after the queue (the server reads EOF after the
 * bytes); abort: SO_LINGER 0 + close (the server's recv: ECONNRESET). */
static void test_shutdown_and_abort(void **state)
{
	(void)state;
	uint16_t port;
	int lfd = listener(&port);
	struct sink s = { .len = 0 };
	struct kc_conn *k = open_to(port, KC_READ_CONCURRENTLY, &s);
	run_until(k, 2000, connected);
	int sfd = accept_one(lfd);
	const char *why;
	assert_int_equal(kc_write(k, (const uint8_t *)"abc", 3, &why), 0);
	kc_shutdown(k);
	run_until(k, 100, NULL);
	char buf[16];
	assert_int_equal(recv(sfd, buf, sizeof buf, 0), 3);
	assert_int_equal(recv(sfd, buf, sizeof buf, 0), 0);
	struct kc_info i;
	kc_info(k, &i);
	assert_true(i.shut_wr);
	assert_int_equal(i.tcp_state, TCP_FIN_WAIT2);
	assert_int_equal(kc_write(k, (const uint8_t *)"x", 1, &why), -1);
	kc_free(k, NULL);
	close(sfd);

	k = open_to(port, KC_READ_CONCURRENTLY, &s);
	run_until(k, 2000, connected);
	sfd = accept_one(lfd);
	kc_abort(k);
	kc_info(k, &i);
	assert_true(i.aborted);
	assert_false(i.fd_open);
	assert_int_equal(kc_fd(k), -1);
	usleep(20000);
	errno = 0;
	assert_int_equal(recv(sfd, buf, sizeof buf, 0), -1);
	assert_int_equal(errno, ECONNRESET);
	bool rst = true;
	kc_free(k, &rst);
	assert_false(rst);       /* already closed: nothing for the clean-up */
	close(sfd);
	close(lfd);
}

/* `fin close`: close() once the queue is written; kc_free of an open
 * socket resets it (the runner's clean-up) and says so. */
static void test_close_and_cleanup(void **state)
{
	(void)state;
	uint16_t port;
	int lfd = listener(&port);
	struct sink s = { .len = 0 };
	struct kc_conn *k = open_to(port, KC_READ_CONCURRENTLY, &s);
	run_until(k, 2000, connected);
	int sfd = accept_one(lfd);
	const char *why;
	assert_int_equal(kc_write(k, (const uint8_t *)"hello", 5, &why), 0);
	kc_close(k);
	unsigned ev = kc_pump(k, POLLOUT, now_us());
	assert_true(ev & KC_EV_CLOSED);
	char buf[16];
	assert_int_equal(recv(sfd, buf, sizeof buf, 0), 5);
	assert_int_equal(recv(sfd, buf, sizeof buf, 0), 0);
	kc_free(k, NULL);
	close(sfd);

	k = open_to(port, KC_READ_CONCURRENTLY, &s);
	run_until(k, 2000, connected);
	sfd = accept_one(lfd);
	bool rst = false;
	kc_free(k, &rst);
	assert_true(rst);
	usleep(20000);
	errno = 0;
	assert_int_equal(recv(sfd, buf, sizeof buf, 0), -1);
	assert_int_equal(errno, ECONNRESET);
	close(sfd);
	close(lfd);
}

/* window: SO_RCVBUF before connect (Linux doubles the value asked for);
 * a refused connect is an error of the connect call. */
static void test_rcvbuf_and_refused(void **state)
{
	(void)state;
	uint16_t port;
	int lfd = listener(&port);
	struct kc_opts o;
	memset(&o, 0, sizeof o);
	o.server.s_addr = htonl(INADDR_LOOPBACK);
	o.port = port;
	o.has_rcvbuf = true;
	o.rcvbuf = 4096;
	o.t0_us = now_us();
	char err[200];
	struct kc_conn *k = kc_open(&o, err, sizeof err);
	assert_non_null(k);
	int v = 0;
	socklen_t vl = sizeof v;
	assert_int_equal(getsockopt(kc_fd(k), SOL_SOCKET, SO_RCVBUF, &v, &vl), 0);
	assert_int_equal(v, 8192);
	kc_free(k, NULL);
	close(lfd);   /* nobody listens on port now */

	struct sink s = { .len = 0 };
	k = open_to(port, KC_READ_CONCURRENTLY, &s);
	run_until(k, 2000, connected);
	struct kc_info i;
	kc_info(k, &i);
	assert_true(i.connect_failed);
	assert_false(i.connected);
	assert_int_equal(i.n_errors, 1);
	assert_string_equal(i.err[0].call, "connect");
	assert_int_equal(i.err[0].errnum, ECONNREFUSED);
	const char *why;
	assert_int_equal(kc_write(k, (const uint8_t *)"x", 1, &why), -1);
	assert_string_equal(why, "connect failed");
	kc_free(k, NULL);
}

/* body SIZE rate R chunk C: one chunk per send(), the next due C/R
 * seconds later; the bytes are the "abc...z" pattern. */
static void test_body_pacing(void **state)
{
	(void)state;
	uint16_t port;
	int lfd = listener(&port);
	struct sink s = { .len = 0 };
	struct kc_conn *k = open_to(port, KC_READ_CONCURRENTLY, &s);
	run_until(k, 2000, connected);
	int sfd = accept_one(lfd);
	const char *why;
	assert_int_equal(kc_body(k, 3000, 1000, 1000, &why), 0);
	assert_int_equal(kc_body(k, 10, 0, 0, &why), -1);
	assert_string_equal(why, "a body is already being written");
	uint64_t t = now_us();
	kc_pump(k, POLLOUT, t);
	struct kc_info i;
	kc_info(k, &i);
	assert_int_equal(i.bytes_written, 1000);
	assert_true(i.body_active);
	assert_int_equal(kc_next_due(k), t + 1000000);
	kc_pump(k, POLLOUT, t + 500000);
	kc_info(k, &i);
	assert_int_equal(i.bytes_written, 1000);
	kc_pump(k, POLLOUT, t + 1000000);
	kc_pump(k, POLLOUT, t + 2000000);
	kc_info(k, &i);
	assert_int_equal(i.bytes_written, 3000);
	assert_false(i.body_active);
	assert_false(i.writes_pending);
	char buf[3000];
	size_t got = 0;
	while (got < sizeof buf) {
		ssize_t n = recv(sfd, buf + got, sizeof buf - got, 0);
		assert_true(n > 0);
		got += (size_t)n;
	}
	for (size_t j = 0; j < sizeof buf; j++)
		if (buf[j] != "abcdefghijklmnopqrstuvwxyz"[j % 26])
			fail_msg("body byte %zu is %c", j, buf[j]);
	kc_free(k, NULL);
	close(sfd);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_response),
		cmocka_unit_test(test_read_policies),
		cmocka_unit_test(test_reset_while_sending),
		cmocka_unit_test(test_reset_after_fin_is_epipe),
		cmocka_unit_test(test_shutdown_and_abort),
		cmocka_unit_test(test_close_and_cleanup),
		cmocka_unit_test(test_rcvbuf_and_refused),
		cmocka_unit_test(test_body_pacing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
