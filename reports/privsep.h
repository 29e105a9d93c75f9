/*
 * privsep.h - the analysis and the reports of a lab run (`run`, `audit`)
 * in a child process without privileges, as OpenBSD's privsep and
 * tcpdump's droproot() do: root stays only in the process that needs it.
 *
 * Who holds what:
 *   - the parent (root) makes the lab: network namespaces and veth pairs,
 *     the target started in its namespace, sysctls, nftables (--target),
 *     the raw client's raw and AF_PACKET sockets, the capture file
 *     (lab/run.h, run_play). When the lab is gone it reads the TLS key
 *     log the run wrote, opens the capture for reading and opens every
 *     output file (privsep_add: so `sudo lingerlab run -o ~/dir` writes
 *     where nobody could), then forks and waits;
 *   - the child gives up root at once (reports/privdrop.h: -Z USER,
 *     default nobody; no capability in any set, PR_SET_NO_NEW_PRIVS), and
 *     only then parses the capture (run_conclude: the analyzer), judges
 *     the expectations and writes the reports into the open files;
 *   - the parent renames each file the child finished into place (a file
 *     the child did not finish is removed: no half report is left) and
 *     exits with the child's exit code.
 *
 *   struct privsep ps;
 *   privsep_init(&ps, "lingerlab run", user, err, sizeof err); // before the run
 *   run_play(...);
 *   privsep_add(&ps, report_path, &i_report, err, sizeof err);
 *   rc = privsep_run(&ps, outcome, write_fn, arg, err, sizeof err);
 *   privsep_free(&ps);
 * In write_fn (in the child): run_conclude, then each writer writes into
 * privsep_file(ps, i) (and closes it, as report_write_to does) and calls
 * privsep_done(ps, i) when it succeeded. Its return value is the exit
 * code.
 *
 * Test hook: with LINGERLAB_TEST_STOP_ANALYSIS set in the environment the
 * child stops itself (SIGSTOP) right after the drop, before it reads a
 * byte of the capture, so a test can read /proc/PID/status and SIGCONT it.
 *
 * Errors: -1 / exit code 3 (LL_EXIT_ENV) with "what: detail" in err.
 */
#ifndef LL_REPORTS_PRIVSEP_H
#define LL_REPORTS_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lab/run.h"
#include "reports/privdrop.h"

#define PRIVSEP_MAX_FILES 8

struct privsep_file {
	char *path;                /* where it goes */
	char *tmp;                 /* written under this name, NULL: in place */
	FILE *f;
	bool written;              /* the child said so (privsep_done) */
};

struct privsep {
	const char *prog;          /* "lingerlab run": for messages */
	struct privdrop pd;
	struct privsep_file file[PRIVSEP_MAX_FILES];
	size_t n;
	int done_fd;               /* the child's end of the pipe, -1 */
};

/* Resolve the user the child becomes (NULL: nobody; "root": keep root).
 * Returns 0, or -1 with err set ("-Z: no such user 'x'"). */
int privsep_init(struct privsep *ps, const char *prog, const char *user,
                 char *err, size_t errlen);

/*
 * Open path for the child to write ("-": standard output). A regular file
 * is created beside path under a temporary name (mode 0666 less the
 * umask, owned by whoever runs this: root) and renamed over path once the
 * child is done with it; anything else (a FIFO, /dev/stdout) is opened in
 * place. *idx receives its index. Returns 0, or -1 with err set.
 */
int privsep_add(struct privsep *ps, const char *path, size_t *idx, char *err,
                size_t errlen);

/* In the child: the stream of file idx, and its completion. */
FILE *privsep_file(struct privsep *ps, size_t idx);
void privsep_done(struct privsep *ps, size_t idx);

/*
 * Fork; in the child drop privileges, read the capture o->capture_path
 * through a descriptor opened here (o->capture_read becomes "-") and
 * return fn(ps, o, arg) as its exit code. The parent waits, renames the
 * finished files into place, removes the others and returns the child's
 * exit code; LL_EXIT_ENV (3) with err set when the child could not be
 * started, died by a signal, or a file could not be put in place.
 */
int privsep_run(struct privsep *ps, struct run_outcome *o,
                int (*fn)(struct privsep *ps, struct run_outcome *o, void *arg),
                void *arg, char *err, size_t errlen);

/* Close and remove what is left (a file never finished). */
void privsep_free(struct privsep *ps);

#endif
