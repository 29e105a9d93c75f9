/*
 * pktbuild.c - hand-assembled TCP frames for tests (see pktbuild.h).
 */
#include "tests/support/pktbuild.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PB_MAX_PAYLOAD 65000u
#define PB_MAX_FRAME (14u + 40u + 60u + PB_MAX_PAYLOAD)

/* A bounded writer: every store checks the room left, so a sizing mistake
 * here fails the build of a frame instead of writing past the buffer. */
struct pb_w {
	uint8_t *p;
	size_t len, cap;
	bool bad;
};

static void w_bytes(struct pb_w *w, const void *src, size_t n)
{
	if (w->bad || n > w->cap - w->len) {
		w->bad = true;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void w_u8(struct pb_w *w, uint8_t v) { w_bytes(w, &v, 1); }

static void w_u16(struct pb_w *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	w_bytes(w, b, 2);
}

static void w_u32(struct pb_w *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	                 (uint8_t)(v >> 8), (uint8_t)v };
	w_bytes(w, b, 4);
}

/* Store a 16-bit big-endian value at an offset already written. */
static void w_put16(struct pb_w *w, size_t off, uint16_t v)
{
	if (w->bad || off + 2 > w->len) {
		w->bad = true;
		return;
	}
	w->p[off] = (uint8_t)(v >> 8);
	w->p[off + 1] = (uint8_t)v;
}

/* One's-complement sum of 16-bit big-endian words (RFC 1071). */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void pb_list_init(struct pb_list *l, int dlt)
{
	memset(l, 0, sizeof(*l));
	l->dlt = dlt;
}

void pb_list_free(struct pb_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->frames[i].bytes);
		l->frames[i].bytes = NULL;
	}
	free(l->frames);
	l->frames = NULL;
	l->n = l->cap = 0;
}

static int list_push(struct pb_list *l, double t, const uint8_t *bytes,
                     uint32_t caplen, uint32_t wirelen)
{
	uint8_t *copy;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct pb_frame *nf = realloc(l->frames, ncap * sizeof(*nf));
		if (!nf)
			return -1;
		l->frames = nf;
		l->cap = ncap;
	}
	copy = malloc(caplen ? caplen : 1);
	if (!copy)
		return -1;
	if (caplen)
		memcpy(copy, bytes, caplen);
	l->frames[l->n].t = t;
	l->frames[l->n].caplen = caplen;
	l->frames[l->n].wirelen = wirelen;
	l->frames[l->n].bytes = copy;
	l->n++;
	return 0;
}

int pb_raw(struct pb_list *l, double t, const void *bytes, uint32_t caplen,
           uint32_t wirelen)
{
	if (wirelen < caplen)
		return -1;
	return list_push(l, t, bytes, caplen, wirelen);
}

static int parse_addr(const char *s, uint8_t out[16], uint8_t *af)
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1) {
		*af = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*af = 6;
		return 0;
	}
	return -1;
}

int pb_conn_init(struct pb_conn *c, const char *client, uint16_t cport,
                 const char *server, uint16_t sport,
                 uint32_t client_isn, uint32_t server_isn)
{
	uint8_t af_c = 0, af_s = 0;

	memset(c, 0, sizeof(*c));
	if (parse_addr(client, c->addr[PB_C2S], &af_c) < 0 ||
	    parse_addr(server, c->addr[PB_S2C], &af_s) < 0 || af_c != af_s)
		return -1;
	c->af = af_c;
	c->port[PB_C2S] = cport;
	c->port[PB_S2C] = sport;
	c->isn[PB_C2S] = client_isn;
	c->isn[PB_S2C] = server_isn;
	c->win[PB_C2S] = c->win[PB_S2C] = 65535;
	c->mss = 1460;
	c->wscale = 7;
	c->sack_permitted = true;
	c->timestamps = false;
	c->snaplen = 0;
	c->snd_nxt[PB_C2S] = c->snd_nxt[PB_S2C] = 0;
	return 0;
}

/* TCP options for segment s into opt[] (padded to 4); returns length. */
static size_t build_opts(const struct pb_conn *c, const struct pb_seg *s,
                         uint8_t opt[40])
{
	size_t n = 0;
	bool syn = (s->flags & PB_SYN) != 0;

	if (syn && c->mss) {
		opt[n++] = 2; opt[n++] = 4;
		opt[n++] = (uint8_t)(c->mss >> 8); opt[n++] = (uint8_t)c->mss;
	}
	if (syn && c->sack_permitted) {
		opt[n++] = 1; opt[n++] = 1; opt[n++] = 4; opt[n++] = 2;
	}
	if (c->timestamps) {
		/* milliseconds of capture time stand in for the clock */
		uint32_t tv = (uint32_t)(uint64_t)(s->t * 1000.0);
		uint32_t te = (s->flags & PB_ACK) ? tv - 1 : 0;
		opt[n++] = 1; opt[n++] = 1; opt[n++] = 8; opt[n++] = 10;
		opt[n++] = (uint8_t)(tv >> 24); opt[n++] = (uint8_t)(tv >> 16);
		opt[n++] = (uint8_t)(tv >> 8); opt[n++] = (uint8_t)tv;
		opt[n++] = (uint8_t)(te >> 24); opt[n++] = (uint8_t)(te >> 16);
		opt[n++] = (uint8_t)(te >> 8); opt[n++] = (uint8_t)te;
	}
	if (syn && c->wscale >= 0) {
		opt[n++] = 1; opt[n++] = 3; opt[n++] = 3;
		opt[n++] = (uint8_t)c->wscale;
	}
	while (n % 4)
		opt[n++] = 0; /* end of option list */
	return n;
}

