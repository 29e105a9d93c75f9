/*
 * launch.c - start, watch and stop the target inside the lab's server
 * namespace (see launch.h).
 */
#include "lab/launch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab/sockdiag.h"
#include "lab/errmsg.h"

#define MAX_EXTRA 64
#define MAX_GROUPS 64

extern char **environ;

struct launch {
	pid_t pid;
	bool reaped;
	bool stopped;    /* launch_stop ran: never signal the group again */
	int wstatus;
	double grace;
	char *command;
	char log_path[PATH_MAX];
	bool log_temp;
	char ns[LABNET_NAMELEN];   /* the server namespace: what the target's
	                              processes live in */
	pid_t watchdog;            /* stops the target if we die (0: none) */
	int watch_fd;              /* its socket: a byte = stand down, EOF = act */
};

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static bool is_exec(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int launch_find_target(char *buf, size_t buflen, char *err, size_t errlen)
{
	const char *env = getenv("LINGERLAB_TARGET");
	char self[PATH_MAX];
	const char *path;
	ssize_t n;
	int w;

	if (env && *env) {
		if (!is_exec(env)) {
			errmsg_set(err, errlen, "lingerlab-target: LINGERLAB_TARGET=%s is not an executable file", env);
			return LABNET_ENV;
		}
		w = snprintf(buf, buflen, "%s", env);
		return (w > 0 && (size_t)w < buflen) ? LABNET_OK : LABNET_ENV;
	}
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			w = snprintf(buf, buflen, "%s/lingerlab-target", self);
			if (w > 0 && (size_t)w < buflen && is_exec(buf))
				return LABNET_OK;
			*slash = '/';
		}
	} else {
		self[0] = '\0';
	}
	path = getenv("PATH");
	while (path && *path) {
		const char *colon = strchr(path, ':');
		size_t len = colon ? (size_t)(colon - path) : strlen(path);

		w = snprintf(buf, buflen, "%.*s/lingerlab-target", (int)len, path);
		if (len > 0 && w > 0 && (size_t)w < buflen && is_exec(buf))
			return LABNET_OK;
		path += len;
		if (*path == ':')
			path++;
	}
	errmsg_set(err, errlen, "lingerlab-target: not found next to %s nor on PATH; set LINGERLAB_TARGET",
	       self[0] ? self : "this program");
	return LABNET_ENV;
}

const char *launch_log_path(const struct launch *l)
{
	return l->log_path;
}

