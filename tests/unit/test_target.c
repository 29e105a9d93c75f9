/*
 * test_target.c - what `run --target` decides before it changes anything:
 * the reserved-ports list as the kernel writes it (parse, format, add,
 * remove; bad items named), the addresses refused (unspecified, multicast,
 * broadcast, 240/4; IPv6 ::, multicast, IPv4-mapped, link-local, and
 * an IPv6 address without brackets), the kernel's route to a loopback
 * address (interface lo, source 127.0.0.1, local), and the filter rule's
 * exact text (the one a user reads before opting in).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lab/nftfilter.h"
#include "lab/target.h"

static struct target_portset set;

static void test_ports_round_trip(void **state)
{
	char err[128], buf[256];

	(void)state;
	assert_int_equal(target_ports_parse("8080,40000-40063\n", &set, err, sizeof err), 0);
	assert_int_equal(target_ports_format(&set, buf, sizeof buf), (int)strlen("8080,40000-40063"));
	assert_string_equal(buf, "8080,40000-40063");
	/* the kernel's own shapes: overlapping and unordered items merge */
	assert_int_equal(target_ports_parse("5, 3-4,1-2 ,65535", &set, err, sizeof err), 0);
	target_ports_format(&set, buf, sizeof buf);
	assert_string_equal(buf, "1-5,65535");
	assert_int_equal(target_ports_parse("", &set, err, sizeof err), 0);
	assert_int_equal(target_ports_format(&set, buf, sizeof buf), 0);
	assert_string_equal(buf, "");
}

static void test_ports_add_remove(void **state)
{
	char err[128], buf[256];

	(void)state;
	assert_int_equal(target_ports_parse("100-200", &set, err, sizeof err), 0);
	target_ports_add(&set, 300, 310);
	target_ports_remove(&set, 150, 160);
	target_ports_format(&set, buf, sizeof buf);
	assert_string_equal(buf, "100-149,161-200,300-310");
	target_ports_remove(&set, 0, 65535);
	target_ports_format(&set, buf, sizeof buf);
	assert_string_equal(buf, "");
}

static void test_ports_bad_items(void **state)
{
	char err[128];
	const char *bad[] = { "70000", "5-3", "1,,2", "abc", "1-", "-4", "1 2", "123456" };

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(target_ports_parse(bad[i], &set, err, sizeof err), -1);
		assert_non_null(strstr(err, "ports: bad item '"));
	}
	target_ports_parse("70000", &set, err, sizeof err);
	assert_string_equal(err, "ports: bad item '70000'");
}

static void test_format_too_small(void **state)
{
	char err[128], buf[6];

	(void)state;
	assert_int_equal(target_ports_parse("1,3,5,7,9", &set, err, sizeof err), 0);
	assert_int_equal(target_ports_format(&set, buf, sizeof buf), -1);
	assert_true(strlen(buf) < sizeof buf);
}

/* The range avoids busy ports and the target's port: only 50000-50099
 * is free, and 50010 is the target's, so 64 ports fit only at 50011. */
static void test_pick_avoids_busy_ports(void **state)
{
	static struct target_portset busy;
	char err[200];
	uint16_t lo = 0, hi = 0;

	(void)state;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	unsigned elo = 0, ehi = 0;
	if (!f || fscanf(f, "%u %u", &elo, &ehi) != 2 || elo > 50000 || ehi < 50100) {
		if (f)
			fclose(f);
		skip();   /* the ephemeral range is not the default one here */
	}
	fclose(f);
	memset(&busy, 0xff, sizeof busy);
	target_ports_remove(&busy, 50000, 50099);
	for (uint32_t seed = 1; seed < 2000; seed += 97) {
		assert_int_equal(target_ports_pick(64, 50010, seed, &busy, &lo, &hi, err, sizeof err), 0);
		assert_int_equal(lo, 50011);
		assert_int_equal(hi, 50074);
	}
	assert_int_equal(target_ports_pick(101, 0, 1, &busy, &lo, &hi, err, sizeof err), -1);
	assert_non_null(strstr(err, "ports: no free range of 101 ports in the ephemeral range"));
}

