/*
 * pcaptl.c - one connection's record and timeline, from the capture.
 */
#include "reports/pcaptl.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/analyzer.h"
#include "analyzer/capture.h"
#include "analyzer/decode.h"
#include "reports/report.h"
#include "reports/reportfile.h"

#define MAX_PORTS 64

/* What pass 1 keeps of a wanted connection. */
struct want {
	uint64_t id;
	double t0;
	bool found;
	json_t *record;
	uint8_t af, caddr[16], saddr[16];
	uint16_t cport, sport;
	uint32_t isn[2];        /* [AZ_C2S], [AZ_S2C] */
	int8_t wscale[2];
	uint64_t first, last;
};

/* The connections pass 1 looks for: ids[] (each once), or with all, the
 * first max of the capture. */
struct wantset {
	const long long *ids;
	size_t n_ids;
	bool all;
	size_t max;
	double t0;
	struct want *w;         /* n_ids entries, or max with all */
	size_t nw;
	uint64_t seen;          /* connections summarized */
	bool oom;
};

static void keep(struct want *w, const struct az_conn *c, double t0)
{
	w->found = true;
	w->id = c->id;
	w->t0 = t0;
	w->record = report_conn(c, t0, false);
	w->af = c->af;
	memcpy(w->caddr, c->client_addr, 16);
	memcpy(w->saddr, c->server_addr, 16);
	w->cport = c->client_port;
	w->sport = c->server_port;
	w->isn[AZ_C2S] = c->c2s.isn;
	w->isn[AZ_S2C] = c->s2c.isn;
	w->wscale[AZ_C2S] = c->c2s.wscale;
	w->wscale[AZ_S2C] = c->s2c.wscale;
	w->first = c->first_packet;
	w->last = c->last_packet;
}

static void on_conn(const struct az_conn *c, void *arg)
{
	struct wantset *ws = arg;
	size_t k;

	ws->seen++;
	if (ws->all) {
		if (ws->nw < ws->max) {
			keep(&ws->w[ws->nw], c, ws->t0);
			ws->oom |= !ws->w[ws->nw].record;
			ws->nw++;
		}
		return;
	}
	for (k = 0; k < ws->n_ids; k++)
		if ((uint64_t)ws->ids[k] == c->id && !ws->w[k].found) {
			keep(&ws->w[k], c, ws->t0);
			ws->oom |= !ws->w[k].record;
		}
}

/* Pass 1: the analyzer's summaries of the connections wanted. */
static int find_conns(const char *path, const char *filter, const json_t *report,
                      struct wantset *w, char *err, size_t errlen)
{
	uint16_t ports[MAX_PORTS];
	size_t np = 0, i;
	json_t *v;
	struct az_config cfg;
	struct az *az = NULL;
	struct cap *cap = NULL;
	int rc = -1;

	json_array_foreach(rf_arr(rf_obj(report, "options"), "server_ports"), i, v)
		if (np < MAX_PORTS && json_is_integer(v) && json_integer_value(v) > 0 &&
		    json_integer_value(v) < 65536)
			ports[np++] = (uint16_t)json_integer_value(v);
	memset(&cfg, 0, sizeof cfg);
	cfg.server_ports = np ? ports : NULL;
	cfg.n_server_ports = np;
	cfg.on_conn = on_conn;
	cfg.arg = w;
	cfg.max_retained = 1;
	cfg.max_series = 16;
	if (!(cap = cap_open_offline(path, err, errlen)))
		goto out;
	if (filter && cap_set_filter(cap, filter, err, errlen) < 0)
		goto out;
	if (!(az = az_new(&cfg))) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if (cap_run(cap, az, NULL, err, errlen) < 0)
		goto out;
	az_finish(az);
	rc = 0;
out:
	az_free(az);
	az = NULL;
	if (cap)
		cap_close(cap);
	return rc;
}

static bool same(const uint8_t *a, const uint8_t *b, uint8_t af)
{
	return !memcmp(a, b, af == 4 ? 4 : 16);
}

static const char *file_kind(mode_t m)
{
	return S_ISFIFO(m) ? "a FIFO" : S_ISDIR(m) ? "a directory" : S_ISCHR(m) ? "a character device"
	     : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a plain file";
}

/* 0 when path is a regular file (after symbolic links), else -1 and err. */
static int check_regular(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file (%s)", path, file_kind(st.st_mode));
		return -1;
	}
	return 0;
}

/*
 * Open a capture named by a report, refusing what is not a regular file.
 * O_NONBLOCK: should path have become a FIFO since check_regular(), the
 * open does not wait for a writer, and fstat() then refuses it.
 */
