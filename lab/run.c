/*
 * run.c - the runner (see run.h): lab, target, raw client, one event loop
 * interpreting every connection's steps, kernel sampling, then analysis
 * and judgement.
 *
 * Each connection of a scenario is a small state machine (struct rconn):
 * PENDING until its start time, RUNNING while it executes steps that take
 * no time, BLOCKED on a step that waits (connect, wait, sleep, hold, or a
 * send that must wait for the body generator or for send-buffer room),
 * DONE when its steps are over. Everything is driven from rawtcp's event
 * loop: rawtcp_run calls loop_cb, which drains rawtcp's events (data, FIN,
 * RST, timers) and moves the machines along. Timers carry a cookie: the
 * runner's own (sampler; a scenario's deadline and phase timers, tagged
 * with the scenario's number so one left over from an earlier scenario is
 * ignored), and for a connection's one timer
 *     (connection index + 1) << 40 | scenario number (8 bits) << 32 | generation
 * so a timer that fired after it was replaced is recognized and ignored.
 */
#include "lab/run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/capture.h"
#include "lab/launch.h"
#include "lab/netns.h"
#include "lab/rawtcp.h"
#include "lab/sockdiag.h"

#define DEFAULT_INTERVAL_US 50000
#define SETTLE_EXTRA_US     100000   /* after the steps: packets in flight */
#define CLEANUP_EXTRA_US    50000    /* after the cleanup RSTs */
#define SEND_RETRY_US       10000    /* send buffer full: try again */
#define LOOP_SLICE_US       1000000  /* rawtcp_run deadline per call */
#define SNDBUF_CAP          (1u << 20)
#define MAX_SERIES          16384    /* fin_wait_2 points (as reports use) */
#define MATCH_SLACK         1.0      /* seconds around a scenario's window */

enum { COOKIE_SAMPLER = 1, COOKIE_DEADLINE = 2, COOKIE_PHASE = 3 };
#define COOKIE_KIND(c)  ((c) & 0xff)
#define COOKIE_SEQ(c)   (((c) >> 8) & 0xffffff)

enum rc_state { RC_PENDING = 0, RC_RUNNING, RC_BLOCKED, RC_DONE };

enum rc_block {
	BL_NONE = 0,
	BL_START,       /* waiting for its stagger start time */
	BL_CONNECT,
	BL_WAIT,
	BL_SLEEP,
	BL_HOLD,
	BL_BODY,        /* a send waits for the body generator */
	BL_RETRY,       /* a send waits for send-buffer room */
};

struct frame {
	const struct scn_steps *l;
	size_t i;
	uint32_t left;  /* iterations left, this one included */
};

struct rconn {
	struct run_conn *out;
	size_t idx;
	struct rawtcp_conn *k;
	enum rc_state st;
	enum rc_block bl;
	const struct scn_step *blk;
	uint64_t wait_target;          /* wait response: completed count */
	struct frame fr[SCN_MAX_DEPTH + 1];
	int depth;
	uint64_t timer_id;
	uint32_t tgen;
	bool timer_on;
	struct rawtcp_conn_opts opts;
	enum scn_fin_mode fin;
	bool after_fin_continue, after_rst_continue;
	bool shut, body_active, vanished, established, closed, peer_fin, peer_rst;
	bool dropped_noted;
	uint64_t resp_cursor;
	struct rsp_scan http;
};

enum phase { PH_RUNNING = 0, PH_SETTLE, PH_CLEANUP, PH_FINISHED };

struct runner {
	const struct run_config *cfg;
	struct run_outcome *o;
	struct rawtcp *c;
	struct sockdiag *sd;
	struct launch *target;
	int64_t epoch_offset_us;       /* epoch us = monotonic us + this */
	uint32_t interval_us;
	uint16_t port;
	char host[96];                 /* default Host: header */
	uint8_t *scratch;              /* request formatting */
	size_t scratch_cap;
	bool sampling;
	uint64_t sampler_id;
	/* the scenario being played */
	struct run_scenario *rs;
	const struct scn_scenario *scn;
	struct rconn *rc;
	size_t n_rc, n_done;
	enum phase phase;
	bool window_open;              /* kernel samples count for rs */
	uint32_t seq;                  /* scenario number, from 1 (cookies) */
	uint64_t leaked_at_start;
	/* trouble */
	bool fatal, interrupted;
	char err[256];
};

/* ---- small helpers ----------------------------------------------------- */

static double epoch_of(const struct runner *R, uint64_t mono_us)
{
	return (double)((int64_t)mono_us + R->epoch_offset_us) / 1e6;
}

static double epoch_now(const struct runner *R)
{
	return epoch_of(R, rawtcp_now_us());
}

