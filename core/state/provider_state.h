// ProviderState: what sluice knows about one provider right now, shared by every worker and kept
// across reloads (DESIGN §3: state lives outside the snapshot, keyed by identity — here the
// provider's name). Read and written on the request path by all workers at once, so it is
// atomics (and one small per-provider mutex for the rare transitions), never a global lock.
//
// Three independent parts:
//  - load:     attempts in flight (least_busy, circuit_breaker.max_concurrent) and the EWMA of
//              time to first byte (latency strategy, /status);
//  - circuit:  outlier ejection (circuit_breaker filter), the state machine below;
//  - health:   the active health checker's verdict (router skips `Down`).
#pragma once

#include <prometheus/gauge.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/config/config.h"

namespace sluice::state {

using SteadyTime = std::chrono::steady_clock::time_point;

// Circuit states; the numbers are the values of the sluice_circuit_state gauge (DESIGN §7).
//   Closed   — traffic flows. Each failure increments a consecutive-failure count, any success
//              resets it; reaching circuit_breaker.consecutive_failures opens the circuit.
//   Open     — every pick is refused until open_until. The open period is open_for, doubled on
//              each re-open without a close in between, capped at max_open_for.
//   HalfOpen — open_until passed: exactly one attempt (the probe) is let through; other picks
//              are refused while it is in flight. Probe success → Closed (re-open count reset);
//              probe failure → Open again with the doubled period; probe abandoned without a
//              verdict (client gone) → the probe slot is freed, still HalfOpen.
enum class CircuitState : uint8_t { Closed = 0, HalfOpen = 1, Open = 2 };
const char* to_string(CircuitState s);  // "closed" | "half_open" | "open"

// Health from active probes (providers.*.health_check).
//   Unknown — no probe has finished yet (or no health_check configured): treated as up.
//   Ok      — the last probe answered within slow_after.
//   Slow    — answered, but slower than slow_after: still up, routed to.
//   Down    — unhealthy_after consecutive probe failures; the router skips the provider until
//             healthy_after consecutive successes bring it back (to Ok/Slow).
enum class HealthStatus : uint8_t { Unknown, Ok, Slow, Down };
const char* to_string(HealthStatus s);  // "unknown" | "ok" | "slow" | "down"

// What the circuit breaker says about one pick.
//   Allow      — closed: go ahead.
//   Probe      — the caller holds the half-open probe slot: go ahead, and report the attempt's
//                verdict with record_probe() (or release_probe() if it ends without one).
//   RefuseOpen — open (or half-open with the probe already out): skip this provider.
enum class CircuitPick : uint8_t { Allow, Probe, RefuseOpen };

// A copy for /status.
struct ProviderStateView {
  CircuitState circuit = CircuitState::Closed;
  HealthStatus health = HealthStatus::Unknown;
  uint32_t in_flight = 0;
  double ewma_ttfb_ms = 0;  // 0 = never measured
  uint32_t consecutive_failures = 0;
  std::chrono::milliseconds open_remaining{0};  // while Open
  // The last finished health probe (health checker): when it ended, and its answer's latency
  // (nullopt when it did not answer). Both nullopt before the first probe or without probes.
  std::optional<std::chrono::system_clock::time_point> last_probe_at;
  std::optional<std::chrono::milliseconds> last_probe_latency;
};

class ProviderState {
 public:
  // `circuit_gauge` and `up_gauge` are this provider's label children of sluice_circuit_state
  // and sluice_provider_up (may be null in unit tests).
  ProviderState(std::string name, prometheus::Gauge* circuit_gauge, prometheus::Gauge* up_gauge);
  ProviderState(const ProviderState&) = delete;
  ProviderState& operator=(const ProviderState&) = delete;

  const std::string& name() const { return name_; }

  // ---- load (the session calls these around every upstream attempt) --------------------
  void attempt_started() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void attempt_finished() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  uint32_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  // One measured time to first byte; EWMA with alpha 0.3 (the first sample sets it).
  void record_ttfb(std::chrono::microseconds ttfb);
  double ewma_ttfb_ms() const;      // 0 = never measured
  SteadyTime last_ttfb_at() const;  // when the EWMA was last updated (epoch = never)

  // ---- circuit (the circuit_breaker filter) ---------------------------------------------
  // Lock-free when Closed (one atomic load).
  CircuitPick circuit_pick(SteadyTime now);
  // True while Closed (one atomic load): lets a caller skip reading the clock on the fast path.
  bool circuit_closed() const {
    return circuit_.load(std::memory_order_acquire) == CircuitState::Closed;
  }
  // The outcome of an attempt that was let through with Allow. Failures are counted
  // consecutively; `settings` decides when the circuit opens and for how long.
  void record_outcome(bool failed, const config::CircuitBreakerSettings& settings, SteadyTime now);
  // The outcome of the probe attempt (after CircuitPick::Probe).
  void record_probe(bool failed, const config::CircuitBreakerSettings& settings, SteadyTime now);
  // The probe ended without a verdict (client gone, vetoed later): let another pick probe.
  void release_probe();
  CircuitState circuit(SteadyTime now) const;  // Open past open_until reads as HalfOpen

  // ---- health (the health checker) ------------------------------------------------------
  void set_health(HealthStatus status);
  HealthStatus health() const { return health_.load(std::memory_order_relaxed); }
  bool routable() const { return health() != HealthStatus::Down; }
  // One finished probe, whatever its verdict: when, and how long the answer took (nullopt: no
  // answer). For the health report's latency and "last check" (core/health/provider_verdict.h).
  void record_health_probe(std::optional<std::chrono::milliseconds> latency,
                           std::chrono::system_clock::time_point at);

  ProviderStateView view(SteadyTime now) const;

 private:
  void open_locked(const config::CircuitBreakerSettings& settings, SteadyTime now);
  void publish_circuit_gauge(CircuitState s);

  const std::string name_;
  prometheus::Gauge* circuit_gauge_;
  prometheus::Gauge* up_gauge_;

  std::atomic<uint32_t> in_flight_{0};
  std::atomic<int64_t> ewma_ttfb_ns_{0};     // 0 = never measured
  std::atomic<int64_t> last_ttfb_at_ns_{0};  // steady_clock ns since epoch

  std::atomic<CircuitState> circuit_{CircuitState::Closed};  // fast-path read
  std::atomic<uint32_t> consecutive_failures_{0};
  mutable std::mutex circuit_mutex_;  // guards the transitions and the fields below
  SteadyTime open_until_{};
  uint32_t reopen_count_ = 0;  // re-opens since the last close (doubles open_for)
  bool probe_in_flight_ = false;

  std::atomic<HealthStatus> health_{HealthStatus::Unknown};
  std::atomic<int64_t> last_probe_at_ms_{0};        // system_clock ms since epoch; 0 = never
  std::atomic<int64_t> last_probe_latency_ms_{-1};  // -1 = no answer (or never)
};

}  // namespace sluice::state
