/*
 * fuzz_pcapread.c - differential libFuzzer target: the in-place pcap
 * reader (analyzer/pcapread.c) against plain libpcap.
 *
 * The input is a whole capture file. It goes into a memfd, which libpcap
 * opens twice through /proc/self/fd/N (two independent file positions):
 * once for the fast reader, once for a plain pcap_next_ex() loop. Both must
 * give the same records (timestamp, caplen, len, bytes, file position
 * after the record) and end the same way (end of file, or an error at the
 * same record with the same text). The fast reader works in deliberately
 * small buffers of exactly the size it asked for (so ASan sees any read
 * past a buffer), moving its unparsed bytes on with prd_carry() as
 * capture_pipe.c does; the input's length picks the first buffer's size, so
 * records land across buffer ends everywhere.
 *
 * Any difference aborts with what differed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "analyzer/pcapread.h"
#include "analyzer/zread.h"

#define check(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: reader and libpcap differ: %s\n", \
		        __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static pcap_t *open_path(const char *path)
{
	char ebuf[PCAP_ERRBUF_SIZE];

	return pcap_open_offline_with_tstamp_precision(path,
	        PCAP_TSTAMP_PRECISION_MICRO, ebuf);
}

/* A fresh buffer of exactly size bytes (at least 1). */
static struct prd_buf new_buf(size_t size)
{
	struct prd_buf b = { .size = size ? size : 1 };

	b.mem = malloc(b.size);
	if (!b.mem)
		abort();
	return b;
}

/* Read p through the fast reader r and o through libpcap, side by side;
 * stream: r is in stream mode, where file positions are not kept. */
static void compare(struct prd *r, pcap_t *o, size_t first_size,
                    size_t records_max, bool stream)
{
	struct prd_buf b = new_buf(first_size);
	size_t records = 0;

	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *d;
		struct prd_rec rec;
		enum prd_status st = prd_next(r, &b, &rec);
		int rc;

		if (st == PRD_FULL) {
			/* as capture_pipe.c: a new buffer, at least as big as
			 * asked for, but small, so it fills again soon */
			size_t need = prd_need(r);
			struct prd_buf nb = new_buf(need + (first_size & 31));

			check(need > b.end - b.pos);
			check(need > b.size - b.pos);
			prd_carry(&b, &nb);
			free(b.mem);
			b = nb;
			continue;
		}
		check(records <= records_max);
		rc = pcap_next_ex(o, &h, &d);
		if (st == PRD_EOF) {
			check(rc == PCAP_ERROR_BREAK);
			break;
		}
		if (st == PRD_ERROR) {
			check(rc == PCAP_ERROR);
			check(strcmp(prd_error(r), pcap_geterr(o)) == 0);
			break;
		}
		check(st == PRD_REC);
		check(rc == 1);
		records++;
		check(rec.h.ts.tv_sec == h->ts.tv_sec);
		check(rec.h.ts.tv_usec == h->ts.tv_usec);
		check(rec.h.caplen == h->caplen);
		check(rec.h.len == h->len);
		check(rec.off <= b.pos && b.pos - rec.off >= rec.h.caplen);
		check(memcmp(b.mem + rec.off, d, h->caplen) == 0);
		if (!stream) {
			check((int64_t)rec.end == (int64_t)ftello(pcap_file(o)));
			check(prd_tell(r) == rec.end);
		}
	}
	free(b.mem);
}

/* Stream mode: the same bytes read once, from a pipe-like descriptor
 * through zread.h's FILE as capture.c reads standard input, against plain
 * libpcap on the file. */
static void stream_case(const uint8_t *data, size_t size)
{
	char path[64], err[128];
	uint8_t peek[ZR_MAGIC_LEN];
	const uint8_t *head;
	struct zr *z = NULL;
	pcap_t *a = NULL, *o = NULL;
	struct prd *r = NULL;
	FILE *f;
	ssize_t np;
	int fd = memfd_create("fuzz_pcapread_stream", 0), rfd;

	if (fd < 0 || write_all(fd, data, size) != 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rfd = open(path, O_RDONLY);
	if (rfd < 0)
		abort();
	np = read(rfd, peek, sizeof(peek));
	if (np < 0)
		abort();
	if (zr_detect(peek, (size_t)np) != ZR_NONE) {
		close(rfd);         /* compressed: not this target's job */
		close(fd);
		return;
	}
	f = zr_fopen(rfd, peek, (size_t)np, ZR_NONE, &z, err, sizeof(err));
	if (!f)
		abort();
	a = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, err);
	o = open_path(path);
	check((a == NULL) == (o == NULL));
	if (!a) {
		fclose(f);
		goto out;
	}
	if (zr_nothing_buffered(pcap_file(a)) && zr_head(z, &head) >= 24)
		r = prd_open_stream(a, head, zr_read_raw, z);
	if (r)
		compare(r, o, 16 + (size * 7919u) % 509u, size / 16 + 1, true);
out:
	if (prd_close(r) != 0)
		abort();
	if (a)
		pcap_close(a);
	if (o)
		pcap_close(o);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	pcap_t *a = NULL, *o = NULL;
	struct prd *r = NULL;
	int fd;

	fd = memfd_create("fuzz_pcapread", 0);
	if (fd < 0)
		abort();
	if (write_all(fd, data, size) != 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	a = open_path(path);
	o = open_path(path);
	check((a == NULL) == (o == NULL));
	if (!a)
		goto out;
	r = prd_open(a);
	if (!r)
		goto out;
	/* every record takes at least 16 bytes of the file */
	compare(r, o, 16 + (size * 7919u) % 509u, size / 16 + 1, false);
out:
	if (prd_close(r) != 0)
		abort();
	if (a)
		pcap_close(a);
	if (o)
		pcap_close(o);
	close(fd);
	stream_case(data, size);
	return 0;
}
