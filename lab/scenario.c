/*
 * scenario.c - parser for the scenario language (docs/scenario-language.md).
 *
 * Two layers: a line tokenizer (words and quoted strings, with columns) and
 * one function per statement. Every error goes through fail(), which writes
 * "FILE:LINE:COL: expected X, found Y" once and makes the parse unwind; the
 * first error wins.
 */
#include "lab/scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TOKENS 128

enum tok_kind { TOK_WORD = 0, TOK_STRING };

struct tok {
	enum tok_kind kind;
	const char *p;     /* source text (a string's includes its quotes) */
	size_t len;
	unsigned col;      /* 1-based byte column */
};

/* A growable step list under construction. */
struct list {
	struct scn_step *v;
	size_t n, cap;
};

/* An open block: the top level, a `parallel` or a `repeat`. */
struct frame {
	enum { FR_TOP = 0, FR_PARALLEL, FR_REPEAT } kind;
	struct list steps;
	unsigned line, col;
	uint32_t count;      /* parallel: connections; repeat: iterations */
	int64_t stagger_us;
};

struct parser {
	const char *file;
	char *err;
	size_t errlen;
	bool failed;

	/* current line */
	unsigned line;
	const char *lp;    /* line start */
	size_t llen;       /* without the newline / CR */
	struct tok toks[MAX_TOKENS];
	size_t ntok, cur;
	unsigned eol_col;  /* column just past the last byte that counts */

	struct scn_scenario *s;
	struct frame stack[SCN_MAX_DEPTH + 2];
	size_t depth;      /* stack[0] is the top level */
	size_t total_steps;
	size_t exp_cap;
	bool have_scenario, have_about, have_host, have_rtt, have_conns,
	     have_timeout, have_fin_timeout, have_tls, have_client;
	unsigned conns_line, conns_col;
	unsigned first_step_line;   /* 0: no step yet (`client` must precede) */
};

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
static void fail_tok(struct parser *ps, const struct tok *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail_tok(struct parser *ps, const struct tok *t, const char *fmt, ...)
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
static void fail_at(struct parser *ps, unsigned line, unsigned col,
                    const char *found, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void fail_at(struct parser *ps, unsigned line, unsigned col,
                    const char *found, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	failv(ps, line, col, found, fmt, ap);
	va_end(ap);
}

static void oom(struct parser *ps)
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
static bool tokenize(struct parser *ps)
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
			fail_tok(ps, &t, "at most %d words on a line", MAX_TOKENS);
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
					fail_tok(ps, &bad, "a printable character in a string (write \\xHH)");
					return false;
				}
				if (p[j] == '\\' && j + 1 < n)
					j++;
				j++;
			}
			if (j >= n) {
				ps->eol_col = (unsigned)n + 1;
				fail_tok(ps, NULL, "a closing '\"'");
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
					fail_tok(ps, &bad, "a printable ASCII character");
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

static const struct tok *peek(struct parser *ps)
{
	return ps->cur < ps->ntok ? &ps->toks[ps->cur] : NULL;
}

static const struct tok *next(struct parser *ps)
{
	return ps->cur < ps->ntok ? &ps->toks[ps->cur++] : NULL;
}

static bool tok_is(const struct tok *t, const char *word)
{
	size_t n = strlen(word);
	return t && t->kind == TOK_WORD && t->len == n && !memcmp(t->p, word, n);
}

static bool expect_end(struct parser *ps)
{
	const struct tok *t = peek(ps);
	if (t) {
		fail_tok(ps, t, "end of line");
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
static bool looks_like_duration(const struct tok *t)
{
	if (!t || t->kind != TOK_WORD || !t->len)
		return false;
	if (t->p[0] < '0' || t->p[0] > '9')
		return false;
	return t->p[t->len - 1] == 's' && !(t->len >= 2 && t->p[t->len - 2] == '/');
}

static bool get_duration(struct parser *ps, const struct tok *t, int64_t min_us,
                         int64_t *out)
{
	uint64_t v = 0;
	if (!t) {
		fail_tok(ps, NULL, "a duration (e.g. 250ms, 2s, 100us)");
		return false;
	}
	enum num_status st = t->kind == TOK_WORD
		? parse_units(t->p, t->len, time_units, &v) : NUM_SYNTAX;
	switch (st) {
	case NUM_OK:
		if (v > (uint64_t)SCN_MAX_DURATION_US) {
			fail_tok(ps, t, "a duration of at most 86400s");
			return false;
		}
		if ((int64_t)v < min_us) {
			if (min_us % 1000 == 0)
				fail_tok(ps, t, "a duration of at least %lldms",
				         (long long)(min_us / 1000));
			else
				fail_tok(ps, t, "a duration of at least %lldus", (long long)min_us);
			return false;
		}
		*out = (int64_t)v;
		return true;
	case NUM_RANGE:
		fail_tok(ps, t, "a duration of at most 86400s");
		return false;
	case NUM_INEXACT:
		fail_tok(ps, t, "a duration in whole microseconds");
		return false;
	default:
		fail_tok(ps, t, "a duration (e.g. 250ms, 2s, 100us)");
		return false;
	}
}

/* A size in [min, max]; `what` names it in the range message, e.g.
 * "a window from 0 to 1GiB". */
static bool get_size(struct parser *ps, const struct tok *t, uint64_t min,
                     uint64_t max, const char *what, uint64_t *out)
{
	uint64_t v = 0;
	if (!t) {
		fail_tok(ps, NULL, "a size (e.g. 1460, 64KiB, 1MiB)");
		return false;
	}
	enum num_status st = t->kind == TOK_WORD
		? parse_units(t->p, t->len, size_units, &v) : NUM_SYNTAX;
	if (st == NUM_SYNTAX) {
		fail_tok(ps, t, "a size (e.g. 1460, 64KiB, 1MiB)");
		return false;
	}
	if (st == NUM_INEXACT) {
		fail_tok(ps, t, "a size in whole bytes");
		return false;
	}
	if (st == NUM_RANGE || v < min || v > max) {
		fail_tok(ps, t, "%s", what);
		return false;
	}
	*out = v;
	return true;
}

/* A rate: SIZE "/s". */
static bool get_rate(struct parser *ps, const struct tok *t, uint64_t *out)
{
	static const char *what = "a rate (e.g. 64KiB/s, 1MiB/s)";
	uint64_t v = 0;
	if (!t || t->kind != TOK_WORD || t->len < 3 ||
	    memcmp(t->p + t->len - 2, "/s", 2)) {
		fail_tok(ps, t, "%s", what);
		return false;
	}
	enum num_status st = parse_units(t->p, t->len - 2, size_units, &v);
	if (st == NUM_SYNTAX) {
		fail_tok(ps, t, "%s", what);
		return false;
	}
	if (st == NUM_INEXACT) {
		fail_tok(ps, t, "a rate in whole bytes per second");
		return false;
	}
	if (st == NUM_RANGE || v < 1 || v > 10ull * 1024 * 1024 * 1024) {
		fail_tok(ps, t, "a rate from 1/s to 10GiB/s");
		return false;
	}
	*out = v;
	return true;
}

/* A plain decimal integer in [min, max]; what: "a count from 1 to 50000". */
static bool get_uint(struct parser *ps, const struct tok *t, uint64_t min,
                     uint64_t max, const char *what, uint64_t *out)
{
	uint64_t v = 0;
	bool range = false;
	if (!t || t->kind != TOK_WORD || !t->len) {
		fail_tok(ps, t, "%s", what);
		return false;
	}
	for (size_t i = 0; i < t->len; i++) {
		char c = t->p[i];
		if (c < '0' || c > '9') {
			fail_tok(ps, t, "%s", what);
			return false;
		}
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(c - '0'), &v))
			range = true;
	}
	if (range || v < min || v > max) {
		fail_tok(ps, t, "%s", what);
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
static bool get_strings(struct parser *ps, struct scn_bytes *out)
{
	const struct tok *t = peek(ps);
	if (!t || t->kind != TOK_STRING) {
		fail_tok(ps, t, "a string");
		return false;
	}
	size_t cap = 0;
	for (size_t k = ps->cur; k < ps->ntok && ps->toks[k].kind == TOK_STRING; k++)
		cap += ps->toks[k].len;
	uint8_t *buf = malloc(cap + 1);
	if (!buf) {
		oom(ps);
		return false;
	}
	size_t o = 0;
	while ((t = peek(ps)) && t->kind == TOK_STRING) {
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
						fail_tok(ps, &esc, "two hex digits after \\x");
						free(buf);
						return false;
					}
					c = (uint8_t)(hi << 4 | lo);
					i += 2;
					break;
				}
				default:
					fail_tok(ps, &esc, "an escape (\\r \\n \\t \\0 \\\\ \\\" \\xHH)");
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
		fail_at(ps, ps->line, ps->toks[ps->cur - 1].col, "a longer one",
		        "a string of at most %d bytes", SCN_MAX_STRING);
		return false;
	}
	out->data = buf;
	out->len = o;
	return true;
}

static char *dup_bytes(const struct scn_bytes *b)
{
	char *s = malloc(b->len + 1);
	if (s) {
		memcpy(s, b->data, b->len);
		s[b->len] = '\0';
	}
	return s;
}

/* ---- the tree ---------------------------------------------------------- */

static void steps_free(struct scn_step *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct scn_step *st = &v[i];
		switch (st->kind) {
		case SCN_SEND:
			free(st->u.send.data);
			break;
		case SCN_REQUEST:
			free(st->u.request.target.data);
			free(st->u.request.headers.data);
			break;
		case SCN_REPEAT:
			steps_free(st->u.repeat.body.v, st->u.repeat.body.n);
			break;
		default:
			break;
		}
	}
	free(v);
}

