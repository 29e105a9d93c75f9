/*
 * launch.h - start a target server inside the lab's server namespace, wait
 * until it listens, stop it and reap it.
 *
 * Two kinds of target:
 *  - builtin: the reference server lingerlab-target (lab/target/), run as
 *      lingerlab-target --listen ADDR:PORT --policy POLICY [extra args...]
 *    found at $LINGERLAB_TARGET if set, else next to the running binary
 *    (dirname of /proc/self/exe), else on PATH.
 *  - command: any shell command line, run as /bin/sh -c COMMAND inside the
 *    server namespace (e.g. "nginx -c /tmp/x/nginx.conf -g 'daemon off;'").
 *
 * The target leads its own process group; launch_stop stops it as a
 * service manager stops a unit: SIGTERM to the whole group and to any
 * other process in the server namespace (one that left the group with
 * setsid), up to the grace period for ALL of them to end, SIGKILL to
 * what is left, then it reaps the leader. If lingerlab itself dies
 * without stopping it (SIGKILL), the leader gets SIGTERM
 * (PR_SET_PDEATHSIG) and a watchdog child ("lingerlab-watch", outside
 * the group and namespace) sees its pipe close and stops the whole
 * target the same way, so no target keeps serving.
 *
 * Environment: the target gets ours plus LINGERLAB_ADDR (the address it
 * must listen on) and LINGERLAB_PORT. With spec->user it runs as that
 * user (setgroups/setgid/setuid before exec).
 * Being its own group also keeps a terminal's Ctrl-C away from it: only
 * lingerlab gets SIGINT, and stops the target in order from its main loop.
 * Processes that escaped the group (daemonized) are still inside the
 * namespace, and labnet_teardown kills those.
 *
 * The target's stdout and stderr go to a log file (caller-named, or a
 * temporary file removed by launch_free); error messages quote its tail,
 * e.g. "target: exited with status 1 before listening on 10.77.1.1:80;
 * its stderr ends: nginx: [emerg] unknown directive ...".
 *
 * Readiness: launch_start polls (every 10 ms, up to ready_timeout) a
 * NETLINK_SOCK_DIAG socket opened inside the server namespace for a
 * LISTEN socket on the port (any address, v4 or v6), and checks that the
 * target has not died meanwhile. This makes no connection to the target,
 * so neither its logs nor the capture see a probe.
 *
 * Status: LABNET_OK, LABNET_ERR (the target failed to start or to listen;
 * message says which, with the stderr tail), LABNET_ENV (lingerlab-target
 * or /bin/sh not found, not root). Functions never print.
 */
#ifndef LL_LAB_LAUNCH_H
#define LL_LAB_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lab/netns.h"

enum launch_kind { LAUNCH_BUILTIN = 0, LAUNCH_COMMAND = 1 };

struct launch_spec {
	enum launch_kind kind;
	/* builtin: close policy, "close" | "linger" | "abort" | "never". */
	const char *policy;
	/* builtin: more arguments for lingerlab-target (NULL-terminated array,
	 * may be NULL), e.g. {"--keep-alive-on-error", "--linger-timeout", "5", NULL}. */
	char *const *extra_args;
	/* builtin: path of the binary; NULL: $LINGERLAB_TARGET, then next to
	 * /proc/self/exe, then "lingerlab-target" on PATH. */
	const char *target_path;
	/* command: the shell command line (run by /bin/sh -c). */
	const char *command;
	/* Run the target as this user (its uid, gid and groups), not root;
	 * NULL: as we are. */
	const char *user;
	/* The port the target must listen on (builtin: also its --listen port,
	 * on ln->server_addr). */
	uint16_t port;
	double ready_timeout;   /* seconds to wait for LISTEN; 0: 10 s */
	double stop_grace;      /* seconds between SIGTERM and SIGKILL; 0: 3 s */
	/* File for the target's stdout+stderr (created/truncated); NULL: a
	 * temporary file under $TMPDIR or /tmp, removed by launch_free. */
	const char *log_path;
};

struct launch; /* opaque */

/*
 * Start the target described by spec inside ln->server_ns and wait until
 * it listens. On success *out is a handle the caller must launch_stop() and
 * launch_free(). On failure the target (if started) is already stopped and
 * reaped, *out is NULL.
 */
int launch_start(const struct labnet *ln, const struct launch_spec *spec,
                 struct launch **out, char *err, size_t errlen);

/* The target's pid (process-group leader), 0 once reaped. */
pid_t launch_pid(const struct launch *l);

/* The command line as one string, for the report: the builtin's argv joined
 * by spaces, or the shell command. Owned by l. */
const char *launch_command(const struct launch *l);

/*
 * Has the target exited on its own? Non-blocking: returns 1 (exited;
 * *wstatus, if not NULL, gets the waitpid status, and it is reaped), 0
 * (still running), -1 error.
 */
int launch_poll(struct launch *l, int *wstatus, char *err, size_t errlen);

/*
 * Stop the target: SIGTERM to its process group, wait up to stop_grace,
 * then SIGKILL to the group, reap the leader. Idempotent (a second call, or
 * a call after the target exited by itself, returns LABNET_OK at once).
 * *wstatus (may be NULL) gets the leader's waitpid status. Blocks at most
 * stop_grace + ~1 s.
 */
int launch_stop(struct launch *l, int *wstatus, char *err, size_t errlen);

/* Copy the last (up to buflen-1) bytes of the target's output log, with
 * trailing newlines trimmed, into buf. Returns the length copied. */
size_t launch_log_tail(const struct launch *l, char *buf, size_t buflen);

/* Path of the target's output log (owned by l). */
const char *launch_log_path(const struct launch *l);

/* Stop (if still running) and free; removes a temporary log file. NULL ok. */
void launch_free(struct launch *l);

/*
 * Where the builtin target binary is, per the search order above, into
 * buf. Returns LABNET_OK or LABNET_ENV ("lingerlab-target: not found next
 * to /usr/local/bin/lingerlab nor on PATH; set LINGERLAB_TARGET").
 */
int launch_find_target(char *buf, size_t buflen, char *err, size_t errlen);

#endif
