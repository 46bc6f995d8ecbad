// The JSON keys of a provider response that the usage scanner cares about, shared by its exact
// reader (json_usage_finder) and its quick one (event_data_scan).
// Internal to core/usage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::usage::detail {

enum class ResponseKey : uint8_t {
  Other,
  Usage,     // "usage"
  Response,  // "response": OpenAI Responses events wrap the response object in it
  Message,   // "message": Anthropic's message_start wraps the message in it
  Choices,   // "choices"
  Type,      // "type"
  // Keys whose string values are generated content: content, text, delta (Responses' text
  // deltas; chat's delta is an object), arguments, partial_json, thinking, reasoning,
  // reasoning_content, refusal.
  Content,
};

// `key` as written between its quotes (a key with an escape is Other).
ResponseKey classify_key(std::string_view key);

// Every length of a key classify_key knows, ascending (keep in step with response_keys.cc).
inline constexpr size_t kResponseKeyLengths[] = {4, 5, 7, 8, 9, 12, 17};

// An event "type" whose text repeats what the deltas before it carried (Responses' "*.done",
// "response.completed", ...): its content is not counted again.
bool repeats_streamed_text(std::string_view type);

// Keys and types longer than these are none of the above.
inline constexpr size_t kMaxKeyLength = 24;
inline constexpr size_t kMaxTypeLength = 48;

}  // namespace sluice::usage::detail
