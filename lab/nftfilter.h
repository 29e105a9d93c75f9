/*
 * nftfilter.h - the one nftables table `run --target ... --filter-kernel-rst`
 * installs: it drops the RSTs this host's kernel sends, from the raw
 * client's source address and reserved ports, to exactly the target, and
 * nothing else.
 *
 * Why: outside the lab the raw client speaks from an address the host's
 * kernel owns (lab/target.h), and that kernel, finding no socket for the
 * server's packets to the raw client's ports, answers each with a RST
 * (tcp_v4_send_reset). One such RST reaching the server ends the
 * conversation and spoils the experiment.
 *
 * The table, family ip (ip6 for an IPv6 target, with ip6 saddr/daddr), is named "ll<pid>rst" (the pid of the run; the
 * lab's naming, so `lingerlab lab clean` can tell a dead run's table from
 * a live one's) and holds one chain on the output hook with one rule:
 *
 *   ip saddr SRC ip daddr DST tcp sport LO-HI tcp dport PORT
 *     tcp flags & rst == rst meta mark != MARK counter drop
 *
 * The raw client's own RSTs (an `abort`, the clean-up after a scenario)
 * pass the same hook, since a raw socket's packets go through LOCAL_OUT
 * too: the raw client marks its socket with SO_MARK MARK
 * (NFTFILTER_MARK), and the rule lets marked packets by. The table's
 * comment records the reserved port range, so `lab clean` can give a dead
 * run's ports back too.
 *
 * What the rule cannot touch, by construction: any packet without RST;
 * any packet not from SRC; any source port outside LO-HI (reserved: no
 * kernel socket can hold one); any destination but DST:PORT; any input or
 * forwarded packet (output hook only); the raw client's own packets. The
 * policy of the chain is accept, and a table of its own never reorders or
 * edits anyone else's rules.
 *
 * libnftables (the library behind `nft`) applies the commands in one
 * transaction; its error text ends up in err.
 *
 * Status: 0, or -1 with a one-line "what: detail" message; nothing prints.
 */
#ifndef LL_LAB_NFTFILTER_H
#define LL_LAB_NFTFILTER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lab/addr.h"

/* SO_MARK of the raw client's socket ("LLRT"); only the rule reads it. */
#define NFTFILTER_MARK 0x4c4c5254u

struct nftfilter_spec {
	pid_t owner;                 /* names the table; 0: getpid() */
	struct lladdr src;           /* the raw client's address */
	uint16_t sport_lo, sport_hi; /* its reserved ports */
	struct lladdr dst;           /* the target, of src's family */
	uint16_t dport;
};

/* "ll<pid>rst" into buf (>= 32 bytes). */
void nftfilter_table_name(pid_t owner, char *buf, size_t buflen);

/* The rule alone, as nft lists it (without the counter's values). */
void nftfilter_rule(const struct nftfilter_spec *s, char *buf, size_t buflen);

/* Table, chain and rule as the user reads it (see above), one line. */
void nftfilter_describe(const struct nftfilter_spec *s, char *buf, size_t buflen);

/* Install the table (replacing a table of the same name: only a dead run
 * with our pid could have left it). with_rule false (--allow-kernel-rst):
 * the table and its comment only, no chain, so it filters nothing and
 * only records the reserved ports for `lab clean`. */
int nftfilter_install(const struct nftfilter_spec *s, bool with_rule, char *err, size_t errlen);

/*
 * Read the rule's counter (packets dropped so far) into *dropped. Returns
 * 0, or -1 when the table is gone or cannot be read.
 */
int nftfilter_dropped(pid_t owner, uint64_t *dropped, char *err, size_t errlen);

/* Delete the table. A table already gone is not an error. */
int nftfilter_remove(pid_t owner, char *err, size_t errlen);

/*
 * `lab clean`: delete every table "ll<pid>rst" (family ip) whose pid is
 * not a live process, and give its reserved ports back (from its
 * comment). report gets one line per table ("removed nftables table ip
 * ll1234rst; ports 40000-40063 no longer reserved\n"); *removed counts
 * them. Returns 0 (also when nftables cannot be listed at all: then no
 * run can have made a table), or -1 (err names the first failure; the
 * others are still tried).
 */
int nftfilter_clean_stale(char *report, size_t reportlen, int *removed,
                          char *err, size_t errlen);

#endif
