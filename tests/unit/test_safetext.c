/*
 * test_safetext.c - strings from outside, made safe: the terminal rule
 * (exact escaped text for C0, DEL, C1, bidi controls and bytes that are not
 * UTF-8), the escaping filter under struct tout (also when a character is
 * cut between two writes, and around the tool's own colours), the argument
 * formatter, and the JSON rule (Latin-1 reading of invalid bytes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "reports/safetext.h"
#include "reports/textout.h"

static const char *esc(const char *s, bool keep_newline)
{
	static char out[1024];
	size_t need = safe_escape(out, sizeof out, s, strlen(s), keep_newline);
	assert_int_equal(need, strlen(out));
	return out;
}

static void test_escape_rules(void **state)
{
	(void)state;
	/* plain text, UTF-8 letters and a backslash stay as they are */
	assert_string_equal(esc("caf\xc3\xa9 \\x1b ok", false), "caf\xc3\xa9 \\x1b ok");
	/* C0 and DEL: \xHH */
	assert_string_equal(esc("a\x1b[2Jb", false), "a\\x1b[2Jb");
	assert_string_equal(esc("\x1b]8;;http://x\x07link", false), "\\x1b]8;;http://x\\x07link");
	assert_string_equal(esc("t\tr\rn\nz\x7f", false), "t\\x09r\\x0dn\\x0az\\x7f");
	assert_string_equal(esc("n\nn", true), "n\nn");
	/* C1 in UTF-8 (CSI is C2 9B), bidi controls: \uHHHH */
	assert_string_equal(esc("\xc2\x9b" "2J \xc2\x85", false), "\\u009b2J \\u0085");
	assert_string_equal(esc("\xe2\x80\xae" "abc\xe2\x80\xac", false), "\\u202eabc\\u202c");
	assert_string_equal(esc("\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", false),
	                    "\\u2066\\u2069\\u200e\\u200f\\u061c");
	/* neighbours of the bidi controls are ordinary text */
	assert_string_equal(esc("\xe2\x80\x94\xe2\x81\xa0", false), "\xe2\x80\x94\xe2\x81\xa0");
	/* not UTF-8: a raw CSI byte, Latin-1, overlong, surrogate, cut: \xHH */
	assert_string_equal(esc("\x9b" "2J", false), "\\x9b2J");
	assert_string_equal(esc("caf\xe9", false), "caf\\xe9");
	assert_string_equal(esc("\xc0\xaf", false), "\\xc0\\xaf");
	assert_string_equal(esc("\xed\xa0\x80", false), "\\xed\\xa0\\x80");
	assert_string_equal(esc("x\xe2\x80", false), "x\\xe2\\x80");
	/* idempotent: escaped text escapes to itself */
	assert_string_equal(esc("a\\x1b[2Jb\\u202e", false), "a\\x1b[2Jb\\u202e");
}

static void test_escape_bounded(void **state)
{
	char out[8];
	(void)state;
	/* whole pieces only: "ab\x1bc" and its NUL fill the 8 bytes */
	assert_int_equal(safe_escape(out, sizeof out, "ab\x1b" "cd", 5, false), 8);
	assert_string_equal(out, "ab\\x1bc");
	assert_int_equal(safe_escape(out, 4, "ab\x1b", 3, false), 6);
	assert_string_equal(out, "ab");
}

/* Run fn, which writes through a struct tout over a temporary file, and
 * return what reached the file. */
static const char *through_tout(void (*fn)(struct tout *), enum tout_color_mode mode)
{
	static char got[2048];
	struct tout t;
	FILE *raw = tmpfile();
	size_t n;

	assert_non_null(raw);
	assert_int_equal(tout_init(&t, raw, mode), 0);
	fn(&t);
	assert_int_equal(tout_close(&t), 0);
	rewind(raw);
	n = fread(got, 1, sizeof got - 1, raw);
	got[n] = '\0';
	fclose(raw);
	return got;
}