static void fatal(struct runner *R, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fatal(struct runner *R, const char *fmt, ...)
{
	if (R->fatal)
		return;
	R->fatal = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(R->err, sizeof R->err, fmt, ap);
	va_end(ap);
}

/* Append "; "-separated text to the connection's note (cut when full). */
static void note(struct rconn *rc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct rconn *rc, const char *fmt, ...)
{
	char *n = rc->out->note;
	size_t cap = sizeof rc->out->note, len = strlen(n);
	if (len + 3 >= cap)
		return;
	if (len) {
		memcpy(n + len, "; ", 2);
		len += 2;
		n[len] = '\0';
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(n + len, cap - len, fmt, ap);
	va_end(ap);
}

static void fmt_dur(int64_t us, char *buf, size_t cap)
{
	if (us % 1000000 == 0)
		snprintf(buf, cap, "%llds", (long long)(us / 1000000));
	else if (us % 1000 == 0)
		snprintf(buf, cap, "%lldms", (long long)(us / 1000));
	else
		snprintf(buf, cap, "%lldus", (long long)us);
}

static const char *wait_name(enum scn_wait_event e)
{
	static const char *n[] = { "data", "response", "fin", "rst", "closed",
	                           "sent", "acked" };
	return (unsigned)e < sizeof n / sizeof n[0] ? n[e] : "?";
}

const char *run_target_kind_name(enum run_target_kind k)
{
	switch (k) {
	case RUN_TARGET_BUILTIN: return "builtin";
	case RUN_TARGET_SERVE:   return "serve";
	case RUN_TARGET_REMOTE:  return "remote";
	}
	return "?";
}

/* ---- kernel sampling ---------------------------------------------------- */

static const int kstate_diag[SCN_NKSTATES] = {
	[SCN_K_ESTABLISHED] = SOCKDIAG_ESTABLISHED,
	[SCN_K_SYN_RECV] = SOCKDIAG_SYN_RECV,
	[SCN_K_FIN_WAIT_1] = SOCKDIAG_FIN_WAIT_1,
	[SCN_K_FIN_WAIT_2] = SOCKDIAG_FIN_WAIT_2,
	[SCN_K_TIME_WAIT] = SOCKDIAG_TIME_WAIT,
	[SCN_K_CLOSE_WAIT] = SOCKDIAG_CLOSE_WAIT,
	[SCN_K_LAST_ACK] = SOCKDIAG_LAST_ACK,
	[SCN_K_CLOSING] = SOCKDIAG_CLOSING,
};

/* Take one sample: keep it, update the run's peaks and, while a scenario's
 * window is open, the scenario's peaks beyond its baseline. baseline (may
 * be NULL) receives the counts. */
static void take_sample(struct runner *R, uint32_t *baseline)
{
	unsigned counts[SOCKDIAG_MAX_STATES];
	char err[200];
	if (sockdiag_sample(R->sd, counts, R->port, err, sizeof err) < 0) {
		fatal(R, "kernel sampler: %s", err);
		return;
	}
	struct run_outcome *o = R->o;
	struct run_sample s;
	s.t = epoch_now(R);
	for (int k = 0; k < SCN_NKSTATES; k++)
		s.n[k] = counts[kstate_diag[k]];
	if (o->n_samples < RUN_MAX_SAMPLES)
		o->samples[o->n_samples++] = s;
	else
		o->samples_dropped++;
	for (int k = 0; k < SCN_NKSTATES; k++) {
		if (s.n[k] > o->kernel_peak[k]) {
			o->kernel_peak[k] = s.n[k];
			o->kernel_peak_time[k] = s.t;
		}
	}
	if (baseline)
		memcpy(baseline, s.n, sizeof s.n);
	if (R->window_open && R->rs) {
		struct run_scenario *rs = R->rs;
		for (int k = 0; k < SCN_NKSTATES; k++) {
			uint32_t v = s.n[k] > rs->kernel_baseline[k]
			             ? s.n[k] - rs->kernel_baseline[k] : 0;
			if (v > rs->kernel_peak[k]) {
				rs->kernel_peak[k] = v;
				rs->kernel_peak_time[k] = s.t;
			}
		}
	}
}

static void sampler_arm(struct runner *R)
{
	char err[200];
	R->sampler_id = rawtcp_timer_add(R->c, rawtcp_now_us() + R->interval_us,
	                                 COOKIE_SAMPLER, err, sizeof err);
	if (!R->sampler_id)
		fatal(R, "%s", err);
}

/* ---- connection timers ------------------------------------------------- */

static void conn_timer_cancel(struct runner *R, struct rconn *rc)
{
	if (rc->timer_on) {
		rawtcp_timer_cancel(R->c, rc->timer_id);
		rc->timer_on = false;
	}
}

static void conn_timer_set(struct runner *R, struct rconn *rc, int64_t after_us)
{
	char err[200];
	conn_timer_cancel(R, rc);
	rc->tgen++;
	uint64_t cookie = ((uint64_t)(rc->idx + 1) << 40) |
	                  ((uint64_t)(R->seq & 0xff) << 32) | rc->tgen;
	rc->timer_id = rawtcp_timer_add(R->c, rawtcp_now_us() + (uint64_t)after_us,
	                                cookie, err, sizeof err);
	if (!rc->timer_id) {
		fatal(R, "%s", err);
		return;
	}
	rc->timer_on = true;
}

/* A deadline or phase timer of the current scenario. */
static void runner_timer(struct runner *R, uint64_t kind, uint64_t after_us)
{
	char err[200];
	uint64_t cookie = (uint64_t)(R->seq & 0xffffff) << 8 | kind;
	if (!rawtcp_timer_add(R->c, rawtcp_now_us() + after_us, cookie, err, sizeof err))
		fatal(R, "%s", err);
}

/* ---- the step cursor ----------------------------------------------------- */

static const struct scn_step *next_step(struct rconn *rc)
{
	for (;;) {
		struct frame *f = &rc->fr[rc->depth];
		if (f->i < f->l->n) {
			const struct scn_step *st = &f->l->v[f->i++];
			if (st->kind == SCN_REPEAT && rc->depth < SCN_MAX_DEPTH) {
				rc->depth++;
				rc->fr[rc->depth] = (struct frame){ &st->u.repeat.body, 0,
				                                    st->u.repeat.count };
				continue;
			}
			return st;
		}
		if (rc->depth == 0)
			return NULL;
		if (--f->left > 0) {
			f->i = 0;
			continue;
		}
		rc->depth--;
	}
}

/* The step just returned by next_step() runs again next time. */
static void unexec(struct rconn *rc)
{
	rc->fr[rc->depth].i--;
}

/* Line of the step the connection stands at (for notes). */
static unsigned cur_line(const struct rconn *rc)
{
	if (rc->blk)
		return rc->blk->line;
	for (int d = rc->depth; d >= 0; d--) {
		const struct frame *f = &rc->fr[d];
		if (f->i < f->l->n)
			return f->l->v[f->i].line;
	}
	return 0;
}

static bool is_send(enum scn_step_kind k)
{
	return k == SCN_SEND || k == SCN_REQUEST || k == SCN_BODY;
}

static bool list_has_send(const struct scn_steps *l, size_t from)
{
	for (size_t i = from; i < l->n; i++) {
		if (is_send(l->v[i].kind))
			return true;
		if (l->v[i].kind == SCN_REPEAT && list_has_send(&l->v[i].u.repeat.body, 0))
			return true;
	}
	return false;
}

/* Will the script still send something? */
static bool sends_ahead(const struct rconn *rc)
{
	if (rc->st == RC_DONE)
		return false;
	for (int d = rc->depth; d >= 0; d--) {
		const struct frame *f = &rc->fr[d];
		if (list_has_send(f->l, f->i))
			return true;
		if (d > 0 && f->left > 1 && list_has_send(f->l, 0))
			return true;
	}
	return false;
}

/* ---- the connection machine ------------------------------------------- */

static void advance(struct runner *R, struct rconn *rc);

static bool conn_closed(const struct rconn *rc)
{
	return rc->k && rawtcp_conn_state(rc->k) == RAWTCP_CLOSED;
}

/* FIN policy: send our FIN when the policy says it is time. */
static void fin_check(struct runner *R, struct rconn *rc)
{
	char err[200];
	if (!rc->k || rc->shut || rc->vanished || conn_closed(rc) || !rc->established)
		return;
	bool go = false;
	switch (rc->fin) {
	case SCN_FIN_CLOSE:
		go = rc->peer_fin && (!rc->after_fin_continue || !sends_ahead(rc));
		break;
	case SCN_FIN_HALF_CLOSE:
		go = !sends_ahead(rc);
		break;
	case SCN_FIN_NEVER:
		break;
	}
	if (!go)
		return;
	rc->shut = true;
	if (rawtcp_shutdown(rc->k, err, sizeof err) < 0)
		note(rc, "fin: %s", err);
	(void)R;
}

static void conn_done(struct runner *R, struct rconn *rc)
{
	if (rc->st == RC_DONE)
		return;
	conn_timer_cancel(R, rc);
	rc->st = RC_DONE;
	rc->bl = BL_NONE;
	rc->blk = NULL;
	R->n_done++;
	fin_check(R, rc);
	if (R->n_done == R->n_rc && R->phase == PH_RUNNING) {
		R->phase = PH_SETTLE;
		uint64_t rtt = R->rs->rtt_us > 0 ? (uint64_t)R->rs->rtt_us : 0;
		runner_timer(R, COOKIE_PHASE, rtt + SETTLE_EXTRA_US);
	}
}

static void conn_failed(struct runner *R, struct rconn *rc)
{
	rc->out->failed = true;
	conn_done(R, rc);
}

static void unblock(struct runner *R, struct rconn *rc)
{
	conn_timer_cancel(R, rc);
	rc->st = RC_RUNNING;
	rc->bl = BL_NONE;
	rc->blk = NULL;
}

static bool wait_satisfied(struct rconn *rc)
{
	const struct scn_step *st = rc->blk;
	struct rawtcp_conn_info info;
	rawtcp_conn_info(rc->k, &info);
	switch (st->u.wait.event) {
	case SCN_WAIT_DATA:
		return info.rx_received >= st->u.wait.count;
	case SCN_WAIT_RESPONSE:
		return rc->http.completed >= rc->wait_target;
	case SCN_WAIT_FIN:
		return rc->peer_fin;
	case SCN_WAIT_RST:
		return rc->peer_rst;
	case SCN_WAIT_CLOSED:
		return info.state == RAWTCP_CLOSED || rc->peer_rst;
	case SCN_WAIT_SENT:
		return !rc->body_active && info.bytes_sent >= info.bytes_queued;
	case SCN_WAIT_ACKED:
		return !rc->body_active && info.bytes_acked >= info.bytes_queued;
	}
	return false;
}

/*
 * Re-examine a blocked connection after something happened to it. Returns
 * true when it may run again (the caller then calls advance(): never from
 * here, so a long run of waits that are already satisfied does not
 * recurse).
 */
static bool try_unblock(struct runner *R, struct rconn *rc)
{
	if (rc->st != RC_BLOCKED)
		return false;
	struct rawtcp_conn_info info;
	switch (rc->bl) {
	case BL_CONNECT:
		if (rc->established) {
			unblock(R, rc);
			return true;
		}
		if (conn_closed(rc)) {
			rawtcp_conn_info(rc->k, &info);
			note(rc, "line %u: connect failed (%s)", rc->blk->line,
			     rawtcp_close_reason_name(info.close_reason));
			conn_failed(R, rc);
		}
		return false;
	case BL_WAIT:
		if (wait_satisfied(rc)) {
			if (rc->blk->u.wait.event == SCN_WAIT_RESPONSE &&
			    rc->wait_target > rc->resp_cursor)
				rc->resp_cursor = rc->wait_target;
			unblock(R, rc);
			return true;
		}
		if (conn_closed(rc)) {
			rawtcp_conn_info(rc->k, &info);
			note(rc, "line %u: wait %s ended: connection closed (%s)",
			     rc->blk->line, wait_name(rc->blk->u.wait.event),
			     rawtcp_close_reason_name(info.close_reason));
			unblock(R, rc);
			return true;
		}
		return false;
	case BL_HOLD:
		if (conn_closed(rc)) {
			unblock(R, rc);
			return true;
		}
		return false;
	case BL_BODY:
		if (!rc->body_active || conn_closed(rc)) {
			unblock(R, rc);
			return true;
		}
		return false;
	default:
		return false;
	}
}

static void block(struct runner *R, struct rconn *rc, enum rc_block bl,
                  const struct scn_step *st, int64_t timeout_us)
{
	rc->st = RC_BLOCKED;
	rc->bl = bl;
	rc->blk = st;
	if (timeout_us > 0)
		conn_timer_set(R, rc, timeout_us);
	try_unblock(R, rc); /* already true? then advance()'s loop goes on */
}

/* A connection's own timer fired. */
static void conn_timer_fired(struct runner *R, struct rconn *rc)
{
	char d[32];
	if (rc->st == RC_PENDING) {
		rc->st = RC_RUNNING;
		advance(R, rc);
		return;
	}
	if (rc->st != RC_BLOCKED)
		return;
	const struct scn_step *st = rc->blk;
	switch (rc->bl) {
	case BL_CONNECT:
		fmt_dur(st->u.connect.timeout_us ? st->u.connect.timeout_us
		                                 : SCN_DEFAULT_WAIT_US, d, sizeof d);
		note(rc, "line %u: connect timed out after %s", st->line, d);
		rawtcp_abort(rc->k);
		conn_failed(R, rc);
		return;
	case BL_WAIT:
		fmt_dur(st->u.wait.timeout_us ? st->u.wait.timeout_us
		                              : SCN_DEFAULT_WAIT_US, d, sizeof d);
		note(rc, "line %u: wait %s timed out after %s", st->line,
		     wait_name(st->u.wait.event), d);
		break;
	default:
		break;
	}
	unblock(R, rc);
	advance(R, rc);
}

/* Queue bytes, honouring the after-FIN/RST settings and the body. */
static void do_send(struct runner *R, struct rconn *rc, const struct scn_step *st,
                    const uint8_t *p, size_t n, int request_head)
{
	char err[200];
	if (rc->body_active) {
		unexec(rc);
		block(R, rc, BL_BODY, st, 0);
		return;
	}
	const char *why = NULL;
	if (rc->vanished)
		why = "the client vanished";
	else if (rc->peer_rst && !rc->after_rst_continue)
		why = "connection reset";
	else if (rc->peer_fin && !rc->after_fin_continue)
		why = "the server's FIN arrived";
	else if (rc->shut)
		why = "the client already sent its FIN";
	if (why) {
		if (!rc->dropped_noted)
			note(rc, "line %u: %s not sent: %s", st->line, scn_step_name(st->kind), why);
		rc->dropped_noted = true;
		return;
	}
	int r = st->kind == SCN_BODY
		? rawtcp_send_body(rc->k, st->u.body.size, st->u.body.rate,
		                   st->u.body.chunk, err, sizeof err)
		: rawtcp_send(rc->k, p, n, err, sizeof err);
	if (r < 0) {
		if (strstr(err, "send buffer full")) {
			unexec(rc);
			block(R, rc, BL_RETRY, st, SEND_RETRY_US);
			return;
		}
		note(rc, "line %u: %s", st->line, err);
		return;
	}
	if (st->kind == SCN_BODY)
		rc->body_active = true;
	if (request_head >= 0)
		rsp_request(&rc->http, request_head == 1);
	fin_check(R, rc);
}

static void to_ack_policy(const struct scn_step *st, struct rawtcp_ack_policy *p)
{
	memset(p, 0, sizeof *p);
	switch (st->u.ack.mode) {
	case SCN_ACK_NOW:     p->mode = RAWTCP_ACK_NOW; break;
	case SCN_ACK_DELAYED: p->mode = RAWTCP_ACK_DELAYED;
	                      p->delay_us = (uint32_t)(st->u.ack.delay_us > UINT32_MAX
	                                    ? UINT32_MAX : st->u.ack.delay_us);
	                      break;
	case SCN_ACK_NEVER:   p->mode = RAWTCP_ACK_NEVER; break;
	case SCN_ACK_UPTO:    p->mode = RAWTCP_ACK_UPTO; p->upto = st->u.ack.upto; break;
	}
}

static void exec_step(struct runner *R, struct rconn *rc, const struct scn_step *st)
{
	char err[200];
	switch (st->kind) {
	case SCN_CONNECT:
		rc->k = rawtcp_connect(R->c, &rc->opts, err, sizeof err);
		if (!rc->k) {
			note(rc, "line %u: %s", st->line, err);
			conn_failed(R, rc);
			return;
		}
		rc->out->port = rawtcp_conn_local_port(rc->k);
		block(R, rc, BL_CONNECT, st, st->u.connect.timeout_us
		      ? st->u.connect.timeout_us : SCN_DEFAULT_WAIT_US);
		return;
	case SCN_SEND:
		do_send(R, rc, st, st->u.send.data, st->u.send.len, 0);
		return;
	case SCN_REQUEST: {
		const char *host = R->scn->host ? R->scn->host : R->host;
		size_t need = scn_request_format(st, host, R->scratch, R->scratch_cap);
		if (need > R->scratch_cap) {
			note(rc, "line %u: request too long (%zu bytes)", st->line, need);
			return;
		}
		do_send(R, rc, st, R->scratch, need,
		        strcmp(st->u.request.method, "HEAD") == 0);
		return;
	}
	case SCN_BODY:
		do_send(R, rc, st, NULL, 0, -1);
		return;
	case SCN_ACK: {
		struct rawtcp_ack_policy p;
		to_ack_policy(st, &p);
		if (rc->k)
			rawtcp_set_ack_policy(rc->k, &p);
		else
			rc->opts.ack = p;
		return;
	}
	case SCN_WINDOW:
		if (rc->k)
			rawtcp_set_window(rc->k, st->u.window);
		else
			rc->opts.window = st->u.window;
		return;
	case SCN_FIN_POLICY:
		rc->fin = st->u.fin;
		fin_check(R, rc);
		return;
	case SCN_AFTER:
		/* the parser keeps `after` before `connect` */
		if (st->u.after.event == SCN_AFTER_FIN) {
			rc->after_fin_continue = st->u.after.keep_sending;
			rc->opts.stop_on_peer_fin = !st->u.after.keep_sending;
		} else {
			rc->after_rst_continue = st->u.after.keep_sending;
			rc->opts.send_after_rst = st->u.after.keep_sending;
		}
		return;
	case SCN_SHUTDOWN:
		if (!rc->shut && !conn_closed(rc) && !rc->vanished) {
			rc->shut = true;
			if (rawtcp_shutdown(rc->k, err, sizeof err) < 0)
				note(rc, "line %u: %s", st->line, err);
		}
		return;
	case SCN_ABORT:
		rawtcp_abort(rc->k);
		return;
	case SCN_VANISH:
		rawtcp_silence(rc->k);
		rc->vanished = true;
		return;
	case SCN_WAIT:
		if (st->u.wait.event == SCN_WAIT_RESPONSE)
			rc->wait_target = st->u.wait.count ? st->u.wait.count
			                                   : rc->resp_cursor + 1;
		block(R, rc, BL_WAIT, st, st->u.wait.timeout_us
		      ? st->u.wait.timeout_us : SCN_DEFAULT_WAIT_US);
		return;
	case SCN_SLEEP:
		if (st->u.sleep_us > 0)
			block(R, rc, BL_SLEEP, st, st->u.sleep_us);
		return;
	case SCN_HOLD:
		if (st->u.hold_us != 0)
			block(R, rc, BL_HOLD, st, st->u.hold_us > 0 ? st->u.hold_us : 0);
		return;
	case SCN_REPEAT:
		return; /* next_step opens repeats */
	}
}

static void advance(struct runner *R, struct rconn *rc)
{
	while (rc->st == RC_RUNNING && !R->fatal) {
		const struct scn_step *st = next_step(rc);
		if (!st) {
			conn_done(R, rc);
			return;
		}
		exec_step(R, rc, st);
		if (rc->st == RC_RUNNING && st->kind != SCN_CONNECT)
			fin_check(R, rc);
	}
}

/* ---- events -------------------------------------------------------------- */

static void scenario_deadline(struct runner *R)
{
	if (R->phase != PH_RUNNING)
		return;
	R->rs->timed_out = true;
	for (size_t i = 0; i < R->n_rc; i++) {
		struct rconn *rc = &R->rc[i];
		if (rc->st == RC_DONE)
			continue;
		unsigned line = cur_line(rc);
		if (rc->st == RC_PENDING)
			note(rc, "not started before the scenario's timeout");
		else
			note(rc, "line %u: abandoned at the scenario's timeout", line);
		conn_done(R, rc);
	}
}

/* Copy what the client knows about each connection into the outcome. */
static void snapshot(struct runner *R)
{
	for (size_t i = 0; i < R->n_rc; i++) {
		struct rconn *rc = &R->rc[i];
		struct run_conn *out = rc->out;
		out->responses_started = rc->http.started;
		out->responses_complete = rc->http.completed;
		out->n_records = rc->http.n_records;
		memcpy(out->rec, rc->http.rec, sizeof out->rec);
		out->http_failed = rc->http.failed;
		out->close_reason = "";
		out->state = "";
		if (!rc->k)
			continue;
		struct rawtcp_conn_info info;
		rawtcp_conn_info(rc->k, &info);
		out->connected = info.t_established_us != 0;
		out->reset_seen = info.peer_rst;
		out->fin_seen = info.peer_fin;
		out->closed = info.state == RAWTCP_CLOSED;
		out->state = rawtcp_state_name(info.state);
		if (out->closed)
			out->close_reason = rawtcp_close_reason_name(info.close_reason);
		out->bytes_sent = info.bytes_sent;
		out->bytes_received = info.rx_received;
		out->rst_lost_on_flush = info.rst_lost_on_flush;
	}
}

static void phase_next(struct runner *R)
{
	switch (R->phase) {
	case PH_SETTLE: {
		R->rs->end = epoch_now(R);
		take_sample(R, NULL);  /* the window's last word */
		R->window_open = false;
		snapshot(R);
		for (size_t i = 0; i < R->n_rc; i++) {
			struct rconn *rc = &R->rc[i];
			conn_timer_cancel(R, rc);
			if (rc->k) {
				/* resets what is still open (see run.h) */
				rawtcp_conn_release(rc->k);
				rc->k = NULL;
			}
		}
		R->phase = PH_CLEANUP;
		uint64_t rtt = R->rs->rtt_us > 0 ? (uint64_t)R->rs->rtt_us : 0;
		runner_timer(R, COOKIE_PHASE, rtt / 2 + CLEANUP_EXTRA_US);
		break;
	}
	case PH_CLEANUP:
		R->phase = PH_FINISHED;
		break;
	default:
		break;
	}
}

static void on_timer(struct runner *R, uint64_t cookie)
{
	if (cookie == COOKIE_SAMPLER) {
		take_sample(R, NULL);
		if (R->sampling)
			sampler_arm(R);
		return;
	}
	if (cookie < (1ull << 32)) {
		if (COOKIE_SEQ(cookie) != (R->seq & 0xffffff))
			return; /* a timer of an earlier scenario */
		if (COOKIE_KIND(cookie) == COOKIE_DEADLINE)
			scenario_deadline(R);
		else if (COOKIE_KIND(cookie) == COOKIE_PHASE)
			phase_next(R);
		return;
	}
	uint64_t idx = (cookie >> 40) - 1;
	uint32_t gen = (uint32_t)cookie;
	if (idx >= R->n_rc || ((cookie >> 32) & 0xff) != (R->seq & 0xff))
		return; /* a timer of an earlier scenario */
	struct rconn *rc = &R->rc[idx];
	if (!rc->timer_on || rc->tgen != gen)
		return;
	rc->timer_on = false;
	conn_timer_fired(R, rc);
}

static void on_event(struct runner *R, const struct rawtcp_event *ev)
{
	if (ev->type == RAWTCP_EV_TIMER) {
		on_timer(R, ev->cookie);
		return;
	}
	struct rconn *rc = ev->user;
	if (!rc || rc->k != ev->conn || R->phase >= PH_CLEANUP)
		return;
	switch (ev->type) {
	case RAWTCP_EV_CONNECTED:
		rc->established = true;
		break;
	case RAWTCP_EV_DATA: {
		/* the "application" reads everything at once */
		const uint8_t *p;
		size_t n = rawtcp_peek(rc->k, &p);
		rsp_feed(&rc->http, p, n);
		rawtcp_consume(rc->k, n);
		break;
	}
	case RAWTCP_EV_PEER_FIN:
		rc->peer_fin = true;
		rsp_eof(&rc->http);
		fin_check(R, rc);
		break;
	case RAWTCP_EV_PEER_RST:
		rc->peer_rst = true;
		break;
	case RAWTCP_EV_BODY_DONE:
		rc->body_active = false;
		fin_check(R, rc);
		break;
	case RAWTCP_EV_CLOSED:
		rc->closed = true;
		rc->body_active = false;
		break;
	default:
		break;
	}
	if (try_unblock(R, rc))
		advance(R, rc);
}

static bool loop_cb(struct rawtcp *c, void *arg)
{
	struct runner *R = arg;
	if (R->cfg->stop && *R->cfg->stop) {
		R->interrupted = true;
		return true;
	}
	struct rawtcp_event ev;
	while (!R->fatal && rawtcp_next_event(c, &ev))
		on_event(R, &ev);
	return R->fatal || R->phase == PH_FINISHED;
}

/* ---- one scenario -------------------------------------------------------- */

static int play(struct runner *R, struct run_scenario *rs)
{
	const struct scn_scenario *scn = rs->scn;
	char err[256];
	R->rs = rs;
	R->scn = scn;
	R->seq++;
	R->n_rc = scn->total_connections;
	R->n_done = 0;
	R->phase = PH_RUNNING;
	R->rc = calloc(R->n_rc, sizeof *R->rc);
	rs->conns = calloc(R->n_rc, sizeof *rs->conns);
	if (!R->rc || !rs->conns) {
		fatal(R, "run: out of memory");
		return -1;
	}
	rs->n_conns = R->n_rc;
	rs->rtt_us = scn->rtt_us >= 0 ? scn->rtt_us : R->cfg->rtt_us;

	struct rawtcp_stats stats;
	rawtcp_stats(R->c, &stats);
	R->leaked_at_start = stats.leaked_rsts;

	rs->start = epoch_now(R);
	take_sample(R, rs->kernel_baseline);
	R->window_open = true;

	size_t idx = 0;
	for (size_t g = 0; g < scn->n_groups; g++) {
		const struct scn_group *grp = &scn->groups[g];
		for (uint32_t i = 0; i < grp->connections; i++, idx++) {
			struct rconn *rc = &R->rc[idx];
			rc->idx = idx;
			rc->out = &rs->conns[idx];
			rc->out->group = (uint32_t)g;
			rc->out->index = i;
			rc->fr[0] = (struct frame){ &grp->steps, 0, 1 };
			rawtcp_conn_opts_init(&rc->opts);
			rc->opts.dport = R->port;
			rc->opts.rtt_us = rs->rtt_us;
			rc->opts.sndbuf_cap = SNDBUF_CAP;
			rc->opts.user = rc;
			rc->fin = SCN_FIN_CLOSE;
			rc->after_fin_continue = true;
			rc->after_rst_continue = false;
			rsp_init(&rc->http);
			int64_t delay = (int64_t)i * grp->stagger_us;
			if (delay > 0) {
				rc->st = RC_PENDING;
				conn_timer_set(R, rc, delay);
			} else {
				rc->st = RC_RUNNING;
			}
		}
	}
	runner_timer(R, COOKIE_DEADLINE, (uint64_t)scn->timeout_us);
	if (!R->sampling) {
		R->sampling = true;
		sampler_arm(R);
	}
	for (size_t i = 0; i < R->n_rc && !R->fatal; i++)
		if (R->rc[i].st == RC_RUNNING)
			advance(R, &R->rc[i]);

	while (R->phase != PH_FINISHED && !R->fatal && !R->interrupted) {
		int r = rawtcp_run(R->c, rawtcp_now_us() + LOOP_SLICE_US, loop_cb, R,
		                   err, sizeof err);
		if (r < 0)
			fatal(R, "%s", err);
	}
	rawtcp_stats(R->c, &stats);
	rs->leaked_rst = stats.leaked_rsts - R->leaked_at_start;

	/* leftovers of an interrupted or failed scenario */
	for (size_t i = 0; i < R->n_rc; i++)
		if (R->rc[i].k) {
			rawtcp_conn_release(R->rc[i].k);
			R->rc[i].k = NULL;
		}
	free(R->rc);
	R->rc = NULL;
	R->n_rc = 0;
	R->rs = NULL;
	R->window_open = false;
	return R->fatal || R->interrupted ? -1 : 0;
}

/* ---- analysis ------------------------------------------------------------ */

struct seen_conn {
	uint64_t id;
	uint16_t port;
	double first_time;
	enum az_kind kind;
	enum az_initiator initiator;
	bool lingered;
	double linger_seconds;
	uint64_t linger_bytes;
	struct az_fw2_interval fw2[2];
};

struct collect {
	struct in_addr raw;
	uint16_t port;          /* target port */
	struct seen_conn *v;
	size_t n, cap;
	bool oom;
};

static void on_conn(const struct az_conn *c, void *arg)
{
	struct collect *col = arg;
	if (c->af != 4 || c->server_port != col->port ||
	    memcmp(c->client_addr, &col->raw, 4))
		return;
	if (col->n == col->cap) {
		size_t nc = col->cap ? col->cap * 2 : 256;
		struct seen_conn *nv = realloc(col->v, nc * sizeof *nv);
		if (!nv) {
			col->oom = true;
			return;
		}
		col->v = nv;
		col->cap = nc;
	}
	struct seen_conn *s = &col->v[col->n++];
	s->id = c->id;
	s->port = c->client_port;
	s->first_time = c->first_time;
	s->kind = c->kind;
	s->initiator = c->initiator;
	s->lingered = c->lingered;
	s->linger_seconds = c->linger_seconds;
	s->linger_bytes = c->linger_bytes;
	s->fw2[AZ_CLIENT] = c->client_fw2;
	s->fw2[AZ_SERVER] = c->server_fw2;
}

static int cmp_seen(const void *a, const void *b)
{
	const struct seen_conn *x = a, *y = b;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return x->first_time < y->first_time ? -1 : x->first_time > y->first_time;
}

struct fw2_ev {
	double t;
	int d;
};

static int cmp_fw2_ev(const void *a, const void *b)
{
	const struct fw2_ev *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->d - y->d; /* ends before starts at the same instant */
}

/* FIN_WAIT_2 aggregate of one side over a scenario's connections. */
static int fw2_sweep(struct run_scenario *rs, int side)
{
	struct run_fw2 *f = &rs->fw2[side];
	memset(f, 0, sizeof *f);
	struct fw2_ev *ev = malloc(2 * (rs->n_conns + 1) * sizeof *ev);
	if (!ev)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < rs->n_conns; i++) {
		const struct run_conn *c = &rs->conns[i];
		const struct az_fw2_interval *iv = &c->fw2[side];
		if (!c->az_id || !iv->present)
			continue;
		f->count++;
		if (iv->end - iv->start > f->max)
			f->max = iv->end - iv->start;
		ev[n++] = (struct fw2_ev){ iv->start, +1 };
		ev[n++] = (struct fw2_ev){ iv->end, -1 };
	}
	qsort(ev, n, sizeof *ev, cmp_fw2_ev);
	int64_t cur = 0;
	for (size_t i = 0; i < n; i++) {
		cur += ev[i].d;
		/* at equal times, judge after the last event of the instant */
		if (i + 1 < n && ev[i + 1].t == ev[i].t)
			continue;
		if (cur > (int64_t)f->peak) {
			f->peak = (uint32_t)cur;
			f->peak_time = ev[i].t;
		}
	}
	free(ev);
	return 0;
}

static int analyze(struct runner *R, struct in_addr raw)
{
	struct run_outcome *o = R->o;
	char err[256];
	int rc = -1;
	struct collect col = { .raw = raw, .port = R->port };
	struct cap *cap = NULL;
	int64_t *owner = NULL;   /* az id -> scenario index */
	size_t *owner_conn = NULL;

	struct az_config ac;
	memset(&ac, 0, sizeof ac);
	ac.server_ports = &R->port;
	ac.n_server_ports = 1;
	ac.on_conn = on_conn;
	ac.arg = &col;
	ac.max_series = MAX_SERIES;
	o->az = az_new(&ac);
	if (!o->az) {
		fatal(R, "analyzer: out of memory");
		goto out;
	}
	cap = cap_open_offline(o->capture_path, err, sizeof err);
	if (!cap) {
		fatal(R, "%s", err);
		goto out;
	}
	snprintf(o->link_type, sizeof o->link_type, "%s", cap_datalink_name(cap));
	if (cap_run(cap, o->az, NULL, err, sizeof err) < 0)
		snprintf(o->read_error, sizeof o->read_error, "%s", err);
	az_finish(o->az);
	if (col.oom) {
		fatal(R, "analyzer: out of memory");
		goto out;
	}
	qsort(col.v, col.n, sizeof *col.v, cmp_seen);

	uint64_t max_id = 0;
	for (size_t i = 0; i < col.n; i++)
		if (col.v[i].id > max_id)
			max_id = col.v[i].id;
	owner = malloc((max_id + 1) * sizeof *owner);
	owner_conn = malloc((max_id + 1) * sizeof *owner_conn);
	if (!owner || !owner_conn) {
		fatal(R, "analyzer: out of memory");
		goto out;
	}
	for (uint64_t i = 0; i <= max_id; i++)
		owner[i] = -1;

	for (size_t s = 0; s < o->n_scenarios; s++) {
		struct run_scenario *rs = &o->scenarios[s];
		for (size_t i = 0; i < rs->n_conns; i++) {
			struct run_conn *c = &rs->conns[i];
			if (!c->port)
				continue;
			/* first entry with this port (binary search), then by time */
			size_t lo = 0, hi = col.n;
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				if (col.v[mid].port < c->port)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (size_t j = lo; j < col.n && col.v[j].port == c->port; j++) {
				const struct seen_conn *sc = &col.v[j];
				if (sc->first_time < rs->start - MATCH_SLACK ||
				    sc->first_time > rs->end + MATCH_SLACK || owner[sc->id] >= 0)
					continue;
				c->az_id = sc->id;
				c->kind = sc->kind;
				c->initiator = sc->initiator;
				c->lingered = sc->lingered;
				c->linger_seconds = sc->linger_seconds;
				c->linger_bytes = sc->linger_bytes;
				c->fw2[0] = sc->fw2[0];
				c->fw2[1] = sc->fw2[1];
				owner[sc->id] = (int64_t)s;
				owner_conn[sc->id] = i;
				break;
			}
			if (c->lingered) {
				rs->lingered++;
				rs->linger_bytes += c->linger_bytes;
				if (c->linger_seconds > rs->linger_max)
					rs->linger_max = c->linger_seconds;
			}
		}
		if (fw2_sweep(rs, AZ_SERVER) < 0 || fw2_sweep(rs, AZ_CLIENT) < 0) {
			fatal(R, "analyzer: out of memory");
			goto out;
		}
	}

	size_t nf = az_n_findings(o->az);
	for (size_t i = 0; i < nf; i++) {
		const struct az_rst_finding *f = az_finding(o->az, i);
		if (f->conn_id > max_id || owner[f->conn_id] < 0)
			continue;
		struct run_scenario *rs = &o->scenarios[owner[f->conn_id]];
		size_t *nv = realloc(rs->findings, (rs->n_findings + 1) * sizeof *nv);
		if (!nv) {
			fatal(R, "analyzer: out of memory");
			goto out;
		}
		rs->findings = nv;
		rs->findings[rs->n_findings++] = i;
		int side = f->sender == AZ_SERVER ? AZ_SERVER : AZ_CLIENT;
		rs->rst_before_ack[side]++;
		if (f->bytes_at_risk_at_server > rs->bytes_at_risk_max[side])
			rs->bytes_at_risk_max[side] = f->bytes_at_risk_at_server;
	}
	rc = 0;
out:
	free(owner);
	free(owner_conn);
	free(col.v);
	if (cap)
		cap_close(cap);
	return rc;
}

/* ---- judgement ----------------------------------------------------------- */

static bool bare(const struct scn_expect *x, uint64_t count)
{
	return x->negated ? count == 0 : count >= 1;
}

static void conn_name(const struct run_conn *c, char *buf, size_t cap)
{
	if (c->az_id)
		snprintf(buf, cap, "connection %llu (port %u)",
		         (unsigned long long)c->az_id, c->port);
	else if (c->port)
		snprintf(buf, cap, "client port %u", c->port);
	else
		snprintf(buf, cap, "connection %u of set %u", c->index + 1, c->group);
}

static bool judge_response(const struct run_scenario *rs, const struct scn_expect *x,
                           char *d, size_t cap)
{
	char who[64];
	uint32_t n = x->response;
	if (rs->n_conns == 0) {
		snprintf(d, cap, "no connections");
		return false;
	}
	for (size_t i = 0; i < rs->n_conns; i++) {
		const struct run_conn *c = &rs->conns[i];
		conn_name(c, who, sizeof who);
		if (x->negated) {
			if (c->responses_started >= n) {
				snprintf(d, cap, "%s received response %u (status %u)", who, n,
				         n <= c->n_records ? (unsigned)c->rec[n - 1].status : 0u);
				return false;
			}
			continue;
		}
		if (c->responses_started < n) {
			snprintf(d, cap, "%s received %llu response%s", who,
			         (unsigned long long)c->responses_started,
			         c->responses_started == 1 ? "" : "s");
			return false;
		}
		const struct rsp_record *r = &c->rec[n - 1];
		if (x->status && r->status != x->status) {
			snprintf(d, cap, "%s: response %u has status %u", who, n, r->status);
			return false;
		}
		if (x->check == SCN_RC_COMPLETE && !r->complete) {
			snprintf(d, cap, "%s: response %u (status %u) is incomplete (%llu bytes)",
			         who, n, r->status, (unsigned long long)r->bytes);
			return false;
		}
		if (x->check == SCN_RC_INCOMPLETE && r->complete) {
			snprintf(d, cap, "%s: response %u (status %u) is complete", who, n,
			         r->status);
			return false;
		}
	}
	if (x->negated)
		snprintf(d, cap, "no connection received a response %u", n);
	else if (rs->n_conns == 1)
		snprintf(d, cap, "response %u: status %u, %s, %llu bytes", n,
		         rs->conns[0].rec[n - 1].status,
		         rs->conns[0].rec[n - 1].complete ? "complete" : "incomplete",
		         (unsigned long long)rs->conns[0].rec[n - 1].bytes);
	else
		snprintf(d, cap, "all %zu connections received it as stated", rs->n_conns);
	return true;
}

static bool judge_one(const struct run_scenario *rs, const struct scn_expect *x,
                      char *d, size_t cap)
{
	int side = x->side == SCN_SIDE_CLIENT ? AZ_CLIENT : AZ_SERVER;
	const char *sname = side == AZ_CLIENT ? "client" : "server";
	int64_t v = 0;
	char a[32], b[32];
	switch (x->subject) {
	case SCN_X_RST_BEFORE_ACK: {
		uint64_t n = rs->rst_before_ack[side];
		uint64_t risk = rs->bytes_at_risk_max[side];
		if (n)
			snprintf(d, cap, "%llu rst_before_ack finding%s (%s RST), up to %llu bytes at risk",
			         (unsigned long long)n, n == 1 ? "" : "s", sname,
			         (unsigned long long)risk);
		else
			snprintf(d, cap, "no rst_before_ack finding (%s RST)", sname);
		if (x->metric == SCN_M_NONE)
			return bare(x, n);
		v = x->metric == SCN_M_COUNT ? (int64_t)n : (int64_t)risk;
		return scn_compare(v, x->op, x->value);
	}
	case SCN_X_LINGERED:
		snprintf(d, cap, "%llu connection%s lingered, %llu bytes drained, longest %.3f s",
		         (unsigned long long)rs->lingered, rs->lingered == 1 ? "" : "s",
		         (unsigned long long)rs->linger_bytes, rs->linger_max);
		switch (x->metric) {
		case SCN_M_NONE:  return bare(x, rs->lingered);
		case SCN_M_COUNT: v = (int64_t)rs->lingered; break;
		case SCN_M_BYTES: v = (int64_t)rs->linger_bytes; break;
		default:          v = (int64_t)(rs->linger_max * 1e6 + 0.5); break;
		}
		return scn_compare(v, x->op, x->value);
	case SCN_X_FIN_WAIT_2: {
		const struct run_fw2 *f = &rs->fw2[side];
		snprintf(d, cap, "%s fin_wait_2 (analyzer): %llu socket%s, peak %u, longest %.3f s",
		         sname, (unsigned long long)f->count, f->count == 1 ? "" : "s",
		         f->peak, f->max);
		switch (x->metric) {
		case SCN_M_NONE:  return bare(x, f->count);
		case SCN_M_COUNT: v = (int64_t)f->count; break;
		case SCN_M_PEAK:  v = f->peak; break;
		default:          v = (int64_t)(f->max * 1e6 + 0.5); break;
		}
		return scn_compare(v, x->op, x->value);
	}
	case SCN_X_KERNEL: {
		uint32_t p = rs->kernel_peak[x->kstate];
		snprintf(d, cap, "kernel %s peak %u (sampled; %u there at the start)",
		         scn_kstate_name(x->kstate), p, rs->kernel_baseline[x->kstate]);
		if (x->metric == SCN_M_NONE)
			return bare(x, p);
		return scn_compare(p, x->op, x->value);
	}
	case SCN_X_RESPONSE:
		return judge_response(rs, x, d, cap);
	case SCN_X_RESPONSES: {
		if (rs->n_conns == 0) {
			snprintf(d, cap, "no connections");
			return false;
		}
		uint64_t lo = UINT64_MAX, hi = 0;
		bool ok = true;
		char who[64] = "";
		for (size_t i = 0; i < rs->n_conns; i++) {
			const struct run_conn *c = &rs->conns[i];
			uint64_t n = c->responses_complete;
			lo = n < lo ? n : lo;
			hi = n > hi ? n : hi;
			bool good = x->negated ? n == 0 : scn_compare((int64_t)n, x->op, x->value);
			if (!good && ok) {
				ok = false;
				conn_name(c, who, sizeof who);
			}
		}
		if (lo == hi)
			snprintf(a, sizeof a, "%llu", (unsigned long long)lo);
		else
			snprintf(a, sizeof a, "%llu to %llu", (unsigned long long)lo,
			         (unsigned long long)hi);
		if (ok)
			snprintf(d, cap, "%s complete response%s per connection", a,
			         hi == 1 ? "" : "s");
		else
			snprintf(d, cap, "%s complete responses per connection; %s does not match",
			         a, who);
		return ok;
	}
	case SCN_X_RESET: {
		uint64_t n = 0;
		for (size_t i = 0; i < rs->n_conns; i++)
			n += rs->conns[i].reset_seen;
		snprintf(d, cap, "%llu of %zu connection%s received a RST",
		         (unsigned long long)n, rs->n_conns, rs->n_conns == 1 ? "" : "s");
		return bare(x, n);
	}
	case SCN_X_LEAKED_RST:
		snprintf(d, cap, "%llu leaked RST%s", (unsigned long long)rs->leaked_rst,
		         rs->leaked_rst == 1 ? "" : "s");
		if (x->metric == SCN_M_NONE)
			return bare(x, rs->leaked_rst);
		return scn_compare((int64_t)rs->leaked_rst, x->op, x->value);
	}
	(void)b;
	snprintf(d, cap, "unknown expectation");
	return false;
}

int run_judge(struct run_scenario *rs)
{
	const struct scn_scenario *scn = rs->scn;
	free(rs->results);
	rs->results = NULL;
	rs->n_results = 0;
	rs->passed = true;
	/* the client side, over all connections */
	rs->reset_seen = false;
	rs->bytes_received = 0;
	for (size_t i = 0; i < rs->n_conns; i++) {
		rs->reset_seen |= rs->conns[i].reset_seen;
		rs->bytes_received += rs->conns[i].bytes_received;
	}
	if (!scn->n_expects)
		return 0;
	rs->results = calloc(scn->n_expects, sizeof *rs->results);
	if (!rs->results)
		return -1;
	for (size_t i = 0; i < scn->n_expects; i++) {
		struct run_expect_result *r = &rs->results[i];
		r->x = &scn->expects[i];
		r->passed = judge_one(rs, r->x, r->detail, sizeof r->detail);
		rs->passed &= r->passed;
	}
	rs->n_results = scn->n_expects;
	return 0;
}

/* ---- the whole run ------------------------------------------------------- */

void run_outcome_free(struct run_outcome *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n_scenarios; i++) {
		free(o->scenarios[i].conns);
		free(o->scenarios[i].findings);
		free(o->scenarios[i].results);
	}
	free(o->scenarios);
	free(o->samples);
	free(o->command);
	free(o->capture_path);
	az_free(o->az);
	free(o);
}

