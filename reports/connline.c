/*
 * connline.c - `analyze --connections`: one connection record per line
 * (JSON Lines), the shape of report_conn() without its timeline (contract
 * in connline.h, format in docs/report-format.md).
 *
 * Through jansson a record cost some 140 allocations and a dump; member by
 * member with a bounds check each it still cost some 6,700 instructions.
 * Here a record is a fixed sequence of literal runs (the punctuation and
 * member names between two values, one memcpy of a constant size each,
 * which the compiler turns into a few stores) and values, written into a
 * buffer that has room for the longest record there is (CONNLINE_MAX), so
 * no member needs a check of its own. Numbers and times are written by
 * hand, names come from tables with their lengths (connline_init).
 *
 * report_conn() in report.c builds the same record through jansson: keep
 * the two in step (test_connline compares them byte for byte).
 */
#include "reports/connline.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "reports/jhelp.h"
#include "reports/report.h"

/* The literal s (a string literal) at p, p moved past it. */
#define LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) += sizeof(s) - 1)

static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static const uint64_t pow10_tab[20] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
	100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
	10000000000000ull, 100000000000000ull, 1000000000000000ull, 10000000000000000ull,
	100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull,
};

/* Most numbers of a record are small (ports, counts, relative sequence
 * numbers, packet indexes): one and two digits directly; else the digits
 * are counted from the bit length (log10(2) ~ 1233 / 4096, corrected by
 * one comparison) and written from the end two at a time, in 32-bit
 * arithmetic once the value fits. */
static inline __attribute__((always_inline)) size_t fmt_u64(char *d, uint64_t v)
{
	if (v < 10) {
		d[0] = (char)('0' + v);
		return 1;
	}
	if (v < 100) {
		memcpy(d, digit_pairs + 2 * v, 2);
		return 2;
	}
	size_t n = ((size_t)(64 - __builtin_clzll(v)) * 1233) >> 12;
	n += v >= pow10_tab[n];
	char *p = d + n;
	while (v > UINT32_MAX) {
		uint64_t q = v / 100;
		p -= 2;
		memcpy(p, digit_pairs + 2 * (v - q * 100), 2);
		v = q;
	}
	uint32_t w = (uint32_t)v;
	while (w >= 100) {
		uint32_t q = w / 100;
		p -= 2;
		memcpy(p, digit_pairs + 2 * (w - q * 100), 2);
		w = q;
	}
	if (w >= 10) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * w, 2);
	} else {
		*--p = (char)('0' + w);
	}
	return n;
}

size_t connline_u64(char *d, uint64_t v)
{
	return fmt_u64(d, v);
}

static inline __attribute__((always_inline)) char *put_u64(char *p, uint64_t v)
{
	return p + fmt_u64(p, v);
}

static inline __attribute__((always_inline)) char *put_bool(char *p, bool v)
{
	if (v)
		LIT(p, "true");
	else
		LIT(p, "false");
	return p;
}

static inline __attribute__((always_inline)) char *put_name(char *p, const struct connline_name *n)
{
	memcpy(p, n->s, sizeof n->s);   /* the whole entry: a constant size */
	return p + n->len;
}

/* Table entry for v in a table of n names plus the out-of-range one. */
#define NAME(tab, v) (&(tab)[(unsigned)(v) < sizeof(tab) / sizeof((tab)[0]) - 1 ? \
                              (unsigned)(v) : sizeof(tab) / sizeof((tab)[0]) - 1])

/*
 * Seconds as report.c's jsec() rounds them (to the microsecond), printed
 * as jansson prints a real with REPORT_REAL_PRECISION: %.15g, ".0" when
 * that looks like an integer, the exponent without "+" or leading zeros;
 * null when not finite (as jsec()), or when s * 1e6 is not.
 *
 * The usual case goes without printf (a record has several times; printf
 * was a fifth of writing one): a whole number of microseconds below 1e6 s
 * has at most 12 significant digits, which %.15g prints exactly, trailing
 * zeros dropped. Below 1e-4 %g turns to exponents: 1 to 99 us are "De-6",
 * "De-5" or "D.De-5". Zero (and -0), 1e6 s and beyond go to snprintf.
 * llround(r * 1e6) of r = round(s * 1e6) / 1e6 gives back round(s * 1e6)
 * exactly below 1e12 us (the error of the division and the product is
 * far below half a microsecond there), so the count is taken from that.
 */
