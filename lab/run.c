/*
 * run.c - the runner's public API (run.h): the checks before a run
 * (run_preflight), the lab made, the target started, the sampler and the
 * raw client opened, or a target outside the lab (run_remote_open), the
 * scenarios played one after the other (run_loop.c) with the event loop
 * under real-time scheduling when granted, everything removed on every
 * exit path (run_play); then the capture analyzed (runanalysis.c) and the
 * expectations judged (expect.c: run_conclude). Also the small helpers
 * every file of the runner uses. How the runner's files divide the work:
 * run_int.h.
 */
#include "lab/run.h"
#include "lab/run_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "analyzer/tlskeys.h"
#include "lab/runtarget.h"
#include "lab/netns.h"

/* ---- small helpers ----------------------------------------------------- */

double runner_epoch_of(const struct runner *R, uint64_t mono_us)
{
	return (double)((int64_t)mono_us + R->epoch_offset_us) / 1e6;
}

double runner_epoch_now(const struct runner *R)
{
	return runner_epoch_of(R, rawtcp_now_us());
}

void runner_fatal(struct runner *R, const char *fmt, ...)
{
	if (R->fatal)
		return;
	R->fatal = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(R->err, sizeof R->err, fmt, ap);
	va_end(ap);
}

void rconn_note(struct rconn *rc, const char *fmt, ...)
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

void runner_fmt_dur(int64_t us, char *buf, size_t cap)
{
	if (us % 1000000 == 0)
		snprintf(buf, cap, "%llds", (long long)(us / 1000000));
	else if (us % 1000 == 0)
		snprintf(buf, cap, "%lldms", (long long)(us / 1000));
	else
		snprintf(buf, cap, "%lldus", (long long)us);
}

const char *runner_wait_name(enum scn_wait_event e)
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

/* ---- real-time scheduling ---------------------------------------------- */

/*
 * The event loop ahead of ordinary work while the scenarios play: an
 * emulated RTT's tail is the time a released segment waits for a CPU
 * (rawtcp.h, rawtcp_realtime). SCHED_RESET_ON_FORK: what the runner starts
 * meanwhile (client programs, ip, nft) starts as an ordinary process. Not
 * granted (not root, no CAP_SYS_NICE, a container's limits): the run goes
 * on without it and the report says why (lab.realtime).
 */
static void realtime_on(struct runner *R)
{
	struct run_outcome *o = R->o;
	struct sched_param sp = { .sched_priority = RT_PRIORITY };
	char err[160];

	R->rt_old_policy = sched_getscheduler(0);
	if (R->rt_old_policy < 0 || sched_getparam(0, &R->rt_old_param) != 0) {
		snprintf(o->realtime_refused, sizeof o->realtime_refused,
		         "sched_getscheduler: %s", strerror(errno));
		return;
	}
	if (rawtcp_realtime(RT_PRIORITY, err, sizeof err) != 0) {
		snprintf(o->realtime_refused, sizeof o->realtime_refused, "%s", err);
		return;
	}
	R->rt_on = true;
	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) != 0) {
		snprintf(o->realtime_refused, sizeof o->realtime_refused,
		         "SCHED_RESET_ON_FORK: %s", strerror(errno));
		return;   /* realtime_off puts back what rawtcp_realtime set */
	}
	o->realtime = true;
	o->realtime_priority = RT_PRIORITY;
}

/* Put the scheduling back as it was and unlock the memory: the analysis
 * and the reports run as an ordinary process. */
static void realtime_off(struct runner *R)
{
	if (!R->rt_on)
		return;
	(void)sched_setscheduler(0, R->rt_old_policy & ~SCHED_RESET_ON_FORK, &R->rt_old_param);
	(void)munlockall();
	R->rt_on = false;
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
		free(o->scenarios[i].program.output);
	}
	free(o->scenarios);
	free(o->samples);
	free(o->cleanup_rst_packets);
	free(o->command);
	free(o->capture_path);
	free(o->keylog_path);
	az_free(o->az);             /* before the keys it reads */
	tlskeys_free(o->tls_keys);
	free(o);
}

static enum run_status from_labnet(int st)
{
	return st == LABNET_ENV ? RUN_ENV : RUN_ERR;
}

