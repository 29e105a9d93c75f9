/*
 * run.h - the runner behind `lingerlab run`: play parsed scenarios against
 * a target inside the namespace lab, capture the conversation, analyze the
 * capture and judge every expectation.
 *
 * One call does it all (run_execute; or run_play for steps 1 to 4, which
 * need root, and run_conclude for step 5, which does not: `run` and
 * `audit` do step 5 in a child without privileges, reports/privsep.h), in
 * this order:
 *   1. make the lab (lab/netns.h; over IPv6 with cfg->ipv6) and start the
 *      target in its server namespace (lab/launch.h): the reference target
 *      with a close policy, or any server command;
 *   2. open a kernel socket-state sampler in the server namespace
 *      (lab/sockdiag.h) and the raw client in the client namespace
 *      (lab/rawtcp.h), whose capture is saved to cfg->capture_path;
 *   3. play the scenarios one after the other. Each connection of a
 *      scenario runs its steps as a small state machine driven by the raw
 *      client's events and timers, all in one single-threaded event loop
 *      that also samples the kernel every sample_interval. When a
 *      scenario's steps are done (or its timeout expired) the runner waits
 *      one RTT + 100 ms, then resets what is still open, so every scenario
 *      starts against a quiet server (docs/scenario-language.md, "The end
 *      of a scenario");
 *   4. stop the target and remove the lab (also after errors and on
 *      *cfg->stop, which a SIGINT/SIGTERM handler sets);
 *   5. feed the saved capture to the analyzer (analyzer/capture.h), map
 *      each scenario's connections to analyzer connection ids by client
 *      port and time, let the kernel samples end the FIN_WAIT_2 intervals
 *      the wire did not (kernel_timeout), set the runner's clean-up RSTs
 *      apart as lab artefacts, and evaluate the expectations against the
 *      analyzer's results, the kernel samples and what the client received
 *      (run_analyze, lab/runanalysis.c; run_judge, lab/expect.c).
 *
 * Scenarios with `client kernel` run their connections on ordinary sockets
 * of the client namespace (lab/kclient.h; the machine's steps map to
 * syscalls, driven by a 1 ms tick), `client command` ones run a program
 * there (lab/clientprog.h); both can be delayed by lab/kdelay.h. The
 * client namespace is then sampled too (run_sample.nc).
 *
 * The lab knows nothing about JSON: the outcome is the plain structs
 * below; reports/labreport.h turns it into the report's `lab` and
 * `scenarios` members.
 *
 * Targets outside the lab (RUN_TARGET_REMOTE, `--target ADDR:PORT`, on
 * loopback or another host; lab/runtarget.h): no namespaces and no
 * launch; the raw client speaks from the source address the host's
 * routing picks, on the interface the route leaves by, from ports
 * reserved for the run, and the host kernel's RSTs to the target are
 * dropped by a table of the run's own when cfg->filter_kernel_rst (else
 * RUN_UNSUPPORTED, unless cfg->allow_kernel_rst asks to run unfiltered,
 * when the leak check fails the run). The kernel sampler runs when the
 * target is an address of this host (its sockets are ours to see).
 *
 * Errors: run_execute returns a status and writes a one-line "what:
 * detail" message into err.
 */
#ifndef LL_LAB_RUN_H
#define LL_LAB_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "analyzer/analyzer.h"
#include "lab/addr.h"
#include "lab/respscan.h"
#include "lab/scenario.h"

enum run_status {
	RUN_OK = 0,            /* ran; see outcome->passed */
	RUN_ERR = -1,          /* the lab, the target or the capture failed */
	RUN_ENV = -2,          /* environment: not root, no netns, no `ip`,
	                          target binary missing */
	RUN_UNSUPPORTED = -3,  /* remote raw mode (see above) */
	RUN_USAGE = -4,        /* the request cannot be run as given (e.g. too
	                          many connections for one run) */
	RUN_INTERRUPTED = -5,  /* *cfg->stop was set; everything removed */
};

