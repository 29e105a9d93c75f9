/*
 * http.h - the reference target's HTTP/1.x request-head parser and
 * response writer (prefix thttp_, apart from the analyzer's http_).
 * Knows nothing about sockets.
 *
 * The parser reads a request head from a caller's buffer (untrusted bytes,
 * every read bounded by len) and never copies: the method and target are
 * (pointer, length) views into that buffer, valid while it is unchanged.
 */
#ifndef LL_TARGET_THTTP_H
#define LL_TARGET_THTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum thttp_parse {
	THTTP_NEED_MORE = 0,  /* no complete head yet (and not over the cap) */
	THTTP_OK,             /* a complete, valid head: see struct thttp_req */
	THTTP_BAD,            /* malformed: answer 400 (or req->status) and close */
	THTTP_TOO_LARGE,      /* no end of head within max bytes: answer 431 */
};

struct thttp_req {
	const char *method;    size_t method_len;
	const char *target;    size_t target_len;
	int major, minor;        /* HTTP version */
	size_t head_len;         /* bytes of the head incl. the blank line,
	                            counted from the start of the buffer */
	size_t skipped;          /* leading empty lines ignored (part of head_len) */
	int64_t content_length;  /* -1: no Content-Length */
	bool chunked;            /* Transfer-Encoding other than identity */
	bool conn_close;         /* Connection: close */
	bool conn_keep_alive;    /* Connection: keep-alive */
	int status;              /* THTTP_BAD: the status to answer (400, 505) */
	const char *why;         /* THTTP_BAD: short reason, for logs */
};

/*
 * Parse the head at buf[0..len). max is the largest head accepted (bytes
 * before and including the blank line). THTTP_OK fills *req. A bare LF is
 * accepted as a line end; obsolete header folding, a missing colon, bad
 * characters in a field name, a bad or conflicting Content-Length, or a
 * request line not of the form "METHOD SP TARGET SP HTTP/D.D" is THTTP_BAD.
 */
enum thttp_parse thttp_parse_head(const char *buf, size_t len, size_t max,
                                struct thttp_req *req);

/* Does the client want the connection kept open after this request?
 * HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "keep-alive". */
bool thttp_wants_keep_alive(const struct thttp_req *req);

/* Reason phrase for a status ("Not Found"); "Unknown" for others. */
const char *thttp_reason(int status);

/* Exactly equal method (case-sensitive, as HTTP methods are). */
bool thttp_method_is(const struct thttp_req *req, const char *m);

/* Growable output buffer with a hard cap; appends fail (return -1) past it. */
struct thttp_out {
	char *buf;
	size_t len, cap, max;
};

int thttp_out_append(struct thttp_out *o, const void *data, size_t n);
void thttp_out_free(struct thttp_out *o);

/* What a response needs to be written. */
struct thttp_resp {
	int status;
	const char *content_type;  /* NULL: text/html; charset=utf-8 */
	uint64_t body_len;         /* Content-Length */
	bool head_only;            /* HEAD: headers only */
	bool close;                /* add "Connection: close" */
	bool keep_alive_10;        /* HTTP/1.0 keep-alive: add "Connection: keep-alive" */
	const char *server;        /* Server header value */
};

/* Append the status line and headers (ending with the blank line). */
int thttp_write_head(struct thttp_out *o, const struct thttp_resp *r);

/*
 * Append an Apache-style error page for status about path (HTML-escaped,
 * cut to 200 bytes) into o, with the header block before it; the page
 * names `server` in its footer, not the address it listens on: a page
 * must be the same size in every lab (their addresses are drawn at
 * random, IPv4 or IPv6), or a comparison of two runs (diff, audit
 * --baseline) sees the bytes at risk move. Returns the body length
 * written, or -1 when o is full.
 */
long thttp_write_error(struct thttp_out *o, struct thttp_resp *r, const char *path,
                      size_t path_len);

/* The index page body (a short HTML page); its length in *len. */
const char *thttp_index_page(size_t *len);

#endif
