/*
 * tls.c - TLS record boundaries without keys (see tls.h).
 *
 * A record header is five bytes (RFC 8446 5.1, RFC 5246 6.2.1): content
 * type (20 change_cipher_spec, 21 alert, 22 handshake, 23
 * application_data, 24 heartbeat), legacy version (major 3), length
 * (at most 2^14 + 2048, TLS 1.2's ciphertext bound, which covers 1.3's
 * 2^14 + 256). Headers may be split across segments; they are gathered in
 * hdr[]. The server's first handshake record starts with the ServerHello
 * (type 2): its legacy_version says 1.0-1.2, and a supported_versions
 * extension (43) with 0x0304 says 1.3 (RFC 8446 4.1.3, 4.2.1). A 1.3
 * ServerHello says 1.2 in legacy_version, so 1.2 holds only once every
 * extension has been read: a hello cut short (a 128-byte snaplen) gives
 * an unknown version.
 */
#include "analyzer/tls.h"

#include <string.h>

#include "analyzer/seq.h"
#include "analyzer/tlsdec.h"

enum { M_UNKNOWN, M_RECORDS, M_OFF };

#define TLS_MAX_RECORD (16384 + 2048)
#define EXT_SUPPORTED_VERSIONS 43

void tls_dir_init(struct tls_dir *t)
{
	t->mode = M_UNKNOWN;
	t->begun = false;
	t->hdr_n = 0;
	t->n = t->head = 0;
	t->version = 0;
	t->hello_n = 0;
	t->hello_done = false;
	t->remaining = 0;
	t->records = 0;
	t->encrypted = 0;
	t->ccs = false;
	t->hello_random = false;
	t->suite = 0;
}

void tls_begin(struct tls_dir *t, uint32_t seq)
{
	tls_dir_init(t);
	t->begun = true;
	t->next = seq;
}

bool tls_seen(const struct tls_dir *t)
{
	return t->records > 0;
}

