/*
 * http.c - HTTP/1.x message counting over TCP payload (see http.h).
 */
#include "analyzer/http.h"

#include <string.h>
#include <strings.h>

#include "analyzer/seq.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum {
	M_START = 0,   /* expecting a start line (blank lines allowed) */
	M_HEADERS,     /* header lines until the empty line */
	M_BODY,        /* `remaining` body bytes */
	M_CHUNK_SIZE,  /* a chunk-size line */
	M_CHUNK_DATA,  /* `remaining` chunk bytes */
	M_CHUNK_CRLF,  /* the CRLF after chunk data */
	M_TRAILERS,    /* trailer lines after the last chunk */
	M_UNTIL_CLOSE, /* unframed response: runs to the FIN */
	M_DEAD,        /* not HTTP, or bytes missing: stop */
};

#define LENGTH_CAP ((uint64_t)1 << 62)

void http_init(struct http_conn *h)
{
	/* everything but the response table, which is read only below
	 * n_resp: clearing it for every connection shows in profiles */
	h->requests = 0;
	h->status_lines = 0;
	h->responses = 0;
	h->head_bits = 0;
	h->open_response = -1;
	h->n_resp = 0;
}

void http_dir_init(struct http_dir *hd)
{
	/* everything but the line buffer, which is read only below line_len */
	hd->mode = M_START;
	hd->begun = false;
	hd->next = 0;
	hd->remaining = 0;
	hd->content_length = 0;
	hd->has_length = hd->chunked = false;
	hd->status = 0;
	hd->line_seq = 0;
	hd->line_len = 0;
	hd->line_long = false;
}

