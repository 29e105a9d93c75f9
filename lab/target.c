/*
 * target.c - a target outside the lab: address checks, the kernel's route
 * to it (rtnetlink), and the run's reserved ports (see target.h).
 */
#include "lab/target.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lab/errmsg.h"

/* ---- the address ---------------------------------------------------- */

/* Why a.b.c.d (host order) can never be a TCP server, or NULL. */
static const char *bad_addr(uint32_t h)
{
	if ((h >> 24) == 0)
		return "the unspecified address (0.0.0.0/8) cannot be a TCP server";
	if (h == 0xffffffffu)
		return "the broadcast address cannot be a TCP server";
	if ((h >> 28) == 0xe)
		return "a multicast address cannot be a TCP server";
	if ((h >> 28) == 0xf)
		return "240.0.0.0/4 is reserved, not a TCP server";
	return NULL;
}

/* Why an IPv6 address can never be a TCP server we may audit, or NULL. */
static const char *bad_addr6(const uint8_t *b)
{
	static const uint8_t zero[16];
	if (!memcmp(b, zero, 16))
		return "the unspecified address (::) cannot be a TCP server";
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (b[0] == 0xff)
		return "a multicast address (ff00::/8) cannot be a TCP server";
	/* RFC 4291 2.5.5.2: it stands for an IPv4 node inside one host's
	 * sockets and is never on the wire; the kernel would route it out as
	 * IPv6 by the default route. */
	if (!memcmp(b, mapped, sizeof mapped))
		return "an IPv4-mapped address (::ffff:0:0/96) is never on the wire; give the IPv4 address";
	/* RFC 4291 2.5.6: valid on one link only; without a zone the kernel's
	 * route picks any interface with an fe80::/64 route. */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "a link-local address (fe80::/10) needs a zone (an interface), which --target cannot take";
	return NULL;
}

