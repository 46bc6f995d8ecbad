// Streamed chat completions (DESIGN §5: "stream: true → SSE, passed through chunk by chunk";
// §2: headers are held until the first upstream event, then events flow as they arrive;
// §10: a client that leaves mid-stream does not hurt anyone else).
#include <gtest/gtest.h>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

class StreamingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  // The text of chat.completion.chunk events, concatenated; "" for non-JSON ones.
  static std::string streamed_text(const std::vector<SseEvent>& events) {
    std::string text;
    for (const SseEvent& e : events) {
      auto j = Json::parse(e.data);
      if (j) text += (*j)["choices"][0]["delta"]["content"].str();
    }
    return text;
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

// §5: every event arrives, in order, and the stream ends with [DONE].
TEST_F(StreamingTest, EventsArriveInOrderAndEndWithDone) {
  ASSERT_TRUE(mock.control("chunks:6"));
  HttpClient client = sluice.client();
  StreamResult s =
      client.stream_post("/v1/chat/completions",
                         chat_body(kFastModel, "one two three four five", true), bearer(kAliceKey));
  ASSERT_TRUE(s.head) << s.error << "\n" << sluice.describe();
  ASSERT_EQ(s.head->status, 200) << s.describe();
  EXPECT_NE(s.head->header("content-type").find("text/event-stream"), std::string::npos);
  EXPECT_EQ(s.head->header("x-sluice-model"), kFastPhysical) << s.describe();
  EXPECT_EQ(s.head->header("x-sluice-provider"), "mockai") << s.describe();
  ASSERT_TRUE(s.complete) << s.describe();

  // 6 content events + the finish event + [DONE].
  ASSERT_EQ(s.events.size(), 8u) << s.describe();
  for (size_t i = 0; i + 1 < s.events.size(); ++i) {
    auto chunk = Json::parse(s.events[i].data);
    ASSERT_TRUE(chunk) << "event " << i << ": " << s.events[i].data;
    EXPECT_EQ((*chunk)["object"].str(), "chat.completion.chunk");
  }
  EXPECT_EQ(s.events.back().data, "[DONE]");
  EXPECT_EQ(streamed_text(s.events),
            std::string("[") + kFastPhysical + "] one two three four five");
  EXPECT_TRUE(s.leftover.empty()) << s.leftover;

  auto upstream = Json::parse(last_upstream_request(mock)["body"].str());
  ASSERT_TRUE(upstream);
  EXPECT_EQ((*upstream)["model"].str(), kFastPhysical);
  EXPECT_TRUE((*upstream)["stream"].as_bool());
}

// §5: a client that asks for usage gets the provider's usage chunk before [DONE].
TEST_F(StreamingTest, UsageChunkReachesAClientThatAskedForIt) {
  HttpClient client = sluice.client();
  std::string body = std::string(R"({"model":")") + kFastModel +
                     R"(","stream":true,"stream_options":{"include_usage":true},)"
                     R"("messages":[{"role":"user","content":"count me"}]})";
  StreamResult s = client.stream_post("/v1/chat/completions", body, bearer(kAliceKey));
  ASSERT_TRUE(s.complete) << s.describe();
  ASSERT_GE(s.events.size(), 2u) << s.describe();
  EXPECT_EQ(s.events.back().data, "[DONE]");
  auto usage = Json::parse(s.events[s.events.size() - 2].data);
  ASSERT_TRUE(usage) << s.describe();
  EXPECT_GT((*usage)["usage"]["total_tokens"].as_int(), 0) << s.describe();
}

// §5/§11: events are passed on as they arrive, not buffered to the end. The mock spaces its
// 7 events 400 ms apart (2.4 s in all); a buffering proxy would deliver them all at once.
TEST_F(StreamingTest, SlowStreamArrivesIncrementally) {
  ASSERT_TRUE(mock.control("slow_chunks:400,chunks:5"));
  HttpClient client = sluice.client();
  client.set_timeout(20s);
  StreamResult s = client.stream_post(
      "/v1/chat/completions", chat_body(kFastModel, "slow words here", true), bearer(kAliceKey));
  ASSERT_TRUE(s.complete) << s.describe();
  ASSERT_EQ(s.events.size(), 7u) << s.describe();
  EXPECT_EQ(s.events.back().data, "[DONE]");
  EXPECT_GE(s.events.back().arrived - s.events.front().arrived, 1s)
      << "the first event arrived only when the stream finished";
}

// §10: a client that disconnects mid-stream leaves sluice serving others.
TEST_F(StreamingTest, ClientLeavingMidStreamDoesNotHurtOthers) {
  ASSERT_TRUE(mock.control("slow_chunks:300,chunks:10"));
  {
    HttpClient leaver = sluice.client();
    auto head =
        leaver.start_request("POST", "/v1/chat/completions", chat_body(kFastModel, "bye", true),
                             {{"Authorization", std::string("Bearer ") + kAliceKey},
                              {"Content-Type", "application/json"}});
    ASSERT_TRUE(head) << leaver.error();
    ASSERT_TRUE(leaver.read_sse_event()) << leaver.error();
  }                                    // closes the socket with the stream in flight
  std::this_thread::sleep_for(500ms);  // let sluice notice and write upstream meanwhile
  HttpClient other = sluice.client();
  auto r = other.post_json("/v1/chat/completions", chat_body(kFastModel, "still there?"),
                           bearer(kAliceKey));
  ASSERT_TRUE(r) << other.error() << "\n" << sluice.describe();
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_TRUE(sluice.running()) << sluice.describe();
}

}  // namespace
}  // namespace sluice::test