size_t launch_log_tail(const struct launch *l, char *buf, size_t buflen)
{
	struct stat st;
	size_t want, got = 0;
	off_t from;
	int fd;

	if (buflen == 0)
		return 0;
	buf[0] = '\0';
	fd = open(l->log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) != 0 || st.st_size <= 0) {
		close(fd);
		return 0;
	}
	want = (size_t)st.st_size < buflen - 1 ? (size_t)st.st_size : buflen - 1;
	from = st.st_size - (off_t)want;
	while (got < want) {
		ssize_t n = pread(fd, buf + got, want - got, from + (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
		got--;
	buf[got] = '\0';
	return got;
}

/* "; its output ends: ..." (one line), or "" when it printed nothing. */
static void tail_clause(const struct launch *l, char *buf, size_t buflen)
{
	char tail[320];
	size_t n = launch_log_tail(l, tail, sizeof tail);

	buf[0] = '\0';
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (tail[i] == '\n' || tail[i] == '\r' || tail[i] == '\t')
			tail[i] = ' ';
	snprintf(buf, buflen, "; its output ends: %s", tail);
}

static void describe_status(int st, char *buf, size_t buflen)
{
	if (WIFEXITED(st))
		snprintf(buf, buflen, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, buflen, "was killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, buflen, "stopped (status 0x%x)", (unsigned)st);
}

/* Reap the leader if it has exited; 1 exited, 0 running, -1 error. */
static int reap_nohang(struct launch *l)
{
	int st;
	pid_t w;

	if (l->reaped)
		return 1;
	do
		w = waitpid(l->pid, &st, WNOHANG);
	while (w < 0 && errno == EINTR);
	if (w == l->pid) {
		l->reaped = true;
		l->wstatus = st;
		return 1;
	}
	if (w < 0 && errno == ECHILD) {   /* someone reaped it (labnet teardown) */
		l->reaped = true;
		l->wstatus = 0;
		return 1;
	}
	return w < 0 ? -1 : 0;
}

pid_t launch_pid(const struct launch *l)
{
	return l->reaped ? 0 : l->pid;
}

const char *launch_command(const struct launch *l)
{
	return l->command;
}

int launch_poll(struct launch *l, int *wstatus, char *err, size_t errlen)
{
	int r = reap_nohang(l);

	if (r < 0) {
		errmsg_set(err, errlen, "target: waitpid: %s", strerror(errno));
		return -1;
	}
	if (r == 1 && wstatus)
		*wstatus = l->wstatus;
	return r;
}

/*
 * The target's processes: those of its process group, and any other in
 * the server namespace (a daemon that left the group with setsid is still
 * there, as a service manager's cgroup would hold it). Zombies do not
 * count: they are gone, only not reaped. sig != 0 is sent to each.
 * Returns how many live ones there are (-1: /proc unreadable).
 */
static int target_procs(pid_t pgid, const char *ns, int sig)
{
	struct stat nst;
	bool have_ns = false;
	DIR *d;
	struct dirent *de;
	pid_t self = getpid();
	int n = 0;

	if (ns && *ns) {
		char path[64 + LABNET_NAMELEN];
		snprintf(path, sizeof path, "/run/netns/%s", ns);
		have_ns = stat(path, &nst) == 0;
	}
	d = opendir("/proc");
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char path[64], buf[512], state = '?';
		char *end, *rp;
		long pid, pgrp = 0;
		ssize_t got;
		int fd;
		bool ours = false;

		errno = 0;
		pid = strtol(de->d_name, &end, 10);
		if (*end || errno || pid <= 0 || pid == self)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/stat", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		got = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (got <= 0)
			continue;
		buf[got] = '\0';
		/* "pid (comm) S ppid pgrp ...": comm may hold anything, so
		 * the fields start after the LAST ')' */
		rp = strrchr(buf, ')');
		if (!rp || sscanf(rp + 1, " %c %*d %ld", &state, &pgrp) != 2)
			continue;
		if (state == 'Z' || state == 'X')
			continue;
		ours = pgrp == (long)pgid;
		if (!ours && have_ns) {
			struct stat pst;
			snprintf(path, sizeof path, "/proc/%ld/ns/net", pid);
			ours = stat(path, &pst) == 0 && pst.st_dev == nst.st_dev && pst.st_ino == nst.st_ino;
		}
		if (!ours)
			continue;
		n++;
		if (sig)
			(void)kill((pid_t)pid, sig);
	}
	closedir(d);
	return n;
}

/* SIGTERM to every process of the target, up to grace seconds for all of
 * them to end (reaping the leader when l is given), SIGKILL to what is
 * left. Returns the number SIGKILLed. */
static int stop_procs(struct launch *l, pid_t pgid, const char *ns, double grace)
{
	double end = now_mono() + grace;
	int left;

	(void)kill(-pgid, SIGTERM);
	(void)target_procs(pgid, ns, SIGTERM);
	for (;;) {
		if (l)
			(void)reap_nohang(l);
		left = target_procs(pgid, ns, 0);
		if (left <= 0 || now_mono() >= end)
			break;
		sleep_ms(10);
	}
	if (left > 0) {
		(void)kill(-pgid, SIGKILL);
		(void)target_procs(pgid, ns, SIGKILL);
	}
	return left > 0 ? left : 0;
}

/*
 * The watchdog: a child of ours, outside the target's group and
 * namespace, that blocks on a socket pair. A byte from us means "stopped, stand
 * down"; end-of-file means we died without stopping the target (SIGKILL,
 * a crash): it stops the target as launch_stop would, then exits. The
 * leader also has PR_SET_PDEATHSIG (SIGTERM), but only the watchdog
 * reaches its workers and what left the group.
 */
static void start_watchdog(struct launch *l)
{
	int p[2];
	pid_t pid;

	l->watch_fd = -1;
	/* A socket pair rather than a pipe: send() with MSG_NOSIGNAL cannot
	 * raise SIGPIPE in us should the watchdog be gone already. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0)
		return;
	pid = fork();
	if (pid == 0) {
		char c;
		ssize_t n;

		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		(void)setpgid(0, 0);
		(void)prctl(PR_SET_NAME, "lingerlab-watch");
		close(p[1]);
		/* Hold nothing of ours open (a reader of our stdout must see
		 * EOF when we die): /dev/null on 0-2, the socket on 3, no more. */
		int dn = open("/dev/null", O_RDWR);
		if (dn >= 0) {
			(void)dup2(dn, 0);
			(void)dup2(dn, 1);
			(void)dup2(dn, 2);
		}
		int rfd = p[0];
		if (p[0] == 3 || dup2(p[0], 3) == 3) {
			rfd = 3;
			(void)close_range(4, ~0u, 0);
		}
		do
			n = read(rfd, &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			(void)stop_procs(NULL, l->pid, l->ns, l->grace);
		_exit(0);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return;
	}
	l->watchdog = pid;
	l->watch_fd = p[1];
}

static void stop_watchdog(struct launch *l)
{
	if (l->watch_fd >= 0) {
		ssize_t n = send(l->watch_fd, "q", 1, MSG_NOSIGNAL);
		(void)n;
		close(l->watch_fd);
		l->watch_fd = -1;
	}
	if (l->watchdog > 0) {
		while (waitpid(l->watchdog, NULL, 0) < 0 && errno == EINTR)
			;
		l->watchdog = 0;
	}
}

int launch_stop(struct launch *l, int *wstatus, char *err, size_t errlen)
{
	double end;
	int rc = LABNET_OK;

	/* pid 0 (never started) must not reach kill(): kill(-0, ...) would
	 * signal our own process group. */
	if (!l || l->pid <= 0)
		return LABNET_OK;
	if (l->stopped) {
		if (wstatus)
			*wstatus = l->wstatus;
		return LABNET_OK;
	}
	l->stopped = true;
	/* As a service manager stops a unit: SIGTERM to all of it, the grace
	 * period for ALL of it to end (not only the leader: Apache's parent
	 * waits for its children, then removes its pid file), then SIGKILL
	 * to what is left. */
	(void)stop_procs(l, l->pid, l->ns, l->grace);
	stop_watchdog(l);
	if (!l->reaped)
		(void)kill(l->pid, SIGKILL);
	if (!l->reaped) {
		end = now_mono() + 2.0;
		while (reap_nohang(l) == 0 && now_mono() < end)
			sleep_ms(5);
		if (!l->reaped) {
			errmsg_set(err, errlen, "target: pid %d did not die after SIGKILL", (int)l->pid);
			return LABNET_ERR;
		}
	}
	if (wstatus)
		*wstatus = l->wstatus;
	return rc;
}

void launch_free(struct launch *l)
{
	if (!l)
		return;
	(void)launch_stop(l, NULL, NULL, 0);
	stop_watchdog(l);
	if (l->log_temp)
		(void)unlink(l->log_path);
	free(l->command);
	l->command = NULL;
	free(l);
}

/* Join argv with spaces, quoting arguments that need it for a shell. */
static char *join_command(char *const argv[])
{
	size_t cap = 1;
	char *s, *p;

	for (int i = 0; argv[i]; i++)
		cap += strlen(argv[i]) * 4 + 3;
	s = malloc(cap);
	if (!s)
		return NULL;
	p = s;
	for (int i = 0; argv[i]; i++) {
		const char *a = argv[i];
		bool quote = *a == '\0' || strpbrk(a, " \t\n'\"\\$`;&|<>()*?[]{}~#!") != NULL;

		if (i)
			*p++ = ' ';
		if (quote)
			*p++ = '\'';
		for (; *a; a++) {
			if (quote && *a == '\'') {
				memcpy(p, "'\\''", 4);
				p += 4;
			} else {
				*p++ = *a;
			}
		}
		if (quote)
			*p++ = '\'';
	}
	*p = '\0';
	return s;
}

/* Our environment without LINGERLAB_ADDR/PORT, then those two set to
 * where the target must listen (launch.h). */
static int make_env(const char *addr, uint16_t port, char ***out)
{
	size_t n = 0, k = 0;
	char **e;

	while (environ && environ[n])
		n++;
	e = calloc(n + 3, sizeof *e);
	if (!e)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!strncmp(environ[i], "LINGERLAB_ADDR=", 15) || !strncmp(environ[i], "LINGERLAB_PORT=", 15))
			continue;
		e[k++] = environ[i];   /* borrowed */
	}
	if (asprintf(&e[k], "LINGERLAB_ADDR=%s", addr) < 0) {
		free(e);
		return -1;
	}
	if (asprintf(&e[k + 1], "LINGERLAB_PORT=%u", (unsigned)port) < 0) {
		free(e[k]);
		free(e);
		return -1;
	}
	e[k + 2] = NULL;
	*out = e;
	return 0;
}

