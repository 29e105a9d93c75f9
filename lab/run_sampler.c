/*
 * run_sampler.c - the runner's kernel sampler (run_int.h): every
 * sample_interval, the target's sockets counted per TCP state (and the
 * client namespace's, for kernel clients), the run's and the scenario's
 * peaks kept, and the target port's FIN_WAIT_2 sockets followed one by one
 * (run.h, run_conn.kfw2_*).
 */
#include "lab/run_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>



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

/* During a dump: a target-port socket in FIN_WAIT_2; keep its peer port
 * when the peer is the raw client. */
static void on_fw2_sock(const struct sockdiag_sock *k, void *arg)
{
	struct runner *R = arg;
	struct lladdr peer;
	lladdr_from_bytes(&peer, k->family == AF_INET6 ? 6 : 4, k->remote_addr);
	if (!lladdr_eq(&peer, &R->raw_addr))
		return;
	if (R->n_kports == R->cap_kports) {
		size_t nc = R->cap_kports ? 2 * R->cap_kports : 256;
		uint16_t *nv = realloc(R->kports, nc * sizeof *nv);
		if (!nv) {
			R->kports_oom = true;
			return;
		}
		R->kports = nv;
		R->cap_kports = nc;
	}
	R->kports[R->n_kports++] = k->remote_port;
}

/*
 * Follow the server sockets one by one (see run.h, run_conn.kfw2_*): a
 * socket is seen when a sample shows it in FIN_WAIT_2 and gone at the
 * first sample after that which does not. t is the sample's time, taken
 * after the dump, so a packet that moved the socket on was captured before
 * t (the capture's and the samples' clocks are both CLOCK_REALTIME).
 */
static void follow_fw2(struct runner *R, double t)
{
	uint32_t mark = ++R->sample_no;
	for (size_t i = 0; i < R->n_kports; i++) {
		uint16_t port = R->kports[i];
		struct run_conn *c = R->by_port[port];
		if (!c)
			continue;
		R->port_mark[port] = mark;
		/* seen again after a sample missed it: that sample was wrong
		 * (the kernel's dump is per hash bucket, so this should not
		 * happen; if it does, the later word wins) */
		bool back = c->kfw2_seen && c->kfw2_gone > 0;
		if (!c->kfw2_seen || back) {
			if (R->n_ktrack == R->cap_ktrack) {
				size_t nc = R->cap_ktrack ? 2 * R->cap_ktrack : 256;
				struct run_conn **nv = realloc(R->ktrack, nc * sizeof *nv);
				if (!nv) {
					runner_fatal(R, "kernel sampler: out of memory");
					return;
				}
				R->ktrack = nv;
				R->cap_ktrack = nc;
			}
			R->ktrack[R->n_ktrack++] = c;
			if (!back)
				c->kfw2_first = t;
			c->kfw2_seen = true;
			c->kfw2_gone = 0;
		}
		c->kfw2_last = t;
	}
	for (size_t i = 0; i < R->n_ktrack;) {
		struct run_conn *c = R->ktrack[i];
		if (R->port_mark[c->port] == mark) {
			i++;
			continue;
		}
		c->kfw2_gone = t;
		R->ktrack[i] = R->ktrack[--R->n_ktrack];
	}
}

static double realtime_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Take one sample: keep it, update the run's peaks and, while a scenario's
 * window is open, the scenario's peaks beyond its baseline. baseline (may
 * be NULL) receives the counts. */
void runner_sample(struct runner *R, uint32_t *baseline)
{
	unsigned counts[SOCKDIAG_MAX_STATES];
	char err[200];
	if (!R->sd)
		return;   /* a target on another host: its kernel is not ours */
	R->n_kports = 0;
	if (sockdiag_sample_each(R->sd, counts, R->port, 1u << SOCKDIAG_FIN_WAIT_2,
	                         on_fw2_sock, R, err, sizeof err) < 0) {
		runner_fatal(R, "kernel sampler: %s", err);
		return;
	}
	if (R->kports_oom) {
		runner_fatal(R, "kernel sampler: out of memory");
		return;
	}
	struct run_outcome *o = R->o;
	struct run_sample s;
	memset(&s, 0, sizeof s);
	if (R->sdc) {
		/* the client namespace: only kernel clients and client programs
		 * own TCP sockets there, so every socket counts */
		unsigned cc[SOCKDIAG_MAX_STATES];
		if (sockdiag_sample(R->sdc, cc, 0, err, sizeof err) < 0) {
			runner_fatal(R, "kernel sampler (client namespace): %s", err);
			return;
		}
		for (int k = 0; k < SCN_NKSTATES; k++)
			s.nc[k] = cc[kstate_diag[k]];
	}
	s.t = realtime_now();
	follow_fw2(R, s.t);
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
		double gap = rs->kernel_last_t > 0 ? s.t - rs->kernel_last_t
		                                   : R->interval_us / 1e6;
		rs->kernel_last_t = s.t;
		for (int k = 0; k < SCN_NKSTATES; k++) {
			uint32_t v = s.n[k] > rs->kernel_baseline[k]
			             ? s.n[k] - rs->kernel_baseline[k] : 0;
			if (v)
				rs->kernel_duration[k] += gap;
			if (v > rs->kernel_peak[k]) {
				rs->kernel_peak[k] = v;
				rs->kernel_peak_time[k] = s.t;
			}
			if (s.nc[k] > rs->client_kernel_peak[k])
				rs->client_kernel_peak[k] = s.nc[k];
		}
	}
}

void runner_sampler_arm(struct runner *R)
{
	char err[200];
	R->sampler_id = rawtcp_timer_add(R->c, rawtcp_now_us() + R->interval_us,
	                                 COOKIE_SAMPLER, err, sizeof err);
	if (!R->sampler_id)
		runner_fatal(R, "%s", err);
}
