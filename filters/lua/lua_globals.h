// The `sluice` global of a Lua plugin (DESIGN §9): sluice.log(level, msg), sluice.now(),
// sluice.json (lua_json.h), sluice.shared (the process-wide dictionary, core/plugin/
// shared_dict.h) and sluice.http{...} (an HTTP call that suspends the hook until it ends).
#pragma once

extern "C" {
#include <lua.h>
}

#include <string>

#include "core/plugin/http_caller.h"
#include "filters/lua/lua_state.h"

namespace sluice::filters::lua {

// What a running hook's request offers the globals: the per-request side of a hook run. The
// filter sets it on the LuaState (set_running_host) for the length of each resume.
class HookHost {
 public:
  virtual ~HookHost() = default;
  virtual Hook phase() const = 0;
  // Starts `request` for the suspended `thread`; the host resumes the thread with the result
  // (a table, or nil and an error) when it ends. false with *error if it cannot start.
  virtual bool start_http(lua_State* thread, plugin::HttpCallRequest request,
                          std::string* error) = 0;
};

// Adds the `sluice` table to the state's globals.
void install_globals(lua_State* L);

// Pushes sluice.http's result on `thread`: {status=, headers=, body=}, or nil, error.
// Returns the number of values pushed.
int push_http_result(lua_State* thread, const plugin::HttpCallResult& result);

}  // namespace sluice::filters::lua
