/*
 * fuzz_scenario.c - libFuzzer target over the scenario parser, scn_parse()
 * (lab/scenario.h): the whole input is a script.
 *
 * libFuzzer hands us a buffer of exactly `size` bytes with no NUL after it,
 * so ASan catches any read past the script's end (scn_parse() takes a length
 * and must not need a terminator).
 *
 * Besides "no crash, no leak, no overread", the result must keep the
 * header's contract:
 *   success: a tree the runner can walk - a name, groups with connections
 *     that add up to total_connections, every step of a known kind at a
 *     line and column inside the input, nesting and counts within the
 *     documented limits, strings NUL-terminated, request steps that format
 *     to the length scn_request_format() announces, expectations with
 *     names for every enum they carry;
 *   failure: one NUL-terminated line in the caller's buffer, never written
 *     past errlen, of the shape "FILE:LINE:COL: expected X, found Y" with
 *     LINE and COL inside the input (the line after the last one, column
 *     1, for "end of file"), or "FILE: out of memory".
 *
 * The dictionary tests/fuzz/scenario.dict holds every keyword and unit of
 * docs/scenario-language.md; the seeds (tests/fuzz/seeds-scenario and the
 * shipped scenarios/) are real scripts and the unit tests' snippets.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/respscan.h"
#include "lab/scenario.h"

#define FILE_NAME "fuzz.scn"
#define ERR_LEN   512

/* Abort with the broken invariant named, so a crash report says which. */
#define check(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
		        __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* Where each line of the input starts, to judge lines and columns. */
struct lines {
	const uint8_t *text;
	size_t size;
	size_t *start;     /* start[i]: offset of line i+1 */
	size_t n;
};

static void lines_init(struct lines *L, const uint8_t *data, size_t size)
{
	size_t i, n = 1;

	for (i = 0; i < size; i++)
		n += data[i] == '\n';
	L->text = data;
	L->size = size;
	L->start = malloc(n * sizeof *L->start);
	check(L->start != NULL);
	L->n = 0;
	L->start[L->n++] = 0;
	for (i = 0; i < size; i++)
		if (data[i] == '\n')
			L->start[L->n++] = i + 1;
}

/* Bytes on line (1-based), without its '\n'; 0 for the line after the end. */
static size_t line_len(const struct lines *L, unsigned line)
{
	size_t s, e;

	check(line >= 1 && line <= L->n);
	s = L->start[line - 1];
	e = line < L->n ? L->start[line] - 1 : L->size;
	return e - s;
}

/* A place a statement starts at: a real byte of the input. */
static void check_place(const struct lines *L, unsigned line, unsigned col)
{
	check(line >= 1 && line <= L->n);
	check(col >= 1 && col <= line_len(L, line));
}

static void check_bytes(const struct scn_bytes *b, size_t max)
{
	check(b->data != NULL || b->len == 0);
	check(b->len <= max);
	if (b->data)
		check(b->data[b->len] == '\0');
}

static void check_duration(int64_t us)
{
	check(us >= 0 && us <= SCN_MAX_DURATION_US);
}

