/*
 * runanalysis.c - a run's capture through the analyzer, and what the lab
 * adds to it (run_analyze, run_kernel_fw2, run_tally in run.h):
 *
 *   - the match: each scenario connection is the analyzer connection from
 *     the raw client's address and its client port (never reused within
 *     a run) that began within the scenario's window;
 *   - the runner's clean-up RSTs: found in the capture by connection and
 *     sequence number, listed by packet index, and a finding whose RST is
 *     one of them is a lab artefact (counted nowhere, judged never);
 *   - the kernel's word on server FIN_WAIT_2: an interval the wire did
 *     not end before the sampled socket was gone ended by the orphan's
 *     timeout (kernel_timeout);
 *   - the per-scenario tallies the judge and the report read.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/capture.h"
#include "lab/run.h"
#include "analyzer/tlskeys.h"

#define MAX_SERIES   16384   /* fin_wait_2 points (as reports use) */
#define MATCH_SLACK  1.0     /* seconds around a scenario's window */
/* A clean-up RST found by time when its seq did not match: it leaves
 * about rtt/2 after the runner made it, give or take the loop. */
#define CLEANUP_SLACK 0.05

struct seen_conn {
	uint64_t id;
	bool kaddr;             /* from a kernel clients' address (.2, .4) */
	uint16_t port;
	double first_time;
	enum az_kind kind;
	enum az_initiator initiator;
	bool lingered;
	double linger_seconds;
	uint64_t linger_bytes;
	enum az_linger_end linger_end;
	enum az_state client_end, server_end;
	struct az_fw2_interval fw2[2];
	/* the client's first RST (the runner's clean-up RST, if it sent one:
	 * a connection the client had reset itself is CLOSED and gets none) */
	bool c2s_rst;
	uint32_t c2s_isn, c2s_rst_seq;  /* raw ISN, relative RST seq */
	double c2s_rst_time;
	uint64_t c2s_rst_packet;
};

struct collect {
	struct lladdr raw;      /* the raw client's address */
	struct in_addr kaddr;   /* kernel clients' and programs' address */
	bool has_kaddr;
	struct in_addr daddr;   /* delayed kernel clients' (lab/kdelay.h) */
	bool has_daddr;
	uint16_t port;          /* target port */
	struct seen_conn *v;
	size_t n, cap;
	bool oom;
};

static void on_conn(const struct az_conn *c, void *arg)
{
	struct collect *col = arg;
	/* the raw client's, or a kernel client's (its ports are apart from
	 * the raw client's, so the port still names one connection; kernel
	 * clients speak IPv4) */
	if (c->server_port != col->port ||
	    (!lladdr_is(&col->raw, c->af, c->client_addr) &&
	     (c->af != 4 || !col->has_kaddr || memcmp(c->client_addr, &col->kaddr, 4)) &&
	     (c->af != 4 || !col->has_daddr || memcmp(c->client_addr, &col->daddr, 4))))
		return;
	if (col->n == col->cap) {
		size_t nc = col->cap ? col->cap * 2 : 256;
		struct seen_conn *nv = realloc(col->v, nc * sizeof *nv);
		if (!nv) {
			col->oom = true;
			return;
		}
		col->v = nv;
		col->cap = nc;
	}
	struct seen_conn *s = &col->v[col->n++];
	memset(s, 0, sizeof *s);
	s->id = c->id;
	s->kaddr = (col->has_kaddr && !memcmp(c->client_addr, &col->kaddr, 4)) ||
	           (col->has_daddr && !memcmp(c->client_addr, &col->daddr, 4));
	s->port = c->client_port;
	s->first_time = c->first_time;
	s->kind = c->kind;
	s->initiator = c->initiator;
	s->client_end = c->client_end;
	s->server_end = c->server_end;
	s->lingered = c->lingered;
	s->linger_seconds = c->linger_seconds;
	s->linger_bytes = c->linger_bytes;
	s->linger_end = c->linger_end;
	s->fw2[AZ_CLIENT] = c->client_fw2;
	s->fw2[AZ_SERVER] = c->server_fw2;
	s->c2s_rst = c->c2s.rst_seen;
	s->c2s_isn = c->c2s.isn;
	s->c2s_rst_seq = c->c2s.rst_seq;
	s->c2s_rst_time = c->c2s.rst_time;
	s->c2s_rst_packet = c->c2s.rst_packet;
}

