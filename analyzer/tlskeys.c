/*
 * tlskeys.c - the NSS key log (see tlskeys.h).
 *
 * The format is Mozilla's ("NSS Key Log Format", the SSLKEYLOGFILE
 * documentation) and what OpenSSL's SSL_CTX_set_keylog_callback() hands
 * out: a label, the 32-byte ClientHello random and the secret in lower or
 * upper case hex, separated by single spaces. Sessions are kept in an
 * array that grows geometrically and found through an open-addressing
 * index on the random (the random is uniformly random: its first bytes
 * are a good hash).
 */
#include "analyzer/tlskeys.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FILE_MAX ((size_t)256 << 20)
#define NONE UINT32_MAX

struct tlskeys {
	struct tlskeys_session *s;
	size_t n, cap;
	uint32_t *idx;             /* slots: index into s[], or NONE */
	size_t idx_cap;            /* a power of two, > 2 n */
};

static const struct {
	const char *name;
	int label;                 /* enum tlskeys_label, or -1: skipped */
	uint8_t min, max;          /* secret length in bytes */
} labels[] = {
	{ "CLIENT_RANDOM", TLSKEYS_MASTER, 48, 48 },
	{ "CLIENT_HANDSHAKE_TRAFFIC_SECRET", TLSKEYS_CLIENT_HS, 32, 48 },
	{ "SERVER_HANDSHAKE_TRAFFIC_SECRET", TLSKEYS_SERVER_HS, 32, 48 },
	{ "CLIENT_TRAFFIC_SECRET_0", TLSKEYS_CLIENT_AP, 32, 48 },
	{ "SERVER_TRAFFIC_SECRET_0", TLSKEYS_SERVER_AP, 32, 48 },
};

