/*
 * scn_lex.c - the scenario language's lexical layer
 * (docs/scenario-language.md, "Lexical rules"): the error messages every
 * statement reports through, the line tokenizer (words and quoted strings,
 * with columns), and the readers of one value: durations, sizes and rates
 * with their units, counts, and strings with their escapes.
 *
 * Every error goes through scn_fail_at()/scn_fail_tok(), which write
 * "FILE:LINE:COL: expected X, found Y" once; the first error wins.
 */
#include "lab/scn_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- messages ---------------------------------------------------------- */

/* Render a token for "found ...": quoted, non-printables as \xHH, cut. */
static void tok_render(const struct tok *t, char *out, size_t cap)
{
	if (t->kind == TOK_STRING) {
		snprintf(out, cap, "a string");
		return;
	}
	size_t o = 0;
	out[o++] = '"';
	for (size_t i = 0; i < t->len && o + 8 < cap; i++) {
		if (i == 32) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		unsigned char c = (unsigned char)t->p[i];
		if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
		} else {
			snprintf(out + o, cap - o, "\\x%02x", c);
			o += 4;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
}

static void failv(struct parser *ps, unsigned line, unsigned col,
                  const char *found, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
static void failv(struct parser *ps, unsigned line, unsigned col,
                  const char *found, const char *fmt, va_list ap)
{
	if (ps->failed)
		return;
	ps->failed = true;
	if (!ps->err || !ps->errlen)
		return;
	char what[256];
	vsnprintf(what, sizeof what, fmt, ap);
	snprintf(ps->err, ps->errlen, "%s:%u:%u: expected %s, found %s",
	         ps->file, line, col, what, found);
}

/* expected <fmt>, found <token t> (t NULL: end of line). */
void scn_fail_tok(struct parser *ps, const struct tok *t, const char *fmt, ...)
{
	char found[64];
	va_list ap;
	va_start(ap, fmt);
	if (t) {
		tok_render(t, found, sizeof found);
		failv(ps, ps->line, t->col, found, fmt, ap);
	} else {
		failv(ps, ps->line, ps->eol_col, "end of line", fmt, ap);
	}
	va_end(ap);
}

/* expected <fmt>, found <found> at an explicit place. */
void scn_fail_at(struct parser *ps, unsigned line, unsigned col,
                 const char *found, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	failv(ps, line, col, found, fmt, ap);
	va_end(ap);
}

void scn_oom(struct parser *ps)
{
	if (ps->failed)
		return;
	ps->failed = true;
	if (ps->err && ps->errlen)
		snprintf(ps->err, ps->errlen, "%s: out of memory", ps->file);
}

/* ---- tokens ------------------------------------------------------------ */

static bool is_space(char c) { return c == ' ' || c == '\t'; }

/* Split the current line into tokens. Strings are scanned (escapes are
 * checked later, when decoded) up to the closing quote. */
bool scn_tokenize(struct parser *ps)
{
	const char *p = ps->lp;
	size_t n = ps->llen, i = 0;
	ps->ntok = 0;
	ps->cur = 0;
	ps->eol_col = 1;
	while (i < n) {
		char c = p[i];
		if (is_space(c)) {
			i++;
			continue;
		}
		if (c == '#')
			break;
		if (ps->ntok == MAX_TOKENS) {
			struct tok t = { TOK_WORD, p + i, 1, (unsigned)i + 1 };
			scn_fail_tok(ps, &t, "at most %d words on a line", MAX_TOKENS);
			return false;
		}
		struct tok *t = &ps->toks[ps->ntok];
		t->p = p + i;
		t->col = (unsigned)i + 1;
		if (c == '"') {
			size_t j = i + 1;
			while (j < n && p[j] != '"') {
				unsigned char b = (unsigned char)p[j];
				if ((b < 0x20 && b != '\t') || b == 0x7f) {
					struct tok bad = { TOK_WORD, p + j, 1, (unsigned)j + 1 };
					scn_fail_tok(ps, &bad, "a printable character in a string (write \\xHH)");
					return false;
				}
				if (p[j] == '\\' && j + 1 < n)
					j++;
				j++;
			}
			if (j >= n) {
				ps->eol_col = (unsigned)n + 1;
				scn_fail_tok(ps, NULL, "a closing '\"'");
				return false;
			}
			t->kind = TOK_STRING;
			t->len = j + 1 - i;
			i = j + 1;
		} else {
			size_t j = i;
			while (j < n && !is_space(p[j]) && p[j] != '"' && p[j] != '#') {
				unsigned char b = (unsigned char)p[j];
				if (b < 0x20 || b >= 0x7f) {
					struct tok bad = { TOK_WORD, p + j, 1, (unsigned)j + 1 };
					scn_fail_tok(ps, &bad, "a printable ASCII character");
					return false;
				}
				j++;
			}
			t->kind = TOK_WORD;
			t->len = j - i;
			i = j;
		}
		ps->eol_col = (unsigned)i + 1;
		ps->ntok++;
	}
	return true;
}

const struct tok *scn_peek(struct parser *ps)
{
	return ps->cur < ps->ntok ? &ps->toks[ps->cur] : NULL;
}

const struct tok *scn_next(struct parser *ps)
{
	return ps->cur < ps->ntok ? &ps->toks[ps->cur++] : NULL;
}

bool scn_tok_is(const struct tok *t, const char *word)
{
	size_t n = strlen(word);
	return t && t->kind == TOK_WORD && t->len == n && !memcmp(t->p, word, n);
}

bool scn_expect_end(struct parser *ps)
{
	const struct tok *t = scn_peek(ps);
	if (t) {
		scn_fail_tok(ps, t, "end of line");
		return false;
	}
	return true;
}

/* ---- numbers ----------------------------------------------------------- */

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit time_units[] = {
	{ "us", 1 }, { "ms", 1000 }, { "s", 1000000 }, { NULL, 0 },
};

static const struct unit size_units[] = {
	{ "", 1 }, { "B", 1 },
	{ "KiB", 1024ull }, { "MiB", 1024ull * 1024 }, { "GiB", 1024ull * 1024 * 1024 },
	{ "kB", 1000ull }, { "MB", 1000000ull }, { "GB", 1000000000ull },
	{ NULL, 0 },
};

enum num_status { NUM_OK = 0, NUM_SYNTAX, NUM_RANGE, NUM_INEXACT };

/*
 * DIGITS [ '.' DIGITS ] UNIT, with UNIT from the table (exact match of the
 * rest of the text). The value is computed exactly in 64 bits: overflow is
 * NUM_RANGE, a fraction that is not a whole number of base units is
 * NUM_INEXACT.
 */
static enum num_status parse_units(const char *p, size_t len,
                                   const struct unit *units, uint64_t *out)
{
	size_t i = 0;
	uint64_t ip = 0, fp = 0, fscale = 1;
	bool range = false;
	if (i >= len || p[i] < '0' || p[i] > '9')
		return NUM_SYNTAX;
	while (i < len && p[i] >= '0' && p[i] <= '9') {
		if (__builtin_mul_overflow(ip, 10, &ip) ||
		    __builtin_add_overflow(ip, (uint64_t)(p[i] - '0'), &ip))
			range = true;
		i++;
	}
	if (i < len && p[i] == '.') {
		i++;
		if (i >= len || p[i] < '0' || p[i] > '9')
			return NUM_SYNTAX;
		while (i < len && p[i] >= '0' && p[i] <= '9') {
			/* more than 18 fraction digits cannot be exact in any unit
			 * we have (the largest is 2^30); keep scanning for syntax */
			if (fscale <= 100000000000000000ull) {
				fp = fp * 10 + (uint64_t)(p[i] - '0');
				fscale *= 10;
			} else if (p[i] != '0') {
				range = true;
			}
			i++;
		}
	}
	const struct unit *u = NULL;
	for (const struct unit *c = units; c->name; c++) {
		size_t n = strlen(c->name);
		if (len - i == n && !memcmp(p + i, c->name, n)) {
			u = c;
			break;
		}
	}
	if (!u)
		return NUM_SYNTAX;
	if (range)
		return NUM_RANGE;
	uint64_t v;
	if (__builtin_mul_overflow(ip, u->mult, &v))
		return NUM_RANGE;
	if (fscale > 1) {
		/* fp / fscale * mult must be whole: fp * mult % fscale == 0;
		 * fp < fscale <= 1e18 and mult <= 2^30 can overflow 64 bits, so
		 * use 128-bit arithmetic. */
		unsigned __int128 f = (unsigned __int128)fp * u->mult;
		if (f % fscale)
			return NUM_INEXACT;
		unsigned __int128 add = f / fscale;
		if (add > UINT64_MAX || __builtin_add_overflow(v, (uint64_t)add, &v))
			return NUM_RANGE;
	}
	*out = v;
	return NUM_OK;
}

/* Does the word end in a time unit (so it is meant as a duration)? */
bool scn_looks_like_duration(const struct tok *t)
{
	if (!t || t->kind != TOK_WORD || !t->len)
		return false;
	if (t->p[0] < '0' || t->p[0] > '9')
		return false;
	return t->p[t->len - 1] == 's' && !(t->len >= 2 && t->p[t->len - 2] == '/');
}

bool scn_get_duration(struct parser *ps, const struct tok *t, int64_t min_us,
                      int64_t *out)
{
	uint64_t v = 0;
	if (!t) {
		scn_fail_tok(ps, NULL, "a duration (e.g. 250ms, 2s, 100us)");
		return false;
	}
	enum num_status st = t->kind == TOK_WORD
		? parse_units(t->p, t->len, time_units, &v) : NUM_SYNTAX;
	switch (st) {
	case NUM_OK:
		if (v > (uint64_t)SCN_MAX_DURATION_US) {
			scn_fail_tok(ps, t, "a duration of at most 86400s");
			return false;
		}
		if ((int64_t)v < min_us) {
			if (min_us % 1000 == 0)
				scn_fail_tok(ps, t, "a duration of at least %lldms",
				             (long long)(min_us / 1000));
			else
				scn_fail_tok(ps, t, "a duration of at least %lldus", (long long)min_us);
			return false;
		}
		*out = (int64_t)v;
		return true;
	case NUM_RANGE:
		scn_fail_tok(ps, t, "a duration of at most 86400s");
		return false;
	case NUM_INEXACT:
		scn_fail_tok(ps, t, "a duration in whole microseconds");
		return false;
	default:
		scn_fail_tok(ps, t, "a duration (e.g. 250ms, 2s, 100us)");
		return false;
	}
}

/* A size in [min, max]; `what` names it in the range message, e.g.
 * "a window from 0 to 1GiB". */
bool scn_get_size(struct parser *ps, const struct tok *t, uint64_t min,
                  uint64_t max, const char *what, uint64_t *out)
{
	uint64_t v = 0;
	if (!t) {
		scn_fail_tok(ps, NULL, "a size (e.g. 1460, 64KiB, 1MiB)");
		return false;
	}
	enum num_status st = t->kind == TOK_WORD
		? parse_units(t->p, t->len, size_units, &v) : NUM_SYNTAX;
	if (st == NUM_SYNTAX) {
		scn_fail_tok(ps, t, "a size (e.g. 1460, 64KiB, 1MiB)");
		return false;
	}
	if (st == NUM_INEXACT) {
		scn_fail_tok(ps, t, "a size in whole bytes");
		return false;
	}
	if (st == NUM_RANGE || v < min || v > max) {
		scn_fail_tok(ps, t, "%s", what);
		return false;
	}
	*out = v;
	return true;
}

/* A rate: SIZE "/s". */
bool scn_get_rate(struct parser *ps, const struct tok *t, uint64_t *out)
{
	static const char *what = "a rate (e.g. 64KiB/s, 1MiB/s)";
	uint64_t v = 0;
	if (!t || t->kind != TOK_WORD || t->len < 3 ||
	    memcmp(t->p + t->len - 2, "/s", 2)) {
		scn_fail_tok(ps, t, "%s", what);
		return false;
	}
	enum num_status st = parse_units(t->p, t->len - 2, size_units, &v);
	if (st == NUM_SYNTAX) {
		scn_fail_tok(ps, t, "%s", what);
		return false;
	}
	if (st == NUM_INEXACT) {
		scn_fail_tok(ps, t, "a rate in whole bytes per second");
		return false;
	}
	if (st == NUM_RANGE || v < 1 || v > 10ull * 1024 * 1024 * 1024) {
		scn_fail_tok(ps, t, "a rate from 1/s to 10GiB/s");
		return false;
	}
	*out = v;
	return true;
}

/* A plain decimal integer in [min, max]; what: "a count from 1 to 50000". */
bool scn_get_uint(struct parser *ps, const struct tok *t, uint64_t min,
                  uint64_t max, const char *what, uint64_t *out)
{
	uint64_t v = 0;
	bool range = false;
	if (!t || t->kind != TOK_WORD || !t->len) {
		scn_fail_tok(ps, t, "%s", what);
		return false;
	}
	for (size_t i = 0; i < t->len; i++) {
		char c = t->p[i];
		if (c < '0' || c > '9') {
			scn_fail_tok(ps, t, "%s", what);
			return false;
		}
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(c - '0'), &v))
			range = true;
	}
	if (range || v < min || v > max) {
		scn_fail_tok(ps, t, "%s", what);
		return false;
	}
	*out = v;
	return true;
}

