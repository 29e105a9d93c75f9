/*
 * pcapread.h - the records of a classic pcap file read straight from its
 * descriptor into a caller's buffer, in place, with libpcap standing in
 * for every record that is not plainly well-formed.
 *
 * libpcap reads a record with two fread() calls and hands it over in a
 * buffer of its own, which the caller then copies again. For the common
 * case (a regular file, pcap 2.4 in either byte order, microsecond or
 * nanosecond timestamps) this reader does large pread()s into the
 * caller's buffer and parses the 16-byte record headers where they lie,
 * giving exactly what pcap_next_ex() would give. Anything else - a header
 * or record cut by the end of the file, caplen beyond the snapshot length,
 * a read error - is handed to libpcap for that one record (seek its FILE
 * to the record, pcap_next_ex()), so its handling and its error text stay
 * libpcap's; the fast path goes on after it.
 *
 * The caller owns the buffers: records are parsed from b->mem[b->pos] on,
 * and a record's bytes stay where they are until the caller reuses that
 * memory. When the next record does not fit in what is left of a buffer,
 * prd_next() says PRD_FULL: the caller keeps the records parsed so far,
 * moves the unparsed rest into a buffer of at least prd_need() bytes with
 * prd_carry(), and goes on with that one.
 */
#ifndef LL_ANALYZER_PCAPREAD_H
#define LL_ANALYZER_PCAPREAD_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct prd; /* opaque */

/* A buffer records are read into. mem[0..pos) holds records already
 * handed out, mem[pos..end) bytes read from the file but not parsed yet,
 * mem[end..size) room. Set mem and size, with pos = end = 0, for a fresh
 * buffer; prd_next() and prd_carry() move pos and end. */
struct prd_buf {
	uint8_t *mem;
	size_t size;
	size_t pos;
	size_t end;
};

struct prd_rec {
	struct pcap_pkthdr h;  /* as pcap_next_ex() gives it */
	size_t off;            /* frame bytes at b->mem + off */
	uint64_t end;          /* file offset right after the record */
};

enum prd_status {
	PRD_REC,    /* *rec is the next record */
	PRD_EOF,    /* the file ended after the last record */
	PRD_ERROR,  /* libpcap refused this record: prd_error() says why */
	PRD_FULL,   /* no room in b: carry on in a buffer of prd_need() bytes */
};

/* A reader for p, an offline capture just opened by libpcap, or NULL when
 * this fast path does not apply to it (not a regular file, pcapng, another
 * pcap version or magic, a link type whose pseudo-header libpcap rewrites,
 * timestamps asked for in nanoseconds, the FILE not right after the file
 * header) or memory is short; then read p with pcap_next_ex() as usual.
 * p stays the caller's and must outlive the reader; while the reader is
 * used, read p only through it. */
struct prd *prd_open(pcap_t *p);

/* Where a stream's bytes come from (zread.h's zr_read_raw()): bytes read
 * into buf (at most n), 0 at the end, -1 on an error. */
typedef ssize_t (*prd_read_fn)(void *ctx, void *buf, size_t n);

/* Stream mode, for a capture that cannot be read twice (decompressed, a
 * pipe): p was opened by pcap_fopen_offline() over a FILE that has handed
 * libpcap exactly the 24-byte file header hdr and holds nothing read
 * ahead; fn(ctx) gives the bytes after it. The same records as libpcap;
 * at the first record that is not plainly well-formed, libpcap takes over
 * for the rest of the stream (a handle of the reader's own over the file
 * header, the bytes not parsed yet and the rest of fn), so its handling
 * and messages stay libpcap's. NULL when the fast path does not apply;
 * then read p with pcap_next_ex(). prd_tell() is then an estimate once
 * libpcap took over. */
struct prd *prd_open_stream(pcap_t *p, const uint8_t *hdr, prd_read_fn fn,
                            void *ctx);

/* The next record, read into b. After PRD_EOF or PRD_ERROR, do not call
 * again. */
enum prd_status prd_next(struct prd *r, struct prd_buf *b,
                         struct prd_rec *rec);

/* After PRD_FULL: the size a buffer needs (from pos 0) for the next
 * record. */
size_t prd_need(const struct prd *r);

/* After PRD_FULL: move from's unparsed bytes to the start of to (to->size
 * must be at least prd_need()); to->pos becomes 0. from is only read, so
 * its records may already be in another thread's hands. */
void prd_carry(const struct prd_buf *from, struct prd_buf *to);

/* Why the last prd_next() said PRD_ERROR (libpcap's text, or ours for a
 * failed seek). */
const char *prd_error(const struct prd *r);

/* File offset right after the last record handed out. */
uint64_t prd_tell(const struct prd *r);

/* Leave p's FILE right after the last record handed out (so p can go on
 * with pcap_next_ex()), and free the reader. NULL is fine. Returns 0, or
 * -1 if the seek failed (the reader is freed all the same). */
int prd_close(struct prd *r);

#endif
