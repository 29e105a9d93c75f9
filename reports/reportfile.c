/*
 * reportfile.c - load and check a lingerlab JSON report; tolerant accessors.
 */
#include "reports/reportfile.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read the whole file into a NUL-terminated buffer (caller frees). */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	const char *name = strcmp(path, "-") ? path : "stdin";

	f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		goto err;
	}
	for (;;) {
		if (n + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			if (ncap > (size_t)RF_MAX_BYTES + 1)
				ncap = (size_t)RF_MAX_BYTES + 1;
			if (n + 1 >= ncap) {
				snprintf(err, errlen, "%s: larger than %u MiB, not a report",
				         name, RF_MAX_BYTES >> 20);
				goto err;
			}
			char *nb = realloc(buf, ncap);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory", name);
				goto err;
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - 1 - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				snprintf(err, errlen, "%s: %s", name, strerror(errno ? errno : EIO));
				goto err;
			}
			break;
		}
	}
	buf[n] = '\0';
	if (f != stdin)
		fclose(f);
	*len = n;
	return buf;
err:
	if (f && f != stdin)
		fclose(f);
	free(buf);
	buf = NULL;
	return NULL;
}

/* Check the members every command walks; message says what is wrong. */
static int check_skeleton(const json_t *r, char *why, size_t whylen)
{
	static const char *const objects[] = { "tool", "input", "summary", "fin_wait_2", "verdict" };
	json_t *v;
	size_t i;

	if (!json_is_object(r)) {
		snprintf(why, whylen, "the top level is not an object");
		return -1;
	}
	v = json_object_get(r, "report_version");
	if (!v) {
		snprintf(why, whylen, "no \"report_version\"");
		return -1;
	}
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		snprintf(why, whylen, "unsupported report_version (this lingerlab reads version 1)");
		return -1;
	}
	for (i = 0; i < sizeof objects / sizeof objects[0]; i++)
		if (!json_is_object(json_object_get(r, objects[i]))) {
			snprintf(why, whylen, "\"%s\" is missing or not an object", objects[i]);
			return -1;
		}
	if (!json_is_string(json_object_get(r, "command"))) {
		snprintf(why, whylen, "\"command\" is missing or not a string");
		return -1;
	}
	v = json_object_get(r, "findings");
	if (!json_is_array(v)) {
		snprintf(why, whylen, "\"findings\" is missing or not an array");
		return -1;
	}
	for (i = 0; i < json_array_size(v); i++) {
		json_t *f = json_array_get(v, i);
		if (!json_is_object(f) || !json_is_string(json_object_get(f, "type"))) {
			snprintf(why, whylen, "findings[%zu] has no \"type\"", i);
			return -1;
		}
	}
	v = json_object_get(r, "connections");
	if (!json_is_array(v)) {
		snprintf(why, whylen, "\"connections\" is missing or not an array");
		return -1;
	}
	for (i = 0; i < json_array_size(v); i++) {
		json_t *c = json_array_get(v, i);
		if (!json_is_object(c) || !json_is_integer(json_object_get(c, "id"))) {
			snprintf(why, whylen, "connections[%zu] has no integer \"id\"", i);
			return -1;
		}
	}
	v = json_object_get(r, "lab");
	if (v && !json_is_object(v) && !json_is_null(v)) {
		snprintf(why, whylen, "\"lab\" is not an object");
		return -1;
	}
	v = json_object_get(r, "scenarios");
	if (v && !json_is_null(v)) {
		if (!json_is_array(v)) {
			snprintf(why, whylen, "\"scenarios\" is not an array");
			return -1;
		}
		for (i = 0; i < json_array_size(v); i++) {
			json_t *s = json_array_get(v, i);
			if (!json_is_object(s) || !json_is_string(json_object_get(s, "name"))) {
				snprintf(why, whylen, "scenarios[%zu] has no \"name\"", i);
				return -1;
			}
		}
	}
	return 0;
}

