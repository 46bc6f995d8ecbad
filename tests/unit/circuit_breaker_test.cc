// The circuit_breaker filter as the router and the session meet it: which candidates it lets
// through (concurrency cap, open circuit, the one half-open probe), which attempt outcomes
// count as the provider's failures, and that a probe never leaks when its request ends
// without a verdict. Real ProviderStates; the router and session are played by the test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/config/node_reader.h"
#include "core/filter/registry.h"
#include "core/filter/request_context.h"
#include "core/state/provider_state.h"
#include "filters/circuit_breaker/attempt_verdict.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using filter::AttemptDecision;
using filter::AttemptResult;
using filter::PickStatus;
using state::CircuitState;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

std::unique_ptr<filter::FilterFactory> build(const std::string& yaml) {
  const filter::FilterBuilder* builder = filter::FilterRegistry::global().find("circuit_breaker");
  if (builder == nullptr) throw std::runtime_error("circuit_breaker is not registered");
  config::Config c;
  config::NodeReader reader(YAML::Load(yaml), "filters[2].circuit_breaker", "sluice.yaml");
  return (*builder)(reader, c);
}

std::string build_error(const std::string& yaml) {
  try {
    build(yaml);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

// One upstream provider as the router offers it.
struct Upstream {
  explicit Upstream(const std::string& name) : state(name, nullptr, nullptr) {
    provider.name = name;
    provider.type = "openai";
    provider.circuit_breaker.consecutive_failures = 2;
    provider.circuit_breaker.open_for = 30s;
    provider.circuit_breaker.max_open_for = 5min;
    candidate.provider = &provider;
    candidate.physical_model = "m";
    candidate.state = &state;
  }
  const config::CircuitBreakerSettings& settings() const { return provider.circuit_breaker; }
  // Opened long enough ago that open_for has passed: the next pick is the half-open probe.
  void open_and_expire() {
    for (uint32_t i = 0; i < settings().consecutive_failures; ++i) {
      state.record_outcome(true, settings(), Clock::now() - 1h);
    }
    ASSERT_EQ(state.circuit(Clock::now()), CircuitState::HalfOpen);
  }
  // Opened just now: open for the next 30 s.
  void open_now() {
    for (uint32_t i = 0; i < settings().consecutive_failures; ++i) {
      state.record_outcome(true, settings(), Clock::now());
    }
    ASSERT_EQ(state.circuit(Clock::now()), CircuitState::Open);
  }

  config::Provider provider;
  state::ProviderState state;
  filter::Candidate candidate;
};

// One request going through the filter.
struct Request {
  explicit Request(const filter::FilterFactory& factory) : f(factory.create(ctx)) {}

  PickStatus pick(const Upstream& u) {
    reason = "<untouched>";
    return f->on_upstream_pick(ctx, u.candidate, &reason);
  }
  AttemptDecision done(const Upstream& u, AttemptResult result, int status = 0) {
    filter::AttemptOutcome outcome;
    outcome.result = result;
    outcome.status = status;
    outcome.candidate = &u.candidate;
    return f->on_attempt_done(ctx, outcome);
  }
  // A whole request to `u`: picked, attempted, ended.
  void attempt(const Upstream& u, AttemptResult result, int status = 0) {
    ASSERT_EQ(pick(u), PickStatus::Allow) << reason;
    EXPECT_EQ(done(u, result, status), AttemptDecision::Default);
    f->on_complete(ctx);
  }

  filter::RequestContext ctx;
  filter::Filter* f;
  std::string_view reason;
};

class CircuitBreakerFilterTest : public ::testing::Test {
 protected:
  std::unique_ptr<filter::FilterFactory> factory = build("{}");
  Upstream a{"a"};
  Upstream b{"b"};
};

// ---- config -------------------------------------------------------------------------------

TEST(CircuitBreakerConfig, TakesNoKeys) {
  EXPECT_EQ(build("{}")->name(), "circuit_breaker");
  EXPECT_EQ(build("~")->name(), "circuit_breaker");  // `- circuit_breaker:` with nothing after
}

TEST(CircuitBreakerConfig, AProviderSettingOnTheFilterSaysWhereItBelongs) {
  const std::string error = build_error("{open_for: 5s}");
  EXPECT_THAT(error, HasSubstr("filters[2].circuit_breaker.open_for"));
  EXPECT_THAT(error, HasSubstr("unknown key \"open_for\""));
  EXPECT_THAT(error, HasSubstr("providers.<name>.circuit_breaker"));
  EXPECT_THAT(build_error("{max_concurrent: 10}"), HasSubstr("providers.<name>.circuit_breaker"));
}

TEST(CircuitBreakerConfig, UnknownKeyFailsTheLoad) {
  EXPECT_THAT(build_error("{enabled: true}"), HasSubstr("unknown key \"enabled\""));
}

// ---- picks ----------------------------------------------------------------------------------

TEST_F(CircuitBreakerFilterTest, ClosedCircuitAllowsAndSaysNothing) {
  Request r(*factory);
  EXPECT_EQ(r.pick(a), PickStatus::Allow);
  EXPECT_EQ(r.reason, "<untouched>");
}

TEST_F(CircuitBreakerFilterTest, PerRequestStateLivesInTheRequestArena) {
  Request r1(*factory), r2(*factory);
  EXPECT_NE(r1.f, r2.f) << "each request has its own probe bookkeeping";
  const char* begin = reinterpret_cast<const char*>(&r1.ctx);
  const char* p = reinterpret_cast<const char*>(r1.f);
  EXPECT_TRUE(p >= begin && p < begin + sizeof r1.ctx)
      << "the filter is not in the context's inline arena (a heap allocation per request)";
}

TEST_F(CircuitBreakerFilterTest, AtMaxConcurrentTheCandidateIsOverloaded) {
  a.provider.circuit_breaker.max_concurrent = 2;
  Request r(*factory);
  a.state.attempt_started();
  EXPECT_EQ(r.pick(a), PickStatus::Allow);
  a.state.attempt_started();
  EXPECT_EQ(r.pick(a), PickStatus::Overloaded);
  EXPECT_EQ(r.reason, "at max_concurrent (2)");
  EXPECT_EQ(r.pick(b), PickStatus::Allow) << "the cap is per provider";
  a.state.attempt_finished();
  EXPECT_EQ(r.pick(a), PickStatus::Allow);
}

TEST_F(CircuitBreakerFilterTest, DefaultCapIs1024) {
  Request r(*factory);
  for (int i = 0; i < 1023; ++i) a.state.attempt_started();
  EXPECT_EQ(r.pick(a), PickStatus::Allow);
  a.state.attempt_started();
  EXPECT_EQ(r.pick(a), PickStatus::Overloaded);
  EXPECT_EQ(r.reason, "at max_concurrent (1024)");
}

TEST_F(CircuitBreakerFilterTest, ConsecutiveFailuresOpenTheCircuitAndItsCandidatesAreVetoed) {
  Request(*factory).attempt(a, AttemptResult::HttpError, 500);
  Request r(*factory);
  EXPECT_EQ(r.pick(a), PickStatus::Allow) << "one failure of two";
  EXPECT_EQ(r.done(a, AttemptResult::Reset), AttemptDecision::Default);
  r.f->on_complete(r.ctx);

  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::Open);
  Request next(*factory);
  EXPECT_EQ(next.pick(a), PickStatus::Veto);
  EXPECT_EQ(next.reason, "circuit open");
  EXPECT_EQ(next.pick(b), PickStatus::Allow) << "the other provider is untouched";
}

TEST_F(CircuitBreakerFilterTest, OverloadedIsCheckedBeforeTheCircuitAndTakesNoProbe) {
  a.provider.circuit_breaker.max_concurrent = 1;
  a.open_and_expire();
  a.state.attempt_started();
  Request r(*factory);
  EXPECT_EQ(r.pick(a), PickStatus::Overloaded);
  a.state.attempt_finished();
  Request probe(*factory);
  EXPECT_EQ(probe.pick(a), PickStatus::Allow) << "the probe slot is still free";
  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::HalfOpen);
}

