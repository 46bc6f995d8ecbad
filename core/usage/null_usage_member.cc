#include "core/usage/null_usage_member.h"

#include <cstdint>
#include <cstring>

#include "core/usage/byte_search.h"

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

// `p` is just after a string's opening quote: returns its closing quote, or end.
const char* string_end(const char* p, const char* end) {
  for (;;) {
    const char* q = find_either(p, end, '"', '\\');
    if (q == end || *q == '"') return q;
    if (end - q < 2) return end;
    p = q + 2;  // the escaped byte cannot end the string
  }
}

}  // namespace

Cut find_null_usage_member(std::string_view json) {
  const char* const begin = json.data();
  const char* const end = begin + json.size();
  const char* const root = skip_space(begin, end);
  if (root == end || *root != '{') return {};
  const char* value_end = nullptr;
  const char* key = next_candidate(root + 1, end, &value_end);
  if (key == end) return {};
  // Walk the structure from the root: the candidate counts only where a string opens at
  // depth 1 (inside the root object, outside any string).
  uint32_t depth = 1;
  const char* p = root + 1;
  for (;;) {
    p = find_array_structure(p, end);
    if (p == end) return {};
    if (p > key) {
      // The candidate was inside a string just skipped: try the next one.
      key = next_candidate(p, end, &value_end);
      if (key == end) return {};
      continue;
    }
    const char c = *p;
    if (c == '"') {
      if (p == key) {
        if (depth == 1) break;
        key = next_candidate(key + 1, end, &value_end);  // nested: not the chunk's usage
        if (key == end) return {};
      }
      p = string_end(p + 1, end);
      if (p == end) return {};
      ++p;
    } else if (c == '{' || c == '[') {
      ++depth;
      ++p;
    } else {
      if (--depth == 0) return {};  // the root closed before any candidate
      ++p;
    }
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

Cut find_null_usage_in_event(std::string_view event) {
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
  Cut cut = find_null_usage_member(event.substr(json_begin, json_size));
  if (cut.empty()) return {};
  cut.begin += json_begin;
  cut.end += json_begin;
  return cut;
}

}  // namespace sluice::usage::detail
