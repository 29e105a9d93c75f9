/*
 * mkgolden.c - write the golden captures of tests/integration/golden.sh.
 *
 *   mkgolden OUTDIR      writes OUTDIR/<case>.pcap for every case below
 *
 * Each case is a conversation whose right answer follows from TCP alone;
 * tests/golden/<case>.json holds the parts of the report that must match.
 * Sequence and ACK numbers below are relative to the sender's ISN, as
 * tcpdump prints them; times are seconds from the case's first frame.
 */
#include <stdio.h>
#include <string.h>

#include "tests/support/pktbuild.h"

#define T0 1763742000.0 /* an arbitrary epoch for the synthetic cases */

typedef int (*case_fn)(struct pb_list *l);

/* pb_seg with every field spelled out (the seed trace sets raw windows). */
static int seg(struct pb_list *l, struct pb_conn *c, enum pb_dir d, double t,
               unsigned flags, uint32_t seq, uint32_t ack, const char *text,
               uint32_t len, int32_t win)
{
	struct pb_seg s = {
		.dir = d, .t = t, .flags = (uint8_t)flags, .seq = seq, .ack = ack,
		.win = win, .payload = text, .len = text ? (uint32_t)strlen(text) : len,
	};
	return pb_seg(l, c, &s);
}

/*
 * The PUT trace of shared/seeds/lingering-close-1997-message.txt (Marc
 * Slemko, httpd-dev, 9 Feb 1997): Navigator Gold on FreeBSD PUTs to an
 * Apache 1.1 server on SunOS ~250 ms away; the server answers 401 and
 * closes while the body keeps coming, then resets. No handshake in the
 * trace; the server's ISN is 865216000 (its RSTs print absolute numbers).
 * Times: 19:57:29.xxx local on that day, kept to the microsecond.
 * The 401 response's 337 bytes are rebuilt as a plausible Apache reply.
 */
static int case_put_seed(struct pb_list *l)
{
	struct pb_conn c;
	const double t = 855460649.0; /* 1997-02-09 03:57:29 UTC */
	char resp[338];
	static const char head[] =
		"HTTP/1.0 401 Unauthorized\r\n"
		"Date: Sun, 09 Feb 1997 03:57:29 GMT\r\n"
		"Server: Apache/1.1.3\r\n"
		"WWW-Authenticate: Basic realm=\"put\"\r\n"
		"Content-type: text/html\r\n"
		"Content-length: %3d\r\n\r\n";
	static const char body[] =
		"<HTML><HEAD><TITLE>Authorization Required</TITLE></HEAD>"
		"<BODY><H1>Authorization Required</H1>This server could not verify "
		"that you are authorized to access the document you requested."
		"                                                              ";
	/* the head is the same length for any 3-digit Content-length */
	int hl = snprintf(resp, sizeof resp, head, 100);
	int bl = 337 - hl;
	if (hl <= 0 || bl <= 1 || (size_t)bl > sizeof body)
		return -1;
	snprintf(resp, sizeof resp, head, bl);
	memcpy(resp + hl, body, (size_t)bl - 1);
	resp[336] = '\n';
	resp[337] = '\0';

	if (pb_conn_init(&c, "192.0.2.2", 1125, "192.0.2.1", 80, 3500000000u, 865216000u))
		return -1;
	enum pb_dir C = PB_C2S, S = PB_S2C;
	const unsigned A = PB_ACK, P = PB_PSH, F = PB_FIN, R = PB_RST;
	int rc = 0;
	rc |= seg(l, &c, C, t + .171129, A, 234, 1, NULL, 512, 16384);   /* headers */
	rc |= seg(l, &c, C, t + .171291, A, 746, 1, NULL, 512, 16384);   /* body */
	rc |= seg(l, &c, S, t + .600864, P | A, 1, 746, resp, 0, 4096);  /* the 401 */
	rc |= seg(l, &c, C, t + .601314, A, 1258, 338, NULL, 512, 16047);
	rc |= seg(l, &c, C, t + .601569, A, 1770, 338, NULL, 512, 16047);
	rc |= seg(l, &c, S, t + .610947, F | A, 338, 746, NULL, 0, 4096);
	rc |= seg(l, &c, C, t + .611247, A, 2282, 339, NULL, 0, 16307);  /* ACK of FIN */
	rc |= seg(l, &c, S, t + .611549, R, 1, 0, NULL, 0, 0);           /* seq 865216001 */
	rc |= seg(l, &c, S, t + .880585, R, 338, 0, NULL, 0, 4096);
	rc |= seg(l, &c, S, t + .990543, R, 338, 0, NULL, 0, 4096);
	rc |= seg(l, &c, S, t + .990921, R, 339, 0, NULL, 0, 4096);
	return rc;
}

