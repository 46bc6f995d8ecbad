// A `type: plugin` tools: entry, served by a tool a shared-object plugin registered
// (plugin.h "tools"). PluginSet::tool_source builds one per entry and config generation:
//
//   PluginTool         — the entry bound to the plugin's tool: the object the plugin's
//                        create_config made for it, and the library that keeps its code loaded.
//                        Shared by the executor and by every call not finished yet, so that
//                        destroy_config runs only once the generation is gone AND the plugin has
//                        finished every call (the rule plugin.h promises).
//   PluginToolExecutor — core's ToolExecutor for it: start() makes the sluice_tool_call handle
//                        (plugin_tool_call.h) and hands it to the plugin's call().
#pragma once

#include <memory>
#include <string>

#include "core/config/config.h"
#include "core/plugin/plugin_library.h"
#include "core/tools/tool_source.h"

namespace sluice::plugin {

class PluginTool {
 public:
  // Runs the plugin's create_config for `spec` (main thread). Throws config::ConfigError at the
  // entry when the plugin refuses its config.
  static std::shared_ptr<const PluginTool> create(std::shared_ptr<PluginLibrary> library,
                                                  const ToolRegistration& registration,
                                                  const config::ToolSpec& spec);
  ~PluginTool();  // destroy_config (never on a plugin's thread: see plugin_tool_call.h)
  PluginTool(const PluginTool&) = delete;
  PluginTool& operator=(const PluginTool&) = delete;

  const sluice_tool_vtable& vtable() const { return registration_->vtable; }
  void* config() const { return config_; }
  const std::string& plugin_name() const { return library_->name(); }

 private:
  PluginTool() = default;
  std::shared_ptr<PluginLibrary> library_;
  const ToolRegistration* registration_ = nullptr;  // lives in library_
  void* config_ = nullptr;                          // what create_config made (may be null)
};

class PluginToolExecutor final : public tools::ToolExecutor {
 public:
  explicit PluginToolExecutor(std::shared_ptr<const PluginTool> tool) : tool_(std::move(tool)) {}
  std::unique_ptr<tools::PendingCall> start(const tools::CallContext& ctx, tools::CallSink& sink,
                                            tools::CallResult& failed) const override;

 private:
  std::shared_ptr<const PluginTool> tool_;
};

// The ToolSource of `spec` (one tool): description and input_schema from the entry when it
// has them, else the plugin's. Throws config::ConfigError (the plugin refused the config, or the
// schema cannot be checked).
std::shared_ptr<tools::ToolSource> make_plugin_tool_source(std::shared_ptr<PluginLibrary> library,
                                                           const ToolRegistration& registration,
                                                           const config::ToolSpec& spec);

}  // namespace sluice::plugin
