/*
 * respscan.c - streaming HTTP/1.x response scanner (see respscan.h).
 *
 * A small state machine over bytes: lines are assembled into a bounded
 * buffer (status line, headers, chunk sizes, trailers); bodies are skipped
 * by count.
 */
#include "lab/respscan.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum {
	M_STATUS = 0,   /* reading a status line */
	M_HEADERS,      /* reading header lines */
	M_BODY_LEN,     /* Content-Length body: remaining bytes */
	M_CHUNK_SIZE,   /* chunk-size line */
	M_CHUNK_DATA,   /* chunk bytes: remaining */
	M_CHUNK_END,    /* the CRLF after chunk data */
	M_TRAILERS,     /* trailer lines after the last chunk */
	M_BODY_EOF,     /* body runs until the server's FIN */
	M_DONE,         /* after EOF or failure */
};

void rsp_init(struct rsp_scan *r)
{
	memset(r, 0, sizeof *r);
	r->open = -1;
	r->mode = M_STATUS;
}

void rsp_request(struct rsp_scan *r, bool head)
{
	uint64_t bit = 1ull << (r->requests % 64);
	if (head)
		r->head_bits |= bit;
	else
		r->head_bits &= ~bit;
	r->requests++;
}

/* p[0..n) starts with a request line: sets *head for "HEAD". */
static bool request_line(const uint8_t *p, size_t n, bool *head)
{
	size_t i = 0, m, t;

	while (i < n && i < 32 && p[i] >= 'A' && p[i] <= 'Z')
		i++;
	m = i;
	if (m == 0 || i >= n || p[i] != ' ')
		return false;
	t = ++i;
	while (i < n && p[i] != ' ' && p[i] != '\r' && p[i] != '\n')
		i++;
	if (i == t || i >= n || p[i] != ' ')
		return false;
	i++;
	if (n - i < 9 || memcmp(p + i, "HTTP/1.", 7) || p[i + 7] < '0' || p[i + 7] > '9' ||
	    (p[i + 8] != '\r' && p[i + 8] != '\n'))
		return false;
	*head = m == 4 && memcmp(p, "HEAD", 4) == 0;
	return true;
}

unsigned rsp_sent(struct rsp_scan *r, const uint8_t *p, size_t n)
{
	unsigned found = 0;
	bool head;

	for (size_t i = 0; i < n; i++) {
		/* a line start that follows an empty line: "\n\n" or "\n\r\n" */
		bool start = i == 0 ||
		             (i >= 2 && p[i - 1] == '\n' && p[i - 2] == '\n') ||
		             (i >= 3 && p[i - 1] == '\n' && p[i - 2] == '\r' && p[i - 3] == '\n');
		if (start && request_line(p + i, n - i, &head)) {
			rsp_request(r, head);
			found++;
		}
	}
	return found;
}

static void fail(struct rsp_scan *r, const char *why)
{
	r->failed = true;
	snprintf(r->why, sizeof r->why, "%s", why);
	r->mode = M_DONE;
}

static struct rsp_record *cur(struct rsp_scan *r)
{
	return r->open >= 0 ? &r->rec[r->open] : NULL;
}

static void count_bytes(struct rsp_scan *r, uint64_t n)
{
	r->msg_bytes += n;
	struct rsp_record *c = cur(r);
	if (c && !r->interim)
		c->bytes = r->msg_bytes;
}

static void finish_message(struct rsp_scan *r)
{
	if (!r->interim) {
		struct rsp_record *c = cur(r);
		if (c)
			c->complete = true;
		r->completed++;
	}
	r->open = -1;
	r->interim = false;
	r->msg_bytes = 0;
	r->mode = M_STATUS;
}

