/*
 * addr.c - a family-neutral IP address: parsing and formatting (see addr.h).
 */
#include "lab/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "lab/errmsg.h"

/* Longest text we try to parse as an address or address:port; anything
 * longer is not one (an IPv6 address in brackets with a port is < 64). */
#define LLADDR_MAXTEXT 64

/* s as it may appear in a one-line message: at most LLADDR_MAXTEXT bytes,
 * printable ASCII kept, anything else as \xNN. Returns out. */
static const char *shown(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; s[i] && i < LLADDR_MAXTEXT && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}

/* Room for shown(): every byte escaped, and the NUL. */
#define SHOWN_LEN (LLADDR_MAXTEXT * 4 + 1)

int lladdr_parse(const char *s, struct lladdr *out, char *err, size_t errlen)
{
	char q[SHOWN_LEN];

	struct in_addr a4;
	struct in6_addr a6;

	memset(out, 0, sizeof *out);
	if (!s || !*s) {
		errmsg_set(err, errlen, "expected an IPv4 or IPv6 address, found nothing");
		return -1;
	}
	if (inet_pton(AF_INET, s, &a4) == 1) {
		lladdr_from_in(out, a4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		out->af = 6;
		memcpy(out->b, &a6, 16);
		return 0;
	}
	errmsg_set(err, errlen, "expected an IPv4 or IPv6 address, found '%s'", shown(s, q, sizeof q));
	return -1;
}

/* A port: decimal digits only, 1..65535. */
static int parse_port(const char *s, uint16_t *port, char *err, size_t errlen)
{
	char q[SHOWN_LEN];
	unsigned long v = 0;
	size_t n = 0;

	for (; s[n] >= '0' && s[n] <= '9'; n++) {
		v = v * 10 + (unsigned long)(s[n] - '0');
		if (v > 65535)
			break;
	}
	if (n == 0 || s[n] != '\0' || v == 0 || v > 65535) {
		errmsg_set(err, errlen, "port: expected 1 to 65535, found '%s'", shown(s, q, sizeof q));
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

int lladdr_parse_hostport(const char *s, struct lladdr *a, uint16_t *port,
                          char *err, size_t errlen)
{
	char host[LLADDR_MAXTEXT], q[SHOWN_LEN];
	const char *colon;
	size_t hl;

	memset(a, 0, sizeof *a);
	*port = 0;
	if (!s || strlen(s) >= LLADDR_MAXTEXT) {
		errmsg_set(err, errlen, "expected ADDR:PORT or [IPV6]:PORT, found '%s'",
		           shown(s ? s : "", q, sizeof q));
		return -1;
	}
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':') {
			errmsg_set(err, errlen, "expected [IPV6]:PORT, found '%s'", shown(s, q, sizeof q));
			return -1;
		}
		hl = (size_t)(rb - (s + 1));
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (lladdr_parse(host, a, NULL, 0) != 0 || a->af != 6) {
			memset(a, 0, sizeof *a);
			errmsg_set(err, errlen, "expected an IPv6 address in brackets, found '%s'",
			           shown(host, q, sizeof q));
			return -1;
		}
		if (parse_port(rb + 2, port, err, errlen) != 0) {
			memset(a, 0, sizeof *a);
			return -1;
		}
		return 0;
	}
	colon = strchr(s, ':');
	if (colon && strchr(colon + 1, ':')) {
		/* more than one colon: an IPv6 address (with or without a port) */
		errmsg_set(err, errlen, "IPv6 addresses go in brackets: [ADDR]:PORT, found '%s'",
		           shown(s, q, sizeof q));
		return -1;
	}
	if (!colon) {
		errmsg_set(err, errlen, "expected ADDR:PORT or [IPV6]:PORT, found '%s'", shown(s, q, sizeof q));
		return -1;
	}
	hl = (size_t)(colon - s);
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (lladdr_parse(host, a, NULL, 0) != 0) {
		errmsg_set(err, errlen, "expected an IPv4 address before ':', found '%s'",
		           shown(host, q, sizeof q));
		return -1;
	}
	if (parse_port(colon + 1, port, err, errlen) != 0) {
		memset(a, 0, sizeof *a);
		return -1;
	}
	return 0;
}

const char *lladdr_str(const struct lladdr *a, char *buf, size_t buflen)
{
	if (buflen == 0)
		return buf;
	buf[0] = '\0';
	if (a->af == 4)
		(void)inet_ntop(AF_INET, a->b, buf, (socklen_t)buflen);
	else if (a->af == 6)
		(void)inet_ntop(AF_INET6, a->b, buf, (socklen_t)buflen);
	return buf;
}

const char *lladdr_str_port(const struct lladdr *a, uint16_t port, char *buf, size_t buflen)
{
	char s[LLADDR_STRLEN];
	int w;

	if (buflen == 0)
		return buf;
	lladdr_str(a, s, sizeof s);
	if (a->af == 6)
		w = port ? snprintf(buf, buflen, "[%s]:%u", s, (unsigned)port)
		         : snprintf(buf, buflen, "[%s]", s);
	else
		w = port ? snprintf(buf, buflen, "%s:%u", s, (unsigned)port)
		         : snprintf(buf, buflen, "%s", s);
	if (w < 0)
		buf[0] = '\0';
	return buf;
}

const char *lladdr_text_port(const char *text, uint16_t port, char *buf, size_t buflen)
{
	bool v6;
	int w;

	if (buflen == 0)
		return buf;
	if (!text)
		text = "?";
	v6 = strchr(text, ':') != NULL;
	if (port)
		w = snprintf(buf, buflen, v6 ? "[%s]:%u" : "%s:%u", text, (unsigned)port);
	else
		w = snprintf(buf, buflen, v6 ? "[%s]" : "%s", text);
	if (w < 0)
		buf[0] = '\0';
	return buf;
}

bool lladdr_eq(const struct lladdr *a, const struct lladdr *b)
{
	return a->af == b->af && memcmp(a->b, b->b, 16) == 0;
}

bool lladdr_is(const struct lladdr *a, int af, const uint8_t *bytes)
{
	return a->af == af && af != 0 && memcmp(a->b, bytes, af == 4 ? 4 : 16) == 0;
}

void lladdr_from_bytes(struct lladdr *a, int af, const uint8_t *bytes)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(a, 0, sizeof *a);
	if (af == 4) {
		a->af = 4;
		memcpy(a->b, bytes, 4);
	} else if (af == 6 && memcmp(bytes, mapped, sizeof mapped) == 0) {
		a->af = 4;
		memcpy(a->b, bytes + 12, 4);
	} else if (af == 6) {
		a->af = 6;
		memcpy(a->b, bytes, 16);
	}
}

