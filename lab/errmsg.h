/*
 * errmsg.h - fill a caller's error buffer.
 *
 * Library functions report failure as a status plus a message the caller
 * owns: (char *err, size_t errlen). errmsg_set() formats into it, always
 * NUL-terminated, and does nothing when err is NULL or errlen is 0, so a
 * caller that does not want the text may pass NULL.
 */
#ifndef LL_LAB_ERRMSG_H
#define LL_LAB_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline void errmsg_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void errmsg_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

#endif
