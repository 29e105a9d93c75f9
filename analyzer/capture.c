/*
 * capture.c - frames from a saved capture or a live interface, through
 * libpcap, handed one by one to the analyzer.
 *
 * libpcap does the file formats (pcap in both byte orders and timestamp
 * precisions, pcapng) and the record-level sanity checks: a record whose
 * caplen is beyond the snapshot limit, or that the end of the file cuts
 * short, makes pcap_next_ex() fail, and we stop there with the record
 * number. Records libpcap lets through but that make no sense (caplen 0,
 * caplen > len) go to the analyzer, whose decoder counts them as invalid;
 * the rest of the file is still read, as tcpdump does.
 *
 * Offline BPF filters are applied here with pcap_offline_filter() rather
 * than installed with pcap_setfilter(), so that we still see every record:
 * an error can name the record's position in the file, and a rejected
 * frame goes to az_skip_frame() so that the analyzer's packet indexes
 * count every frame of the file (tcpdump -r numbers them the same way).
 */
#include "analyzer/capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "analyzer/decode.h"

#define CAP_SNAPLEN      262144 /* libpcap's own maximum: whole frames */
#define CAP_TIMEOUT_MS   100    /* live: limits are looked at this often, so
                                   a stop flag or --duration acts promptly */
#define CAP_PROGRESS_MASK 0xffffu /* progress every 64 Ki frames */
#define PCAP_FILE_HDR    24     /* pcap file header, for the byte estimate */
#define PCAP_REC_HDR     16     /* pcap record header */

struct cap {
	pcap_t *p;
	bool live;
	int dlt;
	char name[256];          /* file name or interface, for messages */
	uint64_t file_size;      /* 0 if unknown */
	bool have_filter;        /* offline filter in prog */
	struct bpf_program prog;
	int fd;                  /* live: descriptor to poll() */
	char dlt_name[32];       /* "EN10MB", or "DLT_n" if libpcap has none */
};

/* libpcap often starts its message with "NAME: "; we add the name
 * ourselves, so drop it to avoid "x.pcap: x.pcap: ...". */
static const char *strip_name(const char *msg, const char *name)
{
	size_t n = strlen(name);

	if (n > 0 && strncmp(msg, name, n) == 0 && msg[n] == ':' &&
	    msg[n + 1] == ' ')
		return msg + n + 2;
	return msg;
}

static struct cap *cap_alloc(const char *name, bool live, char *err,
                             size_t errlen)
{
	struct cap *c = calloc(1, sizeof(*c));

	if (!c) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	c->live = live;
	c->fd = -1;
	snprintf(c->name, sizeof(c->name), "%s", name);
	return c;
}

/* Name the link type, and refuse one the decoder cannot read: every frame
 * would be "unsupported" and the report empty. */
static int check_linktype(struct cap *c, char *err, size_t errlen)
{
	const char *n;

	c->dlt = pcap_datalink(c->p);
	n = pcap_datalink_val_to_name(c->dlt);
	if (n)
		snprintf(c->dlt_name, sizeof(c->dlt_name), "%s", n);
	else
		snprintf(c->dlt_name, sizeof(c->dlt_name), "DLT_%d", c->dlt);
	if (dec_linktype_supported(c->dlt))
		return 0;
	snprintf(err, errlen,
	         "%s: link type %s (%d) is not supported (Ethernet, Linux "
	         "cooked, BSD loopback and raw IP are)",
	         c->name, c->dlt_name, c->dlt);
	return -1;
}

struct cap *cap_open_offline(const char *path, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct cap *c;
	struct stat st;
	FILE *f;

	if (!path) {
		snprintf(err, errlen, "capture: no file name");
		return NULL;
	}
	c = cap_alloc(strcmp(path, "-") == 0 ? "standard input" : path, false,
	              err, errlen);
	if (!c)
		return NULL;
	/* Microsecond precision: nanosecond files are scaled by libpcap, so
	 * timestamps always mean the same thing. "-" is standard input. */
	c->p = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!c->p) {
		const char *why = strip_name(ebuf, path);

		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size == 0)
			why = "empty file (not a pcap or pcapng capture)";
		else if (strcmp(why, "unknown file format") == 0)
			why = "unknown file format (not a pcap or pcapng capture)";
		snprintf(err, errlen, "%s: %s", c->name, why);
		goto err;
	}
	f = pcap_file(c->p);
	if (f && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
		c->file_size = (uint64_t)st.st_size;
	if (check_linktype(c, err, errlen) != 0)
		goto err;
	return c;
err:
	cap_close(c);
	return NULL;
}

