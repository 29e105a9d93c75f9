/*
 * fuzz_addr.c - libFuzzer target over the address parsers of lab/addr.h,
 * which take what a user types (--target ADDR:PORT, [IPV6]:PORT): the
 * input, cut at its first NUL, goes to lladdr_parse_hostport() and to
 * lladdr_parse().
 *
 * Besides "no crash, no overread", the contract:
 *   success: a family of 4 or 6, a port 1..65535, IPv4 bytes 4..15 zero;
 *     printing it with lladdr_str_port() and parsing that again gives the
 *     same address and port (the round trip reports and --target share),
 *     and an IPv6 address is printed in brackets;
 *   failure: the address is cleared (af 0), the port 0, and the message is
 *     one NUL-terminated line within the buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/addr.h"

#define check(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

static void check_message(const char *err, size_t len)
{
	size_t n = strnlen(err, len);

	check(n < len);
	check(n > 0);
	check(strchr(err, '\n') == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[128], err[160], buf[LLADDR_PORTSTRLEN], err2[160];
	static const uint8_t zero[16];
	struct lladdr a, b;
	uint16_t port, port2;
	size_t n = size < sizeof s - 1 ? size : sizeof s - 1;

	memcpy(s, data, n);
	s[n] = '\0';
	memset(err, 0x55, sizeof err);
	if (lladdr_parse_hostport(s, &a, &port, err, sizeof err) == 0) {
		check(a.af == 4 || a.af == 6);
		check(port >= 1);
		if (a.af == 4)
			check(memcmp(a.b + 4, zero, 12) == 0);
		lladdr_str_port(&a, port, buf, sizeof buf);
		check(strlen(buf) < sizeof buf);
		check((buf[0] == '[') == (a.af == 6));
		check(lladdr_parse_hostport(buf, &b, &port2, err2, sizeof err2) == 0);
		check(lladdr_eq(&a, &b) && port == port2);
	} else {
		check(a.af == 0 && port == 0);
		check_message(err, sizeof err);
	}
	memset(err, 0x55, sizeof err);
	if (lladdr_parse(s, &a, err, sizeof err) == 0) {
		check(a.af == 4 || a.af == 6);
		lladdr_str(&a, buf, sizeof buf);
		check(lladdr_parse(buf, &b, NULL, 0) == 0 && lladdr_eq(&a, &b));
	} else {
		check(a.af == 0);
		check_message(err, sizeof err);
	}
	return 0;
}
