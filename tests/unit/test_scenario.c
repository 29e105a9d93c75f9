/*
 * test_scenario.c - the scenario parser: good scripts give the right tree,
 * and every class of mistake gives its exact message (the same texts as
 * the table in docs/scenario-language.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab/scenario.h"

#include "tests/unit/scenario_helpers.h"

/* ---- good scripts ----------------------------------------------------- */

static void test_design_example(void **state)
{
	(void)state;
	struct scn_scenario *s = parse_ok(
		"# DESIGN.md's example, in this language\n"
		"scenario pipelined-404\n"
		"about \"Two pipelined GETs; the server answers 404 to the first and closes.\"\n"
		"rtt 250ms\n"
		"connect\n"
		"send \"GET /not_here.html HTTP/1.1\\r\\nHost: lab\\r\\n\\r\\n\"\n"
		"send \"GET /index.html HTTP/1.1\\r\\nHost: lab\\r\\n\\r\\n\"\n"
		"wait response\n"
		"wait closed 5s\n"
		"expect response 1 status 404 complete\n"
		"expect no rst_before_ack\n");
	assert_string_equal(s->name, "pipelined-404");
	assert_string_equal(s->about,
		"Two pipelined GETs; the server answers 404 to the first and closes.");
	assert_string_equal(s->file, "s.scn");
	assert_int_equal(s->rtt_us, 250000);
	assert_int_equal(s->timeout_us, SCN_DEFAULT_TIMEOUT_US);
	assert_null(s->host);
	assert_int_equal(s->n_groups, 1);
	assert_int_equal(s->total_connections, 1);
	const struct scn_group *g = &s->groups[0];
	assert_int_equal(g->connections, 1);
	assert_int_equal(g->steps.n, 5);
	assert_int_equal(g->steps.v[0].kind, SCN_CONNECT);
	assert_int_equal(g->steps.v[0].line, 5);
	assert_int_equal(g->steps.v[1].kind, SCN_SEND);
	assert_int_equal(g->steps.v[1].u.send.len, 42);
	assert_memory_equal(g->steps.v[1].u.send.data,
		"GET /not_here.html HTTP/1.1\r\nHost: lab\r\n\r\n", 42);
	assert_int_equal(g->steps.v[3].kind, SCN_WAIT);
	assert_int_equal(g->steps.v[3].u.wait.event, SCN_WAIT_RESPONSE);
	assert_int_equal(g->steps.v[3].u.wait.count, 0);
	assert_int_equal(g->steps.v[3].u.wait.timeout_us, 0);
	assert_int_equal(g->steps.v[4].u.wait.event, SCN_WAIT_CLOSED);
	assert_int_equal(g->steps.v[4].u.wait.timeout_us, 5000000);

	assert_int_equal(s->n_expects, 2);
	const struct scn_expect *x = &s->expects[0];
	assert_int_equal(x->line, 10);
	assert_string_equal(x->text, "expect response 1 status 404 complete");
	assert_int_equal(x->subject, SCN_X_RESPONSE);
	assert_int_equal(x->response, 1);
	assert_int_equal(x->status, 404);
	assert_int_equal(x->check, SCN_RC_COMPLETE);
	x = &s->expects[1];
	assert_int_equal(x->subject, SCN_X_RST_BEFORE_ACK);
	assert_true(x->negated);
	assert_int_equal(x->side, SCN_SIDE_SERVER);
	assert_int_equal(x->metric, SCN_M_NONE);
	scn_free(s);
}

static void test_units(void **state)
{
	(void)state;
	struct scn_scenario *s = parse_ok(
		"scenario units\n"
		"timeout 1.5s\n"
		"connect 1500us\n"
		"body 1MiB rate 64KiB/s chunk 1460\n"
		"body 1.5KiB rate 1.5MB/s\n"
		"body 2kB\n"
		"window 0\n"
		"window 64KiB\n"
		"ack delayed 0.5ms\n"
		"ack upto 100\n"
		"ack never\n"
		"ack now\n"
		"sleep 2s\n"
		"hold\n"
		"hold 250ms\n"
		"wait data 16KiB 2s\n"
		"wait data\n"
		"wait response 3\n"
		"wait sent 1ms\n");
	const struct scn_step *v = s->groups[0].steps.v;
	assert_int_equal(s->timeout_us, 1500000);
	assert_int_equal(v[0].u.connect.timeout_us, 1500);
	assert_int_equal(v[1].u.body.size, 1048576);
	assert_int_equal(v[1].u.body.rate, 65536);
	assert_int_equal(v[1].u.body.chunk, 1460);
	assert_int_equal(v[2].u.body.size, 1536);
	assert_int_equal(v[2].u.body.rate, 1500000);
	assert_int_equal(v[2].u.body.chunk, 0);
	assert_int_equal(v[3].u.body.size, 2000);
	assert_int_equal(v[3].u.body.rate, 0);
	assert_int_equal(v[4].u.window, 0);
	assert_int_equal(v[5].u.window, 65536);
	assert_int_equal(v[6].u.ack.mode, SCN_ACK_DELAYED);
	assert_int_equal(v[6].u.ack.delay_us, 500);
	assert_int_equal(v[7].u.ack.mode, SCN_ACK_UPTO);
	assert_int_equal(v[7].u.ack.upto, 100);
	assert_int_equal(v[8].u.ack.mode, SCN_ACK_NEVER);
	assert_int_equal(v[9].u.ack.mode, SCN_ACK_NOW);
	assert_int_equal(v[10].u.sleep_us, 2000000);
	assert_int_equal(v[11].u.hold_us, -1);
	assert_int_equal(v[12].u.hold_us, 250000);
	assert_int_equal(v[13].u.wait.event, SCN_WAIT_DATA);
	assert_int_equal(v[13].u.wait.count, 16384);
	assert_int_equal(v[13].u.wait.timeout_us, 2000000);
	assert_int_equal(v[14].u.wait.count, 1);
	assert_int_equal(v[15].u.wait.count, 3);
	assert_int_equal(v[16].u.wait.event, SCN_WAIT_SENT);
	assert_int_equal(v[16].u.wait.timeout_us, 1000);
	scn_free(s);
}

