// Two steps: validate the whole body, then read the few fields from its bytes.
//
// Validation is simdjson's DOM parser, its complete validator (~0.9 µs for a 1.7 KB chat body
// here). On-demand alone would not do: it checks only what it is asked to read, and even made
// to consume every value it let malformed documents through (`["x":[]}]`, found by the
// mutation test) while taking longer (~1.7 µs for this whole function's work). Valid JSON the
// DOM cannot represent (1e400, "\ud800") is validated through same-length stand-ins
// (dom_stand_ins.h).
//
// Reading then walks the top-level members of the known-valid bytes (json_scan.h), which
// yields each value's exact byte range — what the splices need and a parse tree does not keep.
#include "core/json/request_fields.h"

#include <simdjson.h>

#include <charconv>
#include <limits>

#include "core/json/dom_stand_ins.h"
#include "core/json/json_scan.h"

namespace sluice::json {

using detail::Member;
using detail::MemberScanner;
using detail::TokenKind;

void ensure_padding(std::string& body) {
  if (body.capacity() < body.size() + kPadding) body.reserve(body.size() + kPadding);
}

namespace {

// Bodies above this are validated with parsers of their own, freed afterwards: a DOM parser
// keeps ~13 bytes of buffers per byte of the largest document it has seen, and one huge request
// should not leave that pinned in every worker thread.
constexpr size_t kReusableParserLimit = 256u << 10;

static_assert(kMaxDepth == simdjson::DEFAULT_MAX_DEPTH, "the DOM parser enforces kMaxDepth");

// The verdict on a whole document.
enum class Validity : uint8_t { Invalid, Object, NotObject };

Validity validate(simdjson::dom::parser& dom, simdjson::padded_string_view input) {
  simdjson::dom::element root;
  simdjson::error_code error = dom.parse(input.data(), input.length(), false).get(root);
  if (error == simdjson::NUMBER_ERROR || error == simdjson::STRING_ERROR) {
    // Perhaps valid JSON the DOM cannot represent: ask again with stand-ins for those parts.
    simdjson::padded_string copy =
        detail::with_dom_stand_ins(std::string_view(input.data(), input.length()));
    error = dom.parse(copy.data(), copy.size(), false).get(root);
  }
  if (error != simdjson::SUCCESS) return Validity::Invalid;
  return root.is_object() ? Validity::Object : Validity::NotObject;
}

Validity validate(simdjson::padded_string_view input) {
  if (input.length() <= kReusableParserLimit) {
    thread_local simdjson::dom::parser dom(kReusableParserLimit);  // one per worker thread
    return validate(dom, input);
  }
  simdjson::dom::parser dom(input.length());
  return validate(dom, input);
}

// Reads the top-level members of a valid object. A wrong type or a duplicate is recorded (the
// first one); reading goes on only to keep offsets consistent.
class FieldReader {
 public:
  FieldReader(std::string_view body, RequestFields* out) : body_(body), out_(out) {}

  void read(std::string_view key, std::string_view value) {
    if (key == "model") {
      read_model(value);
    } else if (key == "stream") {
      read_bool(value, "stream", seen_stream_, &out_->stream);
    } else if (key == "max_tokens") {
      read_max_tokens(value, "max_tokens", seen_max_tokens_);
    } else if (key == "max_completion_tokens") {
      read_max_tokens(value, "max_completion_tokens", seen_max_completion_tokens_);
    } else if (key == "max_output_tokens") {
      read_max_tokens(value, "max_output_tokens", seen_max_output_tokens_);
    } else if (key == "stream_options") {
      read_stream_options(value);
    }
  }

  const ParseResult& result() const { return result_; }

 private:
  uint32_t begin_of(std::string_view token) const {
    return static_cast<uint32_t>(token.data() - body_.data());
  }
  uint32_t end_of(std::string_view token) const {
    return static_cast<uint32_t>(token.data() + token.size() - body_.data());
  }

  void fail(ParseStatus status, const char* field, const char* expected) {
    if (result_.status == ParseStatus::Ok) result_ = {status, field, expected};
  }

  // False (and a DuplicateField recorded) when the field was seen before.
  bool first_time(bool& seen, const char* field) {
    if (seen) {
      fail(ParseStatus::DuplicateField, field, "");
      return false;
    }
    seen = true;
    return true;
  }

