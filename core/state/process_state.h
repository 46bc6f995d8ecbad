// ProcessState: the registry of mutable state that outlives config snapshots (DESIGN §3) —
// per provider (load, circuit, health), per agent (rate limits), per model group (the weighted
// round-robin position) and the retry budget. Entries are created on first use of a name, at
// snapshot build (under the registry mutex, off the request path), and never removed, so the
// pointers a snapshot caches stay valid for the life of the process and the request path
// never touches the registry itself.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/state/agent_state.h"
#include "core/state/provider_state.h"
#include "core/state/retry_budget.h"

namespace sluice::metrics {
class Metrics;
}

namespace sluice::state {

class ProcessState {
 public:
  // Label children go to `metrics` (null: no metrics, for unit tests).
  explicit ProcessState(metrics::Metrics* metrics);
  ProcessState(const ProcessState&) = delete;
  ProcessState& operator=(const ProcessState&) = delete;

  // The instance the running process uses (reports to metrics::Metrics::process()).
  static ProcessState& process();

  ProviderState* provider(std::string_view name);  // created on first call
  AgentState* agent(std::string_view name);        // created on first call
  // The sluice_budget_remaining_usd{agent} child of `agent`, created on first call (null when
  // this registry has no metrics). Called at snapshot build for agents with a budget.
  prometheus::Gauge* budget_gauge(AgentState& agent);
  // Every agent ever registered, for /status and start-up seeding (stable pointers).
  std::vector<AgentState*> agents() const;
  // The weighted round-robin position of a model group (created on first call, starts at 0).
  std::atomic<uint64_t>* group_cursor(std::string_view name);
  RetryBudget& retry_budget() { return retry_budget_; }

  // Every provider ever registered, for /status (stable pointers).
  std::vector<const ProviderState*> providers() const;
  const ProviderState* find_provider(std::string_view name) const;
  const AgentState* find_agent(std::string_view name) const;

 private:
  metrics::Metrics* metrics_;
  mutable std::mutex mutex_;  // guards the three maps (not their entries)
  std::map<std::string, std::unique_ptr<ProviderState>, std::less<>> providers_;
  std::map<std::string, std::unique_ptr<AgentState>, std::less<>> agents_;
  std::map<std::string, std::unique_ptr<std::atomic<uint64_t>>, std::less<>> group_cursors_;
  RetryBudget retry_budget_;
};

}  // namespace sluice::state
