/*
 * fuzz_decode.c - libFuzzer target over dec_packet().
 *
 * Input layout: byte 0 picks the link type (from the list the decoder
 * supports, plus one it does not), byte 1 picks the wire length the caller
 * reports (equal to caplen, 0 = unknown, or larger: a snaplen-cut frame),
 * the rest is the captured frame. libFuzzer hands us a buffer of exactly
 * `size` bytes, so ASan catches any read past the captured bytes.
 *
 * Besides "no crash, no overread", the result must keep the contract:
 * payload inside the buffer, payload_caplen <= seg_len, at most 4 SACK
 * blocks, a window scale of -1..14, a reason string always set; at most
 * DEC_MAX_TUNNELS tunnels, a tunnel id exactly when there is a tunnel; an
 * unsupported frame always named. The link types include tunnel.c's, and
 * decode.dict holds the EtherTypes, IP protocols, UDP ports and header
 * starts of the encapsulations, so the fuzzer reaches them quickly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "analyzer/decode.h"

static const int fuzz_dlts[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP,
	DLT_RAW, 14, 101, DLT_IPV4, DLT_IPV6, DLT_PPP,
	/* analyzer/tunnel.c's link types, and one nobody decodes */
	DLT_PPP_SERIAL, DLT_PPP_ETHER, DLT_C_HDLC, 239 /* NFLOG */,
	DLT_IEEE802_11, DLT_IEEE802_11_RADIO, DLT_FDDI,
};
#define N_DLTS (sizeof(fuzz_dlts) / sizeof(fuzz_dlts[0]))

/* Abort with the broken invariant named, so a crash report says which. */
#define check(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
		        __LINE__, #cond); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *frame;
	uint32_t caplen, wirelen;
	struct dec_tcp t;
	const char *why = NULL;
	enum dec_result r;
	int dlt;

	if (size < 2 || size - 2 > UINT32_MAX / 2)
		return 0;
	dlt = fuzz_dlts[data[0] % N_DLTS];
	frame = data + 2;
	caplen = (uint32_t)(size - 2);
	switch (data[1] & 3) {
	case 0: wirelen = caplen; break;
	case 1: wirelen = 0; break;
	case 2: wirelen = caplen + (uint32_t)(data[1] >> 2) * 64; break;
	default: wirelen = caplen > 0 ? caplen - 1 : 0; break;
	}

	r = dec_packet(dlt, caplen ? frame : NULL, caplen, wirelen, &t, &why);
	check(r >= DEC_OK && r < DEC_NRESULTS);
	check(why != NULL && why[0] != '\0');
	check(strcmp(dec_result_name(r), "unknown") != 0);
	if (r == DEC_UNSUPPORTED) {
		/* what was not decoded always has a name */
		char text[96];

		check(t.unsup_kind > DEC_UNSUP_NONE && t.unsup_kind < DEC_NUNSUP);
		dec_unsupported_text(&t, text, sizeof(text));
		check(text[0] != '\0' && strcmp(text, "unknown") != 0);
	}
	if (r != DEC_OK)
		return 0;
	check(t.tunnels <= DEC_MAX_TUNNELS);
	check((t.tunnels == 0) == (t.tunnel == 0));
	check(t.tunnel <= 0xffffff);
	check(t.af == 4 || t.af == 6);
	check(t.payload_caplen <= t.seg_len);
	if (t.payload_caplen > 0) {
		check(t.payload >= frame);
		check(t.payload + t.payload_caplen <= frame + caplen);
		/* touch every payload byte: ASan checks they are ours */
		volatile uint8_t sum = 0;
		for (uint32_t i = 0; i < t.payload_caplen; i++)
			sum ^= t.payload[i];
		(void)sum;
	} else {
		check(t.payload == NULL);
	}
	check(t.n_sack <= 4);
	check(t.wscale >= -1 && t.wscale <= 14);
	check(dec_linktype_supported(dlt));
	return 0;
}
