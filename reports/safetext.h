/*
 * safetext.h - strings from outside (reports, file names, captures,
 * scenario files, server responses), made safe for the two places they
 * end up: a terminal and a JSON document.
 *
 * A report is untrusted input (anyone can edit one), and so is a file
 * name, a scenario's `about` or what a server sent. Printed raw, such a
 * string can clear the screen, plant an OSC 8 hyperlink or reorder the text
 * of a line; stored raw, a string that is not UTF-8 makes jansson refuse the
 * whole report. The rules live here, once; reports/textout.c applies the
 * terminal rule to everything the people-facing commands print, and every
 * report writer builds its strings from outside with safe_jstring().
 *
 * The terminal rule (docs/lingerlab.1, "OUTPUT"): valid UTF-8 is printed
 * as it is, except
 *   - C0 controls (0x00-0x1F) and DEL (0x7F): \xHH ("\x1b", "\x0a");
 *   - C1 controls U+0080-U+009F and the bidi controls U+061C, U+200E,
 *     U+200F, U+202A-U+202E, U+2066-U+2069, written in UTF-8: \uHHHH
 *     ("\u009b", "\u202e");
 *   - a byte that is not part of valid UTF-8 (a Latin-1 name, a raw 0x9B,
 *     an overlong form, a surrogate, a cut sequence): \xHH per byte.
 * Hex digits are lower case. A backslash stays a backslash: the escaped
 * text is meant for eyes, not for parsing back, and so escaping is
 * idempotent (escaped text escapes to itself), which lets a string pass
 * two printers without turning into "\\x1b".
 *
 * The JSON rule (docs/report-format.md, "Strings from outside"): valid
 * UTF-8 is kept as it is (control characters included: JSON escapes them);
 * each byte that is not part of valid UTF-8 becomes the character of its
 * Latin-1 reading, U+0080-U+00FF (byte 0xE9 -> "é", 0x9B -> "\u009b").
 */
#ifndef LL_REPORTS_SAFETEXT_H
#define LL_REPORTS_SAFETEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Decode one UTF-8 character from s (n bytes available, n > 0). Returns its
 * length (1-4) and sets *cp, or 0 when s does not start a valid, shortest,
 * non-surrogate UTF-8 sequence of at most U+10FFFF (a cut sequence: 0).
 */
size_t safe_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* True for a code point the terminal rule escapes (C0, DEL, C1, bidi). */
bool safe_is_control(uint32_t cp);

/*
 * Escape n bytes of s by the terminal rule into out (outlen bytes, always
 * NUL-terminated when outlen > 0; an escape that does not fit whole is
 * left out, as is everything after it). keep_newline lets '\n' through (for
 * text whose newlines are the tool's own). Returns the length the whole
 * escaped text needs (without the NUL), as snprintf does.
 */
size_t safe_escape(char *out, size_t outlen, const char *s, size_t n, bool keep_newline);

/*
 * The bytes of s (NUL-terminated; NULL gives NULL) as valid UTF-8 by the
 * JSON rule, in a fresh string the caller frees; NULL when out of memory.
 */
char *safe_utf8_repair(const char *s);

/*
 * A JSON string for a string from outside, by the JSON rule; json_null()
 * for NULL; NULL when out of memory. Fresh value (jhelp.h's ownership
 * rule: give it straight to set() or push()).
 */
json_t *safe_jstring(const char *s);

#endif
