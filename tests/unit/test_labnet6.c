/*
 * test_labnet6.c - the IPv6 lab keeps the IPv4 lab's promise: a SYN sent
 * from the raw address fd6c:6c6c:XXYY::3 (owned by no kernel) through the
 * client veth is answered by the server's kernel at once (no neighbour
 * solicitation for ::3: the server holds a PERMANENT entry), and the client
 * namespace's kernel answers the SYN-ACK with nothing: no RST, no ICMPv6
 * error. The addresses are usable at once (not "tentative": no duplicate
 * address detection), the neighbours are permanent both ways, the IPv6
 * defaults hold in both namespaces, and teardown leaves nothing.
 * Needs root (skipped otherwise).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lab/netns.h"
#include "lab/sockdiag.h"

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

/* An Ethernet/IPv6/TCP SYN from src:sport to dst:dport (74 bytes). */
static size_t build_syn6(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6],
                         const uint8_t src[16], const uint8_t dst[16], uint16_t sport,
                         uint16_t dport)
{
	uint8_t *ip = f + 14, *tcp = ip + 40, ph[40] = { 0 };
	uint32_t s;

	memset(f, 0, 74);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	ip[0] = 0x60;
	ip[5] = 20;           /* payload length */
	ip[6] = 6;            /* TCP */
	ip[7] = 64;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	tcp[0] = (uint8_t)(sport >> 8);
	tcp[1] = (uint8_t)sport;
	tcp[2] = (uint8_t)(dport >> 8);
	tcp[3] = (uint8_t)dport;
	tcp[7] = 1;           /* seq 1 */
	tcp[12] = 5 << 4;
	tcp[13] = 0x02;       /* SYN */
	tcp[14] = 0xff;
	tcp[15] = 0xff;
	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	ph[35] = 20;
	ph[39] = 6;
	s = sum16(tcp, 20, sum16(ph, sizeof ph, 0));
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	s = ~s & 0xffff;
	tcp[16] = (uint8_t)(s >> 8);
	tcp[17] = (uint8_t)s;
	return 74;
}

