/*
 * rawtcp.c - userspace TCP client: libnet out, libpcap in (see rawtcp.h).
 * This room: the client itself (open, free, the event ring, stats, names)
 * and the event loop that runs what is due and reads the wire. The other
 * rooms are listed in lab/rawtcp_int.h.
 */
#include "lab/rawtcp_int.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lab/earlyrx.h"
#include "lab/errmsg.h"

uint64_t rawtcp_now_us(void)
{
	struct timespec ts;
	/* CLOCK_MONOTONIC cannot fail with a valid pointer; keep 0 if it did. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int rawtcp_realtime(int prio, char *err, size_t errlen)
{
	struct sched_param sp = { .sched_priority = prio };
	if (prio < 1 || prio > 99) {
		errmsg_set(err, errlen, "rawtcp_realtime: priority %d is not in 1..99", prio);
		return -1;
	}
	/* Locked first: a page fault in the loop would be a tail of its own. */
	if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
		errmsg_set(err, errlen, "rawtcp_realtime: mlockall: %s", strerror(errno));
		return -1;
	}
	if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) {
		errmsg_set(err, errlen, "rawtcp_realtime: SCHED_FIFO %d: %s", prio, strerror(errno));
		(void)munlockall();
		return -1;
	}
	return 0;
}

void rawtcp_config_init(struct rawtcp_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->port_min = 20000;
	cfg->port_max = 60999;
	cfg->max_conns = 60000;
	cfg->pcap_buffer_bytes = 32u << 20;
	cfg->max_events = 1u << 20;
}

static int parse_addr(const char *what, const char *s, struct lladdr *out, char *err, size_t errlen)
{
	if (!s) {
		errmsg_set(err, errlen, "rawtcp_open: %s: missing", what);
		return -1;
	}
	if (lladdr_parse(s, out, NULL, 0) != 0) {
		errmsg_set(err, errlen, "rawtcp_open: %s: not an IPv4 or IPv6 address: %s", what, s);
		return -1;
	}
	return 0;
}

struct rawtcp *rawtcp_open(const struct rawtcp_config *cfg, char *err, size_t errlen)
{
	struct rawtcp *c = calloc(1, sizeof *c);
	if (!c) {
		errmsg_set(err, errlen, "rawtcp_open: out of memory");
		return NULL;
	}
	c->pcap_fd = -1;
	c->early_fd = -1;
	theap_init(&c->timers);
	theap_init(&c->delayq);
	theap_init(&c->utimers);
	c->offline = cfg->iface == NULL;
	if (parse_addr("local_addr", cfg->local_addr, &c->local, err, errlen) != 0 ||
	    parse_addr("peer_addr", cfg->peer_addr, &c->peer, err, errlen) != 0)
		goto err;
	c->nlocal = cfg->local_addr_count ? cfg->local_addr_count : 1;
	if (c->nlocal > RT_MAX_LOCAL || (c->nlocal > 1 && cfg->peer_port)) {
		errmsg_set(err, errlen, "rawtcp_open: local_addr_count: %u is not in 1..%d%s",
		           cfg->local_addr_count, RT_MAX_LOCAL, cfg->peer_port ? " (a target takes 1)" : "");
		goto err;
	}
	if (tail32(c->local.af, c->local.b) > UINT32_MAX - (c->nlocal - 1u)) {
		errmsg_set(err, errlen, "rawtcp_open: local_addr_count: %s + %u wraps around",
		           cfg->local_addr, c->nlocal - 1u);
		goto err;
	}
	if (c->local.af != c->peer.af) {
		errmsg_set(err, errlen, "rawtcp_open: local_addr %s and peer_addr %s are not of one family",
		           cfg->local_addr, cfg->peer_addr);
		goto err;
	}
	if (cfg->port_min == 0 || cfg->port_min > cfg->port_max) {
		errmsg_set(err, errlen, "rawtcp_open: port range %u..%u is empty or starts at 0",
		       cfg->port_min, cfg->port_max);
		goto err;
	}
	if (!c->offline && strlen(cfg->iface) >= sizeof c->iface) {
		errmsg_set(err, errlen, "rawtcp_open: iface: name too long: %s", cfg->iface);
		goto err;
	}
	if (!c->offline)
		snprintf(c->iface, sizeof c->iface, "%s", cfg->iface);
	c->rtt_us = cfg->rtt_us;
	c->port_min = cfg->port_min;
	c->port_max = cfg->port_max;
	c->peer_port = cfg->peer_port;
	c->mss_default = RT_MSS_DEFAULT(c->local.af);
	c->max_conns = cfg->max_conns ? cfg->max_conns : 60000;
	c->max_events = cfg->max_events ? cfg->max_events : 1u << 20;
	c->out = cfg->out;
	c->out_arg = cfg->out_arg;
	c->rng = cfg->seed;
	if (c->rng == 0 && getrandom(&c->rng, sizeof c->rng, 0) != (ssize_t)sizeof c->rng)
		c->rng = rawtcp_now_us() ^ ((uint64_t)getpid() << 32);
	if (c->rng == 0)
		c->rng = 0x9E3779B97F4A7C15ull;
	c->next_port = (uint16_t)(c->port_min + rng_next(&c->rng) % ((uint32_t)c->port_max - c->port_min + 1));
	c->next_slot = (uint32_t)(c->next_port - c->port_min);
	c->ip_id = (uint16_t)rng_next(&c->rng);
	c->ports = calloc((size_t)RT_NPORTS * c->nlocal, sizeof *c->ports);
	c->rst_pending = calloc((size_t)RT_NPORTS * c->nlocal, 1);
	if (!c->ports || !c->rst_pending) {
		errmsg_set(err, errlen, "rawtcp_open: out of memory");
		goto err;
	}
	if (c->offline) {
		char lerr[LIBNET_ERRBUF_SIZE] = "";
		c->ln = libnet_init(LIBNET_NONE, NULL, lerr);
		if (!c->ln) {
			errmsg_set(err, errlen, "rawtcp_open: libnet: %s", lerr);
			goto err;
		}
	} else if (rt_open_live(c, cfg, err, errlen) != 0) {
		goto err;
	}
	return c;
err:
	rawtcp_free(c);
	return NULL;
}

