/*
 * cmd_audit.c - `lingerlab audit TARGET [-o DIR]`: every shipped scenario
 * against one target in one lab run; DIR/report.json, DIR/report.html,
 * DIR/capture.pcap, and a table a person reads in ten seconds: scenario x
 * (rst_before_ack, bytes at risk, client (the worst client_impact of the
 * server's RSTs), lingered, fin_wait_2 peak, expectations) and a one-line
 * verdict.
 *
 * TARGET is as in `lingerlab run` (--builtin POLICY | --serve 'CMD' --port
 * N | --target HOST:PORT). The scenarios come from ./scenarios, else from
 * share/lingerlab/scenarios beside the installed binary, else --scenarios.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/analyzer.h"
#include "lab/run.h"
#include "lab/scenario.h"
#include "reports/cli.h"
#include "reports/labcli.h"
#include "reports/junit.h"
#include "reports/labreport.h"
#include "reports/render.h"
#include "reports/report.h"
#include "reports/textout.h"

#define PROG "lingerlab audit"
#define MAX_SCENARIOS 256
#define MAX_TARGET_ARGS 32

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: lingerlab audit TARGET [-o DIR] [--scenarios DIR] [--junit FILE]\n"
	        "                       [--color=WHEN]\n"
	        "  TARGET: --builtin POLICY [--target-arg ARG]... | --serve COMMAND --port N\n"
	        "          | --target HOST:PORT\n"
	        "\n"
	        "Run every scenario against TARGET in one lab run, write DIR/report.json,\n"
	        "DIR/report.html and DIR/capture.pcap, and print one row per scenario:\n"
	        "rst_before_ack, bytes at risk, client (the worst client_impact: what\n"
	        "the client's TCP lived through), lingered, fin_wait_2 peak, expectations.\n"
	        "\n"
	        "  --builtin POLICY     the reference target with close policy POLICY\n"
	        "                       (close, linger, abort, never)\n"
	        "  --target-arg ARG     pass ARG on to lingerlab-target (repeatable)\n"
	        "  --serve COMMAND      any server command, run by /bin/sh -c in the lab\n"
	        "  --port N             the port the target listens on (--serve: required;\n"
	        "                       --builtin: default 80)\n"
	        "  --target HOST:PORT   a server elsewhere (raw mode refused for now)\n"
	        "  -6, --ipv6           the lab speaks IPv6 (--builtin, --serve; the target\n"
	        "                       must listen on IPv6, e.g. [::]:PORT)\n"
	        "  --rtt DURATION       emulated RTT for scripts without `rtt` (default 0)\n"
	        "  -o DIR               where to write the three files (default\n"
	        "                       lingerlab-audit; created if missing)\n"
	        "  --scenarios DIR      the scenario scripts (*.scn) to run (default:\n"
	        "                       ./scenarios, else share/lingerlab/scenarios beside\n"
	        "                       the installed binary)\n"
	        "  --junit FILE         also write the results as JUnit XML (CI systems: one\n"
	        "                       testcase per scenario, a failure per expectation)\n"
	        "  --color=WHEN         auto (default), always, never\n"
	        "  -h, --help           show this help\n"
	        "\n"
	        "Needs root. Exit status: 0 every expectation holds, 1 some failed or a\n"
	        "client-side RST leaked, 2 bad usage or script, 3 environment problem\n"
	        "(not root, no network namespaces, a capture or report that cannot be\n"
	        "written: full disk); nothing is created when the lab cannot be built.\n");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The scenario directory: ./scenarios, else <bindir>/../share/lingerlab/scenarios. */
static int find_scenario_dir(char *out, size_t len, char *err, size_t errlen)
{
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (is_dir("scenarios")) {
		snprintf(out, len, "scenarios");
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/'))) {
			int w;
			*slash = '\0';
			w = snprintf(out, len, "%s/../share/lingerlab/scenarios", exe);
			if (w > 0 && (size_t)w < len && is_dir(out))
				return 0;
		}
	}
	snprintf(err, errlen, "no scenario directory: not ./scenarios, nor %.600s "
	         "(give one with --scenarios DIR)", n > 0 ? out : "share/lingerlab/scenarios");
	return -1;
}

/* Every *.scn in dir, sorted by name; caller frees each and the array. */
static int list_scenarios(const char *dir, char ***out, size_t *n, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!d) {
		snprintf(err, errlen, "%.900s: %s", dir, strerror(errno));
		return -1;
	}
	if (!(v = calloc(MAX_SCENARIOS, sizeof *v)))
		goto oom;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".scn") || e->d_name[0] == '.')
			continue;
		if (k == MAX_SCENARIOS) {
			snprintf(err, errlen, "%.900s: more than %d scenarios", dir, MAX_SCENARIOS);
			goto fail;
		}
		if (!(v[k] = malloc(strlen(dir) + l + 2)))
			goto oom;
		snprintf(v[k], strlen(dir) + l + 2, "%s/%s", dir, e->d_name);
		k++;
	}
	closedir(d);
	d = NULL;
	if (k == 0) {
		snprintf(err, errlen, "%.900s: no scenario (*.scn) in it", dir);
		goto fail;
	}
	qsort(v, k, sizeof *v, cmp_str);
	*out = v;
	*n = k;
	return 0;
