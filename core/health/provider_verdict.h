// ProviderVerdict: the health report's answer for one provider — ok, slow or down — and the
// whole process's verdict over all of them (GET /status?format=report, `sluice status`). Pure
// rules over signals copied out of the process state, no I/O and no clock of its own, so every
// rule is unit-tested without sockets.
//
// Where a provider's verdict comes from (VerdictSource), in this order:
//   Probe   — the provider has a health_check and the checker has a verdict (health is not
//             Unknown): probe Ok/Slow/Down → ok/slow/down. The probe asks the question directly,
//             so it wins over traffic — except an open (or half-open) circuit, which makes the
//             provider down whatever the probe says: the router sends it nothing, and the
//             source then says "traffic", the signal that decided.
//   Traffic — no probe verdict, but requests went there (or its circuit left Closed):
//               down  when the circuit is open or half-open (the breaker saw it fail), or after
//                     kTrafficDownAfter failed exchanges in a row (the breaker may be off);
//               slow  when the EWMA of time to first byte is above slow_after (the provider's
//                     health_check.slow_after, else the schema's default, 2s);
//               ok    otherwise.
//             The error signal is the run of consecutive failures, not failures/requests:
//             those count since start and never decay, so a provider that failed for an hour
//             yesterday would read degraded forever.
//   None    — nothing is known yet (no probe verdict, no traffic): reported ok, because that is
//             how the router treats it (an unknown provider is routed to); the source says it is
//             an assumption.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/state/provider_state.h"

namespace sluice::health {

using WallTime = std::chrono::system_clock::time_point;

// Failed exchanges in a row that make a provider without a probe verdict down: the schema's
// default health_check.unhealthy_after, so passive and active checks agree on "how many".
inline constexpr uint32_t kTrafficDownAfter = 3;

// One provider's health in the report; the rules are in the comment at the top.
enum class ReportHealth : uint8_t { Ok, Slow, Down };
const char* to_string(ReportHealth h);  // "ok" | "slow" | "down"

enum class VerdictSource : uint8_t { Probe, Traffic, None };
const char* to_string(VerdictSource s);  // "probe" | "traffic" | "none"

// The process's verdict. Rules:
//   Down     — there is at least one provider and every one of them is down: nothing can serve;
//   Degraded — some provider is slow or down, but not all are down;
//   Ok       — every provider is ok (also: no providers at all — nothing is failing).
// `sluice status` exits with its number (0, 1, 2).
enum class OverallVerdict : uint8_t { Ok = 0, Degraded = 1, Down = 2 };
const char* to_string(OverallVerdict v);  // "ok" | "degraded" | "down"

// What is known about one provider, copied out at one moment.
struct ProviderSignals {
  bool has_health_check = false;
  state::HealthStatus probe_health = state::HealthStatus::Unknown;
  std::optional<WallTime> probe_at;                        // last finished probe
  std::optional<std::chrono::milliseconds> probe_latency;  // its answer's latency
  state::CircuitState circuit = state::CircuitState::Closed;
  double ewma_ms = 0;                      // EWMA time to first byte of answers; 0 = none
  std::optional<WallTime> last_answer_at;  // when that EWMA last moved
  uint64_t requests = 0;
  uint32_t consecutive_failures = 0;
  std::optional<WallTime> last_error_at;
  std::chrono::milliseconds slow_after{2000};
};

struct ProviderVerdict {
  ReportHealth health = ReportHealth::Ok;
  VerdictSource source = VerdictSource::None;
  std::optional<double> latency_ms;    // probe: its answer's; traffic: the EWMA; else none
  std::optional<WallTime> last_check;  // probe: the last probe; traffic: the last exchange
  std::string reason;                  // one line for people: why this verdict
};

ProviderVerdict judge(const ProviderSignals& s);

OverallVerdict overall(std::span<const ReportHealth> providers);

}  // namespace sluice::health
