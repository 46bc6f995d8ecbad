#include "filters/lua/lua_tool_call.h"

extern "C" {
#include <lauxlib.h>
}

#include <algorithm>
#include <cassert>

#include "core/filter/worker_context.h"
#include "core/log/log.h"
#include "core/metrics/metrics.h"
#include "filters/lua/lua_json.h"
#include "filters/lua/lua_tool_result.h"

namespace sluice::filters::lua {

using Clock = std::chrono::steady_clock;

// The handle the caller keeps: it cancels and releases the call.
class LuaPendingToolCall final : public tools::PendingCall {
 public:
  explicit LuaPendingToolCall(LuaToolCall* call) : call_(call) {}
  ~LuaPendingToolCall() override { call_->release(); }
  void cancel() override { call_->cancel(); }

 private:
  LuaToolCall* call_;
};

namespace {

tools::CallResult result_of(tools::CallStatus status, std::string message) {
  tools::CallResult r;
  r.status = status;
  r.content = std::move(message);
  return r;
}

// "5s", "300ms": as the tools endpoint says a timeout.
std::string duration_text(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + "s";
  return std::to_string(ms.count()) + "ms";
}

void set_string(lua_State* L, const char* key, std::string_view value) {
  lua_pushlstring(L, value.data(), value.size());
  lua_setfield(L, -2, key);
}

}  // namespace

std::unique_ptr<tools::PendingCall> LuaToolCall::start(const Tool& tool, LuaState& state,
                                                       const tools::CallContext& ctx,
                                                       tools::CallSink& sink,
                                                       tools::CallResult& failed) {
  assert(ctx.worker != nullptr && ctx.worker->loop != nullptr);
  lua_State* thread = state.begin(Hook::Call);
  // The arguments were checked against the input_schema; "" (no body) is no arguments.
  const std::string_view args = ctx.arguments.empty() ? std::string_view("{}") : ctx.arguments;
  std::string error;
  if (!json_decode(thread, args, &error)) {
    state.finish(thread);
    failed =
        result_of(tools::CallStatus::ToolError, "its arguments cannot be given to Lua: " + error);
    return nullptr;
  }
  auto* call = new LuaToolCall(tool, state, ctx, sink);
  auto handle = std::make_unique<LuaPendingToolCall>(call);
  call->push_ctx(thread, ctx);
  call->thread_ = thread;
  call->in_start_ = true;
  call->run(2);
  call->in_start_ = false;
  return handle;
}

LuaToolCall::LuaToolCall(const Tool& tool, LuaState& state, const tools::CallContext& ctx,
                         tools::CallSink& sink)
    : tool_(tool.name),
      timeout_(tool.timeout),
      sink_(sink),
      loop_(ctx.worker->loop),
      http_(ctx.worker->http),
      deadline_(ctx.deadline),
      state_(&state) {}

void LuaToolCall::push_ctx(lua_State* thread, const tools::CallContext& ctx) {
  const Clock::duration left = std::max(Clock::duration::zero(), deadline_ - Clock::now());
  const double deadline =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch() + left)
          .count();
  lua_createtable(thread, 0, 6);
  set_string(thread, "tool", ctx.tool.empty() ? std::string_view(tool_) : ctx.tool);
  set_string(thread, "agent", ctx.agent);
  set_string(thread, "request_id", ctx.request_id);
  lua_pushnumber(thread, static_cast<lua_Number>(
                             std::chrono::duration_cast<std::chrono::milliseconds>(left).count()));
  lua_setfield(thread, -2, "time_left_ms");
  lua_pushnumber(thread, deadline);
  lua_setfield(thread, -2, "deadline");
  lua_rawgeti(thread, LUA_REGISTRYINDEX, state_->config_ref());
  lua_setfield(thread, -2, "config");
}