/* ---- strings ----------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/*
 * Decode one or more adjacent string tokens (C-like concatenation) into a
 * fresh buffer. At least one string is required.
 */
bool scn_get_strings(struct parser *ps, struct scn_bytes *out)
{
	const struct tok *t = scn_peek(ps);
	if (!t || t->kind != TOK_STRING) {
		scn_fail_tok(ps, t, "a string");
		return false;
	}
	size_t cap = 0;
	for (size_t k = ps->cur; k < ps->ntok && ps->toks[k].kind == TOK_STRING; k++)
		cap += ps->toks[k].len;
	uint8_t *buf = malloc(cap + 1);
	if (!buf) {
		scn_oom(ps);
		return false;
	}
	size_t o = 0;
	while ((t = scn_peek(ps)) && t->kind == TOK_STRING) {
		ps->cur++;
		const char *p = t->p + 1;
		size_t n = t->len - 2;
		for (size_t i = 0; i < n; i++) {
			uint8_t c = (uint8_t)p[i];
			if (c == '\\') {
				struct tok esc = { TOK_WORD, p + i, 2, t->col + 1 + (unsigned)i };
				/* i + 1 < n: the tokenizer never ends a string on '\' */
				char e = p[i + 1];
				switch (e) {
				case 'r': c = '\r'; break;
				case 'n': c = '\n'; break;
				case 't': c = '\t'; break;
				case '0': c = '\0'; break;
				case '\\': c = '\\'; break;
				case '"': c = '"'; break;
				case 'x': {
					int hi = i + 2 < n ? hexval(p[i + 2]) : -1;
					int lo = i + 3 < n ? hexval(p[i + 3]) : -1;
					if (hi < 0 || lo < 0) {
						esc.len = i + 4 <= n ? 4 : n - i;
						scn_fail_tok(ps, &esc, "two hex digits after \\x");
						free(buf);
						return false;
					}
					c = (uint8_t)(hi << 4 | lo);
					i += 2;
					break;
				}
				default:
					scn_fail_tok(ps, &esc, "an escape (\\r \\n \\t \\0 \\\\ \\\" \\xHH)");
					free(buf);
					return false;
				}
				i++;
			}
			buf[o++] = c;
		}
	}
	buf[o] = '\0';
	if (o > SCN_MAX_STRING) {
		free(buf);
		scn_fail_at(ps, ps->line, ps->toks[ps->cur - 1].col, "a longer one",
		            "a string of at most %d bytes", SCN_MAX_STRING);
		return false;
	}
	out->data = buf;
	out->len = o;
	return true;
}

char *scn_dup_bytes(const struct scn_bytes *b)
{
	char *s = malloc(b->len + 1);
	if (s) {
		memcpy(s, b->data, b->len);
		s[b->len] = '\0';
	}
	return s;
}


int scn_parse_duration(const char *text, int64_t *us)
{
	uint64_t v;
	if (!text || parse_units(text, strlen(text), time_units, &v) != NUM_OK ||
	    v > (uint64_t)SCN_MAX_DURATION_US)
		return -1;
	*us = (int64_t)v;
	return 0;
}