/* round(x) (halves away from zero) without the call: below 2^52 the
 * fraction x - trunc(x) is exact; from there on every double is whole. */
static inline __attribute__((always_inline)) double round_inline(double x)
{
	if (!(fabs(x) < 4503599627370496.0))
		return x;
	double t = (double)(int64_t)x;
	double f = x - t;
	if (f >= 0.5)
		t += 1.0;
	else if (f <= -0.5)
		t -= 1.0;
	return t == 0 ? copysign(0.0, x) : t;
}

size_t connline_sec(char *d, double s)
{
	double R = round_inline(s * 1e6);

	/* no JSON number for these (jansson refuses them, report_conn()
	 * fails): null, so the line still parses; a time beyond 1.8e302 s
	 * does not come from a capture */
	if (!isfinite(R)) {
		memcpy(d, "null", 4);
		return 4;
	}
	double us_d = fabs(R);
	size_t n = 0;

	if (us_d > 0 && us_d < 1e12) {
		uint64_t us = (uint64_t)us_d;

		if (R < 0)
			d[n++] = '-';
		if (us >= 100) {
			uint64_t frac = us % 1000000;

			n += fmt_u64(d + n, us / 1000000);
			d[n++] = '.';
			if (frac == 0) {
				d[n++] = '0';
			} else {
				/* six digits, trailing zeros dropped (frac > 0) */
				uint32_t f = (uint32_t)frac;
				size_t keep = 6;

				memcpy(d + n, digit_pairs + 2 * (f / 10000), 2);
				memcpy(d + n + 2, digit_pairs + 2 * (f / 100 % 100), 2);
				memcpy(d + n + 4, digit_pairs + 2 * (f % 100), 2);
				while (d[n + keep - 1] == '0')
					keep--;
				n += keep;
			}
		} else if (us >= 10) {
			d[n++] = (char)('0' + us / 10);
			if (us % 10) {
				d[n++] = '.';
				d[n++] = (char)('0' + us % 10);
			}
			memcpy(d + n, "e-5", 3);
			n += 3;
		} else {
			d[n++] = (char)('0' + us);
			memcpy(d + n, "e-6", 3);
			n += 3;
		}
		return n;
	}

	/* %.15g of a double is at most 22 bytes ("-1.23456789012345e-308") */
	char t[40];
	int k = snprintf(t, sizeof t, "%.*g", REPORT_REAL_PRECISION, R / 1e6);
	if (k <= 0 || (size_t)k > 22) {
		memcpy(d, "null", 4);  /* cannot happen: see above */
		return 4;
	}
	char *e = memchr(t, 'e', (size_t)k);
	if (!e) {
		memcpy(d, t, (size_t)k);
		n = (size_t)k;
		if (!memchr(t, '.', (size_t)k)) {
			memcpy(d + n, ".0", 2);
			n += 2;
		}
		return n;
	}
	/* mantissa, "e", sign if negative, exponent without leading zeros */
	n = (size_t)(e - t) + 1;
	memcpy(d, t, n);
	const char *x = e + 1, *end = t + k;
	if (*x == '-')
		d[n++] = *x++;
	else if (*x == '+')
		x++;
	while (*x == '0' && x + 1 < end)
		x++;
	memcpy(d + n, x, (size_t)(end - x));
	return n + (size_t)(end - x);
}

static inline __attribute__((always_inline)) char *put_sec(char *p, double s)
{
	return p + connline_sec(p, s);
}

size_t connline_str(char *d, const char *s, size_t max)
{
	static const char hex[] = "0123456789ABCDEF";
	char *p = d;

	*p++ = '"';
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch != '"' && ch != '\\') {
			*p++ = (char)ch;
			continue;
		}
		*p++ = '\\';
		switch (ch) {
		case '"': *p++ = '"'; break;
		case '\\': *p++ = '\\'; break;
		case '\b': *p++ = 'b'; break;
		case '\f': *p++ = 'f'; break;
		case '\n': *p++ = 'n'; break;
		case '\r': *p++ = 'r'; break;
		case '\t': *p++ = 't'; break;
		default:
			memcpy(p, "u00", 3);
			p[3] = hex[ch >> 4];
			p[4] = hex[ch & 15];
			p += 5;
		}
	}
	*p++ = '"';
	return (size_t)(p - d);
}

