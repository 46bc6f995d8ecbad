// Per-agent limits (agents.*.limits, filter `rate_limit`) against the real binary and the mock
// provider, as an agent sees them: OpenAI's 429 rate_limit_exceeded with retry-after, the
// x-ratelimit-* headers on every response of a limited agent, a refused request never reaching
// the provider, tpm reserved at admission and reconciled with the reported usage, a
// concurrency cap, the counter on /metrics, and a reload that changes a limit but keeps usage.
// Two workers: the buckets are the process's, shared by every worker.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kRpmKey = "sk-agent-rpm3-77aa01";       // agent rpm3: {rpm: 3}
constexpr const char* kTpmKey = "sk-agent-tpm1000-77aa02";    // agent tpm: {tpm: 1000}
constexpr const char* kSingleKey = "sk-agent-single-77aa03";  // agent single: {concurrent: 1}

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// {"model": <model>, "messages": [...], "max_tokens": N}
std::string chat_body_max_tokens(const std::string& text, int max_tokens,
                                 const std::string& model = kFastModel) {
  auto body = Json::parse(chat_body(model, text));
  body->set("max_tokens", max_tokens);
  return body->dump();
}

// What a tpm admission reserves for the prompt of `body` (usage::estimate_tokens_from_bytes).
uint64_t prompt_estimate(const std::string& body) {
  return (body.size() + 3) / 4;
}

int64_t header_int(const std::optional<HttpResponse>& r, const char* name) {
  if (!r || !r->has_header(name)) return -1;
  return std::stoll(r->header(name));
}

class RateLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    config.provider_base_url = mock.base_url();
    config.workers = 2;
    ASSERT_TRUE(sluice.start(sluice_binary(), yaml(3)));
  }

  // The standard test config plus three limited agents and the rate_limit filter between auth
  // and model_alias; `rpm` is agent rpm3's limit.
  std::string yaml(int rpm) {
    config.extra_agents = "  rpm3:\n    keys: [\"" + agent_key_digest(kRpmKey) +
                          "\"]\n    limits: {rpm: " + std::to_string(rpm) +
                          "}\n"
                          "  tpm:\n    keys: [\"" +
                          agent_key_digest(kTpmKey) +
                          "\"]\n    limits: {tpm: 1000}\n"
                          "  single:\n    keys: [\"" +
                          agent_key_digest(kSingleKey) + "\"]\n    limits: {concurrent: 1}\n";
    return replace_once(config.to_yaml(), "  - model_alias: {}\n",
                        "  - rate_limit: {default_max_tokens: 100}\n  - model_alias: {}\n");
  }

  // A chat request on a new connection (so requests spread over both workers).
  std::optional<HttpResponse> chat(const char* key, const std::string& body,
                                   const Headers& extra = {}) {
    HttpClient c = sluice.client();
    c.set_timeout(30s);
    Headers headers = bearer(key);
    headers.insert(headers.end(), extra.begin(), extra.end());
    return c.post_json("/v1/chat/completions", body, headers);
  }
  std::optional<HttpResponse> chat(const char* key) {
    return chat(key, chat_body(kFastModel, "hello there"));
  }

  // The same request until it is not refused (at most 5 s): for a request that follows the end
  // of another one. A filter's on_complete (which gives back the concurrency slot and settles
  // the tpm reservation) runs just after the last byte was written, so with two workers the
  // next request can be admitted on the other one a moment before it. A refused request takes
  // nothing, so asking again is harmless; a missing give-back would need far longer than 5 s.
  std::optional<HttpResponse> chat_after_completion(const char* key, const std::string& body) {
    std::optional<HttpResponse> r;
    eventually(
        [&] {
          r = chat(key, body);
          return !r || r->status != 429;
        },
        5s);
    return r;
  }

  size_t upstream_requests() {
    auto all = mock.requests();
    return all ? all->size() : 0;
  }

  // sluice_rate_limited_total{agent,limit} from /metrics (-1: not found).
  double rate_limited(const std::string& agent, const std::string& limit) {
    auto r = sluice.admin_client().get("/metrics");
    if (!r) return -1;
    const std::string key =
        "sluice_rate_limited_total{agent=\"" + agent + "\",limit=\"" + limit + "\"} ";
    size_t at = r->body.find(key);
    if (at == std::string::npos) return -1;
    return std::stod(r->body.substr(at + key.size()));
  }

  MockProvider mock{mock_provider_binary()};
  GatewayConfig config;
  SluiceServer sluice;
};