int pb_seg(struct pb_list *l, struct pb_conn *c, const struct pb_seg *s)
{
	static const uint8_t mac[2][6] = {
		{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 }, /* client */
		{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 }, /* server */
	};
	enum pb_dir d = s->dir, p = (s->dir == PB_C2S) ? PB_S2C : PB_C2S;
	uint8_t opt[40];
	size_t optlen, iphl, ip_off, tcp_off, thl;
	uint32_t seq_rel, ack_rel, seq, ack, caplen, tcp_len;
	uint32_t sum;
	uint16_t win;
	uint8_t *buf = NULL;
	struct pb_w w;
	int rc = -1;

	if ((c->af != 4 && c->af != 6) || s->len > PB_MAX_PAYLOAD ||
	    (d != PB_C2S && d != PB_S2C))
		return -1;
	buf = malloc(PB_MAX_FRAME);
	if (!buf)
		return -1;
	w = (struct pb_w){ .p = buf, .len = 0, .cap = PB_MAX_FRAME };

	seq_rel = s->seq == PB_NEXT ? c->snd_nxt[d] : s->seq;
	ack_rel = s->ack == PB_NEXT ? c->snd_nxt[p] : s->ack;
	seq = s->absolute ? s->seq : c->isn[d] + seq_rel;
	ack = s->absolute ? s->ack : c->isn[p] + ack_rel;
	if (!(s->flags & PB_ACK))
		ack = 0;
	win = s->win >= 0 ? (uint16_t)s->win : c->win[d];
	optlen = build_opts(c, s, opt);
	thl = 20 + optlen;
	tcp_len = (uint32_t)thl + s->len;
	iphl = c->af == 4 ? 20 : 40;

	if (l->dlt == PB_DLT_EN10MB) {
		w_bytes(&w, mac[p], 6);
		w_bytes(&w, mac[d], 6);
		w_u16(&w, c->af == 4 ? 0x0800 : 0x86dd);
	}
	ip_off = w.len;
	if (c->af == 4) {
		w_u8(&w, 0x45);
		w_u8(&w, 0);
		w_u16(&w, (uint16_t)(iphl + tcp_len));
		w_u16(&w, (uint16_t)(l->n + 1)); /* IP id */
		w_u16(&w, 0x4000);               /* DF */
		w_u8(&w, 64);
		w_u8(&w, 6);
		w_u16(&w, 0);                    /* checksum, below */
		w_bytes(&w, c->addr[d], 4);
		w_bytes(&w, c->addr[p], 4);
	} else {
		w_u32(&w, 0x60000000);
		w_u16(&w, (uint16_t)tcp_len);
		w_u8(&w, 6);
		w_u8(&w, 64);
		w_bytes(&w, c->addr[d], 16);
		w_bytes(&w, c->addr[p], 16);
	}
	tcp_off = w.len;
	w_u16(&w, c->port[d]);
	w_u16(&w, c->port[p]);
	w_u32(&w, seq);
	w_u32(&w, ack);
	w_u8(&w, (uint8_t)((thl / 4) << 4));
	w_u8(&w, s->flags);
	w_u16(&w, win);
	w_u16(&w, 0); /* checksum, below */
	w_u16(&w, 0); /* urgent pointer */
	w_bytes(&w, opt, optlen);
	if (s->payload) {
		w_bytes(&w, s->payload, s->len);
	} else if (!w.bad && s->len <= w.cap - w.len) {
		memset(w.p + w.len, 'x', s->len);
		w.len += s->len;
	} else {
		w.bad = true;
	}
	if (w.bad)
		goto out;

	/* checksums over the whole segment, before any snaplen cut */
	if (c->af == 4)
		w_put16(&w, ip_off + 10, csum_fold(csum_add(0, buf + ip_off, 20)));
	sum = 0;
	if (c->af == 4) {
		sum = csum_add(sum, c->addr[d], 4);
		sum = csum_add(sum, c->addr[p], 4);
	} else {
		sum = csum_add(sum, c->addr[d], 16);
		sum = csum_add(sum, c->addr[p], 16);
	}
	sum += 6 + (tcp_len & 0xffff) + (tcp_len >> 16);
	sum = csum_add(sum, buf + tcp_off, tcp_len);
	w_put16(&w, tcp_off + 16, csum_fold(sum));
	if (w.bad)
		goto out;

	caplen = (uint32_t)w.len;
	if (s->caplen && s->caplen < caplen)
		caplen = s->caplen;
	else if (!s->caplen && c->snaplen && c->snaplen < caplen)
		caplen = c->snaplen;
	if (list_push(l, s->t, buf, caplen, (uint32_t)w.len) < 0)
		goto out;

	if (!s->absolute) {
		uint32_t end = seq_rel + s->len +
		               ((s->flags & PB_SYN) ? 1 : 0) +
		               ((s->flags & PB_FIN) ? 1 : 0);
		if ((int32_t)(end - c->snd_nxt[d]) > 0)
			c->snd_nxt[d] = end;
	}
	rc = 0;
out:
	free(buf);
	buf = NULL;
	return rc;
}

