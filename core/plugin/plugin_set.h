// PluginSet: the shared-object plugins of one config (`plugins:`), loaded at config load, and
// what they registered. The `plugin` filter's builder resolves `- plugin: {name: X}` here.
// Holding a PluginSet holds its libraries open (PluginLibrary's lifetime rules).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"
#include "core/plugin/plugin_library.h"
#include "core/providers/translation.h"

namespace sluice::plugin {

// A filter some plugin of the set registered.
struct FoundFilter {
  std::shared_ptr<PluginLibrary> library;  // keeps the code of `registration` loaded
  const FilterRegistration* registration = nullptr;
};

class PluginSet final : public providers::ProviderTypeSource {
 public:
  // Loads every shared-object plugin of config.plugins (a .lua entry is left to the Lua
  // host), then the shipped plugins the config needs but does not declare (load_shipped). Throws
  // config::ConfigError at the entry's `file` (missing file, not a plugin, wrong ABI, missing entry
  // point, init failed) — the load is refused whole.
  static std::shared_ptr<const PluginSet> load(const config::Config& config);

  // library == nullptr when no plugin registered `name`.
  FoundFilter find_filter(std::string_view name) const;
  // Every filter name the plugins registered, for error messages.
  std::vector<std::string> filter_names() const;
  const std::vector<std::shared_ptr<PluginLibrary>>& libraries() const { return libraries_; }

  // ProviderTypeSource
  std::shared_ptr<const providers::ProviderCodec> provider_codec(
      const config::Provider& provider) const override;
  std::string default_base_url(std::string_view type) const override;
  std::shared_ptr<const providers::ClientApiCodec> client_api(
      filter::Endpoint endpoint) const override;
  void provider_types(std::vector<std::string>& out) const override;
  // A `type: plugin` entry whose plugin is one of this set's: its tool, or a ConfigError
  // listing the tools that plugin registers.
  std::shared_ptr<tools::ToolSource> tool_source(const config::ToolSpec& spec) const override;

 private:
  void load_declared(const config::Config& config);
  // Shipped plugins (found by name in the plugin directory) for provider types and plugin
  // tools nobody declared, and the anthropic plugin's client API when no declared plugin has one.
  void load_shipped(const config::Config& config);
  const PluginLibrary* provider_library(std::string_view type) const;

  std::vector<std::shared_ptr<PluginLibrary>> libraries_;
};

// True for a plugins: entry the shared-object loader handles (anything but a .lua file).
bool is_shared_object_plugin(const config::PluginSpec& spec);

}  // namespace sluice::plugin