int target_resolve(const char *host, struct lladdr *out, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	char lit[64], a[LLADDR_STRLEN];
	const char *why;
	size_t n;
	int r;

	memset(out, 0, sizeof *out);
	if (!host || !*host) {
		errmsg_set(err, errlen, "--target: no address");
		return -1;
	}
	/* "[fd6c::1]" as it comes from --target [ADDR]:PORT, or a bare literal */
	n = strlen(host);
	if (host[0] == '[' && n >= 2 && host[n - 1] == ']' && n - 2 < sizeof lit) {
		memcpy(lit, host + 1, n - 2);
		lit[n - 2] = '\0';
		if (lladdr_parse(lit, out, NULL, 0) != 0 || out->af != 6) {
			errmsg_set(err, errlen, "--target %s: not an IPv6 address in brackets", host);
			return -1;
		}
	} else if (strchr(host, ':')) {
		/* from --target HOST:PORT split at its last colon: "fd6c::1:80"
		 * could be either, as lladdr_parse_hostport says too */
		errmsg_set(err, errlen, "--target %s: IPv6 addresses go in brackets: [ADDR]:PORT", host);
		return -1;
	} else if (lladdr_parse(host, out, NULL, 0) != 0) {
		memset(&hints, 0, sizeof hints);
		hints.ai_family = AF_UNSPEC;   /* IPv4 first: the resolver's order */
		hints.ai_socktype = SOCK_STREAM;
		r = getaddrinfo(host, NULL, &hints, &res);
		if (r != 0 || !res) {
			errmsg_set(err, errlen, "--target %s: %s", host, r ? gai_strerror(r) : "no address");
			return -1;
		}
		if (res->ai_family == AF_INET6)
			lladdr_from_bytes(out, 6, ((struct sockaddr_in6 *)(void *)res->ai_addr)->sin6_addr.s6_addr);
		else
			lladdr_from_in(out, ((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr);
		freeaddrinfo(res);
	}
	if (out->af == 4) {
		uint32_t h = (uint32_t)out->b[0] << 24 | (uint32_t)out->b[1] << 16 | (uint32_t)out->b[2] << 8 | out->b[3];
		why = bad_addr(h);
	} else {
		why = bad_addr6(out->b);
	}
	if (why) {
		errmsg_set(err, errlen, out->af == 6 ? "--target [%s]: %s" : "--target %s: %s",
		           lladdr_str(out, a, sizeof a), why);
		return -1;
	}
	return 0;
}

/* ---- the route (rtnetlink) -------------------------------------------- */

static const char *rtn_refusal(unsigned char type)
{
	switch (type) {
	case RTN_BROADCAST:   return "the kernel routes it as a broadcast address";
	case RTN_MULTICAST:   return "the kernel routes it as a multicast address";
	case RTN_UNREACHABLE: return "no route to it (unreachable)";
	case RTN_BLACKHOLE:   return "its route is a blackhole";
	case RTN_PROHIBIT:    return "its route is prohibited";
	case RTN_THROW:       return "no route to it (throw)";
	case RTN_UNICAST:
	case RTN_LOCAL:       return NULL;
	default:              return "its route is of an unusual type";
	}
}

int target_route(const struct lladdr *dst, struct target_route *r, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		char attrs[64];
	} req;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char buf[8192], a[LLADDR_STRLEN + 2];
	size_t alen_want = dst->af == 6 ? 16 : 4;
	struct rtattr *ra;
	ssize_t n;
	int fd, rc = -1;
	bool have_src = false;

	memset(r, 0, sizeof *r);
	r->dst = *dst;
	/* IPv6 in brackets, as --target takes it: "fd7b::1" next to a ':' */
	if (dst->af == 6) {
		char b6[LLADDR_STRLEN];
		snprintf(a, sizeof a, "[%s]", lladdr_str(dst, b6, sizeof b6));
	} else {
		lladdr_str(dst, a, sizeof a);
	}
	memset(&req, 0, sizeof req);
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof req.rt);
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.rt.rtm_family = dst->af == 6 ? AF_INET6 : AF_INET;
	req.rt.rtm_dst_len = (unsigned char)(alen_want * 8);
	ra = (struct rtattr *)(void *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
	ra->rta_type = RTA_DST;
	ra->rta_len = (unsigned short)RTA_LENGTH(alen_want);
	memcpy(RTA_DATA(ra), dst->b, alen_want);
	req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(ra->rta_len);

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		errmsg_set(err, errlen, "route to %s: netlink socket: %s", a, strerror(errno));
		return -1;
	}
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
		errmsg_set(err, errlen, "route to %s: netlink send: %s", a, strerror(errno));
		goto out;
	}
	do
		n = recv(fd, buf, sizeof buf, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		errmsg_set(err, errlen, "route to %s: netlink receive: %s", a, strerror(errno));
		goto out;
	}
	/* Every length below is checked against what arrived (NLMSG_OK,
	 * RTA_OK), never trusted. */
	for (struct nlmsghdr *nh = (struct nlmsghdr *)(void *)buf; NLMSG_OK(nh, (size_t)n);
	     nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nh);
			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof *e)) {
				errmsg_set(err, errlen, "route to %s: truncated netlink error", a);
				goto out;
			}
			errmsg_set(err, errlen, "--target %s: no route: %s", a,
			           strerror(e->error < 0 ? -e->error : EIO));
			goto out;
		}
		if (nh->nlmsg_type != RTM_NEWROUTE || nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
			continue;
		struct rtmsg *rt = NLMSG_DATA(nh);
		const char *why = rtn_refusal(rt->rtm_type);
		if (why) {
			errmsg_set(err, errlen, "--target %s: %s", a, why);
			goto out;
		}
		r->local = rt->rtm_type == RTN_LOCAL;
		int alen = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof *rt));
		for (ra = RTM_RTA(rt); RTA_OK(ra, alen); ra = RTA_NEXT(ra, alen)) {
			size_t plen = RTA_PAYLOAD(ra);
			if (ra->rta_type == RTA_OIF && plen >= 4) {
				memcpy(&r->ifindex, RTA_DATA(ra), 4);
			} else if (ra->rta_type == RTA_PREFSRC && plen >= alen_want) {
				lladdr_from_bytes(&r->src, dst->af, RTA_DATA(ra));
				have_src = true;
			} else if (ra->rta_type == RTA_GATEWAY && plen >= alen_want) {
				lladdr_from_bytes(&r->gateway, dst->af, RTA_DATA(ra));
			}
		}
		if (r->ifindex <= 0 || !if_indextoname((unsigned)r->ifindex, r->iface)) {
			errmsg_set(err, errlen, "--target %s: its route names no output interface", a);
			goto out;
		}
		static const uint8_t zero[16];
		if (!have_src || !memcmp(r->src.b, zero, 16)) {
			errmsg_set(err, errlen, "--target %s: no source address for it on %s", a, r->iface);
			goto out;
		}
		rc = 0;
		goto out;
	}
	errmsg_set(err, errlen, "route to %s: the kernel sent no route", a);
