/*
 * kclient.h - one kernel-socket client connection: an ordinary TCP socket
 * of the client namespace's own Linux stack, driven the way an application
 * drives it, so a scenario can say what a real client application sees
 * (`client kernel` in docs/scenario-language.md).
 *
 * The scenario's steps map to syscalls:
 *
 *     connect            socket(SOCK_NONBLOCK) + connect()
 *     window SIZE        setsockopt(SO_RCVBUF) (before connect it also
 *                        sets the window scale the SYN offers)
 *     send / request     bytes appended to the application's write queue,
 *                        written with send(MSG_NOSIGNAL) as room allows
 *     body SIZE [rate R] [chunk C]
 *                        a write loop: C bytes (default 16 KiB) per
 *                        send(), every C/R seconds when paced
 *     shutdown           shutdown(SHUT_WR) once the write queue is empty
 *     fin close          close() once the queue is empty (the runner says
 *                        when: after the application read end-of-file)
 *     abort              setsockopt(SO_LINGER {1, 0}) + close(): a RST
 *     read POLICY        when the application calls recv():
 *                          concurrently  whenever data is readable;
 *                          after send    only once its writes are done
 *                                        (kc_sends_done) or one failed:
 *                                        the classic upload client;
 *                          never         not at all.
 *
 * The application is single-threaded and non-blocking, driven by
 * kc_pump(): a blocking client would make the same calls in the same
 * order, and get the same errors (a write blocked when a RST comes returns
 * the error the next send() returns here). Every failed syscall is kept
 * with its errno and the time (kc_info.err[]), as the application saw it:
 * after a RST Linux reports ECONNRESET once (sock_error() clears sk_err),
 * then EPIPE for writes and end-of-file or the data still queued for
 * reads (tcp_recvmsg copies queued data before it looks at sk_err).
 * SIGPIPE is never raised (MSG_NOSIGNAL), as curl and most clients arrange.
 *
 * Body bytes are the raw client's pattern ("abc...z" repeating from body
 * byte 0), so captures of both clients read alike.
 *
 * Threads: none. Sockets belong to the network namespace current at
 * kc_open (the runner enters the client namespace around it).
 *
 * Errors: kc_open returns NULL with "what: detail" in err; everything
 * later is recorded in the connection (kc_info), never printed.
 * Ownership: the caller frees a connection with kc_free (which resets a
 * socket still open, see there).
 */
#ifndef LL_LAB_KCLIENT_H
#define LL_LAB_KCLIENT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kc_conn;

enum kc_read { KC_READ_CONCURRENTLY = 0, KC_READ_AFTER_SEND, KC_READ_NEVER };

#define KC_MAX_ERRORS 8            /* syscall errors kept per connection */
#define KC_DEFAULT_CHUNK 16384     /* body bytes per send() when unset */
#define KC_WQ_CAP (4u << 20)       /* bytes the application may queue */

/* Called with what recv() returned (len > 0), or len 0 for end-of-file. */
typedef void (*kc_data_fn)(void *arg, const uint8_t *p, size_t len);

struct kc_opts {
	struct in_addr server;     /* network order */
	uint16_t port;             /* host order */
	uint32_t rcvbuf;           /* SO_RCVBUF before connect; 0: default */
	bool has_rcvbuf;
	enum kc_read read;
	uint64_t t0_us;            /* error times are relative to this
	                              (CLOCK_MONOTONIC microseconds) */
	kc_data_fn on_data;        /* may be NULL */
	void *arg;
	bool has_bind;             /* bind to bind_addr (port 0) before connect */
	struct in_addr bind_addr;
	uint32_t mark;             /* SO_MARK, 0: none (the delay line's
	                              routing, lab/kdelay.h) */
};

struct kc_error {
	char call[12];             /* "connect", "send", "recv", "shutdown",
	                              "close", "setsockopt" */
	int errnum;
	uint64_t t_us;             /* since t0 */
};