static int cmp_seen(const void *a, const void *b)
{
	const struct seen_conn *x = a, *y = b;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return x->first_time < y->first_time ? -1 : x->first_time > y->first_time;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- the kernel's word on FIN_WAIT_2 ------------------------------------ */

const char *run_fw2_end_name(enum run_fw2_end e)
{
	switch (e) {
	case RUN_FW2_CLIENT_FIN:     return "client_fin";
	case RUN_FW2_CLIENT_RST:     return "client_rst";
	case RUN_FW2_SERVER_RST:     return "server_rst";
	case RUN_FW2_CAPTURE_END:    return "capture_end";
	case RUN_FW2_KERNEL_TIMEOUT: return "kernel_timeout";
	case RUN_FW2_LAB_CLEANUP:    return "lab_cleanup";
	}
	return "?";
}

void run_kernel_fw2(struct run_conn *c, double *kernel_seconds)
{
	struct az_fw2_interval *sv = &c->fw2[AZ_SERVER];
	if (c->fw2_ending[AZ_SERVER] != RUN_FW2_KERNEL_TIMEOUT)
		c->fw2_wire = *sv;
	const struct az_fw2_interval *w = &c->fw2_wire;
	for (int side = 0; side < 2; side++) {
		const struct az_fw2_interval *iv = side == AZ_SERVER ? w : &c->fw2[side];
		enum run_fw2_end e = (enum run_fw2_end)iv->ending;
		/* the client's RST at or after the runner's clean-up RST is
		 * that RST: the client sent none of its own before (it would
		 * have closed the connection, and then the runner sends none).
		 * The client-side table names endings by role (analyzer.h):
		 * there the holder's own RST, the client's, is "server_rst". */
		enum run_fw2_end client_rst = side == AZ_SERVER ? RUN_FW2_CLIENT_RST
		                                                : RUN_FW2_SERVER_RST;
		if (iv->present && e == client_rst && c->cleanup_rst &&
		    iv->end >= c->cleanup_rst_time - CLEANUP_SLACK)
			e = RUN_FW2_LAB_CLEANUP;
		c->fw2_ending[side] = e;
	}
	*sv = *w;
	/* Nothing on the wire ended it before the kernel showed the socket
	 * gone: an orphan in FIN_WAIT_2 is a timewait socket with substate
	 * FIN_WAIT2 that dies silently after tcp_fin_timeout
	 * (net/ipv4/tcp.c tcp_close -> tcp_time_wait(sk, TCP_FIN_WAIT2, tmo);
	 * a FIN or RST from the client would have been captured first). */
	if (w->present && c->kfw2_seen && c->kfw2_gone > 0 && c->kfw2_gone < w->end &&
	    c->kfw2_gone > w->start) {
		sv->end = c->kfw2_gone;
		sv->ending = AZ_FW2_CAPTURE_END; /* az's enum has no such ending */
		c->fw2_ending[AZ_SERVER] = RUN_FW2_KERNEL_TIMEOUT;
	}
	if (!c->kfw2_seen) {
		*kernel_seconds = -1;
		return;
	}
	double start = w->present && w->start <= c->kfw2_first ? w->start : c->kfw2_first;
	double end = c->kfw2_gone > 0 ? c->kfw2_gone : c->kfw2_last;
	*kernel_seconds = end > start ? end - start : 0;
}

/* ---- tallies -------------------------------------------------------------- */

struct fw2_ev {
	double t;
	int d;
};

static int cmp_fw2_ev(const void *a, const void *b)
{
	const struct fw2_ev *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->d - y->d; /* ends before starts at the same instant */
}

/* FIN_WAIT_2 aggregate of one side over a scenario's connections. */
static int fw2_sweep(struct run_scenario *rs, int side)
{
	struct run_fw2 *f = &rs->fw2[side];
	memset(f, 0, sizeof *f);
	memset(rs->fw2_endings[side], 0, sizeof rs->fw2_endings[side]);
	struct fw2_ev *ev = malloc(2 * (rs->n_conns + 1) * sizeof *ev);
	if (!ev)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < rs->n_conns; i++) {
		const struct run_conn *c = &rs->conns[i];
		const struct az_fw2_interval *iv = &c->fw2[side];
		if (!c->az_id || !iv->present)
			continue;
		f->count++;
		if ((unsigned)c->fw2_ending[side] < RUN_NFW2_ENDS)
			rs->fw2_endings[side][c->fw2_ending[side]]++;
		if (iv->end - iv->start > f->max)
			f->max = iv->end - iv->start;
		ev[n++] = (struct fw2_ev){ iv->start, +1 };
		ev[n++] = (struct fw2_ev){ iv->end, -1 };
	}
	qsort(ev, n, sizeof *ev, cmp_fw2_ev);
	int64_t cur = 0;
	for (size_t i = 0; i < n; i++) {
		cur += ev[i].d;
		/* at equal times, judge after the last event of the instant */
		if (i + 1 < n && ev[i + 1].t == ev[i].t)
			continue;
		if (cur > (int64_t)f->peak) {
			f->peak = (uint32_t)cur;
			f->peak_time = ev[i].t;
		}
	}
	free(ev);
	return 0;
}

