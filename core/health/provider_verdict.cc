#include "core/health/provider_verdict.h"

#include <algorithm>
#include <cstdio>

namespace sluice::health {
namespace {

std::string ms_text(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0fms", ms);
  return buf;
}

std::optional<WallTime> latest(std::optional<WallTime> a, std::optional<WallTime> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

ProviderVerdict from_traffic(const ProviderSignals& s) {
  ProviderVerdict v;
  v.source = VerdictSource::Traffic;
  if (s.ewma_ms > 0) v.latency_ms = s.ewma_ms;
  v.last_check = latest(s.last_answer_at, s.last_error_at);
  const std::string slow_after = std::to_string(s.slow_after.count()) + "ms";
  if (s.circuit != state::CircuitState::Closed) {
    v.health = ReportHealth::Down;
    v.reason = std::string("circuit ") + state::to_string(s.circuit);
  } else if (s.consecutive_failures >= kTrafficDownAfter) {
    v.health = ReportHealth::Down;
    v.reason = std::to_string(s.consecutive_failures) + " failed requests in a row";
  } else if (s.ewma_ms > static_cast<double>(s.slow_after.count())) {
    v.health = ReportHealth::Slow;
    v.reason = "requests answer in " + ms_text(s.ewma_ms) + " (EWMA) > slow_after " + slow_after;
  } else {
    v.health = ReportHealth::Ok;
    v.reason = "requests answer";
    if (s.ewma_ms > 0) v.reason += " in " + ms_text(s.ewma_ms) + " (EWMA)";
  }
  return v;
}

}  // namespace

const char* to_string(ReportHealth h) {
  switch (h) {
    case ReportHealth::Ok:
      return "ok";
    case ReportHealth::Slow:
      return "slow";
    case ReportHealth::Down:
      return "down";
  }
  return "?";
}

const char* to_string(VerdictSource s) {
  switch (s) {
    case VerdictSource::Probe:
      return "probe";
    case VerdictSource::Traffic:
      return "traffic";
    case VerdictSource::None:
      return "none";
  }
  return "?";
}

const char* to_string(OverallVerdict v) {
  switch (v) {
    case OverallVerdict::Ok:
      return "ok";
    case OverallVerdict::Degraded:
      return "degraded";
    case OverallVerdict::Down:
      return "down";
  }
  return "?";
}

ProviderVerdict judge(const ProviderSignals& s) {
  const bool probe_knows = s.has_health_check && s.probe_health != state::HealthStatus::Unknown;
  const bool traffic_knows = s.requests > 0 || s.ewma_ms > 0 || s.last_error_at.has_value() ||
                             s.circuit != state::CircuitState::Closed;
  if (probe_knows) {
    ProviderVerdict v;
    if (s.circuit != state::CircuitState::Closed) {
      // The breaker overrides a passing probe: no request is routed there until it closes.
      v = from_traffic(s);
      v.last_check = latest(v.last_check, s.probe_at);
      return v;
    }
    v.source = VerdictSource::Probe;
    v.last_check = s.probe_at;
    if (s.probe_latency) v.latency_ms = static_cast<double>(s.probe_latency->count());
    const std::string slow_after = std::to_string(s.slow_after.count()) + "ms";
    switch (s.probe_health) {
      case state::HealthStatus::Down:
        v.health = ReportHealth::Down;
        v.reason = "health checks fail";
        break;
      case state::HealthStatus::Slow:
        v.health = ReportHealth::Slow;
        v.reason = "health check answers";
        if (v.latency_ms) v.reason += " in " + ms_text(*v.latency_ms);
        v.reason += " > slow_after " + slow_after;
        break;
      case state::HealthStatus::Ok:
      case state::HealthStatus::Unknown:
        v.health = ReportHealth::Ok;
        if (!s.probe_at) {
          v.reason = "nothing on the network to probe (mock): ok";  // health_checker.h
          break;
        }
        v.reason = "health check answers";
        if (v.latency_ms) v.reason += " in " + ms_text(*v.latency_ms);
        break;
    }
    return v;
  }
  if (traffic_knows) return from_traffic(s);
  ProviderVerdict v;
  v.health = ReportHealth::Ok;
  v.source = VerdictSource::None;
  v.reason = s.has_health_check ? "no health check has finished yet; routed to as up"
                                : "no health check and no traffic yet; routed to as up";
  return v;
}

OverallVerdict overall(std::span<const ReportHealth> providers) {
  size_t down = 0;
  size_t impaired = 0;
  for (ReportHealth h : providers) {
    if (h == ReportHealth::Down) ++down;
    if (h != ReportHealth::Ok) ++impaired;
  }
  if (!providers.empty() && down == providers.size()) return OverallVerdict::Down;
  return impaired > 0 ? OverallVerdict::Degraded : OverallVerdict::Ok;
}

}  // namespace sluice::health