void scn_free(struct scn_scenario *s)
{
	if (!s)
		return;
	for (size_t g = 0; g < s->n_groups; g++)
		steps_free(s->groups[g].steps.v, s->groups[g].steps.n);
	free(s->expects);
	free(s->file);
	free(s->about);
	free(s->host);
	free(s->client_command);
	free(s);
}

static struct scn_step *list_push(struct parser *ps, struct list *l)
{
	if (ps->total_steps >= SCN_MAX_STEPS) {
		fail_at(ps, ps->line, 1, "more", "at most %d steps", SCN_MAX_STEPS);
		return NULL;
	}
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct scn_step *nv = realloc(l->v, nc * sizeof *nv);
		if (!nv) {
			oom(ps);
			return NULL;
		}
		l->v = nv;
		l->cap = nc;
	}
	struct scn_step *st = &l->v[l->n++];
	memset(st, 0, sizeof *st);
	if (!ps->total_steps)
		ps->first_step_line = ps->line;
	ps->total_steps++;
	return st;
}

/* ---- statements -------------------------------------------------------- */

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static bool st_scenario(struct parser *ps, const struct tok *kw)
{
	if (ps->have_scenario) {
		fail_tok(ps, kw, "one \"scenario\" per file");
		return false;
	}
	ps->have_scenario = true;
	ps->s->name_line = ps->line;
	const struct tok *t = next(ps);
	bool ok = t && t->kind == TOK_WORD && t->len <= SCN_MAX_NAME;
	for (size_t i = 0; ok && i < t->len; i++)
		ok = is_name_char(t->p[i]);
	if (!ok) {
		fail_tok(ps, t, "a scenario name (letters, digits, '.', '_', '-'; at most %d)",
		         SCN_MAX_NAME);
		return false;
	}
	memcpy(ps->s->name, t->p, t->len);
	ps->s->name[t->len] = '\0';
	return expect_end(ps);
}

static bool once(struct parser *ps, const struct tok *kw, bool *flag)
{
	if (*flag) {
		char word[32];
		snprintf(word, sizeof word, "%.*s", (int)kw->len, kw->p);
		fail_tok(ps, kw, "one \"%s\" per scenario", word);
		return false;
	}
	*flag = true;
	return true;
}

static bool st_about_host(struct parser *ps, const struct tok *kw, bool about)
{
	if (!once(ps, kw, about ? &ps->have_about : &ps->have_host))
		return false;
	struct scn_bytes b = { 0 };
	if (!get_strings(ps, &b))
		return false;
	if (!about && (b.len == 0 || memchr(b.data, '\r', b.len) ||
	               memchr(b.data, '\n', b.len) || memchr(b.data, '\0', b.len))) {
		fail_tok(ps, &ps->toks[ps->cur - 1], "a host name without CR, LF or NUL");
		free(b.data);
		return false;
	}
	char *s = dup_bytes(&b);
	free(b.data);
	if (!s) {
		oom(ps);
		return false;
	}
	if (about)
		ps->s->about = s;
	else
		ps->s->host = s;
	return expect_end(ps);
}

static bool st_rtt(struct parser *ps, const struct tok *kw)
{
	if (!once(ps, kw, &ps->have_rtt))
		return false;
	if (!get_duration(ps, next(ps), 0, &ps->s->rtt_us))
		return false;
	return expect_end(ps);
}

/* `client raw|kernel|command "COMMAND"`: before the first step, since it
 * decides which steps exist (see docs/scenario-language.md, "Kernel
 * clients" and "Client programs"). */
static bool st_client(struct parser *ps, const struct tok *kw)
{
	if (!once(ps, kw, &ps->have_client))
		return false;
	if (ps->first_step_line) {
		fail_tok(ps, kw, "\"client\" before the first step (line %u)", ps->first_step_line);
		return false;
	}
	const struct tok *t = next(ps);
	if (tok_is(t, "raw")) {
		ps->s->client = SCN_CLIENT_RAW;
	} else if (tok_is(t, "kernel")) {
		ps->s->client = SCN_CLIENT_KERNEL;
	} else if (tok_is(t, "command")) {
		struct scn_bytes b = { 0 };
		if (!get_strings(ps, &b))
			return false;
		if (b.len == 0 || b.len > SCN_MAX_COMMAND || memchr(b.data, '\0', b.len)) {
			fail_tok(ps, &ps->toks[ps->cur - 1],
			         "a command of 1 to %d bytes without NUL", SCN_MAX_COMMAND);
			free(b.data);
			return false;
		}
		ps->s->client_command = dup_bytes(&b);
		free(b.data);
		if (!ps->s->client_command) {
			oom(ps);
			return false;
		}
		ps->s->client = SCN_CLIENT_COMMAND;
	} else {
		fail_tok(ps, t, "raw, kernel or command");
		return false;
	}
	return expect_end(ps);
}

static bool st_read(struct parser *ps, struct scn_step *st)
{
	const struct tok *t = next(ps);
	if (tok_is(t, "concurrently")) {
		st->u.read = SCN_READ_CONCURRENTLY;
	} else if (tok_is(t, "never")) {
		st->u.read = SCN_READ_NEVER;
	} else if (tok_is(t, "after")) {
		t = next(ps);
		if (!tok_is(t, "send")) {
			fail_tok(ps, t, "send");
			return false;
		}
		st->u.read = SCN_READ_AFTER_SEND;
	} else {
		fail_tok(ps, t, "concurrently, after send or never");
		return false;
	}
	return expect_end(ps);
}

static bool st_timeout(struct parser *ps, const struct tok *kw)
{
	if (!once(ps, kw, &ps->have_timeout))
		return false;
	if (!get_duration(ps, next(ps), 1000, &ps->s->timeout_us))
		return false;
	return expect_end(ps);
}

/* tcp_fin_timeout DURATION: net.ipv4.tcp_fin_timeout of the server
 * namespace while the scenario runs; the sysctl counts whole seconds. */
static bool st_fin_timeout(struct parser *ps, const struct tok *kw)
{
	if (!once(ps, kw, &ps->have_fin_timeout))
		return false;
	const struct tok *t = next(ps);
	int64_t us;
	if (!get_duration(ps, t, 0, &us))
		return false;
	if (us % 1000000 || us < SCN_MIN_FIN_TIMEOUT_S * 1000000LL ||
	    us > SCN_MAX_FIN_TIMEOUT_S * 1000000LL) {
		fail_tok(ps, t, "a tcp_fin_timeout in whole seconds from %ds to %ds",
		         SCN_MIN_FIN_TIMEOUT_S, SCN_MAX_FIN_TIMEOUT_S);
		return false;
	}
	ps->s->tcp_fin_timeout = (uint32_t)(us / 1000000);
	return expect_end(ps);
}

/* tls [version 1.2|1.3] [sni "NAME"] [alpn "PROTO"] [verify]
 *     [close-notify send|never] [after close-notify continue|stop] */
