/*
 * test_tlsdec.c - the NSS key log parser (analyzer/tlskeys.c) and the
 * record layer (analyzer/tlsdec.c) against RFC 8448's TLS 1.3 trace
 * ("Simple 1-RTT Handshake", section 3), whose secrets, keys, ivs and
 * protected records are published:
 *
 *  - HKDF-Expand-Label gives the trace's handshake and application keys
 *    and ivs from its traffic secrets, and its server finished key;
 *  - the client's application_data record (its first under the
 *    application keys, seq 0) opens to the trace's 50-byte payload
 *    00 01 .. 31, its close_notify (seq 1) to alert 1/0; the server's
 *    data record is its second (the NewSessionTicket was seq 0);
 *  - one flipped bit, or the wrong sequence number, fails the tag and
 *    leaves the sequence number alone;
 *  - the key log: every kept label, comments, CRLF, labels skipped,
 *    a later line replacing an earlier one, lookups; errors name
 *    FILE:LINE:COL and what was expected, limits are enforced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "analyzer/tlsdec.h"
#include "analyzer/tlskeys.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

/* "3f ce 51 ..." into b; returns the byte count. */
static size_t hex(const char *s, uint8_t *b)
{
	size_t n = 0;
	unsigned v;

	while (*s) {
		if (*s == ' ' || *s == '\n') {
			s++;
			continue;
		}
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		b[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void assert_hex(const uint8_t *got, size_t n, const char *want)
{
	uint8_t w[512];

	assert_int_equal(hex(want, w), n);
	assert_memory_equal(got, w, n);
}

/* RFC 8448 section 3 */
static const char S_HS[] = "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38";
static const char C_HS[] = "b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21";
static const char C_AP[] = "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5";
static const char S_AP[] = "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43";
static const char C_APP_REC[] =
	"17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea"
	"42 f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b"
	"62 97 4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4";
static const char S_APP_REC[] =
	"17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc"
	"32 25 d0 5f 82 aa 1b 36 e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8"
	"fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 54 0d d0 32 e1 67 c2 95 5d";
static const char C_ALERT_REC[] =
	"17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3";

static void test_expand_label(void **state)
{
	uint8_t sec[32], out[32];
	struct tlsdec_cipher c;

	(void)state;
	hex(S_HS, sec);
	assert_int_equal(tlsdec_expand_label(32, sec, 32, "key", NULL, 0, out, 16), 0);
	assert_hex(out, 16, "3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc");
	assert_int_equal(tlsdec_expand_label(32, sec, 32, "iv", NULL, 0, out, 12), 0);
	assert_hex(out, 12, "5d 31 3e b2 67 12 76 ee 13 00 0b 30");
	assert_int_equal(tlsdec_expand_label(32, sec, 32, "finished", NULL, 0, out, 32), 0);
	assert_hex(out, 32, "00 8d 3b 66 f8 16 ea 55 9f 96 b5 37 e8 85 c3 1f"
	                    "c0 68 bf 49 2c 65 2f 01 f2 88 a1 d8 cd c1 9f c8");

	hex(C_HS, sec);
	assert_int_equal(tlsdec_keys13(&c, 0x1301, sec, 32), 0);
	assert_hex(c.key, 16, "db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01");
	assert_hex(c.iv, 12, "5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f");
	hex(S_AP, sec);
	assert_int_equal(tlsdec_keys13(&c, 0x1301, sec, 32), 0);
	assert_hex(c.key, 16, "9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56");
	assert_hex(c.iv, 12, "cf 78 2b 88 dd 83 54 9a ad f1 e9 84");
	hex(C_AP, sec);
	assert_int_equal(tlsdec_keys13(&c, 0x1301, sec, 32), 0);
	assert_hex(c.key, 16, "17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51");
	assert_hex(c.iv, 12, "5b 78 92 3d ee 08 57 90 33 e5 23 d9");

	/* suites and lengths not handled */
	assert_int_equal(tlsdec_keys13(&c, 0x1304, sec, 32), -1); /* CCM */
	assert_int_equal(tlsdec_keys13(&c, 0x1302, sec, 32), -1); /* SHA-384: 48 */
	assert_int_equal(tlsdec_keys13(&c, 0xC02F, sec, 32), -1); /* a 1.2 suite */
	assert_int_equal(tlsdec_suite_hash(0x1302), 48);
	assert_int_equal(tlsdec_suite_hash(0xCCA8), 32);
	assert_int_equal(tlsdec_suite_hash(0xC013), 0);           /* CBC */
}

static void test_open_records(void **state)
{
	uint8_t sec[32], rec[128], out[128], want[50];
	struct tlsdec_cipher c;
	size_t n, on;
	uint8_t type = 0;

	(void)state;
	for (int i = 0; i < 50; i++)
		want[i] = (uint8_t)i;
	hex(C_AP, sec);
	assert_int_equal(tlsdec_keys13(&c, 0x1301, sec, 32), 0);
	n = hex(C_APP_REC, rec);
	assert_int_equal(n, 72);
	assert_int_equal(tlsdec_open(&c, true, rec, rec + 5, n - 5, out, &on, &type), 0);
	assert_int_equal(type, 23);
	assert_int_equal(on, 50);
	assert_memory_equal(out, want, 50);
	assert_int_equal(c.seq, 1);
	n = hex(C_ALERT_REC, rec);
	assert_int_equal(tlsdec_open(&c, true, rec, rec + 5, n - 5, rec + 5, &on, &type), 0);
	assert_int_equal(type, 21);                 /* in place */
	assert_int_equal(on, 2);
	assert_int_equal(rec[5], 1);                /* warning */
	assert_int_equal(rec[6], 0);                /* close_notify */

	/* the server's data record is its second under these keys */
	hex(S_AP, sec);
	assert_int_equal(tlsdec_keys13(&c, 0x1301, sec, 32), 0);
	n = hex(S_APP_REC, rec);
	assert_int_equal(tlsdec_open(&c, true, rec, rec + 5, n - 5, out, &on, &type), -1);
	assert_int_equal(c.seq, 0);                 /* unchanged */
	c.seq = 1;
	assert_int_equal(tlsdec_open(&c, true, rec, rec + 5, n - 5, out, &on, &type), 0);
	assert_memory_equal(out, want, 50);
	assert_int_equal(c.seq, 2);

	/* one bit flipped in the body, or in the header (it is the AAD) */
	c.seq = 1;
	rec[20] ^= 1;
	assert_int_equal(tlsdec_open(&c, true, rec, rec + 5, n - 5, out, &on, &type), -1);
	rec[20] ^= 1;
	rec[2] = 1;
	assert_int_equal(tlsdec_open(&c, true, rec, rec + 5, n - 5, out, &on, &type), -1);
	rec[2] = 3;
	assert_int_equal(c.seq, 1);
	/* too short to hold a tag */
	assert_int_equal(tlsdec_open(&c, true, rec, rec + 5, 16, out, &on, &type), -1);
	/* no cipher */
	memset(&c, 0, sizeof(c));
	assert_int_equal(tlsdec_open(&c, true, rec, rec + 5, n - 5, out, &on, &type), -1);
}

/* TLS 1.2's key block: the PRF's output split as RFC 5246 6.3 says. The
 * expected bytes are the PRF (P_SHA256, RFC 5246 5) computed here with
 * HMAC directly, so the split and the seed order are what is checked. */
static void p_sha256(const uint8_t *sec, size_t sl, const uint8_t *seed, size_t n,
                     uint8_t *out, size_t len)
{
	uint8_t a[32], buf[32 + 128], h[32];
	unsigned hl;
	size_t done = 0;

	HMAC(EVP_sha256(), sec, (int)sl, seed, n, a, &hl);
	while (done < len) {
		memcpy(buf, a, 32);
		memcpy(buf + 32, seed, n);
		HMAC(EVP_sha256(), sec, (int)sl, buf, 32 + n, h, &hl);
		memcpy(out + done, h, len - done < 32 ? len - done : 32);
		done += 32;
		HMAC(EVP_sha256(), sec, (int)sl, a, 32, a, &hl);
	}
}

static void test_keys12(void **state)
{
	uint8_t master[48], cr[32], sr[32], seed[77], kb[88];
	struct tlsdec_cipher c, s;

	(void)state;
	for (int i = 0; i < 48; i++)
		master[i] = (uint8_t)(i * 7 + 1);
	memset(cr, 0xc1, 32);
	memset(sr, 0x5e, 32);
	memcpy(seed, "key expansion", 13);
	memcpy(seed + 13, sr, 32);
	memcpy(seed + 45, cr, 32);
	p_sha256(master, 48, seed, 77, kb, 40);
	assert_int_equal(tlsdec_keys12(&c, &s, 0xC02F, master, cr, sr), 0);
	assert_memory_equal(c.key, kb, 16);         /* client key */
	assert_memory_equal(s.key, kb + 16, 16);    /* server key */
	assert_memory_equal(c.iv, kb + 32, 4);      /* client salt */
	assert_memory_equal(s.iv, kb + 36, 4);
	assert_true(c.explicit_nonce && s.explicit_nonce);
	p_sha256(master, 48, seed, 77, kb, 88);
	assert_int_equal(tlsdec_keys12(&c, &s, 0xCCA8, master, cr, sr), 0);
	assert_memory_equal(c.key, kb, 32);
	assert_memory_equal(s.key, kb + 32, 32);
	assert_memory_equal(c.iv, kb + 64, 12);
	assert_memory_equal(s.iv, kb + 76, 12);
	assert_false(c.explicit_nonce);
	assert_int_equal(tlsdec_keys12(&c, &s, 0xC013, master, cr, sr), -1); /* CBC */
	assert_int_equal(tlsdec_keys12(&c, &s, 0x1301, master, cr, sr), -1); /* 1.3 */
}

static const char R1[] = "0001020304050607080910111213141516171819202122232425262728293031";
static const char R2[] = "AABBCCDDEEFF00112233445566778899aabbccddeeff00112233445566778899";

static struct tlskeys *parse(const char *text, char *err)
{
	err[0] = '\0';
	return tlskeys_parse(text, strlen(text), "k.log", err, 256);
}

static void test_keylog(void **state)
{
	char err[256], text[2048];
	uint8_t r1[32], r2[32], sec[48];
	struct tlskeys *k;
	const struct tlskeys_session *s;

	(void)state;
	hex(R1, r1);
	for (int i = 0; i < 32; i++)
		r2[i] = (uint8_t)strtoul((char[]){ R2[2 * i], R2[2 * i + 1], 0 }, NULL, 16);
	/* the secrets as a key log writes them: plain hex, any case */
	char shs[65], cap[65], sap[65];
	uint8_t b[32];
	hex(S_HS, b);
	for (int i = 0; i < 32; i++) snprintf(shs + 2 * i, 3, "%02x", b[i]);
	hex(C_AP, b);
	for (int i = 0; i < 32; i++) snprintf(cap + 2 * i, 3, "%02X", b[i]); /* upper case */
	hex(S_AP, b);
	for (int i = 0; i < 32; i++) snprintf(sap + 2 * i, 3, "%02x", b[i]);
	snprintf(text, sizeof text,
	         "# a comment\n"
	         "\n"
	         "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\r\n"
	         "EXPORTER_SECRET %s %s\n"
	         "CLIENT_TRAFFIC_SECRET_0 %s %s\n"
	         "SERVER_TRAFFIC_SECRET_0 %s %s\n"
	         "CLIENT_RANDOM %s %s%s\n"
	         "RSA 0011223344556677 whatever\n"
	         "SERVER_TRAFFIC_SECRET_0 %s %s",
	         R1, shs, R1, shs, R1, cap, R1, shs, R2, R1, R1 + 32, R1, sap);
	k = parse(text, err);
	assert_non_null(k);
	assert_string_equal(err, "");
	assert_int_equal(tlskeys_count(k), 2);
	s = tlskeys_find(k, r1);
	assert_non_null(s);
	assert_int_equal(s->len[TLSKEYS_SERVER_HS], 32);
	hex(S_HS, sec);
	assert_memory_equal(s->secret[TLSKEYS_SERVER_HS], sec, 32);
	hex(C_AP, sec);
	assert_int_equal(s->len[TLSKEYS_CLIENT_AP], 32);
	assert_memory_equal(s->secret[TLSKEYS_CLIENT_AP], sec, 32);
	hex(S_AP, sec);                             /* the later line won */
	assert_memory_equal(s->secret[TLSKEYS_SERVER_AP], sec, 32);
	assert_int_equal(s->len[TLSKEYS_CLIENT_HS], 0);
	assert_int_equal(s->len[TLSKEYS_MASTER], 0);
	s = tlskeys_find(k, r2);
	assert_non_null(s);
	assert_int_equal(s->len[TLSKEYS_MASTER], 48);
	assert_int_equal(s->secret[TLSKEYS_MASTER][0], 0x00);
	assert_int_equal(s->secret[TLSKEYS_MASTER][47], 0x31);
	r2[0] ^= 1;
	assert_null(tlskeys_find(k, r2));
	tlskeys_free(k);

	/* an empty log is a log with no session */
	k = parse("", err);
	assert_non_null(k);
	assert_int_equal(tlskeys_count(k), 0);
	assert_null(tlskeys_find(k, r1));
	tlskeys_free(k);
}

static void expect_error(const char *text, size_t n, const char *want)
{
	char err[256] = "";
	struct tlskeys *k = tlskeys_parse(text, n, "k.log", err, sizeof err);

	assert_null(k);
	assert_string_equal(err, want);
}

static void test_keylog_errors(void **state)
{
	char line[2200];

	(void)state;
	expect_error("CLIENT_RANDOM\n", 14,
	             "k.log:1:14: expected a space and the client random, found the end of the line");
	expect_error("# ok\nCLIENT_RANDOM 0011 22\n", 27,
	             "k.log:2:15: expected the client random (64 hex digits), found '0011'");
	snprintf(line, sizeof line, "CLIENT_RANDOM %s", R1);
	expect_error(line, strlen(line),
	             "k.log:1:79: expected a space and the secret, found the end of the line");
	snprintf(line, sizeof line, "CLIENT_RANDOM %s 0011", R1);
	expect_error(line, strlen(line),
	             "k.log:1:80: expected the CLIENT_RANDOM secret (96 hex digits), found '0011'");
	snprintf(line, sizeof line, "CLIENT_TRAFFIC_SECRET_0 %s 00zz", R1);
	expect_error(line, strlen(line),
	             "k.log:1:92: expected the CLIENT_TRAFFIC_SECRET_0 secret (64 or 96 hex digits), found 'zz'");
	snprintf(line, sizeof line, "CLIENT_RANDOM %sx 00", R1);
	expect_error(line, strlen(line),
	             "k.log:1:79: expected the client random (64 hex digits), found 'x'");
	snprintf(line, sizeof line, "CLIENT_TRAFFIC_SECRET_0 %s %s trailing", R1, R1);
	expect_error(line, strlen(line),
	             "k.log:1:155: expected the CLIENT_TRAFFIC_SECRET_0 secret (64 or 96 hex digits), found 'trailing'");
	snprintf(line, sizeof line, "CLIENT_TRAFFIC_SECRET_0 %s %s%s", R1, R1, R1);
	expect_error(line, strlen(line),
	             "k.log:1:90: expected the CLIENT_TRAFFIC_SECRET_0 secret (64 or 96 hex digits), found '0001020304050607...'");
	expect_error("CLIENT_RANDOM \0", 15, "k.log:1:15: expected text, found a NUL byte");
	memset(line, '#', sizeof line);
	expect_error(line, TLSKEYS_LINE_MAX + 1, "k.log:1:1025: expected a line of at most 1024 bytes");
}

static void test_keylog_file(void **state)
{
	char err[256], path[] = "/tmp/test_tlsdec.XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	struct tlskeys *k;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "CLIENT_RANDOM %s %s%s\n", R1, R1, R1 + 32);
	fclose(f);
	k = tlskeys_load(path, err, sizeof err);
	assert_non_null(k);
	assert_int_equal(tlskeys_count(k), 1);
	tlskeys_free(k);
	unlink(path);
	k = tlskeys_load(path, err, sizeof err);
	assert_null(k);
	char want[300];
	snprintf(want, sizeof want, "%s: No such file or directory", path);
	assert_string_equal(err, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand_label),
		cmocka_unit_test(test_open_records),
		cmocka_unit_test(test_keys12),
		cmocka_unit_test(test_keylog),
		cmocka_unit_test(test_keylog_errors),
		cmocka_unit_test(test_keylog_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