static pcap_t *open_regular(const char *path, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	struct stat st;
	FILE *f = NULL;
	pcap_t *p;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file (%s)", path, file_kind(st.st_mode));
		close(fd);
		return NULL;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 || !(f = fdopen(fd, "rb"))) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!(p = pcap_fopen_offline(f, perr))) {
		snprintf(err, errlen, "%s: %s", path, perr);
		fclose(f);
		return NULL;
	}
	return p;       /* pcap_close() closes f */
}

static json_t *tl_packet(const struct want *w, const struct dec_tcp *d, int dir,
                         uint64_t index, double t)
{
	uint32_t seq = d->seq - w->isn[dir], ack = 0, win = d->win;
	char fl[12];

	if (d->flags & LL_TH_ACK)
		ack = d->ack - w->isn[!dir];
	/* the window scales as the analyzer scales it: both SYNs offered it */
	if (!(d->flags & LL_TH_SYN) && w->wscale[dir] >= 0 && w->wscale[!dir] >= 0)
		win = (uint32_t)d->win << (w->wscale[dir] > 14 ? 14 : w->wscale[dir]);
	return json_pack("{s:I,s:f,s:s,s:s,s:I,s:I,s:I,s:I}", "i", (json_int_t)index,
	                 "t", t - w->t0, "dir", dir == AZ_C2S ? "c2s" : "s2c",
	                 "flags", az_flags_str(d->flags, fl), "seq", (json_int_t)seq,
	                 "ack", (json_int_t)ack, "len", (json_int_t)d->seg_len,
	                 "win", (json_int_t)win);
}

/* Pass 2: the connection's packets, head and tail kept. */
static json_t *read_timeline(const char *path, const char *filter, const struct want *w,
                             char *err, size_t errlen)
{
	struct bpf_program prog;
	bool have_prog = false;
	pcap_t *p = NULL;
	json_t *head = NULL, *tail[PTL_HEAD_TAIL] = { 0 }, *tl = NULL, *pk;
	struct pcap_pkthdr *h;
	const u_char *bytes;
	uint64_t index = 0, matched = 0, omitted = 0;
	size_t ntail = 0, k;
	int r, dlt;

	if (!(p = open_regular(path, err, errlen)))
		goto out;
	if (filter) {
		if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
		    (have_prog = true, pcap_setfilter(p, &prog) < 0)) {
			snprintf(err, errlen, "%s: filter: %s", path, pcap_geterr(p));
			goto out;
		}
	}
	dlt = pcap_datalink(p);
	if (!(head = json_array()))
		goto oom;
	while ((r = pcap_next_ex(p, &h, &bytes)) == 1) {
		struct dec_tcp d;
		int dir;
		if (++index < w->first)
			continue;
		if (index > w->last)
			break;
		if (dec_packet(dlt, bytes, h->caplen, h->len, &d, NULL) != DEC_OK || d.af != w->af)
			continue;
		if (same(d.src, w->caddr, w->af) && same(d.dst, w->saddr, w->af) &&
		    d.sport == w->cport && d.dport == w->sport)
			dir = AZ_C2S;
		else if (same(d.src, w->saddr, w->af) && same(d.dst, w->caddr, w->af) &&
		         d.sport == w->sport && d.dport == w->cport)
			dir = AZ_S2C;
		else
			continue;
		if (!(pk = tl_packet(w, &d, dir, index, (double)h->ts.tv_sec + h->ts.tv_usec / 1e6)))
			goto oom;
		if (matched++ < PTL_HEAD_TAIL) {
			if (json_array_append_new(head, pk))
				goto oom;
			continue;
		}
		/* a ring of the last PTL_HEAD_TAIL packets */
		if (tail[ntail % PTL_HEAD_TAIL]) {
			json_decref(tail[ntail % PTL_HEAD_TAIL]);
			omitted++;
		}
		tail[ntail % PTL_HEAD_TAIL] = pk;
		ntail++;
	}
	if (r == PCAP_ERROR) {
		snprintf(err, errlen, "%s: %s", path, pcap_geterr(p));
		goto out;
	}
	{
		size_t n_in = ntail < PTL_HEAD_TAIL ? ntail : PTL_HEAD_TAIL;
		size_t start = ntail < PTL_HEAD_TAIL ? 0 : ntail % PTL_HEAD_TAIL;
		size_t head_n = json_array_size(head);
		for (k = 0; k < n_in; k++) {
			json_t *q = tail[(start + k) % PTL_HEAD_TAIL];
			tail[(start + k) % PTL_HEAD_TAIL] = NULL;
			if (json_array_append_new(head, q))
				goto oom;
		}
		tl = json_pack("{s:o,s:I,s:o}", "packets", head, "omitted", (json_int_t)omitted,
		               "omitted_after", omitted ? json_integer((json_int_t)head_n - 1) : json_null());
		head = NULL;
		if (!tl)
			goto oom;
	}
	goto out;
