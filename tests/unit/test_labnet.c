/*
 * test_labnet.c - the namespace lab keeps its promise: a SYN sent from the
 * raw address (.3, owned by no kernel) through the client veth is answered
 * by the server's kernel, and the client namespace's kernel sends no RST of
 * its own (it would, if it owned .3 or forwarded). Also: processes spawned
 * in a namespace run there, errors name the failing step, teardown leaves
 * nothing. Needs root (skipped otherwise).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab/netns.h"
#include "lab/sockdiag.h"

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An Ethernet/IPv4/TCP SYN from src:sport to dst:dport. Returns its length. */
static size_t build_syn(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6],
                        struct in_addr src, struct in_addr dst, uint16_t sport, uint16_t dport)
{
	uint8_t *ip = f + 14, *tcp = ip + 20, ph[12];
	uint16_t c;

	memset(f, 0, 54);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 40;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	c = csum(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	tcp[0] = (uint8_t)(sport >> 8);
	tcp[1] = (uint8_t)sport;
	tcp[2] = (uint8_t)(dport >> 8);
	tcp[3] = (uint8_t)dport;
	tcp[7] = 1;           /* seq 1 */
	tcp[12] = 5 << 4;
	tcp[13] = 0x02;       /* SYN */
	tcp[14] = 0xff;
	tcp[15] = 0xff;
	memcpy(ph, &src, 4);
	memcpy(ph + 4, &dst, 4);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = 0;
	ph[11] = 20;
	{
		uint32_t s = 0;

		for (int i = 0; i < 12; i += 2)
			s += (uint32_t)(ph[i] << 8 | ph[i + 1]);
		c = csum(tcp, 20, s);
	}
	tcp[16] = (uint8_t)(c >> 8);
	tcp[17] = (uint8_t)c;
	return 54;
}

static bool ns_exists(const char *ns)
{
	char p[64];

	snprintf(p, sizeof p, "/run/netns/%s", ns);
	return access(p, F_OK) == 0;
}

static int listen_on(struct in_addr a, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = a };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* The lab lives in the test's state, so the group teardown removes it even
 * when an assertion ends the test early. */
static int lab_alloc(void **state)
{
	static struct labnet lab;

	memset(&lab, 0, sizeof lab);
	*state = &lab;
	return 0;
}

static int lab_remove(void **state)
{
	char err[512];

	return labnet_teardown(*state, err, sizeof err) == LABNET_OK ? 0 : -1;
}

static void test_raw_address_is_answered_without_client_rst(void **state)
{
	struct labnet *lnp = *state, ln;
	char err[512] = "";
	int saved, lfd, pfd;
	struct sockaddr_ll sll;
	uint8_t frame[64], buf[2048];
	unsigned synack = 0, rst = 0, counts[SOCKDIAG_MAX_STATES];
	struct sockdiag *sd;
	struct timespec t0, t;

	if (geteuid() != 0)
		skip();
	assert_int_equal(labnet_setup(lnp, NULL, err, sizeof err), LABNET_OK);
	ln = *lnp;
	assert_true(ns_exists(ln.server_ns));
	assert_true(ns_exists(ln.client_ns));

	/* A kernel listener in the server namespace. */
	assert_int_equal(labnet_enter(ln.server_ns, &saved, err, sizeof err), LABNET_OK);
	lfd = listen_on(ln.server_addr, 8080);
	sd = sockdiag_open(err, sizeof err);
	assert_non_null(sd);
	assert_int_equal(labnet_leave(&saved, err, sizeof err), LABNET_OK);

	/* Send the SYN as the raw client would and watch the client veth
	 * (both directions) for 300 ms. */
	assert_int_equal(labnet_enter(ln.client_ns, &saved, err, sizeof err), LABNET_OK);
	pfd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	assert_true(pfd >= 0);
	assert_int_equal(labnet_leave(&saved, err, sizeof err), LABNET_OK);
	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ln.client_ifindex;
	assert_int_equal(bind(pfd, (struct sockaddr *)&sll, sizeof sll), 0);
	build_syn(frame, ln.server_mac, ln.client_mac, ln.raw_addr, ln.server_addr, 40000, 8080);
	assert_int_equal(send(pfd, frame, 54, 0), 54);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { pfd, POLLIN, 0 };
		long ms;

		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= 300)
			break;
		if (poll(&p, 1, (int)(300 - ms)) <= 0)
			continue;
		{
			ssize_t n = recv(pfd, buf, sizeof buf, 0);

			if (n < 54 || buf[12] != 0x08 || buf[13] != 0 || buf[14 + 9] != 6)
				continue;
			if (buf[14 + 20 + 13] & 0x04)
				rst++;
			if ((buf[14 + 20 + 13] & 0x12) == 0x12 && !memcmp(buf + 14 + 16, &ln.raw_addr, 4))
				synack++;
		}
	}
	assert_true(synack >= 1);
	assert_int_equal(rst, 0);
	/* The server's kernel holds a half-open connection: no RST reached it. */
	assert_true(sockdiag_sample(sd, counts, 8080, err, sizeof err) >= 0);
	assert_int_equal(counts[SOCKDIAG_SYN_RECV], 1);

	sockdiag_close(sd);
	close(pfd);
	close(lfd);
	assert_int_equal(labnet_teardown(lnp, err, sizeof err), LABNET_OK);
	assert_false(ns_exists(ln.server_ns));
	assert_false(ns_exists(ln.client_ns));
	/* Idempotent. */
	assert_int_equal(labnet_teardown(lnp, err, sizeof err), LABNET_OK);
}