static int listen_on6(const struct lladdr *a, uint16_t port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int one = 1, fd = socket(AF_INET6, SOCK_STREAM, 0);

	memcpy(&sa.sin6_addr, a->b, 16);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* The output of an `ip` command inside namespace ns, into buf. */
static void ip_out(const char *ns, const char *args, char *buf, size_t len)
{
	char cmd[256];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof cmd, "ip -n %s %s 2>&1", ns, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(buf, 1, len - 1, p);
	buf[n] = '\0';
	pclose(p);
}

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

static void test_ipv6_lab(void **state)
{
	struct labnet *lnp = *state, ln;
	struct labnet_opts o = { .net_x = 0x4a, .net_y = 0x12, .ipv6 = true };
	char err[512] = "", a[LLADDR_STRLEN], out[4096], old[32];
	int saved, lfd, pfd;
	struct sockaddr_ll sll;
	uint8_t frame[80], buf[2048];
	unsigned synack = 0, rst = 0, icmp_err = 0, solicit_raw = 0, counts[SOCKDIAG_MAX_STATES];
	struct sockdiag *sd;
	struct timespec t0, t;

	if (geteuid() != 0)
		skip();
	if (access("/proc/sys/net/ipv6", F_OK) != 0)
		skip();
	assert_int_equal(labnet_setup(lnp, &o, err, sizeof err), LABNET_OK);
	ln = *lnp;
	assert_int_equal(ln.family, 6);
	assert_string_equal(lladdr_str(&ln.server_ip, a, sizeof a), "fd6c:6c6c:4a12::1");
	assert_string_equal(lladdr_str(&ln.client_ip, a, sizeof a), "fd6c:6c6c:4a12::2");
	assert_string_equal(lladdr_str(&ln.raw_ip, a, sizeof a), "fd6c:6c6c:4a12::3");
	/* the IPv4 addresses stay */
	assert_int_equal(ntohl(ln.raw_addr.s_addr), 0x0a4a1203u);

	/* usable at once: no address is tentative (no DAD) */
	ip_out(ln.server_ns, "-6 addr show", out, sizeof out);
	assert_non_null(strstr(out, "fd6c:6c6c:4a12::1/64"));
	assert_null(strstr(out, "tentative"));
	ip_out(ln.client_ns, "-6 addr show", out, sizeof out);
	assert_non_null(strstr(out, "fd6c:6c6c:4a12::2/64"));
	assert_null(strstr(out, "tentative"));
	/* the permanent neighbours, both ways */
	ip_out(ln.server_ns, "-6 neigh show fd6c:6c6c:4a12::3", out, sizeof out);
	assert_non_null(strstr(out, "PERMANENT"));
	ip_out(ln.client_ns, "-6 neigh show fd6c:6c6c:4a12::1", out, sizeof out);
	assert_non_null(strstr(out, "PERMANENT"));
	/* the namespaces' settings: no forwarding on the client side, no
	 * router solicitations, no DAD on the links */
	assert_int_equal(labnet_sysctl(ln.client_ns, "/proc/sys/net/ipv6/conf/all/forwarding", "0",
	                               old, sizeof old, err, sizeof err), LABNET_OK);
	assert_string_equal(old, "0");
	{
		char path[128];

		snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/router_solicitations", ln.client_if);
		assert_int_equal(labnet_sysctl(ln.client_ns, path, "0", old, sizeof old, err, sizeof err),
		                 LABNET_OK);
		assert_string_equal(old, "0");
		snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/accept_dad", ln.server_if);
		assert_int_equal(labnet_sysctl(ln.server_ns, path, "0", old, sizeof old, err, sizeof err),
		                 LABNET_OK);
		assert_string_equal(old, "0");
	}

	/* A kernel listener on the server's IPv6 address. */
	assert_int_equal(labnet_enter(ln.server_ns, &saved, err, sizeof err), LABNET_OK);
	lfd = listen_on6(&ln.server_ip, 8080);
	sd = sockdiag_open(err, sizeof err);
	assert_non_null(sd);
	assert_int_equal(labnet_leave(&saved, err, sizeof err), LABNET_OK);

	/* The raw client's SYN; watch the client veth for 300 ms. */
	assert_int_equal(labnet_enter(ln.client_ns, &saved, err, sizeof err), LABNET_OK);
	pfd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	assert_true(pfd >= 0);
	assert_int_equal(labnet_leave(&saved, err, sizeof err), LABNET_OK);
	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ln.client_ifindex;
	assert_int_equal(bind(pfd, (struct sockaddr *)&sll, sizeof sll), 0);
	build_syn6(frame, ln.server_mac, ln.client_mac, ln.raw_ip.b, ln.server_ip.b, 40000, 8080);
	assert_int_equal(send(pfd, frame, 74, 0), 74);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { pfd, POLLIN, 0 };
		long ms;
		ssize_t n;
		const uint8_t *ip = buf + 14;

		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= 300)
			break;
		if (poll(&p, 1, (int)(300 - ms)) <= 0)
			continue;
		n = recv(pfd, buf, sizeof buf, 0);
		if (n < 54 || buf[12] != 0x86 || buf[13] != 0xdd)
			continue;
		if (ip[6] == 6 && n >= 74) {
			if (ip[40 + 13] & 0x04)
				rst++;
			if ((ip[40 + 13] & 0x12) == 0x12 && !memcmp(ip + 24, ln.raw_ip.b, 16))
				synack++;
		} else if (ip[6] == 58 && n >= 55) {
			/* ICMPv6: errors are types 1..127 (RFC 4443 2.1); a
			 * neighbour solicitation (135) whose target is ::3 would
			 * mean the server had no entry for it */
			if (ip[40] < 128)
				icmp_err++;
			if (ip[40] == 135 && n >= 14 + 40 + 24 && !memcmp(ip + 48, ln.raw_ip.b, 16))
				solicit_raw++;
		}
	}
	assert_true(synack >= 1);
	assert_int_equal(rst, 0);
	assert_int_equal(icmp_err, 0);
	assert_int_equal(solicit_raw, 0);
	/* The server's kernel holds a half-open IPv6 connection. */
	assert_true(sockdiag_sample(sd, counts, 8080, err, sizeof err) >= 0);
	assert_int_equal(counts[SOCKDIAG_SYN_RECV], 1);

	sockdiag_close(sd);
	close(pfd);
	close(lfd);
	assert_int_equal(labnet_teardown(lnp, err, sizeof err), LABNET_OK);
	snprintf(out, sizeof out, "/run/netns/%s", ln.server_ns);
	assert_int_not_equal(access(out, F_OK), 0);
	snprintf(out, sizeof out, "/run/netns/%s", ln.client_ns);
	assert_int_not_equal(access(out, F_OK), 0);
}

/* Without ipv6 the lab is as before: family 4, the *_ip fields are the
 * IPv4 addresses, and IPv6 is off on the links. */
static void test_ipv4_lab_fields(void **state)
{
	struct labnet *lnp = *state;
	struct labnet_opts o = { .net_x = 77, .net_y = 9 };
	char err[512] = "", a[LLADDR_STRLEN], out[4096];

	if (geteuid() != 0)
		skip();
	assert_int_equal(labnet_setup(lnp, &o, err, sizeof err), LABNET_OK);
	assert_int_equal(lnp->family, 4);
	assert_string_equal(lladdr_str(&lnp->server_ip, a, sizeof a), "10.77.9.1");
	assert_string_equal(lladdr_str(&lnp->raw_ip, a, sizeof a), "10.77.9.3");
	{
		char args[64];

		snprintf(args, sizeof args, "-6 addr show dev %s", lnp->server_if);
		ip_out(lnp->server_ns, args, out, sizeof out);
		assert_null(strstr(out, "inet6"));
	}
	assert_int_equal(labnet_teardown(lnp, err, sizeof err), LABNET_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ipv6_lab, lab_alloc, lab_remove),
		cmocka_unit_test_setup_teardown(test_ipv4_lab_fields, lab_alloc, lab_remove),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
