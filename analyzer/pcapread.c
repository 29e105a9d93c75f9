/*
 * pcapread.c - classic pcap records read in place, libpcap standing in for
 * the odd ones (see pcapread.h).
 *
 * What libpcap 1.10 does with a record of a pcap 2.4 file opened with
 * microsecond precision (sf-pcap.c, pcap_next_packet), and so what we do:
 * the four header words are in the file's byte order; seconds and the
 * fraction are signed 32-bit values in a file of our byte order but
 * unsigned ones in a byte-swapped file (libpcap 1.10's SWAPLONG gives an
 * unsigned value: seen with 1.10.3, and the differential fuzzer holds us
 * to it); a nanosecond file's fraction is divided by 1000 (C division,
 * towards zero); caplen beyond the link
 * type's maximum is an error, beyond the snapshot length it is cut to it
 * (the rest skipped); caplen 0 or caplen > len are handed on as they are.
 * We take only records with caplen <= both limits, completely in the
 * file; libpcap does the rest. Files of versions before 2.4 may have
 * caplen and len the other way round, and libpcap rewrites the pseudo-
 * header of some link types in byte-swapped files: such files are not
 * ours at all.
 */
#include "analyzer/pcapread.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PRD_FILE_HDR   24u
#define PRD_REC_HDR    16u
#define PRD_MAX_CAPLEN 262144u  /* libpcap's MAXIMUM_SNAPLEN: its limit for
                                   every link type we take */
#define PRD_MAGIC      0xa1b2c3d4u
#define PRD_MAGIC_NS   0xa1b23c4du

struct prd {
	pcap_t *p;
	FILE *f;
	int fd;
	/* stream mode (prd_open_stream): bytes come from rfn, and the odd
	 * records go to p2, a libpcap handle over the file header, the bytes
	 * not parsed yet and the rest of the stream */
	prd_read_fn rfn;
	void *rctx;
	uint8_t fhdr[PRD_FILE_HDR];
	pcap_t *p2;
	bool swapped;       /* header words are in the other byte order */
	bool nsec;          /* the fraction is in nanoseconds */
	bool at_eof;        /* pread() said end of file */
	uint32_t maxcap;    /* largest caplen we take ourselves */
	uint64_t foff;      /* file offset of the byte after the last one read
	                       (the caller's b->mem[b->end]) */
	uint64_t done;      /* file offset after the last record handed out */
	size_t need;        /* after PRD_FULL */
	/* a record libpcap read, waiting for room in the caller's buffer;
	 * its bytes stay valid until the next pcap_next_ex() */
	bool pend;
	struct pcap_pkthdr pend_h;
	const u_char *pend_data;
	uint64_t pend_end;
	bool own_err;       /* err holds our message, not libpcap's */
	char err[PCAP_ERRBUF_SIZE];
};

/* Link types whose records libpcap hands on as they are in the file (no
 * pseudo-header rewrite for byte-swapped files) and whose caplen limit is
 * PRD_MAX_CAPLEN. 14 is raw IP as OpenBSD numbers it. */
static bool plain_linktype(int dlt, bool swapped)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
	case 14:
	case DLT_IPV4:
	case DLT_IPV6:
		return true;
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
		return !swapped;    /* libpcap swaps a SocketCAN id in these */
	default:
		return false;
	}
}

static uint32_t get32(const uint8_t *q, bool swapped)
{
	uint32_t v;

	memcpy(&v, q, sizeof(v));
	return swapped ? __builtin_bswap32(v) : v;
}

struct prd *prd_open(pcap_t *p)
{
	uint8_t hdr[PRD_FILE_HDR];
	struct prd *r;
	struct stat st;
	uint32_t magic;
	ssize_t n;
	FILE *f;
	int fd, snap;

