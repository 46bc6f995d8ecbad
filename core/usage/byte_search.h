// Finding the next of a few bytes, 16 at a time: the usage scanner's inner loops (the end of an
// SSE line: '\n' or '\r'; the end of a JSON string: '"' or '\\'; what matters inside a JSON
// array). memchr finds one byte; two memchr passes cost twice the reads and a call each, which
// shows on short SSE lines.
// SSE2 is part of x86-64, so the vector path is always there on that target; elsewhere the
// plain loop runs. Never reads outside [p, end).
// Internal to core/usage.
#pragma once

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice::usage::detail {

// The first byte in [p, end) equal to a or b, or end.
inline const char* find_either(const char* p, const char* end, char a, char b) {
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(a);
  const __m128i vb = _mm_set1_epi8(b);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)));
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    if (*p == a || *p == b) return p;
  }
  return end;
}

// The first position i in [p, end - 1) with p[i] == a and p[i + 1] == b, or end: the start of
// a rare two-byte pair (`"u` of `"usage"`) without stopping at each of the common first byte.
inline const char* find_pair(const char* p, const char* end, char a, char b) {
  if (end - p < 2) return end;
  const char* const last = end - 1;  // the last byte a pair can start before
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(a);
  const __m128i vb = _mm_set1_epi8(b);
  while (last - p >= 16) {  // p[0..16] are all before end
    const __m128i first = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i second = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
    const int mask =
        _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(first, va), _mm_cmpeq_epi8(second, vb)));
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  for (; p < last; ++p) {
    if (p[0] == a && p[1] == b) return p;
  }
  return end;
}

// The first '"', '[', ']', '{' or '}' in [p, end), or end: inside a JSON array only strings and
// nesting matter; the numbers, commas and whitespace of an embedding vector are skipped.
inline const char* find_array_structure(const char* p, const char* end) {
#if defined(__SSE2__)
  // '[' 0x5B and ']' 0x5D become '{' 0x7B and '}' 0x7D with bit 0x20 set; nothing else does.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i open = _mm_set1_epi8('{');
  const __m128i close = _mm_set1_epi8('}');
  const __m128i bit = _mm_set1_epi8(0x20);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i folded = _mm_or_si128(v, bit);
    const __m128i hit =
        _mm_or_si128(_mm_cmpeq_epi8(v, quote),
                     _mm_or_si128(_mm_cmpeq_epi8(folded, open), _mm_cmpeq_epi8(folded, close)));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    const char c = *p;
    if (c == '"' || c == '[' || c == ']' || c == '{' || c == '}') return p;
  }
  return end;
}

}  // namespace sluice::usage::detail
