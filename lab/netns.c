/*
 * netns.c - the namespace lab (see netns.h for the picture and contract).
 */
#include "lab/netns.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "lab/errmsg.h"

#define NETNS_DIR "/run/netns"

/* Bits of struct labnet.made: what exists and must be removed. */
enum {
	MADE_SERVER_NS = 1u << 0,
	MADE_CLIENT_NS = 1u << 1,
	MADE_VETH      = 1u << 2,
};

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
static bool ns_path(const char *ns, char *buf, size_t buflen)
{
	int w = snprintf(buf, buflen, NETNS_DIR "/%s", ns);

	return w > 0 && (size_t)w < buflen;
}

/* Open /run/netns/NAME; a missing name is LABNET_ERR, no permission ENV. */
static int open_ns(const char *ns, char *err, size_t errlen)
{
	char path[sizeof NETNS_DIR + LABNET_NAMELEN * 4 + 1];
	int fd;

	if (!ns || !*ns || strchr(ns, '/') || strlen(ns) >= LABNET_NAMELEN * 4) {
		errmsg_set(err, errlen, "namespace: invalid name '%s'", ns ? ns : "");
		return LABNET_ERR;
	}
	if (!ns_path(ns, path, sizeof path)) {
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
static int ip_cmd(char *err, size_t errlen, ...)
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
static int sysctl_in(const char *ns, const char *path, const char *value, bool optional,
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
	return sysctl_in(ns, path, value, false, err, errlen);
}

/* labnet_run_in callback: does the current namespace have IPv6? */
static int ipv6_present(void *arg)
{
	(void)arg;
	return access("/proc/sys/net/ipv6/conf/default/disable_ipv6", W_OK) == 0 ? LABNET_OK : LABNET_ERR;
}

/*
 * IPv6 defaults of namespace ns, set before the veth exists so that it
 * inherits them (net.ipv6.conf.default.* is copied into each new device,
 * net/ipv6/addrconf.c ipv6_add_dev): IPv6 on; no duplicate address
 * detection, so an address is usable the moment it is added instead of
 * "tentative" (RFC 4862 5.4; the addresses are also added `nodad`); no
 * router solicitations sent and no router advertisements taken. A kernel
 * without IPv6 has no /proc/sys/net/ipv6: LABNET_ENV.
 */
static int ipv6_setup(const char *ns, char *err, size_t errlen)
{
	static const char *const set[][2] = {
		/* "all" too: a host with net.core.devconf_inherit_init_net
		 * may hand a new namespace its own disable_ipv6 */
		{ "/proc/sys/net/ipv6/conf/all/disable_ipv6", "0" },
		{ "/proc/sys/net/ipv6/conf/default/disable_ipv6", "0" },
		{ "/proc/sys/net/ipv6/conf/default/accept_dad", "0" },
		{ "/proc/sys/net/ipv6/conf/default/dad_transmits", "0" },
		{ "/proc/sys/net/ipv6/conf/default/accept_ra", "0" },
		{ "/proc/sys/net/ipv6/conf/default/router_solicitations", "0" },
	};
	int rc;

	if (err && errlen)
		err[0] = '\0';
	rc = labnet_run_in(ns, ipv6_present, NULL, err, errlen);
	if (rc != LABNET_OK) {
		if (err && errlen && err[0])   /* entering ns failed: err says why */
			return rc;
		errmsg_set(err, errlen, "lab: -6: this kernel has no IPv6 (/proc/sys/net/ipv6 is missing)");
		return LABNET_ENV;
	}
	for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
		if ((rc = sysctl_in(ns, set[i][0], set[i][1], false, err, errlen)) != LABNET_OK)
			return rc;
	return LABNET_OK;
}

/* The IPv6 addresses and the two permanent neighbours (netns.h); mac is
 * the client veth's MAC as text. */
static int ipv6_addresses(struct labnet *ln, const char *mac, char *err, size_t errlen)
{
	char s6[LLADDR_STRLEN + 4], c6[LLADDR_STRLEN + 4], r6[LLADDR_STRLEN], srv[LLADDR_STRLEN];
	char smac[18];
	int rc;

	lladdr_str(&ln->server_ip, srv, sizeof srv);
	snprintf(s6, sizeof s6, "%s/64", srv);
	snprintf(c6, sizeof c6, "%s/64", lladdr_str(&ln->client_ip, r6, sizeof r6));
	lladdr_str(&ln->raw_ip, r6, sizeof r6);
	snprintf(smac, sizeof smac, "%02x:%02x:%02x:%02x:%02x:%02x",
	         ln->server_mac[0], ln->server_mac[1], ln->server_mac[2],
	         ln->server_mac[3], ln->server_mac[4], ln->server_mac[5]);
	if ((rc = ip_cmd(err, errlen, "-n", ln->server_ns, "-6", "addr", "add", s6, "dev", ln->server_if,
	                 "nodad", (char *)NULL)) ||
	    (rc = ip_cmd(err, errlen, "-n", ln->client_ns, "-6", "addr", "add", c6, "dev", ln->client_if,
	                 "nodad", (char *)NULL)) ||
	    (rc = ip_cmd(err, errlen, "-n", ln->server_ns, "-6", "neigh", "replace", r6, "lladdr", mac,
	                 "dev", ln->server_if, "nud", "permanent", (char *)NULL)) ||
	    (rc = ip_cmd(err, errlen, "-n", ln->client_ns, "-6", "neigh", "replace", srv, "lladdr", smac,
	                 "dev", ln->client_if, "nud", "permanent", (char *)NULL)))
		return rc;
	return LABNET_OK;
}

/* Read MAC and ifindex of interface ifname inside namespace ns. */
static int if_info_in(const char *ns, const char *ifname, uint8_t mac[6], int *ifindex,
                      char *err, size_t errlen)
{
	struct ifreq ifr;
	int saved, s = -1, rc;

	rc = labnet_enter(ns, &saved, err, errlen);
	if (rc != LABNET_OK)
		return rc;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		errmsg_set(err, errlen, "%s: socket: %s", ifname, strerror(errno));
		rc = LABNET_ERR;
		goto out;
	}
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	if (ioctl(s, SIOCGIFHWADDR, &ifr) != 0) {
		errmsg_set(err, errlen, "%s in %s: cannot read MAC: %s", ifname, ns, strerror(errno));
		rc = LABNET_ERR;
		goto out;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(s, SIOCGIFINDEX, &ifr) != 0) {
		errmsg_set(err, errlen, "%s in %s: cannot read index: %s", ifname, ns, strerror(errno));
		rc = LABNET_ERR;
		goto out;
	}
	*ifindex = ifr.ifr_ifindex;
out:
	if (s >= 0)
		close(s);
	if (labnet_leave(&saved, err, errlen) != LABNET_OK)
		rc = LABNET_ERR;
	return rc;
}

static bool ns_exists(const char *ns)
{
	char path[sizeof NETNS_DIR + LABNET_NAMELEN * 4 + 1];

	return ns_path(ns, path, sizeof path) && access(path, F_OK) == 0;
}

/* Remove one namespace by name (killing what runs inside first). */
static int remove_ns(const char *ns, int *killed, char *err, size_t errlen)
{
	int rc = labnet_kill_ns_procs(ns, killed, err, errlen);

	if (!ns_exists(ns))
		return rc;
	if (ip_cmd(rc == LABNET_OK ? err : NULL, rc == LABNET_OK ? errlen : 0,
	           "netns", "del", ns, (char *)NULL) != LABNET_OK)
		rc = LABNET_ERR;
	return rc;
}

int labnet_setup(struct labnet *ln, const struct labnet_opts *opts,
                 char *err, size_t errlen)
{
	char saddr[INET_ADDRSTRLEN + 3], caddr[INET_ADDRSTRLEN + 3], raddr[INET_ADDRSTRLEN], macs[18];
	char a[INET_ADDRSTRLEN];
	uint8_t x, y;
	pid_t tag;
	int rc;

	memset(ln, 0, sizeof *ln);
	rc = labnet_check_env(err, errlen);
	if (rc != LABNET_OK)
		return rc;
	tag = (opts && opts->tag > 0) ? opts->tag : getpid();
	if (opts && (opts->net_x || opts->net_y)) {
		x = opts->net_x;
		y = opts->net_y;
	} else {
		x = (uint8_t)(64 + ((unsigned)tag >> 8) % 64);
		y = (uint8_t)((unsigned)tag & 0xff);
	}
	ln->owner = tag;
	ln->prefix_len = 24;
	snprintf(ln->server_ns, sizeof ln->server_ns, "ll%ds", (int)tag);
	snprintf(ln->client_ns, sizeof ln->client_ns, "ll%dc", (int)tag);
	snprintf(ln->server_if, sizeof ln->server_if, "ll%dvs", (int)tag);
	snprintf(ln->client_if, sizeof ln->client_if, "ll%dvc", (int)tag);
	ln->server_addr.s_addr = htonl(0x0a000001u | (uint32_t)x << 16 | (uint32_t)y << 8);
	ln->client_addr.s_addr = htonl(0x0a000002u | (uint32_t)x << 16 | (uint32_t)y << 8);
	ln->raw_addr.s_addr    = htonl(0x0a000003u | (uint32_t)x << 16 | (uint32_t)y << 8);
	lladdr_from_in(&ln->server_ip, ln->server_addr);
	lladdr_from_in(&ln->client_ip, ln->client_addr);
	lladdr_from_in(&ln->raw_ip, ln->raw_addr);
	ln->family = 4;
	if (opts && opts->ipv6) {
		/* fd6c:6c6c:XXYY::/64: "ll" in the global ID, the IPv4 subnet's
		 * octets as the subnet id, so captures of both families match */
		static const uint8_t pfx[4] = { 0xfd, 0x6c, 0x6c, 0x6c };
		struct lladdr *v6[3] = { &ln->server_ip, &ln->client_ip, &ln->raw_ip };

		for (int i = 0; i < 3; i++) {
			memset(v6[i], 0, sizeof *v6[i]);
			v6[i]->af = 6;
			memcpy(v6[i]->b, pfx, sizeof pfx);
			v6[i]->b[4] = x;
			v6[i]->b[5] = y;
			v6[i]->b[15] = (uint8_t)(i + 1);
		}
		ln->family = 6;
	}
	snprintf(saddr, sizeof saddr, "%s/24", labnet_addr_str(ln->server_addr, a, sizeof a));
	snprintf(caddr, sizeof caddr, "%s/24", labnet_addr_str(ln->client_addr, a, sizeof a));
	labnet_addr_str(ln->raw_addr, raddr, sizeof raddr);

	/* Names that carry our own pid but that we did not make belong to a
	 * dead process that had this pid before us (killed without `lab
	 * clean`): reclaim them rather than fail with "File exists". */
	if (tag == getpid()) {
		if ((rc = remove_ns(ln->server_ns, NULL, err, errlen)) != LABNET_OK ||
		    (rc = remove_ns(ln->client_ns, NULL, err, errlen)) != LABNET_OK)
			return rc;
	}
	rc = ip_cmd(err, errlen, "netns", "add", ln->server_ns, (char *)NULL);
	if (rc != LABNET_OK)
		goto fail;
	ln->made |= MADE_SERVER_NS;
	rc = ip_cmd(err, errlen, "netns", "add", ln->client_ns, (char *)NULL);
	if (rc != LABNET_OK)
		goto fail;
	ln->made |= MADE_CLIENT_NS;

	/* Before the veth exists, so it inherits them: no IPv6 on the lab
	 * links (no solicitations in captures) unless asked for, and then
	 * IPv6 without its start-up chatter (ipv6_setup); no forwarding on
	 * the client side, so its kernel drops packets for the raw address
	 * without an RST or ICMP; no reverse-path filter on the server side. */
	if (ln->family == 6) {
		if ((rc = ipv6_setup(ln->server_ns, err, errlen)) ||
		    (rc = ipv6_setup(ln->client_ns, err, errlen)) ||
		    (rc = sysctl_in(ln->client_ns, "/proc/sys/net/ipv6/conf/all/forwarding", "0", false, err, errlen)))
			goto fail;
	} else if ((rc = sysctl_in(ln->server_ns, "/proc/sys/net/ipv6/conf/default/disable_ipv6", "1", true, err, errlen)) ||
	           (rc = sysctl_in(ln->client_ns, "/proc/sys/net/ipv6/conf/default/disable_ipv6", "1", true, err, errlen))) {
		goto fail;
	}
	if ((rc = sysctl_in(ln->client_ns, "/proc/sys/net/ipv4/ip_forward", "0", false, err, errlen)) ||
	    (rc = sysctl_in(ln->server_ns, "/proc/sys/net/ipv4/conf/all/rp_filter", "0", false, err, errlen)) ||
	    (rc = sysctl_in(ln->server_ns, "/proc/sys/net/ipv4/conf/default/rp_filter", "0", false, err, errlen)))
		goto fail;

	/* Create both ends directly in their namespaces: the pair never
	 * appears in the host's namespace, and dies with the namespaces. */
	rc = ip_cmd(err, errlen, "link", "add", ln->server_if, "netns", ln->server_ns, "type", "veth",
	            "peer", "name", ln->client_if, "netns", ln->client_ns, (char *)NULL);
	if (rc != LABNET_OK)
		goto fail;
	ln->made |= MADE_VETH;
	if ((rc = ip_cmd(err, errlen, "-n", ln->server_ns, "addr", "add", saddr, "dev", ln->server_if, (char *)NULL)) ||
	    (rc = ip_cmd(err, errlen, "-n", ln->client_ns, "addr", "add", caddr, "dev", ln->client_if, (char *)NULL)) ||
	    (rc = ip_cmd(err, errlen, "-n", ln->server_ns, "link", "set", "lo", "up", (char *)NULL)) ||
	    (rc = ip_cmd(err, errlen, "-n", ln->client_ns, "link", "set", "lo", "up", (char *)NULL)) ||
	    (rc = ip_cmd(err, errlen, "-n", ln->server_ns, "link", "set", ln->server_if, "up", (char *)NULL)) ||
	    (rc = ip_cmd(err, errlen, "-n", ln->client_ns, "link", "set", ln->client_if, "up", (char *)NULL)))
		goto fail;
	if ((rc = if_info_in(ln->server_ns, ln->server_if, ln->server_mac, &ln->server_ifindex, err, errlen)) ||
	    (rc = if_info_in(ln->client_ns, ln->client_if, ln->client_mac, &ln->client_ifindex, err, errlen)))
		goto fail;
	snprintf(macs, sizeof macs, "%02x:%02x:%02x:%02x:%02x:%02x",
	         ln->client_mac[0], ln->client_mac[1], ln->client_mac[2],
	         ln->client_mac[3], ln->client_mac[4], ln->client_mac[5]);
	rc = ip_cmd(err, errlen, "-n", ln->server_ns, "neigh", "replace", raddr, "lladdr", macs,
	            "dev", ln->server_if, "nud", "permanent", (char *)NULL);
	if (rc != LABNET_OK)
		goto fail;
	if (ln->family == 6 && (rc = ipv6_addresses(ln, macs, err, errlen)) != LABNET_OK)
		goto fail;
	return LABNET_OK;
fail:
	labnet_teardown(ln, NULL, 0);
	return rc;
}

/* Namespace identity (device + inode of the nsfs file). */
static int ns_id(const char *path, dev_t *dev, ino_t *ino)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

/* A zombie is dead: it only waits for its parent (often pid 1, which
 * reaps on its own schedule) to collect it. */
static bool is_zombie(pid_t pid)
{
	char p[64], buf[256];
	const char *rp;
	ssize_t n;
	int fd;

	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;   /* gone altogether */
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	rp = strrchr(buf, ')');   /* the state follows the (comm) field */
	return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

/* Wait (bounded) until pid is dead; reap it if it is our child. */
static void await_gone(pid_t pid)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	for (int i = 0; i < 200; i++) {   /* at most ~1 s */
		pid_t w = waitpid(pid, NULL, WNOHANG);

		if (w == pid)
			return;
		if (w < 0 && ((kill(pid, 0) != 0 && errno == ESRCH) || is_zombie(pid)))
			return;
		nanosleep(&ts, NULL);
	}
}

int labnet_kill_ns_procs(const char *ns, int *killed, char *err, size_t errlen)
{
	char path[sizeof NETNS_DIR + LABNET_NAMELEN * 4 + 1];
	pid_t victims[256];
	int nvictims = 0, count = 0, rc = LABNET_OK;
	pid_t self = getpid();
	dev_t ndev;
	ino_t nino;
	DIR *d;
	struct dirent *de;

	if (killed)
		*killed = 0;
	if (!ns_path(ns, path, sizeof path)) {
		errmsg_set(err, errlen, "namespace %s: name too long", ns);
		return LABNET_ERR;
	}
	if (ns_id(path, &ndev, &nino) != 0) {
		if (errno == ENOENT)
			return LABNET_OK;
		errmsg_set(err, errlen, "namespace %s: %s", ns, strerror(errno));
		return LABNET_ERR;
	}
	d = opendir("/proc");
	if (!d) {
		errmsg_set(err, errlen, "/proc: %s", strerror(errno));
		return LABNET_ERR;
	}
	while ((de = readdir(d)) != NULL) {
		char p[64];
		char *end;
		long pid;
		dev_t dv;
		ino_t in;

		errno = 0;
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || errno || pid <= 0 || pid == self)
			continue;
		snprintf(p, sizeof p, "/proc/%ld/ns/net", pid);
		if (ns_id(p, &dv, &in) != 0 || dv != ndev || in != nino)
			continue;
		if (kill((pid_t)pid, SIGKILL) == 0) {
			count++;
			if (nvictims < (int)(sizeof victims / sizeof victims[0]))
				victims[nvictims++] = (pid_t)pid;
		} else if (errno != ESRCH && rc == LABNET_OK) {
			errmsg_set(err, errlen, "kill %ld in %s: %s", pid, ns, strerror(errno));
			rc = LABNET_ERR;
		}
	}
	closedir(d);
	for (int i = 0; i < nvictims; i++)
		await_gone(victims[i]);
	if (killed)
		*killed = count;
	return rc;
}