TEST_F(RateLimitTest, RpmRefusesTheFourthRequestBeforeTheProviderSeesIt) {
  // rpm 3 refills one request per 20 s: the four requests below take far less.
  for (int i = 0; i < 3; ++i) {
    auto r = chat(kRpmKey);
    ASSERT_TRUE(r) << sluice.describe();
    ASSERT_EQ(r->status, 200) << r->describe();
    EXPECT_EQ(r->header("x-ratelimit-limit-requests"), "3");
    EXPECT_EQ(header_int(r, "x-ratelimit-remaining-requests"), 2 - i) << r->describe();
    EXPECT_FALSE(r->header("x-ratelimit-reset-requests").empty());
    EXPECT_FALSE(r->has_header("x-ratelimit-limit-tokens"));  // rpm3 has no tpm
    EXPECT_FALSE(r->has_header("retry-after"));
  }
  ASSERT_EQ(upstream_requests(), 3u);

  auto refused = chat(kRpmKey);
  ASSERT_TRUE(is_openai_error(refused, 429, "rate_limit_exceeded"));
  auto error = (*refused->json())["error"];
  EXPECT_EQ(error["type"].str(), "rate_limit_error");
  EXPECT_EQ(error["code"].str(), "rate_limit_exceeded");
  const std::string message = error["message"].str();
  EXPECT_EQ(message.rfind("Rate limit reached for agent \"rpm3\" on requests per minute (rpm): "
                          "limit 3. Try again in ",
                          0),
            0u)
      << message;
  const int64_t retry_after = header_int(refused, "retry-after");
  EXPECT_GE(retry_after, 1) << refused->describe();
  EXPECT_LE(retry_after, 20);
  EXPECT_NE(message.find("Try again in " + std::to_string(retry_after) + "s."), std::string::npos)
      << message;
  const int64_t retry_after_ms = header_int(refused, "retry-after-ms");
  EXPECT_GT(retry_after_ms, (retry_after - 1) * 1000);
  EXPECT_LE(retry_after_ms, retry_after * 1000);
  EXPECT_EQ(refused->header("x-ratelimit-limit-requests"), "3");
  EXPECT_EQ(refused->header("x-ratelimit-remaining-requests"), "0");
  EXPECT_FALSE(refused->header("x-ratelimit-reset-requests").empty());
  EXPECT_FALSE(refused->header("x-request-id").empty());

  EXPECT_EQ(upstream_requests(), 3u) << "the refused request must not reach the provider";
  EXPECT_TRUE(eventually([&] { return rate_limited("rpm3", "rpm") == 1; }, 5s))
      << rate_limited("rpm3", "rpm");
  EXPECT_EQ(rate_limited("rpm3", "tpm"), 0);
}

TEST_F(RateLimitTest, UnlimitedAgentsGetNoRateLimitHeaders) {
  auto r = chat(kBobKey);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_FALSE(r->has_header("x-ratelimit-limit-requests"));
  EXPECT_FALSE(r->has_header("x-ratelimit-limit-tokens"));
}

TEST_F(RateLimitTest, AStreamedResponseCarriesTheHeadersToo) {
  HttpClient c = sluice.client();
  StreamResult s = c.stream_post("/v1/chat/completions",
                                 chat_body(kFastModel, "stream me please", true), bearer(kRpmKey));
  ASSERT_TRUE(s.head) << s.describe();
  EXPECT_EQ(s.head->status, 200);
  EXPECT_TRUE(s.complete) << s.describe();
  EXPECT_EQ(s.head->header("x-ratelimit-limit-requests"), "3");
  EXPECT_EQ(s.head->header("x-ratelimit-remaining-requests"), "2");
}

