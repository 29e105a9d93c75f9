/*
 * scn_steps.c - the step statements (docs/scenario-language.md, "Steps"):
 * what one connection of the client does, from `connect` to `rst`, one
 * function per statement; and scn_request_format(), the bytes a `request`
 * step sends.
 */
#include "lab/scn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool scn_st_connect(struct parser *ps, struct scn_step *st)
{
	const struct tok *t = scn_peek(ps);
	if (t) {
		ps->cur++;
		if (!scn_get_duration(ps, t, 1000, &st->u.connect.timeout_us))
			return false;
	}
	return scn_expect_end(ps);
}

bool scn_st_send(struct parser *ps, struct scn_step *st)
{
	if (!scn_get_strings(ps, &st->u.send))
		return false;
	if (st->u.send.len == 0) {
		scn_fail_tok(ps, &ps->toks[ps->cur - 1], "a non-empty string");
		return false;
	}
	return scn_expect_end(ps);
}

bool scn_st_request(struct parser *ps, struct scn_step *st)
{
	const struct tok *t = scn_next(ps);
	bool ok = t && t->kind == TOK_WORD && t->len >= 1 &&
	          t->len < sizeof st->u.request.method;
	for (size_t i = 0; ok && i < t->len; i++)
		ok = (t->p[i] >= 'A' && t->p[i] <= 'Z') || t->p[i] == '-' || t->p[i] == '_';
	if (!ok) {
		scn_fail_tok(ps, t, "a method (e.g. GET, PUT)");
		return false;
	}
	memcpy(st->u.request.method, t->p, t->len);
	st->u.request.method[t->len] = '\0';

	t = scn_peek(ps);
	struct scn_bytes *target = &st->u.request.target;
	if (t && t->kind == TOK_STRING) {
		if (!scn_get_strings(ps, target))
			return false;
		bool bad = target->len == 0;
		for (size_t i = 0; !bad && i < target->len; i++)
			bad = target->data[i] <= 0x20 || target->data[i] == 0x7f;
		if (bad) {
			scn_fail_tok(ps, &ps->toks[ps->cur - 1],
			             "a request target without spaces or control bytes");
			return false;
		}
	} else if (t && (t->p[0] == '/' || t->p[0] == '*' ||
	                 (t->len > 7 && !memcmp(t->p, "http://", 7)))) {
		ps->cur++;
		struct scn_bytes b = { malloc(t->len + 1), t->len };
		if (!b.data) {
			scn_oom(ps);
			return false;
		}
		memcpy(b.data, t->p, t->len);
		b.data[t->len] = '\0';
		*target = b;
	} else {
		scn_fail_tok(ps, t, "a request target (e.g. /index.html)");
		return false;
	}

	bool seen_close = false, seen_length = false;
	size_t hcap = 0;
	while ((t = scn_next(ps))) {
		if (scn_tok_is(t, "close")) {
			if (seen_close) {
				scn_fail_tok(ps, t, "each option once");
				return false;
			}
			seen_close = true;
			st->u.request.close = true;
		} else if (scn_tok_is(t, "length")) {
			if (seen_length) {
				scn_fail_tok(ps, t, "each option once");
				return false;
			}
			seen_length = true;
			st->u.request.has_length = true;
			if (!scn_get_size(ps, scn_next(ps), 0, 1ull << 50,
			                  "a length of at most 1PiB", &st->u.request.length))
				return false;
		} else if (scn_tok_is(t, "header")) {
			if (st->u.request.n_headers >= SCN_MAX_HEADERS) {
				scn_fail_tok(ps, t, "at most %d headers", SCN_MAX_HEADERS);
				return false;
			}
			struct scn_bytes h = { 0 };
			if (!scn_get_strings(ps, &h))
				return false;
			const uint8_t *colon = memchr(h.data, ':', h.len);
			bool bad = !colon || colon == h.data || memchr(h.data, '\r', h.len) ||
			           memchr(h.data, '\n', h.len) || memchr(h.data, '\0', h.len);
			if (bad) {
				scn_fail_tok(ps, &ps->toks[ps->cur - 1],
				             "a header \"Name: value\" without CR, LF or NUL");
				free(h.data);
				return false;
			}
			struct scn_bytes *all = &st->u.request.headers;
			size_t need = all->len + h.len + 3;
			if (need > hcap) {
				size_t nc = need * 2;
				uint8_t *nb = realloc(all->data, nc);
				if (!nb) {
					free(h.data);
					scn_oom(ps);
					return false;
				}
				all->data = nb;
				hcap = nc;
			}
			memcpy(all->data + all->len, h.data, h.len);
			all->len += h.len;
			all->data[all->len++] = '\r';
			all->data[all->len++] = '\n';
			all->data[all->len] = '\0';
			st->u.request.n_headers++;
			free(h.data);
		} else {
			scn_fail_tok(ps, t, "close, length or header");
			return false;
		}
	}
	return true;
}

