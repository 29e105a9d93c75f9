/*
 * render.h - the HTML page of a report (`lingerlab render`, also written by
 * `lingerlab audit`). The page is self-contained: inline CSS and SVG, no
 * script, no external fetch. Every report string is escaped.
 */
#ifndef LL_REPORTS_RENDER_H
#define LL_REPORTS_RENDER_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Write the page for root (a report checked by rf_load()) to f; path is
 * the report's name as shown on the page. Returns 0, or -1 with a message
 * in err when a connection's timeline is malformed (the page is then
 * incomplete: callers write to a temporary file, see render_to_file()).
 */
int render_html(FILE *f, const json_t *root, const char *path, char *err,
                size_t errlen);

/*
 * Write the page to out ("-": standard output). A file is written beside
 * out under a temporary name and renamed over it, so it is either the whole
 * page or untouched. Returns 0, or -1 with "what: detail" in err.
 */
int render_to_file(const json_t *root, const char *report_path, const char *out,
                   char *err, size_t errlen);

#endif
