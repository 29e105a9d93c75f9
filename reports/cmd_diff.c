/*
 * cmd_diff.c - `lingerlab diff BASE.json NEW.json [--json]
 * [--tolerance KEY=VALUE ...]`: what got better or worse between two
 * reports; exit 1 when something regressed beyond its tolerance.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/cli.h"
#include "reports/diffout.h"
#include "reports/reportfile.h"
#include "reports/safetext.h"
#include "reports/textout.h"

#define MAX_TOLS 64

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: lingerlab diff BASE.json NEW.json [--json] [--tolerance KEY=VALUE ...]\n"
	        "                      [--verbose] [--color=auto|always|never]\n"
	        "\n"
	        "Compare two reports of the same scenarios (or two analyze reports) and\n"
	        "print what got better or worse: findings by type, bytes at risk, the\n"
	        "client's grade (client_impact), expectations, what the client saw,\n"
	        "lingering, FIN_WAIT_2 peak and durations.\n"
	        "\n"
	        "  -j, --json                print the comparison as JSON\n"
	        "  -t, --tolerance KEY=VALUE how much KEY may get worse and still pass:\n"
	        "                            a number (absolute; seconds may be 100ms),\n"
	        "                            N%% (of BASE), both (0.1,5%%: the larger), or\n"
	        "                            inf (shown, never a regression); repeatable\n"
	        "  -v, --verbose             also list timing differences within the noise\n"
	        "                            band (--tolerance noise=VALUE)\n"
	        "      --color=WHEN          auto (default), always, never\n"
	        "  -h, --help                show this help\n"
	        "\n"
	        "Keys: %s.\n"
	        "Defaults: 0 for findings, client_impact, expectations, reset_seen,\n"
	        "responses_complete and leaked_rst; 10%% of BASE for bytes_at_risk (from 0,\n"
	        "any amount regresses); the larger of 1 and 10%% for fin_wait_2_peak and\n"
	        "kernel_fin_wait_2_peak; inf for the rest.\n"
	        "noise: timing figures (linger_seconds, fin_wait_2_p50/p90/max) that differ\n"
	        "by no more than the larger of 0.1 s and 5%% of BASE are noise: neither better\n"
	        "nor worse, and listed only with --verbose.\n"
	        "\n"
	        "Exit status: 0 nothing regressed beyond its tolerance, 1 something did,\n"
	        "2 bad usage, unreadable reports, or reports that cannot be compared.\n",
	        dr_known_keys());
}

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "tolerance", required_argument, NULL, 't' },
		{ "color", optional_argument, NULL, 'C' },
		{ "colour", optional_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dr_tol_arg tols[MAX_TOLS];
	size_t ntols = 0;
	enum tout_color_mode mode = TOUT_AUTO;
	bool as_json = false, verbose = false;
	json_t *base = NULL, *cand = NULL;
	struct dr_result res = { 0 };
	struct tout o;
	char err[1024];
	int opt, rc = LL_EXIT_USAGE;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jvt:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			as_json = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 't':
			if (ntols == MAX_TOLS) {
				tout_fprintf(stderr, "lingerlab diff: more than %d --tolerance options\n", MAX_TOLS);
				return LL_EXIT_USAGE;
			}
			if (dr_parse_tol(optarg, &tols[ntols], err, sizeof err) < 0) {
				tout_fprintf(stderr, "lingerlab diff: %s\n", err);
				return LL_EXIT_USAGE;
			}
			ntols++;
			break;
		case 'C':
			if (tout_parse_color(optarg, &mode, err, sizeof err) < 0) {
				tout_fprintf(stderr, "lingerlab diff: %s\n", err);
				return LL_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return LL_EXIT_OK;
		default:
			usage(stderr);
			return LL_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		tout_fprintf(stderr, "lingerlab diff: expected two reports, BASE.json and NEW.json\n");
		usage(stderr);
		return LL_EXIT_USAGE;
	}
	if (!(base = rf_load(argv[optind], err, sizeof err)) ||
	    !(cand = rf_load(argv[optind + 1], err, sizeof err))) {
		tout_fprintf(stderr, "lingerlab diff: %s\n", err);
		goto out;
	}
	if (dr_compare(base, cand, argv[optind], argv[optind + 1], tols, ntols, &res, err, sizeof err) < 0) {
		tout_fprintf(stderr, "lingerlab diff: %s\n", err);
		goto out;
	}
	if (as_json) {
		json_t *j = diffout_json(&res, argv[optind], argv[optind + 1]);
		int bad = !j || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 ||
		          fputc('\n', stdout) == EOF;
		json_decref(j);
		if (bad) {
			tout_fprintf(stderr, "lingerlab diff: cannot write the JSON comparison\n");
			goto out;
		}
	} else {
		if (tout_init(&o, stdout, mode) < 0) {
			tout_fprintf(stderr, "lingerlab diff: out of memory\n");
			goto out;
		}
		diffout_text(&o, &res, argv[optind], argv[optind + 1], verbose);
		tout_close(&o);
	}
	if (fflush(stdout) != 0) {
		perror("lingerlab diff: stdout");
		goto out;
	}
	rc = res.regressions ? LL_EXIT_FAIL : LL_EXIT_OK;
out:
	dr_free(&res);
	json_decref(base);
	json_decref(cand);
	return rc;
}
