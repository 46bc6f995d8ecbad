// Agent name → the agent, for the modes that learn a name rather than a key (a JWT claim, the
// header of header mode). Built once per config snapshot; the pointers and the names' bytes
// belong to that snapshot's Config.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/config/config.h"

namespace sluice::filters::auth {

class AgentNames {
 public:
  explicit AgentNames(const std::map<std::string, config::Agent>& agents) {
    for (const auto& [name, agent] : agents) names_.emplace(name, &agent);
  }
  // Exact, case-sensitive: agent names are YAML keys.
  const config::Agent* find(std::string_view name) const {
    auto it = names_.find(name);
    return it == names_.end() ? nullptr : it->second;
  }

 private:
  std::map<std::string_view, const config::Agent*> names_;
};

}  // namespace sluice::filters::auth