static void test_strings(void **state)
{
	(void)state;
	struct scn_scenario *s = parse_ok(
		"scenario strings\n"
		"connect\n"
		"send \"a\\r\\n\\t\\\\\\\"\\x00\\xff\\0z\" \"-joined\"  # comment \"not a string\"\n"
		"send \"#not a comment\"\r\n");
	const struct scn_step *v = s->groups[0].steps.v;
	static const uint8_t want[] = { 'a', '\r', '\n', '\t', '\\', '"', 0, 0xff, 0,
		'z', '-', 'j', 'o', 'i', 'n', 'e', 'd' };
	assert_int_equal(v[1].u.send.len, sizeof want);
	assert_memory_equal(v[1].u.send.data, want, sizeof want);
	assert_int_equal(v[2].u.send.len, 14);
	assert_memory_equal(v[2].u.send.data, "#not a comment", 14);
	scn_free(s);
}

static void test_request_and_format(void **state)
{
	(void)state;
	struct scn_scenario *s = parse_ok(
		"scenario req\n"
		"host \"lab.example\"\n"
		"connect\n"
		"request PUT /protected/x.bin length 1MiB header \"Expect: none\" close\n"
		"request GET \"/a?b=c\"\n");
	assert_string_equal(s->host, "lab.example");
	const struct scn_step *st = &s->groups[0].steps.v[1];
	assert_int_equal(st->kind, SCN_REQUEST);
	assert_string_equal(st->u.request.method, "PUT");
	assert_true(st->u.request.close);
	assert_true(st->u.request.has_length);
	assert_int_equal(st->u.request.length, 1048576);
	assert_int_equal(st->u.request.n_headers, 1);
	uint8_t buf[512];
	const char *want = "PUT /protected/x.bin HTTP/1.1\r\nHost: lab.example\r\n"
	                   "Expect: none\r\nContent-Length: 1048576\r\n"
	                   "Connection: close\r\n\r\n";
	size_t n = scn_request_format(st, s->host, buf, sizeof buf);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
	/* too small a buffer: the full length is still returned, no overrun */
	uint8_t small[10];
	memset(small, 'Z', sizeof small);
	assert_int_equal(scn_request_format(st, s->host, small, 8), strlen(want));
	assert_int_equal(small[8], 'Z');
	assert_memory_equal(small, want, 8);

	st = &s->groups[0].steps.v[2];
	n = scn_request_format(st, "10.1.2.1:8080", buf, sizeof buf);
	want = "GET /a?b=c HTTP/1.1\r\nHost: 10.1.2.1:8080\r\n\r\n";
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
	scn_free(s);

	/* scnbash: a header named Host (any case) replaces the default one;
	 * two Host lines drew a 400 from every server (RFC 9112 3.2) */
	s = parse_ok("scenario req\nconnect\n"
	             "request GET / header \"X-Hosting: a\" header \"host: vhost.example\"\n");
	st = &s->groups[0].steps.v[1];
	n = scn_request_format(st, "10.1.2.1", buf, sizeof buf);
	want = "GET / HTTP/1.1\r\nX-Hosting: a\r\nhost: vhost.example\r\n\r\n";
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
	scn_free(s);
}

static void test_groups_and_repeat(void **state)
{
	(void)state;
	struct scn_scenario *s = parse_ok(
		"scenario groups\n"
		"connections 50 stagger 5ms\n"
		"fin never\n"
		"after rst continue\n"
		"connect\n"
		"repeat 3 {\n"
		"  send \"x\"\n"
		"  repeat 2 {\n"
		"    sleep 1ms\n"
		"  }\n"
		"}\n"
		"parallel 2 {\n"
		"  window 0\n"
		"  connect\n"
		"  vanish\n"
		"}\n"
		"expect fin_wait_2 peak >= 49\n");
	assert_int_equal(s->n_groups, 2);
	assert_int_equal(s->total_connections, 52);
	const struct scn_group *g = &s->groups[0];
	assert_int_equal(g->connections, 50);
	assert_int_equal(g->stagger_us, 5000);
	assert_int_equal(g->steps.n, 4);
	assert_int_equal(g->steps.v[0].u.fin, SCN_FIN_NEVER);
	assert_int_equal(g->steps.v[1].u.after.event, SCN_AFTER_RST);
	assert_true(g->steps.v[1].u.after.keep_sending);
	const struct scn_step *r = &g->steps.v[3];
	assert_int_equal(r->kind, SCN_REPEAT);
	assert_int_equal(r->line, 6);
	assert_int_equal(r->u.repeat.count, 3);
	assert_int_equal(r->u.repeat.body.n, 2);
	assert_int_equal(r->u.repeat.body.v[1].kind, SCN_REPEAT);
	assert_int_equal(r->u.repeat.body.v[1].u.repeat.count, 2);
	assert_int_equal(r->u.repeat.body.v[1].u.repeat.body.v[0].kind, SCN_SLEEP);
	g = &s->groups[1];
	assert_int_equal(g->line, 12);
	assert_int_equal(g->connections, 2);
	assert_int_equal(g->steps.n, 3);
	assert_int_equal(g->steps.v[2].kind, SCN_VANISH);
	assert_int_equal(s->expects[0].subject, SCN_X_FIN_WAIT_2);
	assert_int_equal(s->expects[0].metric, SCN_M_PEAK);
	assert_int_equal(s->expects[0].op, SCN_OP_GE);
	assert_int_equal(s->expects[0].value, 49);
	scn_free(s);

	/* only parallel blocks: the top level has no connections */
	s = parse_ok("scenario p\nparallel 3 stagger 1ms {\nconnect\n}\n");
	assert_int_equal(s->groups[0].connections, 0);
	assert_int_equal(s->groups[1].connections, 3);
	assert_int_equal(s->groups[1].stagger_us, 1000);
	assert_int_equal(s->total_connections, 3);
	scn_free(s);
}