void rawtcp_free(struct rawtcp *c)
{
	struct theap_node *n;
	if (!c)
		return;
	rawtcp_dump_close(c);
	if (c->pcap) {
		pcap_close(c->pcap);
		c->pcap = NULL;
	}
	if (c->early_fd >= 0)
		close(c->early_fd);
	c->early_fd = -1;
	free(c->early_buf);
	c->early_buf = NULL;
	if (c->ln) {
		libnet_destroy(c->ln);
		c->ln = NULL;
	}
	/* Unlink connection timer nodes before the connections go. */
	theap_fini(&c->timers);
	while (c->conns) {
		struct rawtcp_conn *k = c->conns;
		c->conns = k->next;
		rt_conn_free(k);
	}
	while ((n = theap_pop(&c->delayq)) != NULL)
		pkt_put(c, PKT_OF(n));
	for (int i = 0; i < 3; i++) {
		while (c->free_pkts[i]) {
			struct pkt *p = c->free_pkts[i];
			c->free_pkts[i] = p->next_free;
			free(p);
		}
	}
	while ((n = theap_pop(&c->utimers)) != NULL)
		free(UTIMER_OF(n));
	theap_fini(&c->delayq);
	theap_fini(&c->utimers);
	free(c->ev);
	free(c->ports);
	free(c->rst_pending);
	free(c);
}

/* ---- events --------------------------------------------------------- */

void rt_push_event(struct rawtcp *c, enum rawtcp_event_type type, struct rawtcp_conn *k,
                   uint64_t now, uint64_t bytes, uint64_t cookie)
{
	struct rawtcp_event *e;
	if (c->ev_len >= c->max_events) {
		c->st.events_dropped++;
		return;
	}
	if (c->ev_len == c->ev_cap) {
		size_t ncap = c->ev_cap ? c->ev_cap * 2 : 256;
		struct rawtcp_event *nev;
		if (ncap > c->max_events)
			ncap = c->max_events;
		nev = malloc(ncap * sizeof *nev);
		if (!nev) {
			c->st.events_dropped++;
			return;
		}
		/* Unroll the ring into the new array. */
		for (size_t i = 0; i < c->ev_len; i++)
			nev[i] = c->ev[(c->ev_head + i) % c->ev_cap];
		free(c->ev);
		c->ev = nev;
		c->ev_cap = ncap;
		c->ev_head = 0;
	}
	e = &c->ev[(c->ev_head + c->ev_len) % c->ev_cap];
	memset(e, 0, sizeof *e);
	e->type = type;
	e->conn = k;
	e->user = k ? k->o.user : NULL;
	e->time_us = now;
	e->bytes = bytes;
	e->reason = k ? k->reason : RAWTCP_CLOSE_NONE;
	e->cookie = cookie;
	c->ev_len++;
}

