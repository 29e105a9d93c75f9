/*
 * tlsdec.c - TLS records decrypted with a key log (see tlsdec.h).
 *
 * Sections: the record layer (key schedules and one record's AEAD open,
 * with OpenSSL's libcrypto: EVP_KDF "HKDF" and "TLS1-PRF", EVP AEAD
 * ciphers), then one connection (matching, buffers, phases, the HTTP
 * inside), then the counts.
 */
#include "analyzer/tlsdec.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "analyzer/seq.h"
#include "analyzer/tls.h"

enum { ALG_NONE = 0, ALG_AES_GCM, ALG_CHACHA };
enum { PH_PLAIN = 0, PH_HS, PH_AP };

#define TAG_LEN 16
#define MAP_N 8

/* ---- the record layer ------------------------------------------------ */

static const struct suite {
	uint16_t id;
	uint8_t alg, key_len, hash_len;
	bool tls13;
} suites[] = {
	{ 0x1301, ALG_AES_GCM, 16, 32, true },   /* TLS_AES_128_GCM_SHA256 */
	{ 0x1302, ALG_AES_GCM, 32, 48, true },   /* TLS_AES_256_GCM_SHA384 */
	{ 0x1303, ALG_CHACHA, 32, 32, true },    /* TLS_CHACHA20_POLY1305_SHA256 */
	/* TLS 1.2 AEAD suites (RFC 5288, RFC 5289, RFC 7905) */
	{ 0x009C, ALG_AES_GCM, 16, 32, false },  /* RSA_WITH_AES_128_GCM_SHA256 */
	{ 0x009D, ALG_AES_GCM, 32, 48, false },  /* RSA_WITH_AES_256_GCM_SHA384 */
	{ 0x009E, ALG_AES_GCM, 16, 32, false },  /* DHE_RSA_WITH_AES_128_GCM_SHA256 */
	{ 0x009F, ALG_AES_GCM, 32, 48, false },  /* DHE_RSA_WITH_AES_256_GCM_SHA384 */
	{ 0x00A2, ALG_AES_GCM, 16, 32, false },  /* DHE_DSS_WITH_AES_128_GCM_SHA256 */
	{ 0x00A3, ALG_AES_GCM, 32, 48, false },  /* DHE_DSS_WITH_AES_256_GCM_SHA384 */
	{ 0xC02B, ALG_AES_GCM, 16, 32, false },  /* ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 */
	{ 0xC02C, ALG_AES_GCM, 32, 48, false },  /* ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 */
	{ 0xC02F, ALG_AES_GCM, 16, 32, false },  /* ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
	{ 0xC030, ALG_AES_GCM, 32, 48, false },  /* ECDHE_RSA_WITH_AES_256_GCM_SHA384 */
	{ 0xCCA8, ALG_CHACHA, 32, 32, false },   /* ECDHE_RSA_WITH_CHACHA20_POLY1305 */
	{ 0xCCA9, ALG_CHACHA, 32, 32, false },   /* ECDHE_ECDSA_WITH_CHACHA20_POLY1305 */
	{ 0xCCAA, ALG_CHACHA, 32, 32, false },   /* DHE_RSA_WITH_CHACHA20_POLY1305 */
};

static const struct suite *suite_of(uint16_t id)
{
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i].id == id)
			return &suites[i];
	return NULL;
}

size_t tlsdec_suite_hash(uint16_t suite)
{
	const struct suite *s = suite_of(suite);

	return s ? s->hash_len : 0;
}

static const char *md_name(size_t hash_len)
{
	return hash_len == 48 ? "SHA384" : "SHA256";
}

int tlsdec_expand_label(size_t hash_len, const uint8_t *secret, size_t slen,
                        const char *label, const uint8_t *context, size_t clen,
                        uint8_t *out, size_t out_len)
{
	/* struct HkdfLabel: uint16 length, opaque label<7..255> = "tls13 " +
	 * label, opaque context<0..255> (RFC 8446 7.1) */
	uint8_t info[2 + 1 + 255 + 1 + 255];
	size_t ll = strlen(label), n = 0;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, rc = -1;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kc = NULL;
	OSSL_PARAM params[5];

	if (6 + ll > 255 || clen > 255 || out_len > 0xffff || slen == 0)
		return -1;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = (uint8_t)clen;
	if (clen)
		memcpy(info + n, context, clen);
	n += clen;
	if (!(kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) || !(kc = EVP_KDF_CTX_new(kdf)))
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	                                             (char *)md_name(hash_len), 0);
	params[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	                                              (void *)secret, slen);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	params[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kc, out, out_len, params) > 0)
		rc = 0;
