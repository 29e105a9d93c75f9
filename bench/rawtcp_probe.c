/*
 * rawtcp_probe.c - a small driver for the raw TCP client (lab/rawtcp.h),
 * used by tests/integration/rawtcp*.sh and bench/rawtcp.sh. Run it inside
 * the lab's client namespace (ip netns exec ...); it prints key=value
 * lines on stdout and nothing else there.
 *
 *   rawtcp-probe get  ...   one connection: GET PATH (Connection: close),
 *                           read the response up to the server's FIN, send
 *                           our FIN, wait until CLOSED
 *   rawtcp-probe put  ...   one connection: PUT PATH with a body of BYTES
 *                           at RATE; report FIN / RST bookkeeping
 *   rawtcp-probe idle ...   N connections, established and then idle for
 *                           HOLD seconds (with --request: each sends a GET
 *                           with Connection: close, ACKs the server's FIN
 *                           and never sends its own: server FIN_WAIT_2)
 *   rawtcp-probe rtt FILE RTT_MS PEER
 *                           read a saved capture and report how far the
 *                           SYN-ACK -> ACK spacing (the emulated RTT as the
 *                           capture point sees it) is from RTT_MS
 *
 * Exit: 0 done, 1 the run went wrong (timeout, reset where none was
 * expected...), 2 usage, 3 the client could not open (not root, no iface).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/decode.h"
#include "lab/rawtcp.h"

struct args {
	const char *mode, *iface, *local, *peer, *dump, *path;
	long port, rtt_ms, conns, batch, window, locals;
	double hold_s, timeout_s;
	unsigned long long body, rate;
	bool request, realtime;
	struct rawtcp_ack_policy ack;
};

static void usage(void)
{
	fprintf(stderr,
	        "usage: rawtcp-probe get|put|idle --iface IF --local ADDR --peer ADDR --port N\n"
	        "         [--rtt MS] [--dump FILE] [--path P] [--body BYTES] [--rate BPS]\n"
	        "         [--conns N] [--batch N] [--hold SEC] [--request] [--timeout SEC]\n"
	        "         [--locals N (local addresses: --local and the next N-1)]\n"
	        "         [--ack now|never|delayed:MS|upto:BYTES] [--window BYTES] [--realtime]\n"
	        "       rawtcp-probe rtt FILE RTT_MS PEER\n");
}

static int num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int unum(const char *s, unsigned long long *out)
{
	char *end;
	unsigned long long v;
	errno = 0;
	if (*s == '-')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

static int dnum(const char *s, double *out)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0 || v > 1e6)
		return -1;
	*out = v;
	return 0;
}

static int parse_ack(const char *s, struct rawtcp_ack_policy *p)
{
	long v;
	memset(p, 0, sizeof *p);
	if (!strcmp(s, "now")) {
		p->mode = RAWTCP_ACK_NOW;
	} else if (!strcmp(s, "never")) {
		p->mode = RAWTCP_ACK_NEVER;
	} else if (!strncmp(s, "delayed:", 8) && num(s + 8, 0, 60000, &v) == 0) {
		p->mode = RAWTCP_ACK_DELAYED;
		p->delay_us = (uint32_t)v * 1000u;
	} else if (!strncmp(s, "upto:", 5) && num(s + 5, 0, LONG_MAX, &v) == 0) {
		p->mode = RAWTCP_ACK_UPTO;
		p->upto = (uint64_t)v;
	} else {
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	memset(a, 0, sizeof *a);
	a->mode = argv[1];
	a->path = "/";
	a->conns = 1;
	a->locals = 1;
	a->batch = 256;
	a->hold_s = 1;
	a->timeout_s = 10;
	a->window = 65535;
	a->body = 1 << 20;
	a->ack.mode = RAWTCP_ACK_NOW;
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;
		if (!strcmp(o, "--request")) {
			a->request = true;
			continue;
		}
		if (!strcmp(o, "--realtime")) {
			a->realtime = true;
			continue;
		}
		if (!v)
			return -1;
		i++;
		if (!strcmp(o, "--iface")) a->iface = v;
		else if (!strcmp(o, "--local")) a->local = v;
		else if (!strcmp(o, "--peer")) a->peer = v;
		else if (!strcmp(o, "--dump")) a->dump = v;
		else if (!strcmp(o, "--path")) a->path = v;
		else if (!strcmp(o, "--port")) bad = num(v, 1, 65535, &a->port);
		else if (!strcmp(o, "--rtt")) bad = num(v, 0, 60000, &a->rtt_ms);
		else if (!strcmp(o, "--conns")) bad = num(v, 1, 1000000, &a->conns);
		else if (!strcmp(o, "--locals")) bad = num(v, 1, 16, &a->locals);
		else if (!strcmp(o, "--batch")) bad = num(v, 1, 60000, &a->batch);
		else if (!strcmp(o, "--window")) bad = num(v, 0, 1 << 30, &a->window);
		else if (!strcmp(o, "--hold")) bad = dnum(v, &a->hold_s);
		else if (!strcmp(o, "--timeout")) bad = dnum(v, &a->timeout_s);
		else if (!strcmp(o, "--body")) bad = unum(v, &a->body);
		else if (!strcmp(o, "--rate")) bad = unum(v, &a->rate);
		else if (!strcmp(o, "--ack")) bad = parse_ack(v, &a->ack);
		else return -1;
		if (bad)
			return -1;
	}
	if (!a->iface || !a->local || !a->peer || !a->port)
		return -1;
	return 0;
}

static void print_stats(struct rawtcp *c)
{
	struct rawtcp_stats st;
	rawtcp_stats(c, &st);
	printf("leaked_rsts=%llu\n", (unsigned long long)st.leaked_rsts);
	printf("client_kernel_rsts=%llu\n", (unsigned long long)st.client_kernel_rsts);
	printf("packets_out=%llu\n", (unsigned long long)st.packets_out);
	printf("packets_in=%llu\n", (unsigned long long)st.packets_in);
	printf("inject_errors=%llu\n", (unsigned long long)st.inject_errors);
	printf("pcap_drops=%llu\n", (unsigned long long)st.pcap_drops);
	printf("early_rx=%d\n", st.early_rx ? 1 : 0);
	printf("frames_dumped=%llu\n", (unsigned long long)st.frames_dumped);
	printf("conns_peak=%u\n", st.conns_peak);
}

static void print_conn(struct rawtcp_conn *k)
{
	struct rawtcp_conn_info i;
	rawtcp_conn_info(k, &i);
	printf("state=%s\n", rawtcp_state_name(i.state));
	printf("close_reason=%s\n", rawtcp_close_reason_name(i.close_reason));
	printf("peer_mss=%u\npeer_wscale=%d\npeer_sack=%d\npeer_ts=%d\n", i.peer_mss, i.peer_wscale,
	       i.peer_sack_permitted, i.peer_timestamps);
	printf("bytes_sent=%llu\nbytes_acked=%llu\n", (unsigned long long)i.bytes_sent,
	       (unsigned long long)i.bytes_acked);
	printf("rx_received=%llu\nrx_delivered=%llu\n", (unsigned long long)i.rx_received,
	       (unsigned long long)i.rx_delivered);
	printf("peer_fin=%d\npeer_rst=%d\nrsts_received=%u\n", i.peer_fin, i.peer_rst, i.rsts_received);
	printf("rst_lost_on_flush=%llu\nrst_unacked=%llu\n", (unsigned long long)i.rst_lost_on_flush,
	       (unsigned long long)i.rst_unacked);
	printf("srtt_us=%u\nretransmits=%u\n", i.srtt_us, i.retransmits);
}

/* The status code of an HTTP response at the start of buf, or -1. */
static int http_status(const uint8_t *p, size_t n)
{
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return -1;
	return (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
}

struct one {
	struct rawtcp_conn *k;
	bool closed, fin, rst, connected;
	bool shut_on_fin;
	bool consume;   /* read as it comes (else leave it buffered, unread) */
	int status;
};

static bool one_stop(struct rawtcp *c, void *arg)
{
	struct one *s = arg;
	struct rawtcp_event ev;
	while (rawtcp_next_event(c, &ev)) {
		if (ev.conn != s->k)
			continue;
		switch (ev.type) {
		case RAWTCP_EV_CONNECTED: s->connected = true; break;
		case RAWTCP_EV_DATA:
			if (s->consume) {
				const uint8_t *p;
				size_t n = rawtcp_peek(s->k, &p);
				if (s->status == -1)
					s->status = http_status(p, n);
				rawtcp_consume(s->k, n);
			}
			break;
		case RAWTCP_EV_PEER_FIN:
			s->fin = true;
			if (s->shut_on_fin)
				(void)rawtcp_shutdown(s->k, NULL, 0);
			break;
		case RAWTCP_EV_PEER_RST: s->rst = true; break;
		case RAWTCP_EV_CLOSED: s->closed = true; break;
		default: break;
		}
	}
	return s->closed;
}

static int mode_one(struct rawtcp *c, const struct args *a, bool put)
{
	struct rawtcp_conn_opts o;
	struct one s = { 0 };
	s.status = -1;
	char err[256], req[512];
	const uint8_t *p;
	size_t n;
	int r;

	rawtcp_conn_opts_init(&o);
	o.dport = (uint16_t)a->port;
	o.ack = a->ack;
	o.window = (uint32_t)a->window;
	s.k = rawtcp_connect(c, &o, err, sizeof err);
	if (!s.k) {
		fprintf(stderr, "rawtcp-probe: %s\n", err);
		return 1;
	}
	if (put) {
		n = (size_t)snprintf(req, sizeof req,
		                     "PUT %s HTTP/1.1\r\nHost: lab\r\nContent-Length: %llu\r\n\r\n",
		                     a->path, a->body);
		if (rawtcp_send(s.k, req, n, err, sizeof err) != 0 ||
		    rawtcp_send_body(s.k, a->body, a->rate, 0, err, sizeof err) != 0) {
			fprintf(stderr, "rawtcp-probe: %s\n", err);
			return 1;
		}
	} else {
		n = (size_t)snprintf(req, sizeof req,
		                     "GET %s HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n", a->path);
		if (rawtcp_send(s.k, req, n, err, sizeof err) != 0) {
			fprintf(stderr, "rawtcp-probe: %s\n", err);
			return 1;
		}
		s.shut_on_fin = true; /* "close after the response" */
		s.consume = true;
	}
	r = rawtcp_run(c, rawtcp_now_us() + (uint64_t)(a->timeout_s * 1e6), one_stop, &s, err, sizeof err);
	if (r < 0) {
		fprintf(stderr, "rawtcp-probe: %s\n", err);
		return 1;
	}
	/* Let the last held packets leave and the capture see them. */
	(void)rawtcp_run(c, rawtcp_now_us() + (uint64_t)a->rtt_ms * 1000u + 50000, NULL, NULL, err, sizeof err);
	n = rawtcp_peek(s.k, &p);
	if (s.status == -1)
		s.status = http_status(p, n);
	printf("connected=%d\n", s.connected);
	printf("status=%d\n", s.status);
	rawtcp_consume(s.k, n);
	print_conn(s.k);
	print_stats(c);
	return r == 1 ? 0 : 1;
}

struct many {
	struct rawtcp_conn **k;
	long n, started, established, closed, fins, rsts;
	const struct args *a;
	struct rawtcp_conn_opts o;
	uint64_t t_first_syn, t_all_est;
	bool failed;
	char err[256];
};

static bool many_stop(struct rawtcp *c, void *arg)
{
	struct many *m = arg;
	struct rawtcp_event ev;
	while (rawtcp_next_event(c, &ev)) {
		switch (ev.type) {
		case RAWTCP_EV_CONNECTED:
			m->established++;
			if (m->a->request) {
				static const char get[] = "GET / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n";
				(void)rawtcp_send(ev.conn, get, sizeof get - 1, NULL, 0);
			}
			if (m->established == m->n)
				m->t_all_est = ev.time_us;
			break;
		case RAWTCP_EV_DATA:
			rawtcp_consume(ev.conn, (size_t)ev.bytes);
			break;
		case RAWTCP_EV_PEER_FIN: m->fins++; break;
		case RAWTCP_EV_PEER_RST: m->rsts++; break;
		case RAWTCP_EV_CLOSED: m->closed++; break;
		default: break;
		}
	}
	/* Keep at most `batch` handshakes in progress. */
	while (m->started < m->n && m->started - m->established - m->closed < m->a->batch) {
		m->k[m->started] = rawtcp_connect(c, &m->o, m->err, sizeof m->err);
		if (!m->k[m->started]) {
			m->failed = true;
			return true;
		}
		if (m->started == 0)
			m->t_first_syn = rawtcp_now_us();
		m->started++;
	}
	return m->established + m->closed >= m->n;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "VmRSS:", 6)) {
			v = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Stop once every held segment has left (the delay queue is empty). */
static bool drained_stop(struct rawtcp *c, void *arg)
{
	struct rawtcp_stats st;
	(void)arg;
	rawtcp_stats(c, &st);
	return st.delayq_len == 0;
}

static int mode_idle(struct rawtcp *c, const struct args *a)
{
	struct many m = { 0 };
	char err[256];
	long rss0 = rss_kib(), live = 0;
	int r;
	m.n = a->conns;
	m.a = a;
	m.k = calloc((size_t)m.n, sizeof *m.k);
	if (!m.k)
		return 1;
	rawtcp_conn_opts_init(&m.o);
	m.o.dport = (uint16_t)a->port;
	m.o.ack = a->ack;
	m.o.window = (uint32_t)a->window;
	m.o.rcvbuf_cap = 64u << 10;
	r = rawtcp_run(c, rawtcp_now_us() + (uint64_t)(a->timeout_s * 1e6), many_stop, &m, err, sizeof err);
	if (r < 0 || m.failed) {
		fprintf(stderr, "rawtcp-probe: %s\n", r < 0 ? err : m.err);
		free(m.k);
		return 1;
	}
	printf("conns=%ld\nestablished=%ld\n", m.n, m.established);
	if (m.established == m.n && m.t_all_est > m.t_first_syn)
		printf("connect_rate_per_s=%.0f\n", (double)m.n * 1e6 / (double)(m.t_all_est - m.t_first_syn));
	/* Hold: the loop keeps running (ACKs, timers) while nothing is sent. */
	(void)rawtcp_run(c, rawtcp_now_us() + (uint64_t)(a->hold_s * 1e6), many_stop, &m, err, sizeof err);
	(void)rawtcp_run(c, rawtcp_now_us() + (uint64_t)(a->hold_s * 1e6), NULL, NULL, err, sizeof err);
	many_stop(c, &m);
	for (long i = 0; i < m.started; i++) {
		enum rawtcp_state s = rawtcp_conn_state(m.k[i]);
		if (s != RAWTCP_CLOSED && s != RAWTCP_SYN_SENT)
			live++;
	}
	printf("held=%ld\npeer_fins=%ld\npeer_rsts=%ld\nclosed=%ld\n", live, m.fins, m.rsts, m.closed);
	{
		long rss = rss_kib();
		if (rss > 0 && rss0 > 0 && m.n > 0)
			printf("rss_kib=%ld\nrss_per_conn_bytes=%ld\n", rss, (rss - rss0) * 1024 / m.n);
	}
	/* Clean up on the wire: every connection ends with our RST. */
	for (long i = 0; i < m.started; i++)
		rawtcp_abort(m.k[i]);
	/* All of them out (100,000 RSTs take a while), so that the server
	 * keeps no FIN_WAIT_2 socket a later run's ports would meet. */
	(void)rawtcp_run(c, rawtcp_now_us() + (uint64_t)a->rtt_ms * 1000u + 60000000u, drained_stop, NULL,
	                 err, sizeof err);
	(void)rawtcp_run(c, rawtcp_now_us() + 200000, NULL, NULL, err, sizeof err);
	print_stats(c);
	free(m.k);
	return m.established == m.n ? 0 : 1;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* SYN-ACK (server -> client) to the client's next segment, per port. */
static int mode_rtt(const char *file, const char *rtt_s, const char *peer_s)
{
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(file, perr);
	struct pcap_pkthdr *h;
	const u_char *bytes;
	static uint64_t synack_at[65536];
	uint64_t *d = NULL;
	size_t nd = 0, cap = 0;
	long rtt_ms;
	struct in_addr peer;
	int dlt;
	if (!p) {
		fprintf(stderr, "rawtcp-probe: %s\n", perr);
		return 3;
	}
	if (num(rtt_s, 0, 60000, &rtt_ms) != 0 || inet_pton(AF_INET, peer_s, &peer) != 1) {
		pcap_close(p);
		usage();
		return 2;
	}
	dlt = pcap_datalink(p);
	while (pcap_next_ex(p, &h, &bytes) == 1) {
		struct dec_tcp t;
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		if (dec_packet(dlt, bytes, h->caplen, h->len, &t, NULL) != DEC_OK || t.af != 4)
			continue;
		if (!memcmp(t.src, &peer, 4)) {
			if ((t.flags & (LL_TH_SYN | LL_TH_ACK)) == (LL_TH_SYN | LL_TH_ACK) && !synack_at[t.dport])
				synack_at[t.dport] = ts;
		} else if (!memcmp(t.dst, &peer, 4) && synack_at[t.sport] && synack_at[t.sport] != UINT64_MAX &&
		           !(t.flags & LL_TH_SYN)) {
			if (nd == cap) {
				cap = cap ? cap * 2 : 1024;
				uint64_t *nv = realloc(d, cap * sizeof *nv);
				if (!nv)
					break;
				d = nv;
			}
			d[nd++] = ts - synack_at[t.sport];
			synack_at[t.sport] = UINT64_MAX; /* only the first reply */
		}
	}
	pcap_close(p);
	if (nd == 0) {
		printf("samples=0\n");
		free(d);
		return 1;
	}
	qsort(d, nd, sizeof *d, cmp_u64);
	{
		double want = (double)rtt_ms * 1000.0, sum_err = 0;
		for (size_t i = 0; i < nd; i++)
			sum_err += (double)d[i] > want ? (double)d[i] - want : want - (double)d[i];
		printf("samples=%zu\nrequested_us=%.0f\n", nd, want);
		printf("min_us=%llu\nmedian_us=%llu\np99_us=%llu\nmax_us=%llu\nmean_abs_err_us=%.0f\n",
		       (unsigned long long)d[0], (unsigned long long)d[nd / 2],
		       (unsigned long long)d[(nd * 99) / 100 < nd ? (nd * 99) / 100 : nd - 1],
		       (unsigned long long)d[nd - 1], sum_err / (double)nd);
	}
	free(d);
	return 0;
}

int main(int argc, char **argv)
{
	struct args a;
	struct rawtcp_config cfg;
	struct rawtcp *c;
	char err[256];
	int rc;

	if (argc >= 2 && !strcmp(argv[1], "rtt")) {
		if (argc != 5) {
			usage();
			return 2;
		}
		return mode_rtt(argv[2], argv[3], argv[4]);
	}
	if (argc < 2 || parse_args(argc, argv, &a) != 0 ||
	    (strcmp(a.mode, "get") && strcmp(a.mode, "put") && strcmp(a.mode, "idle"))) {
		usage();
		return 2;
	}
	rawtcp_config_init(&cfg);
	cfg.iface = a.iface;
	cfg.local_addr = a.local;
	cfg.peer_addr = a.peer;
	cfg.rtt_us = (uint32_t)a.rtt_ms * 1000u;
	cfg.local_addr_count = (uint16_t)a.locals;
	if (a.conns > 60000)
		cfg.max_conns = (uint32_t)a.conns;
	c = rawtcp_open(&cfg, err, sizeof err);
	if (!c) {
		fprintf(stderr, "rawtcp-probe: %s\n", err);
		return 3;
	}
	if (a.realtime && rawtcp_realtime(10, err, sizeof err) != 0) {
		fprintf(stderr, "rawtcp-probe: %s\n", err);
		rawtcp_free(c);
		return 3;
	}
	if (a.dump && rawtcp_dump_open(c, a.dump, err, sizeof err) != 0) {
		fprintf(stderr, "rawtcp-probe: %s\n", err);
		rawtcp_free(c);
		return 3;
	}
	if (!strcmp(a.mode, "idle"))
		rc = mode_idle(c, &a);
	else
		rc = mode_one(c, &a, !strcmp(a.mode, "put"));
	rawtcp_free(c);
	fflush(stdout);
	return rc;
}