bool rawtcp_next_event(struct rawtcp *c, struct rawtcp_event *ev)
{
	while (c->ev_len > 0) {
		struct rawtcp_event *e = &c->ev[c->ev_head];
		c->ev_head = (c->ev_head + 1) % c->ev_cap;
		c->ev_len--;
		if (e->type == 0)
			continue;
		*ev = *e;
		return true;
	}
	return false;
}

/* ---- the event loop ------------------------------------------------- */

/* Run what is due: held packets, connection timers, runner timers,
 * earliest first, at most RT_DUE_BUDGET of them. Returns true if more are
 * due: the loop then reads the capture and comes back without sleeping.
 * Why a budget: the capture ring retires a block every millisecond even if
 * nobody reads it, so a long burst of injections (20000 RSTs at the end of
 * a bench) would exhaust the ring and drop frames. */
static bool due_now(const struct rawtcp *c, uint64_t now)
{
	const struct theap_node *h[3] = { theap_top(&c->delayq), theap_top(&c->timers),
	                                   theap_top(&c->utimers) };
	for (int i = 0; i < 3; i++)
		if (h[i] && h[i]->when <= now)
			return true;
	return false;
}

static bool run_due(struct rawtcp *c, uint64_t now)
{
	for (unsigned budget = RT_DUE_BUDGET; budget > 0; budget--) {
		struct theap_node *a = theap_top(&c->delayq);
		struct theap_node *b = theap_top(&c->timers);
		struct theap_node *t = theap_top(&c->utimers);
		struct theap_node *best = NULL;
		if (a && a->when <= now)
			best = a;
		if (b && b->when <= now && (!best || b->when < best->when))
			best = b;
		if (t && t->when <= now && (!best || t->when < best->when))
			best = t;
		if (!best)
			return false;
		if (best == a) {
			struct pkt *p = PKT_OF(theap_pop(&c->delayq));
			if (p->dir == PKT_OUT) {
				rt_inject(c, p);
			} else {
				struct rawtcp_conn *k = conn_at(c, p->u.in.af, p->u.in.dst, p->u.in.dport);
				/* Processed "at" its scheduled release time: what it causes
				 * is held rtt/2 from then, so the loop's wake-up latency
				 * and a burst ahead of it do not stretch the emulated RTT. */
				if (!k)
					c->st.no_conn++;
				else if (rt_in_segment(k, p))
					continue; /* held back (reorder) */
			}
			pkt_put(c, p);
		} else if (best == b) {
			struct rawtcp_conn *k = (struct rawtcp_conn *)(void *)
				((char *)theap_pop(&c->timers) - offsetof(struct rawtcp_conn, tnode));
			rt_conn_timers(k, now);
		} else {
			struct utimer *u = UTIMER_OF(theap_pop(&c->utimers));
			rt_push_event(c, RAWTCP_EV_TIMER, NULL, now, 0, u->cookie);
			free(u);
		}
	}
	return due_now(c, now);
}

