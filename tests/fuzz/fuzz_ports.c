/*
 * fuzz_ports.c - libFuzzer target over the reserved-ports list parser
 * (lab/target.h: target_ports_parse, the format of
 * net.ipv4.ip_local_reserved_ports).
 *
 * Invariants: a parse either succeeds or leaves a NUL-terminated
 * "ports: bad item '...'" message within errlen; a list that parsed
 * formats back to one that parses to the very same set (format is a fixed
 * point: format(parse(format(s))) == format(s)).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lab/target.h"

static struct target_portset a, b;
static char out1[65536 * 7], out2[65536 * 7];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[64];
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(err, 'x', sizeof err);
	if (target_ports_parse(s, &a, err, sizeof err) < 0) {
		if (!memchr(err, '\0', sizeof err) || strncmp(err, "ports: bad item '", 17) != 0)
			abort();
	} else {
		if (target_ports_format(&a, out1, sizeof out1) < 0)
			abort();
		if (target_ports_parse(out1, &b, err, sizeof err) < 0 || memcmp(&a, &b, sizeof a) != 0)
			abort();
		if (target_ports_format(&b, out2, sizeof out2) < 0 || strcmp(out1, out2) != 0)
			abort();
	}
	free(s);
	return 0;
}
