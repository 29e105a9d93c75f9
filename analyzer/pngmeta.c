/*
 * pngmeta.c - pcapng section and interface descriptions (see pngmeta.h).
 *
 * A block: type (4), total length (4), body, total length again (4), in
 * the section's byte order, which the section header's byte-order magic
 * 0x1A2B3C4D tells. Options: code (2), length (2), value padded to 4
 * bytes, ended by opt_endofopt (0) or the block's end.
 */
#include "analyzer/pngmeta.h"

#include <stdbool.h>
#include <string.h>

#define BT_SHB   0x0A0D0D0Au
#define BT_IDB   0x00000001u
#define BO_MAGIC 0x1A2B3C4Du

#define OPT_END      0
#define OPT_COMMENT  1
#define SHB_HARDWARE 2
#define SHB_OS       3
#define SHB_USERAPPL 4
#define IF_NAME      2
#define IF_DESCRIPTION 3
#define IF_OS        12
#define IF_HARDWARE  15

#define MAX_BLOCKS   (PNG_MAX_IF + 16) /* SHB, IDBs, and a few others */

struct rd {
	const uint8_t *p;
	size_t len;
	bool swap;
};

static bool get32(const struct rd *r, size_t off, uint32_t *v)
{
	uint32_t x;

	if (off > r->len || r->len - off < 4)
		return false;
	memcpy(&x, r->p + off, 4);
	*v = r->swap ? __builtin_bswap32(x) : x;
	return true;
}

static bool get16(const struct rd *r, size_t off, uint16_t *v)
{
	uint16_t x;

	if (off > r->len || r->len - off < 2)
		return false;
	memcpy(&x, r->p + off, 2);
	*v = r->swap ? __builtin_bswap16(x) : x;
	return true;
}

static void set_str(struct png_str *s, const uint8_t *v, uint16_t n)
{
	size_t k = n < PNG_MAX_STR ? n : PNG_MAX_STR;

	memcpy(s->s, v, k);
	s->s[k] = '\0';
	/* a writer may count a terminating NUL in the length */
	s->len = (uint16_t)strnlen(s->s, k);
	s->present = 1;
}

static void add_comment(struct png_str *list, uint8_t *n, const uint8_t *v,
                        uint16_t len)
{
	if (*n < PNG_MAX_COMMENTS)
		set_str(&list[(*n)++], v, len);
}

/* The options in [off, end): each handed to the block's own reader. */
static int options(const struct rd *r, size_t off, size_t end,
                   struct png_meta *m, struct png_if *ifc)
{
	while (off + 4 <= end) {
		uint16_t code, len;
		const uint8_t *v;

		if (!get16(r, off, &code) || !get16(r, off + 2, &len))
			return -1;
		if (code == OPT_END)
			return 0;
		if ((size_t)len > end - off - 4)
			return -1;      /* an option past its block */
		v = r->p + off + 4;
		if (ifc) {
			switch (code) {
			case OPT_COMMENT:
				add_comment(ifc->comments, &ifc->n_comments, v, len);
				break;
			case IF_NAME: set_str(&ifc->name, v, len); break;
			case IF_DESCRIPTION: set_str(&ifc->description, v, len); break;
			case IF_OS: set_str(&ifc->os, v, len); break;
			case IF_HARDWARE: set_str(&ifc->hardware, v, len); break;
			default: break;
			}
		} else {
			switch (code) {
			case OPT_COMMENT:
				add_comment(m->comments, &m->n_comments, v, len);
				break;
			case SHB_HARDWARE: set_str(&m->hardware, v, len); break;
			case SHB_OS: set_str(&m->os, v, len); break;
			case SHB_USERAPPL: set_str(&m->application, v, len); break;
			default: break;
			}
		}
		off += 4 + (((size_t)len + 3) & ~(size_t)3);
	}
	return 0;
}

int png_meta_parse(const uint8_t *p, size_t len, struct png_meta *m)
{
	struct rd r = { p, len, false };
	size_t off = 0;
	uint32_t type, magic;

	memset(m, 0, sizeof(*m));
	if (!p || len < 12)
		return -1;
	memcpy(&type, p, 4);
	if (type != BT_SHB)
		return -1;
	memcpy(&magic, p + 8, 4);
	if (magic == __builtin_bswap32(BO_MAGIC))
		r.swap = true;
	else if (magic != BO_MAGIC)
		return -1;
	for (int nb = 0; nb < MAX_BLOCKS && off < len; nb++) {
		uint32_t bt, bl;

		if (!get32(&r, off, &bt) || !get32(&r, off + 4, &bl))
			return 0;       /* the bytes at hand end here */
		if (bl < 12 || bl % 4 != 0)
			return -1;
		if (bl > len - off)
			return 0;       /* a block longer than what was read */
		if (bt == BT_SHB) {
			/* a new section: byte order magic (4), version (4),
			 * section length (8), options; a second section's
			 * descriptions are not ours to merge */
			if (off != 0)
				return 0;
			if (bl < 28 || options(&r, off + 24, off + bl - 4, m, NULL) != 0)
				return -1;
		} else if (bt == BT_IDB) {
			uint16_t lt;

			/* link type (2), reserved (2), snaplen (4), options */
			if (bl < 20 || !get16(&r, off + 8, &lt))
				return -1;
			if (m->n_ifs < PNG_MAX_IF) {
				struct png_if *ifc = &m->ifs[m->n_ifs++];

				ifc->link_type = lt;
				if (options(&r, off + 16, off + bl - 4, m, ifc) != 0)
					return -1;
			}
		} else if (bt == 6 || bt == 3 || bt == 2) {
			return 0;       /* the first packet block: done */
		}
		off += bl;
	}
	return 0;
}
