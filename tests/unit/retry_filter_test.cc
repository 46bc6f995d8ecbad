// The retry filter's decision after each attempt, as the session (and so the client) meets
// it: which failures are retried, where (same target or the next one), after how long, when
// it gives up (attempts, retry_on, a started response, retry-after above backoff.max, the
// retry budget), what it counts on sluice_retries_total — and its config errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/config/node_reader.h"
#include "core/filter/registry.h"
#include "core/filter/request_context.h"
#include "core/metrics/metrics.h"
#include "core/state/retry_budget.h"
#include "filters/retry/backoff.h"
#include "filters/retry/retry_filter.h"
#include "filters/retry/retry_policy.h"

namespace sluice {
namespace {

using filter::AttemptDecision;
using filter::AttemptOutcome;
using filter::AttemptResult;
using filters::retry::RetryFactory;
using filters::retry::RetryPolicy;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

// ---- config ----------------------------------------------------------------------------------

RetryPolicy parse(const std::string& yaml) {
  config::NodeReader reader(YAML::Load(yaml), "filters[2].retry", "sluice.yaml");
  return filters::retry::parse_retry_policy(reader);
}

std::string parse_error(const std::string& yaml) {
  try {
    parse(yaml);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(RetryConfig, Defaults) {
  RetryPolicy p = parse("{}");
  EXPECT_EQ(p.attempts, 3u);
  for (bool on : p.retry_on) EXPECT_TRUE(on);
  EXPECT_EQ(p.backoff_base, milliseconds(100));
  EXPECT_EQ(p.backoff_max, milliseconds(2000));
  EXPECT_TRUE(p.respect_retry_after);
  EXPECT_TRUE(p.fallback);
  EXPECT_DOUBLE_EQ(p.budget_ratio, 0.2);
  EXPECT_EQ(p.budget_min_retries, 3u);
}

TEST(RetryConfig, TheDocumentedShape) {
  RetryPolicy p = parse(
      "{attempts: 5, retry_on: [timeout, 429], backoff: {base: 250ms, max: 10s}, "
      "respect_retry_after: false, fallback: false, budget: {ratio: 0.5, min_retries: 0}}");
  EXPECT_EQ(p.attempts, 5u);
  EXPECT_FALSE(p.retries(filters::retry::Reason::ConnectFailure));
  EXPECT_FALSE(p.retries(filters::retry::Reason::Reset));
  EXPECT_TRUE(p.retries(filters::retry::Reason::Timeout));
  EXPECT_FALSE(p.retries(filters::retry::Reason::Status5xx));
  EXPECT_TRUE(p.retries(filters::retry::Reason::Status429));
  EXPECT_EQ(p.backoff_base, milliseconds(250));
  EXPECT_EQ(p.backoff_max, milliseconds(10000));
  EXPECT_FALSE(p.respect_retry_after);
  EXPECT_FALSE(p.fallback);
  EXPECT_DOUBLE_EQ(p.budget_ratio, 0.5);
  EXPECT_EQ(p.budget_min_retries, 0u);
}

TEST(RetryConfig, ScalarRetryOnAndEqualBackoffAreAccepted) {
  RetryPolicy p = parse("{retry_on: 5xx, backoff: {base: 1s, max: 1s}}");
  EXPECT_TRUE(p.retries(filters::retry::Reason::Status5xx));
  EXPECT_FALSE(p.retries(filters::retry::Reason::Timeout));
  EXPECT_EQ(p.backoff_base, p.backoff_max);
}

struct Refused {
  const char* yaml;
  const char* message;  // a part of the error
};

class RetryConfigRefused : public ::testing::TestWithParam<Refused> {};

TEST_P(RetryConfigRefused, FailsTheLoad) {
  EXPECT_THAT(parse_error(GetParam().yaml), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    BadShapes, RetryConfigRefused,
    ::testing::Values(
        Refused{"{attempts: 0}", "filters[2].retry.attempts: must be from 1 to 10, got 0"},
        Refused{"{attempts: 11}", "must be from 1 to 10, got 11"},
        Refused{"{attempts: two}", "expected an integer from 1 to 10"},
        Refused{"{retry_on: [5xx, timout]}", "did you mean \"timeout\""},
        Refused{"{retry_on: [500]}",
                "unknown value \"500\"; expected one of: connect_failure, reset, timeout, 5xx, "
                "429"},
        Refused{"{retry_on: []}", "filters[2].retry.retry_on: must name at least one failure"},
        Refused{"{retry_on: {a: b}}", "expected a list of strings"},
        Refused{"{backoff: {base: 2s, max: 100ms}}",
                "filters[2].retry.backoff.max: backoff.max (100ms) must not be below "
                "backoff.base (2s)"},
        Refused{"{backoff: {base: 5s}}",
                "filters[2].retry.backoff.base: backoff.max (2s, the default) must not be below "
                "backoff.base (5s)"},
        Refused{"{backoff: {base: 100}}", "filters[2].retry.backoff.base: expected a duration"},
        Refused{"{backoff: {bsae: 1s}}", "did you mean \"base\""},
        Refused{"{attemps: 3}", "did you mean \"attempts\""},
        Refused{"{respect_retry_after: maybe}", "filters[2].retry.respect_retry_after"},
        Refused{"{fallback: 1s}", "filters[2].retry.fallback"},
        Refused{"{budget: {ratio: 1.5}}", "filters[2].retry.budget.ratio: must be from 0 to 1"},
        Refused{"{budget: {min_retries: -1}}", "filters[2].retry.budget.min_retries"},
        Refused{"{budget: {ration: 0.1}}", "did you mean \"ratio\""}));

TEST(RetryConfig, IsRegisteredAsTheRealFilter) {
  const filter::FilterBuilder* builder = filter::FilterRegistry::global().find("retry");
  ASSERT_NE(builder, nullptr);
  config::Config c;
  config::NodeReader reader(YAML::Load("{attempts: 2}"), "filters[2].retry", "sluice.yaml");
  ::testing::internal::CaptureStderr();
  auto factory = (*builder)(reader, c);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), Not(HasSubstr("not active")));
  EXPECT_EQ(factory->name(), "retry");
  // Not a pass-through: a 500 on the first of two attempts is retried.
  filter::RequestContext ctx;
  filter::Filter* f = factory->create(ctx);
  EXPECT_EQ(f->on_request(ctx), filter::RequestStatus::Continue);
  AttemptOutcome outcome;
  outcome.result = AttemptResult::HttpError;
  outcome.status = 500;
  EXPECT_EQ(f->on_attempt_done(ctx, outcome), AttemptDecision::Retry);
  f->on_complete(ctx);
}

// ---- decisions -------------------------------------------------------------------------------

config::Provider provider(const std::string& name) {
  config::Provider p;
  p.name = name;
  p.type = "openai";
  return p;
}

// Two providers (a, b), private metrics and budget, one filter instance per request.
class RetryDecision : public ::testing::Test {
 protected:
  RetryDecision() {
    config.providers.emplace("a", provider("a"));
    config.providers.emplace("b", provider("b"));
    on_a.provider = &config.providers.at("a");
    on_b.provider = &config.providers.at("b");
  }

  void build(const std::string& yaml) {
    factory = std::make_unique<RetryFactory>(parse(yaml), config, metrics, budget);
  }

  // A request through the filter: on_request, then one outcome per call of `after`.
  struct Request {
    filter::RequestContext ctx;
    filter::Filter* filter = nullptr;
  };
  std::unique_ptr<Request> start() {
    auto r = std::make_unique<Request>();
    r->filter = factory->create(r->ctx);
    EXPECT_EQ(r->filter->on_request(r->ctx), filter::RequestStatus::Continue);
    return r;
  }
  AttemptDecision after(Request& r, const AttemptOutcome& outcome) {
    r.ctx.retry_delay = milliseconds(0);  // what the session does before each decision
    return r.filter->on_attempt_done(r.ctx, outcome);
  }
  void complete(Request& r) { r.filter->on_complete(r.ctx); }

  // One request, one outcome: the decision and the delay asked for.
  std::pair<AttemptDecision, milliseconds> decide(const AttemptOutcome& outcome) {
    auto r = start();
    AttemptDecision d = after(*r, outcome);
    milliseconds delay = r->ctx.retry_delay;
    complete(*r);
    return {d, delay};
  }

  AttemptOutcome failed(AttemptResult result, int status = 0, uint32_t attempt = 1,
                        bool more_candidates = false) {
    AttemptOutcome o;
    o.result = result;
    o.status = status;
    o.attempt = attempt;
    o.candidate = &on_a;
    o.more_candidates = more_candidates;
    return o;
  }

  double retries_counted(const std::string& provider_name, const std::string& reason) {
    return metrics.retries_total.Add({{"provider", provider_name}, {"reason", reason}}).Value();
  }

  config::Config config;
  filter::Candidate on_a, on_b;
  metrics::Metrics metrics;
  state::RetryBudget budget;
  std::unique_ptr<RetryFactory> factory;
};

TEST_F(RetryDecision, SuccessIsNoneOfItsBusiness) {
  build("{}");
  AttemptOutcome ok;
  ok.candidate = &on_a;
  ok.status = 200;
  EXPECT_EQ(decide(ok).first, AttemptDecision::Default);
  // A 4xx that reached on_attempt_done as an HttpError is no failure retry_on knows either.
  EXPECT_EQ(decide(failed(AttemptResult::HttpError, 404)).first, AttemptDecision::Default);
}

struct Mapping {
  AttemptResult result;
  int status;
  const char* reason;
};

class RetryReasonMapping : public RetryDecision, public ::testing::WithParamInterface<Mapping> {};

TEST_P(RetryReasonMapping, RetriesAndCountsUnderItsRetryOnName) {
  build("{}");
  auto [d, delay] = decide(failed(GetParam().result, GetParam().status));
  EXPECT_EQ(d, AttemptDecision::Retry);
  EXPECT_EQ(retries_counted("a", GetParam().reason), 1);
  // Listed alone, the reason is retried; with every other reason listed, it is not.
  build(std::string("{retry_on: [") + GetParam().reason + "]}");
  EXPECT_EQ(decide(failed(GetParam().result, GetParam().status)).first, AttemptDecision::Retry);
  std::string others;
  for (const char* name : {"connect_failure", "reset", "timeout", "5xx", "429"}) {
    if (std::string(name) == GetParam().reason) continue;
    others += (others.empty() ? "" : ", ") + std::string(name);
  }
  build("{retry_on: [" + others + "]}");
  EXPECT_EQ(decide(failed(GetParam().result, GetParam().status)).first, AttemptDecision::GiveUp);
  EXPECT_EQ(retries_counted("a", GetParam().reason), 2);  // the refusal counted nothing
}

INSTANTIATE_TEST_SUITE_P(EveryFailure, RetryReasonMapping,
                         ::testing::Values(Mapping{AttemptResult::ConnectFailure, 0,
                                                   "connect_failure"},
                                           Mapping{AttemptResult::Overloaded, 0, "connect_failure"},
                                           Mapping{AttemptResult::Reset, 0, "reset"},
                                           Mapping{AttemptResult::Protocol, 200, "reset"},
                                           Mapping{AttemptResult::Timeout, 0, "timeout"},
                                           Mapping{AttemptResult::HttpError, 500, "5xx"},
                                           Mapping{AttemptResult::HttpError, 503, "5xx"},
                                           Mapping{AttemptResult::HttpError, 429, "429"}));

TEST_F(RetryDecision, AttemptsCountsTheFirstAttempt) {
  build("{attempts: 3}");
  EXPECT_EQ(decide(failed(AttemptResult::HttpError, 500, 1)).first, AttemptDecision::Retry);
  EXPECT_EQ(decide(failed(AttemptResult::HttpError, 500, 2)).first, AttemptDecision::Retry);
  EXPECT_EQ(decide(failed(AttemptResult::HttpError, 500, 3)).first, AttemptDecision::GiveUp);
  build("{attempts: 1}");
  EXPECT_EQ(decide(failed(AttemptResult::HttpError, 500, 1, true)).first, AttemptDecision::GiveUp);
  EXPECT_EQ(retries_counted("a", "5xx"), 2);
}

TEST_F(RetryDecision, NeverAfterTheFirstByteWentDownstream) {
  build("{}");
  AttemptOutcome o = failed(AttemptResult::Reset, 200, 1, true);
  o.downstream_started = true;
  EXPECT_EQ(decide(o).first, AttemptDecision::GiveUp);
  EXPECT_EQ(retries_counted("a", "reset"), 0);
}

TEST_F(RetryDecision, FallsBackWithoutDelayWhileCandidatesRemain) {
  build("{}");
  auto [d, delay] = decide(failed(AttemptResult::HttpError, 500, 1, /*more=*/true));
  EXPECT_EQ(d, AttemptDecision::Fallback);
  EXPECT_EQ(delay, milliseconds(0));
  EXPECT_EQ(retries_counted("a", "5xx"), 1);
}

TEST_F(RetryDecision, RetriesTheSameTargetWhenNoneRemainsAfterBackoff) {
  build("{backoff: {base: 100ms, max: 2s}}");
  auto [d, delay] = decide(failed(AttemptResult::Timeout, 0, 1, /*more=*/false));
  EXPECT_EQ(d, AttemptDecision::Retry);
  EXPECT_GE(delay, milliseconds(1));
  EXPECT_LE(delay, milliseconds(100));  // the first retry's ceiling is base
}

TEST_F(RetryDecision, FallbackOffRetriesTheSameTargetEvenWithCandidatesLeft) {
  build("{fallback: false}");
  auto [d, delay] = decide(failed(AttemptResult::HttpError, 502, 1, /*more=*/true));
  EXPECT_EQ(d, AttemptDecision::Retry);
  EXPECT_GE(delay, milliseconds(1));
}

TEST_F(RetryDecision, RetryAfterWithinMaxIsTheDelayOfARetry) {
  build("{backoff: {base: 100ms, max: 2s}}");
  AttemptOutcome o = failed(AttemptResult::HttpError, 429, 1, /*more=*/false);
  o.retry_after = milliseconds(1500);
  auto [d, delay] = decide(o);
  EXPECT_EQ(d, AttemptDecision::Retry);
  EXPECT_EQ(delay, milliseconds(1500));
  o.retry_after = milliseconds(2000);  // equal to max: still waited for
  EXPECT_EQ(decide(o), std::make_pair(AttemptDecision::Retry, milliseconds(2000)));
  o.retry_after = milliseconds(0);  // "now": the 1 ms floor
  EXPECT_EQ(decide(o), std::make_pair(AttemptDecision::Retry, milliseconds(1)));
}

TEST_F(RetryDecision, RetryAfterDoesNotDelayAMoveToAnotherTarget) {
  build("{}");
  AttemptOutcome o = failed(AttemptResult::HttpError, 429, 1, /*more=*/true);
  o.retry_after = milliseconds(1000);
  EXPECT_EQ(decide(o), std::make_pair(AttemptDecision::Fallback, milliseconds(0)));
}

TEST_F(RetryDecision, RetryAfterAboveMaxMeansTheNextTargetOrGiveUp) {
  build("{backoff: {base: 100ms, max: 2s}}");
  AttemptOutcome o = failed(AttemptResult::HttpError, 429, 1, /*more=*/true);
  o.retry_after = milliseconds(2001);
  EXPECT_EQ(decide(o), std::make_pair(AttemptDecision::Fallback, milliseconds(0)));
  o.more_candidates = false;
  EXPECT_EQ(decide(o).first, AttemptDecision::GiveUp);
  build("{fallback: false}");
  o.more_candidates = true;
  EXPECT_EQ(decide(o).first, AttemptDecision::GiveUp);
  EXPECT_EQ(retries_counted("a", "429"), 1);
}

TEST_F(RetryDecision, RetryAfterIgnoredWhenNotRespected) {
  build("{respect_retry_after: false, backoff: {base: 50ms, max: 2s}}");
  AttemptOutcome o = failed(AttemptResult::HttpError, 503, 1, /*more=*/false);
  o.retry_after = milliseconds(60'000);
  auto [d, delay] = decide(o);
  EXPECT_EQ(d, AttemptDecision::Retry);
  EXPECT_LE(delay, milliseconds(50));
}

TEST_F(RetryDecision, CountsTheProviderThatFailed) {
  build("{}");
  AttemptOutcome o = failed(AttemptResult::HttpError, 500, 1, true);
  o.candidate = &on_b;
  decide(o);
  EXPECT_EQ(retries_counted("b", "5xx"), 1);
  EXPECT_EQ(retries_counted("a", "5xx"), 0);
}

TEST_F(RetryDecision, EveryCounterOfTheConfigExistsFromTheStart) {
  build("{retry_on: [5xx, 429]}");
  const std::string text = metrics.serialize();
  for (const char* line : {"sluice_retries_total{provider=\"a\",reason=\"5xx\"} 0",
                           "sluice_retries_total{provider=\"a\",reason=\"429\"} 0",
                           "sluice_retries_total{provider=\"b\",reason=\"5xx\"} 0",
                           "sluice_retries_total{provider=\"b\",reason=\"429\"} 0"}) {
    EXPECT_THAT(text, HasSubstr(line));
  }
  EXPECT_THAT(text, Not(HasSubstr("reason=\"timeout\"")));
}

// ---- the retry budget ------------------------------------------------------------------------

TEST_F(RetryDecision, NoBudgetNoRetry) {
  build("{budget: {ratio: 0, min_retries: 0}}");
  EXPECT_EQ(decide(failed(AttemptResult::HttpError, 500, 1, true)).first, AttemptDecision::GiveUp);
  EXPECT_EQ(decide(failed(AttemptResult::HttpError, 500, 1, false)).first, AttemptDecision::GiveUp);
  EXPECT_EQ(retries_counted("a", "5xx"), 0);
  EXPECT_EQ(budget.retrying(), 0u);
}

TEST_F(RetryDecision, BudgetSlotIsHeldUntilTheRetriedAttemptEnds) {
  build("{budget: {ratio: 0, min_retries: 1}}");
  auto first = start();
  auto second = start();
  EXPECT_EQ(budget.active(), 2u);
  EXPECT_EQ(after(*first, failed(AttemptResult::Reset, 0, 1, true)), AttemptDecision::Fallback);
  EXPECT_EQ(budget.retrying(), 1u);
  // The only slot is taken: the second request's failure goes to its client.
  EXPECT_EQ(after(*second, failed(AttemptResult::Reset, 0, 1, true)), AttemptDecision::GiveUp);
  // The first request's retried attempt ends (successfully): the slot is free again.
  AttemptOutcome ok;
  ok.candidate = &on_b;
  ok.attempt = 2;
  EXPECT_EQ(after(*first, ok), AttemptDecision::Default);
  EXPECT_EQ(budget.retrying(), 0u);
  EXPECT_EQ(after(*second, failed(AttemptResult::Reset, 0, 1, true)), AttemptDecision::Fallback);
  // The second request ends (client gone) while its retried attempt is out: slot given back.
  complete(*second);
  EXPECT_EQ(budget.retrying(), 0u);
  complete(*first);
  EXPECT_EQ(budget.active(), 0u);
}

TEST_F(RetryDecision, BudgetIsAShareOfActiveRequests) {
  build("{budget: {ratio: 0.2, min_retries: 0}}");
  std::vector<std::unique_ptr<Request>> requests;
  for (int i = 0; i < 10; ++i) requests.push_back(start());
  // 20% of 10 active requests: two retries in flight at most.
  std::vector<AttemptDecision> decisions;
  for (auto& r : requests) decisions.push_back(after(*r, failed(AttemptResult::Timeout, 0, 1)));
  EXPECT_EQ(std::count(decisions.begin(), decisions.end(), AttemptDecision::Retry), 2);
  EXPECT_EQ(std::count(decisions.begin(), decisions.end(), AttemptDecision::GiveUp), 8);
  EXPECT_EQ(retries_counted("a", "timeout"), 2);
  for (auto& r : requests) complete(*r);
  EXPECT_EQ(budget.active(), 0u);
  EXPECT_EQ(budget.retrying(), 0u);
}

TEST_F(RetryDecision, DefaultMinimumAllowsThreeRetriesWhateverTheLoad) {
  build("{}");
  std::vector<std::unique_ptr<Request>> requests;
  for (int i = 0; i < 4; ++i) requests.push_back(start());
  int retried = 0;
  for (auto& r : requests) {
    retried += after(*r, failed(AttemptResult::HttpError, 500, 1)) == AttemptDecision::Retry;
  }
  EXPECT_EQ(retried, 3);  // max(3, 0.2 × 4)
  for (auto& r : requests) complete(*r);
}

TEST_F(RetryDecision, ARequestAnsweredBeforeThisFilterIsNotCounted) {
  build("{}");
  filter::RequestContext ctx;
  filter::Filter* f = factory->create(ctx);
  f->on_complete(ctx);  // on_request never ran (an earlier filter replied)
  EXPECT_EQ(budget.active(), 0u);
}

// ---- backoff and jitter ----------------------------------------------------------------------

TEST(RetryBackoff, CeilingDoublesFromBaseUpToMax) {
  using filters::retry::backoff_ceiling;
  const milliseconds base(100), max(2000);
  EXPECT_EQ(backoff_ceiling(base, max, 0), milliseconds(100));
  EXPECT_EQ(backoff_ceiling(base, max, 1), milliseconds(200));
  EXPECT_EQ(backoff_ceiling(base, max, 2), milliseconds(400));
  EXPECT_EQ(backoff_ceiling(base, max, 4), milliseconds(1600));
  EXPECT_EQ(backoff_ceiling(base, max, 5), milliseconds(2000));
  EXPECT_EQ(backoff_ceiling(base, max, 1'000'000), milliseconds(2000));
  EXPECT_EQ(backoff_ceiling(milliseconds(0), max, 9), milliseconds(0));
  EXPECT_EQ(backoff_ceiling(max, max, 3), max);
  EXPECT_EQ(backoff_ceiling(milliseconds(1), milliseconds(86'400'000LL * 365), 200),
            milliseconds(86'400'000LL * 365));
}

TEST(RetryBackoff, FullJitterMapsOntoZeroToCeilingWithAOneMillisecondFloor) {
  using filters::retry::full_jitter;
  EXPECT_EQ(full_jitter(milliseconds(100), 0), milliseconds(1));
  EXPECT_EQ(full_jitter(milliseconds(100), 100), milliseconds(100));
  EXPECT_EQ(full_jitter(milliseconds(100), 101), milliseconds(1));  // 101 mod 101 = 0 → floor
  EXPECT_EQ(full_jitter(milliseconds(100), 57), milliseconds(57));
  EXPECT_EQ(full_jitter(milliseconds(0), 12345), milliseconds(1));
  EXPECT_LE(full_jitter(milliseconds(100), ~0ull), milliseconds(100));
}

TEST(RetryBackoff, DrawsSpreadOverTheWholeRange) {
  const milliseconds ceiling(1000);
  constexpr int kDraws = 20000;
  milliseconds lowest = ceiling, highest(0);
  double sum = 0;
  std::vector<int> deciles(10, 0);
  for (int i = 0; i < kDraws; ++i) {
    milliseconds d = filters::retry::jittered_backoff(milliseconds(250), ceiling, 2);
    ASSERT_GE(d, milliseconds(1));
    ASSERT_LE(d, ceiling);
    lowest = std::min(lowest, d);
    highest = std::max(highest, d);
    sum += static_cast<double>(d.count());
    ++deciles[std::min<int>(9, static_cast<int>(d.count() / 100))];
  }
  EXPECT_LT(lowest, milliseconds(10));
  EXPECT_GT(highest, milliseconds(990));
  EXPECT_NEAR(sum / kDraws, 500.0, 25.0);  // uniform: mean ≈ ceiling / 2
  for (int count : deciles) EXPECT_NEAR(count, kDraws / 10, kDraws / 40);
}

TEST(RetryBackoff, EachThreadHasItsOwnSequence) {
  std::vector<uint64_t> mine, theirs;
  for (int i = 0; i < 4; ++i) mine.push_back(filters::retry::thread_random());
  std::thread([&] {
    for (int i = 0; i < 4; ++i) theirs.push_back(filters::retry::thread_random());
  }).join();
  EXPECT_NE(mine, theirs);
}

TEST_F(RetryDecision, LaterRetriesWaitUpToTheDoubledCeiling) {
  build("{attempts: 10, backoff: {base: 100ms, max: 2s}}");
  milliseconds highest_second(0), highest_sixth(0);
  for (int i = 0; i < 500; ++i) {
    auto [d2, delay2] = decide(failed(AttemptResult::HttpError, 500, 2));
    ASSERT_EQ(d2, AttemptDecision::Retry);
    ASSERT_LE(delay2, milliseconds(200));
    highest_second = std::max(highest_second, delay2);
    auto [d6, delay6] = decide(failed(AttemptResult::HttpError, 500, 6));
    ASSERT_LE(delay6, milliseconds(2000));
    highest_sixth = std::max(highest_sixth, delay6);
  }
  EXPECT_GT(highest_second, milliseconds(100));  // above the first retry's ceiling
  EXPECT_GT(highest_sixth, milliseconds(1600));  // capped at max, not at 3.2 s
}

}  // namespace
}  // namespace sluice