// ---- which outcomes count ---------------------------------------------------------------------

struct Classified {
  AttemptResult result;
  int status;
  filters::circuit_breaker::Verdict verdict;
};

class AttemptVerdictTest : public ::testing::TestWithParam<Classified> {};

TEST_P(AttemptVerdictTest, Classifies) {
  filter::AttemptOutcome outcome;
  outcome.result = GetParam().result;
  outcome.status = GetParam().status;
  EXPECT_EQ(filters::circuit_breaker::verdict_of(outcome), GetParam().verdict)
      << filter::to_string(GetParam().result) << " " << GetParam().status;
}

using filters::circuit_breaker::Verdict;
INSTANTIATE_TEST_SUITE_P(
    EveryResult, AttemptVerdictTest,
    ::testing::Values(Classified{AttemptResult::Success, 200, Verdict::Healthy},
                      Classified{AttemptResult::Success, 404, Verdict::Healthy},
                      Classified{AttemptResult::HttpError, 400, Verdict::Healthy},
                      Classified{AttemptResult::HttpError, 404, Verdict::Healthy},
                      Classified{AttemptResult::HttpError, 429, Verdict::Failed},
                      Classified{AttemptResult::HttpError, 500, Verdict::Failed},
                      Classified{AttemptResult::HttpError, 503, Verdict::Failed},
                      Classified{AttemptResult::HttpError, 0, Verdict::Failed},
                      Classified{AttemptResult::ConnectFailure, 0, Verdict::Failed},
                      Classified{AttemptResult::Reset, 0, Verdict::Failed},
                      Classified{AttemptResult::Reset, 200, Verdict::Failed},  // cut mid-body
                      Classified{AttemptResult::Timeout, 0, Verdict::Failed},
                      Classified{AttemptResult::Protocol, 0, Verdict::Failed},
                      Classified{AttemptResult::Overloaded, 0, Verdict::NoVerdict}));