static enum run_status from_labnet(int st)
{
	return st == LABNET_ENV ? RUN_ENV : RUN_ERR;
}

enum run_status run_execute(const struct run_config *cfg,
                            struct scn_scenario *const *scns, size_t n,
                            struct run_outcome **out, char *err, size_t errlen)
{
	enum run_status status = RUN_ERR;
	struct runner R;
	struct labnet ln;
	char msg[512] = "";
	char addr[INET_ADDRSTRLEN], raw[INET_ADDRSTRLEN];
	int saved_ns = -1;
	bool lab_made = false;

	memset(&R, 0, sizeof R);
	memset(&ln, 0, sizeof ln);
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	R.cfg = cfg;

	if (cfg->target.kind == RUN_TARGET_REMOTE) {
		snprintf(err, errlen,
		         "--target %s:%u: remote targets are not supported in raw mode yet: "
		         "the host kernel would answer the raw client's packets with RSTs of its own, "
		         "and suppressing them needs an explicit opt-in a later version adds; "
		         "run the server inside the lab with --serve 'COMMAND' --port N",
		         cfg->target.host ? cfg->target.host : "?", cfg->target.port);
		return RUN_UNSUPPORTED;
	}
	if (!cfg->capture_path || !*cfg->capture_path) {
		snprintf(err, errlen, "run: no capture path");
		return RUN_USAGE;
	}
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += scns[i]->total_connections;
	if (total > RUN_MAX_CONNECTIONS) {
		snprintf(err, errlen, "run: %llu connections in all; one run drives at most %d",
		         (unsigned long long)total, RUN_MAX_CONNECTIONS);
		return RUN_USAGE;
	}
	R.port = cfg->target.port ? cfg->target.port : 80;
	R.interval_us = cfg->sample_interval_us ? cfg->sample_interval_us
	                                        : DEFAULT_INTERVAL_US;

