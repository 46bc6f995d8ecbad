// What a Lua tool's call(args, ctx) returned, as the result agents get (DESIGN §9; the rules of
// each status are in core/tools/tool_call.h):
//
//   return value              result
//   a table                   Ok, JSON (sluice.json's encoding: keys sorted, marked arrays)
//   a string                  Ok, text
//   a number or a boolean     Ok, text ("42", "true")
//   nil, message              ToolError: the message (the tool's own answer: "city not found")
//   nothing, or nil alone     ToolError: "returned nothing" (a forgotten `return`, most often)
//   anything else             ToolError saying what it was (a function, a table JSON cannot
//                             hold: a cycle, mixed keys, NaN)
//
// A result is at most kMaxToolResultBytes, a message at most kMaxToolMessageBytes (the rest is
// cut, its size said): what a tool answers goes back to the agent whole, in one reply. A
// message says what went wrong only: whoever reports it names the tool ("tool t failed: ...").
#pragma once

extern "C" {
#include <lua.h>
}

#include <cstddef>
#include <string_view>

#include "core/tools/tool_call.h"

namespace sluice::filters::lua {

inline constexpr size_t kMaxToolResultBytes = size_t{4} << 20;
inline constexpr size_t kMaxToolMessageBytes = size_t{16} << 10;

// Reads the `count` values call returned, from stack index `first` of `L` (a finished thread).
// Calls no Lua code (no metamethod, no __tostring): it runs outside a protected call.
tools::CallResult tool_result(lua_State* L, int first, int count);

}  // namespace sluice::filters::lua