out:
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(kdf);
	return rc;
}

int tlsdec_keys13(struct tlsdec_cipher *c, uint16_t suite,
                  const uint8_t *secret, size_t slen)
{
	const struct suite *s = suite_of(suite);

	memset(c, 0, sizeof(*c));
	if (!s || !s->tls13 || slen != s->hash_len)
		return -1;
	if (tlsdec_expand_label(s->hash_len, secret, slen, "key", NULL, 0, c->key, s->key_len) ||
	    tlsdec_expand_label(s->hash_len, secret, slen, "iv", NULL, 0, c->iv, 12))
		return -1;
	c->alg = s->alg;
	c->key_len = s->key_len;
	return 0;
}

/* TLS 1.2's PRF (RFC 5246 5) with the suite's hash: EVP_KDF "TLS1-PRF". */
static int prf12(size_t hash_len, const uint8_t *secret, size_t slen,
                 const uint8_t *seed, size_t seed_len, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[4];
	int rc = -1;

	if (!kc)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	                                             (char *)md_name(hash_len), 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
	                                              (void *)secret, slen);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED,
	                                              (void *)seed, seed_len);
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kc, out, out_len, params) > 0)
		rc = 0;
out:
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(kdf);
	return rc;
}

int tlsdec_keys12(struct tlsdec_cipher *client, struct tlsdec_cipher *server,
                  uint16_t suite, const uint8_t master[48],
                  const uint8_t client_random[32], const uint8_t server_random[32])
{
	const struct suite *s = suite_of(suite);
	uint8_t seed[13 + 64], kb[2 * 32 + 2 * 12];
	size_t iv_len;

	memset(client, 0, sizeof(*client));
	memset(server, 0, sizeof(*server));
	if (!s || s->tls13)
		return -1;
	/* key_block = PRF(master, "key expansion", server_random +
	 * client_random): client MAC, server MAC (none for AEAD), client key,
	 * server key, client IV, server IV (RFC 5246 6.3); the IV is GCM's
	 * 4-byte salt (RFC 5288 3) or ChaCha20's 12 bytes (RFC 7905 2) */
	memcpy(seed, "key expansion", 13);
	memcpy(seed + 13, server_random, 32);
	memcpy(seed + 45, client_random, 32);
	iv_len = s->alg == ALG_AES_GCM ? 4 : 12;
	if (prf12(s->hash_len, master, 48, seed, sizeof(seed), kb,
	          2 * (size_t)s->key_len + 2 * iv_len))
		return -1;
	memcpy(client->key, kb, s->key_len);
	memcpy(server->key, kb + s->key_len, s->key_len);
	memcpy(client->iv, kb + 2 * s->key_len, iv_len);
	memcpy(server->iv, kb + 2 * s->key_len + iv_len, iv_len);
	client->alg = server->alg = s->alg;
	client->key_len = server->key_len = s->key_len;
	client->explicit_nonce = server->explicit_nonce = s->alg == ALG_AES_GCM;
	return 0;
}

static const EVP_CIPHER *evp_of(const struct tlsdec_cipher *c)
{
	if (c->alg == ALG_CHACHA)
		return EVP_chacha20_poly1305();
	if (c->alg == ALG_AES_GCM)
		return c->key_len == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
	return NULL;
}