// Through the filter: each failing kind, twice in a row, opens the circuit.
class FailingKindTest : public CircuitBreakerFilterTest,
                        public ::testing::WithParamInterface<Classified> {};

TEST_P(FailingKindTest, TwiceInARowOpens) {
  Request(*factory).attempt(a, GetParam().result, GetParam().status);
  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::Closed);
  Request(*factory).attempt(a, GetParam().result, GetParam().status);
  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::Open);
}

INSTANTIATE_TEST_SUITE_P(
    Failures, FailingKindTest,
    ::testing::Values(Classified{AttemptResult::HttpError, 500, Verdict::Failed},
                      Classified{AttemptResult::HttpError, 429, Verdict::Failed},
                      Classified{AttemptResult::ConnectFailure, 0, Verdict::Failed},
                      Classified{AttemptResult::Reset, 0, Verdict::Failed},
                      Classified{AttemptResult::Timeout, 0, Verdict::Failed},
                      Classified{AttemptResult::Protocol, 0, Verdict::Failed}));

TEST_F(CircuitBreakerFilterTest, ASuccessOrAClientErrorResetsTheCount) {
  Request(*factory).attempt(a, AttemptResult::HttpError, 500);
  Request(*factory).attempt(a, AttemptResult::Success, 200);
  Request(*factory).attempt(a, AttemptResult::HttpError, 500);
  Request(*factory).attempt(a, AttemptResult::Success, 400);  // the request was bad
  Request(*factory).attempt(a, AttemptResult::HttpError, 503);
  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::Closed);
}

TEST_F(CircuitBreakerFilterTest, OurOwnPoolBeingFullCountsNeitherWay) {
  Request(*factory).attempt(a, AttemptResult::HttpError, 500);
  Request(*factory).attempt(a, AttemptResult::Overloaded);  // does not reset the count
  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::Closed);
  Request(*factory).attempt(a, AttemptResult::HttpError, 500);
  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::Open);
}

TEST_F(CircuitBreakerFilterTest, AlwaysLeavesTheDecisionToOthers) {
  for (AttemptResult result :
       {AttemptResult::Success, AttemptResult::HttpError, AttemptResult::ConnectFailure,
        AttemptResult::Reset, AttemptResult::Timeout, AttemptResult::Protocol,
        AttemptResult::Overloaded}) {
    Request r(*factory);
    r.pick(a);
    EXPECT_EQ(r.done(a, result, result == AttemptResult::HttpError ? 500 : 0),
              AttemptDecision::Default)
        << filter::to_string(result);
    r.f->on_complete(r.ctx);
  }
}

// ---- the half-open probe ----------------------------------------------------------------------