  void read_model(std::string_view value) {
    if (!first_time(seen_model_, "model")) return;
    switch (detail::kind_of(value)) {
      case TokenKind::Null:
        // Absent for routing, but a model splice must replace this token: inserting another
        // "model" member would send the provider a duplicate key.
        out_->model_begin = begin_of(value);
        out_->model_end = end_of(value);
        return;
      case TokenKind::String:
        detail::unescape(value.substr(1, value.size() - 2), out_->model);
        out_->has_model = true;
        out_->model_begin = begin_of(value);
        out_->model_end = end_of(value);
        return;
      default:
        fail(ParseStatus::BadFieldType, "model", "a string");
    }
  }

  void read_bool(std::string_view value, const char* field, bool& seen, bool* out) {
    if (!first_time(seen, field)) return;
    switch (detail::kind_of(value)) {
      case TokenKind::Null:
        return;
      case TokenKind::True:
        *out = true;
        return;
      case TokenKind::False:
        *out = false;
        return;
      default:
        fail(ParseStatus::BadFieldType, field, "a boolean");
    }
  }

  void read_max_tokens(std::string_view value, const char* field, bool& seen) {
    if (!first_time(seen, field)) return;
    TokenKind kind = detail::kind_of(value);
    if (kind == TokenKind::Null) return;
    int64_t n = 0;
    const char* end = value.data() + value.size();
    auto [stop, error] = std::from_chars(value.data(), end, n);
    // 1.5, 1e3 and numbers past int64 are valid JSON but not the integer the API takes.
    if (kind != TokenKind::Number || error != std::errc() || stop != end) {
      fail(ParseStatus::BadFieldType, field, "an integer");
      return;
    }
    if (!out_->max_tokens || n > *out_->max_tokens) out_->max_tokens = n;
  }

  void read_stream_options(std::string_view value) {
    if (!first_time(seen_stream_options_, "stream_options")) return;
    switch (detail::kind_of(value)) {
      case TokenKind::Null:
        out_->stream_options_begin = begin_of(value);
        out_->stream_options_end = end_of(value);
        return;
      case TokenKind::Object:
        break;
      default:
        fail(ParseStatus::BadFieldType, "stream_options", "an object");
        return;
    }
    out_->has_stream_options = true;
    out_->stream_options_begin = begin_of(value);
    out_->stream_options_end = out_->stream_options_begin + 1;  // just the '{'
    bool seen_include_usage = false;
    MemberScanner members(value);
    Member member;
    while (members.next(&member)) {
      if (detail::decoded_key(member.key, scratch_) != "include_usage") continue;
      bool first = !seen_include_usage;
      read_bool(member.value, "stream_options.include_usage", seen_include_usage,
                &out_->include_usage);
      if (first) {
        out_->include_usage_begin = begin_of(member.value);
        out_->include_usage_end = end_of(member.value);
      }
    }
  }

  std::string_view body_;
  RequestFields* out_;
  ParseResult result_;
  std::string scratch_;  // decoded keys that hold escapes
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

ParseResult read_fields(std::string_view body, RequestFields* out) {
  size_t open = body.find('{');  // valid, and an object: the first non-space byte
  out->object_begin = static_cast<uint32_t>(open + 1);
  FieldReader reader(body, out);
  MemberScanner members(body.substr(open));
  Member member;
  std::string key_scratch;
  while (members.next(&member)) {
    reader.read(detail::decoded_key(member.key, key_scratch), member.value);
  }
  return reader.result();
}

}  // namespace

ParseResult parse_request_fields(const std::string& body, RequestFields* out) {
  reset(out);
  // Offsets are 32-bit; limits.max_request_body keeps real bodies far below this.
  if (body.size() > std::numeric_limits<uint32_t>::max() - kPadding) {
    return {ParseStatus::NotJson};
  }
  Validity validity;
  if (body.capacity() >= body.size() + kPadding) {
    validity = validate(simdjson::padded_string_view(body.data(), body.size(), body.capacity()));
  } else {  // the caller skipped ensure_padding: validate a padded copy
    simdjson::padded_string copy(body.data(), body.size());
    validity = validate(copy);
  }
  switch (validity) {
    case Validity::Invalid:
      return {ParseStatus::NotJson};
    case Validity::NotObject:
      return {ParseStatus::NotAnObject};
    case Validity::Object:
      break;
  }
  ParseResult result = read_fields(body, out);
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
