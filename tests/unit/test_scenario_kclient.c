/*
 * test_scenario_kclient.c - the scenario language's client statements
 * (`client raw|kernel|command`, `read`, `expect app ...`, `expect client
 * exit|output`): the tree they give, and the exact message for each
 * statement a kind of client cannot do (docs/scenario-language.md,
 * "Kernel clients" and "Client programs").
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
#include <unistd.h>

#include "lab/scenario.h"

#include "tests/unit/scenario_helpers.h"

static void test_kernel_tree(void **state)
{
	(void)state;
	struct scn_scenario *s = parse_ok(
		"scenario k\n"
		"client kernel\n"
		"read after send\n"
		"window 16KiB\n"
		"connect\n"
		"request PUT /p length 1MiB\n"
		"body 1MiB rate 512KiB/s chunk 1460\n"
		"read concurrently\n"
		"fin half-close\n"
		"shutdown\n"
		"read never\n"
		"abort\n"
		"wait closed 5s\n"
		"expect app response 1 status 401 complete\n"
		"expect app error ECONNRESET\n"
		"expect app no error\n"
		"expect no app error EPIPE\n"
		"expect rst_before_ack\n");
	assert_int_equal(s->client, SCN_CLIENT_KERNEL);
	const struct scn_steps *l = &s->groups[0].steps;
	assert_int_equal(l->n, 11);
	assert_int_equal(l->v[0].kind, SCN_READ);
	assert_int_equal(l->v[0].u.read, SCN_READ_AFTER_SEND);
	assert_int_equal(l->v[5].kind, SCN_READ);
	assert_int_equal(l->v[5].u.read, SCN_READ_CONCURRENTLY);
	assert_int_equal(l->v[8].u.read, SCN_READ_NEVER);
	assert_string_equal(scn_step_name(SCN_READ), "read");
	assert_int_equal(s->n_expects, 5);
	assert_int_equal(s->expects[0].subject, SCN_X_APP_RESPONSE);
	assert_int_equal(s->expects[0].response, 1);
	assert_int_equal(s->expects[0].status, 401);
	assert_int_equal(s->expects[0].check, SCN_RC_COMPLETE);
	assert_int_equal(s->expects[1].subject, SCN_X_APP_ERROR);
	assert_false(s->expects[1].negated);
	assert_int_equal(s->expects[1].errnum, ECONNRESET);
	assert_int_equal(s->expects[2].subject, SCN_X_APP_ERROR);
	assert_true(s->expects[2].negated);
	assert_int_equal(s->expects[2].errnum, 0);
	assert_true(s->expects[3].negated);
	assert_int_equal(s->expects[3].errnum, EPIPE);
	assert_int_equal(s->expects[4].subject, SCN_X_RST_BEFORE_ACK);
	scn_free(s);

	/* a kernel client may have an RTT: the delay line (lab/kdelay.h) */
	s = parse_ok("scenario k\nrtt 200ms\nclient kernel\nconnect\n");
	assert_int_equal(s->rtt_us, 200000);
	scn_free(s);
	s = parse_ok("scenario k\nclient kernel\nrtt 200ms\nconnect\n");
	assert_int_equal(s->rtt_us, 200000);
	scn_free(s);
	s = parse_ok("scenario c\nrtt 200ms\nclient command \"true\"\n");
	assert_int_equal(s->rtt_us, 200000);
	scn_free(s);
	s = parse_ok("scenario r\nclient raw\nrtt 10ms\nconnect\nack never\nvanish\n");
	assert_int_equal(s->client, SCN_CLIENT_RAW);
	scn_free(s);
	s = parse_ok("scenario r\nconnect\n");
	assert_int_equal(s->client, SCN_CLIENT_RAW);
	scn_free(s);
}

