/*
 * netns.h - the namespace lab: two network namespaces joined by a veth
 * pair, made and removed by lingerlab itself (nothing on the host is
 * touched; see shared/DESIGN.md "The lab network").
 *
 *     server namespace ll<pid>s             client namespace ll<pid>c
 *     ll<pid>vs  10.X.Y.1/24  <-- veth -->  ll<pid>vc  10.X.Y.2/24
 *                                            (raw client speaks as 10.X.Y.3)
 *
 * - The raw client (lab/rawtcp) sends from raw_addr (.3), an address no
 *   kernel owns. The server namespace holds a PERMANENT neighbour entry
 *   raw_addr -> client veth MAC, so the server never ARPs for it; the
 *   client namespace has IPv4 forwarding off, so its kernel drops the
 *   server's packets to .3 without a word (no RST, no ICMP). rp_filter is
 *   off in the server namespace. IPv6 is disabled on both veth ends so the
 *   capture holds no router/neighbour solicitations. lo is up in both.
 * - A kernel-socket client (connect() in the client namespace) speaks from
 *   client_addr (.2) and gets normal kernel TCP.
 * - IPv6 (labnet_opts.ipv6, `run -6`): the veth ends keep their IPv4
 *   addresses and also get unique local addresses (RFC 4193) in one /64,
 *   fd6c:6c6c:XXYY::1 (server), ::2 (client kernel), ::3 (raw client,
 *   unowned), XX and YY the two octets of the IPv4 subnet in hex. The
 *   same trick with NDP: a PERMANENT neighbour entry raw ::3 -> client
 *   veth MAC in the server namespace (the server never solicits it), and
 *   one for the server ::1 -> server veth MAC in the client namespace (the
 *   first SYN waits for no neighbour discovery). IPv6 forwarding is off
 *   in the client namespace, so its kernel drops the server's packets to
 *   ::3 without a word (ip6_forward: no RST, no ICMPv6). Both namespaces
 *   set their IPv6 defaults before the veth exists, so the links inherit
 *   them: no duplicate address detection (accept_dad 0, dad_transmits 0,
 *   and the addresses are added `nodad`), so they are usable at once
 *   rather than "tentative" for a second; no router solicitations and no
 *   router advertisements accepted. All of these are settings of the two
 *   throwaway namespaces: nothing outside them changes, so nothing needs
 *   restoring. The ICMPv6 the links still send (MLD reports) is not TCP
 *   and stays out of the raw client's capture.
 * - Names carry the creating process's pid, so parallel runs never collide
 *   and `labnet_clean_stale` can tell a dead run's leftovers from a live
 *   one's. The veth pair is created directly inside the two namespaces (it
 *   never exists in the host namespace), so deleting the namespaces removes
 *   it.
 *
 * Set-up uses iproute2 (`ip`, fork+execvp with an argv array, no shell,
 * stderr captured into the error message) for the namespace, link, address
 * and neighbour steps, and direct writes to /proc/sys for sysctls (from a
 * thread that has entered the namespace). Why iproute2 rather than raw
 * rtnetlink: `ip netns add` also does the /run/netns bind-mount and
 * mount-propagation dance that is easy to get subtly wrong, iproute2 is a
 * required package anyway (tests and users inspect the lab with it), its
 * error messages are ones users already know, and set-up is a dozen steps
 * once per run, so the fork+exec cost (~1-2 ms each) does not matter.
 *
 * Status: every function returning int returns LABNET_OK (0), or
 *   LABNET_ERR (-1): the operation failed (message in err), or
 *   LABNET_ENV (-2): an environment problem the user must fix: not root
 *     (no CAP_NET_ADMIN/CAP_SYS_ADMIN), no network-namespace support, or
 *     the `ip` program missing. The CLI maps this to exit code 3.
 * err is always a NUL-terminated one-line "what: detail" message (errlen
 * bytes, may be NULL/0 when the caller does not care).
 *
 * Threads: labnet_enter/leave switch the CALLING THREAD's network
 * namespace (setns). The lab is built for a single-threaded event loop;
 * sockets, pcap handles and libnet contexts opened while inside a namespace
 * stay bound to it after leaving.
 *
 * Signals: nothing here is async-signal-safe. A runner handles SIGINT and
 * SIGTERM by setting a volatile sig_atomic_t flag in its handler (installed
 * without SA_RESTART so poll() returns EINTR), noticing the flag in its main
 * loop, stopping the target (launch_stop), closing its handles and then
 * calling labnet_teardown(). labnet_teardown() is idempotent and safe on a
 * zeroed or half-built struct labnet, so one `out:` path can always call it.
 * If the process is killed outright (SIGKILL), `lingerlab lab clean`
 * (labnet_clean_stale) removes what it left.
 */
#ifndef LL_LAB_NETNS_H
#define LL_LAB_NETNS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lab/addr.h"

enum labnet_status { LABNET_OK = 0, LABNET_ERR = -1, LABNET_ENV = -2 };