out:
	close(fd);
	return rc;
}

/* ---- reserved ports --------------------------------------------------- */

static bool has(const struct target_portset *s, unsigned p)
{
	return s->bit[p >> 3] & (1u << (p & 7));
}

void target_ports_add(struct target_portset *s, uint16_t lo, uint16_t hi)
{
	for (unsigned p = lo; p <= hi; p++)
		s->bit[p >> 3] |= (uint8_t)(1u << (p & 7));
}

void target_ports_remove(struct target_portset *s, uint16_t lo, uint16_t hi)
{
	for (unsigned p = lo; p <= hi; p++)
		s->bit[p >> 3] &= (uint8_t)~(1u << (p & 7));
}

/* A port 0-65535 at *p (digits only); advances *p. -1 when none. */
static long port_at(const char **p)
{
	long v = 0;
	int digits = 0;

	while (**p >= '0' && **p <= '9') {
		v = v * 10 + (**p - '0');
		(*p)++;
		if (++digits > 5 || v > 65535)
			return -1;
	}
	return digits ? v : -1;
}

int target_ports_parse(const char *s, struct target_portset *set, char *err, size_t errlen)
{
	memset(set, 0, sizeof *set);
	while (*s) {
		const char *item = s;
		long lo, hi;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		lo = port_at(&s);
		hi = lo;
		if (lo >= 0 && *s == '-') {
			s++;
			hi = port_at(&s);
		}
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (lo < 0 || hi < 0 || hi < lo || (*s && *s != ',')) {
			size_t len = strcspn(item, ",");
			errmsg_set(err, errlen, "ports: bad item '%.*s'", (int)(len > 40 ? 40 : len), item);
			return -1;
		}
		target_ports_add(set, (uint16_t)lo, (uint16_t)hi);
		if (*s == ',')
			s++;
	}
	return 0;
}

int target_ports_format(const struct target_portset *set, char *buf, size_t cap)
{
	size_t len = 0;

	if (cap == 0)
		return -1;
	buf[0] = '\0';
	for (unsigned p = 0; p < 65536; p++) {
		unsigned q;
		int w;

		if (!has(set, p))
			continue;
		for (q = p; q + 1 < 65536 && has(set, q + 1); q++)
			;
		if (q == p)
			w = snprintf(buf + len, cap - len, "%s%u", len ? "," : "", p);
		else
			w = snprintf(buf + len, cap - len, "%s%u-%u", len ? "," : "", p, q);
		if (w < 0 || (size_t)w >= cap - len)
			return -1;
		len += (size_t)w;
		p = q;
	}
	return (int)len;
}

