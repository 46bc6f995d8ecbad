// A Lua plugin's `config`: checked against the plugin's `schema` at load and turned into the
// Lua table every hook receives (DESIGN §9: "schema (optional) describes its config (types,
// required keys, defaults) and is checked at load").
//
// A schema maps each config key to a field description (Kong's plugin schemas are the model):
//   schema = {
//     words          = {type = "array", of = "string", required = true},
//     case_sensitive = {type = "boolean", default = false},
//     timeout        = {type = "integer", min = 1, max = 60000, default = 500},
//     on_timeout     = {type = "string", one_of = {"deny", "allow"}, default = "deny"},
//   }
// type: string | number | integer | boolean | array | table | any; `of` (arrays): the
// elements' type; `one_of`: the allowed values (of the value, or of each element); min/max:
// bounds of a number. A key the schema does not name is an error (with a did-you-mean); a
// plugin without a schema accepts any config. YAML scalars become strings, numbers or booleans
// (a quoted one stays a string; a key typed string takes any scalar as text).
#pragma once

extern "C" {
#include <lua.h>
}

#include "filters/lua/lua_settings.h"
#include "filters/lua/lua_state.h"

namespace sluice::filters::lua {

// Checks settings.config against the state's schema (throws config::ConfigError with the
// config's file:line:column and key path) and builds the config table in the state; returns
// its registry reference. A state may hold several (one per provider of a Lua provider type).
int build_config(LuaState& state, const LuaPluginSettings& settings);
// The same, made the state's config_ref (a filter's: one config per state).
void load_config(LuaState& state, const LuaPluginSettings& settings);

}  // namespace sluice::filters::lua
