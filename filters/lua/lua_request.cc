#include "filters/lua/lua_request.h"

extern "C" {
#include <lauxlib.h>
}

#include "core/log/log.h"
#include "core/metrics/metrics.h"
#include "filters/lua/lua_handle.h"

namespace sluice::filters::lua {

LuaRequest::LuaRequest(LuaState& state, const LuaFilterSettings& settings,
                       filter::RequestContext& ctx)
    : state_(state), settings_(settings), ctx_(ctx) {}

LuaRequest::~LuaRequest() {
  // on_complete normally did this; an arena torn down without it (tests) must not leak a call.
  if (call_ != nullptr && caller_ != nullptr) caller_->cancel(call_);
  if (suspended_ != nullptr) state_.abandon(suspended_);
  release_lua_refs();
}

void LuaRequest::push_handle(lua_State* L) {
  if (handle_ref_ == LUA_NOREF) handle_ref_ = make_handle(state_.L(), this);
  lua_rawgeti(L, LUA_REGISTRYINDEX, handle_ref_);
}

void LuaRequest::release_lua_refs() {
  lua_State* L = state_.L();
  retire_handle(L, handle_ref_);
  handle_ref_ = LUA_NOREF;
  if (ctx_table_ref_ != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, ctx_table_ref_);
  ctx_table_ref_ = LUA_NOREF;
  if (json_ref_ != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, json_ref_);
  json_ref_ = LUA_NOREF;
}

RunStatus LuaRequest::run(Hook hook, std::string_view extra, bool with_extra, lua_State** thread) {
  phase_ = hook;
  lua_State* t = state_.begin(hook);
  push_handle(t);
  lua_rawgeti(t, LUA_REGISTRYINDEX, state_.config_ref());
  if (with_extra) lua_pushlstring(t, extra.data(), extra.size());
  *thread = t;
  std::string error;
  RunStatus status = state_.resume(t, with_extra ? 3 : 2, this, &error);
  if (status == RunStatus::Failed) handle_failure(hook, error);
  return status;
}

bool LuaRequest::handle_failure(Hook hook, const std::string& error) {
  const std::string& plugin = state_.plugin_name();
  metrics::Metrics::process()
      .plugin_errors_total.Add({{"plugin", plugin}, {"hook", to_string(hook)}})
      .Increment();
  std::string message = "Lua filter \"" + plugin + "\" failed in " + to_string(hook) + ": " + error;
  const bool fail_request = hook == Hook::OnRequest && settings_.on_error == OnError::Fail;
  log::warn(message + (fail_request ? "" : " (the request goes on)"));
  if (fail_request) {
    // A refusal the hook had already made does not stand: the failure is what happened.
    ctx_.respond(500, "api_error", "plugin_error", std::move(message));
  }
  return fail_request;
}

filter::RequestStatus LuaRequest::on_request(filter::RequestContext& ctx) {
  if (!state_.has_hook(Hook::OnRequest)) return filter::RequestStatus::Continue;
  lua_State* thread = nullptr;
  RunStatus status = run(Hook::OnRequest, {}, false, &thread);
  return conclude_request(status, thread);
}

bool LuaRequest::set_reply(Reply reply) {
  if (reply_) return false;
  reply_ = std::move(reply);
  return true;
}

filter::RequestStatus LuaRequest::conclude_request(RunStatus status, lua_State* thread) {
  switch (status) {
    case RunStatus::Suspended:
      suspended_ = thread;
      return filter::RequestStatus::Stop;
    case RunStatus::Failed:
      reply_.reset();  // a refusal the hook made before it failed does not stand
      return ctx_.has_local_reply() ? filter::RequestStatus::Respond
                                    : filter::RequestStatus::Continue;
    case RunStatus::Done:
      state_.finish(thread);
      if (!reply_) return filter::RequestStatus::Continue;
      apply_reply();
      return filter::RequestStatus::Respond;
  }
  return filter::RequestStatus::Continue;
}

void LuaRequest::apply_reply() {
  Reply& r = *reply_;
  if (r.body) {
    ctx_.respond_json(r.status, std::move(*r.body));
  } else {
    ctx_.respond(r.status, r.type, "", std::move(r.message));
  }
  for (const auto& [name, value] : r.headers) ctx_.set_response_header(name, value);
  reply_.reset();
}

bool LuaRequest::start_http(lua_State* thread, plugin::HttpCallRequest request,
                            std::string* error) {
  if (ctx_.worker == nullptr || ctx_.worker->http == nullptr) {
    *error = "sluice.http is not available here (no worker loop)";
    return false;
  }
  caller_ = ctx_.worker->http;
  call_ = caller_->start(std::move(request), &LuaRequest::on_http_done, this, error);
  return call_ != nullptr;
}

void LuaRequest::on_http_done(void* arg, plugin::HttpCallResult& result) {
  auto* self = static_cast<LuaRequest*>(arg);
  self->call_ = nullptr;
  lua_State* thread = self->suspended_;
  self->suspended_ = nullptr;
  if (thread == nullptr) return;
  const int nargs = push_http_result(thread, result);
  std::string error;
  self->phase_ = Hook::OnRequest;
  RunStatus status = self->state_.resume(thread, nargs, self, &error);
  if (status == RunStatus::Failed) self->handle_failure(Hook::OnRequest, error);
  if (self->conclude_request(status, thread) == filter::RequestStatus::Stop) return;
  // Finished (Continue or Respond): the session reads ctx's local reply, if any.
  self->ctx_.resume_chain();
}

void LuaRequest::on_response_headers(filter::RequestContext& ctx, int status) {
  upstream_status_ = status;
  if (state_.has_hook(Hook::OnChunk)) ctx.rewrite_response_body();
  if (!state_.has_hook(Hook::OnResponse)) return;
  lua_State* thread = nullptr;
  if (run(Hook::OnResponse, {}, false, &thread) == RunStatus::Done) state_.finish(thread);
}

void LuaRequest::on_response_chunk(filter::RequestContext& ctx, std::string_view chunk) {
  if (!rewriting_ || !state_.has_hook(Hook::OnChunk)) return;
  lua_State* thread = nullptr;
  RunStatus status = run(Hook::OnChunk, chunk, true, &thread);
  if (status != RunStatus::Done) {
    rewriting_ = false;  // a broken rewriter leaves the rest of the stream alone
    return;
  }
  // A string replaces the chunk; nil (or nothing) passes it unchanged; anything else is a
  // plugin bug, reported like an error rather than passed over in silence.
  const int type = lua_gettop(thread) >= 1 ? lua_type(thread, 1) : LUA_TNIL;
  if (type == LUA_TSTRING) {
    size_t len = 0;
    const char* s = lua_tolstring(thread, 1, &len);
    ctx.replace_response_chunk(std::string(s, len));
  } else if (type != LUA_TNIL) {
    handle_failure(Hook::OnChunk, std::string("on_chunk returned a ") + lua_typename(thread, type) +
                                      " (it returns the replacement string, or nil)");
    rewriting_ = false;
  }
  state_.finish(thread);
}

void LuaRequest::on_complete(filter::RequestContext& ctx) {
  // The request ended (maybe the client left while on_request waited): drop the wait.
  if (call_ != nullptr) {
    caller_->cancel(call_);
    call_ = nullptr;
  }
  if (suspended_ != nullptr) {
    state_.abandon(suspended_);
    suspended_ = nullptr;
  }
}

void LuaRequest::on_log(filter::RequestContext& ctx) {
  if (state_.has_hook(Hook::OnComplete)) {
    lua_State* thread = nullptr;
    if (run(Hook::OnComplete, {}, false, &thread) == RunStatus::Done) state_.finish(thread);
  }
  release_lua_refs();
}

}  // namespace sluice::filters::lua