/* Free what make_env made (the two strings it owns are the last two). */
static void free_env(char **e)
{
	size_t n = 0;

	if (!e)
		return;
	while (e[n])
		n++;
	if (n >= 2) {
		free(e[n - 1]);
		free(e[n - 2]);
	}
	free(e);
}

/* --serve-user: uid, gid and supplementary groups of user into so. */
static int lookup_user(const char *user, struct labnet_spawn_opts *so, gid_t *groups,
                       char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int ng = MAX_GROUPS, r;

	r = getpwnam_r(user, &pw, buf, sizeof buf, &res);
	if (r != 0 || !res) {
		errmsg_set(err, errlen, "--serve-user %s: %s", user, r ? strerror(r) : "no such user");
		return LABNET_ERR;
	}
	if (getgrouplist(user, pw.pw_gid, groups, &ng) < 0) {
		errmsg_set(err, errlen, "--serve-user %s: in more than %d groups", user, MAX_GROUPS);
		return LABNET_ERR;
	}
	so->set_ids = true;
	so->uid = pw.pw_uid;
	so->gid = pw.pw_gid;
	so->groups = groups;
	so->ngroups = (size_t)ng;
	return LABNET_OK;
}

int launch_start(const struct labnet *ln, const struct launch_spec *spec,
                 struct launch **out, char *err, size_t errlen)
{
	struct labnet_spawn_opts so = LABNET_SPAWN_OPTS_INIT;
	char target[PATH_MAX], listen_arg[LLADDR_PORTSTRLEN], addr[LLADDR_PORTSTRLEN], tail[400], how[96];
	char host[LLADDR_STRLEN];      /* the address alone, for LINGERLAB_ADDR */
	char *argv[MAX_EXTRA + 8];
	struct sockdiag *sd = NULL;
	struct launch *l = NULL;
	char **envp = NULL;
	gid_t groups[MAX_GROUPS];
	double timeout, end;
	int argc = 0, logfd = -1, rc;
	pid_t pid;

