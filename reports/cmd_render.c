/*
 * cmd_render.c - `lingerlab render REPORT.json [-o REPORT.html]`: one
 * self-contained HTML page (inline CSS and SVG, no script, no fetches)
 * from a report: the verdict, how the connections ended, each finding in
 * plain words with its evidence and ladder diagram, and the FIN_WAIT_2
 * chart.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/cli.h"
#include "reports/html.h"
#include "reports/render.h"
#include "reports/reportfile.h"
#include "reports/svg.h"
#include "reports/textout.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: lingerlab render REPORT.json [-o REPORT.html] [--connection N]... [--all]\n"
	        "\n"
	        "Turn a report into one self-contained HTML page (inline CSS and SVG,\n"
	        "no scripts, no network): the verdict, teardown counts, each finding\n"
	        "in plain words with a ladder diagram and a time-sequence graph, one\n"
	        "connection per scenario of a lab report, and the FIN_WAIT_2 chart.\n"
	        "\n"
	        "  -o, --output FILE   where to write the page (default: REPORT.html\n"
	        "                      beside REPORT.json; \"-\": standard output)\n"
	        "  -c, --connection N  also draw connection N, flagged or not (repeatable;\n"
	        "                      one the report keeps no record of is rebuilt from\n"
	        "                      the capture it names)\n"
	        "  -a, --all           draw every connection of the capture (the first %d)\n"
	        "  -h, --help          show this help\n"
	        "\n"
	        "REPORT.json is a report from lingerlab analyze, run or audit (\"-\": stdin).\n"
	        "Exit status: 0 written, 2 bad usage or unreadable report.\n", RENDER_MAX_LADDERS);
}


/* Bytes at risk of a finding: the larger of its two views. */
static long long risk_of(const json_t *fd)
{
	long long a = rf_int(fd, "bytes_at_risk_at_server", 0), b = rf_int(fd, "bytes_at_risk_at_client", 0);

	return a > b ? a : b;
}

static bool id_in(const json_t *ids, long long id)
{
	json_t *v;
	size_t i;

	json_array_foreach(ids, i, v)
		if (json_is_integer(v) && json_integer_value(v) == id)
			return true;
	return false;
}

static void endpoint(FILE *f, const json_t *ep)
{
	html_endpoint(f, rf_str(ep, "addr"), rf_int(ep, "port", 0));
}

/* A kernel client's application or a client program, in a scenario's
 * cell: what the user would have seen (docs/real-clients.md). */
static void app_program_words(FILE *f, const json_t *s)
{
	const json_t *app = rf_arr(s, "app"), *prog = rf_obj(s, "program"), *c;
	size_t i;
	json_array_foreach(app, i, c) {
		if (i == 4) {
			fprintf(f, "<br><small>... %zu connections in all</small>", json_array_size(app));
			break;
		}
		const json_t *r = json_array_get(rf_arr(c, "responses"), 0);
		fputs("<br><small class=\"app\">application: ", f);
		if (r)
			fprintf(f, "got %lld (%s)", rf_int(r, "status", 0),
			        rf_bool(r, "complete", false) ? "complete" : "incomplete");
		else
			fputs("got no response", f);
		fputs("; ", f);
		html_esc(f, rf_str(c, "errors_text") ? rf_str(c, "errors_text") : "");
		fputs("</small>", f);
	}
	if (prog && rf_bool(prog, "ran", false)) {
		const json_t *ex = json_object_get(prog, "exit_status");
		if (json_is_integer(ex))
			fprintf(f, "<br><small class=\"program\">client program: exit %lld after %.3f s</small>",
			        (long long)json_integer_value(ex), rf_num(prog, "duration", 0));
		else
			fprintf(f, "<br><small class=\"program\">client program: killed by signal %lld</small>",
			        rf_int(prog, "signal", 0));
	}
}

static void target_words(FILE *f, const json_t *root)
{
	const json_t *tg = rf_obj(rf_obj(root, "lab"), "target");
	const char *kind = rf_str(tg, "kind");

	if (kind && !strcmp(kind, "builtin")) {
		fputs("the reference target with close policy <b>", f);
		html_esc(f, rf_str(tg, "policy") ? rf_str(tg, "policy") : "?");
		fputs("</b>", f);
	} else if (rf_str(tg, "command")) {
		fputs("<code>", f);
		html_esc(f, rf_str(tg, "command"));
		fputs("</code>", f);
	} else {
		fputs("a target", f);
	}
	if (rf_str(tg, "address")) {
		fputs(" at <code>", f);
		html_endpoint(f, rf_str(tg, "address"), rf_int(tg, "port", 0));
		fputs("</code>", f);
	}
}

