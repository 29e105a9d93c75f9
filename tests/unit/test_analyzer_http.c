/*
 * test_analyzer_http.c - HTTP message counting: pipelined requests, chunked
 * and Content-Length framing split at awkward segment boundaries, HEAD,
 * 1xx, 204, unframed responses that run to the FIN, snaplen-cut bodies,
 * capture gaps and payload that is not HTTP.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/analyzer_helpers.h"
#include "analyzer/http.h"

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

/* One exchange that touches every framing rule: pipelined requests in one
 * segment (HEAD and a POST with a body among them), a 100 Continue, a
 * header line longer than the line buffer, Content-Length in two
 * spellings, chunked with an extension and trailers, the answer to HEAD
 * (a length but no body) and a 204. */
static const char ex_req[] =
	"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	"HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n"
	"POST /c HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: identity\r\n\r\nabc"
	"GET /d HTTP/1.1\r\n\r\n";
static const char ex_r0[] = "HTTP/1.1 100 Continue\r\n\r\n";
static const char ex_r1[] =
	"HTTP/1.1 200 OK\r\nServer: t\r\nX-Long: "
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"\r\nContent-Length: 5\r\n\r\nhello";
static const char ex_r2[] = "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n";
static const char ex_r3[] =
	"HTTP/1.1 201 Created\r\nTRANSFER-ENCODING: gzip, chunked\r\n\r\n"
	"4;ext=1\r\nwiki\r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n";
static const char ex_r4[] = "HTTP/1.1 204 No Content\r\n\r\n";

/* Run the exchange with the requests and the responses each cut at the
 * given offsets (none: one segment each), or in 1-byte segments. */
static void exchange(struct run *r, const size_t *qcut, size_t nq,
                     const size_t *scut, size_t ns, bool bytewise)
{
	char resp[1024];
	size_t nresp, k;
	struct pb_list l;
	struct pb_conn c;

	nresp = (size_t)snprintf(resp, sizeof(resp), "%s%s%s%s%s", ex_r0, ex_r1,
	                         ex_r2, ex_r3, ex_r4);
	assert_true(nresp < sizeof(resp));
	pb_list_init(&l, PB_DLT_EN10MB);
	handshake(&l, &c, 0);
	if (bytewise) {
		for (k = 0; k < strlen(ex_req); k++)
			assert_int_equal(pb_data(&l, &c, PB_C2S, 1.01, PB_NEXT,
			                         PB_NEXT, ex_req + k, 1), 0);
		for (k = 0; k < nresp; k++)
			assert_int_equal(pb_data(&l, &c, PB_S2C, 1.02, PB_NEXT,
			                         PB_NEXT, resp + k, 1), 0);
	} else {
		send_cut(&l, &c, PB_C2S, 1.01, ex_req, qcut, nq);
		send_cut(&l, &c, PB_S2C, 1.02, resp, scut, ns);
	}
	run_one(r, &l);
	pb_list_free(&l);
}

/* What exchange() must find, however it was cut; `what` names the cut. */
static void check_exchange(const struct run *r, const char *what)
{
	const struct az_conn *k = &r->conns[0];
	uint32_t s1 = 1 + (uint32_t)strlen(ex_r0), e1 = s1 + (uint32_t)strlen(ex_r1);
	uint32_t e2 = e1 + (uint32_t)strlen(ex_r2), e3 = e2 + (uint32_t)strlen(ex_r3);
	uint32_t e4 = e3 + (uint32_t)strlen(ex_r4);
	const uint32_t start[4] = { s1, e1, e2, e3 }, end[4] = { e1, e2, e3, e4 };
	const int status[4] = { 200, 200, 201, 204 };
	int i;

	if (k->http_requests != 4 || k->c2s.http_messages != 4 ||
	    k->http_responses != 4 || k->s2c.http_messages != 5 ||
	    k->n_responses != 4)
		fail_msg("%s: %u requests, %u responses, %u status lines, %u kept",
		         what, (unsigned)k->http_requests, (unsigned)k->http_responses,
		         (unsigned)k->s2c.http_messages, (unsigned)k->n_responses);
	for (i = 0; i < 4; i++)
		if (k->responses[i].status != status[i] ||
		    k->responses[i].seq_start != start[i] ||
		    k->responses[i].seq_end != end[i] || !k->responses[i].complete)
			fail_msg("%s: response %d is %d at %u..%u%s, expected %d at %u..%u",
			         what, i, k->responses[i].status,
			         (unsigned)k->responses[i].seq_start,
			         (unsigned)k->responses[i].seq_end,
			         k->responses[i].complete ? "" : " (incomplete)",
			         status[i], (unsigned)start[i], (unsigned)end[i]);
}

