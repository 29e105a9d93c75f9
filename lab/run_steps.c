/*
 * run_steps.c - the connection machine (run_int.h): the step cursor
 * through `repeat` blocks, blocking on a step that waits and unblocking
 * when what it waits for happened, the raw client's steps (exec_step) and
 * the FIN policy. Kernel clients' steps are in run_kclient.c, TLS in
 * run_tls.c.
 */
#include "lab/run_int.h"

#include <string.h>



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
void rconn_unexec(struct rconn *rc)
{
	rc->fr[rc->depth].i--;
}

/* Line of the step the connection stands at (for notes). */
unsigned rconn_line(const struct rconn *rc)
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
bool rconn_sends_ahead(const struct rconn *rc)
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



bool rconn_closed(const struct rconn *rc)
{
	if (rc->kernel)
		return rkc_closed(rc);
	return rc->k && rawtcp_conn_state(rc->k) == RAWTCP_CLOSED;
}


/* FIN policy: send our FIN when the policy says it is time. */
void rconn_fin_check(struct runner *R, struct rconn *rc)
{
	char err[200];
	if (rc->kernel) {
		rkc_fin_check(rc);
		return;
	}
	if (!rc->k || rc->shut || rc->vanished || rconn_closed(rc) || !rc->established)
		return;
	/* a body still going through TLS: our close_notify (and FIN) would
	 * cut it, and OpenSSL writes nothing after our close_notify;
	 * rtls_body_tick checks again when the body is over */
	if (rc->tb_on)
		return;
	bool go = false;
	switch (rc->fin) {
	case SCN_FIN_CLOSE:
		/* the server's FIN, or under TLS its close_notify: a TLS client
		 * (curl, a browser) that reads the close_notify closes too, with
		 * its own close_notify and its FIN, FIN or not from the server */
		go = (rc->peer_fin || (rc->tls && rc->out->tls_peer_close_notify)) &&
		     (!rc->after_fin_continue || !rconn_sends_ahead(rc));
		break;
	case SCN_FIN_HALF_CLOSE:
		go = !rconn_sends_ahead(rc);
		break;
	case SCN_FIN_NEVER:
		break;
	}
	if (!go)
		return;
	rc->shut = true;
	rtls_close(R, rc);
	if (rawtcp_shutdown(rc->k, err, sizeof err) < 0)
		rconn_note(rc, "fin: %s", err);
}

void rconn_done(struct runner *R, struct rconn *rc)
{
	if (rc->st == RC_DONE)
		return;
	rconn_timer_cancel(R, rc);
	rc->st = RC_DONE;
	rc->bl = BL_NONE;
	rc->blk = NULL;
	R->n_done++;
	rconn_fin_check(R, rc);
	if (R->n_done == R->n_rc && R->phase == PH_RUNNING) {
		R->phase = PH_SETTLE;
		uint64_t rtt = R->rs->rtt_us > 0 ? (uint64_t)R->rs->rtt_us : 0;
		runner_timer(R, COOKIE_PHASE, rtt + SETTLE_EXTRA_US);
	}
}

void rconn_failed(struct runner *R, struct rconn *rc)
{
	rc->out->failed = true;
	rconn_done(R, rc);
}

static void unblock(struct runner *R, struct rconn *rc)
{
	rconn_timer_cancel(R, rc);
	rc->st = RC_RUNNING;
	rc->bl = BL_NONE;
	rc->blk = NULL;
}

/* Why a closed connection closed: rawtcp's reason, or the kernel
 * client's first syscall error. */
static const char *close_why(const struct rconn *rc)
{
	if (rc->kernel) {
		struct kc_info ki;
		if (!rc->kc)
			return "no socket";
		kc_info(rc->kc, &ki);
		if (ki.n_errors)
			return strerrorname_np(ki.err[0].errnum) ? strerrorname_np(ki.err[0].errnum)
			                                         : "error";
		return ki.fd_open ? kc_tcp_state_name(ki.tcp_state) : "closed by the application";
	}
	struct rawtcp_conn_info info;
	rawtcp_conn_info(rc->k, &info);
	return rawtcp_close_reason_name(info.close_reason);
}

