/*
 * test_target_http.c - the reference target's request-head parser on
 * annotated byte strings: complete vs. not yet complete vs. too large vs.
 * malformed (four different outcomes), the fields a response depends on
 * (keep-alive, Content-Length, chunked), and the error page it writes.
 *
 * lab/target/ builds into its own binary, not into the object list the
 * unit tests link, so its one source file is compiled in here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lab/target/http.c"

#define S(lit) (lit), (sizeof(lit) - 1)

static enum thttp_parse parse(const char *b, size_t n, struct thttp_req *r)
{
	return thttp_parse_head(b, n, 8192, r);
}

static void test_complete_get(void **state)
{
	struct thttp_req r;

	(void)state;
	assert_int_equal(parse(S("GET /index.html?x=1 HTTP/1.1\r\nHost: lab\r\n\r\nGET / HTTP/1.1\r\n"), &r), THTTP_OK);
	assert_int_equal(r.method_len, 3);
	assert_memory_equal(r.method, "GET", 3);
	assert_int_equal(r.target_len, 15);
	assert_memory_equal(r.target, "/index.html?x=1", 15);
	assert_int_equal(r.head_len, 43);            /* up to the blank line only */
	assert_int_equal(r.content_length, -1);
	assert_true(thttp_wants_keep_alive(&r));     /* HTTP/1.1 default */
}

static void test_incomplete_is_need_more(void **state)
{
	struct thttp_req r;

	(void)state;
	assert_int_equal(parse(S("GET / HTTP/1.1\r\nHost: lab\r\n"), &r), THTTP_NEED_MORE);
	assert_int_equal(parse(S("GET / HTTP/1.1\r\nHost: lab\r\n\r"), &r), THTTP_NEED_MORE);
	assert_int_equal(parse(S(""), &r), THTTP_NEED_MORE);
	/* Bare LF line ends are accepted. */
	assert_int_equal(parse(S("GET / HTTP/1.0\n\n"), &r), THTTP_OK);
	assert_int_equal(r.head_len, 16);
}

static void test_too_large(void **state)
{
	char buf[300];
	struct thttp_req r;

	(void)state;
	memset(buf, 'a', sizeof buf);
	memcpy(buf, "GET / HTTP/1.1\r\nX: ", 19);
	assert_int_equal(thttp_parse_head(buf, sizeof buf, 256, &r), THTTP_TOO_LARGE);
	/* Below the cap it is only incomplete. */
	assert_int_equal(thttp_parse_head(buf, 200, 256, &r), THTTP_NEED_MORE);
	/* A blank line past the cap does not count. */
	memcpy(buf + 296, "\r\n\r\n", 4);
	assert_int_equal(thttp_parse_head(buf, sizeof buf, 256, &r), THTTP_TOO_LARGE);
}

static void test_malformed(void **state)
{
	struct thttp_req r;

	(void)state;
	assert_int_equal(parse(S("BROKEN\r\n\r\n"), &r), THTTP_BAD);
	assert_int_equal(r.status, 400);
	assert_string_equal(r.why, "bad method");
	assert_int_equal(parse(S("GET  HTTP/1.1\r\n\r\n"), &r), THTTP_BAD);
	assert_string_equal(r.why, "bad request target");
	assert_int_equal(parse(S("GET / HTTP/1.1x\r\n\r\n"), &r), THTTP_BAD);
	assert_string_equal(r.why, "bad HTTP version");
	assert_int_equal(parse(S("GET / HTTP/2.0\r\n\r\n"), &r), THTTP_BAD);
	assert_int_equal(r.status, 505);
	assert_int_equal(parse(S("GET / HTTP/1.1\r\nHost lab\r\n\r\n"), &r), THTTP_BAD);
	assert_string_equal(r.why, "bad header field name");
	assert_int_equal(parse(S("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"), &r), THTTP_BAD);
	assert_string_equal(r.why, "obsolete header folding");
	assert_int_equal(parse(S("PUT /x HTTP/1.1\r\nContent-Length: 12a\r\n\r\n"), &r), THTTP_BAD);
	assert_string_equal(r.why, "bad Content-Length");
	assert_int_equal(parse(S("PUT /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), &r), THTTP_BAD);
	assert_string_equal(r.why, "conflicting Content-Length");
	assert_int_equal(parse(S("PUT /x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"), &r), THTTP_BAD);
	assert_string_equal(r.why, "Content-Length too large");
	assert_int_equal(parse(S("PUT /x HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), &r), THTTP_BAD);
	assert_int_equal(parse(S("GET / HTTP/1.1\r\nX: a\001b\r\n\r\n"), &r), THTTP_BAD);
	assert_string_equal(r.why, "control character in a header value");
}

static void test_fields(void **state)
{
	struct thttp_req r;

	(void)state;
	assert_int_equal(parse(S("PUT /protected/f HTTP/1.1\r\ncontent-length:  1048576 \r\nConnection: Keep-Alive, CLOSE\r\n\r\n"), &r), THTTP_OK);
	assert_int_equal(r.content_length, 1048576);
	assert_true(r.conn_close);
	assert_false(thttp_wants_keep_alive(&r));
	assert_true(thttp_method_is(&r, "PUT"));
	assert_false(thttp_method_is(&r, "put"));

	assert_int_equal(parse(S("GET / HTTP/1.0\r\n\r\n"), &r), THTTP_OK);
	assert_false(thttp_wants_keep_alive(&r));    /* 1.0 default */
	assert_int_equal(parse(S("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), &r), THTTP_OK);
	assert_true(thttp_wants_keep_alive(&r));

	assert_int_equal(parse(S("POST /p HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), &r), THTTP_OK);
	assert_true(r.chunked);

	/* Empty lines before a request are skipped (RFC 9112 2.2). */
	assert_int_equal(parse(S("\r\n\r\nGET / HTTP/1.1\r\n\r\n"), &r), THTTP_OK);
	assert_int_equal(r.skipped, 4);
	assert_int_equal(r.head_len, 22);
}

static void test_error_page(void **state)
{
	struct thttp_out o = { NULL, 0, 0, 65536 };
	struct thttp_resp r;
	long body;
	const char *sep;

	(void)state;
	memset(&r, 0, sizeof r);
	r.status = 404;
	r.close = true;
	r.server = "lingerlab-target/test";
	body = thttp_write_error(&o, &r, S("/a<b>&\"c"));
	assert_true(body > 200 && body < 1000);
	assert_non_null(memmem(o.buf, o.len, S("HTTP/1.1 404 Not Found\r\n")));
	assert_non_null(memmem(o.buf, o.len, S("Connection: close\r\n")));
	assert_non_null(memmem(o.buf, o.len, S("/a&lt;b&gt;&amp;&quot;c")));   /* escaped */
	assert_null(memmem(o.buf, o.len, S("/a<b>")));
	sep = memmem(o.buf, o.len, S("\r\n\r\n"));
	assert_non_null(sep);
	assert_int_equal(o.len - (size_t)(sep + 4 - o.buf), (size_t)body);   /* Content-Length is right */
	thttp_out_free(&o);

	/* The output cap holds. */
	o.max = 100;
	assert_int_equal(thttp_write_error(&o, &r, S("/x")), -1);
	thttp_out_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete_get),
		cmocka_unit_test(test_incomplete_is_need_more),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_error_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