static size_t walk_steps(const struct lines *L, const struct scn_steps *l, int depth)
{
	size_t total = 0, i;

	check(depth <= SCN_MAX_DEPTH);
	check(l->n == 0 || l->v != NULL);
	for (i = 0; i < l->n; i++) {
		const struct scn_step *st = &l->v[i];
		check((unsigned)st->kind <= SCN_STEP_LAST);
		check(strcmp(scn_step_name(st->kind), "?") != 0);
		check_place(L, st->line, st->col);
		total++;
		switch (st->kind) {
		case SCN_CONNECT:
			check_duration(st->u.connect.timeout_us);
			break;
		case SCN_SEND: {
			check_bytes(&st->u.send, SIZE_MAX);
			/* the runner counts the requests a send holds (rsp_sent):
			 * each needs at least "A / HTTP/1.1\n", 13 bytes */
			struct rsp_scan rs;
			rsp_init(&rs);
			unsigned found = rsp_sent(&rs, st->u.send.data, st->u.send.len);
			check(rs.requests == found);
			check(found <= st->u.send.len / 13);
			break;
		}
		case SCN_REQUEST: {
			size_t n, n2;
			uint8_t *buf;
			check(memchr(st->u.request.method, '\0', sizeof st->u.request.method) != NULL);
			check(st->u.request.method[0] != '\0');
			check_bytes(&st->u.request.target, SCN_MAX_STRING);
			check_bytes(&st->u.request.headers, SIZE_MAX);
			check(st->u.request.n_headers <= SCN_MAX_HEADERS);
			check((st->u.request.n_headers == 0) == (st->u.request.headers.len == 0));
			/* like snprintf: the full length with no room, then exactly
			 * that many bytes with room for all, and a cut copy */
			n = scn_request_format(st, "lab", NULL, 0);
			check(n >= 4);
			buf = malloc(n);
			check(buf != NULL);
			n2 = scn_request_format(st, "lab", buf, n);
			check(n2 == n);
			check(memcmp(buf + n - 4, "\r\n\r\n", 4) == 0 ||
			      memcmp(buf + n - 2, "\r\n", 2) == 0);
			check(scn_request_format(st, "lab", buf, n / 2) == n);
			free(buf);
			buf = NULL;
			break;
		}
		case SCN_BODY:
			break;
		case SCN_ACK:
			check((unsigned)st->u.ack.mode <= SCN_ACK_UPTO);
			if (st->u.ack.mode == SCN_ACK_DELAYED)
				check_duration(st->u.ack.delay_us);
			break;
		case SCN_FIN_POLICY:
			check((unsigned)st->u.fin <= SCN_FIN_NEVER);
			break;
		case SCN_AFTER:
			check((unsigned)st->u.after.event <= SCN_AFTER_RST);
			break;
		case SCN_READ:
			check((unsigned)st->u.read <= SCN_READ_NEVER);
			break;
		case SCN_DROP:
		case SCN_REORDER:
			check(st->u.fault.fin ? st->u.fault.nth == 0
			      : st->u.fault.nth >= 1 && st->u.fault.nth <= SCN_MAX_FAULT_NTH);
			break;
		case SCN_RST:
			check(st->u.rst.seq_off >= -SCN_MAX_RST_OFFSET &&
			      st->u.rst.seq_off <= SCN_MAX_RST_OFFSET);
			check(st->u.rst.has_ack || st->u.rst.ack_off == 0);
			check(st->u.rst.ack_off >= -SCN_MAX_RST_OFFSET &&
			      st->u.rst.ack_off <= SCN_MAX_RST_OFFSET);
			break;
		case SCN_WAIT:
			check((unsigned)st->u.wait.event <= SCN_WAIT_ACKED);
			check_duration(st->u.wait.timeout_us);
			break;
		case SCN_SLEEP:
			check_duration(st->u.sleep_us);
			break;
		case SCN_HOLD:
			check(st->u.hold_us == -1 || (st->u.hold_us >= 0 &&
			      st->u.hold_us <= SCN_MAX_DURATION_US));
			break;
		case SCN_REPEAT:
			check(st->u.repeat.count >= 1 && st->u.repeat.count <= SCN_MAX_REPEAT);
			total += walk_steps(L, &st->u.repeat.body, depth + 1);
			break;
		default:
			break;
		}
	}
	return total;
}

