/*
 * cmd_run.c - `lingerlab run`: parse scenario scripts, run them against a
 * target in the namespace lab (lab/run.h), write the JSON report and print
 * a short summary.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lab/run.h"
#include "lab/scenario.h"
#include "reports/cli.h"
#include "reports/textout.h"
#include "reports/labcli.h"
#include "reports/junit.h"
#include "reports/tap.h"
#include "reports/labreport.h"
#include "reports/privsep.h"
#include "reports/report.h"

#define MAX_TARGET_ARGS 32

static void usage(FILE *f)
{
	fprintf(f,
"usage: lingerlab run [OPTIONS] TARGET SCENARIO...\n"
"       lingerlab run [OPTIONS] TARGET --client 'COMMAND' [SCENARIO...]\n"
"\n"
"Run scenario scripts against a target inside a throwaway namespace lab:\n"
"capture the conversation, analyze it, check each script's expectations,\n"
"write one JSON report and print a summary. Needs root.\n"
"\n"
"TARGET, one of:\n"
"  --builtin POLICY            the reference server (lingerlab-target) with close\n"
"                              policy close, linger, abort or never\n"
"  --serve 'COMMAND' --port N  any server, started in the lab's server namespace\n"
"                              with /bin/sh -c COMMAND; ready when it listens on N\n"
"  --target ADDR:PORT          a server on this host's loopback or another host;\n"
"                              needs --filter-kernel-rst (below)\n"
"\n"
"options:\n"
"  -o, --output REPORT.json    the report (\"-\": standard output)\n"
"  -w, --write CAPTURE.pcap    the capture\n"
"                              With neither, both go to a fresh directory\n"
"                              ./lingerlab-run-DATE-TIME/ (report.json,\n"
"                              capture.pcap); with one, the other goes beside it.\n"
"  -6, --ipv6                  the lab speaks IPv6 (--builtin, --serve): unique\n"
"                              local addresses fd6c:6c6c:XXYY::/64 on its links;\n"
"                              the target must listen on IPv6 (e.g. [::]:PORT)\n"
"  --rtt DURATION              emulated RTT for scripts without `rtt` (default 0)\n"
"  --port N                    the target's port (builtin: default 80)\n"
"  --target-arg ARG            one more argument for lingerlab-target (repeatable,\n"
"                              one word each; lingerlab-target --help lists them)\n"
"  --target-log FILE           keep the target's output in FILE\n"
"  --serve-user USER           run the --serve command as USER, not root\n"
"  --filter-kernel-rst         --target: drop this host kernel's RSTs to the\n"
"                              target (an nftables table of the run's own,\n"
"                              removed afterwards) and reserve the client's ports\n"
"  --allow-kernel-rst          --target without the filter: the kernel's RSTs\n"
"                              leak and the run fails (to see the leak check work)\n"
"  --tls                       every scenario over TLS (as if each had `tls`); with\n"
"                              --builtin the target serves TLS (port 443 unless --port)\n"
"  --tls-version 1.2|1.3       pin the version for --tls\n"
"  --sni NAME                  the server name TLS sends (--tls and `tls`)\n"
"  --tls-keylog FILE           the session keys (NSS key log, for Wireshark);\n"
"                              default: beside the capture, .keys for .pcap\n"
"  --junit FILE                also write the results as JUnit XML (CI systems)\n"
"  --tap                       the results as TAP version 13 on standard output\n"
"                              (the same content; the summary goes to stderr)\n"
"  --client 'COMMAND'          one more scenario, \"client\": run COMMAND (curl,\n"
"                              wget, a script) with /bin/sh -c in the client\n"
"                              namespace, LINGERLAB_ADDR, LINGERLAB_PORT and\n"
"                              LINGERLAB_URL in its environment; its exit status,\n"
"                              output tails and duration go in the report\n"
"  -Z, --user USER             the analysis and the reports run as USER with no\n"
"                              capability, in a child process, once the lab is\n"
"                              gone and the output files are open (default\n"
"                              nobody; \"root\" keeps root)\n"
"  --check                     only parse the scripts and report errors\n"
"  -q, --quiet                 no summary\n"
"  -h, --help                  this text\n"
"\n"
"The scenario language is described in docs/scenario-language.md.\n"
"exit codes: 0 every expectation holds, 1 some failed,\n"
"2 bad usage or script, 3 environment problem (not root, no network\n"
"namespaces, the target would not start, remote target, a capture or\n"
"report that cannot be written: full disk), 4 the lab could not vouch for\n"
"the result (leaked RSTs, packets the capture dropped, a lab that could\n"
"not be removed).\n");
}

struct opts {
	const char *output, *capture, *builtin, *serve, *remote, *target_log, *junit, *serve_user;
	bool tls;
	int tls_version;
	const char *sni, *tls_keylog;
	bool filter_kernel_rst, allow_kernel_rst;
	const char *client;         /* --client 'COMMAND' */
	const char *user;           /* -Z: the analysis child's user, NULL nobody */
	int64_t rtt_us;
	uint16_t port;
	bool check, quiet, tap, ipv6;
	const char *target_args[MAX_TARGET_ARGS + 1];
	size_t n_target_args;
	const char **scripts;
	size_t n_scripts;
	char host[256];             /* --target's HOST */
};

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tout_fprintf(stderr, "lingerlab run: ");
	tout_vfprintf(stderr, fmt, ap);
	tout_fprintf(stderr, "\n(lingerlab run --help shows the usage)\n");
	va_end(ap);
	return LL_EXIT_USAGE;
}

