// ToolSource: what one `tools:` entry offers agents — one tool (http, lua, plugin) or every tool
// of an upstream MCP server under the entry's name as prefix (mcp), whose list changes without
// a reload. The ToolSet of a snapshot (tool_set.h) merges the sources of its config; the types
// are built by ToolTypeRegistry builders (http and mcp in core/tools, lua in filters/lua,
// plugin through the snapshot's plugin set), like filters, so core/ never names filters/.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"
#include "core/tools/tool_call.h"

namespace sluice::tools {

class InputSchema;

// One tool as agents see it. Immutable once published.
struct ToolEntry {
  std::string name;           // what agents call: "projects.list", "github.create_issue"
  std::string function_name;  // OpenAI function name: '.' → '_' ("github_create_issue")
  std::string description;
  std::string input_schema_json;  // JSON Schema object text (at least {"type":"object"})
  std::shared_ptr<const InputSchema> schema;  // compiled input_schema_json
  std::string target;                         // handed to the executor as CallContext::target
  std::chrono::milliseconds timeout{5'000};   // each call's deadline
  const ToolExecutor* executor = nullptr;     // owned by the source, lives as long as it
};

using ToolList = std::vector<ToolEntry>;

class ToolSource {
 public:
  virtual ~ToolSource() = default;
  // The tools offered now (never null; may be empty, e.g. an upstream MCP server that is down).
  // Thread-safe; a static source returns the same list every time; a dynamic one a new list
  // (a new `version()`) after each change. Callers hold the shared_ptr while they use it.
  virtual std::shared_ptr<const ToolList> tools() const = 0;
  // Changes whenever tools() would return a different list (0 for a static source).
  virtual uint64_t version() const { return 0; }
  // True when tools() returns the same list for the source's whole life (one http, lua or plugin
  // tool): its ToolSet then finds its tools by name in an index, and works out once per agent
  // which of them the agent may see, instead of on every request. A source whose list can
  // change (an upstream MCP server's) leaves it false and is read on every request.
  virtual bool fixed() const { return false; }
};

// Builds the source of one entry of the type it was registered for. Main thread, at snapshot
// build. Throws config::ConfigError (with spec's marks) to refuse the config.
struct ToolBuildInputs {
  const config::ToolSpec& spec;
  const config::Config& config;
};
using ToolSourceBuilder = std::function<std::shared_ptr<ToolSource>(const ToolBuildInputs&)>;

class ToolTypeRegistry {
 public:
  static ToolTypeRegistry& global();
  void add(std::string type, ToolSourceBuilder builder);
  const ToolSourceBuilder* find(std::string_view type) const;

 private:
  std::vector<std::pair<std::string, ToolSourceBuilder>> builders_;
};

// The types core/ implements (core_tool_types.cc), added when the registry is first used:
// a static registrar inside a static library would be dropped by the linker, since nothing
// else refers to its object file. (filters/ is linked whole, so its registrars work.)
void register_core_tool_types(ToolTypeRegistry& registry);

// `static ToolTypeRegistrar kReg{"lua", &build_lua_tool};` registers a type at start-up.
struct ToolTypeRegistrar {
  ToolTypeRegistrar(const char* type, ToolSourceBuilder builder) {
    ToolTypeRegistry::global().add(type, std::move(builder));
  }
};

// A static source of one tool: the common case (http, lua, plugin). Compiles the schema
// (throws config::ConfigError at spec.input_schema_mark when it is not one sluice can check).
std::shared_ptr<ToolSource> single_tool_source(const config::ToolSpec& spec,
                                               std::string description,
                                               std::string input_schema_json,
                                               std::unique_ptr<ToolExecutor> executor);

// "github.create_issue" → "github_create_issue".
std::string function_name_of(std::string_view tool_name);

}  // namespace sluice::tools
