/*
 * cmd_lab.c - `lingerlab lab`: housekeeping for the namespace lab.
 *
 *   lingerlab lab clean      remove what killed runs left behind
 *   lingerlab lab up [...]   build a lab (optionally with a target in it),
 *                            print its names and addresses, hold it until
 *                            SIGINT/SIGTERM, then remove it: for poking at
 *                            a lab by hand and for the lab's own tests
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/launch.h"
#include "lab/netns.h"
#include "lab/nftfilter.h"
#include "reports/cli.h"
#include "reports/textout.h"

static volatile sig_atomic_t lab_stop;

static void on_signal(int sig)
{
	(void)sig;
	lab_stop = 1;
}

static void usage_lab(FILE *f)
{
	fprintf(f,
	        "usage: lingerlab lab clean\n"
	        "       lingerlab lab up [--builtin POLICY [--target-arg ARG]... | --serve COMMAND]\n"
	        "                        [--port N] [--ready-timeout SECONDS] [-6]\n"
	        "\n"
	        "clean  removes network namespaces, veth links and the processes inside\n"
	        "       them that lingerlab runs left behind when they were killed. Their\n"
	        "       names carry the run's process id (ll<pid>s, ll<pid>c, ll<pid>vs...);\n"
	        "       names of processes still alive are left alone. Also the nftables\n"
	        "       tables (ip ll<pid>rst) of killed `run --target --filter-kernel-rst`\n"
	        "       runs, and the client ports they reserved.\n"
	        "up     builds a lab, starts a target in its server namespace if asked,\n"
	        "       prints the lab's names and addresses as key=value lines ending\n"
	        "       with \"ready\", and holds it until SIGINT or SIGTERM; then stops\n"
	        "       the target and removes the lab.\n"
	        "\n"
	        "  --builtin POLICY   start lingerlab-target with close policy POLICY\n"
	        "                     (close, linger, abort, never)\n"
	        "  --target-arg ARG   pass ARG on to lingerlab-target (repeatable)\n"
	        "  --serve COMMAND    start COMMAND (run by /bin/sh -c) in the server namespace\n"
	        "  --port N           the port the target listens on (default 80)\n"
	        "  --ready-timeout S  how long to wait for it to listen (default 10)\n"
	        "  -6, --ipv6         also give the lab IPv6 (fd6c:6c6c:XXYY::/64); the target\n"
	        "                     listens on IPv6; prints server_addr6, client_addr6, raw_addr6\n"
	        "\n"
	        "Needs root. Exit codes: 0 done, 1 something could not be removed or the\n"
	        "target died, 2 bad usage, 3 environment problem (not root, no netns, no ip).\n");
}

static int lab_clean(int argc, char **argv)
{
	char report[8192], err[512];
	int removed = 0, rc;

	if (argc > 1) {
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			usage_lab(stdout);
			return LL_EXIT_OK;
		}
		tout_fprintf(stderr, "lingerlab lab clean: unexpected argument '%s'\n", argv[1]);
		return LL_EXIT_USAGE;
	}
	rc = labnet_clean_stale(report, sizeof report, &removed, err, sizeof err);
	fputs(report, stdout);
	if (rc == LABNET_ENV) {
		tout_fprintf(stderr, "lingerlab lab clean: %s\n", err);
		return LL_EXIT_ENV;
	}
	{
		char nreport[2048] = "", nerr[512];
		int nremoved = 0;

		if (nftfilter_clean_stale(nreport, sizeof nreport, &nremoved, nerr, sizeof nerr) < 0 &&
		    rc == LABNET_OK) {
			snprintf(err, sizeof err, "%s", nerr);
			rc = LABNET_ERR;
		}
		fputs(nreport, stdout);
		removed += nremoved;
	}
	if (rc != LABNET_OK) {
		tout_fprintf(stderr, "lingerlab lab clean: %s\n", err);
		return LL_EXIT_FAIL;
	}
	if (removed == 0)
		printf("nothing to clean\n");
	return LL_EXIT_OK;
}

static void print_mac(const char *key, const uint8_t m[6])
{
	printf("%s=%02x:%02x:%02x:%02x:%02x:%02x\n", key, m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int parse_port(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v == 0 || v > 65535)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int lab_up(int argc, char **argv)
{
	struct labnet ln;
	struct labnet_opts lo = { 0 };
	struct launch_spec spec;
	struct launch *target = NULL;
	struct sigaction sa;
	sigset_t block, wait_mask;
	char *targs[65];
	int ntargs = 0;
	const char *policy = NULL, *serve = NULL;
	unsigned port = 80;
	double ready_timeout = 0;
	char err[1024], a[INET_ADDRSTRLEN];
	int rc, exit_code = LL_EXIT_OK;

	memset(&ln, 0, sizeof ln);
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			usage_lab(stdout);
			return LL_EXIT_OK;
		}
		if (!strcmp(o, "--hold"))   /* holding is what `up` does; accepted for clarity */
			continue;
		if (!strcmp(o, "-6") || !strcmp(o, "--ipv6")) {
			lo.ipv6 = true;
			continue;
		}
		if (!v) {
			tout_fprintf(stderr, "lingerlab lab up: %s needs a value (try --help)\n", o);
			return LL_EXIT_USAGE;
		}
		i++;
		if (!strcmp(o, "--builtin")) {
			policy = v;
		} else if (!strcmp(o, "--serve")) {
			serve = v;
		} else if (!strcmp(o, "--target-arg")) {
			if (ntargs >= 64) {
				tout_fprintf(stderr, "lingerlab lab up: too many --target-arg\n");
				return LL_EXIT_USAGE;
			}
			targs[ntargs++] = (char *)v;
		} else if (!strcmp(o, "--port")) {
			if (parse_port(v, &port) != 0) {
				tout_fprintf(stderr, "lingerlab lab up: --port: expected a port number, found '%s'\n", v);
				return LL_EXIT_USAGE;
			}
		} else if (!strcmp(o, "--ready-timeout")) {
			char *end;

			errno = 0;
			ready_timeout = strtod(v, &end);
			if (*end || errno || !(ready_timeout > 0 && ready_timeout < 3600)) {
				tout_fprintf(stderr, "lingerlab lab up: --ready-timeout: expected seconds, found '%s'\n", v);
				return LL_EXIT_USAGE;
			}
		} else {
			tout_fprintf(stderr, "lingerlab lab up: unknown option '%s' (try --help)\n", o);
			return LL_EXIT_USAGE;
		}
	}
	targs[ntargs] = NULL;
	if (policy && serve) {
		tout_fprintf(stderr, "lingerlab lab up: --builtin and --serve exclude each other\n");
		return LL_EXIT_USAGE;
	}

	/* Signals first, so a SIGTERM during set-up still ends in teardown:
	 * the handler only sets a flag; the loop below does the work. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGHUP, &sa, NULL) != 0 || sigprocmask(SIG_BLOCK, &block, &wait_mask) != 0) {
		tout_fprintf(stderr, "lingerlab lab up: signals: %s\n", strerror(errno));
		return LL_EXIT_ENV;
	}
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGHUP);

	rc = labnet_setup(&ln, &lo, err, sizeof err);
	if (rc != LABNET_OK) {
		tout_fprintf(stderr, "lingerlab lab up: %s\n", err);
		exit_code = rc == LABNET_ENV ? LL_EXIT_ENV : LL_EXIT_FAIL;
		goto out;
	}
	if ((policy || serve) && !lab_stop) {
		memset(&spec, 0, sizeof spec);
		spec.kind = policy ? LAUNCH_BUILTIN : LAUNCH_COMMAND;
		spec.policy = policy;
		spec.extra_args = ntargs ? targs : NULL;
		spec.command = serve;
		spec.port = (uint16_t)port;
		spec.ready_timeout = ready_timeout;
		rc = launch_start(&ln, &spec, &target, err, sizeof err);
		if (rc != LABNET_OK) {
			tout_fprintf(stderr, "lingerlab lab up: %s\n", err);
			exit_code = rc == LABNET_ENV ? LL_EXIT_ENV : LL_EXIT_FAIL;
			goto out;
		}
	}
	printf("server_ns=%s\nclient_ns=%s\nserver_if=%s\nclient_if=%s\n",
	       ln.server_ns, ln.client_ns, ln.server_if, ln.client_if);
	printf("server_addr=%s\n", labnet_addr_str(ln.server_addr, a, sizeof a));
	printf("client_addr=%s\n", labnet_addr_str(ln.client_addr, a, sizeof a));
	printf("raw_addr=%s\n", labnet_addr_str(ln.raw_addr, a, sizeof a));
	if (ln.family == 6) {
		char a6[LLADDR_STRLEN];
		printf("server_addr6=%s\n", lladdr_str(&ln.server_ip, a6, sizeof a6));
		printf("client_addr6=%s\n", lladdr_str(&ln.client_ip, a6, sizeof a6));
		printf("raw_addr6=%s\n", lladdr_str(&ln.raw_ip, a6, sizeof a6));
	}
	print_mac("server_mac", ln.server_mac);
	print_mac("client_mac", ln.client_mac);
	if (target) {
		tout_fprintf(stdout, "port=%u\ntarget_pid=%d\ntarget_command=%s\ntarget_log=%s\n", port,
		       (int)launch_pid(target), launch_command(target), launch_log_path(target));
	}
	printf("ready\n");
	fflush(stdout);

	while (!lab_stop) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		int st;

		if (ppoll(NULL, 0, &ts, &wait_mask) < 0 && errno != EINTR) {
			tout_fprintf(stderr, "lingerlab lab up: ppoll: %s\n", strerror(errno));
			exit_code = LL_EXIT_FAIL;
			break;
		}
		if (target && launch_poll(target, &st, NULL, 0) == 1) {
			char tail[400];

			launch_log_tail(target, tail, sizeof tail);
			tout_fprintf(stderr, "lingerlab lab up: the target %s %d%s%s\n",
			        WIFEXITED(st) ? "exited with status" : "was killed by signal",
			        WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
			        tail[0] ? "; its output ends:\n" : "", tail);
			exit_code = LL_EXIT_FAIL;
			break;
		}
	}
out:
	if (target) {
		if (launch_stop(target, NULL, err, sizeof err) != LABNET_OK) {
			tout_fprintf(stderr, "lingerlab lab up: %s\n", err);
			exit_code = LL_EXIT_FAIL;
		}
		launch_free(target);
		target = NULL;
	}
	if (labnet_teardown(&ln, err, sizeof err) != LABNET_OK) {
		tout_fprintf(stderr, "lingerlab lab up: teardown: %s\n", err);
		exit_code = LL_EXIT_FAIL;
	}
	return exit_code;
}

int cmd_lab(int argc, char **argv)
{
	if (argc < 2) {
		usage_lab(stderr);
		return LL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage_lab(stdout);
		return LL_EXIT_OK;
	}
	if (!strcmp(argv[1], "clean"))
		return lab_clean(argc - 1, argv + 1);
	if (!strcmp(argv[1], "up"))
		return lab_up(argc - 1, argv + 1);
	tout_fprintf(stderr, "lingerlab lab: unknown subcommand '%s' (try lingerlab lab --help)\n", argv[1]);
	return LL_EXIT_USAGE;
}
