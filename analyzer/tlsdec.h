/*
 * tlsdec.h - decrypting a connection's TLS records with the secrets of an
 * NSS key log (tlskeys.h), so that the HTTP inside can be counted as for
 * plain HTTP (http.h) and a TLS 1.3 close_notify can be told from data.
 *
 * tls.c reads the record boundaries; when the analyzer has a key log it
 * hands each record's body bytes and its end to this module (through a
 * struct tls_sink). At the server's ServerHello the connection is matched
 * to its secrets by the ClientHello's random; from then on:
 *   - TLS 1.3 (RFC 8446 7.3): key and iv from a traffic secret with
 *     HKDF-Expand-Label; the handshake secrets decrypt the encrypted
 *     handshake, the first record that opens under the application
 *     secret switches to it; a KeyUpdate moves the secret on (7.2);
 *   - TLS 1.2 (RFC 5246 6.3, RFC 5288, RFC 7905): the key block from the
 *     master secret with the PRF; records after ChangeCipherSpec are
 *     opened with the direction's key, sequence numbers from 0.
 * AEAD suites only: AES-128/256-GCM and ChaCha20-Poly1305. Others (CBC,
 * CCM) are counted as not decrypted, by reason (enum az_tls_skip).
 *
 * Plaintext of application_data goes to the HTTP parser in a sequence
 * space of its own; the responses it finds are set back on the TCP byte
 * stream by records: a response starts at the first byte of the record
 * that holds its status line and ends at the last byte of the record that
 * holds its last byte (the receiver can use none of a record's plaintext
 * before it has the whole record: the AEAD tag covers all of it).
 *
 * Memory: one struct tlsdec per matched connection (made at the
 * ServerHello, freed with the connection's extension) holding one record
 * buffer per direction (the largest record a peer may send); at most
 * TLSDEC_MAX_LIVE of them at a time, beyond which records are counted as
 * not decrypted (no_memory). Nothing is allocated per packet.
 */
#ifndef LL_ANALYZER_TLSDEC_H
#define LL_ANALYZER_TLSDEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/analyzer.h"
#include "analyzer/http.h"
#include "analyzer/tlskeys.h"

#define TLSDEC_MAX_LIVE 1024
#define TLSDEC_RECORD_MAX (16384 + 2048)   /* a ciphertext body, at most */

struct tls_dir;
struct tls_rec;

#define TLSDEC_SPARE 8

/* The analyzer's part: the key log, the record buffers (lent to a
 * direction while one of its records is incomplete, kept for reuse up to
 * TLSDEC_SPARE) and a scratch buffer for the plaintext. Zero it, set
 * keys; tlsdec_ctx_free() at the end. */
struct tlsdec_ctx {
	const struct tlskeys *keys;   /* NULL: no decryption at all */
	uint32_t lent;                /* buffers out now (<= TLSDEC_MAX_LIVE) */
	uint32_t n_spare;
	uint8_t *spare[TLSDEC_SPARE];
	uint8_t *scratch;
	void *evp;                    /* an EVP_CIPHER_CTX, made on first use */
};

/* What a connection keeps of its decryption once its extension goes
 * (saturating counts, both directions). */
struct tlsdec_kept {
	uint16_t decrypted;
	uint16_t skip[AZ_TLS_NSKIPS];
};

/* What tls_segment() needs to decrypt: the connection's decryptor slot
 * (*dec, made when the ServerHello matches), the other direction's record
 * reader (for the ClientHello's random), the HTTP counts to feed, and the
 * direction d (enum az_dir_id) of the segment. */
struct tls_sink {
	struct tlsdec_ctx *ctx;
	struct tlsdec **dec;
	const struct tls_dir *peer;
	struct http_conn *h;
	int d;
};

/* One direction's cipher state. */
struct tlsdec_cipher {
	uint8_t alg;                  /* private: none, AES-GCM, ChaCha20 */
	uint8_t key_len;
	bool explicit_nonce;          /* TLS 1.2 GCM: 8 bytes before the body */
	uint8_t key[32];
	uint8_t iv[12];               /* 4 bytes salt for TLS 1.2 GCM */
	uint64_t seq;
};

