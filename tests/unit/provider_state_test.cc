// ProviderState's circuit state machine (core/state/provider_state.h), transition by
// transition, with explicit time points — the clock is an argument, so nothing sleeps:
// Closed →(consecutive_failures)→ Open →(open_for passed)→ HalfOpen, one probe →
// Closed (probe ok) or Open again for twice as long (probe failed), capped at max_open_for.
// Plus what /metrics shows (sluice_circuit_state: 0 closed, 1 half-open, 2 open) and that many
// workers at once open it once and hand out one probe.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/config/config.h"
#include "core/metrics/metrics.h"
#include "core/state/process_state.h"
#include "core/state/provider_state.h"

namespace sluice::state {
namespace {

using namespace std::chrono_literals;
using CircuitBreakerSettings = config::CircuitBreakerSettings;

constexpr bool kFailed = true;
constexpr bool kOk = false;

CircuitBreakerSettings settings(uint32_t failures = 3, config::Duration open_for = 10s,
                                config::Duration max_open_for = 60s) {
  CircuitBreakerSettings s;
  s.consecutive_failures = failures;
  s.open_for = open_for;
  s.max_open_for = max_open_for;
  return s;
}

// An arbitrary fixed origin: the tests only ever add to it.
const SteadyTime kT0 = SteadyTime(std::chrono::hours(1000));

class CircuitTest : public ::testing::Test {
 protected:
  void fail_times(int n, SteadyTime at) {
    for (int i = 0; i < n; ++i) provider.record_outcome(kFailed, cfg, at);
  }
  // Opens the circuit at `at` (from Closed).
  void open_at(SteadyTime at) {
    fail_times(static_cast<int>(cfg.consecutive_failures), at);
    ASSERT_EQ(provider.circuit(at), CircuitState::Open);
  }
  // The first pick at `at` gets the probe, and the probe fails there: re-opened at `at`.
  void probe_fails_at(SteadyTime at) {
    ASSERT_EQ(provider.circuit_pick(at), CircuitPick::Probe);
    provider.record_probe(kFailed, cfg, at);
    ASSERT_EQ(provider.circuit(at), CircuitState::Open);
  }
  // The circuit opened at `at` stays open for exactly `period`.
  void expect_open_for(SteadyTime at, config::Duration period) {
    EXPECT_EQ(provider.circuit_pick(at + period - 1ms), CircuitPick::RefuseOpen)
        << "still open 1 ms before " << period.count() << " ms";
    EXPECT_EQ(provider.circuit(at + period - 1ms), CircuitState::Open);
    EXPECT_EQ(provider.circuit(at + period), CircuitState::HalfOpen)
        << "half-open once " << period.count() << " ms have passed";
  }