	*out = NULL;
	if (!ln || !spec || spec->port == 0) {
		errmsg_set(err, errlen, "target: no lab or no port given");
		return LABNET_ERR;
	}
	/* the lab's family: "10.X.Y.1:80" or "[fd6c:6c6c:XXYY::1]:80" */
	lladdr_str_port(&ln->server_ip, spec->port, addr, sizeof addr);
	lladdr_str(&ln->server_ip, host, sizeof host);
	if (spec->kind == LAUNCH_BUILTIN) {
		if (!spec->policy || !*spec->policy) {
			errmsg_set(err, errlen, "target: builtin target needs a policy");
			return LABNET_ERR;
		}
		if (spec->target_path) {
			if (!is_exec(spec->target_path)) {
				errmsg_set(err, errlen, "lingerlab-target: %s is not an executable file", spec->target_path);
				return LABNET_ENV;
			}
			snprintf(target, sizeof target, "%s", spec->target_path);
		} else {
			rc = launch_find_target(target, sizeof target, err, errlen);
			if (rc != LABNET_OK)
				return rc;
		}
		snprintf(listen_arg, sizeof listen_arg, "%s", addr);
		argv[argc++] = target;
		argv[argc++] = "--listen";
		argv[argc++] = listen_arg;
		argv[argc++] = "--policy";
		argv[argc++] = (char *)spec->policy;
		for (int i = 0; spec->extra_args && spec->extra_args[i]; i++) {
			if (i >= MAX_EXTRA) {
				errmsg_set(err, errlen, "target: more than %d extra arguments", MAX_EXTRA);
				return LABNET_ERR;
			}
			argv[argc++] = spec->extra_args[i];
		}
	} else {
		if (!spec->command || !*spec->command) {
			errmsg_set(err, errlen, "target: empty server command");
			return LABNET_ERR;
		}
		argv[argc++] = "/bin/sh";
		argv[argc++] = "-c";
		argv[argc++] = (char *)spec->command;
	}
	argv[argc] = NULL;

