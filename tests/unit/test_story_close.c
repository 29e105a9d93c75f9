/*
 * test_story_close.c - the notes explain gives on the packets that close a
 * connection no finding speaks for (reports/explain_close.c):
 *  - a RST 1000 bytes ahead of RCV.NXT (challenge ACK right after it, then
 *    the request and a graceful close: the lab's rst-in-window lesson
 *    against Linux 6.1) is told as not taken, with its challenge ACK;
 *  - a RST 1 MiB ahead and one a byte behind (rst-out-of-window) are told
 *    as dropped, beyond and before the window (the SYN-ACK's 65160, never
 *    scaled);
 *  - a RST at exactly RCV.NXT is taken, and so ends the connection;
 *  - a FIN sent again with the seq of the first (lost-fin: the server's
 *    FIN, no ACK, the FIN again 312 ms later) is told as a retransmission,
 *    and when the peer closed first (lost-last-ack) with why TIME_WAIT
 *    exists; a FIN with another seq is not.
 * Each connection is a report record written out by hand, as the analyzer
 * writes them (docs/report-format.md), with the packets of the lessons'
 * captures (relative numbers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "analyzer/analyzer.h"
#include "reports/explain.h"

#define PKT(i, t, dir, fl, seq, ack, len, win) \
	"{\"i\": " #i ", \"t\": " #t ", \"dir\": \"" dir "\", \"flags\": \"" fl "\", \"seq\": " #seq \
	", \"ack\": " #ack ", \"len\": " #len ", \"win\": " #win "}"

/* handshake, as the lab captured it next to the server */
#define HS PKT(1, 0.0, "c2s", "S", 0, 0, 0, 65535) "," \
	PKT(2, 0.000022, "s2c", "S.", 0, 1, 0, 65160) "," \
	PKT(3, 0.100131, "c2s", ".", 1, 1, 0, 65408)