static void push(struct tls_dir *t, const struct tls_rec *r)
{
	if (t->n < TLS_RING) {
		t->ring[(t->head + t->n) % TLS_RING] = *r;
		t->n++;
	} else {
		t->ring[t->head] = *r;
		t->head = (uint8_t)((t->head + 1) % TLS_RING);
	}
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/*
 * The hello in hello[0..hello_n): its random (a ClientHello's is what a
 * key log is keyed by), and of a ServerHello the cipher suite and the
 * version the server chose. A 1.3 ServerHello says 1.2 in legacy_version
 * (RFC 8446 4.1.3) and 1.3 only in supported_versions: when
 * legacy_version is 1.2 and the bytes kept (snaplen, TLS_HELLO_MAX) end
 * before the extensions do, the version is unknown (0), not 1.2. A
 * legacy_version below 1.2 decides.
 */
static void read_hello(struct tls_dir *t)
{
	const uint8_t *h = t->hello;
	size_t n = t->hello_n, off, msg_end, ext_end;
	uint16_t legacy;

	t->hello_done = true;
	t->version = 0;
	/* type 1 or 2, length (3), legacy_version (2), random (32) */
	if (n >= 4 + 2 + 32 && (h[0] == 1 || h[0] == 2))
		t->hello_random = true;
	if (n < 4 + 2 || h[0] != 2)
		return;
	legacy = be16(h + 4);
	if (legacy < 0x0303) {
		t->version = legacy;
		return;
	}
	msg_end = 4 + ((size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3]);
	off = 4 + 2 + 32;
	if (off + 1 > n)
		return;
	off += 1 + (size_t)h[off];             /* session id */
	if (off + 2 <= n)
		t->suite = be16(h + off);
	off += 2 + 1;                          /* cipher suite, compression */
	if (off >= msg_end) {
		/* no extensions at all: only up to 1.2 */
		t->version = n >= msg_end ? legacy : 0;
		return;
	}
	if (off + 2 > n)
		return;
	ext_end = off + 2 + be16(h + off);
	off += 2;
	while (off + 4 <= ext_end) {
		uint16_t type, len;

		if (off + 4 > n)
			return;                /* cut before the extensions end */
		type = be16(h + off);
		len = be16(h + off + 2);
		if (type == EXT_SUPPORTED_VERSIONS && len == 2) {
			if (off + 6 <= n)
				t->version = be16(h + off + 4);
			return;
		}
		off += 4 + (size_t)len;
	}
	t->version = legacy;                   /* every extension read */
}

static bool header_ok(const uint8_t *h)
{
	uint16_t len = be16(h + 3);
	return h[0] >= 20 && h[0] <= 24 && h[1] == 3 && h[2] <= 4 && len > 0 &&
	       len <= TLS_MAX_RECORD;
}

/* The ServerHello was read: the version, the suite; a key log may now
 * match the session. */
static void hello_read(struct tls_dir *t, const struct tls_sink *sink)
{
	read_hello(t);
	if (sink && t->hello_n > 0 && t->hello[0] == 2)
		tlsdec_hello(sink, t);
}

void tls_segment(struct tls_dir *t, uint32_t seq, const uint8_t *p,
                 uint32_t caplen, uint32_t seg_len, const struct tls_sink *sink)
{
	uint32_t skip, i;

	if (!t->begun || t->mode == M_OFF || seg_len == 0)
		return;
	if (seq_after(seq, t->next)) {
		/* a hole: where the next record starts is lost */
		t->mode = M_OFF;
		return;
	}
	skip = t->next - seq;              /* bytes already parsed */
	if (skip >= seg_len)
		return;
	i = skip;
	while (i < seg_len && t->mode != M_OFF) {
		if (t->remaining > 0) {
			uint32_t take = seg_len - i < t->remaining ? seg_len - i : t->remaining;
			/* the server's first handshake record: keep its start */
			if (t->cur.type == AZ_TLS_HANDSHAKE && !t->hello_done && t->records == 1) {
				uint32_t k;
				for (k = 0; k < take && i + k < caplen && t->hello_n < TLS_HELLO_MAX; k++)
					t->hello[t->hello_n++] = p[i + k];
				if (t->hello_n == TLS_HELLO_MAX || take == t->remaining ||
				    i + take > caplen)
					hello_read(t, sink);
			}
			if (sink && t->cur.encrypted && *sink->dec)
				tlsdec_body(sink, p + i, i >= caplen ? 0 :
				            (caplen - i < take ? caplen - i : take), take);
			t->remaining -= take;
			i += take;
			if (t->remaining == 0) {
				if (sink && *sink->dec) {
					struct tlsdec_result res;

					tlsdec_record(sink, t, t->hdr, &t->cur, &res);
					if (res.decrypted) {
						t->cur.inner = res.inner;
						t->cur.alert = (int8_t)(res.alert < 0 ? -1 :
						                        res.alert > 127 ? 127 : res.alert);
					}
				}
				push(t, &t->cur);
			}
			continue;
		}
		if (i >= caplen) {
			/* a header the capture did not keep */
			t->mode = M_OFF;
			break;
		}
		if (t->hdr_n == 0)
			t->cur.start = seq + i;
		t->hdr[t->hdr_n++] = p[i++];
		if (t->hdr_n < 5)
			continue;
		t->hdr_n = 0;
		if (!header_ok(t->hdr)) {
			t->mode = M_OFF;
			break;
		}
		t->mode = M_RECORDS;
		t->records++;
		t->cur.type = t->hdr[0];
		t->cur.inner = 0;
		t->cur.alert = -1;
		t->cur.encrypted = t->cur.type == AZ_TLS_APPLICATION_DATA ||
		                   (t->ccs && t->cur.type != AZ_TLS_CHANGE_CIPHER_SPEC);
		t->encrypted += t->cur.encrypted;
		if (t->cur.type == AZ_TLS_CHANGE_CIPHER_SPEC)
			t->ccs = true;
		t->remaining = be16(t->hdr + 3);
		t->cur.end = t->cur.start + 5 + t->remaining;
	}
	t->next = seq + i;
}

uint32_t tls_records_in(const struct tls_dir *t, uint32_t lo, uint32_t hi,
                        uint8_t *types, uint32_t max)
{
	uint32_t u, cn;

	return tls_records_told(t, lo, hi, types, max, &u, &cn);
}

uint32_t tls_records_told(const struct tls_dir *t, uint32_t lo, uint32_t hi,
                          uint8_t *types, uint32_t max, uint32_t *undecrypted,
                          uint32_t *close_notify)
{
	uint32_t k, n = 0;

	*undecrypted = *close_notify = 0;
	bool cur_open = t->mode == M_RECORDS && (t->remaining > 0 || t->hdr_n > 0);

	for (k = 0; k < (uint32_t)t->n + (cur_open ? 1 : 0); k++) {
		struct tls_rec r;

		if (k < t->n) {
			r = t->ring[(t->head + k) % TLS_RING];
		} else if (t->hdr_n > 0) {
			continue; /* a header not yet whole: no type */
		} else {
			r = t->cur;
		}
		if (!seq_after(r.end, lo) || !seq_before(r.start, hi))
			continue;
		if (n < max)
			types[n] = r.inner ? r.inner : r.type;
		n++;
		if (r.encrypted && !r.inner)
			(*undecrypted)++;
		if (r.inner == AZ_TLS_ALERT && r.alert == 0)
			(*close_notify)++;
	}
	return n;
}
