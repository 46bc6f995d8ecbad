#include "filters/lua/lua_provider_source.h"

#include "core/filter/registry.h"
#include "filters/lua/lua_provider_codec.h"
#include "filters/lua/lua_state.h"

namespace sluice::filters::lua {
namespace {

// The types core has itself: a plugin named like one would never be asked for.
constexpr std::string_view kBuiltinTypes[] = {"openai", "mock"};

}  // namespace

std::shared_ptr<const LuaProviderSource> LuaProviderSource::load(const config::Config& config) {
  auto source = std::make_shared<LuaProviderSource>();
  source->source_file_ = config.source_path;
  for (const auto& [name, spec] : config.plugins) {
    if (!spec.file.ends_with(".lua")) continue;
    const config::SourceMark& mark = spec.file_mark.line > 0 ? spec.file_mark : spec.mark;
    std::shared_ptr<const LuaProviderPlugin> plugin;
    try {
      plugin = LuaProviderPlugin::load(spec, config);
    } catch (const PluginLoadError& e) {
      throw config::ConfigError(mark, "plugins." + name + ".file", e.what());
    }
    if (plugin == nullptr) continue;  // a filter
    for (std::string_view builtin : kBuiltinTypes) {
      if (name == builtin) {
        throw config::ConfigError(spec.mark, "plugins." + name,
                                  "\"" + name +
                                      "\" is a built-in provider type: name the Lua provider "
                                      "otherwise (its key is its type)");
      }
    }
    source->plugins_.push_back(std::move(plugin));
  }
  return source;
}

const LuaProviderPlugin* LuaProviderSource::find(std::string_view type) const {
  for (const auto& plugin : plugins_) {
    if (plugin->type() == type) return plugin.get();
  }
  return nullptr;
}

std::shared_ptr<const providers::ProviderCodec> LuaProviderSource::provider_codec(
    const config::Provider& provider) const {
  return codec_for(provider, provider.config,
                   provider.config_mark.line > 0 ? provider.config_mark : provider.mark);
}

std::shared_ptr<const providers::ProviderCodec> LuaProviderSource::codec_for(
    const config::Provider& provider, const YAML::Node& provider_config,
    const config::SourceMark& config_mark) const {
  for (const auto& plugin : plugins_) {
    if (plugin->type() != provider.type) continue;
    try {
      return LuaProviderCodec::make(plugin, provider, provider_config, config_mark, source_file_);
    } catch (const PluginLoadError& e) {  // a malformed schema
      throw config::ConfigError(config_mark, "providers." + provider.name + ".config", e.what());
    }
  }
  return nullptr;
}

std::string LuaProviderSource::default_base_url(std::string_view type) const {
  const LuaProviderPlugin* plugin = find(type);
  return plugin != nullptr ? plugin->default_base_url() : std::string();
}

void LuaProviderSource::provider_types(std::vector<std::string>& out) const {
  for (const auto& plugin : plugins_) out.push_back(plugin->type());
}

namespace {

// Every .lua entry of `plugins:` is opened when the config loads, like the shared objects.
const filter::SnapshotExtensionRegistrar kLoadLuaPlugins{
    [](const config::Config& config) -> std::shared_ptr<const providers::ProviderTypeSource> {
      return LuaProviderSource::load(config);
    }};

}  // namespace

}  // namespace sluice::filters::lua
