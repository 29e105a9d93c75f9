/*
 * test_sockdiag.c - the kernel socket-state sampler counts what the kernel
 * holds: a listener, an accepted connection, the server side's FIN_WAIT_2
 * after it closes first, TIME_WAIT after the peer closes too. Uses loopback
 * sockets of this process only, on a kernel-chosen port, filtered by that
 * port, so parallel tests cannot disturb the counts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lab/sockdiag.h"

struct pair {
	int lfd, cfd, sfd;   /* listener, client end, server (accepted) end */
	int port;
};

static void make_pair(struct pair *p)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof a;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(p->lfd >= 0);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(p->lfd, 8), 0);
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&a, &alen), 0);
	p->port = ntohs(a.sin_port);
	p->cfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(p->cfd >= 0);
	assert_int_equal(connect(p->cfd, (struct sockaddr *)&a, sizeof a), 0);
	p->sfd = accept(p->lfd, NULL, NULL);
	assert_true(p->sfd >= 0);
}

/* Sample until counts[state] == want (the peer's ACK of a FIN is on its way
 * through loopback), at most ~1 s. Returns the last count seen. */
static unsigned wait_state(struct sockdiag *sd, unsigned counts[SOCKDIAG_MAX_STATES],
                           int port, int state, unsigned want)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char err[256];

	for (int i = 0; i < 100; i++) {
		assert_true(sockdiag_sample(sd, counts, port, err, sizeof err) >= 0);
		if (counts[state] == want)
			break;
		nanosleep(&ts, NULL);
	}
	return counts[state];
}

static void test_counts_follow_a_server_close(void **state)
{
	unsigned counts[SOCKDIAG_MAX_STATES];
	struct sockdiag *sd;
	struct pair p;
	char err[256] = "";
	int n;

	(void)state;
	sd = sockdiag_open(err, sizeof err);
	assert_non_null(sd);
	make_pair(&p);

	/* Filtered by the port: only the server side (listener + accepted). */
	n = sockdiag_sample(sd, counts, p.port, err, sizeof err);
	assert_int_equal(n, 2);
	assert_int_equal(counts[SOCKDIAG_LISTEN], 1);
	assert_int_equal(counts[SOCKDIAG_ESTABLISHED], 1);
	assert_int_equal(sockdiag_listening(sd, p.port, err, sizeof err), 1);

	/* Unfiltered: the client end is there too (and other sockets). */
	n = sockdiag_sample(sd, counts, 0, err, sizeof err);
	assert_true(n >= 3);
	assert_true(counts[SOCKDIAG_ESTABLISHED] >= 2);

	/* The server closes first; loopback ACKs its FIN at once. */
	assert_int_equal(close(p.sfd), 0);
	assert_int_equal(wait_state(sd, counts, p.port, SOCKDIAG_FIN_WAIT_2, 1), 1);
	assert_int_equal(counts[SOCKDIAG_ESTABLISHED], 0);

	/* The client closes too: the server side moves to TIME_WAIT. */
	assert_int_equal(close(p.cfd), 0);
	assert_int_equal(wait_state(sd, counts, p.port, SOCKDIAG_TIME_WAIT, 1), 1);
	assert_int_equal(counts[SOCKDIAG_FIN_WAIT_2], 0);

	/* The listener gone, nothing listens on the port any more. */
	assert_int_equal(close(p.lfd), 0);
	assert_int_equal(sockdiag_listening(sd, p.port, err, sizeof err), 0);
	sockdiag_close(sd);
}

struct seen {
	int n;
	struct sockdiag_sock s;
};

static void on_sock(const struct sockdiag_sock *k, void *arg)
{
	struct seen *v = arg;
	v->n++;
	v->s = *k;
}

/* sockdiag_sample_each names the sockets of the states asked for, with
 * their peer: the server end of a pair closed first (an orphan in
 * FIN_WAIT_2, which the kernel keeps as a timewait socket) is reported as
 * FIN_WAIT_2 with the client end's port as its remote port. */
