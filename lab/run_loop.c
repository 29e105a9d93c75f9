/*
 * run_loop.c - the runner's event loop (run_int.h): timers and their
 * cookies, rawtcp's events handed to the connection machines, a scenario's
 * phases (running, settle, clean-up, finished) and the snapshot of what
 * the client knows, and one scenario played from start to end (play),
 * with its tcp_fin_timeout sysctl set and put back.
 */
#include "lab/run_int.h"

#include <stdlib.h>
#include <string.h>
#include "lab/netns.h"



/* ---- connection timers ------------------------------------------------- */

void rconn_timer_cancel(struct runner *R, struct rconn *rc)
{
	if (rc->timer_on) {
		rawtcp_timer_cancel(R->c, rc->timer_id);
		rc->timer_on = false;
	}
}

void rconn_timer_set(struct runner *R, struct rconn *rc, int64_t after_us)
{
	char err[200];
	rconn_timer_cancel(R, rc);
	rc->tgen++;
	uint64_t cookie = ((uint64_t)(rc->idx + 1) << 40) |
	                  ((uint64_t)(R->seq & 0xff) << 32) | rc->tgen;
	rc->timer_id = rawtcp_timer_add(R->c, rawtcp_now_us() + (uint64_t)after_us,
	                                cookie, err, sizeof err);
	if (!rc->timer_id) {
		runner_fatal(R, "%s", err);
		return;
	}
	rc->timer_on = true;
}

/* A deadline or phase timer of the current scenario. */
void runner_timer(struct runner *R, uint64_t kind, uint64_t after_us)
{
	char err[200];
	uint64_t cookie = (uint64_t)(R->seq & 0xffffff) << 8 | kind;
	if (!rawtcp_timer_add(R->c, rawtcp_now_us() + after_us, cookie, err, sizeof err))
		runner_fatal(R, "%s", err);
}

/* ---- events -------------------------------------------------------------- */

static void scenario_deadline(struct runner *R)
{
	if (R->phase != PH_RUNNING)
		return;
	R->rs->timed_out = true;
	if (R->prog) {
		cprog_kill(R->prog);
		R->phase = PH_SETTLE;
		runner_timer(R, COOKIE_PHASE, SETTLE_EXTRA_US);
		return;
	}
	for (size_t i = 0; i < R->n_rc; i++) {
		struct rconn *rc = &R->rc[i];
		if (rc->st == RC_DONE)
			continue;
		unsigned line = rconn_line(rc);
		if (rc->st == RC_PENDING)
			rconn_note(rc, "not started before the scenario's timeout");
		else if (rc->bl == BL_CONNECT && rc->established && rc->tls_on)
			rconn_note(rc, "line %u: the TLS handshake was not over at the scenario's "
			     "timeout (%s)", line, rc->tls_wire ? "the server's answer was not "
			     "TLS enough to finish it" : "the server sent nothing back: not a TLS server?");
		else
			rconn_note(rc, "line %u: abandoned at the scenario's timeout", line);
		rconn_done(R, rc);
	}
}


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
		if (rc->kernel) {
			rkc_snapshot(R, rc);
			continue;
		}
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
		if (rc->faults_set) {
			/* a rule whose segment never came did nothing: say so */
			uint32_t used = info.dropped[0] + info.dropped[1] +
			                info.reordered[0] + info.reordered[1];
			rconn_note(rc, "drop/reorder: %u of %u rule%s applied (%u segments sent, %u received)",
			     used, rc->faults_set, rc->faults_set == 1 ? "" : "s",
			     info.segs[RAWTCP_DIR_OUT], info.segs[RAWTCP_DIR_IN]);
		}
	}
}

