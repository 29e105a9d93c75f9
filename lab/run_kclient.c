/*
 * run_kclient.c - `client kernel` connections in the runner (run_int.h).
 * The steps' syscalls are lab/kclient.c's; here they meet the connection
 * machine: which step maps to which call, when the application closes,
 * what a `wait` waits for, the 1 ms tick that polls every socket (and
 * watches the client program, lab/clientprog.h), and what the application
 * saw, for the report.
 */
#include "lab/run_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/tcp.h>
#include "lab/netns.h"


static void kpump(struct runner *R, struct rconn *rc, short revents);

/* ---- kernel clients (`client kernel`): the hooks ------------------------
 * The steps' syscalls are lab/kclient.c's; here they meet the connection
 * machine: which step maps to which call, when the application closes,
 * what a `wait` waits for. */

bool rkc_closed(const struct rconn *rc)
{
	if (!rc->kc)
		return false;
	struct kc_info ki;
	kc_info(rc->kc, &ki);
	return !ki.fd_open || ki.connect_failed ||
	       ki.tcp_state == TCP_CLOSE || ki.tcp_state == TCP_TIME_WAIT;
}

/* `fin close`: the application closes when it has read end-of-file (or a
 * read failed) and has nothing left to write, or its writes failed;
 * `fin half-close`: shutdown(SHUT_WR) after its last write. */
void rkc_fin_check(struct rconn *rc)
{
	if (!rc->kc || rc->shut || !rc->established)
		return;
	struct kc_info ki;
	kc_info(rc->kc, &ki);
	if (!ki.fd_open)
		return;
	bool ahead = rconn_sends_ahead(rc);
	if (!ahead)
		kc_sends_done(rc->kc);
	switch (rc->fin) {
	case SCN_FIN_CLOSE:
		if ((ki.eof || ki.read_failed) && (!ahead || ki.write_failed)) {
			rc->shut = true;
			kc_close(rc->kc);
		}
		break;
	case SCN_FIN_HALF_CLOSE:
		if (!ahead) {
			rc->shut = true;
			kc_shutdown(rc->kc);
		}
		break;
	case SCN_FIN_NEVER:
		break;
	}
}

bool rkc_wait_satisfied(const struct rconn *rc, const struct scn_step *st)
{
	struct kc_info ki;
	kc_info(rc->kc, &ki);
	int t = ki.tcp_state;
	switch (st->u.wait.event) {
	case SCN_WAIT_DATA:
		return ki.bytes_read >= st->u.wait.count;
	case SCN_WAIT_RESPONSE:
		return rc->http.completed >= rc->wait_target;
	case SCN_WAIT_FIN:
		/* the application's end-of-file, or its kernel's word when it
		 * does not read */
		return ki.eof || t == TCP_CLOSE_WAIT || t == TCP_LAST_ACK ||
		       t == TCP_CLOSING || t == TCP_TIME_WAIT;
	case SCN_WAIT_RST:
		return ki.reset || (ki.fd_open && ki.connected && t == TCP_CLOSE &&
		                    !ki.shut_wr && !ki.eof);
	case SCN_WAIT_CLOSED:
		return rkc_closed(rc);
	case SCN_WAIT_SENT:
		return !ki.writes_pending && ki.unsent == 0;
	case SCN_WAIT_ACKED:
		return !ki.writes_pending && ki.unacked == 0;
	}
	return false;
}

static void kon_data(void *arg, const uint8_t *p, size_t n)
{
	struct rconn *rc = arg;
	if (n)
		rsp_feed(&rc->http, p, n);
	else
		rsp_eof(&rc->http);
}




/* A kernel connection's send, request or body: into the application's
 * write queue (a body waits for the one before, as with the raw client). */
static void kdo_send(struct runner *R, struct rconn *rc, const struct scn_step *st,
                     const uint8_t *p, size_t n, int request_head)
{
	const char *why = NULL;
	if (rc->body_active) {
		rconn_unexec(rc);
		rconn_block(R, rc, BL_BODY, st, 0);
		return;
	}
	int r = st->kind == SCN_BODY
		? kc_body(rc->kc, st->u.body.size, st->u.body.rate, st->u.body.chunk, &why)
		: kc_write(rc->kc, p, n, &why);
	if (r < 0) {
		if (!rc->dropped_noted)
			rconn_note(rc, "line %u: %s not sent: %s", st->line, scn_step_name(st->kind), why);
		rc->dropped_noted = true;
		return;
	}
	if (st->kind == SCN_BODY && st->u.body.size)
		rc->body_active = true;
	if (request_head == 2)   /* a send: its request lines, if any */
		rsp_sent(&rc->http, p, n);
	else if (request_head >= 0)
		rsp_request(&rc->http, request_head == 1);
	kpump(R, rc, 0);
}

