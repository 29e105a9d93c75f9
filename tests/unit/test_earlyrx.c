/*
 * test_earlyrx.c - the raw client's early receiver (lab/earlyrx.h) on the
 * loopback of a network namespace of this test's own: it hands over each
 * frame its filter accepts once (the PACKET_OUTGOING copy of a loopback
 * frame is skipped), at once, with its length and kernel timestamp, and
 * nothing its filter refuses; it refuses link types it cannot frame.
 * Needs root (skipped otherwise).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lab/earlyrx.h"

static void lo_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(s >= 0);
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
}

static void send_udp(uint16_t port, const char *msg)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(s >= 0);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof to),
	                 (ssize_t)strlen(msg));
	close(s);
}

static void compile(const char *expr, struct bpf_program *prog)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	assert_non_null(dead);
	assert_int_equal(pcap_compile(dead, prog, expr, 1, PCAP_NETMASK_UNKNOWN), 0);
	pcap_close(dead);
}

static void test_loopback_frames(void **state)
{
	struct bpf_program prog;
	uint8_t buf[2048];
	size_t wire = 0;
	uint64_t ts = 0, now;
	struct timeval tv;
	char err[256] = "";
	struct pollfd p;
	long n;
	int fd;
	(void)state;

	if (geteuid() != 0)
		skip();
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	lo_up();
	compile("udp and dst port 9999", &prog);
	fd = earlyrx_open("lo", DLT_EN10MB, &prog, 1 << 20, err, sizeof err);
	pcap_freecode(&prog);
	assert_true(fd >= 0);

	send_udp(9998, "not for us");
	send_udp(9999, "hello");
	p.fd = fd;
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, 1000), 1);
	n = earlyrx_read(fd, buf, sizeof buf, &wire, &ts);
	/* Ethernet (zeros on lo) + IPv4 + UDP + "hello" */
	assert_int_equal(n, 14 + 20 + 8 + 5);
	assert_int_equal(wire, (size_t)n);
	assert_memory_equal(buf + n - 5, "hello", 5);
	gettimeofday(&tv, NULL);
	now = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
	assert_true(ts > 0 && ts <= now && now - ts < 5000000u);
	/* once only: the outgoing copy and port 9998 never come */
	assert_int_equal(earlyrx_read(fd, buf, sizeof buf, &wire, &ts), 0);

	/* a buffer too small: the wire length says so */
	send_udp(9999, "a longer message");
	assert_int_equal(poll(&p, 1, 1000), 1);
	n = earlyrx_read(fd, buf, 20, &wire, &ts);
	assert_int_equal(n, 20);
	assert_int_equal(wire, 14 + 20 + 8 + 16);
	assert_int_equal(earlyrx_drops(fd), 0);
	close(fd);
}

static void test_refusals(void **state)
{
	struct bpf_program prog;
	char err[256] = "";
	(void)state;
	compile("tcp", &prog);
	assert_int_equal(earlyrx_open("lo", DLT_LINUX_SLL, &prog, 1 << 20, err, sizeof err), -1);
	assert_non_null(strstr(err, "link type"));
	err[0] = 0;
	assert_int_equal(earlyrx_open("no-such-if0", DLT_EN10MB, &prog, 1 << 20, err, sizeof err), -1);
	assert_non_null(strstr(err, "no-such-if0"));
	pcap_freecode(&prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_loopback_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
