/*
 * labcli.c - shared command-line plumbing of `run` and `audit`.
 */
#include "reports/labcli.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/errmsg.h"
#include "reports/cli.h"
#include "reports/labreport.h"
#include "reports/privsep.h"
#include "reports/report.h"
#include "reports/textout.h"

/* A signal handler can only talk through globals: these two are the
 * whole of it, set by the handler and read by the runner and labcli_reraise. */
static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_flag = 1;
	stop_signal = sig;
}

int labcli_parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int labcli_parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon = strrchr(s, ':');

	if (!colon || colon == s || (size_t)(colon - s) >= hostlen ||
	    labcli_parse_port(colon + 1, port) < 0)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	return 0;
}

int labcli_check_target(const struct run_target *t, bool port_set,
                        size_t n_target_args, char *err, size_t errlen)
{
	static const char *const policies[] = { "close", "linger", "abort", "never" };
	bool known = false;

	if (t->kind == RUN_TARGET_BUILTIN) {
		for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++)
			known |= t->policy && !strcmp(t->policy, policies[i]);
		if (!known) {
			errmsg_set(err, errlen, "--builtin: unknown policy '%s' (close, linger, abort, never)",
			           t->policy ? t->policy : "");
			return -1;
		}
	}
	if (t->kind == RUN_TARGET_SERVE && !port_set) {
		errmsg_set(err, errlen, "--serve needs --port N (where the server listens)");
		return -1;
	}
	if (n_target_args && t->kind != RUN_TARGET_BUILTIN) {
		errmsg_set(err, errlen, "--target-arg only goes with --builtin");
		return -1;
	}
	return 0;
}

int labcli_install_signals(volatile sig_atomic_t **stop, char *err, size_t errlen)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: poll() returns EINTR */
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0) {
		errmsg_set(err, errlen, "sigaction: %s", strerror(errno));
		return -1;
	}
	*stop = &stop_flag;
	return 0;
}

int labcli_exit_code(enum run_status st)
{
	return st == RUN_USAGE ? LL_EXIT_USAGE : LL_EXIT_ENV;
}

void labcli_reraise(void)
{
	if (!stop_signal)
		return;
	signal((int)stop_signal, SIG_DFL);
	raise((int)stop_signal);
}

json_t *labcli_report(const char *command, const char *capture,
                      const struct run_outcome *out)
{
	struct report_input in;
	json_t *report;

	memset(&in, 0, sizeof in);
	in.command = command;
	in.source = out->capture_path ? out->capture_path : capture;
	in.link_type = out->link_type[0] ? out->link_type : NULL;
	in.server_ports = &out->port;
	in.n_server_ports = 1;
	in.read_error = out->read_error[0] ? out->read_error : NULL;
	report = report_analysis(out->az, &in);
	if (report && labreport_add(report, out) < 0) {
		json_decref(report);
		report = NULL;
	}
	return report;
}

int labcli_write_report(struct privsep *ps, size_t idx, json_t *report, const char *path,
                        int rc, char *err, size_t errlen)
{
	if (rc == LL_EXIT_ENV && labreport_verdict_amend(report, rc, err) < 0) {
		snprintf(err, errlen, "out of memory building the report");
		return -1;
	}
	if (report_write_to(privsep_file(ps, idx), report, path, err, errlen) < 0)
		return -1;
	privsep_done(ps, idx);
	return 0;
}

void labcli_say(void *arg, const char *line)
{
	tout_fprintf(stderr, "%s: %s\n", arg ? (const char *)arg : "lingerlab run", line);
}

/* The directory part of file ("." when none) into buf. */
static void parent_of(const char *file, char *buf, size_t cap)
{
	const char *slash = strrchr(file, '/');

	if (!slash)
		snprintf(buf, cap, ".");
	else if (slash == file)
		snprintf(buf, cap, "/");
	else
		snprintf(buf, cap, "%.*s", (int)(slash - file), file);
}

int labcli_mkdir_parent(const char *file, size_t *made, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t n;

	*made = 0;
	parent_of(file, buf, sizeof buf);
	n = strlen(buf);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0755) == 0) {
			if (!*made)
				*made = i;
		} else if (errno != EEXIST) {
			errmsg_set(err, errlen, "cannot write %s: no such directory: %s: %s", file, buf,
			           strerror(errno));
			return -1;
		}
		buf[i] = c;
	}
	if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode)) {
		errmsg_set(err, errlen, "cannot write %s: %s: not a directory", file, buf);
		return -1;
	}
	return 0;
}

void labcli_unmake_parent(const char *file, size_t made)
{
	char buf[PATH_MAX];
	size_t n;

	if (!made)
		return;
	parent_of(file, buf, sizeof buf);
	n = strlen(buf);
	while (n >= made) {
		while (n > 1 && buf[n - 1] == '/')
			buf[--n] = '\0';
		if (rmdir(buf) < 0)
			return;
		char *slash = strrchr(buf, '/');
		if (!slash)
			return;
		*slash = '\0';
		n = (size_t)(slash - buf);
	}
}