/*
 * Seed case 2: two pipelined GETs, the server answers 404 to the first and
 * closes. Captured next to the client; the server is 250 ms away (the
 * SYN-ACK comes 0.25 s after the SYN, the client's ACK 0.1 ms after it).
 * The second GET leaves at 0.400 and reaches the server at 0.525, after
 * its 404 and FIN (sent at 0.375); the server answers it with RST, whose
 * seq is that GET's ACK field (1). The client's ACK of the 404 leaves at
 * 0.5004 but reaches the server only at 0.6254, after that RST was sent.
 */
static const char get1[] = "GET /not_here.html HTTP/1.1\r\nHost: foobar\r\n\r\n";
static const char get2[] = "GET /file.html HTTP/1.1\r\nHost: foobar\r\n\r\n";
static const char resp404[] =
	"HTTP/1.1 404 Not Found\r\n"
	"Content-Type: text/html\r\n"
	"Content-Length: 48\r\n"
	"\r\n"
	"<html><body><h1>404 Not Found</h1></body></html>";

static int case_pipelined_404(struct pb_list *l)
{
	struct pb_conn c;
	if (pb_conn_init(&c, "10.77.1.2", 40001, "10.77.1.1", 80, 1000, 5000))
		return -1;
	const uint32_t l1 = (uint32_t)strlen(get1), r = (uint32_t)strlen(resp404);
	int rc = 0;
	rc |= pb_syn(l, &c, T0);
	rc |= pb_synack(l, &c, T0 + 0.250);
	rc |= pb_ack(l, &c, PB_C2S, T0 + 0.2501, 1, 1);
	rc |= pb_send(l, &c, PB_C2S, T0 + 0.2502, 1, 1, get1);
	rc |= pb_send(l, &c, PB_C2S, T0 + 0.4000, PB_NEXT, 1, get2);
	rc |= pb_send(l, &c, PB_S2C, T0 + 0.5002, 1, 1 + l1, resp404);
	rc |= pb_fin(l, &c, PB_S2C, T0 + 0.5003, 1 + r, 1 + l1);
	rc |= pb_ack(l, &c, PB_C2S, T0 + 0.5004, PB_NEXT, PB_NEXT);
	rc |= pb_rst(l, &c, PB_S2C, T0 + 0.6500, 1);          /* answers GET 2 */
	rc |= pb_rst(l, &c, PB_S2C, T0 + 0.7504, r + 2);      /* answers the ACK */
	return rc;
}

/*
 * The cure: the server answers 401 and FINs after the PUT's head, then
 * keeps reading (and ACKing) the 3000 body bytes that follow its FIN until
 * the client's FIN. Nothing is reset; the server lingered, and sat in
 * FIN_WAIT_2 from the client's ACK of its FIN (packet 8) to the client's
 * FIN (packet 14).
 */
static int case_linger(struct pb_list *l)
{
	struct pb_conn c;
	static const char put[] = "PUT /protected/a HTTP/1.1\r\nHost: lab\r\nContent-Length: 4000\r\n\r\n";
	static const char r401[] = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
	if (pb_conn_init(&c, "10.77.1.2", 40002, "10.77.1.1", 80, 7000, 9000))
		return -1;
	int rc = 0;
	rc |= pb_syn(l, &c, T0);
	rc |= pb_synack(l, &c, T0 + 0.001);
	rc |= pb_ack(l, &c, PB_C2S, T0 + 0.002, 1, 1);
	rc |= pb_send(l, &c, PB_C2S, T0 + 0.003, 1, 1, put);
	rc |= pb_data(l, &c, PB_C2S, T0 + 0.004, PB_NEXT, 1, NULL, 1000);
	rc |= pb_send(l, &c, PB_S2C, T0 + 0.005, 1, 1 + (uint32_t)strlen(put), r401);
	rc |= pb_fin(l, &c, PB_S2C, T0 + 0.0051, PB_NEXT, 1 + (uint32_t)strlen(put));
	for (int i = 0; i < 3; i++) {
		rc |= pb_data(l, &c, PB_C2S, T0 + 0.006 + 0.001 * i, PB_NEXT, PB_NEXT, NULL, 1000);
		rc |= pb_ack(l, &c, PB_S2C, T0 + 0.0061 + 0.001 * i, PB_NEXT, PB_NEXT);
	}
	rc |= pb_fin(l, &c, PB_C2S, T0 + 0.009, PB_NEXT, PB_NEXT);
	rc |= pb_ack(l, &c, PB_S2C, T0 + 0.0091, PB_NEXT, PB_NEXT);
	return rc;
}

