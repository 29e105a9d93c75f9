/*
 * cmd_audit.c - `lingerlab audit TARGET [-o DIR]`: every shipped scenario
 * against one target in one lab run; DIR/report.json, DIR/report.html,
 * DIR/capture.pcap, and a table a person reads in ten seconds: scenario x
 * (rst_before_ack, bytes at risk, client (the worst client_impact of the
 * server's RSTs), lingered, fin_wait_2 peak, expectations) and a one-line
 * verdict.
 *
 * TARGET is as in `lingerlab run` (--builtin POLICY | --serve 'CMD' --port
 * N | --target HOST:PORT), and so are the other options that make sense
 * for a whole audit (--rtt, --target-arg, --target-log, --junit, --tap,
 * --check, -q), with the same one-line answer to a mistyped one. The
 * scenarios are found as reports/scndirs.h says.
 *
 * --baseline BASE.json: audit, then compare with BASE as `diff` does
 * (diffrep.h) in the same step, write DIR/diff.json and DIR/diff.txt, and
 * let the comparison decide: exit 1 on a regression, 0 without one (an
 * expectation that already failed in BASE is no regression; one that held
 * and fails now is). Exit 4 (the lab cannot vouch for the result) wins
 * over both; the report's verdict.exit_code is always the exit status.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/cli.h"
#include "reports/labcli.h"
#include "reports/auditout.h"
#include "reports/reportfile.h"
#include "reports/scndirs.h"
#include "reports/tap.h"

#define PROG "lingerlab audit"
#define MAX_TOLS 64
#define MAX_TARGET_ARGS 32

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: lingerlab audit TARGET [-o DIR] [--scenarios DIR]... [--baseline BASE.json]\n"
	        "                       [--junit FILE] [--tap] [-q] [OPTIONS]\n"
	        "  TARGET: --builtin POLICY [--target-arg ARG]... | --serve COMMAND --port N\n"
	        "          | --target HOST:PORT\n"
	        "\n"
	        "Run every scenario against TARGET in one lab run, write DIR/report.json,\n"
	        "DIR/report.html and DIR/capture.pcap, and print one row per scenario:\n"
	        "rst_before_ack, bytes at risk, client (the worst client_impact: what\n"
	        "the client's TCP lived through), lingered, fin_wait_2 peak, expectations,\n"
	        "and under it each expectation that failed.\n"
	        "\n"
	        "  --builtin POLICY     the reference target with close policy POLICY\n"
	        "                       (close, linger, abort, never)\n"
	        "  --target-arg ARG     pass ARG on to lingerlab-target (repeatable)\n"
	        "  --serve COMMAND      any server command, run by /bin/sh -c in the lab\n"
	        "  --port N             the port the target listens on (--serve: required;\n"
	        "                       --builtin: default 80)\n"
	        "  --target ADDR:PORT   a server on this host's loopback or another host;\n"
	        "                       needs --filter-kernel-rst\n"
	        "  --serve-user USER    run the --serve command as USER, not root\n"
	        "  --filter-kernel-rst  --target: drop this host kernel's RSTs to the target\n"
	        "                       (as for `lingerlab run`)\n"
	        "  --allow-kernel-rst   --target without the filter: the kernel's RSTs leak\n"
	        "                       (exit 4: the negative control of the leak check)\n"
	        "  -6, --ipv6           the lab speaks IPv6 (--builtin, --serve; the target\n"
	        "                       must listen on IPv6, e.g. [::]:PORT)\n"
	        "  --rtt DURATION       emulated RTT for scripts without `rtt` (default 0)\n"
	        "  --tls                every scenario over TLS, as for `lingerlab run` (with\n"
	        "                       --builtin the target serves TLS, port 443 unless --port)\n"
	        "  --tls-version 1.2|1.3   pin the version for --tls\n"
	        "  --sni NAME           the server name TLS sends\n"
	        "  --tls-keylog FILE    the session keys (NSS key log; default DIR/capture.keys)\n"
	        "  --target-log FILE    keep the target's output in FILE\n"
	        "  -o, --output DIR     where to write the files (default lingerlab-audit;\n"
	        "                       created if missing)\n"
	        "  --scenarios DIR      the scenario scripts (*.scn) to run; repeatable (a\n"
	        "                       file name an earlier DIR has is left out). Default:\n"
	        "                       $LINGERLAB_SCENARIOS (DIR:DIR...), else\n"
	        "                       share/lingerlab/scenarios beside the binary, else\n"
	        "                       ../scenarios beside it (a build tree), else ./scenarios\n"
	        "  --baseline BASE.json compare with an earlier audit as `lingerlab diff` does:\n"
	        "                       DIR/diff.json and DIR/diff.txt; exit 1 on a\n"
	        "                       regression, 0 without (failures BASE had too pass)\n"
	        "  -t, --tolerance KEY=VALUE   the comparison's tolerances, as in `diff`\n"
	        "  --junit FILE         also write the results as JUnit XML (CI systems: one\n"
	        "                       testcase per scenario, a failure per expectation)\n"
	        "  --tap                the results as TAP version 13 on standard output (the\n"
	        "                       same content; the table goes to standard error)\n"
	        "  --check              only find and parse the scenarios, and list them\n"
	        "  -Z, --user USER      the analysis and the reports run as USER with no\n"
	        "                       capability, in a child process, once the lab is gone\n"
	        "                       and the output files are open (default nobody;\n"
	        "                       \"root\" keeps root)\n"
	        "  -q, --quiet          no table\n"
	        "  --color=WHEN         auto (default), always, never\n"
	        "  -h, --help           show this help\n"
	        "\n"
	        "Needs root (not with --check). Exit status: 0 every expectation holds (with\n"
	        "--baseline: nothing regressed), 1 some failed (with --baseline: a\n"
	        "regression), 2 bad usage, script or baseline, 3 environment problem (not\n"
	        "root, no network namespaces, a capture or report that cannot be written:\n"
	        "full disk), 4 the lab could not vouch for the result (leaked RSTs, packets\n"
	        "the capture dropped, a lab that could not be removed); nothing is created\n"
	        "when the lab cannot be built.\n");
}

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tout_fprintf(stderr, PROG ": ");
	tout_vfprintf(stderr, fmt, ap);
	tout_fprintf(stderr, "\n(" PROG " --help shows the usage)\n");
	va_end(ap);
	return LL_EXIT_USAGE;
}

/* getopt_long's '?' or ':' (opterr 0) as `run` words it: "unknown option
 * '--frob'", "--junit needs a value", "--tap takes no value". */
