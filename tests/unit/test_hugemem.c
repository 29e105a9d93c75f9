/*
 * test_hugemem.c - analyzer/hugemem.c: 2 MiB-aligned, zeroed mappings of
 * any size, all of it writable, given back whole; an impossible size is
 * refused, not wrapped. Whether the kernel backs them with huge pages is
 * its choice, not asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "analyzer/hugemem.h"

static void expect_zero_aligned_writable(size_t size)
{
	unsigned char *p = hm_alloc(size);
	size_t rounded = (size + HM_ALIGN - 1) / HM_ALIGN * HM_ALIGN;

	assert_non_null(p);
	assert_int_equal((uintptr_t)p % HM_ALIGN, 0);
	/* zero throughout, up to the rounded size, and writable */
	for (size_t i = 0; i < rounded; i += 4096) {
		assert_int_equal(p[i], 0);
		p[i] = 0xa5;
	}
	assert_int_equal(p[rounded - 1], 0);
	p[rounded - 1] = 1;
	assert_int_equal(p[0], 0xa5);
	hm_free(p, size);
}

/* the sizes below a chunk, at it and past it */
static void test_sizes(void **state)
{
	(void)state;
	expect_zero_aligned_writable(1);
	expect_zero_aligned_writable(HM_ALIGN - 1);
	expect_zero_aligned_writable(HM_ALIGN);
	expect_zero_aligned_writable(HM_ALIGN + 1);
	expect_zero_aligned_writable(5 * HM_ALIGN + 12345);
}

/* Memory given back comes back zeroed: a fresh mapping each time. */
static void test_reuse_is_zero(void **state)
{
	(void)state;
	for (int i = 0; i < 8; i++)
		expect_zero_aligned_writable(3 * HM_ALIGN);
}

static void test_refused(void **state)
{
	(void)state;
	assert_null(hm_alloc(0));
	assert_null(hm_alloc(SIZE_MAX));
	assert_null(hm_alloc(SIZE_MAX - HM_ALIGN));
	hm_free(NULL, 123); /* nothing to give back */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_reuse_is_zero),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