/* The steps a kernel connection maps to syscalls (kclient.h); the rest
 * (wait, sleep, hold, repeat) are the machine's own. Returns false for
 * those. The parser has refused ack, after and vanish. */
bool rkc_exec_step(struct runner *R, struct rconn *rc, const struct scn_step *st)
{
	char err[200];
	switch (st->kind) {
	case SCN_CONNECT: {
		struct kc_opts ko;
		memset(&ko, 0, sizeof ko);
		ko.server = R->server_addr;
		ko.port = R->port;
		ko.has_rcvbuf = rc->has_rcvbuf;
		ko.rcvbuf = rc->rcvbuf;
		ko.read = (enum kc_read)rc->read;
		ko.t0_us = R->t0_us;
		ko.on_data = kon_data;
		ko.arg = rc;
		if (R->kdelay_on) {
			/* through the delay line (lab/kdelay.h) */
			ko.has_bind = true;
			ko.bind_addr = kdelay_addr(R->kd);
			ko.mark = KDELAY_MARK;
		}
		int saved = -1;
		if (labnet_enter(R->client_ns, &saved, err, sizeof err) != LABNET_OK) {
			runner_fatal(R, "%s", err);
			return true;
		}
		rc->kc = kc_open(&ko, err, sizeof err);
		char lerr[256];
		if (labnet_leave(&saved, lerr, sizeof lerr) != LABNET_OK)
			runner_fatal(R, "%s", lerr);
		if (!rc->kc) {
			rconn_note(rc, "line %u: %s", st->line, err);
			rconn_failed(R, rc);
			return true;
		}
		struct kc_info ki;
		kc_info(rc->kc, &ki);
		rc->out->port = ki.local_port;
		R->by_port[rc->out->port] = rc->out;
		rconn_block(R, rc, BL_CONNECT, st, st->u.connect.timeout_us
		      ? st->u.connect.timeout_us : SCN_DEFAULT_WAIT_US);
		return true;
	}
	case SCN_SEND:
		kdo_send(R, rc, st, st->u.send.data, st->u.send.len, 2);
		return true;
	case SCN_REQUEST: {
		const char *host = R->scn->host ? R->scn->host : R->host;
		size_t need = scn_request_format(st, host, R->scratch, R->scratch_cap);
		if (need > R->scratch_cap) {
			rconn_note(rc, "line %u: request too long (%zu bytes)", st->line, need);
			return true;
		}
		kdo_send(R, rc, st, R->scratch, need, strcmp(st->u.request.method, "HEAD") == 0);
		return true;
	}
	case SCN_BODY:
		kdo_send(R, rc, st, NULL, 0, -1);
		return true;
	case SCN_WINDOW:
		rc->has_rcvbuf = true;
		rc->rcvbuf = st->u.window;
		if (rc->kc)
			kc_set_rcvbuf(rc->kc, st->u.window);
		return true;
	case SCN_READ:
		rc->read = st->u.read;
		if (rc->kc) {
			kc_set_read(rc->kc, (enum kc_read)st->u.read);
			kpump(R, rc, 0);
		}
		return true;
	case SCN_FIN_POLICY:
		rc->fin = st->u.fin;
		rconn_fin_check(R, rc);
		return true;
	case SCN_SHUTDOWN:
		if (rc->kc && !rc->shut) {
			rc->shut = true;
			kc_shutdown(rc->kc);
			kpump(R, rc, 0);
		}
		return true;
	case SCN_ABORT:
		if (rc->kc)
			kc_abort(rc->kc);
		rc->body_active = false;
		return true;
	default:
		return false;
	}
}

/* ---- kernel clients: the tick ------------------------------------------- */

/* Let a kernel connection's application make its next syscalls and take
 * in what happened. Never advances the script (callers inside a step
 * must not recurse): rkc_tick does that. */
