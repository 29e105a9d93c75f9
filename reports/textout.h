/*
 * textout.h - terminal text for the people-facing commands (explain, diff,
 * audit): optional ANSI colour, word-wrapped paragraphs, and a bounded
 * string builder for composing sentences from report values.
 *
 * Colour is decided once by the CLI (--color=auto|always|never; auto means
 * "stdout is a terminal and NO_COLOR is unset") and carried in struct tout;
 * nothing here is global.
 */
#ifndef LL_REPORTS_TEXTOUT_H
#define LL_REPORTS_TEXTOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum tout_color_mode { TOUT_AUTO = 0, TOUT_ALWAYS, TOUT_NEVER };

/* ANSI styles; TOUT_PLAIN resets. */
enum tout_style {
	TOUT_PLAIN = 0, TOUT_BOLD, TOUT_DIM, TOUT_RED, TOUT_GREEN, TOUT_YELLOW,
	TOUT_MAGENTA, TOUT_CYAN, TOUT_BOLD_RED, TOUT_BOLD_GREEN,
};

struct tout {
	FILE *f;
	bool color;
	int width;              /* wrap column for paragraphs */
};

/*
 * Parse a --color argument value ("auto", "always", "never"; NULL, a bare
 * --color, means always). Returns 0 and sets *mode, or -1 with err set to
 * "--color: expected auto, always or never, found 'X'".
 */
int tout_parse_color(const char *s, enum tout_color_mode *mode, char *err, size_t errlen);

/* Set up t for f: colour per mode (auto: isatty(fileno(f)) && !NO_COLOR). */
void tout_init(struct tout *t, FILE *f, enum tout_color_mode mode);

/* Switch to a style (no-op without colour). */
void tout_style(const struct tout *t, enum tout_style s);

/* printf-like output in a style, reset afterwards. */
void tout_printf(const struct tout *t, enum tout_style s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Print text as a paragraph wrapped at t->width; every line starts with
 * prefix (printed in prefix_style), the text in text_style. Words longer
 * than a line are printed whole. Embedded '\n' start a new line.
 */
void tout_para(const struct tout *t, const char *prefix, enum tout_style prefix_style,
               enum tout_style text_style, const char *text);

/* A bounded string builder: appends are cut at the capacity, never overrun. */
struct sbuf {
	char s[2048];
	size_t n;
};
void sb_init(struct sbuf *b);
void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
