/*
 * test_run_judge.c - how a scenario's expectations are judged from what a
 * run gathered (run_judge in lab/run.h): each subject, `no`, metrics, the
 * "every connection" rule for responses, and the detail texts the report
 * shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lab/run.h"

/* A scenario with the given expectation lines and n connections. */
static struct scn_scenario *scenario(const char *expects, uint32_t n)
{
	char text[4096], err[256];
	snprintf(text, sizeof text, "scenario t\nconnections %u\nconnect\n%s", n, expects);
	struct scn_scenario *s = scn_parse("t.scn", text, strlen(text), err, sizeof err);
	if (!s)
		fail_msg("%s", err);
	return s;
}

static struct run_scenario *outcome(const struct scn_scenario *s)
{
	struct run_scenario *rs = calloc(1, sizeof *rs);
	assert_non_null(rs);
	rs->scn = s;
	rs->n_conns = s->total_connections;
	rs->conns = calloc(rs->n_conns, sizeof *rs->conns);
	assert_non_null(rs->conns);
	for (size_t i = 0; i < rs->n_conns; i++) {
		rs->conns[i].az_id = i + 1;
		rs->conns[i].port = (uint16_t)(40000 + i);
		rs->conns[i].index = (uint32_t)i;
	}
	return rs;
}

static void release(struct run_scenario *rs, struct scn_scenario *s)
{
	free(rs->conns);
	free(rs->results);
	free(rs);
	scn_free(s);
}

static void give_response(struct run_conn *c, uint16_t status, bool complete, uint64_t bytes)
{
	c->rec[c->n_records].status = status;
	c->rec[c->n_records].complete = complete;
	c->rec[c->n_records].bytes = bytes;
	c->n_records++;
	c->responses_started++;
	c->responses_complete += complete;
}

static void test_findings(void **state)
{
	(void)state;
	struct scn_scenario *s = scenario(
		"expect no rst_before_ack\n"
		"expect rst_before_ack bytes_at_risk > 0\n"
		"expect client rst_before_ack count == 0\n"
		"expect rst_before_ack count >= 2\n", 1);
	struct run_scenario *rs = outcome(s);
	rs->rst_before_ack[AZ_SERVER] = 1;
	rs->bytes_at_risk_max[AZ_SERVER] = 337;
	assert_int_equal(run_judge(rs), 0);
	assert_int_equal(rs->n_results, 4);
	assert_false(rs->results[0].passed);
	assert_string_equal(rs->results[0].detail,
	                    "1 rst_before_ack finding (server RST), up to 337 bytes at risk");
	assert_true(rs->results[1].passed);
	assert_true(rs->results[2].passed);
	assert_string_equal(rs->results[2].detail, "no rst_before_ack finding (client RST)");
	assert_false(rs->results[3].passed);
	assert_false(rs->passed);
	release(rs, s);
}

static void test_lingered_and_fw2(void **state)
{
	(void)state;
	struct scn_scenario *s = scenario(
		"expect lingered\n"
		"expect lingered seconds >= 1s\n"
		"expect lingered bytes >= 1MiB\n"
		"expect fin_wait_2 peak >= 49\n"
		"expect no fin_wait_2\n"
		"expect client fin_wait_2 max < 2s\n"
		"expect kernel fin_wait_2 peak >= 49\n"
		"expect no kernel fin_wait_1\n", 1);
	struct run_scenario *rs = outcome(s);
	rs->lingered = 1;
	rs->linger_bytes = 1048576;
	rs->linger_max = 0.75;
	rs->fw2[AZ_SERVER].count = 50;
	rs->fw2[AZ_SERVER].peak = 50;
	rs->fw2[AZ_SERVER].max = 3.2;
	rs->kernel_peak[SCN_K_FIN_WAIT_2] = 48;
	rs->kernel_baseline[SCN_K_FIN_WAIT_2] = 2;
	assert_int_equal(run_judge(rs), 0);
	assert_true(rs->results[0].passed);
	assert_string_equal(rs->results[0].detail,
	                    "1 connection lingered, 1048576 bytes drained, longest 0.750 s");
	assert_false(rs->results[1].passed);
	assert_true(rs->results[2].passed);
	assert_true(rs->results[3].passed);
	assert_string_equal(rs->results[3].detail,
	                    "server fin_wait_2 (analyzer): 50 sockets, peak 50, longest 3.200 s");
	assert_false(rs->results[4].passed);
	assert_true(rs->results[5].passed);
	assert_false(rs->results[6].passed);
	assert_string_equal(rs->results[6].detail,
	                    "kernel FIN_WAIT_2 peak 48 (sampled; 2 there at the start)");
	assert_true(rs->results[7].passed);
	release(rs, s);
}

static void test_responses_every_connection(void **state)
{
	(void)state;
	struct scn_scenario *s = scenario(
		"expect response 1 status 404 complete\n"
		"expect responses >= 1\n"
		"expect no response 2\n"
		"expect response 2\n", 3);
	struct run_scenario *rs = outcome(s);
	for (int i = 0; i < 3; i++)
		give_response(&rs->conns[i], 404, true, 414);
	assert_int_equal(run_judge(rs), 0);
	assert_true(rs->results[0].passed);
	assert_string_equal(rs->results[0].detail,
	                    "all 3 connections received it as stated");
	assert_true(rs->results[1].passed);
	assert_string_equal(rs->results[1].detail, "1 complete response per connection");
	assert_true(rs->results[2].passed);
	assert_false(rs->results[3].passed);
	assert_string_equal(rs->results[3].detail,
	                    "connection 1 (port 40000) received 1 response");

	/* one connection differs: it is named */
	rs->conns[1].rec[0].status = 200;
	rs->conns[2].rec[0].complete = false;
	rs->conns[2].responses_complete = 0;
	give_response(&rs->conns[0], 200, false, 10);
	assert_int_equal(run_judge(rs), 0);
	assert_false(rs->results[0].passed);
	assert_string_equal(rs->results[0].detail,
	                    "connection 2 (port 40001): response 1 has status 200");
	assert_false(rs->results[1].passed);
	assert_string_equal(rs->results[1].detail,
	                    "0 to 1 complete responses per connection; connection 3 (port 40002) does not match");
	assert_false(rs->results[2].passed);
	assert_string_equal(rs->results[2].detail,
	                    "connection 1 (port 40000) received response 2 (status 200)");
	release(rs, s);
}

static void test_reset_and_leaks(void **state)
{
	(void)state;
	struct scn_scenario *s = scenario(
		"expect reset seen\n"
		"expect no reset\n"
		"expect no leaked_rst\n"
		"expect leaked_rst count == 0\n", 2);
	struct run_scenario *rs = outcome(s);
	rs->conns[1].reset_seen = true;
	rs->conns[0].bytes_received = 10;
	rs->conns[1].bytes_received = 5;
	assert_int_equal(run_judge(rs), 0);
	assert_true(rs->reset_seen);
	assert_int_equal(rs->bytes_received, 15);
	assert_true(rs->results[0].passed);
	assert_string_equal(rs->results[0].detail, "1 of 2 connections received a RST");
	assert_false(rs->results[1].passed);
	assert_true(rs->results[2].passed);
	assert_true(rs->results[3].passed);
	rs->leaked_rst = 1;
	assert_int_equal(run_judge(rs), 0);
	assert_false(rs->results[2].passed);
	assert_string_equal(rs->results[2].detail, "1 leaked RST");
	release(rs, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_findings),
		cmocka_unit_test(test_lingered_and_fw2),
		cmocka_unit_test(test_responses_every_connection),
		cmocka_unit_test(test_reset_and_leaks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