/* Every split of either stream into two segments, at every byte (inside
 * CRLF, right after a header line, inside the long line, in a chunk size
 * line, in a body), finds the same messages as the unsplit exchange; so
 * does sending each byte alone. */
static void test_split_everywhere(void **state)
{
	struct run *r = malloc(sizeof(*r));
	size_t nresp = strlen(ex_r0) + strlen(ex_r1) + strlen(ex_r2) +
	               strlen(ex_r3) + strlen(ex_r4);
	size_t k;
	char what[64];
	(void)state;

	assert_non_null(r);
	exchange(r, NULL, 0, NULL, 0, false);
	check_exchange(r, "whole");
	az_free(r->az);
	for (k = 1; k < strlen(ex_req); k++) {
		exchange(r, &k, 1, NULL, 0, false);
		snprintf(what, sizeof(what), "requests cut at %zu", k);
		check_exchange(r, what);
		az_free(r->az);
	}
	for (k = 1; k < nresp; k++) {
		exchange(r, NULL, 0, &k, 1, false);
		snprintf(what, sizeof(what), "responses cut at %zu", k);
		check_exchange(r, what);
		az_free(r->az);
	}
	exchange(r, NULL, 0, NULL, 0, true);
	check_exchange(r, "1-byte segments");
	az_free(r->az);
	free(r);
}

/* Header blocks longer than the 64 bytes looked at in one go, with the
 * line that matters in each place, and a chunk size line found after a
 * long run of dull headers: all framed right. */
