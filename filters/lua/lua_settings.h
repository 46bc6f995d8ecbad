// The settings of a Lua plugin's states (DESIGN §4, §9): what a `lua` filter entry says,
//   - lua: {file: ../plugins/lua/keyword_guard.lua, config: {...}, on_error: fail,
//           max_instructions: 1000000, max_memory: 64MiB}
// and what a Lua provider is built from (a `plugins:` entry and a provider's `config:`).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>

#include "core/config/config.h"
#include "core/config/node_reader.h"

namespace sluice::filters::lua {

// What a failing hook does to its request (an error, a budget passed, a bad yield).
//   Fail     — the request ends with 500 plugin_error naming the plugin and the hook.
//   Continue — the error is logged and counted; the request goes on as if the hook had
//              returned nothing.
enum class OnError : uint8_t { Fail, Continue };

// What every Lua plugin state is built from, and the config its hooks receive.
struct LuaPluginSettings {
  std::string file;                // absolute path of the plugin file
  std::string plugin_dir;          // its directory: where require() looks
  YAML::Node config;               // the plugin's own config (free-form; checked by its schema)
  config::SourceMark config_mark;  // of `config` (or of the entry without one)
  std::string config_path;         // "filters[1].lua.config", "providers.local.config"
  std::string source_file;         // the YAML file, for error marks
  uint64_t max_instructions = 1'000'000;     // VM instructions per hook run
  uint64_t max_memory = uint64_t{64} << 20;  // bytes per Lua state
};

struct LuaFilterSettings : LuaPluginSettings {
  OnError on_error = OnError::Fail;
};

// Reads and checks the settings (file exists and is readable). Throws config::ConfigError.
LuaFilterSettings read_settings(config::NodeReader& reader, const config::Config& config);

}  // namespace sluice::filters::lua
