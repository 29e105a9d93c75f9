/*
 * fuzz_tls.c - libFuzzer target for the TLS record reader (analyzer/tls.c):
 * the input is one direction's byte stream, cut into segments at points
 * the first bytes choose, some of them captured short (snaplen) or sent
 * again, some skipped (a hole). Whatever the bytes, the reader stays in
 * bounds and what it reports holds together.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "analyzer/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_dir t;
	uint8_t types[TLS_RING + 1];
	size_t ctl = size < 8 ? size : 8, off = ctl, k = 0;
	uint32_t seq = 1000;

	tls_begin(&t, seq);
	while (off < size) {
		uint8_t c = data[k++ % (ctl ? ctl : 1)];
		size_t len = 1 + (size_t)(c & 0x3f) * 7;
		if (len > size - off)
			len = size - off;
		uint32_t caplen = (c & 0x40) ? (uint32_t)(len / 2) : (uint32_t)len;
		if ((c & 0xc0) == 0xc0) {
			/* a hole: these bytes never reach the capture */
		} else {
			tls_segment(&t, seq, data + off, caplen, (uint32_t)len, NULL);
			if (c & 0x80) /* the same segment again */
				tls_segment(&t, seq, data + off, caplen, (uint32_t)len, NULL);
		}
		seq += (uint32_t)len;
		off += len;
	}
	uint32_t n = tls_records_in(&t, 1000, seq, types, TLS_RING + 1);
	if (n > TLS_RING + 1 || t.n > TLS_RING || (t.records == 0 && n != 0))
		abort();
	for (uint32_t i = 0; i < n && i < TLS_RING + 1; i++)
		if (types[i] < 20 || types[i] > 24)
			abort();
	return 0;
}
