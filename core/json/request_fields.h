// The few fields sluice reads from an OpenAI/Anthropic request body (DESIGN §11): simdjson
// on-demand, no DOM, no copy. Offsets let the router splice a new `model` value into the body
// without re-serializing it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::json {

// simdjson needs this many readable bytes after the document; callers keep their body buffer's
// capacity at size() + kPadding (see ensure_padding).
inline constexpr size_t kPadding = 64;
void ensure_padding(std::string& body);

struct RequestFields {
  std::string model;             // decoded value of "model" (empty if absent)
  bool has_model = false;
  // Byte range of the model value token in the body, quotes included: body[begin, end).
  uint32_t model_begin = 0, model_end = 0;
  bool stream = false;
  std::optional<int64_t> max_tokens;  // max_tokens or max_completion_tokens / max_output_tokens
  bool has_stream_options = false;
  bool include_usage = false;  // stream_options.include_usage as sent by the client
  // Byte offset just after the top-level '{' (where a field can be spliced in).
  uint32_t object_begin = 0;
};

enum class ParseStatus : uint8_t {
  Ok,
  NotJson,       // malformed JSON → 400 invalid_request_error
  NotAnObject,   // top level is not an object → 400
  BadFieldType,  // e.g. "model": 5, "stream": "yes" → 400 naming the field (see error_field)
};

struct ParseResult {
  ParseStatus status = ParseStatus::Ok;
  const char* error_field = "";  // for BadFieldType: "model", "stream", "max_tokens"
};

// `body` must have kPadding bytes of capacity past its size (ensure_padding).
ParseResult parse_request_fields(const std::string& body, RequestFields* out);

// Writes `value` as a JSON string token (with quotes, escaped) into out.
void append_json_string(std::string& out, std::string_view value);

}  // namespace sluice::json
