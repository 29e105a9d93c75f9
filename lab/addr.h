/*
 * addr.h - a family-neutral IP address for the lab: IPv4 or IPv6, with
 * the parsing and the formatting every part of the lab and its reports
 * share, so that "where a port follows, an IPv6 address goes in brackets"
 * (RFC 3986 3.2.2, RFC 5952 section 6) is written once.
 *
 *     struct lladdr a;  uint16_t port;  char buf[LLADDR_PORTSTRLEN];
 *     lladdr_parse_hostport("[fd6c::1]:8080", &a, &port, err, sizeof err);
 *     lladdr_str_port(&a, port, buf, sizeof buf);     // "[fd6c::1]:8080"
 *     lladdr_str(&a, buf, sizeof buf);                // "fd6c::1"
 *
 * Only numeric addresses: no name resolution, no zone ids (a lab or a
 * --target names one address, and a link-local zone would need an
 * interface the lab does not know). IPv6 text is printed in RFC 5952's
 * canonical form (inet_ntop), so a report shows "fd6c:6c6c:4a12::1",
 * never "fd6c:6c6c:4a12:0:0:0:0:1".
 *
 * The af field holds 4 or 6, as the analyzer's decoded packets do
 * (analyzer/decode.h struct dec_tcp.af), so a decoded address compares
 * with lladdr_is() without a conversion. Bytes are in network order;
 * an IPv4 address fills the first 4 bytes and the other 12 are zero, so
 * two addresses are equal exactly when their bytes are (memcmp is sound).
 *
 * Errors: functions that parse return 0, or -1 with a one-line message
 * naming what was expected in err (errlen bytes, may be NULL/0).
 * Nothing here allocates or prints.
 */
#ifndef LL_LAB_ADDR_H
#define LL_LAB_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct lladdr {
	uint8_t af;       /* 4 or 6; 0: no address */
	uint8_t b[16];    /* network order; IPv4 in b[0..3], the rest zero */
};

/* Room for lladdr_str (an IPv6 address, NUL) and lladdr_str_port
 * ("[" addr "]:" 5 digits NUL). */
#define LLADDR_STRLEN 46
#define LLADDR_PORTSTRLEN (LLADDR_STRLEN + 8)

/* Parse a numeric address, "10.0.0.1" or "fd6c::1" (no brackets, no
 * port, no zone). Returns 0, or -1: "expected an IPv4 or IPv6 address,
 * found 'x'". */
int lladdr_parse(const char *s, struct lladdr *out, char *err, size_t errlen);

/*
 * Parse "IPV4:PORT" or "[IPV6]:PORT" (port 1..65535). An IPv6 address
 * without brackets is refused with its own message ("IPv6 addresses go in
 * brackets: [fd6c::1]:80"), since "fd6c::1:80" could be either. Returns 0,
 * or -1 with err set ("expected ADDR:PORT or [IPV6]:PORT, found 'x'",
 * "port: expected 1 to 65535, found '0'", ...).
 */
int lladdr_parse_hostport(const char *s, struct lladdr *a, uint16_t *port,
                          char *err, size_t errlen);

/* The address as text ("10.0.0.1", "fd6c::1") into buf (LLADDR_STRLEN
 * bytes suffice); "" for no address. Returns buf. */
const char *lladdr_str(const struct lladdr *a, char *buf, size_t buflen);

/*
 * The address and port as one would type them: "10.0.0.1:80",
 * "[fd6c::1]:80". Port 0 gives the host part alone, in the form a URL
 * or an HTTP Host header uses: "10.0.0.1", "[fd6c::1]". buf of
 * LLADDR_PORTSTRLEN bytes suffices. Returns buf.
 */
const char *lladdr_str_port(const struct lladdr *a, uint16_t port, char *buf, size_t buflen);

/* The same for an address already in text (a report's "address"):
 * "[text]:port" when text holds a colon (IPv6), else "text:port";
 * port 0: text alone, bracketed if IPv6. NULL text prints as "?". */
const char *lladdr_text_port(const char *text, uint16_t port, char *buf, size_t buflen);

/* a and b are the same address (same family, same bytes). */
bool lladdr_eq(const struct lladdr *a, const struct lladdr *b);

/* a equals the address af (4 or 6) / bytes (16 bytes as in struct
 * dec_tcp, IPv4 in the first 4; only the family's length is read). */
bool lladdr_is(const struct lladdr *a, int af, const uint8_t *bytes);

/* Build from af (4 or 6) and bytes (4 or 16 of them). An IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d, RFC 4291 2.5.5.2: what a dual-stack
 * socket shows for an IPv4 peer) becomes the IPv4 address it maps, so it
 * compares equal to the address the wire carried. */
void lladdr_from_bytes(struct lladdr *a, int af, const uint8_t *bytes);

/* From a struct in_addr (network order). */
void lladdr_from_in(struct lladdr *a, struct in_addr in);

/* AF_INET or AF_INET6 for the socket API (AF_UNSPEC for no address). */
int lladdr_family(const struct lladdr *a);

/* Fill a sockaddr_in / sockaddr_in6 for a and port into *ss; *len gets
 * its size. Returns 0, or -1 for no address. */
int lladdr_sockaddr(const struct lladdr *a, uint16_t port,
                    struct sockaddr_storage *ss, socklen_t *len);

/* Classes a caller refuses as a target (RFC 4291 2.5.2, 2.7; RFC 1122
 * 3.2.1.3): the unspecified address (0.0.0.0, ::), multicast
 * (224.0.0.0/4, ff00::/8), loopback (127.0.0.0/8, ::1). */
bool lladdr_is_unspecified(const struct lladdr *a);
bool lladdr_is_multicast(const struct lladdr *a);
bool lladdr_is_loopback(const struct lladdr *a);

#endif