static void page_head(FILE *f, const json_t *root, const char *path)
{
	const json_t *in = rf_obj(root, "input"), *tool = rf_obj(root, "tool");

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>lingerlab report: ", f);
	html_esc(f, path);
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<header>\n<h1>lingerlab report</h1>\n<p class=\"sub\">", render_css);
	html_esc(f, rf_str(root, "command"));
	if (rf_is_lab(root)) {
		fputs(" against ", f);
		target_words(f, root);
	} else if (rf_str(in, "source")) {
		fputs(" of <code>", f);
		html_esc(f, rf_str(in, "source"));
		fputs("</code>", f);
	}
	if (rf_str(root, "generated_at")) {
		fputs(" &middot; generated ", f);
		html_esc(f, rf_str(root, "generated_at"));
	}
	fputs(" &middot; ", f);
	html_esc(f, rf_str(tool, "name") ? rf_str(tool, "name") : "lingerlab");
	fputc(' ', f);
	html_esc(f, rf_str(tool, "version"));
	fputs("</p>\n</header>\n", f);
}

static void section_verdict(FILE *f, const json_t *root)
{
	const json_t *verdict = rf_obj(root, "verdict"), *sc = rf_arr(root, "scenarios");
	const json_t *findings = rf_arr(root, "findings"), *s, *fd;
	bool hazard = rf_bool(verdict, "hazard", json_array_size(findings) > 0);
	size_t i, j;

	fprintf(f, "<section id=\"verdict\" class=\"verdict %s\" data-hazard=\"%s\">\n<h2>%s</h2>\n",
	        hazard ? "hazard" : "clean", hazard ? "true" : "false",
	        hazard ? "Hazard found: a client can lose the server's last response"
	               : "No hazard found");
	if (rf_str(verdict, "text")) {
		fputs("<p class=\"verdict-text\">", f);
		html_esc(f, rf_str(verdict, "text"));
		fputs("</p>\n", f);
	}
	{
		const json_t *sum = rf_obj(root, "summary"), *ci = rf_obj(sum, "client_impact");
		if (ci && rf_int(sum, "rst_before_ack_server", 0) > 0)
			fprintf(f, "<p class=\"client-impact-summary\">The server's RSTs at the client "
			           "(RFC 5961): %lld reset it before it acknowledged the response "
			           "(reset_before_ack), %lld only after (reset_after_ack), %lld were never "
			           "accepted (no_reset).</p>\n", rf_int(ci, "reset_before_ack", 0),
			        rf_int(ci, "reset_after_ack", 0), rf_int(ci, "no_reset", 0));
	}
	if (rf_is_lab(root)) {
		fputs("<p>Target: ", f);
		target_words(f, root);
		fprintf(f, ". Leaked client-side RSTs: %lld.</p>\n", rf_int(rf_obj(root, "lab"), "leaked_rst", 0));
		fputs("<table class=\"scenarios\"><tr><th>scenario</th><th>rst_before_ack</th>"
		      "<th>bytes at risk</th><th>at the client<br><small>worst client_impact</small></th><th>lingered</th><th>fin_wait_2 peak<br><small>analyzer"
		      " / kernel</small></th><th>expectations</th><th>result</th></tr>\n", f);
		json_array_foreach(sc, i, s) {
			const json_t *ids = rf_arr(s, "connections"), *ex = rf_arr(s, "expectations"), *e;
			const json_t *sum = rf_obj(s, "summary");
			long long n = 0, risk = 0, held = 0;
			int worst = -1; /* 0 no_reset, 1 reset_after_ack, 2 reset_before_ack */
			static const char *const grades[] = { "no_reset", "reset_after_ack", "reset_before_ack" };
			json_array_foreach(findings, j, fd)
				if (id_in(ids, rf_int(fd, "connection", -1))) {
					const char *g = rf_str(fd, "client_impact");
					n++;
					risk += risk_of(fd);
					for (int k = 0; g && k < 3; k++)
						if (!strcmp(g, grades[k]) && k > worst)
							worst = k;
				}
			json_array_foreach(ex, j, e)
				held += rf_bool(e, "passed", false);
			fputs("<tr class=\"scenario\" data-scenario=\"", f);
			html_esc(f, rf_str(s, "name"));
			fputs("\"><td><b>", f);
			html_esc(f, rf_str(s, "name"));
			fputs("</b>", f);
			if (rf_str(s, "about")) {
				fputs("<br><small>", f);
				html_esc(f, rf_str(s, "about"));
				fputs("</small>", f);
			}
			app_program_words(f, s);
			fprintf(f, "</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td>", n, risk);
			if (worst >= 0)
				fprintf(f, "<td class=\"client-impact %s\">%s</td>", grades[worst], grades[worst]);
			else
				fputs("<td>&ndash;</td>", f);
			/* the runner's own per-scenario figures, when the report has them */
			if (sum && rf_is_num(sum, "lingered"))
				fprintf(f, "<td class=\"num\">%lld</td>", rf_int(sum, "lingered", 0));
			else
				fputs("<td>&ndash;</td>", f);
			if (sum && rf_is_num(sum, "fin_wait_2_peak"))
				fprintf(f, "<td class=\"num\">%lld / %lld</td>", rf_int(sum, "fin_wait_2_peak", 0),
				        rf_int(rf_obj(sum, "kernel_peak"), "FIN_WAIT_2", 0));
			else
				fputs("<td>&ndash;</td>", f);
			fputs("<td>", f);
			fprintf(f, "%lld of %zu hold", held, json_array_size(ex));
			json_array_foreach(ex, j, e) {
				bool ok = rf_bool(e, "passed", false);
				fprintf(f, "<br><span class=\"%s\">%s</span> ", ok ? "pass" : "fail", ok ? "&#10003;" : "&#10007;");
				fputs("<code>", f);
				html_esc(f, rf_str(e, "text"));
				fputs("</code>", f);
				if (!ok && rf_str(e, "detail")) {
					fputs(" &mdash; ", f);
					html_esc(f, rf_str(e, "detail"));
				}
			}
			fprintf(f, "</td><td class=\"%s\">%s</td></tr>\n",
			        rf_bool(s, "passed", false) ? "pass" : "fail",
			        rf_bool(s, "passed", false) ? "passed" : "failed");
		}
		fputs("</table>\n", f);
	}
	fputs("</section>\n", f);
}

