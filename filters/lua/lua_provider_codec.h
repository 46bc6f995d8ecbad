// LuaProviderCodec: one provider entry of a Lua provider type — `providers: {local: {type:
// ollama_native, base_url: ..., config: {...}}}` — as core drives it (core/providers/
// translation.h). Its config is the plugins: entry's `config:` with the provider's own keys
// over it, checked by the plugin's schema at load; the config table lives in every state of
// the plugin (a state holds one per provider of its type). begin() gives each attempt a
// LuaTranslation on its worker's state.
//
// Threads: built on the main thread at config load; begin() runs on workers, each touching only
// its own slot of config_refs_ (as WorkerStates does with its states).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "core/providers/translation.h"
#include "filters/lua/lua_provider_plugin.h"
#include "filters/lua/lua_settings.h"

namespace sluice::filters::lua {

class LuaProviderCodec final : public providers::ProviderCodec,
                               public std::enable_shared_from_this<LuaProviderCodec> {
 public:
  // `provider_config` is the entry's `config:` (null when absent). Throws config::ConfigError
  // when the merged config does not pass the plugin's schema.
  static std::shared_ptr<const LuaProviderCodec> make(
      std::shared_ptr<const LuaProviderPlugin> plugin, const config::Provider& provider,
      const YAML::Node& provider_config, const config::SourceMark& config_mark,
      const std::string& source_file);

  // providers::ProviderCodec
  const std::string& name() const override { return plugin_->codec_name(); }
  bool native(filter::Endpoint) const override { return false; }
  bool translates(filter::Endpoint endpoint) const override;
  providers::StreamFraming framing() const override { return plugin_->framing(); }
  std::unique_ptr<providers::Translation> begin(unsigned worker) const override;

  const LuaProviderPlugin& plugin() const { return *plugin_; }
  // What req.provider shows the plugin.
  const std::string& provider_name() const { return provider_name_; }
  const std::string& base_url() const { return base_url_; }
  const std::string& api_key() const { return api_key_; }  // secret: never logged

  LuaProviderCodec(std::shared_ptr<const LuaProviderPlugin> plugin,
                   const config::Provider& provider, LuaPluginSettings config_settings);

 private:
  // Builds the config table in every state built so far (at load).
  void build_configs();

  std::shared_ptr<const LuaProviderPlugin> plugin_;
  std::string provider_name_;
  std::string base_url_;
  std::string api_key_;
  LuaPluginSettings config_settings_;  // the merged config, its marks and key path
  // Worker index → this provider's config table in that worker's state (LUA_NOREF until built).
  mutable std::vector<int> config_refs_;
};

}  // namespace sluice::filters::lua