void http_begin(struct http_dir *hd, uint32_t seq)
{
	if (hd->begun)
		return;
	hd->begun = true;
	hd->next = seq;
	hd->mode = M_START;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* "HTTP/d.d" at s (8 bytes available checked by the caller). */
static bool is_version(const char *s)
{
	return memcmp(s, "HTTP/", 5) == 0 && is_digit(s[5]) && s[6] == '.' &&
	       is_digit(s[7]);
}

/* Request line: METHOD SP target SP HTTP/x.y. Sets *head for HEAD. */
static bool parse_request_line(const char *l, size_t n, bool *head)
{
	size_t i = 0, m, t0;

	while (i < n && ((l[i] >= 'A' && l[i] <= 'Z') || l[i] == '-' || l[i] == '_'))
		i++;
	m = i;
	if (m == 0 || m > 20 || i >= n || l[i] != ' ')
		return false;
	t0 = ++i;
	while (i < n && l[i] != ' ')
		i++;
	if (i == t0 || i >= n)
		return false;
	i++;
	if (n - i != 8 || !is_version(l + i))
		return false;
	*head = (m == 4 && memcmp(l, "HEAD", 4) == 0);
	return true;
}

/* A start line that parse_request_line() refused but that is still a
 * request: METHOD SP target SP, then "HTTP/" (a bad version, trailing
 * junk). Lines of other protocols (SMTP's "EHLO x", FTP's "USER x") have
 * no " HTTP/" and are not counted. */
static bool malformed_request(const char *l, size_t n)
{
	size_t i = 0, m, k;

	while (i < n && ((l[i] >= 'A' && l[i] <= 'Z') || l[i] == '-' || l[i] == '_'))
		i++;
	m = i;
	if (m == 0 || m > 20 || i >= n || l[i] != ' ')
		return false;
	for (k = m + 2; k + 6 <= n; k++)
		if (l[k - 1] != ' ' && l[k] == ' ' && memcmp(l + k + 1, "HTTP/", 5) == 0)
			return true;
	return false;
}

/* Status line: HTTP/x.y SP ddd [SP reason]. */
static bool parse_status_line(const char *l, size_t n, uint16_t *status)
{
	if (n < 12 || !is_version(l) || l[8] != ' ' || !is_digit(l[9]) ||
	    !is_digit(l[10]) || !is_digit(l[11]) || (n > 12 && l[12] != ' '))
		return false;
	*status = (uint16_t)((l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0'));
	return *status >= 100;
}

/* True if the n bytes at s begin with name (lower case letters, and
 * punctuation), letters compared ignoring case: what strncasecmp() says,
 * without the call. Other bytes must match exactly: or-ing 0x20 into '-'
 * or ':' would let CR or 0x1a through. */
static bool name_is(const char *s, size_t n, const char *name, size_t len)
{
	size_t i;

	if (n < len)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (name[i] >= 'a' && name[i] <= 'z')
			c = (char)(c | 0x20);
		if (c != name[i])
			return false;
	}
	return true;
}

/* True if the n bytes at s contain word (lower case), ignoring case. */
static bool contains_ci(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word), i;

	for (i = 0; i + w <= n; i++)
		if (strncasecmp(s + i, word, w) == 0)
			return true;
	return false;
}

static void header_line(struct http_dir *hd, const char *l, size_t n)
{
	static const char cl[] = "content-length:";
	static const char te[] = "transfer-encoding:";
	size_t i;
	char c0 = (char)(l[0] | 0x20);

	/* most header lines are neither: one byte decides */
	if (c0 != 'c' && c0 != 't')
		return;
	if (name_is(l, n, cl, sizeof(cl) - 1)) {
		uint64_t v = 0;
		bool any = false;

		for (i = sizeof(cl) - 1; i < n && (l[i] == ' ' || l[i] == '\t'); i++)
			;
		for (; i < n && is_digit(l[i]); i++) {
			v = v * 10 + (uint64_t)(l[i] - '0');
			any = true;
			if (v > LENGTH_CAP)
				return; /* absurd: leave the message unframed */
		}
		for (; i < n && (l[i] == ' ' || l[i] == '\t'); i++)
			;
		if (any && i == n) {
			hd->has_length = true;
			hd->content_length = v;
		}
	} else if (name_is(l, n, te, sizeof(te) - 1)) {
		/* the value, up to a NUL byte if the line holds one (as a C
		 * string search would see it) */
		const char *v = l + sizeof(te) - 1;
		size_t vn = strnlen(v, n - (sizeof(te) - 1));

		if (contains_ci(v, vn, "chunked"))
			hd->chunked = true;
	}
}

static void message_done(struct http_conn *h, struct http_dir *hd, int d,
                         uint32_t end)
{
	if (d == AZ_S2C && h->open_response >= 0) {
		h->resp[h->open_response].seq_end = end;
		h->resp[h->open_response].complete = true;
		h->open_response = -1;
	}
	hd->mode = M_START;
}

static void start_message(struct http_dir *hd)
{
	hd->has_length = false;
	hd->chunked = false;
	hd->content_length = 0;
	hd->status = 0;
}

/* A whole line ended: its n bytes (LF excluded) at l, which is the line
 * buffer or the segment itself when the line lies within one; `end` is
 * the seq after its LF and `lseq` the seq of its first byte. */
static void line_done(struct http_conn *h, struct http_dir *hd, int d,
                      uint32_t lseq, uint32_t end, const char *l, size_t n)
{
	bool head = false;
	uint64_t v;
	size_t i;

	if (n > 0 && l[n - 1] == '\r')
		n--;
	switch (hd->mode) {
	case M_START:
		if (n == 0)
			return; /* blank lines between messages are tolerated */
		if (hd->line_long)
			goto dead;
		start_message(hd);
		if (d == AZ_C2S) {
			if (!parse_request_line(l, n, &head)) {
				/* a request a server will answer (400, 505) but
				 * not one to parse on from: count it, then stop
				 * (nginx answered "GET /x HTTP/9.9 junk" with
				 * 505, and 1 request had 2 responses) */
				if (malformed_request(l, n))
					h->requests++;
				goto dead;
			}
			if (head)
				h->head_bits |= (uint64_t)1 << (h->requests % 64);
			else
				h->head_bits &= ~((uint64_t)1 << (h->requests % 64));
			h->requests++;
		} else {
			if (!parse_status_line(l, n, &hd->status))
				goto dead;
			h->status_lines++;
			if (hd->status >= 200) {
				h->responses++;
				h->open_response = -1;
				if (h->n_resp < AZ_MAX_HTTP_RESPONSES) {
					struct az_http_response *r = &h->resp[h->n_resp];
					r->seq_start = lseq;
					r->seq_end = 0;
					r->status = hd->status;
					r->complete = false;
					r->parse_lost = false;
					h->open_response = h->n_resp++;
				}
			}
		}
		hd->mode = M_HEADERS;
		return;
	case M_HEADERS:
		if (n > 0) {
			header_line(hd, l, n);
			return;
		}
		if (d == AZ_C2S) {
			if (hd->chunked)
				hd->mode = M_CHUNK_SIZE;
			else if (hd->has_length && hd->content_length > 0) {
				hd->remaining = hd->content_length;
				hd->mode = M_BODY;
			} else
				message_done(h, hd, d, end);
			return;
		}
		if (hd->status < 200) {
			hd->mode = M_START; /* interim response: the final one follows */
			return;
		}
		/* the response to request number h->responses */
		head = h->responses >= 1 && h->responses <= h->requests &&
		       (h->head_bits >> ((h->responses - 1) % 64) & 1);
		if (head || hd->status == 204 || hd->status == 304)
			message_done(h, hd, d, end);
		else if (hd->chunked)
			hd->mode = M_CHUNK_SIZE;
		else if (hd->has_length) {
			if (hd->content_length == 0) {
				message_done(h, hd, d, end);
			} else {
				hd->remaining = hd->content_length;
				hd->mode = M_BODY;
			}
		} else
			hd->mode = M_UNTIL_CLOSE;
		return;
	case M_CHUNK_SIZE:
		v = 0;
		for (i = 0; i < n; i++) {
			char c = l[i];
			int x;

			if (c >= '0' && c <= '9')
				x = c - '0';
			else if (c >= 'a' && c <= 'f')
				x = c - 'a' + 10;
			else if (c >= 'A' && c <= 'F')
				x = c - 'A' + 10;
			else
				break;
			v = v * 16 + (uint64_t)x;
			if (v > LENGTH_CAP)
				goto dead;
		}
		if (i == 0 || (i < n && l[i] != ';' && l[i] != ' ' && l[i] != '\t'))
			goto dead;
		if (v == 0) {
			hd->mode = M_TRAILERS;
		} else {
			hd->remaining = v;
			hd->mode = M_CHUNK_DATA;
		}
		return;
	case M_CHUNK_CRLF:
		if (n != 0)
			goto dead;
		hd->mode = M_CHUNK_SIZE;
		return;
	case M_TRAILERS:
		if (n == 0)
			message_done(h, hd, d, end);
		return;
	default:
		return;
	}
dead:
	hd->mode = M_DEAD;
}

/* Bit k set where s[k] is LF, for the n <= 64 bytes at s, every load
 * inside them. Header lines are short (some 20 bytes): one pass over 64
 * bytes finds several line ends, where a memchr() per line cost more in
 * its call and set-up than in the search. */
static uint64_t lf_bits(const uint8_t *s, uint32_t n)
{
	uint64_t m = 0;
	uint32_t k = 0;

#ifdef __SSE2__
	const __m128i lf = _mm_set1_epi8('\n');

	for (; n - k >= 16; k += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + k));

		m |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)) << k;
	}
	if (k < n && n >= 16) {
		/* the last 16 bytes, overlapping what was looked at: keep
		 * only the bits of the n - k bytes not seen yet */
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));
		uint64_t b = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf));

		return m | (b >> (16 - (n - k))) << k;
	}
