// The handle `h` a Lua hook receives (DESIGN §9): fields (h.request_id, h.agent, h.model,
// h.endpoint; h.status, h.provider, h.physical_model in on_response; h.status, h.usage,
// h.cost_usd, h.duration_ms in on_complete) and methods (h:header, h:set_header,
// h:remove_header, h:body, h:json, h:set_body, h:set_json, h:respond, h:ctx). A userdata that
// points at its LuaRequest until the request ends; used after that, or a method used outside
// its phase, it raises a clear error.
#pragma once

extern "C" {
#include <lua.h>
}

namespace sluice::filters::lua {

class LuaRequest;

// Registers the handle metatable in the state (once, at load).
void install_handle_metatable(lua_State* L);
// A new handle for `request`; returns its registry reference.
int make_handle(lua_State* L, LuaRequest* request);
// The request ended: the handle at `ref` points at nothing any more; the reference is freed.
void retire_handle(lua_State* L, int ref);

}  // namespace sluice::filters::lua