static void count_rows(FILE *f, const json_t *obj)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		fputs("<tr><td>", f);
		html_esc(f, k);
		fprintf(f, "</td><td class=\"num\">%lld</td></tr>", rf_val_int(v, 0));
	}
}

static void section_teardown(FILE *f, const json_t *root)
{
	const json_t *sum = rf_obj(root, "summary"), *in = rf_obj(root, "input");

	fputs("<section id=\"teardown\">\n<h2>How the connections ended</h2>\n", f);
	fprintf(f, "<p>%lld connection%s; %lld lingering close%s (the server kept reading after its FIN)",
	        rf_int(sum, "connections", 0), rf_int(sum, "connections", 0) == 1 ? "" : "s",
	        rf_int(sum, "lingered", 0), rf_int(sum, "lingered", 0) == 1 ? "" : "s");
	if (rf_int(sum, "role_inferred", 0) > 0)
		fprintf(f, "; for %lld the roles were guessed from ports (no handshake seen)",
		        rf_int(sum, "role_inferred", 0));
	fputs(".</p>\n<div style=\"display:flex;gap:28px;flex-wrap:wrap;align-items:flex-start\">\n"
	      "<table class=\"teardown-kind\"><tr><th>kind</th><th>connections</th></tr>", f);
	count_rows(f, rf_obj(sum, "by_kind"));
	fputs("</table>\n<table class=\"teardown-initiator\"><tr><th>closed first by</th><th>connections</th></tr>", f);
	count_rows(f, rf_obj(sum, "by_initiator"));
	fputs("</table>\n</div>\n<p class=\"sub\">Input: ", f);
	html_esc(f, rf_str(in, "source") ? rf_str(in, "source") : "?");
	fprintf(f, ", %lld packets (%lld TCP) over %.3f s; truncated %lld, invalid %lld, skipped %lld.</p>\n"
	           "</section>\n",
	        rf_int(in, "packets", 0), rf_int(in, "tcp_packets", 0), rf_num(in, "duration", 0),
	        rf_int(in, "truncated", 0), rf_int(in, "invalid", 0), rf_int(in, "skipped", 0));
}

/* The sender's FIN came before its RST (connection record's c2s/s2c
 * fin_packet): a close that reset, not an abort, whatever the cause says. */
static bool fin_first(const json_t *fd, const json_t *conn)
{
	const char *sender = rf_str(fd, "sender");
	const json_t *d = rf_obj(conn, sender && !strcmp(sender, "client") ? "c2s" : "s2c");
	long long fin = rf_int(d, "fin_packet", -1);

	return fin > 0 && fin < rf_int(fd, "rst_packet", -1);
}