	f = pcap_file(p);
	if (!f)
		return NULL;
	fd = fileno(f);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	if (pcap_get_tstamp_precision(p) != PCAP_TSTAMP_PRECISION_MICRO ||
	    pcap_major_version(p) != 2 || pcap_minor_version(p) != 4)
		return NULL;
	if (ftello(f) != (off_t)PRD_FILE_HDR)
		return NULL;
	do
		n = pread(fd, hdr, sizeof(hdr), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(hdr))
		return NULL;
	memcpy(&magic, hdr, sizeof(magic));
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (magic == PRD_MAGIC || magic == PRD_MAGIC_NS) {
		r->swapped = false;
	} else if (magic == __builtin_bswap32(PRD_MAGIC) ||
	           magic == __builtin_bswap32(PRD_MAGIC_NS)) {
		r->swapped = true;
		magic = __builtin_bswap32(magic);
	} else {
		goto no;        /* pcapng, or a modified pcap format */
	}
	/* libpcap must have read the same file the same way */
	if ((pcap_is_swapped(p) != 0) != r->swapped)
		goto no;
	if (!plain_linktype(pcap_datalink(p), r->swapped))
		goto no;
	snap = pcap_snapshot(p);
	if (snap <= 0)
		goto no;
	r->maxcap = (uint32_t)snap < PRD_MAX_CAPLEN ? (uint32_t)snap
	                                            : PRD_MAX_CAPLEN;
	r->nsec = magic == PRD_MAGIC_NS;
	r->p = p;
	r->f = f;
	r->fd = fd;
	r->foff = PRD_FILE_HDR;
	r->done = PRD_FILE_HDR;
	return r;
no:
	free(r);
	return NULL;
}

struct prd *prd_open_stream(pcap_t *p, const uint8_t *hdr, prd_read_fn fn,
                            void *ctx)
{
	struct prd *r;
	uint32_t magic;
	int snap;

	if (!hdr || !fn ||
	    pcap_get_tstamp_precision(p) != PCAP_TSTAMP_PRECISION_MICRO ||
	    pcap_major_version(p) != 2 || pcap_minor_version(p) != 4)
		return NULL;
	memcpy(&magic, hdr, sizeof(magic));
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (magic == PRD_MAGIC || magic == PRD_MAGIC_NS) {
		r->swapped = false;
	} else if (magic == __builtin_bswap32(PRD_MAGIC) ||
	           magic == __builtin_bswap32(PRD_MAGIC_NS)) {
		r->swapped = true;
		magic = __builtin_bswap32(magic);
	} else {
		goto no;
	}
	if ((pcap_is_swapped(p) != 0) != r->swapped ||
	    !plain_linktype(pcap_datalink(p), r->swapped))
		goto no;
	snap = pcap_snapshot(p);
	if (snap <= 0)
		goto no;
	r->maxcap = (uint32_t)snap < PRD_MAX_CAPLEN ? (uint32_t)snap
	                                            : PRD_MAX_CAPLEN;
	r->nsec = magic == PRD_MAGIC_NS;
	r->p = p;
	r->fd = -1;
	r->rfn = fn;
	r->rctx = ctx;
	memcpy(r->fhdr, hdr, PRD_FILE_HDR);
	r->foff = PRD_FILE_HDR;
	r->done = PRD_FILE_HDR;
	return r;
no:
	free(r);
	return NULL;
}

static enum prd_status full(struct prd *r, size_t need)
{
	r->need = need;
	return PRD_FULL;
}

/* Read what fits after b->end. 0: read something, or the end of the file
 * (r->at_eof); -1: a read error (libpcap will meet it too and say so). */
static int fill(struct prd *r, struct prd_buf *b)
{
	ssize_t n;

	if (r->rfn)
		n = r->rfn(r->rctx, b->mem + b->end, b->size - b->end);
	else
		do
			n = pread(r->fd, b->mem + b->end, b->size - b->end,
			          (off_t)r->foff);
		while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0)
		r->at_eof = true;
	b->end += (size_t)n;
	r->foff += (uint64_t)n;
	return 0;
}

/* Hand out the record libpcap read, once it fits in b. */
static enum prd_status put_pending(struct prd *r, struct prd_buf *b,
                                   struct prd_rec *rec)
{
	uint32_t caplen = r->pend_h.caplen;

