/*
 * netns.c - the namespace lab's primitives (see netns.h for the picture
 * and contract): the environment check, the names, entering and leaving a
 * namespace, running a program or a function inside one, `ip`, sysctls.
 * Building the lab network out of them is netns_setup.c's job; removing
 * what dead runs left, netns_clean.c's.
 */
#include "lab/netns.h"
#include "lab/netns_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lab/errmsg.h"

/* errno values that mean "the environment cannot do this", not "this
 * particular step went wrong". */
static int status_for_errno(int e)
{
	return (e == EPERM || e == EACCES || e == ENOSYS || e == EINVAL) ? LABNET_ENV : LABNET_ERR;
}

const char *labnet_addr_str(struct in_addr a, char *buf, size_t buflen)
{
	if (!inet_ntop(AF_INET, &a, buf, (socklen_t)buflen) && buflen > 0)
		buf[0] = '\0';
	return buf;
}

pid_t labnet_name_pid(const char *name)
{
	const char *p;
	long pid = 0;
	size_t digits = 0, suffix = 0;

	if (!name || strncmp(name, "ll", 2) != 0 || strlen(name) >= LABNET_NAMELEN)
		return 0;
	p = name + 2;
	if (*p == '0')      /* no leading zeros: "ll0..." is nobody's */
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (++digits > 9)
			return 0;
		pid = pid * 10 + (*p - '0');
	}
	for (; *p >= 'a' && *p <= 'z'; p++)
		suffix++;
	if (*p != '\0' || digits == 0 || suffix == 0 || pid <= 0)
		return 0;
	return (pid_t)pid;
}

/* Is `ip` (or any program) on PATH? */
static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);
		int w = snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? path : ".", prog);

		if (w > 0 && (size_t)w < sizeof buf && access(buf, X_OK) == 0)
			return true;
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

int labnet_check_env(char *err, size_t errlen)
{
	if (geteuid() != 0) {
		errmsg_set(err, errlen, "lab: needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN to make network namespaces); run as root");
		return LABNET_ENV;
	}
	if (access("/proc/self/ns/net", F_OK) != 0) {
		errmsg_set(err, errlen, "lab: this kernel has no network namespaces (/proc/self/ns/net: %s)",
		       strerror(errno));
		return LABNET_ENV;
	}
	if (!on_path("ip")) {
		errmsg_set(err, errlen, "lab: the ip program (iproute2) is not installed or not on PATH");
		return LABNET_ENV;
	}
	return LABNET_OK;
}

/* "/run/netns/NAME" into buf; false when it does not fit. */
bool labnet_ns_path(const char *ns, char *buf, size_t buflen)
{
	int w = snprintf(buf, buflen, NETNS_DIR "/%s", ns);

	return w > 0 && (size_t)w < buflen;
}

/* Open /run/netns/NAME; a missing name is LABNET_ERR, no permission ENV. */
static int open_ns(const char *ns, char *err, size_t errlen)
{
	char path[NETNS_PATH_MAX];
	int fd;

	if (!ns || !*ns || strchr(ns, '/') || strlen(ns) >= LABNET_NAMELEN * 4) {
		errmsg_set(err, errlen, "namespace: invalid name '%s'", ns ? ns : "");
		return LABNET_ERR;
	}
	if (!labnet_ns_path(ns, path, sizeof path)) {
		errmsg_set(err, errlen, "namespace %s: name too long", ns);
		return LABNET_ERR;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT)
			errmsg_set(err, errlen, "namespace %s: no such namespace", ns);
		else
			errmsg_set(err, errlen, "namespace %s: %s", ns, strerror(e));
		return e == ENOENT ? LABNET_ERR : status_for_errno(e);
	}
	return fd;
}

int labnet_enter(const char *ns, int *saved, char *err, size_t errlen)
{
	int nsfd, old;

	*saved = -1;
	old = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (old < 0) {
		errmsg_set(err, errlen, "namespace: cannot open own namespace: %s", strerror(errno));
		return status_for_errno(errno);
	}
	nsfd = open_ns(ns, err, errlen);
	if (nsfd < 0) {
		close(old);
		return nsfd;
	}
	if (setns(nsfd, CLONE_NEWNET) != 0) {
		int e = errno;

		errmsg_set(err, errlen, "setns %s: %s", ns, strerror(e));
		close(nsfd);
		close(old);
		return status_for_errno(e);
	}
	close(nsfd);
	*saved = old;
	return LABNET_OK;
}

int labnet_leave(int *saved, char *err, size_t errlen)
{
	int rc = LABNET_OK;

	if (*saved < 0)
		return LABNET_OK;
	if (setns(*saved, CLONE_NEWNET) != 0) {
		errmsg_set(err, errlen, "setns back to the original namespace: %s", strerror(errno));
		rc = LABNET_ERR;
	}
	close(*saved);
	*saved = -1;
	return rc;
}

