// AgentLimitIndex: for one config snapshot, each agent that has `limits:` → its process-wide
// AgentState (resolved once, at build, by name — so usage survives reloads) and its limits.
// The request path looks agents up here by the config::Agent pointer auth set (a binary search
// over a flat sorted array), never in the ProcessState registry, so it takes no lock.
#pragma once

#include <cstddef>
#include <vector>

#include "core/config/config.h"
#include "core/state/agent_state.h"
#include "core/state/process_state.h"

namespace sluice::filters::rate_limit {

// True when at least one of rpm, tpm, concurrent is set.
bool has_limits(const config::AgentLimits& limits);

struct LimitedAgent {
  const config::Agent* agent = nullptr;  // the snapshot's own agent entry
  state::AgentState* state = nullptr;    // never null; outlives every snapshot
  config::AgentLimits limits;            // this snapshot's limits (a reload may change them)
};

class AgentLimitIndex {
 public:
  AgentLimitIndex(const config::Config& config, state::ProcessState& states);

  // The entry of `agent`, or null when it has no limits (or is not of this config).
  const LimitedAgent* find(const config::Agent* agent) const;
  size_t size() const { return entries_.size(); }

 private:
  std::vector<LimitedAgent> entries_;  // sorted by agent pointer
};

}  // namespace sluice::filters::rate_limit
