/*
 * test_labreport_exit.c - the exit code and verdict of a lab run's outcome
 * (reports/labreport.h) and what TAP says of it (reports/tap.h), on
 * hand-made outcomes: each reason the lab cannot vouch for a result
 * (leaked RSTs, capture drops, a capture read cut short, a lab not
 * removed) makes exit 4 whatever the expectations say, and is named. The
 * leak is also made for real in tests/integration/exit_codes.sh; the
 * others cannot be provoked on demand on a healthy host.
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
#include "reports/cli.h"
#include "reports/labreport.h"
#include "reports/tap.h"

struct fixture {
	struct scn_scenario *scn;
	struct run_scenario rs;
	struct run_expect_result res[2];
	struct run_outcome o;
};

/* One scenario with two expectations; the second fails when !passed. */
static struct fixture *make(bool passed)
{
	static const char text[] = "scenario t\nconnect\nexpect no reset\n"
	                           "expect no rst_before_ack\n";
	char err[256];
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	f->scn = scn_parse("dir/t \"x\".scn", text, strlen(text), err, sizeof err);
	if (!f->scn)
		fail_msg("%s", err);
	assert_int_equal(f->scn->n_expects, 2);
	for (size_t i = 0; i < 2; i++)
		f->res[i] = (struct run_expect_result){ .x = &f->scn->expects[i], .passed = true };
	if (!passed) {
		f->res[1].passed = false;
		snprintf(f->res[1].detail, sizeof f->res[1].detail, "1 finding: \"quoted\" \\ back");
	}
	f->rs.scn = f->scn;
	f->rs.results = f->res;
	f->rs.n_results = 2;
	f->rs.passed = passed;
	f->rs.start = 10;
	f->rs.end = 11.5;
	f->o.kind = RUN_TARGET_BUILTIN;
	snprintf(f->o.policy, sizeof f->o.policy, "close");
	f->o.scenarios = &f->rs;
	f->o.n_scenarios = 1;
	f->o.passed = passed;
	return f;
}

static void drop(struct fixture *f)
{
	scn_free(f->scn);
	free(f);
}

static void test_vouched(void **state)
{
	(void)state;
	char why[128] = "x";
	struct fixture *f = make(true);
	assert_false(labreport_unvouched(&f->o, why, sizeof why));
	assert_string_equal(why, "");
	assert_int_equal(labreport_exit_code(&f->o), LL_EXIT_OK);
	drop(f);
	f = make(false);
	assert_int_equal(labreport_exit_code(&f->o), LL_EXIT_FAIL);
	drop(f);
}

static void test_each_reason(void **state)
{
	(void)state;
	static const char *const want[] = {
		"2 leaked RSTs from the client side",
		"the capture dropped 1 packet",
		"reading the capture stopped early",
		"removing the lab failed (`lingerlab lab clean` removes the rest)",
	};
	for (int k = 0; k < 4; k++) {
		for (int passed = 0; passed < 2; passed++) {
			struct fixture *f = make(passed);
			char why[256], verdict[1024], tail[400];
			if (k == 0) {
				f->o.leaked_rst = 2;
				f->o.passed = false;   /* as run.c sets it */
			}
			if (k == 1)
				f->o.pcap_drops = 1;
			if (k == 2)
				snprintf(f->o.read_error, sizeof f->o.read_error, "capture.pcap: truncated");
			if (k == 3)
				snprintf(f->o.lab_error, sizeof f->o.lab_error, "ip netns del ll1s: busy");
			assert_true(labreport_unvouched(&f->o, why, sizeof why));
			assert_string_equal(why, want[k]);
			/* 4 wins over 0 and over 1 */
			assert_int_equal(labreport_exit_code(&f->o), LL_EXIT_UNVOUCHED);
			labreport_verdict_text(&f->o, verdict, sizeof verdict);
			snprintf(tail, sizeof tail, "; the lab cannot vouch for this result: %s", want[k]);
			assert_non_null(strstr(verdict, tail));
			assert_string_equal(verdict + strlen(verdict) - strlen(tail), tail);
			drop(f);
		}
	}
}

static void test_reasons_together(void **state)
{
	(void)state;
	char why[256];
	struct fixture *f = make(true);
	f->o.leaked_rst = 1;
	f->o.pcap_drops = 3;
	snprintf(f->o.lab_error, sizeof f->o.lab_error, "x");
	assert_true(labreport_unvouched(&f->o, why, sizeof why));
	assert_string_equal(why, "1 leaked RST from the client side, the capture dropped 3 packets, "
	                    "removing the lab failed (`lingerlab lab clean` removes the rest)");
	/* a short buffer cuts, never overruns */
	char small[20];
	assert_true(labreport_unvouched(&f->o, small, sizeof small));
	assert_int_equal(strlen(small), sizeof small - 1);
	drop(f);
}

static char *tap_of(const struct run_outcome *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	assert_non_null(m);
	assert_int_equal(tap_write(m, o, NULL), 0);
	fclose(m);
	return buf;
}

static void test_tap(void **state)
{
	(void)state;
	struct fixture *f = make(false);
	f->o.pcap_drops = 5;
	char *t = tap_of(&f->o);
	assert_string_equal(t,
		"TAP version 13\n"
		"1..2\n"
		"# lingerlab: builtin close\n"
		"not ok 1 - t\n"
		"  ---\n"
		"  message: \"line 4: expect no rst_before_ack\"\n"
		"  severity: fail\n"
		"  file: \"dir/t \\\"x\\\".scn\"\n"
		"  duration_ms: 1500\n"
		"  failures:\n"
		"    - file: \"dir/t \\\"x\\\".scn\"\n"
		"      line: 4\n"
		"      col: 1\n"
		"      expectation: \"expect no rst_before_ack\"\n"
		"      detail: \"1 finding: \\\"quoted\\\" \\\\ back\"\n"
		"  ...\n"
		"not ok 2 - lab\n"
		"  ---\n"
		"  message: \"the lab could not vouch for this result: the capture dropped 5 packets\"\n"
		"  severity: error\n"
		"  ...\n"
		"# 1 of 1 scenario failed its expectations; no rst_before_ack; the lab cannot vouch "
		"for this result: the capture dropped 5 packets\n");
	free(t);
	drop(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vouched),
		cmocka_unit_test(test_each_reason),
		cmocka_unit_test(test_reasons_together),
		cmocka_unit_test(test_tap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