static bool st_tls(struct parser *ps, const struct tok *kw)
{
	struct scn_tls *T = &ps->s->tls;
	if (!once(ps, kw, &ps->have_tls))
		return false;
	T->on = true;
	T->close_notify = true;
	const struct tok *t;
	while ((t = peek(ps)) != NULL) {
		ps->cur++;
		if (tok_is(t, "version")) {
			const struct tok *v = next(ps);
			if (tok_is(v, "1.2"))
				T->version = 12;
			else if (tok_is(v, "1.3"))
				T->version = 13;
			else {
				fail_tok(ps, v, "a TLS version: 1.2 or 1.3");
				return false;
			}
		} else if (tok_is(t, "sni") || tok_is(t, "alpn")) {
			bool sni = tok_is(t, "sni");
			struct scn_bytes b = { 0 };
			size_t cap = sni ? sizeof T->sni : sizeof T->alpn;
			if (!get_strings(ps, &b))
				return false;
			if (b.len == 0 || b.len >= cap || memchr(b.data, '\0', b.len)) {
				fail_tok(ps, &ps->toks[ps->cur - 1], "%s of 1 to %zu bytes without NUL",
				         sni ? "a server name" : "an ALPN protocol", cap - 1);
				free(b.data);
				return false;
			}
			memcpy(sni ? T->sni : T->alpn, b.data, b.len);
			(sni ? T->sni : T->alpn)[b.len] = '\0';
			free(b.data);
		} else if (tok_is(t, "verify")) {
			T->verify = true;
		} else if (tok_is(t, "close-notify")) {
			const struct tok *v = next(ps);
			if (tok_is(v, "send"))
				T->close_notify = true;
			else if (tok_is(v, "never"))
				T->close_notify = false;
			else {
				fail_tok(ps, v, "\"send\" or \"never\"");
				return false;
			}
		} else if (tok_is(t, "after")) {
			const struct tok *v = next(ps);
			if (!tok_is(v, "close-notify")) {
				fail_tok(ps, v, "\"close-notify\"");
				return false;
			}
			v = next(ps);
			if (tok_is(v, "continue"))
				T->stop_after_close_notify = false;
			else if (tok_is(v, "stop"))
				T->stop_after_close_notify = true;
			else {
				fail_tok(ps, v, "\"continue\" or \"stop\"");
				return false;
			}
		} else {
			fail_tok(ps, t, "version, sni, alpn, verify, close-notify or after");
			return false;
		}
	}
	return expect_end(ps);
}

