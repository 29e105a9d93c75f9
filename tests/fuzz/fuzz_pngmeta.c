/*
 * fuzz_pngmeta.c - libFuzzer target over png_meta_parse(): the pcapng
 * section and interface blocks capture.c reads from a file's first bytes.
 * The input is the file head, in a buffer of exactly its size (ASan sees
 * any read past it). Besides "no crash, no overread": counts within their
 * bounds, every string NUL-terminated within PNG_MAX_STR.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/pngmeta.h"

#define check(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
		        __LINE__, #cond); \
		abort(); \
	} \
} while (0)

static void check_str(const struct png_str *s)
{
	check(s->len <= PNG_MAX_STR);
	check(strlen(s->s) == s->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct png_meta m;
	int rc = png_meta_parse(size ? data : NULL, size, &m);

	check(rc == 0 || rc == -1);
	check(m.n_comments <= PNG_MAX_COMMENTS);
	check(m.n_ifs <= PNG_MAX_IF);
	check_str(&m.hardware);
	check_str(&m.os);
	check_str(&m.application);
	for (int i = 0; i < m.n_comments; i++)
		check_str(&m.comments[i]);
	for (int i = 0; i < m.n_ifs; i++) {
		check(m.ifs[i].n_comments <= PNG_MAX_COMMENTS);
		check_str(&m.ifs[i].name);
		check_str(&m.ifs[i].description);
		for (int k = 0; k < m.ifs[i].n_comments; k++)
			check_str(&m.ifs[i].comments[k]);
	}
	return 0;
}
