/*
 * labcli.h - what `lingerlab run` and `lingerlab audit` share: checking a
 * target given on the command line, running the lab with SIGINT, SIGTERM
 * and SIGHUP turned into a polite stop, and building the lab report.
 *
 * CLI layer: these functions never print; messages go to the caller's
 * buffer ("what: detail"), and exit codes are reports/cli.h's.
 */
#ifndef LL_REPORTS_LABCLI_H
#define LL_REPORTS_LABCLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/run.h"

/* A port number 1-65535 in s (the whole string). Returns 0 or -1. */
int labcli_parse_port(const char *s, uint16_t *port);

/* "HOST:PORT" (the last colon splits) into host (hostlen bytes) and port.
 * Returns 0, or -1 when there is no host, no valid port or host is too
 * long. */
int labcli_parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port);

/*
 * Check a target as the command line gave it: a known builtin policy,
 * --serve with its port (port_set), --target-arg only with --builtin
 * (n_target_args). Returns 0, or -1 with the reason in err, e.g.
 * "--serve needs --port N (where the server listens)".
 */
int labcli_check_target(const struct run_target *t, bool port_set,
                        size_t n_target_args, char *err, size_t errlen);

/*
 * Install handlers for SIGINT, SIGTERM and SIGHUP that only set the flag
 * returned in *stop (for run_config.stop); no SA_RESTART, so the runner's
 * poll() wakes up. Returns 0, or -1 with err set.
 */
int labcli_install_signals(volatile sig_atomic_t **stop, char *err, size_t errlen);

/* The exit code for a run_execute() status other than RUN_OK:
 * RUN_USAGE -> LL_EXIT_USAGE, everything else (not root, no netns, a
 * target that would not start, remote, interrupted) -> LL_EXIT_ENV. */
int labcli_exit_code(enum run_status st);

/* After the caller has removed what it made: if a signal stopped the run,
 * die by that same signal so a shell or CI sees why. Returns otherwise. */
void labcli_reraise(void);

/* The report of a lab run: the analysis of its capture plus the `lab` and
 * `scenarios` members. command is "run" or "audit". Returns a new
 * reference (caller json_decref()s), or NULL when out of memory. */
json_t *labcli_report(const char *command, const char *capture,
                      const struct run_outcome *out);

struct privsep;
/*
 * In the analysis child, after what goes beside the report: write report
 * into file idx of ps (path: for messages) and mark it done. When rc is
 * LL_EXIT_ENV, err holds why (something beside the report failed) and
 * the report's verdict says so first (labreport_verdict_amend). Returns
 * 0, or -1 with err set ("out of memory building the report", or
 * report_write_to's reason): the caller's exit status is then LL_EXIT_ENV.
 */
int labcli_write_report(struct privsep *ps, size_t idx, json_t *report, const char *path,
                        int rc, char *err, size_t errlen);
/* run_config.say: prints "PROG: LINE" on stderr, PROG being arg (a
 * string, e.g. "lingerlab audit"; NULL: "lingerlab run"). What --target
 * changes on the host is always shown. */
void labcli_say(void *arg, const char *line);

/*
 * mkdir -p for the directory a file goes in (`run -o DIR/report.json`
 * into a missing DIR, as `audit -o DIR` does). *made: length of the first
 * component created (0: none), for labcli_unmake_dir. Returns 0, or -1
 * with err ("no such directory: DIR: Permission denied").
 */
int labcli_mkdir_parent(const char *file, size_t *made, char *err, size_t errlen);

/* Remove the directories labcli_mkdir_parent made for file (deepest
 * first; one that is not empty stays). */
void labcli_unmake_parent(const char *file, size_t made);

#endif
