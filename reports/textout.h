/*
 * textout.h - terminal text for the people-facing commands (explain, diff,
 * audit, run) and every error message: optional ANSI colour, word-wrapped
 * paragraphs, a bounded string builder for composing sentences from report
 * values, and the escaping that keeps strings from outside harmless.
 *
 * Colour is decided once by the CLI (--color=auto|always|never; auto means
 * "stdout is a terminal and NO_COLOR is unset") and carried in struct tout;
 * nothing here is global.
 *
 * Escaping (the rule is in reports/safetext.h) happens at two doors, so that
 * no byte from a report, a file name, a capture or a scenario reaches the
 * terminal raw:
 *   - every %s and %c argument of tout_printf(), tout_fprintf(),
 *     tout_vfprintf() and sb_add() is escaped whole, newlines included
 *     (a file name cannot start a line of its own);
 *   - struct tout's stream f is a filter over the real stream: whatever is
 *     written to it, through any stdio call, is escaped except '\n'. The
 *     tool's own colours go around the filter (tout_style), so they are the
 *     only escape sequences that reach the terminal.
 * Error messages are printed with tout_fprintf(stderr, ...).
 */
#ifndef LL_REPORTS_TEXTOUT_H
#define LL_REPORTS_TEXTOUT_H

#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct filt;

enum tout_color_mode { TOUT_AUTO = 0, TOUT_ALWAYS, TOUT_NEVER };

/* ANSI styles; TOUT_PLAIN resets. */
enum tout_style {
	TOUT_PLAIN = 0, TOUT_BOLD, TOUT_DIM, TOUT_RED, TOUT_GREEN, TOUT_YELLOW,
	TOUT_MAGENTA, TOUT_CYAN, TOUT_BOLD_RED, TOUT_BOLD_GREEN,
};

struct tout {
	FILE *f;                /* the escaping filter: write here */
	FILE *raw;              /* the stream under it (colour codes only) */
	struct filt *fl;        /* the filter's state (textout.c) */
	bool color;
	int width;              /* wrap column for paragraphs */
};

/*
 * Parse a --color argument value ("auto", "always", "never"; NULL, a bare
 * --color, means always). Returns 0 and sets *mode, or -1 with err set to
 * "--color: expected auto, always or never, found 'X'".
 */
int tout_parse_color(const char *s, enum tout_color_mode *mode, char *err, size_t errlen);

/*
 * Set up t for f: colour per mode (auto: isatty(fileno(f)) && !NO_COLOR),
 * t->f an unbuffered escaping filter over f (so writes to f itself, made
 * in between, keep their order). Returns 0, or -1 when out of memory (t->f
 * is then NULL). tout_close() ends it.
 */
int tout_init(struct tout *t, FILE *f, enum tout_color_mode mode);

/* Close the filter (not the stream under it; a zeroed struct tout is left
 * as it is). Returns 0, or EOF when the
 * stream under it has seen a write error (its errno is kept). */
int tout_close(struct tout *t);

/* Switch to a style (no-op without colour). */
void tout_style(const struct tout *t, enum tout_style s);

/* printf-like output in a style, reset afterwards; %s and %c escaped. */
void tout_printf(const struct tout *t, enum tout_style s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * fprintf() to any stream with every %s and %c argument escaped by the
 * terminal rule (newlines too); the format itself is the tool's own and is
 * written as it is. Returns the bytes written or -1, as fprintf().
 */
int tout_fprintf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tout_vfprintf(FILE *f, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/*
 * Print text as a paragraph wrapped at t->width; every line starts with
 * prefix (printed in prefix_style), the text in text_style. Words longer
 * than a line are printed whole. Embedded '\n' start a new line.
 */
void tout_para(const struct tout *t, const char *prefix, enum tout_style prefix_style,
               enum tout_style text_style, const char *text);

/* A bounded string builder: appends are cut at the capacity, never overrun;
 * sb_add() escapes its %s and %c arguments as tout_printf() does. */
struct sbuf {
	char s[2048];
	size_t n;
};
void sb_init(struct sbuf *b);
void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