int labnet_teardown(struct labnet *ln, char *err, size_t errlen)
{
	int rc = LABNET_OK;
	char *e = err;
	size_t el = errlen;

	if (!ln || ln->made == 0)
		return LABNET_OK;
	/* Each step keeps going; only the first failure is reported. */
#define STEP(call) do { if ((call) != LABNET_OK && rc == LABNET_OK) { rc = LABNET_ERR; e = NULL; el = 0; } } while (0)
	if (ln->made & MADE_SERVER_NS)
		STEP(labnet_kill_ns_procs(ln->server_ns, NULL, e, el));
	if (ln->made & MADE_CLIENT_NS)
		STEP(labnet_kill_ns_procs(ln->client_ns, NULL, e, el));
	/* Deleting the link first makes it vanish now, even if some socket
	 * (a pcap handle not yet closed) still pins a namespace. */
	if ((ln->made & MADE_VETH) && (ln->made & MADE_SERVER_NS) && ns_exists(ln->server_ns)) {
		char ignore[256];

		(void)ip_cmd(ignore, sizeof ignore, "-n", ln->server_ns, "link", "del", ln->server_if, (char *)NULL);
	}
	if ((ln->made & MADE_SERVER_NS) && ns_exists(ln->server_ns))
		STEP(ip_cmd(e, el, "netns", "del", ln->server_ns, (char *)NULL));
	if ((ln->made & MADE_CLIENT_NS) && ns_exists(ln->client_ns))
		STEP(ip_cmd(e, el, "netns", "del", ln->client_ns, (char *)NULL));
#undef STEP
	ln->made = 0;
	return rc;
}

