/*
 * tlskeys.h - an NSS key log (the SSLKEYLOGFILE format that OpenSSL,
 * NSS, curl and browsers write, and Wireshark reads): the secrets of TLS
 * sessions, by the ClientHello's random.
 *
 * One line per secret: LABEL SP client_random(64 hex) SP secret(hex),
 * '#' comments and blank lines allowed, CRLF tolerated. Labels kept:
 *   CLIENT_RANDOM                      TLS 1.2 and before: the master
 *                                      secret (48 bytes)
 *   CLIENT_HANDSHAKE_TRAFFIC_SECRET    TLS 1.3 (RFC 8446 7.1), 32 or 48
 *   SERVER_HANDSHAKE_TRAFFIC_SECRET      bytes (the suite's hash length)
 *   CLIENT_TRAFFIC_SECRET_0
 *   SERVER_TRAFFIC_SECRET_0
 * Other labels (EXPORTER_SECRET, CLIENT_EARLY_TRAFFIC_SECRET, RSA, ...)
 * are skipped: nothing here needs them. A line of a kept label that is
 * not well formed is an error naming FILE:LINE:COL; a later line for the
 * same random and label replaces the earlier one (as Wireshark does).
 *
 * Bounded: a line of at most TLSKEYS_LINE_MAX bytes, at most
 * TLSKEYS_MAX_SESSIONS sessions. The table is read-only once loaded and
 * may be shared by any number of analyzers.
 */
#ifndef LL_ANALYZER_TLSKEYS_H
#define LL_ANALYZER_TLSKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLSKEYS_LINE_MAX 1024
#define TLSKEYS_MAX_SESSIONS (1u << 20)
#define TLSKEYS_SECRET_MAX 48

enum tlskeys_label {
	TLSKEYS_MASTER = 0,        /* CLIENT_RANDOM */
	TLSKEYS_CLIENT_HS,         /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
	TLSKEYS_SERVER_HS,         /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
	TLSKEYS_CLIENT_AP,         /* CLIENT_TRAFFIC_SECRET_0 */
	TLSKEYS_SERVER_AP,         /* SERVER_TRAFFIC_SECRET_0 */
	TLSKEYS_NLABELS,
};

/* The secrets of one session. len[l] is 0 where the log had none. */
struct tlskeys_session {
	uint8_t random[32];
	uint8_t len[TLSKEYS_NLABELS];
	uint8_t secret[TLSKEYS_NLABELS][TLSKEYS_SECRET_MAX];
};

struct tlskeys; /* opaque */

/*
 * Parse n bytes of key log text; name is used in messages. Returns the
 * table, or NULL with err set ("NAME:LINE:COL: expected X, found Y", or
 * "NAME: ..." for a limit, or out of memory). The caller frees the table
 * with tlskeys_free().
 */
struct tlskeys *tlskeys_parse(const char *text, size_t n, const char *name,
                              char *err, size_t errlen);

/* Read and parse the file at path (at most 256 MiB). NULL with err set
 * ("PATH: No such file..." or a parse error). */
struct tlskeys *tlskeys_load(const char *path, char *err, size_t errlen);

/* The session whose ClientHello carried random, or NULL. */
const struct tlskeys_session *tlskeys_find(const struct tlskeys *k,
                                           const uint8_t random[32]);

/* Sessions in the table. */
size_t tlskeys_count(const struct tlskeys *k);

void tlskeys_free(struct tlskeys *k);

#endif
