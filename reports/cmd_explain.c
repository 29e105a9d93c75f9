/*
 * cmd_explain.c - `lingerlab explain REPORT.json [--connection ID]...
 * [--scenario NAME] [--format text|markdown] [--color=auto|always|never]`:
 * the packet timeline of each flagged connection (or of the ones asked
 * for, flagged or not), one line per packet, with plain-English notes at
 * the moments that matter and how the teardown ended, in the spirit of
 * the annotated 1997 trace in shared/seeds/.
 *
 * It reads only the report (the timeline lives there); it decides nothing
 * the analyzer has not already decided, it only tells the story.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/seq.h"
#include "reports/cli.h"
#include "reports/pcaptl.h"
#include "reports/reportfile.h"
#include "reports/explain.h"
#include "reports/textout.h"

/* Connections explained when no --connection is given; the rest are listed. */
#define EXPLAIN_MAX_CONNS 3

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: lingerlab explain REPORT.json [--connection ID]... [--scenario NAME]\n"
	        "                         [--format text|markdown] [--color=auto|always|never]\n"
	        "\n"
	        "Print the packet timeline of the report's flagged connections, one line\n"
	        "per packet, with notes that say what happened and why it matters, and\n"
	        "how each teardown ended.\n"
	        "\n"
	        "  -c, --connection ID   explain this connection, flagged or not (repeatable;\n"
	        "                        one the report keeps no record of is rebuilt from\n"
	        "                        the capture it names)\n"
	        "  -s, --scenario NAME   explain the connections of this scenario of a lab\n"
	        "                        report (run, audit)\n"
	        "  -f, --format FORMAT   text (default) or markdown (packet lines in code\n"
	        "                        blocks, notes as quotes: for slides and notes)\n"
	        "      --color=WHEN      auto (default: colour when stdout is a terminal\n"
	        "                        and NO_COLOR is unset), always, never\n"
	        "  -h, --help            show this help\n"
	        "\n"
	        "REPORT.json is a report from lingerlab analyze, run or audit (\"-\": stdin).\n"
	        "Exit status: 0 explained, 2 bad usage or unreadable report.\n");
}

static const char *dir_arrow(enum rf_dir d)
{
	return d == RF_C2S ? "C --> S" : "C <-- S";
}


static void endpoint(char *buf, size_t len, const json_t *ep)
{
	const char *a = rf_str(ep, "addr");
	long long port = rf_int(ep, "port", -1);

	if (!a)
		a = "?";
	if (strchr(a, ':'))
		snprintf(buf, len, "[%s]:%lld", a, port);
	else
		snprintf(buf, len, "%s:%lld", a, port);
}

static const char *scenario_of(const json_t *root, long long id)
{
	json_t *sc = rf_arr(root, "scenarios"), *s, *ids, *v;
	size_t i, j;

	json_array_foreach(sc, i, s) {
		ids = rf_arr(s, "connections");
		json_array_foreach(ids, j, v)
			if (json_is_integer(v) && json_integer_value(v) == id)
				return rf_str(s, "name");
	}
	return NULL;
}

static int explain_conn(const struct tout *o, const json_t *root, const json_t *conn,
                        enum ex_format fmt, char *err, size_t errlen)
{
	struct story s;
	char cl[80], sv[80], seqs[48], acks[24], d1[32], d2[32];
	long long id = rf_int(conn, "id", -1);
	const char *sc = scenario_of(root, id);
	size_t k;

	ex_story_init(&s, root, conn);
	s.fmt = fmt;
	if (rf_timeline(conn, &s.tl, err, errlen) < 0)
		return -1;
	endpoint(cl, sizeof cl, rf_obj(conn, "client"));
	endpoint(sv, sizeof sv, rf_obj(conn, "server"));

