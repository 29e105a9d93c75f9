/*
 * tlsclient.h - the TLS side of a raw-client connection: OpenSSL turns
 * plaintext into records and records back into plaintext through memory
 * BIOs, and nothing else. The raw TCP client keeps every segment, ACK
 * and timer in its own hands: it takes the bytes to send from
 * tlsc_take_out() and hands every in-order byte it receives to
 * tlsc_feed().
 *
 * Certificates are not verified unless asked (lab servers use
 * self-signed ones). Session keys can be written in the NSS key log
 * format (what Wireshark reads, SSLKEYLOGFILE) as they are made.
 */
#ifndef LL_LAB_TLSCLIENT_H
#define LL_LAB_TLSCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct tlsc;

struct tlsc_opts {
	const char *sni;           /* server name sent (and verified); NULL: none */
	int version;               /* 0: any, 12: TLS 1.2 only, 13: TLS 1.3 only */
	const char *alpn;          /* e.g. "http/1.1"; NULL: none */
	bool verify;               /* verify the chain against the system's CAs
	                              and the name against sni */
	FILE *keylog;              /* NSS key log lines go here; NULL: none */
};

/* A client ready to start its handshake. NULL and a message in err on a
 * bad option or OpenSSL failure. */
struct tlsc *tlsc_new(const struct tlsc_opts *o, char *err, size_t errlen);
void tlsc_free(struct tlsc *t);

/* Drive the handshake: 1 done, 0 waiting for the server's bytes (send
 * what tlsc_take_out() gives first), -1 failed (message in err). */
int tlsc_handshake(struct tlsc *t, char *err, size_t errlen);

/* Bytes for the wire without taking them: *p points at them (valid
 * until the next call on t); the number. tlsc_drop_out() takes n of
 * them once they are queued on the wire. */
size_t tlsc_peek_out(struct tlsc *t, const uint8_t **p);
void tlsc_drop_out(struct tlsc *t, size_t n);

/* Bytes for the wire: up to max of them into buf; the number taken. */
size_t tlsc_take_out(struct tlsc *t, uint8_t *buf, size_t max);
size_t tlsc_out_pending(const struct tlsc *t);

/* Bytes from the wire, in order. -1 if OpenSSL will not take them. */
int tlsc_feed(struct tlsc *t, const uint8_t *p, size_t n);

/* Plaintext to send (after the handshake): encrypted into records that
 * tlsc_take_out() then gives. 0, or -1 with a message. */
int tlsc_write(struct tlsc *t, const void *p, size_t n, char *err, size_t errlen);

/* Plaintext received: up to max bytes into buf, the number read (0: none
 * now); -1 on a TLS error (message in err). After the server's
 * close_notify it returns 0 and tlsc_peer_closed() is true. */
ssize_t tlsc_read(struct tlsc *t, void *buf, size_t max, char *err, size_t errlen);

/* Queue our close_notify. 0, or -1. */
int tlsc_close_notify(struct tlsc *t);

bool tlsc_peer_closed(const struct tlsc *t);   /* its close_notify came */
bool tlsc_done(const struct tlsc *t);          /* the handshake is over */
const char *tlsc_version(const struct tlsc *t); /* "TLSv1.3", ... */
const char *tlsc_alpn(const struct tlsc *t);   /* chosen protocol, or "" */

#endif