/* Why the sender reset, in words that fit who sent it and whether it had
 * sent its FIN first (conn's direction's fin_seq; fin_before: the FIN's
 * packet came before the RST's). */
static void cause_words(FILE *f, const char *cause, bool server, const json_t *conn,
                        bool fin_before)
{
	const char *me = server ? "server" : "client", *peer = server ? "client" : "server";
	bool sent_fin = json_is_integer(json_object_get(rf_obj(conn, server ? "s2c" : "c2s"),
	                                                "fin_seq"));

	if (!cause)
		return;
	if (!strcmp(cause, "abort") && fin_before) {
		fputs(" Why: the RST came right after the sender's own FIN, so it closed "
		      "(an abort with SO_LINGER 0 sends no FIN) and reset because data of its "
		      "peer's was still unread or on its way.", f);
		return;
	}
	if (!strcmp(cause, "data_after_fin"))
		fprintf(f, " Why: the %s kept sending after the %s's FIN, and the %s, "
		           "which had closed without lingering, no longer read; its kernel "
		           "answered the late data with RST.", peer, me, me);
	else if (!strcmp(cause, "unread_at_close"))
		fprintf(f, " Why: the %s closed while %s data sat unread in its socket, and "
		           "closing with unread data makes the kernel send RST %s.", me, peer,
		        sent_fin ? "even after a FIN sent by shutdown()" : "instead of FIN");
	else if (!strcmp(cause, "abort"))
		fputs(sent_fin ? " Why: an abortive close after its FIN (e.g. SO_LINGER with a "
		                 "zero timeout)."
		               : " Why: an abortive close (RST without FIN, e.g. SO_LINGER with a "
		                 "zero timeout).", f);
}

/* The client's side of a server RST (client_impact), in plain words. */
static void client_words(FILE *f, const json_t *fd, long long status)
{
	const json_t *im = rf_obj(fd, "impact");
	const char *g = rf_str(fd, "client_impact");
	const char *what = status >= 400 ? "error page" : "response";

	if (!g || !strcmp(g, "reset_before_ack")) {
		if (g)
			fprintf(f, " <span class=\"client-impact reset_before_ack\">At the client: "
			           "it accepted a RST (packet %lld) while %lld response bytes were still "
			           "unacknowledged by it (reset_before_ack).</span>",
			        rf_int(im, "accepted_rst_packet", 0), rf_int(im, "unacked_at_accept", 0));
		fprintf(f, " A client TCP that receives a RST may discard the data it has not yet "
		           "handed to the application, so the user can see \"connection reset by "
		           "peer\" instead of the %s.", what);
	} else if (!strcmp(g, "reset_after_ack")) {
		fprintf(f, " <span class=\"client-impact reset_after_ack\">At the client: it had "
		           "acknowledged the whole response before any RST it would accept "
		           "(reset_after_ack; it accepts packet %lld).</span> A Linux or BSD "
		           "application can still read the %s from its receive buffer; a Windows "
		           "one loses it, and one still writing its request body sees ECONNRESET "
		           "or EPIPE first.", rf_int(im, "accepted_rst_packet", 0), what);
	} else if (!strcmp(g, "no_reset")) {
		fprintf(f, " <span class=\"client-impact no_reset\">At the client: it would accept "
		           "none of the server's %lld RST%s (no_reset).</span> It keeps the %s, by "
		           "luck rather than design: the server could not know the client had it.",
		        rf_int(im, "rsts_total", 0), rf_int(im, "rsts_total", 0) == 1 ? "" : "s", what);
	}
	if (g && rf_bool(im, "estimated", false))
		fputs(" (The client's side is estimated: the capture was not taken next to it.)", f);
}

