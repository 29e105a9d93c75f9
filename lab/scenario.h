/*
 * scenario.h - the scenario language: parse a script into a tree the runner
 * (lab/run.h) interprets. docs/scenario-language.md is the reference for
 * every statement; this header is the contract for the tree.
 *
 * A script is untrusted text. The parser reads it through a bounded cursor,
 * checks every number for overflow and range, caps every size (file, line,
 * string, statement counts, nesting) and stops at the first error with a
 * message of the form
 *
 *     FILE:LINE:COL: expected X, found Y
 *
 * LINE and COL are 1-based; COL counts bytes. Y is the offending token in
 * double quotes (bytes outside printable ASCII written \xHH, cut to 32
 * characters with "..."), or the words `end of line` / `end of file`.
 *
 * Units inside the tree: durations in microseconds (int64_t), sizes and
 * rates in bytes and bytes per second (uint64_t).
 *
 * Ownership: scn_parse()/scn_load() return a tree owned by the caller and
 * released with scn_free(); every pointer inside points into it.
 */
#ifndef LL_LAB_SCENARIO_H
#define LL_LAB_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits (documented in docs/scenario-language.md). */
#define SCN_MAX_FILE        (1u << 20)  /* bytes of script */
#define SCN_MAX_LINE        16384       /* bytes per line */
#define SCN_MAX_STRING      16384       /* decoded bytes of one string value */
#define SCN_MAX_NAME        64          /* scenario name */
#define SCN_MAX_STEPS       10000       /* step statements in one script */
#define SCN_MAX_EXPECT      256
#define SCN_MAX_GROUPS      64          /* top-level body + parallel blocks */
#define SCN_MAX_DEPTH       8           /* nested repeat blocks */
#define SCN_MAX_HEADERS     32          /* header options on one request */
#define SCN_MAX_CONNECTIONS 40000       /* connections over all groups (a run
                                           hands out 41000 client ports) */
#define SCN_MAX_REPEAT      1000000
#define SCN_MAX_RESPONSES   16          /* `expect response N`: N at most */
#define SCN_MAX_DURATION_US (86400LL * 1000000LL)  /* 24 h */

/* Defaults the runner applies when the script says nothing. */
#define SCN_DEFAULT_TIMEOUT_US   (60LL * 1000000LL) /* whole scenario */
#define SCN_DEFAULT_WAIT_US      (10LL * 1000000LL) /* wait, connect */
#define SCN_DEFAULT_WINDOW       65535u

enum scn_step_kind {
	SCN_CONNECT = 0,   /* u.connect */
	SCN_SEND,          /* u.send */
	SCN_REQUEST,       /* u.request */
	SCN_BODY,          /* u.body */
	SCN_ACK,           /* u.ack */
	SCN_WINDOW,        /* u.window */
	SCN_FIN_POLICY,    /* u.fin */
	SCN_AFTER,         /* u.after */
	SCN_SHUTDOWN,      /* no data */
	SCN_ABORT,         /* no data */
	SCN_WAIT,          /* u.wait */
	SCN_SLEEP,         /* u.sleep_us */
	SCN_HOLD,          /* u.hold_us (-1: until the scenario's timeout) */
	SCN_REPEAT,        /* u.repeat */
	SCN_VANISH,        /* no data */
	SCN_READ,          /* u.read (kernel clients only) */
	SCN_DROP,          /* u.fault: `drop in|out N|fin` (raw client) */
	SCN_REORDER,       /* u.fault: `reorder in|out N|fin` (raw client) */
	SCN_RST,           /* u.rst: `rst [seq OFF] [ack OFF]` (raw client) */
};
#define SCN_STEP_LAST SCN_RST
/* `drop`/`reorder N`: N at most this. */
#define SCN_MAX_FAULT_NTH 1000000
/* `rst seq|ack OFF`: |OFF| at most this (a 32-bit sequence space). */
#define SCN_MAX_RST_OFFSET 2147483647LL

/* Who plays the client (`client raw|kernel|command`). */
enum scn_client {
	SCN_CLIENT_RAW = 0,     /* the raw-socket TCP (lab/rawtcp.h) */
	SCN_CLIENT_KERNEL,      /* ordinary sockets of the client namespace's
	                           own Linux TCP (lab/kclient.h) */
	SCN_CLIENT_COMMAND,     /* a program run in the client namespace
	                           (`client command "..."`, run --client) */
};

/* When a kernel client's application reads (`read ...`). */
enum scn_read_policy {
	SCN_READ_CONCURRENTLY = 0, /* a reader runs while the body is written */
	SCN_READ_AFTER_SEND,       /* only once its writes are done or failed */
	SCN_READ_NEVER,
};