static int option_error(int opt, char **argv)
{
	const char *a = argv[optind - 1];
	size_t n = strcspn(a, "=");

	if (opt == ':')
		return bad_usage("%.*s needs a value", (int)n, a);
	if (optopt && a[0] == '-' && a[1] == '-' && a[n] == '=')
		return bad_usage("%.*s takes no value", (int)n, a);
	if (optopt && optopt < 256)
		return bad_usage("unknown option '-%c'", optopt);
	return bad_usage("unknown option '%s'", a);
}

/*
 * BASE must be a lab report of the same scenarios (by name) as the ones
 * about to run: said before the lab is built. Returns 0, or -1 with err.
 */
static int baseline_fits(const json_t *base, const char *path, struct scn_scenario *const *scns,
                         size_t n, char *err, size_t errlen)
{
	const json_t *arr = rf_arr(base, "scenarios"), *s;
	size_t i, j;

	if (!rf_is_lab(base)) {
		snprintf(err, errlen, "--baseline %s: an analyze report; give the report.json of an "
		         "earlier audit", path);
		return -1;
	}
	for (i = 0; i < n; i++) {
		json_array_foreach(arr, j, s)
			if (rf_str(s, "name") && !strcmp(rf_str(s, "name"), scns[i]->name))
				break;
		if (j == json_array_size(arr)) {
			snprintf(err, errlen, "--baseline %s: no scenario %s in it (compare audits of "
			         "the same scenarios)", path, scns[i]->name);
			return -1;
		}
	}
	json_array_foreach(arr, j, s) {
		for (i = 0; i < n && (!rf_str(s, "name") || strcmp(rf_str(s, "name"), scns[i]->name)); i++)
			;
		if (i == n) {
			snprintf(err, errlen, "--baseline %s: scenario %s is not among those to run "
			         "(compare audits of the same scenarios)", path,
			         rf_str(s, "name") ? rf_str(s, "name") : "?");
			return -1;
		}
	}
	return 0;
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir -p: every missing component of path, mode 0755. -1 with errno.
 * *made is the length of the first component it created (0: none), so
 * that a failed audit can remove exactly what it made. */
static int mkdir_p(const char *path, size_t *made)
{
	char buf[PATH_MAX];
	size_t n = strlen(path), i;

	if (n == 0 || n >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	*made = 0;
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) == 0) {
			if (!*made)
				*made = i;
		} else if (errno != EEXIST) {
			return -1;
		}
		buf[i] = path[i];
	}
	if (!is_dir(path)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* Undo mkdir_p when it made dir: remove files (an empty or partial
 * capture) from it, then every directory mkdir_p made, deepest first; a
 * directory that is not empty stays. */
static void unmake_dir(const char *dir, size_t made, const char *const files[], size_t nfiles)
{
	char buf[PATH_MAX];
	size_t n = strlen(dir);

	/* a directory that was there before holds nothing of ours to undo */
	if (!made || n >= sizeof buf)
		return;
	for (size_t i = 0; i < nfiles; i++)
		unlink(files[i]);
	memcpy(buf, dir, n + 1);
	while (n >= made) {
		while (n > 1 && buf[n - 1] == '/')  /* "out/" */
			buf[--n] = '\0';
		if (rmdir(buf) < 0)
			return;
		char *slash = strrchr(buf, '/');
		if (!slash)
			return;
		*slash = '\0';
		n = (size_t)(slash - buf);
	}
}

int cmd_audit(int argc, char **argv)
{
	enum { OPT_BUILTIN = 256, OPT_SERVE, OPT_PORT, OPT_TARGET, OPT_TARGET_ARG,
	       OPT_SCENARIOS, OPT_COLOR, OPT_RTT, OPT_JUNIT, OPT_TAP, OPT_TARGET_LOG,
	       OPT_CHECK, OPT_BASELINE, OPT_SERVE_USER, OPT_FILTER_RST, OPT_ALLOW_RST,
	       OPT_TLS, OPT_TLS_VERSION, OPT_SNI, OPT_TLS_KEYLOG };
	const char *user = NULL;   /* -Z: the analysis child's user */
	struct privsep ps;
	static const struct option longopts[] = {
		{ "builtin", required_argument, NULL, OPT_BUILTIN },
		{ "serve", required_argument, NULL, OPT_SERVE },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "target-arg", required_argument, NULL, OPT_TARGET_ARG },
		{ "target-log", required_argument, NULL, OPT_TARGET_LOG },
		{ "scenarios", required_argument, NULL, OPT_SCENARIOS },
		{ "rtt", required_argument, NULL, OPT_RTT },
		{ "junit", required_argument, NULL, OPT_JUNIT },
		{ "tap", no_argument, NULL, OPT_TAP },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "baseline", required_argument, NULL, OPT_BASELINE },
		{ "serve-user", required_argument, NULL, OPT_SERVE_USER },
		{ "filter-kernel-rst", no_argument, NULL, OPT_FILTER_RST },
		{ "allow-kernel-rst", no_argument, NULL, OPT_ALLOW_RST },
		{ "tls", no_argument, NULL, OPT_TLS },
		{ "tls-version", required_argument, NULL, OPT_TLS_VERSION },
		{ "sni", required_argument, NULL, OPT_SNI },
		{ "tls-keylog", required_argument, NULL, OPT_TLS_KEYLOG },
		{ "tolerance", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "color", optional_argument, NULL, OPT_COLOR },
		{ "colour", optional_argument, NULL, OPT_COLOR },
		{ "help", no_argument, NULL, 'h' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "user", required_argument, NULL, 'Z' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_config cfg;
	struct run_outcome *out = NULL;
	struct scn_scenario *scns[SCNDIRS_MAX] = { 0 };
	char *targs[MAX_TARGET_ARGS + 1] = { 0 };
	const char *scdirs[SCNDIRS_MAX];
	struct dr_tol_arg tols[MAX_TOLS];
	size_t ntargs = 0, nscn = 0, nscdirs = 0, ntols = 0, i;
	struct scndirs sd = { 0 };
	const char *dir = "lingerlab-audit", *junit = NULL, *basepath = NULL;
	char err[1024], cap[PATH_MAX], rep[PATH_MAX], html[PATH_MAX], djs[PATH_MAX], dtxt[PATH_MAX];
	char host[256];
	enum tout_color_mode mode = TOUT_AUTO;
	int kinds = 0, opt, rc = LL_EXIT_USAGE;
	bool port_set = false, tap = false, check = false, quiet = false;
	json_t *base = NULL;
	enum run_status st;
	size_t made = 0;           /* mkdir_p: what to remove if no report */
	bool have_dir = false, wrote = false;

	memset(&cfg, 0, sizeof cfg);
	memset(&ps, 0, sizeof ps);
	optind = 1;
	opterr = 0;                /* our own one-line answers */
	while ((opt = getopt_long(argc, argv, ":o:hqt:6Z:", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_BUILTIN:
			cfg.target.kind = RUN_TARGET_BUILTIN;
			cfg.target.policy = optarg;
			kinds++;
			break;
		case OPT_SERVE:
			cfg.target.kind = RUN_TARGET_SERVE;
			cfg.target.command = optarg;
			kinds++;
			break;
		case OPT_TARGET:
			if (labcli_parse_hostport(optarg, host, sizeof host, &cfg.target.port) < 0) {
				tout_fprintf(stderr, PROG ": --target: expected HOST:PORT, found '%s'\n", optarg);
				return LL_EXIT_USAGE;
			}
			cfg.target.kind = RUN_TARGET_REMOTE;
			cfg.target.host = host;
			port_set = true;
			kinds++;
			break;
		case OPT_PORT:
			if (labcli_parse_port(optarg, &cfg.target.port) < 0) {
				tout_fprintf(stderr, PROG ": --port: expected a port number 1-65535, found '%s'\n", optarg);
				return LL_EXIT_USAGE;
			}
			port_set = true;
			break;
		case OPT_TARGET_ARG:
			if (ntargs == MAX_TARGET_ARGS) {
				tout_fprintf(stderr, PROG ": more than %d --target-arg\n", MAX_TARGET_ARGS);
				return LL_EXIT_USAGE;
			}
			targs[ntargs++] = optarg;
			break;
		case OPT_TARGET_LOG:
			cfg.target_log = optarg;
			break;
		case OPT_SCENARIOS:
			if (nscdirs == SCNDIRS_MAX)
				return bad_usage("--scenarios: at most %d directories", SCNDIRS_MAX);
			scdirs[nscdirs++] = optarg;
			break;
		case OPT_RTT:
			if (scn_parse_duration(optarg, &cfg.rtt_us) < 0) {
				tout_fprintf(stderr, PROG ": --rtt: expected a duration (e.g. 250ms, 2s), found '%s'\n", optarg);
				return LL_EXIT_USAGE;
			}
			break;
		case 'o':
			dir = optarg;
			break;
		case OPT_JUNIT:
			junit = optarg;
			break;
		case OPT_TAP:
			tap = true;
			break;
		case OPT_CHECK:
			check = true;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_BASELINE:
			basepath = optarg;
			break;
		case OPT_SERVE_USER:
			cfg.target.user = optarg;
			break;
		case OPT_FILTER_RST:
			cfg.filter_kernel_rst = true;
			break;
		case OPT_ALLOW_RST:
			cfg.allow_kernel_rst = true;
			break;
		case OPT_TLS:
			cfg.tls = true;
			break;
		case OPT_TLS_VERSION:
			if (strcmp(optarg, "1.2") && strcmp(optarg, "1.3"))
				return bad_usage("--tls-version: expected 1.2 or 1.3, found '%s'", optarg);
			cfg.tls_version = !strcmp(optarg, "1.2") ? 12 : 13;
			break;
		case OPT_SNI:
			cfg.tls_sni = optarg;
			break;
		case OPT_TLS_KEYLOG:
			cfg.tls_keylog = optarg;
			break;
		case 't':
			if (ntols == MAX_TOLS)
				return bad_usage("--tolerance: at most %d", MAX_TOLS);
			if (dr_parse_tol(optarg, &tols[ntols], err, sizeof err) < 0)
				return bad_usage("%s", err);
			ntols++;
			break;
		case OPT_COLOR:
			if (tout_parse_color(optarg, &mode, err, sizeof err) < 0) {
				tout_fprintf(stderr, PROG ": %s\n", err);
				return LL_EXIT_USAGE;
			}
			break;
		case '6':
			cfg.ipv6 = true;
			break;
		case 'Z':
			user = optarg;
			break;
		case 'h':
			usage(stdout);
			return LL_EXIT_OK;
		default:
			return option_error(opt, argv);
		}
	}
	if (kinds != 1 && !check) {
		tout_fprintf(stderr, PROG ": %s\n", kinds ? "give one TARGET, not several"
		        : "no TARGET: give --builtin POLICY, --serve COMMAND --port N or --target HOST:PORT");
		return LL_EXIT_USAGE;
	}
	if (optind != argc) {
		tout_fprintf(stderr, PROG ": unexpected argument '%s' (audit runs every scenario of its "
		        "directories; `lingerlab run` takes scenario files)\n", argv[optind]);
		return LL_EXIT_USAGE;
	}
	if (ntols && !basepath)
		return bad_usage("%s", "--tolerance only goes with --baseline");
	/* as `run` answers them */
	if (cfg.target.user && cfg.target.kind != RUN_TARGET_SERVE)
		return bad_usage("%s", "--serve-user only goes with --serve");
	if ((cfg.filter_kernel_rst || cfg.allow_kernel_rst) && cfg.target.kind != RUN_TARGET_REMOTE)
		return bad_usage("%s", "--filter-kernel-rst and --allow-kernel-rst only go with --target");
	if (cfg.filter_kernel_rst && cfg.allow_kernel_rst)
		return bad_usage("%s", "--filter-kernel-rst and --allow-kernel-rst exclude each other");
	cfg.say = labcli_say;
	cfg.say_arg = (void *)PROG;
	if (cfg.tls_version && !cfg.tls)
		return bad_usage("%s", "--tls-version goes with --tls");
	if (cfg.tls && cfg.target.kind == RUN_TARGET_BUILTIN) {
		/* the reference server serves what the client speaks (as run) */
		if (ntargs == MAX_TARGET_ARGS)
			return bad_usage("more than %d --target-arg with --tls", MAX_TARGET_ARGS - 1);
		targs[ntargs++] = "--tls";
		if (!port_set)
			cfg.target.port = 443;
	}
	if (kinds && labcli_check_target(&cfg.target, port_set, ntargs, err, sizeof err) < 0) {
		tout_fprintf(stderr, PROG ": %s\n", err);
		return LL_EXIT_USAGE;
	}
	if (cfg.ipv6 && cfg.target.kind == RUN_TARGET_REMOTE) {
		tout_fprintf(stderr, PROG ": -6 goes with --builtin or --serve (the lab's own addresses); "
		             "a --target's family is that of its address\n");
		return LL_EXIT_USAGE;
	}
	cfg.target.extra_args = ntargs ? targs : NULL;

	/* the scenarios and the baseline, read before anything is built */
	if (scndirs_find(&sd, scdirs, nscdirs, err, sizeof err) < 0) {
		tout_fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	for (i = 0; i < sd.n; i++) {
		if (!(scns[i] = scn_load(sd.files[i], err, sizeof err))) {
			tout_fprintf(stderr, PROG ": %s\n", err);
			goto out;
		}
		nscn++;
		/* diff pairs scenarios by name: two of one name cannot be compared */
		for (size_t j = 0; j < i; j++)
			if (!strcmp(scns[j]->name, scns[i]->name)) {
				tout_fprintf(stderr, PROG ": scenario %s is in %s and in %s: names must be "
				             "unique\n", scns[i]->name, sd.files[j], sd.files[i]);
				goto out;
			}
	}
	/* -6 and --tls are the raw client's: kernel clients and programs
	 * speak plain TCP over IPv4; they are left out of such an audit. A
	 * --target's host is not the lab's: a scenario that sets its
	 * tcp_fin_timeout is left out too (run refuses it outright) */
	if (cfg.ipv6 || cfg.tls || cfg.target.kind == RUN_TARGET_REMOTE) {
		size_t kept = 0;
		for (i = 0; i < nscn; i++) {
			const char *why = NULL;
			char whyb[160];
			if ((cfg.ipv6 || cfg.tls) && scns[i]->client != SCN_CLIENT_RAW) {
				snprintf(whyb, sizeof whyb, "`client %s` speaks plain TCP over IPv4 (-6 and "
				         "--tls are the raw client's)", scn_client_name(scns[i]->client));
				why = whyb;
			} else if (cfg.target.kind == RUN_TARGET_REMOTE && scns[i]->tcp_fin_timeout) {
				why = "it sets tcp_fin_timeout, a sysctl of the server's host, which --target "
				      "never changes (run the server in the lab with --serve)";
			} else if (cfg.target.kind == RUN_TARGET_REMOTE &&
			           scns[i]->client == SCN_CLIENT_KERNEL) {
				why = "`client kernel` lives in the lab's client namespace, which --target "
				      "has none of (run the server in the lab with --serve)";
			}
			if (why) {
				tout_fprintf(stderr, PROG ": %s: left out: %s\n", sd.files[i], why);
				scn_free(scns[i]);
				scns[i] = NULL;
				continue;
			}
			scns[kept] = scns[i];
			char *f = sd.files[kept];  /* swapped: scndirs_free frees each once */
			sd.files[kept] = sd.files[i];
			sd.files[i] = f;
			kept++;
		}
		for (i = kept; i < nscn; i++)
			scns[i] = NULL;
		nscn = kept;
	}
	if (!check && privsep_init(&ps, PROG, user, err, sizeof err) < 0) {
		bad_usage("%s", err);
		rc = LL_EXIT_USAGE;
		goto out;
	}
	if (basepath) {
		if (!(base = rf_load(basepath, err, sizeof err))) {
			tout_fprintf(stderr, PROG ": --baseline %s\n", err);
			goto out;
		}
		if (baseline_fits(base, basepath, scns, nscn, err, sizeof err) < 0) {
			tout_fprintf(stderr, PROG ": %s\n", err);
			goto out;
		}
	}
	if (check) {
		if (!quiet) {
			tout_fprintf(stdout, "scenarios from %s:\n", sd.from);
			for (i = 0; i < nscn; i++)
				tout_fprintf(stdout, "%s: scenario %s: %u connection%s, %zu expectation%s\n",
				             sd.files[i], scns[i]->name, scns[i]->total_connections,
				             scns[i]->total_connections == 1 ? "" : "s", scns[i]->n_expects,
				             scns[i]->n_expects == 1 ? "" : "s");
		}
		rc = LL_EXIT_OK;
		goto out;
	}

	snprintf(cap, sizeof cap, "%s/capture.pcap", dir);
	snprintf(rep, sizeof rep, "%s/report.json", dir);
	snprintf(html, sizeof html, "%s/report.html", dir);
	snprintf(djs, sizeof djs, "%s/diff.json", dir);
	snprintf(dtxt, sizeof dtxt, "%s/diff.txt", dir);
	cfg.capture_path = cap;
	/* not root, no namespaces, a remote target: say so before creating
	 * anything (an empty DIR left behind would look like an audit) */
	st = run_preflight(&cfg, scns, nscn, err, sizeof err);
	if (st != RUN_OK) {
		tout_fprintf(stderr, PROG ": %s\n", err);
		if (tap)
			tap_bail_out(stdout, err);
		rc = labcli_exit_code(st);
		goto out;
	}
	if (mkdir_p(dir, &made) < 0) {
		tout_fprintf(stderr, PROG ": %s: %s\n", dir, strerror(errno));
		goto out;
	}
	have_dir = true;
	if (labcli_install_signals(&cfg.stop, err, sizeof err) < 0) {
		tout_fprintf(stderr, PROG ": %s\n", err);
		rc = LL_EXIT_ENV;
		goto out;
	}

	if (!quiet)
		tout_fprintf(stderr, PROG ": running %zu scenarios from %s ...\n", nscn, sd.from);
	st = run_play(&cfg, scns, nscn, &out, err, sizeof err);
	if (st != RUN_OK) {
		if (st == RUN_INTERRUPTED)
			tout_fprintf(stderr, PROG ": interrupted; the lab and the target are gone\n");
		else
			tout_fprintf(stderr, PROG ": %s\n", err);
		if (tap)
			tap_bail_out(stdout, st == RUN_INTERRUPTED ? "interrupted" : err);
		rc = labcli_exit_code(st);
		goto out;
	}

	/* the lab is gone: open the output files while root may, then analyze
	 * and write in a child without privileges (reports/privsep.h) */
	struct audit_out w = { .cap = cap, .rep = rep, .html = html, .djs = djs, .dtxt = dtxt,
	                       .junit = junit, .basepath = basepath, .base = base, .tols = tols,
	                       .ntols = ntols, .tap = tap, .quiet = quiet, .mode = mode,
	                       .open_err = "" };
	if ((base && (privsep_add(&ps, djs, &w.i_djs, w.open_err, sizeof w.open_err) < 0 ||
	              privsep_add(&ps, dtxt, &w.i_dtxt, w.open_err, sizeof w.open_err) < 0)) ||
	    (junit && privsep_add(&ps, junit, &w.i_junit, w.open_err, sizeof w.open_err) < 0) ||
	    privsep_add(&ps, html, &w.i_html, w.open_err, sizeof w.open_err) < 0) {
		/* said in the report's verdict, as a file that cannot be written */
	}
	if (privsep_add(&ps, rep, &w.i_rep, err, sizeof err) < 0) {
		tout_fprintf(stderr, PROG ": write report: %s\n", err);
		if (tap)
			tap_bail_out(stdout, err);
		rc = LL_EXIT_ENV;
		goto out;
	}
	err[0] = '\0';
	rc = privsep_run(&ps, out, audit_outputs, &w, err, sizeof err);
	wrote = ps.file[w.i_rep].written;
	if (rc == LL_EXIT_ENV && err[0] && !wrote)
		tout_fprintf(stderr, PROG ": %s\n", err);
out:
	privsep_free(&ps);
	if (have_dir && !wrote) {
		const char *const left[] = { cap };
		unmake_dir(dir, made, left, 1);
	}
	json_decref(base);
	run_outcome_free(out);
	for (i = 0; i < nscn; i++)
		scn_free(scns[i]);
	scndirs_free(&sd);
	labcli_reraise(); /* interrupted: die by the signal, now that all is removed */
	return rc;
}
