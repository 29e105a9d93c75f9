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

/* An analyzer server FIN_WAIT_2 interval [start, end] with its wire ending. */
static void fw2(struct run_conn *c, double start, double end, enum az_fw2_end e)
{
	c->fw2[AZ_SERVER] = (struct az_fw2_interval){ true, start, end, e };
	c->fw2_ending[AZ_SERVER] = (enum run_fw2_end)e;
}

/*
 * The kernel's word on FIN_WAIT_2 (run_kernel_fw2): an interval the wire
 * ended only after the sampled socket was gone is re-ended there as
 * kernel_timeout; one the wire ended first keeps the wire's ending; a
 * client RST that is the runner's clean-up RST is lab_cleanup; a socket
 * never sampled changes nothing. Times as in a real run (tcp_fin_timeout
 * 1 s, samples every 50 ms, clean-up RST at 2.8 s).
 */
static void test_kernel_fw2(void **state)
{
	(void)state;
	double ks;
	/* the orphan expired at ~1.05 s; the wire ended it at the clean-up RST */
	struct run_conn a = { .az_id = 1, .port = 40000 };
	fw2(&a, 0.10, 2.80, AZ_FW2_CLIENT_RST);
	a.kfw2_seen = true;
	a.kfw2_first = 0.15;
	a.kfw2_last = 1.10;
	a.kfw2_gone = 1.15;
	a.cleanup_rst = true;
	a.cleanup_rst_time = 2.80;
	run_kernel_fw2(&a, &ks);
	assert_int_equal(a.fw2_ending[AZ_SERVER], RUN_FW2_KERNEL_TIMEOUT);
	assert_true(a.fw2[AZ_SERVER].end == 1.15);
	assert_true(a.fw2_wire.end == 2.80);
	assert_int_equal(a.fw2_wire.ending, AZ_FW2_CLIENT_RST);
	assert_true(ks > 1.049 && ks < 1.051);
	run_kernel_fw2(&a, &ks); /* idempotent */
	assert_int_equal(a.fw2_ending[AZ_SERVER], RUN_FW2_KERNEL_TIMEOUT);
	assert_true(a.fw2[AZ_SERVER].end == 1.15);
	assert_true(a.fw2_wire.end == 2.80);

	/* the client's FIN came first: the socket left FIN_WAIT_2 because of it */
	struct run_conn b = { .az_id = 2, .port = 40001 };
	fw2(&b, 0.10, 0.60, AZ_FW2_CLIENT_FIN);
	b.kfw2_seen = true;
	b.kfw2_first = 0.15;
	b.kfw2_last = 0.60;
	b.kfw2_gone = 0.65;
	run_kernel_fw2(&b, &ks);
	assert_int_equal(b.fw2_ending[AZ_SERVER], RUN_FW2_CLIENT_FIN);
	assert_true(b.fw2[AZ_SERVER].end == 0.60);
	assert_true(ks > 0.549 && ks < 0.551);

	/* still there when the clean-up RST ended it: lab_cleanup */
	struct run_conn c = { .az_id = 3, .port = 40002 };
	fw2(&c, 0.10, 2.80, AZ_FW2_CLIENT_RST);
	c.kfw2_seen = true;
	c.kfw2_first = 0.15;
	c.kfw2_last = 2.75;
	c.kfw2_gone = 2.85;
	c.cleanup_rst = true;
	c.cleanup_rst_time = 2.80;
	run_kernel_fw2(&c, &ks);
	assert_int_equal(c.fw2_ending[AZ_SERVER], RUN_FW2_LAB_CLEANUP);
	assert_true(c.fw2[AZ_SERVER].end == 2.80);

	/* the client's own RST (no clean-up one): client_rst stays */
	struct run_conn d = { .az_id = 4, .port = 40003 };
	fw2(&d, 0.10, 1.00, AZ_FW2_CLIENT_RST);
	run_kernel_fw2(&d, &ks);
	assert_int_equal(d.fw2_ending[AZ_SERVER], RUN_FW2_CLIENT_RST);
	assert_true(ks < 0); /* never sampled */

	/* censored at the end of the capture, the kernel saw it go */
	struct run_conn e = { .az_id = 5, .port = 40004 };
	fw2(&e, 0.10, 9.0, AZ_FW2_CAPTURE_END);
	e.kfw2_seen = true;
	e.kfw2_first = 0.15;
	e.kfw2_last = 3.0;
	e.kfw2_gone = 3.05;
	run_kernel_fw2(&e, &ks);
	assert_int_equal(e.fw2_ending[AZ_SERVER], RUN_FW2_KERNEL_TIMEOUT);

	assert_string_equal(run_fw2_end_name(RUN_FW2_KERNEL_TIMEOUT), "kernel_timeout");
	assert_string_equal(run_fw2_end_name(RUN_FW2_LAB_CLEANUP), "lab_cleanup");
	assert_string_equal(run_fw2_end_name(RUN_FW2_CAPTURE_END), "capture_end");
}