enum scn_ack_mode { SCN_ACK_NOW = 0, SCN_ACK_DELAYED, SCN_ACK_NEVER, SCN_ACK_UPTO };
enum scn_fin_mode { SCN_FIN_CLOSE = 0, SCN_FIN_HALF_CLOSE, SCN_FIN_NEVER };
enum scn_after_event { SCN_AFTER_FIN = 0, SCN_AFTER_RST };

enum scn_wait_event {
	SCN_WAIT_DATA = 0, /* count: bytes received in total (>= 1) */
	SCN_WAIT_RESPONSE, /* count: complete responses in total, 0 = "the
	                      next one" (see the language reference) */
	SCN_WAIT_FIN,      /* the server's FIN arrived */
	SCN_WAIT_RST,      /* a RST arrived */
	SCN_WAIT_CLOSED,   /* the connection is over (both FINs, or a RST) */
	SCN_WAIT_SENT,     /* everything queued (sends, body) has been sent */
	SCN_WAIT_ACKED,    /* ... and acknowledged by the server */
};

/* A byte string from the script (escapes decoded). */
struct scn_bytes {
	uint8_t *data;     /* NUL-terminated for convenience; len excludes it */
	size_t len;
};

struct scn_step;

struct scn_steps {
	struct scn_step *v;
	size_t n;
};

struct scn_step {
	enum scn_step_kind kind;
	unsigned line, col;        /* where the statement starts */
	union {
		struct { int64_t timeout_us; } connect;   /* 0: default */
		struct scn_bytes send;
		struct {
			char method[16];                 /* e.g. "GET" */
			struct scn_bytes target;         /* e.g. "/index.html" */
			bool close;                      /* Connection: close */
			bool has_length;
			uint64_t length;                 /* Content-Length */
			uint32_t n_headers;
			struct scn_bytes headers;        /* each "Name: value\r\n",
			                                    concatenated (len 0: none) */
		} request;
		struct {
			uint64_t size;
			uint64_t rate;                   /* bytes/s, 0: unpaced */
			uint32_t chunk;                  /* bytes per segment, 0: MSS */
		} body;
		struct {
			enum scn_ack_mode mode;
			int64_t delay_us;                /* SCN_ACK_DELAYED */
			uint64_t upto;                   /* SCN_ACK_UPTO: server bytes */
		} ack;
		uint32_t window;                     /* bytes advertised */
		enum scn_fin_mode fin;
		struct { enum scn_after_event event; bool keep_sending; } after;
		struct {
			enum scn_wait_event event;
			uint64_t count;                  /* data / response, see above */
			int64_t timeout_us;              /* 0: default */
		} wait;
		int64_t sleep_us;
		int64_t hold_us;
		struct { uint32_t count; struct scn_steps body; } repeat;
		enum scn_read_policy read;
		struct {
			bool out;                        /* `out`: the client's segments;
			                                    else the server's (`in`) */
			bool fin;                        /* `fin`: the first with a FIN */
			uint32_t nth;                    /* else the Nth (from 1) */
		} fault;
		struct {
			int64_t seq_off;                 /* from the client's next seq */
			bool has_ack;                    /* `ack OFF` given: ACK flag */
			int64_t ack_off;                 /* from what it would ACK now */
		} rst;
	} u;
};

/* Connections that run the same steps side by side. */
struct scn_group {
	unsigned line;             /* `parallel` line, 0 for the top level */
	uint32_t connections;      /* how many (0 only for an empty top level) */
	int64_t stagger_us;        /* between successive connection starts */
	struct scn_steps steps;
};

/* What an expectation is about. */
enum scn_subject {
	SCN_X_RST_BEFORE_ACK = 0,  /* analyzer findings; metric count | bytes_at_risk */
	SCN_X_LINGERED,            /* analyzer; metric count | bytes | seconds */
	SCN_X_FIN_WAIT_2,          /* analyzer; metric count | peak | max */
	SCN_X_KERNEL,              /* kernel samples; state + metric peak */
	SCN_X_RESPONSE,            /* client: response N on every connection */
	SCN_X_RESPONSES,           /* client: complete responses per connection */
	SCN_X_RESET,               /* client: a RST arrived on some connection */
	SCN_X_LEAKED_RST,          /* lab: leaked RSTs while the scenario ran */
	SCN_X_CLIENT_IMPACT,       /* analyzer: server findings by client_impact;
	                              impact + metric count */
	SCN_X_APP_RESPONSE,        /* kernel client: response N as the
	                              application read it (as SCN_X_RESPONSE) */
	SCN_X_APP_ERROR,           /* kernel client: a syscall failed with
	                              errnum (0: any); `no`: none did */
	SCN_X_CLIENT_EXIT,         /* client command: exit status; op + value */
	SCN_X_CLIENT_OUTPUT,       /* client command: its output contains text */
	SCN_X_CLOSED_BY,           /* analyzer: every connection's close
	                              initiator is `teardown` (enum az_initiator) */
	SCN_X_KIND,                /* analyzer: every connection's kind is
	                              `teardown` (enum az_kind) */
	SCN_X_END,                 /* analyzer: every connection's `side` ended
	                              in state `teardown` (enum az_state) */
};

