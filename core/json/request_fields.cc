#include "core/json/request_fields.h"

#include <simdjson.h>

#include <limits>

#include "core/json/ondemand_validate.h"

namespace sluice::json {

namespace ondemand = simdjson::ondemand;
using detail::consume_valid;
using detail::is_json_number;
using detail::trim_token;

void ensure_padding(std::string& body) {
  if (body.capacity() < body.size() + kPadding) body.reserve(body.size() + kPadding);
}

namespace {

// Bodies above this are parsed with a parser of their own, freed afterwards, so that one huge
// request does not leave a worker's thread-local parser holding its buffers forever.
constexpr size_t kReusableParserLimit = 1u << 20;

// Walks the top-level object, filling RequestFields. Malformed JSON stops the walk at once;
// a wrong field type or a duplicate is remembered (the first one) and the walk goes on, so
// that malformed JSON later in the document still wins.
class FieldReader {
 public:
  FieldReader(const char* base, RequestFields* out) : base_(base), out_(out) {}

  // False: malformed JSON.
  bool read_field(std::string_view key, ondemand::value& value) {
    if (key == "model") return read_model(value);
    if (key == "stream") return read_bool(value, "stream", seen_stream_, &out_->stream, nullptr);
    if (key == "max_tokens") return read_max_tokens(value, "max_tokens", seen_max_tokens_);
    if (key == "max_completion_tokens") {
      return read_max_tokens(value, "max_completion_tokens", seen_max_completion_tokens_);
    }
    if (key == "max_output_tokens") {
      return read_max_tokens(value, "max_output_tokens", seen_max_output_tokens_);
    }
    if (key == "stream_options") return read_stream_options(value);
    return consume_valid(value, 1);
  }

  const ParseResult& field_error() const { return field_error_; }

 private:
  uint32_t offset_of(const char* p) const { return static_cast<uint32_t>(p - base_); }

  // Records the first field problem; the value itself must still be consumed (and validated).
  bool refuse(ondemand::value& value, ParseStatus status, const char* field, const char* expected,
              int depth) {
    if (field_error_.status == ParseStatus::Ok) field_error_ = {status, field, expected};
    return consume_valid(value, depth);
  }

  // True (and a DuplicateField recorded) when `seen` was already set.
  bool duplicate(bool& seen, const char* field) {
    if (!seen) {
      seen = true;
      return false;
    }
    if (field_error_.status == ParseStatus::Ok) {
      field_error_ = {ParseStatus::DuplicateField, field, ""};
    }
    return true;
  }

  static bool is_null(ondemand::value& value, bool* malformed) {
    ondemand::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) {
      *malformed = true;
      return false;
    }
    if (type != ondemand::json_type::null) return false;
    bool null = false;
    *malformed = value.is_null().get(null) != simdjson::SUCCESS || !null;
    return true;
  }

  bool read_model(ondemand::value& value) {
    if (duplicate(seen_model_, "model")) return consume_valid(value, 1);
    ondemand::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return false;
    if (type == ondemand::json_type::null) return consume_valid(value, 1);
    if (type != ondemand::json_type::string) {
      return refuse(value, ParseStatus::BadFieldType, "model", "a string", 1);
    }
    // raw_json_token() starts at the opening quote and runs to the next token, whitespace
    // included; trimmed, it ends just after the closing quote.
    std::string_view token = trim_token(value.raw_json_token());
    std::string_view text;
    if (value.get_string().get(text) != simdjson::SUCCESS) return false;
    out_->model.assign(text);
    out_->has_model = true;
    out_->model_begin = offset_of(token.data());
    out_->model_end = offset_of(token.data() + token.size());
    return true;
  }

