/*
 * tls.h - TLS record boundaries in one direction of a connection, without
 * keys: enough to say which records a RST put at risk ("the last 2
 * records: 1 alert, 1 application data") and which TLS version the
 * server chose.
 *
 * Input is the TCP payload of each segment with its raw sequence number,
 * as for http.h. A direction is TLS when its first bytes are a record
 * header (content type 20-23, version 3.x, a length a record may have);
 * anything else, a header that breaks those rules later, or a gap in the
 * bytes (a segment past the next expected byte, a snaplen cut inside a
 * header) stops the parse of that direction for good: what was recorded
 * stays. Record bodies are skipped by count, so a body cut by the snaplen
 * costs nothing. The server's ServerHello is read (bounded) for the
 * version: TLS 1.3 shows only in its supported_versions extension.
 *
 * State is fixed in size; nothing is allocated.
 */
#ifndef LL_ANALYZER_TLS_H
#define LL_ANALYZER_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include "analyzer/analyzer.h"

struct tls_sink; /* analyzer/tlsdec.h */

#define TLS_RING 8          /* latest records kept per direction */
#define TLS_HELLO_MAX 160   /* ServerHello bytes read for the version */

/* One record: [start, end) in raw sequence numbers, header included. */
struct tls_rec {
	uint32_t start, end;
	uint8_t type;              /* enum az_tls_type, as on the wire */
	uint8_t inner;             /* decrypted: its true type (TLS 1.3's
	                              inner one); 0 if not decrypted */
	bool encrypted;            /* protected: application_data, or after
	                              this direction's ChangeCipherSpec */
	int8_t alert;              /* decrypted alert: its description
	                              (0 close_notify), else -1 */
};

struct tls_dir {
	uint8_t mode;              /* private: unknown, records, off */
	bool begun;
	uint8_t hdr_n;             /* header bytes of the next record so far */
	uint8_t hdr[5];
	uint8_t n, head;           /* ring[]: n records, oldest at head */
	uint16_t version;          /* the version chosen, from the ServerHello
	                              (0x0304 for 1.3), or 0 */
	uint8_t hello_n;           /* bytes of the first handshake record */
	bool hello_done;
	uint32_t next;             /* raw seq of the next byte to parse */
	uint32_t remaining;        /* body bytes of the current record left */
	uint32_t records;          /* records seen */
	uint32_t encrypted;        /* of them, protected ones (see tls_rec) */
	bool ccs;                  /* a ChangeCipherSpec was seen */
	bool hello_random;         /* hello[6..38) holds the Client/ServerHello's
	                              random (tls_random()) */
	uint16_t suite;            /* ServerHello: the cipher suite, or 0 */
	struct tls_rec cur;        /* the record being read */
	struct tls_rec ring[TLS_RING];
	uint8_t hello[TLS_HELLO_MAX];
};

void tls_dir_init(struct tls_dir *t);

/* The direction's byte stream starts at raw sequence number seq. */
void tls_begin(struct tls_dir *t, uint32_t seq);

/* Payload of one segment: seq its first byte's raw sequence number,
 * caplen bytes captured out of seg_len on the wire. sink: NULL, or where
 * record bodies go to be decrypted (analyzer/tlsdec.h). */
void tls_segment(struct tls_dir *t, uint32_t seq, const uint8_t *p,
                 uint32_t caplen, uint32_t seg_len, const struct tls_sink *sink);

/* The random of the direction's hello (32 bytes), or NULL. */
static inline const uint8_t *tls_random(const struct tls_dir *t)
{
	return t->hello_random ? t->hello + 6 : NULL;
}

/* True once the direction has shown TLS records. */
bool tls_seen(const struct tls_dir *t);

/* The records of t that end after lo and start before hi (raw): the
 * ones whose bytes in [lo, hi) were at risk. Fills out (oldest first, at
 * most max) and returns how many there are in the ring (they may be more
 * than max). A record still being read counts, up to hi. */
uint32_t tls_records_in(const struct tls_dir *t, uint32_t lo, uint32_t hi,
                        uint8_t *types, uint32_t max);

/* The same records, told with what decryption found: types[] get the true
 * types (the inner ones where decrypted); *undecrypted counts encrypted
 * records among them not decrypted, *close_notify the decrypted
 * close_notify alerts. */
uint32_t tls_records_told(const struct tls_dir *t, uint32_t lo, uint32_t hi,
                          uint8_t *types, uint32_t max, uint32_t *undecrypted,
                          uint32_t *close_notify);

#endif