/* Returns -1 when parsing succeeded, else the exit code. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	o->scripts = calloc((size_t)argc, sizeof *o->scripts);
	if (!o->scripts) {
		tout_fprintf(stderr, "lingerlab run: out of memory\n");
		return LL_EXIT_ENV;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		char name[32] = "";
		if (a[0] == '-' && a[1] == '-' && a[2]) {
			const char *eq = strchr(a, '=');
			size_t n = eq ? (size_t)(eq - a) : strlen(a);
			if (n >= sizeof name)
				return bad_usage("unknown option '%s'", a);
			memcpy(name, a, n);
			name[n] = '\0';
			val = eq ? eq + 1 : NULL;
		} else if (a[0] == '-' && a[1] && a[1] != '-' && !a[2]) {
			snprintf(name, sizeof name, "%s", a);
		} else if (!strcmp(a, "--")) {
			for (i++; i < argc; i++)
				o->scripts[o->n_scripts++] = argv[i];
			break;
		} else {
			o->scripts[o->n_scripts++] = a;
			continue;
		}
		bool takes = !strcmp(name, "-o") || !strcmp(name, "--output") ||
		             !strcmp(name, "-w") || !strcmp(name, "--write") ||
		             !strcmp(name, "--builtin") || !strcmp(name, "--serve") ||
		             !strcmp(name, "--target") || !strcmp(name, "--port") ||
		             !strcmp(name, "--rtt") || !strcmp(name, "--target-arg") ||
		             !strcmp(name, "--target-log") || !strcmp(name, "--junit") ||
		             !strcmp(name, "--serve-user") || !strcmp(name, "--tls-version") ||
		             !strcmp(name, "--sni") || !strcmp(name, "--tls-keylog") ||
		             !strcmp(name, "--client") || !strcmp(name, "-Z") ||
		             !strcmp(name, "--user");
		if (takes && !val) {
			if (i + 1 >= argc)
				return bad_usage("%s needs a value", name);
			val = argv[++i];
		} else if (!takes && val) {
			return bad_usage("%s takes no value", name);
		}
		if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
			usage(stdout);
			return LL_EXIT_OK;
		} else if (!strcmp(name, "-o") || !strcmp(name, "--output")) {
			o->output = val;
		} else if (!strcmp(name, "-w") || !strcmp(name, "--write")) {
			o->capture = val;
		} else if (!strcmp(name, "--builtin")) {
			o->builtin = val;
		} else if (!strcmp(name, "--serve")) {
			o->serve = val;
		} else if (!strcmp(name, "--target")) {
			o->remote = val;
		} else if (!strcmp(name, "--port")) {
			if (labcli_parse_port(val, &o->port) < 0)
				return bad_usage("--port: expected a port from 1 to 65535, found '%s'", val);
		} else if (!strcmp(name, "--rtt")) {
			if (scn_parse_duration(val, &o->rtt_us) < 0)
				return bad_usage("--rtt: expected a duration (e.g. 250ms, 2s), found '%s'", val);
		} else if (!strcmp(name, "--target-arg")) {
			if (o->n_target_args >= MAX_TARGET_ARGS)
				return bad_usage("--target-arg: at most %d arguments", MAX_TARGET_ARGS);
			o->target_args[o->n_target_args++] = val;
		} else if (!strcmp(name, "--target-log")) {
			o->target_log = val;
		} else if (!strcmp(name, "--junit")) {
			o->junit = val;
		} else if (!strcmp(name, "--tap")) {
			o->tap = true;
		} else if (!strcmp(name, "--serve-user")) {
			o->serve_user = val;
		} else if (!strcmp(name, "--tls")) {
			o->tls = true;
		} else if (!strcmp(name, "--tls-version")) {
			if (!strcmp(val, "1.2"))
				o->tls_version = 12;
			else if (!strcmp(val, "1.3"))
				o->tls_version = 13;
			else
				return bad_usage("--tls-version: expected 1.2 or 1.3, found '%s'", val);
		} else if (!strcmp(name, "--sni")) {
			o->sni = val;
		} else if (!strcmp(name, "--tls-keylog")) {
			o->tls_keylog = val;
		} else if (!strcmp(name, "--filter-kernel-rst")) {
			o->filter_kernel_rst = true;
		} else if (!strcmp(name, "--allow-kernel-rst")) {
			o->allow_kernel_rst = true;
		} else if (!strcmp(name, "--client")) {
			o->client = val;
		} else if (!strcmp(name, "-Z") || !strcmp(name, "--user")) {
			o->user = val;
		} else if (!strcmp(name, "--check")) {
			o->check = true;
		} else if (!strcmp(name, "-6") || !strcmp(name, "--ipv6")) {
			o->ipv6 = true;
		} else if (!strcmp(name, "-q") || !strcmp(name, "--quiet")) {
			o->quiet = true;
		} else {
			return bad_usage("unknown option '%s'", a);
		}
	}
	return -1;
}

/* "x.pcap" -> "x.json" and back; otherwise append the extension. */
static char *beside(const char *path, const char *from_ext, const char *to_ext)
{
	size_t n = strlen(path), fe = strlen(from_ext);
	if (n > fe && !strcmp(path + n - fe, from_ext))
		n -= fe;
	size_t cap = n + strlen(to_ext) + 1;
	char *s = malloc(cap);
	if (s)
		snprintf(s, cap, "%.*s%s", (int)n, path, to_ext);
	return s;
}