  // A boolean field (null = absent). `token_begin/end`, when given, receive the value's range.
  bool read_bool(ondemand::value& value, const char* field, bool& seen, bool* out,
                 uint32_t* token_range, int depth = 1) {
    if (duplicate(seen, field)) return consume_valid(value, depth);
    if (token_range) {
      std::string_view token = trim_token(value.raw_json_token());
      token_range[0] = offset_of(token.data());
      token_range[1] = offset_of(token.data() + token.size());
    }
    bool malformed = false;
    if (is_null(value, &malformed)) return !malformed;
    if (malformed) return false;
    ondemand::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return false;
    if (type != ondemand::json_type::boolean) {
      return refuse(value, ParseStatus::BadFieldType, field, "a boolean", depth);
    }
    return value.get_bool().get(*out) == simdjson::SUCCESS;
  }

  bool read_max_tokens(ondemand::value& value, const char* field, bool& seen) {
    if (duplicate(seen, field)) return consume_valid(value, 1);
    bool malformed = false;
    if (is_null(value, &malformed)) return !malformed;
    if (malformed) return false;
    ondemand::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return false;
    if (type != ondemand::json_type::number) {
      return refuse(value, ParseStatus::BadFieldType, field, "an integer", 1);
    }
    if (!is_json_number(trim_token(value.raw_json_token()))) return false;
    int64_t n = 0;
    // A valid number that is not an int64 (1.5, 1e3, 2^70) is the client's type error.
    if (value.get_int64().get(n) != simdjson::SUCCESS) {
      if (field_error_.status == ParseStatus::Ok) {
        field_error_ = {ParseStatus::BadFieldType, field, "an integer"};
      }
      return true;
    }
    if (!out_->max_tokens || n > *out_->max_tokens) out_->max_tokens = n;
    return true;
  }

  bool read_stream_options(ondemand::value& value) {
    if (duplicate(seen_stream_options_, "stream_options")) return consume_valid(value, 1);
    std::string_view token = trim_token(value.raw_json_token());
    out_->stream_options_begin = offset_of(token.data());
    bool malformed = false;
    if (is_null(value, &malformed)) {
      out_->stream_options_end = offset_of(token.data() + token.size());
      return !malformed;
    }
    if (malformed) return false;
    out_->stream_options_end = out_->stream_options_begin + 1;  // just the '{'
    ondemand::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return false;
    if (type != ondemand::json_type::object) {
      out_->stream_options_begin = out_->stream_options_end = 0;
      return refuse(value, ParseStatus::BadFieldType, "stream_options", "an object", 1);
    }
    ondemand::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS) return false;
    out_->has_stream_options = true;
    bool seen_include_usage = false;
    for (auto field_result : object) {
      ondemand::field field;
      if (std::move(field_result).get(field) != simdjson::SUCCESS) return false;
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
      ondemand::value child = field.value();
      bool ok;
      if (key == "include_usage") {
        uint32_t range[2] = {0, 0};
        bool first = !seen_include_usage;
        ok = read_bool(child, "stream_options.include_usage", seen_include_usage,
                       &out_->include_usage, first ? range : nullptr, 2);
        if (first) {
          out_->include_usage_begin = range[0];
          out_->include_usage_end = range[1];
        }
      } else {
        ok = consume_valid(child, 2);
      }
      if (!ok) return false;
    }
    return true;
  }

  const char* base_;
  RequestFields* out_;
  ParseResult field_error_;
  bool seen_model_ = false, seen_stream_ = false, seen_max_tokens_ = false,
       seen_max_completion_tokens_ = false, seen_max_output_tokens_ = false,
       seen_stream_options_ = false;
};

void reset(RequestFields* out) {
  std::string model = std::move(out->model);  // keep its capacity
  model.clear();
  *out = RequestFields{};
  out->model = std::move(model);
}

