/*
 * test_addr.c - the family-neutral address (lab/addr.h): what users type
 * (--target 10.0.0.1:80, [fd6c::1]:80) parses or is refused with a message
 * that says why, and what reports print is the canonical text with
 * brackets wherever a port follows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "lab/addr.h"

static void test_parse_plain(void **state)
{
	struct lladdr a;
	char err[128], buf[LLADDR_STRLEN];

	(void)state;
	assert_int_equal(lladdr_parse("10.77.1.3", &a, err, sizeof err), 0);
	assert_int_equal(a.af, 4);
	assert_int_equal(lladdr_family(&a), AF_INET);
	assert_memory_equal(a.b, "\x0a\x4d\x01\x03\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_string_equal(lladdr_str(&a, buf, sizeof buf), "10.77.1.3");

	/* RFC 5952 canonical output whatever the input's spelling */
	assert_int_equal(lladdr_parse("FD6C:6C6C:4A12:0:0:0:0:0001", &a, err, sizeof err), 0);
	assert_int_equal(a.af, 6);
	assert_int_equal(lladdr_family(&a), AF_INET6);
	assert_string_equal(lladdr_str(&a, buf, sizeof buf), "fd6c:6c6c:4a12::1");

	assert_int_equal(lladdr_parse("10.0.0.300", &a, err, sizeof err), -1);
	assert_string_equal(err, "expected an IPv4 or IPv6 address, found '10.0.0.300'");
	assert_int_equal(a.af, 0);
	assert_int_equal(lladdr_parse("[fd6c::1]", &a, err, sizeof err), -1);
	assert_int_equal(lladdr_parse("fe80::1%eth0", &a, err, sizeof err), -1);
	assert_int_equal(lladdr_parse("", &a, err, sizeof err), -1);
	assert_string_equal(err, "expected an IPv4 or IPv6 address, found nothing");
	assert_int_equal(lladdr_parse(NULL, &a, NULL, 0), -1);
}

static void test_hostport(void **state)
{
	struct lladdr a;
	uint16_t port;
	char err[128], buf[LLADDR_PORTSTRLEN];

	(void)state;
	assert_int_equal(lladdr_parse_hostport("127.0.0.1:8080", &a, &port, err, sizeof err), 0);
	assert_int_equal(a.af, 4);
	assert_int_equal(port, 8080);
	assert_string_equal(lladdr_str_port(&a, port, buf, sizeof buf), "127.0.0.1:8080");

	assert_int_equal(lladdr_parse_hostport("[::1]:80", &a, &port, err, sizeof err), 0);
	assert_int_equal(a.af, 6);
	assert_int_equal(port, 80);
	assert_true(lladdr_is_loopback(&a));
	assert_string_equal(lladdr_str_port(&a, port, buf, sizeof buf), "[::1]:80");

	assert_int_equal(lladdr_parse_hostport("[fd6c:6c6c:4a12::1]:65535", &a, &port, err, sizeof err), 0);
	assert_string_equal(lladdr_str_port(&a, port, buf, sizeof buf), "[fd6c:6c6c:4a12::1]:65535");

	/* refused, each with its reason */
	assert_int_equal(lladdr_parse_hostport("fd6c::1:80", &a, &port, err, sizeof err), -1);
	assert_string_equal(err, "IPv6 addresses go in brackets: [ADDR]:PORT, found 'fd6c::1:80'");
	assert_int_equal(lladdr_parse_hostport("[10.0.0.1]:80", &a, &port, err, sizeof err), -1);
	assert_string_equal(err, "expected an IPv6 address in brackets, found '10.0.0.1'");
	assert_int_equal(lladdr_parse_hostport("[fd6c::1]80", &a, &port, err, sizeof err), -1);
	assert_string_equal(err, "expected [IPV6]:PORT, found '[fd6c::1]80'");
	assert_int_equal(lladdr_parse_hostport("[fd6c::1]:0", &a, &port, err, sizeof err), -1);
	assert_string_equal(err, "port: expected 1 to 65535, found '0'");
	assert_int_equal(a.af, 0);
	assert_int_equal(lladdr_parse_hostport("10.0.0.1:65536", &a, &port, err, sizeof err), -1);
	assert_string_equal(err, "port: expected 1 to 65535, found '65536'");
	/* what is quoted stays one printable line (found by fuzz_addr) */
	assert_int_equal(lladdr_parse_hostport("10.0.0.1:8\n0", &a, &port, err, sizeof err), -1);
	assert_string_equal(err, "port: expected 1 to 65535, found '8\\x0a0'");
	assert_int_equal(lladdr_parse("\x1b[2J", &a, err, sizeof err), -1);
	assert_string_equal(err, "expected an IPv4 or IPv6 address, found '\\x1b[2J'");
	assert_int_equal(lladdr_parse_hostport("10.0.0.1:8o", &a, &port, err, sizeof err), -1);
	assert_int_equal(lladdr_parse_hostport("10.0.0.1:", &a, &port, err, sizeof err), -1);
	assert_int_equal(lladdr_parse_hostport("10.0.0.1", &a, &port, err, sizeof err), -1);
	assert_string_equal(err, "expected ADDR:PORT or [IPV6]:PORT, found '10.0.0.1'");
	assert_int_equal(lladdr_parse_hostport("lab.example:80", &a, &port, err, sizeof err), -1);
	assert_string_equal(err, "expected an IPv4 address before ':', found 'lab.example'");
	assert_int_equal(lladdr_parse_hostport(
		"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535xxxxxxxxxxxxxxxxxxxxxxxxx", &a, &port,
		err, sizeof err), -1);
	assert_int_equal(port, 0);
}

