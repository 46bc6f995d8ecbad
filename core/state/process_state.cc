#include "core/state/process_state.h"

#include "core/metrics/metrics.h"

namespace sluice::state {

ProcessState::ProcessState(metrics::Metrics* metrics) : metrics_(metrics) {}

ProcessState& ProcessState::process() {
  static ProcessState* instance = new ProcessState(&metrics::Metrics::process());  // never freed:
  return *instance;  // workers may still touch it while static destructors run at exit
}

ProviderState* ProcessState::provider(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = providers_.find(name);
  if (it != providers_.end()) return it->second.get();
  prometheus::Gauge* circuit = nullptr;
  prometheus::Gauge* up = nullptr;
  if (metrics_ != nullptr) {
    circuit = &metrics_->circuit_state.Add({{"provider", std::string(name)}});
    up = &metrics_->provider_up.Add({{"provider", std::string(name)}});
  }
  auto state = std::make_unique<ProviderState>(std::string(name), circuit, up);
  ProviderState* raw = state.get();
  providers_.emplace(std::string(name), std::move(state));
  return raw;
}

AgentState* ProcessState::agent(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = agents_.find(name);
  if (it != agents_.end()) return it->second.get();
  AgentState::RateLimitedCounters counters;
  if (metrics_ != nullptr) {
    const std::string agent(name);
    counters.rpm = &metrics_->rate_limited_total.Add({{"agent", agent}, {"limit", "rpm"}});
    counters.tpm = &metrics_->rate_limited_total.Add({{"agent", agent}, {"limit", "tpm"}});
    counters.concurrent =
        &metrics_->rate_limited_total.Add({{"agent", agent}, {"limit", "concurrent"}});
    counters.budget = &metrics_->rate_limited_total.Add({{"agent", agent}, {"limit", "budget"}});
  }
  auto state = std::make_unique<AgentState>(std::string(name), counters);
  AgentState* raw = state.get();
  agents_.emplace(std::string(name), std::move(state));
  return raw;
}

std::atomic<uint64_t>* ProcessState::group_cursor(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = group_cursors_.find(name);
  if (it != group_cursors_.end()) return it->second.get();
  auto cursor = std::make_unique<std::atomic<uint64_t>>(0);
  std::atomic<uint64_t>* raw = cursor.get();
  group_cursors_.emplace(std::string(name), std::move(cursor));
  return raw;
}

std::vector<const ProviderState*> ProcessState::providers() const {
  std::lock_guard lock(mutex_);
  std::vector<const ProviderState*> out;
  out.reserve(providers_.size());
  for (const auto& [name, state] : providers_) out.push_back(state.get());
  return out;
}

const ProviderState* ProcessState::find_provider(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = providers_.find(name);
  return it == providers_.end() ? nullptr : it->second.get();
}

prometheus::Gauge* ProcessState::budget_gauge(AgentState& agent) {
  std::lock_guard lock(mutex_);
  prometheus::Gauge* gauge = agent.budget_remaining_.load(std::memory_order_acquire);
  if (gauge == nullptr && metrics_ != nullptr) {
    gauge = &metrics_->budget_remaining_usd.Add({{"agent", agent.name()}});
    agent.budget_remaining_.store(gauge, std::memory_order_release);
  }
  return gauge;
}

std::vector<AgentState*> ProcessState::agents() const {
  std::lock_guard lock(mutex_);
  std::vector<AgentState*> out;
  out.reserve(agents_.size());
  for (const auto& [name, state] : agents_) out.push_back(state.get());
  return out;
}

const AgentState* ProcessState::find_agent(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = agents_.find(name);
  return it == agents_.end() ? nullptr : it->second.get();
}

}  // namespace sluice::state