static void test_expectations(void **state)
{
	(void)state;
	struct scn_scenario *s = parse_ok(
		"scenario x\nconnect\n"
		"expect rst_before_ack bytes_at_risk > 0\n"
		"expect client rst_before_ack count == 0\n"
		"expect lingered\n"
		"expect lingered seconds >= 1.5s\n"
		"expect lingered bytes >= 64KiB\n"
		"expect no fin_wait_2\n"
		"expect client fin_wait_2 max < 2s\n"
		"expect kernel fin_wait_2 peak >= 40\n"
		"expect no kernel fin_wait_1\n"
		"expect response 2 incomplete\n"
		"expect no response 3\n"
		"expect responses >= 1\n"
		"expect no responses\n"
		"expect reset seen\n"
		"expect no reset\n"
		"expect no leaked_rst\n"
		"expect leaked_rst count != 2\n");
	const struct scn_expect *x = s->expects;
	assert_int_equal(s->n_expects, 17);
	assert_int_equal(x[0].metric, SCN_M_BYTES_AT_RISK);
	assert_int_equal(x[0].op, SCN_OP_GT);
	assert_int_equal(x[1].side, SCN_SIDE_CLIENT);
	assert_int_equal(x[1].metric, SCN_M_COUNT);
	assert_int_equal(x[2].subject, SCN_X_LINGERED);
	assert_int_equal(x[2].metric, SCN_M_NONE);
	assert_int_equal(x[3].metric, SCN_M_SECONDS);
	assert_int_equal(x[3].value, 1500000);
	assert_int_equal(x[4].value, 65536);
	assert_true(x[5].negated);
	assert_int_equal(x[6].side, SCN_SIDE_CLIENT);
	assert_int_equal(x[6].metric, SCN_M_MAX);
	assert_int_equal(x[6].op, SCN_OP_LT);
	assert_int_equal(x[6].value, 2000000);
	assert_int_equal(x[7].subject, SCN_X_KERNEL);
	assert_int_equal(x[7].kstate, SCN_K_FIN_WAIT_2);
	assert_int_equal(x[8].kstate, SCN_K_FIN_WAIT_1);
	assert_true(x[8].negated);
	assert_int_equal(x[9].response, 2);
	assert_int_equal(x[9].status, 0);
	assert_int_equal(x[9].check, SCN_RC_INCOMPLETE);
	assert_true(x[10].negated);
	assert_int_equal(x[10].response, 3);
	assert_int_equal(x[11].subject, SCN_X_RESPONSES);
	assert_true(x[12].negated);
	assert_int_equal(x[13].subject, SCN_X_RESET);
	assert_false(x[13].negated);
	assert_true(x[14].negated);
	assert_int_equal(x[15].subject, SCN_X_LEAKED_RST);
	assert_int_equal(x[16].op, SCN_OP_NE);
	scn_free(s);

	assert_true(scn_compare(3, SCN_OP_GE, 3));
	assert_false(scn_compare(2, SCN_OP_GE, 3));
	assert_true(scn_compare(2, SCN_OP_NE, 3));
	assert_true(scn_compare(-1, SCN_OP_LT, 0));
	assert_string_equal(scn_kstate_name(SCN_K_FIN_WAIT_2), "FIN_WAIT_2");
	assert_string_equal(scn_op_name(SCN_OP_LE), "<=");
	assert_string_equal(scn_step_name(SCN_VANISH), "vanish");
}

/* Issue 8: kernel FIN_WAIT_2 durations, fin_wait_2 endings (the lab's
 * kernel_timeout and lab_cleanup among them), client_impact, and the
 * server namespace's tcp_fin_timeout. */