enum run_target_kind {
	RUN_TARGET_BUILTIN = 0,  /* lingerlab-target --policy POLICY */
	RUN_TARGET_SERVE,        /* any command, in the server namespace */
	RUN_TARGET_REMOTE,       /* HOST:PORT elsewhere (refused for now) */
};

struct run_target {
	enum run_target_kind kind;
	const char *policy;         /* builtin: close | linger | abort | never */
	char *const *extra_args;    /* builtin: more lingerlab-target arguments
	                               (NULL-terminated; may be NULL) */
	const char *command;        /* serve: shell command line */
	const char *user;           /* serve: run it as this user (NULL: root) */
	const char *host;           /* remote: address or name */
	uint16_t port;              /* serve, remote: required; builtin: 0 = 80 */
};

/* Most connections one run drives (a client port each, never reused). */
#define RUN_MAX_CONNECTIONS 40000
/* Kernel samples kept for the report (peaks count every sample). */
#define RUN_MAX_SAMPLES 100000

struct run_config {
	struct run_target target;
	const char *capture_path;   /* required: the pcap is written here */
	const char *target_log;     /* target's output; NULL: a temporary file */
	int64_t rtt_us;             /* emulated RTT for scenarios without `rtt` */
	uint32_t sample_interval_us;/* 0: 50 ms */
	volatile sig_atomic_t *stop;/* may be NULL; non-zero: stop soon */
	pid_t lab_tag;              /* lab names' pid (0: getpid()) */
	/* remote targets (above) */
	bool filter_kernel_rst;     /* install the RST filter */
	bool allow_kernel_rst;      /* run without it (the leak check will
	                               fail the run: a negative control) */
	/* TLS for every scenario (`run --tls`): as a scenario's own `tls`
	 * statement with these settings; a scenario's statement wins */
	bool tls;
	int tls_version;            /* 0 any, 12, 13 */
	const char *tls_sni;        /* NULL: none */
	const char *tls_keylog;     /* NSS key log file; NULL: the capture's
	                               path with .keys for .pcap */
	/* what the run changes on the host, one line each, as it happens
	 * (remote targets); NULL: silent */
	void (*say)(void *arg, const char *line);
	void *say_arg;
	bool ipv6;                  /* `-6`: the lab, the target and the raw
	                               client speak IPv6 (labnet_opts.ipv6) */
};

/*
 * How a server (or client) FIN_WAIT_2 interval ended in a lab report: the
 * analyzer's four endings (enum az_fw2_end, same numbers), then two only a
 * lab run can tell:
 *   RUN_FW2_KERNEL_TIMEOUT  the kernel samples showed the server socket gone
 *                           from FIN_WAIT_2 before anything on the wire
 *                           ended it: an orphan whose net.ipv4.tcp_fin_timeout
 *                           ran out (tcp_fin_time(), the FIN_WAIT2 timewait
 *                           socket's timer in net/ipv4/tcp.c / tcp_minisocks.c)
 *                           sends nothing. The interval ends at the first
 *                           sample without the socket.
 *   RUN_FW2_LAB_CLEANUP     the RST that ended it is the runner's own
 *                           clean-up RST after the scenario's window.
 * Names as in the scenario language (enum scn_fw2_ending, same order).
 */
enum run_fw2_end {
	RUN_FW2_CLIENT_FIN = AZ_FW2_CLIENT_FIN,
	RUN_FW2_CLIENT_RST = AZ_FW2_CLIENT_RST,
	RUN_FW2_SERVER_RST = AZ_FW2_SERVER_RST,
	RUN_FW2_CAPTURE_END = AZ_FW2_CAPTURE_END,
	RUN_FW2_KERNEL_TIMEOUT,
	RUN_FW2_LAB_CLEANUP,
};
#define RUN_NFW2_ENDS 6

/* One kernel sample: counts of the target port's sockets by state. */
struct run_sample {
	double t;                   /* absolute (epoch) seconds */
	uint32_t n[SCN_NKSTATES];   /* indexed by enum scn_kstate */
	uint32_t nc[SCN_NKSTATES];  /* the client namespace's own TCP sockets
	                               (kernel clients, client programs); all 0
	                               when run_outcome.client_sampled is false */
};