static void kpump(struct runner *R, struct rconn *rc, short revents)
{
	if (!rc->kc || R->phase >= PH_CLEANUP)
		return;
	unsigned ev = kc_pump(rc->kc, revents, rawtcp_now_us());
	if (ev & KC_EV_CONNECTED)
		rc->established = true;
	if (ev & KC_EV_EOF)
		rc->peer_fin = true;
	struct kc_info ki;
	kc_info(rc->kc, &ki);
	rc->body_active = ki.body_active;
	if (ki.reset)
		rc->peer_rst = true;
	bool was_shut = rc->shut;
	rconn_fin_check(R, rc);
	if (rc->shut != was_shut)
		kc_pump(rc->kc, 0, rawtcp_now_us()); /* a close the policy just asked for */
}

/* Poll every kernel socket of the scenario without blocking, pump each
 * application, move the machines along; and watch the client program. */
void rkc_tick(struct runner *R)
{
	if (R->kd) {
		char err[256];
		if (kdelay_pump(R->kd, rawtcp_now_us(), err, sizeof err) < 0) {
			runner_fatal(R, "%s", err);
			return;
		}
	}
	if (R->prog && R->phase == PH_RUNNING && cprog_poll(R->prog, rawtcp_now_us())) {
		/* the program is the scenario's one "connection" */
		R->phase = PH_SETTLE;
		runner_timer(R, COOKIE_PHASE, SETTLE_EXTRA_US);
	}
	if (R->pfd_cap < R->n_rc) {
		struct pollfd *nv = realloc(R->pfd, R->n_rc * sizeof *nv);
		if (!nv) {
			runner_fatal(R, "run: out of memory");
			return;
		}
		R->pfd = nv;
		R->pfd_cap = R->n_rc;
	}
	for (size_t i = 0; i < R->n_rc; i++) {
		struct rconn *rc = &R->rc[i];
		R->pfd[i].fd = rc->kc ? kc_fd(rc->kc) : -1;
		R->pfd[i].events = rc->kc ? kc_poll_events(rc->kc) : 0;
		R->pfd[i].revents = 0;
	}
	if (R->n_rc && poll(R->pfd, R->n_rc, 0) < 0 && errno != EINTR) {
		runner_fatal(R, "poll: %s", strerror(errno));
		return;
	}
	for (size_t i = 0; i < R->n_rc && !R->fatal; i++) {
		struct rconn *rc = &R->rc[i];
		if (!rc->kc)
			continue;
		kpump(R, rc, R->pfd[i].revents);
		if (rconn_try_unblock(R, rc))
			rconn_advance(R, rc);
	}
}


/* A kernel connection: what its application saw. */
void rkc_snapshot(struct runner *R, struct rconn *rc)
{
	struct run_conn *out = rc->out;
	struct run_app *a = &out->app;
	a->kernel = true;
	a->read = rc->read;
	if (!rc->kc)
		return;
	struct kc_info ki;
	kc_info(rc->kc, &ki);
	a->bytes_written = ki.bytes_written;
	a->bytes_read = ki.bytes_read;
	a->eof = ki.eof;
	a->closed_by_app = !ki.fd_open;
	a->aborted = ki.aborted;
	a->client_state = ki.fd_open ? kc_tcp_state_name(ki.tcp_state) : "CLOSED";
	a->n_errors = ki.n_errors;
	a->errors_dropped = ki.errors_dropped;
	for (uint32_t j = 0; j < ki.n_errors && j < RUN_APP_MAX_ERRORS; j++) {
		snprintf(a->err[j].call, sizeof a->err[j].call, "%s", ki.err[j].call);
		a->err[j].errnum = ki.err[j].errnum;
		a->err[j].t = ki.err[j].t_us / 1e6;
	}
	out->connected = ki.connected;
	out->reset_seen = rc->peer_rst;
	out->fin_seen = rc->peer_fin;
	out->closed = rkc_closed(rc);
	out->state = a->client_state;
	if (out->closed)
		out->close_reason = ki.aborted ? "aborted" : ki.reset ? "reset"
		                  : !ki.fd_open ? "closed by the application" : "closed";
	out->bytes_sent = ki.bytes_written;
	out->bytes_received = ki.bytes_read;
	(void)R;
}

/* Copy what the client knows about each connection into the outcome. */