int run_tally(struct run_scenario *rs)
{
	rs->lingered = rs->linger_bytes = 0;
	rs->linger_max = 0;
	memset(rs->linger_ended_by, 0, sizeof rs->linger_ended_by);
	rs->kernel_fw2_count = 0;
	rs->kernel_fw2_max = 0;
	rs->client_aborts = 0;
	for (size_t i = 0; i < rs->n_conns; i++) {
		struct run_conn *c = &rs->conns[i];
		/* the runner resets only what the client had not reset */
		rs->client_aborts += c->az_id && c->client_rst && !c->cleanup_rst;
		double ks;
		run_kernel_fw2(c, &ks);
		if (ks >= 0) {
			rs->kernel_fw2_count++;
			if (ks > rs->kernel_fw2_max)
				rs->kernel_fw2_max = ks;
		}
		if (!c->az_id || !c->lingered)
			continue;
		rs->lingered++;
		rs->linger_bytes += c->linger_bytes;
		if (c->linger_seconds > rs->linger_max)
			rs->linger_max = c->linger_seconds;
		if ((unsigned)c->linger_end < AZ_NLINGER_ENDS)
			rs->linger_ended_by[c->linger_end]++;
	}
	if (fw2_sweep(rs, AZ_SERVER) < 0 || fw2_sweep(rs, AZ_CLIENT) < 0)
		return -1;
	return 0;
}

/* ---- the analysis ------------------------------------------------------- */

/* Take a matched analyzer connection into c; find its clean-up RST. */
static void take_conn(struct run_conn *c, const struct seen_conn *sc)
{
	c->az_id = sc->id;
	c->kind = sc->kind;
	c->initiator = sc->initiator;
	c->client_end = sc->client_end;
	c->server_end = sc->server_end;
	c->lingered = sc->lingered;
	c->linger_seconds = sc->linger_seconds;
	c->linger_bytes = sc->linger_bytes;
	c->linger_end = sc->linger_end;
	c->fw2[0] = sc->fw2[0];
	c->fw2[1] = sc->fw2[1];
	c->fw2_ending[0] = (enum run_fw2_end)sc->fw2[0].ending;
	c->fw2_ending[1] = (enum run_fw2_end)sc->fw2[1].ending;
	c->client_rst = sc->c2s_rst;
	if (c->cleanup_rst && sc->c2s_rst &&
	    ((uint32_t)(c->cleanup_rst_seq - sc->c2s_isn) == sc->c2s_rst_seq ||
	     sc->c2s_rst_time >= c->cleanup_rst_time - CLEANUP_SLACK))
		c->cleanup_rst_packet = sc->c2s_rst_packet;
}

/* A client program's connections are whatever the capture shows from the
 * kernel clients' address within the scenario's window (the program
 * chose them): each becomes one of the scenario's connections, so the
 * findings, lingering and FIN_WAIT_2 tallies cover them as any other. */
