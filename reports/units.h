/*
 * units.h - durations written for people, the same in the terminal
 * (explain) and on the page (render): "850 µs", "12.5 ms", "1.250 s".
 */
#ifndef LL_REPORTS_UNITS_H
#define LL_REPORTS_UNITS_H

#include <stddef.h>
#include <stdio.h>

/* Write the duration s (seconds) into buf; returns buf. */
static inline const char *units_duration(double s, char *buf, size_t len)
{
	if (s < 0.001)
		snprintf(buf, len, "%.0f µs", s * 1e6);
	else if (s < 1.0)
		snprintf(buf, len, "%.1f ms", s * 1e3);
	else
		snprintf(buf, len, "%.3f s", s);
	return buf;
}

#endif