	l = calloc(1, sizeof *l);
	if (!l) {
		errmsg_set(err, errlen, "target: out of memory");
		return LABNET_ERR;
	}
	l->grace = spec->stop_grace > 0 ? spec->stop_grace : 3.0;
	l->reaped = true;   /* nothing to stop until the spawn succeeds */
	l->watch_fd = -1;
	snprintf(l->ns, sizeof l->ns, "%s", ln->server_ns);
	if (make_env(host, spec->port, &envp) < 0) {
		errmsg_set(err, errlen, "target: out of memory");
		rc = LABNET_ERR;
		goto fail;
	}
	if (spec->user && *spec->user) {
		rc = lookup_user(spec->user, &so, groups, err, errlen);
		if (rc != LABNET_OK)
			goto fail;
	}
	l->command = spec->kind == LAUNCH_BUILTIN ? join_command(argv) : strdup(spec->command);
	if (!l->command) {
		errmsg_set(err, errlen, "target: out of memory");
		rc = LABNET_ERR;
		goto fail;
	}
	if (spec->log_path) {
		snprintf(l->log_path, sizeof l->log_path, "%s", spec->log_path);
		logfd = open(l->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	} else {
		const char *tmp = getenv("TMPDIR");

		/* The pid in the name lets `lab clean` remove the log of a
		 * run that was killed before it could (labnet_clean_stale). */
		snprintf(l->log_path, sizeof l->log_path, "%s/" LABNET_TARGET_LOG_PREFIX "%ld-XXXXXX.log",
		         tmp && *tmp ? tmp : "/tmp", (long)getpid());
		logfd = mkostemps(l->log_path, 4, O_CLOEXEC);
		l->log_temp = logfd >= 0;
	}
	if (logfd < 0) {
		errmsg_set(err, errlen, "target: log file %s: %s", l->log_path, strerror(errno));
		rc = LABNET_ERR;
		goto fail;
	}

	/* The readiness probe must see the server namespace's sockets. */
	sd = sockdiag_open_in(ln->server_ns, err, errlen);
	if (!sd) {
		rc = LABNET_ERR;
		goto fail;
	}
	so.stdout_fd = logfd;
	so.stderr_fd = logfd;
	so.new_pgrp = true;
	so.envp = envp;
	so.pdeathsig = SIGTERM;
	pid = labnet_spawn(ln->server_ns, argv, &so, err, errlen);
	close(logfd);
	logfd = -1;
	if (pid < 0) {
		rc = (int)pid;
		goto fail;
	}
	l->pid = pid;
	l->reaped = false;
	start_watchdog(l);

	timeout = spec->ready_timeout > 0 ? spec->ready_timeout : 10.0;
	end = now_mono() + timeout;
	for (;;) {
		/* an IPv6 lab needs a listener IPv6 clients can reach */
		int r = sockdiag_listening_family(sd, spec->port, ln->family == 6 ? AF_INET6 : 0,
		                                  err, errlen);

		if (r < 0) {
			rc = LABNET_ERR;
			goto fail;
		}
		if (r == 1)
			break;
		r = reap_nohang(l);
		if (r == 1 && !(WIFEXITED(l->wstatus) && WEXITSTATUS(l->wstatus) == 0)) {
			/* It died. (Exit 0 may be a daemonizing server: keep
			 * waiting for its listener.) */
			describe_status(l->wstatus, how, sizeof how);
			tail_clause(l, tail, sizeof tail);
			errmsg_set(err, errlen, "target: %s before listening on %s%s", how, addr, tail);
			rc = LABNET_ERR;
			goto fail;
		}
		if (now_mono() >= end) {
			tail_clause(l, tail, sizeof tail);
			if (ln->family == 6 && sockdiag_listening(sd, spec->port, NULL, 0) == 1)
				errmsg_set(err, errlen, "target: listens on port %u in %s over IPv4 only; "
				           "with -6 it must listen on IPv6 ([::]:%u or %s)%s",
				           (unsigned)spec->port, ln->server_ns, (unsigned)spec->port, addr, tail);
			else
				errmsg_set(err, errlen, "target: nothing listens on port %u in %s after %.1f s%s",
				       (unsigned)spec->port, ln->server_ns, timeout, tail);
			rc = LABNET_ERR;
			goto fail;
		}
		sleep_ms(10);
	}
	sockdiag_close(sd);
	free_env(envp);
	*out = l;
	return LABNET_OK;
fail:
	if (logfd >= 0)
		close(logfd);
	sockdiag_close(sd);
	free_env(envp);
	launch_free(l);
	return rc;
}
