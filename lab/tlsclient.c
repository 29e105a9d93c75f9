/*
 * tlsclient.c - OpenSSL over memory BIOs for the raw client (tlsclient.h).
 *
 * One SSL object per connection, its read BIO filled with what the wire
 * brought (tlsc_feed) and its write BIO emptied onto the wire
 * (tlsc_take_out). OpenSSL never touches a socket, a timer or a thread:
 * every call returns at once with what it could do.
 */
#include "lab/tlsclient.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

struct tlsc {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rbio, *wbio;          /* owned by ssl */
	FILE *keylog;
	bool done, peer_closed;
	char alpn[32];
};

static void ssl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	if (err && errlen)
		snprintf(err, errlen, "TLS: %s%s%s", what, buf[0] ? ": " : "", buf);
}

static void keylog_cb(const SSL *ssl, const char *line)
{
	struct tlsc *t = SSL_get_app_data(ssl);

	if (t && t->keylog) {
		fputs(line, t->keylog);
		fputc('\n', t->keylog);
		fflush(t->keylog);
	}
}

struct tlsc *tlsc_new(const struct tlsc_opts *o, char *err, size_t errlen)
{
	struct tlsc *t = calloc(1, sizeof *t);
	int v = o ? o->version : 0;

	if (!t) {
		snprintf(err, errlen, "TLS: out of memory");
		return NULL;
	}
	if (v != 0 && v != 12 && v != 13) {
		snprintf(err, errlen, "TLS: version must be 1.2 or 1.3");
		free(t);
		return NULL;
	}
	t->keylog = o ? o->keylog : NULL;
	if (!(t->ctx = SSL_CTX_new(TLS_client_method()))) {
		ssl_err(err, errlen, "cannot make a context");
		goto fail;
	}
	SSL_CTX_set_min_proto_version(t->ctx, v == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
	if (v == 12)
		SSL_CTX_set_max_proto_version(t->ctx, TLS1_2_VERSION);
	if (o && o->verify) {
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
		if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
			ssl_err(err, errlen, "cannot load the system's CA certificates");
			goto fail;
		}
	} else {
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
	}
	if (o && o->alpn) {
		size_t n = strlen(o->alpn);
		unsigned char wire[256];
		if (n == 0 || n > 255) {
			snprintf(err, errlen, "TLS: ALPN protocol name must be 1 to 255 bytes");
			goto fail;
		}
		wire[0] = (unsigned char)n;
		memcpy(wire + 1, o->alpn, n);
		/* 0 is success for this one */
		if (SSL_CTX_set_alpn_protos(t->ctx, wire, (unsigned)n + 1) != 0) {
			ssl_err(err, errlen, "cannot set ALPN");
			goto fail;
		}
	}
	if (t->keylog)
		SSL_CTX_set_keylog_callback(t->ctx, keylog_cb);
	if (!(t->ssl = SSL_new(t->ctx))) {
		ssl_err(err, errlen, "cannot make a connection");
		goto fail;
	}
	SSL_set_app_data(t->ssl, t);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (!t->rbio || !t->wbio) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		ssl_err(err, errlen, "out of memory");
		goto fail;
	}
	/* an empty read BIO means "wait", not end of file */
	BIO_set_mem_eof_return(t->rbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_connect_state(t->ssl);
	if (o && o->sni && o->sni[0]) {
		if (SSL_set_tlsext_host_name(t->ssl, o->sni) != 1) {
			ssl_err(err, errlen, "bad server name");
			goto fail;
		}
		if (o->verify && SSL_set1_host(t->ssl, o->sni) != 1) {
			ssl_err(err, errlen, "bad server name");
			goto fail;
		}
	}
	return t;
fail:
	tlsc_free(t);
	return NULL;
}

void tlsc_free(struct tlsc *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);          /* frees the BIOs */
	SSL_CTX_free(t->ctx);
	free(t);
}

/* Why the handshake failed, in words a user can act on: the server's
 * alert by name ("the server refused it with the alert protocol
 * version (70)"), the certificate's verification error ("self-signed
 * certificate"), an answer that is not TLS; else OpenSSL's reason. */
