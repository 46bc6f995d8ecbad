#include "filters/lua/lua_provider_plugin.h"

extern "C" {
#include <lauxlib.h>
}

#include <algorithm>
#include <filesystem>

#include "core/config/node_reader.h"

namespace sluice::filters::lua {
namespace {

// The endpoints a Lua provider may translate, by the names req.endpoint gives them.
constexpr filter::Endpoint kTranslatable[] = {
    filter::Endpoint::ChatCompletions, filter::Endpoint::Completions, filter::Endpoint::Embeddings,
    filter::Endpoint::Responses};

LuaPluginSettings settings_of(const config::PluginSpec& spec) {
  LuaPluginSettings s;
  s.file = spec.file;
  s.plugin_dir = std::filesystem::path(spec.file).parent_path().string();
  if (spec.max_instructions) s.max_instructions = *spec.max_instructions;
  if (spec.max_memory) s.max_memory = *spec.max_memory;
  return s;
}

}  // namespace

std::shared_ptr<const LuaProviderPlugin> LuaProviderPlugin::load(const config::PluginSpec& spec,
                                                                 const config::Config& config) {
  auto plugin = std::make_shared<LuaProviderPlugin>(spec, settings_of(spec));
  if (plugin->states_.first().kind() == PluginKind::Tool) {
    throw PluginLoadError("Lua plugin " + spec.file +
                          " is a tool (it defines call): declare it under tools: as {type: lua, "
                          "file: ...}, not under plugins:");
  }
  if (plugin->states_.first().kind() != PluginKind::Provider) return nullptr;
  plugin->read_declarations();
  plugin->states_.build(WorkerStates::workers_of(config), nullptr);
  return plugin;
}

LuaProviderPlugin::LuaProviderPlugin(const config::PluginSpec& spec, LuaPluginSettings settings)
    : spec_(spec),
      type_(spec.name),
      codec_name_("Lua plugin " + spec.name),
      states_(std::move(settings)) {}

bool LuaProviderPlugin::translates(filter::Endpoint endpoint) const {
  return std::find(endpoints_.begin(), endpoints_.end(), endpoint) != endpoints_.end();
}

void LuaProviderPlugin::read_declarations() {
  lua_State* L = states_.first().L();
  auto fail = [&](const std::string& message) {
    lua_settop(L, 0);
    throw PluginLoadError("Lua plugin " + spec_.file + ": " + message);
  };
  // Raw reads only: this runs outside a protected call (see raw_field).
  lua_rawgeti(L, LUA_REGISTRYINDEX, states_.first().plugin_ref());
  const int table = lua_gettop(L);

  raw_field(L, table, "stream");
  if (lua_type(L, -1) == LUA_TSTRING) {
    const std::string_view stream = lua_tostring(L, -1);
    if (stream == "ndjson") {
      framing_ = providers::StreamFraming::Ndjson;
    } else if (stream != "sse") {
      fail("stream must be \"sse\" or \"ndjson\", not \"" + std::string(stream) + "\"");
    }
  } else if (!lua_isnil(L, -1)) {
    fail("stream must be \"sse\" or \"ndjson\"");
  }
  lua_pop(L, 1);

  raw_field(L, table, "default_base_url");
  if (lua_type(L, -1) == LUA_TSTRING) {
    default_base_url_ = lua_tostring(L, -1);
    std::string error;
    if (!config::parse_url(default_base_url_, error)) {
      fail("default_base_url \"" + default_base_url_ + "\": " + error);
    }
  } else if (!lua_isnil(L, -1)) {
    fail("default_base_url must be a string (an http:// or https:// URL)");
  }
  lua_pop(L, 1);

  raw_field(L, table, "endpoints");
  if (lua_isnil(L, -1)) {
    endpoints_.push_back(filter::Endpoint::ChatCompletions);
  } else if (!lua_istable(L, -1)) {
    fail("endpoints must be a list like {\"chat.completions\"}");
  } else {
    for (int i = 1;; ++i) {
      lua_rawgeti(L, -1, i);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        break;
      }
      const char* name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
      auto it = std::find_if(
          std::begin(kTranslatable), std::end(kTranslatable),
          [&](filter::Endpoint e) { return std::string_view(filter::to_string(e)) == name; });
      if (it == std::end(kTranslatable)) {
        fail("endpoints[" + std::to_string(i) +
             "] must be one of \"chat.completions\", \"completions\", \"embeddings\", "
             "\"responses\"");
      }
      endpoints_.push_back(*it);
      lua_pop(L, 1);
    }
    if (endpoints_.empty()) fail("endpoints is empty: name what the provider translates");
  }
  lua_settop(L, table - 1);
}

}  // namespace sluice::filters::lua
