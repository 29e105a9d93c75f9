/*
 * capture.c - frames from a saved capture or a live interface, through
 * libpcap, handed one by one to the analyzer (a saved capture is read in
 * a thread of its own, see "reader thread" below).
 *
 * libpcap opens every capture and does the file formats (pcap in both
 * byte orders and timestamp precisions, pcapng). A compressed capture
 * (gzip, zstd, xz) and standard input reach libpcap through zread.c's
 * FILE, which decompresses as it is read. The records of a classic pcap
 * file, compressed or not, from a file or a pipe, are read by pcapread.c
 * straight into the reader thread's batches (pread() on a file, zread's
 * decompressor on a stream), exactly as libpcap would give them; it hands every record that
 * is not plainly well-formed back to libpcap, so libpcap still does the
 * record-level sanity checks and their messages: a record whose
 * caplen is beyond the snapshot limit, or that the end of the file cuts
 * short, makes pcap_next_ex() fail, and we stop there with the record
 * number. Records libpcap lets through but that make no sense (caplen 0,
 * caplen > len) go to the analyzer, whose decoder counts them as invalid;
 * the rest of the file is still read, as tcpdump does.
 *
 * Offline BPF filters are applied here with pcap_offline_filter() rather
 * than installed with pcap_setfilter(), so that we still see every record:
 * an error can name the record's position in the file, and a rejected
 * frame goes to az_skip_frame() so that the analyzer's packet indexes
 * count every frame of the file (tcpdump -r numbers them the same way).
 *
 * A live interface is read by a thread of its own too ("live captures"
 * below): it empties the kernel's ring into batches while the analyzer
 * works, and reads the kernel's drop counters once a second.
 */
#include "analyzer/capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/decode.h"
#include "analyzer/pcapread.h"
#include "analyzer/pngmeta.h"
#include "analyzer/zread.h"

#define CAP_SNAPLEN      262144 /* libpcap's own maximum: whole frames */
#define CAP_BLOCK_MS     10     /* live: a frame waits at most this long in
                                   the kernel's ring on a quiet link */
#define CAP_TIMEOUT_MS   100    /* live: limits are looked at this often, so
                                   a stop flag or --duration acts promptly */
#define CAP_PROGRESS_MASK 0xffffu /* progress every 64 Ki frames */
#define CAP_KSTATS_SECONDS 1.0  /* live: the kernel's counters are read
                                   this often while capturing */
#define PCAP_FILE_HDR    24     /* pcap file header, for the byte estimate */
#define PCAP_REC_HDR     16     /* pcap record header */

#define CAP_MAX_UNSUP 32 /* kinds of unsupported frames named one by one */
#define CAP_NEXT_BUF (256u << 10) /* cap_next()'s in-place buffer */

struct cap_unsup_ent {
	uint8_t kind;            /* enum dec_unsup */
	uint32_t value;
	uint64_t count;
};

struct cap {
	pcap_t *p;
	/* unsupported frames by what they carried; the analyzer's thread
	 * writes them */
	struct cap_unsup_ent unsup[CAP_MAX_UNSUP];
	size_t n_unsup;
	uint64_t unsup_other;    /* past CAP_MAX_UNSUP kinds */
	uint64_t records;        /* read by cap_next() */
	bool nx_tried;           /* cap_next() looked for an in-place reader */
	struct prd *nx_rd;       /* ... and found this one, or NULL */
	struct prd_buf nx_buf;
	bool live;
	int dlt;
	char name[256];          /* file name or interface, for messages */
	uint64_t file_size;      /* 0 if unknown */
	bool have_filter;        /* offline filter in prog */
	struct bpf_program prog;
	int fd;                  /* live: descriptor to poll() */
	bool from_stdin;         /* "-": read only through libpcap */
	enum zr_kind zkind;      /* the file's compression (ZR_NONE: none) */
	bool pcapng;             /* the (decompressed) file is pcapng */
	struct png_meta *meta;   /* its descriptions, or NULL */
	struct zr *zr;           /* its reader when libpcap reads through
	                            zread.h's FILE (compressed, or stdin);
	                            freed by pcap_close() */
	char dlt_name[32];       /* "EN10MB", or "DLT_n" if libpcap has none */
	/* live: the kernel's counters in 64 bits (kst), summed from libpcap's
	 * 32-bit ones (kst_last); written by whichever thread owns p (the
	 * reader while cap_run() runs), read by cap_kernel_stats() */
	pthread_mutex_t kst_mu;
	bool kst_valid;
	struct cap_kstats kst;
	struct pcap_stat kst_last;
};

/* libpcap often starts its message with "NAME: "; we add the name
 * ourselves, so drop it to avoid "x.pcap: x.pcap: ...". */
static const char *strip_name(const char *msg, const char *name)
{
	size_t n = strlen(name);

	if (n > 0 && strncmp(msg, name, n) == 0 && msg[n] == ':' &&
	    msg[n + 1] == ' ')
		return msg + n + 2;
	return msg;
}

