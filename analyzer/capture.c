/*
 * capture.c - frames from a saved capture or a live interface, through
 * libpcap, handed one by one to the analyzer. This room holds the handle:
 * opening a file or an interface, the filter, what the capture is (format,
 * compression, link type, pcapng metadata), the unsupported frames, the
 * kernel's counters, and cap_run(), which picks the loop: a reader thread
 * for a saved capture (capture_pipe.c) or a live one (capture_live.c), or
 * the caller's own thread (capture_direct.c, with cap_next() for merge.c).
 * capture_int.h is what they share.
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
 * Offline BPF filters are compiled here and applied by each loop with
 * pcap_offline_filter() rather than installed with pcap_setfilter(), so that we still see every record:
 * an error can name the record's position in the file, and a rejected
 * frame goes to az_skip_frame() so that the analyzer's packet indexes
 * count every frame of the file (tcpdump -r numbers them the same way).
 *
 * A live interface is read by a thread of its own too (capture_live.c):
 * it empties the kernel's ring into batches while the analyzer
 * works, and reads the kernel's drop counters once a second.
 */
#include "analyzer/capture.h"
#include "analyzer/capture_int.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/decode.h"
#include "analyzer/pcapread.h"
#include "analyzer/pngmeta.h"
#include "analyzer/zread.h"

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
void cap_unsup_note(struct cap *c, int dlt, const uint8_t *bytes,
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
void cap_kstats_read(struct cap *c)
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


/* "FILE: record N: why", the error that ends reading a saved capture;
 * for a compressed file, the decompressor's reason when it had one
 * (libpcap would only say "Input/output error"). */
void cap_record_err(char *err, size_t errlen, const struct cap *c,
                    uint64_t n, const char *why)
{
	if (c->zr && zr_error(c->zr))
		why = zr_error(c->zr);
	snprintf(err, errlen, "%s: record %llu: %s", c->name,
	         (unsigned long long)n, why);
}

int cap_run(struct cap *c, struct az *az, const struct cap_limits *lim,
            char *err, size_t errlen)
{
	static const struct cap_limits none;
	int rc;

	if (!lim)
		lim = &none;
	if (c->live) {
		rc = cap_run_live(c, az, lim, err, errlen);
		if (rc > 0)
			rc = cap_run_direct(c, az, lim, err, errlen);
		/* the reader is gone: this thread owns the handle again */
		cap_kstats_read(c);
		return rc;
	}
	rc = cap_run_piped(c, az, lim, err, errlen);
	if (rc <= 0)
		return rc;
	return cap_run_direct(c, az, lim, err, errlen);
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