static void test_expectations_issue8(void **state)
{
	(void)state;
	char err[256];
	const char *text =
		"scenario t\n"
		"tcp_fin_timeout 2s\n"
		"fin never\n"
		"connect\n"
		"expect kernel fin_wait_2 max <= 3s\n"
		"expect kernel fin_wait_2 count == 4\n"
		"expect fin_wait_2 ending kernel_timeout count == 4\n"
		"expect no fin_wait_2 ending lab_cleanup\n"
		"expect client fin_wait_2 ending client_fin max < 1s\n"
		"expect client_impact reset_before_ack\n"
		"expect client_impact reset_after_ack count >= 2\n"
		"expect no client_impact reset_before_ack\n"
		"expect client_impact no_reset count == 0\n";
	struct scn_scenario *s = scn_parse("t.scn", text, strlen(text), err, sizeof err);
	if (!s)
		fail_msg("%s", err);
	assert_int_equal(s->tcp_fin_timeout, 2);
	const struct scn_expect *x = s->expects;
	assert_int_equal(s->n_expects, 9);
	assert_int_equal(x[0].subject, SCN_X_KERNEL);
	assert_int_equal(x[0].kstate, SCN_K_FIN_WAIT_2);
	assert_int_equal(x[0].metric, SCN_M_MAX);
	assert_int_equal(x[0].value, 3000000);
	assert_int_equal(x[1].metric, SCN_M_COUNT);
	assert_int_equal(x[1].value, 4);
	assert_int_equal(x[2].subject, SCN_X_FIN_WAIT_2);
	assert_true(x[2].has_ending);
	assert_int_equal(x[2].ending, SCN_END_KERNEL_TIMEOUT);
	assert_int_equal(x[2].metric, SCN_M_COUNT);
	assert_true(x[3].negated);
	assert_int_equal(x[3].ending, SCN_END_LAB_CLEANUP);
	assert_int_equal(x[3].metric, SCN_M_NONE);
	assert_int_equal(x[4].side, SCN_SIDE_CLIENT);
	assert_int_equal(x[4].ending, SCN_END_CLIENT_FIN);
	assert_int_equal(x[4].metric, SCN_M_MAX);
	assert_int_equal(x[5].subject, SCN_X_CLIENT_IMPACT);
	assert_int_equal(x[5].impact, SCN_IMPACT_RESET_BEFORE_ACK);
	assert_int_equal(x[5].metric, SCN_M_NONE);
	assert_int_equal(x[6].impact, SCN_IMPACT_RESET_AFTER_ACK);
	assert_int_equal(x[6].op, SCN_OP_GE);
	assert_int_equal(x[6].value, 2);
	assert_true(x[7].negated);
	assert_int_equal(x[8].impact, SCN_IMPACT_NO_RESET);
	assert_string_equal(x[2].text, "expect fin_wait_2 ending kernel_timeout count == 4");
	scn_free(s);
	assert_string_equal(scn_fw2_ending_name(SCN_END_KERNEL_TIMEOUT), "kernel_timeout");
	assert_string_equal(scn_fw2_ending_name(SCN_END_CAPTURE_END), "capture_end");
	assert_string_equal(scn_impact_name(SCN_IMPACT_NO_RESET), "no_reset");
}

static void test_fin_timeout_option(void **state)
{
	(void)state;
	check_error("scenario x\ntcp_fin_timeout 500ms\nconnect\n",
	            "s.scn:2:17: expected a tcp_fin_timeout in whole seconds from 1s to 3600s, found \"500ms\"");
	check_error("scenario x\ntcp_fin_timeout 1.5s\nconnect\n",
	            "s.scn:2:17: expected a tcp_fin_timeout in whole seconds from 1s to 3600s, found \"1.5s\"");
	check_error("scenario x\ntcp_fin_timeout 7200s\nconnect\n",
	            "s.scn:2:17: expected a tcp_fin_timeout in whole seconds from 1s to 3600s, found \"7200s\"");
	check_error("scenario x\ntcp_fin_timeout 2\nconnect\n",
	            "s.scn:2:17: expected a duration (e.g. 250ms, 2s, 100us), found \"2\"");
	check_error("scenario x\ntcp_fin_timeout 1s\ntcp_fin_timeout 2s\nconnect\n",
	            "s.scn:3:1: expected one \"tcp_fin_timeout\" per scenario, found \"tcp_fin_timeout\"");
	check_error("scenario x\nparallel 2 {\ntcp_fin_timeout 2s\n",
	            "s.scn:3:1: expected a step inside \"parallel\", found \"tcp_fin_timeout\"");
	check_error("scenario x\ntcp_fin_timeout 2s now\nconnect\n",
	            "s.scn:2:20: expected end of line, found \"now\"");
	char err[256];
	const char *ok = "scenario x\ntcp_fin_timeout 3600s\nconnect\n";
	struct scn_scenario *s = scn_parse("s.scn", ok, strlen(ok), err, sizeof err);
	assert_non_null(s);
	assert_int_equal(s->tcp_fin_timeout, 3600);
	scn_free(s);
	const char *none = "scenario x\nconnect\n";
	s = scn_parse("s.scn", none, strlen(none), err, sizeof err);
	assert_non_null(s);
	assert_int_equal(s->tcp_fin_timeout, 0);
	scn_free(s);
}

static void test_shipped_scenarios(void **state)
{
	(void)state;
	static const char *files[] = {
		"scenarios/pipelined-404.scn", "scenarios/put-unauthorized.scn",
		"scenarios/idle-client-fin-wait-2.scn", "scenarios/vanishing-client.scn",
		"scenarios/clean-close.scn", "scenarios/fin-wait-2-timeout.scn",
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char err[512] = "";
		if (access(files[i], R_OK) != 0)
			fail_msg("%s missing (run tests from the repo root)", files[i]);
		struct scn_scenario *s = scn_load(files[i], err, sizeof err);
		if (!s)
			fail_msg("%s", err);
		assert_non_null(s->about);
		assert_true(s->n_expects > 0);
		if (strstr(files[i], "fin-wait-2-timeout")) /* its whole point */
			assert_int_equal(s->tcp_fin_timeout, 1);
		scn_free(s);
	}
}

/* ---- errors ------------------------------------------------------------ */