/* IFNAMSIZ is 16: names are at most 15 characters plus the NUL. */
#define LABNET_NAMELEN 16

/*
 * A lab. The caller owns the struct (stack, heap or static) and reads the
 * names and addresses; only labnet_* functions write it. All addresses are
 * in network byte order. A struct that is all zero bytes is a valid "no
 * lab" for labnet_teardown().
 */
struct labnet {
	char server_ns[LABNET_NAMELEN];   /* "ll<pid>s" (namespace name) */
	char client_ns[LABNET_NAMELEN];   /* "ll<pid>c" */
	char server_if[LABNET_NAMELEN];   /* "ll<pid>vs", lives in server_ns */
	char client_if[LABNET_NAMELEN];   /* "ll<pid>vc", lives in client_ns */
	int server_ifindex;               /* index of server_if inside server_ns */
	int client_ifindex;               /* index of client_if inside client_ns */
	uint8_t server_mac[6];            /* MAC of server_if */
	uint8_t client_mac[6];            /* MAC of client_if */
	struct in_addr server_addr;       /* 10.X.Y.1: the target listens here */
	struct in_addr client_addr;       /* 10.X.Y.2: the client kernel's own */
	struct in_addr raw_addr;          /* 10.X.Y.3: the raw client's, unowned */
	int prefix_len;                   /* 24 */
	/* The addresses a run uses, in the family it uses: copies of the
	 * three above (family 4), or their IPv6 counterparts (family 6,
	 * fd6c:6c6c:XXYY::1, ::2, ::3 in a /64). */
	int family;                       /* 4, or 6 with labnet_opts.ipv6 */
	struct lladdr server_ip, client_ip, raw_ip;
	pid_t owner;                      /* pid the names carry */
	unsigned made;                    /* internal: what exists (for teardown) */
};

/* Options for labnet_setup; NULL means all defaults. */
struct labnet_opts {
	/* Tag for the names (0: getpid()). Tests may pass another live pid
	 * they own; clean_stale treats the names as belonging to that pid. */
	pid_t tag;
	/* Second and third octet of the /24 (10.X.Y.0); both 0 means derive
	 * from the tag: X = 64 + (tag >> 8) % 64, Y = tag & 0xff. The
	 * namespaces are private, so equal subnets in two runs never clash;
	 * distinct ones only make captures easier to tell apart. */
	uint8_t net_x, net_y;
	/* Also give the lab IPv6 (see the picture above); ln->family is 6
	 * and ln->*_ip are the IPv6 addresses. A kernel without IPv6 is
	 * LABNET_ENV. */
	bool ipv6;
};

/*
 * Check that the lab can be built here: effective uid 0 (or the needed
 * capabilities), /proc/self/ns/net exists, and `ip` is found on PATH.
 * Returns LABNET_OK or LABNET_ENV with a message such as
 * "lab: needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN); run as root".
 */
int labnet_check_env(char *err, size_t errlen);

/*
 * Build the lab described above. On success ln is filled and the caller
 * must eventually call labnet_teardown(ln). On failure everything made so
 * far is already removed, ln is left in a state labnet_teardown accepts
 * (calling it again is harmless), and the status says why (LABNET_ENV for
 * the environment, LABNET_ERR otherwise, e.g. "ip link add: RTNETLINK
 * answers: File exists").
 * One lab per process (per tag) at a time: when the tag is the caller's own
 * pid, namespaces already carrying it can only be a dead earlier holder of
 * that pid's leftovers, and setup removes them first.
 */
int labnet_setup(struct labnet *ln, const struct labnet_opts *opts,
                 char *err, size_t errlen);

/*
 * Remove the lab: SIGKILL every process still inside either namespace
 * (never the calling process), delete the veth pair and both namespaces.
 * Idempotent; accepts a zeroed or partly built struct. Keeps going after a
 * failed step and reports the first failure (LABNET_ERR); afterwards
 * ln->made is 0 either way. Call it only from normal context (see Signals).
 */
int labnet_teardown(struct labnet *ln, char *err, size_t errlen);

/*
 * Switch the calling thread into namespace ns (a name under /run/netns).
 * *saved receives an fd for the previous namespace; pass it to
 * labnet_leave() to switch back (it closes the fd). On failure nothing
 * changed and *saved is -1.
 */
int labnet_enter(const char *ns, int *saved, char *err, size_t errlen);
int labnet_leave(int *saved, char *err, size_t errlen);

/*
 * Run fn(arg) with the calling thread inside ns, then switch back. Returns
 * fn's return value, or LABNET_ERR/LABNET_ENV when entering failed (fn not
 * called). If switching back fails the process is in an undefined place:
 * this is reported as LABNET_ERR with the message, whatever fn returned.
 */
int labnet_run_in(const char *ns, int (*fn)(void *arg), void *arg,
                  char *err, size_t errlen);