	if (fmt == EX_MARKDOWN)
		fputs("## ", o->f);
	tout_printf(o, TOUT_BOLD, "connection %lld", id);
	tout_fprintf(o->f, "  client %s  ->  server %s", cl, sv);
	if (sc)
		tout_fprintf(o->f, "  (scenario %s)", sc);
	fputs(fmt == EX_MARKDOWN ? "\n\n" : "\n", o->f);
	for (int j = 0; j < 2; j++) {
		const json_t *f = j ? s.other : s.finding;
		if (!f || !rf_str(f, "summary"))
			continue;
		if (fmt == EX_MARKDOWN) {
			tout_fprintf(o->f, "**finding: %s.** ", rf_str(f, "type"));
		} else {
			fputs("  finding: ", o->f);
			tout_printf(o, TOUT_BOLD_RED, "%s", rf_str(f, "type"));
			fputc('\n', o->f);
		}
		{
			/* from the report: its newlines are escaped too */
			struct sbuf b;
			sb_init(&b);
			sb_add(&b, "%s", rf_str(f, "summary"));
			if (fmt == EX_MARKDOWN)
				tout_fprintf(o->f, "%s\n\n", b.s);
			else
				tout_para(o, "    ", TOUT_PLAIN, TOUT_PLAIN, b.s);
		}
	}
	tout_fprintf(o->f, "%sclosed first by %s, %s; the wire leaves the client %s and the server %s\n",
	        fmt == EX_MARKDOWN ? "" : "  ",
	        rf_str(conn, "close_initiator") ? rf_str(conn, "close_initiator") : "?",
	        rf_str(conn, "kind") ? rf_str(conn, "kind") : "?",
	        rf_str(conn, "client_end") ? rf_str(conn, "client_end") : "?",
	        rf_str(conn, "server_end") ? rf_str(conn, "server_end") : "?");
	if (rf_bool(conn, "role_inferred", false))
		fputs(fmt == EX_MARKDOWN ? "\n(no handshake showed who is who: the roles are guessed "
		      "from the ports)\n" : "  (no handshake showed who is who: the roles are guessed "
		      "from the ports)\n", o->f);
	if (s.have_rtt) {
		fputs(fmt == EX_MARKDOWN ? "\n" : "  ", o->f);
		tout_fprintf(o->f, "round trip from the capture point: %s to the server, %s to the client\n",
		        ex_ms(s.to_server, d1, sizeof d1), ex_ms(s.to_client, d2, sizeof d2));
	}
	fputc('\n', o->f);

	if (s.tl.n == 0) {
		fputs("  The report holds no packet timeline for this connection.\n\n", o->f);
		rf_timeline_free(&s.tl);
		return 0;
	}
	s.t0 = s.tl.pkts[0].t;
	ex_code(o, &s);
	tout_printf(o, TOUT_DIM, "  %9s  %-7s  %-5s  %-22s %-12s %-12s %s\n",
	            "time", "", "flags", "seq:end(len)", "ack", "win", "packet");
	for (k = 0; k < s.tl.n; k++) {
		const struct rf_pkt *p = &s.tl.pkts[k];
		bool risk = s.finding && rf_at_risk(s.finding, p->i);
		enum tout_style st = TOUT_PLAIN;

		if (p->rst)
			st = TOUT_BOLD_RED;
		else if (risk)
			st = TOUT_MAGENTA;
		else if (p->fin)
			st = TOUT_YELLOW;
		ex_code(o, &s);
		snprintf(seqs, sizeof seqs, "%u:%u(%u)", p->seq, p->seq + p->len, p->len);
		if (p->ack)
			snprintf(acks, sizeof acks, "ack %u", p->ack_no);
		else
			acks[0] = '\0';
		tout_style(o, st);
		tout_fprintf(o->f, "  %9.6f  %s  %-5s  %-22s %-12s win %-8u #%lld",
		        p->t - s.t0, dir_arrow(p->dir), p->flags, seqs, acks, p->win, p->i);
		if (risk)
			fputs("  at risk", o->f);
		fputs(ex_packet_mark(&s, p->i), o->f);
		if (st != TOUT_PLAIN)
			tout_style(o, TOUT_PLAIN);
		fputc('\n', o->f);
		ex_packet_notes(o, &s, k);
		if ((long long)k == s.tl.omitted_after && (ex_code(o, &s), true))
			tout_printf(o, TOUT_DIM, "  %9s  ... %lld packets of this connection are not "
			            "in the report (it keeps the first and the last ones) ...\n",
			            "", s.tl.omitted);
	}
	ex_closing_notes(o, &s);
	ex_teardown_story(o, &s);
	ex_end_code(o, &s);
	if (fmt != EX_MARKDOWN)
		fputc('\n', o->f);
	rf_timeline_free(&s.tl);
	return 0;
}

static void print_origin(const struct tout *o, const char *path, const json_t *root,
                         enum ex_format fmt)
{
	const json_t *lab = rf_obj(root, "lab"), *in = rf_obj(root, "input");
	const json_t *tg = rf_obj(lab, "target");

