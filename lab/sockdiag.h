/*
 * sockdiag.h - the kernel's own view of TCP sockets, through
 * NETLINK_SOCK_DIAG (inet_diag_req_v2 dumps for AF_INET and AF_INET6,
 * IPPROTO_TCP, every state), as `ss -tan` gets it.
 *
 * The netlink socket belongs to the network namespace that was current
 * when it was opened, so a runner opens it while inside the lab's server
 * namespace (sockdiag_open_in does that for it) and can then sample from
 * its event loop in the host namespace: no threads, no fork.
 *
 * Cost: one dump per address family per sample, with a kernel-side port
 * filter (bytecode) when a port is given, no per-socket extensions
 * requested, and no allocation per sample. The kernel's walk of its socket
 * table dominates, about 1-2 us per socket in the namespace: measured on
 * the 2-core lab machine, 10,000 sockets take ~8 ms per sample with the
 * port filter matching half of them and ~22 ms unfiltered (`ss` is no
 * faster). A few hundred sockets cost well under a millisecond. At 10,000
 * sockets, sample every 100 ms or more, or accept ~10-20% of a core.
 *
 * Every netlink message is bounds-checked (NLMSG_OK, nlmsg_len against the
 * bytes received, payload size against struct inet_diag_msg); a malformed
 * reply is an error, never a wild read.
 *
 * Errors: functions return NULL / -1 and write "what: detail" into err.
 */
#ifndef LL_LAB_SOCKDIAG_H
#define LL_LAB_SOCKDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Counts are indexed by the kernel's TCP state number (include/net/tcp_states.h):
 * 1 ESTABLISHED, 2 SYN_SENT, 3 SYN_RECV, 4 FIN_WAIT_1, 5 FIN_WAIT_2,
 * 6 TIME_WAIT, 7 CLOSE, 8 CLOSE_WAIT, 9 LAST_ACK, 10 LISTEN, 11 CLOSING.
 * Request sockets (NEW_SYN_RECV) are counted as SYN_RECV, as the kernel
 * reports them. Index 0 and anything past CLOSING stay 0 unless a future
 * kernel reports new states (they are counted at their index if < the size).
 */
#define SOCKDIAG_MAX_STATES 16

enum sockdiag_state {
	SOCKDIAG_ESTABLISHED = 1,
	SOCKDIAG_SYN_SENT = 2,
	SOCKDIAG_SYN_RECV = 3,
	SOCKDIAG_FIN_WAIT_1 = 4,
	SOCKDIAG_FIN_WAIT_2 = 5,
	SOCKDIAG_TIME_WAIT = 6,
	SOCKDIAG_CLOSE = 7,
	SOCKDIAG_CLOSE_WAIT = 8,
	SOCKDIAG_LAST_ACK = 9,
	SOCKDIAG_LISTEN = 10,
	SOCKDIAG_CLOSING = 11,
};

struct sockdiag; /* opaque */

/* Open a sampler bound to the calling thread's current network namespace. */
struct sockdiag *sockdiag_open(char *err, size_t errlen);

/* Open a sampler bound to namespace ns (a /run/netns name); the calling
 * thread's namespace is restored before returning. */
struct sockdiag *sockdiag_open_in(const char *ns, char *err, size_t errlen);

/*
 * Count TCP sockets by state into counts[0..SOCKDIAG_MAX_STATES-1] (zeroed
 * first). port > 0: only sockets whose LOCAL port equals port (the server
 * side of connections to a target on that port, plus its listener);
 * port 0: every TCP socket. Returns the total number of sockets counted,
 * or -1 with err set (counts are then unspecified).
 */
int sockdiag_sample(struct sockdiag *sd, unsigned counts[SOCKDIAG_MAX_STATES],
                    int port, char *err, size_t errlen);

/* One socket of a dump, for callers that follow sockets one by one.
 * Addresses are as the kernel holds them: an IPv4 peer of a dual-stack
 * IPv6 listener ([::]:PORT, as nginx or Apache often listen) is family
 * AF_INET6 with the mapped address ::ffff:a.b.c.d; lladdr_from_bytes()
 * (lab/addr.h) turns it back into the IPv4 address the wire carried. */
struct sockdiag_sock {
	int family;                 /* AF_INET or AF_INET6 */
	int state;                  /* kernel state number, as counts[] */
	uint8_t local_addr[16], remote_addr[16]; /* IPv4: first 4 bytes */
	uint16_t local_port, remote_port;        /* host order */
};
typedef void (*sockdiag_sock_fn)(const struct sockdiag_sock *s, void *arg);

/*
 * sockdiag_sample, and fn(s, arg) for every socket counted whose state
 * bit is set in states (1u << SOCKDIAG_FIN_WAIT_2, ...), during the dump
 * (s is valid only during the call; fn must not call into sd). A FIN_WAIT_2
 * orphan the kernel keeps as a timewait socket (tcp_time_wait(sk,
 * TCP_FIN_WAIT2, tmo)) is reported, and counted, in FIN_WAIT_2.
 */
int sockdiag_sample_each(struct sockdiag *sd, unsigned counts[SOCKDIAG_MAX_STATES],
                         int port, uint32_t states, sockdiag_sock_fn fn, void *arg,
                         char *err, size_t errlen);

/*
 * True when some socket listens on port (any address, either family):
 * a cheap readiness probe for a target that was just started.
 * Returns 1 yes, 0 no, -1 error.
 */
int sockdiag_listening(struct sockdiag *sd, int port, char *err, size_t errlen);

/* The same for one family: AF_INET6 is true for a listener IPv6 clients
 * can reach ([::]:PORT dual stack, or an IPv6 address), AF_INET for an
 * IPv4 one; 0 is either (sockdiag_listening). -1 with err set for any
 * other family. */
int sockdiag_listening_family(struct sockdiag *sd, int port, int family, char *err, size_t errlen);

/*
 * Report name of a state: "ESTABLISHED", "SYN_RECV", "FIN_WAIT_1",
 * "FIN_WAIT_2", "TIME_WAIT", "CLOSE_WAIT", "LAST_ACK", "CLOSING", "LISTEN",
 * "SYN_SENT", "CLOSE"; NULL for numbers that are not states.
 */
const char *sockdiag_state_name(int state);

/*
 * True for the states a lab report lists (docs/report-format.md):
 * ESTABLISHED, SYN_RECV, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, CLOSE_WAIT,
 * LAST_ACK, CLOSING. LISTEN, SYN_SENT and CLOSE are not reported.
 */
bool sockdiag_state_reported(int state);

void sockdiag_close(struct sockdiag *sd);

#endif
