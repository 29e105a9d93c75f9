/*
 * render.h - the HTML page of a report (`lingerlab render`, also written by
 * `lingerlab audit`). The page is self-contained: inline CSS and SVG, no
 * script, no external fetch (a banded ladder opens with <details>). Every
 * report string is escaped.
 *
 * cmd_render.c writes the page and its verdict, teardown, findings and
 * FIN_WAIT_2 sections; render_conns.c the pictures of connections the
 * reader picks and one per scenario of a lab report.
 */
#ifndef LL_REPORTS_RENDER_H
#define LL_REPORTS_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Ladder diagrams drawn at most per section; further connections are
 * listed (a report may hold thousands, and each ladder is a few hundred
 * rows). */
#define RENDER_MAX_LADDERS 50

/* What the reader asked to see beyond the findings. */
struct render_opt {
	const long long *ids;   /* --connection N..., n_ids of them */
	size_t n_ids;
	bool all;               /* --all: every connection of the capture */
};

/*
 * Write the page for root (a report checked by rf_load()) to f; path is
 * the report's name as shown on the page. Returns 0, or -1 with a message
 * in err when a connection's timeline is malformed (the page is then
 * incomplete: callers write to a temporary file, see render_to_file()).
 */
int render_html(FILE *f, const json_t *root, const char *path, char *err,
                size_t errlen);
int render_html_opt(FILE *f, const json_t *root, const char *path,
                    const struct render_opt *opt, char *err, size_t errlen);

/*
 * Write the page to out ("-": standard output). A file is written beside
 * out under a temporary name and renamed over it, so it is either the whole
 * page or untouched. Returns 0, or -1 with "what: detail" in err.
 */
int render_to_file(const json_t *root, const char *report_path, const char *out,
                   char *err, size_t errlen);
int render_to_file_opt(const json_t *root, const char *report_path, const char *out,
                       const struct render_opt *opt, char *err, size_t errlen);

/* The legend under every ladder (cmd_render.c). */
extern const char render_legend[];

/* The page's style sheet (render_css.c). */
extern const char render_css[];

/*
 * The figures of one connection record (with timeline): its ladder, the
 * server's time-sequence graph, the client's too when it sent a body.
 * finding may be NULL; where prefixes the ids (svg.h). Returns 0, or -1
 * with err (a malformed timeline).
 */
int render_conn_figures(FILE *f, const json_t *conn, const json_t *finding, const char *where,
                        char *err, size_t errlen);

/*
 * The section of the connections opt picks (nothing when it picks none):
 * records from the report, the others rebuilt from its capture. Returns 0,
 * or -1 with err: a connection the capture lacks ("PATH has no connection
 * 9 (it holds 3)"), no capture to read, a malformed timeline.
 */
int render_section_connections(FILE *f, const json_t *root, const struct render_opt *opt,
                               char *err, size_t errlen);

/*
 * In a lab report, one article per scenario with the ladder and graphs of
 * its first connection; a capture that cannot be read leaves a note in
 * the page instead. Returns 0, or -1 with err on a malformed timeline.
 */
int render_section_scenarios(FILE *f, const json_t *root, char *err, size_t errlen);

#endif
