/*
 * netns_setup.c - building the lab network netns.h draws (two namespaces,
 * the veth pair made inside them, addresses, the permanent neighbours of
 * the raw client's address, the sysctls, IPv6 when asked for) and taking
 * it down again: labnet_setup(), labnet_teardown().
 */
#include "lab/netns.h"
#include "lab/netns_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "lab/errmsg.h"

/* Bits of struct labnet.made: what exists and must be removed. */
enum {
	MADE_SERVER_NS = 1u << 0,
	MADE_CLIENT_NS = 1u << 1,
	MADE_VETH      = 1u << 2,
};

/* A MAC as `ip` takes it: "aa:bb:cc:dd:ee:ff". */
static void mac_text(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
	         mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* labnet_run_in callback: does the current namespace have IPv6? */
static int ipv6_present(void *arg)
{
	(void)arg;
	return access("/proc/sys/net/ipv6/conf/default/disable_ipv6", W_OK) == 0 ? LABNET_OK : LABNET_ERR;
}

/*
 * IPv6 defaults of namespace ns, set before the veth exists so that it
 * inherits them (net.ipv6.conf.default.* is copied into each new device,
 * net/ipv6/addrconf.c ipv6_add_dev): IPv6 on; no duplicate address
 * detection, so an address is usable the moment it is added instead of
 * "tentative" (RFC 4862 5.4; the addresses are also added `nodad`); no
 * router solicitations sent and no router advertisements taken. A kernel
 * without IPv6 has no /proc/sys/net/ipv6: LABNET_ENV.
 */
static int ipv6_setup(const char *ns, char *err, size_t errlen)
{
	static const char *const set[][2] = {
		/* "all" too: a host with net.core.devconf_inherit_init_net
		 * may hand a new namespace its own disable_ipv6 */
		{ "/proc/sys/net/ipv6/conf/all/disable_ipv6", "0" },
		{ "/proc/sys/net/ipv6/conf/default/disable_ipv6", "0" },
		{ "/proc/sys/net/ipv6/conf/default/accept_dad", "0" },
		{ "/proc/sys/net/ipv6/conf/default/dad_transmits", "0" },
		{ "/proc/sys/net/ipv6/conf/default/accept_ra", "0" },
		{ "/proc/sys/net/ipv6/conf/default/router_solicitations", "0" },
	};
	int rc;

	if (err && errlen)
		err[0] = '\0';
	rc = labnet_run_in(ns, ipv6_present, NULL, err, errlen);
	if (rc != LABNET_OK) {
		if (err && errlen && err[0])   /* entering ns failed: err says why */
			return rc;
		errmsg_set(err, errlen, "lab: -6: this kernel has no IPv6 (/proc/sys/net/ipv6 is missing)");
		return LABNET_ENV;
	}
	for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
		if ((rc = labnet_sysctl_in(ns, set[i][0], set[i][1], false, err, errlen)) != LABNET_OK)
			return rc;
	return LABNET_OK;
}

/* The IPv6 addresses and the two permanent neighbours (netns.h); mac is
 * the client veth's MAC as text. */
static int ipv6_addresses(struct labnet *ln, const char *mac, char *err, size_t errlen)
{
	char s6[LLADDR_STRLEN + 4], c6[LLADDR_STRLEN + 4], r6[LLADDR_STRLEN], srv[LLADDR_STRLEN];
	char smac[18];
	int rc;

	lladdr_str(&ln->server_ip, srv, sizeof srv);
	snprintf(s6, sizeof s6, "%s/64", srv);
	snprintf(c6, sizeof c6, "%s/64", lladdr_str(&ln->client_ip, r6, sizeof r6));
	lladdr_str(&ln->raw_ip, r6, sizeof r6);
	mac_text(ln->server_mac, smac);
	if ((rc = labnet_ip_cmd(err, errlen, "-n", ln->server_ns, "-6", "addr", "add", s6, "dev", ln->server_if,
	                        "nodad", (char *)NULL)) ||
	    (rc = labnet_ip_cmd(err, errlen, "-n", ln->client_ns, "-6", "addr", "add", c6, "dev", ln->client_if,
	                        "nodad", (char *)NULL)) ||
	    (rc = labnet_ip_cmd(err, errlen, "-n", ln->server_ns, "-6", "neigh", "replace", r6, "lladdr", mac,
	                        "dev", ln->server_if, "nud", "permanent", (char *)NULL)) ||
	    (rc = labnet_ip_cmd(err, errlen, "-n", ln->client_ns, "-6", "neigh", "replace", srv, "lladdr", smac,
	                        "dev", ln->client_if, "nud", "permanent", (char *)NULL)))
		return rc;
	return LABNET_OK;
}

/* Read MAC and ifindex of interface ifname inside namespace ns. */
static int if_info_in(const char *ns, const char *ifname, uint8_t mac[6], int *ifindex,
                      char *err, size_t errlen)
{
	struct ifreq ifr;
	int saved, s = -1, rc;

	rc = labnet_enter(ns, &saved, err, errlen);
	if (rc != LABNET_OK)
		return rc;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		errmsg_set(err, errlen, "%s: socket: %s", ifname, strerror(errno));
		rc = LABNET_ERR;
		goto out;
	}
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	if (ioctl(s, SIOCGIFHWADDR, &ifr) != 0) {
		errmsg_set(err, errlen, "%s in %s: cannot read MAC: %s", ifname, ns, strerror(errno));
		rc = LABNET_ERR;
		goto out;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(s, SIOCGIFINDEX, &ifr) != 0) {
		errmsg_set(err, errlen, "%s in %s: cannot read index: %s", ifname, ns, strerror(errno));
		rc = LABNET_ERR;
		goto out;
	}
	*ifindex = ifr.ifr_ifindex;
out:
	if (s >= 0)
		close(s);
	if (labnet_leave(&saved, err, errlen) != LABNET_OK)
		rc = LABNET_ERR;
	return rc;
}