static uint32_t hash_of(const uint8_t r[32])
{
	uint32_t h;

	memcpy(&h, r, 4);
	return h ^ (uint32_t)r[4] << 24 ^ (uint32_t)r[31];
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The hex digits at l[*i..) up to a space or the end of the line (n):
 * into out (at most max bytes). Returns the byte count, or -1 (odd
 * count or a non-hex character at *i), or -2 (longer than max). */
static int hex_field(const char *l, size_t n, size_t *i, uint8_t *out, size_t max)
{
	size_t k = 0;

	while (*i < n && l[*i] != ' ') {
		int hi = hexval(l[*i]), lo;

		if (hi < 0 || *i + 1 >= n || (lo = hexval(l[*i + 1])) < 0) {
			if (hi >= 0)
				(*i)++;
			return -1;
		}
		if (k == max)
			return -2;
		out[k++] = (uint8_t)(hi << 4 | lo);
		*i += 2;
	}
	return (int)k;
}

static void say(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* What is at l[i]: the word there (up to a space), quoted, at most 16
 * characters of it and "..." when it is longer; control bytes as '?'. */
static void found(const char *l, size_t n, size_t i, char *buf, size_t len)
{
	size_t k = 0, m = 0;

	if (i >= n) {
		snprintf(buf, len, "the end of the line");
		return;
	}
	buf[k++] = '\'';
	for (; i < n && l[i] != ' ' && m < 16 && k + 5 < len; i++, m++) {
		unsigned char c = (unsigned char)l[i];
		buf[k++] = (c >= 0x20 && c < 0x7f && c != '\'') ? (char)c : '?';
	}
	if (i < n && l[i] != ' ' && k + 5 < len) {
		memcpy(buf + k, "...", 3);
		k += 3;
	}
	buf[k++] = '\'';
	buf[k] = '\0';
}

static int grow_index(struct tlskeys *k)
{
	size_t cap = k->idx_cap ? k->idx_cap * 2 : 64, i;
	uint32_t *idx = malloc(cap * sizeof(*idx));

	if (!idx)
		return -1;
	for (i = 0; i < cap; i++)
		idx[i] = NONE;
	for (i = 0; i < k->n; i++) {
		size_t h = hash_of(k->s[i].random) & (cap - 1);

		while (idx[h] != NONE)
			h = (h + 1) & (cap - 1);
		idx[h] = (uint32_t)i;
	}
	free(k->idx);
	k->idx = idx;
	k->idx_cap = cap;
	return 0;
}

/* The session of random r, made if new. NULL without memory or room. */
static struct tlskeys_session *session_of(struct tlskeys *k, const uint8_t r[32],
                                          bool *full)
{
	size_t h;

	*full = false;
	if ((k->n + 1) * 2 > k->idx_cap && grow_index(k) != 0)
		return NULL;
	for (h = hash_of(r) & (k->idx_cap - 1); k->idx[h] != NONE;
	     h = (h + 1) & (k->idx_cap - 1))
		if (memcmp(k->s[k->idx[h]].random, r, 32) == 0)
			return &k->s[k->idx[h]];
	if (k->n == TLSKEYS_MAX_SESSIONS) {
		*full = true;
		return NULL;
	}
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		struct tlskeys_session *s = realloc(k->s, cap * sizeof(*s));

		if (!s)
			return NULL;
		k->s = s;
		k->cap = cap;
	}
	memset(&k->s[k->n], 0, sizeof(k->s[k->n]));
	memcpy(k->s[k->n].random, r, 32);
	k->idx[h] = (uint32_t)k->n;
	return &k->s[k->n++];
}

/* One line (no LF) of n bytes, number lno. 0, or -1 with err set. */
static int parse_line(struct tlskeys *k, const char *l, size_t n, const char *name,
                      size_t lno, char *err, size_t errlen)
{
	size_t i = 0, w, j;
	uint8_t r[32], sec[TLSKEYS_SECRET_MAX + 1];
	int got, li = -1;
	char what[32];
	bool full;
	struct tlskeys_session *s;

	if (n > 0 && l[n - 1] == '\r')
		n--;
	if (n == 0 || l[0] == '#')
		return 0;
	while (i < n && l[i] != ' ')
		i++;
	w = i;
	for (j = 0; j < sizeof(labels) / sizeof(labels[0]); j++)
		if (strlen(labels[j].name) == w && memcmp(l, labels[j].name, w) == 0)
			li = (int)j;
	if (li < 0)
		return 0; /* a label nothing here needs */
	if (i >= n) {
		say(err, errlen, "%s:%zu:%zu: expected a space and the client random, "
		    "found the end of the line", name, lno, i + 1);
		return -1;
	}
	i++;
	j = i;
	got = hex_field(l, n, &i, r, sizeof(r));
	if (got != 32) {
		size_t at = got == -1 ? i : j;

		found(l, n, at, what, sizeof what);
		say(err, errlen, "%s:%zu:%zu: expected the client random (64 hex "
		    "digits), found %s", name, lno, at + 1, what);
		return -1;
	}
	if (i >= n) {
		say(err, errlen, "%s:%zu:%zu: expected a space and the secret, found "
		    "the end of the line", name, lno, i + 1);
		return -1;
	}
	i++;
	j = i;
	got = hex_field(l, n, &i, sec, sizeof(sec));
	if (got < labels[li].min || got > labels[li].max ||
	    (got != 32 && got != 48) || i != n) {
		size_t at = got == -1 ? i : got >= 0 && i != n ? i + 1 : j;

		found(l, n, at, what, sizeof what);
		if (labels[li].min == labels[li].max)
			say(err, errlen, "%s:%zu:%zu: expected the %s secret (%u hex "
			    "digits), found %s", name, lno, at + 1, labels[li].name,
			    labels[li].max * 2u, what);
		else
			say(err, errlen, "%s:%zu:%zu: expected the %s secret (64 or 96 "
			    "hex digits), found %s", name, lno, at + 1, labels[li].name, what);
		return -1;
	}
	s = session_of(k, r, &full);
	if (!s) {
		if (full)
			say(err, errlen, "%s:%zu: more than %u sessions", name, lno,
			    TLSKEYS_MAX_SESSIONS);
		else
			say(err, errlen, "%s: out of memory", name);
		return -1;
	}
	s->len[labels[li].label] = (uint8_t)got;
	memcpy(s->secret[labels[li].label], sec, (size_t)got);
	return 0;
}

struct tlskeys *tlskeys_parse(const char *text, size_t n, const char *name,
                              char *err, size_t errlen)
{
	struct tlskeys *k = calloc(1, sizeof(*k));
	size_t at = 0, lno = 0;

	if (!k) {
		say(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	while (at < n) {
		const char *lf = memchr(text + at, '\n', n - at);
		size_t len = lf ? (size_t)(lf - (text + at)) : n - at;

		lno++;
		if (len > TLSKEYS_LINE_MAX) {
			say(err, errlen, "%s:%zu:%u: expected a line of at most %u bytes",
			    name, lno, TLSKEYS_LINE_MAX + 1, TLSKEYS_LINE_MAX);
			goto err;
		}
		if (memchr(text + at, '\0', len)) {
			say(err, errlen, "%s:%zu:%zu: expected text, found a NUL byte", name,
			    lno, (size_t)((const char *)memchr(text + at, '\0', len) - (text + at)) + 1);
			goto err;
		}
		if (parse_line(k, text + at, len, name, lno, err, errlen) != 0)
			goto err;
		at += len + (lf ? 1 : 0);
	}
	return k;
err:
	tlskeys_free(k);
	return NULL;
}

struct tlskeys *tlskeys_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct tlskeys *k = NULL;
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		say(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t got;

		if (n == cap) {
			size_t nc = cap ? cap * 2 : 1 << 16;
			char *b;

			if (cap >= FILE_MAX) {
				say(err, errlen, "%s: larger than %zu MiB", path, FILE_MAX >> 20);
				goto out;
			}
			if (nc > FILE_MAX)
				nc = FILE_MAX;
			if (!(b = realloc(buf, nc))) {
				say(err, errlen, "%s: out of memory", path);
				goto out;
			}
			buf = b;
			cap = nc;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				say(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
				goto out;
			}
			break;
		}
	}
	k = tlskeys_parse(buf ? buf : "", n, path, err, errlen);
out:
	free(buf);
	fclose(f);
	return k;
}

const struct tlskeys_session *tlskeys_find(const struct tlskeys *k,
                                           const uint8_t random[32])
{
	size_t h;

	if (!k || k->idx_cap == 0)
		return NULL;
	for (h = hash_of(random) & (k->idx_cap - 1); k->idx[h] != NONE;
	     h = (h + 1) & (k->idx_cap - 1))
		if (memcmp(k->s[k->idx[h]].random, random, 32) == 0)
			return &k->s[k->idx[h]];
	return NULL;
}

size_t tlskeys_count(const struct tlskeys *k)
{
	return k ? k->n : 0;
}

void tlskeys_free(struct tlskeys *k)
{
	if (!k)
		return;
	free(k->s);
	free(k->idx);
	free(k);
}
