/*
 * test_scenario_lessons.c - the teaching statements of the scenario
 * language: `drop`, `reorder` and `rst` parse into the tree the runner
 * plays, with exact messages for mistakes; `expect closed_by|kind|server
 * end|client end` and `expect kernel STATE duration` are judged from a
 * run's analyzer records and kernel samples (run_judge); and every lesson
 * in scenarios/lessons/ parses, has an `about` and expectations, and names
 * its reference policy in its opening comment.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lab/run.h"

#include "tests/unit/scenario_helpers.h"

static void test_fault_steps(void **state)
{
	(void)state;
	struct scn_scenario *s = parse_ok(
		"scenario f\n"
		"drop in fin\n"
		"drop out 6\n"
		"reorder out 3\n"
		"connect\n"
		"reorder in 1000000\n"
		"rst\n"
		"rst seq +100000\n"
		"rst seq -1 ack +5\n"
		"rst ack -2\n");
	const struct scn_steps *l = &s->groups[0].steps;
	assert_int_equal(l->n, 9);
	assert_int_equal(l->v[0].kind, SCN_DROP);
	assert_false(l->v[0].u.fault.out);
	assert_true(l->v[0].u.fault.fin);
	assert_int_equal(l->v[1].kind, SCN_DROP);
	assert_true(l->v[1].u.fault.out);
	assert_false(l->v[1].u.fault.fin);
	assert_int_equal(l->v[1].u.fault.nth, 6);
	assert_int_equal(l->v[2].kind, SCN_REORDER);
	assert_true(l->v[2].u.fault.out);
	assert_int_equal(l->v[2].u.fault.nth, 3);
	assert_int_equal(l->v[4].kind, SCN_REORDER);
	assert_int_equal(l->v[4].u.fault.nth, 1000000);
	assert_int_equal(l->v[5].kind, SCN_RST);
	assert_int_equal(l->v[5].u.rst.seq_off, 0);
	assert_false(l->v[5].u.rst.has_ack);
	assert_int_equal(l->v[6].u.rst.seq_off, 100000);
	assert_int_equal(l->v[7].u.rst.seq_off, -1);
	assert_true(l->v[7].u.rst.has_ack);
	assert_int_equal(l->v[7].u.rst.ack_off, 5);
	assert_int_equal(l->v[8].u.rst.seq_off, 0);
	assert_int_equal(l->v[8].u.rst.ack_off, -2);
	assert_string_equal(scn_step_name(SCN_DROP), "drop");
	assert_string_equal(scn_step_name(SCN_REORDER), "reorder");
	assert_string_equal(scn_step_name(SCN_RST), "rst");
	scn_free(s);
}

static void test_fault_errors(void **state)
{
	(void)state;
	check_error("scenario f\ndrop sideways 3\nconnect\n",
	            "s.scn:2:6: expected in or out, found \"sideways\"");
	check_error("scenario f\ndrop in 0\nconnect\n",
	            "s.scn:2:9: expected a segment number from 1 to 1000000, or fin, found \"0\"");
	check_error("scenario f\nreorder out 1000001\nconnect\n",
	            "s.scn:2:13: expected a segment number from 1 to 1000000, or fin, found \"1000001\"");
	check_error("scenario f\ndrop out\nconnect\n",
	            "s.scn:2:9: expected a segment number from 1 to 1000000, or fin, found end of line");
	check_error("scenario f\ndrop out fin now\nconnect\n",
	            "s.scn:2:14: expected end of line, found \"now\"");
	check_error("scenario f\nconnect\nrst seq\n",
	            "s.scn:3:8: expected an offset (+N, -N or N; N at most 2147483647), found end of line");
	check_error("scenario f\nconnect\nrst seq +2147483648\n",
	            "s.scn:3:9: expected an offset (+N, -N or N; N at most 2147483647), found \"+2147483648\"");
	check_error("scenario f\nconnect\nrst seq 1k\n",
	            "s.scn:3:9: expected an offset (+N, -N or N; N at most 2147483647), found \"1k\"");
	check_error("scenario f\nconnect\nrst seq 1 seq 2\n",
	            "s.scn:3:11: expected seq OFFSET, ack OFFSET or end of line, found \"seq\"");
	check_error("scenario f\nconnect\nrst window 5\n",
	            "s.scn:3:5: expected seq OFFSET, ack OFFSET or end of line, found \"window\"");
	/* a forged RST needs the connection; the kernel client cannot */
	check_error("scenario f\nrst\nconnect\n",
	            "s.scn:2:1: expected \"connect\" before \"rst\", found \"rst\"");
	check_error("scenario f\nclient kernel\ndrop in 3\nconnect\n",
	            "s.scn:3:1: expected a step a kernel client can do (\"drop\" needs the raw client), found \"drop\"");
	check_error("scenario f\nclient kernel\nconnect\nrst seq +0\n",
	            "s.scn:4:1: expected a step a kernel client can do (\"rst\" needs the raw client), found \"rst\"");
}