/* What a kernel client's application saw (`client kernel`): its own
 * syscalls, their errors with errno and time. */
#define RUN_APP_MAX_ERRORS 8
struct run_app_error {
	char call[12];              /* "send", "recv", "connect", ... */
	int errnum;                 /* errno */
	double t;                   /* seconds since the scenario's start */
};
struct run_app {
	bool kernel;                /* a kernel-socket connection */
	enum scn_read_policy read;  /* the read policy in force at the end */
	uint64_t bytes_written;     /* accepted by send() */
	uint64_t bytes_read;        /* returned by recv() */
	bool eof;                   /* recv() returned 0 */
	bool closed_by_app;         /* close() or abort by the script */
	bool aborted;               /* SO_LINGER 0 close (`abort`) */
	const char *client_state;   /* its socket's TCP state at the end of
	                               the window ("CLOSED" once closed) */
	uint32_t n_errors, errors_dropped;
	struct run_app_error err[RUN_APP_MAX_ERRORS];
};

/* A client program (`client command`, run --client). */
#define RUN_TAIL 512
struct run_program {
	bool ran;                   /* it was started */
	bool exited;                /* it exited on its own (else: killed at
	                               the scenario's timeout, or by a signal) */
	int exit_status;            /* when exited */
	int signal;                 /* the signal that ended it, 0 if none */
	bool timed_out;             /* the runner killed it at the timeout */
	double duration;            /* seconds from start to exit */
	char stdout_tail[RUN_TAIL]; /* the last bytes of each stream */
	char stderr_tail[RUN_TAIL];
	char *output;               /* stdout then stderr, at most 1 MiB, for
	                               `expect client output contains` (owned) */
	size_t output_len;
	char error[256];            /* the runner could not start it */
};

/* One connection the runner drove. */
struct run_conn {
	uint32_t group, index;      /* set and position in it */
	uint16_t port;              /* client port, 0 if never opened */
	uint64_t az_id;             /* analyzer connection id, 0: not found */
	/* what the client saw */
	bool connected;
	bool failed;                /* refused, timed out or no port */
	bool reset_seen;            /* a RST arrived */
	bool fin_seen;              /* the server's FIN arrived */
	bool closed;                /* CLOSED before the scenario's cleanup */
	const char *close_reason;   /* rawtcp's name ("reset", ...), "" if open */
	const char *state;          /* rawtcp state at the end of the window */
	uint64_t bytes_sent;        /* client stream bytes sent */
	uint64_t bytes_received;    /* server stream bytes received */
	uint64_t rst_lost_on_flush; /* received, not yet read, at the RST */
	uint64_t responses_started; /* status lines (final responses) */
	uint64_t responses_complete;
	uint32_t n_records;
	struct rsp_record rec[RSP_MAX_RECORDS];
	bool http_failed;           /* the stream stopped looking like HTTP */
	char note[200];             /* timeouts, abandoned steps, errors */
	char tls_version[16];       /* "TLSv1.3" once a TLS handshake is done,
	                               "" (no TLS, or it failed: see note) */
	bool tls_peer_close_notify; /* the server's close_notify arrived */
	/* the analyzer's view (valid when az_id != 0) */
	enum az_kind kind;
	enum az_initiator initiator;
	enum az_state client_end, server_end; /* each side's last state */
	bool lingered;
	double linger_seconds;
	uint64_t linger_bytes;
	enum az_linger_end linger_end;  /* when lingered */
	struct az_fw2_interval fw2[2];  /* [AZ_CLIENT], [AZ_SERVER]; the
	                               server's re-ended at kfw2_gone when
	                               fw2_ending says kernel_timeout */
	enum run_fw2_end fw2_ending[2]; /* how each interval ended (above) */
	struct az_fw2_interval fw2_wire;/* the server's interval as the wire
	                               showed it (before any re-ending) */
	/* the kernel's view of this connection's server socket: the sampler
	 * looks for the target-port socket whose peer is this client port */
	bool kfw2_seen;             /* some sample showed it in FIN_WAIT_2 */
	double kfw2_first, kfw2_last; /* first and last such sample (absolute) */
	double kfw2_gone;           /* first sample after kfw2_first without it
	                               in FIN_WAIT_2; 0: still there at the end */
	bool client_rst;            /* the capture shows a RST from the client */
	/* the runner's clean-up RST after the window (a lab artefact) */
	bool cleanup_rst;           /* the runner reset it */
	uint32_t cleanup_rst_seq;   /* its raw sequence number */
	double cleanup_rst_time;    /* when it left (absolute, estimated) */
	uint64_t cleanup_rst_packet;/* its index in the capture, 0: not found */
	struct run_app app;         /* kernel clients: the application's view */
};