oom:
	snprintf(err, errlen, "%.900s: out of memory", dir);
fail:
	if (d)
		closedir(d);
	for (size_t i = 0; v && i < k; i++)
		free(v[i]);
	free(v);
	v = NULL;
	return -1;
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

/*
 * The client's side of a scenario's server findings: the worst
 * client_impact among them (reset_before_ack, then reset_after_ack, then
 * no_reset), "-" when the server reset nothing. Counts every grade into
 * graded[] for the verdict.
 */
static enum az_impact worst_impact(const struct run_outcome *out, const struct run_scenario *rs,
                                   uint64_t graded[AZ_NIMPACTS], bool *any)
{
	enum az_impact w = AZ_IMPACT_NO_RESET;

	*any = false;
	for (size_t j = 0; out->az && j < rs->n_findings; j++) {
		const struct az_rst_finding *f = az_finding(out->az, rs->findings[j].index);
		/* the runner's own clean-up RSTs are no finding of the server's */
		if (!f || rs->findings[j].lab_artefact || f->sender != AZ_SERVER ||
		    f->impact >= AZ_NIMPACTS)
			continue;
		graded[f->impact]++;
		if (!*any || f->impact < w)
			w = f->impact;
		*any = true;
	}
	return w;
}

static void table(const struct tout *o, const struct run_outcome *out)
{
	size_t i, j, failed = 0, hazardous = 0;
	uint64_t worst = 0, graded[AZ_NIMPACTS] = { 0 };

	tout_printf(o, TOUT_BOLD, "%-26s %14s %14s %-17s %-18s %-16s %s\n", "scenario",
	            "rst_before_ack", "bytes at risk", "client", "lingered", "fin_wait_2 peak",
	            "expectations");
	for (i = 0; i < out->n_scenarios; i++) {
		const struct run_scenario *rs = &out->scenarios[i];
		uint64_t rst = rs->rst_before_ack[AZ_SERVER] + rs->rst_before_ack[AZ_CLIENT];
		uint64_t risk = rs->bytes_at_risk_max[AZ_SERVER] > rs->bytes_at_risk_max[AZ_CLIENT]
		                ? rs->bytes_at_risk_max[AZ_SERVER] : rs->bytes_at_risk_max[AZ_CLIENT];
		size_t held = 0;
		char lg[64], fw[64], ex[64];
		bool graded_any;
		enum az_impact wi = worst_impact(out, rs, graded, &graded_any);

		for (j = 0; j < rs->n_results; j++)
			held += rs->results[j].passed;
		if (rs->lingered)
			snprintf(lg, sizeof lg, "%llu, %.2f s max", (unsigned long long)rs->lingered, rs->linger_max);
		else
			snprintf(lg, sizeof lg, "no");
		snprintf(fw, sizeof fw, "%u (kernel %u)", rs->fw2[AZ_SERVER].peak,
		         rs->kernel_peak[SCN_K_FIN_WAIT_2]);
		snprintf(ex, sizeof ex, "%zu/%zu hold", held, rs->n_results);
		tout_fprintf(o->f, "%-26s ", rs->scn->name);
		tout_printf(o, rst ? TOUT_BOLD_RED : TOUT_PLAIN, "%14llu", (unsigned long long)rst);
		tout_printf(o, risk ? TOUT_BOLD_RED : TOUT_PLAIN, " %14llu", (unsigned long long)risk);
		tout_printf(o, graded_any && wi == AZ_IMPACT_RESET_BEFORE_ACK ? TOUT_BOLD_RED :
		            graded_any && wi == AZ_IMPACT_RESET_AFTER_ACK ? TOUT_YELLOW : TOUT_PLAIN,
		            " %-17s", graded_any ? az_impact_name(wi) : "-");
		tout_fprintf(o->f, " %-18s %-16s ", lg, fw);
		tout_printf(o, rs->passed ? TOUT_GREEN : TOUT_RED, "%s\n", ex);
		failed += !rs->passed;
		hazardous += rs->rst_before_ack[AZ_SERVER] > 0;
		if (rs->bytes_at_risk_max[AZ_SERVER] > worst)
			worst = rs->bytes_at_risk_max[AZ_SERVER];
	}
	/* The rows know only the findings the analyzer kept (its retention
	 * cap); its totals count every one: the verdict's figures are those. */
	const struct az_totals *t = out->az ? az_totals(out->az) : NULL;
	uint64_t unlisted = t ? t->not_retained : 0;
	if (unlisted) {
		for (j = 0; j < AZ_NIMPACTS; j++)
			if (t->by_impact[AZ_SERVER][j] > graded[j])
				graded[j] = t->by_impact[AZ_SERVER][j];
		if (t->bytes_at_risk_max[AZ_SERVER] > worst)
			worst = t->bytes_at_risk_max[AZ_SERVER];
	}
	fputc('\n', o->f);
	fputs("verdict: ", o->f);
	if (hazardous) {
		tout_printf(o, TOUT_BOLD_RED, "HAZARD: in %zu of %zu scenarios the server reset a "
		            "connection with up to %llu response bytes unacknowledged",
		            hazardous, out->n_scenarios, (unsigned long long)worst);
		fputs("; at the client:", o->f);
		for (j = 0; j < AZ_NIMPACTS; j++)
			tout_fprintf(o->f, "%s %llu %s", j ? "," : "", (unsigned long long)graded[j],
			        az_impact_name((enum az_impact)j));
		if (unlisted)
			fprintf(o->f, "; %llu more flagged connection%s beyond the retention cap %s "
			        "counted here but in no row (summary.not_retained)",
			        (unsigned long long)unlisted, unlisted == 1 ? "" : "s",
			        unlisted == 1 ? "is" : "are");
	} else {
		tout_printf(o, TOUT_BOLD_GREEN, "no rst_before_ack in %zu scenarios", out->n_scenarios);
	}
	if (failed)
		tout_fprintf(o->f, "; %zu scenario%s failed an expectation", failed, failed == 1 ? "" : "s");
	else
		fputs("; every expectation holds", o->f);
	if (out->leaked_rst)
		tout_fprintf(o->f, "; %llu leaked client-side RST%s (the run is not valid)",
		        (unsigned long long)out->leaked_rst, out->leaked_rst == 1 ? "" : "s");
	fputs(".\n", o->f);
}