static void check_tree(const struct lines *L, const struct scn_scenario *s)
{
	uint64_t conns = 0;
	size_t i, steps = 0;

	check(memchr(s->name, '\0', sizeof s->name) != NULL);
	check(s->name[0] != '\0');
	check(s->file != NULL && strcmp(s->file, FILE_NAME) == 0);
	check(s->name_line >= 1 && s->name_line <= L->n);
	if (s->about)
		check(strlen(s->about) <= SCN_MAX_STRING);
	if (s->host)
		check(strlen(s->host) <= SCN_MAX_STRING);
	check(s->rtt_us == -1 || (s->rtt_us >= 0 && s->rtt_us <= SCN_MAX_DURATION_US));
	check_duration(s->timeout_us);
	check(s->tcp_fin_timeout == 0 || (s->tcp_fin_timeout >= SCN_MIN_FIN_TIMEOUT_S &&
	      s->tcp_fin_timeout <= SCN_MAX_FIN_TIMEOUT_S));
	check(s->n_groups >= 1 && s->n_groups <= SCN_MAX_GROUPS);
	for (i = 0; i < s->n_groups; i++) {
		const struct scn_group *g = &s->groups[i];
		check(i == 0 ? g->line == 0 : (g->line >= 1 && g->line <= L->n));
		check((g->steps.n == 0) == (g->connections == 0));
		check_duration(g->stagger_us);
		conns += g->connections;
		steps += walk_steps(L, &g->steps, 0);
	}
	check(conns == s->total_connections);
	check((unsigned)s->client <= SCN_CLIENT_COMMAND);
	if (s->client == SCN_CLIENT_COMMAND) {
		/* a client program has no steps: the program is the client */
		check(steps == 0 && conns == 0);
		check(s->client_command != NULL && s->client_command[0] != '\0' &&
		      strlen(s->client_command) <= SCN_MAX_COMMAND);
	} else {
		check(steps >= 1 && steps <= SCN_MAX_STEPS);
		check(conns >= 1 && conns <= SCN_MAX_CONNECTIONS);
		check(s->client_command == NULL);
	}
	check(s->n_expects <= SCN_MAX_EXPECT);
	check(s->n_expects == 0 || s->expects != NULL);
	for (i = 0; i < s->n_expects; i++) {
		const struct scn_expect *x = &s->expects[i];
		check_place(L, x->line, x->col);
		check(memchr(x->text, '\0', sizeof x->text) != NULL);
		check(x->text[0] != '\0');
		check((unsigned)x->subject <= SCN_X_END);
		if (x->subject == SCN_X_CLOSED_BY)
			check(strcmp(scn_closer_name(x->teardown), "?") != 0);
		if (x->subject == SCN_X_KIND)
			check(strcmp(scn_kind_name(x->teardown), "?") != 0);
		if (x->subject == SCN_X_END)
			check(strcmp(scn_end_name(x->teardown), "?") != 0);
		/* the application's expectations need a kernel client, the
		 * program's a client program */
		if (x->subject == SCN_X_APP_RESPONSE || x->subject == SCN_X_APP_ERROR)
			check(s->client == SCN_CLIENT_KERNEL);
		if (x->subject == SCN_X_CLIENT_EXIT || x->subject == SCN_X_CLIENT_OUTPUT)
			check(s->client == SCN_CLIENT_COMMAND);
		if (x->subject == SCN_X_APP_ERROR && !x->negated)
			check(x->errnum > 0);
		if (x->subject == SCN_X_CLIENT_OUTPUT)
			check(x->output[0] != '\0' && memchr(x->output, '\0', sizeof x->output));
		check((unsigned)x->side <= SCN_SIDE_CLIENT);
		check(strcmp(scn_kstate_name(x->kstate), "?") != 0);
		if (x->has_ending)
			check(strcmp(scn_fw2_ending_name(x->ending), "?") != 0);
		check(strcmp(scn_impact_name(x->impact), "?") != 0);
		check((unsigned)x->metric <= SCN_M_DURATION);
		check(strcmp(scn_op_name(x->op), "?") != 0);
		check((unsigned)x->check <= SCN_RC_INCOMPLETE);
		if (x->subject == SCN_X_RESPONSE || x->subject == SCN_X_APP_RESPONSE)
			check(x->response >= 1 && x->response <= SCN_MAX_RESPONSES);
		(void)scn_compare(0, x->op, x->value);
	}
}

/* Read a decimal unsigned number at *p; advance it. -1 if none. */
static long long read_num(const char **p)
{
	long long v = 0;
	const char *q = *p;

	if (*q < '0' || *q > '9')
		return -1;
	while (*q >= '0' && *q <= '9') {
		if (v > 100000000)
			return -1;
		v = v * 10 + (*q++ - '0');
	}
	*p = q;
	return v;
}

static void check_error(const struct lines *L, const char *err, size_t errlen)
{
	const char *p, *found;
	long long line, col;

	check(memchr(err, '\0', errlen) != NULL);
	check(strncmp(err, FILE_NAME ":", sizeof FILE_NAME) == 0);
	p = err + sizeof FILE_NAME;
	if (strcmp(p, " out of memory") == 0)
		return;
	line = read_num(&p);
	check(line >= 1);
	check(*p++ == ':');
	col = read_num(&p);
	check(col >= 1);
	check(strncmp(p, ": expected ", 11) == 0);
	p += 11;
	found = strstr(p, ", found ");
	check(found != NULL && found > p);  /* X is not empty */
	check(found[8] != '\0');            /* nor is Y */
	check(strchr(err, '\n') == NULL);   /* one line */
	if ((size_t)line == L->n + 1) {
		/* after a last line that ended in '\n': where end of file is */
		check(col == 1);
		check(strstr(found, "end of file") != NULL);
	} else {
		size_t n;
		check((size_t)line <= L->n);
		n = line_len(L, (unsigned)line);
		/* a byte of the line, or just past it (end of line / file) */
		check((size_t)col <= n + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* errlen bytes for the parser, then a guard it must not touch */
	char err[ERR_LEN + 64];
	struct scn_scenario *s;
	struct lines L;
	size_t i;

	memset(err, 0x5a, sizeof err);
	lines_init(&L, data, size);
	s = scn_parse(FILE_NAME, (const char *)data, size, err, ERR_LEN);
	for (i = ERR_LEN; i < sizeof err; i++)
		check(err[i] == 0x5a);
	if (s) {
		check(err[0] == '\0');
		check_tree(&L, s);
		scn_free(s);
		s = NULL;
	} else {
		check(err[0] != '\0');
		check_error(&L, err, ERR_LEN);
	}
	free(L.start);
	L.start = NULL;
	return 0;
}
