// Anthropic's Messages API through sluice (DESIGN §5 POST /v1/messages), as an Anthropic
// client and as the provider see it: a provider of type anthropic gets the client's body with
// only the model spliced, its own x-api-key (never the agent's) and anthropic-version; the
// answer (JSON or SSE) comes back as sent, with sluice's x-sluice-* headers; sluice's own
// errors on this path are Anthropic-shaped ({"type":"error","error":{"type","message"}});
// and a target of the other API is reached through the anthropic plugin's translation.
#include <gtest/gtest.h>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

constexpr const char* kAnthropicKey = "sk-ant-provider-secret-7c4d";
constexpr const char* kClaudeModel = "sonnet";  // group → anthropic provider only
constexpr const char* kClaudePhysical = "mock-claude-physical-4";
constexpr const char* kLimitedKey = "sk-agent-limited-3e5f";  // rpm 1

// The response is Anthropic's error shape with `status` and error.type `type`.
::testing::AssertionResult is_anthropic_error(const std::optional<HttpResponse>& r, int status,
                                              const std::string& type) {
  if (!r) return ::testing::AssertionFailure() << "no response";
  auto fail = [&](const std::string& why) {
    return ::testing::AssertionFailure() << why << "\ngot: " << r->describe();
  };
  if (r->status != status) return fail("expected status " + std::to_string(status));
  auto body = r->json();
  if (!body) return fail("body is not JSON");
  if ((*body)["type"].str() != "error") return fail("body.type is not \"error\"");
  const Json& error = (*body)["error"];
  if (!error.is_object()) return fail("body has no \"error\" object");
  if (error["type"].str() != type) return fail("expected error.type \"" + type + "\"");
  if (error["message"].str().empty()) return fail("error.message is empty");
  if (r->header("content-type").find("application/json") == std::string::npos)
    return fail("content-type is not application/json");
  return ::testing::AssertionSuccess();
}

// What the Anthropic SDKs send: the key as x-api-key, and the API version.
Headers anthropic_headers(const std::string& key) {
  return {{"x-api-key", key}, {"anthropic-version", "2023-06-01"}};
}