oom:
	snprintf(err, errlen, "%s: out of memory", path);
	json_decref(tl);
	tl = NULL;
out:
	for (k = 0; k < PTL_HEAD_TAIL; k++)
		json_decref(tail[k]);
	json_decref(head);
	if (have_prog)
		pcap_freecode(&prog);
	if (p)
		pcap_close(p);
	return tl;
}

/* The capture a report names, checked: NULL with err when there is none. */
static const char *capture_of(const json_t *report, char *err, size_t errlen)
{
	const json_t *in = rf_obj(report, "input");
	const char *path = rf_str(rf_obj(report, "lab"), "capture");

	if (!path)
		path = rf_str(in, "source");
	if (!path || rf_bool(in, "live", false) || !strcmp(path, "-")) {
		snprintf(err, errlen, "the report names no capture file to read it from");
		return NULL;
	}
	/* pass 1 opens it through the analyzer's capture reader */
	if (check_regular(path, err, errlen) < 0)
		return NULL;
	return path;
}

static void free_set(struct wantset *ws)
{
	for (size_t k = 0; ws->w && k < ws->nw; k++) {
		json_decref(ws->w[k].record);
		ws->w[k].record = NULL;
	}
	free(ws->w);
	ws->w = NULL;
}

/* Both passes for the set; 0, or -1 with err. */
static int run_set(const json_t *report, struct wantset *ws, const char **pathp,
                   char *err, size_t errlen)
{
	const json_t *in = rf_obj(report, "input");
	const char *filter = rf_str(in, "filter");
	const char *path = capture_of(report, err, errlen);
	size_t k;

	*pathp = path;
	if (!path)
		return -1;
	ws->t0 = rf_num(in, "start_time", 0);
	if (find_conns(path, filter, report, ws, err, errlen) < 0)
		return -1;
	if (ws->oom) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	for (k = 0; k < ws->nw; k++) {
		json_t *tl;
		if (!ws->w[k].found)
			continue;
		if (!(tl = read_timeline(path, filter, &ws->w[k], err, errlen)))
			return -1;
		if (json_object_set_new(ws->w[k].record, "timeline", tl) < 0) {
			snprintf(err, errlen, "%s: out of memory", path);
			return -1;
		}
	}
	return 0;
}

json_t *ptl_connection(const json_t *report, long long id, char *err, size_t errlen)
{
	struct wantset ws;
	const char *path = NULL;
	json_t *rec = NULL;

	memset(&ws, 0, sizeof ws);
	ws.ids = &id;
	ws.n_ids = ws.nw = 1;
	if (!(ws.w = calloc(1, sizeof *ws.w))) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (run_set(report, &ws, &path, err, errlen) < 0) {
		if (!path && !strncmp(err, "the report names", 16))
			snprintf(err, errlen, "the report keeps no record of connection %lld and "
			         "names no capture file to read it from", id);
		goto out;
	}
	if (!ws.w[0].found) {
		snprintf(err, errlen, "%s has no connection %lld (it holds %llu)", path, id,
		         (unsigned long long)ws.seen);
		goto out;
	}
	rec = ws.w[0].record;
	ws.w[0].record = NULL;
out:
	free_set(&ws);
	return rec;
}

json_t *ptl_connections(const json_t *report, const long long *ids, size_t n,
                        size_t max, size_t *total, char *err, size_t errlen)
{
	struct wantset ws;
	const char *path = NULL;
	json_t *arr = NULL;
	size_t k;

	memset(&ws, 0, sizeof ws);
	ws.ids = ids;
	ws.n_ids = n;
	ws.all = !ids;
	ws.max = max;
	ws.nw = ids ? n : 0;
	if (!(ws.w = calloc(ids ? (n ? n : 1) : (max ? max : 1), sizeof *ws.w)) || !(arr = json_array())) {
		snprintf(err, errlen, "out of memory");
		goto err;
	}
	if (run_set(report, &ws, &path, err, errlen) < 0)
		goto err;
	for (k = 0; k < ws.nw; k++) {
		if (!ws.w[k].found) {
			snprintf(err, errlen, "%s has no connection %lld (it holds %llu)", path,
			         ids ? ids[k] : 0, (unsigned long long)ws.seen);
			goto err;
		}
		if (json_array_append_new(arr, ws.w[k].record) < 0) {
			ws.w[k].record = NULL;
			snprintf(err, errlen, "out of memory");
			goto err;
		}
		ws.w[k].record = NULL;
	}
	if (total)
		*total = (size_t)ws.seen;
	free_set(&ws);
	return arr;
err:
	free_set(&ws);
	json_decref(arr);
	return NULL;
}