static bool get_count(struct parser *ps, uint32_t *out)
{
	uint64_t v;
	char what[64];
	snprintf(what, sizeof what, "a count from 1 to %d", SCN_MAX_CONNECTIONS);
	if (!get_uint(ps, next(ps), 1, SCN_MAX_CONNECTIONS, what, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

/* [stagger DURATION] */
static bool get_stagger(struct parser *ps, int64_t *out)
{
	const struct tok *t = peek(ps);
	if (tok_is(t, "stagger")) {
		ps->cur++;
		return get_duration(ps, next(ps), 0, out);
	}
	return true;
}

static bool st_connections(struct parser *ps, const struct tok *kw)
{
	if (!once(ps, kw, &ps->have_conns))
		return false;
	ps->conns_line = ps->line;
	ps->conns_col = kw->col;
	if (!get_count(ps, &ps->stack[0].count))
		return false;
	if (!get_stagger(ps, &ps->stack[0].stagger_us))
		return false;
	return expect_end(ps);
}

static bool st_parallel(struct parser *ps, const struct tok *kw)
{
	if (ps->s->n_groups >= SCN_MAX_GROUPS) {
		fail_tok(ps, kw, "at most %d \"parallel\" blocks", SCN_MAX_GROUPS - 1);
		return false;
	}
	struct frame *f = &ps->stack[++ps->depth];
	memset(f, 0, sizeof *f);
	f->kind = FR_PARALLEL;
	f->line = ps->line;
	f->col = kw->col;
	/* the group slot is taken now so the count check sees it */
	ps->s->n_groups++;
	if (!get_count(ps, &f->count) || !get_stagger(ps, &f->stagger_us))
		return false;
	const struct tok *t = next(ps);
	if (!tok_is(t, "{")) {
		fail_tok(ps, t, "\"{\"");
		return false;
	}
	return expect_end(ps);
}

static bool st_repeat(struct parser *ps, const struct tok *kw)
{
	size_t repeats = 0;
	for (size_t i = 1; i <= ps->depth; i++)
		repeats += ps->stack[i].kind == FR_REPEAT;
	if (repeats >= SCN_MAX_DEPTH) {
		fail_tok(ps, kw, "at most %d nested \"repeat\" blocks", SCN_MAX_DEPTH);
		return false;
	}
	struct frame *f = &ps->stack[++ps->depth];
	memset(f, 0, sizeof *f);
	f->kind = FR_REPEAT;
	f->line = ps->line;
	f->col = kw->col;
	uint64_t v;
	if (!get_uint(ps, next(ps), 1, SCN_MAX_REPEAT, "a count from 1 to 1000000", &v))
		return false;
	f->count = (uint32_t)v;
	const struct tok *t = next(ps);
	if (!tok_is(t, "{")) {
		fail_tok(ps, t, "\"{\"");
		return false;
	}
	return expect_end(ps);
}

static bool close_block(struct parser *ps, const struct tok *kw)
{
	if (ps->depth == 0) {
		fail_tok(ps, kw, "a statement");
		return false;
	}
	if (!expect_end(ps))
		return false;
	struct frame *f = &ps->stack[ps->depth];
	if (f->steps.n == 0) {
		fail_tok(ps, kw, "a step inside the block opened at line %u", f->line);
		return false;
	}
	if (f->kind == FR_REPEAT) {
		struct list body = f->steps;
		f->steps = (struct list){ 0 };
		ps->depth--;
		/* list_push counts a step; the repeat statement is one */
		struct scn_step *st = list_push(ps, &ps->stack[ps->depth].steps);
		if (!st) {
			steps_free(body.v, body.n);
			return false;
		}
		st->kind = SCN_REPEAT;
		st->line = f->line;
		st->col = f->col;
		st->u.repeat.count = f->count;
		st->u.repeat.body.v = body.v;
		st->u.repeat.body.n = body.n;
		return true;
	}
	/* parallel: becomes the next group */
	size_t gi = ps->s->n_groups - 1;
	struct scn_group *g = &ps->s->groups[gi];
	g->line = f->line;
	g->connections = f->count;
	g->stagger_us = f->stagger_us;
	g->steps.v = f->steps.v;
	g->steps.n = f->steps.n;
	f->steps = (struct list){ 0 };
	ps->depth--;
	return true;
}

static bool st_connect(struct parser *ps, struct scn_step *st)
{
	const struct tok *t = peek(ps);
	if (t) {
		ps->cur++;
		if (!get_duration(ps, t, 1000, &st->u.connect.timeout_us))
			return false;
	}
	return expect_end(ps);
}

static bool st_send(struct parser *ps, struct scn_step *st)
{
	if (!get_strings(ps, &st->u.send))
		return false;
	if (st->u.send.len == 0) {
		fail_tok(ps, &ps->toks[ps->cur - 1], "a non-empty string");
		return false;
	}
	return expect_end(ps);
}

static bool st_request(struct parser *ps, struct scn_step *st)
{
	const struct tok *t = next(ps);
	bool ok = t && t->kind == TOK_WORD && t->len >= 1 &&
	          t->len < sizeof st->u.request.method;
	for (size_t i = 0; ok && i < t->len; i++)
		ok = (t->p[i] >= 'A' && t->p[i] <= 'Z') || t->p[i] == '-' || t->p[i] == '_';
	if (!ok) {
		fail_tok(ps, t, "a method (e.g. GET, PUT)");
		return false;
	}
	memcpy(st->u.request.method, t->p, t->len);
	st->u.request.method[t->len] = '\0';

	t = peek(ps);
	struct scn_bytes *target = &st->u.request.target;
	if (t && t->kind == TOK_STRING) {
		if (!get_strings(ps, target))
			return false;
		bool bad = target->len == 0;
		for (size_t i = 0; !bad && i < target->len; i++)
			bad = target->data[i] <= 0x20 || target->data[i] == 0x7f;
		if (bad) {
			fail_tok(ps, &ps->toks[ps->cur - 1],
			         "a request target without spaces or control bytes");
			return false;
		}
	} else if (t && (t->p[0] == '/' || t->p[0] == '*' ||
	                 (t->len > 7 && !memcmp(t->p, "http://", 7)))) {
		ps->cur++;
		struct scn_bytes b = { malloc(t->len + 1), t->len };
		if (!b.data) {
			oom(ps);
			return false;
		}
		memcpy(b.data, t->p, t->len);
		b.data[t->len] = '\0';
		*target = b;
	} else {
		fail_tok(ps, t, "a request target (e.g. /index.html)");
		return false;
	}

	bool seen_close = false, seen_length = false;
	size_t hcap = 0;
	while ((t = next(ps))) {
		if (tok_is(t, "close")) {
			if (seen_close) {
				fail_tok(ps, t, "each option once");
				return false;
			}
			seen_close = true;
			st->u.request.close = true;
		} else if (tok_is(t, "length")) {
			if (seen_length) {
				fail_tok(ps, t, "each option once");
				return false;
			}
			seen_length = true;
			st->u.request.has_length = true;
			if (!get_size(ps, next(ps), 0, 1ull << 50,
			              "a length of at most 1PiB", &st->u.request.length))
				return false;
		} else if (tok_is(t, "header")) {
			if (st->u.request.n_headers >= SCN_MAX_HEADERS) {
				fail_tok(ps, t, "at most %d headers", SCN_MAX_HEADERS);
				return false;
			}
			struct scn_bytes h = { 0 };
			if (!get_strings(ps, &h))
				return false;
			const uint8_t *colon = memchr(h.data, ':', h.len);
			bool bad = !colon || colon == h.data || memchr(h.data, '\r', h.len) ||
			           memchr(h.data, '\n', h.len) || memchr(h.data, '\0', h.len);
			if (bad) {
				fail_tok(ps, &ps->toks[ps->cur - 1],
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
					oom(ps);
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
			fail_tok(ps, t, "close, length or header");
			return false;
		}
	}
	return true;
}

static bool st_body(struct parser *ps, struct scn_step *st)
{
	if (!get_size(ps, next(ps), 1, 64ull << 30, "a body size from 1 to 64GiB",
	              &st->u.body.size))
		return false;
	bool seen_rate = false, seen_chunk = false;
	const struct tok *t;
	while ((t = next(ps))) {
		if (tok_is(t, "rate")) {
			if (seen_rate) {
				fail_tok(ps, t, "each option once");
				return false;
			}
			seen_rate = true;
			if (!get_rate(ps, next(ps), &st->u.body.rate))
				return false;
		} else if (tok_is(t, "chunk")) {
			if (seen_chunk) {
				fail_tok(ps, t, "each option once");
				return false;
			}
			seen_chunk = true;
			uint64_t v;
			if (!get_size(ps, next(ps), 1, 65535, "a chunk from 1 to 65535 bytes", &v))
				return false;
			st->u.body.chunk = (uint32_t)v;
		} else {
			fail_tok(ps, t, "rate or chunk");
			return false;
		}
	}
	return true;
}

static bool st_ack(struct parser *ps, struct scn_step *st)
{
	const struct tok *t = next(ps);
	if (tok_is(t, "now")) {
		st->u.ack.mode = SCN_ACK_NOW;
	} else if (tok_is(t, "never")) {
		st->u.ack.mode = SCN_ACK_NEVER;
	} else if (tok_is(t, "delayed")) {
		st->u.ack.mode = SCN_ACK_DELAYED;
		if (!get_duration(ps, next(ps), 1, &st->u.ack.delay_us))
			return false;
	} else if (tok_is(t, "upto")) {
		st->u.ack.mode = SCN_ACK_UPTO;
		if (!get_size(ps, next(ps), 0, UINT32_MAX - 1,
		              "a byte count from 0 to 4294967294", &st->u.ack.upto))
			return false;
	} else {
		fail_tok(ps, t, "now, delayed, never or upto");
		return false;
	}
	return expect_end(ps);
}

static bool st_window(struct parser *ps, struct scn_step *st)
{
	uint64_t v;
	if (!get_size(ps, next(ps), 0, 1ull << 30, "a window from 0 to 1GiB", &v))
		return false;
	st->u.window = (uint32_t)v;
	return expect_end(ps);
}

static bool st_fin(struct parser *ps, struct scn_step *st)
{
	const struct tok *t = next(ps);
	if (tok_is(t, "close"))
		st->u.fin = SCN_FIN_CLOSE;
	else if (tok_is(t, "half-close"))
		st->u.fin = SCN_FIN_HALF_CLOSE;
	else if (tok_is(t, "never"))
		st->u.fin = SCN_FIN_NEVER;
	else {
		fail_tok(ps, t, "close, half-close or never");
		return false;
	}
	return expect_end(ps);
}

static bool st_after(struct parser *ps, struct scn_step *st)
{
	const struct tok *t = next(ps);
	if (tok_is(t, "fin"))
		st->u.after.event = SCN_AFTER_FIN;
	else if (tok_is(t, "rst"))
		st->u.after.event = SCN_AFTER_RST;
	else {
		fail_tok(ps, t, "fin or rst");
		return false;
	}
	t = next(ps);
	if (tok_is(t, "continue"))
		st->u.after.keep_sending = true;
	else if (tok_is(t, "stop"))
		st->u.after.keep_sending = false;
	else {
		fail_tok(ps, t, "continue or stop");
		return false;
	}
	return expect_end(ps);
}

static bool st_wait(struct parser *ps, struct scn_step *st)
{
	static const struct { const char *name; enum scn_wait_event ev; } evs[] = {
		{ "data", SCN_WAIT_DATA }, { "response", SCN_WAIT_RESPONSE },
		{ "fin", SCN_WAIT_FIN }, { "rst", SCN_WAIT_RST },
		{ "closed", SCN_WAIT_CLOSED }, { "sent", SCN_WAIT_SENT },
		{ "acked", SCN_WAIT_ACKED },
	};
	const struct tok *t = next(ps);
	size_t i;
	for (i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (tok_is(t, evs[i].name))
			break;
	if (i == sizeof evs / sizeof evs[0]) {
		fail_tok(ps, t, "an event (data, response, fin, rst, closed, sent, acked)");
		return false;
	}
	st->u.wait.event = evs[i].ev;
	if (st->u.wait.event == SCN_WAIT_DATA)
		st->u.wait.count = 1;
	t = peek(ps);
	if (t && !looks_like_duration(t)) {
		if (st->u.wait.event == SCN_WAIT_DATA) {
			ps->cur++;
			if (!get_size(ps, t, 1, 1ull << 40, "a byte count from 1 to 1TiB",
			              &st->u.wait.count))
				return false;
		} else if (st->u.wait.event == SCN_WAIT_RESPONSE) {
			ps->cur++;
			if (!get_uint(ps, t, 1, 1000000, "a response count from 1 to 1000000",
			              &st->u.wait.count))
				return false;
		}
	}
	t = peek(ps);
	if (t) {
		ps->cur++;
		if (!get_duration(ps, t, 1000, &st->u.wait.timeout_us))
			return false;
	}
	return expect_end(ps);
}

static bool st_sleep(struct parser *ps, struct scn_step *st)
{
	if (!get_duration(ps, next(ps), 0, &st->u.sleep_us))
		return false;
	return expect_end(ps);
}

static bool st_hold(struct parser *ps, struct scn_step *st)
{
	st->u.hold_us = -1;
	const struct tok *t = peek(ps);
	if (t) {
		ps->cur++;
		if (!get_duration(ps, t, 0, &st->u.hold_us))
			return false;
	}
	return expect_end(ps);
}

/* ---- expectations ------------------------------------------------------ */

/* `drop in|out N|fin`, `reorder in|out N|fin`: loss and reordering on
 * the client's side, counted per connection (rawtcp.h: struct rawtcp_fault). */
static bool st_fault(struct parser *ps, struct scn_step *st)
{
	const struct tok *t = next(ps);
	if (tok_is(t, "in"))
		st->u.fault.out = false;
	else if (tok_is(t, "out"))
		st->u.fault.out = true;
	else {
		fail_tok(ps, t, "in or out");
		return false;
	}
	t = next(ps);
	if (tok_is(t, "fin")) {
		st->u.fault.fin = true;
		return expect_end(ps);
	}
	uint64_t v;
	char what[80];
	snprintf(what, sizeof what, "a segment number from 1 to %d, or fin", SCN_MAX_FAULT_NTH);
	if (!get_uint(ps, t, 1, SCN_MAX_FAULT_NTH, what, &v))
		return false;
	st->u.fault.nth = (uint32_t)v;
	return expect_end(ps);
}

/* A signed offset: +N, -N or N. */
static bool get_offset(struct parser *ps, const struct tok *t, int64_t *out)
{
	static const char *what = "an offset (+N, -N or N; N at most 2147483647)";
	if (!t || t->kind != TOK_WORD || !t->len) {
		fail_tok(ps, t, "%s", what);
		return false;
	}
	bool neg = t->p[0] == '-';
	size_t i = (t->p[0] == '-' || t->p[0] == '+') ? 1 : 0;
	uint64_t v = 0;
	if (i == t->len) {
		fail_tok(ps, t, "%s", what);
		return false;
	}
	for (; i < t->len; i++) {
		char c = t->p[i];
		if (c < '0' || c > '9' || v > (uint64_t)SCN_MAX_RST_OFFSET) {
			fail_tok(ps, t, "%s", what);
			return false;
		}
		v = v * 10 + (uint64_t)(c - '0');
	}
	if (v > (uint64_t)SCN_MAX_RST_OFFSET) {
		fail_tok(ps, t, "%s", what);
		return false;
	}
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

/* `rst [seq OFF] [ack OFF]`: one RST that does not close the client's
 * connection. */
static bool st_rst(struct parser *ps, struct scn_step *st)
{
	bool seen_seq = false;
	const struct tok *t;
	while ((t = next(ps))) {
		if (tok_is(t, "seq") && !seen_seq) {
			seen_seq = true;
			if (!get_offset(ps, next(ps), &st->u.rst.seq_off))
				return false;
		} else if (tok_is(t, "ack") && !st->u.rst.has_ack) {
			st->u.rst.has_ack = true;
			if (!get_offset(ps, next(ps), &st->u.rst.ack_off))
				return false;
		} else {
			fail_tok(ps, t, "seq OFFSET, ack OFFSET or end of line");
			return false;
		}
	}
	return true;
}

static bool get_op(struct parser *ps, enum scn_op *op)
{
	static const char *names[] = { "==", "!=", "<", "<=", ">", ">=" };
	const struct tok *t = next(ps);
	for (int i = 0; i < 6; i++)
		if (tok_is(t, names[i])) {
			*op = (enum scn_op)i;
			return true;
		}
	fail_tok(ps, t, "a comparison (==, !=, <, <=, >, >=)");
	return false;
}

enum vtype { V_COUNT, V_SIZE, V_DURATION };

static bool get_value(struct parser *ps, enum vtype vt, int64_t *out)
{
	const struct tok *t = next(ps);
	uint64_t v;
	switch (vt) {
	case V_COUNT:
		if (!get_uint(ps, t, 0, (1ull << 53), "a count", &v))
			return false;
		*out = (int64_t)v;
		return true;
	case V_SIZE:
		if (!get_size(ps, t, 0, 1ull << 50, "a size of at most 1PiB", &v))
			return false;
		*out = (int64_t)v;
		return true;
	default:
		return get_duration(ps, t, 0, out);
	}
}

struct metric_def {
	const char *name;
	enum scn_metric m;
	enum vtype vt;
};

/* [METRIC OP VALUE] after a subject; metrics: NULL-terminated table. */
static bool get_metric(struct parser *ps, struct scn_expect *x,
                       const struct metric_def *defs, const char *names)
{
	const struct tok *t = next(ps);
	if (!t)
		return true; /* bare form */
	if (x->negated) {
		fail_tok(ps, t, "end of line");
		return false;
	}
	for (const struct metric_def *d = defs; d->name; d++)
		if (tok_is(t, d->name)) {
			x->metric = d->m;
			return get_op(ps, &x->op) && get_value(ps, d->vt, &x->value) &&
			       expect_end(ps);
		}
	fail_tok(ps, t, "%s", names);
	return false;
}

/* `expect [no] client exit [OP] N`, `expect [no] client output contains
 * "TEXT"`: about a client program (`client command`). */
static bool st_expect_program(struct parser *ps, struct scn_expect *x)
{
	const struct tok *t = next(ps);
	x->subject_col = t->col;
	if (tok_is(t, "exit")) {
		x->subject = SCN_X_CLIENT_EXIT;
		x->op = SCN_OP_EQ;
		t = peek(ps);
		if (t && t->kind == TOK_WORD && t->len && (t->p[0] < '0' || t->p[0] > '9')) {
			if (!get_op(ps, &x->op))
				return false;
		}
		uint64_t v;
		if (!get_uint(ps, next(ps), 0, 255, "an exit status from 0 to 255", &v))
			return false;
		x->value = (int64_t)v;
		return expect_end(ps);
	}
	x->subject = SCN_X_CLIENT_OUTPUT;
	t = next(ps);
	if (!tok_is(t, "contains")) {
		fail_tok(ps, t, "contains");
		return false;
	}
	struct scn_bytes b = { 0 };
	if (!get_strings(ps, &b))
		return false;
	if (b.len == 0 || b.len >= sizeof x->output || memchr(b.data, '\0', b.len)) {
		fail_tok(ps, &ps->toks[ps->cur - 1], "a text of 1 to %zu bytes without NUL",
		         sizeof x->output - 1);
		free(b.data);
		return false;
	}
	memcpy(x->output, b.data, b.len);
	x->output[b.len] = '\0';
	free(b.data);
	return expect_end(ps);
}

static bool st_expect(struct parser *ps, const struct tok *kw)
{
	if (ps->s->n_expects >= SCN_MAX_EXPECT) {
		fail_tok(ps, kw, "at most %d expectations", SCN_MAX_EXPECT);
		return false;
	}
	if (ps->s->n_expects == ps->exp_cap) {
		size_t nc = ps->exp_cap ? ps->exp_cap * 2 : 8;
		struct scn_expect *nv = realloc(ps->s->expects, nc * sizeof *nv);
		if (!nv) {
			oom(ps);
			return false;
		}
		ps->s->expects = nv;
		ps->exp_cap = nc;
	}
	struct scn_expect *x = &ps->s->expects[ps->s->n_expects];
	memset(x, 0, sizeof *x);
	x->line = ps->line;
	x->col = kw->col;
	/* the statement as written: from `expect` to the last token */
	const struct tok *last = &ps->toks[ps->ntok - 1];
	size_t from = (size_t)(kw->p - ps->lp);
	size_t to = (size_t)(last->p + last->len - ps->lp);
	snprintf(x->text, sizeof x->text, "%.*s", (int)(to - from), ps->lp + from);

	const struct tok *t = next(ps);
	if (tok_is(t, "no")) {
		x->negated = true;
		t = next(ps);
	}
	bool sided = false, app = false;
	x->subject_col = t ? t->col : kw->col;
	if (tok_is(t, "client") && (tok_is(peek(ps), "exit") || tok_is(peek(ps), "output"))) {
		if (!st_expect_program(ps, x))
			return false;
		ps->s->n_expects++;
		return true;
	}
	if (tok_is(t, "app")) {
		app = true;
		t = next(ps);
		if (tok_is(t, "no") && !x->negated) {
			/* `expect app no error` reads better than `expect no app error` */
			x->negated = true;
			t = next(ps);
		}
		if (tok_is(t, "error")) {
			x->subject = SCN_X_APP_ERROR;
			t = next(ps);
			if (t) {
				x->errnum = t->kind == TOK_WORD ? scn_errno_by_name(t->p, t->len) : 0;
				if (!x->errnum) {
					fail_tok(ps, t, "an errno name (ECONNRESET, EPIPE, ...)");
					return false;
				}
			} else if (!x->negated) {
				fail_tok(ps, t, "an errno name (ECONNRESET, EPIPE, ...)");
				return false;
			}
			if (!expect_end(ps))
				return false;
			ps->s->n_expects++;
			return true;
		}
		if (!tok_is(t, "response")) {
			fail_tok(ps, t, "response or error after \"app\"");
			return false;
		}
	}
	if (tok_is(t, "server") || tok_is(t, "client")) {
		x->side = tok_is(t, "client") ? SCN_SIDE_CLIENT : SCN_SIDE_SERVER;
		sided = true;
		t = next(ps);
		if (!tok_is(t, "rst_before_ack") && !tok_is(t, "fin_wait_2") &&
		    !tok_is(t, "end")) {
			fail_tok(ps, t, "rst_before_ack, fin_wait_2 or end");
			return false;
		}
	}
	bool ok;
	if (tok_is(t, "closed_by") || tok_is(t, "kind") || (tok_is(t, "end") && sided)) {
		/* the teardown as the analyzer read it, on every connection */
		const char *(*name)(int) = scn_closer_name;
		const char *list = "client, server or simultaneous";
		int lo = 1, hi = 3;
		x->subject = SCN_X_CLOSED_BY;
		if (tok_is(t, "kind")) {
			x->subject = SCN_X_KIND;
			name = scn_kind_name;
			list = "a teardown kind (graceful, reset, half_open, fin_then_rst, abort, open)";
			lo = 0;
			hi = 5;
		} else if (tok_is(t, "end")) {
			x->subject = SCN_X_END;
			name = scn_end_name;
			list = "a TCP state (TIME_WAIT, CLOSED, FIN_WAIT_2, FIN_WAIT_1, CLOSING, "
			       "LAST_ACK, CLOSE_WAIT, ESTABLISHED, SYN_SENT, SYN_RECEIVED)";
			lo = 1;
			hi = 10;
		}
		t = next(ps);
		int v;
		for (v = lo; v <= hi; v++)
			if (tok_is(t, name(v)))
				break;
		if (v > hi) {
			fail_tok(ps, t, "%s", list);
			return false;
		}
		x->teardown = v;
		ok = expect_end(ps);
	} else if (tok_is(t, "rst_before_ack")) {
		static const struct metric_def d[] = {
			{ "count", SCN_M_COUNT, V_COUNT },
			{ "bytes_at_risk", SCN_M_BYTES_AT_RISK, V_SIZE }, { NULL, 0, 0 } };
		x->subject = SCN_X_RST_BEFORE_ACK;
		ok = get_metric(ps, x, d, "count or bytes_at_risk");
	} else if (tok_is(t, "lingered")) {
		static const struct metric_def d[] = {
			{ "count", SCN_M_COUNT, V_COUNT }, { "bytes", SCN_M_BYTES, V_SIZE },
			{ "seconds", SCN_M_SECONDS, V_DURATION }, { NULL, 0, 0 } };
		x->subject = SCN_X_LINGERED;
		ok = get_metric(ps, x, d, "count, bytes or seconds");
	} else if (tok_is(t, "fin_wait_2")) {
		static const struct metric_def d[] = {
			{ "count", SCN_M_COUNT, V_COUNT }, { "peak", SCN_M_PEAK, V_COUNT },
			{ "max", SCN_M_MAX, V_DURATION }, { NULL, 0, 0 } };
		static const struct metric_def de[] = {
			{ "count", SCN_M_COUNT, V_COUNT },
			{ "max", SCN_M_MAX, V_DURATION }, { NULL, 0, 0 } };
		x->subject = SCN_X_FIN_WAIT_2;
		if (tok_is(peek(ps), "ending")) {
			ps->cur++;
			t = next(ps);
			int e;
			for (e = 0; e < SCN_NFW2_ENDINGS; e++)
				if (tok_is(t, scn_fw2_ending_name((enum scn_fw2_ending)e)))
					break;
			if (e == SCN_NFW2_ENDINGS) {
				fail_tok(ps, t, "a fin_wait_2 ending (client_fin, client_rst, server_rst, "
				         "capture_end, kernel_timeout, lab_cleanup)");
				return false;
			}
			x->has_ending = true;
			x->ending = (enum scn_fw2_ending)e;
			ok = get_metric(ps, x, de, "count or max");
		} else {
			ok = get_metric(ps, x, d, "count, peak, max or ending");
		}
	} else if (tok_is(t, "kernel") && !sided) {
		static const char *states[SCN_NKSTATES] = {
			"established", "syn_recv", "fin_wait_1", "fin_wait_2",
			"time_wait", "close_wait", "last_ack", "closing" };
		static const struct metric_def d[] = {
			{ "peak", SCN_M_PEAK, V_COUNT },
			{ "duration", SCN_M_DURATION, V_DURATION }, { NULL, 0, 0 } };
		/* the sampler follows FIN_WAIT_2 sockets one by one (run.h) */
		static const struct metric_def dfw2[] = {
			{ "peak", SCN_M_PEAK, V_COUNT }, { "count", SCN_M_COUNT, V_COUNT },
			{ "max", SCN_M_MAX, V_DURATION },
			{ "duration", SCN_M_DURATION, V_DURATION }, { NULL, 0, 0 } };
		x->subject = SCN_X_KERNEL;
		t = next(ps);
		int k;
		for (k = 0; k < SCN_NKSTATES; k++)
			if (tok_is(t, states[k]))
				break;
		if (k == SCN_NKSTATES) {
			fail_tok(ps, t, "a TCP state (established, syn_recv, fin_wait_1, "
			         "fin_wait_2, time_wait, close_wait, last_ack, closing)");
			return false;
		}
		x->kstate = (enum scn_kstate)k;
		if (x->kstate == SCN_K_FIN_WAIT_2)
			ok = get_metric(ps, x, dfw2, "peak, count, max or duration");
		else
			ok = get_metric(ps, x, d, "peak or duration");
	} else if (tok_is(t, "response") && !sided) {
		x->subject = app ? SCN_X_APP_RESPONSE : SCN_X_RESPONSE;
		uint64_t v;
		char what[64];
		snprintf(what, sizeof what, "a response number from 1 to %d", SCN_MAX_RESPONSES);
		if (!get_uint(ps, next(ps), 1, SCN_MAX_RESPONSES, what, &v))
			return false;
		x->response = (uint32_t)v;
		ok = true;
		if (x->negated)
			ok = expect_end(ps);
		bool seen_status = false, seen_check = false;
		while (ok && !x->negated && (t = next(ps))) {
			if (tok_is(t, "status") && !seen_status) {
				seen_status = true;
				ok = get_uint(ps, next(ps), 100, 999,
				              "a status code from 100 to 999", &v);
				x->status = (int)v;
			} else if ((tok_is(t, "complete") || tok_is(t, "incomplete")) &&
			           !seen_check) {
				seen_check = true;
				x->check = tok_is(t, "complete") ? SCN_RC_COMPLETE : SCN_RC_INCOMPLETE;
			} else {
				fail_tok(ps, t, "status, complete or incomplete");
				ok = false;
			}
		}
	} else if (tok_is(t, "responses") && !sided) {
		x->subject = SCN_X_RESPONSES;
		x->metric = SCN_M_COUNT;
		if (x->negated) /* no responses: == 0 on every connection */
			ok = expect_end(ps);
		else
			ok = get_op(ps, &x->op) && get_value(ps, V_COUNT, &x->value) &&
			     expect_end(ps);
	} else if (tok_is(t, "reset") && !sided) {
		x->subject = SCN_X_RESET;
		if (tok_is(peek(ps), "seen"))
			ps->cur++;
		ok = expect_end(ps);
	} else if (tok_is(t, "client_impact") && !sided) {
		static const struct metric_def d[] = {
			{ "count", SCN_M_COUNT, V_COUNT }, { NULL, 0, 0 } };
		x->subject = SCN_X_CLIENT_IMPACT;
		t = next(ps);
		int k;
		for (k = 0; k < SCN_NIMPACTS; k++)
			if (tok_is(t, scn_impact_name((enum scn_impact)k)))
				break;
		if (k == SCN_NIMPACTS) {
			fail_tok(ps, t, "a client_impact (reset_before_ack, reset_after_ack, no_reset)");
			return false;
		}
		x->impact = (enum scn_impact)k;
		ok = get_metric(ps, x, d, "count");
	} else if (tok_is(t, "leaked_rst") && !sided) {
		static const struct metric_def d[] = {
			{ "count", SCN_M_COUNT, V_COUNT }, { NULL, 0, 0 } };
		x->subject = SCN_X_LEAKED_RST;
		ok = get_metric(ps, x, d, "count");
	} else {
		fail_tok(ps, t, "an expectation (rst_before_ack, lingered, fin_wait_2, "
		         "kernel, client_impact, response, responses, reset, leaked_rst, "
		         "closed_by, kind, server end, client end)");
		return false;
	}
	if (!ok)
		return false;
	ps->s->n_expects++;
	return true;
}

/* ---- one line ---------------------------------------------------------- */

/* Steps that only one kind of client can do. A kernel client is an
 * ordinary socket: it cannot withhold ACKs (`ack`), keep sending after a
 * RST or stop at a FIN it has not read (`after`), or go silent (`vanish`);
 * the raw client reads everything as it arrives, so `read` is the kernel
 * client's alone; a client program has no steps at all. */
static bool step_allowed(struct parser *ps, const struct tok *kw, enum scn_step_kind k)
{
	enum scn_client c = ps->s->client;
	if (c == SCN_CLIENT_COMMAND) {
		fail_tok(ps, kw, "no steps with \"client command\" (the program is the client)");
		return false;
	}
	if (c == SCN_CLIENT_KERNEL && (k == SCN_ACK || k == SCN_AFTER || k == SCN_VANISH ||
	                               k == SCN_DROP || k == SCN_REORDER || k == SCN_RST)) {
		fail_tok(ps, kw, "a step a kernel client can do (\"%s\" needs the raw client)",
		         scn_step_name(k));
		return false;
	}
	if (c == SCN_CLIENT_RAW && k == SCN_READ) {
		fail_tok(ps, kw, "\"client kernel\" before \"read\" (the raw client reads "
		         "everything as it arrives)");
		return false;
	}
	return true;
}

static bool statement(struct parser *ps)
{
	const struct tok *kw = next(ps);
	if (kw->kind != TOK_WORD) {
		fail_tok(ps, kw, "a statement");
		return false;
	}
	if (!ps->have_scenario && !tok_is(kw, "scenario")) {
		fail_tok(ps, kw, "\"scenario NAME\" first");
		return false;
	}
	bool top = ps->depth == 0;
	const char *block = ps->depth && ps->stack[ps->depth].kind == FR_REPEAT
	                    ? "repeat" : "parallel";

	static const char *top_only[] = { "scenario", "about", "host", "rtt",
		"connections", "timeout", "tcp_fin_timeout", "tls", "expect", "parallel",
		"client", NULL };
	for (size_t i = 0; !top && top_only[i]; i++)
		if (tok_is(kw, top_only[i])) {
			fail_tok(ps, kw, "a step inside \"%s\"", block);
			return false;
		}

	if (tok_is(kw, "scenario"))    return st_scenario(ps, kw);
	if (tok_is(kw, "about"))       return st_about_host(ps, kw, true);
	if (tok_is(kw, "host"))        return st_about_host(ps, kw, false);
	if (tok_is(kw, "rtt"))         return st_rtt(ps, kw);
	if (tok_is(kw, "connections")) return st_connections(ps, kw);
	if (tok_is(kw, "timeout"))     return st_timeout(ps, kw);
	if (tok_is(kw, "tcp_fin_timeout")) return st_fin_timeout(ps, kw);
	if (tok_is(kw, "tls"))         return st_tls(ps, kw);
	if (tok_is(kw, "client"))      return st_client(ps, kw);
	if (tok_is(kw, "expect"))      return st_expect(ps, kw);
	if (tok_is(kw, "parallel"))    return st_parallel(ps, kw);
	if (tok_is(kw, "repeat"))      return st_repeat(ps, kw);
	if (tok_is(kw, "}"))           return close_block(ps, kw);

	static const struct {
		const char *name;
		enum scn_step_kind kind;
		bool (*fn)(struct parser *, struct scn_step *);
	} steps[] = {
		{ "connect", SCN_CONNECT, st_connect },
		{ "send", SCN_SEND, st_send },
		{ "request", SCN_REQUEST, st_request },
		{ "body", SCN_BODY, st_body },
		{ "ack", SCN_ACK, st_ack },
		{ "window", SCN_WINDOW, st_window },
		{ "fin", SCN_FIN_POLICY, st_fin },
		{ "after", SCN_AFTER, st_after },
		{ "shutdown", SCN_SHUTDOWN, NULL },
		{ "abort", SCN_ABORT, NULL },
		{ "wait", SCN_WAIT, st_wait },
		{ "sleep", SCN_SLEEP, st_sleep },
		{ "hold", SCN_HOLD, st_hold },
		{ "vanish", SCN_VANISH, NULL },
		{ "read", SCN_READ, st_read },
		{ "drop", SCN_DROP, st_fault },
		{ "reorder", SCN_REORDER, st_fault },
		{ "rst", SCN_RST, st_rst },
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		if (!tok_is(kw, steps[i].name))
			continue;
		if (!step_allowed(ps, kw, steps[i].kind))
			return false;
		struct scn_step *st = list_push(ps, &ps->stack[ps->depth].steps);
		if (!st)
			return false;
		st->kind = steps[i].kind;
		st->line = ps->line;
		st->col = kw->col;
		return steps[i].fn ? steps[i].fn(ps, st) : expect_end(ps);
	}
	fail_tok(ps, kw, "a statement");
	return false;
}

/* ---- checks over a finished group ------------------------------------- */

static bool needs_connection(enum scn_step_kind k)
{
	switch (k) {
	case SCN_SEND: case SCN_REQUEST: case SCN_BODY: case SCN_SHUTDOWN:
	case SCN_ABORT: case SCN_WAIT: case SCN_HOLD: case SCN_VANISH: case SCN_RST:
		return true;
	default:
		return false;
	}
}

static const struct scn_step *first_needing(const struct scn_steps *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct scn_step *st = &l->v[i];
		if (needs_connection(st->kind))
			return st;
		if (st->kind == SCN_REPEAT) {
			const struct scn_step *r = first_needing(&st->u.repeat.body);
			if (r)
				return r;
		}
	}
	return NULL;
}

static const struct scn_step *find_kind_in(const struct scn_steps *l,
                                           enum scn_step_kind k)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].kind == k)
			return &l->v[i];
		if (l->v[i].kind == SCN_REPEAT) {
			const struct scn_step *r = find_kind_in(&l->v[i].u.repeat.body, k);
			if (r)
				return r;
		}
	}
	return NULL;
}

static void found_word(const char *word, char *out, size_t cap)
{
	snprintf(out, cap, "\"%s\"", word);
}

/* One `connect`, at the group's own level, before any step that needs the
 * connection. */
static bool check_group(struct parser *ps, const struct scn_group *g)
{
	const struct scn_steps *l = &g->steps;
	const struct scn_step *conn = NULL;
	char found[32];
	for (size_t i = 0; i < l->n; i++) {
		const struct scn_step *st = &l->v[i];
		if (st->kind == SCN_REPEAT) {
			const struct scn_step *c = find_kind_in(&st->u.repeat.body, SCN_CONNECT);
			if (c) {
				found_word("connect", found, sizeof found);
				fail_at(ps, c->line, c->col, found, "\"connect\" outside \"repeat\"");
				return false;
			}
		}
		if (st->kind == SCN_CONNECT) {
			if (conn) {
				found_word("connect", found, sizeof found);
				fail_at(ps, st->line, st->col, found,
				        "one \"connect\" per connection (the first is at line %u)",
				        conn->line);
				return false;
			}
			conn = st;
			continue;
		}
		if (conn) {
			/* `after` sets how the connection is opened */
			const struct scn_step *late = st->kind == SCN_AFTER ? st : NULL;
			if (!late && st->kind == SCN_REPEAT)
				late = find_kind_in(&st->u.repeat.body, SCN_AFTER);
			if (late) {
				found_word("after", found, sizeof found);
				fail_at(ps, late->line, late->col, found,
				        "\"after\" before \"connect\" (line %u)", conn->line);
				return false;
			}
			continue;
		}
		const struct scn_step *need = needs_connection(st->kind) ? st : NULL;
		if (!need && st->kind == SCN_REPEAT)
			need = first_needing(&st->u.repeat.body);
		if (need) {
			found_word(scn_step_name(need->kind), found, sizeof found);
			fail_at(ps, need->line, need->col, found, "\"connect\" before \"%s\"",
			        scn_step_name(need->kind));
			return false;
		}
	}
	if (!conn) {
		unsigned line = g->line ? g->line : l->v[0].line;
		fail_at(ps, line, 1, "none", "a \"connect\" step");
		return false;
	}
	return true;
}

/* ---- driver ------------------------------------------------------------ */

struct scn_scenario *scn_parse(const char *file, const char *text, size_t len,
                               char *err, size_t errlen)
{
	struct parser ps;
	memset(&ps, 0, sizeof ps);
	ps.file = file ? file : "<script>";
	ps.err = err;
	ps.errlen = errlen;
	if (err && errlen)
		err[0] = '\0';

	struct scn_scenario *s = calloc(1, sizeof *s);
	if (!s) {
		oom(&ps);
		return NULL;
	}
	ps.s = s;
	s->rtt_us = -1;
	s->timeout_us = SCN_DEFAULT_TIMEOUT_US;
	s->n_groups = 1; /* [0]: the top level */
	s->file = strdup(ps.file);
	if (!s->file) {
		oom(&ps);
		goto err;
	}
	ps.stack[0].kind = FR_TOP;
	ps.stack[0].count = 0;

	if (len > SCN_MAX_FILE) {
		fail_at(&ps, 1, 1, "a larger one", "a script of at most %u bytes", SCN_MAX_FILE);
		goto err;
	}

	size_t pos = 0;
	unsigned line = 0;
	while (pos < len) {
		const char *lp = text + pos;
		const char *nl = memchr(lp, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - lp) : len - pos;
		pos += n + (nl ? 1 : 0);
		line++;
		ps.line = line;
		if (n > SCN_MAX_LINE) {
			fail_at(&ps, line, SCN_MAX_LINE + 1, "a longer one",
			        "a line of at most %d bytes", SCN_MAX_LINE);
			goto err;
		}
		if (n && lp[n - 1] == '\r')
			n--; /* CRLF files */
		ps.lp = lp;
		ps.llen = n;
		if (!tokenize(&ps))
			goto err;
		if (ps.ntok == 0)
			continue;
		if (!statement(&ps))
			goto err;
	}

	/* end of file: where a missing piece is reported */
	unsigned eof_line = line, eof_col = 1;
	if (len == 0) {
		eof_line = 1;
	} else if (text[len - 1] == '\n') {
		eof_line = line + 1;
	} else {
		eof_col = (unsigned)ps.llen + 1;
	}
	if (!ps.have_scenario) {
		fail_at(&ps, eof_line, eof_col, "end of file", "\"scenario NAME\"");
		goto err;
	}
	if (ps.depth > 0) {
		struct frame *f = &ps.stack[ps.depth];
		fail_at(&ps, eof_line, eof_col, "end of file",
		        "\"}\" to close the \"%s\" opened at line %u",
		        f->kind == FR_REPEAT ? "repeat" : "parallel", f->line);
		goto err;
	}
	/* the top level becomes group 0 */
	struct scn_group *g0 = &s->groups[0];
	g0->line = 0;
	g0->steps.v = ps.stack[0].steps.v;
	g0->steps.n = ps.stack[0].steps.n;
	ps.stack[0].steps = (struct list){ 0 };
	if (g0->steps.n)
		g0->connections = ps.have_conns ? ps.stack[0].count : 1;
	g0->stagger_us = ps.stack[0].stagger_us;
	if (ps.have_conns && !g0->steps.n) {
		fail_at(&ps, ps.conns_line, ps.conns_col, "none",
		        "steps at the top level for \"connections\"");
		goto err;
	}
	uint64_t total = 0;
	for (size_t i = 0; i < s->n_groups; i++) {
		if (s->groups[i].steps.n && !check_group(&ps, &s->groups[i]))
			goto err;
		total += s->groups[i].connections;
	}
	for (size_t i = 0; i < s->n_expects; i++) {
		const struct scn_expect *x = &s->expects[i];
		bool app = x->subject == SCN_X_APP_RESPONSE || x->subject == SCN_X_APP_ERROR;
		bool prog = x->subject == SCN_X_CLIENT_EXIT || x->subject == SCN_X_CLIENT_OUTPUT;
		if (app && s->client != SCN_CLIENT_KERNEL) {
			fail_at(&ps, x->line, x->subject_col, "\"app\"",
			        "\"client kernel\" for \"expect app\" (only a kernel client has an application)");
			goto err;
		}
		if (prog && s->client != SCN_CLIENT_COMMAND) {
			fail_at(&ps, x->line, x->subject_col,
			        x->subject == SCN_X_CLIENT_EXIT ? "\"exit\"" : "\"output\"",
			        "\"client command\" for \"expect client %s\"",
			        x->subject == SCN_X_CLIENT_EXIT ? "exit" : "output");
			goto err;
		}
	}
	if (s->client == SCN_CLIENT_COMMAND) {
		s->total_connections = 0;
		return s;
	}
	if (total == 0) {
		fail_at(&ps, eof_line, eof_col, "end of file",
		        "at least one step (connect, send, ...)");
		goto err;
	}
	if (total > SCN_MAX_CONNECTIONS) {
		fail_at(&ps, eof_line, eof_col, "end of file",
		        "at most %d connections in all", SCN_MAX_CONNECTIONS);
		goto err;
	}
	s->total_connections = (uint32_t)total;
	return s;

err:
	for (size_t i = 0; i <= ps.depth && i < sizeof ps.stack / sizeof ps.stack[0]; i++) {
		steps_free(ps.stack[i].steps.v, ps.stack[i].steps.n);
		ps.stack[i].steps = (struct list){ 0 };
	}
	scn_free(s);
	return NULL;
}

struct scn_scenario *scn_load(const char *path, char *err, size_t errlen)
{
	struct scn_scenario *s = NULL;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: %s", path, strerror(EISDIR));
		goto out;
	}
	/* read up to one byte past the cap to tell "too large" */
	buf = malloc(SCN_MAX_FILE + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	size_t n = 0;
	while (n < SCN_MAX_FILE + 1) {
		ssize_t r = read(fd, buf + n, SCN_MAX_FILE + 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	s = scn_parse(path, buf, n, err, errlen);
out:
	free(buf);
	buf = NULL;
	close(fd);
	return s;
}

/* ---- helpers ----------------------------------------------------------- */

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
	PUT(" HTTP/1.1\r\nHost: ", 17);
	PUT(host, strlen(host));
	PUT("\r\n", 2);
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

int scn_parse_duration(const char *text, int64_t *us)
{
	uint64_t v;
	if (!text || parse_units(text, strlen(text), time_units, &v) != NUM_OK ||
	    v > (uint64_t)SCN_MAX_DURATION_US)
		return -1;
	*us = (int64_t)v;
	return 0;
}

const char *scn_kstate_name(enum scn_kstate k)
{
	static const char *n[SCN_NKSTATES] = {
		"ESTABLISHED", "SYN_RECV", "FIN_WAIT_1", "FIN_WAIT_2",
		"TIME_WAIT", "CLOSE_WAIT", "LAST_ACK", "CLOSING" };
	return (unsigned)k < SCN_NKSTATES ? n[k] : "?";
}

const char *scn_op_name(enum scn_op op)
{
	static const char *n[] = { "==", "!=", "<", "<=", ">", ">=" };
	return (unsigned)op < 6 ? n[op] : "?";
}

const char *scn_step_name(enum scn_step_kind k)
{
	static const char *n[] = { "connect", "send", "request", "body", "ack",
		"window", "fin", "after", "shutdown", "abort", "wait", "sleep",
		"hold", "repeat", "vanish", "read", "drop", "reorder", "rst" };
	return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "?";
}

const char *scn_closer_name(int v)
{
	static const char *n[] = { "none", "client", "server", "simultaneous" };
	return v >= 0 && (unsigned)v < sizeof n / sizeof n[0] ? n[v] : "?";
}

const char *scn_kind_name(int v)
{
	static const char *n[] = { "open", "graceful", "half_open", "fin_then_rst",
		"abort", "reset" };
	return v >= 0 && (unsigned)v < sizeof n / sizeof n[0] ? n[v] : "?";
}

const char *scn_end_name(int v)
{
	static const char *n[] = { "UNKNOWN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED",
		"FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "TIME_WAIT", "CLOSE_WAIT",
		"LAST_ACK", "CLOSED" };
	return v >= 0 && (unsigned)v < sizeof n / sizeof n[0] ? n[v] : "?";
}

const char *scn_fw2_ending_name(enum scn_fw2_ending e)
{
	static const char *n[SCN_NFW2_ENDINGS] = { "client_fin", "client_rst",
		"server_rst", "capture_end", "kernel_timeout", "lab_cleanup" };
	return (unsigned)e < SCN_NFW2_ENDINGS ? n[e] : "?";
}

const char *scn_impact_name(enum scn_impact i)
{
	static const char *n[SCN_NIMPACTS] = { "reset_before_ack", "reset_after_ack",
		"no_reset" };
	return (unsigned)i < SCN_NIMPACTS ? n[i] : "?";
}

bool scn_compare(int64_t a, enum scn_op op, int64_t v)
{
	switch (op) {
	case SCN_OP_EQ: return a == v;
	case SCN_OP_NE: return a != v;
	case SCN_OP_LT: return a < v;
	case SCN_OP_LE: return a <= v;
	case SCN_OP_GT: return a > v;
	case SCN_OP_GE: return a >= v;
	}
	return false;
}

const char *scn_read_policy_name(enum scn_read_policy r)
{
	static const char *n[] = { "concurrently", "after send", "never" };
	return (unsigned)r < sizeof n / sizeof n[0] ? n[r] : "?";
}

const char *scn_client_name(enum scn_client c)
{
	static const char *n[] = { "raw", "kernel", "command" };
	return (unsigned)c < sizeof n / sizeof n[0] ? n[c] : "?";
}

/* glibc's own names (strerrorname_np, glibc 2.32), so every errno Linux
 * can return is known without a table of our own. */
int scn_errno_by_name(const char *name, size_t len)
{
	if (len < 2 || len > 32 || name[0] != 'E')
		return 0;
	for (int e = 1; e < 512; e++) {
		const char *n = strerrorname_np(e);
		if (n && strlen(n) == len && memcmp(n, name, len) == 0)
			return e;
	}
	return 0;
}

struct scn_scenario *scn_client_command(const char *command, char *err, size_t errlen)
{
	size_t n = command ? strlen(command) : 0;
	if (n == 0 || n > SCN_MAX_COMMAND) {
		snprintf(err, errlen, "--client: expected a command of 1 to %d bytes",
		         SCN_MAX_COMMAND);
		return NULL;
	}
	/* the command as a script string: every byte escaped as \xHH, so
	 * nothing in it can end the string or the line */
	size_t cap = 64 + 4 * n;
	char *text = malloc(cap);
	if (!text) {
		snprintf(err, errlen, "--client: out of memory");
		return NULL;
	}
	size_t len = (size_t)snprintf(text, cap, "scenario client\nclient command \"");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, "\\x%02x", (unsigned char)command[i]);
	len += (size_t)snprintf(text + len, cap - len, "\"\n");
	struct scn_scenario *s = scn_parse("--client", text, len, err, errlen);
	free(text);
	return s;
}
