// The few fields sluice reads from an OpenAI/Anthropic request body (DESIGN §11): simdjson
// on-demand, no DOM, no copy. Offsets let the router splice a new `model` value into the body
// without re-serializing it (see core/json/body_splice.h).
//
// The whole document is checked, not just the fields read: a body that is not valid JSON is
// refused here, because the provider would refuse it anyway and, worse, two JSON parsers that
// disagree about a malformed document could disagree about which model was asked for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::json {

// simdjson needs this many readable bytes after the document; callers keep their body buffer's
// capacity at size() + kPadding (see ensure_padding). Without it parse_request_fields still
// works, on a padded copy.
inline constexpr size_t kPadding = 64;
void ensure_padding(std::string& body);

// Nesting deeper than this is refused as malformed (simdjson's default limit).
inline constexpr int kMaxDepth = 1024;

// Fields are top-level keys of the body, compared after unescaping ("mod\u0065l" is "model",
// as any provider's parser would read it). `null` counts as absent for every field.
struct RequestFields {
  std::string model;  // decoded value of "model" (empty if absent)
  bool has_model = false;
  // Byte range of the model value token in the body, quotes included: body[begin, end). For
  // "model": null (has_model false) the `null`; 0, 0 when the key is absent.
  uint32_t model_begin = 0, model_end = 0;
  bool stream = false;
  // max_tokens, max_completion_tokens or max_output_tokens; when several are sent, the
  // largest (what a budget must reserve for).
  std::optional<int64_t> max_tokens;
  bool has_stream_options = false;  // "stream_options" is an object
  bool include_usage = false;       // stream_options.include_usage as sent by the client
  // Byte offset just after the top-level '{' (where a field can be spliced in).
  uint32_t object_begin = 0;
  // The "stream_options" value token: for an object just its '{' (end = begin + 1), for null
  // the whole `null`. 0, 0 when the key is absent. Used by the include_usage splice.
  uint32_t stream_options_begin = 0, stream_options_end = 0;
  // The stream_options.include_usage value token (true/false/null); 0, 0 when absent.
  uint32_t include_usage_begin = 0, include_usage_end = 0;
};

// What parse_request_fields found. Every status but Ok is a 400 invalid_request_error;
// error_message() words it for the client.
enum class ParseStatus : uint8_t {
  Ok,
  NotJson,         // malformed JSON (or nested deeper than kMaxDepth, or empty)
  NotAnObject,     // valid JSON, but the top level is not an object
  BadFieldType,    // e.g. "model": 5, "stream": "yes" (see error_field, expected)
  DuplicateField,  // a field sluice reads appears twice: refused, because sluice and the
                   // provider could each pick a different one (e.g. check one model, bill
                   // another). See error_field.
};

struct ParseResult {
  ParseStatus status = ParseStatus::Ok;
  // For BadFieldType / DuplicateField: "model", "stream", "max_tokens",
  // "max_completion_tokens", "max_output_tokens", "stream_options",
  // "stream_options.include_usage". Always a string literal.
  const char* error_field = "";
  const char* expected = "";  // for BadFieldType: "a string", "a boolean", "an integer", ...
};

// `body` should have kPadding bytes of capacity past its size (ensure_padding). Malformed JSON
// anywhere in the document wins over a bad field type found earlier.
ParseResult parse_request_fields(const std::string& body, RequestFields* out);

// The client-facing sentence for a failed parse, e.g.
//   Invalid type for "max_tokens": expected an integer.
std::string error_message(const ParseResult& result);

// Writes `value` as a JSON string token (with quotes, escaped) into out.
void append_json_string(std::string& out, std::string_view value);

}  // namespace sluice::json