int labnet_setup(struct labnet *ln, const struct labnet_opts *opts,
                 char *err, size_t errlen)
{
	char saddr[INET_ADDRSTRLEN + 3], caddr[INET_ADDRSTRLEN + 3], raddr[INET_ADDRSTRLEN], macs[18];
	char a[INET_ADDRSTRLEN];
	uint8_t x, y;
	pid_t tag;
	int rc;

	memset(ln, 0, sizeof *ln);
	rc = labnet_check_env(err, errlen);
	if (rc != LABNET_OK)
		return rc;
	tag = (opts && opts->tag > 0) ? opts->tag : getpid();
	if (opts && (opts->net_x || opts->net_y)) {
		x = opts->net_x;
		y = opts->net_y;
	} else {
		x = (uint8_t)(64 + ((unsigned)tag >> 8) % 64);
		y = (uint8_t)((unsigned)tag & 0xff);
	}
	ln->owner = tag;
	ln->prefix_len = 24;
	snprintf(ln->server_ns, sizeof ln->server_ns, "ll%ds", (int)tag);
	snprintf(ln->client_ns, sizeof ln->client_ns, "ll%dc", (int)tag);
	snprintf(ln->server_if, sizeof ln->server_if, "ll%dvs", (int)tag);
	snprintf(ln->client_if, sizeof ln->client_if, "ll%dvc", (int)tag);
	ln->server_addr.s_addr = htonl(0x0a000001u | (uint32_t)x << 16 | (uint32_t)y << 8);
	ln->client_addr.s_addr = htonl(0x0a000002u | (uint32_t)x << 16 | (uint32_t)y << 8);
	ln->raw_addr.s_addr    = htonl(0x0a000003u | (uint32_t)x << 16 | (uint32_t)y << 8);
	lladdr_from_in(&ln->server_ip, ln->server_addr);
	lladdr_from_in(&ln->client_ip, ln->client_addr);
	lladdr_from_in(&ln->raw_ip, ln->raw_addr);
	ln->family = 4;
	if (opts && opts->ipv6) {
		/* fd6c:6c6c:XXYY::/64: "ll" in the global ID, the IPv4 subnet's
		 * octets as the subnet id, so captures of both families match */
		static const uint8_t pfx[4] = { 0xfd, 0x6c, 0x6c, 0x6c };
		struct lladdr *v6[3] = { &ln->server_ip, &ln->client_ip, &ln->raw_ip };

		for (int i = 0; i < 3; i++) {
			memset(v6[i], 0, sizeof *v6[i]);
			v6[i]->af = 6;
			memcpy(v6[i]->b, pfx, sizeof pfx);
			v6[i]->b[4] = x;
			v6[i]->b[5] = y;
			v6[i]->b[15] = (uint8_t)(i + 1);
		}
		ln->family = 6;
	}
	snprintf(saddr, sizeof saddr, "%s/24", labnet_addr_str(ln->server_addr, a, sizeof a));
	snprintf(caddr, sizeof caddr, "%s/24", labnet_addr_str(ln->client_addr, a, sizeof a));
	labnet_addr_str(ln->raw_addr, raddr, sizeof raddr);

	/* Names that carry our own pid but that we did not make belong to a
	 * dead process that had this pid before us (killed without `lab
	 * clean`): reclaim them rather than fail with "File exists". */
	if (tag == getpid()) {
		if ((rc = labnet_remove_ns(ln->server_ns, NULL, err, errlen)) != LABNET_OK ||
		    (rc = labnet_remove_ns(ln->client_ns, NULL, err, errlen)) != LABNET_OK)
			return rc;
	}
	rc = labnet_ip_cmd(err, errlen, "netns", "add", ln->server_ns, (char *)NULL);
	if (rc != LABNET_OK)
		goto fail;
	ln->made |= MADE_SERVER_NS;
	rc = labnet_ip_cmd(err, errlen, "netns", "add", ln->client_ns, (char *)NULL);
	if (rc != LABNET_OK)
		goto fail;
	ln->made |= MADE_CLIENT_NS;

	/* Before the veth exists, so it inherits them: no IPv6 on the lab
	 * links (no solicitations in captures) unless asked for, and then
	 * IPv6 without its start-up chatter (ipv6_setup); no forwarding on
	 * the client side, so its kernel drops packets for the raw address
	 * without an RST or ICMP; no reverse-path filter on the server side. */
	if (ln->family == 6) {
		if ((rc = ipv6_setup(ln->server_ns, err, errlen)) ||
		    (rc = ipv6_setup(ln->client_ns, err, errlen)) ||
		    (rc = labnet_sysctl_in(ln->client_ns, "/proc/sys/net/ipv6/conf/all/forwarding", "0", false, err, errlen)))
			goto fail;
	} else if ((rc = labnet_sysctl_in(ln->server_ns, "/proc/sys/net/ipv6/conf/default/disable_ipv6", "1", true, err, errlen)) ||
	           (rc = labnet_sysctl_in(ln->client_ns, "/proc/sys/net/ipv6/conf/default/disable_ipv6", "1", true, err, errlen))) {
		goto fail;
	}
	if ((rc = labnet_sysctl_in(ln->client_ns, "/proc/sys/net/ipv4/ip_forward", "0", false, err, errlen)) ||
	    (rc = labnet_sysctl_in(ln->server_ns, "/proc/sys/net/ipv4/conf/all/rp_filter", "0", false, err, errlen)) ||
	    (rc = labnet_sysctl_in(ln->server_ns, "/proc/sys/net/ipv4/conf/default/rp_filter", "0", false, err, errlen)))
		goto fail;

	/* Create both ends directly in their namespaces: the pair never
	 * appears in the host's namespace, and dies with the namespaces. */
	rc = labnet_ip_cmd(err, errlen, "link", "add", ln->server_if, "netns", ln->server_ns, "type", "veth",
	                   "peer", "name", ln->client_if, "netns", ln->client_ns, (char *)NULL);
	if (rc != LABNET_OK)
		goto fail;
	ln->made |= MADE_VETH;
	if ((rc = labnet_ip_cmd(err, errlen, "-n", ln->server_ns, "addr", "add", saddr, "dev", ln->server_if, (char *)NULL)) ||
	    (rc = labnet_ip_cmd(err, errlen, "-n", ln->client_ns, "addr", "add", caddr, "dev", ln->client_if, (char *)NULL)) ||
	    (rc = labnet_ip_cmd(err, errlen, "-n", ln->server_ns, "link", "set", "lo", "up", (char *)NULL)) ||
	    (rc = labnet_ip_cmd(err, errlen, "-n", ln->client_ns, "link", "set", "lo", "up", (char *)NULL)) ||
	    (rc = labnet_ip_cmd(err, errlen, "-n", ln->server_ns, "link", "set", ln->server_if, "up", (char *)NULL)) ||
	    (rc = labnet_ip_cmd(err, errlen, "-n", ln->client_ns, "link", "set", ln->client_if, "up", (char *)NULL)))
		goto fail;
	if ((rc = if_info_in(ln->server_ns, ln->server_if, ln->server_mac, &ln->server_ifindex, err, errlen)) ||
	    (rc = if_info_in(ln->client_ns, ln->client_if, ln->client_mac, &ln->client_ifindex, err, errlen)))
		goto fail;
	mac_text(ln->client_mac, macs);
	rc = labnet_ip_cmd(err, errlen, "-n", ln->server_ns, "neigh", "replace", raddr, "lladdr", macs,
	                   "dev", ln->server_if, "nud", "permanent", (char *)NULL);
	if (rc != LABNET_OK)
		goto fail;
	if (ln->family == 6 && (rc = ipv6_addresses(ln, macs, err, errlen)) != LABNET_OK)
		goto fail;
	return LABNET_OK;
fail:
	labnet_teardown(ln, NULL, 0);
	return rc;
}