enum scn_metric {
	SCN_M_NONE = 0,            /* bare form: "at least one" / with `no`: none */
	SCN_M_COUNT,
	SCN_M_BYTES_AT_RISK,       /* largest over the findings */
	SCN_M_BYTES,               /* lingered: bytes drained, summed */
	SCN_M_SECONDS,             /* lingered: longest linger (value in us) */
	SCN_M_PEAK,
	SCN_M_MAX,                 /* fin_wait_2, kernel fin_wait_2: longest
	                              interval (value in us) */
	SCN_M_DURATION,            /* kernel STATE: time the samples showed a
	                              server socket in it (value in us) */
};

enum scn_op { SCN_OP_EQ = 0, SCN_OP_NE, SCN_OP_LT, SCN_OP_LE, SCN_OP_GT, SCN_OP_GE };

/* Kernel TCP states an expectation may name (lower case in scripts). */
enum scn_kstate {
	SCN_K_ESTABLISHED = 0, SCN_K_SYN_RECV, SCN_K_FIN_WAIT_1, SCN_K_FIN_WAIT_2,
	SCN_K_TIME_WAIT, SCN_K_CLOSE_WAIT, SCN_K_LAST_ACK, SCN_K_CLOSING,
};
#define SCN_NKSTATES 8

enum scn_side { SCN_SIDE_SERVER = 0, SCN_SIDE_CLIENT };

/* How a FIN_WAIT_2 interval ended, as `expect fin_wait_2 ending NAME`
 * names it: the analyzer's four endings (in enum az_fw2_end's order), then
 * the two a lab run adds (lab/run.h: enum run_fw2_end, same order). */
enum scn_fw2_ending {
	SCN_END_CLIENT_FIN = 0, SCN_END_CLIENT_RST, SCN_END_SERVER_RST,
	SCN_END_CAPTURE_END, SCN_END_KERNEL_TIMEOUT, SCN_END_LAB_CLEANUP,
};
#define SCN_NFW2_ENDINGS 6

/* client_impact, in enum az_impact's order. */
enum scn_impact {
	SCN_IMPACT_RESET_BEFORE_ACK = 0, SCN_IMPACT_RESET_AFTER_ACK, SCN_IMPACT_NO_RESET,
};
#define SCN_NIMPACTS 3

/* `tcp_fin_timeout`: whole seconds, in this range. */
#define SCN_MIN_FIN_TIMEOUT_S 1
#define SCN_MAX_FIN_TIMEOUT_S 3600

enum scn_response_check { SCN_RC_ANY = 0, SCN_RC_COMPLETE, SCN_RC_INCOMPLETE };

struct scn_expect {
	unsigned line, col;
	char text[160];            /* the statement as written (trimmed, cut) */
	enum scn_subject subject;
	bool negated;              /* `expect no ...` */
	enum scn_side side;        /* rst_before_ack, fin_wait_2 */
	enum scn_kstate kstate;    /* SCN_X_KERNEL */
	bool has_ending;           /* fin_wait_2 ending NAME */
	enum scn_fw2_ending ending;
	enum scn_impact impact;    /* SCN_X_CLIENT_IMPACT */
	enum scn_metric metric;
	enum scn_op op;
	int64_t value;             /* count, bytes, or microseconds */
	uint32_t response;         /* SCN_X_RESPONSE: 1-based index */
	int status;                /* SCN_X_RESPONSE: 0 = any */
	enum scn_response_check check;
	int errnum;                /* SCN_X_APP_ERROR: 0 = any */
	char output[128];          /* SCN_X_CLIENT_OUTPUT: the text sought */
	unsigned subject_col;      /* column of the subject word (messages) */
	int teardown;              /* SCN_X_CLOSED_BY, SCN_X_KIND, SCN_X_END:
	                              the analyzer's enum value named (see the
	                              name functions below) */
};

/* `tls ...`: every connection runs a TLS handshake after TCP's, and its
 * sends and reads go through TLS (the lab's raw client with OpenSSL over
 * memory BIOs: lab/tlsclient.c). */
