/*
 * runtarget.c - plan, apply and undo the host changes of a run against a
 * target outside the lab (see runtarget.h).
 */
#include "lab/runtarget.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/errmsg.h"
#include "lab/sockdiag.h"

/* Fewer ports than this are never reserved: room for a scenario's
 * connections and a few spare. */
#define MIN_PORTS 64

static void say(const struct run_config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(const struct run_config *cfg, const char *fmt, ...)
{
	char line[768];
	va_list ap;

	if (!cfg->say)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	cfg->say(cfg->say_arg, line);
}

static void mark_busy(const struct sockdiag_sock *k, void *arg)
{
	target_ports_add(arg, k->local_port, k->local_port);
}

/* Every local port a TCP socket of this namespace holds now, either
 * family (one port space): a reservation keeps new sockets off the
 * client's ports, not the ones already there. NULL with err on failure. */
static struct target_portset *busy_ports(char *err, size_t errlen)
{
	struct target_portset *busy = calloc(1, sizeof *busy);
	unsigned counts[SOCKDIAG_MAX_STATES];
	struct sockdiag *sd;

	if (!busy) {
		errmsg_set(err, errlen, "ports: out of memory");
		return NULL;
	}
	sd = sockdiag_open(err, errlen);
	if (!sd || sockdiag_sample_each(sd, counts, 0, ~0u, mark_busy, busy, err, errlen) < 0) {
		sockdiag_close(sd);
		free(busy);
		return NULL;
	}
	sockdiag_close(sd);
	return busy;
}

enum run_status run_remote_plan(const struct run_config *cfg,
                                struct scn_scenario *const *scns, size_t n,
                                struct run_remote *rr, char *err, size_t errlen)
{
	const struct run_target *t = &cfg->target;
	char src[LLADDR_STRLEN], dst[LLADDR_STRLEN + 2], rule[512];
	uint32_t conns = 0;
	struct lladdr a;

	memset(rr, 0, sizeof *rr);
	for (size_t i = 0; i < n; i++) {
		conns += scns[i]->total_connections;
		if (scns[i]->tcp_fin_timeout) {
			errmsg_set(err, errlen,
			           "--target: scenario %s sets tcp_fin_timeout, a sysctl of the server's host; "
			           "--target never changes it (run the server in the lab with --serve)",
			           scns[i]->name);
			return RUN_USAGE;
		}
		/* a kernel client's sockets live in the lab's client namespace,
		 * which a --target run has none of (it used to fail late, exit 3:
		 * "namespace: invalid name ''") */
		if (scns[i]->client == SCN_CLIENT_KERNEL) {
			errmsg_set(err, errlen,
			           "--target: scenario %s uses `client kernel`, the lab's client namespace; "
			           "--target has none (run the server in the lab with --serve)",
			           scns[i]->name);
			return RUN_USAGE;
		}
	}
	if (t->port == 0) {
		errmsg_set(err, errlen, "--target: no port");
		return RUN_USAGE;
	}
	if (target_resolve(t->host, &a, err, errlen) < 0)
		return RUN_USAGE;
	if (target_route(&a, &rr->route, err, errlen) < 0)
		return RUN_USAGE;
	struct target_portset *busy = busy_ports(err, errlen);
	if (!busy)
		return RUN_ENV;
	int picked = target_ports_pick(conns > MIN_PORTS ? conns : MIN_PORTS, t->port,
	                               (uint32_t)getpid(), busy, &rr->filter.sport_lo,
	                               &rr->filter.sport_hi, err, errlen);
	free(busy);
	if (picked < 0)
		return RUN_USAGE;
	rr->filter.owner = getpid();
	rr->filter.src = rr->route.src;
	rr->filter.dst = a;
	rr->filter.dport = t->port;
	if (cfg->filter_kernel_rst || cfg->allow_kernel_rst)
		return RUN_OK;
	lladdr_str(&rr->route.src, src, sizeof src);
	if (a.af == 6) {
		char b[LLADDR_STRLEN];
		snprintf(dst, sizeof dst, "[%s]", lladdr_str(&a, b, sizeof b));
	} else {
		lladdr_str(&a, dst, sizeof dst);
	}
	nftfilter_describe(&rr->filter, rule, sizeof rule);
	errmsg_set(err, errlen,
	           "--target %s:%u: the raw client would speak from %s, an address this host's kernel "
	           "owns, and that kernel answers the server's packets with RSTs of its own; "
	           "--filter-kernel-rst drops exactly those, for this run only, with nftables %s, "
	           "and reserves ports %u-%u (net.ipv4.ip_local_reserved_ports)",
	           dst, t->port, src, rule, rr->filter.sport_lo, rr->filter.sport_hi);
	return RUN_UNSUPPORTED;
}

enum run_status run_remote_apply(const struct run_config *cfg, struct run_remote *rr,
                                 char *err, size_t errlen)
{
	char before[256], after[256], rule[512];

	/* The table first: its comment names the ports, so `lab clean` can
	 * give them back if this process dies before it does. Without the
	 * filter the table has no chain: it records the ports and does
	 * nothing else. */
	if (nftfilter_install(&rr->filter, cfg->filter_kernel_rst, err, errlen) < 0)
		return RUN_ENV;
	rr->table_installed = true;
	if (cfg->filter_kernel_rst) {
		nftfilter_describe(&rr->filter, rule, sizeof rule);
		say(cfg, "installed nftables %s", rule);
	} else {
		nftfilter_table_name(rr->filter.owner, rule, sizeof rule);
		say(cfg, "installed nftables table %s %s without a chain (it filters nothing; it "
		    "records the reserved ports for lingerlab lab clean)",
		    rr->filter.src.af == 6 ? "ip6" : "ip", rule);
	}
	if (target_ports_reserve(rr->filter.sport_lo, rr->filter.sport_hi, before, sizeof before,
	                         after, sizeof after, err, errlen) < 0) {
		char e2[256];
		(void)run_remote_undo(cfg, rr, e2, sizeof e2);
		return RUN_ENV;
	}
	rr->ports_reserved = true;
	say(cfg, "reserved ports %u-%u (net.ipv4.ip_local_reserved_ports: '%s' -> '%s')",
	    rr->filter.sport_lo, rr->filter.sport_hi, before, after);
	if (!cfg->filter_kernel_rst)
		say(cfg, "no RST filter (--allow-kernel-rst): the host kernel's RSTs reach the target "
		    "and the leak check fails the run");
	return RUN_OK;
}

int run_remote_undo(const struct run_config *cfg, struct run_remote *rr,
                    char *err, size_t errlen)
{
	char name[32], after[256], msg[256];
	int rc = 0;

	/* The ports first, the table last (the reverse of apply). */
	if (rr->ports_reserved) {
		if (target_ports_release(rr->filter.sport_lo, rr->filter.sport_hi, after, sizeof after,
		                         msg, sizeof msg) < 0) {
			errmsg_set(err, errlen, "%s", msg);
			rc = -1;
		} else {
			rr->ports_reserved = false;
			say(cfg, "released ports %u-%u (net.ipv4.ip_local_reserved_ports: '%s')",
			    rr->filter.sport_lo, rr->filter.sport_hi, after);
		}
	}
	if (rr->table_installed) {
		nftfilter_table_name(rr->filter.owner, name, sizeof name);
		if (nftfilter_dropped(rr->filter.owner, &rr->dropped, msg, sizeof msg) < 0)
			rr->dropped = 0;
		if (nftfilter_remove(rr->filter.owner, msg, sizeof msg) < 0) {
			if (rc == 0)
				errmsg_set(err, errlen, "%s (lingerlab lab clean removes it)", msg);
			rc = -1;
		} else {
			rr->table_installed = false;
			if (cfg->filter_kernel_rst)
				say(cfg, "removed nftables table %s %s (it dropped %llu RST%s)",
				    rr->filter.src.af == 6 ? "ip6" : "ip", name,
				    (unsigned long long)rr->dropped, rr->dropped == 1 ? "" : "s");
			else
				say(cfg, "removed nftables table %s %s",
				    rr->filter.src.af == 6 ? "ip6" : "ip", name);
		}
	}
	return rc;
}
