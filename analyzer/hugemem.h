/*
 * hugemem.h - zeroed memory in 2 MiB-aligned mappings, which the kernel
 * may back with transparent huge pages (MADV_HUGEPAGE; with THP set to
 * "madvise", as Debian ships it, only memory so marked gets them).
 *
 * For the big, long-lived buffers that are touched at random (the pools of
 * connections and tombs, the record writer's queue): a huge page is one
 * page fault where 512 small pages were 512, and one TLB entry. Where the
 * kernel refuses, the memory is ordinary pages, as malloc would give.
 */
#ifndef LL_ANALYZER_HUGEMEM_H
#define LL_ANALYZER_HUGEMEM_H

#include <stddef.h>

#define HM_ALIGN ((size_t)2 << 20)

/* size bytes (rounded up to HM_ALIGN), zeroed and HM_ALIGN-aligned; NULL
 * if no memory. */
void *hm_alloc(size_t size);

/* Give back what hm_alloc(size) gave (p may be NULL). */
void hm_free(void *p, size_t size);

#endif
