// Retry and fallback as an agent meets them (issue 5 item 5; DESIGN §2, §5): two mock
// providers A and B behind one model group (strategy priority, A first) and the chain
// [model_alias, retry]. A fails on command; the agent gets B's answer with
// x-sluice-attempts: 2 — or, with one target, A's second answer after a backoff or the
// provider's retry-after. Retry stops at the first byte sent downstream (a started stream ends
// with an error event), at `attempts`, and when the retry budget is spent. What each mock
// received proves where sluice went; only lower bounds of time are asserted.
#include <gtest/gtest.h>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kPair = "pair";              // targets: a, then b
constexpr const char* kSolo = "solo";              // targets: a only
constexpr const char* kTrio = "trio";              // targets: a, b, then c (nobody listens)
constexpr const char* kDeadFirst = "deadfirst";    // targets: c (nobody listens), then b
constexpr const char* kWithBackup = "withbackup";  // targets: a; fallbacks: [backup]
constexpr const char* kBackup = "backup";          // targets: b

class RetryFallbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(b.ok());
  }

  // Starts sluice with `retry` as the retry filter's settings (a YAML flow map).
  void start(const std::string& retry = "{}") {
    std::string y;
    y += "listen: 127.0.0.1:0\n";
    y += "admin: 127.0.0.1:0\n";
    y += "workers: 1\n";
    y += "providers:\n";
    y += "  a:\n    type: openai\n    base_url: " + a.base_url() + "\n    api_key: sk-a\n";
    y += "    timeouts: {connect: 1s, first_byte: 400ms, idle: 2s}\n";
    y += "  b:\n    type: openai\n    base_url: " + b.base_url() + "\n    api_key: sk-b\n";
    y += "  c:\n    type: openai\n    base_url: http://127.0.0.1:" + std::to_string(unused_port()) +
         "/v1\n    api_key: sk-c\n";
    y += "    timeouts: {connect: 1s}\n";
    y += "models:\n";
    y += std::string("  ") + kPair + ":\n    strategy: priority\n    targets:\n";
    y += "      - {provider: a, model: model-a}\n      - {provider: b, model: model-b}\n";
    y += std::string("  ") + kSolo + ":\n    targets:\n      - {provider: a, model: model-a}\n";
    y += std::string("  ") + kTrio + ":\n    strategy: priority\n    targets:\n";
    y += "      - {provider: a, model: model-a}\n      - {provider: b, model: model-b}\n";
    y += "      - {provider: c, model: model-c}\n";
    y += std::string("  ") + kDeadFirst + ":\n    strategy: priority\n    targets:\n";
    y += "      - {provider: c, model: model-c}\n      - {provider: b, model: model-b}\n";
    y += std::string("  ") + kWithBackup +
         ":\n    targets:\n      - {provider: a, model: model-a}\n";
    y += std::string("    fallbacks: [") + kBackup + "]\n";
    y += std::string("  ") + kBackup + ":\n    targets:\n      - {provider: b, model: backup-b}\n";
    y += "filters:\n";
    y += "  - model_alias: {}\n";
    y += "  - retry: " + retry + "\n";
    y += "state: {ledger: \"\"}\n";
    ASSERT_TRUE(sluice.start(sluice_binary(), y));
  }

  std::optional<HttpResponse> chat(const std::string& model) {
    HttpClient client = sluice.client();
    client.set_timeout(10s);
    auto r = client.post_json("/v1/chat/completions", chat_body(model, "hello there"));
    EXPECT_TRUE(r) << "no answer from sluice: " << client.error() << "\n" << sluice.describe();
    return r;
  }

  StreamResult stream(const std::string& model) {
    HttpClient client = sluice.client();
    client.set_timeout(10s);
    return client.stream_post("/v1/chat/completions", chat_body(model, "one two three", true));
  }

  // API requests a mock received.
  static size_t received(MockProvider& mock) {
    auto all = mock.requests();
    EXPECT_TRUE(all) << "the mock did not answer /__requests";
    return all ? all->size() : 0;
  }

  // The model the last request to `mock` asked for (what sluice spliced in for that target).
  static std::string last_model(MockProvider& mock) {
    Json request = last_upstream_request(mock);
    auto body = Json::parse(request["body"].str());
    return body ? (*body)["model"].str() : "";
  }

  // An answer served by `provider` after `attempts` attempts.
  static ::testing::AssertionResult answered_by(const std::optional<HttpResponse>& r,
                                                const std::string& provider, int attempts) {
    if (!r) return ::testing::AssertionFailure() << "no response";
    if (r->status != 200 || r->header("x-sluice-provider") != provider ||
        r->header("x-sluice-attempts") != std::to_string(attempts)) {
      return ::testing::AssertionFailure() << "expected 200 from " << provider << " after "
                                           << attempts << " attempts; got: " << r->describe();
    }
    auto body = r->json();
    if (!body || (*body)["choices"][0]["message"]["content"].str().empty()) {
      return ::testing::AssertionFailure() << "no completion in the body: " << r->describe();
    }
    return ::testing::AssertionSuccess();
  }

  std::string metrics_text() {
    auto r = sluice.admin_client().get("/metrics");
    return r ? r->body : "";
  }

  MockProvider a{mock_provider_binary()};
  MockProvider b{mock_provider_binary()};
  SluiceServer sluice;
};

