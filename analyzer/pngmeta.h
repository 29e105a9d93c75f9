/*
 * pngmeta.h - what a pcapng file says about itself: the section header's
 * comments, hardware, OS and application, and each interface's name,
 * description, OS, hardware, link type and comments (the pcapng draft,
 * draft-ietf-opsawg-pcapng, 4.1 and 4.2). libpcap reads the packets but
 * keeps none of this, so these blocks are read here, from the first bytes
 * of the file, with every length checked against the bytes at hand.
 *
 * Only the blocks before the first packet block are read (where writers
 * put them: dumpcap, tcpdump, mergecap); an interface described later,
 * and packet comments, are not seen. Strings are cut at PNG_MAX_STR
 * bytes, lists at PNG_MAX_IF interfaces and PNG_MAX_COMMENTS comments.
 */
#ifndef LL_ANALYZER_PNGMETA_H
#define LL_ANALYZER_PNGMETA_H

#include <stddef.h>
#include <stdint.h>

#define PNG_MAX_IF       32
#define PNG_MAX_COMMENTS 8
#define PNG_MAX_STR      256

/* A string option as found (not NUL-terminated in the file; here it is),
 * or empty when absent. Bytes are as the file has them: a reader that
 * prints them must make them safe. */
struct png_str {
	char s[PNG_MAX_STR + 1];
	uint16_t len;
	uint8_t present;
};

struct png_if {
	uint16_t link_type;
	struct png_str name, description, os, hardware;
	struct png_str comments[PNG_MAX_COMMENTS];
	uint8_t n_comments;
};

struct png_meta {
	struct png_str hardware, os, application;
	struct png_str comments[PNG_MAX_COMMENTS];
	uint8_t n_comments;
	struct png_if ifs[PNG_MAX_IF];
	uint8_t n_ifs;
};

/*
 * Read the section header and interface blocks at the start of p[0..len),
 * into *m (cleared first). Returns 0, or -1 when the bytes do not start
 * with a section header block or a block is malformed (what was read
 * before it is kept). Reads nothing outside p[0..len).
 */
int png_meta_parse(const uint8_t *p, size_t len, struct png_meta *m);

#endif
