/*
 * scenario.c - the scenario parser's driver (docs/scenario-language.md):
 * scn_parse() cuts the script into lines, has each tokenized (scn_lex.c)
 * and dispatched to one function per statement (scn_options.c,
 * scn_blocks.c, scn_steps.c, scn_expect.c), then checks the whole
 * (scn_check.c); scn_load() reads a file for it, scn_client_command()
 * writes one for `--client`. Also here: the tree the parse builds and
 * scn_free().
 *
 * Every error goes through scn_fail_at()/scn_fail_tok() (scn_lex.c),
 * which write "FILE:LINE:COL: expected X, found Y" once and make the parse
 * unwind; the first error wins.
 */
#include "lab/scn_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the tree ---------------------------------------------------------- */

void scn_steps_free(struct scn_step *v, size_t n)
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
			scn_steps_free(st->u.repeat.body.v, st->u.repeat.body.n);
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
		scn_steps_free(s->groups[g].steps.v, s->groups[g].steps.n);
	free(s->expects);
	free(s->file);
	free(s->about);
	free(s->host);
	free(s->client_command);
	free(s);
}

struct scn_step *scn_list_push(struct parser *ps, struct list *l)
{
	if (ps->total_steps >= SCN_MAX_STEPS) {
		scn_fail_at(ps, ps->line, 1, "more", "at most %d steps", SCN_MAX_STEPS);
		return NULL;
	}
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct scn_step *nv = realloc(l->v, nc * sizeof *nv);
		if (!nv) {
			scn_oom(ps);
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
		scn_fail_tok(ps, kw, "no steps with \"client command\" (the program is the client)");
		return false;
	}
	if (c == SCN_CLIENT_KERNEL && (k == SCN_ACK || k == SCN_AFTER || k == SCN_VANISH ||
	                               k == SCN_DROP || k == SCN_REORDER || k == SCN_RST)) {
		scn_fail_tok(ps, kw, "a step a kernel client can do (\"%s\" needs the raw client)",
		             scn_step_name(k));
		return false;
	}
	if (c == SCN_CLIENT_RAW && k == SCN_READ) {
		scn_fail_tok(ps, kw, "\"client kernel\" before \"read\" (the raw client reads "
		             "everything as it arrives)");
		return false;
	}
	return true;
}