/* A finding (az_finding index) of a scenario's connection. */
struct run_finding {
	size_t index;               /* for az_finding() */
	bool lab_artefact;          /* its rst_packet is a clean-up RST: listed,
	                               but counted nowhere and never judged */
	/* TLS: the response at risk as the lab's decrypted view places it
	 * (the analyzer sees only records); 0: none or not TLS */
	uint32_t tls_response;      /* 1-based */
	uint16_t tls_status;
};

struct run_expect_result {
	const struct scn_expect *x;
	bool passed;
	char detail[240];
};

/* Per-side FIN_WAIT_2 aggregate over one scenario's connections. */
struct run_fw2 {
	uint64_t count;
	uint32_t peak;
	double peak_time;           /* absolute */
	double max;                 /* longest interval, seconds */
};

struct run_scenario {
	const struct scn_scenario *scn;   /* borrowed from the caller */
	double start, end;          /* absolute: first SYN .. end of the
	                               window (before the cleanup RSTs) */
	int64_t rtt_us;
	bool timed_out;             /* the scenario's timeout cut it short */
	struct run_conn *conns;
	size_t n_conns;
	uint32_t tcp_fin_timeout;   /* seconds set in the server namespace for
	                               the scenario, 0: left alone */
	/* analyzer findings about this scenario's connections */
	struct run_finding *findings;
	size_t n_findings;
	/* the counts below leave lab artefacts out */
	uint64_t rst_before_ack[2];     /* by sender: [AZ_CLIENT], [AZ_SERVER] */
	uint64_t bytes_at_risk_max[2];  /* largest, by sender */
	uint64_t client_impact[AZ_NIMPACTS]; /* server findings by impact */
	uint64_t lab_artefacts;         /* findings left out as lab artefacts */
	uint64_t cleanup_rsts;          /* connections the runner reset */
	uint64_t client_aborts;         /* connections the client itself reset
	                                   (`abort`, ...), clean-up RSTs not
	                                   counted */
	uint64_t lingered, linger_bytes;
	double linger_max;
	uint64_t linger_ended_by[AZ_NLINGER_ENDS];
	struct run_fw2 fw2[2];          /* [AZ_CLIENT], [AZ_SERVER] */
	uint64_t fw2_endings[2][RUN_NFW2_ENDS];
	/* server sockets the kernel samples showed in FIN_WAIT_2 */
	uint64_t kernel_fw2_count;
	double kernel_fw2_max;          /* longest, seconds (see run_kernel_fw2) */
	/* kernel samples during the window, beyond the start's baseline */
	uint32_t kernel_peak[SCN_NKSTATES];
	double kernel_peak_time[SCN_NKSTATES];
	uint32_t kernel_baseline[SCN_NKSTATES];
	/* how long the samples showed server sockets in each state beyond
	 * the baseline: the sum of the gaps before samples that did (the
	 * first sample of the window counts one interval) */
	double kernel_duration[SCN_NKSTATES];
	double kernel_last_t;       /* the window's previous sample, 0: none */
	uint64_t leaked_rst;
	bool kernel_unsampled;      /* no kernel samples: a --target on another
	                               host (kernel expectations then fail) */
	/* the client side, over all connections */
	bool reset_seen;
	uint64_t bytes_received;
	/* kernel clients and client programs */
	enum scn_client client;
	uint32_t client_kernel_peak[SCN_NKSTATES]; /* the client namespace's
	                               sockets by state, highest in the window */
	struct run_program program; /* `client command` */
	/* judgement */
	struct run_expect_result *results;
	size_t n_results;
	bool passed;                /* every expectation holds */
};

