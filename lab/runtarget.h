/*
 * runtarget.h - the runner's side of a target outside the lab (`run
 * --target ADDR:PORT`, RUN_TARGET_REMOTE): what it finds out before it
 * changes anything (plan), the two changes it makes to the host (apply),
 * and taking them back (undo), on every exit path of run_execute.
 *
 * The two changes, and nothing else (see lab/target.h, lab/nftfilter.h):
 *   1. the raw client's ports are added to net.ipv4.ip_local_reserved_ports;
 *   2. the nftables table ll<pid>rst: with cfg->filter_kernel_rst its
 *      chain and rule; without (allow_kernel_rst) only its comment, which
 *      records the ports for `lab clean` and filters nothing.
 * Each is announced through cfg->say as it is made and as it is undone,
 * e.g. "reserved ports 40000-40063 (net.ipv4.ip_local_reserved_ports:
 * '' -> '40000-40063')".
 *
 * Internal to lab/run*.c; status as run.h's enum run_status.
 */
#ifndef LL_LAB_RUNTARGET_H
#define LL_LAB_RUNTARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lab/nftfilter.h"
#include "lab/run.h"
#include "lab/target.h"

struct run_remote {
	struct target_route route;
	struct nftfilter_spec filter;  /* src, ports, dst, dport, owner */
	bool ports_reserved;
	bool table_installed;
	uint64_t dropped;              /* the rule's counter at undo */
};

/*
 * Resolve cfg->target (address, route, a free port range for conns
 * connections) into rr without changing anything. Refuses (RUN_USAGE)
 * broadcast, multicast, unspecified addresses, a target port inside the
 * range, and scenarios that set tcp_fin_timeout (a host sysctl --target
 * never touches); with neither filter_kernel_rst nor allow_kernel_rst,
 * RUN_UNSUPPORTED with what --filter-kernel-rst would install.
 */
enum run_status run_remote_plan(const struct run_config *cfg,
                                struct scn_scenario *const *scns, size_t n,
                                struct run_remote *rr, char *err, size_t errlen);

/* Reserve the ports, install the table (if asked). On failure what was
 * done is undone again. */
enum run_status run_remote_apply(const struct run_config *cfg, struct run_remote *rr,
                                 char *err, size_t errlen);

/* Read the counter, remove the table, release the ports; idempotent.
 * Returns 0, or -1 with the first failure in err (the rest is still
 * tried; `lingerlab lab clean` removes what is left). */
int run_remote_undo(const struct run_config *cfg, struct run_remote *rr,
                    char *err, size_t errlen);

#endif