	if (b->size - b->pos < caplen)
		return full(r, caplen);
	if (caplen > 0)
		memcpy(b->mem + b->pos, r->pend_data, caplen);
	rec->h = r->pend_h;
	rec->off = b->pos;
	rec->end = r->pend_end;
	b->pos += caplen;
	b->end = b->pos;
	r->done = r->pend_end;
	r->pend = false;
	return PRD_REC;
}

/* Stream mode: the FILE p2 reads, the file header, then the bytes read
 * but not parsed (from the odd record on), then the rest of the stream. */
struct tail {
	uint8_t *pre;
	size_t n, pos;
	prd_read_fn rfn;
	void *rctx;
};

static ssize_t tail_read(void *cookie, char *buf, size_t size)
{
	struct tail *t = cookie;

	if (t->pos < t->n) {
		size_t k = t->n - t->pos < size ? t->n - t->pos : size;

		memcpy(buf, t->pre + t->pos, k);
		t->pos += k;
		return (ssize_t)k;
	}
	return t->rfn(t->rctx, buf, size);
}

static int tail_close(void *cookie)
{
	struct tail *t = cookie;

	free(t->pre);
	free(t);
	return 0;
}

/* Stream mode, the first odd record: from here on libpcap reads
 * everything (p2), so its checks and messages stay libpcap's, as with a
 * file; the records parsed so far were exactly libpcap's. */
static enum prd_status to_libpcap(struct prd *r, struct prd_buf *b)
{
	static const cookie_io_functions_t io = { .read = tail_read,
	                                          .close = tail_close };
	size_t un = b->end - b->pos;
	struct tail *t = calloc(1, sizeof(*t));
	FILE *f;

	if (t)
		t->pre = malloc(PRD_FILE_HDR + un);
	if (!t || !t->pre) {
		if (t)
			free(t->pre);
		free(t);
		snprintf(r->err, sizeof(r->err), "out of memory");
		r->own_err = true;
		return PRD_ERROR;
	}
	memcpy(t->pre, r->fhdr, PRD_FILE_HDR);
	if (un > 0)
		memcpy(t->pre + PRD_FILE_HDR, b->mem + b->pos, un);
	t->n = PRD_FILE_HDR + un;
	t->rfn = r->rfn;
	t->rctx = r->rctx;
	f = fopencookie(t, "r", io);
	if (!f) {
		tail_close(t);
		snprintf(r->err, sizeof(r->err), "out of memory");
		r->own_err = true;
		return PRD_ERROR;
	}
	r->p2 = pcap_fopen_offline_with_tstamp_precision(
		f, PCAP_TSTAMP_PRECISION_MICRO, r->err);
	if (!r->p2) {
		fclose(f);
		r->own_err = true;
		return PRD_ERROR;
	}
	b->end = b->pos;        /* those bytes are p2's now */
	return PRD_REC;
}

/* Stream mode: the next record through p2. */
static enum prd_status by_p2(struct prd *r, struct prd_buf *b,
                             struct prd_rec *rec)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	if (!r->p2 && to_libpcap(r, b) != PRD_REC)
		return PRD_ERROR;
	rc = pcap_next_ex(r->p2, &h, &data);
	if (rc == PCAP_ERROR_BREAK)
		return PRD_EOF;
	if (rc != 1) {
		r->own_err = false;
		return PRD_ERROR;
	}
	r->pend = true;
	r->pend_h = *h;
	r->pend_data = data;
	r->pend_end = r->done + PRD_REC_HDR + h->caplen; /* an estimate */
	return put_pending(r, b, rec);
}

/* The record at b->pos through libpcap: seek its FILE there and read one
 * record. What we had read beyond the record's start is dropped; reading
 * goes on from where libpcap stopped. */
static enum prd_status by_libpcap(struct prd *r, struct prd_buf *b,
                                  struct prd_rec *rec)
{
	uint64_t at = r->foff - (b->end - b->pos);
	struct pcap_pkthdr *h;
	const u_char *data;
	off_t after;
	int rc;