/* {"addr":"A","port":P} */
static char *put_addr(char *p, const struct connline_names *nm, uint8_t af,
                      const uint8_t addr[16], uint16_t port)
{
	LIT(p, "{\"addr\":\"");
	if (af != 6) {
		/* what inet_ntop() writes, without its sprintf per address */
		for (int i = 0; i < 4; i++) {
			memcpy(p, nm->octet[addr[i]].s, 3);
			p += nm->octet[addr[i]].len;
			*p++ = '.';
		}
		p--;
	} else {
		char buf[INET6_ADDRSTRLEN];

		if (!inet_ntop(AF_INET6, addr, buf, sizeof buf))
			memcpy(buf, "?", 2);
		size_t n = strnlen(buf, sizeof buf - 1);
		memcpy(p, buf, n);
		p += n;
	}
	LIT(p, "\",\"port\":");
	p = put_u64(p, port);
	*p++ = '}';
	return p;
}

/* A value or null. */
static inline __attribute__((always_inline)) char *put_opt_u64(char *p, bool present, uint64_t v)
{
	if (present)
		return put_u64(p, v);
	LIT(p, "null");
	return p;
}

static char *put_dir(char *p, const struct az_dir *d)
{
	LIT(p, "{\"data_end\":");
	p = put_u64(p, d->data_end);
	LIT(p, ",\"fin_seq\":");
	p = put_opt_u64(p, d->fin_seen, d->fin_seq);
	LIT(p, ",\"acked\":");
	p = put_opt_u64(p, d->acked_seen, d->acked);
	LIT(p, ",\"packets\":");
	p = put_u64(p, d->packets);
	LIT(p, ",\"bytes\":");
	p = put_u64(p, d->bytes);
	LIT(p, ",\"retransmissions\":");
	p = put_u64(p, d->retrans_packets);
	LIT(p, ",\"rst\":");
	p = put_bool(p, d->rst_seen);
	LIT(p, ",\"fin_packet\":");
	p = put_opt_u64(p, d->fin_seen, d->fin_packet);
	LIT(p, ",\"rst_packet\":");
	p = put_opt_u64(p, d->rst_seen, d->rst_packet);
	LIT(p, ",\"http_messages\":");
	p = put_u64(p, d->http_messages);
	LIT(p, ",\"mss\":");
	p = put_opt_u64(p, d->mss != 0, d->mss);
	LIT(p, ",\"wscale\":");
	p = put_opt_u64(p, d->wscale >= 0, (uint64_t)(d->wscale >= 0 ? d->wscale : 0));
	LIT(p, ",\"sack_permitted\":");
	p = put_bool(p, d->sack_permitted);
	LIT(p, ",\"timestamps\":");
	p = put_bool(p, d->timestamps);
	*p++ = '}';
	return p;
}

static char *put_fw2(char *p, const struct connline_names *nm,
                     const struct az_fw2_interval *iv, enum az_side side, double t0)
{
	if (!iv->present) {
		LIT(p, "null");
		return p;
	}
	LIT(p, "{\"start\":");
	p = put_sec(p, iv->start - t0);
	LIT(p, ",\"end\":");
	p = put_sec(p, iv->end - t0);
	LIT(p, ",\"duration\":");
	p = put_sec(p, iv->end - iv->start);
	LIT(p, ",\"ending\":");
	p = put_name(p, NAME(nm->fw2_end[side == AZ_SERVER ? AZ_SERVER : AZ_CLIENT], iv->ending));
	*p++ = '}';
	return p;
}