static void test_command_tree(void **state)
{
	(void)state;
	struct scn_scenario *s = parse_ok(
		"scenario c\n"
		"client command \"curl -s \\\"$LINGERLAB_URL\\\"\"\n"
		"timeout 10s\n"
		"expect client exit 0\n"
		"expect client exit != 7\n"
		"expect client output contains \"401\"\n"
		"expect no client output contains \"reset\"\n"
		"expect no rst_before_ack\n");
	assert_int_equal(s->client, SCN_CLIENT_COMMAND);
	assert_string_equal(s->client_command, "curl -s \"$LINGERLAB_URL\"");
	assert_int_equal(s->total_connections, 0);
	assert_int_equal(s->n_expects, 5);
	assert_int_equal(s->expects[0].subject, SCN_X_CLIENT_EXIT);
	assert_int_equal(s->expects[0].op, SCN_OP_EQ);
	assert_int_equal(s->expects[0].value, 0);
	assert_int_equal(s->expects[1].op, SCN_OP_NE);
	assert_int_equal(s->expects[1].value, 7);
	assert_int_equal(s->expects[2].subject, SCN_X_CLIENT_OUTPUT);
	assert_string_equal(s->expects[2].output, "401");
	assert_true(s->expects[3].negated);
	assert_string_equal(s->expects[3].output, "reset");
	scn_free(s);

	/* run --client: any bytes of the command survive the round trip */
	char err[256];
	s = scn_client_command("printf '%s\\n' \"a\\\"b\" # x", err, sizeof err);
	if (!s)
		fail_msg("%s", err);
	assert_string_equal(s->name, "client");
	assert_int_equal(s->client, SCN_CLIENT_COMMAND);
	assert_string_equal(s->client_command, "printf '%s\\n' \"a\\\"b\" # x");
	assert_int_equal(s->n_expects, 0);
	scn_free(s);
	assert_null(scn_client_command("", err, sizeof err));
	assert_string_equal(err, "--client: expected a command of 1 to 4000 bytes");
	char *big = malloc(4002);
	memset(big, 'x', 4001);
	big[4001] = '\0';
	assert_null(scn_client_command(big, err, sizeof err));
	big[4000] = '\0';
	s = scn_client_command(big, err, sizeof err);
	assert_non_null(s);
	scn_free(s);
	free(big);
}

/* What a kernel client cannot do, and what only it can. */
static void test_rejected_statements(void **state)
{
	(void)state;
	check_error("scenario x\nclient kernel\nconnect\nack never\n",
	            "s.scn:4:1: expected a step a kernel client can do (\"ack\" needs the raw client), found \"ack\"");
	check_error("scenario x\nclient kernel\nafter rst continue\nconnect\n",
	            "s.scn:3:1: expected a step a kernel client can do (\"after\" needs the raw client), found \"after\"");
	check_error("scenario x\nclient kernel\nconnect\nrepeat 2 {\n  vanish\n}\n",
	            "s.scn:5:3: expected a step a kernel client can do (\"vanish\" needs the raw client), found \"vanish\"");
	check_error("scenario x\nconnect\nread never\n",
	            "s.scn:3:1: expected \"client kernel\" before \"read\" (the raw client reads everything as it arrives), found \"read\"");
	check_error("scenario x\nconnect\nclient kernel\n",
	            "s.scn:3:1: expected \"client\" before the first step (line 2), found \"client\"");
	check_error("scenario x\nclient kernel\nclient raw\nconnect\n",
	            "s.scn:3:1: expected one \"client\" per scenario, found \"client\"");
	check_error("scenario x\nclient quantum\nconnect\n",
	            "s.scn:2:8: expected raw, kernel or command, found \"quantum\"");
	check_error("scenario x\nclient kernel\nconnect\nread after\n",
	            "s.scn:4:11: expected send, found end of line");
	check_error("scenario x\nclient kernel\nconnect\nread sometimes\n",
	            "s.scn:4:6: expected concurrently, after send or never, found \"sometimes\"");
	check_error("scenario x\nconnect\nparallel 2 {\n  client kernel\n}\n",
	            "s.scn:4:3: expected a step inside \"parallel\", found \"client\"");
	check_error("scenario x\nclient command \"curl x\"\nconnect\n",
	            "s.scn:3:1: expected no steps with \"client command\" (the program is the client), found \"connect\"");
	check_error("scenario x\nclient command \"\"\n",
	            "s.scn:2:16: expected a command of 1 to 4000 bytes without NUL, found a string");
	check_error("scenario x\nclient command curl\n",
	            "s.scn:2:16: expected a string, found \"curl\"");
}