static void test_teardown_expectations_parse(void **state)
{
	(void)state;
	struct scn_scenario *s = parse_ok(
		"scenario t\nconnect\n"
		"expect closed_by simultaneous\n"
		"expect no kind reset\n"
		"expect server end TIME_WAIT\n"
		"expect client end CLOSED\n"
		"expect kernel last_ack duration >= 150ms\n"
		"expect kernel fin_wait_2 duration < 2s\n");
	assert_int_equal(s->n_expects, 6);
	assert_int_equal(s->expects[0].subject, SCN_X_CLOSED_BY);
	assert_int_equal(s->expects[0].teardown, AZ_INIT_SIMULTANEOUS);
	assert_int_equal(s->expects[1].subject, SCN_X_KIND);
	assert_true(s->expects[1].negated);
	assert_int_equal(s->expects[1].teardown, AZ_KIND_RESET);
	assert_int_equal(s->expects[2].subject, SCN_X_END);
	assert_int_equal(s->expects[2].side, SCN_SIDE_SERVER);
	assert_int_equal(s->expects[2].teardown, AZ_ST_TIME_WAIT);
	assert_int_equal(s->expects[3].side, SCN_SIDE_CLIENT);
	assert_int_equal(s->expects[3].teardown, AZ_ST_CLOSED);
	assert_int_equal(s->expects[4].subject, SCN_X_KERNEL);
	assert_int_equal(s->expects[4].kstate, SCN_K_LAST_ACK);
	assert_int_equal(s->expects[4].metric, SCN_M_DURATION);
	assert_int_equal(s->expects[4].value, 150000);
	assert_int_equal(s->expects[5].metric, SCN_M_DURATION);
	/* the words are the analyzer's names */
	for (int v = 1; v <= 3; v++)
		assert_string_equal(scn_closer_name(v), az_initiator_name((enum az_initiator)v));
	for (int v = 0; v < AZ_NKINDS; v++)
		assert_string_equal(scn_kind_name(v), az_kind_name((enum az_kind)v));
	for (int v = 0; v < AZ_NSTATES; v++)
		assert_string_equal(scn_end_name(v), az_state_name((enum az_state)v));
	scn_free(s);

	check_error("scenario t\nconnect\nexpect closed_by nobody\n",
	            "s.scn:3:18: expected client, server or simultaneous, found \"nobody\"");
	check_error("scenario t\nconnect\nexpect kind polite\n",
	            "s.scn:3:13: expected a teardown kind (graceful, reset, half_open, fin_then_rst, abort, open), found \"polite\"");
	check_error("scenario t\nconnect\nexpect server end time_wait\n",
	            "s.scn:3:19: expected a TCP state (TIME_WAIT, CLOSED, FIN_WAIT_2, FIN_WAIT_1, CLOSING, LAST_ACK, CLOSE_WAIT, ESTABLISHED, SYN_SENT, SYN_RECEIVED), found \"time_wait\"");
	check_error("scenario t\nconnect\nexpect server begin CLOSED\n",
	            "s.scn:3:15: expected rst_before_ack, fin_wait_2 or end, found \"begin\"");
	check_error("scenario t\nconnect\nexpect end CLOSED\n",
	            "s.scn:3:8: expected an expectation (rst_before_ack, lingered, fin_wait_2, kernel, client_impact, response, responses, reset, leaked_rst, closed_by, kind, server end, client end), found \"end\"");
	check_error("scenario t\nconnect\nexpect kernel time_wait duration 2s\n",
	            "s.scn:3:34: expected a comparison (==, !=, <, <=, >, >=), found \"2s\"");
	check_error("scenario t\nconnect\nexpect kernel time_wait total > 2s\n",
	            "s.scn:3:25: expected peak or duration, found \"total\"");
	check_error("scenario t\nconnect\nexpect kind graceful now\n",
	            "s.scn:3:22: expected end of line, found \"now\"");
}

