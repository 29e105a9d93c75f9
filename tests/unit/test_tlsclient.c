/*
 * test_tlsclient.c - the raw client's TLS side (lab/tlsclient.c) against
 * a real OpenSSL server in the same process: the two exchange their
 * bytes through buffers, as the raw client and the wire would, with a
 * key and a self-signed certificate made for the test.
 *
 *  - the handshake over TLS 1.3 and 1.2, with SNI and ALPN, a request
 *    and a response through it, the key log in NSS format;
 *  - close_notify both ways;
 *  - failures with a clear message: a version the server refuses,
 *    verification of a self-signed certificate, a server that answers
 *    with bytes that are not TLS.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "lab/tlsclient.h"

struct server {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rbio, *wbio;
	char sni[64];
};

static int sni_cb(SSL *ssl, int *al, void *arg)
{
	struct server *s = arg;
	const char *n = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	(void)al;
	snprintf(s->sni, sizeof s->sni, "%s", n ? n : "");
	return SSL_TLSEXT_ERR_OK;
}

static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	if (inlen >= 9 && in[0] == 8 && !memcmp(in + 1, "http/1.1", 8)) {
		*out = in + 1;
		*outlen = 8;
		return SSL_TLSEXT_ERR_OK;
	}
	return SSL_TLSEXT_ERR_NOACK;
}

static void server_init(struct server *s, int min, int max)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *crt = X509_new();
	X509_NAME *name;

	assert_non_null(key);
	assert_non_null(crt);
	ASN1_INTEGER_set(X509_get_serialNumber(crt), 1);
	X509_gmtime_adj(X509_getm_notBefore(crt), 0);
	X509_gmtime_adj(X509_getm_notAfter(crt), 3600);
	X509_set_pubkey(crt, key);
	name = X509_get_subject_name(crt);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"lab", -1, -1, 0);
	X509_set_issuer_name(crt, name);
	assert_true(X509_sign(crt, key, EVP_sha256()) > 0);

	memset(s, 0, sizeof *s);
	s->ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(s->ctx);
	SSL_CTX_set_min_proto_version(s->ctx, min);
	SSL_CTX_set_max_proto_version(s->ctx, max);
	assert_int_equal(SSL_CTX_use_certificate(s->ctx, crt), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, key), 1);
	SSL_CTX_set_tlsext_servername_callback(s->ctx, sni_cb);
	SSL_CTX_set_tlsext_servername_arg(s->ctx, s);
	SSL_CTX_set_alpn_select_cb(s->ctx, alpn_cb, NULL);
	X509_free(crt);
	EVP_PKEY_free(key);
	s->ssl = SSL_new(s->ctx);
	s->rbio = BIO_new(BIO_s_mem());
	s->wbio = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(s->rbio, -1);
	SSL_set_bio(s->ssl, s->rbio, s->wbio);
	SSL_set_accept_state(s->ssl);
}

static void server_free(struct server *s)
{
	SSL_free(s->ssl);
	SSL_CTX_free(s->ctx);
}

/* Move every byte each side has for the other; the number moved. */
static size_t pump(struct tlsc *c, struct server *s)
{
	uint8_t buf[16384];
	size_t n, moved = 0;

	while ((n = tlsc_take_out(c, buf, sizeof buf)) > 0) {
		size_t put;
		assert_int_equal(BIO_write_ex(s->rbio, buf, n, &put), 1);
		moved += n;
	}
	while (BIO_ctrl_pending(s->wbio) > 0) {
		size_t got;
		assert_int_equal(BIO_read_ex(s->wbio, buf, sizeof buf, &got), 1);
		assert_int_equal(tlsc_feed(c, buf, got), 0);
		moved += got;
	}
	return moved;
}

/* Run both handshakes to their end; the client's last result. */
static int handshake(struct tlsc *c, struct server *s, char *err, size_t errlen)
{
	int rc = 0;
	for (int round = 0; round < 20; round++) {
		rc = tlsc_handshake(c, err, errlen);
		if (rc < 0)
			return rc;
		SSL_do_handshake(s->ssl);
		if (pump(c, s) == 0 && rc == 1)
			return 1;
	}
	return rc;
}

