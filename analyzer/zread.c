/*
 * zread.c - decompressing FILEs for libpcap (see zread.h).
 *
 * One cookie read fills the caller's buffer (stdio's, which zr_fopen()
 * makes ZR_OUTBUF bytes, so libpcap's small freads of headers and records
 * cost a memcpy, not a library call) straight from the decompressor: no
 * buffer of our own in between. Compressed input is read from fd ZR_INBUF
 * bytes at a time.
 */
#include "analyzer/zread.h"

#include <errno.h>
#include <lzma.h>
#include <stdio_ext.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define ZR_INBUF  (256u << 10)
#define ZR_OUTBUF (256u << 10)

struct zr {
	enum zr_kind kind;
	int fd;
	uint8_t *in;             /* compressed bytes: in[pos..len) unread */
	size_t pos, len;
	bool in_eof;             /* fd said end of file */
	bool done;               /* the stream ended cleanly, nothing follows */
	uint64_t bytes_in;
	const char *err;         /* static text, or NULL */
	uint8_t *head;           /* the first ZR_HEAD_MAX bytes handed out */
	size_t n_head;
	union {
		z_stream gz;
		lzma_stream xz;
	} u;
	ZSTD_DCtx *zs;
	bool zs_mid;             /* a zstd frame begun and not finished */
};

enum zr_kind zr_detect(const uint8_t *p, size_t n)
{
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return ZR_GZIP;                          /* RFC 1952 2.3.1 */
	if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f &&
	    p[3] == 0xfd)
		return ZR_ZSTD;                          /* RFC 8878 3.1.1 */
	if (n >= 6 && memcmp(p, "\xfd" "7zXZ\0", 6) == 0)
		return ZR_XZ;                            /* xz format 2.1.1.1 */
	return ZR_NONE;
}

const char *zr_kind_name(enum zr_kind k)
{
	switch (k) {
	case ZR_GZIP: return "gzip";
	case ZR_ZSTD: return "zstd";
	case ZR_XZ:   return "xz";
	default:      return "none";
	}
}

const char *zr_error(const struct zr *z)
{
	return z ? z->err : NULL;
}

uint64_t zr_bytes_in(const struct zr *z)
{
	return z ? z->bytes_in : 0;
}

/* More compressed bytes into in[], when all were used. -1: a read error
 * (z->err set). */
static int refill(struct zr *z)
{
	ssize_t n;

	if (z->pos < z->len || z->in_eof)
		return 0;
	do
		n = read(z->fd, z->in, ZR_INBUF);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		z->err = "read error";
		return -1;
	}
	z->pos = 0;
	z->len = (size_t)n;
	z->bytes_in += (uint64_t)n;
	if (n == 0)
		z->in_eof = true;
	return 0;
}

static ssize_t fail_io(struct zr *z, const char *why)
{
	z->err = why;
	errno = EIO;
	return -1;
}

/* Uncompressed: what is in in[] first, then fd directly. */
static ssize_t rd_none(struct zr *z, char *buf, size_t size)
{
	ssize_t n;

	if (z->pos < z->len) {
		size_t k = z->len - z->pos < size ? z->len - z->pos : size;

		memcpy(buf, z->in + z->pos, k);
		z->pos += k;
		return (ssize_t)k;
	}
	do
		n = read(z->fd, buf, size);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		z->bytes_in += (uint64_t)n;
	if (n < 0)
		z->err = "read error";
	return n;
}

static ssize_t rd_gzip(struct zr *z, char *buf, size_t size)
{
	z_stream *s = &z->u.gz;

	s->next_out = (Bytef *)buf;
	s->avail_out = (uInt)(size > UINT32_MAX ? UINT32_MAX : size);
	while (s->avail_out == size && !z->done) {
		int rc;

		if (refill(z) != 0)
			return fail_io(z, "gzip: read error");
		if (z->pos == z->len)
			return fail_io(z, "gzip: compressed data cut short");
		s->next_in = z->in + z->pos;
		s->avail_in = (uInt)(z->len - z->pos);
		rc = inflate(s, Z_NO_FLUSH);
		z->pos = z->len - s->avail_in;
		if (rc == Z_STREAM_END) {
			/* another member may follow (gzip -c a b, or zcat's
			 * input concatenated); anything else ends the file */
			if (refill(z) != 0)
				return fail_io(z, "gzip: read error");
			if (z->len - z->pos >= 2 && z->in[z->pos] == 0x1f &&
			    z->in[z->pos + 1] == 0x8b) {
				if (inflateReset(s) != Z_OK)
					return fail_io(z, "gzip: cannot restart");
			} else {
				z->done = true;
			}
		} else if (rc == Z_BUF_ERROR) {
			continue;       /* needs more input */
		} else if (rc != Z_OK) {
			return fail_io(z, rc == Z_MEM_ERROR ? "gzip: out of memory"
			                                    : "gzip: corrupt data");
		}
	}
	return (ssize_t)(size - s->avail_out);
}

static ssize_t rd_zstd(struct zr *z, char *buf, size_t size)
{
	ZSTD_outBuffer out = { buf, size, 0 };

	while (out.pos == 0) {
		ZSTD_inBuffer in;
		size_t rc;

		if (refill(z) != 0)
			return fail_io(z, "zstd: read error");
		if (z->pos == z->len) {
			if (z->zs_mid)
				return fail_io(z, "zstd: compressed data cut short");
			return 0;
		}
		in = (ZSTD_inBuffer){ z->in, z->len, z->pos };
		rc = ZSTD_decompressStream(z->zs, &out, &in);
		z->pos = in.pos;
		if (ZSTD_isError(rc))
			return fail_io(z, "zstd: corrupt data");
		z->zs_mid = rc != 0;
	}
	return (ssize_t)out.pos;
}

