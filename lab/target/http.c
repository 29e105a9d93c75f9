/*
 * http.c - request-head parsing and response writing for lingerlab-target.
 */
#include "lab/target/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* RFC 9110 tchar: the characters of a method or a field name. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Case-insensitive compare of a (ptr, len) view with a C string. */
static bool view_ieq(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && strncasecmp(p, s, n) == 0;
}

/* Find the end of line starting at buf[i] (index of '\n'), or len. */
static size_t line_end(const char *buf, size_t i, size_t len)
{
	const char *nl = memchr(buf + i, '\n', len - i);

	return nl ? (size_t)(nl - buf) : len;
}

/* Does value (ptr,len) list token tok (comma-separated, any case)? */
static bool list_has(const char *v, size_t n, const char *tok)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s && view_ieq(v + s, e - s, tok))
			return true;
	}
	return false;
}

static enum thttp_parse bad(struct thttp_req *req, int status, const char *why)
{
	req->status = status;
	req->why = why;
	return THTTP_BAD;
}

enum thttp_parse thttp_parse_head(const char *buf, size_t len, size_t max,
                                struct thttp_req *req)
{
	size_t i = 0, e, end = 0, scan;
	const char *p;

	memset(req, 0, sizeof *req);
	req->content_length = -1;

	/* RFC 9112 2.2: ignore empty lines before the request line. */
	while (i < len && (buf[i] == '\r' || buf[i] == '\n')) {
		if (buf[i] == '\r' && (i + 1 >= len || buf[i + 1] != '\n'))
			break;
		i += buf[i] == '\r' ? 2 : 1;
	}
	req->skipped = i;

	/* Find the blank line that ends the head, within max bytes. */
	scan = len < max ? len : max;
	for (size_t j = i; j < scan; j++) {
		if (buf[j] != '\n')
			continue;
		if (j + 1 < scan && buf[j + 1] == '\n') {
			end = j + 2;
			break;
		}
		if (j + 2 < scan && buf[j + 1] == '\r' && buf[j + 2] == '\n') {
			end = j + 3;
			break;
		}
	}
	if (end == 0)
		return len >= max ? THTTP_TOO_LARGE : THTTP_NEED_MORE;
	req->head_len = end;

	/* Request line: METHOD SP TARGET SP HTTP/D.D */
	e = line_end(buf, i, end);
	p = buf + i;
	{
		size_t n = e - i, k = 0;

		if (n > 0 && p[n - 1] == '\r')
			n--;
		while (k < n && is_tchar((unsigned char)p[k]))
			k++;
		if (k == 0 || k >= n || p[k] != ' ')
			return bad(req, 400, "bad method");
		req->method = p;
		req->method_len = k;
		k++;
		req->target = p + k;
		while (k < n && p[k] > ' ' && p[k] < 0x7f)
			k++;
		req->target_len = (size_t)(p + k - req->target);
		if (req->target_len == 0 || k >= n || p[k] != ' ')
			return bad(req, 400, "bad request target");
		k++;
		if (n - k != 8 || memcmp(p + k, "HTTP/", 5) != 0 || !is_digit((unsigned char)p[k + 5]) ||
		    p[k + 6] != '.' || !is_digit((unsigned char)p[k + 7]))
			return bad(req, 400, "bad HTTP version");
		req->major = p[k + 5] - '0';
		req->minor = p[k + 7] - '0';
		if (req->major != 1)
			return bad(req, 505, "unsupported HTTP version");
	}

	/* Header fields until the blank line. */
	for (i = e + 1; i < end; i = e + 1) {
		size_t n, k = 0, vs, ve;

		e = line_end(buf, i, end);
		p = buf + i;
		n = e - i;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;                  /* the blank line */
		if (p[0] == ' ' || p[0] == '\t')
			return bad(req, 400, "obsolete header folding");
		while (k < n && is_tchar((unsigned char)p[k]))
			k++;
		if (k == 0 || k >= n || p[k] != ':')
			return bad(req, 400, "bad header field name");
		vs = k + 1;
		while (vs < n && (p[vs] == ' ' || p[vs] == '\t'))
			vs++;
		ve = n;
		while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
			ve--;
		for (size_t c = vs; c < ve; c++)
			if ((unsigned char)p[c] < 0x20 && p[c] != '\t')
				return bad(req, 400, "control character in a header value");

		if (view_ieq(p, k, "content-length")) {
			int64_t v = 0;

			if (ve == vs)
				return bad(req, 400, "empty Content-Length");
			for (size_t c = vs; c < ve; c++) {
				if (!is_digit((unsigned char)p[c]))
					return bad(req, 400, "bad Content-Length");
				if (v > (INT64_MAX - 9) / 10)
					return bad(req, 400, "Content-Length too large");
				v = v * 10 + (p[c] - '0');
			}
			if (req->content_length >= 0 && req->content_length != v)
				return bad(req, 400, "conflicting Content-Length");
			req->content_length = v;
		} else if (view_ieq(p, k, "transfer-encoding")) {
			if (!view_ieq(p + vs, ve - vs, "identity"))
				req->chunked = true;
		} else if (view_ieq(p, k, "connection")) {
			if (list_has(p + vs, ve - vs, "close"))
				req->conn_close = true;
			if (list_has(p + vs, ve - vs, "keep-alive"))
				req->conn_keep_alive = true;
		}
	}
	if (req->chunked && req->content_length >= 0)
		return bad(req, 400, "both Transfer-Encoding and Content-Length");
	return THTTP_OK;
}

bool thttp_wants_keep_alive(const struct thttp_req *req)
{
	if (req->conn_close)
		return false;
	if (req->major == 1 && req->minor == 0)
		return req->conn_keep_alive;
	return true;
}