	int st = labnet_check_env(msg, sizeof msg);
	if (st != LABNET_OK) {
		snprintf(err, errlen, "%s", msg);
		return from_labnet(st);
	}

	struct run_outcome *o = calloc(1, sizeof *o);
	R.o = o;
	if (o) {
		o->samples = malloc(sizeof *o->samples * RUN_MAX_SAMPLES);
		o->scenarios = calloc(n ? n : 1, sizeof *o->scenarios);
		o->capture_path = strdup(cfg->capture_path);
	}
	R.scratch_cap = 2 * SCN_MAX_LINE + 1024;
	R.scratch = malloc(R.scratch_cap);
	if (!o || !o->samples || !o->scenarios || !o->capture_path || !R.scratch) {
		snprintf(err, errlen, "run: out of memory");
		goto out;
	}
	o->n_scenarios = n;
	for (size_t i = 0; i < n; i++)
		o->scenarios[i].scn = scns[i];
	o->kind = cfg->target.kind;
	snprintf(o->policy, sizeof o->policy, "%s",
	         cfg->target.kind == RUN_TARGET_BUILTIN && cfg->target.policy
	         ? cfg->target.policy : "");
	o->port = R.port;
	o->rtt_us = cfg->rtt_us;
	o->sample_interval = R.interval_us / 1e6;

