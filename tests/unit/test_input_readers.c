/*
 * test_input_readers.c - the small readers beside capture.c: pngmeta.c
 * (pcapng section and interface blocks, every prefix and odd lengths
 * read from an exact heap copy) and zread.c (compression told by content,
 * every kind decompressed through the FILE with reads of any size, a cut
 * stream an error with its reason).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "analyzer/pngmeta.h"
#include "analyzer/zread.h"

/* ---- a pcapng head, built little-endian ------------------------------------- */

struct bld {
	uint8_t b[2048];
	size_t n;
};

static void le16(struct bld *x, uint16_t v) { x->b[x->n++] = (uint8_t)v; x->b[x->n++] = (uint8_t)(v >> 8); }
static void le32(struct bld *x, uint32_t v) { le16(x, (uint16_t)v); le16(x, (uint16_t)(v >> 16)); }

static void opt(struct bld *x, uint16_t code, const char *v)
{
	size_t n = strlen(v);

	le16(x, code);
	le16(x, (uint16_t)n);
	memcpy(x->b + x->n, v, n);
	x->n += n;
	while (x->n % 4)
		x->b[x->n++] = 0;
}

/* a block's type and length around body-building code */
static size_t open_block(struct bld *x, uint32_t type)
{
	size_t at = x->n;

	le32(x, type);
	le32(x, 0);             /* length, set by close_block */
	return at;
}

static void close_block(struct bld *x, size_t at)
{
	uint32_t n = (uint32_t)(x->n - at + 4);

	memcpy(x->b + at + 4, &n, 4);   /* little-endian host */
	le32(x, n);
}

static void build_head(struct bld *x)
{
	size_t at;

	x->n = 0;
	at = open_block(x, 0x0A0D0D0A);
	le32(x, 0x1A2B3C4D); le16(x, 1); le16(x, 0); le32(x, 0xffffffff); le32(x, 0xffffffff);
	opt(x, 1, "bench capture");
	opt(x, 4, "dumpcap (Wireshark) 4.0");
	opt(x, 0, "");
	close_block(x, at);
	at = open_block(x, 1);
	le16(x, 1); le16(x, 0); le32(x, 262144);
	opt(x, 2, "eth0");
	opt(x, 1, "span port");
	opt(x, 0, "");
	close_block(x, at);
	at = open_block(x, 1);
	le16(x, 113); le16(x, 0); le32(x, 65535);    /* Linux cooked, no options */
	close_block(x, at);
	at = open_block(x, 6);                        /* a packet: the end */
	le32(x, 0); le32(x, 0); le32(x, 0); le32(x, 0); le32(x, 0);
	close_block(x, at);
}

static int parse_copy(const uint8_t *p, size_t n, struct png_meta *m)
{
	uint8_t *c = malloc(n ? n : 1);
	int rc;

	assert_non_null(c);
	memcpy(c, p, n);
	rc = png_meta_parse(n ? c : NULL, n, m);
	free(c);
	return rc;
}

static void test_pngmeta(void **state)
{
	struct bld x;
	struct png_meta *m = malloc(sizeof(*m));

	(void)state;
	assert_non_null(m);
	build_head(&x);
	assert_int_equal(parse_copy(x.b, x.n, m), 0);
	assert_int_equal(m->n_comments, 1);
	assert_string_equal(m->comments[0].s, "bench capture");
	assert_string_equal(m->application.s, "dumpcap (Wireshark) 4.0");
	assert_false(m->hardware.present);
	assert_int_equal(m->n_ifs, 2);
	assert_string_equal(m->ifs[0].name.s, "eth0");
	assert_int_equal(m->ifs[0].link_type, 1);
	assert_int_equal(m->ifs[0].n_comments, 1);
	assert_string_equal(m->ifs[0].comments[0].s, "span port");
	assert_int_equal(m->ifs[1].link_type, 113);
	assert_false(m->ifs[1].name.present);

	/* every prefix: no overread, and what is whole is kept */
	for (size_t n = 0; n <= x.n; n++) {
		int rc = parse_copy(x.b, n, m);

		assert_true(rc == 0 || rc == -1);
		assert_true(m->n_ifs <= 2);
	}

	/* an option longer than its block is malformed: -1, nothing past it */
	build_head(&x);
	x.b[27] = 0xff;          /* the high byte of the comment's length (SHB) */
	assert_int_equal(parse_copy(x.b, x.n, m), -1);
	/* not pcapng at all */
	assert_int_equal(parse_copy((const uint8_t *)"\xd4\xc3\xb2\xa1garbage!", 12, m), -1);
	free(m);
}

/* ---- zread ----------------------------------------------------------------- */

#define PLAIN_LEN 200000

static uint8_t *plain_bytes(void)
{
	uint8_t *p = malloc(PLAIN_LEN);
	uint32_t x = 1;

	assert_non_null(p);
	for (size_t i = 0; i < PLAIN_LEN; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)((x >> 16) % 7 + 'a');   /* compressible */
	}
	return p;
}