static void finding_words(FILE *f, const json_t *fd, const json_t *conn)
{
	const json_t *resp = rf_obj(fd, "response");
	const char *sender = rf_str(fd, "sender");
	long long at_s = rf_int(fd, "bytes_at_risk_at_server", 0);
	long long at_c = rf_int(fd, "bytes_at_risk_at_client", 0);
	long long status = rf_int(resp, "status", 0);
	bool server = sender && !strcmp(sender, "server");

	fputs("<p class=\"plain\">", f);
	fprintf(f, "The %s sent a RST (packet %lld, %.6f s into the capture) ",
	        server ? "server" : "client", rf_int(fd, "rst_packet", 0), rf_num(fd, "time", 0));
	if (at_s > 0)
		fprintf(f, "while %lld bytes of its %s were not yet acknowledged as far as it "
		           "could know when it sent it", at_s, server ? "response" : "data");
	if (at_s > 0 && at_c > 0)
		fputs(", and ", f);
	if (at_c > 0)
		fprintf(f, "%lld bytes were still unacknowledged at the %s when the RST reached it",
		        at_c, server ? "client" : "server");
	fputc('.', f);
	if (status > 0)
		fprintf(f, " The bytes at risk belong to response %lld (HTTP status %lld).",
		        rf_int(resp, "index", 0), status);
	cause_words(f, rf_str(fd, "cause"), server, conn, fin_first(fd, conn));
	if (server) {
		client_words(f, fd, status);
	} else if (rf_str(rf_obj(fd, "impact"), "grade")) {
		fputs(" <span class=\"peer-impact\">At the server: ", f);
		html_esc(f, rf_str(rf_obj(fd, "impact"), "grade"));
		fputs(".</span>", f);
	}
	if (rf_int(fd, "unanswered_requests", 0) > 0)
		fprintf(f, " %lld pipelined request(s) got no answer.", rf_int(fd, "unanswered_requests", 0));
	if (rf_bool(conn, "lingered", false))
		fputs(" (The server lingered on this connection, yet still reset it.)", f);
	fputs("</p>\n", f);
}

