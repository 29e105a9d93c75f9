/*
 * textout.c - colour, wrapping, a bounded string builder, and the two doors
 * that escape strings from outside (the argument formatter and the stream
 * filter; see textout.h) for terminal output.
 */
#include "reports/textout.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/safetext.h"

/* ---- the stream filter ---------------------------------------------------- */

struct filt {
	FILE *raw;
	unsigned char pend[4];  /* a UTF-8 character cut by the end of a write */
	size_t npend;
};

/* Escape n bytes to the raw stream, '\n' kept. */
static void filt_put(struct filt *fl, const char *s, size_t n)
{
	char buf[1024];
	size_t i = 0;

	/* in slices of at most 128 bytes, which escape to at most 512 (4 per
	 * byte at worst); a slice never ends inside a character */
	while (i < n) {
		size_t take = n - i < 128 ? n - i : 128, k = take;
		if (take < n - i) {
			while (k > take - 4 && ((unsigned char)s[i + k] & 0xC0) == 0x80)
				k--;
			if (((unsigned char)s[i + k] & 0xC0) != 0x80)
				take = k;
		}
		size_t len = safe_escape(buf, sizeof buf, s + i, take, true);
		fwrite(buf, 1, len, fl->raw);
		i += take;
	}
}

/* Could s[0..n) (n < 4) be the start of a valid character still cut? */
static bool utf8_prefix(const unsigned char *s, size_t n)
{
	size_t need;

	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		need = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		need = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		need = 4;
	else
		return false;
	if (n >= need)
		return false;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return false;
	return true;
}

static ssize_t filt_write(void *cookie, const char *buf, size_t size)
{
	struct filt *fl = cookie;
	size_t i = 0, tail;

	/* finish a character the last write cut: continuation bytes join it;
	 * anything else shows it was cut for good (escaped), and is read anew */
	while (fl->npend > 0 && i < size) {
		unsigned char c = (unsigned char)buf[i];
		if ((c & 0xC0) == 0x80) {
			fl->pend[fl->npend++] = c;
			i++;
			if (utf8_prefix(fl->pend, fl->npend))
				continue;       /* still cut */
		}
		filt_put(fl, (const char *)fl->pend, fl->npend);
		fl->npend = 0;
	}
	/* keep a cut character at the end for the next write */
	for (tail = 1; tail < 4 && tail <= size - i; tail++)
		if (utf8_prefix((const unsigned char *)buf + size - tail, tail))
			break;
	if (tail < 4 && tail <= size - i) {
		filt_put(fl, buf + i, size - i - tail);
		memcpy(fl->pend, buf + size - tail, tail);
		fl->npend = tail;
	} else {
		filt_put(fl, buf + i, size - i);
	}
	return ferror(fl->raw) ? -1 : (ssize_t)size;
}

/* A cut character that never got its end: escaped, byte by byte. */
static void filt_drain(struct filt *fl)
{
	if (fl->npend) {
		filt_put(fl, (const char *)fl->pend, fl->npend);
		fl->npend = 0;
	}
}

static int filt_close(void *cookie)
{
	struct filt *fl = cookie;
	filt_drain(fl);
	free(fl);
	return 0;
}

/* ---- the argument formatter ----------------------------------------------- */

struct sink {
	FILE *f;                /* either a stream */
	struct sbuf *b;         /* or a bounded buffer */
	int n;                  /* bytes written */
	bool err;
};

static void sink_put(struct sink *k, const char *s, size_t n)
{
	if (k->f) {
		if (fwrite(s, 1, n, k->f) != n)
			k->err = true;
	} else {
		struct sbuf *b = k->b;
		size_t room = sizeof b->s - 1 - b->n;
		if (n > room)
			n = room;
		memcpy(b->s + b->n, s, n);
		b->n += n;
		b->s[b->n] = '\0';
	}
	k->n += (int)n;
}

/* One conversion of the tool's own format, built from a checked format
 * string (the printf attribute of every entry point): not a literal. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void sink_conv(struct sink *k, const char *spec, ...)
{
	char small[256], *big = NULL;
	va_list ap, ap2;
	int r;

	va_start(ap, spec);
	va_copy(ap2, ap);
	r = vsnprintf(small, sizeof small, spec, ap);
	if (r >= (int)sizeof small && (big = malloc((size_t)r + 1)))
		vsnprintf(big, (size_t)r + 1, spec, ap2);
	va_end(ap2);
	va_end(ap);
	if (r < 0) {
		k->err = true;
		return;
	}
	if (r >= (int)sizeof small && !big) {
		k->err = true;
		return;
	}
	sink_put(k, big ? big : small, (size_t)r);
	free(big);
}
#pragma GCC diagnostic pop

/* A %s or %c argument: escaped whole, then width and precision applied to
 * the escaped text (bytes, as printf counts them). */