enum run_status run_preflight(const struct run_config *cfg,
                              struct scn_scenario *const *scns, size_t n,
                              char *err, size_t errlen)
{
	if (cfg->target.kind == RUN_TARGET_REMOTE) {
		struct run_remote rr;
		enum run_status st = run_remote_plan(cfg, scns, n, &rr, err, errlen);
		if (st != RUN_OK)
			return st;
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
	char msg[512];
	int st = labnet_check_env(msg, sizeof msg);
	if (st != LABNET_OK) {
		snprintf(err, errlen, "%s", msg);
		return from_labnet(st);
	}
	return RUN_OK;
}

/* A target outside the lab (lab/runtarget.h): make the host changes, open
 * the sampler when the target is this host's, and the raw client on the
 * route's interface from the kernel's source address and reserved ports.
 * What it opened, run_execute's `out:` closes. */
/* LINGERLAB_URL for client programs: the target's address (in brackets
 * for IPv6) and its port unless 80 */
static void set_url(struct runner *R, const struct lladdr *a)
{
	char hp[LLADDR_STRLEN + 8];

	lladdr_str_port(a, R->port == 80 ? 0 : R->port, hp, sizeof hp);
	snprintf(R->url, sizeof R->url, "http://%s/", hp);
}

static enum run_status run_remote_open(const struct run_config *cfg, struct run_remote *rr,
                                       struct runner *R, char *err, size_t errlen)
{
	struct run_outcome *o = R->o;
	char addr[LLADDR_STRLEN], src[LLADDR_STRLEN], msg[512];
	enum run_status st;

	lladdr_str(&rr->filter.dst, addr, sizeof addr);
	lladdr_str(&rr->route.src, src, sizeof src);
	snprintf(o->address, sizeof o->address, "%s", addr);
	snprintf(o->iface, sizeof o->iface, "%s", rr->route.iface);
	snprintf(o->source, sizeof o->source, "%s", src);
	if (rr->route.gateway.af)
		lladdr_str(&rr->route.gateway, o->gateway, sizeof o->gateway);
	o->target_local = rr->route.local;
	o->client_port_lo = rr->filter.sport_lo;
	o->client_port_hi = rr->filter.sport_hi;
	if (R->port == 80)
		snprintf(R->host, sizeof R->host, "%s", cfg->target.host);
	else
		snprintf(R->host, sizeof R->host, "%s:%u", cfg->target.host, R->port);
	set_url(R, &rr->filter.dst);
	st = run_remote_apply(cfg, rr, msg, sizeof msg);
	if (st != RUN_OK) {
		snprintf(err, errlen, "%s", msg);
		return st;
	}
	if (cfg->filter_kernel_rst) {
		o->kernel_rst_filter = true;
		nftfilter_table_name(rr->filter.owner, o->filter_table, sizeof o->filter_table);
		nftfilter_rule(&rr->filter, o->filter_rule, sizeof o->filter_rule);
	}
	R->raw_addr = rr->route.src;
	if (rr->route.local) {
		R->sd = sockdiag_open(msg, sizeof msg);
		if (!R->sd) {
			snprintf(err, errlen, "%s", msg);
			return RUN_ERR;
		}
	}
	struct rawtcp_config rcfg;
	rawtcp_config_init(&rcfg);
	rcfg.iface = rr->route.iface;
	rcfg.local_addr = src;
	rcfg.peer_addr = addr;
	rcfg.peer_port = R->port;
	rcfg.port_min = rr->filter.sport_lo;
	rcfg.port_max = rr->filter.sport_hi;
	rcfg.mark = NFTFILTER_MARK;
	rcfg.rtt_us = cfg->rtt_us > 0 ? (uint32_t)cfg->rtt_us : 0;
	R->c = rawtcp_open(&rcfg, msg, sizeof msg);
	if (R->c && rawtcp_dump_open(R->c, cfg->capture_path, msg, sizeof msg) < 0) {
		rawtcp_free(R->c);
		R->c = NULL;
	}
	if (!R->c) {
		snprintf(err, errlen, "%s", msg);
		return RUN_ERR;
	}
	return RUN_OK;
}

enum run_status run_play(const struct run_config *cfg,
                         struct scn_scenario *const *scns, size_t n,
                         struct run_outcome **out, char *err, size_t errlen)
{
	enum run_status status = RUN_ERR;
	struct runner R;
	struct labnet ln;
	char msg[512] = "";
	char addr[LLADDR_STRLEN], raw[LLADDR_STRLEN];
	int saved_ns = -1;
	bool lab_made = false;
	bool remote = cfg->target.kind == RUN_TARGET_REMOTE;
	struct run_remote rr;

	memset(&R, 0, sizeof R);
	memset(&ln, 0, sizeof ln);
	memset(&rr, 0, sizeof rr);
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	R.cfg = cfg;

	status = run_preflight(cfg, scns, n, err, errlen);
	if (status == RUN_OK && remote)
		status = run_remote_plan(cfg, scns, n, &rr, err, errlen);
	if (status != RUN_OK)
		return status;
	status = RUN_ERR;
	R.port = cfg->target.port ? cfg->target.port : 80;
	R.interval_us = cfg->sample_interval_us ? cfg->sample_interval_us
	                                        : DEFAULT_INTERVAL_US;

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

	R.by_port = calloc(65536, sizeof *R.by_port);
	R.port_mark = calloc(65536, sizeof *R.port_mark);
	if (!R.by_port || !R.port_mark) {
		snprintf(err, errlen, "run: out of memory");
		goto out;
	}
	if (remote) {
		status = run_remote_open(cfg, &rr, &R, err, errlen);
		if (status != RUN_OK)
			goto out;
		status = RUN_ERR;
		goto opened;
	}

	struct labnet_opts lo = { .tag = cfg->lab_tag, .ipv6 = cfg->ipv6 };
	int st = labnet_setup(&ln, &lo, msg, sizeof msg);
	if (st != LABNET_OK) {
		snprintf(err, errlen, "%s", msg);
		status = from_labnet(st);
		goto out;
	}
	lab_made = true;
	snprintf(o->server_ns, sizeof o->server_ns, "%s", ln.server_ns);
	snprintf(o->client_ns, sizeof o->client_ns, "%s", ln.client_ns);
	lladdr_str(&ln.server_ip, addr, sizeof addr);
	lladdr_str(&ln.raw_ip, raw, sizeof raw);
	snprintf(o->address, sizeof o->address, "%s", addr);
	/* Host: 10.X.Y.1, [fd6c::1]:8080 (RFC 9110 7.2, RFC 3986 3.2.2) */
	lladdr_str_port(&ln.server_ip, R.port == 80 ? 0 : R.port, R.host, sizeof R.host);

	struct launch_spec spec;
	memset(&spec, 0, sizeof spec);
	spec.kind = cfg->target.kind == RUN_TARGET_BUILTIN ? LAUNCH_BUILTIN : LAUNCH_COMMAND;
	spec.policy = cfg->target.policy;
	spec.extra_args = cfg->target.extra_args;
	spec.command = cfg->target.command;
	spec.user = cfg->target.user;
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

	R.server_ns = ln.server_ns;
	R.raw_addr = ln.raw_ip;
	/* kernel clients and client programs speak from the client
	 * namespace's own address, with ephemeral ports of their own */
	R.client_ns = ln.client_ns;
	R.server_addr = ln.server_addr;
	labnet_addr_str(ln.client_addr, o->client_addr, sizeof o->client_addr);
	set_url(&R, &ln.server_ip);
	bool kclients = false;
	for (size_t i = 0; i < n; i++)
		kclients |= scns[i]->client != SCN_CLIENT_RAW;
	if (kclients) {
		if (labnet_sysctl(ln.client_ns, "/proc/sys/net/ipv4/ip_local_port_range",
		                  KCLIENT_PORT_RANGE, NULL, 0, msg, sizeof msg) != LABNET_OK) {
			snprintf(err, errlen, "%s", msg);
			goto out;
		}
		R.sdc = sockdiag_open_in(ln.client_ns, msg, sizeof msg);
		if (!R.sdc) {
			snprintf(err, errlen, "%s", msg);
			goto out;
		}
		o->client_sampled = true;
	}
	bool delayed = false;
	for (size_t i = 0; i < n; i++)
		delayed |= scns[i]->client != SCN_CLIENT_RAW &&
		           (scns[i]->rtt_us > 0 || (scns[i]->rtt_us < 0 && cfg->rtt_us > 0));
	if (delayed) {
		R.kd = kdelay_open(&ln, msg, sizeof msg);
		if (!R.kd) {
			snprintf(err, errlen, "%s", msg);
			goto out;
		}
		struct in_addr da = kdelay_addr(R.kd);
		labnet_addr_str(da, o->kdelay_addr, sizeof o->kdelay_addr);
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

opened:;
	realtime_on(&R);
	struct timespec rt;
	if (clock_gettime(CLOCK_REALTIME, &rt) < 0) {
		snprintf(err, errlen, "clock_gettime: %s", strerror(errno));
		goto out;
	}
	uint64_t mono = rawtcp_now_us();
	R.epoch_offset_us = (int64_t)rt.tv_sec * 1000000 + rt.tv_nsec / 1000 - (int64_t)mono;

	for (size_t i = 0; i < n && !R.fatal && !R.interrupted; i++) {
		runner_play(&R, &o->scenarios[i]);
		int ws = 0;
		char perr[200];
		if (R.target && !o->target_exited && launch_poll(R.target, &ws, perr, sizeof perr) == 1) {
			o->target_exited = true;
			o->target_status = ws;
			launch_log_tail(R.target, o->target_log_tail, sizeof o->target_log_tail);
		}
	}
	R.sampling = false;
	realtime_off(&R);

	rawtcp_dump_close(R.c);
	struct rawtcp_stats stats;
	rawtcp_stats(R.c, &stats);
	o->leaked_rst = stats.leaked_rsts;
	o->pcap_drops = stats.pcap_drops;
	rawtcp_free(R.c);
	R.c = NULL;
	if (stats.dump_errno && !R.interrupted) {
		/* a full disk is the environment's failure, not the server's:
		 * an incomplete capture would judge it wrongly */
		snprintf(err, errlen, "write capture: %s: %s", cfg->capture_path,
		         strerror(stats.dump_errno));
		status = RUN_ENV;
		goto out;
	}

	if (R.interrupted) {
		status = RUN_INTERRUPTED;
		snprintf(err, errlen, "run: interrupted");
		goto out;
	}
	if (R.fatal) {
		snprintf(err, errlen, "%s", R.err);
		goto out;
	}
	if (remote && R.raw_refused > 0 && R.raw_established == 0) {
		/* not the server's close behaviour: there is no server */
		snprintf(err, errlen,
		         "--target %s: connection refused: a RST answered each of "
		         "the %u SYNs; nothing listens there", R.host, R.raw_refused);
		status = RUN_ENV;
		goto out;
	}
	status = RUN_OK;

out:
	realtime_off(&R);
	if (saved_ns >= 0)
		labnet_leave(&saved_ns, msg, sizeof msg);
	if (R.c) {
		rawtcp_dump_close(R.c);
		rawtcp_free(R.c);
		R.c = NULL;
	}
	if (R.sd)
		sockdiag_close(R.sd);
	if (R.keylog)
		fclose(R.keylog);
	if (R.sdc)
		sockdiag_close(R.sdc);
	kdelay_free(R.kd);
	free(R.pfd);
	if (R.target) {
		launch_stop(R.target, NULL, msg, sizeof msg);
		launch_free(R.target);
	}
	if (lab_made && labnet_teardown(&ln, msg, sizeof msg) != LABNET_OK &&
	    status == RUN_OK) {
		/* the run itself is fine; the leftover is named for `lab clean` */
		snprintf(o->lab_error, sizeof o->lab_error, "%s", msg);
	}
	if (remote) {
		if (run_remote_undo(cfg, &rr, msg, sizeof msg) < 0 && status == RUN_OK)
			snprintf(o->lab_error, sizeof o->lab_error, "%s", msg);
		if (o)
			o->filter_dropped = rr.dropped;
	}
	free(R.scratch);
	free(R.by_port);
	free(R.port_mark);
	free(R.ktrack);
	free(R.kports);

	if (status != RUN_OK) {
		run_outcome_free(o);
		return status;
	}
	o->raw_addr = R.raw_addr;
	*out = o;
	return RUN_OK;
}

int run_load_keys(struct run_outcome *o, char *err, size_t errlen)
{
	if (!o->keylog_path || o->tls_keys)
		return 0;
	/* a key log that cannot be read leaves the records undecrypted: the
	 * lab's own decrypted view still names the responses */
	o->tls_keys = tlskeys_load(o->keylog_path, err, errlen);
	return 0;
}

enum run_status run_conclude(struct run_outcome *o, char *err, size_t errlen)
{
	char kerr[256];
	run_load_keys(o, kerr, sizeof kerr);
	if (run_analyze(o, &o->raw_addr, o->port, err, errlen) < 0)
		return RUN_ERR;
	o->passed = o->leaked_rst == 0;
	for (size_t i = 0; i < o->n_scenarios; i++) {
		if (run_judge(&o->scenarios[i]) < 0) {
			snprintf(err, errlen, "run: out of memory");
			return RUN_ERR;
		}
		o->passed &= o->scenarios[i].passed;
	}
	return RUN_OK;
}

enum run_status run_execute(const struct run_config *cfg,
                            struct scn_scenario *const *scns, size_t n,
                            struct run_outcome **out, char *err, size_t errlen)
{
	enum run_status st = run_play(cfg, scns, n, out, err, errlen);
	if (st != RUN_OK)
		return st;
	st = run_conclude(*out, err, errlen);
	if (st != RUN_OK) {
		run_outcome_free(*out);
		*out = NULL;
	}
	return st;
}