	if (r->rfn)
		return by_p2(r, b, rec);
	if (fseeko(r->f, (off_t)at, SEEK_SET) != 0) {
		snprintf(r->err, sizeof(r->err), "cannot seek to byte %llu: %s",
		         (unsigned long long)at, strerror(errno));
		r->own_err = true;
		return PRD_ERROR;
	}
	rc = pcap_next_ex(r->p, &h, &data);
	if (rc == PCAP_ERROR_BREAK)
		return PRD_EOF;
	if (rc != 1) {
		r->own_err = false;
		return PRD_ERROR;
	}
	after = ftello(r->f);
	if (after < 0) {
		snprintf(r->err, sizeof(r->err), "cannot tell the position "
		         "after byte %llu: %s", (unsigned long long)at,
		         strerror(errno));
		r->own_err = true;
		return PRD_ERROR;
	}
	b->end = b->pos;
	r->foff = (uint64_t)after;
	r->at_eof = false;      /* the file may have grown meanwhile */
	r->pend = true;
	r->pend_h = *h;
	r->pend_data = data;
	r->pend_end = (uint64_t)after;
	return put_pending(r, b, rec);
}

enum prd_status prd_next(struct prd *r, struct prd_buf *b,
                         struct prd_rec *rec)
{
	for (;;) {
		size_t avail = b->end - b->pos, need;
		const uint8_t *q;
		uint32_t caplen;
		int64_t frac;

		if (r->pend)
			return put_pending(r, b, rec);
		if (r->p2)
			return by_p2(r, b, rec);
		if (avail < PRD_REC_HDR) {
			if (r->at_eof && avail == 0)
				return PRD_EOF;
			if (r->at_eof)
				return by_libpcap(r, b, rec);   /* header cut */
			if (b->size - b->pos < PRD_REC_HDR)
				return full(r, PRD_REC_HDR);
			if (fill(r, b) != 0)
				return by_libpcap(r, b, rec);
			continue;
		}
		q = b->mem + b->pos;
		caplen = get32(q + 8, r->swapped);
		if (caplen > r->maxcap)
			return by_libpcap(r, b, rec);
		need = PRD_REC_HDR + (size_t)caplen;
		if (avail < need) {
			if (r->at_eof)
				return by_libpcap(r, b, rec);   /* record cut */
			if (b->size - b->pos < need)
				return full(r, need);
			if (fill(r, b) != 0)
				return by_libpcap(r, b, rec);
			continue;
		}
		if (r->swapped) {
			rec->h.ts.tv_sec = get32(q, true);
			frac = get32(q + 4, true);
		} else {
			rec->h.ts.tv_sec = (int32_t)get32(q, false);
			frac = (int32_t)get32(q + 4, false);
		}
		rec->h.ts.tv_usec = r->nsec ? frac / 1000 : frac;
		rec->h.caplen = caplen;
		rec->h.len = get32(q + 12, r->swapped);
		rec->off = b->pos + PRD_REC_HDR;
		b->pos += need;
		r->done = r->foff - (b->end - b->pos);
		rec->end = r->done;
		return PRD_REC;
	}
}

size_t prd_need(const struct prd *r)
{
	return r->need;
}

void prd_carry(const struct prd_buf *from, struct prd_buf *to)
{
	size_t n = from->end - from->pos;

	if (n > 0)
		memmove(to->mem, from->mem + from->pos, n);
	to->pos = 0;
	to->end = n;
}

const char *prd_error(const struct prd *r)
{
	return r->own_err ? r->err : pcap_geterr(r->p2 ? r->p2 : r->p);
}

uint64_t prd_tell(const struct prd *r)
{
	return r->done;
}

int prd_close(struct prd *r)
{
	int rc = 0;

	if (!r)
		return 0;
	if (r->rfn) {
		if (r->p2)
			pcap_close(r->p2);  /* closes its FILE, not the stream */
	} else if (fseeko(r->f, (off_t)r->done, SEEK_SET) != 0) {
		rc = -1;
	}
	free(r);
	return rc;
}
