/*
 * test_analyzer_tlsdec.c - the analyzer with a key log (az_config.tls_keys):
 * a TLS 1.3 connection built here, its records sealed under RFC 8448's
 * application traffic secrets (section 3) with AES-128-GCM, the server
 * resetting while its last records are unacknowledged:
 *
 *  - the finding names the response at risk (the 404) from the decrypted
 *    view, its records by their true types (a NewSessionTicket is a
 *    handshake record, the close_notify an alert) and says a close_notify
 *    is among them;
 *  - the connection counts the requests (two pipelined) from the
 *    decrypted view and the encrypted handshake record it could not open
 *    (no handshake secret in the log) as `handshake`;
 *  - the same capture with a wrong server secret for the same random:
 *    none of the server's records opens; without a handshake secret in
 *    the log they stay in the handshake phase, counted as `handshake`
 *    (a handshake record and a record under a wrong key look alike
 *    then); no response is named and the close_notify cannot be told.
 */
#include "analyzer/tlsdec.h"
#include "analyzer/tlskeys.h"
#include "tests/unit/analyzer_helpers.h"

#include <stdio.h>

#include <openssl/evp.h>

static const char C_AP[] = "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";
static const char S_AP[] = "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643";

static size_t unhex(const char *s, uint8_t *b)
{
	size_t n = 0;
	unsigned v;

	while (s[0] && s[1] && sscanf(s, "%2x", &v) == 1) {
		b[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

/* One TLS 1.3 record: type inside, sealed with c (its seq advances). */
static size_t seal(uint8_t *out, struct tlsdec_cipher *c, uint8_t type,
                   const void *pt, size_t n)
{
	uint8_t nonce[12];
	size_t len = n + 1 + 16;
	int l = 0;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	memcpy(nonce, c->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= (uint8_t)(c->seq >> (56 - 8 * i));
	out[0] = 23; out[1] = 3; out[2] = 3;
	out[3] = (uint8_t)(len >> 8); out[4] = (uint8_t)len;
	memcpy(out + 5, pt, n);
	out[5 + n] = type;
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, c->key, nonce), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &l, out, 5), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, out + 5, &l, out + 5, (int)n + 1), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, out + 5 + l, &l), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + 5 + n + 1), 1);
	EVP_CIPHER_CTX_free(ctx);
	c->seq++;
	return 5 + len;
}

/* A hello record: type 1 (ClientHello, random 0x42...) or 2 (ServerHello
 * choosing TLS 1.3 and TLS_AES_128_GCM_SHA256). */
static size_t hello(uint8_t *b, int type)
{
	size_t n = 5, body;

	b[0] = 22; b[1] = 3; b[2] = 1;
	body = n;
	b[n++] = (uint8_t)type; b[n++] = 0; b[n++] = 0; b[n++] = 0;
	b[n++] = 3; b[n++] = 3;
	memset(b + n, type == 1 ? 0x42 : 0x24, 32);
	n += 32;
	b[n++] = 0;                                  /* session id */
	if (type == 1) {
		b[n++] = 0; b[n++] = 2;              /* cipher suites */
	}
	b[n++] = 0x13; b[n++] = 0x01;
	if (type == 1) {
		b[n++] = 1;                          /* compression methods */
	}
	b[n++] = 0;
	b[n++] = 0; b[n++] = 6;                      /* extensions */
	b[n++] = 0; b[n++] = 43;                     /* supported_versions */
	if (type == 1) {
		b[n++] = 0; b[n++] = 3; b[n++] = 2; b[n++] = 3; b[n++] = 4;
		b[n - 6] = 0; b[n - 5] = 7;          /* the extensions' length */
	} else {
		b[n++] = 0; b[n++] = 2; b[n++] = 3; b[n++] = 4;
	}
	b[body + 3] = (uint8_t)(n - body - 4);
	b[3] = (uint8_t)((n - 5) >> 8);
	b[4] = (uint8_t)(n - 5);
	return n;
}

/* The capture: handshake, two pipelined requests, the server's ticket,
 * 404 and close_notify unacknowledged when it resets. */
