// Fuzz target: the anthropic plugin's whole-document translators (plugins/anthropic) on one
// arbitrary input, read as each of the four documents they take:
//   A  chat_request_to_messages    (an OpenAI chat request)
//   B  messages_response_to_chat   (an Anthropic answer: 200, and 529 for the error path)
//   D  messages_request_to_chat    (an Anthropic Messages request)
//   E  chat_response_to_messages   (an OpenAI answer: 200, and 500 for the error path)
// Besides "no crash, no sanitizer report", it checks that whatever each one accepts it turns
// into one valid JSON object (of the right shape for the answers), that error answers always
// translate (any body), that requests are never Error (only Invalid) and answers never
// Invalid, and that A's output is a request D accepts (A never writes what D refuses).
//   clang run (from the source tree, with a clang build in build-fuzz):
//     build-fuzz/tests/fuzz/fuzz_anthropic_documents -max_len=4096
//       -dict=tests/fuzz/anthropic_documents.dict tests/fuzz/corpus/anthropic_documents
#include <cstdint>
#include <string>
#include <string_view>

#include "anthropic/chat_to_messages_request.h"
#include "anthropic/chat_to_messages_response.h"
#include "anthropic/messages_to_chat_request.h"
#include "anthropic/messages_to_chat_response.h"
#include "tests/fuzz/anthropic_fuzz_support.h"

namespace {

using anthropic::Outcome;
using anthropic::TranslatedResponse;
using anthropic::Verdict;

simdjson::dom::object valid_object(simdjson::dom::parser& parser, std::string_view json) {
  return anthropic_fuzz::parse_object(parser, json);
}

void requests(std::string_view input) {
  simdjson::dom::parser parser;
  std::string anthropic_request;
  const Outcome a =
      anthropic::chat_request_to_messages(input, {"claude-x", 4096}, anthropic_request);
  FUZZ_CHECK(a.verdict != Verdict::Error);
  if (a.is_ok()) {
    const auto doc = valid_object(parser, anthropic_request);
    FUZZ_CHECK(anthropic_fuzz::str(doc, "model") == "claude-x");
    // What A writes, D reads.
    std::string chat_again;
    const Outcome d = anthropic::messages_request_to_chat(anthropic_request, "gpt", chat_again);
    if (!d.is_ok()) std::fprintf(stderr, "D refused A's output: %s\n", d.message.c_str());
    FUZZ_CHECK(d.is_ok());
    valid_object(parser, chat_again);
  } else {
    FUZZ_CHECK(!a.message.empty());
  }

  std::string chat_request;
  const Outcome d = anthropic::messages_request_to_chat(input, "gpt-x", chat_request);
  FUZZ_CHECK(d.verdict != Verdict::Error);
  if (d.is_ok()) {
    FUZZ_CHECK(anthropic_fuzz::str(valid_object(parser, chat_request), "model") == "gpt-x");
  } else {
    FUZZ_CHECK(!d.message.empty());
  }
}

void responses(std::string_view input) {
  simdjson::dom::parser parser;
  for (const int status : {200, 529}) {
    TranslatedResponse out;
    const Outcome b = anthropic::messages_response_to_chat(status, input, 1700000000, out);
    FUZZ_CHECK(b.verdict != Verdict::Invalid);
    if (status != 200) FUZZ_CHECK(b.is_ok() && out.status == 503);
    if (!b.is_ok()) continue;
    const auto doc = valid_object(parser, out.body);
    if (status == 200) {
      FUZZ_CHECK(anthropic_fuzz::str(doc, "object") == "chat.completion");
    } else {
      FUZZ_CHECK(doc["error"].is_object());
    }
  }
  for (const int status : {200, 500}) {
    TranslatedResponse out;
    const Outcome e = anthropic::chat_response_to_messages(status, input, {"req", "m"}, out);
    FUZZ_CHECK(e.verdict != Verdict::Invalid);
    if (status != 200) FUZZ_CHECK(e.is_ok() && out.status == 500);
    if (!e.is_ok()) continue;
    const auto doc = valid_object(parser, out.body);
    FUZZ_CHECK(anthropic_fuzz::str(doc, "type") == (status == 200 ? "message" : "error"));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  requests(input);
  responses(input);
  return 0;
}
