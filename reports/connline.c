/*
 * connline.c - `analyze --connections`: one connection record per line
 * (JSON Lines), the shape of report_conn() without its timeline (contract
 * in report.h, format in docs/report-format.md).
 */
#include "reports/report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "reports/jhelp.h"
#include "reports/safetext.h"

/*
 * `--connections` writes every connection of a capture, so this is a hot
 * path: through jansson a record costs some 140 allocations and a dump,
 * which made `analyze --connections` several times slower than the
 * analysis itself. The record is written here straight into a fixed
 * buffer instead, member for member as report_conn() builds it, in the
 * bytes json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(15)) would give;
 * tests/unit/test_report.c holds the two to that.
 */

struct jw {
	char buf[4096];            /* a record is < 1.5 KiB; more is refused */
	size_t len;
	bool full;
	bool comma;                /* a member or element came before */
};

static inline __attribute__((always_inline)) void jw_raw(struct jw *w, const char *s, size_t n)
{
	if (w->full || n > sizeof w->buf - w->len) {
		w->full = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static inline __attribute__((always_inline)) void jw_lit(struct jw *w, const char *s)
{
	jw_raw(w, s, strlen(s));
}

static inline __attribute__((always_inline)) void jw_sep(struct jw *w)
{
	if (w->comma)
		jw_raw(w, ",", 1);
	w->comma = true;
}

/* Member names are this file's own identifiers: nothing to escape. */
static inline __attribute__((always_inline)) void jw_key(struct jw *w, const char *k)
{
	size_t n = strlen(k);
	jw_sep(w);
	if (w->full || n + 3 > sizeof w->buf - w->len) {
		w->full = true;
		return;
	}
	char *p = w->buf + w->len;
	p[0] = '"';
	memcpy(p + 1, k, n);
	p[n + 1] = '"';
	p[n + 2] = ':';
	w->len += n + 3;
}

static inline __attribute__((always_inline)) void jw_open(struct jw *w, const char *k, char brace)
{
	if (k)
		jw_key(w, k);
	else
		jw_sep(w);
	jw_raw(w, &brace, 1);
	w->comma = false;
}

static inline __attribute__((always_inline)) void jw_close(struct jw *w, char brace)
{
	jw_raw(w, &brace, 1);
	w->comma = true;
}

/* v in decimal at d (room for 20 digits); the number of digits. Most
 * numbers here are small (ports, counts, relative sequence numbers), so
 * the digits are counted first and written from the end two at a time. */
static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static inline __attribute__((always_inline)) size_t fmt_u64(char *d, uint64_t v)
{
	size_t n = 1;
	uint64_t x = v;

	if (v < 10) {
		d[0] = (char)('0' + v);
		return 1;
	}
	while (x >= 10) {
		x /= 10;
		n++;
	}
	char *p = d + n;
	while (v >= 100) {
		const char *q = digit_pairs + 2 * (v % 100);
		v /= 100;
		*--p = q[1];
		*--p = q[0];
	}
	if (v >= 10) {
		*--p = digit_pairs[2 * v + 1];
		*--p = digit_pairs[2 * v];
	} else {
		*--p = (char)('0' + v);
	}
	return n;
}

static inline __attribute__((always_inline)) void jw_u64(struct jw *w, const char *k, uint64_t v)
{
	char d[20];
	size_t n = fmt_u64(d, v);
	if (k)
		jw_key(w, k);
	else
		jw_sep(w);
	jw_raw(w, d, n);
}

static inline __attribute__((always_inline)) void jw_null(struct jw *w, const char *k)
{
	jw_key(w, k);
	jw_lit(w, "null");
}

static inline __attribute__((always_inline)) void jw_bool(struct jw *w, const char *k, bool v)
{
	jw_key(w, k);
	jw_lit(w, v ? "true" : "false");
}

/* One of the analyzer's own names (az_*_name(), a Zeek history, an
 * address this file formatted): plain ASCII letters, digits and
 * punctuation, never a quote, backslash or control character, so it is
 * copied as it is (test_report holds the bytes to jansson's). No string
 * from outside (a capture, a file name) is written here: a record carries
 * none; one that ever does needs jansson's escaping, as report.c has. */
static inline __attribute__((always_inline)) void jw_name(struct jw *w, const char *k, const char *v)
{
	size_t n = strlen(v);
	jw_key(w, k);
	if (w->full || n + 2 > sizeof w->buf - w->len) {
		w->full = true;
		return;
	}
	char *p = w->buf + w->len;
	p[0] = '"';
	memcpy(p + 1, v, n);
	p[n + 1] = '"';
	w->len += n + 2;
}

/* Seconds as jsec() rounds them, printed as jansson prints a real with
 * REPORT_REAL_PRECISION: %.15g, ".0" when that looks like an integer,
 * exponent without "+" or leading zeros. */
static void jw_sec(struct jw *w, const char *k, double s)
{
	char d[40];
	if (!isfinite(s)) {
		jw_null(w, k);
		return;
	}
	double r = round(s * 1e6) / 1e6;
	/* The common case without printf (a --connections line has several
	 * of these; printf was a fifth of writing one): a whole number of
	 * microseconds below 1e6 s has at most 12 significant digits, which
	 * %.15g prints exactly, trailing zeros dropped. Below 1e-4 %g turns to
	 * exponents: 1 to 99 us are "De-6", "De-5" or "D.De-5". Zero (and -0)
	 * go to printf. */
	if (fabs(r) < 1e6) {
		long long us = llround(fabs(r) * 1e6);
		int n = 0;

		if (r < 0)
			d[n++] = '-';
		if (us >= 100) {
			long long frac = us % 1000000;

			n += (int)fmt_u64(d + n, (uint64_t)(us / 1000000));
			d[n++] = '.';
			if (frac == 0) {
				d[n++] = '0';
			} else {
				for (int i = 5; i >= 0; i--, frac /= 10)
					d[n + i] = (char)('0' + frac % 10);
				n += 6;
				while (d[n - 1] == '0')
					n--;
			}
		} else if (us >= 10) {
			d[n++] = (char)('0' + us / 10);
			if (us % 10) {
				d[n++] = '.';
				d[n++] = (char)('0' + us % 10);
			}
			memcpy(d + n, "e-5", 3);
			n += 3;
		} else if (us > 0) {
			d[n++] = (char)('0' + us);
			memcpy(d + n, "e-6", 3);
			n += 3;
		}
		if (us > 0) {
			jw_key(w, k);
			jw_raw(w, d, (size_t)n);
			return;
		}
	}
	int n = snprintf(d, sizeof d, "%.*g", REPORT_REAL_PRECISION, r);
	if (n <= 0 || (size_t)n >= sizeof d - 2) {
		w->full = true;
		return;
	}
	char *e = strchr(d, 'e');
	if (!e && !strchr(d, '.')) {
		memcpy(d + n, ".0", 3);
		n += 2;
	} else if (e) {
		char *from = e + 1, *to = e + 1;
		if (*from == '+')
			from++;
		else if (*from == '-')
			from++, to++;
		while (*from == '0' && from[1])
			from++;
		memmove(to, from, strlen(from) + 1);
		n = (int)strlen(d);
	}
	jw_key(w, k);
	jw_raw(w, d, (size_t)n);
}

static void jw_addr(struct jw *w, const char *k, uint8_t af, const uint8_t addr[16],
                    uint16_t port)
{
	char buf[INET6_ADDRSTRLEN];
	if (af != 6) {
		/* what inet_ntop() writes, without its sprintf per address */
		char *p = buf;
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p += fmt_u64(p, addr[i]);
		}
		*p = '\0';
	} else if (!inet_ntop(AF_INET6, addr, buf, sizeof buf)) {
		snprintf(buf, sizeof buf, "?");
	}
	jw_open(w, k, '{');
	jw_name(w, "addr", buf);
	jw_u64(w, "port", port);
	jw_close(w, '}');
}

static inline __attribute__((always_inline)) void jw_opt_u64(struct jw *w, const char *k, bool present, uint64_t v)
{
	if (present)
		jw_u64(w, k, v);
	else
		jw_null(w, k);
}

static void jw_dir(struct jw *w, const char *k, const struct az_dir *d)
{
	jw_open(w, k, '{');
	jw_u64(w, "data_end", d->data_end);
	jw_opt_u64(w, "fin_seq", d->fin_seen, d->fin_seq);
	jw_opt_u64(w, "acked", d->acked_seen, d->acked);
	jw_u64(w, "packets", d->packets);
	jw_u64(w, "bytes", d->bytes);
	jw_u64(w, "retransmissions", d->retrans_packets);
	jw_bool(w, "rst", d->rst_seen);
	jw_opt_u64(w, "fin_packet", d->fin_seen, d->fin_packet);
	jw_opt_u64(w, "rst_packet", d->rst_seen, d->rst_packet);
	jw_u64(w, "http_messages", d->http_messages);
	jw_opt_u64(w, "mss", d->mss != 0, d->mss);
	jw_opt_u64(w, "wscale", d->wscale >= 0, (uint64_t)(d->wscale >= 0 ? d->wscale : 0));
	jw_bool(w, "sack_permitted", d->sack_permitted);
	jw_bool(w, "timestamps", d->timestamps);
	jw_close(w, '}');
}

static void jw_fw2(struct jw *w, const char *k, const struct az_fw2_interval *iv,
                   enum az_side side, double t0)
{
	if (!iv->present) {
		jw_null(w, k);
		return;
	}
	jw_open(w, k, '{');
	jw_sec(w, "start", iv->start - t0);
	jw_sec(w, "end", iv->end - t0);
	jw_sec(w, "duration", iv->end - iv->start);
	jw_name(w, "ending", fw2_ending(side, iv->ending));
	jw_close(w, '}');
}

/* report_conn(c, t0, false), written. Keep the two in step. */
static void jw_conn(struct jw *w, const struct az_conn *c, double t0)
{
	jw_open(w, NULL, '{');
	jw_u64(w, "id", c->id);
	jw_u64(w, "af", c->af);
	jw_addr(w, "client", c->af, c->client_addr, c->client_port);
	jw_addr(w, "server", c->af, c->server_addr, c->server_port);
	jw_bool(w, "role_inferred", c->role_inferred);
	jw_bool(w, "handshake", c->handshake_seen);
	if (c->rtt_known) {
		jw_open(w, "rtt", '{');
		jw_sec(w, "to_server", c->h_s);
		jw_sec(w, "to_client", c->h_c);
		jw_close(w, '}');
	} else {
		jw_null(w, "rtt");
	}
	jw_sec(w, "first_time", c->first_time - t0);
	jw_sec(w, "last_time", c->last_time - t0);
	jw_u64(w, "first_packet", c->first_packet);
	jw_u64(w, "last_packet", c->last_packet);
	jw_name(w, "close_initiator", az_initiator_name(c->initiator));
	jw_name(w, "kind", az_kind_name(c->kind));
	jw_name(w, "client_end", az_state_name(c->client_end));
	jw_name(w, "server_end", az_state_name(c->server_end));
	if (c->tls_records_c2s || c->tls_records_s2c) {
		const char *v = az_tls_version_name(c->tls_version);
		jw_open(w, "tls", '{');
		if (v)
			jw_name(w, "version", v);
		else
			jw_null(w, "version");
		jw_open(w, "records", '{');
		jw_u64(w, "c2s", c->tls_records_c2s);
		jw_u64(w, "s2c", c->tls_records_s2c);
		jw_close(w, '}');
		jw_bool(w, "decrypted", c->tls_decrypted);
		jw_u64(w, "records_decrypted", c->tls_records_decrypted);
		jw_open(w, "not_decrypted", '{');
		for (int r = 0; r < AZ_TLS_NSKIPS; r++)
			jw_u64(w, az_tls_skip_name((enum az_tls_skip)r), c->tls_not_decrypted[r]);
		jw_close(w, '}');
		jw_close(w, '}');
	} else {
		jw_null(w, "tls");
	}
	jw_name(w, "zeek_conn_state", az_zeek_state_name(c->zeek_state));
	jw_name(w, "zeek_history", c->zeek_history);
	jw_name(w, "zeek_orig", c->zeek_orig_is_client ? "client" : "server");
	jw_dir(w, "c2s", &c->c2s);
	jw_dir(w, "s2c", &c->s2c);
	jw_bool(w, "lingered", c->lingered);
	if (c->lingered) {
		jw_open(w, "linger", '{');
		jw_sec(w, "seconds", c->linger_seconds);
		jw_u64(w, "bytes_drained", c->linger_bytes);
		jw_name(w, "ended_by", az_linger_end_name(c->linger_end));
		jw_close(w, '}');
	} else {
		jw_null(w, "linger");
	}
	jw_open(w, "fin_wait_2", '{');
	jw_fw2(w, "server", &c->server_fw2, AZ_SERVER, t0);
	jw_fw2(w, "client", &c->client_fw2, AZ_CLIENT, t0);
	jw_close(w, '}');
	jw_open(w, "http", '{');
	jw_u64(w, "requests", c->http_requests);
	jw_open(w, "responses", '[');
	for (unsigned i = 0; i < c->n_responses && i < AZ_MAX_HTTP_RESPONSES; i++) {
		jw_open(w, NULL, '{');
		jw_u64(w, "index", i + 1);
		jw_u64(w, "status", c->responses[i].status);
		jw_bool(w, "complete", c->responses[i].complete);
		if (c->responses[i].parse_lost)
			jw_bool(w, "parse_lost", true);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_u64(w, "unanswered", c->http_unanswered);
	jw_close(w, '}');
	jw_opt_u64(w, "finding", c->finding >= 0, (uint64_t)(c->finding >= 0 ? c->finding : 0));
	int32_t fx[2];
	unsigned nf = conn_findings(c, fx);
	jw_open(w, "findings", '[');
	for (unsigned i = 0; i < nf; i++)
		jw_u64(w, NULL, (uint64_t)fx[i]);
	jw_close(w, ']');
	jw_bool(w, "evicted", c->evicted);
	jw_close(w, '}');
}

int report_conn_line(FILE *f, const struct az_conn *c, double t0)
{
	struct jw w;
	w.len = 0;
	w.full = false;
	w.comma = false;
	jw_conn(&w, c, t0);
	jw_raw(&w, "\n", 1);
	if (w.full) {
		errno = EOVERFLOW;
		return -1;
	}
	return fwrite(w.buf, 1, w.len, f) == w.len ? 0 : -1;
}
