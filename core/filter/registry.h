// FilterRegistry: filter type name → builder. Built-in filters (filters/*) and plugins
// register here the same way; core/ never names a filter. A builder parses the filter's YAML
// with a NodeReader (call reader.finish() to reject unknown keys) and may consult the whole
// config (agents, models) to precompute indexes. Builders throw config::ConfigError.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"
#include "core/config/node_reader.h"
#include "core/filter/filter.h"
#include "core/providers/translation.h"

namespace sluice::tools {
class ToolSet;
}

namespace sluice::filter {

using FilterBuilder = std::function<std::unique_ptr<FilterFactory>(config::NodeReader& reader,
                                                                   const config::Config& config)>;

// Something a config load builds once per snapshot, before its filters, and the snapshot keeps
// for its life — the shared-object plugins and the Lua plugins of `plugins:` (DESIGN §9: loaded
// at config load, whether or not the chain uses them). What they offer besides filters — the
// provider types and client APIs — the snapshot asks through ProviderTypeSource. Registered
// like a filter builder, so core/filter does not depend on what provides it. Throws
// config::ConfigError to refuse the load.
using SnapshotExtension = std::function<std::shared_ptr<const providers::ProviderTypeSource>(
    const config::Config& config)>;

// Builds a snapshot's tools (core/tools registers it, so core/filter does not link it): every
// tools: entry, after the snapshot extensions (a `type: plugin` tool comes from one of them).
using ToolSetBuilder = std::function<std::shared_ptr<const tools::ToolSet>(
    const config::Config& config,
    std::span<const std::shared_ptr<const providers::ProviderTypeSource>> extensions)>;

class FilterRegistry {
 public:
  static FilterRegistry& global();
  void add(std::string name, FilterBuilder builder);
  const FilterBuilder* find(std::string_view name) const;
  std::vector<std::string> names() const;
  void add_extension(SnapshotExtension extension);
  const std::vector<SnapshotExtension>& extensions() const { return extensions_; }
  void set_tool_set_builder(ToolSetBuilder builder) { tool_set_builder_ = std::move(builder); }
  const ToolSetBuilder& tool_set_builder() const { return tool_set_builder_; }

 private:
  std::vector<std::pair<std::string, FilterBuilder>> builders_;
  std::vector<SnapshotExtension> extensions_;
  ToolSetBuilder tool_set_builder_;
};

// `static FilterRegistrar kReg{"auth", &build_auth};` in a filter's .cc registers it at start-up.
struct FilterRegistrar {
  FilterRegistrar(const char* name, FilterBuilder builder) {
    FilterRegistry::global().add(name, std::move(builder));
  }
};

// `static SnapshotExtensionRegistrar kReg{&load_plugins};` registers a snapshot extension.
struct SnapshotExtensionRegistrar {
  explicit SnapshotExtensionRegistrar(SnapshotExtension extension) {
    FilterRegistry::global().add_extension(std::move(extension));
  }
};

}  // namespace sluice::filter
