// ToolSet: every tool of one config snapshot (DESIGN §5 "Tools"), and who may see which. Built
// with the snapshot (its sources made by ToolTypeRegistry builders and the plugin set), read by
// every worker. An agent sees and calls only the tools its `agents.*.tools` allow-list names
// (globs: "memory.*"); a tool it may not call does not exist for it. A caller without an agent
// (a chain with no auth filter) sees every tool, as it sees every model.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
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
  std::vector<const ToolEntry*> entries;  // by name
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

  VisibleTools visible_to(const config::Agent* agent) const;
  // By tool name or OpenAI function name; empty when unknown or not allowed to `agent`.
  FoundTool find(const config::Agent* agent, std::string_view name) const;
  bool empty() const { return sources_.empty(); }

 private:
  std::vector<std::shared_ptr<ToolSource>> sources_;
};

}  // namespace sluice::tools