static void handshake_err(struct tlsc *t, char *err, size_t errlen)
{
	unsigned long e = ERR_peek_last_error();
	int reason = e ? ERR_GET_REASON(e) : 0;
	const char *rs = e ? ERR_reason_error_string(e) : NULL;
	long v = SSL_get_verify_result(t->ssl);

	if (!err || !errlen) {
		ERR_clear_error();
		return;
	}
	if (e && ERR_GET_LIB(e) == ERR_LIB_SSL && reason == SSL_R_CERTIFICATE_VERIFY_FAILED &&
	    v != X509_V_OK)
		snprintf(err, errlen, "TLS: handshake failed: certificate verify failed: %s "
		         "(`tls verify` checks the chain against the system's CAs and the name)",
		         X509_verify_cert_error_string(v));
	else if (e && ERR_GET_LIB(e) == ERR_LIB_SSL && reason > SSL_AD_REASON_OFFSET &&
	         reason < SSL_AD_REASON_OFFSET + 256)
		snprintf(err, errlen, "TLS: handshake failed: the server sent the alert %s (%d)",
		         SSL_alert_desc_string_long(reason - SSL_AD_REASON_OFFSET),
		         reason - SSL_AD_REASON_OFFSET);
	else if (e && ERR_GET_LIB(e) == ERR_LIB_SSL && (reason == SSL_R_WRONG_VERSION_NUMBER ||
	         reason == SSL_R_PACKET_LENGTH_TOO_LONG || reason == SSL_R_UNEXPECTED_RECORD))
		snprintf(err, errlen, "TLS: handshake failed: %s (the server's answer is not TLS)",
		         rs ? rs : "not a TLS record");
	else if (rs)
		snprintf(err, errlen, "TLS: handshake failed: %s", rs);
	else
		snprintf(err, errlen, "TLS: handshake failed");
	ERR_clear_error();
}

int tlsc_handshake(struct tlsc *t, char *err, size_t errlen)
{
	int r;

	if (t->done)
		return 1;
	r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		const unsigned char *p = NULL;
		unsigned n = 0;
		t->done = true;
		SSL_get0_alpn_selected(t->ssl, &p, &n);
		if (p && n < sizeof t->alpn) {
			memcpy(t->alpn, p, n);
			t->alpn[n] = '\0';
		}
		return 1;
	}
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	default:
		handshake_err(t, err, errlen);
		return -1;
	}
}

size_t tlsc_out_pending(const struct tlsc *t)
{
	return BIO_ctrl_pending(t->wbio);
}

size_t tlsc_take_out(struct tlsc *t, uint8_t *buf, size_t max)
{
	size_t got = 0;

	if (max == 0 || BIO_ctrl_pending(t->wbio) == 0)
		return 0;
	if (BIO_read_ex(t->wbio, buf, max, &got) != 1)
		return 0;
	return got;
}

size_t tlsc_peek_out(struct tlsc *t, const uint8_t **p)
{
	char *d = NULL;
	long n = BIO_get_mem_data(t->wbio, &d);

	*p = (const uint8_t *)d;
	return n > 0 ? (size_t)n : 0;
}

void tlsc_drop_out(struct tlsc *t, size_t n)
{
	uint8_t sink[4096];

	while (n > 0) {
		size_t got = 0;
		if (BIO_read_ex(t->wbio, sink, n < sizeof sink ? n : sizeof sink, &got) != 1 || got == 0)
			return;
		n -= got;
	}
}

int tlsc_feed(struct tlsc *t, const uint8_t *p, size_t n)
{
	size_t put = 0;

	if (n == 0)
		return 0;
	return BIO_write_ex(t->rbio, p, n, &put) == 1 && put == n ? 0 : -1;
}

int tlsc_write(struct tlsc *t, const void *p, size_t n, char *err, size_t errlen)
{
	size_t put = 0;

	if (!t->done) {
		snprintf(err, errlen, "TLS: write before the handshake is over");
		return -1;
	}
	if (n == 0)
		return 0;
	if (SSL_write_ex(t->ssl, p, n, &put) != 1 || put != n) {
		ssl_err(err, errlen, "write failed");
		return -1;
	}
	return 0;
}

ssize_t tlsc_read(struct tlsc *t, void *buf, size_t max, char *err, size_t errlen)
{
	size_t got = 0;
	int r;

	if (t->peer_closed || max == 0)
		return 0;
	r = SSL_read_ex(t->ssl, buf, max, &got);
	if (r == 1)
		return (ssize_t)got;
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		t->peer_closed = true;
		return 0;
	default:
		ssl_err(err, errlen, "read failed");
		return -1;
	}
}

int tlsc_close_notify(struct tlsc *t)
{
	int r = SSL_shutdown(t->ssl);

	if (r >= 0)
		return 0;
	/* SSL_shutdown wants the peer's close_notify to finish; ours is
	 * queued all the same */
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	default:
		ERR_clear_error();
		return -1;
	}
}

bool tlsc_peer_closed(const struct tlsc *t) { return t->peer_closed; }
bool tlsc_done(const struct tlsc *t) { return t->done; }
const char *tlsc_version(const struct tlsc *t) { return SSL_get_version(t->ssl); }
const char *tlsc_alpn(const struct tlsc *t) { return t->alpn; }
