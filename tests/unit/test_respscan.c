/*
 * test_respscan.c - the lab client's HTTP response scanner: what a script
 * waits for and what `expect response N ...` judges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lab/respscan.h"

static void feed(struct rsp_scan *r, const char *s)
{
	rsp_feed(r, (const uint8_t *)s, strlen(s));
}

/* Feed one byte at a time: splitting must never change the result. */
static void feed_bytes(struct rsp_scan *r, const char *s)
{
	for (size_t i = 0; s[i]; i++)
		rsp_feed(r, (const uint8_t *)s + i, 1);
}

static const char *pipelined =
	"HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope!"
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	"3\r\nabc\r\n10;ext=1\r\n0123456789abcdef\r\n0\r\nX-Trailer: y\r\n\r\n"
	"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345";

static void check_pipelined(const struct rsp_scan *r)
{
	assert_false(r->failed);
	assert_int_equal(r->started, 3);
	assert_int_equal(r->completed, 2);
	assert_int_equal(r->n_records, 3);
	assert_int_equal(r->rec[0].status, 404);
	assert_true(r->rec[0].complete);
	assert_int_equal(r->rec[0].bytes, strlen("HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope!"));
	assert_int_equal(r->rec[1].status, 200);
	assert_true(r->rec[1].complete);
	assert_int_equal(r->rec[2].status, 200);
	assert_false(r->rec[2].complete);
	assert_int_equal(r->rec[2].bytes, strlen("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345"));
}

static void test_pipelined(void **state)
{
	(void)state;
	struct rsp_scan r;
	rsp_init(&r);
	feed(&r, pipelined);
	check_pipelined(&r);
	rsp_init(&r);
	feed_bytes(&r, pipelined);
	check_pipelined(&r);
	/* the FIN does not complete a response framed by length */
	rsp_eof(&r);
	assert_false(r.rec[2].complete);
	assert_int_equal(r.completed, 2);
}

static void test_until_close_and_interim(void **state)
{
	(void)state;
	struct rsp_scan r;
	rsp_init(&r);
	feed(&r, "HTTP/1.1 100 Continue\r\n\r\n"
	         "HTTP/1.0 200 OK\nServer: old\n\nbody bytes until the end");
	assert_int_equal(r.started, 1);   /* 1xx is not a response */
	assert_int_equal(r.rec[0].status, 200);
	assert_false(r.rec[0].complete);
	rsp_eof(&r);
	assert_true(r.rec[0].complete);
	assert_int_equal(r.completed, 1);
	assert_int_equal(r.rec[0].bytes,
	                 strlen("HTTP/1.0 200 OK\nServer: old\n\nbody bytes until the end"));
}

static void test_no_body(void **state)
{
	(void)state;
	struct rsp_scan r;
	rsp_init(&r);
	rsp_request(&r, true);   /* HEAD */
	rsp_request(&r, false);
	feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"  /* HEAD: no body */
	         "HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n"
	         "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(r.completed, 3);
	assert_int_equal(r.rec[0].status, 200);
	assert_true(r.rec[0].complete);
	assert_int_equal(r.rec[1].status, 304);
	assert_int_equal(r.rec[2].status, 204);
}

/* scnbash: a HEAD written with `send` had its response waited for as if
 * it carried a 1 MiB body (incomplete), and a pipelined `send` counted
 * as one request, so a later `request HEAD` was matched to the wrong
 * response. */
static void test_sent_requests(void **state)
{
	(void)state;
	struct rsp_scan r;
	rsp_init(&r);
	const char *three = "GET / HTTP/1.1\r\nHost: lab\r\n\r\n"
	                    "HEAD /large.bin HTTP/1.1\r\nHost: lab\r\n\r\n"
	                    "POST /x HTTP/1.0\nContent-Length: 3\n\nabc";
	assert_int_equal(rsp_sent(&r, (const uint8_t *)three, strlen(three)), 3);
	assert_int_equal(r.requests, 3);
	assert_int_equal(r.head_bits, 2);   /* the second */
	/* a body, a head's second half, junk: no request */
	const char *notreq[] = { "Host: lab\r\n\r\n", "GET / HTTP/2\r\n", "get / HTTP/1.1\r\n",
	                         "GET  HTTP/1.1\r\n", "GET / HTTP/1.1", "xGET / HTTP/1.1\r\n", "" };
	for (size_t i = 0; i < sizeof notreq / sizeof *notreq; i++)
		assert_int_equal(rsp_sent(&r, (const uint8_t *)notreq[i], strlen(notreq[i])), 0);
	assert_int_equal(r.requests, 3);
	/* the HEAD's response has no body: all three complete */
	feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	         "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n"
	         "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(r.completed, 3);
	assert_true(r.rec[1].complete);
}

static void test_not_http(void **state)
{
	(void)state;
	struct rsp_scan r;
	rsp_init(&r);
	feed(&r, "SSH-2.0-OpenSSH_9.2\r\n");
	assert_true(r.failed);
	assert_string_equal(r.why, "bad status line");
	assert_int_equal(r.started, 0);

	rsp_init(&r);
	feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n");
	assert_true(r.failed);
	assert_string_equal(r.why, "bad Content-Length");
	assert_int_equal(r.started, 1);   /* what was seen is kept */

	rsp_init(&r);
	feed(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
	assert_true(r.failed);
	assert_string_equal(r.why, "bad chunk size");

	rsp_init(&r);
	feed(&r, "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n");
	assert_true(r.failed);
	assert_string_equal(r.why, "bad header line");

	/* bytes after a failure change nothing */
	feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(r.started, 1);
	assert_int_equal(r.completed, 0);
}

static void test_long_lines(void **state)
{
	(void)state;
	struct rsp_scan r;
	char buf[4096];
	/* a long header we do not need is skipped */
	rsp_init(&r);
	int n = snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\nX-Long: ");
	memset(buf + n, 'x', 1000);
	snprintf(buf + n + 1000, sizeof buf - (size_t)n - 1000,
	         "\r\nContent-Length: 2\r\n\r\nok");
	feed(&r, buf);
	assert_false(r.failed);
	assert_int_equal(r.completed, 1);
	/* a long Content-Length line could be misread: refused */
	rsp_init(&r);
	n = snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\nContent-Length: ");
	memset(buf + n, ' ', 1000);
	snprintf(buf + n + 1000, sizeof buf - (size_t)n - 1000, "2\r\n\r\nok");
	feed(&r, buf);
	assert_true(r.failed);
	assert_string_equal(r.why, "header line too long");
}

static void test_many_responses(void **state)
{
	(void)state;
	struct rsp_scan r;
	rsp_init(&r);
	for (int i = 0; i < RSP_MAX_RECORDS + 4; i++)
		feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
	assert_int_equal(r.completed, RSP_MAX_RECORDS + 4);
	assert_int_equal(r.n_records, RSP_MAX_RECORDS);
	assert_true(r.rec[RSP_MAX_RECORDS - 1].complete);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_until_close_and_interim),
		cmocka_unit_test(test_no_body),
		cmocka_unit_test(test_sent_requests),
		cmocka_unit_test(test_not_http),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_many_responses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