static void exchange(int version, int smin, int smax, const char *want)
{
	struct server s;
	char err[256] = "";
	char keyfile[] = "/tmp/lingerlab-keylog.XXXXXX";
	int fd = mkstemp(keyfile);
	FILE *kl = fdopen(fd, "w+");
	struct tlsc_opts o = { .sni = "lab.example", .version = version,
	                       .alpn = "http/1.1", .keylog = kl };
	struct tlsc *c;
	char buf[256];

	assert_non_null(kl);
	server_init(&s, smin, smax);
	c = tlsc_new(&o, err, sizeof err);
	assert_non_null(c);
	assert_int_equal(handshake(c, &s, err, sizeof err), 1);
	assert_true(tlsc_done(c));
	assert_string_equal(tlsc_version(c), want);
	assert_string_equal(tlsc_alpn(c), "http/1.1");
	assert_string_equal(s.sni, "lab.example");

	/* a request through it, and the response back */
	assert_int_equal(tlsc_write(c, "GET / HTTP/1.1\r\n\r\n", 18, err, sizeof err), 0);
	pump(c, &s);
	size_t got = 0;
	assert_int_equal(SSL_read_ex(s.ssl, buf, sizeof buf, &got), 1);
	assert_int_equal(got, 18);
	assert_int_equal(SSL_write(s.ssl, "HTTP/1.1 404 Not Found\r\n\r\n", 26), 26);
	pump(c, &s);
	ssize_t n = tlsc_read(c, buf, sizeof buf, err, sizeof err);
	assert_int_equal(n, 26);
	assert_memory_equal(buf, "HTTP/1.1 404", 12);

	/* the server's close_notify, then ours */
	assert_false(tlsc_peer_closed(c));
	SSL_shutdown(s.ssl);
	pump(c, &s);
	assert_int_equal(tlsc_read(c, buf, sizeof buf, err, sizeof err), 0);
	assert_true(tlsc_peer_closed(c));
	assert_int_equal(tlsc_close_notify(c), 0);
	pump(c, &s);
	assert_int_equal(SSL_shutdown(s.ssl), 1); /* both close_notifys now */

	/* the key log: NSS lines with the client random */
	rewind(kl);
	char line[512];
	int lines = 0;
	while (fgets(line, sizeof line, kl)) {
		lines++;
		assert_true(!strncmp(line, "CLIENT_", 7) || !strncmp(line, "SERVER_", 7) ||
		            !strncmp(line, "EXPORTER_", 9));
	}
	assert_true(lines >= 1);
	fclose(kl);
	unlink(keyfile);
	tlsc_free(c);
	server_free(&s);
}

static void test_tls13(void **st)
{
	(void)st;
	exchange(13, TLS1_2_VERSION, TLS1_3_VERSION, "TLSv1.3");
}

static void test_tls12(void **st)
{
	(void)st;
	exchange(12, TLS1_2_VERSION, TLS1_3_VERSION, "TLSv1.2");
}

static void test_version_refused(void **st)
{
	(void)st;
	struct server s;
	char err[256] = "";
	struct tlsc_opts o = { .version = 13 };
	struct tlsc *c;

	server_init(&s, TLS1_2_VERSION, TLS1_2_VERSION);
	c = tlsc_new(&o, err, sizeof err);
	assert_non_null(c);
	assert_int_equal(handshake(c, &s, err, sizeof err), -1);
	/* the server's alert, by name */
	assert_string_equal(err, "TLS: handshake failed: the server sent the alert protocol version (70)");
	tlsc_free(c);
	server_free(&s);
}

static void test_verify_self_signed(void **st)
{
	(void)st;
	struct server s;
	char err[256] = "";
	struct tlsc_opts o = { .sni = "lab", .verify = true };
	struct tlsc *c;

	server_init(&s, TLS1_2_VERSION, TLS1_3_VERSION);
	c = tlsc_new(&o, err, sizeof err);
	assert_non_null(c);
	assert_int_equal(handshake(c, &s, err, sizeof err), -1);
	/* the verification error, not only OpenSSL's reason */
	assert_string_equal(err, "TLS: handshake failed: certificate verify failed: self-signed certificate "
	                    "(`tls verify` checks the chain against the system's CAs and the name)");
	tlsc_free(c);
	server_free(&s);
}

static void test_not_tls(void **st)
{
	(void)st;
	char err[256] = "";
	uint8_t buf[4096];
	struct tlsc_opts o = { 0 };
	struct tlsc *c = tlsc_new(&o, err, sizeof err);
	static const char http[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";

	assert_non_null(c);
	assert_int_equal(tlsc_handshake(c, err, sizeof err), 0);
	assert_true(tlsc_take_out(c, buf, sizeof buf) > 0); /* the ClientHello */
	assert_int_equal(tlsc_feed(c, (const uint8_t *)http, sizeof http - 1), 0);
	assert_int_equal(tlsc_handshake(c, err, sizeof err), -1);
	assert_string_equal(err, "TLS: handshake failed: wrong version number (the server's answer is not TLS)");
	/* writing before the handshake is refused, not queued */
	assert_int_equal(tlsc_write(c, "x", 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "before the handshake"));
	tlsc_free(c);
}

static void test_bad_options(void **st)
{
	(void)st;
	char err[256] = "";
	struct tlsc_opts o = { .version = 11 };

	assert_null(tlsc_new(&o, err, sizeof err));
	assert_string_equal(err, "TLS: version must be 1.2 or 1.3");
	o.version = 0;
	o.alpn = "";
	assert_null(tlsc_new(&o, err, sizeof err));
	assert_non_null(strstr(err, "ALPN"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls13),
		cmocka_unit_test(test_tls12),
		cmocka_unit_test(test_version_refused),
		cmocka_unit_test(test_verify_self_signed),
		cmocka_unit_test(test_not_tls),
		cmocka_unit_test(test_bad_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