/*
 * Set a sysctl of namespace ns: path is its /proc/sys file (e.g.
 * "/proc/sys/net/ipv4/tcp_fin_timeout", a per-namespace one). When old is
 * not NULL it first receives the current value (trailing newline cut), so
 * the caller can put it back with a second call. Returns LABNET_OK, or
 * LABNET_ERR/LABNET_ENV with "sysctl PATH in NS: reason".
 */
int labnet_sysctl(const char *ns, const char *path, const char *value,
                  char *old, size_t oldlen, char *err, size_t errlen);

/* How labnet_spawn sets the child up; zero/NULL fields mean "inherit". */
struct labnet_spawn_opts {
	int stdin_fd;     /* -1: /dev/null; otherwise dup2'ed to 0 */
	int stdout_fd;    /* -1: inherit; otherwise dup2'ed to 1 */
	int stderr_fd;    /* -1: inherit; otherwise dup2'ed to 2 */
	int keep_fd;      /* -1: none; otherwise kept open (CLOEXEC cleared),
	                     same number, e.g. for a --ready-fd pipe */
	bool new_pgrp;    /* setpgid(0, 0): the child leads its own process
	                     group, so the whole group can be signalled */
	/* Fields below: zero means "inherit" (the initializer leaves them 0). */
	char *const *envp;/* the child's whole environment (NULL: ours) */
	bool set_ids;     /* drop to uid/gid with these supplementary groups
	                     (setgroups, setgid, setuid) before exec */
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t ngroups;
	int pdeathsig;    /* PR_SET_PDEATHSIG after the drop: the child gets
	                     this signal when the spawning thread dies (a
	                     SIGKILLed run); if the parent is already gone,
	                     it exits at once */
};
/* Initializer for the options: every fd -1, no new group. */
#define LABNET_SPAWN_OPTS_INIT { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .keep_fd = -1 }

/*
 * fork + execvp(argv[0], argv) with the child inside namespace ns (ns NULL:
 * stay in the caller's). The child's signal mask and dispositions are reset
 * to defaults. Returns the child's pid (> 0), or LABNET_ERR/LABNET_ENV with
 * a message; exec failure is reported synchronously ("exec nginx: No such
 * file or directory") through a close-on-exec pipe, and that child is
 * already reaped. The caller reaps a successful child (waitpid).
 */
pid_t labnet_spawn(const char *ns, char *const argv[],
                   const struct labnet_spawn_opts *o, char *err, size_t errlen);

/*
 * Run argv inside ns (NULL: here) to completion, capturing its stderr
 * (the last ~500 bytes) into err when it fails. Returns LABNET_OK when it
 * exits 0, LABNET_ENV when argv[0] cannot be found, else LABNET_ERR with
 * "argv0 arg1: <its stderr>". Used for the `ip` steps; handy for tests.
 */
int labnet_exec(const char *ns, char *const argv[], char *err, size_t errlen);

/*
 * SIGKILL every process whose network namespace is ns (compares the
 * namespace inode with /proc/PID/ns/net), except the caller; reaps our own
 * children among them. *killed (may be NULL) receives the count.
 */
int labnet_kill_ns_procs(const char *ns, int *killed, char *err, size_t errlen);

/* A target's log, when the caller names none, is
 * $TMPDIR/lingerlab-target-<pid>-XXXXXX.log (TMPDIR unset: /tmp), <pid>
 * being the lingerlab process that started it (lab/launch.c). */
#define LABNET_TARGET_LOG_PREFIX "lingerlab-target-"

/*
 * Remove leftovers of dead runs: namespaces under /run/netns and host
 * links named "ll<pid>..." whose <pid> is not a live process (kill(pid,0)
 * fails with ESRCH), and target logs in $TMPDIR (or /tmp) named
 * LABNET_TARGET_LOG_PREFIX "<pid>-*.log" with a dead <pid> (a run killed
 * with SIGKILL cannot remove its own). Processes inside such namespaces
 * are SIGKILLed first.
 * Anything whose pid is alive is left alone, as is every name not of the
 * form ll<digits><suffix>. report receives one line per item removed
 * ("removed namespace ll1234s (2 processes killed)\n"), truncated to
 * reportlen. *removed (may be NULL) gets the number of items removed.
 * Returns LABNET_OK, LABNET_ENV (not root, no ip), or LABNET_ERR when some
 * item could not be removed (the others still are; err names the first).
 */
int labnet_clean_stale(char *report, size_t reportlen, int *removed,
                       char *err, size_t errlen);

/*
 * Parse a lab name "ll<pid><suffix>" (suffix: one or more of [a-z]).
 * Returns the pid, or 0 when the name is not a lab name.
 */
pid_t labnet_name_pid(const char *name);

/* "10.X.Y.1" etc. into buf (>= INET_ADDRSTRLEN); returns buf. */
const char *labnet_addr_str(struct in_addr a, char *buf, size_t buflen);

#endif