static struct cap *cap_alloc(const char *name, bool live, char *err,
                             size_t errlen)
{
	struct cap *c = calloc(1, sizeof(*c));

	if (!c) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	if (pthread_mutex_init(&c->kst_mu, NULL) != 0) {
		free(c);
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	c->live = live;
	c->fd = -1;
	snprintf(c->name, sizeof(c->name), "%s", name);
	return c;
}

/* Name the link type. One the decoder cannot read is no error: its
 * frames are counted as unsupported and named (cap_unsupported()), and the
 * report is still written. */
static int check_linktype(struct cap *c, char *err, size_t errlen)
{
	const char *n;

	(void)err;
	(void)errlen;
	c->dlt = pcap_datalink(c->p);
	n = pcap_datalink_val_to_name(c->dlt);
	if (n)
		snprintf(c->dlt_name, sizeof(c->dlt_name), "%s", n);
	else
		snprintf(c->dlt_name, sizeof(c->dlt_name), "DLT_%d", c->dlt);
	return 0;
}

/* A frame the decoder called unsupported: decode it again (rare, so the
 * common path pays nothing) to learn what it carried, and count that. */
static void unsup_note(struct cap *c, int dlt, const uint8_t *bytes,
                       uint32_t caplen, uint32_t len)
{
	struct dec_tcp d;

	if (dec_packet(dlt, bytes, caplen, len, &d, NULL) != DEC_UNSUPPORTED)
		return;
	for (size_t i = 0; i < c->n_unsup; i++) {
		if (c->unsup[i].kind == d.unsup_kind &&
		    c->unsup[i].value == d.unsup_value) {
			c->unsup[i].count++;
			return;
		}
	}
	if (c->n_unsup < CAP_MAX_UNSUP) {
		c->unsup[c->n_unsup++] = (struct cap_unsup_ent){
			.kind = d.unsup_kind, .value = d.unsup_value, .count = 1,
		};
		return;
	}
	c->unsup_other++;
}

/* Hand one frame to the analyzer. */
static inline void feed(struct cap *c, struct az *az, int dlt, double t,
                        const uint8_t *bytes, uint32_t caplen, uint32_t len)
{
	if (__builtin_expect(az_packet(az, dlt, t, bytes, caplen, len) ==
	                     DEC_UNSUPPORTED, 0))
		unsup_note(c, dlt, bytes, caplen, len);
}

size_t cap_unsupported(const struct cap *c, size_t i, char *text,
                       size_t len, uint64_t *count)
{
	if (i < c->n_unsup) {
		struct dec_tcp d = { .unsup_kind = c->unsup[i].kind,
		                     .unsup_value = c->unsup[i].value };

		dec_unsupported_text(&d, text, (unsigned)len);
		*count = c->unsup[i].count;
		return c->n_unsup + (c->unsup_other ? 1 : 0);
	}
	if (i == c->n_unsup && c->unsup_other) {
		snprintf(text, len, "other");
		*count = c->unsup_other;
		return c->n_unsup + 1;
	}
	return c->n_unsup + (c->unsup_other ? 1 : 0);
}

/* The first bytes of fd, up to ZR_MAGIC_LEN (fewer at the end of the
 * input), read from where fd is. Returns how many, or -1. */
static ssize_t peek_magic(int fd, uint8_t *buf)
{
	size_t got = 0;

	while (got < ZR_MAGIC_LEN) {
		ssize_t n = read(fd, buf + got, ZR_MAGIC_LEN - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* libpcap's message for an open that failed, in our words. */
static void open_err(struct cap *c, const char *path, const char *ebuf,
                     char *err, size_t errlen)
{
	const char *why = strip_name(ebuf, path);
	struct stat st;

	if (c->zr && zr_error(c->zr))
		why = zr_error(c->zr);
	else if (!c->from_stdin && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	         st.st_size == 0)
		why = "empty file (not a pcap or pcapng capture)";
	else if (strcmp(why, "unknown file format") == 0)
		why = "unknown file format (not a pcap or pcapng capture)";
	snprintf(err, errlen, "%s: %s", c->name, why);
}

/* pcapng: its section and interface descriptions, from the file's first
 * bytes (the decompressed ones, as zread.c kept them; or read again from
 * a regular file). Nothing is an error here: a file libpcap opened is
 * read all the same, with what could be learned. */
static void read_meta(struct cap *c, const char *path, const uint8_t *magic,
                      size_t nmagic)
{
	const uint8_t *head = magic;
	uint8_t *buf = NULL;
	size_t n = nmagic;

	if (c->zr)
		n = zr_head(c->zr, &head);
	/* the section header block's type reads the same in both orders */
	c->pcapng = n >= 4 && memcmp(head, "\x0a\x0d\x0d\x0a", 4) == 0;
	if (!c->pcapng)
		return;
	if (!c->zr) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t got = -1;

		buf = malloc(ZR_HEAD_MAX);
		if (fd >= 0 && buf) {
			do
				got = pread(fd, buf, ZR_HEAD_MAX, 0);
			while (got < 0 && errno == EINTR);
		}
		if (fd >= 0)
			close(fd);
		if (got <= 0) {
			free(buf);
			return;
		}
		head = buf;
		n = (size_t)got;
	}
	c->meta = malloc(sizeof(*c->meta));
	if (c->meta && png_meta_parse(head, n, c->meta) != 0 &&
	    c->meta->n_ifs == 0 && c->meta->n_comments == 0) {
		free(c->meta);
		c->meta = NULL;
	}
	free(buf);
}

const struct png_meta *cap_pcapng_meta(const struct cap *c)
{
	return c->meta;
}

/*
 * A regular file that is not compressed goes to libpcap by name (and so
 * to the in-place reader, pcapread.h). A compressed file, and standard
 * input whatever it holds, go through zread.h's FILE: its first bytes
 * were read to tell the compression, so libpcap must be handed them again.
 */
struct cap *cap_open_offline(const char *path, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	uint8_t magic[ZR_MAGIC_LEN] = { 0 };
	struct cap *c;
	struct stat st;
	ssize_t nmagic = 0;
	int fd = -1;
	bool regular;
	FILE *f;

	if (!path) {
		snprintf(err, errlen, "capture: no file name");
		return NULL;
	}
	c = cap_alloc(strcmp(path, "-") == 0 ? "standard input" : path, false,
	              err, errlen);
	if (!c)
		return NULL;
	c->from_stdin = strcmp(path, "-") == 0;
	if (c->from_stdin) {
		fd = dup(STDIN_FILENO);
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(err, errlen, "%s: %s", c->name, strerror(errno));
			goto err;
		}
	}
	if (fd < 0 || (nmagic = peek_magic(fd, magic)) < 0) {
		/* a directory: let libpcap say it as it always has */
		if (fd >= 0 && !c->from_stdin && errno == EISDIR) {
			close(fd);
			fd = -1;
		} else {
			snprintf(err, errlen, "%s: %s", c->name, strerror(errno));
			goto err;
		}
	}
	c->zkind = fd >= 0 ? zr_detect(magic, (size_t)nmagic) : ZR_NONE;
	/* A pipe or FIFO by name (bash's <(...)) cannot be opened again
	 * for libpcap: its first bytes are read. */
	regular = fd < 0 || (fstat(fd, &st) == 0 && S_ISREG(st.st_mode));
	/* Microsecond precision: nanosecond files are scaled by libpcap, so
	 * timestamps always mean the same thing. */
	if (!c->from_stdin && c->zkind == ZR_NONE && regular) {
		if (fd >= 0)
			close(fd);
		fd = -1;
		c->p = pcap_open_offline_with_tstamp_precision(
			path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	} else {
		f = zr_fopen(fd, magic, (size_t)nmagic, c->zkind, &c->zr, ebuf,
		             sizeof(ebuf));
		fd = -1;        /* the FILE's now, or closed */
		if (!f) {
			snprintf(err, errlen, "%s: %s", c->name, ebuf);
			goto err;
		}
		c->p = pcap_fopen_offline_with_tstamp_precision(
			f, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
		if (!c->p) {
			open_err(c, path, ebuf, err, errlen);
			fclose(f);      /* libpcap leaves a FILE it refused open */
			c->zr = NULL;
			goto err;
		}
	}
	if (!c->p) {
		open_err(c, path, ebuf, err, errlen);
		goto err;
	}
	if (!c->zr) {
		f = pcap_file(c->p);
		if (f && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
			c->file_size = (uint64_t)st.st_size;
	} else if (!c->from_stdin && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		c->file_size = (uint64_t)st.st_size; /* compressed bytes */
	}
	read_meta(c, path, magic, nmagic > 0 ? (size_t)nmagic : 0);
	if (check_linktype(c, err, errlen) != 0)
		goto err;
	return c;
err:
	if (fd >= 0)
		close(fd);
	cap_close(c);
	return NULL;
}

const char *cap_format(const struct cap *c)
{
	return c->pcapng ? "pcapng" : "pcap";
}

const char *cap_compression(const struct cap *c)
{
	return zr_kind_name(c->zkind);
}

struct cap *cap_open_live(const char *iface, char *err, size_t errlen)
{
	return cap_open_live_buffer(iface, 0, err, errlen);
}

struct cap *cap_open_live_buffer(const char *iface, uint64_t buffer_bytes,
                                 char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct cap *c;
	int rc;
	bool denied = false;

	if (!iface) {
		snprintf(err, errlen, "capture: no interface name");
		return NULL;
	}
	if (buffer_bytes == 0)
		buffer_bytes = CAP_BUFFER_DEFAULT;
	if (buffer_bytes > CAP_BUFFER_MAX) {
		snprintf(err, errlen, "%s: capture buffer: %llu bytes is more "
		         "than the %llu libpcap takes", iface,
		         (unsigned long long)buffer_bytes,
		         (unsigned long long)CAP_BUFFER_MAX);
		return NULL;
	}
	c = cap_alloc(iface, true, err, errlen);
	if (!c)
		return NULL;
	c->p = pcap_create(iface, ebuf);
	if (!c->p) {
		snprintf(err, errlen, "%s: %s", iface, strip_name(ebuf, iface));
		goto err;
	}
	if (pcap_set_snaplen(c->p, CAP_SNAPLEN) != 0 ||
	    pcap_set_promisc(c->p, 0) != 0 ||
	    pcap_set_timeout(c->p, CAP_BLOCK_MS) != 0 ||
	    pcap_set_immediate_mode(c->p, 0) != 0) {
		snprintf(err, errlen, "%s: cannot set capture options", iface);
		goto err;
	}
	if (pcap_set_buffer_size(c->p, (int)buffer_bytes) != 0) {
		snprintf(err, errlen, "%s: capture buffer: cannot set it", iface);
		goto err;
	}
	rc = pcap_activate(c->p);
	if (rc < 0) {
		/* For these, pcap_geterr() holds the detail (or nothing);
		 * pcap_statustostr() is the generic name of the failure. */
		const char *detail = pcap_geterr(c->p);

		if (!detail || !detail[0])
			detail = pcap_statustostr(rc);
		snprintf(err, errlen, "%s: %s", iface,
		         strip_name(detail, iface));
		denied = rc == PCAP_ERROR_PERM_DENIED;
		goto err;
	}
	/* rc > 0 is a warning (e.g. promiscuous mode not supported): the
	 * capture works, nothing to report.
	 * Not immediate mode: libpcap on Linux then falls back to TPACKET_V2,
	 * whose ring has one slot per frame, each as large as the biggest
	 * frame the link can carry (64 KiB on loopback): a 32 MiB buffer
	 * held some 500 frames, and a busy second lost half of them.
	 * TPACKET_V3 packs frames into 256 KiB blocks the kernel hands over
	 * when full or CAP_BLOCK_MS after their first frame: as many frames
	 * as fit in the bytes, and one wakeup per block, not per frame. */
	if (check_linktype(c, err, errlen) != 0)
		goto err;
	/* libpcap's own blocking read keeps polling through its timeouts
	 * (seen with 1.10 on Linux), so a stop flag or a deadline would never
	 * be looked at on an idle interface. Read non-blocking and wait in
	 * cap_run() with our own poll() instead. */
	c->fd = pcap_get_selectable_fd(c->p);
	if (c->fd < 0 || pcap_setnonblock(c->p, 1, ebuf) != 0) {
		snprintf(err, errlen, "%s: cannot read without blocking: %s",
		         iface, c->fd < 0 ? "no selectable descriptor" : ebuf);
		goto err;
	}
	return c;
err:
	cap_close(c);
	errno = denied ? EPERM : 0;
	return NULL;
}

int cap_set_filter(struct cap *c, const char *expr, char *err, size_t errlen)
{
	struct bpf_program prog;
	bpf_u_int32 net = 0, mask = PCAP_NETMASK_UNKNOWN;
	char ebuf[PCAP_ERRBUF_SIZE];

	if (!expr || !expr[0])
		return 0;
	/* The netmask matters only for "ip broadcast"; live interfaces know
	 * theirs, files do not. */
	if (c->live && pcap_lookupnet(c->name, &net, &mask, ebuf) != 0)
		mask = PCAP_NETMASK_UNKNOWN;
	if (pcap_compile(c->p, &prog, expr, 1, mask) != 0) {
		snprintf(err, errlen, "filter \"%s\": %s", expr,
		         pcap_geterr(c->p));
		return -1;
	}
	if (c->live) {
		int rc = pcap_setfilter(c->p, &prog);

		if (rc != 0)
			snprintf(err, errlen, "filter \"%s\": %s", expr,
			         pcap_geterr(c->p));
		pcap_freecode(&prog);
		return rc != 0 ? -1 : 0;
	}
	if (c->have_filter)
		pcap_freecode(&c->prog);
	c->prog = prog;
	c->have_filter = true;
	return 0;
}

int cap_datalink(const struct cap *c)
{
	return c->dlt;
}

const char *cap_datalink_name(const struct cap *c)
{
	return c->dlt_name;
}

bool cap_is_live(const struct cap *c)
{
	return c->live;
}

uint64_t cap_file_size(const struct cap *c)
{
	return c->file_size;
}

/* Read the kernel's counters into c->kst; only the thread that owns c->p
 * (the live reader while cap_run() runs) calls this. libpcap's counters
 * are 32-bit and cumulative: the first read is taken as is, later ones
 * add what changed, modulo 2^32, so a wrap is no loss. */
static void kstats_read(struct cap *c)
{
	struct pcap_stat ps;

	if (!c->live || pcap_stats(c->p, &ps) != 0)
		return;
	pthread_mutex_lock(&c->kst_mu);
	if (!c->kst_valid) {
		c->kst.received = ps.ps_recv;
		c->kst.kernel_dropped = ps.ps_drop;
		c->kst.interface_dropped = ps.ps_ifdrop;
		c->kst_valid = true;
	} else {
		c->kst.received += (uint32_t)(ps.ps_recv - c->kst_last.ps_recv);
		c->kst.kernel_dropped +=
			(uint32_t)(ps.ps_drop - c->kst_last.ps_drop);
		c->kst.interface_dropped +=
			(uint32_t)(ps.ps_ifdrop - c->kst_last.ps_ifdrop);
	}
	c->kst_last = ps;
	pthread_mutex_unlock(&c->kst_mu);
}

int cap_kernel_stats(struct cap *c, struct cap_kstats *st)
{
	int rc = -1;

	if (!c->live)
		return -1;
	pthread_mutex_lock(&c->kst_mu);
	if (c->kst_valid) {
		*st = c->kst;
		rc = 0;
	}
	pthread_mutex_unlock(&c->kst_mu);
	return rc;
}

static double now_mono(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A pcap timestamp in seconds. */
static double pkt_time(const struct pcap_pkthdr *h)
{
	return (double)h->ts.tv_sec + (double)h->ts.tv_usec * 1e-6;
}

/* "FILE: record N: why", the error that ends reading a saved capture;
 * for a compressed file, the decompressor's reason when it had one
 * (libpcap would only say "Input/output error"). */
static void record_err(char *err, size_t errlen, const struct cap *c,
                       uint64_t n, const char *why)
{
	if (c->zr && zr_error(c->zr))
		why = zr_error(c->zr);
	snprintf(err, errlen, "%s: record %llu: %s", c->name,
	         (unsigned long long)n, why);
}

/* ---- one record at a time, for merge.c ----------------------------------- */

static struct prd *stream_reader(struct cap *c);

/* cap_next()'s in-place reader (pcapread.h) and its one buffer, reused:
 * a record handed out is done with when the next is asked for, so the
 * unparsed rest moves to the buffer's start (in place) when it is full. */
static int next_in_place(struct cap *c, struct cap_frame *fr, char *err,
                         size_t errlen)
{
	struct prd_rec rec;

	for (;;) {
		enum prd_status st = prd_next(c->nx_rd, &c->nx_buf, &rec);

		if (st == PRD_EOF)
			return 0;
		if (st == PRD_ERROR) {
			record_err(err, errlen, c, c->records + 1,
			           prd_error(c->nx_rd));
			return -1;
		}
		if (st == PRD_FULL) {
			size_t need = prd_need(c->nx_rd);

			if (need > c->nx_buf.size) {
				uint8_t *m = realloc(c->nx_buf.mem, need);

				if (!m) {
					record_err(err, errlen, c, c->records + 1,
					           "out of memory");
					return -1;
				}
				c->nx_buf.mem = m;
				c->nx_buf.size = need;
			}
			prd_carry(&c->nx_buf, &c->nx_buf);
			continue;
		}
		break;
	}
	c->records++;
	fr->h = rec.h;
	fr->data = c->nx_buf.mem + rec.off;
	fr->record = c->records;
	fr->skip = c->have_filter &&
	           pcap_offline_filter(&c->prog, &rec.h, fr->data) == 0;
	return 1;
}

int cap_next(struct cap *c, struct cap_frame *fr, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	if (!c->nx_tried) {
		/* classic pcap, from a file or a stream: in place, as
		 * cap_run() reads it; else libpcap */
		c->nx_tried = true;
		c->nx_rd = c->zr ? stream_reader(c) : prd_open(c->p);
		if (c->nx_rd) {
			c->nx_buf = (struct prd_buf){ .mem = malloc(CAP_NEXT_BUF),
			                              .size = CAP_NEXT_BUF };
			if (!c->nx_buf.mem) {
				(void)prd_close(c->nx_rd);
				c->nx_rd = NULL;
			}
		}
	}
	if (c->nx_rd)
		return next_in_place(c, fr, err, errlen);
	rc = pcap_next_ex(c->p, &h, &data);
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		record_err(err, errlen, c, c->records + 1, pcap_geterr(c->p));
		return -1;
	}
	c->records++;
	fr->h = *h;
	fr->data = data;
	fr->record = c->records;
	fr->skip = c->have_filter && pcap_offline_filter(&c->prog, h, data) == 0;
	return 1;
}

void cap_feed(struct cap *c, struct az *az, const struct cap_frame *fr)
{
	if (fr->skip)
		az_skip_frame(az);
	else
		feed(c, az, c->dlt, pkt_time(&fr->h), fr->data, fr->h.caplen,
		     fr->h.len);
}

/* The single-threaded loop: for live and saved captures alike, when the
 * reader thread cannot be started. */
static int run_direct(struct cap *c, struct az *az,
                      const struct cap_limits *lim, char *err, size_t errlen)
{
	uint64_t records = 0, fed = 0, est_bytes = PCAP_FILE_HDR;
	double t0 = 0, next_kst = 0;
	FILE *f = c->live ? NULL : pcap_file(c->p);

	if (c->live)
		t0 = next_kst = now_mono();

	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc;

		if (lim->stop && *lim->stop)
			break;
		if (lim->count && fed >= lim->count)
			break;
		if (c->live) {
			double now = now_mono();

			if (lim->duration > 0 && now - t0 >= lim->duration)
				break;
			if (now >= next_kst) {
				kstats_read(c);
				next_kst = now + CAP_KSTATS_SECONDS;
			}
		}

		rc = pcap_next_ex(c->p, &h, &data);
		if (rc == 0) {
			/* live, nothing ready: wait a little, then look at
			 * the limits again (EINTR from a signal is fine). */
			struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

			if (poll(&pfd, 1, CAP_TIMEOUT_MS) < 0 && errno != EINTR) {
				snprintf(err, errlen, "%s: poll: %s", c->name,
				         strerror(errno));
				return -1;
			}
			continue;
		}
		if (rc == PCAP_ERROR_BREAK)
			break;          /* end of file (or pcap_breakloop) */
		if (rc != 1) {
			if (c->live)
				snprintf(err, errlen, "%s: %s", c->name,
				         pcap_geterr(c->p));
			else
				record_err(err, errlen, c, records + 1,
				           pcap_geterr(c->p));
			return -1;
		}
		records++;
		est_bytes += PCAP_REC_HDR + h->caplen;
		if (c->have_filter &&
		    pcap_offline_filter(&c->prog, h, data) == 0) {
			az_skip_frame(az);
			continue;
		}
		fed++;
		feed(c, az, c->dlt, pkt_time(h), data, h->caplen, h->len);

		if (lim->progress && (records & CAP_PROGRESS_MASK) == 0) {
			long pos = f && !c->zr ? ftell(f) : -1;

			lim->progress(records, c->zr ? zr_bytes_in(c->zr) :
			              pos >= 0 ? (uint64_t)pos : est_bytes,
			              c->file_size, lim->progress_arg);
		}
	}
	return 0;
}

/* ---- saved captures: a reader thread ---------------------------------------
 *
 * Reading a saved capture (record parsing, the filter, the copies) took
 * a good part of the time (about 40% on the HTTP bench capture, through
 * libpcap), so a reader thread does it while the calling thread analyzes.
 * For a classic pcap file it reads the file in place (reader_fast(),
 * pcapread.h: one pread() per batch, no copy per record); for anything
 * else (pcapng, standard input) through libpcap (reader_main()). The reader
 * puts records into batches; CAP_NBATCH batches go round a ring, handed
 * over under one mutex once per batch (thousands of frames), so locking
 * costs next to nothing per frame; a side that must wait sleeps on a
 * condition variable, never spins.
 *
 * The reader works ahead of the analyzer but never past lim->count frames
 * (it counts those its filter lets through), so it reads no record the
 * single-threaded loop would not read: a pipe that has delivered enough is
 * not waited on, and a damaged record after the limit is no error.
 * Everything the analyzer sees (frames, their order, skip marks, progress
 * positions, the error text) is made by the reader and handed over with
 * the batch; the reader touches nothing else the caller can see.
 */
#define CAP_NBATCH      6            /* 6 x 256 KiB: sizes from 32 KiB to
                                        1 MiB measured the same (with the
                                        in-place reader, 256 KiB is one
                                        pread() of 256 KiB per batch) */
#define CAP_LIVE_NBATCH 64           /* live: the queue that lets the
                                        analyzer fall behind for a while
                                        (capture.h: CAP_LIVE_QUEUE_BYTES) */
#define CAP_ARENA       (256u << 10) /* frame bytes per batch (grows for a
                                        bigger record) */
#define CAP_BATCH_RECS  4096u        /* records per batch at most */
#define CAP_ALIGN       8u           /* frames copied from libpcap start
                                        8-byte aligned; frames read in
                                        place lie where the file puts them
                                        (the decoder reads any alignment) */

enum cap_end { CAP_MORE, CAP_EOF, CAP_ERROR };

/* 24 bytes: the reader writes 1.2 million of these for the bench capture,
 * into memory the analyzer's core read last, so size counts. */
struct cap_rec {
	double t;
	uint32_t off;              /* frame bytes at a.mem + off (an arena
	                              holds at most a few hundred KiB) */
	uint32_t caplen, len;
	bool skip;                 /* the filter rejected it: no bytes kept */
};
_Static_assert(sizeof(struct cap_rec) == 24, "cap_rec grew");

struct cap_batch {
	struct cap_rec *recs;      /* CAP_BATCH_RECS */
	size_t n;
	/* frame bytes: a.mem[0..a.pos) (a.size a multiple of CAP_ALIGN);
	 * the fast path also keeps unparsed file bytes in [a.pos..a.end) */
	struct prd_buf a;
	enum cap_end end;          /* CAP_MORE, or why this batch is the last */
	/* file position after the batch's record whose number is a multiple
	 * of 64 Ki, if it holds one (at most one: CAP_BATCH_RECS is less);
	 * for the progress callback */
	uint64_t pos;
};

struct cap_pipe {
	struct cap *c;
	struct prd *rd;            /* the fast path, or NULL: libpcap reads */
	uint64_t count;            /* lim->count */
	bool want_pos;             /* a progress callback needs positions */
	pthread_t reader;
	pthread_mutex_t mu;
	pthread_cond_t filled;     /* a batch was handed to the analyzer */
	pthread_cond_t freed;      /* a batch was given back, or quit */
	size_t nfull;              /* batches handed over, not given back (mu) */
	bool reader_waits;         /* the reader sleeps until half the ring is
	                              free again (mu) */
	atomic_bool quit;          /* the analyzer is done: reader, stop */
	size_t nbatch;             /* batches in the ring: CAP_NBATCH, or
	                              CAP_LIVE_NBATCH for a live capture */
	/* live only */
	double duration;           /* lim->duration */
	atomic_bool stop_reading;  /* the analyzer saw *stop: reader, hand
	                              over what you have and end */
	atomic_bool hungry;        /* the analyzer waits for a batch: reader,
	                              hand over one as soon as it holds a frame */
	struct cap_batch b[CAP_LIVE_NBATCH];
	/* "FILE: record N: reason", written before the CAP_ERROR batch is
	 * handed over (pcap_geterr's buffer belongs to the reader) */
	char err[sizeof(((struct cap *)0)->name) + PCAP_ERRBUF_SIZE + 48];
};

/* Reader: record r is the frame h, its bytes at off (if not skipped). */
static void put_rec(struct cap_rec *r, const struct pcap_pkthdr *h, bool skip,
                    size_t off)
{
	r->t = pkt_time(h);
	r->caplen = h->caplen;
	r->len = h->len;
	r->skip = skip;
	r->off = (uint32_t)off;
}

static size_t align_up(size_t n)
{
	return (n + CAP_ALIGN - 1) & ~(size_t)(CAP_ALIGN - 1);
}

static void pipe_free(struct cap_pipe *pp)
{
	if (!pp)
		return;
	for (size_t i = 0; i < pp->nbatch; i++) {
		free(pp->b[i].recs);
		pp->b[i].recs = NULL;
		free(pp->b[i].a.mem);
		pp->b[i].a.mem = NULL;
	}
	pthread_cond_destroy(&pp->freed);
	pthread_cond_destroy(&pp->filled);
	pthread_mutex_destroy(&pp->mu);
	free(pp);
}

static struct cap_pipe *pipe_new(struct cap *c, const struct cap_limits *lim)
{
	struct cap_pipe *pp = calloc(1, sizeof(*pp));

	if (!pp)
		return NULL;
	/* Initialize all three before any can fail, so pipe_free() may
	 * destroy them; if one fails we do not use the pipe anyway. */
	if (pthread_mutex_init(&pp->mu, NULL) != 0) {
		free(pp);
		return NULL;
	}
	if (pthread_cond_init(&pp->filled, NULL) != 0) {
		pthread_mutex_destroy(&pp->mu);
		free(pp);
		return NULL;
	}
	if (pthread_cond_init(&pp->freed, NULL) != 0) {
		pthread_cond_destroy(&pp->filled);
		pthread_mutex_destroy(&pp->mu);
		free(pp);
		return NULL;
	}
	pp->c = c;
	pp->count = lim->count;
	pp->want_pos = lim->progress != NULL;
	pp->nbatch = c->live ? CAP_LIVE_NBATCH : CAP_NBATCH;
	pp->duration = lim->duration;
	atomic_init(&pp->quit, false);
	atomic_init(&pp->stop_reading, false);
	atomic_init(&pp->hungry, false);
	for (size_t i = 0; i < pp->nbatch; i++) {
		pp->b[i].recs = malloc(CAP_BATCH_RECS * sizeof(struct cap_rec));
		pp->b[i].a.mem = malloc(CAP_ARENA);
		pp->b[i].a.size = CAP_ARENA;
		if (!pp->b[i].recs || !pp->b[i].a.mem) {
			pipe_free(pp);
			return NULL;
		}
	}
	return pp;
}

/* Reader: wait for batch number w to be free; NULL once the analyzer quit. */
static struct cap_batch *reader_take(struct cap_pipe *pp, uint64_t w)
{
	struct cap_batch *b = NULL;

	pthread_mutex_lock(&pp->mu);
	/* A reader faster than the analyzer would otherwise be woken for
	 * every batch given back, and a wakeup costs the analyzer's thread a
	 * futex call and the sleeping core an interrupt: wait for half the
	 * ring instead. */
	if (pp->nfull == pp->nbatch)
		pp->reader_waits = true;
	while (pp->reader_waits && !atomic_load(&pp->quit))
		pthread_cond_wait(&pp->freed, &pp->mu);
	if (!atomic_load(&pp->quit))
		b = &pp->b[w % pp->nbatch];
	pthread_mutex_unlock(&pp->mu);
	if (b) {
		b->n = 0;
		b->a.pos = 0;
		b->a.end = 0;
		b->end = CAP_MORE;
	}
	return b;
}

/* Reader: hand the batch being filled to the analyzer. */
static void reader_give(struct cap_pipe *pp, struct cap_batch *b,
                        enum cap_end end)
{
	b->end = end;
	pthread_mutex_lock(&pp->mu);
	pp->nfull++;
	pthread_cond_signal(&pp->filled);
	pthread_mutex_unlock(&pp->mu);
}

/* The batch the fast reader is filling. What changes with every record
 * (the record count, the buffer's pos and end) is kept here, apart from
 * the batch, whose cache line it shares with the neighbouring batches the
 * analyzer is reading; it goes into the batch when it is handed over. */
struct fast_fill {
	struct cap_batch *b;
	struct prd_buf a;
	size_t n;
};

static void fill_start(struct fast_fill *ff, struct cap_batch *b)
{
	ff->b = b;
	ff->a = b->a;           /* reader_take() emptied it */
	ff->n = 0;
}

static void fill_give(struct cap_pipe *pp, struct fast_fill *ff,
                      enum cap_end end)
{
	ff->b->a = ff->a;
	ff->b->n = ff->n;
	reader_give(pp, ff->b, end);
}

/* Reader, fast path: go on in the next batch, with room for need bytes
 * (prd_need()), the bytes read but not parsed yet moving along (if the
 * batch holds no record yet, it just grows). The batch handed over is
 * still read here after the handover (prd_carry() only reads, and so does
 * the analyzer; neither writes it until the reader takes it again,
 * CAP_NBATCH batches later). Returns 0, 1 once the analyzer quit, -1 out
 * of memory. */
static int reader_next_fast(struct cap_pipe *pp, struct fast_fill *ff,
                            uint64_t *w, size_t need)
{
	struct prd_buf old = ff->a;
	size_t unparsed = old.end - old.pos;
	bool moved = false;

	if (need < unparsed)
		need = unparsed;
	if (ff->n > 0) {
		struct cap_batch *nb;

		fill_give(pp, ff, CAP_MORE);
		nb = reader_take(pp, ++*w);
		if (!nb)
			return 1;
		fill_start(ff, nb);
		moved = true;
	}
	if (need > ff->a.size) {
		/* the same batch keeps its bytes; a fresh one has none yet */
		size_t sz = align_up(need);
		uint8_t *m = realloc(ff->a.mem, sz);

		if (!m)
			return -1;
		ff->b->a.mem = ff->a.mem = m;
		ff->b->a.size = ff->a.size = sz;
	}
	if (moved)
		prd_carry(&old, &ff->a);
	return 0;
}

/* Reader, fast path (a classic pcap file, see pcapread.h): records are
 * read into the batches' arenas and stay where they land, no copy. */
static void *reader_fast(struct cap_pipe *pp)
{
	struct cap *c = pp->c;
	uint64_t records = 0, passed = 0, w = 0;
	enum cap_end end = CAP_EOF;
	struct cap_batch *first = reader_take(pp, w);
	struct fast_fill ff;

	if (!first)
		return NULL;
	fill_start(&ff, first);
	for (;;) {
		enum prd_status st = PRD_FULL;
		struct prd_rec pr;
		size_t need = 0;
		bool skip;
		int rc;

		if (atomic_load_explicit(&pp->quit, memory_order_relaxed))
			return NULL;    /* nobody reads this batch any more */
		if (pp->count && passed >= pp->count)
			break;
		if (ff.n < CAP_BATCH_RECS)
			st = prd_next(pp->rd, &ff.a, &pr);
		if (st == PRD_EOF)
			break;
		if (st == PRD_ERROR) {
			record_err(pp->err, sizeof(pp->err), c, records + 1,
			           prd_error(pp->rd));
			end = CAP_ERROR;
			break;
		}
		if (st == PRD_FULL) {
			if (ff.n < CAP_BATCH_RECS)
				need = prd_need(pp->rd);
			rc = reader_next_fast(pp, &ff, &w, need);
			if (rc > 0)
				return NULL;
			if (rc < 0) {
				record_err(pp->err, sizeof(pp->err), c,
				           records + 1, "out of memory");
				end = CAP_ERROR;
				break;
			}
			continue;
		}
		records++;
		skip = c->have_filter &&
		       pcap_offline_filter(&c->prog, &pr.h,
		                           ff.a.mem + pr.off) == 0;
		passed += !skip;
		put_rec(&ff.b->recs[ff.n++], &pr.h, skip, pr.off);
		if ((records & CAP_PROGRESS_MASK) == 0)
			ff.b->pos = pr.end;
	}
	fill_give(pp, &ff, end);
	return NULL;
}

/* ---- live captures: a reader thread ------------------------------------------
 *
 * Measured before it: nginx and wrk (Connection: close) on loopback at
 * some 25,000 connections a second, on two cores busy with them; the
 * analyzer read frames itself, between two packets' analysis, from
 * libpcap's default 2 MiB ring, which filled whenever the analyzer (or
 * the core it ran on) was busy for a few milliseconds: it saw fewer than
 * half the frames, and said nothing. tcpdump, doing nothing per frame,
 * lost none.
 *
 * So the reader empties the kernel's ring into the batches of the saved
 * capture's pipe (a copy per frame: libpcap's ring must be given back to
 * the kernel), CAP_LIVE_NBATCH of them, while the analyzer catches up. A
 * batch is handed over when it is full, or as soon as it holds a frame
 * while the analyzer waits (hungry): on a quiet link a frame reaches the
 * analyzer at once, on a busy one batches stay large and the handovers
 * few. Only the reader touches the pcap handle while cap_run() runs,
 * including pcap_stats() once a second (libpcap's handle is not shared
 * between threads). With the queue full the reader waits; the kernel's
 * ring then fills and the kernel counts what it drops, which is what
 * cap_kernel_stats() reports: nothing is lost silently.
 */
#define CAP_LIVE_HOLD_MS 10 /* a frame waits at most this long in a batch
                               the analyzer has not asked for yet */

/* capture.h promises this bound; a frame never needs more than a batch's
 * arena (CAP_SNAPLEN), so no live arena ever grows. */
_Static_assert(CAP_LIVE_QUEUE_BYTES ==
               CAP_LIVE_NBATCH * (CAP_ARENA + CAP_BATCH_RECS * sizeof(struct cap_rec)),
               "CAP_LIVE_QUEUE_BYTES and the live batches disagree");
_Static_assert(CAP_SNAPLEN <= CAP_ARENA, "a live frame may not fit a batch");

struct live_fill {
	struct cap_pipe *pp;
	struct cap_batch *b;       /* being filled; NULL once the analyzer quit */
	uint64_t w;                /* its number */
	uint64_t got;              /* frames put into batches */
	bool oom;
};

/* Reader, live: pcap_dispatch()'s callback, one frame into the batch
 * (into the next one when its bytes do not fit; the dispatch is never
 * asked for more frames than the batch has records free). */
static void live_put(u_char *user, const struct pcap_pkthdr *h,
                     const u_char *data)
{
	struct live_fill *lf = (struct live_fill *)(void *)user;
	struct cap_batch *b = lf->b;
	size_t need = h->caplen;

	if (!b || lf->oom)
		return;
	if (b->a.pos + need > b->a.size) {
		if (b->n > 0) {
			reader_give(lf->pp, b, CAP_MORE);
			b = lf->b = reader_take(lf->pp, ++lf->w);
			if (!b) {
				pcap_breakloop(lf->pp->c->p);
				return;
			}
		}
		if (need > b->a.size) {
			size_t sz = align_up(need);
			uint8_t *a = realloc(b->a.mem, sz);

			if (!a) {
				lf->oom = true;
				pcap_breakloop(lf->pp->c->p);
				return;
			}
			b->a.mem = a;
			b->a.size = sz;
		}
	}
	put_rec(&b->recs[b->n++], h, false, b->a.pos);
	memcpy(b->a.mem + b->a.pos, data, need);
	b->a.pos = align_up(b->a.pos + need);
	lf->got++;
}

static void *reader_live(struct cap_pipe *pp)
{
	struct cap *c = pp->c;
	struct live_fill lf = { .pp = pp };
	double t0 = now_mono(), next_kst = t0;
	enum cap_end end = CAP_EOF;

	lf.b = reader_take(pp, 0);
	while (lf.b) {
		double now = now_mono();
		int max, rc;

		if (atomic_load(&pp->stop_reading))
			break;
		if (pp->count && lf.got >= pp->count)
			break;
		if (pp->duration > 0 && now - t0 >= pp->duration)
			break;
		if (now >= next_kst) {
			kstats_read(c);
			next_kst = now + CAP_KSTATS_SECONDS;
		}
		max = (int)(CAP_BATCH_RECS - lf.b->n);
		if (pp->count && pp->count - lf.got < (uint64_t)max)
			max = (int)(pp->count - lf.got);
		rc = pcap_dispatch(c->p, max, live_put, (u_char *)&lf);
		if (!lf.b)
			return NULL;    /* the analyzer quit */
		if (lf.oom) {
			snprintf(pp->err, sizeof(pp->err), "%s: out of memory",
			         c->name);
			end = CAP_ERROR;
			break;
		}
		if (rc < 0 && rc != PCAP_ERROR_BREAK) {
			snprintf(pp->err, sizeof(pp->err), "%s: %s", c->name,
			         pcap_geterr(c->p));
			end = CAP_ERROR;
			break;
		}
		if (lf.b->n == CAP_BATCH_RECS ||
		    (lf.b->n > 0 && atomic_load(&pp->hungry))) {
			reader_give(pp, lf.b, CAP_MORE);
			lf.b = reader_take(pp, ++lf.w);
			continue;
		}
		if (rc == 0) {
			/* nothing ready: wait for the kernel (EINTR is fine) */
			struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
			int ms = lf.b->n > 0 ? CAP_LIVE_HOLD_MS : CAP_TIMEOUT_MS;

			if (poll(&pfd, 1, ms) < 0 && errno != EINTR) {
				snprintf(pp->err, sizeof(pp->err), "%s: poll: %s",
				         c->name, strerror(errno));
				end = CAP_ERROR;
				break;
			}
		}
	}
	if (lf.b)
		reader_give(pp, lf.b, end);
	return NULL;
}

static void *reader_main(void *arg)
{
	struct cap_pipe *pp = arg;
	struct cap *c = pp->c;
	FILE *f = pp->want_pos ? pcap_file(c->p) : NULL;
	uint64_t records = 0, passed = 0, est_bytes = PCAP_FILE_HDR, w = 0;
	enum cap_end end = CAP_EOF;
	struct cap_batch *b;

	if (c->live)
		return reader_live(pp);
	if (pp->rd)
		return reader_fast(pp);
	b = reader_take(pp, w);
	while (b) {
		struct pcap_pkthdr *h;
		const u_char *data;
		size_t need;
		bool skip;
		int rc;

		if (atomic_load_explicit(&pp->quit, memory_order_relaxed))
			return NULL;    /* nobody reads this batch any more */
		if (pp->count && passed >= pp->count)
			break;
		rc = pcap_next_ex(c->p, &h, &data);
		if (rc == PCAP_ERROR_BREAK)
			break;
		if (rc != 1) {
			record_err(pp->err, sizeof(pp->err), c, records + 1,
			           pcap_geterr(c->p));
			end = CAP_ERROR;
			break;
		}
		records++;
		est_bytes += PCAP_REC_HDR + h->caplen;
		skip = c->have_filter &&
		       pcap_offline_filter(&c->prog, h, data) == 0;
		passed += !skip;
		need = skip ? 0 : h->caplen;

		/* No room: hand this batch over and go on in the next one;
		 * data stays valid until the next pcap_next_ex(). */
		if (b->n == CAP_BATCH_RECS || b->a.pos + need > b->a.size) {
			if (b->n > 0) {
				reader_give(pp, b, CAP_MORE);
				b = reader_take(pp, ++w);
				if (!b)
					return NULL;
			}
			if (need > b->a.size) {
				size_t sz = align_up(need);
				uint8_t *a = realloc(b->a.mem, sz);

				if (!a) {
					record_err(pp->err, sizeof(pp->err), c,
					           records, "out of memory");
					end = CAP_ERROR;
					break;
				}
				b->a.mem = a;
				b->a.size = sz;
			}
		}
		put_rec(&b->recs[b->n++], h, skip, b->a.pos);
		if (need) {
			memcpy(b->a.mem + b->a.pos, data, need);
			b->a.pos = align_up(b->a.pos + need);
		}
		if (pp->want_pos && (records & CAP_PROGRESS_MASK) == 0) {
			long pos = f && !c->zr ? ftell(f) : -1;

			b->pos = c->zr ? zr_bytes_in(c->zr) :
			         pos >= 0 ? (uint64_t)pos : est_bytes;
		}
	}
	if (b)
		reader_give(pp, b, end);
	return NULL;
}

/* Analyzer: batch number r once the reader has handed it over; NULL if
 * *stop was set while waiting (looked at every CAP_TIMEOUT_MS). */
static struct cap_batch *analyzer_take(struct cap_pipe *pp, uint64_t r,
                                       volatile sig_atomic_t *stop)
{
	bool stopped = false;

	pthread_mutex_lock(&pp->mu);
	while (pp->nfull == 0) {
		struct timespec ts;

		if (stop && *stop) {
			stopped = true;
			break;
		}
		if (!stop || clock_gettime(CLOCK_REALTIME, &ts) != 0) {
			pthread_cond_wait(&pp->filled, &pp->mu);
			continue;
		}
		ts.tv_nsec += CAP_TIMEOUT_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&pp->filled, &pp->mu, &ts);
	}
	pthread_mutex_unlock(&pp->mu);
	return stopped ? NULL : &pp->b[r % pp->nbatch];
}

/* Analyzer: give a batch it has finished with back to the reader. */
static void analyzer_give(struct cap_pipe *pp)
{
	pthread_mutex_lock(&pp->mu);
	pp->nfull--;
	if (pp->reader_waits && pp->nfull <= pp->nbatch / 2) {
		pp->reader_waits = false;
		pthread_cond_signal(&pp->freed);
	}
	pthread_mutex_unlock(&pp->mu);
}

/* Start the reader thread, with every signal blocked from its first
 * instruction on (it inherits the mask), so SIGINT and SIGTERM go to the
 * calling thread as before. */
static int pipe_start(struct cap_pipe *pp)
{
	sigset_t all, old;
	int rc;

	if (sigfillset(&all) != 0 ||
	    pthread_sigmask(SIG_SETMASK, &all, &old) != 0)
		return -1;
	rc = pthread_create(&pp->reader, NULL, reader_main, pp);
	/* Restoring the mask just read cannot fail (the only error is a
	 * bad "how"). */
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0 ? 0 : -1;
}

/* Tell the reader to stop and wait for it. */
static void pipe_stop(struct cap_pipe *pp)
{
	pthread_mutex_lock(&pp->mu);
	atomic_store(&pp->quit, true);
	pthread_cond_broadcast(&pp->freed);
	pthread_mutex_unlock(&pp->mu);
	/* cannot fail: the thread is joinable, ours, and not this one */
	(void)pthread_join(pp->reader, NULL);
}

/* The in-place reader over a decompressed stream or standard input
 * (pcapread.h's stream mode), when libpcap has read no more than the file
 * header (zread.h hands those 24 bytes out on their own); else NULL. */
static struct prd *stream_reader(struct cap *c)
{
	const uint8_t *head;
	FILE *f = pcap_file(c->p);

	if (!f || !zr_nothing_buffered(f) || zr_head(c->zr, &head) < PCAP_FILE_HDR)
		return NULL;
	return prd_open_stream(c->p, head, zr_read_raw, c->zr);
}

/* Saved capture through the reader thread. Returns 0, -1 (err set), or 1
 * if the thread could not be started (nothing was read). */
static int run_piped(struct cap *c, struct az *az,
                     const struct cap_limits *lim, char *err, size_t errlen)
{
	struct cap_pipe *pp = pipe_new(c, lim);
	uint64_t records = 0, fed = 0, r = 0;
	int ret = 0;

	if (!pp)
		return 1;
	/* NULL (libpcap reads every record) for standard input, pcapng and
	 * the rarer pcap variants */
	pp->rd = c->zr ? stream_reader(c) : prd_open(c->p);
	if (pipe_start(pp) != 0) {
		/* nothing read yet, so libpcap's FILE is where it was */
		(void)prd_close(pp->rd);
		pipe_free(pp);
		return 1;
	}
	for (;;) {
		struct cap_batch *b = analyzer_take(pp, r, lim->stop);

		if (!b)
			goto out;
		for (size_t i = 0; i < b->n; i++) {
			const struct cap_rec *rec = &b->recs[i];

			if (lim->stop && *lim->stop)
				goto out;
			if (lim->count && fed >= lim->count)
				goto out;
			records++;
			if (rec->skip) {
				az_skip_frame(az);
				continue;
			}
			fed++;
			feed(c, az, c->dlt, rec->t, b->a.mem + rec->off,
			     rec->caplen, rec->len);
			if (lim->progress && (records & CAP_PROGRESS_MASK) == 0)
				lim->progress(records, b->pos, c->file_size,
				              lim->progress_arg);
		}
		if (b->end != CAP_MORE) {
			/* the single-threaded loop looks at the limits before
			 * each read, so before the failed one too */
			if (b->end == CAP_ERROR && !(lim->stop && *lim->stop) &&
			    !(lim->count && fed >= lim->count)) {
				snprintf(err, errlen, "%s", pp->err);
				ret = -1;
			}
			goto out;
		}
		analyzer_give(pp);
		r++;
	}
out:
	pipe_stop(pp);
	/* Leaves libpcap's FILE after the last record read, as reading
	 * through libpcap would; only a later cap_run() on c would notice a
	 * failure, so there is nothing to report here. */
	(void)prd_close(pp->rd);
	pipe_free(pp);
	return ret;
}

/* Analyzer, live: batch number r, or NULL if none came within
 * CAP_TIMEOUT_MS. While it waits it is hungry (see above). */
static struct cap_batch *analyzer_poll_live(struct cap_pipe *pp, uint64_t r)
{
	struct cap_batch *b = NULL;
	struct timespec ts;

	pthread_mutex_lock(&pp->mu);
	if (pp->nfull == 0) {
		atomic_store(&pp->hungry, true);
		if (clock_gettime(CLOCK_REALTIME, &ts) == 0) {
			ts.tv_nsec += CAP_TIMEOUT_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&pp->filled, &pp->mu, &ts);
		} else {
			pthread_cond_wait(&pp->filled, &pp->mu);
		}
	}
	if (pp->nfull > 0)
		b = &pp->b[r % pp->nbatch];
	atomic_store(&pp->hungry, false);
	pthread_mutex_unlock(&pp->mu);
	return b;
}

/* Live capture through the reader thread. Returns 0, -1 (err set), or 1
 * if the thread could not be started (nothing was read). The reader ends
 * the capture (count, duration, *stop passed on as stop_reading); every
 * frame it read is analyzed, in the order read. */
static int run_live(struct cap *c, struct az *az, const struct cap_limits *lim,
                    char *err, size_t errlen)
{
	struct cap_pipe *pp = pipe_new(c, lim);
	uint64_t records = 0, bytes = 0, r = 0;
	bool stopping = false;
	int ret = 0;

	if (!pp)
		return 1;
	if (pipe_start(pp) != 0) {
		pipe_free(pp);
		return 1;
	}
	for (;;) {
		struct cap_batch *b;

		if (!stopping && lim->stop && *lim->stop) {
			stopping = true;
			atomic_store(&pp->stop_reading, true);
		}
		b = analyzer_poll_live(pp, r);
		if (!b) {
			if (lim->progress)
				lim->progress(records, bytes, 0, lim->progress_arg);
			continue;
		}
		for (size_t i = 0; i < b->n; i++) {
			const struct cap_rec *rec = &b->recs[i];

			records++;
			bytes += rec->caplen;
			feed(c, az, c->dlt, rec->t, b->a.mem + rec->off,
			     rec->caplen, rec->len);
		}
		if (lim->progress)
			lim->progress(records, bytes, 0, lim->progress_arg);
		if (b->end != CAP_MORE) {
			if (b->end == CAP_ERROR) {
				snprintf(err, errlen, "%s", pp->err);
				ret = -1;
			}
			break;
		}
		analyzer_give(pp);
		r++;
	}
	pipe_stop(pp);
	pipe_free(pp);
	return ret;
}

int cap_run(struct cap *c, struct az *az, const struct cap_limits *lim,
            char *err, size_t errlen)
{
	static const struct cap_limits none;
	int rc;

	if (!lim)
		lim = &none;
	if (c->live) {
		rc = run_live(c, az, lim, err, errlen);
		if (rc > 0)
			rc = run_direct(c, az, lim, err, errlen);
		/* the reader is gone: this thread owns the handle again */
		kstats_read(c);
		return rc;
	}
	rc = run_piped(c, az, lim, err, errlen);
	if (rc <= 0)
		return rc;
	return run_direct(c, az, lim, err, errlen);
}

void cap_close(struct cap *c)
{
	if (!c)
		return;
	if (c->have_filter)
		pcap_freecode(&c->prog);
	(void)prd_close(c->nx_rd);  /* before the handle it reads through */
	c->nx_rd = NULL;
	free(c->nx_buf.mem);
	c->nx_buf.mem = NULL;
	if (c->p)
		pcap_close(c->p);
	c->p = NULL;
	free(c->meta);
	c->meta = NULL;
	pthread_mutex_destroy(&c->kst_mu);
	free(c);
}
