#include "core/state/provider_state.h"

#include <algorithm>

namespace sluice::state {
namespace {

int64_t ns_since_epoch(SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

constexpr double kEwmaAlpha = 0.3;

}  // namespace

const char* to_string(CircuitState s) {
  switch (s) {
    case CircuitState::Closed:
      return "closed";
    case CircuitState::HalfOpen:
      return "half_open";
    case CircuitState::Open:
      return "open";
  }
  return "?";
}

const char* to_string(HealthStatus s) {
  switch (s) {
    case HealthStatus::Unknown:
      return "unknown";
    case HealthStatus::Ok:
      return "ok";
    case HealthStatus::Slow:
      return "slow";
    case HealthStatus::Down:
      return "down";
  }
  return "?";
}

ProviderState::ProviderState(std::string name, prometheus::Gauge* circuit_gauge,
                             prometheus::Gauge* up_gauge)
    : name_(std::move(name)), circuit_gauge_(circuit_gauge), up_gauge_(up_gauge) {
  if (circuit_gauge_ != nullptr) circuit_gauge_->Set(0);
  if (up_gauge_ != nullptr) up_gauge_->Set(1);
}

void ProviderState::record_ttfb(std::chrono::microseconds ttfb) {
  const int64_t sample = std::max<int64_t>(1, ttfb.count() * 1000);
  int64_t current = ewma_ttfb_ns_.load(std::memory_order_relaxed);
  int64_t next;
  do {
    next = current == 0 ? sample
                        : static_cast<int64_t>(kEwmaAlpha * static_cast<double>(sample) +
                                               (1 - kEwmaAlpha) * static_cast<double>(current));
    if (next == 0) next = 1;  // 0 means "never measured"
  } while (!ewma_ttfb_ns_.compare_exchange_weak(current, next, std::memory_order_relaxed));
  last_ttfb_at_ns_.store(ns_since_epoch(std::chrono::steady_clock::now()),
                         std::memory_order_relaxed);
}

double ProviderState::ewma_ttfb_ms() const {
  return static_cast<double>(ewma_ttfb_ns_.load(std::memory_order_relaxed)) / 1e6;
}

SteadyTime ProviderState::last_ttfb_at() const {
  return SteadyTime(std::chrono::nanoseconds(last_ttfb_at_ns_.load(std::memory_order_relaxed)));
}

CircuitPick ProviderState::circuit_pick(SteadyTime now) {
  if (circuit_.load(std::memory_order_acquire) == CircuitState::Closed) return CircuitPick::Allow;
  std::lock_guard lock(circuit_mutex_);
  switch (circuit_.load(std::memory_order_relaxed)) {
    case CircuitState::Closed:
      return CircuitPick::Allow;
    case CircuitState::Open:
      if (now < open_until_) return CircuitPick::RefuseOpen;
      circuit_.store(CircuitState::HalfOpen, std::memory_order_release);
      publish_circuit_gauge(CircuitState::HalfOpen);
      probe_in_flight_ = true;
      return CircuitPick::Probe;
    case CircuitState::HalfOpen:
      if (probe_in_flight_) return CircuitPick::RefuseOpen;
      probe_in_flight_ = true;
      return CircuitPick::Probe;
  }
  return CircuitPick::RefuseOpen;
}

void ProviderState::record_outcome(bool failed, const config::CircuitBreakerSettings& settings,
                                   SteadyTime now) {
  if (!failed) {
    if (consecutive_failures_.load(std::memory_order_relaxed) != 0) {
      consecutive_failures_.store(0, std::memory_order_relaxed);
    }
    return;
  }
  const uint32_t failures = consecutive_failures_.fetch_add(1, std::memory_order_acq_rel) + 1;
  if (failures < settings.consecutive_failures) return;
  std::lock_guard lock(circuit_mutex_);
  // Another worker may have opened it already (or a probe is deciding): only Closed opens here.
  if (circuit_.load(std::memory_order_relaxed) != CircuitState::Closed) return;
  open_locked(settings, now);
}

void ProviderState::record_probe(bool failed, const config::CircuitBreakerSettings& settings,
                                 SteadyTime now) {
  std::lock_guard lock(circuit_mutex_);
  probe_in_flight_ = false;
  if (failed) {
    open_locked(settings, now);
    return;
  }
  reopen_count_ = 0;
  consecutive_failures_.store(0, std::memory_order_relaxed);
  circuit_.store(CircuitState::Closed, std::memory_order_release);
  publish_circuit_gauge(CircuitState::Closed);
}

void ProviderState::release_probe() {
  std::lock_guard lock(circuit_mutex_);
  probe_in_flight_ = false;
}

void ProviderState::open_locked(const config::CircuitBreakerSettings& settings, SteadyTime now) {
  // open_for doubles with each re-open since the last close, capped at max_open_for.
  auto period = settings.open_for;
  for (uint32_t i = 0; i < reopen_count_ && period < settings.max_open_for; ++i) period *= 2;
  period = std::min(period, std::max(settings.max_open_for, settings.open_for));
  open_until_ = now + period;
  ++reopen_count_;
  consecutive_failures_.store(0, std::memory_order_relaxed);
  circuit_.store(CircuitState::Open, std::memory_order_release);
  publish_circuit_gauge(CircuitState::Open);
}

CircuitState ProviderState::circuit(SteadyTime now) const {
  const CircuitState s = circuit_.load(std::memory_order_acquire);
  if (s != CircuitState::Open) return s;
  std::lock_guard lock(circuit_mutex_);
  return now >= open_until_ ? CircuitState::HalfOpen : CircuitState::Open;
}

void ProviderState::publish_circuit_gauge(CircuitState s) {
  if (circuit_gauge_ != nullptr) circuit_gauge_->Set(static_cast<double>(s));
}

void ProviderState::set_health(HealthStatus status) {
  health_.store(status, std::memory_order_relaxed);
  if (up_gauge_ != nullptr) up_gauge_->Set(status == HealthStatus::Down ? 0 : 1);
}

void ProviderState::record_health_probe(std::optional<std::chrono::milliseconds> latency,
                                        std::chrono::system_clock::time_point at) {
  last_probe_latency_ms_.store(latency ? latency->count() : -1, std::memory_order_relaxed);
  const int64_t at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  last_probe_at_ms_.store(at_ms == 0 ? 1 : at_ms, std::memory_order_release);  // 0 = never
}

ProviderStateView ProviderState::view(SteadyTime now) const {
  ProviderStateView v;
  v.circuit = circuit(now);
  v.health = health();
  v.in_flight = in_flight();
  v.ewma_ttfb_ms = ewma_ttfb_ms();
  v.consecutive_failures = consecutive_failures_.load(std::memory_order_relaxed);
  // Two atomics, not one snapshot: a probe finishing between the loads pairs one probe's time
  // with the next one's latency, which is harmless (they are `interval` apart) and lock-free.
  const int64_t probe_at = last_probe_at_ms_.load(std::memory_order_acquire);
  if (probe_at != 0) {
    v.last_probe_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(probe_at));
    const int64_t latency = last_probe_latency_ms_.load(std::memory_order_relaxed);
    if (latency >= 0) v.last_probe_latency = std::chrono::milliseconds(latency);
  }
  std::lock_guard lock(circuit_mutex_);
  if (circuit_.load(std::memory_order_relaxed) == CircuitState::Open && now < open_until_) {
    v.open_remaining = std::chrono::duration_cast<std::chrono::milliseconds>(open_until_ - now);
  }
  return v;
}

}  // namespace sluice::state
