/*
 * test_rawtcp_heap.c - the raw client's timer heap (lab/timerheap.h): the
 * order timers fire in and the order held packets leave the delay queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lab/timerheap.h"

/* Earliest deadline first, whatever the insertion order. */
static void test_pops_in_deadline_order(void **state)
{
	(void)state;
	struct theap h;
	struct theap_node n[6];
	uint64_t when[6] = { 50, 10, 40, 30, 20, 60 };
	theap_init(&h);
	for (int i = 0; i < 6; i++) {
		theap_node_init(&n[i]);
		assert_int_equal(theap_set(&h, &n[i], when[i]), 0);
	}
	for (uint64_t expect = 10; expect <= 60; expect += 10) {
		struct theap_node *x = theap_pop(&h);
		assert_non_null(x);
		assert_int_equal(x->when, expect);
		assert_false(theap_linked(x));
	}
	assert_null(theap_pop(&h));
	theap_fini(&h);
}

/* Equal deadlines leave first-in first-out: the delay queue keeps the order
 * of packets queued at the same instant (a segment and its FIN). */
static void test_equal_deadlines_are_fifo(void **state)
{
	(void)state;
	struct theap h;
	struct theap_node n[100];
	theap_init(&h);
	for (int i = 0; i < 100; i++) {
		theap_node_init(&n[i]);
		assert_int_equal(theap_set(&h, &n[i], 7), 0);
	}
	for (int i = 0; i < 100; i++)
		assert_ptr_equal(theap_pop(&h), &n[i]);
	theap_fini(&h);
}

/* Re-keying moves a node; removing one from the middle keeps the rest in
 * order (a connection whose RTO is rearmed or cancelled). */
static void test_rekey_and_remove(void **state)
{
	(void)state;
	struct theap h;
	struct theap_node a, b, c, d;
	theap_init(&h);
	theap_node_init(&a); theap_node_init(&b); theap_node_init(&c); theap_node_init(&d);
	theap_set(&h, &a, 100);
	theap_set(&h, &b, 200);
	theap_set(&h, &c, 300);
	theap_set(&h, &d, 400);
	theap_set(&h, &d, 50);      /* d now first */
	theap_set(&h, &a, 350);     /* a after c */
	theap_remove(&h, &b);
	theap_remove(&h, &b);       /* twice is harmless */
	assert_int_equal(theap_len(&h), 3);
	assert_ptr_equal(theap_pop(&h), &d);
	assert_ptr_equal(theap_pop(&h), &c);
	assert_ptr_equal(theap_pop(&h), &a);
	assert_null(theap_top(&h));
	theap_fini(&h);
}

/* Many random operations against a brute-force model. */
static void test_random_against_model(void **state)
{
	(void)state;
	enum { N = 2000 };
	struct theap h;
	static struct theap_node n[N];
	uint64_t seed = 12345;
	theap_init(&h);
	for (int i = 0; i < N; i++)
		theap_node_init(&n[i]);
	for (int step = 0; step < 50000; step++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		int i = (int)((seed >> 33) % N);
		int op = (int)((seed >> 20) % 3);
		if (op < 2)
			assert_int_equal(theap_set(&h, &n[i], (seed >> 40) % 1000), 0);
		else
			theap_remove(&h, &n[i]);
		if (step % 997 == 0) {
			/* the top is the minimum of all linked nodes */
			uint64_t best = UINT64_MAX;
			for (int j = 0; j < N; j++)
				if (theap_linked(&n[j]) && n[j].when < best)
					best = n[j].when;
			if (best != UINT64_MAX)
				assert_int_equal(theap_top(&h)->when, best);
		}
	}
	{
		uint64_t last = 0;
		struct theap_node *x;
		while ((x = theap_pop(&h)) != NULL) {
			assert_true(x->when >= last);
			last = x->when;
		}
	}
	theap_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pops_in_deadline_order),
		cmocka_unit_test(test_equal_deadlines_are_fifo),
		cmocka_unit_test(test_rekey_and_remove),
		cmocka_unit_test(test_random_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
