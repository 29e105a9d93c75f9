/*
 * server.c - lingerlab-target's event loop (see server.h).
 *
 * Per connection, three phases:
 *   OPEN    reading requests, writing responses (keep-alive, pipelining:
 *           requests are answered in order; while output is backed up no
 *           further request is parsed);
 *   LINGER  policy linger after the last response: write side shut down,
 *           reading and discarding until EOF, RST, or a timeout;
 *   DRAIN   policy never: reading and discarding until the client closes.
 * Once the server decides to end a connection (Connection: close, an error
 * with close-on-error, idle timeout, EOF) it stops reading requests, lets
 * the queued output reach the kernel, then applies the policy. That order
 * is what makes `close` lose responses: the client's late data sits unread
 * in the kernel when close() is called, and the kernel answers with RST.
 */
#include "lab/target/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lab/target/http.h"
#include "lab/target/tlsio.h"
#include "lab/errmsg.h"

#define OUT_HIGH     (32 * 1024)   /* stop parsing requests above this */
#define OUT_MAX      (256 * 1024)  /* hard cap of one connection's output */
#define PATTERN_SIZE (64 * 1024)
#define PATH_KEEP    200           /* bytes of a path kept for a later page */
#define ACCEPT_BURST 256
#define LINGER_READS 16            /* reads per wake-up while discarding */

enum conn_phase { PH_OPEN, PH_LINGER, PH_DRAIN };

struct pending {               /* a response waiting for its request body */
	int status;
	bool keep, head_only, http10;
	unsigned char path_len;
	char path[PATH_KEEP];
};

struct conn {
	int fd;
	SSL *ssl;                  /* NULL: plain TCP */
	bool hs_done;              /* the TLS handshake is over (or no TLS) */
	bool hs_want_write;
	unsigned id;
	enum conn_phase phase;
	char *in;                  /* request bytes (cfg->max_head), lazily */
	size_t inlen;
	struct thttp_out out;
	size_t outoff;
	uint64_t stream_left;      /* pattern bytes still to send after out */
	uint64_t stream_pos;
	uint64_t discard_left;     /* request body bytes to read and drop */
	bool has_pending;
	struct pending pend;
	bool close_after;          /* end (per policy) once output is sent */
	bool eof;                  /* the client's FIN has been read */
	double last;               /* last progress (read or write) */
	double deadline;           /* 0: no timer */
	double linger_start, linger_end;
	uint64_t drained;
	unsigned requests;
	char peer[64];
};

struct server {
	const struct target_cfg *cfg;
	struct pollfd *pfd;        /* [0] listener, [1..n] connections */
	struct conn **conns;       /* parallel to pfd; conns[0] unused */
	int n;                     /* entries in use, listener included */
	int cap;
	unsigned next_id;
	char pattern[PATTERN_SIZE];
	char scratch[64 * 1024];
	double listen_pause_until; /* EMFILE back-off */
	SSL_CTX *tls;              /* NULL: plain TCP */
};