// ---- fallback to the next target -------------------------------------------------------------

TEST_F(RetryFallbackTest, FallsBackOn500) {
  start();
  ASSERT_TRUE(a.control("status:500", -1));
  auto r = chat(kPair);
  EXPECT_TRUE(answered_by(r, "b", 2));
  EXPECT_EQ(received(a), 1u);
  EXPECT_EQ(received(b), 1u);
  EXPECT_EQ(last_model(b), "model-b");
}

TEST_F(RetryFallbackTest, FallsBackOnReset) {
  start();
  ASSERT_TRUE(a.control("reset", -1));
  EXPECT_TRUE(answered_by(chat(kPair), "b", 2));
  EXPECT_EQ(received(a), 1u);
  EXPECT_EQ(received(b), 1u);
}

TEST_F(RetryFallbackTest, FallsBackOnTimeout) {
  start();
  ASSERT_TRUE(a.control("hang", -1));  // silent past a's first_byte timeout (400ms)
  EXPECT_TRUE(answered_by(chat(kPair), "b", 2));
  EXPECT_EQ(received(a), 1u);
  EXPECT_EQ(received(b), 1u);
}

TEST_F(RetryFallbackTest, FallsBackOn429) {
  start();
  ASSERT_TRUE(a.control("status:429", -1));  // with the mock's usual retry-after: 1
  EXPECT_TRUE(answered_by(chat(kPair), "b", 2));
  EXPECT_EQ(received(a), 1u);
  EXPECT_EQ(received(b), 1u);
}

TEST_F(RetryFallbackTest, FallsBackOnConnectFailure) {
  start();
  EXPECT_TRUE(answered_by(chat(kDeadFirst), "b", 2));
  EXPECT_EQ(received(b), 1u);
}

TEST_F(RetryFallbackTest, FallsBackToTheFallbackGroup) {
  start();
  ASSERT_TRUE(a.control("status:503", -1));
  EXPECT_TRUE(answered_by(chat(kWithBackup), "b", 2));
  EXPECT_EQ(received(a), 1u);
  EXPECT_EQ(last_model(b), "backup-b");
}

// ---- retry of the same target ----------------------------------------------------------------

TEST_F(RetryFallbackTest, RetriesTheOnlyTarget) {
  start();
  ASSERT_TRUE(a.control("status:500", 1));  // fails once, then answers
  EXPECT_TRUE(answered_by(chat(kSolo), "a", 2));
  EXPECT_EQ(received(a), 2u);
  EXPECT_EQ(received(b), 0u);
}

TEST_F(RetryFallbackTest, FallbackOffRetriesTheFailedTarget) {
  start("{fallback: false}");
  ASSERT_TRUE(a.control("status:503", 1));
  EXPECT_TRUE(answered_by(chat(kPair), "a", 2));
  EXPECT_EQ(received(a), 2u);
  EXPECT_EQ(received(b), 0u);
}

