/*
 * test_run_judge_app.c - judging the expectations about a kernel client's
 * application (`expect app ...`) and a client program (`expect client
 * exit|output`) from hand-made outcomes (run_judge in lab/run.h), with the
 * detail texts the report shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/run.h"

static struct scn_scenario *scenario(const char *text)
{
	char err[256];
	struct scn_scenario *s = scn_parse("t.scn", text, strlen(text), err, sizeof err);
	if (!s)
		fail_msg("%s", err);
	return s;
}

static struct run_scenario *outcome(const struct scn_scenario *s, size_t n)
{
	struct run_scenario *rs = calloc(1, sizeof *rs);
	assert_non_null(rs);
	rs->scn = s;
	rs->client = s->client;
	rs->n_conns = n;
	rs->conns = calloc(n ? n : 1, sizeof *rs->conns);
	assert_non_null(rs->conns);
	for (size_t i = 0; i < n; i++) {
		rs->conns[i].az_id = i + 1;
		rs->conns[i].port = (uint16_t)(61000 + i);
		rs->conns[i].app.kernel = true;
	}
	return rs;
}

static void release(struct run_scenario *rs, struct scn_scenario *s)
{
	free(rs->conns);
	free(rs->results);
	free(rs->program.output);
	free(rs);
	scn_free(s);
}

static void app_error(struct run_conn *c, const char *call, int e, double t)
{
	struct run_app_error *x = &c->app.err[c->app.n_errors++];
	snprintf(x->call, sizeof x->call, "%s", call);
	x->errnum = e;
	x->t = t;
}

static void test_app_response_and_errors(void **state)
{
	(void)state;
	struct scn_scenario *s = scenario(
		"scenario k\nclient kernel\nread after send\nconnect\n"
		"expect app response 1 status 401 complete\n"
		"expect app error ECONNRESET\n"
		"expect app error EPIPE\n"
		"expect app no error\n"
		"expect app no error ETIMEDOUT\n");
	struct run_scenario *rs = outcome(s, 1);
	struct run_conn *c = &rs->conns[0];
	c->rec[0].status = 401;
	c->rec[0].complete = true;
	c->rec[0].bytes = 511;
	c->n_records = 1;
	c->responses_started = c->responses_complete = 1;
	c->app.bytes_read = 511;
	app_error(c, "send", EPIPE, 0.412);
	assert_int_equal(run_judge(rs), 0);
	assert_int_equal(rs->n_results, 5);
	assert_true(rs->results[0].passed);
	assert_string_equal(rs->results[0].detail,
	                    "response 1: status 401, complete, 511 bytes "
	                    "(read 511 bytes; send: EPIPE at 0.412 s)");
	assert_false(rs->results[1].passed);
	assert_string_equal(rs->results[1].detail, "no connection got ECONNRESET from a syscall");
	assert_true(rs->results[2].passed);
	assert_string_equal(rs->results[2].detail,
	                    "1 of 1 connection got EPIPE; connection 1 (port 61000): "
	                    "send: EPIPE at 0.412 s");
	assert_false(rs->results[3].passed);
	assert_true(rs->results[4].passed);
	assert_false(rs->passed);

	/* the order of several errors is kept; the detail names them all */
	app_error(c, "recv", ECONNRESET, 0.5);
	char text[200];
	run_app_errors_text(&c->app, text, sizeof text);
	assert_string_equal(text, "send: EPIPE at 0.412 s, recv: ECONNRESET at 0.500 s");
	c->app.errors_dropped = 2;
	run_app_errors_text(&c->app, text, sizeof text);
	assert_string_equal(text, "send: EPIPE at 0.412 s, recv: ECONNRESET at 0.500 s, and 2 more");
	assert_int_equal(run_judge(rs), 0);
	assert_true(rs->results[1].passed);
	release(rs, s);
}

static void test_app_no_response(void **state)
{
	(void)state;
	struct scn_scenario *s = scenario(
		"scenario k\nclient kernel\nread never\nconnect\n"
		"expect app response 1 status 401\n"
		"expect app no response 1\n"
		"expect app no error\n");
	struct run_scenario *rs = outcome(s, 2);
	assert_int_equal(run_judge(rs), 0);
	assert_false(rs->results[0].passed);
	assert_string_equal(rs->results[0].detail, "connection 1 (port 61000) received 0 responses");
	assert_true(rs->results[1].passed);
	assert_true(rs->results[2].passed);
	assert_string_equal(rs->results[2].detail, "no connection got an error from a syscall");
	release(rs, s);
}

static void test_program(void **state)
{
	(void)state;
	struct scn_scenario *s = scenario(
		"scenario c\nclient command \"curl x\"\n"
		"expect client exit 0\n"
		"expect client exit != 56\n"
		"expect client output contains \"401\"\n"
		"expect no client output contains \"reset by peer\"\n");
	struct run_scenario *rs = outcome(s, 0);
	/* not started */
	snprintf(rs->program.error, sizeof rs->program.error, "exec env: No such file");
	assert_int_equal(run_judge(rs), 0);
	assert_false(rs->results[0].passed);
	assert_string_equal(rs->results[0].detail,
	                    "the client program did not run: exec env: No such file");
	/* exited 56 with curl's message */
	rs->program.ran = true;
	rs->program.exited = true;
	rs->program.exit_status = 56;
	rs->program.duration = 0.25;
	rs->program.output = strdup("curl: (56) Recv failure: Connection reset by peer\n");
	rs->program.output_len = strlen(rs->program.output);
	assert_int_equal(run_judge(rs), 0);
	assert_false(rs->results[0].passed);
	assert_string_equal(rs->results[0].detail, "the client program exited 56 after 0.250 s");
	assert_false(rs->results[1].passed);
	assert_false(rs->results[2].passed);
	assert_false(rs->results[3].passed);
	assert_string_equal(rs->results[3].detail,
	                    "its output (50 bytes) contains \"reset by peer\"");
	/* exited 0 and printed 401 */
	free(rs->program.output);
	rs->program.exit_status = 0;
	rs->program.output = strdup("401\n");
	rs->program.output_len = 4;
	assert_int_equal(run_judge(rs), 0);
	for (size_t i = 0; i < 4; i++)
		assert_true(rs->results[i].passed);
	assert_true(rs->passed);
	/* killed at the timeout */
	rs->program.exited = false;
	rs->program.signal = 9;
	rs->program.timed_out = true;
	assert_int_equal(run_judge(rs), 0);
	assert_false(rs->results[0].passed);
	assert_string_equal(rs->results[0].detail,
	                    "the client program was killed by signal 9 at the scenario's timeout");
	release(rs, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_app_response_and_errors),
		cmocka_unit_test(test_app_no_response),
		cmocka_unit_test(test_program),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