	struct labnet_opts lo = { .tag = cfg->lab_tag };
	st = labnet_setup(&ln, &lo, msg, sizeof msg);
	if (st != LABNET_OK) {
		snprintf(err, errlen, "%s", msg);
		status = from_labnet(st);
		goto out;
	}
	lab_made = true;
	snprintf(o->server_ns, sizeof o->server_ns, "%s", ln.server_ns);
	snprintf(o->client_ns, sizeof o->client_ns, "%s", ln.client_ns);
	labnet_addr_str(ln.server_addr, addr, sizeof addr);
	labnet_addr_str(ln.raw_addr, raw, sizeof raw);
	snprintf(o->address, sizeof o->address, "%s", addr);
	if (R.port == 80)
		snprintf(R.host, sizeof R.host, "%s", addr);
	else
		snprintf(R.host, sizeof R.host, "%s:%u", addr, R.port);

	struct launch_spec spec;
	memset(&spec, 0, sizeof spec);
	spec.kind = cfg->target.kind == RUN_TARGET_BUILTIN ? LAUNCH_BUILTIN : LAUNCH_COMMAND;
	spec.policy = cfg->target.policy;
	spec.extra_args = cfg->target.extra_args;
	spec.command = cfg->target.command;
	spec.port = R.port;
	spec.log_path = cfg->target_log;
	st = launch_start(&ln, &spec, &R.target, msg, sizeof msg);
	if (st != LABNET_OK) {
		snprintf(err, errlen, "%s", msg);
		status = from_labnet(st);
		goto out;
	}
	o->command = strdup(launch_command(R.target));
	if (!o->command) {
		snprintf(err, errlen, "run: out of memory");
		goto out;
	}
	if (cfg->stop && *cfg->stop) {
		status = RUN_INTERRUPTED;
		goto out;
	}