TEST_F(RateLimitTest, TpmReservesAtAdmissionAndReconcilesWithTheReportedUsage) {
  // A: max_tokens 900 on a slow reply, so that it is in flight while B asks.
  const std::string body_a = chat_body_max_tokens("first question", 900);
  std::optional<HttpResponse> a;
  std::thread in_flight([&] { a = chat(kTpmKey, body_a, {{"x-mock-behavior", "slow:1500"}}); });
  ASSERT_TRUE(eventually([&] { return upstream_requests() == 1; }, 20s)) << sluice.describe();

  // B would need another 900 + prompt: more than the 1000/min left.
  auto b = chat(kTpmKey, chat_body_max_tokens("second question", 900));
  ASSERT_TRUE(is_openai_error(b, 429, "rate_limit_exceeded"));
  const std::string message = (*b->json())["error"]["message"].str();
  EXPECT_NE(message.find("on tokens per minute (tpm): limit 1000"), std::string::npos) << message;
  EXPECT_NE(message.find("+ max_tokens 900)"), std::string::npos) << message;
  EXPECT_EQ(b->header("x-ratelimit-limit-tokens"), "1000");
  EXPECT_LT(header_int(b, "x-ratelimit-remaining-tokens"), 900);
  EXPECT_GE(header_int(b, "retry-after"), 1);
  EXPECT_FALSE(b->has_header("x-ratelimit-limit-requests"));  // tpm has no rpm

  in_flight.join();
  ASSERT_TRUE(a) << sluice.describe();
  ASSERT_EQ(a->status, 200) << a->describe();
  // A was the bucket's first use: what is left is exactly the limit minus its reservation.
  EXPECT_EQ(header_int(a, "x-ratelimit-remaining-tokens"),
            static_cast<int64_t>(1000 - 900 - prompt_estimate(body_a)));
  EXPECT_EQ(upstream_requests(), 1u) << "B must not reach the provider";
  EXPECT_TRUE(eventually([&] { return rate_limited("tpm", "tpm") == 1; }, 5s));

  // A used a handful of tokens (the mock reports usage by words), not 900: reconciled at its
  // end, the bucket gives the rest back and the same big request fits again at once. (Without
  // the reconcile it would wait most of a minute.)
  const std::string body_c = chat_body_max_tokens("third question", 900);
  auto c = chat_after_completion(kTpmKey, body_c);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->status, 200) << c->describe();
  const int64_t reserved_c = static_cast<int64_t>(900 + prompt_estimate(body_c));
  EXPECT_GE(header_int(c, "x-ratelimit-remaining-tokens"), 1000 - reserved_c - 50) << c->describe();
  EXPECT_EQ(upstream_requests(), 2u);
}

TEST_F(RateLimitTest, ARequestThatNeverReachedAProviderGivesItsTokensBack) {
  // Admitted by rate_limit, then refused by model_alias (unknown model): nothing was used.
  for (int i = 0; i < 3; ++i) {
    auto nope = chat_after_completion(kTpmKey, chat_body_max_tokens("x", 900, "no-such-model"));
    ASSERT_TRUE(nope);
    ASSERT_EQ(nope->status, 404) << nope->describe();
    EXPECT_EQ(nope->header("x-ratelimit-limit-tokens"), "1000");  // even on another's refusal
  }
  auto r = chat_after_completion(kTpmKey, chat_body_max_tokens("now a real one", 900));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(upstream_requests(), 1u);
}

TEST_F(RateLimitTest, ConcurrentOneRefusesTheSecondWhileTheFirstIsInFlight) {
  // A long delay so the first is surely still in flight when the second arrives, however
  // loaded the machine is.
  std::optional<HttpResponse> first;
  std::thread slow([&] {
    first = chat(kSingleKey, chat_body(kFastModel, "slow one"), {{"x-mock-behavior", "slow:3000"}});
  });
  ASSERT_TRUE(eventually([&] { return upstream_requests() == 1; }, 20s)) << sluice.describe();

  auto second = chat(kSingleKey);
  ASSERT_TRUE(is_openai_error(second, 429, "rate_limit_exceeded"));
  EXPECT_EQ((*second->json())["error"]["message"].str(),
            "Rate limit reached for agent \"single\" on concurrent requests (concurrent): limit 1 "
            "in flight. Try again in 1s.");
  EXPECT_EQ(second->header("retry-after"), "1");
  EXPECT_FALSE(second->has_header("x-ratelimit-limit-requests"));  // no rpm/tpm to report

  slow.join();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200) << first->describe();
  auto third = chat_after_completion(kSingleKey, chat_body(kFastModel, "hello there"));
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 200) << third->describe();
  EXPECT_EQ(upstream_requests(), 2u);
  EXPECT_TRUE(eventually([&] { return rate_limited("single", "concurrent") >= 1; }, 5s));
}

TEST_F(RateLimitTest, AReloadThatRaisesRpmKeepsTheUsageSoFar) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(chat(kRpmKey)->status, 200);
  ASSERT_EQ(chat(kRpmKey)->status, 429);

  sluice.dir().write("sluice.yaml", yaml(5));
  auto reload = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(reload) << sluice.describe();
  ASSERT_EQ(reload->status, 200) << reload->describe();

  auto r = chat(kRpmKey);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->header("x-ratelimit-limit-requests"), "5");
  // 3 used before the reload + this one, of 5 (a fresh bucket would say 4; the refill at
  // 5/min adds one every 12 s).
  EXPECT_LE(header_int(r, "x-ratelimit-remaining-requests"), 2) << r->describe();
  int more = 0;
  while (more < 10 && chat(kRpmKey)->status == 200) ++more;
  EXPECT_LE(more, 2);
  auto refused = chat(kRpmKey);
  ASSERT_TRUE(is_openai_error(refused, 429, "rate_limit_exceeded"));
  EXPECT_NE((*refused->json())["error"]["message"].str().find("(rpm): limit 5."),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::test