	if (fmt == EX_MARKDOWN)
		fputs("# ", o->f);
	tout_printf(o, TOUT_BOLD, "%s", path);
	tout_fprintf(o->f, ": lingerlab %s report", rf_str(root, "command"));
	if (tg) {
		const char *kind = rf_str(tg, "kind");
		if (kind && !strcmp(kind, "builtin"))
			tout_fprintf(o->f, " against the reference target, close policy %s",
			        rf_str(tg, "policy") ? rf_str(tg, "policy") : "?");
		else if (rf_str(tg, "command"))
			tout_fprintf(o->f, " against `%s`", rf_str(tg, "command"));
		else if (rf_str(tg, "address")) {
			const char *a = rf_str(tg, "address");
			tout_fprintf(o->f, strchr(a, ':') ? " against [%s]:%lld" : " against %s:%lld",
			             a, rf_int(tg, "port", 0));
		}
	} else if (rf_str(in, "source")) {
		tout_fprintf(o->f, " of %s", rf_str(in, "source"));
	}
	tout_fprintf(o->f, "\n\n");
}

/* Nothing flagged: say so, and what the report does show. */
static void summarize(const struct tout *o, const json_t *root, enum ex_format fmt)
{
	const char *li = fmt == EX_MARKDOWN ? "- " : "  ";
	const json_t *sum = rf_obj(root, "summary"), *fw = rf_obj(root, "fin_wait_2");
	const json_t *by_kind = rf_obj(sum, "by_kind"), *by_init = rf_obj(sum, "by_initiator");
	const json_t *sc = rf_arr(root, "scenarios"), *v;
	const char *k;
	size_t i;
	bool first;
	static const char *const sides[] = { "server", "client" };

	tout_printf(o, TOUT_BOLD_GREEN, "No flagged connection.");
	fputc('\n', o->f);
	tout_para(o, "", TOUT_PLAIN, TOUT_PLAIN,
	          "Nobody reset a connection while some of its own data was still "
	          "unacknowledged, so no client can have lost a response to a RST.");
	fputc('\n', o->f);
	tout_fprintf(o->f, "%sconnections: %lld", li, rf_int(sum, "connections", 0));
	first = true;
	if (by_kind) {
		json_object_foreach((json_t *)by_kind, k, v) {
			if (rf_val_num(v, 0) <= 0)
				continue;
			tout_fprintf(o->f, "%s%s %lld", first ? " (" : ", ", k, rf_val_int(v, 0));
			first = false;
		}
	}
	fputs(first ? "\n" : ")\n", o->f);
	first = true;
	if (by_init) {
		tout_fprintf(o->f, "%sclosed first by:", li);
		json_object_foreach((json_t *)by_init, k, v)
			if (rf_val_num(v, 0) > 0) {
				tout_fprintf(o->f, "%s %s %lld", first ? "" : ",", k, rf_val_int(v, 0));
				first = false;
			}
		fputs(first ? " nobody\n" : "\n", o->f);
	}
	tout_fprintf(o->f, "%slingering closes (the server kept reading after its FIN): %lld\n",
	        li, rf_int(sum, "lingered", 0));
	for (i = 0; i < 2; i++) {
		const json_t *side = rf_obj(fw, sides[i]);
		const json_t *dur = rf_obj(side, "duration");
		if (!side)
			continue;
		tout_fprintf(o->f, "%sfin_wait_2 (%s closed first): %lld socket%s", li, sides[i],
		        rf_int(side, "count", 0), rf_int(side, "count", 0) == 1 ? "" : "s");
		if (rf_int(side, "count", 0) > 0)
			tout_fprintf(o->f, ", peak %lld at %.3f s, durations p50 %.3f s, p90 %.3f s, max %.3f s",
			        rf_int(side, "peak", 0), rf_num(side, "peak_time", 0),
			        rf_num(dur, "p50", 0), rf_num(dur, "p90", 0), rf_num(dur, "max", 0));
		fputc('\n', o->f);
	}
	if (rf_int(rf_obj(fw, "server"), "count", 0) > 0) {
		fputc('\n', o->f);
		tout_para(o, "", TOUT_PLAIN, TOUT_PLAIN,
		          "FIN_WAIT_2 means: the server closed first, the client acknowledged "
		          "its FIN but has not sent its own. Each such server socket waits for "
		          "that FIN, or for the kernel's timeout; clients that never close "
		          "can pile them up.");
	}
	json_array_foreach(sc, i, v) {
		if (i == 0)
			fputc('\n', o->f);
		tout_fprintf(o->f, "%sscenario %-28s ", li, rf_str(v, "name"));
		if (rf_bool(v, "passed", false))
			tout_printf(o, TOUT_GREEN, "passed\n");
		else
			tout_printf(o, TOUT_RED, "failed\n");
	}
}

