/*
 * run.c - the runner (see run.h): lab, target, raw client, one event loop
 * interpreting every connection's steps, kernel sampling (counts per state,
 * and the target port's FIN_WAIT_2 sockets followed one by one), the
 * scenario's sysctls and its clean-up RSTs. The analysis of the capture is
 * in runanalysis.c, the judgement of the expectations in expect.c.
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

#include <netinet/tcp.h>
#include <poll.h>

#include "analyzer/capture.h"
#include "analyzer/tlskeys.h"
#include "lab/clientprog.h"
#include "lab/kclient.h"
#include "lab/kdelay.h"
#include "lab/launch.h"
#include "lab/netns.h"
#include "lab/rawtcp.h"
#include "lab/runtarget.h"
#include "lab/sockdiag.h"
#include "lab/tlsclient.h"

#define DEFAULT_INTERVAL_US 50000
#define SETTLE_EXTRA_US     100000   /* after the steps: packets in flight */
#define CLEANUP_EXTRA_US    50000    /* after the cleanup RSTs */
#define SEND_RETRY_US       10000    /* send buffer full: try again */
#define LOOP_SLICE_US       1000000  /* rawtcp_run deadline per call */
#define SNDBUF_CAP          (1u << 20)

enum { COOKIE_SAMPLER = 1, COOKIE_DEADLINE = 2, COOKIE_PHASE = 3, COOKIE_KTICK = 4 };
/* Kernel clients and client programs run from a tick: every 1 ms the
 * runner polls their sockets (and pipes) without blocking and lets each
 * application make its next syscalls (lab/kclient.h). */
#define KTICK_US 1000
/* The kernel clients' ephemeral ports, apart from the raw client's
 * (20000..60999), so a client port names one connection in a run. */
