/*
 * target.c - lingerlab-target, the reference HTTP/1.1 server the lab runs
 * as its default target: command line, limits and signals. The serving
 * itself is server.c; request parsing and pages are http.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lab/target/server.h"

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: lingerlab-target [OPTIONS]\n"
	        "\n"
	        "The reference HTTP/1.1 server of lingerlab. GET / and /index.html: 200;\n"
	        "GET /large.bin: 200 with a large body; other GETs: 404; PUT/POST under\n"
	        "/protected/: 401 at once, without reading the body. Keep-alive and\n"
	        "pipelining; 'Connection: close' honoured.\n"
	        "\n"
	        "options:\n"
	        "  --listen ADDR:PORT         where to listen (default 0.0.0.0:80; [::]:PORT for IPv6)\n"
	        "  --policy POLICY            how a connection is ended (default linger):\n"
	        "                               close   plain close(); unread data makes a RST\n"
	        "                               linger  shutdown(SHUT_WR), read until EOF or timeout, close\n"
	        "                               abort   SO_LINGER 0, then close(): RST at once\n"
	        "                               never   never close, not even on timeouts; wait for\n"
	        "                                       the client to close\n"
	        "  --linger-timeout DUR       longest lingering close in total (default 30s)\n"
	        "  --linger-read-timeout DUR  longest wait for one read while lingering (default 2s)\n"
	        "  --close-on-error           end the connection after a 4xx/5xx response (default)\n"
	        "  --keep-alive-on-error      keep it open after an error when the request allows\n"
	        "  --keepalive-timeout DUR    idle time between requests before ending (default 15s, 0 none)\n"
	        "  --timeout DUR              partial request or client not reading (default 30s, 0 none)\n"
	        "  --index-size BYTES         body size of / (default: the page as it is)\n"
	        "  --large-size BYTES         body size of /large.bin (default 1048576)\n"
	        "  --max-head BYTES           longest request head; longer gets 431 (default 8192)\n"
	        "  --backlog N                listen backlog (default 4096)\n"
	        "  --max-conns N              most connections at once (default: open-file limit - 16)\n"
	        "  --ready-fd N               write \"listening ADDR:PORT\\n\" ([ADDR]:PORT for IPv6)\n"
	        "                             to fd N, then close it\n"
	        "  --tls                      serve over TLS (1.2 and 1.3); a self-signed certificate\n"
	        "                             is made at start-up unless --cert and --key are given\n"
	        "  --cert FILE, --key FILE    the certificate chain and key (PEM) for --tls\n"
	        "  --tls-close-notify WHEN    send (default) or never: a close_notify before the\n"
	        "                             server closes (not with --policy abort)\n"
	        "  -v, --verbose              log each connection's events to stderr\n"
	        "  -h, --help                 this text\n"
	        "  -V, --version              print the version\n"
	        "\n"
	        "DUR is seconds (\"2\", \"0.5\") or with a unit (\"250ms\", \"2s\").\n"
	        "SIGTERM or SIGINT stops the server: it closes everything and exits 0.\n");
}

/* Seconds from "2", "0.5", "250ms", "2s". */
static int parse_duration(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !isfinite(v) || v < 0)
		return -1;
	if (!strcmp(end, "ms"))
		v /= 1000.0;
	else if (*end && strcmp(end, "s") != 0)
		return -1;
	if (v > 1e6)
		return -1;
	*out = v;
	return 0;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "ADDR:PORT", "[V6]:PORT", ":PORT" or "PORT". */
static int parse_listen(const char *s, struct target_cfg *cfg)
{
	char host[64];
	const char *colon, *h = s;
	size_t hl;
	uint64_t port;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		hl = colon ? (size_t)(colon - s) : 0;
	}
	if (parse_u64(colon ? colon + 1 : s, 65535, &port) != 0 || port == 0 || hl >= sizeof host)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (hl == 0)
		snprintf(host, sizeof host, "0.0.0.0");
	memset(&cfg->addr, 0, sizeof cfg->addr);
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&cfg->addr;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -1;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		cfg->addrlen = sizeof *a6;
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&cfg->addr;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -1;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		cfg->addrlen = sizeof *a4;
	}
	snprintf(cfg->host, sizeof cfg->host, "%s", host);
	cfg->port = (unsigned)port;
	return 0;
}

static int bad_value(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "lingerlab-target: %s: expected %s, found '%s'\n", opt, want, val ? val : "");
	return 2;
}

