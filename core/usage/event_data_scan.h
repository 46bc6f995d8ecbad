// The quick reading of one SSE event's data, for the events that carry no usage — nearly all
// of a stream: each token's chunk. Following every string and bracket of those (the exact
// reader, json_usage_finder) costs several times a plain pass over the bytes; these functions
// cost about one.
// Internal to core/usage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::usage::detail {

// What one search for `"usage"` keys in an event's data found.
struct UsageKeys {
  // Some `"usage"` is followed by whitespace, ':', whitespace, '{' (may_hold_usage_object).
  bool object = false;
  // Some `"usage"` is followed by whitespace, ':', whitespace, `null` — or `object` is true
  // (the search stopped there). False means null_usage_member.h can find no member to take
  // out of this data.
  bool null_member = false;
  // Where the first such null member's `"usage"` starts in the data, when the search got to
  // it (npos otherwise): null_usage_member.h's search may start there.
  size_t first_null_member = std::string_view::npos;
};
UsageKeys find_usage_keys(std::string_view data);

// False when `data` cannot contain a usage object anywhere: no `"usage"` followed by
// whitespace, ':', whitespace, '{'. (Inside a JSON string that pattern cannot occur — its
// quotes would be escaped — so this never misses one; a true answer sends the data to the
// exact reader, which decides.) OpenAI's `"usage":null` on every chunk is a false.
inline bool may_hold_usage_object(std::string_view data) {
  return find_usage_keys(data).object;
}

// The bytes of generated content in `data`, approximately: for each key followed by ':' and
// a string, that string's raw length when the key is a content key (response_keys.h), after
// skipping every string value so that colons inside them are not taken for keys. Counting
// stops at a "type" whose text repeats earlier deltas. Exact for the JSON providers send;
// never reads outside `data`, whatever it holds.
uint64_t count_content_bytes(std::string_view data);

}  // namespace sluice::usage::detail