int cmd_audit(int argc, char **argv)
{
	enum { OPT_BUILTIN = 256, OPT_SERVE, OPT_PORT, OPT_TARGET, OPT_TARGET_ARG,
	       OPT_SCENARIOS, OPT_COLOR, OPT_RTT, OPT_JUNIT };
	static const struct option longopts[] = {
		{ "builtin", required_argument, NULL, OPT_BUILTIN },
		{ "serve", required_argument, NULL, OPT_SERVE },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "target-arg", required_argument, NULL, OPT_TARGET_ARG },
		{ "scenarios", required_argument, NULL, OPT_SCENARIOS },
		{ "rtt", required_argument, NULL, OPT_RTT },
		{ "junit", required_argument, NULL, OPT_JUNIT },
		{ "output", required_argument, NULL, 'o' },
		{ "color", optional_argument, NULL, OPT_COLOR },
		{ "help", no_argument, NULL, 'h' },
		{ "ipv6", no_argument, NULL, '6' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_config cfg;
	struct run_outcome *out = NULL;
	struct scn_scenario *scns[MAX_SCENARIOS] = { 0 };
	char *targs[MAX_TARGET_ARGS + 1] = { 0 };
	size_t ntargs = 0, nscn = 0, i;
	char **files = NULL;
	const char *dir = "lingerlab-audit", *scdir = NULL, *junit = NULL;
	char scbuf[PATH_MAX], err[1024], cap[PATH_MAX], rep[PATH_MAX], html[PATH_MAX];
	char host[256];
	enum tout_color_mode mode = TOUT_AUTO;
	int kinds = 0, opt, rc = LL_EXIT_USAGE;
	bool port_set = false;
	json_t *report = NULL;
	struct tout o;
	enum run_status st;
	size_t made = 0;           /* mkdir_p: what to remove if no report */
	bool have_dir = false, wrote = false;

	memset(&cfg, 0, sizeof cfg);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:h6", longopts, NULL)) != -1) {
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
		case OPT_SCENARIOS:
			scdir = optarg;
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
		case OPT_COLOR:
			if (tout_parse_color(optarg, &mode, err, sizeof err) < 0) {
				tout_fprintf(stderr, PROG ": %s\n", err);
				return LL_EXIT_USAGE;
			}
			break;
		case '6':
			cfg.ipv6 = true;
			break;
		case 'h':
			usage(stdout);
			return LL_EXIT_OK;
		default:
			usage(stderr);
			return LL_EXIT_USAGE;
		}
	}
	if (kinds != 1) {
		tout_fprintf(stderr, PROG ": %s\n", kinds ? "give one TARGET, not several"
		        : "no TARGET: give --builtin POLICY, --serve COMMAND --port N or --target HOST:PORT");
		return LL_EXIT_USAGE;
	}
	if (optind != argc) {
		tout_fprintf(stderr, PROG ": unexpected argument '%s' (audit runs every scenario of its "
		        "directory; `lingerlab run` takes scenario files)\n", argv[optind]);
		return LL_EXIT_USAGE;
	}
	if (labcli_check_target(&cfg.target, port_set, ntargs, err, sizeof err) < 0) {
		tout_fprintf(stderr, PROG ": %s\n", err);
		return LL_EXIT_USAGE;
	}
	if (cfg.ipv6 && cfg.target.kind == RUN_TARGET_REMOTE) {
		tout_fprintf(stderr, PROG ": -6 goes with --builtin or --serve (the lab's own addresses); "
		             "a --target's family is that of its address\n");
		return LL_EXIT_USAGE;
	}
	cfg.target.extra_args = ntargs ? targs : NULL;

	/* the scenarios, parsed before anything is built */
	if (!scdir) {
		if (find_scenario_dir(scbuf, sizeof scbuf, err, sizeof err) < 0) {
			tout_fprintf(stderr, PROG ": %s\n", err);
			goto out;
		}
		scdir = scbuf;
	}
	if (list_scenarios(scdir, &files, &nscn, err, sizeof err) < 0) {
		tout_fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	for (i = 0; i < nscn; i++)
		if (!(scns[i] = scn_load(files[i], err, sizeof err))) {
			tout_fprintf(stderr, PROG ": %s\n", err);
			goto out;
		}

	snprintf(cap, sizeof cap, "%s/capture.pcap", dir);
	snprintf(rep, sizeof rep, "%s/report.json", dir);
	snprintf(html, sizeof html, "%s/report.html", dir);
	cfg.capture_path = cap;
	/* not root, no namespaces, a remote target: say so before creating
	 * anything (an empty DIR left behind would look like an audit) */
	st = run_preflight(&cfg, scns, nscn, err, sizeof err);
	if (st != RUN_OK) {
		tout_fprintf(stderr, PROG ": %s\n", err);
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

	tout_fprintf(stderr, PROG ": running %zu scenarios from %s ...\n", nscn, scdir);
	st = run_execute(&cfg, scns, nscn, &out, err, sizeof err);
	if (st != RUN_OK) {
		if (st == RUN_INTERRUPTED)
			tout_fprintf(stderr, PROG ": interrupted; the lab and the target are gone\n");
		else
			tout_fprintf(stderr, PROG ": %s\n", err);
		rc = labcli_exit_code(st);
		goto out;
	}

	if (!(report = labcli_report("audit", cap, out))) {
		tout_fprintf(stderr, PROG ": out of memory building the report\n");
		rc = LL_EXIT_ENV;
		goto out;
	}
	if (report_write(report, rep, err, sizeof err) < 0) {
		tout_fprintf(stderr, PROG ": %s\n", err);
		rc = LL_EXIT_ENV;
		goto out;
	}
	wrote = true;
	if (render_to_file(report, rep, html, err, sizeof err) < 0) {
		tout_fprintf(stderr, PROG ": %s\n", err);
		rc = LL_EXIT_ENV;
		goto out;
	}
	if (junit && junit_write(out, junit, err, sizeof err) < 0) {
		tout_fprintf(stderr, PROG ": %s\n", err);
		rc = LL_EXIT_ENV;
		goto out;
	}
	if (tout_init(&o, stdout, mode) < 0) {
		tout_fprintf(stderr, PROG ": out of memory\n");
		rc = LL_EXIT_ENV;
		goto out;
	}
	char where[LLADDR_PORTSTRLEN + 8];
	lladdr_text_port(out->address, out->port, where, sizeof where);
	if (out->kind == RUN_TARGET_BUILTIN)
		tout_fprintf(o.f, "audit of the reference target, close policy %s, at %s\n\n",
		             out->policy, where);
	else
		tout_fprintf(o.f, "audit of %s at %s\n\n", out->command ? out->command : "the target",
		             where);
	table(&o, out);
	tout_fprintf(o.f, "report: %s\npage:   %s\ncapture: %s\n", rep, html, cap);
	tout_close(&o);
	rc = labreport_exit_code(out);
out:
	if (have_dir && !wrote) {
		const char *const left[] = { cap };
		unmake_dir(dir, made, left, 1);
	}
	json_decref(report);
	run_outcome_free(out);
	for (i = 0; i < nscn; i++) {
		scn_free(scns[i]);
		free(files[i]);
	}
	free(files);
	files = NULL;
	labcli_reraise(); /* interrupted: die by the signal, now that all is removed */
	return rc;
}