void lladdr_from_in(struct lladdr *a, struct in_addr in)
{
	memset(a, 0, sizeof *a);
	a->af = 4;
	memcpy(a->b, &in.s_addr, 4);
}

int lladdr_family(const struct lladdr *a)
{
	return a->af == 4 ? AF_INET : a->af == 6 ? AF_INET6 : AF_UNSPEC;
}

int lladdr_sockaddr(const struct lladdr *a, uint16_t port,
                    struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	if (a->af == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->b, 4);
		*len = sizeof *s4;
		return 0;
	}
	if (a->af == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->b, 16);
		*len = sizeof *s6;
		return 0;
	}
	*len = 0;
	return -1;
}

bool lladdr_is_unspecified(const struct lladdr *a)
{
	static const uint8_t zero[16];

	return (a->af == 4 || a->af == 6) && memcmp(a->b, zero, 16) == 0;
}

bool lladdr_is_multicast(const struct lladdr *a)
{
	return (a->af == 4 && (a->b[0] & 0xf0) == 0xe0) || (a->af == 6 && a->b[0] == 0xff);
}

bool lladdr_is_loopback(const struct lladdr *a)
{
	static const uint8_t one[16] = { [15] = 1 };

	return (a->af == 4 && a->b[0] == 127) || (a->af == 6 && memcmp(a->b, one, 16) == 0);
}
