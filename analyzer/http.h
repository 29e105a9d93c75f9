/*
 * http.h - just enough HTTP/1.x to count the messages of one connection:
 * request lines client to server, status lines server to client, with
 * Content-Length and chunked framing, so a finding can name the response
 * that was at risk and the pipelined requests that got no answer.
 *
 * Input is the TCP payload of each segment with its raw sequence number.
 * Only bytes that arrive in order are parsed; a gap (a segment starting
 * past the next expected byte, or header bytes missing because the capture
 * cut them) stops parsing for that direction for good. Body bytes that were
 * on the wire but not captured (snaplen) are skipped by count. Anything
 * that does not look like HTTP stops parsing for that direction too.
 *
 * State is bounded (a short line buffer per direction, a fixed table of
 * responses) and nothing is allocated.
 */
#ifndef LL_ANALYZER_HTTP_H
#define LL_ANALYZER_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "analyzer.h"

#define HTTP_LINE_MAX 160

struct http_dir {
	uint8_t mode;              /* private parser mode */
	bool begun;                /* next is valid */
	uint32_t next;             /* raw seq of the next byte to parse */
	uint64_t remaining;        /* body or chunk bytes still to skip */
	uint64_t content_length;
	bool has_length, chunked;
	uint16_t status;           /* status of the message being parsed */
	uint32_t line_seq;          /* raw seq of the line's first byte */
	uint16_t line_len;
	bool line_long;
	char line[HTTP_LINE_MAX];
};

/* What a connection keeps: counts and the responses. The parser state of
 * each direction (struct http_dir) is held apart, so a caller can drop it
 * when the byte streams are over and keep only this. */
struct http_conn {
	uint32_t requests;         /* request lines */
	uint32_t status_lines;     /* status lines, 1xx included */
	uint32_t responses;        /* final (non-1xx) responses */
	uint64_t head_bits;        /* bit (i % 64): request i+1 was HEAD */
	int32_t open_response;     /* index in resp[] of the response being
	                              parsed, -1 if none */
	uint8_t n_resp;
	struct az_http_response resp[AZ_MAX_HTTP_RESPONSES]; /* raw seqs */
};

/* Empty counts; resp[] entries at and beyond n_resp are left undefined. */
void http_init(struct http_conn *h);
void http_dir_init(struct http_dir *hd);

/* The byte stream of a direction starts at raw sequence number seq (the
 * first data byte: ISN + 1, or the first byte seen without a SYN). */
void http_begin(struct http_dir *hd, uint32_t seq);

/* Payload of one segment of direction d (AZ_C2S: requests, AZ_S2C:
 * responses) whose parser state is hd: seq is the raw sequence number of
 * its first byte, caplen bytes captured out of seg_len on the wire. */
void http_segment(struct http_conn *h, struct http_dir *hd, int d,
                  uint32_t seq, const uint8_t *p, uint32_t caplen,
                  uint32_t seg_len);

/* Direction d sent FIN at raw sequence number fin_seq: an unframed
 * response (no length, not chunked) ends there. */
void http_fin(struct http_conn *h, struct http_dir *hd, int d, uint32_t fin_seq);

#endif
