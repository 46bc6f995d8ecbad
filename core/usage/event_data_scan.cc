#include "core/usage/event_data_scan.h"

#include <cstddef>
#include <cstring>

#include "core/usage/byte_search.h"
#include "core/usage/response_keys.h"

namespace sluice::usage::detail {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

const char* skip_space(const char* p, const char* end) {
  while (p < end && is_space(*p)) ++p;
  return p;
}

// The key whose closing quote is `close`, if it is one that matters: only the lengths of
// those keys are tried (a quote that many bytes back), which is cheaper than searching back
// for the opening quote through a long key. `floor`: nothing before it belongs to this key.
ResponseKey key_ending_at(const char* floor, const char* close) {
  for (size_t len : kResponseKeyLengths) {
    if (static_cast<size_t>(close - floor) < len + 1) break;
    if (close[-static_cast<ptrdiff_t>(len) - 1] != '"') continue;
    const ResponseKey key = classify_key(std::string_view(close - len, len));
    if (key != ResponseKey::Other) return key;
  }
  return ResponseKey::Other;
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

bool may_hold_usage_object(std::string_view data) {
  static constexpr std::string_view kUsage = "\"usage\"";
  const char* p = data.data();
  const char* const end = p + data.size();
  while ((p = find_pair(p, end, '"', 'u')) != end) {
    if (static_cast<size_t>(end - p) < kUsage.size() ||
        std::memcmp(p, kUsage.data(), kUsage.size()) != 0) {
      ++p;
      continue;
    }
    p += kUsage.size();
    const char* q = skip_space(p, end);
    if (q == end || *q != ':') continue;
    q = skip_space(q + 1, end);
    if (q < end && *q == '{') return true;
  }
  return false;
}

uint64_t count_content_bytes(std::string_view data) {
  const char* p = data.data();
  const char* const end = p + data.size();
  uint64_t bytes = 0;
  while (p < end) {
    // Inline, not memchr: the colons are a few dozen bytes apart, a call each costs more.
    const char* colon = find_either(p, end, ':', ':');
    if (colon == end) break;
    // The key: the string that ends just before the colon, found backwards from it.
    ResponseKey key = ResponseKey::Other;
    const char* key_end = colon;
    while (key_end > p && is_space(key_end[-1])) --key_end;
    if (key_end > p && key_end[-1] == '"') key = key_ending_at(p, key_end - 1);
    const char* value = skip_space(colon + 1, end);
    if (value == end || *value != '"') {
      p = value;
      continue;
    }
    const char* text = value + 1;
    const char* text_end = string_end(text, end);
    const std::string_view s(text, static_cast<size_t>(text_end - text));
    if (key == ResponseKey::Content) {
      bytes += s.size();
    } else if (key == ResponseKey::Type && repeats_streamed_text(s)) {
      break;  // what follows repeats text already counted
    }
    p = text_end == end ? end : text_end + 1;
  }
  return bytes;
}

}  // namespace sluice::usage::detail