static char *put_tls(char *p, const struct az_conn *c)
{
	const char *v = az_tls_version_name(c->tls_version);

	LIT(p, "{\"version\":");
	if (v)
		p += connline_str(p, v, 8);
	else
		LIT(p, "null");
	LIT(p, ",\"records\":{\"c2s\":");
	p = put_u64(p, c->tls_records_c2s);
	LIT(p, ",\"s2c\":");
	p = put_u64(p, c->tls_records_s2c);
	LIT(p, "},\"decrypted\":");
	p = put_bool(p, c->tls_decrypted);
	LIT(p, ",\"records_decrypted\":");
	p = put_u64(p, c->tls_records_decrypted);
	LIT(p, ",\"not_decrypted\":{");
	for (int r = 0; r < AZ_TLS_NSKIPS; r++) {
		if (r)
			*p++ = ',';
		p += connline_str(p, az_tls_skip_name((enum az_tls_skip)r), 24);
		*p++ = ':';
		p = put_u64(p, c->tls_not_decrypted[r]);
	}
	LIT(p, "}}");
	return p;
}

/* report_conn(c, t0, false), written. Keep the two in step. */
size_t connline_format(const struct connline_names *nm, char *buf,
                       const struct az_conn *c, double t0)
{
	char *p = buf;

	LIT(p, "{\"id\":");
	p = put_u64(p, c->id);
	LIT(p, ",\"af\":");
	p = put_u64(p, c->af);
	LIT(p, ",\"client\":");
	p = put_addr(p, nm, c->af, c->client_addr, c->client_port);
	LIT(p, ",\"server\":");
	p = put_addr(p, nm, c->af, c->server_addr, c->server_port);
	LIT(p, ",\"role_inferred\":");
	p = put_bool(p, c->role_inferred);
	LIT(p, ",\"handshake\":");
	p = put_bool(p, c->handshake_seen);
	if (c->rtt_known) {
		LIT(p, ",\"rtt\":{\"to_server\":");
		p = put_sec(p, c->h_s);
		LIT(p, ",\"to_client\":");
		p = put_sec(p, c->h_c);
		*p++ = '}';
	} else {
		LIT(p, ",\"rtt\":null");
	}
	LIT(p, ",\"first_time\":");
	p = put_sec(p, c->first_time - t0);
	LIT(p, ",\"last_time\":");
	p = put_sec(p, c->last_time - t0);
	LIT(p, ",\"first_packet\":");
	p = put_u64(p, c->first_packet);
	LIT(p, ",\"last_packet\":");
	p = put_u64(p, c->last_packet);
	LIT(p, ",\"close_initiator\":");
	p = put_name(p, NAME(nm->initiator, c->initiator));
	LIT(p, ",\"kind\":");
	p = put_name(p, NAME(nm->kind, c->kind));
	LIT(p, ",\"client_end\":");
	p = put_name(p, NAME(nm->state, c->client_end));
	LIT(p, ",\"server_end\":");
	p = put_name(p, NAME(nm->state, c->server_end));
	LIT(p, ",\"tls\":");
	if (c->tls_records_c2s || c->tls_records_s2c)
		p = put_tls(p, c);
	else
		LIT(p, "null");
	LIT(p, ",\"zeek_conn_state\":");
	p = put_name(p, NAME(nm->zeek, c->zeek_state));
	LIT(p, ",\"zeek_history\":");
	p += connline_str(p, c->zeek_history, sizeof c->zeek_history);
	if (c->zeek_orig_is_client)
		LIT(p, ",\"zeek_orig\":\"client\",\"c2s\":");
	else
		LIT(p, ",\"zeek_orig\":\"server\",\"c2s\":");
	p = put_dir(p, &c->c2s);
	LIT(p, ",\"s2c\":");
	p = put_dir(p, &c->s2c);
	if (c->lingered) {
		LIT(p, ",\"lingered\":true,\"linger\":{\"seconds\":");
		p = put_sec(p, c->linger_seconds);
		LIT(p, ",\"bytes_drained\":");
		p = put_u64(p, c->linger_bytes);
		LIT(p, ",\"ended_by\":");
		p = put_name(p, NAME(nm->linger_end, c->linger_end));
		*p++ = '}';
	} else {
		LIT(p, ",\"lingered\":false,\"linger\":null");
	}
	LIT(p, ",\"fin_wait_2\":{\"server\":");
	p = put_fw2(p, nm, &c->server_fw2, AZ_SERVER, t0);
	LIT(p, ",\"client\":");
	p = put_fw2(p, nm, &c->client_fw2, AZ_CLIENT, t0);
	LIT(p, "},\"http\":{\"requests\":");
	p = put_u64(p, c->http_requests);
	LIT(p, ",\"responses\":[");
	for (unsigned i = 0; i < c->n_responses && i < AZ_MAX_HTTP_RESPONSES; i++) {
		const struct az_http_response *r = &c->responses[i];

		if (i)
			*p++ = ',';
		LIT(p, "{\"index\":");
		p = put_u64(p, i + 1);
		LIT(p, ",\"status\":");
		p = put_u64(p, r->status);
		LIT(p, ",\"complete\":");
		p = put_bool(p, r->complete);
		if (r->parse_lost)
			LIT(p, ",\"parse_lost\":true");
		*p++ = '}';
	}
	LIT(p, "],\"unanswered\":");
	p = put_u64(p, c->http_unanswered);
	LIT(p, "},\"finding\":");
	p = put_opt_u64(p, c->finding >= 0, (uint64_t)(c->finding >= 0 ? c->finding : 0));
	int32_t fx[2];
	unsigned nf = conn_findings(c, fx);
	LIT(p, ",\"findings\":[");
	for (unsigned i = 0; i < nf; i++) {
		if (i)
			*p++ = ',';
		p = put_u64(p, (uint64_t)fx[i]);
	}
	if (c->evicted)
		LIT(p, "],\"evicted\":true}\n");
	else
		LIT(p, "],\"evicted\":false}\n");
	return (size_t)(p - buf);
}