static int take_program_conns(struct run_scenario *rs, const struct collect *col)
{
	size_t n = 0;
	for (size_t j = 0; j < col->n; j++)
		n += col->v[j].kaddr && col->v[j].first_time >= rs->start - MATCH_SLACK &&
		     col->v[j].first_time <= rs->end;
	if (!n)
		return 0;
	struct run_conn *nv = realloc(rs->conns, n * sizeof *nv);
	if (!nv)
		return -1;
	rs->conns = nv;
	memset(nv, 0, n * sizeof *nv);
	rs->n_conns = 0;
	for (size_t j = 0; j < col->n; j++) {
		const struct seen_conn *sc = &col->v[j];
		if (!sc->kaddr || sc->first_time < rs->start - MATCH_SLACK ||
		    sc->first_time > rs->end)
			continue;
		struct run_conn *c = &rs->conns[rs->n_conns];
		c->index = (uint32_t)rs->n_conns++;
		c->port = sc->port;
		c->connected = true;
		c->close_reason = "";
		c->state = "";
	}
	return 0;
}

/* Take finding i into its scenario; lab artefacts are listed only. */
static int take_finding(struct run_outcome *o, struct run_scenario *rs,
                        const struct run_conn *c, size_t i)
{
	const struct az_rst_finding *f = az_finding(o->az, i);
	struct run_finding *nv = realloc(rs->findings, (rs->n_findings + 1) * sizeof *nv);
	if (!nv)
		return -1;
	rs->findings = nv;
	struct run_finding *rf = &rs->findings[rs->n_findings++];
	rf->index = i;
	rf->tls_response = 0;
	rf->tls_status = 0;
	if (c->tls_version[0] && f->sender == AZ_SERVER) {
		/* the first response with wire bytes in the at-risk range */
		uint64_t lo = f->data_end - f->bytes_at_risk_at_server, hi = f->data_end;
		for (uint32_t k = 0; k < c->n_records && k < RSP_MAX_RECORDS; k++) {
			const struct rsp_record *r = &c->rec[k];
			if ((r->wire_end == 0 || r->wire_end > lo) && r->wire_start < hi) {
				rf->tls_response = k + 1;
				rf->tls_status = r->status;
				break;
			}
		}
	}
	/* matched by packet, else by time (a connection the runner reset had
	 * sent no RST of its own: that would have closed it) */
	rf->lab_artefact = f->sender == AZ_CLIENT && c->cleanup_rst &&
	                   (c->cleanup_rst_packet ? f->rst_packet == c->cleanup_rst_packet
	                    : f->rst_time >= c->cleanup_rst_time - CLEANUP_SLACK);
	if (rf->lab_artefact) {
		rs->lab_artefacts++;
		return 0;
	}
	int side = f->sender == AZ_SERVER ? AZ_SERVER : AZ_CLIENT;
	rs->rst_before_ack[side]++;
	if (f->bytes_at_risk_at_server > rs->bytes_at_risk_max[side])
		rs->bytes_at_risk_max[side] = f->bytes_at_risk_at_server;
	if (side == AZ_SERVER && (unsigned)f->impact < AZ_NIMPACTS)
		rs->client_impact[f->impact]++;
	return 0;
}