/* A fresh directory ./lingerlab-run-YYYYMMDD-HHMMSS[-N]. */
static char *fresh_dir(void)
{
	char base[64], path[80];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(base, sizeof base, "lingerlab-run-%Y%m%d-%H%M%S", &tm);
	for (int i = 1; i < 100; i++) {
		if (i == 1)
			snprintf(path, sizeof path, "%s", base);
		else
			snprintf(path, sizeof path, "%s-%d", base, i);
		if (mkdir(path, 0755) == 0)
			return strdup(path);
		if (errno != EEXIST) {
			tout_fprintf(stderr, "lingerlab run: %s: %s\n", path, strerror(errno));
			return NULL;
		}
	}
	tout_fprintf(stderr, "lingerlab run: %s: too many runs this second\n", base);
	return NULL;
}

/* What the analysis child needs (privsep.h). */
struct outputs {
	const struct opts *o;
	const char *capture, *output;
	bool to_stdout;
	size_t i_report, i_junit;
	char junit_err[512];        /* --junit could not be opened: why */
};

/*
 * In the child, without privileges: analyze the capture, judge the
 * expectations, write the JUnit file, TAP and the report into the files
 * the parent opened, print the summary. Returns the exit code.
 */
static int write_outputs(struct privsep *ps, struct run_outcome *out, void *arg)
{
	const struct outputs *w = arg;
	const struct opts *o = w->o;
	json_t *report = NULL;
	char err[1024];
	int rc;

	enum run_status st = run_conclude(out, err, sizeof err);
	if (st != RUN_OK) {
		tout_fprintf(stderr, "lingerlab run: %s\n", err);
		if (o->tap)
			tap_bail_out(stdout, err);
		return labcli_exit_code(st);
	}
	report = labcli_report("run", w->capture, out);
	if (!report) {
		tout_fprintf(stderr, "lingerlab run: out of memory building the report\n");
		return LL_EXIT_ENV;
	}
	rc = labreport_exit_code(out);
	/* what goes beside the report first: when it cannot be written (exit
	 * 3), the report's verdict says so and keeps the exit status */
	if (o->junit && w->junit_err[0]) {
		snprintf(err, sizeof err, "%s", w->junit_err);
		tout_fprintf(stderr, "lingerlab run: %s\n", err);
		rc = LL_EXIT_ENV;
	} else if (o->junit) {
		if (junit_write_to(privsep_file(ps, w->i_junit), out, NULL, o->junit,
		                   err, sizeof err) < 0) {
			tout_fprintf(stderr, "lingerlab run: %s\n", err);
			rc = LL_EXIT_ENV;
		} else {
			privsep_done(ps, w->i_junit);
		}
	}
	if (rc != LL_EXIT_ENV && o->tap && tap_write(stdout, out, NULL) < 0) {
		snprintf(err, sizeof err, "standard output: %s", strerror(errno));
		tout_fprintf(stderr, "lingerlab run: %s\n", err);
		rc = LL_EXIT_ENV;
	}
	if (labcli_write_report(ps, w->i_report, report, w->output, rc, err, sizeof err) < 0) {
		tout_fprintf(stderr, "lingerlab run: %s\n", err);
		rc = LL_EXIT_ENV;
		goto done;
	}
	if (rc == LL_EXIT_ENV)
		goto done;
	if (!o->quiet) {
		FILE *sum = w->to_stdout || o->tap ? stderr : stdout;
		char text[1024];
		struct tout t;
		if (tout_init(&t, sum, TOUT_NEVER) < 0) {
			tout_fprintf(stderr, "lingerlab run: out of memory\n");
			rc = LL_EXIT_ENV;
			goto done;
		}
		char where[LLADDR_PORTSTRLEN + 8];
		lladdr_text_port(out->address, out->port, where, sizeof where);
		if (out->kind == RUN_TARGET_BUILTIN)
			tout_fprintf(t.f, "lingerlab run: reference target, policy %s, at %s",
			             out->policy, where);
		else if (out->kind == RUN_TARGET_REMOTE)
			tout_fprintf(t.f, "lingerlab run: --target %s:%u via %s%s%s from %s ports %u-%u%s",
			             out->address, out->port, out->iface, out->gateway[0] ? " gateway " : "",
			             out->gateway, out->source, out->client_port_lo, out->client_port_hi,
			             out->kernel_rst_filter ? ", kernel RSTs filtered" : ", kernel RSTs NOT filtered");
		else
			tout_fprintf(t.f, "lingerlab run: %s at %s", out->command, where);
		tout_fprintf(t.f, "; %zu scenario%s\n\n", out->n_scenarios,
		             out->n_scenarios == 1 ? "" : "s");
		labreport_print_summary(&t, out);
		labreport_verdict_text(out, text, sizeof text);
		tout_fprintf(t.f, "\n%s: %s\n", rc == 0 ? "PASS" : rc == LL_EXIT_UNVOUCHED ?
		             "UNVOUCHED" : "FAIL", text);
		if (!w->to_stdout)
			tout_fprintf(t.f, "report:  %s\n", w->output);
		tout_fprintf(t.f, "capture: %s\n", w->capture);
		tout_close(&t);
	}
done:
	json_decref(report);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct opts o;
	memset(&o, 0, sizeof o);
	struct scn_scenario **scns = NULL;
	size_t n_scns = 0;
	struct run_outcome *out = NULL;
	bool wrote = false;         /* the report is in place */
	struct privsep ps;
	char *dir = NULL, *capture = NULL, *output = NULL;
	size_t made_cap = 0, made_out = 0;
	char err[1024];
	int rc;
	memset(&ps, 0, sizeof ps);
	rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		goto done;
	rc = LL_EXIT_USAGE;
	if (!o.check && privsep_init(&ps, "lingerlab run", o.user, err, sizeof err) < 0) {
		bad_usage("%s", err);
		goto done;
	}

	int targets = !!o.builtin + !!o.serve + !!o.remote;
	if (!o.check && targets != 1) {
		bad_usage("%s", "give one target: --builtin POLICY, --serve 'COMMAND' --port N "
		          "or --target HOST:PORT");
		goto done;
	}
	if (!o.n_scripts && !o.client) {
		bad_usage("%s", "no scenario given");
		goto done;
	}

	scns = calloc(o.n_scripts + 1, sizeof *scns);
	if (!scns) {
		tout_fprintf(stderr, "lingerlab run: out of memory\n");
		rc = LL_EXIT_ENV;
		goto done;
	}
	for (size_t i = 0; i < o.n_scripts; i++) {
		scns[i] = scn_load(o.scripts[i], err, sizeof err);
		if (!scns[i]) {
			tout_fprintf(stderr, "%s\n", err);
			goto done;
		}
		n_scns++;
	}
	if (o.client) {
		/* the program is one more scenario, "client", with no expectations */
		scns[n_scns] = scn_client_command(o.client, err, sizeof err);
		if (!scns[n_scns]) {
			bad_usage("%s", err);
			goto done;
		}
		n_scns++;
	}
	/* kernel clients and client programs use the lab's IPv4 addresses
	 * (their delay line is IPv4) */
	for (size_t i = 0; i < n_scns; i++)
		if (o.ipv6 && scns[i]->client != SCN_CLIENT_RAW) {
			bad_usage("%s: -6 goes with the raw client only; `client %s` speaks IPv4 only "
			          "(run it without -6)",
			          i < o.n_scripts ? o.scripts[i] : "--client", scn_client_name(scns[i]->client));
			goto done;
		}
	/* TLS is the raw client's: a kernel client or a program speaks what
	 * it speaks (curl does its own TLS from LINGERLAB_URL) */
	for (size_t i = 0; i < n_scns; i++)
		if ((o.tls || scns[i]->tls.on) && scns[i]->client != SCN_CLIENT_RAW) {
			bad_usage("%s: TLS goes with the raw client only; this scenario's client is "
			          "`client %s` (drop --tls for it, or let the program speak TLS itself)",
			          i < o.n_scripts ? o.scripts[i] : "--client", scn_client_name(scns[i]->client));
			goto done;
		}
	if (o.check) {
		if (!o.quiet)
			for (size_t i = 0; i < n_scns; i++)
				tout_fprintf(stdout, "%s: scenario %s: %u connection%s, %zu expectation%s\n",
				       i < o.n_scripts ? o.scripts[i] : "--client", scns[i]->name, scns[i]->total_connections,
				       scns[i]->total_connections == 1 ? "" : "s", scns[i]->n_expects,
				       scns[i]->n_expects == 1 ? "" : "s");
		rc = LL_EXIT_OK;
		goto done;
	}

	struct run_config cfg;
	memset(&cfg, 0, sizeof cfg);
	if (o.tls_version && !o.tls) {
		bad_usage("--tls-version goes with --tls");
		goto done;
	}
	if (o.builtin) {
		cfg.target.kind = RUN_TARGET_BUILTIN;
		cfg.target.policy = o.builtin;
		if (o.tls) {
			/* the reference server serves what the client speaks */
			if (o.n_target_args < MAX_TARGET_ARGS)
				o.target_args[o.n_target_args++] = "--tls";
			if (!o.port)
				o.port = 443;
		}
		o.target_args[o.n_target_args] = NULL;
		cfg.target.extra_args = o.n_target_args ? (char *const *)o.target_args : NULL;
		cfg.target.port = o.port;
	} else if (o.serve) {
		cfg.target.kind = RUN_TARGET_SERVE;
		cfg.target.command = o.serve;
		cfg.target.port = o.port;
		cfg.target.user = o.serve_user;
	} else {
		if (labcli_parse_hostport(o.remote, o.host, sizeof o.host, &cfg.target.port) < 0) {
			bad_usage("--target: expected HOST:PORT, found '%s'", o.remote);
			goto done;
		}
		cfg.target.kind = RUN_TARGET_REMOTE;
		cfg.target.host = o.host;
	}
	if (labcli_check_target(&cfg.target, o.port != 0 || o.remote, o.n_target_args,
	                        err, sizeof err) < 0) {
		bad_usage("%s", err);
		goto done;
	}
	if (o.serve_user && !o.serve) {
		bad_usage("%s", "--serve-user only goes with --serve");
		goto done;
	}
	if ((o.filter_kernel_rst || o.allow_kernel_rst) && !o.remote) {
		bad_usage("%s", "--filter-kernel-rst and --allow-kernel-rst only go with --target");
		goto done;
	}
	if (o.filter_kernel_rst && o.allow_kernel_rst) {
		bad_usage("%s", "--filter-kernel-rst and --allow-kernel-rst exclude each other");
		goto done;
	}
	cfg.tls = o.tls;
	cfg.tls_version = o.tls_version;
	cfg.tls_sni = o.sni;
	cfg.tls_keylog = o.tls_keylog;
	cfg.filter_kernel_rst = o.filter_kernel_rst;
	cfg.allow_kernel_rst = o.allow_kernel_rst;
	cfg.say = labcli_say;
	if (o.ipv6 && o.remote) {
		bad_usage("%s", "-6 goes with --builtin or --serve (the lab's own addresses); "
		          "a --target's family is that of its address");
		goto done;
	}
	cfg.ipv6 = o.ipv6;

	/* where the report and the capture go */
	bool to_stdout = o.output && !strcmp(o.output, "-");
	if (to_stdout && o.tap) {
		bad_usage("%s", "--tap and -o - both write to standard output: give the report a file");
		goto done;
	}
	if (o.capture) {
		capture = strdup(o.capture);
		output = o.output ? strdup(o.output) : beside(o.capture, ".pcap", ".json");
	} else if (o.output && !to_stdout) {
		output = strdup(o.output);
		capture = beside(o.output, ".json", ".pcap");
	} else {
		dir = fresh_dir();
		if (!dir) {
			rc = LL_EXIT_ENV;
			goto done;
		}
		size_t cap = strlen(dir) + 32;
		capture = malloc(cap);
		if (capture)
			snprintf(capture, cap, "%s/capture.pcap", dir);
		output = to_stdout ? strdup("-") : malloc(cap);
		if (output && !to_stdout)
			snprintf(output, cap, "%s/report.json", dir);
	}
	if (!capture || !output) {
		tout_fprintf(stderr, "lingerlab run: out of memory\n");
		rc = LL_EXIT_ENV;
		goto done;
	}
	/* missing directories are made, as `audit -o DIR` does (and removed
	 * again when no report comes of the run) */
	if ((!to_stdout && labcli_mkdir_parent(output, &made_out, err, sizeof err) < 0) ||
	    labcli_mkdir_parent(capture, &made_cap, err, sizeof err) < 0) {
		tout_fprintf(stderr, "lingerlab run: %s\n", err);
		rc = LL_EXIT_USAGE;
		goto done;
	}

	cfg.capture_path = capture;
	cfg.target_log = o.target_log;
	cfg.rtt_us = o.rtt_us;
	if (labcli_install_signals(&cfg.stop, err, sizeof err) < 0) {
		tout_fprintf(stderr, "lingerlab run: %s\n", err);
		rc = LL_EXIT_ENV;
		goto done;
	}

	enum run_status st = run_play(&cfg, scns, n_scns, &out, err, sizeof err);
	if (st != RUN_OK) {
		if (st == RUN_INTERRUPTED)
			tout_fprintf(stderr, "lingerlab run: interrupted; the lab and the target are gone\n");
		else
			tout_fprintf(stderr, "lingerlab run: %s\n", err);
		if (o.tap)
			tap_bail_out(stdout, st == RUN_INTERRUPTED ? "interrupted" : err);
		rc = labcli_exit_code(st);
		goto done;
	}

	/* the lab is gone: open the output files while root may, then analyze
	 * and write in a child without privileges (reports/privsep.h) */
	struct outputs w = { .o = &o, .capture = capture, .output = output,
	                     .to_stdout = to_stdout, .junit_err = "" };
	/* a --junit file that cannot be opened is said in the report's
	 * verdict, as one that cannot be written */
	if (o.junit && privsep_add(&ps, o.junit, &w.i_junit, w.junit_err, sizeof w.junit_err) < 0)
		w.i_junit = PRIVSEP_MAX_FILES;
	if (privsep_add(&ps, to_stdout ? "-" : output, &w.i_report, err, sizeof err) < 0) {
		tout_fprintf(stderr, "lingerlab run: write report: %s\n", err);
		if (o.tap)
			tap_bail_out(stdout, err);
		rc = LL_EXIT_ENV;
		goto done;
	}
	err[0] = '\0';
	rc = privsep_run(&ps, out, write_outputs, &w, err, sizeof err);
	wrote = ps.file[w.i_report].written;
	if (rc == LL_EXIT_ENV && err[0] && !wrote)
		tout_fprintf(stderr, "lingerlab run: %s\n", err);

done:
	/* a fresh directory of a run that produced no report goes away again */
	privsep_free(&ps);
	if (dir && !wrote) {
		if (capture)
			unlink(capture);
		rmdir(dir);
	}
	if (!wrote && made_cap) {  /* only what sits in a directory we made */
		unlink(capture);
		labcli_unmake_parent(capture, made_cap);
	}
	if (!wrote && made_out)
		labcli_unmake_parent(output, made_out);
	run_outcome_free(out);
	for (size_t i = 0; i < n_scns; i++)
		scn_free(scns[i]);
	free(scns);
	free(o.scripts);
	free(dir);
	free(capture);
	free(output);
	labcli_reraise(); /* interrupted: die by the signal, now that all is removed */
	return rc;
}