// Validates a document whose top level is not an object: NotAnObject if it is valid JSON,
// NotJson otherwise (the more useful message for `nope` or `[1,`).
ParseStatus classify_non_object(ondemand::document& doc, ondemand::json_type type,
                                std::string_view input) {
  bool valid = false;
  switch (type) {
    case ondemand::json_type::array: {
      ondemand::array array;
      valid = doc.get_array().get(array) == simdjson::SUCCESS;
      if (!valid) break;
      for (auto element_result : array) {
        if (!valid) break;
        ondemand::value element;
        valid = std::move(element_result).get(element) == simdjson::SUCCESS &&
                consume_valid(element, 1);
      }
      const char* rest;
      if (valid && doc.current_location().get(rest) == simdjson::SUCCESS) valid = false;
      break;
    }
    case ondemand::json_type::object:
      break;  // not reached
    case ondemand::json_type::string: {
      std::string_view text;
      valid = doc.get_string().get(text) == simdjson::SUCCESS;
      break;
    }
    case ondemand::json_type::number: {
      // The token runs to the next one, whitespace included: a lone number reaches the end.
      std::string_view token;
      valid = doc.raw_json_token().get(token) == simdjson::SUCCESS &&
              token.data() + token.size() == input.data() + input.size() &&
              is_json_number(trim_token(token));
      break;
    }
    case ondemand::json_type::boolean: {
      bool b;
      valid = doc.get_bool().get(b) == simdjson::SUCCESS;
      break;
    }
    case ondemand::json_type::null: {
      bool null = false;
      valid = doc.is_null().get(null) == simdjson::SUCCESS && null;
      break;
    }
  }
  return valid ? ParseStatus::NotAnObject : ParseStatus::NotJson;
}

ParseResult parse_document(ondemand::parser& parser, simdjson::padded_string_view input,
                           const char* base, RequestFields* out) {
  const ParseResult not_json{ParseStatus::NotJson};
  ondemand::document doc;
  if (parser.iterate(input).get(doc) != simdjson::SUCCESS) return not_json;
  ondemand::json_type type;
  if (doc.type().get(type) != simdjson::SUCCESS) return not_json;
  if (type != ondemand::json_type::object) {
    return {classify_non_object(doc, type, std::string_view(base, input.length()))};
  }

  std::string_view open;  // "{" plus the whitespace after it
  if (doc.raw_json_token().get(open) != simdjson::SUCCESS) return not_json;
  out->object_begin = static_cast<uint32_t>(open.data() + 1 - base);

  ondemand::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS) return not_json;
  FieldReader reader(base, out);
  for (auto field_result : object) {
    ondemand::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) return not_json;
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return not_json;
    ondemand::value value = field.value();
    if (!reader.read_field(key, value)) return not_json;
  }
  // Anything after the closing '}' ("{} {}", "{}}") is trailing garbage.
  const char* rest;
  if (doc.current_location().get(rest) == simdjson::SUCCESS) return not_json;
  return reader.field_error();
}

}  // namespace

ParseResult parse_request_fields(const std::string& body, RequestFields* out) {
  reset(out);
  // Offsets are 32-bit; limits.max_request_body keeps real bodies far below this.
  if (body.size() > std::numeric_limits<uint32_t>::max() - kPadding) {
    return {ParseStatus::NotJson};
  }
  ParseResult result;
  auto run = [&](ondemand::parser& parser) {
    if (body.capacity() >= body.size() + kPadding) {
      simdjson::padded_string_view input(body.data(), body.size(), body.capacity());
      result = parse_document(parser, input, body.data(), out);
    } else {  // caller skipped ensure_padding: parse a padded copy (offsets stay the same)
      simdjson::padded_string copy(body.data(), body.size());
      result = parse_document(parser, copy, copy.data(), out);
    }
  };
  if (body.size() <= kReusableParserLimit) {
    thread_local ondemand::parser parser;  // one per worker thread, reused by every request
    run(parser);
  } else {
    ondemand::parser parser;
    run(parser);
  }
  if (result.status != ParseStatus::Ok) reset(out);
  return result;
}

std::string error_message(const ParseResult& result) {
  switch (result.status) {
    case ParseStatus::Ok:
      return {};
    case ParseStatus::NotJson:
      return "The request body is not valid JSON.";
    case ParseStatus::NotAnObject:
      return "The request body must be a JSON object.";
    case ParseStatus::BadFieldType:
      return std::string("Invalid type for \"") + result.error_field + "\": expected " +
             result.expected + ".";
    case ParseStatus::DuplicateField:
      return std::string("The field \"") + result.error_field +
             "\" appears more than once in the request body.";
  }
  return "The request body could not be read.";
}

}  // namespace sluice::json