struct run_outcome {
	/* target */
	enum run_target_kind kind;
	char policy[16];
	char *command;              /* launch command line, NULL for remote */
	char address[64];           /* where the target listened: the address
	                               alone, "10.X.Y.1" or "fd6c:...::1" */
	uint16_t port;
	/* remote targets: how the raw client reached it */
	char iface[16];             /* the interface ("lo" on loopback) */
	char source[64];            /* the raw client's (kernel-owned) address */
	char gateway[64];           /* the next hop, "" when on link */
	bool target_local;          /* an address of this host */
	uint16_t client_port_lo, client_port_hi; /* reserved for the run */
	bool kernel_rst_filter;     /* the table was installed */
	char filter_table[32];      /* its name */
	char filter_rule[320];      /* its rule, as nft lists it */
	uint64_t filter_dropped;    /* RSTs it dropped */
	/* lab */
	char *capture_path;
	const char *capture_read;   /* what run_analyze opens when not NULL
	                               ("-": standard input, the capture opened
	                               before privileges were dropped) */
	struct lladdr raw_addr;     /* the raw client's address (run_analyze) */
	char *keylog_path;          /* TLS session keys (NSS key log), NULL if
	                               no scenario ran TLS */
	struct tlskeys *tls_keys;   /* those keys, for the analyzer (it names
	                               the HTTP response at risk under TLS) */
	char server_ns[16], client_ns[16];
	int64_t rtt_us;             /* the run's default */
	uint64_t leaked_rst;        /* whole run */
	uint64_t *cleanup_rst_packets; /* capture indexes of the runner's
	                               clean-up RSTs, ascending */
	size_t n_cleanup_rst_packets;
	uint64_t fin_wait_2_timeouts; /* kernel_timeout endings, whole run */
	uint64_t pcap_drops;
	/* real-time scheduling of the event loop while the scenarios played
	 * (rawtcp_realtime: SCHED_FIFO, memory locked; root only): granted,
	 * or why not; put back as it was before the analysis */
	bool realtime;
	int realtime_priority;      /* when realtime */
	char realtime_refused[160]; /* "" when granted */
	double sample_interval;     /* seconds */
	struct run_sample *samples; /* whole run, at most RUN_MAX_SAMPLES */
	size_t n_samples;
	uint64_t samples_dropped;   /* taken but not kept (cap) */
	uint32_t kernel_peak[SCN_NKSTATES];     /* whole run, absolute counts */
	bool client_sampled;        /* samples' nc[] hold the client namespace */
	char client_addr[64];       /* kernel clients and programs speak from */
	char kdelay_addr[64];       /* ... and delayed kernel clients from
	                               (lab/kdelay.h), "" if none */
	double kernel_peak_time[SCN_NKSTATES];
	bool target_exited;         /* the target died during the run */
	int target_status;          /* its waitpid status then */
	char target_log_tail[512];  /* when target_exited */
	/* scenarios, in the order given */
	struct run_scenario *scenarios;
	size_t n_scenarios;
	/* the analysis of the capture (owned; valid until run_outcome_free) */
	struct az *az;
	char link_type[32];         /* capture's link type name */
	char read_error[256];       /* "" unless reading the capture failed */
	char lab_error[512];        /* "" unless removing the lab failed (then
	                               `lingerlab lab clean` removes the rest) */
	bool passed;                /* every expectation holds, no leaked RST */
};

/*
 * Run scns (n of them, borrowed; they must outlive the outcome) as
 * described above. On RUN_OK *out is the outcome (free with
 * run_outcome_free); otherwise *out is NULL and err says why. The lab is
 * removed and the target stopped before this returns, whatever happened.
 */
enum run_status run_execute(const struct run_config *cfg,
                            struct scn_scenario *const *scns, size_t n,
                            struct run_outcome **out, char *err, size_t errlen);