#endif
	for (; k < n; k++)
		m |= (uint64_t)(s[k] == '\n') << k;
	return m;
}

static bool line_mode(uint8_t mode)
{
	return mode == M_START || mode == M_HEADERS || mode == M_CHUNK_SIZE ||
	       mode == M_CHUNK_CRLF || mode == M_TRAILERS;
}

/* Lines that lie whole in the n bytes at p, from offset i, nothing
 * carried over in the line buffer: parsed where they are. Returns the
 * offset where it stopped: the end, a line that goes on past the end
 * (*open set) or is too long to parse (both left to the caller's copying
 * path), or the end of the line after which the mode is no longer a line
 * mode. */
static uint32_t run_lines(struct http_conn *h, struct http_dir *hd, int d,
                          const uint8_t *p, uint32_t n, uint32_t pos, uint32_t i,
                          bool *open)
{
	/* LFs at or after i among the 64 bytes from w, one bit each */
	uint32_t w = i;
	uint64_t m = lf_bits(p + w, n - w < 64 ? n - w : 64);

	while (i < n) {
		uint8_t c0 = p[i];
		uint32_t j, take;

		if (hd->mode == M_START && c0 != '\r' && c0 != '\n' &&
		    !(c0 >= 'A' && c0 <= 'Z')) {
			hd->mode = M_DEAD; /* neither a method nor "HTTP/" */
			return i;
		}
		while (m == 0) {
			w += 64;
			if (w >= n) {
				*open = true; /* no LF: the line goes on */
				return i;
			}
			m = lf_bits(p + w, n - w < 64 ? n - w : 64);
		}
		j = w + (uint32_t)__builtin_ctzll(m);
		m &= m - 1;
		take = j - i;
		if (take > HTTP_LINE_MAX - 1)
			return i;
		/* most header lines are neither Content-Length nor
		 * Transfer-Encoding nor the blank line: the first byte, the
		 * length and where the '-' must be decide (a line header_line()
		 * acts on always passes: its name is this long or longer) */
		if (hd->mode != M_HEADERS || take == 0 || c0 == '\r' ||
		    ((c0 | 0x20) == 'c' && take >= 15 && p[i + 7] == '-') ||
		    ((c0 | 0x20) == 't' && take >= 18 && p[i + 8] == '-')) {
			line_done(h, hd, d, pos + i, pos + j + 1,
			          (const char *)p + i, take);
			if (!line_mode(hd->mode))
				return j + 1;
		}
		i = j + 1;
	}
	return i;
}

