/*
 * capture.h - packet input for the analyzer: a saved capture (pcap or
 * pcapng, "-" for standard input) or a live interface, through libpcap,
 * with an optional BPF filter, fed frame by frame to an analyzer. (The
 * records of a classic pcap file are read without libpcap where they are
 * plainly well-formed, see pcapread.h; what the caller sees is the same.)
 *
 * Errors: functions return NULL / -1 and write a one-line message
 * ("what: detail") into err (errlen bytes, always NUL-terminated).
 */
#ifndef LL_ANALYZER_CAPTURE_H
#define LL_ANALYZER_CAPTURE_H

#include <pcap/pcap.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"

struct cap; /* opaque */

/* Open a saved capture; path "-" reads standard input. A capture
 * compressed with gzip, zstd or xz (told by its first bytes, zread.h) is
 * decompressed as it is read, from a file or standard input alike; an
 * uncompressed regular file is read in place (pcapread.h). Fails (NULL,
 * err "FILE: reason", "FILE, gzip: reason") for an unreadable file or an
 * unknown format. A link type
 * the decoder does not know is no failure: its frames count as
 * unsupported (cap_unsupported()). */
struct cap *cap_open_offline(const char *path, char *err, size_t errlen);

/* The kernel's capture buffer of a live interface when none is asked for:
 * at 30,000 connections a second on loopback (some 300,000 frames a
 * second) it holds about half a second of traffic, time for the reader
 * thread to be scheduled on a busy host. libpcap's own default is 2 MiB. */
#define CAP_BUFFER_DEFAULT (32ull << 20)
#define CAP_BUFFER_MAX     ((1ull << 31) - 1) /* pcap_set_buffer_size's int */

/* Open a live interface (promiscuous off, snaplen 262144, frames handed
 * over by the kernel within 10 ms) with the kernel's capture buffer at
 * CAP_BUFFER_DEFAULT. On failure errno is EPERM when the process may not
 * capture there (libpcap's PCAP_ERROR_PERM_DENIED: not root, no
 * CAP_NET_RAW), else 0. */
struct cap *cap_open_live(const char *iface, char *err, size_t errlen);

/* The same, with a capture buffer of buffer_bytes (tcpdump's -B; 0: the
 * default). Fails ("IFACE: capture buffer: ...") above CAP_BUFFER_MAX. The
 * kernel may round it up: libpcap makes a ring of whole 256 KiB blocks. */
struct cap *cap_open_live_buffer(const char *iface, uint64_t buffer_bytes,
                                 char *err, size_t errlen);

/* The kernel's own counters of a live capture (libpcap's pcap_stats()),
 * since it was opened: frames it let through the filter, frames it dropped
 * because the capture buffer was full (ps_drop), frames the interface or
 * its driver dropped (ps_ifdrop: on Linux the interface's rx_dropped, which
 * may count frames the capture still saw). Kept in 64 bits though libpcap
 * counts in 32. */
struct cap_kstats {
	uint64_t received;
	uint64_t kernel_dropped;
	uint64_t interface_dropped;
};

/* The counters as last read: while cap_run() runs they are read about
 * once a second (so its progress callback may ask), and once more when it
 * ends. Returns 0, or -1 for a saved capture or when libpcap could not
 * read them yet. */
int cap_kernel_stats(struct cap *c, struct cap_kstats *st);

/* Compile a BPF filter expression (tcpdump syntax): installed in the
 * kernel for a live interface, applied by cap_run() to a saved capture
 * (see there for what that means for packet indexes). */
int cap_set_filter(struct cap *c, const char *expr, char *err, size_t errlen);

int cap_datalink(const struct cap *c);            /* pcap DLT number */
const char *cap_compression(const struct cap *c); /* "none", "gzip", "zstd", "xz" */
const char *cap_format(const struct cap *c);      /* "pcap", "pcapng" */
/* A pcapng file's section and interface descriptions (pngmeta.h), or
 * NULL (not pcapng, or none could be read). */
struct png_meta;
const struct png_meta *cap_pcapng_meta(const struct cap *c);
const char *cap_datalink_name(const struct cap *c); /* "EN10MB", ... */
bool cap_is_live(const struct cap *c);

/* Called now and then while reading (about every 64 Ki packets; live,
 * after each batch and every 100 ms while the interface is idle), from
 * the thread that called cap_run(); bytes_read is the position in the file
 * after that frame (an estimate from the record sizes if the input cannot
 * tell, e.g. a pipe; live, the bytes captured so far). */
typedef void (*cap_progress_fn)(uint64_t packets, uint64_t bytes_read,
                                uint64_t file_size, void *arg);