static int open_with(EVP_CIPHER_CTX *ctx, struct tlsdec_cipher *c, bool tls13,
                     const uint8_t hdr[5], const uint8_t *body, size_t n,
                     uint8_t *out, size_t *out_n, uint8_t *type)
{
	const EVP_CIPHER *cipher = evp_of(c);
	uint8_t nonce[12], aad[13];
	size_t aad_len, skip = 0, ct_len, i;
	int l1 = 0, l2 = 0;

	if (!cipher || !ctx)
		return -1;
	if (!tls13 && c->explicit_nonce) {
		/* RFC 5288 3: nonce = salt (4) || explicit part (8, sent) */
		if (n < 8 + TAG_LEN)
			return -1;
		memcpy(nonce, c->iv, 4);
		memcpy(nonce + 4, body, 8);
		skip = 8;
	} else {
		/* RFC 8446 5.3, RFC 7905 2: iv XOR the 64-bit sequence number */
		if (n < TAG_LEN + (tls13 ? 1 : 0))
			return -1;
		memcpy(nonce, c->iv, 12);
		for (i = 0; i < 8; i++)
			nonce[4 + i] ^= (uint8_t)(c->seq >> (56 - 8 * i));
	}
	ct_len = n - skip - TAG_LEN;
	if (tls13) {
		memcpy(aad, hdr, 5);               /* RFC 8446 5.2 */
		aad_len = 5;
	} else {
		/* RFC 5246 6.2.3.3: seq, type, version, plaintext length */
		for (i = 0; i < 8; i++)
			aad[i] = (uint8_t)(c->seq >> (56 - 8 * i));
		aad[8] = hdr[0];
		aad[9] = hdr[1];
		aad[10] = hdr[2];
		aad[11] = (uint8_t)(ct_len >> 8);
		aad[12] = (uint8_t)ct_len;
		aad_len = 13;
	}
	if (EVP_CIPHER_CTX_reset(ctx) != 1 ||
	    EVP_DecryptInit_ex(ctx, cipher, NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, c->key, nonce) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &l1, aad, (int)aad_len) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &l1, body + skip, (int)ct_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
	                        (void *)(body + skip + ct_len)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, out + l1, &l2) != 1)
		return -1;
	*out_n = (size_t)l1 + (size_t)l2;
	if (tls13) {
		/* TLSInnerPlaintext: content, type, zeros (RFC 8446 5.2) */
		while (*out_n > 0 && out[*out_n - 1] == 0)
			(*out_n)--;
		if (*out_n == 0)
			return -1;
		*type = out[--(*out_n)];
	} else {
		*type = hdr[0];
	}
	c->seq++;
	return 0;
}

int tlsdec_open(struct tlsdec_cipher *c, bool tls13, const uint8_t hdr[5],
                const uint8_t *body, size_t n, uint8_t *out, size_t *out_n,
                uint8_t *type)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int rc = open_with(ctx, c, tls13, hdr, body, n, out, out_n, type);

	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* ---- one connection -------------------------------------------------- */

/* A plaintext position and the record it came in. */
struct pmap {
	uint32_t pt, start, end;
};

struct ddir {
	uint8_t phase;                /* PH_*: which cipher opens the next record */
	bool has_hs, has_ap;
	struct tlsdec_cipher hs, ap;
	uint8_t secret[TLSKEYS_SECRET_MAX]; /* TLS 1.3: the application
	                                 secret in force (for a KeyUpdate) */
	uint8_t slen;
	uint8_t *buf;                 /* lent while a record is being read */
	uint32_t fill;                /* captured body bytes in buf */
	uint32_t wire;                /* body bytes on the wire so far */
	bool cut, nobuf;
	uint8_t unopened;             /* TLS 1.3 handshake phase: records the
	                                 handshake keys did not open (one of them
	                                 may have been the first data record) */
	uint32_t pt_next;             /* the HTTP parser's next position */
	uint32_t last_data_end;       /* raw end of the last data record */
	uint8_t map_n, map_head;
	struct pmap map[MAP_N];
	struct http_dir hp;
	uint32_t decrypted;
	uint32_t skip[AZ_TLS_NSKIPS];
	uint32_t plain;               /* TLS 1.3 records after a compatibility
	                                 ChangeCipherSpec that were not
	                                 protected (not application_data on the
	                                 wire: a second hello after a
	                                 HelloRetryRequest) */
};

struct tlsdec {
	uint16_t version, suite;
	bool tls13;
	int8_t skip_all;              /* enum az_tls_skip for every record, or -1 */
	size_t hash_len;
	struct ddir d[2];
};