static void test_errors_structure(void **state)
{
	(void)state;
	check_error("connect\n", "s.scn:1:1: expected \"scenario NAME\" first, found \"connect\"");
	check_error("", "s.scn:1:1: expected \"scenario NAME\", found end of file");
	check_error("# only a comment\n", "s.scn:2:1: expected \"scenario NAME\", found end of file");
	check_error("scenario a\nconnect\nscenario b\n",
	            "s.scn:3:1: expected one \"scenario\" per file, found \"scenario\"");
	check_error("scenario a/b\n",
	            "s.scn:1:10: expected a scenario name (letters, digits, '.', '_', '-'; at most 64), found \"a/b\"");
	check_error("scenario\n",
	            "s.scn:1:9: expected a scenario name (letters, digits, '.', '_', '-'; at most 64), found end of line");
	check_error("scenario x\nconnect\nconect\n",
	            "s.scn:3:1: expected a statement, found \"conect\"");
	check_error("scenario x\n\"connect\"\n",
	            "s.scn:2:1: expected a statement, found a string");
	check_error("scenario x\nrtt 1ms\nconnect\nrtt 2ms\n",
	            "s.scn:4:1: expected one \"rtt\" per scenario, found \"rtt\"");
	check_error("scenario x\nabout \"a\"\nabout \"b\"\n",
	            "s.scn:3:1: expected one \"about\" per scenario, found \"about\"");
	check_error("scenario x\nparallel 2 {\n  connect\n  expect reset\n}\n",
	            "s.scn:4:3: expected a step inside \"parallel\", found \"expect\"");
	check_error("scenario x\nconnect\nrepeat 2 {\n  timeout 1s\n}\n",
	            "s.scn:4:3: expected a step inside \"repeat\", found \"timeout\"");
	check_error("scenario x\nconnect\nack now now\n",
	            "s.scn:3:9: expected end of line, found \"now\"");
	check_error("scenario x\nconnect\nrepeat 2 {\n  send \"a\"\n",
	            "s.scn:5:1: expected \"}\" to close the \"repeat\" opened at line 3, found end of file");
	check_error("scenario x\nconnect\nrepeat 2 {\n  send \"a\"",
	            "s.scn:4:11: expected \"}\" to close the \"repeat\" opened at line 3, found end of file");
	check_error("scenario x\nconnect\nrepeat 2 {\n}\n",
	            "s.scn:4:1: expected a step inside the block opened at line 3, found \"}\"");
	check_error("scenario x\nconnect\n}\n", "s.scn:3:1: expected a statement, found \"}\"");
	check_error("scenario x\nconnect\nrepeat 2\n",
	            "s.scn:3:9: expected \"{\", found end of line");
	check_error("scenario x\nconnect\nrepeat 2 {{\n",
	            "s.scn:3:10: expected \"{\", found \"{{\"");
	check_error("scenario x\n", "s.scn:2:1: expected at least one step (connect, send, ...), found end of file");
	check_error("scenario x\nconnections 3\nparallel 1 {\nconnect\n}\n",
	            "s.scn:2:1: expected steps at the top level for \"connections\", found none");
	check_error("scenario x\nconnections 20001\nconnect\nparallel 20001 {\nconnect\n}\n",
	            "s.scn:7:1: expected at most 40000 connections in all, found end of file");
	check_error("scenario x\nrepeat 1 {\nrepeat 1 {\nrepeat 1 {\nrepeat 1 {\nrepeat 1 {\n"
	            "repeat 1 {\nrepeat 1 {\nrepeat 1 {\nrepeat 1 {\n",
	            "s.scn:10:1: expected at most 8 nested \"repeat\" blocks, found \"repeat\"");
}

static void test_errors_connect(void **state)
{
	(void)state;
	check_error("scenario x\nsend \"a\"\nconnect\n",
	            "s.scn:2:1: expected \"connect\" before \"send\", found \"send\"");
	check_error("scenario x\nrepeat 2 {\n  wait fin\n}\nconnect\n",
	            "s.scn:3:3: expected \"connect\" before \"wait\", found \"wait\"");
	check_error("scenario x\nconnect\nsend \"a\"\nsleep 1s\nconnect\n",
	            "s.scn:5:1: expected one \"connect\" per connection (the first is at line 2), found \"connect\"");
	check_error("scenario x\nconnect\nrepeat 2 {\n  connect\n}\n",
	            "s.scn:4:3: expected \"connect\" outside \"repeat\", found \"connect\"");
	check_error("scenario x\nconnect\nafter rst continue\n",
	            "s.scn:3:1: expected \"after\" before \"connect\" (line 2), found \"after\"");
	check_error("scenario x\nsleep 1s\n",
	            "s.scn:2:1: expected a \"connect\" step, found none");
	check_error("scenario x\nconnect\nparallel 2 {\n  sleep 1s\n}\n",
	            "s.scn:3:1: expected a \"connect\" step, found none");
}

