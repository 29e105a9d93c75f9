/*
 * fuzz_tlsdec.c - libFuzzer target for TLS decryption with a key log
 * (analyzer/tlsdec.c through analyzer/tls.c's sink), and for the record
 * opener alone.
 *
 * The harness holds a key log with one session (TLS 1.3 traffic secrets
 * and a TLS 1.2 master secret for the client random 0x5a...). The input
 * chooses the version and suite (AES-128/256-GCM, ChaCha20, a CBC suite),
 * then a list of records: direction, inner type, plaintext (HTTP bytes,
 * alerts, KeyUpdates, anything), and whether to seal it properly, break
 * its tag or send it raw. The harness builds both byte streams (hellos,
 * ChangeCipherSpec, sealed records under the right keys and sequence
 * numbers), cuts them into segments where the input says (some captured
 * short, some sent twice, a hole), and feeds them through tls_segment()
 * with a decrypting sink, interleaving the directions. Whatever the
 * bytes: memory stays in bounds, buffers go back to the pool, the counts
 * hold together (decrypted + not decrypted = encrypted records; under
 * TLS 1.3 at most that: a record in the clear is neither), the
 * HTTP responses stay within their table with starts before ends, and a
 * record opened alone never yields more plaintext than it had bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "analyzer/tls.h"
#include "analyzer/tlsdec.h"
#include "analyzer/tlskeys.h"

#define STREAM_MAX (1 << 17)

static struct tlskeys *keys;
static uint8_t rnd[32];
static uint8_t s13[4][48];     /* c hs, s hs, c ap, s ap */
static uint8_t cur[2][48];     /* the application secret in force, [d] */
static uint8_t master[48];

static void init(void)
{
	char text[2048], h[4][97], r[65], m[97];
	char err[256];
	size_t n;

	memset(rnd, 0x5a, 32);
	for (int i = 0; i < 32; i++)
		snprintf(r + 2 * i, 3, "%02x", rnd[i]);
	for (int k = 0; k < 4; k++)
		for (int i = 0; i < 48; i++) {
			s13[k][i] = (uint8_t)(k * 49 + i * 3 + 1);
			snprintf(h[k] + 2 * i, 3, "%02x", s13[k][i]);
		}
	for (int i = 0; i < 48; i++) {
		master[i] = (uint8_t)(200 - i);
		snprintf(m + 2 * i, 3, "%02x", master[i]);
	}
	/* random 0x5a: 32-byte secrets (SHA-256 suites) and the master
	 * secret; random 0x5b: the same secrets 48 bytes long (0x1302) */
	n = (size_t)snprintf(text, sizeof text,
	                     "CLIENT_HANDSHAKE_TRAFFIC_SECRET %s %.64s\n"
	                     "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %.64s\n"
	                     "CLIENT_TRAFFIC_SECRET_0 %s %.64s\n"
	                     "SERVER_TRAFFIC_SECRET_0 %s %.64s\n"
	                     "CLIENT_RANDOM %s %s\n",
	                     r, h[0], r, h[1], r, h[2], r, h[3], r, m);
	for (int i = 0; i < 32; i++)
		snprintf(r + 2 * i, 3, "%02x", 0x5b);
	n += (size_t)snprintf(text + n, sizeof text - n,
	                      "CLIENT_HANDSHAKE_TRAFFIC_SECRET %s %s\n"
	                      "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n"
	                      "CLIENT_TRAFFIC_SECRET_0 %s %s\n"
	                      "SERVER_TRAFFIC_SECRET_0 %s %s\n",
	                      r, h[0], r, h[1], r, h[2], r, h[3]);
	keys = tlskeys_parse(text, n, "fuzz", err, sizeof err);
	if (!keys)
		abort();
}

struct stream {
	uint8_t b[STREAM_MAX];
	size_t n;
	uint32_t encrypted;        /* records the reader must call encrypted */
};