struct cap *cap_open_live(const char *iface, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct cap *c;
	int rc;

	if (!iface) {
		snprintf(err, errlen, "capture: no interface name");
		return NULL;
	}
	c = cap_alloc(iface, true, err, errlen);
	if (!c)
		return NULL;
	c->p = pcap_create(iface, ebuf);
	if (!c->p) {
		snprintf(err, errlen, "%s: %s", iface, strip_name(ebuf, iface));
		goto err;
	}
	if (pcap_set_snaplen(c->p, CAP_SNAPLEN) != 0 ||
	    pcap_set_promisc(c->p, 0) != 0 ||
	    pcap_set_timeout(c->p, CAP_TIMEOUT_MS) != 0 ||
	    pcap_set_immediate_mode(c->p, 1) != 0) {
		snprintf(err, errlen, "%s: cannot set capture options", iface);
		goto err;
	}
	rc = pcap_activate(c->p);
	if (rc < 0) {
		/* For these, pcap_geterr() holds the detail (or nothing);
		 * pcap_statustostr() is the generic name of the failure. */
		const char *detail = pcap_geterr(c->p);

		if (!detail || !detail[0])
			detail = pcap_statustostr(rc);
		snprintf(err, errlen, "%s: %s", iface,
		         strip_name(detail, iface));
		goto err;
	}
	/* rc > 0 is a warning (e.g. promiscuous mode not supported): the
	 * capture works, nothing to report. */
	if (check_linktype(c, err, errlen) != 0)
		goto err;
	/* libpcap's own blocking read keeps polling through its timeouts
	 * (seen with 1.10 on Linux), so a stop flag or a deadline would never
	 * be looked at on an idle interface. Read non-blocking and wait in
	 * cap_run() with our own poll() instead. */
	c->fd = pcap_get_selectable_fd(c->p);
	if (c->fd < 0 || pcap_setnonblock(c->p, 1, ebuf) != 0) {
		snprintf(err, errlen, "%s: cannot read without blocking: %s",
		         iface, c->fd < 0 ? "no selectable descriptor" : ebuf);
		goto err;
	}
	return c;
err:
	cap_close(c);
	return NULL;
}

int cap_set_filter(struct cap *c, const char *expr, char *err, size_t errlen)
{
	struct bpf_program prog;
	bpf_u_int32 net = 0, mask = PCAP_NETMASK_UNKNOWN;
	char ebuf[PCAP_ERRBUF_SIZE];

	if (!expr || !expr[0])
		return 0;
	/* The netmask matters only for "ip broadcast"; live interfaces know
	 * theirs, files do not. */
	if (c->live && pcap_lookupnet(c->name, &net, &mask, ebuf) != 0)
		mask = PCAP_NETMASK_UNKNOWN;
	if (pcap_compile(c->p, &prog, expr, 1, mask) != 0) {
		snprintf(err, errlen, "filter \"%s\": %s", expr,
		         pcap_geterr(c->p));
		return -1;
	}
	if (c->live) {
		int rc = pcap_setfilter(c->p, &prog);

		if (rc != 0)
			snprintf(err, errlen, "filter \"%s\": %s", expr,
			         pcap_geterr(c->p));
		pcap_freecode(&prog);
		return rc != 0 ? -1 : 0;
	}
	if (c->have_filter)
		pcap_freecode(&c->prog);
	c->prog = prog;
	c->have_filter = true;
	return 0;
}

int cap_datalink(const struct cap *c)
{
	return c->dlt;
}

const char *cap_datalink_name(const struct cap *c)
{
	return c->dlt_name;
}

bool cap_is_live(const struct cap *c)
{
	return c->live;
}

uint64_t cap_file_size(const struct cap *c)
{
	return c->file_size;
}

static double now_mono(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cap_run(struct cap *c, struct az *az, const struct cap_limits *lim,
            char *err, size_t errlen)
{
	static const struct cap_limits none;
	uint64_t records = 0, fed = 0, est_bytes = PCAP_FILE_HDR;
	double t0 = 0;
	FILE *f = c->live ? NULL : pcap_file(c->p);

	if (!lim)
		lim = &none;
	if (c->live && lim->duration > 0)
		t0 = now_mono();

	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc;

		if (lim->stop && *lim->stop)
			break;
		if (lim->count && fed >= lim->count)
			break;
		if (c->live && lim->duration > 0 &&
		    now_mono() - t0 >= lim->duration)
			break;

		rc = pcap_next_ex(c->p, &h, &data);
		if (rc == 0) {
			/* live, nothing ready: wait a little, then look at
			 * the limits again (EINTR from a signal is fine). */
			struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

			if (poll(&pfd, 1, CAP_TIMEOUT_MS) < 0 && errno != EINTR) {
				snprintf(err, errlen, "%s: poll: %s", c->name,
				         strerror(errno));
				return -1;
			}
			continue;
		}
		if (rc == PCAP_ERROR_BREAK)
			break;          /* end of file (or pcap_breakloop) */
		if (rc != 1) {
			if (c->live)
				snprintf(err, errlen, "%s: %s", c->name,
				         pcap_geterr(c->p));
			else
				snprintf(err, errlen, "%s: record %llu: %s",
				         c->name,
				         (unsigned long long)records + 1,
				         pcap_geterr(c->p));
			return -1;
		}
		records++;
		est_bytes += PCAP_REC_HDR + h->caplen;
		if (c->have_filter &&
		    pcap_offline_filter(&c->prog, h, data) == 0) {
			az_skip_frame(az);
			continue;
		}
		fed++;
		az_packet(az, c->dlt,
		          (double)h->ts.tv_sec + (double)h->ts.tv_usec * 1e-6,
		          data, h->caplen, h->len);

		if (lim->progress && (records & CAP_PROGRESS_MASK) == 0) {
			long pos = f ? ftell(f) : -1;

			lim->progress(records, pos >= 0 ? (uint64_t)pos : est_bytes,
			              c->file_size, lim->progress_arg);
		}
	}
	return 0;
}

void cap_close(struct cap *c)
{
	if (!c)
		return;
	if (c->have_filter)
		pcap_freecode(&c->prog);
	if (c->p)
		pcap_close(c->p);
	c->p = NULL;
	free(c);
}
