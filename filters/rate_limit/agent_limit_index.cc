#include "filters/rate_limit/agent_limit_index.h"

#include <algorithm>
#include <functional>

namespace sluice::filters::rate_limit {

bool has_limits(const config::AgentLimits& limits) {
  return limits.rpm.has_value() || limits.tpm.has_value() || limits.concurrent.has_value();
}

AgentLimitIndex::AgentLimitIndex(const config::Config& config, state::ProcessState& states) {
  for (const auto& [name, agent] : config.agents) {
    if (!has_limits(agent.limits)) continue;
    entries_.push_back(LimitedAgent{&agent, states.agent(name), agent.limits});
  }
  std::sort(entries_.begin(), entries_.end(), [](const LimitedAgent& a, const LimitedAgent& b) {
    return std::less<const config::Agent*>()(a.agent, b.agent);
  });
}

const LimitedAgent* AgentLimitIndex::find(const config::Agent* agent) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), agent,
                             [](const LimitedAgent& e, const config::Agent* a) {
                               return std::less<const config::Agent*>()(e.agent, a);
                             });
  return it != entries_.end() && it->agent == agent ? &*it : nullptr;
}

}  // namespace sluice::filters::rate_limit
