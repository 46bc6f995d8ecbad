// Fuzz target: F, the anthropic plugin's OpenAI-chunks → Anthropic-stream translator
// (plugins/anthropic/chat_to_messages_stream.h), on arbitrary SSE text whose events' data are
// handed over one by one (chunk JSON or "[DONE]"), as sluice does for a client API.
//
// Besides "no crash, no sanitizer report", it checks:
//   - whatever it emits, before or after an Error, is a well-formed prefix of an Anthropic
//     stream (check_anthropic_stream: message_start, blocks numbered in order, deltas of the
//     open block's kind, message_delta, message_stop), bounded by the input's size;
//   - once it returned Error, every later call returns Error and emits nothing;
//   - a stream it finished cleanly is complete, and round-trips: its events fed to C (the
//     reverse translator) give a clean OpenAI stream with the same text and tool calls.
//   clang run (from the source tree, with a clang build in build-fuzz):
//     build-fuzz/tests/fuzz/fuzz_anthropic_chat_to_messages_stream -max_len=4096
//       -dict=tests/fuzz/anthropic_stream.dict tests/fuzz/corpus/anthropic_chat_to_messages_stream
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

void run(std::string_view input) {
  const auto events = anthropic_fuzz::split_sse(input);
  ChatToMessagesStream f("req-1", "fallback-model");
  std::string all, out;
  size_t first = 0;
  bool failed = false;
  for (const auto& e : events) {
    out.clear();
    const anthropic::Outcome r = f.on_event(e.data, out);
    if (first == 0) first = e.data.size();
    // message_start repeats the first chunk's id and model (escaped, so up to 6x).
    FUZZ_CHECK(out.size() <= 8 * (e.data.size() + first) + 4096);
    if (failed) FUZZ_CHECK(r.verdict == anthropic::Verdict::Error && out.empty());
    FUZZ_CHECK(r.verdict != anthropic::Verdict::Invalid);
    if (!r.is_ok()) failed = true;
    all.append(out);
  }
  out.clear();
  const anthropic::Outcome end = f.on_end(out);
  if (failed) FUZZ_CHECK(!end.is_ok());
  all.append(out);

  Seen seen;
  std::vector<anthropic_fuzz::SseEvent> emitted;
  anthropic_fuzz::check_anthropic_stream(all, /*complete=*/end.is_ok(), seen, &emitted);
  if (!end.is_ok()) {
    FUZZ_CHECK(!seen.done);  // no message_stop: a client must not take it for a whole answer
    return;
  }

  // Round trip through C: the same answer, well-formed on the OpenAI side.
  MessagesToChatStream c(1700000000);
  std::string back;
  for (const auto& e : emitted) FUZZ_CHECK(c.on_event(e.name, e.data, back).is_ok());
  FUZZ_CHECK(c.on_end(true, back).is_ok());
  Seen again;
  anthropic_fuzz::check_openai_stream(back, again);
  FUZZ_CHECK(again.done && again.finished);
  anthropic_fuzz::check_same(seen, again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
