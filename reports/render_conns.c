/*
 * render_conns.c - the page's pictures of connections picked by the
 * reader, flagged or not (`render --connection N`, `render --all`), and
 * in a lab report one representative connection per scenario (its first),
 * so a lecturer shows "linger" beside "close". Contract in render.h.
 *
 * A report keeps records (with timelines) only of flagged connections;
 * any other is rebuilt from the capture the report names (pcaptl.h), all
 * of them in one pass over it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/html.h"
#include "reports/pcaptl.h"
#include "reports/render.h"
#include "reports/reportfile.h"
#include "reports/svg.h"

/* The figures of one connection: its ladder, the server's time-sequence
 * graph, and the client's when it sent a body. */
int render_conn_figures(FILE *f, const json_t *conn, const json_t *finding, const char *where,
                        char *err, size_t errlen)
{
	fputs("<figure class=\"ladder-fig\">\n", f);
	if (svg_ladder(f, conn, finding, where, err, errlen) < 0)
		return -1;
	fputs(render_legend, f);
	fputs("</figure>\n<figure class=\"tsg-fig\">\n", f);
	if (svg_tsg(f, conn, finding, RF_S2C, where, err, errlen) < 0)
		return -1;
	fputs("<figcaption>Time-sequence graph of the server's data, as tcptrace draws it: "
	      "each bar is a segment from its first byte to one past its last; below the "
	      "bars the client's ACK, above them the window it offers (the server may send "
	      "up to that line). F, R, S mark the server's FIN, RST and SYN; the client's "
	      "FIN and RST are ticks along the top. Orange: the bytes a RST left "
	      "unacknowledged.</figcaption>\n</figure>\n", f);
	if (svg_tsg_wants_client(conn)) {
		fputs("<figure class=\"tsg-fig\">\n", f);
		if (svg_tsg(f, conn, finding, RF_C2S, where, err, errlen) < 0)
			return -1;
		fputs("<figcaption>The same for the client's data (its request body): the "
		      "server's ACK and window over the client's segments.</figcaption>\n</figure>\n", f);
	}
	return 0;
}

/* "graceful, closed first by server; client ends TIME_WAIT, server CLOSED" */
static void conn_heading(FILE *f, const json_t *conn, const char *scenario)
{
	long long id = rf_int(conn, "id", 0);

	fprintf(f, "<h3>connection %lld &middot; client ", id);
	html_endpoint(f, rf_str(rf_obj(conn, "client"), "addr"), rf_int(rf_obj(conn, "client"), "port", 0));
	fputs(" &rarr; server ", f);
	html_endpoint(f, rf_str(rf_obj(conn, "server"), "addr"), rf_int(rf_obj(conn, "server"), "port", 0));
	if (scenario) {
		fputs(" &middot; scenario <b>", f);
		html_esc(f, scenario);
		fputs("</b>", f);
	}
	fputs("</h3>\n<p class=\"teardown-line\">", f);
	html_esc(f, rf_str(conn, "kind") ? rf_str(conn, "kind") : "?");
	fputs(", closed first by ", f);
	html_esc(f, rf_str(conn, "close_initiator") ? rf_str(conn, "close_initiator") : "?");
	fputs("; the wire leaves the client in ", f);
	html_esc(f, rf_str(conn, "client_end") ? rf_str(conn, "client_end") : "?");
	fputs(" and the server in ", f);
	html_esc(f, rf_str(conn, "server_end") ? rf_str(conn, "server_end") : "?");
	if (rf_bool(conn, "lingered", false))
		fprintf(f, "; the server lingered %.3f s", rf_num(rf_obj(conn, "linger"), "seconds", 0));
	fputs(".</p>\n", f);
}

static int conn_article(FILE *f, const json_t *root, const json_t *conn, const char *scenario,
                        const char *cls, const char *where, char *err, size_t errlen)
{
	fprintf(f, "<article class=\"%s\" data-connection=\"%lld\"", cls, rf_int(conn, "id", 0));
	if (scenario) {
		fputs(" data-scenario=\"", f);
		html_esc(f, scenario);
		fputc('"', f);
	}
	fputs(">\n", f);
	conn_heading(f, conn, scenario);
	if (render_conn_figures(f, conn, rf_finding_for(root, rf_int(conn, "id", 0)), where, err, errlen) < 0)
		return -1;
	fputs("</article>\n", f);
	return 0;
}