int labnet_teardown(struct labnet *ln, char *err, size_t errlen)
{
	int rc = LABNET_OK;
	char *e = err;
	size_t el = errlen;

	if (!ln || ln->made == 0)
		return LABNET_OK;
	/* Each step keeps going; only the first failure is reported. */
#define STEP(call) do { if ((call) != LABNET_OK && rc == LABNET_OK) { rc = LABNET_ERR; e = NULL; el = 0; } } while (0)
	if (ln->made & MADE_SERVER_NS)
		STEP(labnet_kill_ns_procs(ln->server_ns, NULL, e, el));
	if (ln->made & MADE_CLIENT_NS)
		STEP(labnet_kill_ns_procs(ln->client_ns, NULL, e, el));
	/* Deleting the link first makes it vanish now, even if some socket
	 * (a pcap handle not yet closed) still pins a namespace. */
	if ((ln->made & MADE_VETH) && (ln->made & MADE_SERVER_NS) && labnet_ns_exists(ln->server_ns)) {
		char ignore[256];

		(void)labnet_ip_cmd(ignore, sizeof ignore, "-n", ln->server_ns, "link", "del", ln->server_if, (char *)NULL);
	}
	if ((ln->made & MADE_SERVER_NS) && labnet_ns_exists(ln->server_ns))
		STEP(labnet_ip_cmd(e, el, "netns", "del", ln->server_ns, (char *)NULL));
	if ((ln->made & MADE_CLIENT_NS) && labnet_ns_exists(ln->client_ns))
		STEP(labnet_ip_cmd(e, el, "netns", "del", ln->client_ns, (char *)NULL));
#undef STEP
	ln->made = 0;
	return rc;
}