static int seg_simple(struct pb_list *l, struct pb_conn *c, enum pb_dir d,
                      double t, uint8_t flags, uint32_t seq, uint32_t ack,
                      const void *payload, uint32_t len)
{
	struct pb_seg s = {
		.dir = d, .t = t, .flags = flags, .seq = seq, .ack = ack,
		.win = -1, .payload = payload, .len = len,
	};
	return pb_seg(l, c, &s);
}

int pb_syn(struct pb_list *l, struct pb_conn *c, double t)
{
	return seg_simple(l, c, PB_C2S, t, PB_SYN, 0, 0, NULL, 0);
}

int pb_synack(struct pb_list *l, struct pb_conn *c, double t)
{
	return seg_simple(l, c, PB_S2C, t, PB_SYN | PB_ACK, 0, 1, NULL, 0);
}

int pb_ack(struct pb_list *l, struct pb_conn *c, enum pb_dir d, double t,
           uint32_t seq, uint32_t ack)
{
	return seg_simple(l, c, d, t, PB_ACK, seq, ack, NULL, 0);
}

int pb_data(struct pb_list *l, struct pb_conn *c, enum pb_dir d, double t,
            uint32_t seq, uint32_t ack, const void *payload, uint32_t len)
{
	return seg_simple(l, c, d, t, PB_PSH | PB_ACK, seq, ack, payload, len);
}

int pb_send(struct pb_list *l, struct pb_conn *c, enum pb_dir d, double t,
            uint32_t seq, uint32_t ack, const char *text)
{
	size_t n = strlen(text);

	if (n > PB_MAX_PAYLOAD)
		return -1;
	return pb_data(l, c, d, t, seq, ack, text, (uint32_t)n);
}

int pb_fin(struct pb_list *l, struct pb_conn *c, enum pb_dir d, double t,
           uint32_t seq, uint32_t ack)
{
	return seg_simple(l, c, d, t, PB_FIN | PB_ACK, seq, ack, NULL, 0);
}

int pb_rst(struct pb_list *l, struct pb_conn *c, enum pb_dir d, double t,
           uint32_t seq)
{
	return seg_simple(l, c, d, t, PB_RST, seq, 0, NULL, 0);
}

int pb_rstack(struct pb_list *l, struct pb_conn *c, enum pb_dir d, double t,
              uint32_t seq, uint32_t ack)
{
	return seg_simple(l, c, d, t, PB_RST | PB_ACK, seq, ack, NULL, 0);
}

void pb_sort(struct pb_list *l)
{
	size_t i, j;

	/* insertion sort: stable, and test lists are short */
	for (i = 1; i < l->n; i++) {
		struct pb_frame f = l->frames[i];
		for (j = i; j > 0 && l->frames[j - 1].t > f.t; j--)
			l->frames[j] = l->frames[j - 1];
		l->frames[j] = f;
	}
}

int pb_write_pcap(const struct pb_list *l, const char *path,
                  char *err, size_t errlen)
{
	pcap_t *p = NULL;
	pcap_dumper_t *d = NULL;
	size_t i;
	int rc = -1;

	p = pcap_open_dead(l->dlt, 262144);
	if (!p) {
		snprintf(err, errlen, "pcap: %s: cannot open a dead handle", path);
		goto out;
	}
	d = pcap_dump_open(p, path);
	if (!d) {
		snprintf(err, errlen, "pcap: %s: %s", path, pcap_geterr(p));
		goto out;
	}
	for (i = 0; i < l->n; i++) {
		const struct pb_frame *f = &l->frames[i];
		struct pcap_pkthdr h;
		double sec = (double)(int64_t)f->t;
		int64_t usec = (int64_t)((f->t - sec) * 1e6 + 0.5);

		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = (time_t)sec;
		if (usec >= 1000000) {
			h.ts.tv_sec++;
			usec -= 1000000;
		}
		h.ts.tv_usec = (suseconds_t)usec;
		h.caplen = f->caplen;
		h.len = f->wirelen;
		pcap_dump((u_char *)d, &h, f->bytes);
	}
	if (pcap_dump_flush(d) < 0) {
		snprintf(err, errlen, "pcap: %s: write failed", path);
		goto out;
	}
	rc = 0;
out:
	if (d)
		pcap_dump_close(d);
	d = NULL;
	if (p)
		pcap_close(p);
	p = NULL;
	return rc;
}