/* run_tally over re-ended intervals, then the new expectations judged. */
static void test_kernel_fw2_judged(void **state)
{
	(void)state;
	struct scn_scenario *s = scenario(
		"expect fin_wait_2 ending kernel_timeout count == 2\n"
		"expect kernel fin_wait_2 max <= 1500ms\n"
		"expect kernel fin_wait_2 count == 3\n"
		"expect no fin_wait_2 ending lab_cleanup\n"
		"expect fin_wait_2 max < 1200ms\n"
		"expect fin_wait_2 ending kernel_timeout max >= 1s\n"
		"expect fin_wait_2 peak == 3\n", 3);
	struct run_scenario *rs = outcome(s);
	for (int i = 0; i < 3; i++) {
		struct run_conn *c = &rs->conns[i];
		fw2(c, 0.1 * i, 2.8, AZ_FW2_CLIENT_RST);
		c->kfw2_seen = true;
		c->kfw2_first = 0.1 * i + 0.05;
		c->kfw2_gone = i < 2 ? 0.1 * i + 1.1 : 2.85;
		c->kfw2_last = c->kfw2_gone - 0.05;
		c->cleanup_rst = true;
		c->cleanup_rst_time = 2.8;
	}
	assert_int_equal(run_tally(rs), 0);
	assert_int_equal(rs->fw2_endings[AZ_SERVER][RUN_FW2_KERNEL_TIMEOUT], 2);
	assert_int_equal(rs->fw2_endings[AZ_SERVER][RUN_FW2_LAB_CLEANUP], 1);
	assert_int_equal(rs->kernel_fw2_count, 3);
	assert_true(rs->kernel_fw2_max > 2.649 && rs->kernel_fw2_max < 2.651);
	assert_int_equal(run_tally(rs), 0); /* twice: the same */
	assert_int_equal(rs->fw2_endings[AZ_SERVER][RUN_FW2_KERNEL_TIMEOUT], 2);
	assert_int_equal(run_judge(rs), 0);
	assert_true(rs->results[0].passed);
	assert_string_equal(rs->results[0].detail,
	                    "server fin_wait_2 ending kernel_timeout: 2 sockets, longest 1.100 s "
	                    "(the others: 1 lab_cleanup)");
	assert_false(rs->results[1].passed);  /* the lab_cleanup one: 2.65 s in the samples */
	assert_string_equal(rs->results[1].detail,
	                    "kernel FIN_WAIT_2: 3 server sockets, longest 2.650 s (sampled)");
	assert_true(rs->results[2].passed);
	assert_false(rs->results[3].passed);
	assert_string_equal(rs->results[3].detail,
	                    "server fin_wait_2 ending lab_cleanup: 1 socket, longest 2.600 s "
	                    "(the others: 2 kernel_timeout)");
	assert_false(rs->results[4].passed);
	assert_true(rs->results[5].passed);
	assert_true(rs->results[6].passed); /* three intervals overlap at 0.2 s */
	release(rs, s);
}

/* client_impact over the server findings the runner counted. */
static void test_client_impact(void **state)
{
	(void)state;
	struct scn_scenario *s = scenario(
		"expect client_impact reset_before_ack\n"
		"expect no client_impact reset_before_ack\n"
		"expect client_impact reset_after_ack count == 2\n"
		"expect client_impact no_reset count >= 1\n"
		"expect no client_impact no_reset\n", 1);
	struct run_scenario *rs = outcome(s);
	rs->client_impact[AZ_IMPACT_RESET_BEFORE_ACK] = 1;
	rs->client_impact[AZ_IMPACT_RESET_AFTER_ACK] = 2;
	assert_int_equal(run_judge(rs), 0);
	assert_true(rs->results[0].passed);
	assert_string_equal(rs->results[0].detail,
	                    "client_impact of 3 server findings: 1 reset_before_ack, "
	                    "2 reset_after_ack, 0 no_reset");
	assert_false(rs->results[1].passed);
	assert_true(rs->results[2].passed);
	assert_false(rs->results[3].passed);
	assert_true(rs->results[4].passed);
	rs->client_impact[AZ_IMPACT_RESET_BEFORE_ACK] = 0;
	assert_int_equal(run_judge(rs), 0);
	assert_false(rs->results[0].passed);
	assert_true(rs->results[1].passed);
	release(rs, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_findings),
		cmocka_unit_test(test_lingered_and_fw2),
		cmocka_unit_test(test_responses_every_connection),
		cmocka_unit_test(test_reset_and_leaks),
		cmocka_unit_test(test_kernel_fw2),
		cmocka_unit_test(test_kernel_fw2_judged),
		cmocka_unit_test(test_client_impact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