void LuaToolCall::run(int nargs) {
  stage_ = Stage::Running;
  std::string error;
  const RunStatus status = state_->resume(thread_, nargs, this, &error);
  switch (status) {
    case RunStatus::Suspended:
      stage_ = Stage::WaitingHttp;
      return;
    case RunStatus::Failed: {
      thread_ = nullptr;  // resume() released it
      metrics::Metrics::process()
          .plugin_errors_total.Add({{"plugin", state_->plugin_name()}, {"hook", "call"}})
          .Increment();
      log::warn("Lua tool \"" + tool_ + "\" failed: " + error);
      end(result_of(tools::CallStatus::ToolError, std::move(error)));
      return;
    }
    case RunStatus::Done: {
      tools::CallResult result = tool_result(thread_, 1, lua_gettop(thread_));
      state_->finish(thread_);
      thread_ = nullptr;
      end(std::move(result));
      return;
    }
  }
}

bool LuaToolCall::start_http(lua_State* thread, plugin::HttpCallRequest request,
                             std::string* error) {
  assert(thread == thread_);
  (void)thread;
  if (http_ == nullptr) {
    *error = "sluice.http is not available here (no HTTP client on this worker)";
    return false;
  }
  // The HTTP call ends when the tool call would: its own timer then stops the exchange.
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Clock::now());
  if (left.count() <= 0) {
    *error = "the tool call's deadline has passed";
    return false;
  }
  http_held_to_deadline_ = request.timeout >= left;
  if (http_held_to_deadline_) request.timeout = left;
  http_call_ = http_->start(std::move(request), &LuaToolCall::on_http_done, this, error);
  return http_call_ != nullptr;
}

void LuaToolCall::on_http_done(void* arg, plugin::HttpCallResult& result) {
  auto* self = static_cast<LuaToolCall*>(arg);
  self->http_call_ = nullptr;
  // HttpCaller's own timer ("timeout after 300ms") on a request held to the deadline: the
  // deadline passed (by the loop's clock, which may lag the steady clock by a millisecond).
  if (self->http_held_to_deadline_ && result.error.starts_with("timeout after ")) {
    // The call is over, whatever the tool would make of the error.
    self->state_->abandon(self->thread_);
    self->thread_ = nullptr;
    self->end(result_of(tools::CallStatus::Timeout,
                        "after " + duration_text(self->timeout_) + ", waiting in sluice.http"));
    return;
  }
  if (result.error == "worker shutting down") {
    // Nothing the tool could do with it: the worker stops (CallStatus's rules: Unavailable).
    self->state_->abandon(self->thread_);
    self->thread_ = nullptr;
    self->end(result_of(tools::CallStatus::Unavailable, "the worker is shutting down"));
    return;
  }
  self->run(push_http_result(self->thread_, result));
}

void LuaToolCall::end(tools::CallResult&& result) {
  if (in_start_) {
    stage_ = Stage::Delivering;
    result_ = std::move(result);
    uv_timer_init(loop_, &timer_);
    timer_.data = this;
    timer_open_ = true;
    uv_timer_start(&timer_, &LuaToolCall::on_timer, 0, 0);
    return;
  }
  stage_ = Stage::Ended;
  sink_.on_tool_done(std::move(result));
}

void LuaToolCall::on_timer(uv_timer_t* timer) {
  auto* self = static_cast<LuaToolCall*>(timer->data);
  if (self->stage_ != Stage::Delivering) return;
  self->stage_ = Stage::Ended;
  self->sink_.on_tool_done(std::move(self->result_));
}

void LuaToolCall::cancel() {
  if (stage_ == Stage::Ended) return;
  if (http_call_ != nullptr) {
    http_->cancel(http_call_);
    http_call_ = nullptr;
  }
  if (thread_ != nullptr) {
    state_->abandon(thread_);
    thread_ = nullptr;
  }
  if (timer_open_) uv_timer_stop(&timer_);
  stage_ = Stage::Ended;
}

void LuaToolCall::release() {
  cancel();
  if (!timer_open_) {
    delete this;
    return;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &LuaToolCall::on_closed);
}

void LuaToolCall::on_closed(uv_handle_t* handle) {
  delete static_cast<LuaToolCall*>(handle->data);
}

}  // namespace sluice::filters::lua