static void test_refused_addresses(void **state)
{
	struct lladdr a;
	char txt[LLADDR_STRLEN];
	char err[200];
	static const struct { const char *addr, *why; } refused[] = {
		{ "0.0.0.0", "--target 0.0.0.0: the unspecified address (0.0.0.0/8) cannot be a TCP server" },
		{ "0.1.2.3", "--target 0.1.2.3: the unspecified address (0.0.0.0/8) cannot be a TCP server" },
		{ "224.0.0.1", "--target 224.0.0.1: a multicast address cannot be a TCP server" },
		{ "239.255.255.250", "--target 239.255.255.250: a multicast address cannot be a TCP server" },
		{ "255.255.255.255", "--target 255.255.255.255: the broadcast address cannot be a TCP server" },
		{ "240.0.0.1", "--target 240.0.0.1: 240.0.0.0/4 is reserved, not a TCP server" },
		{ "::1", "--target ::1: IPv6 addresses go in brackets: [ADDR]:PORT" },
		{ "[::]", "--target [::]: the unspecified address (::) cannot be a TCP server" },
		{ "[ff02::1]", "--target [ff02::1]: a multicast address (ff00::/8) cannot be a TCP server" },
		{ "[::ffff:10.0.0.1]", "--target [::ffff:10.0.0.1]: an IPv4-mapped address (::ffff:0:0/96) is "
		                       "never on the wire; give the IPv4 address" },
		{ "[fe80::1]", "--target [fe80::1]: a link-local address (fe80::/10) needs a zone (an interface), "
		               "which --target cannot take" },
		{ "[febf::1]", "--target [febf::1]: a link-local address (fe80::/10) needs a zone (an interface), "
		               "which --target cannot take" },
		{ "[10.0.0.1]", "--target [10.0.0.1]: not an IPv6 address in brackets" },
		{ "fd6c::1:80", "--target fd6c::1:80: IPv6 addresses go in brackets: [ADDR]:PORT" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		assert_int_equal(target_resolve(refused[i].addr, &a, err, sizeof err), -1);
		assert_string_equal(err, refused[i].why);
	}
	assert_int_equal(target_resolve("127.0.0.1", &a, err, sizeof err), 0);
	assert_string_equal(lladdr_str(&a, txt, sizeof txt), "127.0.0.1");
	assert_int_equal(target_resolve("[::1]", &a, err, sizeof err), 0);
	assert_int_equal(a.af, 6);
	assert_string_equal(lladdr_str(&a, txt, sizeof txt), "::1");
	assert_int_equal(target_resolve("[fd6c:6c6c::2]", &a, err, sizeof err), 0);
	assert_string_equal(lladdr_str(&a, txt, sizeof txt), "fd6c:6c6c::2");
	/* a name resolves as the system resolves it (a minimal system may have
	 * no /etc/hosts: then there is nothing to hold it to) */
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	if (getaddrinfo("localhost", NULL, &hints, &ai) == 0) {
		freeaddrinfo(ai);
		assert_int_equal(target_resolve("localhost", &a, err, sizeof err), 0);
		assert_int_equal(a.af, 4);
		assert_int_equal(a.b[0], 127);
	}
}

static void test_route_to_loopback(void **state)
{
	struct target_route r;
	struct lladdr a;
	char err[200], src[LLADDR_STRLEN];

	(void)state;
	assert_int_equal(lladdr_parse("127.0.0.1", &a, err, sizeof err), 0);
	assert_int_equal(target_route(&a, &r, err, sizeof err), 0);
	assert_string_equal(r.iface, "lo");
	assert_true(r.local);
	assert_string_equal(lladdr_str(&r.src, src, sizeof src), "127.0.0.1");
	assert_int_equal(r.gateway.af, 0);
	/* ::1 when this host has IPv6 on its loopback (a kernel booted with
	 * ipv6.disable=1 has none: nothing to hold it to) */
	if (access("/proc/sys/net/ipv6/conf/lo/disable_ipv6", F_OK) == 0) {
		assert_int_equal(lladdr_parse("::1", &a, err, sizeof err), 0);
		if (target_route(&a, &r, err, sizeof err) == 0) {
			assert_string_equal(r.iface, "lo");
			assert_true(r.local);
			assert_string_equal(lladdr_str(&r.src, src, sizeof src), "::1");
			assert_int_equal(r.gateway.af, 0);
		} else {
			/* lo's IPv6 switched off: the kernel says so, by name */
			assert_non_null(strstr(err, "--target ::1"));
		}
	}
}

static void test_filter_rule_text(void **state)
{
	struct nftfilter_spec s;
	char buf[512], name[32];

	(void)state;
	memset(&s, 0, sizeof s);
	s.owner = 4242;
	assert_int_equal(lladdr_parse("10.201.1.2", &s.src, NULL, 0), 0);
	assert_int_equal(lladdr_parse("10.201.2.2", &s.dst, NULL, 0), 0);
	s.sport_lo = 40000;
	s.sport_hi = 40063;
	s.dport = 80;
	nftfilter_table_name(s.owner, name, sizeof name);
	assert_string_equal(name, "ll4242rst");
	nftfilter_rule(&s, buf, sizeof buf);
	assert_string_equal(buf, "ip saddr 10.201.1.2 ip daddr 10.201.2.2 tcp sport 40000-40063 tcp dport 80 "
	                         "tcp flags & rst == rst meta mark != 0x4c4c5254 counter drop");
	nftfilter_describe(&s, buf, sizeof buf);
	assert_non_null(strstr(buf, "table ip ll4242rst, chain out (hook output, policy accept): ip saddr"));
	/* IPv6: table ip6, ip6 saddr / daddr */
	assert_int_equal(lladdr_parse("fd6c::2", &s.src, NULL, 0), 0);
	assert_int_equal(lladdr_parse("fd6c:1::2", &s.dst, NULL, 0), 0);
	nftfilter_rule(&s, buf, sizeof buf);
	assert_string_equal(buf, "ip6 saddr fd6c::2 ip6 daddr fd6c:1::2 tcp sport 40000-40063 tcp dport 80 "
	                         "tcp flags & rst == rst meta mark != 0x4c4c5254 counter drop");
	nftfilter_describe(&s, buf, sizeof buf);
	assert_non_null(strstr(buf, "table ip6 ll4242rst, chain out (hook output, policy accept): ip6 saddr"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports_round_trip),
		cmocka_unit_test(test_ports_add_remove),
		cmocka_unit_test(test_ports_bad_items),
		cmocka_unit_test(test_format_too_small),
		cmocka_unit_test(test_pick_avoids_busy_ports),
		cmocka_unit_test(test_refused_addresses),
		cmocka_unit_test(test_route_to_loopback),
		cmocka_unit_test(test_filter_rule_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
