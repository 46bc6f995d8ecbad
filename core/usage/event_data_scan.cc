#include "core/usage/event_data_scan.h"

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
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

// The last 4 bytes of every key classify_key knows (each is at least 4 long); keep in step
// with response_keys.cc.
constexpr const char* kKeyTails[] = {
    "type", "text", "sage",
    "elta", "ices", "tent",  // type text usage/message delta choices content
    "usal", "onse", "king",
    "ents", "ning", "json",  // refusal response thinking arguments reasoning
};                           // partial_json (reasoning_content: "tent")

// 4 bytes as one word, in the target's byte order (constexpr: the table is built by the
// compiler).
constexpr uint32_t word_of(const char* p) {
  return std::bit_cast<uint32_t>(std::array<char, 4>{p[0], p[1], p[2], p[3]});
}

// A 16-slot table of those tails by a multiplicative hash that puts each in its own slot.
constexpr uint32_t kTailHashMultiplier = 0x843fdda7u;
constexpr uint32_t tail_slot(uint32_t tail) {
  return (tail * kTailHashMultiplier) >> 28;
}
struct TailTable {
  uint32_t tails[16] = {};
  bool used[16] = {};
  bool separate = true;  // no two tails share a slot
};
constexpr TailTable make_tail_table() {
  TailTable table;
  for (const char* t : kKeyTails) {
    const uint32_t slot = tail_slot(word_of(t));
    if (table.used[slot]) table.separate = false;
    table.used[slot] = true;
    table.tails[slot] = word_of(t);
  }
  return table;
}
constexpr TailTable kTailTable = make_tail_table();
static_assert(kTailTable.separate, "pick another kTailHashMultiplier");

// False when the 4 bytes at `p` cannot be the last 4 of a key classify_key knows: turns away
// most keys of a chunk ("id", "object", "created", "model", "index", "finish_reason", ...)
// before any length is tried.
bool may_end_response_key(const char* p) {
  uint32_t tail;
  std::memcpy(&tail, p, sizeof tail);
  const uint32_t slot = tail_slot(tail);
  return kTailTable.used[slot] && kTailTable.tails[slot] == tail;
}

// The key whose closing quote is `close`, if it is one that matters: only the lengths of
// those keys are tried (a quote that many bytes back), which is cheaper than searching back
// for the opening quote through a long key. `floor`: nothing before it belongs to this key.
ResponseKey key_ending_at(const char* floor, const char* close) {
  constexpr size_t kShortest = kResponseKeyLengths[0];
  static_assert(kShortest >= 4);
  if (static_cast<size_t>(close - floor) < kShortest + 1) return ResponseKey::Other;
  if (!may_end_response_key(close - 4)) return ResponseKey::Other;
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

// Every `"u` is looked at (a `"usage"` key's closing quote may start the next one), for the
// null member: what null_usage_member.h's search would find. The object answer is what
// may_hold_usage_object always answered, which went on after a `"usage"` key's closing quote:
// only the `"u`s that search reached count for it (`object_from`).
UsageKeys find_usage_keys(std::string_view data) {
  static constexpr std::string_view kUsage = "\"usage\"";
  static constexpr std::string_view kNull = "null";
  UsageKeys found;
  const char* p = data.data();
  const char* const end = p + data.size();
  const char* object_from = p;
  while ((p = find_pair(p, end, '"', 'u')) != end) {
    const char* const key = p;
    const bool object_search_sees = key >= object_from;
    if (static_cast<size_t>(end - key) < kUsage.size() ||
        std::memcmp(key, kUsage.data(), kUsage.size()) != 0) {
      ++p;
      if (object_search_sees) object_from = p;
      continue;
    }
    p = key + kUsage.size() - 1;
    if (object_search_sees) object_from = key + kUsage.size();
    const char* q = skip_space(key + kUsage.size(), end);
    if (q == end || *q != ':') continue;
    q = skip_space(q + 1, end);
    if (q < end && *q == '{') {
      if (!object_search_sees) continue;
      found.object = true;
      found.null_member = true;
      return found;
    }
    if (static_cast<size_t>(end - q) >= kNull.size() &&
        std::memcmp(q, kNull.data(), kNull.size()) == 0) {
      if (!found.null_member) found.first_null_member = static_cast<size_t>(key - data.data());
      found.null_member = true;
    }
  }
  return found;
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