/* Read a /proc/sys file into buf (trailing newline cut). */
static int read_sys(const char *path, char *buf, size_t cap, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0) {
		errmsg_set(err, errlen, "ports: %s: %s", path, strerror(errno));
		return -1;
	}
	while (got + 1 < cap) {
		ssize_t n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errmsg_set(err, errlen, "ports: read %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	while (got && (buf[got - 1] == '\n' || buf[got - 1] == ' '))
		got--;
	buf[got] = '\0';
	return 0;
}

static int write_sys(const char *path, const char *val, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(val);
	char line[2];

	if (fd < 0) {
		errmsg_set(err, errlen, "ports: %s: %s", path, strerror(errno));
		return -1;
	}
	/* The kernel takes an empty list as a lone newline. */
	if (len == 0) {
		line[0] = '\n';
		line[1] = '\0';
		val = line;
		len = 1;
	}
	if (write(fd, val, len) != (ssize_t)len) {
		errmsg_set(err, errlen, "ports: write %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) != 0) {
		errmsg_set(err, errlen, "ports: write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The list is at most 65536 items; a buffer for the worst case. */
#define LIST_CAP (65536 * 7)

/* Read the list, change it with fn, write it back. */
static int modify(uint16_t lo, uint16_t hi, bool add, char *before, size_t beforelen,
                  char *after, size_t afterlen, char *err, size_t errlen)
{
	struct target_portset *set = malloc(sizeof *set);
	char *list = malloc(LIST_CAP);
	int rc = -1;

	if (!set || !list) {
		errmsg_set(err, errlen, "ports: out of memory");
		goto out;
	}
	if (read_sys(TARGET_RESERVED_PORTS, list, LIST_CAP, err, errlen) < 0 ||
	    target_ports_parse(list, set, err, errlen) < 0)
		goto out;
	if (before)
		snprintf(before, beforelen, "%s", list);
	if (add)
		target_ports_add(set, lo, hi);
	else
		target_ports_remove(set, lo, hi);
	if (target_ports_format(set, list, LIST_CAP) < 0) {
		errmsg_set(err, errlen, "ports: list too long");
		goto out;
	}
	if (write_sys(TARGET_RESERVED_PORTS, list, err, errlen) < 0)
		goto out;
	if (after)
		snprintf(after, afterlen, "%s", list);
	rc = 0;
out:
	free(set);
	free(list);
	return rc;
}

int target_ports_reserve(uint16_t lo, uint16_t hi, char *before, size_t beforelen,
                         char *after, size_t afterlen, char *err, size_t errlen)
{
	return modify(lo, hi, true, before, beforelen, after, afterlen, err, errlen);
}

int target_ports_release(uint16_t lo, uint16_t hi, char *after, size_t afterlen,
                         char *err, size_t errlen)
{
	return modify(lo, hi, false, NULL, 0, after, afterlen, err, errlen);
}

int target_ports_pick(uint32_t n, uint16_t avoid, uint32_t seed,
                      const struct target_portset *busy,
                      uint16_t *lo, uint16_t *hi, char *err, size_t errlen)
{
	struct target_portset *set = malloc(sizeof *set);
	char *list = malloc(LIST_CAP);
	char range[64];
	unsigned elo = 32768, ehi = 60999, span, start;
	int rc = -1;

	if (!set || !list) {
		errmsg_set(err, errlen, "ports: out of memory");
		goto out;
	}
	if (n == 0 || n > 30000) {
		errmsg_set(err, errlen, "ports: %u ports asked for; 1 to 30000", n);
		goto out;
	}
	if (read_sys("/proc/sys/net/ipv4/ip_local_port_range", range, sizeof range, err, errlen) < 0)
		goto out;
	if (sscanf(range, "%u %u", &elo, &ehi) != 2 || elo == 0 || ehi > 65535 || ehi < elo) {
		errmsg_set(err, errlen, "ports: ip_local_port_range: cannot read '%s'", range);
		goto out;
	}
	if (read_sys(TARGET_RESERVED_PORTS, list, LIST_CAP, err, errlen) < 0 ||
	    target_ports_parse(list, set, err, errlen) < 0)
		goto out;
	span = ehi - elo + 1;
	if (n > span) {
		errmsg_set(err, errlen, "ports: no free range of %u ports in the ephemeral range %u-%u",
		           n, elo, ehi);
		goto out;
	}
	/* Every start from a seeded place on, wrapping once: the first
	 * whose n ports are all free wins. */
	unsigned starts = span - n + 1;
	start = (unsigned)((seed * 2654435761u) % starts);
	for (unsigned tries = 0; tries < starts; tries++) {
		unsigned s = elo + (start + tries) % starts, p;
		for (p = s; p < s + n; p++)
			if (has(set, p) || p == avoid || (busy && has(busy, p)))
				break;
		if (p == s + n) {
			*lo = (uint16_t)s;
			*hi = (uint16_t)(s + n - 1);
			rc = 0;
			goto out;
		}
	}
	errmsg_set(err, errlen, "ports: no free range of %u ports in the ephemeral range %u-%u",
	           n, elo, ehi);
out:
	free(set);
	free(list);
	return rc;
}