static bool wait_satisfied(struct rconn *rc)
{
	const struct scn_step *st = rc->blk;
	if (rc->kernel)
		return rkc_wait_satisfied(rc, st);
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
 * true when it may run again (the caller then calls rconn_advance(): never from
 * here, so a long run of waits that are already satisfied does not
 * recurse).
 */
bool rconn_try_unblock(struct runner *R, struct rconn *rc)
{
	if (rc->st != RC_BLOCKED)
		return false;
	switch (rc->bl) {
	case BL_CONNECT:
		if (rc->established && (!rc->tls_on || (rc->tls && tlsc_done(rc->tls)))) {
			unblock(R, rc);
			return true;
		}
		if (rtls_handshake_cut(rc, rc->blk->line)) {
			rconn_failed(R, rc);
			return false;
		}
		if (rconn_closed(rc)) {
			rconn_note(rc, "line %u: connect failed (%s)", rc->blk->line, close_why(rc));
			rconn_failed(R, rc);
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
		if (rconn_closed(rc)) {
			rconn_note(rc, "line %u: wait %s ended: connection closed (%s)",
			     rc->blk->line, runner_wait_name(rc->blk->u.wait.event), close_why(rc));
			unblock(R, rc);
			return true;
		}
		return false;
	case BL_HOLD:
		if (rconn_closed(rc)) {
			unblock(R, rc);
			return true;
		}
		return false;
	case BL_BODY:
		if (!rc->body_active || rconn_closed(rc)) {
			unblock(R, rc);
			return true;
		}
		return false;
	default:
		return false;
	}
}

void rconn_block(struct runner *R, struct rconn *rc, enum rc_block bl,
                 const struct scn_step *st, int64_t timeout_us)
{
	rc->st = RC_BLOCKED;
	rc->bl = bl;
	rc->blk = st;
	if (timeout_us > 0)
		rconn_timer_set(R, rc, timeout_us);
	rconn_try_unblock(R, rc); /* already true? then rconn_advance()'s loop goes on */
}

/* A connection's own timer fired. */
void rconn_timer_fired(struct runner *R, struct rconn *rc)
{
	char d[32];
	if (rc->st == RC_PENDING) {
		rc->st = RC_RUNNING;
		rconn_advance(R, rc);
		return;
	}
	if (rc->st != RC_BLOCKED)
		return;
	const struct scn_step *st = rc->blk;
	switch (rc->bl) {
	case BL_CONNECT:
		runner_fmt_dur(st->u.connect.timeout_us ? st->u.connect.timeout_us
		                                 : SCN_DEFAULT_WAIT_US, d, sizeof d);
		if (rc->established && rc->tls_on)
			rconn_note(rc, "line %u: TLS handshake timed out after %s (%s)", st->line, d,
			     rc->tls_wire ? "the server's answer did not finish it"
			                  : "the server sent nothing back: not a TLS server?");
		else
			rconn_note(rc, "line %u: connect timed out after %s", st->line, d);
		if (rc->kernel)
			kc_abort(rc->kc);
		else
			rawtcp_abort(rc->k);
		rconn_failed(R, rc);
		return;
	case BL_WAIT:
		runner_fmt_dur(st->u.wait.timeout_us ? st->u.wait.timeout_us
		                              : SCN_DEFAULT_WAIT_US, d, sizeof d);
		rconn_note(rc, "line %u: wait %s timed out after %s", st->line,
		     runner_wait_name(st->u.wait.event), d);
		break;
	default:
		break;
	}
	unblock(R, rc);
	rconn_advance(R, rc);
}

/* Queue bytes, honouring the after-FIN/RST settings and the body.
 * request_head: -1 a body, 0 or 1 a `request` (1: HEAD), 2 a `send`
 * whose request lines are counted (rsp_sent). */
static void do_send(struct runner *R, struct rconn *rc, const struct scn_step *st,
                    const uint8_t *p, size_t n, int request_head)
{
	char err[200];
	if (rc->body_active) {
		rconn_unexec(rc);
		rconn_block(R, rc, BL_BODY, st, 0);
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
			rconn_note(rc, "line %u: %s not sent: %s", st->line, scn_step_name(st->kind), why);
		rc->dropped_noted = true;
		return;
	}
	if (rc->tls_on && rc->tls_stop_sends) {
		if (!rc->dropped_noted)
			rconn_note(rc, "line %u: %s not sent: the server's close_notify arrived",
			     st->line, scn_step_name(st->kind));
		rc->dropped_noted = true;
		return;
	}
	if (rc->tls_on && rc->tls) {
		if (st->kind == SCN_BODY) {
			rc->tb_on = true;
			rc->body_active = true;
			rc->tb_left = st->u.body.size;
			rc->tb_rate = st->u.body.rate;
			rc->tb_chunk = st->u.body.chunk && st->u.body.chunk < TLS_PIECE
			               ? st->u.body.chunk : TLS_PIECE;
			rtls_body_arm(R, rc, 0);
			return;
		}
		if (tlsc_write(rc->tls, p, n, err, sizeof err) < 0) {
			rconn_note(rc, "line %u: %s", st->line, err);
			return;
		}
		rtls_pump(rc);
		if (request_head == 2)
			rsp_sent(&rc->http, p, n);
		else if (request_head >= 0)
			rsp_request(&rc->http, request_head == 1);
		rconn_fin_check(R, rc);
		return;
	}
	int r = st->kind == SCN_BODY
		? rawtcp_send_body(rc->k, st->u.body.size, st->u.body.rate,
		                   st->u.body.chunk, err, sizeof err)
		: rawtcp_send(rc->k, p, n, err, sizeof err);
	if (r < 0) {
		if (strstr(err, "send buffer full")) {
			rconn_unexec(rc);
			rconn_block(R, rc, BL_RETRY, st, SEND_RETRY_US);
			return;
		}
		rconn_note(rc, "line %u: %s", st->line, err);
		return;
	}
	if (st->kind == SCN_BODY)
		rc->body_active = true;
	if (request_head == 2)   /* a send: its request lines, if any */
		rsp_sent(&rc->http, p, n);
	else if (request_head >= 0)
		rsp_request(&rc->http, request_head == 1);
	rconn_fin_check(R, rc);
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
	if (rc->kernel && rkc_exec_step(R, rc, st))
		return;
	switch (st->kind) {
	case SCN_CONNECT:
		rc->k = rawtcp_connect(R->c, &rc->opts, err, sizeof err);
		if (!rc->k) {
			rconn_note(rc, "line %u: %s", st->line, err);
			rconn_failed(R, rc);
			return;
		}
		rc->out->port = rawtcp_conn_local_port(rc->k);
		R->by_port[rc->out->port] = rc->out;
		rconn_block(R, rc, BL_CONNECT, st, st->u.connect.timeout_us
		      ? st->u.connect.timeout_us : SCN_DEFAULT_WAIT_US);
		return;
	case SCN_SEND:
		do_send(R, rc, st, st->u.send.data, st->u.send.len, 2);
		return;
	case SCN_REQUEST: {
		const char *host = R->scn->host ? R->scn->host : R->host;
		size_t need = scn_request_format(st, host, R->scratch, R->scratch_cap);
		if (need > R->scratch_cap) {
			rconn_note(rc, "line %u: request too long (%zu bytes)", st->line, need);
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
		rconn_fin_check(R, rc);
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
		if (!rc->shut && !rconn_closed(rc) && !rc->vanished) {
			rc->shut = true;
			rtls_close(R, rc);
			if (rawtcp_shutdown(rc->k, err, sizeof err) < 0)
				rconn_note(rc, "line %u: %s", st->line, err);
		}
		return;
	case SCN_ABORT:
		rawtcp_abort(rc->k);
		return;
	case SCN_VANISH:
		rawtcp_silence(rc->k);
		rc->vanished = true;
		return;
	case SCN_READ:
		return; /* the parser keeps `read` to kernel clients */
	case SCN_DROP:
	case SCN_REORDER: {
		/* a setting: before `connect` it rides in the options (a rule
		 * for the SYN or the SYN-ACK must be there in time) */
		struct rawtcp_fault f = {
			.dir = st->u.fault.out ? RAWTCP_DIR_OUT : RAWTCP_DIR_IN,
			.kind = st->kind == SCN_DROP ? RAWTCP_FAULT_DROP : RAWTCP_FAULT_REORDER,
			.fin = st->u.fault.fin, .nth = st->u.fault.nth };
		if (rc->k) {
			if (rawtcp_add_fault(rc->k, &f, err, sizeof err) < 0)
				rconn_note(rc, "line %u: %s", st->line, err);
			else
				rc->faults_set++;
		} else if (rc->opts.n_faults < RAWTCP_MAX_FAULTS) {
			rc->opts.faults[rc->opts.n_faults++] = f;
			rc->faults_set++;
		} else {
			rconn_note(rc, "line %u: at most %d drop/reorder rules per connection",
			     st->line, RAWTCP_MAX_FAULTS);
		}
		return;
	}
	case SCN_RST:
		if (!rconn_closed(rc) && !rc->vanished &&
		    rawtcp_send_rst(rc->k, st->u.rst.seq_off, st->u.rst.has_ack,
		                    st->u.rst.ack_off, err, sizeof err) < 0)
			rconn_note(rc, "line %u: %s", st->line, err);
		return;
	case SCN_WAIT:
		if (st->u.wait.event == SCN_WAIT_RESPONSE)
			rc->wait_target = st->u.wait.count ? st->u.wait.count
			                                   : rc->resp_cursor + 1;
		rconn_block(R, rc, BL_WAIT, st, st->u.wait.timeout_us
		      ? st->u.wait.timeout_us : SCN_DEFAULT_WAIT_US);
		return;
	case SCN_SLEEP:
		if (st->u.sleep_us > 0)
			rconn_block(R, rc, BL_SLEEP, st, st->u.sleep_us);
		return;
	case SCN_HOLD:
		if (st->u.hold_us != 0)
			rconn_block(R, rc, BL_HOLD, st, st->u.hold_us > 0 ? st->u.hold_us : 0);
		return;
	case SCN_REPEAT:
		return; /* next_step opens repeats */
	}
}

void rconn_advance(struct runner *R, struct rconn *rc)
{
	while (rc->st == RC_RUNNING && !R->fatal) {
		const struct scn_step *st = next_step(rc);
		if (!st) {
			rconn_done(R, rc);
			return;
		}
		exec_step(R, rc, st);
		if (rc->st == RC_RUNNING && st->kind != SCN_CONNECT)
			rconn_fin_check(R, rc);
	}
}