static void dd_num(FILE *f, const char *dt, const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	fprintf(f, "<dt>%s</dt><dd>", dt);
	if (json_is_integer(v))
		fprintf(f, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		fprintf(f, "%.6f", json_real_value(v));
	else if (json_is_string(v))
		html_esc(f, json_string_value(v));
	else if (json_is_boolean(v))
		fputs(json_is_true(v) ? "yes" : "no", f);
	else
		fputs("&ndash;", f);
	fputs("</dd>", f);
}

static void evidence(FILE *f, const json_t *root, const json_t *fd)
{
	const json_t *risk = rf_arr(fd, "at_risk_packets"), *v;
	const char *cap = rf_str(rf_obj(root, "lab"), "capture");
	size_t i;

	if (!cap)
		cap = rf_str(rf_obj(root, "input"), "source");
	fputs("<dl class=\"evidence\">", f);
	dd_num(f, "RST packet", fd, "rst_packet");
	fputs("<dt>response packets at risk</dt><dd>", f);
	json_array_foreach(risk, i, v)
		fprintf(f, "%s%lld", i ? ", " : "", rf_val_int(v, 0));
	if (!risk || !json_array_size(risk))
		fputs("&ndash;", f);
	fputs("</dd>", f);
	dd_num(f, "RST sequence number", fd, "rst_seq");
	dd_num(f, "RST carries an ACK", fd, "rst_has_ack");
	dd_num(f, "sender's data_end", fd, "data_end");
	dd_num(f, "acked, as captured", fd, "acked_at_capture");
	dd_num(f, "bytes at risk, server's view", fd, "bytes_at_risk_at_server");
	dd_num(f, "bytes at risk, client's view", fd, "bytes_at_risk_at_client");
	dd_num(f, "judged by", fd, "basis");
	if (rf_obj(fd, "evidence")) {
		const json_t *ev = rf_obj(fd, "evidence");
		long long pk = rf_int(ev, "packet", 0), peer = rf_int(ev, "peer_packet", 0);
		fputs("<dt>evidence</dt><dd>", f);
		if (pk == rf_int(fd, "rst_packet", -1))
			fputs("the RST's seq is the ACK field of ", f);
		else
			fprintf(f, "packet %lld acknowledges ", pk);
		if (peer > 0)
			fprintf(f, "packet %lld", peer);
		else
			fputs("a peer segment", f);
		fprintf(f, ", which acknowledged up to %lld</dd>", rf_int(ev, "acked", 0));
	}
	if (rf_obj(fd, "impact")) {
		const json_t *im = rf_obj(fd, "impact"), *r;
		const char *at = rf_str(im, "at");
		size_t k;
		fprintf(f, "<dt>impact at the %s</dt><dd class=\"impact-grade\">", at ? (strcmp(at, "server") ? "client" : "server") : "peer");
		html_esc(f, rf_str(im, "grade") ? rf_str(im, "grade") : "?");
		fprintf(f, "%s</dd>", rf_bool(im, "estimated", false) ? " (estimated)" : " (read off the capture)");
		fprintf(f, "<dt>the sender's RSTs, as the receiver takes them</dt><dd>%lld in all", rf_int(im, "rsts_total", 0));
		json_array_foreach(rf_arr(im, "rsts"), k, r) {
			fprintf(f, "%s#%lld seq %lld: ", k ? "; " : ": ", rf_int(r, "packet", 0), rf_int(r, "seq", 0));
			html_esc(f, rf_str(r, "accept") ? rf_str(r, "accept") : "?");
		}
		fputs("</dd>", f);
	}
	dd_num(f, "RST seq shows the ACK it answered", fd, "seq_evidence");
	dd_num(f, "cause", fd, "cause");
	dd_num(f, "capture vantage", fd, "vantage");
	dd_num(f, "pipelined requests unanswered", fd, "unanswered_requests");
	if (cap) {
		fputs("<dt>packets numbered as in</dt><dd><code>", f);
		html_esc(f, cap);
		fputs("</code> (tcpdump -r, Wireshark frame numbers)</dd>", f);
	}
	fputs("</dl>\n", f);
}

const char render_legend[] =
	"<figcaption>Time runs down (the axis on the left, in seconds since the "
	"connection's first packet). Each arrow is one packet, leaving its sender and "
	"arriving at the receiver, labelled where it crosses the capture point: "
	"packet number, tcpdump flags, seq:end(len) and ack. Where the round trips are known the arrow bends at "
	"the capture point (dashed line), so its slope shows the latency on each side. "
	"<span class=\"key\" style=\"border-color:#2563eb\"></span>client to server"
	"<span class=\"key\" style=\"border-color:#059669\"></span>server to client"
	"<span class=\"key\" style=\"border-color:#ea580c\"></span>response bytes at risk"
	"<span class=\"key\" style=\"border-color:#7c3aed\"></span>FIN"
	"<span class=\"key\" style=\"border-style:dashed;border-color:#059669\"></span>a retransmission"
	"<span class=\"key\" style=\"border-color:#dc2626\"></span>RST (solid and thick: the "
	"RST its receiver accepts; dashed and faint: one it ignores under RFC 5961; dotted: one "
	"it answers with a challenge ACK). "
	"The purple band on the server column is the server's FIN_WAIT_2 time; the "
	"orange bar on the client column is how long the at-risk bytes sat "
	"unacknowledged at the client before the RST arrived. Grey bands are idle "
	"time cut from the picture; blue bands are runs of like packets (bulk data and "
	"its ACKs): click the ladder to draw each of them.</figcaption>\n";

static int section_findings(FILE *f, const json_t *root, char *err, size_t errlen)
{
	const json_t *findings = rf_arr(root, "findings"), *fd;
	size_t i, drawn = 0, rest = 0;

	fputs("<section id=\"findings\">\n<h2>Findings</h2>\n", f);
	if (json_array_size(findings) == 0)
		fputs("<p>No finding: nobody reset a connection while some of its own data was "
		      "still unacknowledged, so no client can have lost a response to a RST.</p>\n", f);
	json_array_foreach(findings, i, fd) {
		long long cid = rf_int(fd, "connection", -1);
		const json_t *conn = rf_conn(root, cid);
		if (drawn >= RENDER_MAX_LADDERS) {
			rest++;
			continue;
		}
		fprintf(f, "<article class=\"finding\" id=\"finding-%zu\" data-connection=\"%lld\">\n<h3>", i + 1, cid);
		html_esc(f, rf_str(fd, "type"));
		fprintf(f, " &middot; connection %lld", cid);
		if (conn) {
			fputs(" &middot; client ", f);
			endpoint(f, rf_obj(conn, "client"));
			fputs(" &rarr; server ", f);
			endpoint(f, rf_obj(conn, "server"));
		}
		fputs("</h3>\n", f);
		if (!strcmp(rf_str(fd, "type"), "rst_before_ack"))
			finding_words(f, fd, conn);
		if (rf_str(fd, "summary")) {
			fputs("<p class=\"summary\"><i>", f);
			html_esc(f, rf_str(fd, "summary"));
			fputs("</i></p>\n", f);
		}
		evidence(f, root, fd);
		if (conn && render_conn_figures(f, conn, fd, NULL, err, errlen) < 0)
			return -1;
		fputs("</article>\n", f);
		drawn++;
	}
	if (rest) {
		fprintf(f, "<p>%zu more findings, without diagrams (<code>lingerlab explain "
		           "--connection ID</code> tells each one's story):</p>\n"
		           "<table class=\"more-findings\"><tr><th>connection</th><th>RST packet</th>"
		           "<th>bytes at risk</th><th>client_impact</th><th>cause</th></tr>\n", rest);
		json_array_foreach(findings, i, fd) {
			if (i < drawn)
				continue;
			fprintf(f, "<tr><td>%lld</td><td>%lld</td><td class=\"num\">%lld</td><td>",
			        rf_int(fd, "connection", 0), rf_int(fd, "rst_packet", 0), risk_of(fd));
			html_esc(f, rf_str(fd, "client_impact") ? rf_str(fd, "client_impact") : "-");
			fputs("</td><td>", f);
			html_esc(f, rf_str(fd, "cause"));
			fputs("</td></tr>\n", f);
		}
		fputs("</table>\n", f);
	}
	fputs("</section>\n", f);
	return 0;
}

static void fw2_table_row(FILE *f, const char *label, const json_t *side)
{
	const json_t *dur = rf_obj(side, "duration"), *end = rf_obj(side, "endings"), *v;
	const char *k;
	bool first = true;

	fprintf(f, "<tr><td>%s</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td>",
	        label, rf_int(side, "count", 0), rf_int(side, "peak", 0));
	if (rf_int(side, "count", 0) > 0)
		fprintf(f, "<td class=\"num\">%.3f</td><td class=\"num\">%.3f</td><td class=\"num\">%.3f</td><td>",
		        rf_num(dur, "p50", 0), rf_num(dur, "p90", 0), rf_num(dur, "max", 0));
	else
		fputs("<td></td><td></td><td></td><td>", f);
	json_object_foreach((json_t *)end, k, v) {
		if (rf_val_num(v, 0) <= 0)
			continue;
		fputs(first ? "" : ", ", f);
		html_esc(f, k);
		fprintf(f, " %lld", rf_val_int(v, 0));
		first = false;
	}
	fputs("</td></tr>\n", f);
}

static void section_fw2(FILE *f, const json_t *root)
{
	const json_t *fw = rf_obj(root, "fin_wait_2");
	const json_t *kern = rf_obj(rf_obj(root, "lab"), "kernel");
	const json_t *srv = rf_obj(fw, "server"), *cli = rf_obj(fw, "client");

	fputs("<section id=\"fin-wait-2\">\n<h2>FIN_WAIT_2</h2>\n"
	      "<p>A socket is in FIN_WAIT_2 when its side closed first, the peer acknowledged "
	      "that FIN, and the peer's own FIN has not come yet. Each one holds kernel memory "
	      "until the peer closes or a timeout ends it; clients that never close pile them "
	      "up on the server.</p>\n"
	      "<table class=\"fw2-summary\"><tr><th>closed first</th><th>sockets</th><th>peak</th>"
	      "<th>p50 (s)</th><th>p90 (s)</th><th>max (s)</th><th>how they ended</th></tr>\n", f);
	if (srv)
		fw2_table_row(f, "server", srv);
	if (cli)
		fw2_table_row(f, "client", cli);
	fputs("</table>\n", f);
	if (kern)
		fprintf(f, "<p>The kernel of the server's namespace, sampled every %.3f s, saw at most "
		           "%lld sockets in FIN_WAIT_2.</p>\n",
		        rf_num(kern, "interval", 0), rf_int(rf_obj(kern, "peak"), "FIN_WAIT_2", 0));
	fputs("<figure>\n", f);
	svg_fw2_chart(f, root, "server");
	fputs("<figcaption>Server sockets in FIN_WAIT_2 over time, as the packets show them", f);
	if (rf_arr(kern, "samples") && json_array_size(rf_arr(kern, "samples")))
		fputs(" (solid), and as the kernel's sampled socket table showed them (dashed, dots)", f);
	fputs(".</figcaption>\n</figure>\n", f);
	if (rf_int(cli, "count", 0) > 0) {
		fputs("<figure>\n", f);
		svg_fw2_chart(f, root, "client");
		fputs("<figcaption>Client sockets in FIN_WAIT_2 (the client closed first).</figcaption>\n</figure>\n", f);
	}
	fputs("</section>\n", f);
}

int render_html(FILE *f, const json_t *root, const char *path, char *err, size_t errlen)
{
	return render_html_opt(f, root, path, NULL, err, errlen);
}

int render_html_opt(FILE *f, const json_t *root, const char *path,
                    const struct render_opt *opt, char *err, size_t errlen)
{
	page_head(f, root, path);
	section_verdict(f, root);
	section_teardown(f, root);
	if (section_findings(f, root, err, errlen) < 0 ||
	    render_section_connections(f, root, opt, err, errlen) < 0 ||
	    render_section_scenarios(f, root, err, errlen) < 0) {
		char why[400];
		snprintf(why, sizeof why, "%s", err);
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	section_fw2(f, root);
	fputs("<footer>Made by lingerlab from <code>", f);
	html_esc(f, path);
	fputs("</code>. Packet numbers are frame numbers in the capture the report names. "
	      "<code>lingerlab explain</code> tells the same story on a terminal.</footer>\n"
	      "</body>\n</html>\n", f);
	return 0;
}

/* REPORT.json -> REPORT.html; anything else gets ".html" appended. */
static char *default_output(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n + 6);

	if (!out)
		return NULL;
	if (n > 5 && !strcmp(in + n - 5, ".json"))
		snprintf(out, n + 6, "%.*s.html", (int)(n - 5), in);
	else
		snprintf(out, n + 6, "%s.html", in);
	return out;
}

int render_to_file(const json_t *root, const char *report_path, const char *out,
                   char *err, size_t errlen)
{
	return render_to_file_opt(root, report_path, out, NULL, err, errlen);
}

int render_to_file_opt(const json_t *root, const char *report_path, const char *out,
                       const struct render_opt *opt, char *err, size_t errlen)
{
	char *tmp = NULL;
	FILE *f = NULL;
	int fd = -1, rc = -1;
	size_t n;

	if (!strcmp(out, "-")) {
		if (render_html_opt(stdout, root, report_path, opt, err, errlen) < 0)
			return -1;
		if (fflush(stdout) != 0 || ferror(stdout)) {
			snprintf(err, errlen, "standard output: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	n = strlen(out) + 8;
	tmp = malloc(n);
	if (!tmp) {
		snprintf(err, errlen, "%s: out of memory", out);
		goto out;
	}
	/* write beside the target and rename: no reader sees half a page */
	snprintf(tmp, n, "%s.XXXXXX", out);
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", out, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0644) < 0 || !(f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "%s: %s", out, strerror(errno));
		goto out;
	}
	fd = -1;
	if (render_html_opt(f, root, report_path, opt, err, errlen) < 0)
		goto out;
	if (fflush(f) != 0 || ferror(f)) {
		snprintf(err, errlen, "%s: %s", out, strerror(errno));
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		snprintf(err, errlen, "%s: %s", out, strerror(errno));
		goto out;
	}
	f = NULL;
	if (rename(tmp, out) < 0) {
		snprintf(err, errlen, "%s: %s", out, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (rc < 0 && tmp && tmp[0])
		unlink(tmp);
	free(tmp);
	tmp = NULL;
	return rc;
}

int cmd_render(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "connection", required_argument, NULL, 'c' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	char *dflt = NULL;
	json_t *root = NULL;
	char err[512];
	long long ids[RENDER_MAX_LADDERS];
	struct render_opt ro = { .ids = ids };
	int opt, rc = LL_EXIT_USAGE;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:c:ah", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'c': {
			char *end;
			long long v;
			errno = 0;
			v = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 1) {
				tout_fprintf(stderr, "lingerlab render: --connection: expected a connection id, found '%s'\n", optarg);
				return LL_EXIT_USAGE;
			}
			if (ro.n_ids == RENDER_MAX_LADDERS) {
				tout_fprintf(stderr, "lingerlab render: --connection: at most %d connections (--all draws the first %d)\n",
				             RENDER_MAX_LADDERS, RENDER_MAX_LADDERS);
				return LL_EXIT_USAGE;
			}
			ids[ro.n_ids++] = v;
			break;
		}
		case 'a':
			ro.all = true;
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
		tout_fprintf(stderr, "lingerlab render: %s\n",
		        argc - optind < 1 ? "no report given" : "one report at a time");
		usage(stderr);
		return LL_EXIT_USAGE;
	}
	if (!out && !strcmp(argv[optind], "-")) {
		out = "-";
	} else if (!out) {
		dflt = default_output(argv[optind]);
		if (!dflt) {
			tout_fprintf(stderr, "lingerlab render: out of memory\n");
			return LL_EXIT_USAGE;
		}
		out = dflt;
	}
	root = rf_load(argv[optind], err, sizeof err);
	if (!root) {
		tout_fprintf(stderr, "lingerlab render: %s\n", err);
		goto out;
	}
	if (render_to_file_opt(root, argv[optind], out, &ro, err, sizeof err) < 0) {
		tout_fprintf(stderr, "lingerlab render: %s\n", err);
		goto out;
	}
	if (strcmp(out, "-"))
		tout_fprintf(stderr, "lingerlab render: wrote %s\n", out);
	rc = LL_EXIT_OK;
out:
	json_decref(root);
	free(dflt);
	dflt = NULL;
	return rc;
}