void tlsdec_hello(const struct tls_sink *s, const struct tls_dir *t)
{
	const struct tlskeys_session *k;
	struct tlsdec *dec;
	int d;

	if (!s->ctx || !s->ctx->keys || *s->dec || s->d != AZ_S2C ||
	    !s->peer || !s->peer->hello_random)
		return;
	k = tlskeys_find(s->ctx->keys, tls_random(s->peer));
	if (!k)
		return; /* its records count as no_keys */
	if (!(dec = calloc(1, sizeof(*dec))))
		return;
	dec->version = t->version;
	dec->suite = t->suite;
	dec->tls13 = t->version == 0x0304;
	dec->skip_all = -1;
	dec->hash_len = tlsdec_suite_hash(t->suite);
	for (d = 0; d < 2; d++) {
		http_dir_init(&dec->d[d].hp);
		http_begin(&dec->d[d].hp, 0);
	}
	/* a HelloRetryRequest (RFC 8446 4.1.4) names the suite too, and the
	 * second ClientHello keeps the random: nothing changes here */
	if (dec->hash_len == 0) {
		dec->skip_all = AZ_TLS_SKIP_CIPHER;
	} else if (dec->tls13) {
		static const int hs[2] = { TLSKEYS_CLIENT_HS, TLSKEYS_SERVER_HS };
		static const int ap[2] = { TLSKEYS_CLIENT_AP, TLSKEYS_SERVER_AP };

		for (d = 0; d < 2; d++) {
			struct ddir *D = &dec->d[d];

			D->phase = PH_HS;
			D->has_hs = k->len[hs[d]] &&
			            tlsdec_keys13(&D->hs, t->suite, k->secret[hs[d]], k->len[hs[d]]) == 0;
			D->has_ap = k->len[ap[d]] &&
			            tlsdec_keys13(&D->ap, t->suite, k->secret[ap[d]], k->len[ap[d]]) == 0;
			if (D->has_ap) {
				memcpy(D->secret, k->secret[ap[d]], k->len[ap[d]]);
				D->slen = k->len[ap[d]];
			}
		}
		if (!dec->d[0].has_ap && !dec->d[1].has_ap)
			dec->skip_all = AZ_TLS_SKIP_NO_KEYS;
	} else if (!k->len[TLSKEYS_MASTER] || !t->hello_random) {
		dec->skip_all = AZ_TLS_SKIP_NO_KEYS;
	} else if (tlsdec_keys12(&dec->d[AZ_C2S].ap, &dec->d[AZ_S2C].ap, t->suite,
	                         k->secret[TLSKEYS_MASTER], tls_random(s->peer),
	                         tls_random(t)) != 0) {
		dec->skip_all = AZ_TLS_SKIP_CIPHER;
	} else {
		dec->d[0].has_ap = dec->d[1].has_ap = true;
	}
	*s->dec = dec;
}

static uint8_t *buf_take(struct tlsdec_ctx *ctx)
{
	uint8_t *b;

	if (ctx->lent >= TLSDEC_MAX_LIVE)
		return NULL;
	b = ctx->n_spare ? ctx->spare[--ctx->n_spare] : malloc(TLSDEC_RECORD_MAX);
	if (b)
		ctx->lent++;
	return b;
}

static void buf_give(struct tlsdec_ctx *ctx, struct ddir *D)
{
	if (D->buf) {
		if (ctx->n_spare < TLSDEC_SPARE)
			ctx->spare[ctx->n_spare++] = D->buf;
		else
			free(D->buf);
		ctx->lent--;
		D->buf = NULL;
	}
	D->fill = D->wire = 0;
	D->cut = D->nobuf = false;
}

void tlsdec_body(const struct tls_sink *s, const uint8_t *p, uint32_t n, uint32_t wire)
{
	struct tlsdec *dec = *s->dec;
	struct ddir *D = &dec->d[s->d & 1];

	if (dec->skip_all >= 0 || D->nobuf)
		return;
	if (!D->buf && !(D->buf = buf_take(s->ctx))) {
		D->nobuf = true;
		return;
	}
	if (n < wire)
		D->cut = true;
	if (n > TLSDEC_RECORD_MAX - D->fill)
		n = TLSDEC_RECORD_MAX - D->fill;   /* tls.c's bound: never */
	memcpy(D->buf + D->fill, p, n);
	D->fill += n;
	D->wire += wire;
}

static void map_push(struct ddir *D, uint32_t pt, const struct tls_rec *r)
{
	struct pmap m = { pt, r->start, r->end };

	if (D->map_n < MAP_N) {
		D->map[(D->map_head + D->map_n) % MAP_N] = m;
		D->map_n++;
	} else {
		D->map[D->map_head] = m;
		D->map_head = (uint8_t)((D->map_head + 1) % MAP_N);
	}
}

/* The raw start of the record that held plaintext position pt (the
 * oldest known when it is older than the map). */
static uint32_t map_start(const struct ddir *D, uint32_t pt)
{
	for (int k = (int)D->map_n - 1; k >= 0; k--) {
		const struct pmap *m = &D->map[(D->map_head + k) % MAP_N];

		if (seq_leq(m->pt, pt) || k == 0)
			return m->start;
	}
	return 0;
}

/* Plaintext of an application_data record r to the HTTP parser; the
 * responses it starts or ends are set on the records (see tlsdec.h). */
