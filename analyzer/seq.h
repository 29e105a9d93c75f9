/*
 * seq.h - wrap-safe TCP sequence number comparison.
 *
 * Sequence numbers live on a 2^32 circle; compare them only through these
 * helpers so that a connection whose numbers wrap past 0 is judged right
 * (RFC 9293 section 3.4, "Sequence Numbers").
 */
#ifndef LL_ANALYZER_SEQ_H
#define LL_ANALYZER_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool seq_before(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_after(uint32_t a, uint32_t b) { return (int32_t)(b - a) < 0; }
static inline bool seq_leq(uint32_t a, uint32_t b) { return !seq_after(a, b); }
static inline bool seq_geq(uint32_t a, uint32_t b) { return !seq_before(a, b); }
static inline uint32_t seq_max(uint32_t a, uint32_t b) { return seq_after(a, b) ? a : b; }
static inline uint32_t seq_min(uint32_t a, uint32_t b) { return seq_before(a, b) ? a : b; }

#endif