static void sink_str(struct sink *k, const char *spec, const char *s, size_t n)
{
	char small[512], *esc = small;
	size_t need = safe_escape(small, sizeof small, s, n, false);

	if (need >= sizeof small) {
		if (!(esc = malloc(need + 1))) {
			k->err = true;
			return;
		}
		safe_escape(esc, need + 1, s, n, false);
	}
	sink_conv(k, spec, esc);
	if (esc != small)
		free(esc);
}

/*
 * Walk the format: text as it is, each conversion through sink_conv() with
 * the argument of its type, %s and %c through sink_str(). Handles what
 * C11 printf accepts except %n (never used here) and wide characters.
 */
static void vformat(struct sink *k, const char *fmt, va_list ap)
{
	const char *p = fmt;

	while (*p) {
		char spec[64];
		size_t sl = 0;
		const char *q;
		int lmod = 0;   /* 0 none, 'H' hh, 'h', 'l', 'L' ll, 'j', 'z', 't', 'D' long double */

		q = strchr(p, '%');
		if (!q) {
			sink_put(k, p, strlen(p));
			break;
		}
		sink_put(k, p, (size_t)(q - p));
		p = q + 1;
		if (*p == '%') {
			sink_put(k, "%", 1);
			p++;
			continue;
		}
		spec[sl++] = '%';
		while (*p && strchr("-+ #0'", *p) && sl < 16)
			spec[sl++] = *p++;
		if (*p == '*') {
			sl += (size_t)snprintf(spec + sl, sizeof spec - sl, "%d", va_arg(ap, int));
			p++;
		} else {
			while (*p >= '0' && *p <= '9' && sl < 32)
				spec[sl++] = *p++;
		}
		if (*p == '.') {
			p++;
			if (*p == '*') {
				int prec = va_arg(ap, int);
				if (prec >= 0)
					sl += (size_t)snprintf(spec + sl, sizeof spec - sl, ".%d", prec);
				p++;
			} else {
				spec[sl++] = '.';
				while (*p >= '0' && *p <= '9' && sl < 48)
					spec[sl++] = *p++;
			}
		}
		if (p[0] == 'h' && p[1] == 'h')
			lmod = 'H', p += 2;
		else if (p[0] == 'l' && p[1] == 'l')
			lmod = 'L', p += 2;
		else if (*p && strchr("hljztL", *p))
			lmod = *p == 'L' ? 'D' : *p, p++;
		if (!*p)
			break;
		char conv = *p++;
		/* the length modifier as written, then the conversion */
		switch (lmod) {
		case 'H': spec[sl++] = 'h'; spec[sl++] = 'h'; break;
		case 'L': spec[sl++] = 'l'; spec[sl++] = 'l'; break;
		case 'D': spec[sl++] = 'L'; break;
		case 0: break;
		default: spec[sl++] = (char)lmod; break;
		}
		spec[sl++] = conv;
		spec[sl] = '\0';
		switch (conv) {
		case 'd': case 'i':
			switch (lmod) {
			case 'l': sink_conv(k, spec, va_arg(ap, long)); break;
			case 'L': sink_conv(k, spec, va_arg(ap, long long)); break;
			case 'j': sink_conv(k, spec, va_arg(ap, intmax_t)); break;
			case 'z': sink_conv(k, spec, va_arg(ap, ssize_t)); break;
			case 't': sink_conv(k, spec, va_arg(ap, ptrdiff_t)); break;
			default: sink_conv(k, spec, va_arg(ap, int)); break;
			}
			break;
		case 'u': case 'o': case 'x': case 'X':
			switch (lmod) {
			case 'l': sink_conv(k, spec, va_arg(ap, unsigned long)); break;
			case 'L': sink_conv(k, spec, va_arg(ap, unsigned long long)); break;
			case 'j': sink_conv(k, spec, va_arg(ap, uintmax_t)); break;
			case 'z': sink_conv(k, spec, va_arg(ap, size_t)); break;
			case 't': sink_conv(k, spec, va_arg(ap, ptrdiff_t)); break;
			default: sink_conv(k, spec, va_arg(ap, unsigned)); break;
			}
			break;
		case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A':
			if (lmod == 'D')
				sink_conv(k, spec, va_arg(ap, long double));
			else
				sink_conv(k, spec, va_arg(ap, double));
			break;
		case 'p':
			sink_conv(k, spec, va_arg(ap, void *));
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			spec[sl - 1] = 's';
			sink_str(k, spec, &c, 1);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			sink_str(k, spec, s, strlen(s));
			break;
		}
		default:
			/* %n or an unknown conversion: nothing the tool prints */
			k->err = true;
			return;
		}
	}
}