/* Parse n captured bytes starting at raw seq `pos`. cut: bytes after
 * these were on the wire but not captured, so a line still open at the
 * end can never be finished (http_segment() would give up on it). */
static void run(struct http_conn *h, struct http_dir *hd, int d,
                const uint8_t *p, uint32_t n, uint32_t pos, bool cut)
{
	uint32_t i = 0;

	while (i < n && hd->mode != M_DEAD) {
		switch (hd->mode) {
		case M_BODY:
		case M_CHUNK_DATA: {
			uint64_t take = n - i;

			if (take > hd->remaining)
				take = hd->remaining;
			i += (uint32_t)take;
			hd->remaining -= take;
			if (hd->remaining == 0) {
				if (hd->mode == M_BODY)
					message_done(h, hd, d, pos + i);
				else
					hd->mode = M_CHUNK_CRLF;
			}
			break;
		}
		case M_UNTIL_CLOSE:
			i = n;
			break;
		default: {
			/* line modes: copy up to the LF into the bounded line */
			const uint8_t *lf;
			uint32_t take, room;
			bool open = false;

			if (hd->line_len == 0 && !hd->line_long) {
				i = run_lines(h, hd, d, p, n, pos, i, &open);
				if (i >= n || !line_mode(hd->mode))
					break;
			}
			if (hd->mode == M_START && hd->line_len == 0 &&
			    p[i] != '\r' && p[i] != '\n' &&
			    !(p[i] >= 'A' && p[i] <= 'Z')) {
				hd->mode = M_DEAD; /* neither a method nor "HTTP/" */
				break;
			}
			if (hd->line_len == 0 && !hd->line_long)
				hd->line_seq = pos + i;
			lf = open ? NULL : memchr(p + i, '\n', n - i);
			if (!lf && cut) {
				hd->mode = M_DEAD; /* the rest of the line is lost */
				break;
			}
			take = lf ? (uint32_t)(lf - (p + i)) : n - i;
			room = (HTTP_LINE_MAX - 1) - hd->line_len;
			if (take > room) {
				hd->line_long = true;
				memcpy(hd->line + hd->line_len, p + i, room);
				hd->line_len += (uint16_t)room;
			} else {
				memcpy(hd->line + hd->line_len, p + i, take);
				hd->line_len += (uint16_t)take;
			}
			if (hd->mode == M_START && hd->line_long) {
				hd->mode = M_DEAD; /* a start line is never this long */
				break;
			}
			i += take;
			if (lf) {
				i++; /* the LF */
				line_done(h, hd, d, hd->line_seq, pos + i,
				          hd->line, hd->line_len);
				hd->line_len = 0;
				hd->line_long = false;
			}
			break;
		}
		}
	}
}