bool scn_st_body(struct parser *ps, struct scn_step *st)
{
	if (!scn_get_size(ps, scn_next(ps), 1, 64ull << 30, "a body size from 1 to 64GiB",
	                  &st->u.body.size))
		return false;
	bool seen_rate = false, seen_chunk = false;
	const struct tok *t;
	while ((t = scn_next(ps))) {
		if (scn_tok_is(t, "rate")) {
			if (seen_rate) {
				scn_fail_tok(ps, t, "each option once");
				return false;
			}
			seen_rate = true;
			if (!scn_get_rate(ps, scn_next(ps), &st->u.body.rate))
				return false;
		} else if (scn_tok_is(t, "chunk")) {
			if (seen_chunk) {
				scn_fail_tok(ps, t, "each option once");
				return false;
			}
			seen_chunk = true;
			uint64_t v;
			if (!scn_get_size(ps, scn_next(ps), 1, 65535, "a chunk from 1 to 65535 bytes", &v))
				return false;
			st->u.body.chunk = (uint32_t)v;
		} else {
			scn_fail_tok(ps, t, "rate or chunk");
			return false;
		}
	}
	return true;
}

bool scn_st_ack(struct parser *ps, struct scn_step *st)
{
	const struct tok *t = scn_next(ps);
	if (scn_tok_is(t, "now")) {
		st->u.ack.mode = SCN_ACK_NOW;
	} else if (scn_tok_is(t, "never")) {
		st->u.ack.mode = SCN_ACK_NEVER;
	} else if (scn_tok_is(t, "delayed")) {
		st->u.ack.mode = SCN_ACK_DELAYED;
		if (!scn_get_duration(ps, scn_next(ps), 1, &st->u.ack.delay_us))
			return false;
	} else if (scn_tok_is(t, "upto")) {
		st->u.ack.mode = SCN_ACK_UPTO;
		if (!scn_get_size(ps, scn_next(ps), 0, UINT32_MAX - 1,
		                  "a byte count from 0 to 4294967294", &st->u.ack.upto))
			return false;
	} else {
		scn_fail_tok(ps, t, "now, delayed, never or upto");
		return false;
	}
	return scn_expect_end(ps);
}

bool scn_st_window(struct parser *ps, struct scn_step *st)
{
	uint64_t v;
	if (!scn_get_size(ps, scn_next(ps), 0, 1ull << 30, "a window from 0 to 1GiB", &v))
		return false;
	st->u.window = (uint32_t)v;
	return scn_expect_end(ps);
}

bool scn_st_fin(struct parser *ps, struct scn_step *st)
{
	const struct tok *t = scn_next(ps);
	if (scn_tok_is(t, "close"))
		st->u.fin = SCN_FIN_CLOSE;
	else if (scn_tok_is(t, "half-close"))
		st->u.fin = SCN_FIN_HALF_CLOSE;
	else if (scn_tok_is(t, "never"))
		st->u.fin = SCN_FIN_NEVER;
	else {
		scn_fail_tok(ps, t, "close, half-close or never");
		return false;
	}
	return scn_expect_end(ps);
}

bool scn_st_after(struct parser *ps, struct scn_step *st)
{
	const struct tok *t = scn_next(ps);
	if (scn_tok_is(t, "fin"))
		st->u.after.event = SCN_AFTER_FIN;
	else if (scn_tok_is(t, "rst"))
		st->u.after.event = SCN_AFTER_RST;
	else {
		scn_fail_tok(ps, t, "fin or rst");
		return false;
	}
	t = scn_next(ps);
	if (scn_tok_is(t, "continue"))
		st->u.after.keep_sending = true;
	else if (scn_tok_is(t, "stop"))
		st->u.after.keep_sending = false;
	else {
		scn_fail_tok(ps, t, "continue or stop");
		return false;
	}
	return scn_expect_end(ps);
}

