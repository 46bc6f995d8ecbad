#include "core/usage/null_usage_member.h"

#include <cstdint>
#include <cstring>

#include "core/usage/byte_search.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice::usage::detail {
namespace {

constexpr std::string_view kKey = "\"usage\"";
constexpr std::string_view kNull = "null";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

const char* skip_space(const char* p, const char* end) {
  while (p < end && is_space(*p)) ++p;
  return p;
}

// The next `"usage" : null` at or after `p` (its opening quote; *value_end set just past the
// null), or end. A hint only: the pattern can also be the tail of a longer string (`"x\"usage"`)
// or a nested member; the walk below decides.
const char* next_candidate(const char* p, const char* end, const char** value_end) {
  while ((p = find_pair(p, end, '"', 'u')) != end) {
    const char* key = p++;
    if (static_cast<size_t>(end - key) < kKey.size() ||
        std::memcmp(key, kKey.data(), kKey.size()) != 0) {
      continue;
    }
    const char* q = skip_space(key + kKey.size(), end);
    if (q == end || *q != ':') continue;
    q = skip_space(q + 1, end);
    if (static_cast<size_t>(end - q) < kNull.size() ||
        std::memcmp(q, kNull.data(), kNull.size()) != 0) {
      continue;
    }
    *value_end = q + kNull.size();
    return key;
  }
  return end;
}

// The document's structure, 64 bytes at a time: which quotes are not escaped, which bytes are
// inside strings, which brackets are outside them. Bit i of each mask is byte i of the block.
struct Block {
  uint64_t in_string;  // opening quote and contents set; closing quote clear
  uint64_t quotes;     // quotes that open or close a string
  uint64_t opens;      // '{' and '[' outside strings
  uint64_t closes;     // '}' and ']' outside strings
};

// What carries from one block to the next.
struct Carry {
  uint64_t escaped = 0;    // 1: the block's first byte follows a backslash that escapes it
  uint64_t in_string = 0;  // all ones: the block starts inside a string
};

// Bit i = parity of the bits 0..i of x: with x the string quotes, "inside a string".
uint64_t prefix_xor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

// Set bits of x. Inline arithmetic rather than __builtin_popcountll, which is a library call
// on the baseline x86-64 target (no POPCNT instruction).
int64_t count_bits(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return static_cast<int64_t>((x * 0x0101010101010101ull) >> 56);
}

// The bytes escaped by a backslash: each backslash, in order, escapes the next byte unless it
// is itself escaped. Backslashes are rare in chunks (escapes in content), so one step per
// backslash is cheap.
uint64_t escaped_bytes(uint64_t backslashes, Carry& carry) {
  uint64_t escaped = carry.escaped;
  carry.escaped = 0;
  while (backslashes != 0) {
    const int i = __builtin_ctzll(backslashes);
    backslashes &= backslashes - 1;
    if ((escaped >> i) & 1) continue;
    if (i == 63) {
      carry.escaped = 1;
    } else {
      escaped |= uint64_t{1} << (i + 1);
    }
  }
  return escaped;
}

// `p`: 64 readable bytes.
Block read_block(const char* p, Carry& carry) {
  uint64_t quote = 0, backslash = 0, open = 0, close = 0;
#if defined(__SSE2__)
  // '[' 0x5B and ']' 0x5D become '{' 0x7B and '}' 0x7D with bit 0x20 set; nothing else does.
  const __m128i vquote = _mm_set1_epi8('"');
  const __m128i vbackslash = _mm_set1_epi8('\\');
  const __m128i vopen = _mm_set1_epi8('{');
  const __m128i vclose = _mm_set1_epi8('}');
  const __m128i bit = _mm_set1_epi8(0x20);
  for (size_t k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    const __m128i folded = _mm_or_si128(v, bit);
    const auto mask = [](__m128i m) {
      return static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(m)));
    };
    quote |= mask(_mm_cmpeq_epi8(v, vquote)) << (16 * k);
    backslash |= mask(_mm_cmpeq_epi8(v, vbackslash)) << (16 * k);
    open |= mask(_mm_cmpeq_epi8(folded, vopen)) << (16 * k);
    close |= mask(_mm_cmpeq_epi8(folded, vclose)) << (16 * k);
  }
