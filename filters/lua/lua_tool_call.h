// LuaToolCall: one call of a Lua tool — the file's call(args, ctx) run as a coroutine on the
// LuaState of the worker that serves the call (DESIGN §9). `args` is the call's arguments
// decoded (already checked against the input_schema); `ctx` a fresh table:
//   ctx.tool, ctx.agent ("" without one), ctx.request_id, ctx.config (the entry's config:,
//   checked by the file's schema, defaults filled in), ctx.time_left_ms (until the deadline,
//   when the call started), ctx.deadline (the same instant on sluice.now()'s clock).
// sluice.http suspends the coroutine without blocking the worker; its timeout is cut to what
// is left until the deadline, so the HTTP call stops when the tool call would: a request that
// fails once the deadline has passed ends the call as a Timeout, whether or not the caller's
// own deadline timer has fired yet.
//
// Stages (Running and WaitingHttp alternate, one per sluice.http; then Delivering when the end
// came inside start() — else the end is delivered at once, from the loop —, then Ended):
//   Running     — inside a resume of the coroutine (in start(), or in a sluice.http completion).
//   WaitingHttp — suspended in sluice.http: the call's HTTP request is in flight.
//   Delivering  — ended inside start(): the result waits for a zero timer, because a sink is
//                 never called from inside ToolExecutor::start().
//   Ended       — the sink ran, or the call was cancelled. Nothing of Lua is held any more (the
//                 coroutine finished or was unreferenced, its HTTP request cancelled), so the
//                 state — and the snapshot that owns it — may go while this object waits for
//                 its handle to be released.
// A cancelled call is never resumed: cancel() aborts the HTTP request (its completion never
// runs) and abandons the coroutine.
//
// Memory: the object lives until its PendingCall handle is released and, when it armed its
// timer, until the timer's close callback (libuv frees handles only there).
#pragma once

extern "C" {
#include <lua.h>
}

#include <uv.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/plugin/http_caller.h"
#include "core/tools/tool_call.h"
#include "filters/lua/lua_globals.h"
#include "filters/lua/lua_state.h"

namespace sluice::filters::lua {

class LuaToolCall final : public HookHost {
 public:
  // Where a call comes from: its tool, as LuaToolFile loaded it.
  struct Tool {
    const std::string& name;            // "text.shout"
    std::chrono::milliseconds timeout;  // the entry's: its deadline, for messages
  };

  // Starts a call of `tool` on `state` (the serving worker's). ctx.worker (its loop) is
  // required. nullptr with `failed` when the arguments cannot become Lua values (then the sink
  // is never called); else the handle, and the sink is called once, later, on the loop.
  static std::unique_ptr<tools::PendingCall> start(const Tool& tool, LuaState& state,
                                                   const tools::CallContext& ctx,
                                                   tools::CallSink& sink,
                                                   tools::CallResult& failed);

  // HookHost
  Hook phase() const override { return Hook::Call; }
  bool start_http(lua_State* thread, plugin::HttpCallRequest request, std::string* error) override;

 private:
  enum class Stage : uint8_t { Running, WaitingHttp, Delivering, Ended };
  friend class LuaPendingToolCall;

  LuaToolCall(const Tool& tool, LuaState& state, const tools::CallContext& ctx,
              tools::CallSink& sink);
  ~LuaToolCall() = default;

  // Pushes the ctx table on the coroutine (after args).
  void push_ctx(lua_State* thread, const tools::CallContext& ctx);
  // Resumes the coroutine with `nargs` values on its stack; ends the call unless it suspended.
  void run(int nargs);
  // Ends the call with `result`. The sink call is the last thing it does: the sink may release
  // the handle, which may delete this object. Callers return right after.
  void end(tools::CallResult&& result);
  void cancel();
  // The handle is gone: cancels what still runs, then deletes this object (after its timer
  // closed, when it has one).
  void release();
  static void on_http_done(void* arg, plugin::HttpCallResult& result);
  static void on_timer(uv_timer_t* timer);
  static void on_closed(uv_handle_t* handle);

  std::string tool_;  // the tool's name, for messages (copied: the file may go first)
  std::chrono::milliseconds timeout_;  // the tool's, for the timeout's message
  tools::CallSink& sink_;
  uv_loop_t* loop_;
  plugin::HttpCaller* http_;  // the worker's, for sluice.http (may be null: no HTTP)
  std::chrono::steady_clock::time_point deadline_;
  Stage stage_ = Stage::Running;
  LuaState* state_;
  lua_State* thread_ = nullptr;            // the coroutine, while Running or WaitingHttp
  plugin::HttpCall* http_call_ = nullptr;  // WaitingHttp: the request in flight
  bool http_held_to_deadline_ = false;     // its timeout was cut to the call's deadline
  tools::CallResult result_;               // Delivering: what the timer delivers
  uv_timer_t timer_{};                     // armed only for Delivering
  bool timer_open_ = false;                // timer_ was initialised (must be closed)
  bool in_start_ = false;                  // inside start(): an end must wait for the loop
};

}  // namespace sluice::filters::lua
