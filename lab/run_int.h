/*
 * run_int.h - the runner's insides, shared by its files (not an API: the
 * runner's API is run.h). The runner is one single-threaded event loop;
 * its state is struct runner, each connection of the scenario being played
 * a struct rconn. Who does what:
 *
 *   run.c          the public API: preflight, the lab (or a target outside
 *                  it) made and removed, run_execute; small helpers
 *   run_loop.c     timers, rawtcp's events, a scenario's phases (running,
 *                  settle, clean-up), one scenario played (play)
 *   run_steps.c    the connection machine: the step cursor, blocking and
 *                  unblocking, the raw client's steps, the FIN policy
 *   run_tls.c      TLS over the raw client (handshake, records, the body)
 *   run_kclient.c  `client kernel` connections (their steps as syscalls,
 *                  the 1 ms tick) and the client program's watch
 *   run_sampler.c  the kernel sampler: counts per state, and the target
 *                  port's FIN_WAIT_2 sockets followed one by one
 *   runanalysis.c  the capture through the analyzer (run_analyze)
 *   expect.c       the expectations judged (run_judge)
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
#ifndef LL_LAB_RUN_INT_H
#define LL_LAB_RUN_INT_H

#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lab/clientprog.h"
#include "lab/kclient.h"
#include "lab/kdelay.h"
#include "lab/launch.h"
#include "lab/rawtcp.h"
#include "lab/run.h"
#include "lab/sockdiag.h"
#include "lab/tlsclient.h"

#define DEFAULT_INTERVAL_US 50000
#define SETTLE_EXTRA_US     100000   /* after the steps: packets in flight */
#define CLEANUP_EXTRA_US    50000    /* after the cleanup RSTs */
#define SEND_RETRY_US       10000    /* send buffer full: try again */
#define LOOP_SLICE_US       1000000  /* rawtcp_run deadline per call */
#define SNDBUF_CAP          (1u << 20)
#define RT_PRIORITY         10            /* SCHED_FIFO, as bench/rawtcp.sh */
#define TLS_PIECE           16384         /* OpenSSL output per send (run_tls.c) */
#define TB_GEN_FLAG         0x80000000u   /* a connection timer for the TLS body */

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
	bool refused;                  /* its SYN was answered by a RST */
	uint32_t faults_set;         /* `drop`/`reorder` rules given (noted at the end) */
	bool dropped_noted;
	uint64_t resp_cursor;
	struct rsp_scan http;
	/* TLS (the scenario's `tls`, or run --tls): OpenSSL turns the steps'
	 * plaintext into records (rtls_pump sends them) and the server's
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
	/* real-time scheduling (run.c, realtime_on): what to put back */
	bool rt_on;
	int rt_old_policy;
	struct sched_param rt_old_param;
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
	/* the raw client's connections, over the run: established, and
	 * refused (a RST to the SYN); a remote target that refused every one
	 * is an environment error: nothing listens there */
	unsigned raw_established, raw_refused;
	/* trouble */
	bool fatal, interrupted;
	char err[256];
};

/* ---- small helpers (run.c) ---- */