static void feed_http(struct ddir *D, struct http_conn *h, int d,
                      const struct tls_rec *r, const uint8_t *pt, size_t n)
{
	uint8_t n_before = h->n_resp;
	int32_t open_before = h->open_response;

	if (n == 0)
		return;
	map_push(D, D->pt_next, r);
	http_segment(h, &D->hp, d, D->pt_next, pt, (uint32_t)n, (uint32_t)n);
	D->pt_next += (uint32_t)n;
	D->last_data_end = r->end;
	for (int k = 0; k < h->n_resp; k++) {
		struct az_http_response *x = &h->resp[k];

		if (k >= n_before)
			x->seq_start = map_start(D, x->seq_start);
		if ((k >= n_before || k == open_before) && x->complete)
			x->seq_end = r->end;
	}
}

/* A close_notify from the server ends a response that runs to the close. */
static void close_http(struct ddir *D, struct http_conn *h, int d)
{
	int32_t open = h->open_response;

	http_fin(h, &D->hp, d, D->pt_next);
	if (open >= 0 && h->resp[open].complete)
		h->resp[open].seq_end = D->last_data_end;
}

/* TLS 1.3 KeyUpdate (RFC 8446 4.6.3, 7.2): the next application secret. */
static void key_update(struct tlsdec *dec, struct ddir *D)
{
	uint8_t next[TLSKEYS_SECRET_MAX];

	if (tlsdec_expand_label(dec->hash_len, D->secret, D->slen, "traffic upd",
	                        NULL, 0, next, D->slen) != 0 ||
	    tlsdec_keys13(&D->ap, dec->suite, next, D->slen) != 0) {
		D->has_ap = false;
		return;
	}
	memcpy(D->secret, next, D->slen);
}

void tlsdec_record(const struct tls_sink *s, const struct tls_dir *t,
                   const uint8_t hdr[5], const struct tls_rec *r,
                   struct tlsdec_result *res)
{
	struct tlsdec *dec = *s->dec;
	int d = s->d & 1;
	struct ddir *D = &dec->d[d];
	uint32_t len = (uint32_t)hdr[3] << 8 | hdr[4];
	uint8_t *out, type = 0;
	EVP_CIPHER_CTX *evp;
	size_t n = 0;
	int reason = -1;
	bool ok = false;

	(void)t;
	res->decrypted = false;
	res->inner = 0;
	res->alert = -1;
	if (r->type == AZ_TLS_CHANGE_CIPHER_SPEC && !dec->tls13) {
		/* RFC 5246 7.1: what follows is under the new keys, from 0 */
		D->phase = PH_AP;
		D->ap.seq = 0;
	}
	if (!r->encrypted)
		goto out;
	if (dec->tls13 && r->type != AZ_TLS_APPLICATION_DATA) {
		/* TLS 1.3 protects records as application_data only (RFC
		 * 8446 5.2): this one is in the clear */
		D->plain++;
		goto out;
	}
	if (!s->ctx->scratch && !(s->ctx->scratch = malloc(TLSDEC_RECORD_MAX)))
		D->nobuf = true;
	if (!s->ctx->evp && !(s->ctx->evp = EVP_CIPHER_CTX_new()))
		D->nobuf = true;
	if (dec->skip_all >= 0)
		reason = dec->skip_all;
	else if (D->phase == PH_PLAIN || (!D->has_ap && !D->has_hs))
		reason = AZ_TLS_SKIP_NO_KEYS;
	else if (D->nobuf)
		reason = AZ_TLS_SKIP_NO_MEMORY;
	else if (D->cut || D->fill != len || D->wire != len)
		reason = AZ_TLS_SKIP_INCOMPLETE;
	if (reason >= 0) {
		/* the receiver took the record whole: keep the count */
		if (D->phase == PH_HS && D->unopened < UINT8_MAX)
			D->unopened++;
		if (D->phase == PH_HS && D->has_hs)
			D->hs.seq++;
		else if (D->phase == PH_AP)
			D->ap.seq++;
		D->skip[reason]++;
		goto out;
	}
	out = s->ctx->scratch;
	evp = s->ctx->evp;
	if (D->phase == PH_HS) {
		ok = D->has_hs && open_with(evp, &D->hs, true, hdr, D->buf, len, out, &n, &type) == 0;
		/* the first data record: its sequence number is 0, or more if
		 * records the handshake keys did not open were data (lost to
		 * the capture, damaged): a few are tried */
		for (uint32_t q = 0; !ok && D->has_ap && q <= D->unopened && q < 4; q++) {
			D->ap.seq = q;
			ok = open_with(evp, &D->ap, true, hdr, D->buf, len, out, &n, &type) == 0;
			if (ok)
				D->phase = PH_AP;
		}
		if (!ok) {
			if (D->unopened < UINT8_MAX)
				D->unopened++;
			D->skip[D->has_hs ? AZ_TLS_SKIP_AUTH : AZ_TLS_SKIP_HANDSHAKE]++;
			if (D->has_hs)
				D->hs.seq++;
			goto out;
		}
	} else {
		ok = D->has_ap && open_with(evp, &D->ap, dec->tls13, hdr, D->buf, len, out, &n, &type) == 0;
		if (!ok) {
			D->skip[AZ_TLS_SKIP_AUTH]++;
			D->ap.seq++;
			goto out;
		}
	}
	D->decrypted++;
	res->decrypted = true;
	res->inner = type;
	switch (type) {
	case AZ_TLS_APPLICATION_DATA:
		if (D->phase == PH_AP)
			feed_http(D, s->h, d, r, out, n);
		break;
	case AZ_TLS_ALERT:
		if (n >= 2) {
			res->alert = out[1];
			if (out[1] == 0 && d == AZ_S2C)
				close_http(D, s->h, d);
		}
		break;
	case AZ_TLS_HANDSHAKE:
		/* a KeyUpdate whole in its record */
		if (dec->tls13 && D->phase == PH_AP && n >= 5 && out[0] == 24)
			key_update(dec, D);
		break;
	default:
		break;
	}
out:
	buf_give(s->ctx, D);
}