/* the request, the response, the server's FIN and the clean close */
#define REST(i) \
	PKT(i, 0.602320, "c2s", "P.", 1, 1, 67, 65408) "," \
	PKT(1##i, 0.602355, "s2c", ".", 1, 68, 0, 65536) "," \
	PKT(2##i, 0.602500, "s2c", "P.", 1, 68, 685, 65536) "," \
	PKT(3##i, 0.602516, "s2c", "F.", 686, 68, 0, 65536) "," \
	PKT(4##i, 0.704561, "c2s", ".", 68, 687, 0, 65408) "," \
	PKT(5##i, 0.704585, "c2s", "F.", 68, 687, 0, 65408) "," \
	PKT(6##i, 0.704599, "s2c", ".", 687, 69, 0, 65536)

struct tale {
	json_t *root;
	struct story s;
	char *text;
	size_t len;
};

/* A report with one unflagged connection (kind as given) whose timeline
 * is pkts; its notes for every packet in text. */
static void tell(struct tale *t, const char *kind, const char *init, const char *pkts)
{
	char buf[8192], err[128];
	json_error_t e;
	const json_t *conn;
	struct tout o = { 0 };
	FILE *f;

	snprintf(buf, sizeof buf,
	         "{\"findings\": [], \"connections\": [{\"id\": 1, \"finding\": null,"
	         " \"findings\": [], \"close_initiator\": \"%s\", \"kind\": \"%s\","
	         " \"rtt\": {\"to_server\": 0.000022, \"to_client\": 0.100109},"
	         " \"timeline\": {\"packets\": [%s], \"omitted\": 0, \"omitted_after\": null}}]}",
	         init, kind, pkts);
	t->root = json_loads(buf, 0, &e);
	if (!t->root)
		fail_msg("bad test JSON: %s", e.text);
	conn = json_array_get(json_object_get(t->root, "connections"), 0);
	ex_story_init(&t->s, t->root, conn);
	assert_int_equal(rf_timeline(conn, &t->s.tl, err, sizeof err), 0);
	t->s.t0 = t->s.tl.pkts[0].t;
	f = open_memstream(&t->text, &t->len);
	assert_non_null(f);
	assert_int_equal(tout_init(&o, f, TOUT_NEVER), 0);
	for (size_t k = 0; k < t->s.tl.n; k++)
		ex_close_notes(&o, &t->s, k);
	tout_close(&o);
	fclose(f);
}

static void done(struct tale *t)
{
	rf_timeline_free(&t->s.tl);
	json_decref(t->root);
	free(t->text);
	t->text = NULL;
}

/* The text with the note prefixes and line breaks taken out. */
static const char *flat(struct tale *t)
{
	char *w = t->text;
	const char *r = t->text;

	while (*r) {
		if (!strncmp(r, NOTE_PREFIX, strlen(NOTE_PREFIX))) {
			r += strlen(NOTE_PREFIX);
			continue;
		}
		if (*r == '\n') {
			if (w > t->text && w[-1] != ' ')
				*w++ = ' ';
			r++;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	return t->text;
}

static void test_in_window_challenge(void **state)
{
	struct tale t;
	struct ex_rst v;
	(void)state;

	tell(&t, "graceful", "server", HS ","
	     PKT(4, 0.302227, "c2s", "R", 1001, 0, 0, 65408) ","
	     PKT(5, 0.302252, "s2c", ".", 1, 1, 0, 65536) "," REST(6));
	ex_rst_view(&t.s, 3, &v);
	assert_int_equal(v.fate, AZ_ACCEPT_CHALLENGE_ACK);
	assert_int_equal(v.nxt, 1);
	assert_int_equal(v.answer, 4);       /* #5 */
	assert_false(v.ended);
	assert_non_null(strstr(flat(&t), "The server does not take this RST: its seq, 1001, "
	                       "is inside the server's receive window but is not 1"));
	assert_non_null(strstr(t.text, "challenge ACK"));
	assert_non_null(strstr(t.text, "#5 (ack 1)"));
	done(&t);
}

static void test_out_of_window(void **state)
{
	struct tale t;
	struct ex_rst v;
	(void)state;

	tell(&t, "graceful", "server", HS ","
	     PKT(4, 0.302834, "c2s", "R", 1048577, 0, 0, 65408) ","
	     PKT(5, 0.302859, "c2s", "R", 0, 0, 0, 65408) "," REST(6));
	ex_rst_view(&t.s, 3, &v);
	assert_int_equal(v.fate, AZ_ACCEPT_IGNORED);
	assert_int_equal(v.win, 65160);      /* the SYN-ACK's, unscaled */
	assert_false(v.ended);
	ex_rst_view(&t.s, 4, &v);
	assert_int_equal(v.fate, AZ_ACCEPT_IGNORED);
	assert_false(v.ended);
	flat(&t);
	assert_non_null(strstr(t.text, "its seq, 1048577, lies beyond the server's receive "
	                       "window (1 to 65161)"));
	assert_non_null(strstr(t.text, "its seq, 0, lies before the server's receive window"));
	assert_non_null(strstr(t.text, "the connection lives on"));
	done(&t);
}

static void test_exact_taken(void **state)
{
	struct tale t;
	struct ex_rst v;
	struct sbuf b;
	(void)state;

	tell(&t, "abort", "client", HS ","
	     PKT(4, 0.300433, "c2s", "R", 1, 0, 0, 65408) ","
	     PKT(5, 0.600490, "c2s", "P.", 1, 1, 48, 65408) ","
	     PKT(6, 0.600519, "s2c", "R", 1, 0, 0, 0));
	ex_rst_view(&t.s, 3, &v);
	assert_int_equal(v.fate, AZ_ACCEPT_RESET);
	assert_true(v.ended);
	/* the server's RST answers the request as a closed port does */
	ex_rst_view(&t.s, 5, &v);
	assert_true(v.peer_reset);
	assert_non_null(strstr(flat(&t), "This RST answers the client's segment #5 the way a "
	                       "closed port does"));
	sb_init(&b);
	ex_rst_end_words(&t.s, &b);
	assert_non_null(strstr(b.s, "The server took the client's RST (#4): its seq was "
	                       "exactly the next byte it expected"));
	done(&t);
}

static void test_fin_again(void **state)
{
	struct tale t;
	(void)state;

	/* lost-fin: the server's FIN, nothing from the client, the FIN again */
	tell(&t, "graceful", "server", HS ","
	     PKT(4, 0.100225, "c2s", "P.", 1, 1, 67, 65408) ","
	     PKT(5, 0.100349, "s2c", "P.", 1, 68, 685, 65536) ","
	     PKT(6, 0.100360, "s2c", "F.", 686, 68, 0, 65536) ","
	     PKT(7, 0.200486, "c2s", ".", 68, 686, 0, 65408) ","
	     PKT(8, 0.412778, "s2c", "F.", 686, 68, 0, 65536) ","
	     PKT(9, 0.512936, "c2s", ".", 68, 687, 0, 65408));
	flat(&t);
	assert_non_null(strstr(t.text, "The server sends its FIN again (seq 686, as in #6, "
	                       "312.4 ms later)"));
	assert_non_null(strstr(t.text, "retransmission timer"));
	assert_non_null(strstr(t.text, "the server stays in FIN_WAIT_1"));
	assert_null(strstr(t.text, "TIME_WAIT exists"));
	/* #7 left the client before the FIN can have reached it: it says
	 * nothing of the FIN, so no telling which was lost */
	assert_non_null(strstr(t.text, "Either the FIN was lost"));
	done(&t);

	/* the same, the client's ACK a round trip later still short of the
	 * FIN: it was the FIN that was lost */
	tell(&t, "graceful", "server", HS ","
	     PKT(4, 0.100225, "c2s", "P.", 1, 1, 67, 65408) ","
	     PKT(5, 0.100349, "s2c", "P.", 1, 68, 685, 65536) ","
	     PKT(6, 0.100360, "s2c", "F.", 686, 68, 0, 65536) ","
	     PKT(7, 0.300486, "c2s", ".", 68, 686, 0, 65408) ","
	     PKT(8, 0.412778, "s2c", "F.", 686, 68, 0, 65536));
	assert_non_null(strstr(flat(&t), "It was the FIN that was lost, on its way to the "
	                       "client: the client's ACK #7 (ack 686)"));
	done(&t);

	/* lost-last-ack: the client closed first; the server's FIN again */
	tell(&t, "graceful", "client", HS ","
	     PKT(4, 0.100225, "c2s", "P.", 1, 1, 48, 65408) ","
	     PKT(5, 0.100349, "s2c", "P.", 1, 49, 666, 65536) ","
	     PKT(6, 0.200486, "c2s", ".", 49, 667, 0, 65408) ","
	     PKT(7, 0.200515, "c2s", "F.", 49, 667, 0, 65408) ","
	     PKT(8, 0.200569, "s2c", "F.", 667, 50, 0, 65536) ","
	     PKT(9, 0.512778, "s2c", "F.", 667, 50, 0, 65536) ","
	     PKT(10, 0.612936, "c2s", ".", 50, 668, 0, 65408));
	flat(&t);
	assert_non_null(strstr(t.text, "The server sends its FIN again (seq 667, as in #8"));
	assert_non_null(strstr(t.text, "the server is in LAST_ACK"));
	assert_non_null(strstr(t.text, "That is why TIME_WAIT exists (RFC 9293 3.6)"));
	/* told once, and only for the repeat */
	assert_null(strstr(strstr(t.text, "sends its FIN again") + 1, "sends its FIN again"));
	done(&t);

	/* two FINs with different seqs (data between): no retransmission */
	tell(&t, "graceful", "server", HS ","
	     PKT(4, 0.100225, "c2s", "F.", 1, 1, 0, 65408) ","
	     PKT(5, 0.100349, "s2c", "F.", 1, 2, 0, 65536) ","
	     PKT(6, 0.200486, "c2s", ".", 2, 2, 0, 65408));
	assert_null(strstr(flat(&t), "sends its FIN again"));
	done(&t);
}

/* fin-wait-2: the server's FIN ACKed, 4.2 s of silence, then the RST the
 * lab's runner sends at the end (packet 72); with the lab report's kernel
 * interval (gone at 3.119 s, kernel_timeout) and without it. */
#define FW2_PKTS HS "," \
	PKT(34, 0.100144, "c2s", "P.", 1, 1, 67, 65408) "," \
	PKT(36, 0.100229, "s2c", "P.", 1, 68, 685, 65536) "," \
	PKT(37, 0.100242, "s2c", "F.", 686, 68, 0, 65536) "," \
	PKT(53, 0.200321, "c2s", ".", 68, 687, 0, 65408) "," \
	PKT(72, 4.339189, "c2s", "R.", 68, 687, 0, 65408)

static void fw2_story(struct tale *t, bool lab)
{
	char buf[8192], err[128];
	json_error_t e;
	const json_t *conn;

	snprintf(buf, sizeof buf,
	         "{\"findings\": [], %s \"connections\": [{\"id\": 3, \"finding\": null,"
	         " \"findings\": [], \"close_initiator\": \"server\", \"kind\": \"abort\","
	         " \"rtt\": {\"to_server\": 0.000038, \"to_client\": 0.050076},"
	         " \"fin_wait_2\": {\"server\": {\"start\": 0.200321, \"end\": 4.339189,"
	         " \"duration\": 4.138868, \"ending\": \"client_rst\"}, \"client\": null},"
	         " \"timeline\": {\"packets\": [%s], \"omitted\": 0, \"omitted_after\": null}}]}",
	         lab ? "\"lab\": {\"cleanup_rst_packets\": [72]}, \"scenarios\": [{\"name\": "
	               "\"fin-wait-2\", \"connections\": [3], \"tcp_fin_timeout\": 1,"
	               " \"cleanup_rst_packets\": [72], \"kernel_fin_wait_2\": [{\"connection\": 3,"
	               " \"gone\": 3.119, \"ending\": \"kernel_timeout\"}]}]," : "",
	         FW2_PKTS);
	t->root = json_loads(buf, 0, &e);
	if (!t->root)
		fail_msg("bad test JSON: %s", e.text);
	conn = json_array_get(json_object_get(t->root, "connections"), 0);
	ex_story_init(&t->s, t->root, conn);
	assert_int_equal(rf_timeline(conn, &t->s.tl, err, sizeof err), 0);
	t->s.t0 = t->s.tl.pkts[0].t;
	t->text = NULL;
}

static void test_fin_wait_2_timeout(void **state)
{
	struct tale t;
	struct sbuf b;
	(void)state;

	fw2_story(&t, true);
	sb_init(&b);
	assert_true(ex_fw2_kernel_words(&t.s, t.s.fw2_server, &b));
	assert_non_null(strstr(b.s, "The server's kernel dropped the socket 2.919 s after it "
	                       "entered FIN_WAIT_2"));
	assert_non_null(strstr(b.s, "net.ipv4.tcp_fin_timeout (1.000 s in this run"));
	assert_true(ex_cleanup_rst(&t.s, 72));
	sb_init(&b);
	ex_fw2_cleanup_words(&t.s, &b);
	assert_non_null(strstr(b.s, "before the RST came: the socket ended CLOSED by that "
	                       "timeout, not by the RST"));
	done(&t);

	/* the capture alone: it may have expired, the capture cannot tell */
	fw2_story(&t, false);
	sb_init(&b);
	assert_false(ex_fw2_kernel_words(&t.s, t.s.fw2_server, &b));
	assert_false(ex_cleanup_rst(&t.s, 72));
	assert_true(ex_fw2_silence_words(&t.s, t.s.fw2_server, &b));
	assert_non_null(strstr(b.s, "after 4.139 s with no packet at all"));
	assert_non_null(strstr(b.s, "may have been gone before this RST came"));
	done(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_window_challenge),
		cmocka_unit_test(test_out_of_window),
		cmocka_unit_test(test_exact_taken),
		cmocka_unit_test(test_fin_again),
		cmocka_unit_test(test_fin_wait_2_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
