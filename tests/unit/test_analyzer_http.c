/*
 * test_analyzer_http.c - HTTP message counting: pipelined requests, chunked
 * and Content-Length framing split at awkward segment boundaries, HEAD,
 * 1xx, 204, unframed responses that run to the FIN, snaplen-cut bodies,
 * capture gaps and payload that is not HTTP.
 */
#include <stdio.h>

#include "tests/unit/analyzer_helpers.h"

#define CLI "10.0.0.2"
#define SRV "10.0.0.1"

static void handshake(struct pb_list *l, struct pb_conn *c, uint32_t snaplen)
{
	assert_int_equal(pb_conn_init(c, CLI, 40000, SRV, 80, 1000, 5000), 0);
	c->snaplen = snaplen;
	pb_syn(l, c, 1.0);
	pb_synack(l, c, 1.001);
	pb_ack(l, c, PB_C2S, 1.002, PB_NEXT, PB_NEXT);
}

/* Send text s2c in pieces cut at the given offsets. */
static void send_cut(struct pb_list *l, struct pb_conn *c, enum pb_dir d,
                     double t, const char *text, const size_t *cuts, size_t ncut)
{
	size_t n = strlen(text), from = 0, i;

	for (i = 0; i <= ncut; i++) {
		size_t to = i < ncut ? cuts[i] : n;
		assert_int_equal(pb_data(l, c, d, t + 0.001 * (double)i, PB_NEXT,
		                         PB_NEXT, text + from, (uint32_t)(to - from)), 0);
		from = to;
	}
}

static const struct az_conn *run_one(struct run *r, struct pb_list *l)
{
	run_list(r, l, NULL);
	assert_int_equal(r->n, 1);
	return run_conn(r, 1);
}

/* Two pipelined GETs in one segment; a chunked 200 and a 404 with
 * Content-Length, cut inside the status line, the chunk size line and the
 * second header block. */