TEST_F(RetryFallbackTest, RetryAfterIsHonoured) {
  // A backoff of at most 1 ms: only the provider's retry-after can make sluice wait a second.
  start("{backoff: {base: 1ms, max: 2s}}");
  ASSERT_TRUE(a.control("status:429,retry_after:1", 1));
  const auto sent = Clock::now();
  auto r = chat(kSolo);
  const auto elapsed = Clock::now() - sent;
  EXPECT_TRUE(answered_by(r, "a", 2));
  EXPECT_EQ(received(a), 2u);
  EXPECT_GE(elapsed, 900ms) << "the retry did not wait for retry-after: 1";
}

TEST_F(RetryFallbackTest, RetryAfterAboveMaxMovesOnWithoutWaiting) {
  start("{backoff: {base: 100ms, max: 2s}}");
  // 30 s is beyond backoff.max: no waiting (the client's own 10 s timeout would notice).
  ASSERT_TRUE(a.control("status:429,retry_after:30", -1));
  EXPECT_TRUE(answered_by(chat(kPair), "b", 2));
  EXPECT_EQ(received(a), 1u);
  EXPECT_EQ(received(b), 1u);
}

TEST_F(RetryFallbackTest, RetryAfterAboveMaxOnTheOnlyTargetIsTheProvidersAnswer) {
  start("{backoff: {base: 100ms, max: 2s}}");
  ASSERT_TRUE(a.control("status:429,retry_after:30", -1));
  auto r = chat(kSolo);
  ASSERT_TRUE(r);
  EXPECT_TRUE(is_openai_error(r, 429)) << r->describe();
  EXPECT_EQ(r->header("retry-after"), "30") << r->describe();
  EXPECT_EQ(r->header("x-sluice-attempts"), "1");
  EXPECT_EQ(received(a), 1u);
}

// ---- streams ---------------------------------------------------------------------------------

TEST_F(RetryFallbackTest, StreamFallsBackBeforeItsFirstByte) {
  start();
  ASSERT_TRUE(a.control("reset", -1));
  StreamResult s = stream(kPair);
  ASSERT_TRUE(s.head) << s.describe() << "\n" << sluice.describe();
  EXPECT_EQ(s.head->status, 200) << s.describe();
  EXPECT_EQ(s.head->header("x-sluice-provider"), "b");
  EXPECT_EQ(s.head->header("x-sluice-attempts"), "2");
  EXPECT_TRUE(s.complete) << s.describe();
  ASSERT_GE(s.events.size(), 2u) << s.describe();
  EXPECT_EQ(s.events.back().data, "[DONE]") << s.describe();
  for (size_t i = 0; i + 1 < s.events.size(); ++i) {
    auto chunk = Json::parse(s.events[i].data);
    ASSERT_TRUE(chunk) << s.describe();
    EXPECT_EQ((*chunk)["object"].str(), "chat.completion.chunk") << s.describe();
    EXPECT_FALSE(chunk->contains("error")) << s.describe();
  }
  EXPECT_EQ(received(a), 1u);
  EXPECT_EQ(received(b), 1u);
}

TEST_F(RetryFallbackTest, StreamFailingAfterItsFirstByteEndsWithAnErrorEventAndNoRetry) {
  start();
  ASSERT_TRUE(a.control("cut,chunks:6", -1));  // head + 2 events, then the connection closes
  StreamResult s = stream(kPair);
  ASSERT_TRUE(s.head) << s.describe() << "\n" << sluice.describe();
  EXPECT_EQ(s.head->status, 200) << s.describe();
  EXPECT_EQ(s.head->header("x-sluice-provider"), "a");
  EXPECT_TRUE(s.complete) << "no clean end of the chunked body: " << s.describe();
  ASSERT_EQ(s.events.size(), 3u) << s.describe();
  for (size_t i = 0; i < 2; ++i) {
    auto chunk = Json::parse(s.events[i].data);
    ASSERT_TRUE(chunk) << s.describe();
    EXPECT_EQ((*chunk)["object"].str(), "chat.completion.chunk") << s.describe();
  }
  auto error = Json::parse(s.events[2].data);
  ASSERT_TRUE(error) << s.describe();
  ASSERT_TRUE((*error)["error"].is_object()) << s.describe();
  EXPECT_FALSE((*error)["error"]["message"].str().empty()) << s.describe();
  EXPECT_EQ(received(a), 1u);
  EXPECT_EQ(received(b), 0u);
}