int rawtcp_run(struct rawtcp *c, uint64_t deadline_us, rawtcp_stop_fn stop, void *arg,
               char *err, size_t errlen)
{
	for (;;) {
		uint64_t now = rawtcp_now_us(), next = deadline_us;
		struct theap_node *heads[3];
		struct pollfd pfd[2];
		struct timespec ts;
		int r;
		bool more;

		more = run_due(c, now);
		if (c->inject_fail_run >= RT_INJECT_FATAL) {
			errmsg_set(err, errlen, "rawtcp_run: inject: %s", c->inject_err);
			return -1;
		}
		if (stop && stop(c, arg))
			return 1;
		now = rawtcp_now_us();
		if (now >= deadline_us)
			return 0;
		heads[0] = theap_top(&c->delayq);
		heads[1] = theap_top(&c->timers);
		heads[2] = theap_top(&c->utimers);
		for (int i = 0; i < 3; i++)
			if (heads[i] && heads[i]->when < next)
				next = heads[i]->when;
		if (next < now || more)
			next = now;
		ts.tv_sec = (time_t)((next - now) / 1000000u);
		ts.tv_nsec = (long)((next - now) % 1000000u) * 1000;
		pfd[0].fd = c->pcap_fd;
		pfd[1].fd = c->early_fd;
		pfd[0].events = pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		r = ppoll(pfd, c->offline ? 0 : c->early_fd >= 0 ? 2 : 1, &ts, NULL);
		if (r < 0) {
			if (errno == EINTR)
				continue; /* the stop predicate sees the runner's flag */
			errmsg_set(err, errlen, "rawtcp_run: poll: %s", strerror(errno));
			return -1;
		}
		if (r > 0 && ((pfd[0].revents | pfd[1].revents) & (POLLERR | POLLNVAL))) {
			errmsg_set(err, errlen, "rawtcp_run: pcap: %s: capture descriptor failed", c->iface);
			return -1;
		}
		if (r > 0 && pfd[1].revents && rt_drain_early(c, rawtcp_now_us(), err, errlen) != 0)
			return -1;
		if (r > 0 && pfd[0].revents && rt_drain_capture(c, rawtcp_now_us(), err, errlen) != 0)
			return -1;
	}
}

void rawtcp_stats(struct rawtcp *c, struct rawtcp_stats *out)
{
	*out = c->st;
	out->delayq_len = (uint32_t)theap_len(&c->delayq);
	if (c->pcap) {
		struct pcap_stat ps;
		if (pcap_stats(c->pcap, &ps) == 0)
			out->pcap_drops = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
	}
	out->early_rx = c->early_fd >= 0;
	if (c->early_fd >= 0) {
		c->early_drops += earlyrx_drops(c->early_fd);
		out->pcap_drops += c->early_drops;
	}
}

/* ---- names ---------------------------------------------------------- */

const char *rawtcp_state_name(enum rawtcp_state s)
{
	switch (s) {
	case RAWTCP_SYN_SENT:    return "SYN_SENT";
	case RAWTCP_ESTABLISHED: return "ESTABLISHED";
	case RAWTCP_FIN_WAIT_1:  return "FIN_WAIT_1";
	case RAWTCP_FIN_WAIT_2:  return "FIN_WAIT_2";
	case RAWTCP_CLOSING:     return "CLOSING";
	case RAWTCP_TIME_WAIT:   return "TIME_WAIT";
	case RAWTCP_CLOSE_WAIT:  return "CLOSE_WAIT";
	case RAWTCP_LAST_ACK:    return "LAST_ACK";
	case RAWTCP_CLOSED:      return "CLOSED";
	}
	return "?";
}

const char *rawtcp_close_reason_name(enum rawtcp_close_reason r)
{
	switch (r) {
	case RAWTCP_CLOSE_NONE:    return "none";
	case RAWTCP_CLOSE_NORMAL:  return "normal";
	case RAWTCP_CLOSE_RESET:   return "reset";
	case RAWTCP_CLOSE_ABORTED: return "aborted";
	case RAWTCP_CLOSE_TIMEOUT: return "timeout";
	case RAWTCP_CLOSE_SILENT:  return "silent";
	}
	return "?";
}

const char *rawtcp_event_name(enum rawtcp_event_type t)
{
	switch (t) {
	case RAWTCP_EV_CONNECTED: return "connected";
	case RAWTCP_EV_DATA:      return "data";
	case RAWTCP_EV_PEER_FIN:  return "peer_fin";
	case RAWTCP_EV_PEER_RST:  return "peer_rst";
	case RAWTCP_EV_ALL_ACKED: return "all_acked";
	case RAWTCP_EV_BODY_DONE: return "body_done";
	case RAWTCP_EV_CLOSED:    return "closed";
	case RAWTCP_EV_TIMER:     return "timer";
	}
	return "?";
}
