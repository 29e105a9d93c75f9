/*
 * scenario_helpers.h - shared by tests/unit/test_scenario*.c: parse a
 * script given as text, and hold it to parsing or to one exact error.
 * Include after <cmocka.h>.
 */
#ifndef LL_TESTS_SCENARIO_HELPERS_H
#define LL_TESTS_SCENARIO_HELPERS_H

#include <string.h>

#include "lab/scenario.h"

static inline struct scn_scenario *parse(const char *text, char *err, size_t errlen)
{
	return scn_parse("s.scn", text, strlen(text), err, errlen);
}

/* The script must fail with exactly msg. */
static inline void check_error(const char *text, const char *msg)
{
	char err[512] = "";
	struct scn_scenario *s = parse(text, err, sizeof err);
	if (s) {
		scn_free(s);
		fail_msg("parsed, expected error: %s", msg);
	}
	if (strcmp(err, msg)) {
		print_error("script:\n%s\n", text);
		fail_msg("\nexpected: %s\nactual:   %s", msg, err);
	}
}

static inline struct scn_scenario *parse_ok(const char *text)
{
	char err[512] = "";
	struct scn_scenario *s = parse(text, err, sizeof err);
	if (!s)
		fail_msg("unexpected error: %s", err);
	return s;
}

#endif
