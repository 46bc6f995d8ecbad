// EventSplitter: the events a translator sees do not depend on how the stream was split into
// reads; SSE fields, line endings and comments follow the event-stream rules; NDJSON lines;
// an over-long event is an error instead of a growing buffer.
#include "core/providers/event_splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::providers {
namespace {

struct Seen {
  std::vector<std::pair<std::string, std::string>> events;
  EventSplitter::Sink sink() {
    return [this](std::string_view name, std::string_view data) {
      events.emplace_back(std::string(name), std::string(data));
      return true;
    };
  }
};

// Feeds `stream` in pieces of `step` bytes.
Seen split(StreamFraming framing, const std::string& stream, size_t step) {
  EventSplitter s;
  s.reset(framing);
  Seen seen;
  for (size_t i = 0; i < stream.size(); i += step) {
    EXPECT_TRUE(s.feed(std::string_view(stream).substr(i, step), seen.sink()));
  }
  EXPECT_TRUE(s.finish(seen.sink()));
  return seen;
}

TEST(EventSplitter, SseEventsAreTheSameWhateverTheReads) {
  const std::string stream =
      ": a comment\r\n"
      "event: message_start\r\ndata: {\"a\":1}\r\n\r\n"
      "data: line one\ndata:line two\n\n"
      "id: 7\nretry: 100\n\n"  // no data: not dispatched
      "event: ping\rdata: {}\r\r"
      "data: [DONE]\n\n"
      "data: never ended";
  const std::vector<std::pair<std::string, std::string>> want = {
      {"message_start", "{\"a\":1}"}, {"", "line one\nline two"}, {"ping", "{}"}, {"", "[DONE]"}};
  for (size_t step : {1u, 2u, 3u, 7u, 1000u}) {
    EXPECT_EQ(split(StreamFraming::Sse, stream, step).events, want) << "step " << step;
  }
}

TEST(EventSplitter, NdjsonLinesIncludingALastOneWithoutNewline) {
  const std::string stream = "{\"a\":1}\n\n{\"b\":2}\r\n{\"done\":true}";
  const std::vector<std::pair<std::string, std::string>> want = {
      {"", "{\"a\":1}"}, {"", "{\"b\":2}"}, {"", "{\"done\":true}"}};
  for (size_t step : {1u, 4u, 1000u}) {
    EXPECT_EQ(split(StreamFraming::Ndjson, stream, step).events, want) << "step " << step;
  }
}

TEST(EventSplitter, AnOverLongEventIsAnError) {
  EventSplitter s;
  s.reset(StreamFraming::Sse);
  Seen seen;
  const std::string piece(1 << 20, 'x');
  bool ok = s.feed("data: ", seen.sink());
  for (size_t i = 0; ok && i < 20; ++i) ok = s.feed(piece, seen.sink());
  EXPECT_FALSE(ok);
  EXPECT_TRUE(s.too_long());
  EXPECT_TRUE(seen.events.empty());
}

TEST(EventSplitter, ASinkThatStopsStopsTheFeed) {
  EventSplitter s;
  s.reset(StreamFraming::Sse);
  int calls = 0;
  auto stop = [&](std::string_view, std::string_view) { return ++calls < 1; };
  EXPECT_FALSE(s.feed("data: a\n\ndata: b\n\n", stop));
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace sluice::providers