bool thttp_method_is(const struct thttp_req *req, const char *m)
{
	return strlen(m) == req->method_len && memcmp(req->method, m, req->method_len) == 0;
}

const char *thttp_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	default:  return "Unknown";
	}
}

int thttp_out_append(struct thttp_out *o, const void *data, size_t n)
{
	if (n > o->max - o->len || o->len + n < o->len)
		return -1;
	if (o->len + n > o->cap) {
		size_t ncap = o->cap ? o->cap : 1024;
		char *nb;

		while (ncap < o->len + n)
			ncap *= 2;
		if (ncap > o->max)
			ncap = o->max;
		nb = realloc(o->buf, ncap);
		if (!nb)
			return -1;
		o->buf = nb;
		o->cap = ncap;
	}
	memcpy(o->buf + o->len, data, n);
	o->len += n;
	return 0;
}

void thttp_out_free(struct thttp_out *o)
{
	free(o->buf);
	o->buf = NULL;
	o->len = o->cap = 0;
}

int thttp_write_head(struct thttp_out *o, const struct thttp_resp *r)
{
	char head[768], date[64];
	struct tm tm;
	time_t now = time(NULL);
	int n;

	if (!gmtime_r(&now, &tm) || strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		date[0] = '\0';
	n = snprintf(head, sizeof head,
	             "HTTP/1.1 %d %s\r\n"
	             "Date: %s\r\n"
	             "Server: %s\r\n"
	             "%s"
	             "Content-Length: %llu\r\n"
	             "Content-Type: %s\r\n"
	             "%s"
	             "\r\n",
	             r->status, thttp_reason(r->status), date, r->server ? r->server : "lingerlab-target",
	             r->status == 401 ? "WWW-Authenticate: Basic realm=\"lingerlab\"\r\n" : "",
	             (unsigned long long)r->body_len,
	             r->content_type ? r->content_type : "text/html; charset=utf-8",
	             r->close ? "Connection: close\r\n" : r->keep_alive_10 ? "Connection: keep-alive\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof head)
		return -1;
	return thttp_out_append(o, head, (size_t)n);
}

/* HTML-escape at most max input bytes of s into dst (cap bytes). */
static void html_escape(char *dst, size_t cap, const char *s, size_t n, size_t max)
{
	size_t o = 0;

	if (n > max)
		n = max;
	for (size_t i = 0; i < n && o + 7 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *rep = NULL;

		switch (c) {
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '&': rep = "&amp;"; break;
		case '"': rep = "&quot;"; break;
		default: break;
		}
		if (rep) {
			size_t rl = strlen(rep);

			memcpy(dst + o, rep, rl);
			o += rl;
		} else {
			dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		}
	}
	dst[o] = '\0';
}

/* One sentence per error status for the page's paragraph. */
static const char *error_sentence(int status)
{
	switch (status) {
	case 400: return "The server could not make sense of the request for %s.";
	case 401: return "Access to %s needs credentials, and the request carried none the server accepts.";
	case 404: return "Nothing is stored under %s on this server.";
	case 405: return "The method used is not allowed for %s.";
	case 408: return "The server gave up waiting for the rest of the request for %s.";
	case 431: return "The request head for %s is longer than this server accepts.";
	case 501: return "The server does not implement what the request for %s asks.";
	case 505: return "The server speaks only HTTP/1.0 and HTTP/1.1 (request for %s).";
	default:  return "The request for %s failed.";
	}
}

long thttp_write_error(struct thttp_out *o, struct thttp_resp *r, const char *path,
                      size_t path_len)
{
	char esc[7 * 200 + 1], para[1600], body[2600];
	int n;

	html_escape(esc, sizeof esc, path ? path : "", path ? path_len : 0, 200);
	if (esc[0] == '\0')
		snprintf(esc, sizeof esc, "this resource");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	n = snprintf(para, sizeof para, error_sentence(r->status), esc);
#pragma GCC diagnostic pop
	if (n < 0 || (size_t)n >= sizeof para)
		return -1;
	n = snprintf(body, sizeof body,
	             "<!DOCTYPE html>\n"
	             "<html><head>\n"
	             "<title>%d %s</title>\n"
	             "</head><body>\n"
	             "<h1>%s</h1>\n"
	             "<p>%s</p>\n"
	             "<hr>\n"
	             "<address>%s</address>\n"
	             "</body></html>\n",
	             r->status, thttp_reason(r->status), thttp_reason(r->status), para,
	             r->server ? r->server : "lingerlab-target");
	if (n < 0 || (size_t)n >= sizeof body)
		return -1;
	r->body_len = (uint64_t)n;
	if (thttp_write_head(o, r) != 0)
		return -1;
	if (!r->head_only && thttp_out_append(o, body, (size_t)n) != 0)
		return -1;
	return n;
}

static const char index_page[] =
	"<!DOCTYPE html>\n"
	"<html><head>\n"
	"<title>lingerlab reference target</title>\n"
	"</head><body>\n"
	"<h1>lingerlab reference target</h1>\n"
	"<p>This is the index page of lingerlab-target, the small HTTP/1.1 server\n"
	"that lingerlab starts inside its lab to show how the way a server closes a\n"
	"connection decides whether the client gets to read the last response.</p>\n"
	"<p>Resources: / and /index.html (this page), /large.bin (a large body);\n"
	"PUT or POST under /protected/ is refused at once with 401;\n"
	"everything else is 404.</p>\n"
	"</body></html>\n";

const char *thttp_index_page(size_t *len)
{
	*len = sizeof index_page - 1;
	return index_page;
}
