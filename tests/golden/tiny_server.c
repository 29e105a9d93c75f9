/*
 * tiny_server.c - a one-connection HTTP server and client on 127.0.0.1 for
 * the loopback golden tests (tests/integration/golden_loopback.sh), so that
 * real kernel TCP makes the packets the analyzer must judge.
 *
 *   tiny_server server MODE      listen on 127.0.0.1, port chosen by the
 *                                kernel and printed on stdout, serve one
 *                                connection, exit
 *     close    read the request head, answer 401, close() at once while the
 *              body is still arriving: the kernel resets (1996 Apache)
 *     linger   answer 401, shutdown(SHUT_WR), read and discard to EOF, then
 *              close (lingering close)
 *     fin      read the request head, answer 404, close(): the server closes
 *              first, so its socket sits in FIN_WAIT_2 until the client's FIN
 *   tiny_server client PORT put          PUT with a body, see client_put()
 *   tiny_server client PORT get HOLD_MS  GET, read to EOF, wait, close
 *
 * Every blocking call is bounded (SO_RCVTIMEO/SO_SNDTIMEO, alarm) so a
 * broken test cannot hang. Prints one summary line; exit 0 unless set-up
 * failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_S 5
#define LIFETIME_S 15
#define BODY_BYTES (256 * 1024)
#define FIRST_CHUNK 1000
#define CHUNK 16384

static int die(const char *what)
{
	fprintf(stderr, "tiny_server: %s: %s\n", what, strerror(errno));
	return 1;
}

static int set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
		return -1;
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read the request head one byte at a time, so nothing after the blank line
 * is consumed: the body that follows stays unread in the socket. */
static int read_head(int fd)
{
	char c;
	unsigned state = 0;
	for (int n = 0; n < 16384; n++) {
		ssize_t r = recv(fd, &c, 1, 0);
		if (r < 0 && errno == EINTR) {
			n--;
			continue;
		}
		if (r <= 0)
			return -1;
		/* match "\r\n\r\n" */
		if ((c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3)))
			state++;
		else
			state = c == '\r' ? 1 : 0;
		if (state == 4)
			return 0;
	}
	return -1;
}

static const char resp_401[] =
	"HTTP/1.1 401 Unauthorized\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 43\r\n"
	"Connection: close\r\n"
	"\r\n"
	"You need a password to PUT anything here.\r\n";

static const char resp_404[] =
	"HTTP/1.1 404 Not Found\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 11\r\n"
	"\r\n"
	"not found\r\n";

static int serve(const char *mode)
{
	int ls = -1, fd = -1, rc = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;

	if (strcmp(mode, "close") && strcmp(mode, "linger") && strcmp(mode, "fin")) {
		fprintf(stderr, "tiny_server: unknown server mode '%s'\n", mode);
		return 2;
	}
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0)
		return die("socket");
	if (bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 1) != 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &alen) != 0) {
		die("listen");
		goto out;
	}
	printf("%u\n", ntohs(a.sin_port));
	fflush(stdout);

	fd = accept(ls, NULL, NULL);
	if (fd < 0 || set_timeouts(fd) != 0) {
		die("accept");
		goto out;
	}
	if (read_head(fd) != 0) {
		die("read request head");
		goto out;
	}
	const char *resp = strcmp(mode, "fin") ? resp_401 : resp_404;
	if (write_all(fd, resp, strlen(resp)) != 0) {
		die("write response");
		goto out;
	}
	long drained = 0;
	if (!strcmp(mode, "linger")) {
		if (shutdown(fd, SHUT_WR) != 0) {
			die("shutdown");
			goto out;
		}
		char buf[CHUNK];
		ssize_t r;
		while ((r = recv(fd, buf, sizeof buf, 0)) > 0 || (r < 0 && errno == EINTR))
			drained += r > 0 ? r : 0;
	}
	/* close mode: the body is still arriving and unread, so this close()
	 * makes the kernel send RST instead of FIN */
	if (close(fd) != 0) {
		fd = -1;
		die("close");
		goto out;
	}
	fd = -1;
	printf("served %s, drained %ld bytes\n", mode, drained);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ls >= 0)
		close(ls);
	return rc;
}