static void segment(struct http_conn *h, struct http_dir *hd, int d,
                    uint32_t seq, const uint8_t *p, uint32_t caplen,
                    uint32_t seg_len)
{
	uint32_t off, end, missing, have;

	d &= 1;
	if (!hd->begun || hd->mode == M_DEAD || seg_len == 0)
		return;
	end = seq + seg_len;
	if (seq_leq(end, hd->next))
		return; /* all seen before: a retransmission */
	if (seq_after(seq, hd->next)) {
		hd->mode = M_DEAD; /* bytes missing from the capture */
		return;
	}
	off = hd->next - seq;
	if (caplen > seg_len)
		caplen = seg_len;
	if (p && off < caplen) {
		run(h, hd, d, p + off, caplen - off, hd->next, caplen < seg_len);
		have = caplen;
	} else {
		have = off;
	}
	hd->next = seq + have;
	/* bytes on the wire but not captured (snaplen): body bytes can be
	 * skipped by count, anything else leaves us blind */
	missing = seg_len - have;
	while (missing > 0 && hd->mode != M_DEAD) {
		if (hd->mode == M_BODY || hd->mode == M_CHUNK_DATA) {
			uint64_t take = missing;

			if (take > hd->remaining)
				take = hd->remaining;
			missing -= (uint32_t)take;
			hd->remaining -= take;
			hd->next += (uint32_t)take;
			if (hd->remaining == 0) {
				if (hd->mode == M_BODY)
					message_done(h, hd, d, hd->next);
				else
					hd->mode = M_CHUNK_CRLF;
			}
		} else if (hd->mode == M_UNTIL_CLOSE) {
			hd->next += missing;
			missing = 0;
		} else {
			hd->mode = M_DEAD;
		}
	}
	if (hd->mode != M_DEAD)
		hd->next = end;
}

void http_segment(struct http_conn *h, struct http_dir *hd, int d,
                  uint32_t seq, const uint8_t *p, uint32_t caplen,
                  uint32_t seg_len)
{
	bool was_dead = hd->mode == M_DEAD;

	segment(h, hd, d, seq, p, caplen, seg_len);
	/* the parse died inside a response: its end is unknown, not short
	 * (a 128-byte snaplen cuts most response headers) */
	if (!was_dead && hd->mode == M_DEAD && (d & 1) == AZ_S2C &&
	    h->open_response >= 0)
		h->resp[h->open_response].parse_lost = true;
}

void http_fin(struct http_conn *h, struct http_dir *hd, int d, uint32_t fin_seq)
{

	if (hd->mode == M_UNTIL_CLOSE && hd->begun && hd->next == fin_seq &&
	    (d & 1) == AZ_S2C && h->open_response >= 0) {
		h->resp[h->open_response].seq_end = fin_seq;
		h->resp[h->open_response].complete = true;
		h->open_response = -1;
	}
	if (hd->mode != M_DEAD && seq_geq(fin_seq, hd->next))
		hd->mode = M_DEAD; /* the stream is over */
}
