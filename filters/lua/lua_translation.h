// LuaTranslation: one attempt through a Lua provider (core/providers/translation.h), on its
// worker's LuaState. Each step runs one hook of the plugin (sdk/lua/README.md "Providers"):
//
//   request()  → transform_request(req, config, ctx)   → {path=, headers=, body=} | nil, msg
//   response() → transform_response(res, config, ctx)  → {status=, body=, usage=} | nil, msg
//   event()    → transform_chunk(ev, config, ctx)      → {chunk, ...} | nil | nil, msg
//   end()      → transform_end(config, ctx) (optional) → {chunk, ...} | nil | nil, msg
//                then the usage chunk (when the client asked include_usage and usage is
//                known) and `data: [DONE]`, written by sluice.
//
// Each hook runs under the plugin's instruction budget and memory cap. The hook's arguments
// are built, and its results read, inside the same protected run (a trampoline on the hook's
// thread): decoding a large body counts against the memory cap, and a bad result is a Lua
// error like any other. How a step ends (message() is what core puts after the codec's name,
// "Lua plugin <type>: "):
//   - a Lua error, a budget passed, a result of the wrong shape: Failed, "<hook>: <error>",
//     counted in sluice_plugin_errors_total{plugin,hook} and logged;
//   - `nil, "message"`: transform_request → Invalid with the plugin's message (the client's
//     400); the others → Failed, "<hook>: <message>" (the upstream's answer could not be
//     translated: not a plugin error).
// `ctx` is one table per attempt, shared by its hooks; it is released with the translation.
#pragma once

extern "C" {
#include <lua.h>
}

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/providers/translation.h"
#include "core/usage/usage.h"
#include "filters/lua/lua_globals.h"
#include "filters/lua/lua_state.h"

namespace sluice::filters::lua {

class LuaProviderCodec;

class LuaTranslation final : public providers::Translation, public HookHost {
 public:
  // `state` null: the worker has no state (`broken` says why); every step fails with that.
  LuaTranslation(std::shared_ptr<const LuaProviderCodec> codec, LuaState* state, int config_ref,
                 std::string broken);
  ~LuaTranslation() override;
  LuaTranslation(const LuaTranslation&) = delete;
  LuaTranslation& operator=(const LuaTranslation&) = delete;

  // providers::Translation
  providers::TranslateStatus request(const providers::TranslateInput& in,
                                     providers::TranslatedRequest& out) override;
  providers::TranslateStatus response(int& status, std::string_view body,
                                      std::string& out) override;
  providers::TranslateStatus event(std::string_view name, std::string_view data,
                                   std::string& out) override;
  providers::TranslateStatus end(std::string& out) override;
  const usage::Usage& usage() const override { return usage_; }
  const std::string& message() const override { return message_; }

  // HookHost: provider hooks have no sluice.http (the globals refuse it by phase).
  Hook phase() const override { return hook_; }
  bool start_http(lua_State*, plugin::HttpCallRequest, std::string* error) override;

 private:
  // What one hook run reads and writes. Set by the step, used by the trampoline.
  struct Run {
    const providers::TranslateInput* in = nullptr;  // transform_request
    providers::TranslatedRequest* request = nullptr;
    int status = 0;          // transform_response: in and out
    std::string_view body;   // transform_response
    std::string_view event;  // transform_chunk: the SSE event name ("" = none)
    std::string_view data;   // transform_chunk
    std::string out;         // client bytes (a body, or chunk events) written by the run
    std::optional<std::string> refusal;  // `nil, "message"`
  };

  // Runs `hook` with run_: Ok when it returned (run_ holds what it said), or Failed with
  // message_ set (counted and logged as a plugin error).
  providers::TranslateStatus run(Hook hook);
  // After `nil, "message"` from a response hook: Failed, with message_ naming the hook.
  providers::TranslateStatus refused(Hook hook);
  static int trampoline(lua_State* L);
  // Pushes the hook's arguments; -1 when the step is refused before the hook runs.
  int push_args(lua_State* L);
  void push_ctx(lua_State* L);
  // Reads the `count` results at the bottom of the stack into run_ (raises on a bad shape).
  void read_results(lua_State* L, int count);
  void read_ctx_usage(lua_State* L);
  void append_usage_chunk(std::string& out) const;

  std::shared_ptr<const LuaProviderCodec> codec_;  // keeps the plugin and its states alive
  LuaState* state_;
  int config_ref_;
  std::string broken_;
  int ctx_ref_ = LUA_NOREF;  // the attempt's ctx table
  Hook hook_ = Hook::TransformRequest;
  Run run_;
  bool stream_usage_ = false;  // the client asked for the usage chunk
  filter::Endpoint endpoint_ = filter::Endpoint::ChatCompletions;
  usage::Usage usage_;
  std::string message_;
  // Of the last chunk written: what the usage chunk repeats.
  std::string last_id_, last_model_, last_object_;
  double last_created_ = 0;
};

}  // namespace sluice::filters::lua