static void logf_(const struct server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void logf_(const struct server *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->cfg->verbose)
		return;
	va_start(ap, fmt);
	fputs("lingerlab-target: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

const char *target_policy_name(enum target_policy p)
{
	switch (p) {
	case POLICY_CLOSE:  return "close";
	case POLICY_LINGER: return "linger";
	case POLICY_ABORT:  return "abort";
	case POLICY_NEVER:  return "never";
	}
	return "?";
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The connection is over: close without ceremony (already reset, or the
 * policy's last step). */
static void conn_drop(struct conn *c)
{
	tlsio_free(c->ssl);
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Before the server ends a TLS connection on purpose: its close_notify,
 * if so configured (it goes out ahead of the FIN or the RST). */
static void conn_close_notify(const struct server *s, struct conn *c)
{
	if (c->ssl && c->hs_done && s->cfg->tls_close_notify &&
	    tlsio_close_notify(c->ssl) != 0)
		logf_(s, "conn %u: close_notify not sent: %s", c->id, tlsio_error());
}

static void conn_free(struct conn *c)
{
	conn_drop(c);
	free(c->in);
	c->in = NULL;
	thttp_out_free(&c->out);
	free(c);
}

static size_t out_pending(const struct conn *c)
{
	return c->out.len - c->outoff;
}

static bool output_done(const struct conn *c)
{
	return out_pending(c) == 0 && c->stream_left == 0;
}

/* The server is done with this connection: apply the close policy. */
static void conn_finish(struct server *s, struct conn *c, double now, const char *why)
{
	const struct target_cfg *cfg = s->cfg;
	struct linger lg = { 1, 0 };

	free(c->in);
	c->in = NULL;
	c->inlen = 0;
	switch (cfg->policy) {
	case POLICY_CLOSE:
		logf_(s, "conn %u: close() (%s)", c->id, why);
		conn_close_notify(s, c);
		conn_drop(c);
		return;
	case POLICY_ABORT:
		logf_(s, "conn %u: abortive close, SO_LINGER 0 (%s)", c->id, why);
		if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) != 0)
			logf_(s, "conn %u: SO_LINGER: %s", c->id, strerror(errno));
		conn_drop(c);
		return;
	case POLICY_LINGER:
		conn_close_notify(s, c);
		if (c->eof) {
			logf_(s, "conn %u: close() after the client's FIN (%s)", c->id, why);
			conn_drop(c);
			return;
		}
		if (shutdown(c->fd, SHUT_WR) != 0) {
			logf_(s, "conn %u: shutdown: %s", c->id, strerror(errno));
			conn_drop(c);
			return;
		}
		logf_(s, "conn %u: shutdown(SHUT_WR), lingering (%s)", c->id, why);
		c->phase = PH_LINGER;
		c->linger_start = now;
		c->linger_end = now + cfg->linger_timeout;
		c->deadline = now + cfg->linger_read_timeout < c->linger_end
		              ? now + cfg->linger_read_timeout : c->linger_end;
		return;
	case POLICY_NEVER:
		if (c->eof) {
			logf_(s, "conn %u: close() after the client's FIN (%s)", c->id, why);
			conn_close_notify(s, c);
			conn_drop(c);
			return;
		}
		logf_(s, "conn %u: keeping the socket open until the client closes (%s)", c->id, why);
		c->phase = PH_DRAIN;
		c->deadline = 0;
		return;
	}
}

/* Queue a complete response. Returns -1 when the output is full. */
static int respond(struct server *s, struct conn *c, int status, bool keep, bool head_only,
                   bool http10, const char *path, size_t path_len)
{
	const struct target_cfg *cfg = s->cfg;
	struct thttp_resp r;
	bool is_error = status >= 400;
	bool framing_lost = status == 400 || status == 431 || status == 505;

	memset(&r, 0, sizeof r);
	r.status = status;
	r.head_only = head_only;
	r.server = "lingerlab-target/" LL_VERSION;
	r.close = !keep || framing_lost || (is_error && cfg->close_on_error);
	r.keep_alive_10 = !r.close && http10;
	c->close_after = r.close;
	c->requests++;
	logf_(s, "conn %u: %.*s -> %d%s", c->id, (int)(path_len > 80 ? 80 : path_len),
	      path ? path : "", status, r.close ? " (closing)" : "");
	if (status != 200)
		return thttp_write_error(&c->out, &r, path, path_len) < 0 ? -1 : 0;

	if (path_len == 10 && !memcmp(path, "/large.bin", 10)) {
		r.body_len = cfg->large_size;
		r.content_type = "application/octet-stream";
		if (thttp_write_head(&c->out, &r) != 0)
			return -1;
		if (!head_only) {
			c->stream_left = cfg->large_size;
			c->stream_pos = 0;
		}
		return 0;
	}
	{
		size_t plen;
		const char *page = thttp_index_page(&plen);
		uint64_t size = cfg->index_size ? cfg->index_size : plen;
		size_t first = size < plen ? (size_t)size : plen;

		r.body_len = size;
		if (thttp_write_head(&c->out, &r) != 0)
			return -1;
		if (head_only)
			return 0;
		if (thttp_out_append(&c->out, page, first) != 0)
			return -1;
		c->stream_left = size - first;   /* padding from the pattern */
		c->stream_pos = 0;
	}
	return 0;
}

static bool path_is(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(p, s, n) == 0;
}

/* Answer one parsed request (or arrange to, after its body). */
static int handle_request(struct server *s, struct conn *c, const struct thttp_req *req)
{
	const struct target_cfg *cfg = s->cfg;
	bool keep = thttp_wants_keep_alive(req);
	bool http10 = req->minor == 0;
	bool head_only = thttp_method_is(req, "HEAD");
	bool get = thttp_method_is(req, "GET") || head_only;
	bool put = thttp_method_is(req, "PUT") || thttp_method_is(req, "POST");
	const char *q = memchr(req->target, '?', req->target_len);
	size_t plen = q ? (size_t)(q - req->target) : req->target_len;
	const char *path = req->target;
	bool known = path_is(path, plen, "/") || path_is(path, plen, "/index.html") ||
	             path_is(path, plen, "/large.bin");
	bool protected = (plen >= 11 && !memcmp(path, "/protected/", 11)) ||
	                 path_is(path, plen, "/protected");
	int status;

	if (put && protected) {
		/* The early error: answered before a byte of the body is read.
		 * Kept alive only if allowed and the body can be skipped. */
		bool skip_ok = !req->chunked;
		int rc = respond(s, c, 401, keep && skip_ok, head_only, http10, path, plen);

		if (!c->close_after && req->content_length > 0)
			c->discard_left = (uint64_t)req->content_length;
		return rc;
	}
	if (get)
		status = known ? 200 : 404;
	else if (put)
		status = known ? 405 : 404;
	else
		status = 501;
	if (req->chunked)   /* no chunked decoder: answer, then close */
		return respond(s, c, 501, false, head_only, http10, path, plen);
	if (req->content_length > 0) {
		/* Read (and drop) the body first, then answer. */
		c->discard_left = (uint64_t)req->content_length;
		c->has_pending = true;
		c->pend.status = status;
		c->pend.keep = keep;
		c->pend.head_only = head_only;
		c->pend.http10 = http10;
		c->pend.path_len = (unsigned char)(plen < PATH_KEEP ? plen : PATH_KEEP);
		memcpy(c->pend.path, path, c->pend.path_len);
		return 0;
	}
	(void)cfg;
	return respond(s, c, status, keep, head_only, http10, path, plen);
}

static void consume(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->inlen - n);
	c->inlen -= n;
}

/*
 * Parse and answer what the input holds, as far as output room allows.
 * Returns 1 if something was consumed or queued, 0 if nothing, -1 on a
 * fatal error (output overflow: the connection is dropped).
 */
static int conn_process(struct server *s, struct conn *c)
{
	const struct target_cfg *cfg = s->cfg;
	int moved = 0;

	while (c->phase == PH_OPEN && !c->close_after && c->fd >= 0) {
		struct thttp_req req;
		enum thttp_parse pr;

		if (c->discard_left > 0) {
			size_t k = c->inlen < c->discard_left ? c->inlen : (size_t)c->discard_left;

			if (k == 0)
				break;
			consume(c, k);
			c->discard_left -= k;
			moved = 1;
			continue;
		}
		if (c->has_pending) {
			c->has_pending = false;
			if (respond(s, c, c->pend.status, c->pend.keep, c->pend.head_only, c->pend.http10,
			            c->pend.path, c->pend.path_len) != 0)
				return -1;
			moved = 1;
			continue;
		}
		if (out_pending(c) > OUT_HIGH || c->stream_left > 0 || c->inlen == 0)
			break;
		pr = thttp_parse_head(c->in, c->inlen, cfg->max_head, &req);
		if (pr == THTTP_NEED_MORE)
			break;
		moved = 1;
		if (pr == THTTP_TOO_LARGE) {
			if (respond(s, c, 431, false, false, false, NULL, 0) != 0)
				return -1;
			break;
		}
		if (pr == THTTP_BAD) {
			logf_(s, "conn %u: bad request: %s", c->id, req.why);
			if (respond(s, c, req.status, false, false, false, req.target, req.target_len) != 0)
				return -1;
			break;
		}
		if (handle_request(s, c, &req) != 0)
			return -1;
		consume(c, req.head_len);
	}
	if (c->inlen == 0 && c->in) {   /* idle connections hold no buffer */
		free(c->in);
		c->in = NULL;
	}
	return moved;
}

/* Send queued output. Returns 1 if bytes went out, 0 if none could, -1 if
 * the connection died (dropped). */
static int conn_flush(struct server *s, struct conn *c)
{
	int moved = 0;

	while (out_pending(c) > 0) {
		ssize_t n = tlsio_send(c->ssl, c->fd, c->out.buf + c->outoff, out_pending(c));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return moved;
			logf_(s, "conn %u: send: %s", c->id,
			      errno == EPROTO ? tlsio_error() : strerror(errno));
			conn_drop(c);
			return -1;
		}
		c->outoff += (size_t)n;
		moved = 1;
	}
	c->out.len = 0;
	c->outoff = 0;
	if (c->out.cap > 4 * OUT_HIGH)
		thttp_out_free(&c->out);
	while (c->stream_left > 0) {
		size_t off = (size_t)(c->stream_pos % PATTERN_SIZE);
		size_t want = PATTERN_SIZE - off;
		ssize_t n;

		if (want > c->stream_left)
			want = (size_t)c->stream_left;
		n = tlsio_send(c->ssl, c->fd, s->pattern + off, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return moved;
			logf_(s, "conn %u: send: %s", c->id, strerror(errno));
			conn_drop(c);
			return -1;
		}
		c->stream_left -= (uint64_t)n;
		c->stream_pos += (uint64_t)n;
		moved = 1;
	}
	return moved;
}

/* Drive an OPEN connection as far as it goes without blocking. */
static void conn_progress(struct server *s, struct conn *c, double now)
{
	for (int round = 0; round < 64 && c->fd >= 0 && c->phase == PH_OPEN; round++) {
		int p = conn_process(s, c);
		int f;

		if (p < 0) {
			logf_(s, "conn %u: output overflow", c->id);
			conn_drop(c);
			return;
		}
		f = conn_flush(s, c);
		if (f < 0)
			return;
		if (f > 0)
			c->last = now;
		if (output_done(c) && (c->close_after || c->eof)) {
			conn_finish(s, c, now, c->close_after ? "response sent" : "client closed");
			return;
		}
		if (p == 0 && f == 0)
			return;
	}
}

static void conn_read_open(struct server *s, struct conn *c, double now)
{
	const struct target_cfg *cfg = s->cfg;
	ssize_t n;

	if (c->ssl && !c->hs_done) {
		char err[256];
		int h = tlsio_handshake(c->ssl, &c->hs_want_write, err, sizeof err);

		if (h < 0) {
			logf_(s, "conn %u: %s", c->id, err);
			conn_drop(c);
			return;
		}
		c->last = now;
		if (h == 0)
			return;
		c->hs_done = true;
		logf_(s, "conn %u: TLS handshake done", c->id);
	}
	if (!c->in) {
		c->in = malloc(cfg->max_head);
		if (!c->in) {
			logf_(s, "conn %u: out of memory", c->id);
			conn_drop(c);
			return;
		}
	}
	/* over TLS, OpenSSL may hold decrypted bytes the socket no longer
	 * shows: take them while there is room */
	do {
		do
			n = tlsio_recv(c->ssl, c->fd, c->in + c->inlen, cfg->max_head - c->inlen);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			logf_(s, "conn %u: recv: %s", c->id,
			      errno == EPROTO ? tlsio_error() : strerror(errno));
			conn_drop(c);
			return;
		}
		c->last = now;
		if (n == 0) {
			logf_(s, "conn %u: client sent %s", c->id, c->ssl ? "FIN or close_notify" : "FIN");
			c->eof = true;
			break;
		}
		c->inlen += (size_t)n;
	} while (c->ssl && tlsio_pending(c->ssl) > 0 && c->inlen < cfg->max_head);
	conn_progress(s, c, now);
}