static void test_each_names_fin_wait_2_sockets(void **state)
{
	unsigned counts[SOCKDIAG_MAX_STATES];
	struct sockdiag *sd;
	struct pair p;
	struct seen v = { 0 };
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	char err[256] = "";

	(void)state;
	sd = sockdiag_open(err, sizeof err);
	assert_non_null(sd);
	make_pair(&p);
	assert_int_equal(getsockname(p.cfd, (struct sockaddr *)&a, &alen), 0);

	/* established: nothing in FIN_WAIT_2 to name */
	assert_int_equal(sockdiag_sample_each(sd, counts, p.port, 1u << SOCKDIAG_FIN_WAIT_2,
	                                      on_sock, &v, err, sizeof err), 2);
	assert_int_equal(v.n, 0);
	/* ... but every state asked for is named */
	assert_int_equal(sockdiag_sample_each(sd, counts, p.port, ~0u, on_sock, &v, err,
	                                      sizeof err), 2);
	assert_int_equal(v.n, 2);

	assert_int_equal(close(p.sfd), 0); /* an orphan, once its FIN is ACKed */
	assert_int_equal(wait_state(sd, counts, p.port, SOCKDIAG_FIN_WAIT_2, 1), 1);
	v.n = 0;
	assert_int_equal(sockdiag_sample_each(sd, counts, p.port, 1u << SOCKDIAG_FIN_WAIT_2,
	                                      on_sock, &v, err, sizeof err), 2);
	assert_int_equal(counts[SOCKDIAG_FIN_WAIT_2], 1);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.s.state, SOCKDIAG_FIN_WAIT_2);
	assert_int_equal(v.s.family, AF_INET);
	assert_int_equal(v.s.local_port, p.port);
	assert_int_equal(v.s.remote_port, ntohs(a.sin_port));
	assert_memory_equal(v.s.remote_addr, &a.sin_addr, 4);

	close(p.cfd);
	close(p.lfd);
	sockdiag_close(sd);
}

static void test_many_sockets_across_receive_buffers(void **state)
{
	/* 300 accepted connections: the dump spans several netlink reads. */
	enum { N = 300 };
	unsigned counts[SOCKDIAG_MAX_STATES];
	int cfd[N], sfd[N];
	struct sockdiag *sd;
	struct pair p;
	char err[256];
	struct sockaddr_in a;

	(void)state;
	make_pair(&p);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)p.port);
	assert_int_equal(listen(p.lfd, N), 0);
	for (int i = 0; i < N; i++) {
		cfd[i] = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(cfd[i] >= 0);
		assert_int_equal(connect(cfd[i], (struct sockaddr *)&a, sizeof a), 0);
		sfd[i] = accept(p.lfd, NULL, NULL);
		assert_true(sfd[i] >= 0);
	}
	sd = sockdiag_open(err, sizeof err);
	assert_non_null(sd);
	assert_int_equal(sockdiag_sample(sd, counts, p.port, err, sizeof err), N + 2);
	assert_int_equal(counts[SOCKDIAG_ESTABLISHED], N + 1);
	for (int i = 0; i < N; i++) {
		close(sfd[i]);
		close(cfd[i]);
	}
	close(p.sfd);
	close(p.cfd);
	close(p.lfd);
	sockdiag_close(sd);
}

static void test_bad_port_is_an_error(void **state)
{
	unsigned counts[SOCKDIAG_MAX_STATES];
	char err[256] = "";
	struct sockdiag *sd = sockdiag_open(err, sizeof err);

	(void)state;
	assert_non_null(sd);
	assert_int_equal(sockdiag_sample(sd, counts, 70000, err, sizeof err), -1);
	assert_string_equal(err, "sockdiag: port 70000 out of range");
	sockdiag_close(sd);
}

static void test_open_in_missing_namespace(void **state)
{
	char err[256] = "";

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_null(sockdiag_open_in("ll1nosuchns", err, sizeof err));
	assert_string_equal(err, "namespace ll1nosuchns: no such namespace");
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(sockdiag_state_name(SOCKDIAG_FIN_WAIT_1), "FIN_WAIT_1");
	assert_string_equal(sockdiag_state_name(SOCKDIAG_FIN_WAIT_2), "FIN_WAIT_2");
	assert_string_equal(sockdiag_state_name(SOCKDIAG_SYN_RECV), "SYN_RECV");
	assert_string_equal(sockdiag_state_name(SOCKDIAG_CLOSING), "CLOSING");
	assert_null(sockdiag_state_name(0));
	assert_null(sockdiag_state_name(12));
	assert_true(sockdiag_state_reported(SOCKDIAG_TIME_WAIT));
	assert_true(sockdiag_state_reported(SOCKDIAG_LAST_ACK));
	assert_false(sockdiag_state_reported(SOCKDIAG_LISTEN));
	assert_false(sockdiag_state_reported(SOCKDIAG_SYN_SENT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_follow_a_server_close),
		cmocka_unit_test(test_each_names_fin_wait_2_sockets),
		cmocka_unit_test(test_many_sockets_across_receive_buffers),
		cmocka_unit_test(test_bad_port_is_an_error),
		cmocka_unit_test(test_open_in_missing_namespace),
		cmocka_unit_test(test_state_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