/* Append a formatted line to report (bounded, always NUL-terminated). */
static void report_add(char *report, size_t reportlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report_add(char *report, size_t reportlen, const char *fmt, ...)
{
	size_t off;
	va_list ap;

	if (!report || reportlen == 0)
		return;
	off = strnlen(report, reportlen);
	if (off + 1 >= reportlen)
		return;
	va_start(ap, fmt);
	vsnprintf(report + off, reportlen - off, fmt, ap);
	va_end(ap);
}

static bool pid_alive(pid_t pid)
{
	return !(kill(pid, 0) != 0 && errno == ESRCH);
}

/* Target logs of dead runs (see LABNET_TARGET_LOG_PREFIX); returns how
 * many were removed. A log that cannot be removed is left and not
 * reported: it is a convenience, not part of the lab. */
static int clean_stale_logs(char *report, size_t reportlen)
{
	const char *tmp = getenv("TMPDIR");
	const size_t plen = strlen(LABNET_TARGET_LOG_PREFIX);
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	int count = 0;
	DIR *d;

	snprintf(dir, sizeof dir, "%s", tmp && *tmp ? tmp : "/tmp");
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name, *dash;
		char *end;
		long pid;
		size_t len = strlen(name);

		if (strncmp(name, LABNET_TARGET_LOG_PREFIX, plen) != 0 ||
		    len < 4 || strcmp(name + len - 4, ".log") != 0)
			continue;
		errno = 0;
		pid = strtol(name + plen, &end, 10);
		dash = end;
		if (errno || end == name + plen || *dash != '-' || pid <= 0 ||
		    pid > INT_MAX || pid_alive((pid_t)pid))
			continue;
		/* unlinking the entry just read is sound for readdir */
		if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path ||
		    unlink(path) != 0)
			continue;
		count++;
		report_add(report, reportlen, "removed target log %s\n", path);
	}
	closedir(d);
	return count;
}

