// Fuzz target: the downstream request parser (core/http) on arbitrary bytes.
//
// Besides "no crash, no sanitizer report", it checks what a connection relies on: consumed never
// exceeds what was fed, NeedMore consumes everything, a complete request respects every limit and
// leaves simdjson padding, and — the strongest oracle — the same bytes give the same requests and
// the same error whether they arrive in one read, byte by byte, or in uneven pieces.
//
// Built with clang and -DSLUICE_FUZZ=ON it is a libFuzzer binary; otherwise
// (SLUICE_FUZZ_STANDALONE) it is a plain program that runs each file named on its command line (a
// directory: its files), so CI can replay tests/fuzz/corpus/request_head with any compiler.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/request.h"
#include "core/http/request_parser.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using sluice::http::HttpRequest;
using sluice::http::kBodyPadding;
using sluice::http::ParseError;
using sluice::http::ParserLimits;
using sluice::http::RequestParser;

// What the client would observe: each complete request, then how the stream ended.
struct Transcript {
  std::string text;
  ParseError error = ParseError::None;
  bool operator==(const Transcript&) const = default;
};

void record(const HttpRequest& r, const ParserLimits& limits, Transcript* t) {
  FUZZ_CHECK(r.header_count() <= limits.max_headers);
  FUZZ_CHECK(r.head_storage.size() <= limits.max_header_bytes);
  FUZZ_CHECK(r.body.size() <= limits.max_request_body);
  FUZZ_CHECK(r.body.capacity() >= r.body.size() + kBodyPadding);
  if (r.content_length) FUZZ_CHECK(*r.content_length == r.body.size());
  FUZZ_CHECK(!(r.content_length && r.chunked));
  t->text.append(r.method()).append(" ").append(r.target()).append(" ");
  t->text.append(r.path()).append(r.keep_alive ? " ka" : " close");
  t->text.append(r.chunked ? " chunked\n" : "\n");
  for (size_t i = 0; i < r.header_count(); ++i) {
    auto h = r.header_at(i);
    FUZZ_CHECK(!h.name.empty());
    FUZZ_CHECK(h.value.empty() || (h.value.front() != ' ' && h.value.back() != ' '));
    FUZZ_CHECK(r.header(h.name).has_value());
    t->text.append(h.name).append(": ").append(h.value);
    t->text.append(r.is_hop_by_hop(i) ? " [hop]\n" : "\n");
  }
  t->text.append("body ").append(std::to_string(r.body.size())).append(":").append(r.body);
  t->text.append("\n");
}

// Feeds `input` in pieces of the given sizes (cycled), the way a connection does: unconsumed
// bytes after a complete request are kept and fed again after next_message().
Transcript run(std::string_view input, const ParserLimits& limits,
               const std::vector<size_t>& pieces) {
  Transcript t;
  HttpRequest request;
  RequestParser parser(limits, &request);
  std::string pending;
  size_t offset = 0, piece = 0;
  while (offset < input.size()) {
    const size_t n = std::min(pieces[piece++ % pieces.size()], input.size() - offset);
    pending.append(input.substr(offset, n));
    offset += n;
    for (;;) {
      auto r = parser.feed(pending.data(), pending.size());
      FUZZ_CHECK(r.consumed <= pending.size());
      if (r.state == RequestParser::State::NeedMore) FUZZ_CHECK(r.consumed == pending.size());
      pending.erase(0, r.consumed);
      if (r.state == RequestParser::State::Failed) {
        FUZZ_CHECK(parser.error() != ParseError::None);
        FUZZ_CHECK(sluice::http::status_of(parser.error()) >= 400);
        FUZZ_CHECK(parser.detail() != nullptr && parser.detail()[0] != '\0');
        FUZZ_CHECK(parser.feed("x", 1).state == RequestParser::State::Failed);
        t.error = parser.error();
        return t;
      }
      if (r.state == RequestParser::State::NeedMore) break;
      FUZZ_CHECK(parser.head_complete());
      record(request, limits, &t);
      parser.next_message();
      if (pending.empty()) break;
    }
  }
  return t;
}

void check_split_independence(std::string_view input, const ParserLimits& limits) {
  const Transcript whole = run(input, limits, {input.size() + 1});
  const Transcript bytewise = run(input, limits, {1});
  FUZZ_CHECK(whole == bytewise);
  const Transcript uneven = run(input, limits, {7, 1, 30, 2, 113});
  FUZZ_CHECK(whole == uneven);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_split_independence(input, ParserLimits{});
  // Small limits, so the limit paths (431, 413) are reached by short inputs.
  ParserLimits tight;
  tight.max_request_body = 16;
  tight.max_header_bytes = 96;
  tight.max_headers = 4;
  check_split_independence(input, tight);
  return 0;
}
