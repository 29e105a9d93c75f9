/*
 * tlsio.c - lingerlab-target's TLS (see tlsio.h).
 */
#include "lab/target/tlsio.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static char last_err[256];

static void note_err(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[200] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	snprintf(last_err, sizeof last_err, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

const char *tlsio_error(void)
{
	return last_err;
}

/* A self-signed certificate for cn with a new P-256 key, valid a year. */
static int self_signed(SSL_CTX *ctx, const char *cn)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *crt = X509_new();
	X509_NAME *name;
	int ok = 0;

	if (!key || !crt)
		goto out;
	ASN1_INTEGER_set(X509_get_serialNumber(crt), 1);
	X509_gmtime_adj(X509_getm_notBefore(crt), -60);
	X509_gmtime_adj(X509_getm_notAfter(crt), 365L * 24 * 3600);
	X509_set_version(crt, 2);
	if (X509_set_pubkey(crt, key) != 1)
		goto out;
	name = X509_get_subject_name(crt);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(crt, name);
	if (X509_sign(crt, key, EVP_sha256()) <= 0)
		goto out;
	ok = SSL_CTX_use_certificate(ctx, crt) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1;
out:
	X509_free(crt);
	EVP_PKEY_free(key);
	return ok ? 0 : -1;
}

SSL_CTX *tlsio_ctx_new(const char *cert, const char *key, const char *cn,
                       char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		note_err("cannot make a TLS context");
		snprintf(err, errlen, "%s", last_err);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* partial writes: the loop keeps its own output offset */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (cert || key) {
		if (!cert || !key) {
			snprintf(err, errlen, "--cert and --key go together");
			goto fail;
		}
		if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
			note_err(cert);
			snprintf(err, errlen, "--cert %s", last_err);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
			note_err(key);
			snprintf(err, errlen, "--key %s", last_err);
			goto fail;
		}
		if (SSL_CTX_check_private_key(ctx) != 1) {
			note_err("the key does not match the certificate");
			snprintf(err, errlen, "%s", last_err);
			goto fail;
		}
	} else if (self_signed(ctx, cn && cn[0] ? cn : "lingerlab-target") != 0) {
		note_err("cannot make a self-signed certificate");
		snprintf(err, errlen, "%s", last_err);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

void tlsio_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

SSL *tlsio_accept(SSL_CTX *ctx, int fd)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

void tlsio_free(SSL *ssl)
{
	SSL_free(ssl);
}

int tlsio_handshake(SSL *ssl, bool *want_write, char *err, size_t errlen)
{
	int r = SSL_do_handshake(ssl);

	*want_write = false;
	if (r == 1)
		return 1;
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return 0;
	case SSL_ERROR_WANT_WRITE:
		*want_write = true;
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0 || r == 0) {
			ERR_clear_error();
			snprintf(err, errlen, "TLS handshake: the client closed");
			return -1;
		}
		snprintf(err, errlen, "TLS handshake: %s", strerror(errno));
		ERR_clear_error();
		return -1;
	default:
		note_err("TLS handshake failed");
		snprintf(err, errlen, "%s", last_err);
		return -1;
	}
}

/* errno for an SSL_get_error() result; 0 means "the peer's end". */
static int map_error(SSL *ssl, int r)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		/* errno is the socket's (ECONNRESET, EPIPE...), or 0 at an
		 * EOF without close_notify: an end all the same */
		ERR_clear_error();
		return errno;
	default:
		note_err("TLS");
		return EPROTO;
	}
}

ssize_t tlsio_recv(SSL *ssl, int fd, void *buf, size_t n)
{
	size_t got = 0;
	int r, e;

	if (!ssl)
		return recv(fd, buf, n, MSG_DONTWAIT);
	errno = 0;
	r = SSL_read_ex(ssl, buf, n, &got);
	if (r == 1)
		return (ssize_t)got;
	e = map_error(ssl, r);
	if (e == 0)
		return 0;
	errno = e;
	return -1;
}

ssize_t tlsio_send(SSL *ssl, int fd, const void *buf, size_t n)
{
	size_t put = 0;
	int r, e;

	if (!ssl)
		return send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	errno = 0;
	r = SSL_write_ex(ssl, buf, n, &put);
	if (r == 1)
		return (ssize_t)put;
	e = map_error(ssl, r);
	errno = e ? e : EPIPE;
	return -1;
}

size_t tlsio_pending(SSL *ssl)
{
	return ssl ? (size_t)SSL_pending(ssl) : 0;
}

int tlsio_close_notify(SSL *ssl)
{
	int r;

	if (!ssl)
		return -1;
	r = SSL_shutdown(ssl);
	if (r >= 0)
		return 0;
	ERR_clear_error();
	return -1;
}
