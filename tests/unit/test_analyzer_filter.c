/*
 * test_analyzer_filter.c - packet indexes under an offline BPF filter: a
 * saved capture read through cap_run() with a filter still numbers every
 * frame of the file (what `tcpdump -r FILE` prints), so a finding's RST
 * packet is the same frame with and without the filter; rejected frames
 * are counted as filtered, not analyzed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "analyzer/capture.h"
#include "tests/unit/analyzer_helpers.h"

#define CLI "10.0.0.2"
#define SRV "10.0.0.1"
#define REQ "GET / HTTP/1.1\r\nHost: lab\r\n\r\n"

/*
 * Connection A (port 80) ends with a server RST before the client ACKed
 * the 100-byte response: a finding. Connection B (port 8080) is noise,
 * interleaved. Frames, numbered as in the file:
 *   1 B SYN        2 A SYN        3 B SYN-ACK    4 A SYN-ACK
 *   5 A ACK        6 B ACK        7 A request    8 B data
 *   9 A response  10 B data      11 A RST       12 B FIN
 */
#define RST_FRAME 11
#define B_FRAMES 6

static void build(struct pb_list *l)
{
	struct pb_conn a, b;

	assert_int_equal(pb_conn_init(&a, CLI, 40000, SRV, 80, 1000, 5000), 0);
	assert_int_equal(pb_conn_init(&b, CLI, 40001, SRV, 8080, 2000, 6000), 0);
	pb_syn(l, &b, 0.900);
	pb_syn(l, &a, 1.000);
	pb_synack(l, &b, 1.0005);
	pb_synack(l, &a, 1.001);
	pb_ack(l, &a, PB_C2S, 1.002, PB_NEXT, PB_NEXT);
	pb_ack(l, &b, PB_C2S, 1.003, PB_NEXT, PB_NEXT);
	pb_send(l, &a, PB_C2S, 1.004, PB_NEXT, PB_NEXT, REQ);
	pb_data(l, &b, PB_C2S, 1.005, PB_NEXT, PB_NEXT, NULL, 10);
	pb_data(l, &a, PB_S2C, 1.006, PB_NEXT, PB_NEXT, NULL, 100);
	pb_data(l, &b, PB_S2C, 1.007, PB_NEXT, PB_NEXT, NULL, 10);
	pb_rstack(l, &a, PB_S2C, 1.008, PB_NEXT, PB_NEXT);
	pb_fin(l, &b, PB_C2S, 1.009, PB_NEXT, PB_NEXT);
	assert_int_equal(l->n, 12);
}

/* Analyze the file at path through cap_run() with filter (NULL: none). */
static struct az *analyze(const char *path, const char *filter)
{
	char err[256];
	struct cap *c;
	struct az *az;

	c = cap_open_offline(path, err, sizeof(err));
	assert_non_null(c);
	if (filter)
		assert_int_equal(cap_set_filter(c, filter, err, sizeof(err)), 0);
	az = az_new(NULL);
	assert_non_null(az);
	assert_int_equal(cap_run(c, az, NULL, err, sizeof(err)), 0);
	az_finish(az);
	cap_close(c);
	return az;
}

static void test_filtered_indexes_are_file_positions(void **state)
{
	char path[] = "/tmp/ll-filter-XXXXXX";
	char err[256];
	struct pb_list l;
	struct az *all, *only80;
	const struct az_rst_finding *f;
	const struct az_conn *k;
	int fd;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	build(&l);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pb_write_pcap(&l, path, err, sizeof(err)), 0);

	all = analyze(path, NULL);
	only80 = analyze(path, "tcp port 80");
	unlink(path);

	/* without the filter: the RST is frame 11 */
	assert_int_equal(az_n_findings(all), 1);
	assert_int_equal(az_finding(all, 0)->rst_packet, RST_FRAME);
	assert_int_equal(az_stats(all)->filtered, 0);

	/* with it: the same frame number, B's frames counted as filtered */
	assert_int_equal(az_n_findings(only80), 1);
	f = az_finding(only80, 0);
	assert_int_equal(f->rst_packet, RST_FRAME);
	assert_true(f->n_risk_packets >= 1);
	assert_int_equal(f->risk_packets[0], 9); /* the response, frame 9 */
	assert_int_equal(az_stats(only80)->packets, 12);
	assert_int_equal(az_stats(only80)->filtered, B_FRAMES);
	assert_int_equal(az_stats(only80)->tcp, 12 - B_FRAMES);
	assert_int_equal(az_totals(only80)->connections, 1);
	k = az_retained(only80, 0);
	assert_non_null(k);
	assert_int_equal(k->first_packet, 2);
	assert_int_equal(k->last_packet, RST_FRAME);
	/* times are those of the frames analyzed: A's first frame */
	ASSERT_CLOSE(az_stats(only80)->first_time, 1.000);
	ASSERT_CLOSE(az_stats(only80)->last_time, 1.008);

	az_free(all);
	az_free(only80);
	pb_list_free(&l);
}

/* az_skip_frame() on its own: the next frame handed in gets the next
 * position, and the first frame handed in sets first_time. */
static void test_skip_frame_numbers(void **state)
{
	struct pb_list l;
	struct pb_conn c;
	struct az *az;
	(void)state;

	pb_list_init(&l, PB_DLT_EN10MB);
	assert_int_equal(pb_conn_init(&c, CLI, 40000, SRV, 80, 1000, 5000), 0);
	pb_syn(&l, &c, 2.0);
	az = az_new(NULL);
	assert_non_null(az);
	az_skip_frame(az);
	az_skip_frame(az);
	assert_int_equal(az_packet(az, l.dlt, l.frames[0].t, l.frames[0].bytes,
	                           l.frames[0].caplen, l.frames[0].wirelen), DEC_OK);
	az_finish(az);
	assert_int_equal(az_stats(az)->packets, 3);
	assert_int_equal(az_stats(az)->filtered, 2);
	ASSERT_CLOSE(az_stats(az)->first_time, 2.0);
	assert_int_equal(az_totals(az)->connections, 1);
	az_free(az);
	pb_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filtered_indexes_are_file_positions),
		cmocka_unit_test(test_skip_frame_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