static void test_errors_numbers(void **state)
{
	(void)state;
	check_error("scenario x\nconnect\nwait fin 5\n",
	            "s.scn:3:10: expected a duration (e.g. 250ms, 2s, 100us), found \"5\"");
	check_error("scenario x\nconnect\nsleep\n",
	            "s.scn:3:6: expected a duration (e.g. 250ms, 2s, 100us), found end of line");
	check_error("scenario x\nconnect\nsleep 5 s\n",
	            "s.scn:3:7: expected a duration (e.g. 250ms, 2s, 100us), found \"5\"");
	check_error("scenario x\nconnect\nsleep 1.s\n",
	            "s.scn:3:7: expected a duration (e.g. 250ms, 2s, 100us), found \"1.s\"");
	check_error("scenario x\nconnect\nsleep -1s\n",
	            "s.scn:3:7: expected a duration (e.g. 250ms, 2s, 100us), found \"-1s\"");
	check_error("scenario x\nconnect\nsleep 1.0000001s\n",
	            "s.scn:3:7: expected a duration in whole microseconds, found \"1.0000001s\"");
	check_error("scenario x\nrtt 90000s\nconnect\n",
	            "s.scn:2:5: expected a duration of at most 86400s, found \"90000s\"");
	check_error("scenario x\nrtt 99999999999999999999999us\nconnect\n",
	            "s.scn:2:5: expected a duration of at most 86400s, found \"99999999999999999999999us\"");
	check_error("scenario x\nrtt 18446744073709551615s\nconnect\n",
	            "s.scn:2:5: expected a duration of at most 86400s, found \"18446744073709551615s\"");
	check_error("scenario x\ntimeout 0s\nconnect\n",
	            "s.scn:2:9: expected a duration of at least 1ms, found \"0s\"");
	check_error("scenario x\nconnect\nack delayed 0us\n",
	            "s.scn:3:13: expected a duration of at least 1us, found \"0us\"");
	check_error("scenario x\nconnect\nwindow 2GiB\n",
	            "s.scn:3:8: expected a window from 0 to 1GiB, found \"2GiB\"");
	check_error("scenario x\nconnect\nwindow 64kib\n",
	            "s.scn:3:8: expected a size (e.g. 1460, 64KiB, 1MiB), found \"64kib\"");
	check_error("scenario x\nconnect\nwindow 0.1\n",
	            "s.scn:3:8: expected a size in whole bytes, found \"0.1\"");
	check_error("scenario x\nconnect\nbody 99999999999999999999GiB\n",
	            "s.scn:3:6: expected a body size from 1 to 64GiB, found \"99999999999999999999GiB\"");
	check_error("scenario x\nconnect\nbody 16EiB\n",
	            "s.scn:3:6: expected a size (e.g. 1460, 64KiB, 1MiB), found \"16EiB\"");
	check_error("scenario x\nconnect\nbody 20000000000GiB\n",
	            "s.scn:3:6: expected a body size from 1 to 64GiB, found \"20000000000GiB\"");
	check_error("scenario x\nconnect\nbody 0\n",
	            "s.scn:3:6: expected a body size from 1 to 64GiB, found \"0\"");
	check_error("scenario x\nconnect\nbody 1MiB chunk 65536\n",
	            "s.scn:3:17: expected a chunk from 1 to 65535 bytes, found \"65536\"");
	check_error("scenario x\nconnect\nbody 1MiB rate 64KiB\n",
	            "s.scn:3:16: expected a rate (e.g. 64KiB/s, 1MiB/s), found \"64KiB\"");
	check_error("scenario x\nconnect\nbody 1MiB rate 0/s\n",
	            "s.scn:3:16: expected a rate from 1/s to 10GiB/s, found \"0/s\"");
	check_error("scenario x\nconnect\nbody 1MiB rate 0.5/s\n",
	            "s.scn:3:16: expected a rate in whole bytes per second, found \"0.5/s\"");
	check_error("scenario x\nconnect\nbody 1MiB rate 1/s rate 2/s\n",
	            "s.scn:3:20: expected each option once, found \"rate\"");
	check_error("scenario x\nconnect\nbody 1MiB speed 1/s\n",
	            "s.scn:3:11: expected rate or chunk, found \"speed\"");
	check_error("scenario x\nconnections 99999999999999999999999\nconnect\n",
	            "s.scn:2:13: expected a count from 1 to 40000, found \"99999999999999999999999\"");
	check_error("scenario x\nconnections 0\nconnect\n",
	            "s.scn:2:13: expected a count from 1 to 40000, found \"0\"");
	check_error("scenario x\nconnections 5x\nconnect\n",
	            "s.scn:2:13: expected a count from 1 to 40000, found \"5x\"");
	check_error("scenario x\nconnect\nrepeat 1000001 {\n",
	            "s.scn:3:8: expected a count from 1 to 1000000, found \"1000001\"");
	check_error("scenario x\nconnect\nack upto 4294967295\n",
	            "s.scn:3:10: expected a byte count from 0 to 4294967294, found \"4294967295\"");
	check_error("scenario x\nconnect\nwait data 0\n",
	            "s.scn:3:11: expected a byte count from 1 to 1TiB, found \"0\"");
	check_error("scenario x\nconnect\nwait response x\n",
	            "s.scn:3:15: expected a response count from 1 to 1000000, found \"x\"");
}