/* Explain the connections with ids[0..n): records from the report, the
 * others rebuilt from its capture. Returns an exit status. */
static int explain_ids(const struct tout *o, const char *path, const json_t *root,
                       const long long *ids, size_t n, enum ex_format fmt)
{
	json_t *conns = rf_arr(root, "connections"), *c;
	char err[512];
	size_t k, i;

	for (k = 0; k < n; k++) {
		json_t *rebuilt = NULL;
		c = rf_conn(root, ids[k]);
		if (!c) {
			/* not flagged, so no record: ask the capture */
			rebuilt = ptl_connection(root, ids[k], err, sizeof err);
			if (!rebuilt) {
				struct sbuf b;
				sb_init(&b);
				json_array_foreach(conns, i, c)
					sb_add(&b, "%s%lld", i ? ", " : "", rf_int(c, "id", 0));
				tout_fprintf(stderr, "lingerlab explain: connection %lld is not in %s (it has "
				        "records for %s), and the capture cannot tell: %s\n",
				        ids[k], path, b.n ? b.s : "no connection", err);
				return LL_EXIT_USAGE;
			}
			c = rebuilt;
			tout_para(o, "", TOUT_DIM, TOUT_DIM, "(The report keeps records of flagged "
			          "connections only; this one was rebuilt from the capture it names.)");
			fputc('\n', o->f);
		}
		if (explain_conn(o, root, c, fmt, err, sizeof err) < 0) {
			tout_fprintf(stderr, "lingerlab explain: %s: %s\n", path, err);
			json_decref(rebuilt);
			return LL_EXIT_USAGE;
		}
		json_decref(rebuilt);
	}
	return LL_EXIT_OK;
}

/* The connection ids of scenario name, or -1 with the error printed. */
static int scenario_ids(const char *path, const json_t *root, const char *name,
                        long long *ids, size_t max, size_t *n)
{
	const json_t *sc = rf_arr(root, "scenarios"), *s, *v;
	struct sbuf b;
	size_t i, j;

	*n = 0;
	if (!rf_is_lab(root)) {
		tout_fprintf(stderr, "lingerlab explain: --scenario: %s is not a lab report (it "
		             "has no scenarios; lingerlab run and audit write them)\n", path);
		return -1;
	}
	sb_init(&b);
	json_array_foreach(sc, i, s) {
		if (rf_str(s, "name") && !strcmp(rf_str(s, "name"), name)) {
			json_array_foreach(rf_arr(s, "connections"), j, v)
				if (json_is_integer(v) && *n < max)
					ids[(*n)++] = json_integer_value(v);
			return 0;
		}
		sb_add(&b, "%s%s", i ? ", " : "", rf_str(s, "name") ? rf_str(s, "name") : "?");
	}
	tout_fprintf(stderr, "lingerlab explain: --scenario: %s has no scenario '%s' (it has %s)\n",
	             path, name, b.n ? b.s : "none");
	return -1;
}

#define EXPLAIN_MAX_IDS 256