/*
 * Copy jansson's error text with control bytes (C0, DEL) written \xHH.
 * Its "near '...'" quotes the input around the error, raw: a report with a
 * backslash before a line break gave a message of two lines, and an ESC
 * there would reach the terminal (found by tests/fuzz/fuzz_report.c; the
 * header promises a one-line message).
 */
static void visible(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	for (; *in && o + 5 < cap; in++) {
		unsigned char c = (unsigned char)*in;
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

json_t *rf_load(const char *path, char *err, size_t errlen)
{
	const char *name = strcmp(path, "-") ? path : "stdin";
	json_error_t je;
	json_t *root = NULL;
	char why[200], text[4 * JSON_ERROR_TEXT_LENGTH + 1];
	size_t len = 0, k;
	char *buf = slurp(path, &len, err, errlen);

	if (!buf)
		return NULL;
	for (k = 0; k < len && strchr(" \t\r\n", buf[k]); k++)
		;
	if (k == len) {
		snprintf(err, errlen, "%s: empty file, not a JSON report", name);
		goto out;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		/* The parser stopping at the very end of the input means the
		 * document was cut short, whatever token it was inside. */
		bool truncated = json_error_code(&je) == json_error_premature_end_of_input ||
		                 (je.position >= 0 && (size_t)je.position >= len);
		visible(je.text, text, sizeof text);
		snprintf(err, errlen, "%s:%d:%d: %s JSON: %s", name, je.line, je.column,
		         truncated ? "truncated" : "invalid", text);
		goto out;
	}
	if (check_skeleton(root, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s: not a lingerlab report: %s", name, why);
		json_decref(root);
		root = NULL;
	}
out:
	free(buf);
	buf = NULL;
	return root;
}

double rf_val_num(const json_t *v, double dflt)
{
	double d;

	if (json_is_integer(v))
		return (double)json_integer_value(v);
	if (!json_is_real(v))
		return dflt;
	d = json_real_value(v);
	return isfinite(d) ? d : dflt;
}

double rf_num(const json_t *obj, const char *key, double dflt)
{
	return obj ? rf_val_num(json_object_get(obj, key), dflt) : dflt;
}

bool rf_is_num(const json_t *obj, const char *key)
{
	return obj && json_is_number(json_object_get(obj, key));
}

long long rf_val_int(const json_t *v, long long dflt)
{
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v)) {
		double d = json_real_value(v);
		/* (double)LLONG_MAX rounds up to 2^63: stay strictly below it */
		if (d >= -9.2e18 && d <= 9.2e18 && d == floor(d))
			return (long long)d;
	}
	return dflt;
}

long long rf_int(const json_t *obj, const char *key, long long dflt)
{
	return rf_val_int(obj ? json_object_get(obj, key) : NULL, dflt);
}

bool rf_bool(const json_t *obj, const char *key, bool dflt)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

const char *rf_str(const json_t *obj, const char *key)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

json_t *rf_obj(const json_t *obj, const char *key)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;

	return json_is_object(v) ? v : NULL;
}

json_t *rf_arr(const json_t *obj, const char *key)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;

	return json_is_array(v) ? v : NULL;
}

bool rf_is_lab(const json_t *root)
{
	return rf_obj(root, "lab") && rf_arr(root, "scenarios");
}

json_t *rf_conn(const json_t *root, long long id)
{
	json_t *conns = rf_arr(root, "connections"), *c;
	size_t i;

	json_array_foreach(conns, i, c)
		if (rf_int(c, "id", -1) == id)
			return c;
	return NULL;
}

json_t *rf_finding_for(const json_t *root, long long id)
{
	json_t *fs = rf_arr(root, "findings"), *f;
	size_t i;

	json_array_foreach(fs, i, f)
		if (rf_int(f, "connection", -1) == id)
			return f;
	return NULL;
}