static void test_errors_strings(void **state)
{
	(void)state;
	check_error("scenario x\nconnect\nsend \"abc\\q\"\n",
	            "s.scn:3:10: expected an escape (\\r \\n \\t \\0 \\\\ \\\" \\xHH), found \"\\q\"");
	check_error("scenario x\nconnect\nsend \"abc\\xZ1\"\n",
	            "s.scn:3:10: expected two hex digits after \\x, found \"\\xZ1\"");
	check_error("scenario x\nconnect\nsend \"ab\\x4\"\n",
	            "s.scn:3:9: expected two hex digits after \\x, found \"\\x4\"");
	check_error("scenario x\nconnect\nsend \"abcdef\n",
	            "s.scn:3:13: expected a closing '\"', found end of line");
	check_error("scenario x\nconnect\nsend \"abc\\\"\n",
	            "s.scn:3:12: expected a closing '\"', found end of line");
	check_error("scenario x\nconnect\nsend \"a\x01\"\n",
	            "s.scn:3:8: expected a printable character in a string (write \\xHH), found \"\\x01\"");
	check_error("scenario x\nconnect\nsend\x7f \"a\"\n",
	            "s.scn:3:5: expected a printable ASCII character, found \"\\x7f\"");
	check_error("scenario x\nconnect\nsend abc\n",
	            "s.scn:3:6: expected a string, found \"abc\"");
	check_error("scenario x\nconnect\nsend\n",
	            "s.scn:3:5: expected a string, found end of line");
	check_error("scenario x\nconnect\nsend \"\"\n",
	            "s.scn:3:6: expected a non-empty string, found a string");
	check_error("scenario x\nhost \"a\\r\\nb\"\nconnect\n",
	            "s.scn:2:6: expected a host name without CR, LF or NUL, found a string");
	/* a found word longer than 32 characters is cut */
	check_error("scenario x\nconnect\nabcdefghijabcdefghijabcdefghijabcdefghij\n",
	            "s.scn:3:1: expected a statement, found \"abcdefghijabcdefghijabcdefghijab...\"");

	/* a long line is fine up to the cap, and a string as long as it fits */
	size_t n = 16000;
	char *big = malloc(n + 64);
	assert_non_null(big);
	int k = snprintf(big, 64, "scenario x\nconnect\nsend \"");
	memset(big + k, 'a', n);
	memcpy(big + k + n, "\"\n", 3);
	char err[256];
	struct scn_scenario *s = parse(big, err, sizeof err);
	assert_non_null(s);
	assert_int_equal(s->groups[0].steps.v[1].u.send.len, n);
	scn_free(s);
	free(big);

	char *two = malloc(2 * 9000 + 64);
	assert_non_null(two);
	k = snprintf(two, 64, "scenario x\nconnect\nsend \"");
	memset(two + k, 'a', 9000);
	memcpy(two + k + 9000, "\" \"", 3);
	memset(two + k + 9003, 'b', 9000);
	memcpy(two + k + 18003, "\"\n", 3);
	check_error(two, "s.scn:3:16385: expected a line of at most 16384 bytes, found a longer one");
	free(two);
}

static void test_errors_statements(void **state)
{
	(void)state;
	check_error("scenario x\nconnect\nrequest get /\n",
	            "s.scn:3:9: expected a method (e.g. GET, PUT), found \"get\"");
	check_error("scenario x\nconnect\nrequest GET index.html\n",
	            "s.scn:3:13: expected a request target (e.g. /index.html), found \"index.html\"");
	check_error("scenario x\nconnect\nrequest GET \"/a b\"\n",
	            "s.scn:3:13: expected a request target without spaces or control bytes, found a string");
	check_error("scenario x\nconnect\nrequest GET / keepalive\n",
	            "s.scn:3:15: expected close, length or header, found \"keepalive\"");
	check_error("scenario x\nconnect\nrequest GET / close close\n",
	            "s.scn:3:21: expected each option once, found \"close\"");
	check_error("scenario x\nconnect\nrequest GET / header \"NoColon\"\n",
	            "s.scn:3:22: expected a header \"Name: value\" without CR, LF or NUL, found a string");
	check_error("scenario x\nconnect\nrequest GET / header \"A: b\\r\\nC: d\"\n",
	            "s.scn:3:22: expected a header \"Name: value\" without CR, LF or NUL, found a string");
	check_error("scenario x\nconnect\nack sometimes\n",
	            "s.scn:3:5: expected now, delayed, never or upto, found \"sometimes\"");
	check_error("scenario x\nconnect\nfin maybe\n",
	            "s.scn:3:5: expected close, half-close or never, found \"maybe\"");
	check_error("scenario x\nafter ack stop\nconnect\n",
	            "s.scn:2:7: expected fin or rst, found \"ack\"");
	check_error("scenario x\nafter fin go\nconnect\n",
	            "s.scn:2:11: expected continue or stop, found \"go\"");
	check_error("scenario x\nconnect\nwait forever\n",
	            "s.scn:3:6: expected an event (data, response, fin, rst, closed, sent, acked), found \"forever\"");
	check_error("scenario x\nconnect\nwait fin 1s 2s\n",
	            "s.scn:3:13: expected end of line, found \"2s\"");
	check_error("scenario x\nconnect\nshutdown now\n",
	            "s.scn:3:10: expected end of line, found \"now\"");
	check_error("scenario x\nparallel 2 {\nconnect\nparallel 2 {\n",
	            "s.scn:4:1: expected a step inside \"parallel\", found \"parallel\"");
}