static int connect_to(const char *port_s)
{
	char *end;
	long port = strtol(port_s, &end, 10);
	if (*end || port < 1 || port > 65535) {
		fprintf(stderr, "tiny_server: bad port '%s'\n", port_s);
		return -1;
	}
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return die("socket"), -1;
	if (set_timeouts(fd) != 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		die("connect");
		close(fd);
		return -1;
	}
	return fd;
}

/* Read to EOF or error; returns bytes read, *reset set on ECONNRESET. */
static long read_all(int fd, int *reset)
{
	char buf[CHUNK];
	long got = 0;
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof buf, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == ECONNRESET)
			*reset = 1;
		if (r <= 0)
			return got;
		got += r;
	}
}

/*
 * PUT /protected/... with a 256 KiB body. The head and the first 1000 body
 * bytes go in one send(); then the client pauses 100 ms without sending,
 * with delayed ACKs on (TCP_QUICKACK off), so the server's answer and
 * whatever follows it (RST, or FIN) is not acknowledged for at least the
 * 40 ms delayed-ACK timer; then the rest of the body, then it reads the
 * response to EOF and closes.
 */
static int client_put(int fd)
{
	static char body[BODY_BYTES];
	char head[256];
	memset(body, 'b', sizeof body);
	int hl = snprintf(head, sizeof head,
	                  "PUT /protected/upload.bin HTTP/1.1\r\nHost: lab\r\n"
	                  "Content-Length: %d\r\n\r\n", BODY_BYTES);
	char first[sizeof head + FIRST_CHUNK];
	memcpy(first, head, (size_t)hl);
	memcpy(first + hl, body, FIRST_CHUNK);
	/* before the send too: on loopback the answer can arrive before a
	 * setsockopt made after send() runs */
	int off = 0;
	if (setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &off, sizeof off) != 0)
		return die("TCP_QUICKACK");
	if (write_all(fd, first, (size_t)hl + FIRST_CHUNK) != 0)
		return die("send head");
	if (setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &off, sizeof off) != 0)
		return die("TCP_QUICKACK");
	sleep_ms(100);
	size_t sent = FIRST_CHUNK;
	int send_err = 0;
	while (sent < sizeof body) {
		size_t n = sizeof body - sent < CHUNK ? sizeof body - sent : CHUNK;
		if (write_all(fd, body + sent, n) != 0) {
			send_err = errno;
			break;
		}
		sent += n;
	}
	int reset = send_err == ECONNRESET;
	long got = read_all(fd, &reset);
	close(fd);
	printf("sent %zu body bytes, received %ld bytes, reset %s\n", sent, got,
	       reset ? "yes" : "no");
	return 0;
}

/* GET, read the response to EOF (the server's FIN), stay open hold_ms
 * without closing (the server socket waits in FIN_WAIT_2), then close. */
static int client_get(int fd, const char *hold_s)
{
	char *end;
	long hold = strtol(hold_s, &end, 10);
	if (*end || hold < 0 || hold > 10000) {
		fprintf(stderr, "tiny_server: bad hold '%s'\n", hold_s);
		close(fd);
		return 2;
	}
	static const char req[] = "GET /not_here.html HTTP/1.1\r\nHost: lab\r\n\r\n";
	if (write_all(fd, req, sizeof req - 1) != 0) {
		close(fd);
		return die("send request");
	}
	int reset = 0;
	long got = read_all(fd, &reset);
	sleep_ms(hold);
	close(fd);
	printf("received %ld bytes, reset %s, held %ld ms\n", got, reset ? "yes" : "no", hold);
	return 0;
}

int main(int argc, char **argv)
{
	alarm(LIFETIME_S); /* nothing here may outlive a test */
	if (argc == 3 && !strcmp(argv[1], "server"))
		return serve(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "client")) {
		if (!strcmp(argv[3], "put") && argc == 4) {
			int fd = connect_to(argv[2]);
			return fd < 0 ? 1 : client_put(fd);
		}
		if (!strcmp(argv[3], "get") && argc == 5) {
			int fd = connect_to(argv[2]);
			return fd < 0 ? 1 : client_get(fd, argv[4]);
		}
	}
	fprintf(stderr, "usage: tiny_server server close|linger|fin\n"
	                "       tiny_server client PORT put\n"
	                "       tiny_server client PORT get HOLD_MS\n");
	return 2;
}
