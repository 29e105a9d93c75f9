/*
 * zcatloop.c - the floor for compressed captures in `make bench`:
 * decompress a gzip, zstd or xz file with the same library lingerlab uses
 * (zlib, libzstd, liblzma) into a 256 KiB buffer and throw the bytes
 * away, as `zcat >/dev/null` does but without the pipe. Reading the same
 * file with `lingerlab analyze` should cost no more than this loop or the
 * analysis of the uncompressed file, whichever is longer: decompression
 * runs in the reader thread beside the analyzer.
 *
 *   zcatloop gzip|zstd|xz FILE     prints the decompressed byte count
 */
#include <lzma.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define BUF (256u << 10)

static uint8_t in[BUF], out[BUF];

int main(int argc, char **argv)
{
	uint64_t total = 0;
	size_t n;
	FILE *f;

	if (argc != 3 || !(f = fopen(argv[2], "rb"))) {
		fprintf(stderr, "usage: zcatloop gzip|zstd|xz FILE\n");
		return 2;
	}
	if (!strcmp(argv[1], "gzip")) {
		z_stream s = { 0 };
		int rc = Z_OK;

		if (inflateInit2(&s, 15 + 32) != Z_OK)
			return 1;
		while (rc != Z_STREAM_END && (n = fread(in, 1, BUF, f)) > 0) {
			s.next_in = in;
			s.avail_in = (uInt)n;
			do {
				s.next_out = out;
				s.avail_out = BUF;
				rc = inflate(&s, Z_NO_FLUSH);
				if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
					return 1;
				total += BUF - s.avail_out;
			} while (s.avail_out == 0);
		}
		inflateEnd(&s);
	} else if (!strcmp(argv[1], "zstd")) {
		ZSTD_DCtx *d = ZSTD_createDCtx();

		while ((n = fread(in, 1, BUF, f)) > 0) {
			ZSTD_inBuffer i = { in, n, 0 };
			while (i.pos < i.size) {
				ZSTD_outBuffer o = { out, BUF, 0 };
				if (ZSTD_isError(ZSTD_decompressStream(d, &o, &i)))
					return 1;
				total += o.pos;
			}
		}
		ZSTD_freeDCtx(d);
	} else {
		lzma_stream s = LZMA_STREAM_INIT;
		lzma_ret rc = LZMA_OK;

		if (lzma_stream_decoder(&s, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
			return 1;
		while (rc != LZMA_STREAM_END) {
			if (s.avail_in == 0) {
				n = fread(in, 1, BUF, f);
				s.next_in = in;
				s.avail_in = n;
			}
			s.next_out = out;
			s.avail_out = BUF;
			rc = lzma_code(&s, s.avail_in == 0 ? LZMA_FINISH : LZMA_RUN);
			if (rc != LZMA_OK && rc != LZMA_STREAM_END)
				return 1;
			total += BUF - s.avail_out;
		}
		lzma_end(&s);
	}
	printf("%llu\n", (unsigned long long)total);
	fclose(f);
	return 0;
}