static ssize_t rd_xz(struct zr *z, char *buf, size_t size)
{
	lzma_stream *s = &z->u.xz;

	s->next_out = (uint8_t *)buf;
	s->avail_out = size;
	while (s->avail_out == size && !z->done) {
		lzma_ret rc;

		if (refill(z) != 0)
			return fail_io(z, "xz: read error");
		s->next_in = z->in + z->pos;
		s->avail_in = z->len - z->pos;
		rc = lzma_code(s, z->in_eof ? LZMA_FINISH : LZMA_RUN);
		z->pos = z->len - s->avail_in;
		if (rc == LZMA_STREAM_END)
			z->done = true;
		else if (rc == LZMA_BUF_ERROR && z->in_eof)
			return fail_io(z, "xz: compressed data cut short");
		else if (rc != LZMA_OK && rc != LZMA_BUF_ERROR)
			return fail_io(z, rc == LZMA_MEM_ERROR ? "xz: out of memory"
			                                       : "xz: corrupt data");
	}
	return (ssize_t)(size - s->avail_out);
}

static ssize_t zr_read(void *cookie, char *buf, size_t size)
{
	struct zr *z = cookie;
	ssize_t n;

	if (size == 0)
		return 0;
	/* The first ZR_FIRST_READ bytes come on their own, so that libpcap,
	 * reading a classic pcap file's header, leaves nothing behind in
	 * stdio's buffer and the records can be read past stdio
	 * (zr_read_raw(), pcapread.h's stream mode). */
	if (z->n_head < ZR_FIRST_READ && size > ZR_FIRST_READ - z->n_head)
		size = ZR_FIRST_READ - z->n_head;
	switch (z->kind) {
	case ZR_GZIP: n = rd_gzip(z, buf, size); break;
	case ZR_ZSTD: n = rd_zstd(z, buf, size); break;
	case ZR_XZ:   n = rd_xz(z, buf, size); break;
	default:      n = rd_none(z, buf, size); break;
	}
	if (n > 0 && z->n_head < ZR_HEAD_MAX && z->head) {
		size_t k = ZR_HEAD_MAX - z->n_head;

		if ((size_t)n < k)
			k = (size_t)n;
		memcpy(z->head + z->n_head, buf, k);
		z->n_head += k;
	}
	return n;
}

ssize_t zr_read_raw(void *z, void *buf, size_t n)
{
	return zr_read(z, buf, n);
}

bool zr_nothing_buffered(FILE *f)
{
	/* glibc's FILE: the bytes read ahead and not yet handed out */
	return f->_IO_read_ptr == f->_IO_read_end;
}

size_t zr_head(const struct zr *z, const uint8_t **p)
{
	*p = z->head;
	return z->n_head;
}

static void zr_free(struct zr *z)
{
	if (!z)
		return;
	switch (z->kind) {
	case ZR_GZIP: inflateEnd(&z->u.gz); break;
	case ZR_XZ:   lzma_end(&z->u.xz); break;
	default:      break;
	}
	ZSTD_freeDCtx(z->zs);
	z->zs = NULL;
	if (z->fd >= 0)
		close(z->fd);
	free(z->in);
	z->in = NULL;
	free(z->head);
	z->head = NULL;
	free(z);
}

static int zr_close(void *cookie)
{
	zr_free(cookie);
	return 0;
}

FILE *zr_fopen(int fd, const uint8_t *peek, size_t npeek, enum zr_kind kind,
               struct zr **zr_out, char *err, size_t errlen)
{
	static const cookie_io_functions_t io = { .read = zr_read,
	                                          .close = zr_close };
	struct zr *z = calloc(1, sizeof(*z));
	const char *why = "out of memory";
	FILE *f;

	if (!z) {
		close(fd);
		goto err;
	}
	z->kind = kind;
	z->fd = fd;
	z->in = malloc(ZR_INBUF);
	z->head = malloc(ZR_HEAD_MAX);
	if (!z->in || !z->head || npeek > ZR_INBUF)
		goto err_z;
	memcpy(z->in, peek, npeek);
	z->len = npeek;
	z->bytes_in = npeek;
	switch (kind) {
	case ZR_GZIP:
		/* 15 + 32: a window of up to 32 KiB, gzip or zlib header */
		if (inflateInit2(&z->u.gz, 15 + 32) != Z_OK) {
			why = "gzip: cannot start the decompressor";
			goto err_z;
		}
		break;
	case ZR_ZSTD:
		z->zs = ZSTD_createDCtx();
		if (!z->zs)
			goto err_z;
		break;
	case ZR_XZ:
		z->u.xz = (lzma_stream)LZMA_STREAM_INIT;
		if (lzma_stream_decoder(&z->u.xz, UINT64_MAX,
		                        LZMA_CONCATENATED) != LZMA_OK) {
			why = "xz: cannot start the decompressor";
			goto err_z;
		}
		break;
	default:
		break;
	}
	f = fopencookie(z, "r", io);
	if (!f)
		goto err_z;
	/* stdio's buffer is where the decompressor writes: make it large */
	(void)setvbuf(f, NULL, _IOFBF, ZR_OUTBUF);
	/* One thread reads it at a time (capture.c hands the capture to its
	 * reader thread and back): no lock per fread. libpcap makes two
	 * freads a record, and the locks were a fifth of the time. */
	(void)__fsetlocking(f, FSETLOCKING_BYCALLER);
	if (zr_out)
		*zr_out = z;
	return f;
err_z:
	/* inflateEnd() and lzma_end() on a stream never started (zeroed by
	 * calloc) do nothing */
	zr_free(z);
err:
	snprintf(err, errlen, "%s", why);
	return NULL;
}