/* What a record turned out to be. */
struct tlsdec_result {
	bool decrypted;
	uint8_t inner;                /* the true content type (TLS 1.3: the
	                                 inner one) */
	int16_t alert;                /* an alert's description, -1 if none */
};

/* ---- the record layer, usable alone (tests, fuzzing) ---------------- */

/* RFC 8446 7.1's HKDF-Expand-Label(secret, label, context, out_len), with
 * the hash of hash_len bytes (32: SHA-256, 48: SHA-384). 0, or -1. */
int tlsdec_expand_label(size_t hash_len, const uint8_t *secret, size_t slen,
                        const char *label, const uint8_t *context, size_t clen,
                        uint8_t *out, size_t out_len);

/* TLS 1.3: the cipher of suite (0x1301-0x1303) from a traffic secret.
 * 0, or -1 for a suite not handled (or a secret of the wrong length). */
int tlsdec_keys13(struct tlsdec_cipher *c, uint16_t suite,
                  const uint8_t *secret, size_t slen);

/* TLS 1.2: both directions' ciphers of an AEAD suite from the master
 * secret and the two hello randoms. 0, or -1 for a suite not handled. */
int tlsdec_keys12(struct tlsdec_cipher *client, struct tlsdec_cipher *server,
                  uint16_t suite, const uint8_t master[48],
                  const uint8_t client_random[32], const uint8_t server_random[32]);

/* The hash length of a suite's PRF/HKDF (32 or 48), 0 if not handled. */
size_t tlsdec_suite_hash(uint16_t suite);

/*
 * Open one record: hdr its 5-byte header, body its n bytes (n as the
 * header says); the plaintext goes to out (room for n bytes; out may be
 * body itself), *out_n bytes. tls13: inner plaintext (the content type is
 * taken from its end, zero padding stripped, and set in *type); else
 * *type = hdr[0]. On success c->seq advances and 0 is returned; -1 (the
 * tag did not verify, the record is too short, no cipher) leaves out
 * undefined and c->seq as it was.
 */
int tlsdec_open(struct tlsdec_cipher *c, bool tls13, const uint8_t hdr[5],
                const uint8_t *body, size_t n, uint8_t *out, size_t *out_n,
                uint8_t *type);

/* ---- the connection's part (called by tls.c) ------------------------ */

/* The ServerHello of direction t (s2c) was read: match the session. */
void tlsdec_hello(const struct tls_sink *s, const struct tls_dir *t);

/* Body bytes of the record being read: n captured out of wire bytes on
 * the wire (n < wire: the capture cut them). */
void tlsdec_body(const struct tls_sink *s, const uint8_t *p, uint32_t n, uint32_t wire);

/* The record r (header hdr) is whole: open it if it is encrypted, feed
 * the HTTP parser; the outcome in *res. */
void tlsdec_record(const struct tls_sink *s, const struct tls_dir *t,
                   const uint8_t hdr[5], const struct tls_rec *r,
                   struct tlsdec_result *res);

/* The counts of a connection (dec may be NULL, td its two record
 * readers): records decrypted, and encrypted records not decrypted by
 * reason into skip[AZ_TLS_NSKIPS]: those never given to a decryptor are
 * no_keys, those still being read at the end incomplete. */
uint32_t tlsdec_counts(const struct tlsdec *dec, const struct tls_dir *td,
                       uint32_t *skip);

/* The same, kept in k. */
void tlsdec_keep(struct tlsdec_kept *k, const struct tlsdec *dec,
                 const struct tls_dir *td);

/* True when direction d had records decrypted. */
bool tlsdec_decrypted(const struct tlsdec *dec, int d);

/* Free a connection's decryptor (NULL is fine), its buffers back to ctx. */
void tlsdec_free(struct tlsdec_ctx *ctx, struct tlsdec *dec);

void tlsdec_ctx_free(struct tlsdec_ctx *ctx);

#endif
