// The mock provider itself (DESIGN §13: "mock providers that can fail on command"), driven by
// the same HttpClient the sluice tests use. When a sluice integration test fails, this file
// tells whether the tools or sluice are at fault.
#include <gtest/gtest.h>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

class MockProviderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mock.ok()); }
  MockProvider mock{mock_provider_binary()};
};

TEST_F(MockProviderTest, ChatCompletionEchoesModelAndLastUserMessage) {
  HttpClient c(mock.port());
  auto r = c.post_json("/v1/chat/completions", chat_body("phys-model", "hello mock"));
  ASSERT_TRUE(r) << c.error();
  ASSERT_EQ(r->status, 200) << r->describe();
  auto j = r->json();
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["object"].str(), "chat.completion");
  EXPECT_EQ((*j)["model"].str(), "phys-model");
  EXPECT_EQ((*j)["choices"][0]["message"]["content"].str(), "[phys-model] hello mock");
  EXPECT_GT((*j)["usage"]["total_tokens"].as_int(), 0);
}

TEST_F(MockProviderTest, StreamEndsWithUsageAndDone) {
  HttpClient c(mock.port());
  std::string body = R"({"model":"m","stream":true,"stream_options":{"include_usage":true},)"
                     R"("messages":[{"role":"user","content":"a b c"}]})";
  StreamResult s = c.stream_post("/v1/chat/completions", body, {{"x-mock-behavior", "chunks:3"}});
  ASSERT_TRUE(s.complete) << s.describe();
  // 3 content chunks, the finish chunk, the usage chunk, [DONE].
  ASSERT_EQ(s.events.size(), 6u) << s.describe();
  EXPECT_EQ(s.events.back().data, "[DONE]");
  auto usage = Json::parse(s.events[4].data);
  ASSERT_TRUE(usage);
  EXPECT_EQ((*usage)["usage"]["completion_tokens"].as_int(), 3);
  std::string text;
  for (size_t i = 0; i < 3; ++i)
    text += Json::parse(s.events[i].data).value_or(Json())["choices"][0]["delta"]["content"].str();
  EXPECT_EQ(text, "[m] a b c");
}

TEST_F(MockProviderTest, ControlRulesApplyToTheNextRequestsThenExpire) {
  ASSERT_TRUE(mock.control("status:503", 2));
  HttpClient c(mock.port());
  for (int expected : {503, 503, 200}) {
    auto r = c.post_json("/v1/chat/completions", chat_body("m", "x"));
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, expected) << r->describe();
  }
  auto seen = mock.requests();
  ASSERT_TRUE(seen);
  ASSERT_EQ(seen->size(), 3u);
  EXPECT_EQ((*seen)[0]["behavior"].str(), "status:503");
  EXPECT_EQ((*seen)[2]["path"].str(), "/v1/chat/completions");
  EXPECT_EQ((*seen)[2]["headers"]["content-type"].str(), "application/json");
  ASSERT_TRUE(mock.reset());
  EXPECT_EQ(mock.requests().value_or(Json()).size(), 0u);
}

TEST_F(MockProviderTest, RateLimitCarriesRetryAfter) {
  HttpClient c(mock.port());
  auto r =
      c.post_json("/v1/chat/completions", chat_body("m", "x"), {{"x-mock-behavior", "status:429"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->header("retry-after"), "1");
}

TEST_F(MockProviderTest, PipelinedRequestsAreAnsweredInOrder) {
  HttpClient c(mock.port());
  std::string all;
  for (const char* word : {"one", "two", "three"}) {
    std::string body = chat_body("m", word);
    all += "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  ASSERT_TRUE(c.send_raw(all));
  for (const char* word : {"one", "two", "three"}) {
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->json().value_or(Json())["choices"][0]["message"]["content"].str(),
              std::string("[m] ") + word);
  }
  EXPECT_EQ(c.connects(), 1);
}

TEST_F(MockProviderTest, CutStreamEndsAfterTwoEventsWithoutDone) {
  HttpClient c(mock.port());
  StreamResult s = c.stream_post("/v1/chat/completions", chat_body("m", "a b c d e", true),
                                 {{"x-mock-behavior", "cut"}});
  EXPECT_FALSE(s.complete);
  EXPECT_EQ(s.events.size(), 2u) << s.describe();
}

TEST_F(MockProviderTest, ResetAndHangAndGarbage) {
  HttpClient reset(mock.port());
  EXPECT_FALSE(reset.post_json("/v1/chat/completions", "{}", {{"x-mock-behavior", "reset"}}));
  EXPECT_TRUE(reset.was_reset()) << reset.error();

  HttpClient hang(mock.port());
  hang.set_timeout(300ms);
  EXPECT_FALSE(hang.post_json("/v1/chat/completions", "{}", {{"x-mock-behavior", "hang"}}));
  EXPECT_NE(hang.error().find("timeout"), std::string::npos) << hang.error();

  HttpClient garbage(mock.port());
  EXPECT_FALSE(garbage.post_json("/v1/chat/completions", "{}", {{"x-mock-behavior", "garbage"}}));
  EXPECT_NE(garbage.error().find("not an HTTP response"), std::string::npos) << garbage.error();

  // Still serving after all that.
  HttpClient ok(mock.port());
  auto r = ok.get("/v1/models");
  ASSERT_TRUE(r) << ok.error();
  EXPECT_EQ(r->status, 200);
}

TEST_F(MockProviderTest, SlowChunksArriveIncrementally) {
  HttpClient c(mock.port());
  StreamResult s = c.stream_post("/v1/chat/completions", chat_body("m", "a b c", true),
                                 {{"x-mock-behavior", "slow_chunks:200,chunks:3"}});
  ASSERT_TRUE(s.complete) << s.describe();
  ASSERT_GE(s.events.size(), 4u);
  EXPECT_GE(s.events.back().arrived - s.events.front().arrived, 400ms);
}

}  // namespace
}  // namespace sluice::test