struct kc_info {
	bool connected;            /* the handshake completed */
	bool connect_failed;       /* refused, unreachable, ... (see err[]) */
	bool fd_open;              /* not yet closed by the application */
	bool eof;                  /* recv() returned 0 */
	bool reset;                /* some syscall said ECONNRESET */
	bool write_failed;         /* a send() failed: the rest is dropped */
	bool read_failed;          /* a recv() failed */
	bool shut_wr;              /* shutdown(SHUT_WR) done */
	bool aborted;              /* closed with SO_LINGER 0 */
	bool writes_pending;       /* queued bytes or body left to write */
	bool body_active;          /* a body is being written */
	int tcp_state;             /* TCP_INFO tcpi_state (TCP_ESTABLISHED...),
	                              0 once the fd is closed */
	uint64_t bytes_written;    /* accepted by send() */
	uint64_t bytes_read;       /* returned by recv() */
	uint64_t unsent;           /* SIOCOUTQNSD: written, not yet sent */
	uint64_t unacked;          /* SIOCOUTQ: written, not yet acknowledged */
	uint16_t local_port;       /* host order, 0 before connect */
	uint32_t n_errors;
	uint32_t errors_dropped;   /* beyond KC_MAX_ERRORS */
	struct kc_error err[KC_MAX_ERRORS];
};

/* Events kc_pump reports (bits). */
enum {
	KC_EV_CONNECTED = 1u << 0,
	KC_EV_DATA      = 1u << 1,   /* recv() returned bytes */
	KC_EV_EOF       = 1u << 2,
	KC_EV_ERROR     = 1u << 3,   /* a syscall failed (kc_info.err[]) */
	KC_EV_WRITTEN   = 1u << 4,   /* the write queue and body ran empty */
	KC_EV_CLOSED    = 1u << 5,   /* the application closed the socket */
};

/*
 * socket() + SO_RCVBUF + connect() to server:port, non-blocking. The
 * connection exists even when connect fails at once (ECONNREFUSED is
 * recorded, connect_failed set): NULL only when socket() itself fails or
 * memory runs out, with err set ("kclient: socket: ...").
 */
struct kc_conn *kc_open(const struct kc_opts *o, char *err, size_t errlen);

/* The socket, -1 once closed (for poll). */
int kc_fd(const struct kc_conn *k);

/* The poll events kc_pump wants now (POLLIN/POLLOUT), 0 when none. */
short kc_poll_events(const struct kc_conn *k);

/* Application settings. */
void kc_set_read(struct kc_conn *k, enum kc_read r);
void kc_set_rcvbuf(struct kc_conn *k, uint32_t bytes);
/* The script will write nothing more (`read after send` may start). */
void kc_sends_done(struct kc_conn *k);

/* Queue bytes to write. -1 when the connection can no longer write
 * (closed, shut, a write failed) or the queue would pass KC_WQ_CAP: the
 * reason is in why (static text). */
int kc_write(struct kc_conn *k, const uint8_t *p, size_t n, const char **why);
/* Start a body write loop (one at a time; -1 as for kc_write). rate 0:
 * unpaced; chunk 0: KC_DEFAULT_CHUNK. */
int kc_body(struct kc_conn *k, uint64_t size, uint64_t rate, uint32_t chunk,
            const char **why);

/* shutdown(SHUT_WR) / close() once everything queued is written (at once
 * if nothing is); abort: SO_LINGER 0 + close() now, queue dropped. */
void kc_shutdown(struct kc_conn *k);
void kc_close(struct kc_conn *k);
void kc_abort(struct kc_conn *k);

/*
 * Let the application run at now_us: finish connect, read per its policy,
 * write what is due and fits, then a pending shutdown/close. revents: what
 * poll() said about kc_fd (0 if not polled). Returns KC_EV_* bits.
 */
unsigned kc_pump(struct kc_conn *k, short revents, uint64_t now_us);

/* When the body loop wants to write next (paced), 0 if not waiting. */
uint64_t kc_next_due(const struct kc_conn *k);

void kc_info(const struct kc_conn *k, struct kc_info *out);

/* "ESTABLISHED", ... for a tcpi_state; "CLOSED" for 0/TCP_CLOSE. */
const char *kc_tcp_state_name(int st);

/*
 * Free the connection. A socket the application has not closed is reset
 * first (SO_LINGER 0 + close), the runner's clean-up as for raw
 * connections; *rst (may be NULL) says whether that happened on a socket
 * that could still send one (not CLOSED, not TIME_WAIT).
 */
void kc_free(struct kc_conn *k, bool *rst);

#endif