int tout_vfprintf(FILE *f, const char *fmt, va_list ap)
{
	struct sink k = { .f = f };
	vformat(&k, fmt, ap);
	return k.err ? -1 : k.n;
}

int tout_fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tout_vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

/* ---- colour, paragraphs --------------------------------------------------- */

int tout_parse_color(const char *s, enum tout_color_mode *mode, char *err, size_t errlen)
{
	if (!s || !strcmp(s, "always"))
		*mode = TOUT_ALWAYS;
	else if (!strcmp(s, "auto"))
		*mode = TOUT_AUTO;
	else if (!strcmp(s, "never"))
		*mode = TOUT_NEVER;
	else {
		snprintf(err, errlen, "--color: expected auto, always or never, found '%s'", s);
		return -1;
	}
	return 0;
}

int tout_init(struct tout *t, FILE *f, enum tout_color_mode mode)
{
	static const cookie_io_functions_t io = { .write = filt_write, .close = filt_close };
	struct filt *fl = calloc(1, sizeof *fl);

	t->raw = f;
	t->f = NULL;
	t->fl = fl;
	t->width = 78;
	if (fl) {
		fl->raw = f;
		if (!(t->f = fopencookie(fl, "w", io))) {
			free(fl);
			t->fl = NULL;
		}
		else
			setvbuf(t->f, NULL, _IONBF, 0);
	}
	switch (mode) {
	case TOUT_ALWAYS:
		t->color = true;
		break;
	case TOUT_NEVER:
		t->color = false;
		break;
	default:
		/* https://no-color.org: a set, non-empty NO_COLOR turns it off */
		t->color = isatty(fileno(f)) == 1 &&
		           !(getenv("NO_COLOR") && getenv("NO_COLOR")[0]);
		break;
	}
	return t->f ? 0 : -1;
}

int tout_close(struct tout *t)
{
	if (t->f)
		fclose(t->f);   /* frees t->fl */
	t->f = NULL;
	t->fl = NULL;
	return t->raw && ferror(t->raw) ? EOF : 0;
}

void tout_style(const struct tout *t, enum tout_style s)
{
	static const char *const codes[] = {
		[TOUT_PLAIN] = "\033[0m", [TOUT_BOLD] = "\033[1m", [TOUT_DIM] = "\033[2m",
		[TOUT_RED] = "\033[31m", [TOUT_GREEN] = "\033[32m", [TOUT_YELLOW] = "\033[33m",
		[TOUT_MAGENTA] = "\033[35m", [TOUT_CYAN] = "\033[36m",
		[TOUT_BOLD_RED] = "\033[1;31m", [TOUT_BOLD_GREEN] = "\033[1;32m",
	};

	/* around the filter, which would show the ESC as \x1b; a character
	 * the filter holds back is cut by the colour change: escaped first */
	if (t->color && (size_t)s < sizeof codes / sizeof codes[0]) {
		if (t->f) {
			fflush(t->f);
			filt_drain(t->fl);
		}
		fputs(codes[s], t->raw);
	}
}

void tout_printf(const struct tout *t, enum tout_style s, const char *fmt, ...)
{
	va_list ap;

	if (s != TOUT_PLAIN)
		tout_style(t, s);
	va_start(ap, fmt);
	tout_vfprintf(t->f, fmt, ap);
	va_end(ap);
	if (s != TOUT_PLAIN)
		tout_style(t, TOUT_PLAIN);
}

void tout_para(const struct tout *t, const char *prefix, enum tout_style prefix_style,
               enum tout_style text_style, const char *text)
{
	int avail = t->width - (int)strlen(prefix);
	const char *p = text;

	if (avail < 20)
		avail = 20;
	while (*p) {
		int col = 0;
		tout_printf(t, prefix_style, "%s", prefix);
		tout_style(t, text_style);
		/* one output line: whole words while they fit */
		while (*p && *p != '\n') {
			const char *w = p;
			size_t wl;
			while (*w == ' ')
				w++;
			wl = strcspn(w, " \n");
			if (col > 0 && col + 1 + (int)wl > avail)
				break;
			if (col > 0)
				fputc(' ', t->f);
			fwrite(w, 1, wl, t->f);
			col += (col > 0) + (int)wl;
			p = w + wl;
			while (*p == ' ')
				p++;
		}
		if (*p == '\n')
			p++;
		if (text_style != TOUT_PLAIN)
			tout_style(t, TOUT_PLAIN);
		fputc('\n', t->f);
	}
}

void sb_init(struct sbuf *b)
{
	b->s[0] = '\0';
	b->n = 0;
}

void sb_add(struct sbuf *b, const char *fmt, ...)
{
	struct sink k = { .b = b };
	va_list ap;

	if (b->n + 1 >= sizeof b->s)
		return;
	va_start(ap, fmt);
	vformat(&k, fmt, ap);
	va_end(ap);
}
