/*
 * html.h - safe HTML output for `lingerlab render`.
 *
 * Every string that comes from a report (addresses, scenario names and
 * descriptions, expectation texts, server commands, summaries) is untrusted
 * and goes through html_esc(): one escaping that is right both in element
 * text and inside double- or single-quoted attribute values.
 */
#ifndef LL_REPORTS_HTML_H
#define LL_REPORTS_HTML_H

#include <stddef.h>
#include <stdio.h>

/*
 * Write s to f escaped for HTML text and quoted attribute values: & < > "
 * ' become character references; C0 control characters other than tab,
 * newline and carriage return, and DEL, become U+FFFD (they are not allowed
 * in HTML). NULL writes nothing.
 */
void html_esc(FILE *f, const char *s);

/* The same for n bytes of s (embedded NULs become U+FFFD too). */
void html_escn(FILE *f, const char *s, size_t n);

/* An endpoint "addr:port", IPv6 addresses in brackets ("[::1]:80"),
 * escaped; a NULL addr is written as "?". */
void html_endpoint(FILE *f, const char *addr, long long port);

/* A finite number in a fixed, locale-free form fit for SVG coordinates
 * ("12.5"); non-finite values are written as 0. */
void html_coord(FILE *f, double v);

#endif