int labnet_clean_stale(char *report, size_t reportlen, int *removed,
                       char *err, size_t errlen)
{
	struct if_nameindex *ifs;
	int rc, count = 0;
	char *e = err;
	size_t el = errlen;
	DIR *d;

	if (report && reportlen)
		report[0] = '\0';
	if (removed)
		*removed = 0;
	rc = labnet_check_env(err, errlen);
	if (rc != LABNET_OK)
		return rc;

	d = opendir(NETNS_DIR);
	if (d) {
		struct dirent *de;
		char names[256][LABNET_NAMELEN];
		int n = 0;

		/* Collect first: deleting while reading a directory is unsound. */
		while ((de = readdir(d)) != NULL && n < 256) {
			pid_t pid = labnet_name_pid(de->d_name);

			/* labnet_name_pid accepts only names shorter than
			 * LABNET_NAMELEN, so the copy always fits. */
			if (pid > 0 && !pid_alive(pid)) {
				memcpy(names[n], de->d_name, strlen(de->d_name) + 1);
				n++;
			}
		}
		closedir(d);
		for (int i = 0; i < n; i++) {
			int killed = 0;

			if (remove_ns(names[i], &killed, e, el) != LABNET_OK) {
				rc = LABNET_ERR;
				e = NULL;
				el = 0;
				continue;
			}
			count++;
			if (killed)
				report_add(report, reportlen, "removed namespace %s (%d process%s killed)\n",
				           names[i], killed, killed == 1 ? "" : "es");
			else
				report_add(report, reportlen, "removed namespace %s\n", names[i]);
		}
	} else if (errno != ENOENT) {
		errmsg_set(err, errlen, NETNS_DIR ": %s", strerror(errno));
		return LABNET_ERR;
	}

	count += clean_stale_logs(report, reportlen);

	/* Links in the host namespace: a lab never puts its veth here, but a
	 * crashed older run or a test might have. */
	ifs = if_nameindex();
	if (ifs) {
		for (struct if_nameindex *i = ifs; i->if_index != 0 && i->if_name; i++) {
			pid_t pid = labnet_name_pid(i->if_name);

			if (pid <= 0 || pid_alive(pid))
				continue;
			/* Deleting one end of a veth removes its peer too: the
			 * peer may already be gone; check before deleting. */
			if (if_nametoindex(i->if_name) == 0)
				continue;
			if (ip_cmd(e, el, "link", "del", i->if_name, (char *)NULL) != LABNET_OK) {
				rc = LABNET_ERR;
				e = NULL;
				el = 0;
				continue;
			}
			count++;
			report_add(report, reportlen, "removed link %s\n", i->if_name);
		}
		if_freenameindex(ifs);
	}
	if (removed)
		*removed = count;
	return rc;
}