/* Epoch seconds of a CLOCK_MONOTONIC instant (rawtcp_now_us), and of now. */
double runner_epoch_of(const struct runner *R, uint64_t mono_us);
double runner_epoch_now(const struct runner *R);
/* The run's first fatal error (later ones are dropped); the loop stops. */
void runner_fatal(struct runner *R, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append "; "-separated text to the connection's note (cut when full). */
void rconn_note(struct rconn *rc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "2s", "250ms", "10us": a duration as the scenario language writes it. */
void runner_fmt_dur(int64_t us, char *buf, size_t cap);
/* A `wait` event's name ("response", "fin", ...). */
const char *runner_wait_name(enum scn_wait_event e);

/* ---- the kernel sampler (run_sampler.c) ---- */

/* Take one sample now; baseline (NULL: none) receives its counts. */
void runner_sample(struct runner *R, uint32_t *baseline);
/* The next sample, one interval from now. */
void runner_sampler_arm(struct runner *R);

/* ---- timers, events, phases, one scenario (run_loop.c) ---- */

/* A connection's one timer (set replaces it), after_us from now. */
void rconn_timer_set(struct runner *R, struct rconn *rc, int64_t after_us);
void rconn_timer_cancel(struct runner *R, struct rconn *rc);
/* A deadline, phase or tick timer (COOKIE_*) of the current scenario. */
void runner_timer(struct runner *R, uint64_t kind, uint64_t after_us);
/* Play one scenario to its end; -1 when the run must stop (R->fatal,
 * R->interrupted). */
int runner_play(struct runner *R, struct run_scenario *rs);

/* ---- the connection machine and the raw client's steps (run_steps.c) ---- */

/* Run the connection's steps until one blocks or they are over. */
void rconn_advance(struct runner *R, struct rconn *rc);
/* Block on step st (timeout_us > 0: its timer). */
void rconn_block(struct runner *R, struct rconn *rc, enum rc_block bl,
                 const struct scn_step *st, int64_t timeout_us);
/* Re-examine a blocked connection; true: call rconn_advance(). */
bool rconn_try_unblock(struct runner *R, struct rconn *rc);
/* The connection's own timer fired (start, connect/wait timeout, sleep). */
void rconn_timer_fired(struct runner *R, struct rconn *rc);
/* Its steps are over (failed: a step failed, noted). */
void rconn_done(struct runner *R, struct rconn *rc);
void rconn_failed(struct runner *R, struct rconn *rc);
/* The step just taken runs again next time. */
void rconn_unexec(struct rconn *rc);
/* The line of the step it stands at, for notes. */
unsigned rconn_line(const struct rconn *rc);
/* Will the script still send something? */
bool rconn_sends_ahead(const struct rconn *rc);
bool rconn_closed(const struct rconn *rc);
/* Send our FIN when the connection's FIN policy says it is time. */
void rconn_fin_check(struct runner *R, struct rconn *rc);

/* ---- TLS over the raw client (run_tls.c) ---- */

/* TCP's handshake is done: start TLS's. */
void rtls_start(struct runner *R, struct rconn *rc);
/* Server bytes, in order: through OpenSSL to the response scanner. */
void rtls_input(struct runner *R, struct rconn *rc, const uint8_t *p, size_t n);
/* Queue what OpenSSL has for the wire; false if some must wait. */
bool rtls_pump(struct rconn *rc);
/* The handshake was cut by the server's FIN or RST: noted; true when
 * `connect` has failed. */
bool rtls_handshake_cut(struct rconn *rc, unsigned line);
/* Our close_notify, ahead of our FIN, unless the scenario says never. */
void rtls_close(struct runner *R, struct rconn *rc);
/* The body through TLS: its timer, and one tick of it. */
void rtls_body_arm(struct runner *R, struct rconn *rc, uint64_t after_us);
void rtls_body_tick(struct runner *R, struct rconn *rc);

/* ---- kernel clients and client programs (run_kclient.c) ---- */

/* A `client kernel` step as syscalls; false: a step of the machine's own
 * (wait, sleep, hold, repeat). */
bool rkc_exec_step(struct runner *R, struct rconn *rc, const struct scn_step *st);
bool rkc_closed(const struct rconn *rc);
bool rkc_wait_satisfied(const struct rconn *rc, const struct scn_step *st);
/* The application closes (or shuts down) when its FIN policy says so. */
void rkc_fin_check(struct rconn *rc);
/* Every 1 ms: poll the sockets, pump the applications, move the
 * machines, watch the client program. */
void rkc_tick(struct runner *R);
/* What the application saw, into the outcome. */
void rkc_snapshot(struct runner *R, struct rconn *rc);

#endif
