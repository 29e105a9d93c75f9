/*
 * bareloop.c - the floor for `make bench`: read a capture with libpcap's
 * pcap_next_ex() and do nothing else but touch each record, so the ratio
 * lingerlab-time / bareloop-time shows what the analysis itself costs.
 *
 *   bareloop FILE     prints "PACKETS BYTES"
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t packets = 0, bytes = 0;
	volatile u_char sink = 0;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: bareloop FILE\n");
		return 2;
	}
	pcap_t *p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!p) {
		fprintf(stderr, "bareloop: %s\n", ebuf);
		return 2;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		packets++;
		bytes += h->caplen;
		/* read a byte so the record is really fetched, as any
		 * analysis must */
		if (h->caplen)
			sink = data[0];
	}
	if (rc != PCAP_ERROR_BREAK) {
		fprintf(stderr, "bareloop: %s\n", pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	(void)sink;
	printf("%llu %llu\n", (unsigned long long)packets, (unsigned long long)bytes);
	return 0;
}