/* LINGER and DRAIN: read and throw away. */
static void conn_read_discard(struct server *s, struct conn *c, double now)
{
	const struct target_cfg *cfg = s->cfg;

	for (int i = 0; i < LINGER_READS; i++) {
		ssize_t n = recv(c->fd, s->scratch, sizeof s->scratch, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			if (c->phase == PH_LINGER)
				logf_(s, "conn %u: lingered %.3f s, drained %llu bytes, ended by %s", c->id,
				      now - c->linger_start, (unsigned long long)c->drained,
				      n == 0 ? "the client's FIN" : strerror(errno));
			else
				logf_(s, "conn %u: client closed (%s), closing", c->id,
				      n == 0 ? "FIN" : strerror(errno));
			conn_drop(c);
			return;
		}
		c->drained += (uint64_t)n;
		c->last = now;
	}
	if (c->phase == PH_LINGER) {
		double d = now + cfg->linger_read_timeout;

		c->deadline = d < c->linger_end ? d : c->linger_end;
	}
}

/* A timer expired. */
static void conn_timeout(struct server *s, struct conn *c, double now)
{
	if (c->phase == PH_LINGER) {
		logf_(s, "conn %u: lingered %.3f s, drained %llu bytes, ended by %s", c->id,
		      now - c->linger_start, (unsigned long long)c->drained,
		      now >= c->linger_end ? "the linger timeout" : "the read timeout");
		conn_drop(c);
		return;
	}
	/* OPEN: idle keep-alive, a request that never completed, or a client
	 * that stopped reading. Whatever output is left is given up. */
	c->stream_left = 0;
	c->out.len = 0;
	c->outoff = 0;
	conn_finish(s, c, now, "timeout");
}

