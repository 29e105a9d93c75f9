/*
 * test_sockdiag6.c - the kernel socket-state sampler over IPv6: the
 * AF_INET6 dump counts an IPv6 listener and connection on ::1 by state
 * under the port filter, names the server end's FIN_WAIT_2 with family
 * AF_INET6 and the client's ::1 address and port, and reports an IPv4
 * peer of a dual-stack ([::]) listener as the kernel holds it
 * (AF_INET6, ::ffff:127.0.0.1), which lladdr_from_bytes maps back to the
 * 127.0.0.1 the wire carried, as the runner does. Loopback sockets of
 * this process only, on kernel-chosen ports. Skipped without ::1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lab/addr.h"
#include "lab/sockdiag.h"

struct pair {
	int lfd, cfd, sfd;
	int port;
	struct sockaddr_storage client;   /* the client end's own address */
};

/* A listener on listen6 (":: " or "::1"), a client of family cfam to it. */
static int make_pair(struct pair *p, const char *listen6, int cfam)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	socklen_t len = sizeof a6;
	int zero = 0;

	p->lfd = socket(AF_INET6, SOCK_STREAM, 0);
	if (p->lfd < 0)
		return -1;
	(void)setsockopt(p->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	inet_pton(AF_INET6, listen6, &a6.sin6_addr);
	if (bind(p->lfd, (struct sockaddr *)&a6, sizeof a6) != 0 || listen(p->lfd, 8) != 0)
		return -1;
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&a6, &len), 0);
	p->port = ntohs(a6.sin6_port);
	p->cfd = socket(cfam, SOCK_STREAM, 0);
	assert_true(p->cfd >= 0);
	if (cfam == AF_INET6) {
		inet_pton(AF_INET6, "::1", &a6.sin6_addr);
		assert_int_equal(connect(p->cfd, (struct sockaddr *)&a6, sizeof a6), 0);
	} else {
		struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p->port) };
		a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(connect(p->cfd, (struct sockaddr *)&a4, sizeof a4), 0);
	}
	len = sizeof p->client;
	assert_int_equal(getsockname(p->cfd, (struct sockaddr *)&p->client, &len), 0);
	p->sfd = accept(p->lfd, NULL, NULL);
	assert_true(p->sfd >= 0);
	return 0;
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

/* Sample (naming FIN_WAIT_2 sockets) until one shows, at most ~1 s. */
static void wait_fw2(struct sockdiag *sd, int port, unsigned counts[SOCKDIAG_MAX_STATES],
                     struct seen *v)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char err[256];

	for (int i = 0; i < 100; i++) {
		v->n = 0;
		assert_true(sockdiag_sample_each(sd, counts, port, 1u << SOCKDIAG_FIN_WAIT_2, on_sock, v,
		                                 err, sizeof err) >= 0);
		if (v->n == 1)
			return;
		nanosleep(&ts, NULL);
	}
}

static void test_ipv6_states_and_peer(void **state)
{
	unsigned counts[SOCKDIAG_MAX_STATES];
	struct sockdiag *sd;
	struct pair p;
	struct seen v = { 0 };
	struct lladdr peer, want;
	char err[256] = "";

	(void)state;
	if (make_pair(&p, "::1", AF_INET6) != 0)
		skip();
	sd = sockdiag_open(err, sizeof err);
	assert_non_null(sd);
	assert_int_equal(sockdiag_sample(sd, counts, p.port, err, sizeof err), 2);
	assert_int_equal(counts[SOCKDIAG_LISTEN], 1);
	assert_int_equal(counts[SOCKDIAG_ESTABLISHED], 1);
	assert_int_equal(sockdiag_listening(sd, p.port, err, sizeof err), 1);

	assert_int_equal(close(p.sfd), 0);    /* the server closes first */
	wait_fw2(sd, p.port, counts, &v);
	assert_int_equal(v.n, 1);
	assert_int_equal(counts[SOCKDIAG_FIN_WAIT_2], 1);
	assert_int_equal(v.s.family, AF_INET6);
	assert_int_equal(v.s.local_port, p.port);
	assert_int_equal(v.s.remote_port, ntohs(((struct sockaddr_in6 *)&p.client)->sin6_port));
	lladdr_from_bytes(&peer, 6, v.s.remote_addr);
	lladdr_parse("::1", &want, NULL, 0);
	assert_true(lladdr_eq(&peer, &want));

	close(p.cfd);
	close(p.lfd);
	assert_int_equal(sockdiag_listening(sd, p.port, err, sizeof err), 0);
	sockdiag_close(sd);
}

static void test_dual_stack_ipv4_peer(void **state)
{
	unsigned counts[SOCKDIAG_MAX_STATES];
	struct sockdiag *sd;
	struct pair p;
	struct seen v = { 0 };
	struct lladdr peer, want;
	char err[256] = "", a[LLADDR_STRLEN];
	static const uint8_t mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };

	(void)state;
	if (make_pair(&p, "::", AF_INET) != 0)
		skip();
	sd = sockdiag_open(err, sizeof err);
	assert_non_null(sd);
	assert_int_equal(close(p.sfd), 0);
	wait_fw2(sd, p.port, counts, &v);
	assert_int_equal(v.n, 1);
	/* the kernel's view: an IPv6 socket with a mapped peer */
	assert_int_equal(v.s.family, AF_INET6);
	assert_memory_equal(v.s.remote_addr, mapped_prefix, 12);
	/* the runner's: the IPv4 address on the wire */
	lladdr_from_bytes(&peer, 6, v.s.remote_addr);
	assert_string_equal(lladdr_str(&peer, a, sizeof a), "127.0.0.1");
	lladdr_parse("127.0.0.1", &want, NULL, 0);
	assert_true(lladdr_eq(&peer, &want));
	close(p.cfd);
	close(p.lfd);
	sockdiag_close(sd);
}

/* sockdiag_listening_family: the launcher's readiness probe for -6 */
static void test_listening_by_family(void **state)
{
	struct sockdiag *sd;
	struct pair p;
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	socklen_t len = sizeof a4;
	char err[256] = "";
	int fd4, port4;

	(void)state;
	if (make_pair(&p, "::1", AF_INET6) != 0)
		skip();
	sd = sockdiag_open(err, sizeof err);
	assert_non_null(sd);
	assert_int_equal(sockdiag_listening_family(sd, p.port, AF_INET6, err, sizeof err), 1);
	assert_int_equal(sockdiag_listening_family(sd, p.port, AF_INET, err, sizeof err), 0);
	assert_int_equal(sockdiag_listening_family(sd, p.port, 0, err, sizeof err), 1);

	fd4 = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd4 >= 0);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd4, (struct sockaddr *)&a4, sizeof a4), 0);
	assert_int_equal(listen(fd4, 1), 0);
	assert_int_equal(getsockname(fd4, (struct sockaddr *)&a4, &len), 0);
	port4 = ntohs(a4.sin_port);
	assert_int_equal(sockdiag_listening_family(sd, port4, AF_INET6, err, sizeof err), 0);
	assert_int_equal(sockdiag_listening_family(sd, port4, AF_INET, err, sizeof err), 1);
	assert_int_equal(sockdiag_listening_family(sd, port4, AF_UNIX, err, sizeof err), -1);
	assert_string_equal(err, "sockdiag: family 1 is neither AF_INET nor AF_INET6");
	close(fd4);
	close(p.sfd);
	close(p.cfd);
	close(p.lfd);
	sockdiag_close(sd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listening_by_family),
		cmocka_unit_test(test_ipv6_states_and_peer),
		cmocka_unit_test(test_dual_stack_ipv4_peer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