// ---- giving up -------------------------------------------------------------------------------

TEST_F(RetryFallbackTest, AttemptsExhaustedWithTargetsLeftIsTheLastProvidersAnswer) {
  start("{attempts: 2}");
  ASSERT_TRUE(a.control("status:500", -1));
  ASSERT_TRUE(b.control("status:502", -1));
  auto r = chat(kTrio);  // a, b, then c — never reached
  ASSERT_TRUE(r);
  EXPECT_TRUE(is_openai_error(r, 502)) << r->describe();
  EXPECT_EQ(r->header("x-sluice-provider"), "b");
  EXPECT_EQ(r->header("x-sluice-attempts"), "2");
  EXPECT_EQ(received(a), 1u);
  EXPECT_EQ(received(b), 1u);
}

TEST_F(RetryFallbackTest, EveryAttemptFailedIs503ListingThem) {
  start("{attempts: 3, backoff: {base: 1ms, max: 10ms}}");
  ASSERT_TRUE(a.control("status:500", -1));
  auto r = chat(kSolo);
  ASSERT_TRUE(r);
  EXPECT_TRUE(is_openai_error(r, 503, "all_providers_unavailable")) << r->describe();
  EXPECT_EQ(r->header("x-sluice-attempts"), "3");
  auto body = r->json();
  ASSERT_TRUE(body);
  const std::string message = (*body)["error"]["message"].str();
  size_t mentions = 0;
  for (size_t at = message.find("a: HTTP 500"); at != std::string::npos;
       at = message.find("a: HTTP 500", at + 1)) {
    ++mentions;
  }
  EXPECT_EQ(mentions, 3u) << message;
  EXPECT_EQ(received(a), 3u);
}

TEST_F(RetryFallbackTest, AttemptsOneNeverRetries) {
  start("{attempts: 1}");
  ASSERT_TRUE(a.control("status:500", -1));
  auto r = chat(kPair);
  ASSERT_TRUE(r);
  EXPECT_TRUE(is_openai_error(r, 500)) << r->describe();
  EXPECT_EQ(r->header("x-sluice-provider"), "a");
  EXPECT_EQ(received(b), 0u);
}

TEST_F(RetryFallbackTest, SpentRetryBudgetMeansNoRetry) {
  start("{budget: {ratio: 0, min_retries: 0}}");
  ASSERT_TRUE(a.control("status:500", -1));
  auto r = chat(kPair);
  ASSERT_TRUE(r);
  EXPECT_TRUE(is_openai_error(r, 500)) << r->describe();
  EXPECT_EQ(r->header("x-sluice-provider"), "a");
  EXPECT_EQ(r->header("x-sluice-attempts"), "1");
  EXPECT_EQ(received(a), 1u);
  EXPECT_EQ(received(b), 0u);
  EXPECT_EQ(metrics_text().find("sluice_retries_total{provider=\"a\",reason=\"5xx\"} 1"),
            std::string::npos);
}

TEST_F(RetryFallbackTest, NotInRetryOnIsNotRetried) {
  start("{retry_on: [5xx]}");
  ASSERT_TRUE(a.control("status:429,retry_after:0", -1));
  auto r = chat(kPair);
  ASSERT_TRUE(r);
  EXPECT_TRUE(is_openai_error(r, 429)) << r->describe();
  EXPECT_EQ(received(b), 0u);
}

// ---- metrics ---------------------------------------------------------------------------------

TEST_F(RetryFallbackTest, RetriesAndFallbacksAreCounted) {
  start();
  ASSERT_TRUE(a.control("status:500", -1));
  EXPECT_TRUE(answered_by(chat(kPair), "b", 2));
  std::string text;
  EXPECT_TRUE(eventually(
      [&] {
        text = metrics_text();
        return text.find("sluice_retries_total{provider=\"a\",reason=\"5xx\"} 1") !=
               std::string::npos;
      },
      5s))
      << text;
  EXPECT_NE(text.find("sluice_fallbacks_total{from=\"a\",to=\"b\"} 1"), std::string::npos) << text;
  // Every provider × reason exists from the start, at 0 until it happens.
  EXPECT_NE(text.find("sluice_retries_total{provider=\"b\",reason=\"timeout\"} 0"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace sluice::test