/* ---- judging ----------------------------------------------------------- */

static struct run_scenario *outcome(const char *expects, uint32_t n, struct scn_scenario **sp)
{
	char text[2048], err[256];
	snprintf(text, sizeof text, "scenario t\nconnections %u\nconnect\n%s", n, expects);
	struct scn_scenario *s = scn_parse("t.scn", text, strlen(text), err, sizeof err);
	if (!s)
		fail_msg("%s", err);
	struct run_scenario *rs = calloc(1, sizeof *rs);
	assert_non_null(rs);
	rs->scn = s;
	rs->n_conns = n;
	rs->conns = calloc(n, sizeof *rs->conns);
	assert_non_null(rs->conns);
	for (size_t i = 0; i < n; i++) {
		struct run_conn *c = &rs->conns[i];
		c->az_id = i + 1;
		c->port = (uint16_t)(40000 + i);
		c->index = (uint32_t)i;
		c->initiator = AZ_INIT_SERVER;
		c->kind = AZ_KIND_GRACEFUL;
		c->server_end = AZ_ST_TIME_WAIT;
		c->client_end = AZ_ST_CLOSED;
	}
	*sp = s;
	return rs;
}

static void release(struct run_scenario *rs, struct scn_scenario *s)
{
	free(rs->conns);
	free(rs->results);
	free(rs);
	scn_free(s);
}

static void test_judge_teardown(void **state)
{
	(void)state;
	struct scn_scenario *s;
	struct run_scenario *rs = outcome(
		"expect closed_by server\n"
		"expect kind graceful\n"
		"expect server end TIME_WAIT\n"
		"expect client end CLOSED\n"
		"expect no kind reset\n"
		"expect closed_by client\n"
		"expect no kind graceful\n", 2, &s);
	assert_int_equal(run_judge(rs), 0);
	assert_int_equal(rs->n_results, 7);
	for (int i = 0; i < 5; i++)
		assert_true(rs->results[i].passed);
	assert_string_equal(rs->results[0].detail, "closed by server on all 2 connections");
	assert_string_equal(rs->results[2].detail, "server end TIME_WAIT on all 2 connections");
	assert_string_equal(rs->results[4].detail, "kind not reset on all 2 connections");
	assert_false(rs->results[5].passed);
	assert_string_equal(rs->results[5].detail,
	                    "connection 1 (port 40000): closed by server (0 of 2 connections client)");
	assert_false(rs->results[6].passed);
	assert_false(rs->passed);

	/* every connection must have it: one odd one fails the bare form */
	rs->conns[1].kind = AZ_KIND_FIN_THEN_RST;
	rs->conns[1].server_end = AZ_ST_CLOSED;
	assert_int_equal(run_judge(rs), 0);
	assert_false(rs->results[1].passed);
	assert_string_equal(rs->results[1].detail,
	                    "connection 2 (port 40001): kind fin_then_rst (1 of 2 connections graceful)");
	assert_false(rs->results[2].passed);
	assert_string_equal(rs->results[2].detail,
	                    "connection 2 (port 40001): server end CLOSED (1 of 2 connections TIME_WAIT)");
	assert_true(rs->results[4].passed);

	/* a connection the analyzer did not find fails it */
	rs->conns[1].kind = AZ_KIND_GRACEFUL;
	rs->conns[1].az_id = 0;
	assert_int_equal(run_judge(rs), 0);
	assert_false(rs->results[1].passed);
	assert_string_equal(rs->results[1].detail, "client port 40001: not found in the capture");
	release(rs, s);
}