/* ---- counts ---------------------------------------------------------- */

uint32_t tlsdec_counts(const struct tlsdec *dec, const struct tls_dir *td,
                       uint32_t *skip)
{
	uint32_t decrypted = 0;

	for (int d = 0; d < 2; d++) {
		uint32_t told = 0;

		if (dec) {
			decrypted += dec->d[d].decrypted;
			told = dec->d[d].decrypted + dec->d[d].plain;
			for (int r = 0; r < AZ_TLS_NSKIPS; r++) {
				skip[r] += dec->d[d].skip[r];
				told += dec->d[d].skip[r];
			}
		}
		/* records never told: no decryptor (no_keys), or still being
		 * read when the capture (or the reading) ended */
		if (td[d].encrypted > told)
			skip[dec ? AZ_TLS_SKIP_INCOMPLETE : AZ_TLS_SKIP_NO_KEYS] +=
			    td[d].encrypted - told;
	}
	return decrypted;
}

void tlsdec_keep(struct tlsdec_kept *k, const struct tlsdec *dec,
                 const struct tls_dir *td)
{
	uint32_t skip[AZ_TLS_NSKIPS] = { 0 };
	uint32_t n = tlsdec_counts(dec, td, skip);

	k->decrypted = n > UINT16_MAX ? UINT16_MAX : (uint16_t)n;
	for (int r = 0; r < AZ_TLS_NSKIPS; r++)
		k->skip[r] = skip[r] > UINT16_MAX ? UINT16_MAX : (uint16_t)skip[r];
}

bool tlsdec_decrypted(const struct tlsdec *dec, int d)
{
	return dec && dec->d[d & 1].decrypted > 0;
}

void tlsdec_free(struct tlsdec_ctx *ctx, struct tlsdec *dec)
{
	if (!dec)
		return;
	for (int d = 0; d < 2; d++)
		buf_give(ctx, &dec->d[d]);
	free(dec);
}

void tlsdec_ctx_free(struct tlsdec_ctx *ctx)
{
	while (ctx->n_spare > 0)
		free(ctx->spare[--ctx->n_spare]);
	free(ctx->scratch);
	ctx->scratch = NULL;
	EVP_CIPHER_CTX_free(ctx->evp);
	ctx->evp = NULL;
}

const char *az_tls_skip_name(enum az_tls_skip r)
{
	static const char *const names[AZ_TLS_NSKIPS] = {
		"no_keys", "cipher", "handshake", "auth_failed", "incomplete", "no_memory",
	};

	return (unsigned)r < AZ_TLS_NSKIPS ? names[r] : "?";
}

const char *az_tls_close_notify_name(enum az_tls_close_notify c)
{
	switch (c) {
	case AZ_TLS_CN_ALERT_RECORD: return "alert_record";
	case AZ_TLS_CN_NONE: return "none";
	default: return "cannot_tell";
	}
}