  CircuitBreakerSettings cfg = settings();
  ProviderState provider{"a", nullptr, nullptr};
};

TEST_F(CircuitTest, StartsClosedAndAllowsEveryPick) {
  EXPECT_EQ(provider.circuit(kT0), CircuitState::Closed);
  EXPECT_TRUE(provider.circuit_closed());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(provider.circuit_pick(kT0), CircuitPick::Allow);
}

TEST_F(CircuitTest, FewerThanConsecutiveFailuresStaysClosed) {
  fail_times(2, kT0);  // N − 1
  EXPECT_EQ(provider.circuit(kT0), CircuitState::Closed);
  EXPECT_EQ(provider.circuit_pick(kT0), CircuitPick::Allow);
  EXPECT_EQ(provider.view(kT0).consecutive_failures, 2u);
}

TEST_F(CircuitTest, ASuccessResetsTheCount) {
  fail_times(2, kT0);
  provider.record_outcome(kOk, cfg, kT0);
  EXPECT_EQ(provider.view(kT0).consecutive_failures, 0u);
  fail_times(2, kT0);  // 2 + 2 failures, but not consecutive
  EXPECT_EQ(provider.circuit(kT0), CircuitState::Closed);
  EXPECT_EQ(provider.circuit_pick(kT0), CircuitPick::Allow);
  fail_times(1, kT0);  // now 3 in a row
  EXPECT_EQ(provider.circuit(kT0), CircuitState::Open);
}

TEST_F(CircuitTest, ConsecutiveFailuresOpenIt) {
  fail_times(3, kT0);
  EXPECT_EQ(provider.circuit(kT0), CircuitState::Open);
  EXPECT_FALSE(provider.circuit_closed());
  const ProviderStateView v = provider.view(kT0 + 4s);
  EXPECT_EQ(v.circuit, CircuitState::Open);
  EXPECT_EQ(v.open_remaining, 6s);
}

TEST_F(CircuitTest, PicksAreRefusedWhileOpen) {
  open_at(kT0);
  for (auto at : {kT0, kT0 + 1s, kT0 + 9999ms}) {
    EXPECT_EQ(provider.circuit_pick(at), CircuitPick::RefuseOpen);
    EXPECT_EQ(provider.circuit(at), CircuitState::Open);
  }
}

TEST_F(CircuitTest, LateFailuresWhileOpenNeitherExtendNorReopenIt) {
  open_at(kT0);
  // Attempts that were let through before it opened report failures afterwards.
  fail_times(10, kT0 + 5s);
  expect_open_for(kT0, 10s);
  EXPECT_EQ(provider.circuit_pick(kT0 + 10s), CircuitPick::Probe);
}

TEST_F(CircuitTest, FirstPickAfterOpenForGetsTheProbeOthersAreRefused) {
  open_at(kT0);
  EXPECT_EQ(provider.circuit_pick(kT0 + 10s), CircuitPick::Probe);
  EXPECT_EQ(provider.circuit(kT0 + 10s), CircuitState::HalfOpen);
  // While the probe is out, every other pick is refused, however late.
  EXPECT_EQ(provider.circuit_pick(kT0 + 10s), CircuitPick::RefuseOpen);
  EXPECT_EQ(provider.circuit_pick(kT0 + 1h), CircuitPick::RefuseOpen);
  EXPECT_EQ(provider.circuit(kT0 + 1h), CircuitState::HalfOpen);
}

TEST_F(CircuitTest, ProbeSuccessCloses) {
  open_at(kT0);
  ASSERT_EQ(provider.circuit_pick(kT0 + 10s), CircuitPick::Probe);
  provider.record_probe(kOk, cfg, kT0 + 11s);
  EXPECT_EQ(provider.circuit(kT0 + 11s), CircuitState::Closed);
  EXPECT_TRUE(provider.circuit_closed());
  EXPECT_EQ(provider.circuit_pick(kT0 + 11s), CircuitPick::Allow);
  EXPECT_EQ(provider.circuit_pick(kT0 + 11s), CircuitPick::Allow);
  // Counting starts afresh: N − 1 failures keep it closed.
  fail_times(2, kT0 + 12s);
  EXPECT_EQ(provider.circuit(kT0 + 12s), CircuitState::Closed);
}

TEST_F(CircuitTest, LateFailuresDuringTheProbeDoNotCount) {
  open_at(kT0);
  ASSERT_EQ(provider.circuit_pick(kT0 + 10s), CircuitPick::Probe);
  fail_times(10, kT0 + 10s);  // older attempts finishing now
  EXPECT_EQ(provider.circuit(kT0 + 10s), CircuitState::HalfOpen);
  provider.record_probe(kOk, cfg, kT0 + 10s);
  EXPECT_EQ(provider.circuit(kT0 + 10s), CircuitState::Closed);
  EXPECT_EQ(provider.view(kT0 + 10s).consecutive_failures, 0u);
  fail_times(2, kT0 + 10s);
  EXPECT_EQ(provider.circuit(kT0 + 10s), CircuitState::Closed);
}

TEST_F(CircuitTest, ProbeFailureReopensForDoubleUpToMaxOpenFor) {
  // open_for 10s, max_open_for 60s: 10, 20, 40, 60, 60.
  open_at(kT0);
  expect_open_for(kT0, 10s);
  SteadyTime at = kT0 + 10s;
  for (config::Duration period : {20s, 40s, 60s, 60s}) {
    SCOPED_TRACE("re-open for " + std::to_string(period.count()) + " ms");
    probe_fails_at(at);
    expect_open_for(at, period);
    at += period;
  }
}

TEST_F(CircuitTest, ProbeSuccessResetsTheDoubling) {
  open_at(kT0);
  probe_fails_at(kT0 + 10s);  // now open for 20 s
  ASSERT_EQ(provider.circuit_pick(kT0 + 30s), CircuitPick::Probe);
  provider.record_probe(kOk, cfg, kT0 + 30s);
  ASSERT_EQ(provider.circuit(kT0 + 30s), CircuitState::Closed);
  // The next opening after a close is open_for again, not 40 s.
  open_at(kT0 + 100s);
  expect_open_for(kT0 + 100s, 10s);
  probe_fails_at(kT0 + 110s);
  expect_open_for(kT0 + 110s, 20s);
}

TEST_F(CircuitTest, MaxOpenForEqualToOpenForNeverDoubles) {
  cfg = settings(1, 5s, 5s);
  open_at(kT0);
  expect_open_for(kT0, 5s);
  probe_fails_at(kT0 + 5s);
  expect_open_for(kT0 + 5s, 5s);
}

TEST_F(CircuitTest, ReleasedProbeLetsAnotherPickProbe) {
  open_at(kT0);
  ASSERT_EQ(provider.circuit_pick(kT0 + 10s), CircuitPick::Probe);
  ASSERT_EQ(provider.circuit_pick(kT0 + 10s), CircuitPick::RefuseOpen);
  provider.release_probe();  // e.g. the client went away mid-probe
  EXPECT_EQ(provider.circuit(kT0 + 10s), CircuitState::HalfOpen);
  EXPECT_EQ(provider.circuit_pick(kT0 + 10s), CircuitPick::Probe);
  EXPECT_EQ(provider.circuit_pick(kT0 + 10s), CircuitPick::RefuseOpen);
  provider.record_probe(kOk, cfg, kT0 + 10s);
  EXPECT_EQ(provider.circuit(kT0 + 10s), CircuitState::Closed);
}

TEST_F(CircuitTest, OneFailureOpensWhenConsecutiveFailuresIsOne) {
  cfg = settings(1);
  provider.record_outcome(kFailed, cfg, kT0);
  EXPECT_EQ(provider.circuit(kT0), CircuitState::Open);
}

// ---- what /metrics shows ---------------------------------------------------------------

double gauge_of(metrics::Metrics& m, const std::string& provider) {
  return m.circuit_state.Add({{"provider", provider}}).Value();
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(CircuitGauge, ReadsZeroClosedTwoOpenOneHalfOpen) {
  metrics::Metrics m;
  ProcessState process(&m);
  ProviderState* a = process.provider("a");
  ProviderState* b = process.provider("b");
  const CircuitBreakerSettings cfg = settings(2, 10s, 60s);
  EXPECT_EQ(gauge_of(m, "a"), 0);
  EXPECT_TRUE(has_line(m.serialize(), R"(sluice_circuit_state{provider="a"} 0)"));

  a->record_outcome(kFailed, cfg, kT0);
  EXPECT_EQ(gauge_of(m, "a"), 0);
  a->record_outcome(kFailed, cfg, kT0);
  EXPECT_EQ(gauge_of(m, "a"), 2);
  EXPECT_TRUE(has_line(m.serialize(), R"(sluice_circuit_state{provider="a"} 2)"));
  EXPECT_EQ(gauge_of(m, "b"), 0) << "each provider has its own series";

  ASSERT_EQ(a->circuit_pick(kT0 + 10s), CircuitPick::Probe);
  EXPECT_EQ(gauge_of(m, "a"), 1);
  a->record_probe(kFailed, cfg, kT0 + 10s);
  EXPECT_EQ(gauge_of(m, "a"), 2);
  ASSERT_EQ(a->circuit_pick(kT0 + 30s), CircuitPick::Probe);
  EXPECT_EQ(gauge_of(m, "a"), 1);
  a->record_probe(kOk, cfg, kT0 + 30s);
  EXPECT_EQ(gauge_of(m, "a"), 0);
  EXPECT_TRUE(has_line(m.serialize(), R"(sluice_circuit_state{provider="a"} 0)"));
  EXPECT_EQ(b, process.provider("b")) << "one state per provider name";
}

// ---- many workers at once ----------------------------------------------------------------

TEST(CircuitConcurrency, ManyThreadsFailingOpenItExactlyOnce) {
  // 4000 failures, 800 times the threshold, from 8 threads at once. Had any thread opened it
  // a second time, that re-open would have doubled the period: it would still be open at
  // kT0 + open_for. So the period is the proof that it opened exactly once.
  ProviderState provider("a", nullptr, nullptr);
  const CircuitBreakerSettings cfg = settings(5, 10s, 300s);
  constexpr int kThreads = 8;
  constexpr int kFailuresEach = 500;
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kFailuresEach; ++i) provider.record_outcome(kFailed, cfg, kT0);
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(provider.circuit(kT0), CircuitState::Open);
  EXPECT_EQ(provider.circuit_pick(kT0 + 10s - 1ms), CircuitPick::RefuseOpen);
  EXPECT_EQ(provider.circuit_pick(kT0 + 10s), CircuitPick::Probe)
      << "opened more than once: the period doubled";
}

TEST(CircuitConcurrency, ManyThreadsPickingHalfOpenGetExactlyOneProbe) {
  ProviderState provider("a", nullptr, nullptr);
  const CircuitBreakerSettings cfg = settings(1, 10s, 60s);
  provider.record_outcome(kFailed, cfg, kT0);
  constexpr int kThreads = 8;
  constexpr int kPicksEach = 500;
  std::atomic<bool> go{false};
  std::atomic<int> probes{0}, allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kPicksEach; ++i) {
        switch (provider.circuit_pick(kT0 + 10s)) {
          case CircuitPick::Probe:
            ++probes;
            break;
          case CircuitPick::Allow:
            ++allowed;
            break;
          case CircuitPick::RefuseOpen:
            break;
        }
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(probes.load(), 1);
  EXPECT_EQ(allowed.load(), 0);
}

}  // namespace
}  // namespace sluice::state