	R.sd = sockdiag_open_in(ln.server_ns, msg, sizeof msg);
	if (!R.sd) {
		snprintf(err, errlen, "%s", msg);
		goto out;
	}

	/* the raw client's sockets belong to the client namespace */
	if (labnet_enter(ln.client_ns, &saved_ns, msg, sizeof msg) != LABNET_OK) {
		snprintf(err, errlen, "%s", msg);
		goto out;
	}
	struct rawtcp_config rcfg;
	rawtcp_config_init(&rcfg);
	rcfg.iface = ln.client_if;
	rcfg.local_addr = raw;
	rcfg.peer_addr = addr;
	rcfg.rtt_us = cfg->rtt_us > 0 ? (uint32_t)cfg->rtt_us : 0;
	R.c = rawtcp_open(&rcfg, msg, sizeof msg);
	if (R.c && rawtcp_dump_open(R.c, cfg->capture_path, msg, sizeof msg) < 0) {
		rawtcp_free(R.c);
		R.c = NULL;
	}
	{
		char lerr[256];
		if (labnet_leave(&saved_ns, lerr, sizeof lerr) != LABNET_OK) {
			snprintf(err, errlen, "%s", lerr);
			goto out;
		}
	}
	if (!R.c) {
		snprintf(err, errlen, "%s", msg);
		goto out;
	}

