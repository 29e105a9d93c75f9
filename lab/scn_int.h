/*
 * scn_int.h - what the rooms of the scenario parser share, and nothing
 * the runner needs: the parser's state, the tokens of one line, and one
 * function per statement. lab/scenario.h is the public API.
 *
 *   scn_lex.c      messages, tokens, numbers with units, strings
 *   scn_options.c  scenario, about, host, rtt, client, timeouts, tls
 *   scn_blocks.c   connections, parallel, repeat, }
 *   scn_steps.c    connect ... rst (the steps)
 *   scn_expect.c   expect
 *   scn_check.c    checks over the whole script
 *   scenario.c     the tree, one line's dispatch, scn_parse/scn_load
 *   scn_names.c    the words for each enum (public, scenario.h)
 *
 * Every function that takes a parser reports its error through
 * scn_fail_at() or scn_fail_tok() and returns false (or NULL); the first
 * error wins.
 */
#ifndef LL_LAB_SCN_INT_H
#define LL_LAB_SCN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/scenario.h"

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

/* ---- scn_lex.c: messages ---- */

/* expected <fmt>, found <token t> (t NULL: end of line). */
void scn_fail_tok(struct parser *ps, const struct tok *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* expected <fmt>, found <found> at an explicit place. */
void scn_fail_at(struct parser *ps, unsigned line, unsigned col,
                 const char *found, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void scn_oom(struct parser *ps);

/* ---- scn_lex.c: tokens ---- */

bool scn_tokenize(struct parser *ps);
const struct tok *scn_peek(struct parser *ps);
const struct tok *scn_next(struct parser *ps);
bool scn_tok_is(const struct tok *t, const char *word);
bool scn_expect_end(struct parser *ps);

/* ---- scn_lex.c: values (t NULL: end of line, reported) ---- */

bool scn_looks_like_duration(const struct tok *t);
bool scn_get_duration(struct parser *ps, const struct tok *t, int64_t min_us,
                      int64_t *out);
bool scn_get_size(struct parser *ps, const struct tok *t, uint64_t min,
                  uint64_t max, const char *what, uint64_t *out);
bool scn_get_rate(struct parser *ps, const struct tok *t, uint64_t *out);
bool scn_get_uint(struct parser *ps, const struct tok *t, uint64_t min,
                  uint64_t max, const char *what, uint64_t *out);
bool scn_get_strings(struct parser *ps, struct scn_bytes *out);
char *scn_dup_bytes(const struct scn_bytes *b);

/* ---- scenario.c: the tree ---- */

void scn_steps_free(struct scn_step *v, size_t n);
struct scn_step *scn_list_push(struct parser *ps, struct list *l);

/* ---- scn_options.c ---- */

bool scn_once(struct parser *ps, const struct tok *kw, bool *flag);
bool scn_st_scenario(struct parser *ps, const struct tok *kw);
bool scn_st_about_host(struct parser *ps, const struct tok *kw, bool about);
bool scn_st_rtt(struct parser *ps, const struct tok *kw);
bool scn_st_client(struct parser *ps, const struct tok *kw);
bool scn_st_timeout(struct parser *ps, const struct tok *kw);
bool scn_st_fin_timeout(struct parser *ps, const struct tok *kw);
bool scn_st_tls(struct parser *ps, const struct tok *kw);

/* ---- scn_blocks.c ---- */

bool scn_st_connections(struct parser *ps, const struct tok *kw);
bool scn_st_parallel(struct parser *ps, const struct tok *kw);
bool scn_st_repeat(struct parser *ps, const struct tok *kw);
bool scn_close_block(struct parser *ps, const struct tok *kw);

/* ---- scn_steps.c: one step, already pushed (kind, line, col set) ---- */

bool scn_st_connect(struct parser *ps, struct scn_step *st);
bool scn_st_send(struct parser *ps, struct scn_step *st);
bool scn_st_request(struct parser *ps, struct scn_step *st);
bool scn_st_body(struct parser *ps, struct scn_step *st);
bool scn_st_ack(struct parser *ps, struct scn_step *st);
bool scn_st_window(struct parser *ps, struct scn_step *st);
bool scn_st_fin(struct parser *ps, struct scn_step *st);
bool scn_st_after(struct parser *ps, struct scn_step *st);
bool scn_st_wait(struct parser *ps, struct scn_step *st);
bool scn_st_sleep(struct parser *ps, struct scn_step *st);
bool scn_st_hold(struct parser *ps, struct scn_step *st);
bool scn_st_read(struct parser *ps, struct scn_step *st);
bool scn_st_fault(struct parser *ps, struct scn_step *st);
bool scn_st_rst(struct parser *ps, struct scn_step *st);

/* ---- scn_expect.c ---- */

bool scn_st_expect(struct parser *ps, const struct tok *kw);

/* ---- scn_check.c ---- */

/* After the last line: false (error reported) unless the script is whole. */
bool scn_check_script(struct parser *ps, unsigned eof_line, unsigned eof_col);

#endif