static void test_chunked_and_length(void **state)
{
	static const char req[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	                          "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char r1[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	                         "5\r\nhello\r\n0\r\n\r\n";
	static const char r2[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabc";
	char both[256];
	const size_t cuts[] = { 10, 50, 70 };
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	uint32_t n1 = (uint32_t)strlen(r1), n2 = (uint32_t)strlen(r2);
	(void)state;

	snprintf(both, sizeof(both), "%s%s", r1, r2);
	pb_list_init(&l, PB_DLT_EN10MB);
	handshake(&l, &c, 0);
	pb_send(&l, &c, PB_C2S, 1.01, PB_NEXT, PB_NEXT, req);
	send_cut(&l, &c, PB_S2C, 1.02, both, cuts, 3);
	k = run_one(&r, &l);
	assert_int_equal(k->http_requests, 2);
	assert_int_equal(k->c2s.http_messages, 2);
	assert_int_equal(k->http_responses, 2);
	assert_int_equal(k->http_unanswered, 0);
	assert_int_equal(k->n_responses, 2);
	assert_int_equal(k->responses[0].status, 200);
	assert_int_equal(k->responses[0].seq_start, 1);
	assert_int_equal(k->responses[0].seq_end, 1 + n1);
	assert_true(k->responses[0].complete);
	assert_int_equal(k->responses[1].status, 404);
	assert_int_equal(k->responses[1].seq_start, 1 + n1);
	assert_int_equal(k->responses[1].seq_end, 1 + n1 + n2);
	assert_true(k->responses[1].complete);
	az_free(r.az);
	pb_list_free(&l);
}

/* The answer to HEAD has a Content-Length but no body; 100 Continue is not
 * a final response; 204 has no body. */
static void test_head_1xx_204(void **state)
{
	static const char req[] = "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
	                          "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
	                          "Expect: 100-continue\r\n\r\nbody"
	                          "DELETE /d HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
	                           "HTTP/1.1 100 Continue\r\n\r\n"
	                           "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
	                           "HTTP/1.1 204 No Content\r\n\r\n";
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	handshake(&l, &c, 0);
	pb_send(&l, &c, PB_C2S, 1.01, PB_NEXT, PB_NEXT, req);
	pb_send(&l, &c, PB_S2C, 1.02, PB_NEXT, PB_NEXT, resp);
	k = run_one(&r, &l);
	assert_int_equal(k->http_requests, 3);
	assert_int_equal(k->http_responses, 3);
	assert_int_equal(k->s2c.http_messages, 4); /* 100 Continue counted here */
	assert_int_equal(k->responses[0].status, 200);
	assert_true(k->responses[0].complete);
	assert_int_equal(k->responses[1].status, 201);
	assert_int_equal(k->responses[2].status, 204);
	assert_true(k->responses[2].complete);
	assert_int_equal(k->responses[2].seq_end, 1 + strlen(resp));
	az_free(r.az);
	pb_list_free(&l);
}

/* A response without length or chunking runs to the server's FIN. */
static void test_unframed_to_fin(void **state)
{
	static const char resp[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n";
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	uint32_t h = (uint32_t)strlen(resp);
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	handshake(&l, &c, 0);
	pb_send(&l, &c, PB_C2S, 1.01, PB_NEXT, PB_NEXT, "GET / HTTP/1.0\r\n\r\n");
	pb_send(&l, &c, PB_S2C, 1.02, PB_NEXT, PB_NEXT, resp);
	pb_data(&l, &c, PB_S2C, 1.03, PB_NEXT, PB_NEXT, NULL, 2000);
	pb_fin(&l, &c, PB_S2C, 1.04, PB_NEXT, PB_NEXT);
	k = run_one(&r, &l);
	assert_int_equal(k->http_responses, 1);
	assert_true(k->responses[0].complete);
	assert_int_equal(k->responses[0].seq_end, 1 + h + 2000);
	assert_int_equal(k->responses[0].seq_end, k->s2c.fin_seq);
	az_free(r.az);
	pb_list_free(&l);
}

/* Snaplen 100 cuts the bodies, but their lengths are known: the second
 * response, whose header falls in captured bytes, is still found. */
static void test_snaplen_body_skipped(void **state)
{
	static const char r1[] = "HTTP/1.1 200 OK\r\nContent-Length: 2959\r\n\r\n";
	static const char r2[] = "HTTP/1.1 304 Not Modified\r\n\r\n";
	char first[1000];
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	uint32_t h = (uint32_t)strlen(r1);
	(void)state;

	memset(first, 'b', sizeof(first));
	memcpy(first, r1, h);
	pb_list_init(&l, PB_DLT_EN10MB);
	/* 14 Ethernet + 20 IPv4 + 20 TCP + 46 payload bytes captured */
	handshake(&l, &c, 100);
	pb_send(&l, &c, PB_C2S, 1.01, PB_NEXT, PB_NEXT, "GET /1 HTTP/1.1\r\n\r\n");
	pb_send(&l, &c, PB_C2S, 1.011, PB_NEXT, PB_NEXT, "GET /2 HTTP/1.1\r\n\r\n");
	pb_data(&l, &c, PB_S2C, 1.02, PB_NEXT, PB_NEXT, first, 1000);
	pb_data(&l, &c, PB_S2C, 1.03, PB_NEXT, PB_NEXT, NULL, 1000);
	pb_data(&l, &c, PB_S2C, 1.04, PB_NEXT, PB_NEXT, NULL, 1000);
	pb_send(&l, &c, PB_S2C, 1.05, PB_NEXT, PB_NEXT, r2);
	k = run_one(&r, &l);
	assert_int_equal(k->s2c.bytes, 3000 + strlen(r2)); /* wire lengths */
	assert_int_equal(k->http_requests, 2);
	assert_int_equal(k->http_responses, 2);
	assert_int_equal(k->responses[0].seq_end, 3001);
	assert_int_equal(k->responses[1].status, 304);
	assert_int_equal(k->responses[1].seq_start, 3001);
	az_free(r.az);
	pb_list_free(&l);
}

/* A segment missing from the capture: parsing of that direction stops, so
 * the response after the gap is not counted (it might be mid-message). */
static void test_gap_stops_parsing(void **state)
{
	static const char r1[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	uint32_t n1 = (uint32_t)strlen(r1);
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	handshake(&l, &c, 0);
	pb_send(&l, &c, PB_C2S, 1.01, PB_NEXT, PB_NEXT, "GET /1 HTTP/1.1\r\n\r\n");
	pb_send(&l, &c, PB_C2S, 1.011, PB_NEXT, PB_NEXT, "GET /2 HTTP/1.1\r\n\r\n");
	pb_send(&l, &c, PB_C2S, 1.012, PB_NEXT, PB_NEXT, "GET /3 HTTP/1.1\r\n\r\n");
	pb_send(&l, &c, PB_S2C, 1.02, PB_NEXT, PB_NEXT, r1);
	/* bytes 1+n1 .. 1+2*n1 never captured */
	pb_send(&l, &c, PB_S2C, 1.03, 1 + 2 * n1, PB_NEXT, r1);
	k = run_one(&r, &l);
	assert_int_equal(k->http_requests, 3);
	assert_int_equal(k->http_responses, 1);
	assert_int_equal(k->http_unanswered, 2);
	assert_int_equal(k->s2c.data_end, 1 + 3 * n1);
	az_free(r.az);
	pb_list_free(&l);
}

/* Bytes that are not HTTP (a TLS record) count no messages. */
static void test_not_http(void **state)
{
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 'G', 'E', 'T', ' ', '/' };
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	handshake(&l, &c, 0);
	pb_data(&l, &c, PB_C2S, 1.01, PB_NEXT, PB_NEXT, tls, sizeof(tls));
	pb_send(&l, &c, PB_C2S, 1.02, PB_NEXT, PB_NEXT, "GET / HTTP/1.1\r\n\r\n");
	pb_send(&l, &c, PB_S2C, 1.03, PB_NEXT, PB_NEXT, "SSH-2.0-OpenSSH_9.2\r\n");
	k = run_one(&r, &l);
	assert_int_equal(k->http_requests, 0);
	assert_int_equal(k->http_responses, 0);
	assert_int_equal(k->s2c.http_messages, 0);
	az_free(r.az);
	pb_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunked_and_length),
		cmocka_unit_test(test_head_1xx_204),
		cmocka_unit_test(test_unframed_to_fin),
		cmocka_unit_test(test_snaplen_body_skipped),
		cmocka_unit_test(test_gap_stops_parsing),
		cmocka_unit_test(test_not_http),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