int render_section_connections(FILE *f, const json_t *root, const struct render_opt *opt,
                               char *err, size_t errlen)
{
	json_t *rebuilt = NULL, *c;
	long long *missing = NULL;
	size_t nmiss = 0, i, total = 0, k;
	int rc = -1;

	if (!opt || (!opt->all && opt->n_ids == 0))
		return 0;
	fputs("<section id=\"connections\">\n<h2>Connections</h2>\n", f);
	if (opt->all) {
		rebuilt = ptl_connections(root, NULL, 0, RENDER_MAX_LADDERS, &total, err, errlen);
		if (!rebuilt)
			goto out;
		fprintf(f, "<p>All %zu connection%s of the capture", total, total == 1 ? "" : "s");
		if (total > json_array_size(rebuilt))
			fprintf(f, " (the first %zu drawn)", json_array_size(rebuilt));
		fputs(".</p>\n", f);
		json_array_foreach(rebuilt, i, c) {
			/* a flagged connection's record in the report is the same
			 * analysis, with the finding beside it */
			const json_t *rec = rf_conn(root, rf_int(c, "id", -1));
			if (conn_article(f, root, rec ? rec : c, NULL, "connection", "conn-", err, errlen) < 0)
				goto out;
		}
		rc = 0;
		goto out;
	}
	if (!(missing = calloc(opt->n_ids, sizeof *missing))) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (k = 0; k < opt->n_ids; k++)
		if (!rf_conn(root, opt->ids[k]))
			missing[nmiss++] = opt->ids[k];
	if (nmiss && !(rebuilt = ptl_connections(root, missing, nmiss, nmiss, NULL, err, errlen)))
		goto out;
	for (k = 0; k < opt->n_ids; k++) {
		const json_t *rec = rf_conn(root, opt->ids[k]);
		for (i = 0; !rec && rebuilt && i < json_array_size(rebuilt); i++)
			if (rf_int(json_array_get(rebuilt, i), "id", -1) == opt->ids[k])
				rec = json_array_get(rebuilt, i);
		if (!rec)
			continue;
		if (conn_article(f, root, rec, NULL, "connection", "conn-", err, errlen) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc == 0)
		fputs("</section>\n", f);
	free(missing);
	missing = NULL;
	json_decref(rebuilt);
	return rc;
}

int render_section_scenarios(FILE *f, const json_t *root, char *err, size_t errlen)
{
	const json_t *sc = rf_arr(root, "scenarios"), *s;
	json_t *rebuilt = NULL;
	long long *ids = NULL;
	size_t n = 0, i, k;
	char why[400] = "";

	if (!rf_is_lab(root) || json_array_size(sc) == 0)
		return 0;
	if (!(ids = calloc(json_array_size(sc), sizeof *ids))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* the first connection of each scenario without a record, in one pass */
	json_array_foreach(sc, i, s) {
		json_t *first = json_array_get(rf_arr(s, "connections"), 0);
		if (json_is_integer(first) && !rf_conn(root, json_integer_value(first)))
			ids[n++] = json_integer_value(first);
	}
	if (n && !(rebuilt = ptl_connections(root, ids, n, n, NULL, why, sizeof why)))
		n = 0;
	fputs("<section id=\"scenario-ladders\">\n<h2>One connection per scenario</h2>\n"
	      "<p>The first connection of each scenario, flagged or not, so the teardowns "
	      "can be compared.</p>\n", f);
	if (why[0]) {
		fputs("<p class=\"note\">Connections without a record in the report cannot be "
		      "drawn: ", f);
		html_esc(f, why);
		fputs(".</p>\n", f);
	}
	json_array_foreach(sc, i, s) {
		json_t *first = json_array_get(rf_arr(s, "connections"), 0);
		const json_t *rec;
		if (!json_is_integer(first)) {
			fputs("<p class=\"note\">Scenario <b>", f);
			html_esc(f, rf_str(s, "name"));
			fputs("</b> made no connection.</p>\n", f);
			continue;
		}
		rec = rf_conn(root, json_integer_value(first));
		for (k = 0; !rec && rebuilt && k < json_array_size(rebuilt); k++)
			if (rf_int(json_array_get(rebuilt, k), "id", -1) == json_integer_value(first))
				rec = json_array_get(rebuilt, k);
		if (!rec)
			continue;
		if (conn_article(f, root, rec, rf_str(s, "name"), "scenario-conn", "scn-", err, errlen) < 0) {
			json_decref(rebuilt);
			free(ids);
			return -1;
		}
	}
	fputs("</section>\n", f);
	json_decref(rebuilt);
	free(ids);
	ids = NULL;
	return 0;
}