#else
  for (int i = 0; i < 64; ++i) {
    const uint64_t b = uint64_t{1} << i;
    const char c = p[i];
    if (c == '"') quote |= b;
    if (c == '\\') backslash |= b;
    if (c == '{' || c == '[') open |= b;
    if (c == '}' || c == ']') close |= b;
  }
#endif
  Block block;
  block.quotes = quote & ~escaped_bytes(backslash, carry);
  block.in_string = prefix_xor(block.quotes) ^ carry.in_string;
  carry.in_string = 0 - (block.in_string >> 63);
  block.opens = open & ~block.in_string;
  block.closes = close & ~block.in_string;
  return block;
}

}  // namespace

// The walk: whole blocks up to the one holding the candidate, whose masks then tell whether
// the candidate's quote opens a string at depth 1 (inside the root object only).
Cut find_null_usage_member(std::string_view json, size_t first_candidate) {
  const char* const begin = json.data();
  const char* const end = begin + json.size();
  const char* const root = skip_space(begin, end);
  if (root == end || *root != '{') return {};
  const char* value_end = nullptr;
  // The first candidate is at or after root + 1 (it starts with a quote; root is the first
  // byte that is not a space): searching from a known first one finds it at once.
  const char* from = root + 1;
  if (first_candidate < json.size() && begin + first_candidate >= from) {
    from = begin + first_candidate;
  }
  const char* key = next_candidate(from, end, &value_end);
  if (key == end) return {};
  const char* block_start = root;  // the root's '{' is the walk's first open: depth 1 inside
  Carry carry;
  int64_t depth = 0;
  for (;;) {
    // key < end, so every block before the one holding it has 64 readable bytes.
    while (key - block_start >= 64) {
      const Block b = read_block(block_start, carry);
      depth += count_bits(b.opens) - count_bits(b.closes);
      block_start += 64;
    }
    // The block holding the candidate; a last block shorter than 64 bytes is read from a
    // zero-filled copy (zero bytes are no structure). Read on a copy of the carry: a later
    // candidate starts from this block again.
    char tail[64];
    const char* p = block_start;
    if (end - block_start < 64) {
      std::memset(tail, 0, sizeof tail);
      std::memcpy(tail, block_start, static_cast<size_t>(end - block_start));
      p = tail;
    }
    Carry probe = carry;
    const Block b = read_block(p, probe);
    const int i = static_cast<int>(key - block_start);
    const uint64_t before = i == 0 ? 0 : ~uint64_t{0} >> (64 - i);
    const int64_t key_depth = depth + count_bits(b.opens & before) - count_bits(b.closes & before);
    const bool opens_string = ((b.quotes & b.in_string) >> i) & 1;
    if (opens_string && key_depth == 1) break;
    key = next_candidate(key + 1, end, &value_end);  // in a string, or nested: not the one
    if (key == end) return {};
  }
  // key .. value_end is the member; now its comma. Only ',' or '}' may follow a member.
  const char* after = skip_space(value_end, end);
  if (after == end || (*after != ',' && *after != '}')) return {};
  const char* before = key;
  while (before > root + 1 && is_space(before[-1])) --before;
  const auto at = [begin](const char* q) { return static_cast<size_t>(q - begin); };
  if (before[-1] == ',') return Cut{at(before - 1), at(value_end)};  // ..., "usage": null
  if (before - 1 != root) return {};                      // not a member after all (malformed)
  if (*after == '}') return Cut{at(key), at(value_end)};  // {"usage": null}
  return Cut{at(key), at(skip_space(after + 1, end))};    // {"usage": null, ...
}

Cut find_null_usage_in_event(std::string_view event, size_t first_candidate) {
  constexpr std::string_view kData = "data:";
  if (!event.starts_with(kData)) return {};
  size_t json_begin = kData.size();
  if (json_begin < event.size() && event[json_begin] == ' ') ++json_begin;
  const char* const end = event.data() + event.size();
  const char* const eol = find_either(event.data() + json_begin, end, '\n', '\r');
  // One data line: nothing but line ends after it (its own and the blank line).
  for (const char* q = eol; q < end; ++q) {
    if (*q != '\n' && *q != '\r') return {};
  }
  const size_t json_size = static_cast<size_t>(eol - event.data()) - json_begin;
  Cut cut = find_null_usage_member(event.substr(json_begin, json_size), first_candidate);
  if (cut.empty()) return {};
  cut.begin += json_begin;
  cut.end += json_begin;
  return cut;
}

}  // namespace sluice::usage::detail
