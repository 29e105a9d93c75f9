/*
 * server.h - lingerlab-target's event loop: one process, one poll() over
 * the listener and every connection, HTTP/1.1 keep-alive and pipelining,
 * and a chosen close policy (the thing lingerlab studies).
 */
#ifndef LL_TARGET_SERVER_H
#define LL_TARGET_SERVER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* How the server ends a connection it has decided to end. */
enum target_policy {
	POLICY_CLOSE,   /* close(): unread data makes the kernel send RST (1996) */
	POLICY_LINGER,  /* shutdown(SHUT_WR), read and discard until EOF or a
	                   timeout, then close() (Apache's lingering close) */
	POLICY_ABORT,   /* SO_LINGER {1, 0} then close(): RST at once */
	POLICY_NEVER,   /* never close after responding; close only once the
	                   client has closed (EOF or RST) */
};

struct target_cfg {
	struct sockaddr_storage addr;   /* where to listen */
	socklen_t addrlen;
	char host[64];                  /* printable address, for pages and logs */
	unsigned port;
	enum target_policy policy;
	double linger_timeout;          /* total lingering time, seconds */
	double linger_read_timeout;     /* longest wait for one read while lingering */
	double keepalive_timeout;       /* idle time between requests; 0: none */
	double timeout;                 /* stuck send / partial request; 0: none */
	bool close_on_error;            /* close after a 4xx/5xx response */
	uint64_t index_size;            /* body size of /; 0: the page as it is */
	uint64_t large_size;            /* body size of /large.bin */
	size_t max_head;                /* longest request head accepted */
	int backlog;
	int max_conns;
	int ready_fd;                   /* -1: none */
	bool verbose;
	/* TLS (tlsio.c): every connection runs a handshake first */
	bool tls;
	const char *tls_cert, *tls_key; /* PEM files; NULL: self-signed */
	bool tls_close_notify;          /* send close_notify before a close,
	                                   a lingering close or on never's
	                                   end (not on abort) */
};

const char *target_policy_name(enum target_policy p);

/*
 * Listen and serve until *stop becomes non-zero (SIGTERM/SIGINT handler)
 * . The caller blocks SIGTERM and SIGINT before calling; the loop unblocks
 * them only while waiting in ppoll(), so a signal is never missed.
 * Returns 0 after a clean stop, -1 with err set when the listener could not
 * be set up or the loop failed.
 */
int server_run(const struct target_cfg *cfg, volatile sig_atomic_t *stop,
               const sigset_t *wait_mask, char *err, size_t errlen);

#endif