TEST_F(CircuitBreakerFilterTest, AfterOpenForOneRequestProbesOthersAreVetoed) {
  a.open_and_expire();
  Request probe(*factory);
  EXPECT_EQ(probe.pick(a), PickStatus::Allow);
  Request other(*factory);
  EXPECT_EQ(other.pick(a), PickStatus::Veto);
  EXPECT_EQ(other.reason, "circuit half-open, probe in flight");
  EXPECT_EQ(other.pick(b), PickStatus::Allow);
}

TEST_F(CircuitBreakerFilterTest, ProbeSuccessClosesTheCircuit) {
  a.open_and_expire();
  Request probe(*factory);
  ASSERT_EQ(probe.pick(a), PickStatus::Allow);
  EXPECT_EQ(probe.done(a, AttemptResult::Success, 200), AttemptDecision::Default);
  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::Closed);
  probe.f->on_complete(probe.ctx);
  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::Closed);
  Request next(*factory);
  EXPECT_EQ(next.pick(a), PickStatus::Allow);
}

TEST_F(CircuitBreakerFilterTest, ProbeFailureReopensTheCircuit) {
  a.open_and_expire();
  Request probe(*factory);
  ASSERT_EQ(probe.pick(a), PickStatus::Allow);
  probe.done(a, AttemptResult::HttpError, 502);
  probe.f->on_complete(probe.ctx);
  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::Open);
  Request next(*factory);
  EXPECT_EQ(next.pick(a), PickStatus::Veto);
  EXPECT_EQ(next.reason, "circuit open");
  // Re-opened for twice open_for (30 s → 60 s).
  EXPECT_GT(a.state.view(Clock::now()).open_remaining, 31s);
}

TEST_F(CircuitBreakerFilterTest, ProbeEndingWithoutAnAttemptIsHandedBack) {
  // The client went away after the pick: on_complete, no on_attempt_done.
  a.open_and_expire();
  {
    Request gone(*factory);
    ASSERT_EQ(gone.pick(a), PickStatus::Allow);
    gone.f->on_complete(gone.ctx);
  }
  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::HalfOpen);
  Request next(*factory);
  EXPECT_EQ(next.pick(a), PickStatus::Allow) << next.reason << ": the probe slot leaked";
  next.done(a, AttemptResult::Success, 200);
  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::Closed);
}

TEST_F(CircuitBreakerFilterTest, ProbeOverloadedInOurPoolIsHandedBack) {
  a.open_and_expire();
  Request probe(*factory);
  ASSERT_EQ(probe.pick(a), PickStatus::Allow);
  probe.done(a, AttemptResult::Overloaded);
  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::HalfOpen) << "no verdict";
  Request next(*factory);
  EXPECT_EQ(next.pick(a), PickStatus::Allow) << next.reason;
  probe.f->on_complete(probe.ctx);  // releases nothing more: `next` still holds it
  Request third(*factory);
  EXPECT_EQ(third.pick(a), PickStatus::Veto);
}

TEST_F(CircuitBreakerFilterTest, ProbeVetoedByALaterFilterIsHandedBackAtTheNextPick) {
  // The router asked us about `a` (probe granted), then a later filter vetoed it and the
  // router moved on to `b`: no attempt went to `a`, so its probe slot must be free again.
  a.open_and_expire();
  Request r(*factory);
  ASSERT_EQ(r.pick(a), PickStatus::Allow);
  EXPECT_EQ(r.pick(b), PickStatus::Allow);
  Request other(*factory);
  EXPECT_EQ(other.pick(a), PickStatus::Allow) << other.reason;
  // `r`'s attempt on b says nothing about a.
  r.done(b, AttemptResult::Success, 200);
  r.f->on_complete(r.ctx);
  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::HalfOpen);
  other.done(a, AttemptResult::Success, 200);
  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::Closed);
}

TEST_F(CircuitBreakerFilterTest, OlderAttemptsFinishingDuringTheProbeDoNotDecideIt) {
  Request older(*factory);
  ASSERT_EQ(older.pick(a), PickStatus::Allow);  // picked while closed, still running
  a.open_and_expire();
  Request probe(*factory);
  ASSERT_EQ(probe.pick(a), PickStatus::Allow);
  older.done(a, AttemptResult::Success, 200);  // not the probe: it does not close the circuit
  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::HalfOpen);
  probe.done(a, AttemptResult::Timeout);
  EXPECT_EQ(a.state.circuit(Clock::now()), CircuitState::Open);
}

}  // namespace
}  // namespace sluice