/*
 * The client closes first: GET, 200, client FIN, server ACK, server FIN,
 * client ACK. The *client* socket passes through FIN_WAIT_2 (ended by the
 * server's FIN); the server never does.
 */
static int case_client_closes(struct pb_list *l)
{
	struct pb_conn c;
	static const char get[] = "GET / HTTP/1.1\r\nHost: lab\r\n\r\n";
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
	if (pb_conn_init(&c, "10.77.1.2", 40003, "10.77.1.1", 8080, 11000, 13000))
		return -1;
	int rc = 0;
	rc |= pb_syn(l, &c, T0);
	rc |= pb_synack(l, &c, T0 + 0.001);
	rc |= pb_ack(l, &c, PB_C2S, T0 + 0.002, 1, 1);
	rc |= pb_send(l, &c, PB_C2S, T0 + 0.003, 1, 1, get);
	rc |= pb_send(l, &c, PB_S2C, T0 + 0.004, 1, PB_NEXT, ok);
	rc |= pb_fin(l, &c, PB_C2S, T0 + 0.010, PB_NEXT, PB_NEXT);
	rc |= pb_ack(l, &c, PB_S2C, T0 + 0.011, PB_NEXT, PB_NEXT);
	rc |= pb_fin(l, &c, PB_S2C, T0 + 0.500, PB_NEXT, PB_NEXT);
	rc |= pb_ack(l, &c, PB_C2S, T0 + 0.501, PB_NEXT, PB_NEXT);
	return rc;
}

/*
 * The FIN_WAIT_2 pile-up of shared/seeds/fin-wait-2-doc-diff.txt, one
 * socket of it: the server answers 404 and closes, the client ACKs the FIN
 * and then says nothing. The capture goes on until an unrelated ARP frame
 * at 3.0 s, so the server sits in FIN_WAIT_2 from 0.006 s to the end.
 */
static int case_idle_client(struct pb_list *l)
{
	struct pb_conn c;
	static const char get[] = "GET /gone HTTP/1.1\r\nHost: lab\r\n\r\n";
	static const uint8_t arp[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
		0x02, 0, 0, 0, 0, 0x01, 10, 77, 1, 1,
		0, 0, 0, 0, 0, 0, 10, 77, 1, 9,
	};
	if (pb_conn_init(&c, "10.77.1.2", 40004, "10.77.1.1", 80, 21000, 23000))
		return -1;
	int rc = 0;
	rc |= pb_syn(l, &c, T0);
	rc |= pb_synack(l, &c, T0 + 0.001);
	rc |= pb_ack(l, &c, PB_C2S, T0 + 0.002, 1, 1);
	rc |= pb_send(l, &c, PB_C2S, T0 + 0.003, 1, 1, get);
	rc |= pb_send(l, &c, PB_S2C, T0 + 0.004, 1, PB_NEXT, resp404);
	rc |= pb_fin(l, &c, PB_S2C, T0 + 0.0041, PB_NEXT, PB_NEXT);
	rc |= pb_ack(l, &c, PB_C2S, T0 + 0.006, PB_NEXT, PB_NEXT);
	rc |= pb_raw(l, T0 + 3.0, arp, sizeof arp, sizeof arp);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; case_fn fn; } cases[] = {
		{ "put-seed", case_put_seed },
		{ "pipelined-404", case_pipelined_404 },
		{ "linger", case_linger },
		{ "client-closes", case_client_closes },
		{ "idle-client", case_idle_client },
	};
	if (argc != 2) {
		fprintf(stderr, "usage: mkgolden OUTDIR\n");
		return 2;
	}
	int rc = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct pb_list l;
		char path[4096], err[256];
		pb_list_init(&l, PB_DLT_EN10MB);
		snprintf(path, sizeof path, "%s/%s.pcap", argv[1], cases[i].name);
		if (cases[i].fn(&l) != 0) {
			fprintf(stderr, "mkgolden: %s: could not build the frames\n", cases[i].name);
			rc = 1;
		} else if (pb_write_pcap(&l, path, err, sizeof err) != 0) {
			fprintf(stderr, "mkgolden: %s\n", err);
			rc = 1;
		} else {
			printf("%s\n", path);
		}
		pb_list_free(&l);
	}
	return rc;
}
