/*
 * html.c - HTML escaping and number output for the rendered report.
 */
#include "reports/html.h"

#include <math.h>
#include <string.h>

void html_escn(FILE *f, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		case '\t': case '\n': case '\r': fputc(c, f); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fputs("\xef\xbf\xbd", f); /* U+FFFD */
			else
				fputc(c, f);
		}
	}
}

void html_esc(FILE *f, const char *s)
{
	if (s)
		html_escn(f, s, strlen(s));
}

void html_coord(FILE *f, double v)
{
	if (!isfinite(v))
		v = 0;
	/* %.1f of a huge value would print hundreds of digits */
	if (v > 1e7)
		v = 1e7;
	if (v < -1e7)
		v = -1e7;
	fprintf(f, "%.1f", v);
}

void html_endpoint(FILE *f, const char *addr, long long port)
{
	if (addr && strchr(addr, ':')) {
		fputc('[', f);
		html_esc(f, addr);
		fputc(']', f);
	} else {
		html_esc(f, addr ? addr : "?");
	}
	fprintf(f, ":%lld", port);
}
