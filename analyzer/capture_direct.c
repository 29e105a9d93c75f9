/*
 * capture_direct.c - reading a capture in the caller's thread: one record
 * at a time for merge.c (cap_next(), cap_feed()), and the single-threaded
 * loop cap_run() falls back on, for live and saved captures alike, when
 * the reader thread cannot be started.
 */
#include "analyzer/capture_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- one record at a time, for merge.c ----------------------------------- */

/* cap_next()'s in-place reader (pcapread.h) and its one buffer, reused:
 * a record handed out is done with when the next is asked for, so the
 * unparsed rest moves to the buffer's start (in place) when it is full. */
static int next_in_place(struct cap *c, struct cap_frame *fr, char *err,
                         size_t errlen)
{
	struct prd_rec rec;

	for (;;) {
		enum prd_status st = prd_next(c->nx_rd, &c->nx_buf, &rec);

		if (st == PRD_EOF)
			return 0;
		if (st == PRD_ERROR) {
			cap_record_err(err, errlen, c, c->records + 1,
			               prd_error(c->nx_rd));
			return -1;
		}
		if (st == PRD_FULL) {
			size_t need = prd_need(c->nx_rd);

			if (need > c->nx_buf.size) {
				uint8_t *m = realloc(c->nx_buf.mem, need);

				if (!m) {
					cap_record_err(err, errlen, c, c->records + 1,
					               "out of memory");
					return -1;
				}
				c->nx_buf.mem = m;
				c->nx_buf.size = need;
			}
			prd_carry(&c->nx_buf, &c->nx_buf);
			continue;
		}
		break;
	}
	c->records++;
	fr->h = rec.h;
	fr->data = c->nx_buf.mem + rec.off;
	fr->record = c->records;
	fr->skip = c->have_filter &&
	           pcap_offline_filter(&c->prog, &rec.h, fr->data) == 0;
	return 1;
}

int cap_next(struct cap *c, struct cap_frame *fr, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	if (!c->nx_tried) {
		/* classic pcap, from a file or a stream: in place, as
		 * cap_run() reads it; else libpcap */
		c->nx_tried = true;
		c->nx_rd = c->zr ? cap_stream_reader(c) : prd_open(c->p);
		if (c->nx_rd) {
			c->nx_buf = (struct prd_buf){ .mem = malloc(CAP_NEXT_BUF),
			                              .size = CAP_NEXT_BUF };
			if (!c->nx_buf.mem) {
				(void)prd_close(c->nx_rd);
				c->nx_rd = NULL;
			}
		}
	}
	if (c->nx_rd)
		return next_in_place(c, fr, err, errlen);
	rc = pcap_next_ex(c->p, &h, &data);
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		cap_record_err(err, errlen, c, c->records + 1, pcap_geterr(c->p));
		return -1;
	}
	c->records++;
	fr->h = *h;
	fr->data = data;
	fr->record = c->records;
	fr->skip = c->have_filter && pcap_offline_filter(&c->prog, h, data) == 0;
	return 1;
}

void cap_feed(struct cap *c, struct az *az, const struct cap_frame *fr)
{
	if (fr->skip)
		az_skip_frame(az);
	else
		feed(c, az, c->dlt, pkt_time(&fr->h), fr->data, fr->h.caplen,
		     fr->h.len);
}

/* The single-threaded loop: for live and saved captures alike, when the
 * reader thread cannot be started. */
int cap_run_direct(struct cap *c, struct az *az,
                   const struct cap_limits *lim, char *err, size_t errlen)
{
	uint64_t records = 0, fed = 0, est_bytes = PCAP_FILE_HDR;
	double t0 = 0, next_kst = 0;
	FILE *f = c->live ? NULL : pcap_file(c->p);

	if (c->live)
		t0 = next_kst = now_mono();

	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc;

		if (lim->stop && *lim->stop)
			break;
		if (lim->count && fed >= lim->count)
			break;
		if (c->live) {
			double now = now_mono();

			if (lim->duration > 0 && now - t0 >= lim->duration)
				break;
			if (now >= next_kst) {
				cap_kstats_read(c);
				next_kst = now + CAP_KSTATS_SECONDS;
			}
		}

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
				cap_record_err(err, errlen, c, records + 1,
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
		feed(c, az, c->dlt, pkt_time(h), data, h->caplen, h->len);

		if (lim->progress && (records & CAP_PROGRESS_MASK) == 0) {
			long pos = f && !c->zr ? ftell(f) : -1;

			lim->progress(records, c->zr ? zr_bytes_in(c->zr) :
			              pos >= 0 ? (uint64_t)pos : est_bytes,
			              c->file_size, lim->progress_arg);
		}
	}
	return 0;
}

