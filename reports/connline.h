/*
 * connline.h - `analyze --connections`: a connection record as one JSON
 * line (JSON Lines), the shape of report_conn() without its timeline, in
 * the bytes json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(15)) gives for
 * it (tests/unit/test_connline.c holds the two to that). Format in
 * docs/report-format.md.
 *
 * This is the hot path of --connections (a record for every ten packets
 * of a capture of short connections), so a record is written straight
 * into the caller's buffer, with no allocation, no stdio and no printf on
 * the usual path; reports/connwriter.c runs it in a thread of its own.
 */
#ifndef LL_REPORTS_CONNLINE_H
#define LL_REPORTS_CONNLINE_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/analyzer.h"

/* No record is longer than this, whatever its values: every variable part
 * has a bound (20 digits a number, 24 characters a time, an IPv6 address,
 * names from the tables below, a Zeek history of AZ_ZEEK_HISTORY_SIZE
 * bytes escaped, AZ_MAX_HTTP_RESPONSES responses); test_connline writes
 * the longest record there is (3,103 bytes) and checks it fits. */
#define CONNLINE_MAX 4096

/* A name as it is written: with its quotes. */
struct connline_name {
	uint8_t len;
	char s[31];
};

/* The analyzer's enum names, quoted, looked up once (connline_init), so
 * a record costs no strlen() per name. The last entry of each table is
 * the name of an out-of-range value. And IPv4 address bytes in decimal. */
struct connline_names {
	struct connline_name initiator[AZ_NINITIATORS + 1];
	struct connline_name kind[AZ_NKINDS + 1];
	struct connline_name state[AZ_NSTATES + 1];
	struct connline_name zeek[AZ_NZEEK_STATES + 1];
	struct connline_name linger_end[AZ_NLINGER_ENDS + 1];
	struct connline_name fw2_end[2][AZ_NFW2_ENDS + 1]; /* [enum az_side] */
	struct { char s[3]; uint8_t len; } octet[256]; /* "0" to "255" */
};

/* Fill names. Returns 0, or -1 if a name is too long for a table (a
 * programming error that test_connline would show). */
int connline_init(struct connline_names *names);

/*
 * Write c's record and its '\n' at buf, which has room for CONNLINE_MAX
 * bytes; t0 is the capture's first time (times are relative to it).
 * Returns the record's length (never 0, never above CONNLINE_MAX).
 */
size_t connline_format(const struct connline_names *names, char *buf,
                       const struct az_conn *c, double t0);

/* Helpers of connline_format, for its tests: v in decimal at d (room for
 * 20 digits), the number of digits; seconds s as report.c's jsec() and
 * jansson print them (rounded to the microsecond, %.15g, "null" if not
 * finite) at d (room for 24 bytes), the number of bytes. */
size_t connline_u64(char *d, uint64_t v);
size_t connline_sec(char *d, double s);

/* A string as jansson writes it (quotes, and \" \\ \b \f \n \r \t or
 * \u00XX escapes; other bytes as they are), at most max bytes of s (up to
 * its NUL) at d, which has room for 2 + 6 * max bytes. Returns the bytes
 * written. */
size_t connline_str(char *d, const char *s, size_t max);

#endif