int labnet_run_in(const char *ns, int (*fn)(void *arg), void *arg,
                  char *err, size_t errlen)
{
	int saved, rc, lrc;

	rc = labnet_enter(ns, &saved, err, errlen);
	if (rc != LABNET_OK)
		return rc;
	rc = fn(arg);
	lrc = labnet_leave(&saved, err, errlen);
	return lrc != LABNET_OK ? lrc : rc;
}

/* Move fd `from` to number `to` in a child; from == to only clears CLOEXEC. */
static int child_dup(int from, int to)
{
	if (from == to) {
		int fl = fcntl(from, F_GETFD);

		return fl < 0 ? -1 : fcntl(from, F_SETFD, fl & ~FD_CLOEXEC);
	}
	return dup2(from, to) < 0 ? -1 : 0;
}

/* What a child reports through its close-on-exec pipe when it fails. */
struct child_fail {
	int stage;   /* 0 setns, 1 fd set-up, 2 user switch, 3 exec */
	int err;
};

pid_t labnet_spawn(const char *ns, char *const argv[],
                   const struct labnet_spawn_opts *o, char *err, size_t errlen)
{
	struct labnet_spawn_opts def = LABNET_SPAWN_OPTS_INIT;
	struct child_fail cf;
	int nsfd = -1, pfd[2] = { -1, -1 };
	pid_t pid, parent;
	ssize_t n;

	if (!o)
		o = &def;
	if (!argv || !argv[0]) {
		errmsg_set(err, errlen, "spawn: empty command");
		return LABNET_ERR;
	}
	if (ns) {
		nsfd = open_ns(ns, err, errlen);
		if (nsfd < 0)
			return nsfd;
	}
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		errmsg_set(err, errlen, "spawn %s: pipe: %s", argv[0], strerror(errno));
		goto fail;
	}
	parent = getpid();
	pid = fork();
	if (pid < 0) {
		errmsg_set(err, errlen, "spawn %s: fork: %s", argv[0], strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		/* Child: only async-signal-safe calls until exec. */
		sigset_t none;
		struct sigaction dfl;
		int devnull;

		memset(&dfl, 0, sizeof dfl);
		dfl.sa_handler = SIG_DFL;
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				(void)sigaction(s, &dfl, NULL);
		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		if (o->new_pgrp)
			(void)setpgid(0, 0);
		cf.stage = 0;
		if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) != 0)
			goto child_fail;
		cf.stage = 1;
		if (o->stdin_fd >= 0) {
			if (child_dup(o->stdin_fd, 0) != 0)
				goto child_fail;
		} else {
			devnull = open("/dev/null", O_RDONLY);
			if (devnull < 0 || child_dup(devnull, 0) != 0)
				goto child_fail;
			if (devnull != 0)
				close(devnull);
		}
		if (o->stdout_fd >= 0 && child_dup(o->stdout_fd, 1) != 0)
			goto child_fail;
		if (o->stderr_fd >= 0 && child_dup(o->stderr_fd, 2) != 0)
			goto child_fail;
		if (o->keep_fd >= 0 && child_dup(o->keep_fd, o->keep_fd) != 0)
			goto child_fail;
		cf.stage = 2;
		if (o->set_ids && (setgroups(o->ngroups, o->groups) != 0 || setgid(o->gid) != 0 ||
		                   setuid(o->uid) != 0))
			goto child_fail;
		/* After the drop: a change of credentials clears it. */
		if (o->pdeathsig && (prctl(PR_SET_PDEATHSIG, o->pdeathsig) != 0 || getppid() != parent))
			_exit(127);
		cf.stage = 3;
		if (o->envp)
			execvpe(argv[0], argv, o->envp);
		else
			execvp(argv[0], argv);
child_fail:
		cf.err = errno;
		n = write(pfd[1], &cf, sizeof cf);
		(void)n;
		_exit(127);
	}
	/* Also from the parent, so the group exists before spawn returns
	 * whichever runs first (fails harmlessly once the child has exec'd). */
	if (o->new_pgrp)
		(void)setpgid(pid, pid);
	close(pfd[1]);
	pfd[1] = -1;
	if (nsfd >= 0) {
		close(nsfd);
		nsfd = -1;
	}
	do
		n = read(pfd[0], &cf, sizeof cf);
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	pfd[0] = -1;
	if (n == (ssize_t)sizeof cf) {
		static const char *const stage[] = { "setns", "set up fds", "switch user for", "exec" };
		int st;

		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		errmsg_set(err, errlen, "%s %s: %s", stage[cf.stage < 0 || cf.stage > 3 ? 3 : cf.stage],
		       argv[0], strerror(cf.err));
		if (cf.stage == 3 && (cf.err == ENOENT || cf.err == EACCES))
			return LABNET_ENV;
		return cf.stage == 0 ? status_for_errno(cf.err) : LABNET_ERR;
	}
	return pid;
fail:
	if (nsfd >= 0)
		close(nsfd);
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	return LABNET_ERR;
}