static void put(struct stream *s, const uint8_t *p, size_t n)
{
	if (n > STREAM_MAX - s->n)
		n = STREAM_MAX - s->n;
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

static bool record(struct stream *s, uint8_t type, const uint8_t *body, size_t n)
{
	uint8_t h[5] = { type, 3, 3, (uint8_t)(n >> 8), (uint8_t)n };

	if (s->n + 5 + n > STREAM_MAX)
		return false;
	put(s, h, 5);
	put(s, body, n);
	return true;
}

static void hello(struct stream *s, int type, uint16_t suite, bool v13)
{
	uint8_t cr = suite == 0x1302 ? 0x5b : 0x5a;
	uint8_t b[128];
	size_t n = 0;

	b[n++] = (uint8_t)type;
	b[n++] = 0; b[n++] = 0; b[n++] = 0;
	b[n++] = 3; b[n++] = 3;
	memset(b + n, type == 1 ? cr : 0x11, 32);
	n += 32;
	b[n++] = 0;                                  /* session id */
	b[n++] = (uint8_t)(suite >> 8); b[n++] = (uint8_t)suite;
	b[n++] = 0;                                  /* compression */
	if (type == 2 && v13) {
		b[n++] = 0; b[n++] = 6;
		b[n++] = 0; b[n++] = 43; b[n++] = 0; b[n++] = 2; b[n++] = 3; b[n++] = 4;
	} else {
		b[n++] = 0; b[n++] = 0;
	}
	b[3] = (uint8_t)(n - 4);
	record(s, 22, b, n);
}

/* Seal pt as one record of c (TLS 1.3: inner type appended). */
static void seal(struct stream *s, struct tlsdec_cipher *c, bool v13, uint8_t type,
                 const uint8_t *pt, size_t n, bool break_tag)
{
	static uint8_t body[16384 + 256 + 64];
	uint8_t nonce[12], aad[13], hdr[5];
	size_t skip = 0, len, i;
	int l = 0;
	const EVP_CIPHER *ci = c->alg == 2 ? EVP_chacha20_poly1305()
	                       : c->key_len == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (n > 16384)
		n = 16384;
	if (!v13 && c->explicit_nonce) {
		memcpy(nonce, c->iv, 4);
		for (i = 0; i < 8; i++)
			nonce[4 + i] = body[i] = (uint8_t)(c->seq >> (56 - 8 * i));
		skip = 8;
	} else {
		memcpy(nonce, c->iv, 12);
		for (i = 0; i < 8; i++)
			nonce[4 + i] ^= (uint8_t)(c->seq >> (56 - 8 * i));
	}
	len = skip + n + (v13 ? 1 : 0) + 16;
	hdr[0] = v13 ? 23 : type;
	hdr[1] = 3; hdr[2] = 3;
	hdr[3] = (uint8_t)(len >> 8); hdr[4] = (uint8_t)len;
	if (v13) {
		memcpy(aad, hdr, 5);
	} else {
		for (i = 0; i < 8; i++)
			aad[i] = (uint8_t)(c->seq >> (56 - 8 * i));
		aad[8] = type; aad[9] = 3; aad[10] = 3;
		aad[11] = (uint8_t)(n >> 8); aad[12] = (uint8_t)n;
	}
	memcpy(body + skip, pt, n);
	if (v13)
		body[skip + n] = type;
	if (!ctx || EVP_EncryptInit_ex(ctx, ci, NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, c->key, nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &l, aad, v13 ? 5 : 13) != 1 ||
	    EVP_EncryptUpdate(ctx, body + skip, &l, body + skip, (int)(n + (v13 ? 1 : 0))) != 1 ||
	    EVP_EncryptFinal_ex(ctx, body + skip + l, &l) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, body + len - 16) != 1)
		abort();
	EVP_CIPHER_CTX_free(ctx);
	if (break_tag)
		body[len - 1] ^= 0x80;
	c->seq++;
	if (s->n + 5 + len <= STREAM_MAX) {
		put(s, hdr, 5);
		put(s, body, len);
		s->encrypted++;
	}
}

