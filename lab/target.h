/*
 * target.h - a target outside the lab (`run --target ADDR:PORT`): where it
 * is, which interface and source address reach it, and the port range the
 * raw client reserves for itself while it speaks from an address this
 * host's kernel owns.
 *
 * Outside the lab the raw client cannot hide behind an address no kernel
 * owns (shared/DESIGN.md, "The lab network"): it speaks from the source
 * address the kernel's own routing picks for the target, on the interface
 * that route leaves by, and injects at the IP level (the kernel routes and
 * resolves the next hop's link address). Two settings keep the host's
 * kernel out of its way:
 *   - ports: net.ipv4.ip_local_reserved_ports gets the run's range added,
 *     so no kernel socket is ever given one of the raw client's ports
 *     (target_ports_reserve), and loses it again afterwards
 *     (target_ports_release). Both read the list, add or take away only
 *     this run's range and write it back, so two runs at once, or another
 *     tool's reservations, keep theirs.
 *   - RSTs: the kernel answers the server's packets to those ports with
 *     RSTs of its own; lab/nftfilter.h drops exactly those.
 *
 * Refused: the unspecified address (0.0.0.0/8), multicast (224.0.0.0/4),
 * the limited broadcast (255.255.255.255), the reserved 240.0.0.0/4, and
 * any address the kernel routes as broadcast (a subnet's directed
 * broadcast), multicast, unreachable, blackhole or prohibited.
 *
 * IPv4 only (IPv6 comes with `-6`).
 *
 * Status: 0, or -1 with a one-line "what: detail" message in err; nothing
 * here prints.
 */
#ifndef LL_LAB_TARGET_H
#define LL_LAB_TARGET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "lab/addr.h"

/* How this host reaches a target, as its kernel's routing says. */
struct target_route {
	struct lladdr dst;          /* the target (IPv4 or IPv6) */
	struct lladdr src;          /* the source address the kernel picks */
	struct lladdr gateway;      /* the next hop when routed (af 0: on link) */
	char iface[IF_NAMESIZE];    /* the interface packets leave by ("lo"
	                               for an address of this host) */
	int ifindex;
	bool local;                 /* the target is an address of this host
	                               (RTN_LOCAL): its sockets are ours to
	                               sample */
};

/*
 * The target's address from host (a dotted quad, an IPv6 literal bare or
 * in brackets as --target [ADDR]:PORT gives it, or a name looked up with
 * getaddrinfo, first answer) into *out. Refuses the addresses listed above
 * and, for IPv6, :: and ff00::/8 ("--target 224.0.0.1: a multicast
 * address cannot be a TCP server").
 */
int target_resolve(const char *host, struct lladdr *out, char *err, size_t errlen);

/*
 * Ask the kernel (rtnetlink RTM_GETROUTE, as `ip route get` does) how it
 * reaches dst, in the current network namespace. Refuses routes of type
 * broadcast, multicast, unreachable, blackhole, prohibit and throw, and a
 * route without an output interface or source address.
 */
int target_route(const struct lladdr *dst, struct target_route *r, char *err, size_t errlen);

/* ---- reserved ports ---------------------------------------------------- */

#define TARGET_RESERVED_PORTS "/proc/sys/net/ipv4/ip_local_reserved_ports"

/* A set of ports as the sysctl's list ("8080,40000-40063"): one bit each. */
struct target_portset {
	uint8_t bit[65536 / 8];
};

/*
 * Parse the sysctl's list (comma-separated ports and LO-HI ranges, spaces
 * and a trailing newline allowed; "" is the empty set) into *set.
 * Returns 0, or -1 naming the bad item ("ports: bad item '70000'").
 */
int target_ports_parse(const char *s, struct target_portset *set, char *err, size_t errlen);

/* Write set as the kernel writes it back ("8080,40000-40063", "" when
 * empty). Returns the length, or -1 when cap is too small (buf is then
 * cut and NUL-terminated). */
int target_ports_format(const struct target_portset *set, char *buf, size_t cap);

void target_ports_add(struct target_portset *set, uint16_t lo, uint16_t hi);
void target_ports_remove(struct target_portset *set, uint16_t lo, uint16_t hi);

/*
 * A range of n ports (1..30000) for the raw client: inside the kernel's
 * ephemeral range (net.ipv4.ip_local_port_range, where a reservation
 * matters), clear of already reserved ports, of busy (may be NULL: ports
 * some socket of this host holds now, which a reservation does not
 * evict) and of avoid (the target's port), starting at a place derived
 * from seed (the pid) so parallel runs differ. Returns 0 with *lo..*hi,
 * or -1 ("ports: no free range of 40000 ports in the ephemeral range
 * 32768-60999").
 */
int target_ports_pick(uint32_t n, uint16_t avoid, uint32_t seed,
                      const struct target_portset *busy,
                      uint16_t *lo, uint16_t *hi, char *err, size_t errlen);

/*
 * Add lo..hi to net.ipv4.ip_local_reserved_ports of the current namespace.
 * before/after (may be NULL) receive the list as it was and as it is now,
 * for the user. Returns 0 or -1 ("ports: write ...: Permission denied").
 */
int target_ports_reserve(uint16_t lo, uint16_t hi, char *before, size_t beforelen,
                         char *after, size_t afterlen, char *err, size_t errlen);

/* Take lo..hi out of the list again (other entries stay). after as above. */
int target_ports_release(uint16_t lo, uint16_t hi, char *after, size_t afterlen,
                         char *err, size_t errlen);

#endif