static void test_host_form(void **state)
{
	struct lladdr a;
	char buf[LLADDR_PORTSTRLEN], small[8];

	(void)state;
	/* port 0: the Host header / URL host form */
	assert_int_equal(lladdr_parse("fd6c::1", &a, NULL, 0), 0);
	assert_string_equal(lladdr_str_port(&a, 0, buf, sizeof buf), "[fd6c::1]");
	assert_int_equal(lladdr_parse("10.1.2.3", &a, NULL, 0), 0);
	assert_string_equal(lladdr_str_port(&a, 0, buf, sizeof buf), "10.1.2.3");
	/* a short buffer is cut, never overrun */
	assert_int_equal(strlen(lladdr_str_port(&a, 8080, small, sizeof small)), sizeof small - 1);
	/* no address: empty text */
	memset(&a, 0, sizeof a);
	assert_string_equal(lladdr_str(&a, buf, sizeof buf), "");
}

static void test_compare_and_map(void **state)
{
	struct lladdr a, b;
	uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [13] = 77, [14] = 1, [15] = 3 };
	uint8_t v4[16] = { 10, 77, 1, 3 };

	(void)state;
	/* a dual-stack socket's view of an IPv4 peer equals the wire's */
	lladdr_from_bytes(&a, 6, mapped);
	assert_int_equal(a.af, 4);
	assert_true(lladdr_is(&a, 4, v4));
	assert_false(lladdr_is(&a, 6, mapped));
	lladdr_parse("10.77.1.3", &b, NULL, 0);
	assert_true(lladdr_eq(&a, &b));

	lladdr_parse("fd6c::3", &b, NULL, 0);
	assert_false(lladdr_eq(&a, &b));
	lladdr_from_bytes(&a, 6, b.b);
	assert_true(lladdr_eq(&a, &b));
	assert_true(lladdr_is(&a, 6, b.b));
	assert_false(lladdr_is(&a, 4, b.b));
	lladdr_from_bytes(&a, 5, b.b);
	assert_int_equal(a.af, 0);
	assert_false(lladdr_is(&a, 0, b.b));

	struct in_addr in;
	inet_pton(AF_INET, "192.0.2.9", &in);
	lladdr_from_in(&a, in);
	lladdr_parse("192.0.2.9", &b, NULL, 0);
	assert_true(lladdr_eq(&a, &b));
}

static void test_classes_and_sockaddr(void **state)
{
	static const struct { const char *s; bool unspec, mcast, loop; } t[] = {
		{ "0.0.0.0", true, false, false },
		{ "::", true, false, false },
		{ "224.0.0.1", false, true, false },
		{ "239.255.255.255", false, true, false },
		{ "ff02::1", false, true, false },
		{ "127.0.0.1", false, false, true },
		{ "127.9.9.9", false, false, true },
		{ "::1", false, false, true },
		{ "10.0.0.1", false, false, false },
		{ "fd6c::1", false, false, false },
		{ "::ffff:127.0.0.1", false, false, false },  /* parsed as IPv6 text */
	};
	struct lladdr a;
	struct sockaddr_storage ss;
	socklen_t len;

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		assert_int_equal(lladdr_parse(t[i].s, &a, NULL, 0), 0);
		assert_int_equal(lladdr_is_unspecified(&a), t[i].unspec);
		assert_int_equal(lladdr_is_multicast(&a), t[i].mcast);
		assert_int_equal(lladdr_is_loopback(&a), t[i].loop);
	}
	lladdr_parse("fd6c::1", &a, NULL, 0);
	assert_int_equal(lladdr_sockaddr(&a, 8080, &ss, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(((struct sockaddr_in6 *)&ss)->sin6_port, htons(8080));
	assert_memory_equal(&((struct sockaddr_in6 *)&ss)->sin6_addr, a.b, 16);
	lladdr_parse("10.0.0.1", &a, NULL, 0);
	assert_int_equal(lladdr_sockaddr(&a, 80, &ss, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ss.ss_family, AF_INET);
	memset(&a, 0, sizeof a);
	assert_int_equal(lladdr_sockaddr(&a, 80, &ss, &len), -1);
	assert_int_equal(lladdr_family(&a), AF_UNSPEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_plain),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_host_form),
		cmocka_unit_test(test_compare_and_map),
		cmocka_unit_test(test_classes_and_sockaddr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
