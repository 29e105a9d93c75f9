/*
 * tlsio.h - lingerlab-target over TLS: a server context (a certificate
 * and key given, or a self-signed pair made at start-up), and byte I/O on
 * a non-blocking socket that goes through TLS when a connection has an
 * SSL object and straight to the socket otherwise, with the same
 * answers as recv()/send() (EAGAIN when it must wait, 0 at the peer's
 * end), so the event loop does not care which it has.
 *
 * OpenSSL reads one record at a time from the socket (no read-ahead), so
 * a client's unread records stay in the kernel as unread bytes: a close()
 * then resets the connection exactly as over plain TCP.
 */
#ifndef LL_TARGET_TLSIO_H
#define LL_TARGET_TLSIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

/* A server context from cert/key files (PEM), or, when both are NULL, a
 * P-256 key and a self-signed certificate for cn made now. NULL and a
 * message in err on failure. */
SSL_CTX *tlsio_ctx_new(const char *cert, const char *key, const char *cn,
                       char *err, size_t errlen);
void tlsio_ctx_free(SSL_CTX *ctx);

/* A server-side SSL on fd, or NULL. */
SSL *tlsio_accept(SSL_CTX *ctx, int fd);
void tlsio_free(SSL *ssl);

/* Run the handshake: 1 done, 0 waiting (*want_write: for POLLOUT), -1
 * failed (message in err). */
int tlsio_handshake(SSL *ssl, bool *want_write, char *err, size_t errlen);

/* recv()/send() over TLS when ssl is not NULL, plain otherwise. Errors
 * as those calls give them in errno (EAGAIN: wait; EPROTO: a TLS error,
 * named by tlsio_error()). tlsio_recv() returns 0 at the peer's FIN or
 * close_notify. */
ssize_t tlsio_recv(SSL *ssl, int fd, void *buf, size_t n);
ssize_t tlsio_send(SSL *ssl, int fd, const void *buf, size_t n);

/* Bytes OpenSSL has decrypted but not handed out yet. */
size_t tlsio_pending(SSL *ssl);

/* Send our close_notify (best effort: 0 sent or queued, -1 not). */
int tlsio_close_notify(SSL *ssl);

/* The last TLS error, for logs. */
const char *tlsio_error(void);

#endif
