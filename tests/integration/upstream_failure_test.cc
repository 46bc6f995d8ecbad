// What the agent sees when the provider fails, with no retry filter in the chain (DESIGN §5
// error table rows 502 upstream_error, 503 all_providers_unavailable, 504 upstream_timeout;
// §2/§5: after the first byte of a stream a failure is reported in the stream itself as
// `data: {"error": ...}` and the stream ends). After each failure sluice serves the next request
// normally: a failed upstream connection must not poison the pool.
#include <gtest/gtest.h>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDownModel = "gone";

class UpstreamFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    config.provider_timeouts = "{connect: 1s, first_byte: 300ms, idle: 600ms}";
    // A provider nobody listens for.
    config.extra_providers = "  dead:\n    type: openai\n    base_url: http://127.0.0.1:" +
                             std::to_string(unused_port()) + "/v1\n    api_key: sk-dead\n";
    config.extra_models = std::string("  ") + kDownModel +
                          ":\n    targets:\n      - {provider: dead, model: nobody-home}\n";
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  // Every upstream request fails with `behavior` (however many attempts sluice makes) until
  // recover() — so the test does not depend on whether sluice retries a broken connection.
  void fail_all_with(const std::string& behavior) { ASSERT_TRUE(mock.control(behavior, -1)); }

  std::optional<HttpResponse> chat(const std::string& model = kFastModel) {
    HttpClient client = sluice.client();
    client.set_timeout(20s);
    auto r = client.post_json("/v1/chat/completions", chat_body(model, "hello"), bearer(kBobKey));
    EXPECT_TRUE(r) << "no answer from sluice: " << client.error() << "\n" << sluice.describe();
    return r;
  }

  // The provider works again and so does sluice.
  void expect_recovery() {
    ASSERT_TRUE(mock.reset());
    auto r = chat();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << "after the failure: " << r->describe();
    EXPECT_TRUE(sluice.running()) << sluice.describe();
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

// The provider's own 5xx: passed through or turned into 502, but an OpenAI JSON error either way.
TEST_F(UpstreamFailureTest, Provider500IsAJsonServerError) {
  fail_all_with("status:500");
  auto r = chat();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->status == 500 || r->status == 502) << r->describe();
  EXPECT_TRUE(is_openai_error(r, r->status));
  expect_recovery();
}

TEST_F(UpstreamFailureTest, ResetIs502UpstreamError) {
  fail_all_with("reset");
  EXPECT_TRUE(is_openai_error(chat(), 502, "upstream_error"));
  expect_recovery();
}

TEST_F(UpstreamFailureTest, GarbageIs502UpstreamError) {
  fail_all_with("garbage");
  EXPECT_TRUE(is_openai_error(chat(), 502, "upstream_error"));
  expect_recovery();
}

TEST_F(UpstreamFailureTest, SilenceBeyondFirstByteTimeoutIs504) {
  fail_all_with("hang");
  EXPECT_TRUE(is_openai_error(chat(), 504, "upstream_timeout"));
  expect_recovery();
}

TEST_F(UpstreamFailureTest, ProviderDownIs502Or503) {
  auto r = chat(kDownModel);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->status == 502 || r->status == 503) << r->describe();
  EXPECT_TRUE(is_openai_error(r, r->status));
  expect_recovery();
}

// §5: the provider cuts the stream after two events. The agent has the two events, then an
// error event, then the end of the stream (no hang, no silent truncation).
TEST_F(UpstreamFailureTest, CutStreamEndsWithAnErrorEvent) {
  fail_all_with("cut,chunks:6");
  HttpClient client = sluice.client();
  client.set_timeout(20s);
  StreamResult s = client.stream_post("/v1/chat/completions",
                                      chat_body(kFastModel, "a b c d e f", true), bearer(kBobKey));
  ASSERT_TRUE(s.head) << s.error << "\n" << sluice.describe();
  ASSERT_EQ(s.head->status, 200) << s.describe();
  EXPECT_EQ(s.error.find("timeout"), std::string::npos)
      << "the stream did not end after the cut: " << s.describe();

  ASSERT_GE(s.events.size(), 3u) << s.describe();
  for (size_t i = 0; i < 2; ++i) {
    auto chunk = Json::parse(s.events[i].data);
    ASSERT_TRUE(chunk) << s.describe();
    EXPECT_EQ((*chunk)["object"].str(), "chat.completion.chunk") << s.describe();
  }
  auto error = Json::parse(s.events[2].data);
  ASSERT_TRUE(error) << s.describe();
  EXPECT_TRUE((*error)["error"].is_object()) << s.describe();
  EXPECT_FALSE((*error)["error"]["message"].str().empty()) << s.describe();
  // Nothing but an optional [DONE] after the error.
  for (size_t i = 3; i < s.events.size(); ++i) EXPECT_EQ(s.events[i].data, "[DONE]");
  expect_recovery();
}

// §5: a stream whose provider goes silent mid-way (longer than timeouts.idle, 600 ms) ends with
// an error event after the events already sent, not a hang.
TEST_F(UpstreamFailureTest, StreamSilentPastIdleTimeoutEndsWithAnErrorEvent) {
  fail_all_with("slow_chunks:3000,chunks:4");
  HttpClient client = sluice.client();
  client.set_timeout(20s);
  StreamResult s = client.stream_post("/v1/chat/completions",
                                      chat_body(kFastModel, "a b c d", true), bearer(kBobKey));
  ASSERT_TRUE(s.head) << s.error << "\n" << sluice.describe();
  ASSERT_EQ(s.head->status, 200) << s.describe();
  EXPECT_EQ(s.error.find("timeout"), std::string::npos)
      << "the stream did not end after the idle timeout: " << s.describe();
  ASSERT_GE(s.events.size(), 2u) << s.describe();
  EXPECT_TRUE(Json::parse(s.events[0].data).value_or(Json())["choices"].is_array()) << s.describe();
  auto error = Json::parse(s.events[1].data);
  ASSERT_TRUE(error) << s.describe();
  EXPECT_TRUE((*error)["error"].is_object()) << s.describe();
  expect_recovery();
}

// A provider's 429 reaches the agent as a 429 with its retry-after, so the agent's SDK can
// back off (there is no retry filter in this chain to act on it).
TEST_F(UpstreamFailureTest, Provider429ReachesTheAgentWithRetryAfter) {
  fail_all_with("status:429");
  auto r = chat();
  ASSERT_TRUE(r);
  EXPECT_TRUE(is_openai_error(r, 429));
  EXPECT_EQ(r->header("retry-after"), "1") << r->describe();
  expect_recovery();
}

}  // namespace
}  // namespace sluice::test
