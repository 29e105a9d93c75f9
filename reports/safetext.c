/*
 * safetext.c - the terminal and JSON rules for strings from outside
 * (contract and the rules themselves in safetext.h).
 */
#include "reports/safetext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 3629 section 4: the shortest form only, no surrogates, <= U+10FFFF. */
size_t safe_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len, i;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		len = 2, v = c & 0x1F, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, v = c & 0x0F, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, v = c & 0x07, min = 0x10000;
	else
		return 0;       /* a continuation byte, C0/C1 (overlong) or F5-FF */
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

bool safe_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) ||
	       cp == 0x061C ||                          /* ARABIC LETTER MARK */
	       cp == 0x200E || cp == 0x200F ||          /* LRM, RLM */
	       (cp >= 0x202A && cp <= 0x202E) ||        /* LRE RLE PDF LRO RLO */
	       (cp >= 0x2066 && cp <= 0x2069);          /* LRI RLI FSI PDI */
}

size_t safe_escape(char *out, size_t outlen, const char *s, size_t n, bool keep_newline)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t need = 0, at = 0, i = 0;
	bool cut = false;

	while (i < n) {
		char esc[16];
		const char *piece = esc;
		size_t plen;
		uint32_t cp;
		size_t len = safe_utf8_decode(p + i, n - i, &cp);

		if (len == 0) {
			snprintf(esc, sizeof esc, "\\x%02x", p[i]);
			plen = 4;
			len = 1;
		} else if (safe_is_control(cp) && !(keep_newline && cp == '\n')) {
			if (cp < 0x80)
				snprintf(esc, sizeof esc, "\\x%02x", (unsigned)cp);
			else
				snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
			plen = strlen(esc);
		} else {
			piece = s + i;
			plen = len;
		}
		/* whole pieces only: never half an escape or half a character */
		if (!cut && outlen > 0 && at + plen < outlen) {
			memcpy(out + at, piece, plen);
			at += plen;
		} else {
			cut = true;
		}
		need += plen;
		i += len;
	}
	if (outlen > 0)
		out[at] = '\0';
	return need;
}

char *safe_utf8_repair(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, i, at = 0;
	char *out;

	if (!s)
		return NULL;
	n = strlen(s);
	/* each invalid byte grows to two (U+0080-U+00FF) */
	if (!(out = malloc(2 * n + 1)))
		return NULL;
	for (i = 0; i < n;) {
		uint32_t cp;
		size_t len = safe_utf8_decode(p + i, n - i, &cp);
		if (len) {
			memcpy(out + at, s + i, len);
			at += len;
			i += len;
			continue;
		}
		/* Latin-1: the byte is the code point (>= 0x80 here) */
		out[at++] = (char)(0xC0 | (p[i] >> 6));
		out[at++] = (char)(0x80 | (p[i] & 0x3F));
		i++;
	}
	out[at] = '\0';
	return out;
}

json_t *safe_jstring(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, n;
	char *fixed;
	json_t *j;

	if (!s)
		return json_null();
	/* the common case, valid already: no copy */
	n = strlen(s);
	for (i = 0; i < n;) {
		uint32_t cp;
		size_t len = safe_utf8_decode(p + i, n - i, &cp);
		if (!len)
			break;
		i += len;
	}
	if (i == n)
		return json_stringn(s, n);
	if (!(fixed = safe_utf8_repair(s)))
		return NULL;
	j = json_string(fixed);
	free(fixed);
	return j;
}