int cmd_explain(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "connection", required_argument, NULL, 'c' },
		{ "scenario", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "color", optional_argument, NULL, 'C' },
		{ "colour", optional_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum tout_color_mode mode = TOUT_AUTO;
	enum ex_format fmt = EX_TEXT;
	long long ids[EXPLAIN_MAX_IDS];
	size_t nids = 0;
	const char *scenario = NULL;
	struct tout o = { 0 };
	json_t *root = NULL, *conns, *c;
	char err[512];
	int opt, rc = LL_EXIT_USAGE;
	size_t i, shown = 0, flagged = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:s:f:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': {
			char *end;
			long long want;
			errno = 0;
			want = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || want < 1) {
				tout_fprintf(stderr, "lingerlab explain: --connection: expected a connection id, found '%s'\n", optarg);
				return LL_EXIT_USAGE;
			}
			if (nids == EXPLAIN_MAX_IDS) {
				tout_fprintf(stderr, "lingerlab explain: --connection: at most %d at a time\n", EXPLAIN_MAX_IDS);
				return LL_EXIT_USAGE;
			}
			ids[nids++] = want;
			break;
		}
		case 's':
			scenario = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "text")) {
				fmt = EX_TEXT;
			} else if (!strcmp(optarg, "markdown") || !strcmp(optarg, "md")) {
				fmt = EX_MARKDOWN;
			} else {
				tout_fprintf(stderr, "lingerlab explain: --format: expected text or markdown, found '%s'\n", optarg);
				return LL_EXIT_USAGE;
			}
			break;
		case 'C':
			if (tout_parse_color(optarg, &mode, err, sizeof err) < 0) {
				tout_fprintf(stderr, "lingerlab explain: %s\n", err);
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
	if (argc - optind != 1) {
		tout_fprintf(stderr, "lingerlab explain: %s\n",
		        argc - optind < 1 ? "no report given" : "one report at a time");
		usage(stderr);
		return LL_EXIT_USAGE;
	}
	if (scenario && nids) {
		tout_fprintf(stderr, "lingerlab explain: --scenario and --connection: pick one\n");
		return LL_EXIT_USAGE;
	}
	/* Markdown is text for a file or a slide: never terminal colours */
	if (fmt == EX_MARKDOWN)
		mode = TOUT_NEVER;
	root = rf_load(argv[optind], err, sizeof err);
	if (!root) {
		tout_fprintf(stderr, "lingerlab explain: %s\n", err);
		return LL_EXIT_USAGE;
	}
	if (scenario && scenario_ids(argv[optind], root, scenario, ids, EXPLAIN_MAX_IDS, &nids) < 0)
		goto out;
	if (tout_init(&o, stdout, mode) < 0) {
		tout_fprintf(stderr, "lingerlab explain: out of memory\n");
		goto out;
	}
	conns = rf_arr(root, "connections");

	if (nids > 0 || scenario) {
		print_origin(&o, argv[optind], root, fmt);
		if (scenario && nids == 0)
			tout_fprintf(o.f, "Scenario %s made no connection.\n", scenario);
		rc = explain_ids(&o, argv[optind], root, ids, nids, fmt);
		goto out;
	}

	print_origin(&o, argv[optind], root, fmt);
	json_array_foreach(conns, i, c) {
		long long id = rf_int(c, "id", -1);
		if (!rf_finding_for(root, id))
			continue;
		flagged++;
		if (shown >= EXPLAIN_MAX_CONNS)
			continue;
		if (explain_conn(&o, root, c, fmt, err, sizeof err) < 0) {
			tout_fprintf(stderr, "lingerlab explain: %s: %s\n", argv[optind], err);
			goto out;
		}
		shown++;
	}
	if (flagged == 0) {
		summarize(&o, root, fmt);
		fputc('\n', o.f);
		tout_para(&o, "", TOUT_PLAIN, TOUT_PLAIN, rf_is_lab(root) ?
		          "Every connection has a story, flagged or not: --scenario NAME or "
		          "--connection ID tells how it went and how it ended." :
		          "Every connection has a story, flagged or not: --connection ID tells "
		          "how it went and how it ended.");
	} else if (flagged > shown) {
		struct sbuf b;
		size_t listed = 0;
		sb_init(&b);
		json_array_foreach(conns, i, c) {
			long long id = rf_int(c, "id", -1);
			if (!rf_finding_for(root, id))
				continue;
			if (listed++ < shown)
				continue;
			if (listed > shown + 20) {
				sb_add(&b, ", ...");
				break;
			}
			sb_add(&b, "%s%lld", listed == shown + 1 ? "" : ", ", id);
		}
		tout_fprintf(o.f, "%zu more flagged connections (%s); pick one with --connection ID.\n",
		        flagged - shown, b.s);
	}
	if (rf_str(rf_obj(root, "verdict"), "text")) {
		if (flagged == 0)
			fputc('\n', o.f);
		fputs(fmt == EX_MARKDOWN ? "**verdict:** " : "verdict: ", o.f);
		tout_printf(&o, rf_bool(rf_obj(root, "verdict"), "hazard", false) ? TOUT_BOLD_RED : TOUT_BOLD_GREEN,
		            "%s\n", rf_str(rf_obj(root, "verdict"), "text"));
	}
	rc = LL_EXIT_OK;
out:
	tout_close(&o);
	if (fflush(stdout) != 0 && rc == LL_EXIT_OK) {
		perror("lingerlab explain: stdout");
		rc = LL_EXIT_USAGE;
	}
	json_decref(root);
	return rc;
}