static void test_rejected_expectations(void **state)
{
	(void)state;
	check_error("scenario x\nconnect\nexpect app no error\n",
	            "s.scn:3:8: expected \"client kernel\" for \"expect app\" (only a kernel client has an application), found \"app\"");
	check_error("scenario x\nconnect\nexpect client exit 0\n",
	            "s.scn:3:15: expected \"client command\" for \"expect client exit\", found \"exit\"");
	check_error("scenario x\nclient kernel\nconnect\nexpect client output contains \"x\"\n",
	            "s.scn:4:15: expected \"client command\" for \"expect client output\", found \"output\"");
	check_error("scenario x\nclient kernel\nconnect\nexpect app error ECONNRESTE\n",
	            "s.scn:4:18: expected an errno name (ECONNRESET, EPIPE, ...), found \"ECONNRESTE\"");
	check_error("scenario x\nclient kernel\nconnect\nexpect app error\n",
	            "s.scn:4:17: expected an errno name (ECONNRESET, EPIPE, ...), found end of line");
	check_error("scenario x\nclient kernel\nconnect\nexpect app lingered\n",
	            "s.scn:4:12: expected response or error after \"app\", found \"lingered\"");
	check_error("scenario x\nclient kernel\nconnect\nexpect app response 17\n",
	            "s.scn:4:21: expected a response number from 1 to 16, found \"17\"");
	check_error("scenario x\nclient command \"true\"\nexpect client exit 256\n",
	            "s.scn:3:20: expected an exit status from 0 to 255, found \"256\"");
	check_error("scenario x\nclient command \"true\"\nexpect client output has \"x\"\n",
	            "s.scn:3:22: expected contains, found \"has\"");
	check_error("scenario x\nclient command \"true\"\nexpect client exit => 1\n",
	            "s.scn:3:20: expected a comparison (==, !=, <, <=, >, >=), found \"=>\"");
}

static void test_errno_names(void **state)
{
	(void)state;
	assert_int_equal(scn_errno_by_name("ECONNRESET", 10), ECONNRESET);
	assert_int_equal(scn_errno_by_name("EPIPE", 5), EPIPE);
	assert_int_equal(scn_errno_by_name("ETIMEDOUT", 9), ETIMEDOUT);
	assert_int_equal(scn_errno_by_name("EPIPEX", 5), EPIPE);   /* len counts */
	assert_int_equal(scn_errno_by_name("EPIPEX", 6), 0);
	assert_int_equal(scn_errno_by_name("pipe", 4), 0);
	assert_int_equal(scn_errno_by_name("E", 1), 0);
	assert_string_equal(scn_read_policy_name(SCN_READ_AFTER_SEND), "after send");
	assert_string_equal(scn_client_name(SCN_CLIENT_KERNEL), "kernel");
}

static void test_shipped(void **state)
{
	(void)state;
	static const char *files[] = {
		"scenarios/put-unauthorized-kernel.scn",
		"scenarios/clients/curl-upload-413.scn",
		"scenarios/clients/curl-upload-413-expect.scn",
		"scenarios/clients/python-pipeline.scn",
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
		assert_int_equal(s->client, i == 0 ? SCN_CLIENT_KERNEL : SCN_CLIENT_COMMAND);
		scn_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_tree),
		cmocka_unit_test(test_command_tree),
		cmocka_unit_test(test_rejected_statements),
		cmocka_unit_test(test_rejected_expectations),
		cmocka_unit_test(test_errno_names),
		cmocka_unit_test(test_shipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
