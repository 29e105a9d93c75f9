/*
 * hugemem.c - zeroed, 2 MiB-aligned mappings that may get huge pages
 * (see hugemem.h).
 */
#include "analyzer/hugemem.h"

#include <stdint.h>
#include <sys/mman.h>

static size_t round_up(size_t size)
{
	return (size + HM_ALIGN - 1) & ~(HM_ALIGN - 1);
}

void *hm_alloc(size_t size)
{
	size_t len, lead;
	char *m, *a;

	/* nothing, or more than rounding up and the alignment slack allow */
	if (size == 0 || size > SIZE_MAX - 2 * HM_ALIGN)
		return NULL;
	len = round_up(size);
	/* map one alignment more than needed and give back both ends */
	m = mmap(NULL, len + HM_ALIGN, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	lead = (HM_ALIGN - ((uintptr_t)m & (HM_ALIGN - 1))) & (HM_ALIGN - 1);
	a = m + lead;
	if (lead)
		(void)munmap(m, lead);
	if (HM_ALIGN - lead)
		(void)munmap(a + len, HM_ALIGN - lead);
#ifdef MADV_HUGEPAGE
	(void)madvise(a, len, MADV_HUGEPAGE); /* a hint: may be refused */
#endif
	return a;
}

void hm_free(void *p, size_t size)
{
	if (p)
		(void)munmap(p, round_up(size));
}