#define SCN_TLS_MAX_NAME 255
struct scn_tls {
	bool on;
	int version;               /* 0 any, 12 or 13 */
	char sni[SCN_TLS_MAX_NAME + 1]; /* "" : none (the run may supply one) */
	char alpn[64];             /* "" : none */
	bool verify;               /* verify the certificate (default: not) */
	bool close_notify;         /* send close_notify before our FIN
	                              (default true; `close-notify never`) */
	bool stop_after_close_notify; /* send nothing after the server's
	                              close_notify (`after close-notify stop`) */
};

struct scn_scenario {
	char name[SCN_MAX_NAME + 1];
	char *file;                /* as given to the parser */
	char *about;               /* NULL if none */
	char *host;                /* `host "..."`, NULL: the runner's default */
	int64_t rtt_us;            /* `rtt`, -1 if none (the run's default) */
	int64_t timeout_us;        /* `timeout`, SCN_DEFAULT_TIMEOUT_US if none */
	uint32_t tcp_fin_timeout;  /* `tcp_fin_timeout`, seconds; 0 if none */
	struct scn_tls tls;        /* `tls`, .on false if none */
	struct scn_group groups[SCN_MAX_GROUPS]; /* [0] = top-level steps */
	size_t n_groups;
	uint32_t total_connections;
	struct scn_expect *expects;
	size_t n_expects;
	unsigned name_line;
	enum scn_client client;    /* `client`, SCN_CLIENT_RAW if none */
	char *client_command;      /* SCN_CLIENT_COMMAND: the shell command */
};

/* Most bytes of a `client command` string. */
#define SCN_MAX_COMMAND 4000  /* escaped, it fits a script line */

/*
 * Parse len bytes of text (need not be NUL-terminated) named file (used in
 * messages). Returns the tree, or NULL with the message in err (errlen
 * bytes, always terminated; also for out-of-memory: "FILE: out of memory").
 */
struct scn_scenario *scn_parse(const char *file, const char *text, size_t len,
                               char *err, size_t errlen);

/* Read path (at most SCN_MAX_FILE bytes) and parse it. A read failure reads
 * "PATH: No such file or directory" etc. */
struct scn_scenario *scn_load(const char *path, char *err, size_t errlen);

void scn_free(struct scn_scenario *s);

/*
 * The bytes of a `request` step: "METHOD TARGET HTTP/1.1\r\nHost: HOST\r\n"
 * (no default Host line when a header of the step is named Host) then
 * each header, "Content-Length: N\r\n" if length was given,
 * "Connection: close\r\n" if close, and "\r\n". Writes at most cap bytes
 * into buf and returns the full length (like snprintf): the caller checks
 * the result against cap. host must not be NULL.
 */
size_t scn_request_format(const struct scn_step *st, const char *host,
                          uint8_t *buf, size_t cap);

/* A duration in the language's syntax ("250ms", "1.5s", "100us"): 0 with
 * *us set, or -1 when text is not one (or exceeds 86400s). For the CLI. */
int scn_parse_duration(const char *text, int64_t *us);

/* Names used in docs, messages and reports. */
const char *scn_kstate_name(enum scn_kstate k);    /* "FIN_WAIT_2", ... */
const char *scn_op_name(enum scn_op op);           /* ">=", ... */
const char *scn_step_name(enum scn_step_kind k);   /* "connect", ... */
const char *scn_fw2_ending_name(enum scn_fw2_ending e); /* "kernel_timeout", ... */
const char *scn_impact_name(enum scn_impact i);    /* "reset_before_ack", ... */
const char *scn_read_policy_name(enum scn_read_policy r); /* "after send", ... */
const char *scn_client_name(enum scn_client c);   /* "raw", "kernel", "command" */

/* The teardown words of `expect closed_by|kind|server end|client end`,
 * indexed by the analyzer's enum values (az_initiator, az_kind, az_state;
 * lab/run.c checks the orders agree); "?" out of range. */
const char *scn_closer_name(int v);                /* "client", ... (1..3) */
const char *scn_kind_name(int v);                  /* "open", "graceful", ... */
const char *scn_end_name(int v);                   /* "TIME_WAIT", ... (1..10) */

/* The errno a name such as "ECONNRESET" stands for, 0 if none. */
int scn_errno_by_name(const char *name, size_t len);

/* Build the scenario `run --client 'COMMAND'` plays: named "client",
 * `client command` COMMAND, no expectations. NULL with err set when the
 * command is empty or longer than SCN_MAX_COMMAND. */
struct scn_scenario *scn_client_command(const char *command, char *err, size_t errlen);

/* Compare a value with an expectation's operator. */
bool scn_compare(int64_t actual, enum scn_op op, int64_t value);

#endif