/* A sequence-space number: integer in [0, 2^32). */
static int seqnum(const json_t *p, const char *key, uint32_t *out)
{
	json_t *v = json_object_get(p, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > (json_int_t)UINT32_MAX)
		return -1;
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

int rf_timeline(const json_t *conn, struct rf_timeline *tl, char *err,
                size_t errlen)
{
	json_t *t = rf_obj(conn, "timeline"), *pkts, *p;
	long long cid = rf_int(conn, "id", -1);
	size_t k;

	memset(tl, 0, sizeof *tl);
	tl->omitted_after = -1;
	if (!t)
		return 0;
	pkts = rf_arr(t, "packets");
	if (!pkts || json_array_size(pkts) == 0)
		return 0;
	tl->pkts = calloc(json_array_size(pkts), sizeof *tl->pkts);
	if (!tl->pkts) {
		snprintf(err, errlen, "connection %lld: timeline: out of memory", cid);
		return -1;
	}
	json_array_foreach(pkts, k, p) {
		struct rf_pkt *q = &tl->pkts[k];
		const char *dir = rf_str(p, "dir"), *fl = rf_str(p, "flags");
		const char *bad = NULL;

		if (!json_is_object(p))
			bad = "not an object";
		else if (!json_is_integer(json_object_get(p, "i")) || rf_int(p, "i", 0) < 1)
			bad = "\"i\" is not a packet index";
		else if (!rf_is_num(p, "t"))
			bad = "\"t\" is not a number";
		else if (!dir || (strcmp(dir, "c2s") && strcmp(dir, "s2c")))
			bad = "\"dir\" is not c2s or s2c";
		else if (!fl || strlen(fl) >= sizeof q->flags)
			bad = "\"flags\" is not a flag string";
		else if (seqnum(p, "seq", &q->seq) || seqnum(p, "ack", &q->ack_no) ||
		         seqnum(p, "len", &q->len) || seqnum(p, "win", &q->win))
			bad = "seq, ack, len or win is not a 32-bit unsigned integer";
		if (bad) {
			snprintf(err, errlen, "connection %lld: timeline packet %zu: %s", cid, k + 1, bad);
			rf_timeline_free(tl);
			return -1;
		}
		q->i = rf_int(p, "i", 0);
		q->t = rf_num(p, "t", 0);
		q->dir = strcmp(dir, "c2s") ? RF_S2C : RF_C2S;
		snprintf(q->flags, sizeof q->flags, "%s", fl);
		q->syn = strchr(fl, 'S') != NULL;
		q->fin = strchr(fl, 'F') != NULL;
		q->rst = strchr(fl, 'R') != NULL;
		q->psh = strchr(fl, 'P') != NULL;
		q->ack = strchr(fl, '.') != NULL;
		tl->n++;
	}
	tl->omitted = rf_int(t, "omitted", 0);
	if (tl->omitted < 0)
		tl->omitted = 0;
	tl->omitted_after = rf_int(t, "omitted_after", -1);
	if (tl->omitted == 0 || tl->omitted_after < 0 || (size_t)tl->omitted_after >= tl->n)
		tl->omitted_after = -1;
	return 0;
}

void rf_timeline_free(struct rf_timeline *tl)
{
	free(tl->pkts);
	tl->pkts = NULL;
	tl->n = 0;
}

long long rf_sum_members(const json_t *obj)
{
	const char *k;
	json_t *v;
	long long s = 0;

	if (!json_is_object(obj))
		return 0;
	json_object_foreach((json_t *)obj, k, v)
		if (json_is_integer(v) && json_integer_value(v) > 0)
			s += json_integer_value(v);
	return s;
}

bool rf_at_risk(const json_t *finding, long long idx)
{
	json_t *a = rf_arr(finding, "at_risk_packets"), *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (json_is_integer(v) && json_integer_value(v) == idx)
			return true;
	return false;
}
