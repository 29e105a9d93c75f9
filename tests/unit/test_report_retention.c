/*
 * test_report_retention.c - the verdicts say totals, never the retention
 * cap: with max_retained 1 and two server resets (100 and 700 bytes at
 * risk, the second one not kept), report_verdict_text() (analyze) and
 * labreport_verdict_text() (run, audit) both say 2 connections and up to
 * 700 bytes, and how many are listed. The CLI test on a real capture of
 * 10,050 resets is tests/integration/analyze_retention.sh.
 */
#include <stdio.h>
#include <string.h>

#include "lab/run.h"
#include "reports/findings.h"
#include "reports/labreport.h"
#include "tests/unit/analyzer_helpers.h"

#define CLI "10.0.0.2"
#define SRV "10.0.0.1"

/* Two connections, each reset by the server behind its whole response
 * (100 then 700 bytes; the client ACKed only the SYN-ACK), max_retained 1:
 * the second finding is counted, not kept. */
static void build(struct run *r)
{
	struct pb_list l;
	struct pb_conn c;
	struct az_config cfg;
	static const uint32_t size[2] = { 100, 700 };

	pb_list_init(&l, PB_DLT_EN10MB);
	for (int i = 0; i < 2; i++) {
		double t = 1.0 + i;
		assert_int_equal(pb_conn_init(&c, CLI, (uint16_t)(40000 + i), SRV, 80,
		                              1000, 5000), 0);
		pb_syn(&l, &c, t);
		pb_synack(&l, &c, t + 0.01);
		pb_ack(&l, &c, PB_C2S, t + 0.02, 1, 1);
		pb_data(&l, &c, PB_S2C, t + 0.03, 1, 1, NULL, size[i]);
		pb_rstack(&l, &c, PB_S2C, t + 0.031, 1 + size[i], 1);
	}
	memset(&cfg, 0, sizeof cfg);
	cfg.max_retained = 1;
	run_list(r, &l, &cfg);
	pb_list_free(&l);
	assert_int_equal(az_totals(r->az)->rst_before_ack_by_sender[AZ_SERVER], 2);
	assert_int_equal(az_n_findings(r->az), 1);
	assert_int_equal(az_totals(r->az)->not_retained, 1);
}

static void test_analyze_verdict(void **state)
{
	struct run r;
	char text[1024];
	(void)state;

	build(&r);
	report_verdict_text(r.az, text, sizeof text);
	assert_string_equal(text,
		"2 rst_before_ack: the server reset 2 connections with up to 700 response bytes "
		"unacknowledged; at the client: 2 reset before it acknowledged the response "
		"(reset_before_ack); the report lists the first 1 finding (findings[]); 1 more "
		"flagged connection is counted above but not listed (summary.not_retained)");
	az_free(r.az);
}

/* The lab's scenarios are tallied from the kept findings (runanalysis.c
 * take_finding): here one scenario that knows the first reset only. */
static void test_lab_verdict(void **state)
{
	struct run r;
	struct run_outcome o;
	struct run_scenario rs;
	char text[1024];
	(void)state;

	build(&r);
	memset(&o, 0, sizeof o);
	memset(&rs, 0, sizeof rs);
	rs.rst_before_ack[AZ_SERVER] = 1;
	rs.bytes_at_risk_max[AZ_SERVER] = 100;
	rs.passed = false;
	o.scenarios = &rs;
	o.n_scenarios = 1;
	o.az = r.az;
	labreport_verdict_text(&o, text, sizeof text);
	assert_string_equal(text,
		"1 of 1 scenario failed its expectations; 2 rst_before_ack: the server reset 2 "
		"connections with up to 700 response bytes unacknowledged; the scenarios list 1 "
		"of them; 1 more flagged connection is counted here but listed nowhere "
		"(summary.not_retained)");

	/* nothing beyond the cap: the scenarios' own figures, no clause */
	o.az = NULL;
	labreport_verdict_text(&o, text, sizeof text);
	assert_string_equal(text,
		"1 of 1 scenario failed its expectations; 1 rst_before_ack: the server reset 1 "
		"connection with up to 100 response bytes unacknowledged");
	az_free(r.az);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_analyze_verdict),
		cmocka_unit_test(test_lab_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