static struct stream st[2];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t suites13[] = { 0x1301, 0x1302, 0x1303, 0x1304 };
	static const uint16_t suites12[] = { 0xC02F, 0xC030, 0xCCA8, 0xC013 };
	struct tlsdec_cipher cc[2];
	struct tls_dir td[2];
	struct http_conn h;
	struct tlsdec_ctx ctx = { .keys = NULL };
	struct tlsdec *dec = NULL;
	uint8_t alert[2] = { 1, 0 };
	size_t off = 0, cut, k;
	bool v13;
	uint16_t suite;
	int d;

	if (!keys)
		init();
	ctx.keys = keys;
	if (size < 2)
		return 0;
	v13 = !(data[0] & 1);
	suite = v13 ? suites13[(data[0] >> 1) & 3] : suites12[(data[0] >> 1) & 3];
	cut = data[1];
	off = 2;
	st[0].n = st[1].n = 0;
	st[0].encrypted = st[1].encrypted = 0;
	memset(cc, 0, sizeof cc);
	hello(&st[0], 1, suite, v13);
	hello(&st[1], 2, suite, v13);
	size_t sl = suite == 0x1302 ? 48 : 32;
	if (v13) {
		tlsdec_keys13(&cc[0], suite, s13[2], sl);
		tlsdec_keys13(&cc[1], suite, s13[3], sl);
		memcpy(cur[0], s13[2], 48);
		memcpy(cur[1], s13[3], 48);
	} else {
		uint8_t cr[32], sr[32];
		memset(cr, 0x5a, 32);
		memset(sr, 0x11, 32);
		tlsdec_keys12(&cc[0], &cc[1], suite, master, cr, sr);
	}
	for (d = 0; d < 2; d++)
		record(&st[d], 20, (const uint8_t *)"\1", 1);
	/* records: ctl (dir, how, type), length, bytes */
	while (off + 2 <= size) {
		uint8_t ctl = data[off], how = (ctl >> 1) & 3;
		size_t n = data[off + 1] * (size_t)((ctl & 0x80) ? 64 : 1);
		uint8_t types[4] = { 23, 21, 22, 23 };
		uint8_t type = types[(ctl >> 3) & 3];

		d = ctl & 1;
		off += 2;
		if (n > size - off)
			n = size - off;
		if (cc[d].alg == 0 || how == 3) {
			/* raw bytes: encrypted as far as the reader can know
			 * (TLS 1.3's type 23, or after ChangeCipherSpec) */
			if (record(&st[d], v13 ? 23 : type, data + off, n))
				st[d].encrypted++;
		} else if (type == 21 && n < 2) {
			seal(&st[d], &cc[d], v13, 21, alert, 2, how == 2);
		} else {
			seal(&st[d], &cc[d], v13, type, data + off, n, how == 2);
			if (v13 && type == 22 && n >= 5 && data[off] == 24) {
				/* a KeyUpdate: the sender moves on (RFC 8446 7.2) */
				uint8_t next[48];
				if (tlsdec_expand_label(sl, cur[d], sl, "traffic upd", NULL, 0,
				                        next, sl) == 0) {
					memcpy(cur[d], next, sl);
					tlsdec_keys13(&cc[d], suite, next, sl);
				}
			}
		}
		off += n;
	}
	/* feed: alternate directions, segments of cut-chosen sizes */
	http_init(&h);
	for (d = 0; d < 2; d++)
		tls_begin(&td[d], 1000);
	size_t pos[2] = { 0, 0 };
	{
		/* the ClientHello comes first, as on the wire */
		struct tls_sink sk = { &ctx, &dec, &td[1], &h, 0 };
		size_t first = 5 + ((size_t)st[0].b[3] << 8 | st[0].b[4]);
		tls_segment(&td[0], 1000, st[0].b, (uint32_t)first, (uint32_t)first, &sk);
		pos[0] = first;
	}
	for (k = 0; pos[0] < st[0].n || pos[1] < st[1].n; k++) {
		d = (int)!(k & 1);                  /* the server's hello first */
		if (pos[d] >= st[d].n)
			continue;
		size_t len = 1 + (cut * (k + 7) + k * 131) % 1600;
		if (len > st[d].n - pos[d])
			len = st[d].n - pos[d];
		struct tls_sink sk = { &ctx, &dec, &td[!d], &h, d };
		uint32_t caplen = (uint32_t)len;
		if ((cut & 0x40) && k % 17 == 5)
			caplen = (uint32_t)(len / 2);          /* snaplen */
		tls_segment(&td[d], 1000 + (uint32_t)pos[d], st[d].b + pos[d], caplen,
		            (uint32_t)len, &sk);
		if ((cut & 0x20) && k % 13 == 3)               /* sent again */
			tls_segment(&td[d], 1000 + (uint32_t)pos[d], st[d].b + pos[d], caplen,
			            (uint32_t)len, &sk);
		pos[d] += len;
		if ((cut & 0x80) && k == 40)
			pos[d] += 3;                           /* a hole */
	}
	uint32_t skip[AZ_TLS_NSKIPS] = { 0 }, told;
	uint32_t got = tlsdec_counts(dec, td, skip);
	told = got;
	for (int r = 0; r < AZ_TLS_NSKIPS; r++)
		told += skip[r];
	/* every encrypted record is told once; under TLS 1.3 a record in
	 * the clear after a compatibility ChangeCipherSpec is neither */
	if (told > td[0].encrypted + td[1].encrypted ||
	    (!v13 && told != td[0].encrypted + td[1].encrypted))
		abort();
	if (td[0].encrypted > st[0].encrypted || td[1].encrypted > st[1].encrypted)
		abort();
	if (h.n_resp > AZ_MAX_HTTP_RESPONSES)
		abort();
	if (getenv("FUZZ_TLSDEC_SAY")) /* what a seed reaches, for its author */
		fprintf(stderr, "decrypted %u (c2s %u, s2c %u encrypted); not: %u %u %u %u %u %u; "
		        "requests %u responses %u first status %u\n", got, td[0].encrypted,
		        td[1].encrypted, skip[0], skip[1], skip[2], skip[3], skip[4], skip[5],
		        h.requests, h.responses, h.n_resp ? h.resp[0].status : 0);
	for (k = 0; k < h.n_resp; k++) {
		const struct az_http_response *r = &h.resp[k];
		if (r->seq_start < 1000 || (r->complete && r->seq_end != 0 &&
		                            r->seq_end <= r->seq_start))
			abort();
	}
	tlsdec_free(&ctx, dec);
	if (ctx.lent != 0)
		abort();
	tlsdec_ctx_free(&ctx);

	/* the opener alone, on the raw input as one record */
	if (size >= 6 && cc[1].alg) {
		static uint8_t out[1 << 16];
		size_t on = 0;
		uint8_t type;
		uint8_t hdr[5] = { data[0], 3, 3, (uint8_t)((size - 5) >> 8), (uint8_t)(size - 5) };

		if (size - 5 <= sizeof out &&
		    tlsdec_open(&cc[1], v13, hdr, data + 5, size - 5, out, &on, &type) == 0 &&
		    on > size - 5)
			abort();
	}
	return 0;
}