static void build(struct pb_list *l)
{
	struct pb_conn pc;
	struct tlsdec_cipher cc, sc;
	uint8_t sec[32], ch[128], sh[128], s1[512], c1[256], s2[512];
	size_t nch = hello(ch, 1), nsh = hello(sh, 2), n1 = 0, nc = 0, n2 = 0;
	static const char req[] = "GET /not_here HTTP/1.1\r\nHost: lab\r\n\r\n"
	                          "GET / HTTP/1.1\r\nHost: lab\r\n\r\n";
	static const char resp[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n"
	                           "Connection: close\r\n\r\nnot here\n";
	static const uint8_t ccs[6] = { 20, 3, 3, 0, 1, 1 };
	static const uint8_t ticket[16] = { 4, 0, 0, 12 };
	static const uint8_t close_notify[2] = { 1, 0 };
	uint32_t c_at, s_at;

	unhex(C_AP, sec);
	assert_int_equal(tlsdec_keys13(&cc, 0x1301, sec, 32), 0);
	unhex(S_AP, sec);
	assert_int_equal(tlsdec_keys13(&sc, 0x1301, sec, 32), 0);
	/* the server's flight: ServerHello, CCS, one encrypted handshake
	 * record (sealed here under the application key's neighbour: it
	 * stands for EncryptedExtensions..Finished, whose secret the log
	 * lacks) */
	memcpy(s1, sh, nsh);
	n1 = nsh;
	memcpy(s1 + n1, ccs, 6);
	n1 += 6;
	{
		struct tlsdec_cipher hs = sc;
		hs.key[0] ^= 1;
		n1 += seal(s1 + n1, &hs, 22, "handshake messages", 18);
	}
	/* the client: CCS, the requests */
	memcpy(c1, ccs, 6);
	nc = 6;
	nc += seal(c1 + nc, &cc, 23, req, sizeof(req) - 1);
	/* the server: ticket, 404, close_notify */
	n2 = seal(s2, &sc, 22, ticket, sizeof ticket);
	n2 += seal(s2 + n2, &sc, 23, resp, sizeof(resp) - 1);
	n2 += seal(s2 + n2, &sc, 21, close_notify, 2);

	pb_list_init(l, PB_DLT_EN10MB);
	assert_int_equal(pb_conn_init(&pc, "10.0.0.1", 40000, "10.0.0.2", 443, 1000, 5000), 0);
	assert_int_equal(pb_syn(l, &pc, 0.0), 0);
	assert_int_equal(pb_synack(l, &pc, 0.001), 0);
	assert_int_equal(pb_ack(l, &pc, PB_C2S, 0.002, 1, 1), 0);
	assert_int_equal(pb_data(l, &pc, PB_C2S, 0.003, 1, 1, ch, (uint32_t)nch), 0);
	c_at = 1 + (uint32_t)nch;
	assert_int_equal(pb_data(l, &pc, PB_S2C, 0.004, 1, c_at, s1, (uint32_t)n1), 0);
	s_at = 1 + (uint32_t)n1;
	assert_int_equal(pb_data(l, &pc, PB_C2S, 0.005, c_at, s_at, c1, (uint32_t)nc), 0);
	c_at += (uint32_t)nc;
	assert_int_equal(pb_data(l, &pc, PB_S2C, 0.006, s_at, c_at, s2, (uint32_t)n2), 0);
	assert_int_equal(pb_rstack(l, &pc, PB_S2C, 0.0061, s_at + (uint32_t)n2, c_at), 0);
}

static struct tlskeys *keylog(const char *c_ap, const char *s_ap)
{
	char text[512], err[256];
	char r[65];
	struct tlskeys *k;

	for (int i = 0; i < 32; i++)
		snprintf(r + 2 * i, 3, "42");
	snprintf(text, sizeof text, "CLIENT_TRAFFIC_SECRET_0 %s %s\nSERVER_TRAFFIC_SECRET_0 %s %s\n",
	         r, c_ap, r, s_ap);
	k = tlskeys_parse(text, strlen(text), "t.keys", err, sizeof err);
	assert_non_null(k);
	return k;
}

static void test_decrypted_finding(void **st)
{
	struct pb_list l;
	struct run r;
	struct tlskeys *k = keylog(C_AP, S_AP);
	struct az_config cfg = { .tls_keys = k };

	(void)st;
	build(&l);
	run_list(&r, &l, &cfg);
	const struct az_rst_finding *f = one_finding(&r);
	assert_int_equal(f->response_index, 1);
	assert_int_equal(f->response_status, 404);
	assert_int_equal(f->unanswered_requests, 1);
	assert_true(f->tls && f->tls_decrypted);
	assert_int_equal(f->tls_version, 0x0304);
	assert_int_equal(f->tls_records_at_risk, 3);
	assert_int_equal(f->tls_types[0], AZ_TLS_HANDSHAKE);
	assert_int_equal(f->tls_types[1], AZ_TLS_APPLICATION_DATA);
	assert_int_equal(f->tls_types[2], AZ_TLS_ALERT);
	assert_int_equal(f->tls_close_notify, AZ_TLS_CN_ALERT_RECORD);
	assert_int_equal(f->tls_not_decrypted_at_risk, 0);
	const struct az_conn *c = run_conn(&r, 1);
	assert_true(c->tls_decrypted);
	assert_int_equal(c->tls_records_decrypted, 4);     /* request, ticket, 404, alert */
	assert_int_equal(c->tls_not_decrypted[AZ_TLS_SKIP_HANDSHAKE], 1);
	assert_int_equal(c->c2s.http_messages, 2);
	assert_int_equal(c->s2c.http_messages, 1);
	pb_list_free(&l);
	az_free(r.az);
	tlskeys_free(k);
}

static void test_wrong_key(void **st)
{
	struct pb_list l;
	struct run r;
	char bad[65];
	struct tlskeys *k;

	(void)st;
	memcpy(bad, S_AP, sizeof bad);
	bad[0] = 'b';
	k = keylog(C_AP, bad);
	struct az_config cfg = { .tls_keys = k };
	build(&l);
	run_list(&r, &l, &cfg);
	const struct az_rst_finding *f = one_finding(&r);
	assert_int_equal(f->response_index, 0);
	assert_false(f->tls_decrypted);
	assert_int_equal(f->tls_close_notify, AZ_TLS_CN_CANNOT_TELL);
	assert_int_equal(f->tls_not_decrypted_at_risk, 3);
	assert_int_equal(f->tls_types[0], AZ_TLS_APPLICATION_DATA);
	const struct az_conn *c = run_conn(&r, 1);
	assert_int_equal(c->tls_records_decrypted, 1);     /* the client's request */
	assert_int_equal(c->tls_not_decrypted[AZ_TLS_SKIP_HANDSHAKE], 4);
	pb_list_free(&l);
	az_free(r.az);
	tlskeys_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decrypted_finding),
		cmocka_unit_test(test_wrong_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