static void write_cut(struct tout *t)
{
	/* a bidi control and an é cut between writes, an ESC, a lone 0x9B */
	fputs("a\xe2", t->f);
	fputs("\x80", t->f);
	fputs("\xae" "b\xc3", t->f);
	fputc(0xa9, t->f);
	fputs("\x1b[2J\x9b\n", t->f);
	fputs("\xe2", t->f);          /* cut for good by a new character */
	fputs("\xc3", t->f);
	fputs("\xa9|", t->f);
	fputs("end\xe2\x80", t->f); /* never finished */
}

static void test_filter(void **state)
{
	(void)state;
	assert_string_equal(through_tout(write_cut, TOUT_NEVER),
	                    "a\\u202eb\xc3\xa9\\x1b[2J\\x9b\n\\xe2\xc3\xa9|end\\xe2\\x80");
}

static void write_colour(struct tout *t)
{
	tout_printf(t, TOUT_BOLD_RED, "%s", "x\x1b]8;;http://x\x07y");
	fprintf(t->f, " %s\n", "line\nnext");
}

static void test_colour_passes_input_does_not(void **state)
{
	(void)state;
	/* the tool's colours reach the stream; the argument's ESC, BEL and
	 * newline do not (fprintf on the filter keeps the newline: only the
	 * formatter knows it came from an argument) */
	assert_string_equal(through_tout(write_colour, TOUT_ALWAYS),
	                    "\x1b[1;31mx\\x1b]8;;http://x\\x07y\x1b[0m line\nnext\n");
}

static void test_formatter(void **state)
{
	char buf[256];
	FILE *f = tmpfile();
	struct sbuf b;
	size_t n;
	(void)state;

	assert_non_null(f);
	assert_int_equal(tout_fprintf(f, "%s: %-6s|%5.2f|%c|%lld|%zu|%%|%.3s\n", "f\x1b[2J\nx", "\xe2\x80\xae",
	                              1.5, 0x1b, -3LL, (size_t)7, "abcdef"), 44);
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_string_equal(buf, "f\\x1b[2J\\x0ax: \\u202e| 1.50|\\x1b|-3|7|%|abc\n");

	sb_init(&b);
	sb_add(&b, "[%s] %d", "\xc2\x9b", 4);
	assert_string_equal(b.s, "[\\u009b] 4");
}

static void test_json_rule(void **state)
{
	json_t *j;
	char *s;
	(void)state;

	/* valid UTF-8, controls included, is kept; jansson escapes C0 */
	j = safe_jstring("a\x1b" "b\xc3\xa9");
	assert_non_null(j);
	assert_string_equal(json_string_value(j), "a\x1b" "b\xc3\xa9");
	json_decref(j);
	/* each invalid byte: its Latin-1 character */
	j = safe_jstring("caf\xe9 \x9b" "2J \xff");
	assert_non_null(j);
	assert_string_equal(json_string_value(j), "caf\xc3\xa9 \xc2\x9b" "2J \xc3\xbf");
	s = json_dumps(j, JSON_ENCODE_ANY);
	assert_non_null(s);
	assert_string_equal(s, "\"caf\xc3\xa9 \xc2\x9b" "2J \xc3\xbf\"");
	free(s);
	json_decref(j);
	j = safe_jstring(NULL);
	assert_true(json_is_null(j));
	json_decref(j);
	s = safe_utf8_repair("\xe2\x80");
	assert_string_equal(s, "\xc3\xa2\xc2\x80");
	free(s);
}

static void test_decode(void **state)
{
	uint32_t cp = 0;
	(void)state;
	assert_int_equal(safe_utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1F600);
	assert_int_equal(safe_utf8_decode((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp), 0);
	assert_int_equal(safe_utf8_decode((const unsigned char *)"\xe0\x80\xaf", 3, &cp), 0);
	assert_int_equal(safe_utf8_decode((const unsigned char *)"\xc3", 1, &cp), 0);
	assert_true(safe_is_control(0x9B));
	assert_true(safe_is_control(0x202E));
	assert_false(safe_is_control(0xA0));
	assert_false(safe_is_control(0x2070));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_rules),
		cmocka_unit_test(test_escape_bounded),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_colour_passes_input_does_not),
		cmocka_unit_test(test_formatter),
		cmocka_unit_test(test_json_rule),
		cmocka_unit_test(test_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
