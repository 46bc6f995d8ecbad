// Health checks without sockets: what one probe's answer counts as (probe_verdict.h) and the
// health state machine fed with injected verdicts (health_tracker.h).
#include <gtest/gtest.h>

#include <chrono>

#include "core/health/health_tracker.h"
#include "core/health/probe_verdict.h"
#include "core/state/provider_state.h"

namespace sluice::health {
namespace {

using state::HealthStatus;
using namespace std::chrono_literals;

config::HealthCheck settings(uint32_t unhealthy_after = 3, uint32_t healthy_after = 2) {
  config::HealthCheck hc;
  hc.unhealthy_after = unhealthy_after;
  hc.healthy_after = healthy_after;
  hc.slow_after = 2000ms;
  return hc;
}

ProbeResult answer(int status, std::chrono::milliseconds latency = 10ms) {
  ProbeResult r;
  r.answered = true;
  r.http_status = status;
  r.latency = latency;
  return r;
}

ProbeResult no_answer(const char* why) {
  ProbeResult r;
  r.error = why;
  return r;
}

// ---- verdict rules ------------------------------------------------------------------------

TEST(ProbeVerdict, AnyAnswerBelow500ExceptTooManyRequestsIsASuccess) {
  const auto hc = settings();
  for (int status : {200, 204, 301, 400, 401, 403, 404, 499}) {
    EXPECT_EQ(classify(answer(status), hc), ProbeVerdict::Success) << status;
  }
}

TEST(ProbeVerdict, ServerErrorsAndTooManyRequestsAreFailures) {
  const auto hc = settings();
  for (int status : {429, 500, 502, 503, 504, 599}) {
    EXPECT_EQ(classify(answer(status), hc), ProbeVerdict::Failure) << status;
  }
}

TEST(ProbeVerdict, NoAnswerIsAFailureWhateverTheReason) {
  const auto hc = settings();
  for (const char* why : {"connect_failure: refused", "timeout (first_byte)", "reset", ""}) {
    EXPECT_EQ(classify(no_answer(why), hc), ProbeVerdict::Failure) << why;
  }
}

TEST(ProbeVerdict, AnAnswerSlowerThanSlowAfterIsSlow) {
  const auto hc = settings();
  EXPECT_EQ(classify(answer(200, 2000ms), hc), ProbeVerdict::Success);  // at the limit: fine
  EXPECT_EQ(classify(answer(200, 2001ms), hc), ProbeVerdict::Slow);
  EXPECT_EQ(classify(answer(401, 5000ms), hc), ProbeVerdict::Slow);
  EXPECT_EQ(classify(answer(500, 5000ms), hc), ProbeVerdict::Failure);  // slow and failed
}

TEST(ProbeVerdict, DescribeSaysWhatHappened) {
  EXPECT_EQ(describe(answer(503, 12ms)), "HTTP 503 in 12ms");
  EXPECT_EQ(describe(no_answer("connect_failure: connection refused")),
            "connect_failure: connection refused");
  EXPECT_EQ(describe(no_answer("")), "no answer");
}

// ---- the state machine ------------------------------------------------------------------

TEST(HealthTracker, StartsUnknownAndTheFirstSuccessMakesItOk) {
  HealthTracker t;
  EXPECT_EQ(t.status(), HealthStatus::Unknown);
  auto tr = t.record(ProbeVerdict::Success, settings());
  EXPECT_EQ(tr.from, HealthStatus::Unknown);
  EXPECT_EQ(tr.to, HealthStatus::Ok);
  EXPECT_TRUE(tr.changed());
}

TEST(HealthTracker, DownOnlyAfterUnhealthyAfterConsecutiveFailures) {
  HealthTracker t;
  const auto hc = settings(/*unhealthy_after=*/3);
  t.record(ProbeVerdict::Success, hc);
  EXPECT_FALSE(t.record(ProbeVerdict::Failure, hc).changed());
  EXPECT_EQ(t.status(), HealthStatus::Ok);
  EXPECT_FALSE(t.record(ProbeVerdict::Failure, hc).changed());
  EXPECT_EQ(t.status(), HealthStatus::Ok);
  auto tr = t.record(ProbeVerdict::Failure, hc);
  EXPECT_EQ(tr.from, HealthStatus::Ok);
  EXPECT_EQ(tr.to, HealthStatus::Down);
  EXPECT_EQ(t.consecutive_failures(), 3u);
  EXPECT_FALSE(t.record(ProbeVerdict::Failure, hc).changed());  // stays down
  EXPECT_EQ(t.status(), HealthStatus::Down);
}

TEST(HealthTracker, AProviderNeverSeenUpGoesDownFromUnknown) {
  HealthTracker t;
  const auto hc = settings(/*unhealthy_after=*/2);
  t.record(ProbeVerdict::Failure, hc);
  EXPECT_EQ(t.status(), HealthStatus::Unknown);  // not proven down yet: still routed to
  t.record(ProbeVerdict::Failure, hc);
  EXPECT_EQ(t.status(), HealthStatus::Down);
}

TEST(HealthTracker, ASuccessBreaksTheRunOfFailures) {
  HealthTracker t;
  const auto hc = settings(/*unhealthy_after=*/3);
  for (int round = 0; round < 10; ++round) {  // fail, fail, ok, fail, fail, ok, ...
    t.record(ProbeVerdict::Failure, hc);
    t.record(ProbeVerdict::Failure, hc);
    t.record(ProbeVerdict::Success, hc);
  }
  EXPECT_EQ(t.status(), HealthStatus::Ok);
  EXPECT_EQ(t.consecutive_failures(), 0u);
}

TEST(HealthTracker, BackUpOnlyAfterHealthyAfterConsecutiveSuccesses) {
  HealthTracker t;
  const auto hc = settings(/*unhealthy_after=*/2, /*healthy_after=*/3);
  t.record(ProbeVerdict::Failure, hc);
  t.record(ProbeVerdict::Failure, hc);
  ASSERT_EQ(t.status(), HealthStatus::Down);
  EXPECT_FALSE(t.record(ProbeVerdict::Success, hc).changed());
  EXPECT_FALSE(t.record(ProbeVerdict::Success, hc).changed());
  EXPECT_EQ(t.status(), HealthStatus::Down);
  auto tr = t.record(ProbeVerdict::Success, hc);
  EXPECT_EQ(tr.from, HealthStatus::Down);
  EXPECT_EQ(tr.to, HealthStatus::Ok);
  EXPECT_EQ(t.consecutive_successes(), 3u);
}

TEST(HealthTracker, AFailureWhileRecoveringStartsTheCountAgain) {
  HealthTracker t;
  const auto hc = settings(/*unhealthy_after=*/1, /*healthy_after=*/2);
  t.record(ProbeVerdict::Failure, hc);
  ASSERT_EQ(t.status(), HealthStatus::Down);
  t.record(ProbeVerdict::Success, hc);
  t.record(ProbeVerdict::Failure, hc);
  t.record(ProbeVerdict::Success, hc);
  EXPECT_EQ(t.status(), HealthStatus::Down);  // never two successes in a row
  t.record(ProbeVerdict::Success, hc);
  EXPECT_EQ(t.status(), HealthStatus::Ok);
}

TEST(HealthTracker, SlowAnswersMakeItSlowAndAFastOneMakesItOkAgain) {
  HealthTracker t;
  const auto hc = settings();
  EXPECT_EQ(t.record(ProbeVerdict::Slow, hc).to, HealthStatus::Slow);
  EXPECT_EQ(t.record(ProbeVerdict::Slow, hc).to, HealthStatus::Slow);
  EXPECT_EQ(t.record(ProbeVerdict::Success, hc).to, HealthStatus::Ok);
  EXPECT_EQ(t.record(ProbeVerdict::Slow, hc).to, HealthStatus::Slow);
}

TEST(HealthTracker, SlowAnswersCountAsSuccessesWhenComingBack) {
  HealthTracker t;
  const auto hc = settings(/*unhealthy_after=*/1, /*healthy_after=*/2);
  t.record(ProbeVerdict::Failure, hc);
  t.record(ProbeVerdict::Slow, hc);
  EXPECT_EQ(t.status(), HealthStatus::Down);
  EXPECT_EQ(t.record(ProbeVerdict::Slow, hc).to, HealthStatus::Slow);  // up, but slow
}

TEST(HealthTracker, ChangedThresholdsApplyAtTheNextVerdict) {
  HealthTracker t;
  t.record(ProbeVerdict::Success, settings(5));
  t.record(ProbeVerdict::Failure, settings(5));
  t.record(ProbeVerdict::Failure, settings(5));
  EXPECT_EQ(t.status(), HealthStatus::Ok);
  // A reload lowered unhealthy_after to 3: the third failure in a row is enough.
  EXPECT_EQ(t.record(ProbeVerdict::Failure, settings(3)).to, HealthStatus::Down);
}

TEST(HealthTracker, StatusFeedsProviderStateAndItsUpGauge) {
  // What the prober does with a transition: ProviderState::set_health; Down is not routable.
  state::ProviderState provider("a", nullptr, nullptr);
  HealthTracker t;
  const auto hc = settings(/*unhealthy_after=*/1, /*healthy_after=*/1);
  auto tr = t.record(ProbeVerdict::Failure, hc);
  if (tr.changed()) provider.set_health(tr.to);
  EXPECT_FALSE(provider.routable());
  EXPECT_STREQ(state::to_string(provider.health()), "down");
  tr = t.record(ProbeVerdict::Success, hc);
  if (tr.changed()) provider.set_health(tr.to);
  EXPECT_TRUE(provider.routable());
  EXPECT_STREQ(state::to_string(provider.health()), "ok");
}

}  // namespace
}  // namespace sluice::health