/* The bound of the live batch queue: 64 batches of at most 256 KiB of
 * frames and 4096 records of 24 bytes (capture_live.c), 22 MiB. */
#define CAP_LIVE_QUEUE_BYTES (64ull * ((256ull << 10) + 4096 * 24))

struct cap_limits {
	uint64_t count;            /* stop after this many frames (0: no limit) */
	double duration;           /* live: stop after this many seconds (0: none) */
	volatile sig_atomic_t *stop; /* stop when *stop becomes non-zero */
	cap_progress_fn progress;  /* may be NULL */
	void *progress_arg;
};

/*
 * Read frames and hand each to az_packet() until end of file, a limit or
 * *stop. Does not call az_finish(). Returns 0, or -1 with err set (a read
 * error; frames read before it were still analyzed). A record libpcap
 * rejects (caplen beyond the snapshot limit, a record cut short by the end
 * of the file) ends a file with an error message naming the record number
 * ("FILE: record N: reason"). Records libpcap accepts but that make no
 * sense (caplen 0, caplen > len) are handed on: the decoder counts them as
 * invalid and reading goes on, as tcpdump does.
 * With a filter on a saved capture, every record is read and the filter
 * is applied here, frame by frame: a frame it rejects is not decoded but
 * still counted with az_skip_frame(), so the analyzer's packet indexes are
 * positions in the file (what `tcpdump -r FILE` numbers) and stats count
 * the rejected frames as filtered. On a live interface the kernel applies
 * the filter and rejected frames are never seen: indexes count the frames
 * delivered, which is what a `-w` capture with the same filter would hold.
 * lim->count counts frames handed to the analyzer (after the filter).
 *
 * Threads: a saved capture is read by a second thread that cap_run()
 * starts and joins before it returns. It runs with every signal blocked
 * (signals reach the caller's threads as before), reads ahead of the
 * analyzer but never beyond lim->count frames, and hands frames over in
 * batches. az_packet(), az_skip_frame() and the progress callback are
 * called only from the calling thread, in file order, exactly as a
 * one-thread loop calls them; while cap_run() runs, c belongs to it. If
 * the thread cannot be started, the calling thread reads the file itself,
 * with the same results.
 * *stop is looked at before every frame and, while waiting for the
 * reader, every 100 ms; but a reader blocked on a pipe that delivers
 * nothing holds cap_run() until data or the end of input come.
 *
 * A live interface is read the same way, by a thread that drains the
 * kernel's ring into batches as fast as frames come, so that a busy
 * analyzer does not leave the ring to fill up. It reads at most lim->count
 * frames and none after lim->duration; *stop (looked at between batches
 * and every 100 ms while waiting) ends the reading, and the frames already
 * read are still analyzed, so nothing the kernel handed over is lost
 * unsaid. The batches waiting for the analyzer hold at most
 * CAP_LIVE_QUEUE_BYTES; beyond that the reader waits, the kernel's buffer
 * fills, then drops, and counts what it drops (cap_kernel_stats()). If the
 * thread cannot be started, the calling thread reads the interface itself.
 */
int cap_run(struct cap *c, struct az *az, const struct cap_limits *lim,
            char *err, size_t errlen);

/* What unsupported frames carried (decode.h's dec_unsupported_text()),
 * after cap_run(): entry i's text into text (len bytes) and its frame
 * count into *count. Returns the number of entries (so i past it fills
 * nothing); at most 32 are named, the rest are one entry "other". */
size_t cap_unsupported(const struct cap *c, size_t i, char *text,
                       size_t len, uint64_t *count);

/* One record of a saved capture, for a caller that reads several at once
 * (merge.h): the record as libpcap gives it, its data valid until the
 * next cap_next() on the same capture, its number in the file, and
 * whether the filter rejected it. */
struct cap_frame {
	struct pcap_pkthdr h;
	const uint8_t *data;
	uint64_t record;
	bool skip;
};

/* The next record through libpcap: 1, 0 at the end of the file, -1 with
 * "FILE: record N: why" in err. Not while cap_run() runs on c. */
int cap_next(struct cap *c, struct cap_frame *fr, char *err, size_t errlen);

/* Hand fr to the analyzer (az_skip_frame() if the filter rejected it),
 * counting what an unsupported frame carried as cap_run() does. */
void cap_feed(struct cap *c, struct az *az, const struct cap_frame *fr);

/* Size of the input file in bytes, 0 if unknown (stdin, live). */
uint64_t cap_file_size(const struct cap *c);

void cap_close(struct cap *c);

#endif
