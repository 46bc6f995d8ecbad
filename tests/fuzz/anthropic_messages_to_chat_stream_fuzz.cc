// Fuzz target: C, the anthropic plugin's Anthropic-stream → OpenAI-chunks translator
// (plugins/anthropic/messages_to_chat_stream.h), on arbitrary SSE text split into events the
// way sluice hands them over.
//
// Besides "no crash, no sanitizer report", it checks:
//   - whatever it emits, before or after an Error, is a well-formed OpenAI chunk stream
//     (check_openai_stream), and each event's output is bounded by the input's size;
//   - once it returned Error, every later call returns Error and emits nothing;
//   - a stream it finished cleanly round-trips: its chunks fed to F (the reverse translator)
//     give a clean Anthropic stream with the same text and tool calls.
//   clang run (from the source tree, with a clang build in build-fuzz):
//     build-fuzz/tests/fuzz/fuzz_anthropic_messages_to_chat_stream -max_len=4096
//       -dict=tests/fuzz/anthropic_stream.dict tests/fuzz/corpus/anthropic_messages_to_chat_stream
#include <cstdint>
#include <string>
#include <string_view>

#include "anthropic/chat_to_messages_stream.h"
#include "anthropic/messages_to_chat_stream.h"
#include "tests/fuzz/anthropic_fuzz_support.h"

namespace {

using anthropic::ChatToMessagesStream;
using anthropic::MessagesToChatStream;
using anthropic_fuzz::Seen;

// The chunks' data payloads of C's output, as F receives them.
std::vector<std::string> payloads(std::string_view out) {
  std::vector<std::string> data;
  for (const auto& e : anthropic_fuzz::split_sse(out)) data.push_back(e.data);
  return data;
}

void run(std::string_view input, bool include_usage) {
  const auto events = anthropic_fuzz::split_sse(input);
  MessagesToChatStream c(1700000000);
  std::string all, out;
  size_t largest = 0;
  bool failed = false;
  for (const auto& e : events) {
    out.clear();
    const anthropic::Outcome r = c.on_event(e.name, e.data, out);
    largest = std::max(largest, e.data.size());
    // Every chunk repeats the id and model of message_start (escaped, so up to 6x).
    FUZZ_CHECK(out.size() <= 8 * (e.data.size() + largest) + 4096);
    if (failed) FUZZ_CHECK(r.verdict == anthropic::Verdict::Error && out.empty());
    FUZZ_CHECK(r.verdict != anthropic::Verdict::Invalid);  // only requests are Invalid
    if (!r.is_ok()) failed = true;
    all.append(out);
  }
  out.clear();
  const anthropic::Outcome end = c.on_end(include_usage, out);
  if (failed) FUZZ_CHECK(!end.is_ok());
  all.append(out);

  Seen seen;
  anthropic_fuzz::check_openai_stream(all, seen);
  if (!end.is_ok()) {
    FUZZ_CHECK(!seen.done);  // no [DONE]: a client must not take it for a whole answer
    return;
  }
  FUZZ_CHECK(seen.done && seen.finished);

  // Round trip through F: the same answer, well-formed on the Anthropic side.
  ChatToMessagesStream f("req", "model");
  std::string back;
  for (const std::string& data : payloads(all)) FUZZ_CHECK(f.on_event(data, back).is_ok());
  FUZZ_CHECK(f.on_end(back).is_ok());
  FUZZ_CHECK(f.state() == ChatToMessagesStream::State::Done);
  Seen again;
  anthropic_fuzz::check_anthropic_stream(back, /*complete=*/true, again);
  anthropic_fuzz::check_same(seen, again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  run(input, true);
  run(input, false);
  return 0;
}
