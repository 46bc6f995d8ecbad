// sluice.json for Lua plugins: JSON text ↔ Lua values (simdjson's DOM to read, a small writer
// to write). JSON null is sluice.json.null (a light userdata, as lua-cjson does); arrays come
// back as tables carrying the array marker metatable, so an empty one ([] — `tools: []`) is
// written back as [] and not {}; sluice.json.array(t) marks a table of the plugin's own.
#pragma once

extern "C" {
#include <lua.h>
}

#include <string>
#include <string_view>

namespace sluice::filters::lua {

inline constexpr int kMaxJsonDepth = 128;

// Pushes the decoded value; false with *error (nothing pushed) on malformed JSON or nesting
// past kMaxJsonDepth (what decodes can always be encoded again).
bool json_decode(lua_State* L, std::string_view text, std::string* error);
// Appends the value at `index` as JSON, objects with their keys sorted (the same table gives
// the same text in every run); false with *error on what JSON cannot hold (a function, a table
// with mixed keys, NaN, nesting past kMaxJsonDepth).
bool json_encode(lua_State* L, int index, std::string& out, std::string* error);

// Puts the array marker metatable in the registry and the `sluice.json` table on the stack.
void push_json_library(lua_State* L);
// Pushes the array marker metatable (for tables built in C, e.g. from YAML lists).
void push_array_marker(lua_State* L);

}  // namespace sluice::filters::lua