int run_analyze(struct run_outcome *o, const struct lladdr *raw, uint16_t port,
                char *err, size_t errlen)
{
	char msg[256];
	int rc = -1;
	struct collect col = { .raw = *raw, .port = port };
	col.has_kaddr = o->client_addr[0] && inet_pton(AF_INET, o->client_addr, &col.kaddr) == 1;
	col.has_daddr = o->kdelay_addr[0] && inet_pton(AF_INET, o->kdelay_addr, &col.daddr) == 1;
	struct cap *cap = NULL;
	int64_t *owner = NULL;   /* az id -> scenario index */
	size_t *owner_conn = NULL;

	struct az_config ac;
	memset(&ac, 0, sizeof ac);
	ac.server_ports = &port;
	ac.n_server_ports = 1;
	ac.on_conn = on_conn;
	ac.arg = &col;
	ac.max_series = MAX_SERIES;
	/* the key log the TLS client wrote: the analyzer decrypts the
	 * capture with it (a key log it cannot read leaves the records
	 * undecrypted: the lab's own decrypted view still names responses) */
	if (o->keylog_path && !o->tls_keys) {
		char kerr[256];
		o->tls_keys = tlskeys_load(o->keylog_path, kerr, sizeof kerr);
	}
	ac.tls_keys = o->tls_keys;
	o->az = az_new(&ac);
	if (!o->az)
		goto oom;
	/* o->capture_read "-": the capture was opened before privileges were
	 * dropped and waits on standard input (reports/privsep.h) */
	cap = cap_open_offline(o->capture_read ? o->capture_read : o->capture_path,
	                       msg, sizeof msg);
	if (!cap) {
		if (o->capture_read)
			snprintf(err, errlen, "%s: %s", o->capture_path, msg);
		else
			snprintf(err, errlen, "%s", msg);
		goto out;
	}
	snprintf(o->link_type, sizeof o->link_type, "%s", cap_datalink_name(cap));
	if (cap_run(cap, o->az, NULL, msg, sizeof msg) < 0)
		snprintf(o->read_error, sizeof o->read_error, "%s", msg);
	az_finish(o->az);
	if (col.oom)
		goto oom;
	qsort(col.v, col.n, sizeof *col.v, cmp_seen);

	uint64_t max_id = 0;
	for (size_t i = 0; i < col.n; i++)
		if (col.v[i].id > max_id)
			max_id = col.v[i].id;
	owner = malloc((max_id + 1) * sizeof *owner);
	owner_conn = malloc((max_id + 1) * sizeof *owner_conn);
	if (!owner || !owner_conn)
		goto oom;
	for (uint64_t i = 0; i <= max_id; i++)
		owner[i] = -1;

	size_t n_cleanup = 0;
	for (size_t s = 0; s < o->n_scenarios; s++) {
		struct run_scenario *rs = &o->scenarios[s];
		if (rs->client == SCN_CLIENT_COMMAND && take_program_conns(rs, &col) < 0)
			goto oom;
		for (size_t i = 0; i < rs->n_conns; i++) {
			struct run_conn *c = &rs->conns[i];
			if (!c->port)
				continue;
			/* first entry with this port (binary search), then by time */
			size_t lo = 0, hi = col.n;
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				if (col.v[mid].port < c->port)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (size_t j = lo; j < col.n && col.v[j].port == c->port; j++) {
				const struct seen_conn *sc = &col.v[j];
				if (sc->first_time < rs->start - MATCH_SLACK ||
				    sc->first_time > rs->end + MATCH_SLACK || owner[sc->id] >= 0)
					continue;
				take_conn(c, sc);
				owner[sc->id] = (int64_t)s;
				owner_conn[sc->id] = i;
				break;
			}
			n_cleanup += c->cleanup_rst_packet != 0;
		}
		if (run_tally(rs) < 0)
			goto oom;
		o->fin_wait_2_timeouts += rs->fw2_endings[AZ_SERVER][RUN_FW2_KERNEL_TIMEOUT];
	}

	o->cleanup_rst_packets = malloc((n_cleanup ? n_cleanup : 1) * sizeof *o->cleanup_rst_packets);
	if (!o->cleanup_rst_packets)
		goto oom;
	for (size_t s = 0; s < o->n_scenarios; s++)
		for (size_t i = 0; i < o->scenarios[s].n_conns; i++)
			if (o->scenarios[s].conns[i].cleanup_rst_packet)
				o->cleanup_rst_packets[o->n_cleanup_rst_packets++] =
					o->scenarios[s].conns[i].cleanup_rst_packet;
	qsort(o->cleanup_rst_packets, o->n_cleanup_rst_packets, sizeof (uint64_t), cmp_u64);

	size_t nf = az_n_findings(o->az);
	for (size_t i = 0; i < nf; i++) {
		const struct az_rst_finding *f = az_finding(o->az, i);
		if (f->conn_id > max_id || owner[f->conn_id] < 0)
			continue;
		struct run_scenario *rs = &o->scenarios[owner[f->conn_id]];
		if (take_finding(o, rs, &rs->conns[owner_conn[f->conn_id]], i) < 0)
			goto oom;
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "analyzer: out of memory");
out:
	free(owner);
	free(owner_conn);
	free(col.v);
	if (cap)
		cap_close(cap);
	return rc;
}