	struct timespec rt;
	if (clock_gettime(CLOCK_REALTIME, &rt) < 0) {
		snprintf(err, errlen, "clock_gettime: %s", strerror(errno));
		goto out;
	}
	uint64_t mono = rawtcp_now_us();
	R.epoch_offset_us = (int64_t)rt.tv_sec * 1000000 + rt.tv_nsec / 1000 - (int64_t)mono;

	for (size_t i = 0; i < n && !R.fatal && !R.interrupted; i++) {
		play(&R, &o->scenarios[i]);
		int ws = 0;
		char perr[200];
		if (!o->target_exited && launch_poll(R.target, &ws, perr, sizeof perr) == 1) {
			o->target_exited = true;
			o->target_status = ws;
			launch_log_tail(R.target, o->target_log_tail, sizeof o->target_log_tail);
		}
	}
	R.sampling = false;

	rawtcp_dump_close(R.c);
	struct rawtcp_stats stats;
	rawtcp_stats(R.c, &stats);
	o->leaked_rst = stats.leaked_rsts;
	o->pcap_drops = stats.pcap_drops;
	rawtcp_free(R.c);
	R.c = NULL;

	if (R.interrupted) {
		status = RUN_INTERRUPTED;
		snprintf(err, errlen, "run: interrupted");
		goto out;
	}
	if (R.fatal) {
		snprintf(err, errlen, "%s", R.err);
		goto out;
	}
	status = RUN_OK;

out:
	if (saved_ns >= 0)
		labnet_leave(&saved_ns, msg, sizeof msg);
	if (R.c) {
		rawtcp_dump_close(R.c);
		rawtcp_free(R.c);
		R.c = NULL;
	}
	if (R.sd)
		sockdiag_close(R.sd);
	if (R.target) {
		launch_stop(R.target, NULL, msg, sizeof msg);
		launch_free(R.target);
	}
	if (lab_made && labnet_teardown(&ln, msg, sizeof msg) != LABNET_OK &&
	    status == RUN_OK) {
		/* the run itself is fine; the leftover is named for `lab clean` */
		snprintf(o->lab_error, sizeof o->lab_error, "%s", msg);
	}
	free(R.scratch);

	if (status == RUN_OK) {
		struct in_addr raw_in = ln.raw_addr;
		if (analyze(&R, raw_in) < 0) {
			snprintf(err, errlen, "%s", R.err);
			status = RUN_ERR;
		}
	}
	if (status == RUN_OK) {
		o->passed = o->leaked_rst == 0;
		for (size_t i = 0; i < o->n_scenarios; i++) {
			if (run_judge(&o->scenarios[i]) < 0) {
				snprintf(err, errlen, "run: out of memory");
				status = RUN_ERR;
				break;
			}
			o->passed &= o->scenarios[i].passed;
		}
	}
	if (status != RUN_OK) {
		run_outcome_free(o);
		return status;
	}
	*out = o;
	return RUN_OK;
}
