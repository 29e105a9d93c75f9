/*
 * test_story.c - the remedy explain gives fits the cause (reports/story.c):
 * a lingering close for data after the FIN or a close with unread data,
 * also when an "abort" RST came after the sender's own FIN; not for an
 * abort without FIN, nor for a sender that gave up retransmitting (the
 * same bytes resent with nothing from the peer in between, then a RST).
 * Each connection is a small report record written out by hand, as the
 * analyzer writes them (docs/report-format.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "reports/explain.h"

/* A report with one connection whose timeline is pkts (a JSON array text)
 * and one server finding with cause and rst_packet. */
static json_t *report(const char *pkts, const char *cause, int rst)
{
	char buf[4096];
	json_error_t e;
	json_t *r;

	snprintf(buf, sizeof buf,
	         "{\"findings\": [{\"type\": \"rst_before_ack\", \"connection\": 1, \"sender\": \"server\","
	         " \"cause\": \"%s\", \"rst_packet\": %d, \"bytes_at_risk_at_server\": 100}],"
	         " \"connections\": [{\"id\": 1, \"finding\": 0, \"findings\": [0],"
	         " \"close_initiator\": \"server\", \"kind\": \"abort\","
	         " \"timeline\": {\"packets\": %s, \"omitted\": 0, \"omitted_after\": null}}]}",
	         cause, rst, pkts);
	r = json_loads(buf, 0, &e);
	assert_non_null(r);
	return r;
}

#define PKT(i, t, dir, fl, seq, ack, len) \
	"{\"i\": " #i ", \"t\": " #t ", \"dir\": \"" dir "\", \"flags\": \"" fl "\", \"seq\": " #seq \
	", \"ack\": " #ack ", \"len\": " #len ", \"win\": 65535}"

/* handshake, a 40-byte request, the server's first 100 bytes */
#define HEAD PKT(1, 0.0, "c2s", "S", 0, 0, 0) "," PKT(2, 0.001, "s2c", "S.", 0, 1, 0) "," \
	PKT(3, 0.01, "c2s", ".", 1, 1, 0) "," PKT(4, 0.011, "c2s", "P.", 1, 1, 40) "," \
	PKT(5, 0.012, "s2c", "P.", 1, 41, 100)

struct told {
	char text[2048];
	bool gave_up;
	int retx;
};

static void tell(const char *pkts, const char *cause, int rst, struct told *t)
{
	json_t *root = report(pkts, cause, rst);
	const json_t *conn = json_array_get(json_object_get(root, "connections"), 0);
	struct story s;
	struct sbuf b;
	char err[128];

	ex_story_init(&s, root, conn);
	assert_int_equal(rf_timeline(conn, &s.tl, err, sizeof err), 0);
	assert_non_null(s.finding);
	sb_init(&b);
	ex_remedy(&s, s.finding, &b);
	snprintf(t->text, sizeof t->text, "%s", b.s);
	t->gave_up = ex_gave_up(&s, s.finding, &t->retx);
	rf_timeline_free(&s.tl);
	json_decref(root);
}

static void test_gave_up(void **state)
{
	struct told t;

	(void)state;
	/* the 100 bytes twice more, nothing from the client, then a RST */
	tell("[" HEAD "," PKT(6, 0.212, "s2c", "P.", 1, 41, 100) "," PKT(7, 0.612, "s2c", "P.", 1, 41, 100)
	     "," PKT(8, 1.412, "s2c", "R.", 101, 41, 0) "]", "abort", 8, &t);
	assert_true(t.gave_up);
	assert_int_equal(t.retx, 2);
	assert_non_null(strstr(t.text, "A lingering close would not help here: the server was not "
	                               "closing, it gave up. It sent the same unacknowledged bytes 3 times"));
	assert_null(strstr(t.text, "The cure is a lingering close"));
}

static void test_one_resend_is_no_giving_up(void **state)
{
	struct told t;

	(void)state;
	/* a single resend, and a client packet between it and the RST */
	tell("[" HEAD "," PKT(6, 0.212, "s2c", "P.", 1, 41, 100) "," PKT(7, 0.3, "c2s", "P.", 41, 1, 10)
	     "," PKT(8, 0.31, "s2c", "R.", 101, 51, 0) "]", "unread_at_close", 8, &t);
	assert_false(t.gave_up);
	assert_non_null(strstr(t.text, "The cure is a lingering close: shut down only the sending half"));
}

static void test_abort_without_fin(void **state)
{
	struct told t;

	(void)state;
	tell("[" HEAD "," PKT(6, 0.013, "s2c", "R.", 101, 41, 0) "]", "abort", 6, &t);
	assert_false(t.gave_up);
	assert_non_null(strstr(t.text, "A lingering close would not help here: the server did not close "
	                               "with data unread, it aborted"));
}

static void test_abort_after_fin_is_a_close(void **state)
{
	struct told t;

	(void)state;
	/* FIN, then the RST 19 us later (Python's close with body unread) */
	tell("[" HEAD "," PKT(6, 0.013, "s2c", "F.", 101, 41, 0) "," PKT(7, 0.013019, "s2c", "R.", 102, 41, 0)
	     "]", "abort", 7, &t);
	assert_non_null(strstr(t.text, "The server sent its FIN before this RST, so it did not abort with "
	                               "SO_LINGER 0 (that sends no FIN)"));
	assert_non_null(strstr(t.text, "The cure is a lingering close"));
}

static void test_data_after_fin(void **state)
{
	struct told t;

	(void)state;
	tell("[" HEAD "," PKT(6, 0.013, "s2c", "F.", 101, 41, 0) "," PKT(7, 0.02, "c2s", "P.", 41, 1, 500)
	     "," PKT(8, 0.021, "s2c", "R", 1, 0, 0) "]", "data_after_fin", 8, &t);
	assert_non_null(strstr(t.text, "The cure is a lingering close: shut down only the sending half, "
	                               "read and discard until the client closes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gave_up),
		cmocka_unit_test(test_one_resend_is_no_giving_up),
		cmocka_unit_test(test_abort_without_fin),
		cmocka_unit_test(test_abort_after_fin_is_a_close),
		cmocka_unit_test(test_data_after_fin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