/*
 * run_execute in two halves, for a caller that analyzes in another
 * process (reports/privsep.h: the analysis and the reports without
 * privileges). run_play does steps 1 to 4, all that needs root: on RUN_OK
 * *out holds the played scenarios and the capture, not yet analyzed.
 * run_conclude does step 5 on it (run_analyze, run_judge, o->passed);
 * on failure o is left for run_outcome_free. run_load_keys reads the TLS
 * key log the run wrote (o->keylog_path) into o->tls_keys, so a caller
 * can read it while it may (a key log that cannot be read is no error:
 * the records stay undecrypted; always 0).
 */
enum run_status run_play(const struct run_config *cfg,
                         struct scn_scenario *const *scns, size_t n,
                         struct run_outcome **out, char *err, size_t errlen);
enum run_status run_conclude(struct run_outcome *o, char *err, size_t errlen);
int run_load_keys(struct run_outcome *o, char *err, size_t errlen);

/*
 * The checks run_execute makes before it builds anything, for a caller
 * that is about to create files (`audit -o DIR`) and would rather not
 * when the run cannot happen: a remote target (RUN_UNSUPPORTED), no
 * capture path or too many connections (RUN_USAGE), not root, no network
 * namespaces or no `ip` (RUN_ENV). Returns RUN_OK, or the status with
 * err set, exactly as run_execute would.
 */
enum run_status run_preflight(const struct run_config *cfg,
                              struct scn_scenario *const *scns, size_t n,
                              char *err, size_t errlen);

void run_outcome_free(struct run_outcome *o);

/*
 * Step 5 of run_execute (lab/runanalysis.c): analyze o->capture_path into
 * o->az, match every scenario's connections (client address raw, target
 * port) to analyzer connections, take in their findings (a finding whose
 * RST is the runner's clean-up RST is a lab artefact), run run_kernel_fw2
 * and run_tally on each scenario. Returns 0, or -1 with err set.
 */
int run_analyze(struct run_outcome *o, const struct lladdr *raw, uint16_t port,
                char *err, size_t errlen);

/* "client_fin", ..., "kernel_timeout", "lab_cleanup" */
const char *run_fw2_end_name(enum run_fw2_end e);

/*
 * The kernel's word on one connection's server FIN_WAIT_2 interval: when
 * c->kfw2_gone is set and comes before the interval's end on the wire,
 * nothing on the wire ended it (the orphan timed out, see enum
 * run_fw2_end): the interval is re-ended at kfw2_gone with
 * RUN_FW2_KERNEL_TIMEOUT (fw2_wire keeps what the wire showed). Else the
 * ending stays the analyzer's, except that a client RST at or after the
 * runner's clean-up RST is RUN_FW2_LAB_CLEANUP. Sets c->fw2_ending[]. Idempotent.
 * The kernel's own FIN_WAIT_2 duration of the socket is returned in
 * *kernel_seconds (from the interval's start on the wire, else the first
 * sample, to kfw2_gone, else the last sample); -1 if the kernel never
 * showed it.
 */
void run_kernel_fw2(struct run_conn *c, double *kernel_seconds);

/*
 * The scenario's aggregates from its connections (calling run_kernel_fw2
 * on each): fw2[] (count, peak, max), fw2_endings, kernel_fw2_count/max,
 * lingering, client_aborts. Returns 0, or -1 when memory runs out.
 */
int run_tally(struct run_scenario *rs);

/* "builtin", "serve", "remote" */
const char *run_target_kind_name(enum run_target_kind k);

/*
 * Evaluate the expectations of rs (rs->results, rs->passed) from what it
 * holds. run_execute calls it; exposed so tests can judge a hand-made
 * outcome. Returns 0, or -1 when memory runs out.
 */
int run_judge(struct run_scenario *rs);

/* A kernel connection's syscall errors in order, as the report writes
 * them: "send: ECONNRESET at 0.412 s, recv: ..." or "no syscall error".
 * Returns the full length (like snprintf). */
size_t run_app_errors_text(const struct run_app *a, char *buf, size_t cap);

#endif