class MessagesTest : public ::testing::Test {
 protected:
  // More YAML lines for providers.claude (4-space indented).
  virtual std::string claude_extra() const { return ""; }

  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    config.extra_providers = "  claude:\n    type: anthropic\n    base_url: " + mock.base_url() +
                             "\n    api_key: " + kAnthropicKey + "\n" + claude_extra();
    config.extra_models = std::string("  ") + kClaudeModel +
                          ":\n    targets:\n      - {provider: claude, model: " + kClaudePhysical +
                          "}\n";
    config.extra_agents = std::string("  limited:\n    keys: [\"") + agent_key_digest(kLimitedKey) +
                          "\"]\n    limits: {rpm: 1}\n";
    std::string yaml = config.to_yaml();
    const std::string alias = "  - model_alias: {}\n";
    yaml.replace(yaml.find(alias), alias.size(), "  - rate_limit: {}\n" + alias);
    ASSERT_TRUE(sluice.start(sluice_binary(), yaml));
  }

  std::optional<HttpResponse> post_messages(const std::string& body, Headers headers) {
    HttpClient client = sluice.client();
    auto r = client.post_json("/v1/messages", body, headers);
    EXPECT_TRUE(r) << client.error() << "\n" << sluice.describe();
    return r;
  }

  // sluice_tokens_total{agent,model,type} from /metrics, once it reaches `want` (the request
  // is recorded just after its last byte); the last value seen otherwise, -1 if never.
  double tokens_total(const std::string& agent, const std::string& type, double want) {
    const std::string key = "sluice_tokens_total{agent=\"" + agent + "\",model=\"" + kClaudeModel +
                            "\",type=\"" + type + "\"} ";
    double seen = -1;
    for (int i = 0; i < 100 && seen != want; ++i) {
      if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      auto r = sluice.admin_client().get("/metrics");
      if (!r) continue;
      const size_t at = r->body.find(key);
      if (at != std::string::npos) seen = std::stod(r->body.substr(at + key.size()));
    }
    return seen;
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

TEST_F(MessagesTest, JsonMessageComesBackAsTheProviderSentItWithRoutingHeaders) {
  Headers headers = anthropic_headers(kBobKey);
  headers.emplace_back("x-mock-behavior", "cached:120,cache_write:30");
  auto r = post_messages(messages_body(kClaudeModel, "hello claude"), headers);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  auto body = r->json();
  ASSERT_TRUE(body) << r->describe();
  EXPECT_EQ((*body)["type"].str(), "message");
  EXPECT_EQ((*body)["role"].str(), "assistant");
  EXPECT_EQ((*body)["model"].str(), kClaudePhysical);
  EXPECT_EQ((*body)["content"][0]["type"].str(), "text");
  EXPECT_EQ((*body)["content"][0]["text"].str(),
            std::string("[") + kClaudePhysical + "] hello claude");
  EXPECT_EQ((*body)["stop_reason"].str(), "end_turn");
  EXPECT_GT((*body)["usage"]["input_tokens"].as_int(), 0);
  EXPECT_EQ((*body)["usage"]["cache_read_input_tokens"].as_int(), 120);
  EXPECT_EQ((*body)["usage"]["cache_creation_input_tokens"].as_int(), 30);

  EXPECT_FALSE(r->header("x-request-id").empty()) << r->describe();
  EXPECT_EQ(r->header("x-sluice-provider"), "claude") << r->describe();
  EXPECT_EQ(r->header("x-sluice-model"), kClaudePhysical) << r->describe();
  EXPECT_EQ(r->header("x-sluice-attempts"), "1") << r->describe();
}

TEST_F(MessagesTest, ProviderGetsTheBodyIntactButTheModelAndItsOwnCredentials) {
  // Keys and spacing a re-serialiser would change: the provider must see the client's bytes.
  const std::string sent =
      R"({"model": "sonnet", "max_tokens": 64, "system": "be brief",)"
      R"( "messages": [{"role": "user", "content": [{"type": "text", "text": "caf\u00e9 \u2603"}]}],)"
      R"( "metadata": {"user_id": "u-1"}})";
  Headers headers = anthropic_headers(kBobKey);
  headers.emplace_back("anthropic-beta", "prompt-caching-2024-07-31");
  auto r = post_messages(sent, headers);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();

  Json seen = last_upstream_request(mock);
  ASSERT_TRUE(seen.is_object()) << "the mock received nothing";
  EXPECT_EQ(seen["method"].str(), "POST");
  EXPECT_EQ(seen["path"].str(), "/v1/messages");
  std::string expected = sent;
  expected.replace(expected.find("\"sonnet\""), 8, std::string("\"") + kClaudePhysical + "\"");
  EXPECT_EQ(seen["body"].str(), expected);

  const Json& h = seen["headers"];
  EXPECT_EQ(h["x-api-key"].str(), kAnthropicKey) << seen.dump();
  EXPECT_EQ(h["anthropic-version"].str(), "2023-06-01") << seen.dump();
  EXPECT_EQ(h["anthropic-beta"].str(), "prompt-caching-2024-07-31") << seen.dump();
  EXPECT_FALSE(h.contains("authorization")) << seen.dump();
  EXPECT_EQ(seen.dump().find(kBobKey), std::string::npos)
      << "the agent's key went upstream: " << seen.dump();
  EXPECT_EQ(r->describe().find(kAnthropicKey), std::string::npos)
      << "the provider key came back: " << r->describe();
}

TEST_F(MessagesTest, AuthorizationBearerIsAcceptedToo) {
  auto r = post_messages(messages_body(kClaudeModel, "bearer"), bearer(kBobKey));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(last_upstream_request(mock)["headers"]["x-api-key"].str(), kAnthropicKey);
}

// The health probe of an anthropic provider authenticates as its requests do (GET
// <base_url>/models, as Anthropic has it), so a probe is not a 401 that proves nothing.
class MessagesHealthTest : public MessagesTest {
 protected:
  std::string claude_extra() const override {
    return "    health_check: {interval: 100ms, timeout: 1s}\n";
  }
};

TEST_F(MessagesHealthTest, HealthProbesUseTheAnthropicAuthStyle) {
  Json probe;
  for (int i = 0; i < 150 && !probe.is_object(); ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const Json all = mock.requests().value_or(Json::array());
    for (const Json& r : all.items()) {
      if (r["method"].str() == "GET" && r["headers"]["x-api-key"].is_string()) probe = r;
    }
  }
  ASSERT_TRUE(probe.is_object()) << "no probe with x-api-key reached the mock";
  EXPECT_EQ(probe["path"].str(), "/v1/models");
  EXPECT_EQ(probe["headers"]["x-api-key"].str(), kAnthropicKey) << probe.dump();
  EXPECT_EQ(probe["headers"]["anthropic-version"].str(), "2023-06-01") << probe.dump();
  EXPECT_FALSE(probe["headers"].contains("authorization")) << probe.dump();
}

TEST_F(MessagesTest, StreamIsRelayedEventByEvent) {
  HttpClient client = sluice.client();
  StreamResult s =
      client.stream_post("/v1/messages", messages_body(kClaudeModel, "stream me please", true),
                         anthropic_headers(kBobKey));
  ASSERT_TRUE(s.head) << s.describe();
  ASSERT_EQ(s.head->status, 200) << s.describe();
  EXPECT_TRUE(s.complete) << s.describe();
  EXPECT_NE(s.head->header("content-type").find("text/event-stream"), std::string::npos);
  EXPECT_EQ(s.head->header("x-sluice-provider"), "claude");
  std::vector<std::string> names;
  std::string text;
  int output_tokens = -1;
  for (const SseEvent& e : s.events) {
    names.push_back(e.event);
    auto data = Json::parse(e.data);
    ASSERT_TRUE(data) << e.data;
    EXPECT_EQ((*data)["type"].str(), e.event);
    if (e.event == "content_block_delta") text += (*data)["delta"]["text"].str();
    if (e.event == "message_start") {
      EXPECT_EQ((*data)["message"]["model"].str(), kClaudePhysical);
    }
    if (e.event == "message_delta") output_tokens = (*data)["usage"]["output_tokens"].as_int();
  }
  ASSERT_GE(names.size(), 7u) << s.describe();
  EXPECT_EQ(names.front(), "message_start");
  EXPECT_EQ(names[1], "content_block_start");
  EXPECT_EQ(names[2], "ping");
  EXPECT_EQ(names[names.size() - 3], "content_block_stop");
  EXPECT_EQ(names[names.size() - 2], "message_delta");
  EXPECT_EQ(names.back(), "message_stop");
  EXPECT_EQ(text, std::string("[") + kClaudePhysical + "] stream me please");
  EXPECT_EQ(output_tokens, 4);  // one per word
}

// Issue 6: Anthropic-shaped usage is counted — input is the uncached prompt plus cache reads
// and writes, cached the cache reads, output message_delta's final count.
TEST_F(MessagesTest, StreamedAnthropicUsageIsCounted) {
  HttpClient client = sluice.client();
  Headers headers = anthropic_headers(kBobKey);
  headers.emplace_back("x-mock-behavior", "cached:100,cache_write:20");
  StreamResult s = client.stream_post(
      "/v1/messages", messages_body(kClaudeModel, "count my tokens", true), headers);
  ASSERT_TRUE(s.head && s.complete) << s.describe();
  int64_t input = -1;
  for (const SseEvent& e : s.events) {
    if (e.event == "message_start") {
      input = Json::parse(e.data).value_or(Json())["message"]["usage"]["input_tokens"].as_int(-1);
    }
  }
  ASSERT_GT(input, 0) << s.describe();
  EXPECT_EQ(tokens_total("bob", "input", static_cast<double>(input + 120)),
            static_cast<double>(input + 120));
  EXPECT_EQ(tokens_total("bob", "cached", 100), 100);
  EXPECT_EQ(tokens_total("bob", "output", 4), 4);  // "[model] count my tokens": 4 words
}

// A stream the provider cuts after its first events ends with Anthropic's `error` event, not
// OpenAI's data-only error line.
TEST_F(MessagesTest, AStreamCutMidwayEndsWithAnAnthropicErrorEvent) {
  HttpClient client = sluice.client();
  Headers headers = anthropic_headers(kBobKey);
  headers.emplace_back("x-mock-behavior", "cut");
  StreamResult s = client.stream_post(
      "/v1/messages", messages_body(kClaudeModel, "this will be cut", true), headers);
  ASSERT_TRUE(s.head) << s.describe();
  EXPECT_EQ(s.head->status, 200) << s.describe();
  ASSERT_GE(s.events.size(), 2u) << s.describe();
  EXPECT_EQ(s.events.front().event, "message_start");
  const SseEvent& last = s.events.back();
  EXPECT_EQ(last.event, "error") << s.describe();
  auto data = Json::parse(last.data);
  ASSERT_TRUE(data) << last.data;
  EXPECT_EQ((*data)["type"].str(), "error");
  EXPECT_EQ((*data)["error"]["type"].str(), "api_error");
  EXPECT_FALSE((*data)["error"]["message"].str().empty());
}

TEST_F(MessagesTest, SluiceErrorsOnThisPathAreAnthropicShaped) {
  EXPECT_TRUE(is_anthropic_error(
      post_messages(messages_body(kClaudeModel, "x"), anthropic_headers("sk-wrong")), 401,
      "authentication_error"));
  EXPECT_TRUE(is_anthropic_error(post_messages(messages_body(kClaudeModel, "x"), {}), 401,
                                 "authentication_error"));
  EXPECT_TRUE(is_anthropic_error(
      post_messages(messages_body("no-such-model", "x"), anthropic_headers(kBobKey)), 404,
      "not_found_error"));
  EXPECT_TRUE(is_anthropic_error(post_messages("{not json", anthropic_headers(kBobKey)), 400,
                                 "invalid_request_error"));
  // A limit sluice enforces itself (agent limited: rpm 1).
  auto first = post_messages(messages_body(kClaudeModel, "one"), anthropic_headers(kLimitedKey));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200) << first->describe();
  auto second = post_messages(messages_body(kClaudeModel, "two"), anthropic_headers(kLimitedKey));
  EXPECT_TRUE(is_anthropic_error(second, 429, "rate_limit_error"));
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->header("retry-after").empty()) << second->describe();
}