static void test_judge_kernel_duration(void **state)
{
	(void)state;
	struct scn_scenario *s;
	struct run_scenario *rs = outcome(
		"expect kernel last_ack duration >= 150ms\n"
		"expect kernel time_wait duration < 100ms\n"
		"expect kernel fin_wait_2 duration > 2s\n", 1, &s);
	rs->kernel_duration[SCN_K_LAST_ACK] = 0.2;
	rs->kernel_duration[SCN_K_TIME_WAIT] = 0.1;
	rs->kernel_duration[SCN_K_FIN_WAIT_2] = 3.05;
	rs->kernel_baseline[SCN_K_FIN_WAIT_2] = 1;
	assert_int_equal(run_judge(rs), 0);
	assert_true(rs->results[0].passed);
	assert_string_equal(rs->results[0].detail,
	                    "kernel LAST_ACK for 0.200 s (sampled; 0 there at the start)");
	assert_false(rs->results[1].passed);
	assert_true(rs->results[2].passed);
	assert_string_equal(rs->results[2].detail,
	                    "kernel FIN_WAIT_2 for 3.050 s (sampled; 1 there at the start)");
	rs->kernel_unsampled = true;
	assert_int_equal(run_judge(rs), 0);
	assert_false(rs->results[0].passed);
	release(rs, s);
}

/* Every lesson parses, tells a student what it shows, expects something,
 * and names its reference run ("# reference: lingerlab run --builtin POLICY ...",
 * which tests/integration/lessons.sh plays) in its opening comment. */
static void test_lessons(void **state)
{
	(void)state;
	DIR *d = opendir("scenarios/lessons");
	if (!d)
		fail_msg("scenarios/lessons missing (run tests from the repo root)");
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".scn"))
			continue;
		char path[512], err[512] = "", head[4096];
		snprintf(path, sizeof path, "scenarios/lessons/%s", e->d_name);
		struct scn_scenario *s = scn_load(path, err, sizeof err);
		if (!s)
			fail_msg("%s", err);
		assert_non_null(s->about);
		assert_true(strlen(s->about) >= 80);
		assert_true(s->n_expects >= 2);
		char want[128];
		snprintf(want, sizeof want, "%.*s", (int)(len - 4), e->d_name);
		if (strcmp(s->name, want))
			fail_msg("%s: scenario %s, but the file is named %s", path, s->name, e->d_name);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		size_t got = fread(head, 1, sizeof head - 1, f);
		head[got] = '\0';
		fclose(f);
		char *first = strstr(head, "\nscenario ");
		assert_non_null(first);
		*first = '\0';
		if (!strstr(head, "\n# reference: lingerlab run --builtin "))
			fail_msg("%s: the opening comment names no reference policy", path);
		scn_free(s);
		n++;
	}
	closedir(d);
	assert_true(n >= 11);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_steps),
		cmocka_unit_test(test_fault_errors),
		cmocka_unit_test(test_teardown_expectations_parse),
		cmocka_unit_test(test_judge_teardown),
		cmocka_unit_test(test_judge_kernel_duration),
		cmocka_unit_test(test_lessons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