/* Join argv into buf ("ip -n x link ..."), truncated to fit. */
static void join_argv(char *const argv[], char *buf, size_t buflen)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; argv[i] && off + 1 < buflen; i++) {
		int w = snprintf(buf + off, buflen - off, "%s%s", i ? " " : "", argv[i]);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

int labnet_exec(const char *ns, char *const argv[], char *err, size_t errlen)
{
	struct labnet_spawn_opts o = LABNET_SPAWN_OPTS_INIT;
	char tail[512], cmd[160];
	size_t tlen = 0;
	int pfd[2], st, rc = LABNET_OK;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) != 0) {
		errmsg_set(err, errlen, "%s: pipe: %s", argv[0], strerror(errno));
		return LABNET_ERR;
	}
	o.stdout_fd = pfd[1];   /* ip's few words on success are not wanted */
	o.stderr_fd = pfd[1];
	pid = labnet_spawn(ns, argv, &o, err, errlen);
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return (int)pid;
	}
	/* Keep the last bytes of its output: the error is at the end. */
	for (;;) {
		char chunk[512];
		ssize_t n = read(pfd[0], chunk, sizeof chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((size_t)n >= sizeof tail - 1) {
			memcpy(tail, chunk + n - (sizeof tail - 1), sizeof tail - 1);
			tlen = sizeof tail - 1;
		} else {
			size_t keep = tlen + (size_t)n > sizeof tail - 1 ? sizeof tail - 1 - (size_t)n : tlen;

			memmove(tail, tail + tlen - keep, keep);
			memcpy(tail + keep, chunk, (size_t)n);
			tlen = keep + (size_t)n;
		}
	}
	close(pfd[0]);
	tail[tlen] = '\0';
	while (tlen > 0 && (tail[tlen - 1] == '\n' || tail[tlen - 1] == '\r'))
		tail[--tlen] = '\0';
	for (size_t i = 0; i < tlen; i++)    /* one line */
		if (tail[i] == '\n')
			tail[i] = ' ';
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			errmsg_set(err, errlen, "%s: waitpid: %s", argv[0], strerror(errno));
			return LABNET_ERR;
		}
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		join_argv(argv, cmd, sizeof cmd);
		if (tlen)
			errmsg_set(err, errlen, "%s: %s", cmd, tail);
		else if (WIFEXITED(st))
			errmsg_set(err, errlen, "%s: exited with status %d", cmd, WEXITSTATUS(st));
		else
			errmsg_set(err, errlen, "%s: killed by signal %d", cmd, WTERMSIG(st));
		rc = LABNET_ERR;
	}
	return rc;
}

/* Run `ip ARGS...` (NULL-terminated); ns NULL runs it here. */
int labnet_ip_cmd(char *err, size_t errlen, ...)
{
	char *argv[24];
	int argc = 0;
	va_list ap;

	argv[argc++] = "ip";
	va_start(ap, errlen);
	for (char *a = va_arg(ap, char *); a && argc < 23; a = va_arg(ap, char *))
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return labnet_exec(NULL, argv, err, errlen);
}

/* Write value to a /proc/sys file inside namespace ns. Missing files are
 * fine when optional (IPv6 compiled out). */
int labnet_sysctl_in(const char *ns, const char *path, const char *value, bool optional,
                     char *err, size_t errlen)
{
	int saved, fd, rc;
	size_t len = strlen(value);

	rc = labnet_enter(ns, &saved, err, errlen);
	if (rc != LABNET_OK)
		return rc;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (!(optional && errno == ENOENT)) {
			errmsg_set(err, errlen, "sysctl %s in %s: %s", path, ns, strerror(errno));
			rc = LABNET_ERR;
		}
	} else {
		if (write(fd, value, len) != (ssize_t)len) {
			errmsg_set(err, errlen, "sysctl %s=%s in %s: %s", path, value, ns, strerror(errno));
			rc = LABNET_ERR;
		}
		close(fd);
	}
	if (labnet_leave(&saved, err, errlen) != LABNET_OK)
		rc = LABNET_ERR;
	return rc;
}

int labnet_sysctl(const char *ns, const char *path, const char *value,
                  char *old, size_t oldlen, char *err, size_t errlen)
{
	int saved, rc;

	if (old && oldlen) {
		rc = labnet_enter(ns, &saved, err, errlen);
		if (rc != LABNET_OK)
			return rc;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = -1;
		if (fd >= 0) {
			n = read(fd, old, oldlen - 1);
			close(fd);
		}
		if (n < 0) {
			errmsg_set(err, errlen, "sysctl %s in %s: %s", path, ns, strerror(errno));
			rc = LABNET_ERR;
		} else {
			while (n > 0 && (old[n - 1] == '\n' || old[n - 1] == ' '))
				n--;
			old[n] = '\0';
		}
		char lerr[200];
		if (labnet_leave(&saved, lerr, sizeof lerr) != LABNET_OK) {
			if (rc == LABNET_OK)
				errmsg_set(err, errlen, "%s", lerr);
			rc = LABNET_ERR;
		}
		if (rc != LABNET_OK)
			return rc;
	}
	return labnet_sysctl_in(ns, path, value, false, err, errlen);
}