bool scn_st_wait(struct parser *ps, struct scn_step *st)
{
	static const struct { const char *name; enum scn_wait_event ev; } evs[] = {
		{ "data", SCN_WAIT_DATA }, { "response", SCN_WAIT_RESPONSE },
		{ "fin", SCN_WAIT_FIN }, { "rst", SCN_WAIT_RST },
		{ "closed", SCN_WAIT_CLOSED }, { "sent", SCN_WAIT_SENT },
		{ "acked", SCN_WAIT_ACKED },
	};
	const struct tok *t = scn_next(ps);
	size_t i;
	for (i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (scn_tok_is(t, evs[i].name))
			break;
	if (i == sizeof evs / sizeof evs[0]) {
		scn_fail_tok(ps, t, "an event (data, response, fin, rst, closed, sent, acked)");
		return false;
	}
	st->u.wait.event = evs[i].ev;
	if (st->u.wait.event == SCN_WAIT_DATA)
		st->u.wait.count = 1;
	t = scn_peek(ps);
	if (t && !scn_looks_like_duration(t)) {
		if (st->u.wait.event == SCN_WAIT_DATA) {
			ps->cur++;
			if (!scn_get_size(ps, t, 1, 1ull << 40, "a byte count from 1 to 1TiB",
			                  &st->u.wait.count))
				return false;
		} else if (st->u.wait.event == SCN_WAIT_RESPONSE) {
			ps->cur++;
			if (!scn_get_uint(ps, t, 1, 1000000, "a response count from 1 to 1000000",
			                  &st->u.wait.count))
				return false;
		}
	}
	t = scn_peek(ps);
	if (t) {
		ps->cur++;
		if (!scn_get_duration(ps, t, 1000, &st->u.wait.timeout_us))
			return false;
	}
	return scn_expect_end(ps);
}

bool scn_st_sleep(struct parser *ps, struct scn_step *st)
{
	if (!scn_get_duration(ps, scn_next(ps), 0, &st->u.sleep_us))
		return false;
	return scn_expect_end(ps);
}

bool scn_st_hold(struct parser *ps, struct scn_step *st)
{
	st->u.hold_us = -1;
	const struct tok *t = scn_peek(ps);
	if (t) {
		ps->cur++;
		if (!scn_get_duration(ps, t, 0, &st->u.hold_us))
			return false;
	}
	return scn_expect_end(ps);
}

/* `read concurrently|after send|never`: when a kernel client calls recv()
 * (a setting; docs/scenario-language.md, "Kernel clients"). */
bool scn_st_read(struct parser *ps, struct scn_step *st)
{
	const struct tok *t = scn_next(ps);
	if (scn_tok_is(t, "concurrently")) {
		st->u.read = SCN_READ_CONCURRENTLY;
	} else if (scn_tok_is(t, "never")) {
		st->u.read = SCN_READ_NEVER;
	} else if (scn_tok_is(t, "after")) {
		t = scn_next(ps);
		if (!scn_tok_is(t, "send")) {
			scn_fail_tok(ps, t, "send");
			return false;
		}
		st->u.read = SCN_READ_AFTER_SEND;
	} else {
		scn_fail_tok(ps, t, "concurrently, after send or never");
		return false;
	}
	return scn_expect_end(ps);
}

/* `drop in|out N|fin`, `reorder in|out N|fin`: loss and reordering on
 * the client's side, counted per connection (rawtcp.h: struct rawtcp_fault). */
bool scn_st_fault(struct parser *ps, struct scn_step *st)
{
	const struct tok *t = scn_next(ps);
	if (scn_tok_is(t, "in"))
		st->u.fault.out = false;
	else if (scn_tok_is(t, "out"))
		st->u.fault.out = true;
	else {
		scn_fail_tok(ps, t, "in or out");
		return false;
	}
	t = scn_next(ps);
	if (scn_tok_is(t, "fin")) {
		st->u.fault.fin = true;
		return scn_expect_end(ps);
	}
	uint64_t v;
	char what[80];
	snprintf(what, sizeof what, "a segment number from 1 to %d, or fin", SCN_MAX_FAULT_NTH);
	if (!scn_get_uint(ps, t, 1, SCN_MAX_FAULT_NTH, what, &v))
		return false;
	st->u.fault.nth = (uint32_t)v;
	return scn_expect_end(ps);
}

/* A signed offset: +N, -N or N. */
static bool get_offset(struct parser *ps, const struct tok *t, int64_t *out)
{
	static const char *what = "an offset (+N, -N or N; N at most 2147483647)";
	if (!t || t->kind != TOK_WORD || !t->len) {
		scn_fail_tok(ps, t, "%s", what);
		return false;
	}
	bool neg = t->p[0] == '-';
	size_t i = (t->p[0] == '-' || t->p[0] == '+') ? 1 : 0;
	uint64_t v = 0;
	if (i == t->len) {
		scn_fail_tok(ps, t, "%s", what);
		return false;
	}
	for (; i < t->len; i++) {
		char c = t->p[i];
		if (c < '0' || c > '9' || v > (uint64_t)SCN_MAX_RST_OFFSET) {
			scn_fail_tok(ps, t, "%s", what);
			return false;
		}
		v = v * 10 + (uint64_t)(c - '0');
	}
	if (v > (uint64_t)SCN_MAX_RST_OFFSET) {
		scn_fail_tok(ps, t, "%s", what);
		return false;
	}
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

/* `rst [seq OFF] [ack OFF]`: one RST that does not close the client's
 * connection. */
bool scn_st_rst(struct parser *ps, struct scn_step *st)
{
	bool seen_seq = false;
	const struct tok *t;
	while ((t = scn_next(ps))) {
		if (scn_tok_is(t, "seq") && !seen_seq) {
			seen_seq = true;
			if (!get_offset(ps, scn_next(ps), &st->u.rst.seq_off))
				return false;
		} else if (scn_tok_is(t, "ack") && !st->u.rst.has_ack) {
			st->u.rst.has_ack = true;
			if (!get_offset(ps, scn_next(ps), &st->u.rst.ack_off))
				return false;
		} else {
			scn_fail_tok(ps, t, "seq OFFSET, ack OFFSET or end of line");
			return false;
		}
	}
	return true;
}

/* The request's own headers (lines "Name: value\r\n") have one named
 * name (case-insensitive). */
static bool has_header(const struct scn_bytes *h, const char *name)
{
	size_t nl = strlen(name), i = 0;

	while (i < h->len) {
		const uint8_t *eol = memchr(h->data + i, '\n', h->len - i);
		size_t end = eol ? (size_t)(eol - h->data) + 1 : h->len;
		if (end - i > nl && h->data[i + nl] == ':' &&
		    strncasecmp((const char *)h->data + i, name, nl) == 0)
			return true;
		i = end;
	}
	return false;
}

size_t scn_request_format(const struct scn_step *st, const char *host,
                          uint8_t *buf, size_t cap)
{
	size_t o = 0;
	/* append n bytes, counting past the cap like snprintf */
#define PUT(p, n) do { size_t n_ = (n); \
		if (o < cap) memcpy(buf + o, (p), o + n_ <= cap ? n_ : cap - o); \
		o += n_; } while (0)
	const char *m = st->u.request.method;
	PUT(m, strlen(m));
	PUT(" ", 1);
	PUT(st->u.request.target.data, st->u.request.target.len);
	PUT(" HTTP/1.1\r\n", 11);
	/* a `header "Host: ..."` of the script's replaces the default: two
	 * Host lines get a 400 (RFC 9112 3.2), not the probe the user meant */
	if (!has_header(&st->u.request.headers, "Host")) {
		PUT("Host: ", 6);
		PUT(host, strlen(host));
		PUT("\r\n", 2);
	}
	if (st->u.request.headers.len)
		PUT(st->u.request.headers.data, st->u.request.headers.len);
	if (st->u.request.has_length) {
		char num[48];
		int k = snprintf(num, sizeof num, "Content-Length: %llu\r\n",
		                 (unsigned long long)st->u.request.length);
		PUT(num, (size_t)k);
	}
	if (st->u.request.close)
		PUT("Connection: close\r\n", 19);
	PUT("\r\n", 2);
#undef PUT
	return o;
}
