/*
 * textout.c - colour, wrapping and a bounded string builder for terminal
 * output.
 */
#include "reports/textout.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

void tout_init(struct tout *t, FILE *f, enum tout_color_mode mode)
{
	t->f = f;
	t->width = 78;
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
}

void tout_style(const struct tout *t, enum tout_style s)
{
	static const char *const codes[] = {
		[TOUT_PLAIN] = "\033[0m", [TOUT_BOLD] = "\033[1m", [TOUT_DIM] = "\033[2m",
		[TOUT_RED] = "\033[31m", [TOUT_GREEN] = "\033[32m", [TOUT_YELLOW] = "\033[33m",
		[TOUT_MAGENTA] = "\033[35m", [TOUT_CYAN] = "\033[36m",
		[TOUT_BOLD_RED] = "\033[1;31m", [TOUT_BOLD_GREEN] = "\033[1;32m",
	};

	if (t->color && (size_t)s < sizeof codes / sizeof codes[0])
		fputs(codes[s], t->f);
}

void tout_printf(const struct tout *t, enum tout_style s, const char *fmt, ...)
{
	va_list ap;

	if (s != TOUT_PLAIN)
		tout_style(t, s);
	va_start(ap, fmt);
	vfprintf(t->f, fmt, ap);
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
	va_list ap;
	int r;

	if (b->n + 1 >= sizeof b->s)
		return;
	va_start(ap, fmt);
	r = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	b->n += (size_t)r;
	if (b->n >= sizeof b->s)
		b->n = sizeof b->s - 1;
}