static bool statement(struct parser *ps)
{
	const struct tok *kw = scn_next(ps);
	if (kw->kind != TOK_WORD) {
		scn_fail_tok(ps, kw, "a statement");
		return false;
	}
	if (!ps->have_scenario && !scn_tok_is(kw, "scenario")) {
		scn_fail_tok(ps, kw, "\"scenario NAME\" first");
		return false;
	}
	bool top = ps->depth == 0;
	const char *block = ps->depth && ps->stack[ps->depth].kind == FR_REPEAT
	                    ? "repeat" : "parallel";

	static const char *top_only[] = { "scenario", "about", "host", "rtt",
		"connections", "timeout", "tcp_fin_timeout", "tls", "expect", "parallel",
		"client", NULL };
	for (size_t i = 0; !top && top_only[i]; i++)
		if (scn_tok_is(kw, top_only[i])) {
			scn_fail_tok(ps, kw, "a step inside \"%s\"", block);
			return false;
		}

	if (scn_tok_is(kw, "scenario"))    return scn_st_scenario(ps, kw);
	if (scn_tok_is(kw, "about"))       return scn_st_about_host(ps, kw, true);
	if (scn_tok_is(kw, "host"))        return scn_st_about_host(ps, kw, false);
	if (scn_tok_is(kw, "rtt"))         return scn_st_rtt(ps, kw);
	if (scn_tok_is(kw, "connections")) return scn_st_connections(ps, kw);
	if (scn_tok_is(kw, "timeout"))     return scn_st_timeout(ps, kw);
	if (scn_tok_is(kw, "tcp_fin_timeout")) return scn_st_fin_timeout(ps, kw);
	if (scn_tok_is(kw, "tls"))         return scn_st_tls(ps, kw);
	if (scn_tok_is(kw, "client"))      return scn_st_client(ps, kw);
	if (scn_tok_is(kw, "expect"))      return scn_st_expect(ps, kw);
	if (scn_tok_is(kw, "parallel"))    return scn_st_parallel(ps, kw);
	if (scn_tok_is(kw, "repeat"))      return scn_st_repeat(ps, kw);
	if (scn_tok_is(kw, "}"))           return scn_close_block(ps, kw);

	static const struct {
		const char *name;
		enum scn_step_kind kind;
		bool (*fn)(struct parser *, struct scn_step *);
	} steps[] = {
		{ "connect", SCN_CONNECT, scn_st_connect },
		{ "send", SCN_SEND, scn_st_send },
		{ "request", SCN_REQUEST, scn_st_request },
		{ "body", SCN_BODY, scn_st_body },
		{ "ack", SCN_ACK, scn_st_ack },
		{ "window", SCN_WINDOW, scn_st_window },
		{ "fin", SCN_FIN_POLICY, scn_st_fin },
		{ "after", SCN_AFTER, scn_st_after },
		{ "shutdown", SCN_SHUTDOWN, NULL },
		{ "abort", SCN_ABORT, NULL },
		{ "wait", SCN_WAIT, scn_st_wait },
		{ "sleep", SCN_SLEEP, scn_st_sleep },
		{ "hold", SCN_HOLD, scn_st_hold },
		{ "vanish", SCN_VANISH, NULL },
		{ "read", SCN_READ, scn_st_read },
		{ "drop", SCN_DROP, scn_st_fault },
		{ "reorder", SCN_REORDER, scn_st_fault },
		{ "rst", SCN_RST, scn_st_rst },
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		if (!scn_tok_is(kw, steps[i].name))
			continue;
		if (!step_allowed(ps, kw, steps[i].kind))
			return false;
		struct scn_step *st = scn_list_push(ps, &ps->stack[ps->depth].steps);
		if (!st)
			return false;
		st->kind = steps[i].kind;
		st->line = ps->line;
		st->col = kw->col;
		return steps[i].fn ? steps[i].fn(ps, st) : scn_expect_end(ps);
	}
	scn_fail_tok(ps, kw, "a statement");
	return false;
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
		scn_oom(&ps);
		return NULL;
	}
	ps.s = s;
	s->rtt_us = -1;
	s->timeout_us = SCN_DEFAULT_TIMEOUT_US;
	s->n_groups = 1; /* [0]: the top level */
	s->file = strdup(ps.file);
	if (!s->file) {
		scn_oom(&ps);
		goto err;
	}
	ps.stack[0].kind = FR_TOP;
	ps.stack[0].count = 0;

	if (len > SCN_MAX_FILE) {
		scn_fail_at(&ps, 1, 1, "a larger one", "a script of at most %u bytes", SCN_MAX_FILE);
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
			scn_fail_at(&ps, line, SCN_MAX_LINE + 1, "a longer one",
			            "a line of at most %d bytes", SCN_MAX_LINE);
			goto err;
		}
		if (n && lp[n - 1] == '\r')
			n--; /* CRLF files */
		ps.lp = lp;
		ps.llen = n;
		if (!scn_tokenize(&ps))
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
		scn_fail_at(&ps, eof_line, eof_col, "end of file", "\"scenario NAME\"");
		goto err;
	}
	if (ps.depth > 0) {
		struct frame *f = &ps.stack[ps.depth];
		scn_fail_at(&ps, eof_line, eof_col, "end of file",
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
	if (!scn_check_script(&ps, eof_line, eof_col))
		goto err;
	return s;

err:
	for (size_t i = 0; i <= ps.depth && i < sizeof ps.stack / sizeof ps.stack[0]; i++) {
		scn_steps_free(ps.stack[i].steps.v, ps.stack[i].steps.n);
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
