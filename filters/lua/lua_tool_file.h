// LuaToolFile: the tool file of one `type: lua` entry of `tools:` (DESIGN §4, §9), loaded for
// one config generation:
//
//   tools:
//     text.shout: {type: lua, file: ../plugins/lua/shout_tool.lua, config: {suffix: "!"}}
//
//   -- shout_tool.lua
//   return {
//     name = "shout", version = "1.0.0",
//     description = "Upper-cases a text",             -- the entry's description wins
//     input_schema = {type = "object", ...},          -- the entry's input_schema wins
//     schema = {suffix = {type = "string", default = ""}},  -- checks the entry's config:
//     call = function(args, ctx) return args.text:upper() .. ctx.config.suffix end,
//   }
//
// Everything is checked when the config loads: the file compiles and runs, returns a tool's
// table (a `call` function, no filter or provider hook), its description and input_schema have
// the right types, and the entry's `config:` passes the file's `schema` — any problem refuses
// the config (at start-up, or on reload: the old config keeps serving) with the file and line.
//
// One LuaState per worker, all built at load, like a Lua filter's (DESIGN §9 "built at load"):
// every error shows at load rather than at some worker's first call, and no call pays for
// building a state. Each state holds the checked config table its calls get as ctx.config.
// The states close with this object, i.e. with the snapshot (its ToolSet) that holds it.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/config/config.h"
#include "filters/lua/lua_settings.h"
#include "filters/lua/lua_worker_states.h"

namespace sluice::filters::lua {

class LuaToolFile {
 public:
  // Loads `spec.file` for every worker of `config`. Throws config::ConfigError: at
  // tools.NAME.file for the file itself (with the Lua file and line), at the key of
  // tools.NAME.config that the file's schema refuses.
  static std::unique_ptr<LuaToolFile> load(const config::ToolSpec& spec,
                                           const config::Config& config);

  const std::string& tool() const { return tool_; }               // the entry's name: "text.shout"
  std::chrono::milliseconds timeout() const { return timeout_; }  // each call's deadline
  // The entry's description, else the file's ("" when neither has one).
  const std::string& description() const { return description_; }
  // The entry's input_schema, else the file's as JSON text, else {"type":"object"}.
  const std::string& input_schema_json() const { return input_schema_json_; }
  const WorkerStates& states() const { return states_; }

  explicit LuaToolFile(const config::ToolSpec& spec, LuaPluginSettings settings);

 private:
  // Reads description and input_schema from the first state's table. Throws PluginLoadError.
  void read_declarations(const config::ToolSpec& spec);

  std::string tool_;
  std::chrono::milliseconds timeout_;
  std::string description_;
  std::string input_schema_json_;
  WorkerStates states_;
};

}  // namespace sluice::filters::lua
