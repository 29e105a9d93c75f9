/*
 * capture_int.h - what the rooms of the capture reader share, and nothing
 * a caller of capture.h needs: the capture handle, the batches and the
 * ring the reader threads fill, the few helpers every loop uses.
 *
 *   capture.c         the handle: opening a file or an interface, the
 *                     filter, what it is (format, link type, metadata),
 *                     unsupported frames, the kernel's counters, cap_run()
 *   capture_direct.c  reading in the caller's thread: cap_next() for
 *                     merge.c, and the loop used when no thread starts
 *   capture_pipe.c    a saved capture through a reader thread
 *   capture_live.c    a live interface through a reader thread
 *
 * The analyzer never depends on the lab or on JSON; nor does this.
 */
#ifndef LL_ANALYZER_CAPTURE_INT_H
#define LL_ANALYZER_CAPTURE_INT_H

#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "analyzer/analyzer.h"
#include "analyzer/capture.h"
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

/* ---- the reader threads' ring (capture_pipe.c) ---- */

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
	/* saved captures: each record decoded by the reader thread
	 * (az_predecode()), [i] for recs[i] unless it is skipped; NULL live */
	struct az_pre *pre;
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

/* ---- capture.c ---- */

/* A frame the decoder called unsupported: count what it carried. */
void cap_unsup_note(struct cap *c, int dlt, const uint8_t *bytes,
                    uint32_t caplen, uint32_t len);
/* "FILE: record N: why" into err. */
void cap_record_err(char *err, size_t errlen, const struct cap *c,
                    uint64_t n, const char *why);
/* Live: the kernel's counters into c->kst (the thread that owns c->p). */
void cap_kstats_read(struct cap *c);

/* ---- capture_direct.c ---- */

/* The single-threaded loop, live or saved: 0, or -1 (err set). */
int cap_run_direct(struct cap *c, struct az *az,
                   const struct cap_limits *lim, char *err, size_t errlen);

/* ---- capture_pipe.c ---- */

/* A ring of batches for c (CAP_NBATCH, live CAP_LIVE_NBATCH); NULL out of
 * memory. Freed with cap_pipe_free(); its thread runs between
 * cap_pipe_start() (0, or -1: not started) and cap_pipe_stop(). */
struct cap_pipe *cap_pipe_new(struct cap *c, const struct cap_limits *lim);
void cap_pipe_free(struct cap_pipe *pp);
int cap_pipe_start(struct cap_pipe *pp);
void cap_pipe_stop(struct cap_pipe *pp);
/* Reader: batch number w once it is free, emptied; NULL once the analyzer
 * quit. cap_reader_give() hands it over, end saying if it is the last. */
struct cap_batch *cap_reader_take(struct cap_pipe *pp, uint64_t w);
void cap_reader_give(struct cap_pipe *pp, struct cap_batch *b,
                     enum cap_end end);
/* Analyzer: give the batch it has finished with back to the reader. */
void cap_analyzer_give(struct cap_pipe *pp);
/* A batch's arena grown to hold need bytes (a multiple of CAP_ALIGN), its
 * bytes kept: 0, or -1 out of memory (the arena as it was). */
int cap_arena_grow(struct prd_buf *a, size_t need);
/* The in-place reader over a decompressed stream or standard input, or
 * NULL (libpcap reads). */
struct prd *cap_stream_reader(struct cap *c);
/* A saved capture through the reader thread: 0, -1 (err set), or 1 if the
 * thread could not be started (nothing was read). */
int cap_run_piped(struct cap *c, struct az *az,
                  const struct cap_limits *lim, char *err, size_t errlen);

/* ---- capture_live.c ---- */

/* The live reader thread's body (the pipe's thread runs it for c->live). */
void *cap_reader_live(struct cap_pipe *pp);
/* A live capture through the reader thread: as cap_run_piped(). */
int cap_run_live(struct cap *c, struct az *az, const struct cap_limits *lim,
                 char *err, size_t errlen);

/* ---- every loop ---- */

/* Hand one frame to the analyzer. */
static inline void feed(struct cap *c, struct az *az, int dlt, double t,
                        const uint8_t *bytes, uint32_t caplen, uint32_t len)
{
	if (__builtin_expect(az_packet(az, dlt, t, bytes, caplen, len) ==
	                     DEC_UNSUPPORTED, 0))
		cap_unsup_note(c, dlt, bytes, caplen, len);
}

/* CAP_TIMEOUT_MS from now on CLOCK_REALTIME, for
 * pthread_cond_timedwait(); -1 if the clock cannot be read. */
static inline int cap_wait_deadline(struct timespec *ts)
{
	if (clock_gettime(CLOCK_REALTIME, ts) != 0)
		return -1;
	ts->tv_nsec += CAP_TIMEOUT_MS * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
	return 0;
}

static inline double now_mono(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A pcap timestamp in seconds. */
static inline double pkt_time(const struct pcap_pkthdr *h)
{
	return (double)h->ts.tv_sec + (double)h->ts.tv_usec * 1e-6;
}

/* Reader: record r is the frame h, its bytes at off (if not skipped). */
static inline void put_rec(struct cap_rec *r, const struct pcap_pkthdr *h, bool skip,
                           size_t off)
{
	r->t = pkt_time(h);
	r->caplen = h->caplen;
	r->len = h->len;
	r->skip = skip;
	r->off = (uint32_t)off;
}

static inline size_t align_up(size_t n)
{
	return (n + CAP_ALIGN - 1) & ~(size_t)(CAP_ALIGN - 1);
}

#endif
