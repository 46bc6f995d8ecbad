// Fuzz target: the request-fields reader (core/json/request_fields.h) and body splicing
// (core/json/body_splice.h) on arbitrary request bodies.
//
// Besides "no crash, no sanitizer report", it checks what the router relies on:
//   - the reader and simdjson's DOM agree on what is JSON and what is an object, and on the
//     fields read ("model", "stream") when the reader accepts the body. Where the DOM fails on
//     a number or a string (1e400, a lone surrogate "\ud800": valid JSON it cannot hold), the
//     reader may accept the body: there the DOM is no reference;
//   - the recorded offsets lie inside the body and point at the tokens they name;
//   - a splice (the model, stream_options.include_usage, each alone and both together) that
//     succeeds gives a body that is still valid JSON (to the DOM, if the input was), that the
//     reader accepts again (no
//     duplicate key was created), with the new model and include_usage true, and whose
//     pieces add up to the size the new Content-Length is taken from.
//
// Built with clang and -DSLUICE_FUZZ=ON it is a libFuzzer binary; otherwise
// (SLUICE_FUZZ_STANDALONE) a plain program that replays the files named on its command line.
//   clang run:
//     build-fuzz/tests/fuzz/fuzz_request_body -max_len=4096
//       -dict=tests/fuzz/request_body.dict tests/fuzz/corpus/request_body
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/json/body_splice.h"
#include "core/json/request_fields.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using sluice::json::BodyEdit;
using sluice::json::ParseResult;
using sluice::json::ParseStatus;
using sluice::json::RequestFields;
using sluice::json::SplicedBody;

// Model names a route may splice in: plain, and one that needs escaping.
constexpr std::string_view kModels[] = {"gpt-4o-mini", "we\"ird\\model\n\x01\xc3\xa9"};

ParseResult parse(std::string body, RequestFields* fields) {
  sluice::json::ensure_padding(body);
  return sluice::json::parse_request_fields(body, fields);
}

void check_offsets(std::string_view body, const RequestFields& f) {
  FUZZ_CHECK(f.object_begin >= 1 && f.object_begin <= body.size());
  FUZZ_CHECK(body[f.object_begin - 1] == '{');
  if (f.has_model) {
    FUZZ_CHECK(f.model_begin < f.model_end && f.model_end <= body.size());
    FUZZ_CHECK(f.model_end - f.model_begin >= 2);
    FUZZ_CHECK(body[f.model_begin] == '"' && body[f.model_end - 1] == '"');
  }
  if (f.stream_options_end != 0) {
    FUZZ_CHECK(f.stream_options_begin < f.stream_options_end);
    FUZZ_CHECK(f.stream_options_end <= body.size());
    const std::string_view token =
        body.substr(f.stream_options_begin, f.stream_options_end - f.stream_options_begin);
    FUZZ_CHECK(f.has_stream_options ? token == "{" : token == "null");
  }
  if (f.include_usage_end != 0) {
    FUZZ_CHECK(f.has_stream_options);
    FUZZ_CHECK(f.include_usage_begin < f.include_usage_end);
    FUZZ_CHECK(f.include_usage_end <= body.size());
    const std::string_view token =
        body.substr(f.include_usage_begin, f.include_usage_end - f.include_usage_begin);
    FUZZ_CHECK(token == "true" || token == "false" || token == "null");
    FUZZ_CHECK(f.include_usage == (token == "true"));
  }
}

// What the DOM says about the body, for the fields the reader also reads. True if the DOM
// accepted the body.
bool check_against_dom(std::string_view body, const ParseResult& result, const RequestFields& f) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const simdjson::error_code error = parser.parse(simdjson::padded_string(body)).get(root);
  if (error == simdjson::NUMBER_ERROR || error == simdjson::STRING_ERROR) return false;
  if (error != simdjson::SUCCESS) {
    FUZZ_CHECK(result.status == ParseStatus::NotJson);
    return false;
  }
  FUZZ_CHECK(result.status != ParseStatus::NotJson);
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    FUZZ_CHECK(result.status == ParseStatus::NotAnObject);
    return true;
  }
  FUZZ_CHECK(result.status != ParseStatus::NotAnObject);
  if (result.status != ParseStatus::Ok) {
    FUZZ_CHECK(result.error_field != nullptr && result.error_field[0] != '\0');
    FUZZ_CHECK(!sluice::json::error_message(result).empty());
    return true;
  }
  // Ok means no duplicate of a field read, so the DOM's lookup finds the one the reader read.
  std::string_view model;
  if (object["model"].get_string().get(model) == simdjson::SUCCESS) {
    FUZZ_CHECK(f.has_model && f.model == model);
  } else {
    FUZZ_CHECK(!f.has_model);
  }
  bool stream = false;
  if (object["stream"].get_bool().get(stream) == simdjson::SUCCESS) {
    FUZZ_CHECK(f.stream == stream);
  } else {
    FUZZ_CHECK(!f.stream);
  }
  return true;
}

// The spliced body is JSON the reader accepts, with what was spliced in.
void check_spliced(const SplicedBody& spliced, bool dom_valid, std::string_view model,
                   bool usage_on) {
  size_t total = 0;
  for (std::string_view p : spliced.pieces()) total += p.size();
  FUZZ_CHECK(total == spliced.size());
  const std::string out = spliced.to_string();
  FUZZ_CHECK(out.size() == spliced.size());

  if (dom_valid) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    FUZZ_CHECK(parser.parse(simdjson::padded_string(out)).get(root) == simdjson::SUCCESS);
    FUZZ_CHECK(root.is_object());
  }

  RequestFields again;
  const ParseResult result = parse(out, &again);
  FUZZ_CHECK(result.status == ParseStatus::Ok);
  if (!model.empty()) FUZZ_CHECK(again.has_model && again.model == model);
  if (usage_on) FUZZ_CHECK(again.has_stream_options && again.include_usage);
}

void check_splices(std::string_view body, const RequestFields& f, bool dom_valid,
                   std::string_view model) {
  BodyEdit model_edit, usage_edit;
  sluice::json::set_model_edit(model_edit, body, f, model);
  const bool usage_changed = sluice::json::set_include_usage_edit(usage_edit, body, f);
  if (!usage_changed) FUZZ_CHECK(f.include_usage);

  SplicedBody spliced;
  FUZZ_CHECK(spliced.assign(body, {&model_edit}));
  check_spliced(spliced, dom_valid, model, false);
  if (usage_changed) {
    FUZZ_CHECK(spliced.assign(body, {&usage_edit}));
    check_spliced(spliced, dom_valid, "", true);
  }
  // Both at once may be refused (two inserts at the same offset), never be wrong.
  if (spliced.assign(body, {usage_changed ? &usage_edit : nullptr, &model_edit})) {
    check_spliced(spliced, dom_valid, model, true);
  } else {
    FUZZ_CHECK(spliced.size() == 0 && spliced.pieces().empty());
  }
}

void check(std::string_view input) {
  RequestFields fields;
  const ParseResult result = parse(std::string(input), &fields);
  // The unpadded path (a copy inside the reader) must say the same.
  RequestFields unpadded;
  const std::string exact(input);
  const ParseResult result2 = sluice::json::parse_request_fields(exact, &unpadded);
  FUZZ_CHECK(result.status == result2.status);
  const bool dom_valid = check_against_dom(input, result, fields);
  if (result.status != ParseStatus::Ok) return;
  FUZZ_CHECK(unpadded.model == fields.model && unpadded.model_begin == fields.model_begin);
  check_offsets(input, fields);
  for (std::string_view model : kModels) check_splices(input, fields, dom_valid, model);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
