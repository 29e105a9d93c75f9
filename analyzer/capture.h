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

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"

struct cap; /* opaque */

/* Open a saved capture; path "-" reads standard input. Fails (NULL, err
 * "FILE: reason") for an unreadable file, an unknown format, or a link type
 * dec_linktype_supported() refuses. */
struct cap *cap_open_offline(const char *path, char *err, size_t errlen);

/* Open a live interface (promiscuous off, snaplen 262144, immediate mode).
 * On failure errno is EPERM when the process may not capture there
 * (libpcap's PCAP_ERROR_PERM_DENIED: not root, no CAP_NET_RAW), else 0. */
struct cap *cap_open_live(const char *iface, char *err, size_t errlen);

/* Compile a BPF filter expression (tcpdump syntax): installed in the
 * kernel for a live interface, applied by cap_run() to a saved capture
 * (see there for what that means for packet indexes). */
int cap_set_filter(struct cap *c, const char *expr, char *err, size_t errlen);

int cap_datalink(const struct cap *c);            /* pcap DLT number */
const char *cap_datalink_name(const struct cap *c); /* "EN10MB", ... */
bool cap_is_live(const struct cap *c);

/* Called now and then while reading (about every 64 Ki packets), from the
 * thread that called cap_run(); bytes_read is the position in the file
 * after that frame (an estimate from the record sizes if the input cannot
 * tell, e.g. a pipe). */
typedef void (*cap_progress_fn)(uint64_t packets, uint64_t bytes_read,
                                uint64_t file_size, void *arg);

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
 * with the same results. A live capture is read by the calling thread.
 * *stop is looked at before every frame and, while waiting for the
 * reader, every 100 ms; but a reader blocked on a pipe that delivers
 * nothing holds cap_run() until data or the end of input come.
 */
int cap_run(struct cap *c, struct az *az, const struct cap_limits *lim,
            char *err, size_t errlen);

/* Size of the input file in bytes, 0 if unknown (stdin, live). */
uint64_t cap_file_size(const struct cap *c);

void cap_close(struct cap *c);

#endif