/* Set c->deadline for an OPEN connection from its situation. */
static void conn_arm(const struct server *s, struct conn *c)
{
	const struct target_cfg *cfg = s->cfg;
	double t;

	if (c->phase != PH_OPEN || c->fd < 0)
		return;
	if (cfg->policy == POLICY_NEVER) {   /* never ends a connection itself */
		c->deadline = 0;
		return;
	}
	if (!output_done(c) || c->inlen > 0 || c->discard_left > 0 || c->has_pending)
		t = cfg->timeout;
	else
		t = cfg->keepalive_timeout;
	c->deadline = t > 0 ? c->last + t : 0;
}

static short conn_events(const struct conn *c, const struct target_cfg *cfg)
{
	short ev = 0;

	if (c->phase != PH_OPEN)
		return POLLIN;
	if (c->ssl && !c->hs_done)
		return (short)(POLLIN | (c->hs_want_write ? POLLOUT : 0));
	if (!c->close_after && !c->eof &&
	    (c->discard_left > 0 || (c->inlen < cfg->max_head && out_pending(c) <= OUT_HIGH &&
	                             c->stream_left == 0)))
		ev |= POLLIN;
	if (!output_done(c))
		ev |= POLLOUT;
	return ev;
}

static int add_conn(struct server *s, int fd, const struct sockaddr_storage *sa, double now)
{
	struct conn *c = calloc(1, sizeof *c);
	char a[INET6_ADDRSTRLEN] = "?";
	int one = 1;

	if (!c)
		return -1;
	c->fd = fd;
	c->id = ++s->next_id;
	c->hs_done = true;
	if (s->tls) {
		c->ssl = tlsio_accept(s->tls, fd);
		c->hs_done = false;
		if (!c->ssl) {
			free(c);
			return -1;
		}
	}
	c->phase = PH_OPEN;
	c->last = now;
	c->out.max = OUT_MAX;
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
		snprintf(c->peer, sizeof c->peer, "%s:%u", a, ntohs(in->sin_port));
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
		snprintf(c->peer, sizeof c->peer, "[%s]:%u", a, ntohs(in6->sin6_port));
	}
	/* Like Apache: responses go out when written, not when Nagle allows. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	s->pfd[s->n].fd = fd;
	s->pfd[s->n].events = POLLIN;
	s->pfd[s->n].revents = 0;
	s->conns[s->n] = c;
	s->n++;
	logf_(s, "conn %u: accepted from %s", c->id, c->peer);
	conn_arm(s, c);
	return 0;
}

static void accept_some(struct server *s, int lfd, double now)
{
	for (int i = 0; i < ACCEPT_BURST && s->n < s->cap; i++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof sa;
		int fd = accept4(lfd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				logf_(s, "accept: %s; pausing for 100 ms", strerror(errno));
				s->listen_pause_until = now + 0.1;
			}
			return;
		}
		if (add_conn(s, fd, &sa, now) != 0) {
			close(fd);
			return;
		}
	}
}

static int open_listener(const struct target_cfg *cfg, char *err, size_t errlen)
{
	int one = 1;
	int fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		errmsg_set(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
		errmsg_set(err, errlen, "SO_REUSEADDR: %s", strerror(errno));
		goto fail;
	}
	if (bind(fd, (const struct sockaddr *)&cfg->addr, cfg->addrlen) != 0) {
		errmsg_set(err, errlen, "bind %s port %u: %s", cfg->host, cfg->port, strerror(errno));
		goto fail;
	}
	if (listen(fd, cfg->backlog) != 0) {
		errmsg_set(err, errlen, "listen: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int server_run(const struct target_cfg *cfg, volatile sig_atomic_t *stop,
               const sigset_t *wait_mask, char *err, size_t errlen)
{
	struct server *s = NULL;
	int lfd, rc = -1;
	unsigned long served = 0;

	lfd = open_listener(cfg, err, errlen);
	if (lfd < 0)
		return -1;
	s = calloc(1, sizeof *s);
	if (!s) {
		errmsg_set(err, errlen, "out of memory");
		goto out;
	}
	s->cfg = cfg;
	if (cfg->tls && !(s->tls = tlsio_ctx_new(cfg->tls_cert, cfg->tls_key, cfg->host, err, errlen)))
		goto out;
	s->cap = cfg->max_conns + 1;
	s->pfd = calloc((size_t)s->cap, sizeof *s->pfd);
	s->conns = calloc((size_t)s->cap, sizeof *s->conns);
	if (!s->pfd || !s->conns) {
		errmsg_set(err, errlen, "out of memory for %d connections", cfg->max_conns);
		goto out;
	}
	for (size_t i = 0; i < PATTERN_SIZE; i++)   /* printable, line-structured filler */
		s->pattern[i] = (i % 64 == 63) ? '\n' : (char)('a' + (i / 64) % 26);
	s->pfd[0].fd = lfd;
	s->n = 1;

	printf("lingerlab-target: listening on %s%s%s:%u, policy %s%s\n",
	       cfg->addr.ss_family == AF_INET6 ? "[" : "", cfg->host,
	       cfg->addr.ss_family == AF_INET6 ? "]" : "", cfg->port, target_policy_name(cfg->policy),
	       cfg->tls ? (cfg->tls_cert ? ", TLS" : ", TLS (self-signed)") : "");
	fflush(stdout);
	if (cfg->ready_fd >= 0) {
		char msg[96];
		/* "[ADDR]:PORT" for IPv6, as --listen takes it */
		int m = snprintf(msg, sizeof msg, cfg->addr.ss_family == AF_INET6 ? "listening [%s]:%u\n"
		                 : "listening %s:%u\n", cfg->host, cfg->port);

		if (m > 0 && write(cfg->ready_fd, msg, (size_t)m) != m)
			logf_(s, "ready fd %d: %s", cfg->ready_fd, strerror(errno));
		close(cfg->ready_fd);
	}

	while (!*stop) {
		double now = now_mono(), next = 0;
		struct timespec ts, *tsp = NULL;
		int n;

		s->pfd[0].events = (s->n < s->cap && now >= s->listen_pause_until) ? POLLIN : 0;
		for (int i = 1; i < s->n; i++) {
			struct conn *c = s->conns[i];

			s->pfd[i].events = conn_events(c, cfg);
			if (c->deadline > 0 && (next == 0 || c->deadline < next))
				next = c->deadline;
		}
		if (s->listen_pause_until > now && (next == 0 || s->listen_pause_until < next))
			next = s->listen_pause_until;
		if (next > 0) {
			double d = next > now ? next - now : 0;

			ts.tv_sec = (time_t)d;
			ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9) + 1000000; /* +1 ms: wake after */
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			tsp = &ts;
		}
		n = ppoll(s->pfd, (nfds_t)s->n, tsp, wait_mask);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			errmsg_set(err, errlen, "poll: %s", strerror(errno));
			goto out;
		}
		now = now_mono();
		if (s->pfd[0].revents & POLLIN)
			accept_some(s, lfd, now);
		/* Walk backwards: a removed entry is replaced by the last one,
		 * which has then been handled already. */
		for (int i = s->n - 1; i >= 1; i--) {
			struct conn *c = s->conns[i];
			short re = s->pfd[i].revents;

			s->pfd[i].revents = 0;
			if (re & (POLLIN | POLLERR | POLLHUP)) {
				if (c->phase == PH_OPEN)
					conn_read_open(s, c, now);
				else
					conn_read_discard(s, c, now);
			}
			if (c->fd >= 0 && c->phase == PH_OPEN && (re & POLLOUT)) {
				if (c->ssl && !c->hs_done)
					conn_read_open(s, c, now); /* drives the handshake */
				else
					conn_progress(s, c, now);
			}
			if (c->fd >= 0 && c->deadline > 0 && now >= c->deadline)
				conn_timeout(s, c, now);
			if (c->fd >= 0)
				conn_arm(s, c);
			if (c->fd < 0) {
				served++;
				conn_free(c);
				s->n--;
				s->conns[i] = s->conns[s->n];
				s->pfd[i] = s->pfd[s->n];
				s->conns[s->n] = NULL;
			}
		}
	}
	rc = 0;
out:
	if (s) {
		if (rc == 0)
			logf_(s, "stopping: %lu connections done, %d open", served, s->n - 1);
		for (int i = 1; i < s->n; i++)
			conn_free(s->conns[i]);
		free(s->pfd);
		s->pfd = NULL;
		free(s->conns);
		s->conns = NULL;
		tlsio_ctx_free(s->tls);
		free(s);
		s = NULL;
	}
	close(lfd);
	return rc;
}
