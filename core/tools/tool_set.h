// ToolSet: every tool of one config snapshot (DESIGN §5 "Tools"), and who may see which. Built
// with the snapshot (its sources made by ToolTypeRegistry builders and the plugin set), read by
// every worker. An agent sees and calls only the tools its `agents.*.tools` allow-list names
// (globs: "memory.*"); a tool it may not call does not exist for it. A caller without an agent
// (a chain with no auth filter) sees every tool, as it sees every model.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config/config.h"
#include "core/tools/tool_source.h"

namespace sluice::providers {
class ProviderTypeSource;
}

namespace sluice::tools {

// Tools an agent may use right now. Holds the lists it points into, so its entries stay valid
// as long as it lives (an upstream MCP server's list may be replaced meanwhile).
struct VisibleTools {
  std::vector<std::shared_ptr<const ToolList>> held;
  std::shared_ptr<const void> held_fixed;  // the fixed sources' lists (ToolSource::fixed)
  std::vector<const ToolEntry*> entries;   // by name
};

// One tool found for a call, with the list that owns it.
struct FoundTool {
  std::shared_ptr<const ToolList> held;
  const ToolEntry* entry = nullptr;  // null: unknown, or not this agent's (the same answer)
  explicit operator bool() const { return entry != nullptr; }
};

class ToolSet {
 public:
  // Builds every source of config.tools: "plugin" entries through `extensions` (the snapshot's
  // plugin sets), the other types through ToolTypeRegistry. Throws config::ConfigError (unknown
  // tool type, a schema that cannot be checked, two tools with one OpenAI function name).
  static std::shared_ptr<const ToolSet> build(
      const config::Config& config,
      std::span<const std::shared_ptr<const providers::ProviderTypeSource>> extensions);

  // Sorted by name; when an upstream MCP server offers a name another source has too, the
  // source first in config order wins (as in find()).
  VisibleTools visible_to(const config::Agent* agent) const;
  // By tool name or OpenAI function name; empty when unknown or not allowed to `agent`.
  FoundTool find(const config::Agent* agent, std::string_view name) const;
  bool empty() const { return sources_.empty(); }

 private:
  // A tool and the index of its source in sources_ (which decides between equal names).
  struct Ranked {
    const ToolEntry* entry;
    size_t source;
  };
  // Which tools of the fixed sources an allow-list lets through: worked out the first time an
  // agent of the config asks (once per agent and snapshot; an agent that never lists costs
  // nothing), then read without a lock (std::call_once).
  struct AgentView {
    std::vector<std::string> patterns;  // the agent's allow-list, as in the config built from
    std::once_flag once;
    std::vector<Ranked> fixed;  // by name
  };
  struct FixedHit {
    size_t source;
    const ToolEntry* entry;
  };
  std::vector<Ranked> fixed_visible_to(const config::Agent* agent) const;

  std::vector<std::shared_ptr<ToolSource>> sources_;
  // Per source: its list when the source is fixed, null when not (dynamic_ has those).
  std::shared_ptr<const std::vector<std::shared_ptr<const ToolList>>> fixed_lists_;
  std::vector<size_t> dynamic_;  // indexes into sources_, ascending
  // Every name and OpenAI function name of the fixed sources' tools → the first such tool (its
  // strings are the keys: they live as long as fixed_lists_).
  std::unordered_map<std::string_view, FixedHit> fixed_by_name_;
  // config.agents by name (their allow-lists), and the caller without an agent (every tool).
  std::unordered_map<std::string, std::unique_ptr<AgentView>> agents_;
  std::unique_ptr<AgentView> anonymous_ = std::make_unique<AgentView>();
};

}  // namespace sluice::tools
