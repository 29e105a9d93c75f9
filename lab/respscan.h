/*
 * respscan.h - what the lab's client "application" makes of the bytes the
 * server sent: a streaming HTTP/1.x response scanner, so scripts can wait
 * for responses and expectations can say what the client received.
 *
 * Input is the server's byte stream, in order, in pieces of any size
 * (untrusted: every line is bounded, every number overflow-checked). It
 * recognizes status lines, headers, Content-Length, chunked and
 * until-close bodies, skips 1xx interim responses, and knows that HEAD
 * requests and 204/304 responses have no body. Anything that is not HTTP
 * stops the scanner for good (rsp_failed), keeping what was found so far.
 *
 * No allocation: the state is one fixed struct.
 */
#ifndef LL_LAB_RESPSCAN_H
#define LL_LAB_RESPSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RSP_MAX_RECORDS 16   /* responses recorded in detail */
#define RSP_LINE_MAX 256     /* bytes kept of a status or header line;
                                the rest of a longer line is skipped */

struct rsp_record {
	uint16_t status;
	bool complete;           /* every byte of its body arrived */
	uint64_t bytes;          /* head + body bytes seen so far */
	/* where it travelled in the server's byte stream (relative sequence
	 * numbers, the first byte 1), set by a caller whose bytes are not the
	 * wire's (TLS): the delivery its first byte came in, and just past
	 * the delivery that completed it; 0: not known */
	uint64_t wire_start, wire_end;
};

struct rsp_scan {
	uint8_t mode;            /* private */
	bool failed;             /* the stream stopped looking like HTTP */
	char why[64];            /* when failed: "bad status line", ... */
	/* current message */
	uint16_t status;
	bool interim;            /* 1xx */
	bool has_length, chunked, no_body;
	uint64_t remaining;      /* body or chunk bytes left */
	uint64_t content_length;
	int32_t open;            /* record index of the message being read, -1 */
	/* line assembly */
	uint32_t line_len;
	bool line_long;          /* the line had more than RSP_LINE_MAX bytes */
	uint64_t msg_bytes;      /* bytes of the current message so far */
	char line[RSP_LINE_MAX];
	/* requests the client sent, to know which responses answer HEAD */
	uint64_t requests;       /* noted with rsp_request */
	uint64_t head_bits;      /* bit (i % 64): request i was HEAD */
	/* results */
	uint64_t started;        /* final responses whose status line arrived */
	uint64_t completed;      /* ... and whose body is complete */
	uint32_t n_records;
	struct rsp_record rec[RSP_MAX_RECORDS];
};

void rsp_init(struct rsp_scan *r);

/* The client sent a request; head: its method was HEAD. */
void rsp_request(struct rsp_scan *r, bool head);

/*
 * The client sent n raw bytes (a script's `send`): each request line in
 * them counts as a request (rsp_request), HEAD or not by its method. A
 * request line is "METHOD SP TARGET SP HTTP/1.x" ending in CR or LF,
 * METHOD upper-case letters, at the start of the bytes or right after an
 * empty line (the end of a previous head). Other bytes (a body, a head's
 * continuation sent apart) count nothing. Returns the requests counted.
 */
unsigned rsp_sent(struct rsp_scan *r, const uint8_t *p, size_t n);

/* Scan n more bytes of the server's stream. */
void rsp_feed(struct rsp_scan *r, const uint8_t *p, size_t n);

/* The server's FIN: an until-close body ends here, complete; anything else
 * still open stays incomplete. */
void rsp_eof(struct rsp_scan *r);

#endif