static void phase_next(struct runner *R)
{
	switch (R->phase) {
	case PH_SETTLE: {
		R->rs->end = runner_epoch_now(R);
		runner_sample(R, NULL);  /* the window's last word */
		R->window_open = false;
		snapshot(R);
		if (R->prog) {
			cprog_finish(R->prog, rawtcp_now_us(), &R->rs->program);
			R->prog = NULL;
		}
		for (size_t i = 0; i < R->n_rc; i++) {
			struct rconn *rc = &R->rc[i];
			rconn_timer_cancel(R, rc);
			if (rc->kc) {
				/* a socket the application left open: reset, as the
				 * raw client's (kclient.h, kc_free) */
				bool rst;
				kc_free(rc->kc, &rst);
				rc->kc = NULL;
				if (rst) {
					rc->out->cleanup_rst = true;
					rc->out->cleanup_rst_time = runner_epoch_now(R);
					R->rs->cleanup_rsts++;
				}
			}
			if (rc->k) {
				/* resets what is still open (see run.h); the RST is a
				 * lab artefact the report labels */
				struct rawtcp_rst_note rn;
				rawtcp_conn_release_noted(rc->k, &rn);
				rc->k = NULL;
				if (rn.sent) {
					rc->out->cleanup_rst = true;
					rc->out->cleanup_rst_seq = rn.seq;
					rc->out->cleanup_rst_time = runner_epoch_of(R, rn.out_us);
					R->rs->cleanup_rsts++;
				}
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
		runner_sample(R, NULL);
		if (R->sampling)
			runner_sampler_arm(R);
		return;
	}
	if (cookie < (1ull << 32)) {
		if (COOKIE_SEQ(cookie) != (R->seq & 0xffffff))
			return; /* a timer of an earlier scenario */
		if (COOKIE_KIND(cookie) == COOKIE_DEADLINE)
			scenario_deadline(R);
		else if (COOKIE_KIND(cookie) == COOKIE_PHASE)
			phase_next(R);
		else if (COOKIE_KIND(cookie) == COOKIE_KTICK &&
		         (R->phase < PH_CLEANUP || (R->kd && R->phase < PH_FINISHED))) {
			/* with a delay line, the tick also carries the clean-up
			 * RSTs through it */
			rkc_tick(R);
			runner_timer(R, COOKIE_KTICK, KTICK_US);
		}
		return;
	}
	uint64_t idx = (cookie >> 40) - 1;
	uint32_t gen = (uint32_t)cookie;
	if (idx >= R->n_rc || ((cookie >> 32) & 0xff) != (R->seq & 0xff))
		return; /* a timer of an earlier scenario */
	struct rconn *rc = &R->rc[idx];
	if (gen & TB_GEN_FLAG) {
		if (rc->tb_on && (rc->tb_gen | TB_GEN_FLAG) == gen)
			rtls_body_tick(R, rc);
		return;
	}
	if (!rc->timer_on || rc->tgen != gen)
		return;
	rc->timer_on = false;
	rconn_timer_fired(R, rc);
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
		R->raw_established++;
		if (rc->tls_on)
			rtls_start(R, rc);
		break;
	case RAWTCP_EV_DATA: {
		/* the "application" reads everything at once */
		const uint8_t *p;
		size_t n = rawtcp_peek(rc->k, &p);
		if (rc->tls_on)
			rtls_input(R, rc, p, n);
		else
			rsp_feed(&rc->http, p, n);
		rawtcp_consume(rc->k, n);
		break;
	}
	case RAWTCP_EV_PEER_FIN:
		rc->peer_fin = true;
		rsp_eof(&rc->http);
		rconn_fin_check(R, rc);
		break;
	case RAWTCP_EV_PEER_RST:
		rc->peer_rst = true;
		if (!rc->established && !rc->refused) {
			rc->refused = true;
			R->raw_refused++;
		}
		break;
	case RAWTCP_EV_BODY_DONE:
		rc->body_active = false;
		rconn_fin_check(R, rc);
		break;
	case RAWTCP_EV_CLOSED:
		rc->closed = true;
		rc->body_active = false;
		break;
	default:
		break;
	}
	if (rconn_try_unblock(R, rc))
		rconn_advance(R, rc);
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

#define FIN_TIMEOUT_SYSCTL "/proc/sys/net/ipv4/tcp_fin_timeout"

/* `tcp_fin_timeout`: the server namespace's own (per-netns) sysctl, for
 * this scenario only; restore_fin_timeout puts the old value back. */
static int set_fin_timeout(struct runner *R, struct run_scenario *rs)
{
	char v[16], err[256];
	snprintf(v, sizeof v, "%u", rs->scn->tcp_fin_timeout);
	if (labnet_sysctl(R->server_ns, FIN_TIMEOUT_SYSCTL, v, R->fin_timeout_old,
	                  sizeof R->fin_timeout_old, err, sizeof err) != LABNET_OK) {
		R->fin_timeout_old[0] = '\0';
		runner_fatal(R, "%s", err);
		return -1;
	}
	rs->tcp_fin_timeout = rs->scn->tcp_fin_timeout;
	return 0;
}

static void restore_fin_timeout(struct runner *R)
{
	char err[256];
	if (!R->fin_timeout_old[0])
		return;
	if (labnet_sysctl(R->server_ns, FIN_TIMEOUT_SYSCTL, R->fin_timeout_old, NULL, 0,
	                  err, sizeof err) != LABNET_OK)
		runner_fatal(R, "%s", err);
	R->fin_timeout_old[0] = '\0';
}

int runner_play(struct runner *R, struct run_scenario *rs)
{
	const struct scn_scenario *scn = rs->scn;
	char err[256];
	R->rs = rs;
	R->scn = scn;
	R->seq++;
	R->n_rc = scn->total_connections;
	R->n_done = 0;
	R->phase = PH_RUNNING;
	R->rc = calloc(R->n_rc ? R->n_rc : 1, sizeof *R->rc);
	rs->conns = calloc(R->n_rc ? R->n_rc : 1, sizeof *rs->conns);
	if (!R->rc || !rs->conns) {
		runner_fatal(R, "run: out of memory");
		return -1;
	}
	rs->n_conns = R->n_rc;
	rs->rtt_us = scn->rtt_us >= 0 ? scn->rtt_us : R->cfg->rtt_us;
	rs->client = scn->client;
	R->kdelay_on = scn->client != SCN_CLIENT_RAW && R->kd;
	if (scn->client != SCN_CLIENT_RAW && !(R->kd && rs->rtt_us > 0))
		rs->rtt_us = 0;        /* no delay line, or no rtt asked for */
	if (R->kdelay_on)          /* lab/kdelay.h: rtt/2 each way */
		kdelay_set(R->kd, (uint32_t)(rs->rtt_us / 2));

	struct rawtcp_stats stats;
	rawtcp_stats(R->c, &stats);
	R->leaked_at_start = stats.leaked_rsts;

	if (scn->tcp_fin_timeout)
		set_fin_timeout(R, rs); /* a failure is fatal: nothing starts */

	rs->start = runner_epoch_now(R);
	rs->kernel_unsampled = R->sd == NULL;
	R->t0_us = rawtcp_now_us();
	runner_sample(R, rs->kernel_baseline);
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
			rc->tls_on = scn->tls.on || R->cfg->tls;
			rc->kernel = scn->client == SCN_CLIENT_KERNEL;
			rc->read = SCN_READ_CONCURRENTLY;
			rsp_init(&rc->http);
			int64_t delay = (int64_t)i * grp->stagger_us;
			if (delay > 0) {
				rc->st = RC_PENDING;
				rconn_timer_set(R, rc, delay);
			} else {
				rc->st = RC_RUNNING;
			}
		}
	}
	runner_timer(R, COOKIE_DEADLINE, (uint64_t)scn->timeout_us);
	if (scn->client == SCN_CLIENT_COMMAND) {
		/* the scenario file's directory, for scripts shipped beside it */
		char dir[4096] = ".";
		const char *slash = scn->file ? strrchr(scn->file, '/') : NULL;
		if (slash)
			snprintf(dir, sizeof dir, "%.*s", (int)(slash - scn->file), scn->file);
		R->prog = cprog_start(R->client_ns, scn->client_command, R->o->address,
		                      R->port, R->url, slash == scn->file ? "/" : dir,
		                      rawtcp_now_us(), err, sizeof err);
		if (!R->prog) {
			snprintf(rs->program.error, sizeof rs->program.error, "%s", err);
			R->phase = PH_SETTLE;
			runner_timer(R, COOKIE_PHASE, SETTLE_EXTRA_US);
		}
	}
	if (scn->client != SCN_CLIENT_RAW)
		runner_timer(R, COOKIE_KTICK, KTICK_US);
	if (!R->sampling) {
		R->sampling = true;
		runner_sampler_arm(R);
	}
	for (size_t i = 0; i < R->n_rc && !R->fatal; i++)
		if (R->rc[i].st == RC_RUNNING)
			rconn_advance(R, &R->rc[i]);

	while (R->phase != PH_FINISHED && !R->fatal && !R->interrupted) {
		int r = rawtcp_run(R->c, rawtcp_now_us() + LOOP_SLICE_US, loop_cb, R,
		                   err, sizeof err);
		if (r < 0)
			runner_fatal(R, "%s", err);
	}
	rawtcp_stats(R->c, &stats);
	rs->leaked_rst = stats.leaked_rsts - R->leaked_at_start;
	if (R->kdelay_on && kdelay_dropped(R->kd) && rs->n_conns)
		rconn_note(&R->rc[0], "the delay line dropped %llu packets in this run so far",
		     (unsigned long long)kdelay_dropped(R->kd));
	/* a capture that cannot be written (a full disk) cannot judge the
	 * scenarios still to come: stop here; run_execute names it */
	if (stats.dump_errno)
		runner_fatal(R, "write capture: %s: %s", R->cfg->capture_path, strerror(stats.dump_errno));

	/* leftovers of an interrupted or failed scenario */
	for (size_t i = 0; i < R->n_rc; i++) {
		if (R->rc[i].k) {
			rawtcp_conn_release(R->rc[i].k);
			R->rc[i].k = NULL;
		}
		tlsc_free(R->rc[i].tls);
		R->rc[i].tls = NULL;
		if (R->rc[i].kc) {
			kc_free(R->rc[i].kc, NULL);
			R->rc[i].kc = NULL;
		}
	}
	if (R->prog) {
		cprog_finish(R->prog, rawtcp_now_us(), &rs->program);
		R->prog = NULL;
	}
	free(R->rc);
	R->rc = NULL;
	R->n_rc = 0;
	R->rs = NULL;
	R->window_open = false;
	restore_fin_timeout(R);
	return R->fatal || R->interrupted ? -1 : 0;
}