static int name_set(struct connline_name *n, const char *s)
{
	size_t len = strlen(s);

	/* the quoted name, and room for put_name's whole-entry copy */
	if (len + 2 > sizeof n->s)
		return -1;
	memset(n->s, 0, sizeof n->s);
	n->s[0] = '"';
	memcpy(n->s + 1, s, len);
	n->s[len + 1] = '"';
	n->len = (uint8_t)(len + 2);
	return 0;
}

int connline_init(struct connline_names *nm)
{
	int bad = 0;

	/* one past the last value: the name of an out-of-range one */
	for (int i = 0; i <= AZ_NINITIATORS; i++)
		bad |= name_set(&nm->initiator[i], az_initiator_name((enum az_initiator)i));
	for (int i = 0; i <= AZ_NKINDS; i++)
		bad |= name_set(&nm->kind[i], az_kind_name((enum az_kind)i));
	for (int i = 0; i <= AZ_NSTATES; i++)
		bad |= name_set(&nm->state[i], az_state_name((enum az_state)i));
	for (int i = 0; i <= AZ_NZEEK_STATES; i++)
		bad |= name_set(&nm->zeek[i], az_zeek_state_name((enum az_zeek_state)i));
	for (int i = 0; i <= AZ_NLINGER_ENDS; i++)
		bad |= name_set(&nm->linger_end[i], az_linger_end_name((enum az_linger_end)i));
	for (int i = 0; i <= AZ_NFW2_ENDS; i++) {
		bad |= name_set(&nm->fw2_end[AZ_SERVER][i], fw2_ending(AZ_SERVER, (enum az_fw2_end)i));
		bad |= name_set(&nm->fw2_end[AZ_CLIENT][i], fw2_ending(AZ_CLIENT, (enum az_fw2_end)i));
	}
	for (int i = 0; i < 256; i++) {
		memset(nm->octet[i].s, 0, sizeof nm->octet[i].s);
		nm->octet[i].len = (uint8_t)fmt_u64(nm->octet[i].s, (uint64_t)i);
	}
	return bad ? -1 : 0;
}

int report_conn_line(FILE *f, const struct az_conn *c, double t0)
{
	struct connline_names nm;
	char buf[CONNLINE_MAX];

	if (connline_init(&nm) != 0) {
		errno = EOVERFLOW;
		return -1;
	}
	size_t n = connline_format(&nm, buf, c, t0);
	return fwrite(buf, 1, n, f) == n ? 0 : -1;
}