TEST_F(MessagesTest, ProviderErrorsComeBackAsTheProviderSentThem) {
  Headers headers = anthropic_headers(kBobKey);
  headers.emplace_back("x-mock-behavior", "status:429,retry_after:7");
  auto r = post_messages(messages_body(kClaudeModel, "x"), headers);
  EXPECT_TRUE(is_anthropic_error(r, 429, "rate_limit_error"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("retry-after"), "7") << r->describe();
}

// Any client to any model (issue 12): the anthropic plugin, found next to the sluice binary,
// translates both ways. The details are in anthropic_translation_test; these two check that
// the routes that used to be refused now answer in the client's own shape.
TEST_F(MessagesTest, MessagesToAGroupOfOpenAiTargetsIsTranslated) {
  auto r = post_messages(messages_body(kFastModel, "hello gpt"), anthropic_headers(kBobKey));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  auto body = r->json();
  ASSERT_TRUE(body) << r->describe();
  EXPECT_EQ((*body)["type"].str(), "message") << r->describe();
  EXPECT_NE((*body)["content"][0]["text"].str().find("hello gpt"), std::string::npos)
      << r->describe();
  Json upstream = last_upstream_request(mock);
  EXPECT_EQ(upstream["path"].str(), "/v1/chat/completions") << upstream.dump();
}

TEST_F(MessagesTest, ChatCompletionsToAnAnthropicGroupIsTranslated) {
  HttpClient client = sluice.client();
  auto r = client.post_json("/v1/chat/completions", chat_body(kClaudeModel, "hello claude"),
                            bearer(kBobKey));
  ASSERT_TRUE(r) << client.error();
  ASSERT_EQ(r->status, 200) << r->describe();
  auto body = r->json();
  ASSERT_TRUE(body) << r->describe();
  EXPECT_EQ((*body)["object"].str(), "chat.completion") << r->describe();
  EXPECT_EQ((*body)["choices"][0]["message"]["content"].str(),
            std::string("[") + kClaudePhysical + "] hello claude")
      << r->describe();
  Json upstream = last_upstream_request(mock);
  EXPECT_EQ(upstream["path"].str(), "/v1/messages") << upstream.dump();
  EXPECT_EQ(upstream["headers"]["x-api-key"].str(), kAnthropicKey) << upstream.dump();
}

}  // namespace
}  // namespace sluice::test