/* "HTTP/1.x SSS ..." */
static void status_line(struct rsp_scan *r, const char *l, size_t n)
{
	if (n < 12 || memcmp(l, "HTTP/1.", 7) || l[7] < '0' || l[7] > '9' ||
	    l[8] != ' ' || l[9] < '1' || l[9] > '9' || l[10] < '0' || l[10] > '9' ||
	    l[11] < '0' || l[11] > '9' || (n > 12 && l[12] != ' ')) {
		fail(r, "bad status line");
		return;
	}
	r->status = (uint16_t)((l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0'));
	r->interim = r->status < 200;
	r->has_length = r->chunked = false;
	r->content_length = 0;
	r->no_body = r->status == 204 || r->status == 304;
	if (!r->interim) {
		/* which request does it answer? (the (started)th one) */
		if (r->started < r->requests &&
		    (r->head_bits >> (r->started % 64) & 1))
			r->no_body = true;
		if (r->n_records < RSP_MAX_RECORDS) {
			r->open = (int32_t)r->n_records++;
			struct rsp_record *c = &r->rec[r->open];
			c->status = r->status;
			c->complete = false;
			c->bytes = r->msg_bytes;
			c->wire_start = c->wire_end = 0;
		} else {
			r->open = -1;
		}
		r->started++;
	}
	r->mode = M_HEADERS;
}

static bool parse_u64(const char *p, size_t n, int base, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	size_t start = i;
	for (; i < n; i++) {
		int d;
		char c = p[i];
		if (c >= '0' && c <= '9') d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
		else break;
		if (__builtin_mul_overflow(v, (uint64_t)base, &v) ||
		    __builtin_add_overflow(v, (uint64_t)d, &v))
			return false;
	}
	if (i == start)
		return false;
	/* allow trailing spaces; a chunk size may carry ";ext" */
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i < n && !(base == 16 && p[i] == ';'))
		return false;
	*out = v;
	return true;
}

static void end_of_headers(struct rsp_scan *r)
{
	if (r->interim) {
		r->interim = false;
		r->msg_bytes = 0;
		r->mode = M_STATUS;
		return;
	}
	if (r->no_body) {
		finish_message(r);
	} else if (r->chunked) {
		r->mode = M_CHUNK_SIZE;
	} else if (r->has_length) {
		r->remaining = r->content_length;
		if (r->remaining == 0)
			finish_message(r);
		else
			r->mode = M_BODY_LEN;
	} else {
		r->mode = M_BODY_EOF;
	}
}

static void header_line(struct rsp_scan *r, const char *l, size_t n)
{
	if (n == 0) {
		end_of_headers(r);
		return;
	}
	const char *colon = memchr(l, ':', n);
	if (!colon || colon == l) {
		fail(r, "bad header line");
		return;
	}
	size_t klen = (size_t)(colon - l);
	const char *v = colon + 1;
	size_t vlen = n - klen - 1;
	if (klen == 14 && !strncasecmp(l, "Content-Length", 14)) {
		uint64_t len;
		if (!parse_u64(v, vlen, 10, &len)) {
			fail(r, "bad Content-Length");
			return;
		}
		r->has_length = true;
		r->content_length = len;
	} else if (klen == 17 && !strncasecmp(l, "Transfer-Encoding", 17)) {
		/* chunked is the last coding when present */
		while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		r->chunked = vlen >= 7 && !strncasecmp(v + vlen - 7, "chunked", 7);
	}
}

static void chunk_size_line(struct rsp_scan *r, const char *l, size_t n)
{
	uint64_t size;
	if (!parse_u64(l, n, 16, &size)) {
		fail(r, "bad chunk size");
		return;
	}
	if (size == 0) {
		r->mode = M_TRAILERS;
	} else {
		r->remaining = size;
		r->mode = M_CHUNK_DATA;
	}
}

/* A complete line (without CRLF) in the mode that wanted it. */
static void line_done(struct rsp_scan *r)
{
	const char *l = r->line;
	size_t n = r->line_len;
	bool cut = r->line_long;
	r->line_len = 0;
	r->line_long = false;
	if (cut && r->mode == M_HEADERS &&
	    (!strncasecmp(l, "Content-Length", 14) ||
	     !strncasecmp(l, "Transfer-Encoding", 17))) {
		fail(r, "header line too long");
		return;
	}
	switch (r->mode) {
	case M_STATUS:
		if (n == 0) {
			r->msg_bytes = 0; /* tolerate blank lines between messages */
			return;
		}
		status_line(r, l, n);
		break;
	case M_HEADERS:
		header_line(r, l, n);
		break;
	case M_CHUNK_SIZE:
		chunk_size_line(r, l, n);
		break;
	case M_CHUNK_END:
		if (n != 0)
			fail(r, "missing CRLF after chunk");
		else
			r->mode = M_CHUNK_SIZE;
		break;
	case M_TRAILERS:
		if (n == 0)
			finish_message(r);
		break;
	default:
		break;
	}
}

void rsp_feed(struct rsp_scan *r, const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n && r->mode != M_DONE) {
		switch (r->mode) {
		case M_BODY_LEN:
		case M_CHUNK_DATA: {
			uint64_t take = n - i;
			if (take > r->remaining)
				take = r->remaining;
			count_bytes(r, take);
			r->remaining -= take;
			i += (size_t)take;
			if (r->remaining == 0) {
				if (r->mode == M_BODY_LEN)
					finish_message(r);
				else
					r->mode = M_CHUNK_END;
			}
			break;
		}
		case M_BODY_EOF:
			count_bytes(r, n - i);
			i = n;
			break;
		default: {
			/* line modes */
			uint8_t c = p[i++];
			count_bytes(r, 1);
			if (c == '\n') {
				line_done(r);
				break;
			}
			if (c == '\r')
				continue; /* CRLF or bare LF both end a line */
			if (r->line_len >= RSP_LINE_MAX) {
				r->line_long = true; /* keep the start, skip the rest */
				break;
			}
			r->line[r->line_len++] = (char)c;
			break;
		}
		}
	}
}

void rsp_eof(struct rsp_scan *r)
{
	if (r->mode == M_BODY_EOF)
		finish_message(r);
	r->mode = M_DONE;
}
