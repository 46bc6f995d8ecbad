// LuaProviderSource: the Lua plugins of `plugins:` as a snapshot extension (core/filter/
// registry.h) — every entry whose file ends in .lua is opened when the config loads (a syntax
// error, an error at load or a malformed table refuses the load, naming the entry and the
// file); those that return a provider table become provider types named by their key:
//
//   plugins:
//     ollama_native: {file: ../plugins/lua/ollama_native.lua, config: {keep_alive: 5m}}
//   providers:
//     local: {type: ollama_native, base_url: http://127.0.0.1:11434, config: {...}}
//
// An entry that returns a filter table is left to the `lua` filter. One source per config
// generation, kept by its snapshot; its plugins' states close with it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"
#include "core/providers/translation.h"
#include "filters/lua/lua_provider_plugin.h"

namespace sluice::filters::lua {

class LuaProviderSource final : public providers::ProviderTypeSource {
 public:
  // Throws config::ConfigError naming the plugins: entry that cannot be used.
  static std::shared_ptr<const LuaProviderSource> load(const config::Config& config);

  // providers::ProviderTypeSource
  std::shared_ptr<const providers::ProviderCodec> provider_codec(
      const config::Provider& provider) const override;
  std::string default_base_url(std::string_view type) const override;
  std::shared_ptr<const providers::ClientApiCodec> client_api(filter::Endpoint) const override {
    return nullptr;
  }
  void provider_types(std::vector<std::string>& out) const override;

  // provider_codec with the provider entry's `config:` given (null when absent) and where it
  // is written. nullptr when `provider.type` is none of this source's types.
  std::shared_ptr<const providers::ProviderCodec> codec_for(
      const config::Provider& provider, const YAML::Node& provider_config,
      const config::SourceMark& config_mark) const;

  const LuaProviderPlugin* find(std::string_view type) const;

 private:
  std::vector<std::shared_ptr<const LuaProviderPlugin>> plugins_;
  std::string source_file_;  // the config file, for error marks
};

}  // namespace sluice::filters::lua