#define KCLIENT_PORT_RANGE "61000 65535"
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
	uint32_t faults_set;         /* `drop`/`reorder` rules given (noted at the end) */
	bool dropped_noted;
	uint64_t resp_cursor;
	struct rsp_scan http;
	/* TLS (the scenario's `tls`, or run --tls): OpenSSL turns the steps'
	 * plaintext into records (tls_pump sends them) and the server's
	 * records into what rsp_feed reads */
	bool tls_on;
	struct tlsc *tls;
	bool tls_stop_sends;           /* after the server's close_notify */
	uint64_t tls_wire;             /* server stream bytes fed to TLS */
	bool tls_failed;               /* the handshake failed (noted) */
	bool tb_on;                    /* a body being written through TLS */
	uint64_t tb_left, tb_rate;
	uint32_t tb_chunk, tb_gen;
	/* `client kernel`: the application's socket (lab/kclient.h) */
	bool kernel;
	struct kc_conn *kc;
	enum scn_read_policy read;
	bool has_rcvbuf;
	uint32_t rcvbuf;
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
	const char *server_ns;         /* for the scenario's sysctls */
	char fin_timeout_old[32];      /* tcp_fin_timeout to put back, "" none */
	/* the kernel's FIN_WAIT_2 sockets, followed one by one: client ports
	 * are never reused within a run, so a port names one connection */
	struct lladdr raw_addr;        /* the raw client's address */
	struct run_conn **by_port;     /* [client port] -> its connection */
	uint32_t *port_mark;           /* [client port] -> last sample seen */
	uint32_t sample_no;
	struct run_conn **ktrack;      /* seen in FIN_WAIT_2, not yet gone */
	size_t n_ktrack, cap_ktrack;
	uint16_t *kports;              /* this sample's FIN_WAIT_2 peers */
	size_t n_kports, cap_kports;
	bool kports_oom;
	FILE *keylog;                  /* TLS session keys, opened on first use */
	/* kernel clients and client programs */
	const char *client_ns;
	struct in_addr server_addr;
	struct sockdiag *sdc;          /* sampler of the client namespace */
	struct pollfd *pfd;
	size_t pfd_cap;
	struct cprog *prog;            /* the scenario's client program */
	struct kdelay *kd;             /* kernel clients' delay line, NULL: none */
	bool kdelay_on;                /* this scenario's kernel clients use it */
	uint64_t t0_us;                /* the scenario's start (monotonic) */
	char url[160];
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
					fatal(R, "kernel sampler: out of memory");
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
static void take_sample(struct runner *R, uint32_t *baseline)
{
	unsigned counts[SOCKDIAG_MAX_STATES];
	char err[200];
	if (!R->sd)
		return;   /* a target on another host: its kernel is not ours */
	R->n_kports = 0;
	if (sockdiag_sample_each(R->sd, counts, R->port, 1u << SOCKDIAG_FIN_WAIT_2,
	                         on_fw2_sock, R, err, sizeof err) < 0) {
		fatal(R, "kernel sampler: %s", err);
		return;
	}
	if (R->kports_oom) {
		fatal(R, "kernel sampler: out of memory");
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
			fatal(R, "kernel sampler (client namespace): %s", err);
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

static bool kconn_closed(const struct rconn *rc);

static bool conn_closed(const struct rconn *rc)
{
	if (rc->kernel)
		return kconn_closed(rc);
	return rc->k && rawtcp_conn_state(rc->k) == RAWTCP_CLOSED;
}


/* ---- TLS over the raw client --------------------------------------------- *
 * A connection with TLS (the scenario's `tls`, or run --tls) runs its
 * handshake when TCP's is done, and `connect` waits for both. What a step
 * sends is plaintext for OpenSSL (lab/tlsclient.c); what OpenSSL writes
 * for the wire goes into the raw client's send stream in pieces of 16 KiB
 * (a piece waits while the send buffer is full); what arrives is fed to
 * OpenSSL in order and the plaintext goes to the response scanner, so
 * expectations on responses judge the decrypted view. A body is written
 * through TLS by a paced generator of its own (tls_body_tick). The session
 * keys go to an NSS key log beside the capture, so Wireshark can decrypt
 * it. */

static void fin_check(struct runner *R, struct rconn *rc);

#define TLS_PIECE   16384
#define TB_GEN_FLAG 0x80000000u        /* a connection timer for the body */

static void tls_settings(const struct runner *R, struct scn_tls *t)
{
	if (R->scn->tls.on) {
		*t = R->scn->tls;
	} else {
		memset(t, 0, sizeof *t);
		t->on = R->cfg->tls;
		t->version = R->cfg->tls_version;
		t->close_notify = true;
	}
	if (!t->sni[0] && R->cfg->tls_sni)
		snprintf(t->sni, sizeof t->sni, "%s", R->cfg->tls_sni);
}

/* The capture's path with ".keys" for ".pcap" (or added). */
static char *keylog_path(const struct runner *R)
{
	const char *c = R->cfg->capture_path;
	size_t n = strlen(c);
	char *p;

	if (R->cfg->tls_keylog)
		return strdup(R->cfg->tls_keylog);
	if (n > 5 && !strcmp(c + n - 5, ".pcap"))
		n -= 5;
	p = malloc(n + 6);
	if (p) {
		memcpy(p, c, n);
		memcpy(p + n, ".keys", 6);
	}
	return p;
}

/* Queue what OpenSSL has for the wire; false if some must wait for room
 * in the send buffer (or the connection can send no more). */
static bool tls_pump(struct rconn *rc)
{
	char err[200];
	const uint8_t *p;
	size_t n;

	while ((n = tlsc_peek_out(rc->tls, &p)) > 0) {
		if (n > TLS_PIECE)
			n = TLS_PIECE;
		if (rawtcp_send(rc->k, p, n, err, sizeof err) < 0) {
			if (!strstr(err, "send buffer full") && !rc->dropped_noted) {
				note(rc, "TLS: %s", err);
				rc->dropped_noted = true;
			}
			return false;
		}
		tlsc_drop_out(rc->tls, n);
	}
	return true;
}

/* TCP's handshake is done: start TLS's. */
static void tls_start(struct runner *R, struct rconn *rc)
{
	struct scn_tls t;
	char err[256];

	tls_settings(R, &t);
	if (!R->keylog && R->o && !R->o->keylog_path) {
		R->o->keylog_path = keylog_path(R);
		if (R->o->keylog_path && !(R->keylog = fopen(R->o->keylog_path, "w")))
			note(rc, "TLS key log %s: %s", R->o->keylog_path, strerror(errno));
	}
	struct tlsc_opts o = {
		.sni = t.sni[0] ? t.sni : NULL, .version = t.version,
		.alpn = t.alpn[0] ? t.alpn : NULL, .verify = t.verify, .keylog = R->keylog,
	};
	rc->tls = tlsc_new(&o, err, sizeof err);
	if (!rc->tls) {
		note(rc, "%s", err);
		rc->tls_failed = true;
		rawtcp_abort(rc->k);
		return;
	}
	if (tlsc_handshake(rc->tls, err, sizeof err) < 0) {
		note(rc, "%s", err);
		rc->tls_failed = true;
		rawtcp_abort(rc->k);
		return;
	}
	tls_pump(rc);
}

/* Server bytes arrived (in order): through OpenSSL to the scanner. */
static void tls_input(struct runner *R, struct rconn *rc, const uint8_t *p, size_t n)
{
	char err[256];
	uint8_t plain[16384];
	ssize_t got;

	if (!rc->tls)
		return;
	if (tlsc_feed(rc->tls, p, n) < 0) {
		note(rc, "TLS: input refused");
		return;
	}
	/* every server byte counts, the handshake's too: response wire
	 * offsets are sequence offsets in the server's stream */
	uint64_t before = rc->tls_wire;
	rc->tls_wire += n;
	if (!tlsc_done(rc->tls)) {
		int h = tlsc_handshake(rc->tls, err, sizeof err);
		tls_pump(rc);
		if (h < 0) {
			note(rc, "%s", err);
			rc->tls_failed = true;
			rawtcp_abort(rc->k);
			return;
		}
		if (h == 0)
			return;
		snprintf(rc->out->tls_version, sizeof rc->out->tls_version, "%s",
		         tlsc_version(rc->tls));
	}
	while ((got = tlsc_read(rc->tls, plain, sizeof plain, err, sizeof err)) > 0)
		rsp_feed(&rc->http, plain, (size_t)got);
	if (got < 0)
		note(rc, "%s", err);
	/* where each response travelled on the wire, as far as deliveries
	 * tell: the finding's bytes at risk are wire bytes */
	for (uint32_t i = 0; i < rc->http.n_records; i++) {
		struct rsp_record *r = &rc->http.rec[i];
		if (!r->wire_start)
			r->wire_start = before + 1;
		if (r->complete && !r->wire_end)
			r->wire_end = rc->tls_wire + 1;
	}
	if (tlsc_peer_closed(rc->tls) && !rc->out->tls_peer_close_notify) {
		struct scn_tls t;
		tls_settings(R, &t);
		rc->out->tls_peer_close_notify = true;
		rc->tls_stop_sends = t.stop_after_close_notify;
		fin_check(R, rc);
	}
	tls_pump(rc); /* alerts, key updates */
}

/* TCP ended, or the server's FIN came, before TLS's handshake was over:
 * say so (once) in words that name the handshake and how far the
 * server's answer got. True when `connect` has failed: a handshake
 * cannot finish once the server has closed or reset. */
static bool tls_handshake_cut(struct rconn *rc, unsigned line)
{
	struct rawtcp_conn_info info;

	if (!rc->tls_on || !rc->established || (rc->tls && tlsc_done(rc->tls)))
		return false;
	if (rc->tls_failed)                /* the reason is in the notes */
		return conn_closed(rc);
	/* TCP's own view: events queued in one batch may not have reached
	 * the runner yet (its data, its RST) */
	rawtcp_conn_info(rc->k, &info);
	bool reset = info.peer_rst || (info.state == RAWTCP_CLOSED &&
	                               info.close_reason == RAWTCP_CLOSE_RESET);
	if (!reset && !info.peer_fin && info.state != RAWTCP_CLOSED)
		return false;
	const char *how = reset ? "the server reset the connection"
	                : info.peer_fin ? "the server closed the connection (FIN)"
	                : info.close_reason == RAWTCP_CLOSE_TIMEOUT ? "the connection timed out"
	                : "the connection ended";
	if (info.rx_received)
		note(rc, "line %u: TLS handshake cut: %s; the server had sent %llu "
		     "bytes, not the whole handshake", line, how,
		     (unsigned long long)info.rx_received);
	else
		note(rc, "line %u: TLS handshake cut: %s after our ClientHello, "
		     "before the server sent a byte", line, how);
	return true;
}

/* Our close_notify, ahead of our FIN, unless the scenario says never. */
static void tls_close(struct runner *R, struct rconn *rc)
{
	struct scn_tls t;

	if (!rc->tls || !tlsc_done(rc->tls))
		return;
	tls_settings(R, &t);
	if (t.close_notify && tlsc_close_notify(rc->tls) == 0)
		tls_pump(rc);
}

static void tls_body_arm(struct runner *R, struct rconn *rc, uint64_t after_us)
{
	char err[200];
	uint64_t cookie = (uint64_t)(rc->idx + 1) << 40 |
	                  (uint64_t)(R->seq & 0xff) << 32 | (++rc->tb_gen | TB_GEN_FLAG);
	if (!rawtcp_timer_add(R->c, rawtcp_now_us() + after_us, cookie, err, sizeof err))
		fatal(R, "%s", err);
}

static bool try_unblock(struct runner *R, struct rconn *rc);

/* The body through TLS: a chunk of the pattern each tick (at the
 * scenario's rate), as many as the send buffer takes when unpaced. */
static void tls_body_tick(struct runner *R, struct rconn *rc)
{
	static const char pattern[] = "lingerlab body through TLS 0123456789abcdefghijklmnopqrstuvwxyz\n";
	uint8_t chunk[TLS_PIECE];
	char err[256];

	if (!rc->tb_on)
		return;
	if (conn_closed(rc) || rc->peer_rst || rc->tls_stop_sends) {
		rc->tb_on = false;
		rc->body_active = false;
		if (try_unblock(R, rc))
			advance(R, rc);
		return;
	}
	for (int k = 0; k < 64 && rc->tb_left > 0; k++) {
		if (!tls_pump(rc)) {               /* the wire is full: wait */
			tls_body_arm(R, rc, SEND_RETRY_US);
			return;
		}
		size_t n = rc->tb_chunk < rc->tb_left ? rc->tb_chunk : (size_t)rc->tb_left;
		for (size_t i = 0; i < n; i++)
			chunk[i] = (uint8_t)pattern[i % (sizeof pattern - 1)];
		if (tlsc_write(rc->tls, chunk, n, err, sizeof err) < 0) {
			note(rc, "%s", err);
			rc->tb_left = 0;
			break;
		}
		rc->tb_left -= n;
		tls_pump(rc);
		if (rc->tb_rate > 0 && rc->tb_left > 0) {
			tls_body_arm(R, rc, (uint64_t)n * 1000000 / rc->tb_rate);
			return;
		}
	}
	if (rc->tb_left > 0) {
		tls_body_arm(R, rc, 0);
		return;
	}
	rc->tb_on = false;
	rc->body_active = false;
	fin_check(R, rc);
	if (try_unblock(R, rc))
		advance(R, rc);
}
/* ---- kernel clients (`client kernel`): the hooks ------------------------
 * The steps' syscalls are lab/kclient.c's; here they meet the connection
 * machine: which step maps to which call, when the application closes,
 * what a `wait` waits for. */

static bool kconn_closed(const struct rconn *rc)
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
static void kfin_check(struct rconn *rc)
{
	if (!rc->kc || rc->shut || !rc->established)
		return;
	struct kc_info ki;
	kc_info(rc->kc, &ki);
	if (!ki.fd_open)
		return;
	bool ahead = sends_ahead(rc);
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

static bool kwait_satisfied(const struct rconn *rc, const struct scn_step *st)
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
		return kconn_closed(rc);
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


/* FIN policy: send our FIN when the policy says it is time. */
static void fin_check(struct runner *R, struct rconn *rc)
{
	char err[200];
	if (rc->kernel) {
		kfin_check(rc);
		return;
	}
	if (!rc->k || rc->shut || rc->vanished || conn_closed(rc) || !rc->established)
		return;
	/* a body still going through TLS: our close_notify (and FIN) would
	 * cut it, and OpenSSL writes nothing after our close_notify;
	 * tls_body_tick checks again when the body is over */
	if (rc->tb_on)
		return;
	bool go = false;
	switch (rc->fin) {
	case SCN_FIN_CLOSE:
		/* the server's FIN, or under TLS its close_notify: a TLS client
		 * (curl, a browser) that reads the close_notify closes too, with
		 * its own close_notify and its FIN, FIN or not from the server */
		go = (rc->peer_fin || (rc->tls && rc->out->tls_peer_close_notify)) &&
		     (!rc->after_fin_continue || !sends_ahead(rc));
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
	tls_close(R, rc);
	if (rawtcp_shutdown(rc->k, err, sizeof err) < 0)
		note(rc, "fin: %s", err);
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
		return kwait_satisfied(rc, st);
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
	switch (rc->bl) {
	case BL_CONNECT:
		if (rc->established && (!rc->tls_on || (rc->tls && tlsc_done(rc->tls)))) {
			unblock(R, rc);
			return true;
		}
		if (tls_handshake_cut(rc, rc->blk->line)) {
			conn_failed(R, rc);
			return false;
		}
		if (conn_closed(rc)) {
			note(rc, "line %u: connect failed (%s)", rc->blk->line, close_why(rc));
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
			note(rc, "line %u: wait %s ended: connection closed (%s)",
			     rc->blk->line, wait_name(rc->blk->u.wait.event), close_why(rc));
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
		if (rc->established && rc->tls_on)
			note(rc, "line %u: TLS handshake timed out after %s (%s)", st->line, d,
			     rc->tls_wire ? "the server's answer did not finish it"
			                  : "the server sent nothing back: not a TLS server?");
		else
			note(rc, "line %u: connect timed out after %s", st->line, d);
		if (rc->kernel)
			kc_abort(rc->kc);
		else
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
	if (rc->tls_on && rc->tls_stop_sends) {
		if (!rc->dropped_noted)
			note(rc, "line %u: %s not sent: the server's close_notify arrived",
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
			tls_body_arm(R, rc, 0);
			return;
		}
		if (tlsc_write(rc->tls, p, n, err, sizeof err) < 0) {
			note(rc, "line %u: %s", st->line, err);
			return;
		}
		tls_pump(rc);
		if (request_head >= 0)
			rsp_request(&rc->http, request_head == 1);
		fin_check(R, rc);
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

static void kpump(struct runner *R, struct rconn *rc, short revents);

/* A kernel connection's send, request or body: into the application's
 * write queue (a body waits for the one before, as with the raw client). */
static void kdo_send(struct runner *R, struct rconn *rc, const struct scn_step *st,
                     const uint8_t *p, size_t n, int request_head)
{
	const char *why = NULL;
	if (rc->body_active) {
		unexec(rc);
		block(R, rc, BL_BODY, st, 0);
		return;
	}
	int r = st->kind == SCN_BODY
		? kc_body(rc->kc, st->u.body.size, st->u.body.rate, st->u.body.chunk, &why)
		: kc_write(rc->kc, p, n, &why);
	if (r < 0) {
		if (!rc->dropped_noted)
			note(rc, "line %u: %s not sent: %s", st->line, scn_step_name(st->kind), why);
		rc->dropped_noted = true;
		return;
	}
	if (st->kind == SCN_BODY && st->u.body.size)
		rc->body_active = true;
	if (request_head >= 0)
		rsp_request(&rc->http, request_head == 1);
	kpump(R, rc, 0);
}

/* The steps a kernel connection maps to syscalls (kclient.h); the rest
 * (wait, sleep, hold, repeat) are the machine's own. Returns false for
 * those. The parser has refused ack, after and vanish. */
static bool kexec_step(struct runner *R, struct rconn *rc, const struct scn_step *st)
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
			fatal(R, "%s", err);
			return true;
		}
		rc->kc = kc_open(&ko, err, sizeof err);
		char lerr[256];
		if (labnet_leave(&saved, lerr, sizeof lerr) != LABNET_OK)
			fatal(R, "%s", lerr);
		if (!rc->kc) {
			note(rc, "line %u: %s", st->line, err);
			conn_failed(R, rc);
			return true;
		}
		struct kc_info ki;
		kc_info(rc->kc, &ki);
		rc->out->port = ki.local_port;
		R->by_port[rc->out->port] = rc->out;
		block(R, rc, BL_CONNECT, st, st->u.connect.timeout_us
		      ? st->u.connect.timeout_us : SCN_DEFAULT_WAIT_US);
		return true;
	}
	case SCN_SEND:
		kdo_send(R, rc, st, st->u.send.data, st->u.send.len, 0);
		return true;
	case SCN_REQUEST: {
		const char *host = R->scn->host ? R->scn->host : R->host;
		size_t need = scn_request_format(st, host, R->scratch, R->scratch_cap);
		if (need > R->scratch_cap) {
			note(rc, "line %u: request too long (%zu bytes)", st->line, need);
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
		fin_check(R, rc);
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

static void exec_step(struct runner *R, struct rconn *rc, const struct scn_step *st)
{
	char err[200];
	if (rc->kernel && kexec_step(R, rc, st))
		return;
	switch (st->kind) {
	case SCN_CONNECT:
		rc->k = rawtcp_connect(R->c, &rc->opts, err, sizeof err);
		if (!rc->k) {
			note(rc, "line %u: %s", st->line, err);
			conn_failed(R, rc);
			return;
		}
		rc->out->port = rawtcp_conn_local_port(rc->k);
		R->by_port[rc->out->port] = rc->out;
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
			tls_close(R, rc);
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
				note(rc, "line %u: %s", st->line, err);
			else
				rc->faults_set++;
		} else if (rc->opts.n_faults < RAWTCP_MAX_FAULTS) {
			rc->opts.faults[rc->opts.n_faults++] = f;
			rc->faults_set++;
		} else {
			note(rc, "line %u: at most %d drop/reorder rules per connection",
			     st->line, RAWTCP_MAX_FAULTS);
		}
		return;
	}
	case SCN_RST:
		if (!conn_closed(rc) && !rc->vanished &&
		    rawtcp_send_rst(rc->k, st->u.rst.seq_off, st->u.rst.has_ack,
		                    st->u.rst.ack_off, err, sizeof err) < 0)
			note(rc, "line %u: %s", st->line, err);
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

/* ---- kernel clients: the tick ------------------------------------------- */

/* Let a kernel connection's application make its next syscalls and take
 * in what happened. Never advances the script (callers inside a step
 * must not recurse): ktick does that. */
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
	fin_check(R, rc);
	if (rc->shut != was_shut)
		kc_pump(rc->kc, 0, rawtcp_now_us()); /* a close the policy just asked for */
}

/* Poll every kernel socket of the scenario without blocking, pump each
 * application, move the machines along; and watch the client program. */
static void ktick(struct runner *R)
{
	if (R->kd) {
		char err[256];
		if (kdelay_pump(R->kd, rawtcp_now_us(), err, sizeof err) < 0) {
			fatal(R, "%s", err);
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
			fatal(R, "run: out of memory");
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
		fatal(R, "poll: %s", strerror(errno));
		return;
	}
	for (size_t i = 0; i < R->n_rc && !R->fatal; i++) {
		struct rconn *rc = &R->rc[i];
		if (!rc->kc)
			continue;
		kpump(R, rc, R->pfd[i].revents);
		if (try_unblock(R, rc))
			advance(R, rc);
	}
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
		unsigned line = cur_line(rc);
		if (rc->st == RC_PENDING)
			note(rc, "not started before the scenario's timeout");
		else if (rc->bl == BL_CONNECT && rc->established && rc->tls_on)
			note(rc, "line %u: the TLS handshake was not over at the scenario's "
			     "timeout (%s)", line, rc->tls_wire ? "the server's answer was not "
			     "TLS enough to finish it" : "the server sent nothing back: not a TLS server?");
		else
			note(rc, "line %u: abandoned at the scenario's timeout", line);
		conn_done(R, rc);
	}
}

/* A kernel connection: what its application saw. */
static void ksnapshot(struct runner *R, struct rconn *rc)
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
	out->closed = kconn_closed(rc);
	out->state = a->client_state;
	if (out->closed)
		out->close_reason = ki.aborted ? "aborted" : ki.reset ? "reset"
		                  : !ki.fd_open ? "closed by the application" : "closed";
	out->bytes_sent = ki.bytes_written;
	out->bytes_received = ki.bytes_read;
	(void)R;
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
		if (rc->kernel) {
			ksnapshot(R, rc);
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
			note(rc, "drop/reorder: %u of %u rule%s applied (%u segments sent, %u received)",
			     used, rc->faults_set, rc->faults_set == 1 ? "" : "s",
			     info.segs[RAWTCP_DIR_OUT], info.segs[RAWTCP_DIR_IN]);
		}
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
		if (R->prog) {
			cprog_finish(R->prog, rawtcp_now_us(), &R->rs->program);
			R->prog = NULL;
		}
		for (size_t i = 0; i < R->n_rc; i++) {
			struct rconn *rc = &R->rc[i];
			conn_timer_cancel(R, rc);
			if (rc->kc) {
				/* a socket the application left open: reset, as the
				 * raw client's (kclient.h, kc_free) */
				bool rst;
				kc_free(rc->kc, &rst);
				rc->kc = NULL;
				if (rst) {
					rc->out->cleanup_rst = true;
					rc->out->cleanup_rst_time = epoch_now(R);
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
					rc->out->cleanup_rst_time = epoch_of(R, rn.out_us);
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
		else if (COOKIE_KIND(cookie) == COOKIE_KTICK &&
		         (R->phase < PH_CLEANUP || (R->kd && R->phase < PH_FINISHED))) {
			/* with a delay line, the tick also carries the clean-up
			 * RSTs through it */
			ktick(R);
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
			tls_body_tick(R, rc);
		return;
	}
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
		if (rc->tls_on)
			tls_start(R, rc);
		break;
	case RAWTCP_EV_DATA: {
		/* the "application" reads everything at once */
		const uint8_t *p;
		size_t n = rawtcp_peek(rc->k, &p);
		if (rc->tls_on)
			tls_input(R, rc, p, n);
		else
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
		fatal(R, "%s", err);
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
		fatal(R, "%s", err);
	R->fin_timeout_old[0] = '\0';
}

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
	R->rc = calloc(R->n_rc ? R->n_rc : 1, sizeof *R->rc);
	rs->conns = calloc(R->n_rc ? R->n_rc : 1, sizeof *rs->conns);
	if (!R->rc || !rs->conns) {
		fatal(R, "run: out of memory");
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

	rs->start = epoch_now(R);
	rs->kernel_unsampled = R->sd == NULL;
	R->t0_us = rawtcp_now_us();
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
			rc->tls_on = scn->tls.on || R->cfg->tls;
			rc->kernel = scn->client == SCN_CLIENT_KERNEL;
			rc->read = SCN_READ_CONCURRENTLY;
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
	if (R->kdelay_on && kdelay_dropped(R->kd) && rs->n_conns)
		note(&R->rc[0], "the delay line dropped %llu packets in this run so far",
		     (unsigned long long)kdelay_dropped(R->kd));
	/* a capture that cannot be written (a full disk) cannot judge the
	 * scenarios still to come: stop here; run_execute names it */
	if (stats.dump_errno)
		fatal(R, "write capture: %s: %s", R->cfg->capture_path, strerror(stats.dump_errno));

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

enum run_status run_execute(const struct run_config *cfg,
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
	if (R.port == 80)
		snprintf(R.url, sizeof R.url, "http://%s/", addr);
	else
		snprintf(R.url, sizeof R.url, "http://%s:%u/", addr, R.port);
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
		if (R.target && !o->target_exited && launch_poll(R.target, &ws, perr, sizeof perr) == 1) {
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

	if (status == RUN_OK) {
		if (run_analyze(o, &R.raw_addr, R.port, err, errlen) < 0) {
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