static void test_spawn_runs_inside_and_teardown_kills(void **state)
{
	struct labnet *lnp = *state, ln;
	struct labnet_opts o = { 0 };
	struct labnet_spawn_opts so = LABNET_SPAWN_OPTS_INIT;
	char err[512] = "", self_ns[64], child_ns[64], p[64];
	char *sleeper[] = { "sleep", "30", NULL };
	pid_t pid;
	int st;
	ssize_t n;

	if (geteuid() != 0)
		skip();
	o.net_x = 77;
	o.net_y = 9;
	assert_int_equal(labnet_setup(lnp, &o, err, sizeof err), LABNET_OK);
	ln = *lnp;
	assert_int_equal(ntohl(ln.raw_addr.s_addr), 0x0a4d0903u);   /* 10.77.9.3 */

	so.new_pgrp = true;
	pid = labnet_spawn(ln.server_ns, sleeper, &so, err, sizeof err);
	assert_true(pid > 0);
	n = readlink("/proc/self/ns/net", self_ns, sizeof self_ns - 1);
	assert_true(n > 0);
	self_ns[n] = '\0';
	snprintf(p, sizeof p, "/proc/%d/ns/net", (int)pid);
	n = readlink(p, child_ns, sizeof child_ns - 1);
	assert_true(n > 0);
	child_ns[n] = '\0';
	assert_string_not_equal(self_ns, child_ns);

	/* Teardown kills what still runs inside and reaps our child. */
	assert_int_equal(labnet_teardown(lnp, err, sizeof err), LABNET_OK);
	assert_int_equal(waitpid(pid, &st, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_false(ns_exists(ln.server_ns));
}

static void test_setup_reclaims_names_of_our_own_pid(void **state)
{
	struct labnet *lnp = *state;
	char err[512] = "", name[32];
	char *add[] = { "ip", "netns", "add", name, NULL };

	if (geteuid() != 0)
		skip();
	/* As if a dead process that had our pid left its server namespace. */
	snprintf(name, sizeof name, "ll%ds", (int)getpid());
	assert_int_equal(labnet_exec(NULL, add, err, sizeof err), LABNET_OK);
	assert_int_equal(labnet_setup(lnp, NULL, err, sizeof err), LABNET_OK);
	assert_string_equal(lnp->server_ns, name);
	assert_int_equal(labnet_teardown(lnp, err, sizeof err), LABNET_OK);
	assert_false(ns_exists(name));
}

static void test_exec_errors_name_the_step(void **state)
{
	char err[512] = "";
	char *missing[] = { "no-such-program-ll", NULL };
	char *failing[] = { "ip", "link", "show", "dev", "ll1nosuchdev", NULL };

	(void)state;
	assert_int_equal(labnet_exec(NULL, missing, err, sizeof err), LABNET_ENV);
	assert_string_equal(err, "exec no-such-program-ll: No such file or directory");
	assert_int_equal(labnet_exec(NULL, failing, err, sizeof err), LABNET_ERR);
	assert_string_equal(err, "ip link show dev ll1nosuchdev: Device \"ll1nosuchdev\" does not exist.");
	if (geteuid() == 0) {
		assert_int_equal(labnet_exec("ll1nosuchns", failing, err, sizeof err), LABNET_ERR);
		assert_string_equal(err, "namespace ll1nosuchns: no such namespace");
	}
}

static void test_enter_missing_namespace(void **state)
{
	char err[512] = "";
	int saved = 7;

	(void)state;
	assert_int_equal(labnet_enter("ll1nosuchns", &saved, err, sizeof err), LABNET_ERR);
	assert_int_equal(saved, -1);
	assert_string_equal(err, "namespace ll1nosuchns: no such namespace");
}

static void test_name_pid(void **state)
{
	(void)state;
	assert_int_equal(labnet_name_pid("ll1234s"), 1234);
	assert_int_equal(labnet_name_pid("ll1234vc"), 1234);
	assert_int_equal(labnet_name_pid("ll4194304c"), 4194304);
	assert_int_equal(labnet_name_pid("ll1234"), 0);       /* no suffix */
	assert_int_equal(labnet_name_pid("llabc"), 0);        /* no pid */
	assert_int_equal(labnet_name_pid("ll0123s"), 0);      /* leading zero */
	assert_int_equal(labnet_name_pid("ll12-s"), 0);
	assert_int_equal(labnet_name_pid("ll12S"), 0);
	assert_int_equal(labnet_name_pid("xl12s"), 0);
	assert_int_equal(labnet_name_pid("ll1234567890123s"), 0);   /* too long for a name */
	assert_int_equal(labnet_name_pid("eth0"), 0);
}

static void test_teardown_of_nothing(void **state)
{
	struct labnet ln;
	char err[64] = "";

	(void)state;
	memset(&ln, 0, sizeof ln);
	assert_int_equal(labnet_teardown(&ln, err, sizeof err), LABNET_OK);
	assert_int_equal(labnet_teardown(NULL, err, sizeof err), LABNET_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_raw_address_is_answered_without_client_rst, lab_alloc, lab_remove),
		cmocka_unit_test_setup_teardown(test_spawn_runs_inside_and_teardown_kills, lab_alloc, lab_remove),
		cmocka_unit_test_setup_teardown(test_setup_reclaims_names_of_our_own_pid, lab_alloc, lab_remove),
		cmocka_unit_test(test_exec_errors_name_the_step),
		cmocka_unit_test(test_enter_missing_namespace),
		cmocka_unit_test(test_name_pid),
		cmocka_unit_test(test_teardown_of_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
