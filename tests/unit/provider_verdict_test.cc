// The health report's rules (core/health/provider_verdict.h): which signal decides a provider's
// ok/slow/down, and the process's verdict over all providers. Pure functions, no sockets.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "core/health/provider_verdict.h"

namespace sluice::health {
namespace {

using namespace std::chrono_literals;
using state::CircuitState;
using state::HealthStatus;

const WallTime kT0 = WallTime(std::chrono::seconds(1'760'000'000));

ProviderSignals probed(HealthStatus h, std::chrono::milliseconds latency = 40ms) {
  ProviderSignals s;
  s.has_health_check = true;
  s.probe_health = h;
  s.probe_at = kT0;
  s.probe_latency = latency;
  s.slow_after = 100ms;
  return s;
}

ProviderSignals with_traffic(double ewma_ms, uint32_t consecutive_failures = 0) {
  ProviderSignals s;
  s.requests = 10;
  s.ewma_ms = ewma_ms;
  s.last_answer_at = kT0;
  s.consecutive_failures = consecutive_failures;
  s.slow_after = 100ms;
  return s;
}

TEST(ProviderVerdict, AProbeVerdictIsReportedWithItsLatencyAndTime) {
  ProviderVerdict ok = judge(probed(HealthStatus::Ok, 40ms));
  EXPECT_EQ(ok.health, ReportHealth::Ok);
  EXPECT_EQ(ok.source, VerdictSource::Probe);
  ASSERT_TRUE(ok.latency_ms);
  EXPECT_EQ(*ok.latency_ms, 40);
  EXPECT_EQ(ok.last_check, kT0);

  ProviderVerdict slow = judge(probed(HealthStatus::Slow, 400ms));
  EXPECT_EQ(slow.health, ReportHealth::Slow);
  EXPECT_EQ(slow.source, VerdictSource::Probe);
  EXPECT_NE(slow.reason.find("400ms > slow_after 100ms"), std::string::npos) << slow.reason;

  ProviderSignals failing = probed(HealthStatus::Down);
  failing.probe_latency.reset();  // the last probe did not answer
  ProviderVerdict down = judge(failing);
  EXPECT_EQ(down.health, ReportHealth::Down);
  EXPECT_EQ(down.source, VerdictSource::Probe);
  EXPECT_FALSE(down.latency_ms);
  EXPECT_EQ(down.last_check, kT0);
}

TEST(ProviderVerdict, TheProbeWinsOverTrafficButAnOpenCircuitWinsOverTheProbe) {
  ProviderSignals s = probed(HealthStatus::Ok);
  s.requests = 10;
  s.consecutive_failures = 7;  // chat fails (say a bad key) while /models answers
  s.ewma_ms = 900;
  EXPECT_EQ(judge(s).health, ReportHealth::Ok);
  EXPECT_EQ(judge(s).source, VerdictSource::Probe);

  s.circuit = CircuitState::Open;
  ProviderVerdict v = judge(s);
  EXPECT_EQ(v.health, ReportHealth::Down);
  EXPECT_EQ(v.source, VerdictSource::Traffic);
  EXPECT_EQ(v.reason, "circuit open");
}

TEST(ProviderVerdict, BeforeTheFirstProbeTrafficDecides) {
  ProviderSignals s = with_traffic(30);
  s.has_health_check = true;  // configured, but no probe has finished (Unknown)
  EXPECT_EQ(judge(s).source, VerdictSource::Traffic);
  EXPECT_EQ(judge(s).health, ReportHealth::Ok);
}

TEST(ProviderVerdict, TrafficOkSlowAndDown) {
  ProviderVerdict ok = judge(with_traffic(30));
  EXPECT_EQ(ok.health, ReportHealth::Ok);
  EXPECT_EQ(ok.source, VerdictSource::Traffic);
  EXPECT_EQ(*ok.latency_ms, 30);
  EXPECT_EQ(ok.last_check, kT0);

  // Slow: the EWMA above slow_after; at it exactly is still ok.
  EXPECT_EQ(judge(with_traffic(100)).health, ReportHealth::Ok);
  EXPECT_EQ(judge(with_traffic(101)).health, ReportHealth::Slow);

  // Down: kTrafficDownAfter failures in a row, even when the answers that came were fast.
  EXPECT_EQ(judge(with_traffic(30, kTrafficDownAfter - 1)).health, ReportHealth::Ok);
  ProviderVerdict down = judge(with_traffic(30, kTrafficDownAfter));
  EXPECT_EQ(down.health, ReportHealth::Down);
  EXPECT_EQ(down.source, VerdictSource::Traffic);

  // Down: a circuit that is open or half-open (the breaker saw it fail).
  for (CircuitState c : {CircuitState::Open, CircuitState::HalfOpen}) {
    ProviderSignals s = with_traffic(30);
    s.circuit = c;
    EXPECT_EQ(judge(s).health, ReportHealth::Down) << state::to_string(c);
  }
}

TEST(ProviderVerdict, OnlyFailuresStillCountAsTraffic) {
  // Never answered (no EWMA), but the last error dates the check.
  ProviderSignals s;
  s.requests = 3;
  s.consecutive_failures = 3;
  s.last_error_at = kT0 + 5s;
  ProviderVerdict v = judge(s);
  EXPECT_EQ(v.health, ReportHealth::Down);
  EXPECT_EQ(v.source, VerdictSource::Traffic);
  EXPECT_FALSE(v.latency_ms);
  EXPECT_EQ(v.last_check, kT0 + 5s);

  // The later of the last answer and the last error is the last check.
  ProviderSignals both = with_traffic(30, 1);
  both.last_error_at = kT0 + 9s;
  EXPECT_EQ(judge(both).last_check, kT0 + 9s);
}

TEST(ProviderVerdict, NothingKnownIsOkFromNoSource) {
  ProviderVerdict v = judge(ProviderSignals{});
  EXPECT_EQ(v.health, ReportHealth::Ok);
  EXPECT_EQ(v.source, VerdictSource::None);
  EXPECT_FALSE(v.latency_ms);
  EXPECT_FALSE(v.last_check);
}

TEST(ProviderVerdict, AMockWithAHealthCheckIsOkWithoutAProbeTime) {
  ProviderSignals s;
  s.has_health_check = true;
  s.probe_health = HealthStatus::Ok;  // what the checker sets for a mock provider
  ProviderVerdict v = judge(s);
  EXPECT_EQ(v.health, ReportHealth::Ok);
  EXPECT_EQ(v.source, VerdictSource::Probe);
  EXPECT_FALSE(v.last_check);
}

TEST(ProviderVerdict, OverallVerdict) {
  using H = ReportHealth;
  auto of = [](std::vector<H> v) { return overall(v); };
  EXPECT_EQ(of({}), OverallVerdict::Ok);
  EXPECT_EQ(of({H::Ok, H::Ok}), OverallVerdict::Ok);
  EXPECT_EQ(of({H::Ok, H::Slow}), OverallVerdict::Degraded);
  EXPECT_EQ(of({H::Slow}), OverallVerdict::Degraded);  // slow everywhere is still serving
  EXPECT_EQ(of({H::Ok, H::Down}), OverallVerdict::Degraded);
  EXPECT_EQ(of({H::Slow, H::Down}), OverallVerdict::Degraded);
  EXPECT_EQ(of({H::Down}), OverallVerdict::Down);
  EXPECT_EQ(of({H::Down, H::Down}), OverallVerdict::Down);
  EXPECT_EQ(static_cast<int>(OverallVerdict::Degraded), 1);  // `sluice status` exit codes
  EXPECT_EQ(static_cast<int>(OverallVerdict::Down), 2);
  EXPECT_STREQ(to_string(OverallVerdict::Degraded), "degraded");
  EXPECT_STREQ(to_string(VerdictSource::Traffic), "traffic");
}

}  // namespace
}  // namespace sluice::health
