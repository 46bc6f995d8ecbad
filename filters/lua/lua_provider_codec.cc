#include "filters/lua/lua_provider_codec.h"

extern "C" {
#include <lua.h>
}

#include "filters/lua/lua_config.h"
#include "filters/lua/lua_translation.h"

namespace sluice::filters::lua {
namespace {

bool has_key(const YAML::Node& map, const YAML::Node& key) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.Scalar() == key.Scalar()) return true;
  }
  return false;
}

// The plugins: entry's config (defaults for every provider of the type) with the provider's
// own keys over it. The nodes are shared, not copied, so an error still points at the line
// that wrote the value.
YAML::Node merged_config(const YAML::Node& plugin_config, const YAML::Node& provider_config) {
  YAML::Node merged(YAML::NodeType::Map);
  if (plugin_config.IsMap()) {
    for (auto it = plugin_config.begin(); it != plugin_config.end(); ++it) {
      if (provider_config.IsMap() && has_key(provider_config, it->first)) continue;
      merged.force_insert(it->first, it->second);
    }
  }
  if (provider_config.IsMap()) {
    for (auto it = provider_config.begin(); it != provider_config.end(); ++it) {
      merged.force_insert(it->first, it->second);
    }
  }
  return merged;
}

}  // namespace

std::shared_ptr<const LuaProviderCodec> LuaProviderCodec::make(
    std::shared_ptr<const LuaProviderPlugin> plugin, const config::Provider& provider,
    const YAML::Node& provider_config, const config::SourceMark& config_mark,
    const std::string& source_file) {
  const std::string path = "providers." + provider.name + ".config";
  if (provider_config.IsDefined() && !provider_config.IsNull() && !provider_config.IsMap()) {
    throw config::ConfigError(
        config_mark, path,
        "expected a mapping (the settings of the " + plugin->type() + " provider)");
  }
  const config::PluginSpec& spec = plugin->spec();
  if (spec.config.IsDefined() && !spec.config.IsNull() && !spec.config.IsMap()) {
    throw config::ConfigError(
        spec.config_mark, "plugins." + spec.name + ".config",
        "expected a mapping (defaults for every provider of type " + spec.name + ")");
  }
  LuaPluginSettings settings = plugin->states().settings();
  settings.config = merged_config(spec.config, provider_config);
  settings.config_mark = config_mark;
  settings.config_path = path;
  settings.source_file = source_file;
  auto codec = std::make_shared<LuaProviderCodec>(std::move(plugin), provider, std::move(settings));
  codec->build_configs();
  return codec;
}

LuaProviderCodec::LuaProviderCodec(std::shared_ptr<const LuaProviderPlugin> plugin,
                                   const config::Provider& provider,
                                   LuaPluginSettings config_settings)
    : plugin_(std::move(plugin)),
      provider_name_(provider.name),
      base_url_(provider.base_url.empty() ? plugin_->default_base_url() : provider.base_url),
      api_key_(provider.api_key),
      config_settings_(std::move(config_settings)),
      config_refs_(WorkerStates::kSlots, LUA_NOREF) {}

void LuaProviderCodec::build_configs() {
  for (size_t i = 0; i < WorkerStates::kSlots; ++i) {
    LuaState* state = plugin_->states().built(i);
    if (state == nullptr) break;
    config_refs_[i] = build_config(*state, config_settings_);
  }
}

bool LuaProviderCodec::translates(filter::Endpoint endpoint) const {
  return plugin_->translates(endpoint);
}

std::unique_ptr<providers::Translation> LuaProviderCodec::begin(unsigned worker) const {
  std::string error;
  LuaState* state = plugin_->states().get(worker, &error);
  int config_ref = LUA_NOREF;
  if (state != nullptr) {
    // A state built after the load (a worker the load did not foresee) gets this provider's
    // config table on first use; the schema passed at load, so this fails only without memory.
    if (config_refs_[worker] == LUA_NOREF) {
      try {
        config_refs_[worker] = build_config(*state, config_settings_);
      } catch (const std::exception& e) {
        error = e.what();
        state = nullptr;
      }
    }
    config_ref = config_refs_[worker];
  }
  return std::make_unique<LuaTranslation>(shared_from_this(), state, config_ref, std::move(error));
}

}  // namespace sluice::filters::lua
