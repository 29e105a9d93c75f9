/*
 * zread.h - a capture's bytes decompressed as they are read, for libpcap:
 * gzip (zlib), zstd (libzstd) and xz (liblzma), told apart by their first
 * bytes (the magic numbers of RFC 1952, RFC 8878 and the .xz format
 * specification), never by a file's name, so a pipe (`zcat`-less
 * `lingerlab analyze -r - < x.pcap.zst`) works as a file does.
 *
 * The result is a stdio FILE (fopencookie) that libpcap reads with
 * pcap_fopen_offline(); decompression runs in whichever thread reads it
 * (capture.c's reader thread, beside the analyzer). Concatenated gzip
 * members, zstd frames and xz streams are read one after the other, as
 * zcat, zstdcat and xzcat do. A compressed stream cut short or corrupt is
 * a read error (errno EIO), never a quiet end of the capture: zr_error()
 * then says what the library found.
 *
 * Ownership: zr_fopen() takes fd; fclose() on the FILE (pcap_close() does
 * it) frees the reader and closes fd. The struct zr stays valid until then.
 */
#ifndef LL_ANALYZER_ZREAD_H
#define LL_ANALYZER_ZREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

enum zr_kind { ZR_NONE = 0, ZR_GZIP, ZR_ZSTD, ZR_XZ };

/* Bytes zr_detect() needs to tell every kind (the xz magic is 6). */
#define ZR_MAGIC_LEN 6

/* What the first n bytes of a stream say it is. */
enum zr_kind zr_detect(const uint8_t *p, size_t n);

/* "none", "gzip", "zstd", "xz" */
const char *zr_kind_name(enum zr_kind k);

struct zr; /* opaque */

/*
 * A FILE reading the stream on fd decompressed (kind ZR_NONE: as it is),
 * whose first npeek bytes (at most ZR_MAGIC_LEN) the caller already read
 * from fd into peek: they are read again first. *zr_out (if not NULL)
 * gets the reader, for zr_error() and zr_bytes_in(). Returns NULL with
 * "what: why" in err when memory or the library fails; fd is then closed.
 */
FILE *zr_fopen(int fd, const uint8_t *peek, size_t npeek, enum zr_kind kind,
               struct zr **zr_out, char *err, size_t errlen);

/* Why the last read failed ("gzip: compressed data cut short", ...), or
 * NULL if none did. */
const char *zr_error(const struct zr *z);

/* The first bytes of the (decompressed) stream, kept as they were handed
 * out: at most ZR_HEAD_MAX, so a capture's magic number and, for pcapng,
 * its section and interface blocks (pngmeta.h) can be read once libpcap
 * has read its header. *p points into the reader (valid until fclose). */
#define ZR_HEAD_MAX (64u << 10)
size_t zr_head(const struct zr *z, const uint8_t **p);

/* The FILE hands out the stream's first ZR_FIRST_READ bytes (a classic
 * pcap file header) in reads of their own, so that libpcap's open leaves
 * nothing read ahead; after it, when zr_nothing_buffered(f), the rest can
 * be read with zr_read_raw(z, ...) instead of through f (pcapread.h's
 * stream mode). zr_read_raw() returns bytes read, 0 at the end, -1 with
 * zr_error() set. */
#define ZR_FIRST_READ 24u
ssize_t zr_read_raw(void *z, void *buf, size_t n);
bool zr_nothing_buffered(FILE *f);

/* Compressed bytes read from fd so far (for progress against the file's
 * size). */
uint64_t zr_bytes_in(const struct zr *z);

#endif