static size_t compress_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(deflateInit2(&s, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	s.next_in = (Bytef *)in;
	s.avail_in = (uInt)n;
	s.next_out = out;
	s.avail_out = (uInt)cap;
	assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
	deflateEnd(&s);
	return cap - s.avail_out;
}

static size_t compress_kind(enum zr_kind k, const uint8_t *in, size_t n,
                            uint8_t *out, size_t cap)
{
	size_t got = 0;

	switch (k) {
	case ZR_GZIP:
		return compress_gzip(in, n, out, cap);
	case ZR_ZSTD:
		got = ZSTD_compress(out, cap, in, n, 3);
		assert_false(ZSTD_isError(got));
		return got;
	case ZR_XZ:
		assert_int_equal(lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, NULL, in, n,
		                                         out, &got, cap), LZMA_OK);
		return got;
	default:
		memcpy(out, in, n);
		return n;
	}
}

/* fd reading the bytes p[0..n), through a pipe fed by a child */
static int pipe_of(const uint8_t *p, size_t n)
{
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		for (size_t off = 0; off < n;) {
			ssize_t w = write(fds[1], p + off, n - off);
			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		_exit(0);
	}
	close(fds[1]);
	return fds[0];
}

/* Decompress through the FILE with freads of `step` bytes. Returns the
 * bytes read into out, and whether ferror() was set. */
static size_t read_all(enum zr_kind k, const uint8_t *c, size_t n, size_t step,
                       uint8_t *out, size_t cap, bool *error, const char **why)
{
	uint8_t peek[ZR_MAGIC_LEN];
	size_t np = n < ZR_MAGIC_LEN ? n : ZR_MAGIC_LEN, got = 0;
	int fd = pipe_of(c, n);
	struct zr *z = NULL;
	char err[128];
	FILE *f;

	/* the caller has read the magic already, as capture.c does */
	assert_int_equal(read(fd, peek, np), (ssize_t)np);
	assert_int_equal(zr_detect(peek, np), k);
	f = zr_fopen(fd, peek, np, k, &z, err, sizeof(err));
	assert_non_null(f);
	for (;;) {
		size_t r = fread(out + got, 1, step < cap - got ? step : cap - got, f);

		got += r;
		if (r == 0 || got == cap)
			break;
	}
	*error = ferror(f) != 0;
	*why = zr_error(z) ? strdup(zr_error(z)) : NULL;
	fclose(f);
	while (wait(NULL) > 0)
		;
	return got;
}

static void test_zread_kinds(void **state)
{
	static const enum zr_kind kinds[] = { ZR_NONE, ZR_GZIP, ZR_ZSTD, ZR_XZ };
	uint8_t *plain = plain_bytes();
	uint8_t *comp = malloc(PLAIN_LEN + 1024), *out = malloc(PLAIN_LEN + 16);

	(void)state;
	assert_non_null(comp);
	assert_non_null(out);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t cn = compress_kind(kinds[i], plain, PLAIN_LEN, comp, PLAIN_LEN + 1024);
		static const size_t steps[] = { 1, 16, 4096, 1 << 20 };

		for (size_t s = 0; s < 4; s++) {
			bool error;
			const char *why;
			size_t got = read_all(kinds[i], comp, cn, steps[s], out,
			                      PLAIN_LEN + 16, &error, &why);

			assert_false(error);
			assert_null(why);
			assert_int_equal(got, PLAIN_LEN);
			assert_memory_equal(out, plain, PLAIN_LEN);
		}
		if (kinds[i] != ZR_NONE) {
			/* cut: a read error with the kind's own reason */
			bool error;
			const char *why;
			char want[64];

			read_all(kinds[i], comp, cn - 10, 4096, out, PLAIN_LEN + 16,
			         &error, &why);
			assert_true(error);
			assert_non_null(why);
			snprintf(want, sizeof(want), "%s: compressed data cut short",
			         zr_kind_name(kinds[i]));
			assert_string_equal(why, want);
			free((void *)why);
		}
	}
	free(plain);
	free(comp);
	free(out);
}

static void test_zread_detect(void **state)
{
	(void)state;
	assert_int_equal(zr_detect((const uint8_t *)"\x1f\x8b\x08", 3), ZR_GZIP);
	assert_int_equal(zr_detect((const uint8_t *)"\x28\xb5\x2f\xfd", 4), ZR_ZSTD);
	assert_int_equal(zr_detect((const uint8_t *)"\xfd" "7zXZ\0", 6), ZR_XZ);
	assert_int_equal(zr_detect((const uint8_t *)"\xfd" "7zX", 4), ZR_NONE);
	assert_int_equal(zr_detect((const uint8_t *)"\xd4\xc3\xb2\xa1", 4), ZR_NONE);
	assert_int_equal(zr_detect((const uint8_t *)"\x1f", 1), ZR_NONE);
	assert_string_equal(zr_kind_name(ZR_XZ), "xz");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pngmeta),
		cmocka_unit_test(test_zread_detect),
		cmocka_unit_test(test_zread_kinds),
	};
	return cmocka_run_group_tests_name("input_readers", tests, NULL, NULL);
}