static void test_errors_expect(void **state)
{
	(void)state;
	check_error("scenario x\nconnect\nexpect\n",
	            "s.scn:3:7: expected an expectation (rst_before_ack, lingered, fin_wait_2, kernel, client_impact, response, responses, reset, leaked_rst, closed_by, kind, server end, client end), found end of line");
	check_error("scenario x\nconnect\nexpect rst\n",
	            "s.scn:3:8: expected an expectation (rst_before_ack, lingered, fin_wait_2, kernel, client_impact, response, responses, reset, leaked_rst, closed_by, kind, server end, client end), found \"rst\"");
	check_error("scenario x\nconnect\nexpect rst_before_ack bytes_at_risk => 0\n",
	            "s.scn:3:37: expected a comparison (==, !=, <, <=, >, >=), found \"=>\"");
	check_error("scenario x\nconnect\nexpect rst_before_ack size > 0\n",
	            "s.scn:3:23: expected count or bytes_at_risk, found \"size\"");
	check_error("scenario x\nconnect\nexpect no fin_wait_2 peak >= 1\n",
	            "s.scn:3:22: expected end of line (\"no\" takes no metric: drop \"no\" and compare, e.g. \"peak == 0\"), found \"peak\"");
	check_error("scenario x\nconnect\nexpect fin_wait_2 peak >= 1s\n",
	            "s.scn:3:27: expected a count, found \"1s\"");
	check_error("scenario x\nconnect\nexpect fin_wait_2 max >= 1\n",
	            "s.scn:3:26: expected a duration (e.g. 250ms, 2s, 100us), found \"1\"");
	check_error("scenario x\nconnect\nexpect client lingered\n",
	            "s.scn:3:15: expected rst_before_ack, fin_wait_2 or end, found \"lingered\"");
	check_error("scenario x\nconnect\nexpect kernel listen peak >= 1\n",
	            "s.scn:3:15: expected a TCP state (established, syn_recv, fin_wait_1, fin_wait_2, time_wait, close_wait, last_ack, closing), found \"listen\"");
	check_error("scenario x\nconnect\nexpect kernel established max >= 1s\n",
	            "s.scn:3:27: expected peak or duration, found \"max\"");
	check_error("scenario x\nconnect\nexpect kernel fin_wait_2 total >= 1\n",
	            "s.scn:3:26: expected peak, count, max or duration, found \"total\"");
	check_error("scenario x\nconnect\nexpect kernel fin_wait_2 max <= 3\n",
	            "s.scn:3:33: expected a duration (e.g. 250ms, 2s, 100us), found \"3\"");
	check_error("scenario x\nconnect\nexpect fin_wait_2 size >= 1\n",
	            "s.scn:3:19: expected count, peak, max or ending, found \"size\"");
	check_error("scenario x\nconnect\nexpect fin_wait_2 ending timeout count == 1\n",
	            "s.scn:3:26: expected a fin_wait_2 ending (client_fin, client_rst, server_rst, capture_end, kernel_timeout, lab_cleanup), found \"timeout\"");
	check_error("scenario x\nconnect\nexpect fin_wait_2 ending\n",
	            "s.scn:3:25: expected a fin_wait_2 ending (client_fin, client_rst, server_rst, "
	            "capture_end, kernel_timeout, lab_cleanup), found end of line");
	check_error("scenario x\nconnect\nexpect fin_wait_2 ending kernel_timeout peak >= 1\n",
	            "s.scn:3:41: expected count or max, found \"peak\"");
	check_error("scenario x\nconnect\nexpect no fin_wait_2 ending kernel_timeout count == 1\n",
	            "s.scn:3:44: expected end of line (\"no\" takes no metric: drop \"no\" and compare, e.g. \"count == 0\"), found \"count\"");
	check_error("scenario x\nconnect\nexpect client_impact reset count == 1\n",
	            "s.scn:3:22: expected a client_impact (reset_before_ack, reset_after_ack, no_reset), found \"reset\"");
	check_error("scenario x\nconnect\nexpect no client_impact reset_before_ack count == 0\n",
	            "s.scn:3:42: expected end of line (\"no\" takes no metric: drop \"no\" and compare, e.g. \"count == 0\"), found \"count\"");
	check_error("scenario x\nconnect\nexpect client_impact no_reset bytes > 0\n",
	            "s.scn:3:31: expected count, found \"bytes\"");
	check_error("scenario x\nconnect\nexpect server client_impact no_reset\n",
	            "s.scn:3:15: expected rst_before_ack, fin_wait_2 or end, found \"client_impact\"");
	check_error("scenario x\nconnect\nexpect response 0 status 200\n",
	            "s.scn:3:17: expected a response number from 1 to 16, found \"0\"");
	check_error("scenario x\nconnect\nexpect response 1 status 99\n",
	            "s.scn:3:26: expected a status code from 100 to 999, found \"99\"");
	check_error("scenario x\nconnect\nexpect response 1 status 200 status 404\n",
	            "s.scn:3:30: expected status, complete or incomplete, found \"status\"");
	check_error("scenario x\nconnect\nexpect no response 1 status 200\n",
	            "s.scn:3:22: expected end of line, found \"status\"");
	check_error("scenario x\nconnect\nexpect responses 1\n",
	            "s.scn:3:18: expected a comparison (==, !=, <, <=, >, >=), found \"1\"");
	check_error("scenario x\nconnect\nexpect reset seen twice\n",
	            "s.scn:3:19: expected end of line, found \"twice\"");
}

static void test_load(void **state)
{
	(void)state;
	char err[512];
	assert_null(scn_load("/nonexistent/x.scn", err, sizeof err));
	assert_string_equal(err, "/nonexistent/x.scn: No such file or directory");
	assert_null(scn_load("/", err, sizeof err));
	assert_string_equal(err, "/: Is a directory");

	char path[] = "/tmp/test_scenario.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "scenario loaded\nconnect\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	struct scn_scenario *s = scn_load(path, err, sizeof err);
	assert_non_null(s);
	assert_string_equal(s->name, "loaded");
	assert_string_equal(s->file, path);
	scn_free(s);
	/* larger than the cap */
	char *pad = calloc(1, 65536);
	assert_non_null(pad);
	memset(pad, '#', 65535);
	pad[65535] = '\n';
	for (int i = 0; i < 17; i++)
		assert_int_equal(write(fd, pad, 65536), 65536);
	free(pad);
	close(fd);
	assert_null(scn_load(path, err, sizeof err));
	char want[600];
	snprintf(want, sizeof want,
	         "%s:1:1: expected a script of at most 1048576 bytes, found a larger one", path);
	assert_string_equal(err, want);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_design_example),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_request_and_format),
		cmocka_unit_test(test_groups_and_repeat),
		cmocka_unit_test(test_expectations),
		cmocka_unit_test(test_expectations_issue8),
		cmocka_unit_test(test_fin_timeout_option),
		cmocka_unit_test(test_shipped_scenarios),
		cmocka_unit_test(test_errors_structure),
		cmocka_unit_test(test_errors_connect),
		cmocka_unit_test(test_errors_numbers),
		cmocka_unit_test(test_errors_strings),
		cmocka_unit_test(test_errors_statements),
		cmocka_unit_test(test_errors_expect),
		cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