static void test_long_header_blocks(void **state)
{
	static const char dull[] = "X-Filler-Header: 0123456789abcdef\r\n"; /* 35 bytes */
	char resp[2048], *o;
	size_t at, j, used;
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	(void)state;

	for (at = 0; at <= 12; at++) {
		o = resp;
		used = 0;
		used += (size_t)snprintf(o + used, sizeof(resp) - used, "HTTP/1.1 200 OK\r\n");
		for (j = 0; j < 12; j++) {
			if (j == at)
				used += (size_t)snprintf(o + used, sizeof(resp) - used,
				                         "Content-Length: 7\r\n");
			used += (size_t)snprintf(o + used, sizeof(resp) - used, "%s", dull);
		}
		if (at == 12)
			used += (size_t)snprintf(o + used, sizeof(resp) - used,
			                         "Content-Length: 7\r\n");
		used += (size_t)snprintf(o + used, sizeof(resp) - used, "\r\nbody..."
		                         "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
		assert_true(used < sizeof(resp));
		pb_list_init(&l, PB_DLT_EN10MB);
		handshake(&l, &c, 0);
		pb_send(&l, &c, PB_C2S, 1.01, PB_NEXT, PB_NEXT,
		        "GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n");
		pb_send(&l, &c, PB_S2C, 1.02, PB_NEXT, PB_NEXT, resp);
		k = run_one(&r, &l);
		assert_int_equal(k->http_responses, 2);
		assert_int_equal(k->n_responses, 2);
		/* the body is 7 bytes: "body..." then the 404 starts */
		assert_int_equal(k->responses[0].seq_end, k->responses[1].seq_start);
		assert_int_equal(k->responses[1].status, 404);
		assert_int_equal(k->responses[1].seq_end, 1 + used);
		assert_true(k->responses[1].complete);
		az_free(r.az);
		pb_list_free(&l);
	}
}

/* Snaplen cuts a header line (what a 128-byte capture of nginx shows):
 * the response is seen to start but not to end, and the direction stops,
 * so the next response, captured whole, is not counted either. The
 * requests, captured whole, are all counted. */
static void test_snaplen_cuts_header_line(void **state)
{
	static const char r1[] = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
	                         "Date: Sat, 21 Nov 2026 16:38:53 GMT\r\n"
	                         "Content-Length: 10\r\n\r\n0123456789";
	static const char r2[] = "HTTP/1.1 204 No Content\r\n\r\n";
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	/* 14 + 20 + 20 header bytes, then 46 of payload: into the Date line */
	handshake(&l, &c, 100);
	pb_send(&l, &c, PB_C2S, 1.01, PB_NEXT, PB_NEXT, "GET /1 HTTP/1.1\r\n\r\n");
	pb_send(&l, &c, PB_C2S, 1.011, PB_NEXT, PB_NEXT, "GET /2 HTTP/1.1\r\n\r\n");
	pb_send(&l, &c, PB_S2C, 1.02, PB_NEXT, PB_NEXT, r1);
	pb_send(&l, &c, PB_S2C, 1.03, PB_NEXT, PB_NEXT, r2);
	k = run_one(&r, &l);
	assert_int_equal(k->http_requests, 2);
	assert_int_equal(k->http_responses, 1);
	assert_int_equal(k->n_responses, 1);
	assert_int_equal(k->responses[0].status, 200);
	assert_false(k->responses[0].complete);
	/* not short: unseen (Apache's 401 cut by a 128-byte snaplen read
	 * "complete: false" as if Apache had cut it) */
	assert_true(k->responses[0].parse_lost);
	assert_int_equal(k->http_unanswered, 1);
	az_free(r.az);
	pb_list_free(&l);

	/* the control: a chunked response the server's FIN cut (Go killed
	 * mid-response, tests/captures/real/go-killed.pcap) is short, and
	 * its parse was not lost */
	pb_list_init(&l, PB_DLT_EN10MB);
	handshake(&l, &c, 0);
	pb_send(&l, &c, PB_C2S, 1.01, PB_NEXT, PB_NEXT, "GET /big HTTP/1.1\r\n\r\n");
	pb_send(&l, &c, PB_S2C, 1.02, PB_NEXT, PB_NEXT,
	        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n");
	pb_fin(&l, &c, PB_S2C, 1.03, PB_NEXT, PB_NEXT);
	k = run_one(&r, &l);
	assert_int_equal(k->n_responses, 1);
	assert_false(k->responses[0].complete);
	assert_false(k->responses[0].parse_lost);
	az_free(r.az);
	pb_list_free(&l);
}

/* A request line of n bytes before its CRLF, one segment or cut in two. */
static uint32_t requests_with_line_of(size_t n, const size_t *cut)
{
	char req[HTTP_LINE_MAX + 32];
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	uint32_t got;

	assert_true(n + 3 <= sizeof(req) && n > 14);
	memset(req, 0, sizeof(req));
	memcpy(req, "GET /", 5);
	memset(req + 5, 'p', n - 14);
	memcpy(req + n - 9, " HTTP/1.1\r\n", 11);
	pb_list_init(&l, PB_DLT_EN10MB);
	handshake(&l, &c, 0);
	send_cut(&l, &c, PB_C2S, 1.01, req, cut, cut ? 1 : 0);
	got = run_one(&r, &l)->http_requests;
	az_free(r.az);
	pb_list_free(&l);
	return got;
}

/* The line buffer holds HTTP_LINE_MAX - 1 bytes with the CR: a start
 * line one byte longer is not HTTP, whether it lies in one segment or
 * spans two. */
static void test_start_line_limit(void **state)
{
	const size_t cut = 40;
	(void)state;

	assert_int_equal(requests_with_line_of(HTTP_LINE_MAX - 2, NULL), 1);
	assert_int_equal(requests_with_line_of(HTTP_LINE_MAX - 2, &cut), 1);
	assert_int_equal(requests_with_line_of(HTTP_LINE_MAX - 1, NULL), 0);
	assert_int_equal(requests_with_line_of(HTTP_LINE_MAX - 1, &cut), 0);
}

/* A start line longer than the line buffer is not HTTP, whether it lies in
 * one segment or spans two; a long header line is skipped either way. */
static void test_long_lines(void **state)
{
	char longreq[400], longhdr[400];
	const size_t cut = 150;
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	int pass;
	(void)state;

	memset(longreq, 0, sizeof(longreq));
	memcpy(longreq, "GET /", 5);
	memset(longreq + 5, 'p', 200);
	memcpy(longreq + 205, " HTTP/1.1\r\n\r\n", 13);
	snprintf(longhdr, sizeof(longhdr), "GET / HTTP/1.1\r\nCookie: %0250d\r\n\r\n", 7);
	for (pass = 0; pass < 2; pass++) {
		pb_list_init(&l, PB_DLT_EN10MB);
		handshake(&l, &c, 0);
		if (pass == 0)
			pb_send(&l, &c, PB_C2S, 1.01, PB_NEXT, PB_NEXT, longreq);
		else
			send_cut(&l, &c, PB_C2S, 1.01, longreq, &cut, 1);
		k = run_one(&r, &l);
		assert_int_equal(k->http_requests, 0);
		az_free(r.az);
		pb_list_free(&l);

		pb_list_init(&l, PB_DLT_EN10MB);
		handshake(&l, &c, 0);
		if (pass == 0)
			pb_send(&l, &c, PB_C2S, 1.01, PB_NEXT, PB_NEXT, longhdr);
		else
			send_cut(&l, &c, PB_C2S, 1.01, longhdr, &cut, 1);
		pb_send(&l, &c, PB_C2S, 1.02, PB_NEXT, PB_NEXT, "GET /2 HTTP/1.1\r\n\r\n");
		k = run_one(&r, &l);
		assert_int_equal(k->http_requests, 2);
		az_free(r.az);
		pb_list_free(&l);
	}
}

/* Three pipelined requests in one segment, the second with a version
 * nginx cannot serve (nginx 1.22 answered it 505 and closed, loopback
 * capture nginx-pipe3 in tests/captures/real): the bad line is a request
 * (2 responses must not face 1 request), and parsing stops there, so the
 * third is not seen. A line of another protocol is no request. */
static void test_malformed_request_counts(void **state)
{
	static const char reqs[] = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
	                           "GET /x HTTP/9.9 junk\r\n\r\n"
	                           "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
	struct pb_list l;
	struct pb_conn c;
	struct run r;
	const struct az_conn *k;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	handshake(&l, &c, 0);
	pb_send(&l, &c, PB_C2S, 1.01, PB_NEXT, PB_NEXT, reqs);
	pb_send(&l, &c, PB_S2C, 1.02, PB_NEXT, PB_NEXT,
	        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	        "HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Length: 0\r\n\r\n");
	k = run_one(&r, &l);
	assert_int_equal(k->http_requests, 2);
	assert_int_equal(k->http_responses, 2);
	assert_int_equal(k->http_unanswered, 0);
	az_free(r.az);
	pb_list_free(&l);

	pb_list_init(&l, PB_DLT_EN10MB);
	handshake(&l, &c, 0);
	pb_send(&l, &c, PB_C2S, 1.01, PB_NEXT, PB_NEXT, "EHLO mail.example HTTP/x\r\n");
	pb_send(&l, &c, PB_C2S, 1.02, PB_NEXT, PB_NEXT, "USER anonymous\r\n");
	k = run_one(&r, &l);
	assert_int_equal(k->http_requests, 1); /* has the shape: counted */
	az_free(r.az);
	pb_list_free(&l);

	pb_list_init(&l, PB_DLT_EN10MB);
	handshake(&l, &c, 0);
	pb_send(&l, &c, PB_C2S, 1.01, PB_NEXT, PB_NEXT, "EHLO mail.example\r\n");
	k = run_one(&r, &l);
	assert_int_equal(k->http_requests, 0);
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
		cmocka_unit_test(test_split_everywhere),
		cmocka_unit_test(test_long_header_blocks),
		cmocka_unit_test(test_snaplen_cuts_header_line),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_start_line_limit),
		cmocka_unit_test(test_malformed_request_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