int main(int argc, char **argv)
{
	struct target_cfg cfg;
	struct rlimit rl;
	struct sigaction sa;
	sigset_t block, wait_mask;
	char err[256];
	int max_conns_set = 0;

	memset(&cfg, 0, sizeof cfg);
	(void)parse_listen("0.0.0.0:80", &cfg);
	cfg.policy = POLICY_LINGER;
	cfg.linger_timeout = 30;
	cfg.linger_read_timeout = 2;
	cfg.keepalive_timeout = 15;
	cfg.timeout = 30;
	cfg.close_on_error = true;
	cfg.large_size = 1048576;
	cfg.max_head = 8192;
	cfg.backlog = 4096;
	cfg.ready_fd = -1;
	cfg.tls_close_notify = true;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t u;

		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(o, "-V") || !strcmp(o, "--version")) {
			printf("lingerlab-target %s\n", LL_VERSION);
			return 0;
		} else if (!strcmp(o, "-v") || !strcmp(o, "--verbose")) {
			cfg.verbose = true;
			continue;
		} else if (!strcmp(o, "--close-on-error")) {
			cfg.close_on_error = true;
			continue;
		} else if (!strcmp(o, "--keep-alive-on-error")) {
			cfg.close_on_error = false;
			continue;
		} else if (!strcmp(o, "--tls")) {
			cfg.tls = true;
			continue;
		}
		/* Every other option takes a value. */
		if (strncmp(o, "--", 2) != 0) {
			fprintf(stderr, "lingerlab-target: unexpected argument '%s' (try --help)\n", o);
			return 2;
		}
		if (!v) {
			fprintf(stderr, "lingerlab-target: %s needs a value (try --help)\n", o);
			return 2;
		}
		i++;
		if (!strcmp(o, "--listen")) {
			if (parse_listen(v, &cfg) != 0)
				return bad_value(o, v, "ADDR:PORT");
		} else if (!strcmp(o, "--policy")) {
			if (!strcmp(v, "close"))
				cfg.policy = POLICY_CLOSE;
			else if (!strcmp(v, "linger"))
				cfg.policy = POLICY_LINGER;
			else if (!strcmp(v, "abort"))
				cfg.policy = POLICY_ABORT;
			else if (!strcmp(v, "never"))
				cfg.policy = POLICY_NEVER;
			else
				return bad_value(o, v, "close, linger, abort or never");
		} else if (!strcmp(o, "--linger-timeout")) {
			if (parse_duration(v, &cfg.linger_timeout) != 0)
				return bad_value(o, v, "a duration");
		} else if (!strcmp(o, "--linger-read-timeout")) {
			if (parse_duration(v, &cfg.linger_read_timeout) != 0)
				return bad_value(o, v, "a duration");
		} else if (!strcmp(o, "--keepalive-timeout")) {
			if (parse_duration(v, &cfg.keepalive_timeout) != 0)
				return bad_value(o, v, "a duration");
		} else if (!strcmp(o, "--timeout")) {
			if (parse_duration(v, &cfg.timeout) != 0)
				return bad_value(o, v, "a duration");
		} else if (!strcmp(o, "--index-size")) {
			if (parse_u64(v, (uint64_t)1 << 40, &cfg.index_size) != 0)
				return bad_value(o, v, "a byte count");
		} else if (!strcmp(o, "--large-size")) {
			if (parse_u64(v, (uint64_t)1 << 40, &cfg.large_size) != 0)
				return bad_value(o, v, "a byte count");
		} else if (!strcmp(o, "--max-head")) {
			if (parse_u64(v, 1 << 20, &u) != 0 || u < 64)
				return bad_value(o, v, "a byte count from 64 to 1048576");
			cfg.max_head = (size_t)u;
		} else if (!strcmp(o, "--backlog")) {
			if (parse_u64(v, 1 << 20, &u) != 0 || u == 0)
				return bad_value(o, v, "a positive number");
			cfg.backlog = (int)u;
		} else if (!strcmp(o, "--max-conns")) {
			if (parse_u64(v, 1 << 22, &u) != 0 || u == 0)
				return bad_value(o, v, "a positive number");
			cfg.max_conns = (int)u;
			max_conns_set = 1;
		} else if (!strcmp(o, "--cert")) {
			cfg.tls_cert = v;
		} else if (!strcmp(o, "--key")) {
			cfg.tls_key = v;
		} else if (!strcmp(o, "--tls-close-notify")) {
			if (!strcmp(v, "send"))
				cfg.tls_close_notify = true;
			else if (!strcmp(v, "never"))
				cfg.tls_close_notify = false;
			else
				return bad_value(o, v, "send or never");
		} else if (!strcmp(o, "--ready-fd")) {
			if (parse_u64(v, INT_MAX, &u) != 0)
				return bad_value(o, v, "a file descriptor number");
			cfg.ready_fd = (int)u;
		} else {
			fprintf(stderr, "lingerlab-target: unknown option '%s' (try --help)\n", o);
			return 2;
		}
	}
	if ((cfg.tls_cert || cfg.tls_key) && !cfg.tls) {
		fprintf(stderr, "lingerlab-target: --cert and --key need --tls\n");
		return 2;
	}
	if (cfg.linger_read_timeout <= 0 || cfg.linger_timeout <= 0) {
		fprintf(stderr, "lingerlab-target: linger timeouts must be greater than 0\n");
		return 2;
	}

	/* Thousands of idle clients (the FIN_WAIT_2 scenario): take every
	 * file descriptor the hard limit allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0)
			fprintf(stderr, "lingerlab-target: cannot raise the open-file limit: %s\n", strerror(errno));
	}
	if (!max_conns_set) {
		rlim_t lim = rl.rlim_cur == RLIM_INFINITY ? (1 << 20) : rl.rlim_cur;

		cfg.max_conns = lim > 32 ? (int)(lim > (1 << 22) ? (1 << 22) : lim) - 16 : 16;
	}

	/* Signals: blocked except inside ppoll(), so a stop request that
	 * arrives between two waits is seen by the next one. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
		fprintf(stderr, "lingerlab-target: sigaction: %s\n", strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	if (sigprocmask(SIG_BLOCK, &block, &wait_mask) != 0) {
		fprintf(stderr, "lingerlab-target: sigprocmask: %s\n", strerror(errno));
		return 1;
	}
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGINT);

	if (server_run(&cfg, &stop_flag, &wait_mask, err, sizeof err) != 0) {
		fprintf(stderr, "lingerlab-target: %s\n", err);
		return 1;
	}
	return 0;
}
