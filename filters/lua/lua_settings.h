// The `lua` filter's settings (DESIGN §4, §9):
//   - lua: {file: ../plugins/lua/keyword_guard.lua, config: {...}, on_error: fail,
//           max_instructions: 1000000, max_memory: 64MiB}
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

struct LuaFilterSettings {
  std::string file;                // absolute path of the plugin file
  std::string plugin_dir;          // its directory: where require() looks
  YAML::Node config;               // the plugin's own config (free-form; checked by its schema)
  config::SourceMark config_mark;  // of `config` (or of the filter entry without one)
  std::string config_path;         // "filters[1].lua.config"
  std::string source_file;         // the YAML file, for error marks
  OnError on_error = OnError::Fail;
  uint64_t max_instructions = 1'000'000;     // VM instructions per hook run
  uint64_t max_memory = uint64_t{64} << 20;  // bytes per Lua state
};

// Reads and checks the settings (file exists and is readable). Throws config::ConfigError.
LuaFilterSettings read_settings(config::NodeReader& reader, const config::Config& config);

}  // namespace sluice::filters::lua
