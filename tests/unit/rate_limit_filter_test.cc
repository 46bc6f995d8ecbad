// The rate_limit filter as an agent meets it, on a fake clock and a private ProcessState: the
// order of the checks (concurrent, rpm, tpm), what a refusal says and undoes, the x-ratelimit-*
// headers on every response of a limited agent, the tpm reservation and its reconcile in
// on_complete, and a reload that keeps usage while applying the new limits.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>
#include <vector>

#include "core/config/node_reader.h"
#include "core/filter/registry.h"
#include "core/filter/request_context.h"
#include "core/metrics/metrics.h"
#include "core/state/process_state.h"
#include "filters/rate_limit/rate_limit_filter.h"
#include "tests/unit/allocation_counter.h"

namespace sluice::filters::rate_limit {
namespace {

using namespace std::chrono_literals;
using filter::Endpoint;
using filter::RequestContext;
using filter::RequestStatus;
using ::testing::HasSubstr;

state::SteadyTime g_now = state::SteadyTime{} + 1000h;
state::SteadyTime fake_now() {
  return g_now;
}

config::Agent agent(std::string name, std::optional<uint32_t> rpm, std::optional<uint64_t> tpm,
                    std::optional<uint32_t> concurrent) {
  config::Agent a;
  a.name = std::move(name);
  a.limits.rpm = rpm;
  a.limits.tpm = tpm;
  a.limits.concurrent = concurrent;
  return a;
}

config::Config limits_config() {
  config::Config c;
  c.source_path = "sluice.yaml";
  c.agents.emplace("sofia", agent("sofia", 3, std::nullopt, std::nullopt));
  c.agents.emplace("tom", agent("tom", std::nullopt, 1000, std::nullopt));
  c.agents.emplace("cora", agent("cora", std::nullopt, std::nullopt, 1));
  c.agents.emplace("ada", agent("ada", 10, 1000, 1));
  c.agents.emplace("free", agent("free", std::nullopt, std::nullopt, std::nullopt));
  c.agents.emplace("big", agent("big", 1'000'000, 1'000'000'000, 100));
  return c;
}

// One request going through the filter: its context and its per-request filter object.
struct Call {
  std::unique_ptr<RequestContext> ctx = std::make_unique<RequestContext>();
  filter::Filter* filter = nullptr;
  RequestStatus status = RequestStatus::Continue;

  // A header the filter added ("" when absent).
  std::string header(std::string_view name) const {
    std::string_view all = ctx->extra_response_headers();
    std::string key = std::string(name) + ": ";
    for (size_t at = 0; at < all.size();) {
      size_t end = all.find("\r\n", at);
      std::string_view line = all.substr(at, end - at);
      if (line.substr(0, key.size()) == key) return std::string(line.substr(key.size()));
      at = end + 2;
    }
    return "";
  }
  bool refused() const { return status == RequestStatus::Respond; }
  const filter::LocalReply& reply() const { return ctx->local_reply(); }

  // The request ends: `attempts` upstream attempts, and `used` tokens reported (or none).
  void complete(uint32_t attempts = 1, std::optional<uint64_t> used = std::nullopt) {
    ctx->attempts = attempts;
    if (used) {
      ctx->usage.source = usage::Usage::Source::Reported;
      ctx->usage.input_tokens = *used / 2;
      ctx->usage.output_tokens = *used - *used / 2;
    }
    filter->on_complete(*ctx);
  }
};

class RateLimitFilterTest : public ::testing::Test {
 protected:
  void SetUp() override { g_now = state::SteadyTime{} + 1000h; }

  std::unique_ptr<filter::FilterFactory> make(const config::Config& c,
                                              RateLimitSettings settings = {}) {
    return make_rate_limit_factory(c, settings, states, &fake_now);
  }

  // Runs on_request for `who` (null: anonymous). `max_tokens` as the body sets it.
  static Call request(const filter::FilterFactory& factory, const config::Agent* who,
                      uint64_t prompt_tokens = 10, std::optional<int64_t> max_tokens = 0,
                      Endpoint endpoint = Endpoint::ChatCompletions) {
    Call call;
    call.ctx->endpoint = endpoint;
    call.ctx->fields.has_model = true;
    call.ctx->fields.model = "fast";
    call.ctx->fields.max_tokens = max_tokens;
    call.ctx->prompt_tokens_estimate = prompt_tokens;
    call.ctx->agent = who;
    call.filter = factory.create(*call.ctx);
    call.status = call.filter->on_request(*call.ctx);
    return call;
  }
  // The same for an agent of `config` by name, through `factory`.
  Call request(const char* agent_name, uint64_t prompt_tokens = 10,
               std::optional<int64_t> max_tokens = 0,
               Endpoint endpoint = Endpoint::ChatCompletions) {
    return request(*factory, who(agent_name), prompt_tokens, max_tokens, endpoint);
  }
  const config::Agent* who(const char* agent_name) const {
    return agent_name == nullptr ? nullptr : &config.agents.at(agent_name);
  }

  state::ProcessState states{nullptr};
  config::Config config = limits_config();
  std::unique_ptr<filter::FilterFactory> factory = make(config);
};

TEST_F(RateLimitFilterTest, AnonymousAndUnlimitedAgentsPassWithoutHeaders) {
  EXPECT_EQ(factory->name(), "rate_limit");
  for (const char* who : {static_cast<const char*>(nullptr), "free"}) {
    for (int i = 0; i < 10; ++i) {
      Call c = request(who);
      EXPECT_EQ(c.status, RequestStatus::Continue);
      EXPECT_EQ(c.ctx->extra_response_headers(), "");
      c.complete();
    }
  }
}

TEST_F(RateLimitFilterTest, RpmAdmitsTheLimitThenRefusesWithAPreciseAnswer) {
  Call first = request("sofia");
  ASSERT_EQ(first.status, RequestStatus::Continue);
  EXPECT_EQ(first.header("x-ratelimit-limit-requests"), "3");
  EXPECT_EQ(first.header("x-ratelimit-remaining-requests"), "2");
  EXPECT_EQ(first.header("x-ratelimit-reset-requests"), "20s");  // 3/min: 1 per 20 s
  EXPECT_EQ(first.header("x-ratelimit-limit-tokens"), "");       // sofia has no tpm
  EXPECT_EQ(first.header("retry-after"), "");                    // only on refusals
  EXPECT_EQ(request("sofia").header("x-ratelimit-remaining-requests"), "1");
  Call third = request("sofia");
  EXPECT_EQ(third.header("x-ratelimit-remaining-requests"), "0");
  EXPECT_EQ(third.header("x-ratelimit-reset-requests"), "1m0s");

  Call fourth = request("sofia");
  ASSERT_TRUE(fourth.refused());
  EXPECT_EQ(fourth.reply().status, 429);
  EXPECT_EQ(fourth.reply().type, "rate_limit_error");
  EXPECT_EQ(fourth.reply().code, "rate_limit_exceeded");
  EXPECT_EQ(fourth.reply().message,
            "Rate limit reached for agent \"sofia\" on requests per minute (rpm): limit 3. "
            "Try again in 20s.");
  EXPECT_EQ(fourth.header("retry-after"), "20");
  EXPECT_EQ(fourth.header("retry-after-ms"), "20000");
  EXPECT_EQ(fourth.header("x-ratelimit-limit-requests"), "3");
  EXPECT_EQ(fourth.header("x-ratelimit-remaining-requests"), "0");
  EXPECT_EQ(fourth.header("x-ratelimit-reset-requests"), "1m0s");
  fourth.complete(0);
}

TEST_F(RateLimitFilterTest, TheBucketRefillsContinuously) {
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(request("sofia").refused());
  ASSERT_TRUE(request("sofia").refused());
  g_now += 19s;
  Call early = request("sofia");
  ASSERT_TRUE(early.refused());
  EXPECT_EQ(early.header("retry-after"), "1");
  EXPECT_EQ(early.header("retry-after-ms"), "1000");
  g_now += 1s;  // 20 s: one request's worth has drained, not a new window of 3
  EXPECT_FALSE(request("sofia").refused());
  EXPECT_TRUE(request("sofia").refused());
}

TEST_F(RateLimitFilterTest, ConcurrentRefusesWhileTheOtherIsInFlight) {
  Call first = request("cora");
  ASSERT_EQ(first.status, RequestStatus::Continue);
  EXPECT_EQ(first.ctx->extra_response_headers(), "");  // no rpm/tpm: no x-ratelimit headers

  Call second = request("cora");
  ASSERT_TRUE(second.refused());
  EXPECT_EQ(second.reply().message,
            "Rate limit reached for agent \"cora\" on concurrent requests (concurrent): limit 1 "
            "in flight. Try again in 1s.");
  EXPECT_EQ(second.header("retry-after"), "1");
  EXPECT_EQ(second.header("retry-after-ms"), "1000");
  second.complete(0);  // the refused request's on_complete must not free the first one's slot
  EXPECT_TRUE(request("cora").refused());

  first.complete();
  Call third = request("cora");
  EXPECT_EQ(third.status, RequestStatus::Continue);
  third.complete();
}

TEST_F(RateLimitFilterTest, OnCompleteLeavesTheGateWhateverEndedTheRequest) {
  // Refused by a later filter (no attempt), client gone, upstream error: on_complete runs.
  for (uint32_t attempts : {0u, 1u, 3u}) {
    Call c = request("cora");
    ASSERT_EQ(c.status, RequestStatus::Continue) << attempts;
    c.ctx->client_gone = attempts == 1;
    c.complete(attempts);
  }
  EXPECT_EQ(states.agent("cora")->in_flight().inside(), 0u);
}

TEST_F(RateLimitFilterTest, ATpmRefusalGivesBackTheRpmTokenAndTheConcurrencySlot) {
  // ada: rpm 10, tpm 1000, concurrent 1.
  Call big = request("ada", 50, 900);  // reserves 950
  ASSERT_EQ(big.status, RequestStatus::Continue);
  EXPECT_EQ(big.header("x-ratelimit-remaining-requests"), "9");
  EXPECT_EQ(big.header("x-ratelimit-remaining-tokens"), "50");
  big.complete(1);  // sent, usage unknown: the reservation stays

  Call refused = request("ada", 50, 100);  // 150 > 50 left
  ASSERT_TRUE(refused.refused());
  EXPECT_EQ(refused.reply().message,
            "Rate limit reached for agent \"ada\" on tokens per minute (tpm): limit 1000, "
            "remaining 50; this request reserves 150 tokens (prompt ~50 + max_tokens 100). "
            "Try again in 6s.");
  EXPECT_EQ(refused.header("retry-after-ms"), "6000");               // 100 more at 1000/min
  EXPECT_EQ(refused.header("x-ratelimit-remaining-requests"), "9");  // refunded
  EXPECT_EQ(refused.header("x-ratelimit-remaining-tokens"), "50");
  EXPECT_EQ(states.agent("ada")->in_flight().inside(), 0u);  // left at the refusal already
  refused.complete(0);

  // The slot was left too: concurrent 1 admits the next one (which fits in 50 tokens).
  Call small = request("ada", 10, 40);
  EXPECT_EQ(small.status, RequestStatus::Continue);
  EXPECT_EQ(small.header("x-ratelimit-remaining-requests"), "8");
  small.complete(1, 50);
}

TEST_F(RateLimitFilterTest, AnRpmRefusalLeavesTheConcurrencySlot) {
  config::Config c;
  c.agents.emplace("one", agent("one", 1, std::nullopt, 1));
  config = c;
  factory = make(config);
  Call first = request("one");
  ASSERT_EQ(first.status, RequestStatus::Continue);
  first.complete();
  Call second = request("one");
  ASSERT_TRUE(second.refused());
  EXPECT_THAT(second.reply().message, HasSubstr("(rpm): limit 1. Try again in 60s."));
  EXPECT_EQ(states.agent("one")->in_flight().inside(), 0u);  // left at the refusal already
  second.complete(0);
  g_now += 60s;
  EXPECT_EQ(request("one").status, RequestStatus::Continue);  // not stuck at concurrent
}

TEST_F(RateLimitFilterTest, WithoutMaxTokensTheDefaultIsReserved) {
  Call c = request("tom", 20, std::nullopt);  // 20 + 4096 > 1000: clamped to the limit
  ASSERT_EQ(c.status, RequestStatus::Continue);
  EXPECT_EQ(c.header("x-ratelimit-limit-tokens"), "1000");
  EXPECT_EQ(c.header("x-ratelimit-remaining-tokens"), "0");
  EXPECT_EQ(c.header("x-ratelimit-reset-tokens"), "1m0s");
  EXPECT_EQ(c.header("x-ratelimit-limit-requests"), "");  // tom has no rpm
  c.complete(0);

  auto small_default = make(config, RateLimitSettings{100});
  Call d = request(*small_default, who("tom"), 20, std::nullopt);
  EXPECT_EQ(d.header("x-ratelimit-remaining-tokens"), "880");
  Call e = request(*small_default, who("tom"), 800, std::nullopt);
  ASSERT_TRUE(e.refused());
  EXPECT_EQ(e.reply().message,
            "Rate limit reached for agent \"tom\" on tokens per minute (tpm): limit 1000, "
            "remaining 880; this request reserves 900 tokens (prompt ~800 + 100 for the "
            "completion, as the request sets no max_tokens). Try again in 2s.");
}

TEST_F(RateLimitFilterTest, AReservationAboveTheLimitIsClampedSoItPassesWhenIdle) {
  Call huge = request("tom", 10, 5000);
  ASSERT_EQ(huge.status, RequestStatus::Continue);
  EXPECT_EQ(huge.header("x-ratelimit-remaining-tokens"), "0");
  Call next = request("tom", 10, 5000);
  ASSERT_TRUE(next.refused());
  EXPECT_THAT(next.reply().message,
              HasSubstr("this request reserves 1000 tokens (prompt ~10 + max_tokens 5000, "
                        "capped at the limit). Try again in 60s."));
  // Then it used 3000: the bucket is in debt for 3 minutes.
  huge.complete(1, 3000);
  Call after = request("tom", 1, 1);
  ASSERT_TRUE(after.refused());
  EXPECT_EQ(after.header("x-ratelimit-reset-tokens"), "3m0s");
  g_now += 2min;
  EXPECT_TRUE(request("tom", 1, 1).refused());
  g_now += 1s;
  EXPECT_FALSE(request("tom", 1, 1).refused());
}

TEST_F(RateLimitFilterTest, ReconcileChargesWhatWasUsed) {
  Call c = request("tom", 50, 900);  // reserves 950
  ASSERT_EQ(c.header("x-ratelimit-remaining-tokens"), "50");
  c.complete(1, 30);
  // The next request sees 1000 - 30 left (same instant: no refill).
  Call next = request("tom", 0, 0);
  EXPECT_EQ(next.header("x-ratelimit-remaining-tokens"), "970");
  EXPECT_EQ(next.header("x-ratelimit-reset-tokens"), "1.8s");
}

TEST_F(RateLimitFilterTest, NoAttemptRefundsTheWholeReservation) {
  Call c = request("tom", 50, 900);
  c.complete(0);  // e.g. model_alias answered 404 after rate_limit admitted it
  EXPECT_EQ(request("tom", 0, 0).header("x-ratelimit-remaining-tokens"), "1000");
}

TEST_F(RateLimitFilterTest, NoAttemptRefundsEvenIfAStaleUsageIsThere) {
  Call c = request("tom", 50, 900);
  c.complete(0, 10);  // no provider was asked: a usage here cannot be this request's
  EXPECT_EQ(request("tom", 0, 0).header("x-ratelimit-remaining-tokens"), "1000");
}

TEST_F(RateLimitFilterTest, AttemptedWithUnknownUsageKeepsTheReservation) {
  Call c = request("tom", 50, 900);
  c.complete(2);
  EXPECT_EQ(request("tom", 0, 0).header("x-ratelimit-remaining-tokens"), "50");
}

TEST_F(RateLimitFilterTest, ReconcilesOnlyOnce) {
  Call c = request("tom", 50, 900);  // reserves 950
  c.complete(1, 600);
  c.complete(1, 600);  // a second call must not refund the 350 again
  EXPECT_EQ(request("tom", 0, 0).header("x-ratelimit-remaining-tokens"), "400");
}

TEST_F(RateLimitFilterTest, LeavesTheGateOnlyOnce) {
  Call c = request("cora");
  ASSERT_EQ(c.status, RequestStatus::Continue);
  c.complete();
  c.complete();  // leaving twice would wrap the counter and lock the agent out
  EXPECT_EQ(states.agent("cora")->in_flight().inside(), 0u);
  Call next = request("cora");
  EXPECT_EQ(next.status, RequestStatus::Continue);
  EXPECT_TRUE(request("cora").refused());  // and the gate still counts
  next.complete();
}

TEST_F(RateLimitFilterTest, EmbeddingsReserveThePromptOnly) {
  Call c = request("tom", 40, std::nullopt, Endpoint::Embeddings);
  EXPECT_EQ(c.header("x-ratelimit-remaining-tokens"), "960");
}

TEST_F(RateLimitFilterTest, ThePromptIsEstimatedFromTheBodyWhenTheSessionDidNot) {
  http::HttpRequest body_only;
  body_only.body.assign(400, 'x');  // ~100 tokens
  Call c;
  c.ctx->endpoint = Endpoint::ChatCompletions;
  c.ctx->fields.max_tokens = 0;
  c.ctx->request = &body_only;
  c.ctx->agent = &config.agents.at("tom");
  c.filter = factory->create(*c.ctx);
  c.status = c.filter->on_request(*c.ctx);
  EXPECT_EQ(c.header("x-ratelimit-remaining-tokens"), "900");
}

TEST_F(RateLimitFilterTest, ModelsListCountsAgainstNothingButCarriesTheHeaders) {
  for (int i = 0; i < 5; ++i) {
    Call c = request("ada", 0, std::nullopt, Endpoint::Models);
    ASSERT_EQ(c.status, RequestStatus::Continue);
    EXPECT_EQ(c.header("x-ratelimit-remaining-requests"), "10");
    EXPECT_EQ(c.header("x-ratelimit-remaining-tokens"), "1000");
    EXPECT_EQ(c.header("x-ratelimit-reset-requests"), "0s");
  }
  EXPECT_EQ(states.agent("ada")->in_flight().inside(), 0u);
}

TEST_F(RateLimitFilterTest, AReloadKeepsUsageAndAppliesTheNewLimit) {
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(request("sofia").refused());
  ASSERT_TRUE(request("sofia").refused());
  // The new config is a new Config object (new Agent addresses), the state is the same.
  config::Config raised = limits_config();
  raised.agents.at("sofia").limits.rpm = 5;
  auto reloaded = make(raised);
  const config::Agent* sofia = &raised.agents.at("sofia");
  Call fourth = request(*reloaded, sofia);
  ASSERT_EQ(fourth.status, RequestStatus::Continue);
  EXPECT_EQ(fourth.header("x-ratelimit-limit-requests"), "5");
  EXPECT_EQ(fourth.header("x-ratelimit-remaining-requests"), "1");  // 3 used before the reload
  EXPECT_FALSE(request(*reloaded, sofia).refused());
  Call sixth = request(*reloaded, sofia);
  ASSERT_TRUE(sixth.refused());
  EXPECT_THAT(sixth.reply().message, HasSubstr("(rpm): limit 5. Try again in 12s."));
}

TEST_F(RateLimitFilterTest, RefusalsAreCountedByLimit) {
  metrics::Metrics metrics;
  state::ProcessState counted(&metrics);
  auto f = make_rate_limit_factory(config, {}, counted, &fake_now);
  for (int i = 0; i < 5; ++i) request(*f, who("sofia"));  // 2 rpm refusals
  Call held = request(*f, who("cora"));
  request(*f, who("cora"));  // 1 concurrent refusal
  request(*f, who("tom"), 10, 5000);
  request(*f, who("tom"), 10, 5000);  // 1 tpm refusal
  const auto& sofia = counted.agent("sofia")->rate_limited();
  EXPECT_EQ(sofia.rpm->Value(), 2);
  EXPECT_EQ(sofia.tpm->Value(), 0);
  EXPECT_EQ(counted.agent("cora")->rate_limited().concurrent->Value(), 1);
  EXPECT_EQ(counted.agent("tom")->rate_limited().tpm->Value(), 1);
  EXPECT_THAT(metrics.serialize(),
              HasSubstr("sluice_rate_limited_total{agent=\"sofia\",limit=\"rpm\"} 2"));
  held.complete();
}

TEST_F(RateLimitFilterTest, AnAdmittedRequestAllocatesNothingOnceTheContextIsWarm) {
  // The session reuses one RequestContext per connection; the filter's per-request state goes
  // in its arena and its headers in its header block, whose capacities are kept.
  RequestContext ctx;
  auto one_request = [&] {
    ctx.endpoint = Endpoint::ChatCompletions;
    ctx.agent = who("big");
    ctx.prompt_tokens_estimate = 120;
    ctx.fields.max_tokens = 256;
    filter::Filter* f = factory->create(ctx);
    bool admitted = f->on_request(ctx) == RequestStatus::Continue;
    ctx.attempts = 1;
    ctx.usage.source = usage::Usage::Source::Reported;
    ctx.usage.input_tokens = 100;
    ctx.usage.output_tokens = 50;
    f->on_complete(ctx);
    ctx.reset();
    return admitted;
  };
  ASSERT_TRUE(one_request());
  ASSERT_TRUE(one_request());
  int admitted = 0;
  uint64_t allocations = 0;
  {
    test::AllocationWindow window;
    for (int i = 0; i < 100; ++i) admitted += one_request();
    allocations = window.allocations();
  }
  EXPECT_EQ(admitted, 100);
  EXPECT_EQ(allocations, 0u);
}

// ---- config ------------------------------------------------------------------------------

// Builds the registered filter at filters[<index>] of a chain of `types`, for config checks.
std::string build_log(const std::vector<std::string>& types, size_t index) {
  config::Config c = limits_config();
  for (size_t i = 0; i < types.size(); ++i) {
    config::FilterSpec spec;
    spec.type = types[i];
    spec.key_path = "filters[" + std::to_string(i) + "]." + types[i];
    c.filters.push_back(spec);
  }
  const filter::FilterBuilder* builder = filter::FilterRegistry::global().find("rate_limit");
  config::NodeReader reader(YAML::Load("{}"), c.filters[index].key_path, "sluice.yaml");
  ::testing::internal::CaptureStderr();
  (*builder)(reader, c);
  return ::testing::internal::GetCapturedStderr();
}

TEST(RateLimitConfig, WarnsWhenNoAuthFilterComesFirst) {
  const std::string warning = "no auth filter before rate_limit in the chain";
  EXPECT_THAT(build_log({"rate_limit", "model_alias"}, 0), HasSubstr(warning));
  EXPECT_THAT(build_log({"model_alias", "rate_limit", "auth"}, 1),
              HasSubstr("filters[1].rate_limit: " + warning));
  EXPECT_THAT(build_log({"auth", "rate_limit", "model_alias"}, 1),
              ::testing::Not(HasSubstr(warning)));
}

std::string build_error(const std::string& yaml) {
  const filter::FilterBuilder* builder = filter::FilterRegistry::global().find("rate_limit");
  if (builder == nullptr) return "rate_limit is not registered";
  config::Config c;
  config::NodeReader reader(YAML::Load(yaml), "filters[2].rate_limit", "sluice.yaml");
  try {
    (*builder)(reader, c);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(RateLimitConfig, AcceptsItsDocumentedShapes) {
  EXPECT_EQ(build_error("{}"), "<no error>");
  EXPECT_EQ(build_error("{default_max_tokens: 4096}"), "<no error>");
  EXPECT_EQ(build_error("{default_max_tokens: 0}"), "<no error>");
}

TEST(RateLimitConfig, RefusesWhatItDoesNotKnow) {
  EXPECT_THAT(build_error("{rpm: 5}"), HasSubstr("filters[2].rate_limit.rpm"));
  EXPECT_THAT(build_error("{default_max_token: 5}"),
              HasSubstr("did you mean \"default_max_tokens\""));
  EXPECT_THAT(build_error("{default_max_tokens: -1}"),
              HasSubstr("filters[2].rate_limit.default_max_tokens"));
  EXPECT_THAT(build_error("{default_max_tokens: lots}"),
              HasSubstr("filters[2].rate_limit.default_max_tokens"));
}

}  // namespace
}  // namespace sluice::filters::rate_limit
