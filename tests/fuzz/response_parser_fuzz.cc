// Fuzz target: the upstream response parser (core/upstream) on arbitrary bytes from a provider.
//
// Besides "no crash, no sanitizer report", it checks what an upstream connection relies on: a
// head is delivered at most once per response, without hop-by-hop or framing headers; a body
// never runs past its Content-Length and a completed one matches it; a response with no body
// (HEAD, 204, 304) delivers none; an error always says why. The strongest oracle: the same bytes
// give the same heads, body bytes and outcome whether they arrive in one read, byte by byte or
// in uneven pieces — a provider's TCP segments are cut anywhere.
//
// Responses follow one another as on a keep-alive connection: after Complete, the bytes not
// consumed are fed to the next response. At the end of the input the peer closes (finish()).
//
// Built with clang and -DSLUICE_FUZZ=ON it is a libFuzzer binary; otherwise
// (SLUICE_FUZZ_STANDALONE) a plain program that replays the files named on its command line.
//   clang run:
//     build-fuzz/tests/fuzz/fuzz_response_parser -max_len=4096
//       -dict=tests/fuzz/response_parser.dict tests/fuzz/corpus/response_parser
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/upstream/response_parser.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using sluice::upstream::ResponseHeader;
using sluice::upstream::ResponseParser;
using Result = ResponseParser::Result;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// How the driver plays the connection for one run.
struct Mode {
  bool head_request = false;  // every request was HEAD
  bool stop_at_head = false;  // the exchange is aborted from on_response_head
};

// What the connection would observe, in order, as text.
class Recorder : public ResponseParser::Events {
 public:
  explicit Recorder(const Mode& mode) : mode_(mode) {}

  bool on_response_head(int status, std::span<const ResponseHeader> headers,
                        std::optional<uint64_t> content_length) override {
    FUZZ_CHECK(!head_seen_);
    FUZZ_CHECK(status >= 200 && status <= 999);
    head_seen_ = true;
    body_bytes_ = 0;
    const bool no_body = mode_.head_request || status == 204 || status == 304;
    if (no_body) FUZZ_CHECK(content_length && *content_length == 0);
    content_length_ = content_length;
    text.append("head ").append(std::to_string(status));
    text.append(content_length ? " cl=" + std::to_string(*content_length) : " cl=-").append("\n");
    for (const ResponseHeader& h : headers) {
      FUZZ_CHECK(!h.name.empty());
      for (std::string_view framing :
           {"connection", "transfer-encoding", "content-length", "keep-alive", "upgrade"}) {
        FUZZ_CHECK(!iequals(h.name, framing));
      }
      FUZZ_CHECK(h.value.empty() || (h.value.front() != ' ' && h.value.back() != ' '));
      text.append(h.name).append(": ").append(h.value).append("\n");
    }
    return !mode_.stop_at_head;
  }

  bool on_response_body(const char* data, size_t len) override {
    FUZZ_CHECK(head_seen_);
    FUZZ_CHECK(len > 0);
    body_bytes_ += len;
    if (content_length_) FUZZ_CHECK(body_bytes_ <= *content_length_);
    body.append(data, len);
    return true;
  }

  // The response ended: the body is delivered whole, and kept apart from the next one's.
  void complete(bool keep_alive) {
    FUZZ_CHECK(head_seen_);
    if (content_length_) FUZZ_CHECK(body_bytes_ == *content_length_);
    text.append("body ").append(std::to_string(body.size())).append(":").append(body);
    text.append(keep_alive ? "\ncomplete ka\n" : "\ncomplete close\n");
    body.clear();
    head_seen_ = false;
  }

  std::string text;
  std::string body;

 private:
  Mode mode_;
  bool head_seen_ = false;
  uint64_t body_bytes_ = 0;
  std::optional<uint64_t> content_length_;
};

std::string outcome(Recorder& r, ResponseParser& parser, Result result) {
  switch (result) {
    case Result::Complete:
      r.complete(parser.keep_alive());
      return "";
    case Result::Stopped:
      return "stopped\n";
    case Result::Error:
      FUZZ_CHECK(parser.error() != nullptr && parser.error()[0] != '\0');
      return std::string("error ") + parser.error() + "\n";
    case Result::NeedMore:
      break;
  }
  FUZZ_CHECK(false);
  return "";
}

// Feeds `input` in pieces of the given sizes (cycled). Each piece is a fresh buffer, scribbled
// over after the call as a reused read buffer would be.
std::string run(std::string_view input, const Mode& mode, const std::vector<size_t>& pieces) {
  Recorder rec(mode);
  ResponseParser parser(&rec);
  parser.reset(mode.head_request);
  std::string pending, read;
  size_t offset = 0, piece = 0;
  int responses = 0;
  while (offset < input.size()) {
    const size_t n = std::min(pieces[piece++ % pieces.size()], input.size() - offset);
    pending.append(input.substr(offset, n));
    offset += n;
    while (!pending.empty()) {
      read = pending;
      size_t consumed = 0;
      const Result r = parser.feed(read.data(), read.size(), &consumed);
      read.assign(read.size(), '\x7f');
      FUZZ_CHECK(consumed <= pending.size());
      if (r == Result::NeedMore) {
        FUZZ_CHECK(consumed == pending.size());
        FUZZ_CHECK(parser.started());
        pending.clear();
        break;
      }
      if (r != Result::Complete) return rec.text + outcome(rec, parser, r);
      // Complete: the bytes after `consumed` belong to the next response, fed again after
      // reset() as a keep-alive connection does. Body bytes were copied before the scribble.
      outcome(rec, parser, r);
      size_t again = 1;
      FUZZ_CHECK(parser.feed("x", 1, &again) == Result::Complete && again == 0);
      pending.erase(0, consumed);
      if (++responses == 8) return rec.text + "enough\n";
      parser.reset(mode.head_request);
    }
  }
  const Result r = parser.finish();
  FUZZ_CHECK(r != Result::NeedMore);
  if (r == Result::Error && !parser.started()) return rec.text + "closed idle\n";
  return rec.text + outcome(rec, parser, r) + "closed\n";
}

void check_split_independence(std::string_view input, const Mode& mode) {
  const std::string whole = run(input, mode, {input.size() + 1});
  const std::string bytewise = run(input, mode, {1});
  FUZZ_CHECK(whole == bytewise);
  const std::string uneven = run(input, mode, {7, 1, 30, 2, 113});
  FUZZ_CHECK(whole == uneven);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_split_independence(input, Mode{});
  check_split_independence(input, Mode{.head_request = true});
  check_split_independence(input, Mode{.stop_at_head = true});
  return 0;
}
