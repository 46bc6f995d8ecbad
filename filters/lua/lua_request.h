// LuaRequest: one request's run through one Lua filter (the per-request filter object, made in
// the request's arena). It runs the plugin's hooks on its worker's LuaState, owns what the
// plugin keeps for the request (its handle `h`, the h:ctx() table, the decoded h:json()), and
// the sluice.http call a suspended on_request waits for.
//
// States of the on_request hook:
//   Idle      — not started, or finished (returned, responded or failed).
//   Suspended — yielded inside sluice.http: the chain is stopped (RequestStatus::Stop); the
//               call's completion resumes the hook; on_complete (client gone) cancels the call
//               and abandons the thread, never resuming it.
#pragma once

extern "C" {
#include <lua.h>
}

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/filter/filter.h"
#include "filters/lua/lua_globals.h"
#include "filters/lua/lua_settings.h"
#include "filters/lua/lua_state.h"

namespace sluice::filters::lua {

class LuaRequest final : public filter::Filter, public HookHost {
 public:
  LuaRequest(LuaState& state, const LuaFilterSettings& settings, filter::RequestContext& ctx);
  ~LuaRequest() override;
  LuaRequest(const LuaRequest&) = delete;
  LuaRequest& operator=(const LuaRequest&) = delete;

  // filter::Filter
  filter::RequestStatus on_request(filter::RequestContext& ctx) override;
  void on_response_headers(filter::RequestContext& ctx, int status) override;
  void on_response_chunk(filter::RequestContext& ctx, std::string_view chunk) override;
  void on_complete(filter::RequestContext& ctx) override;
  void on_log(filter::RequestContext& ctx) override;

  // HookHost
  Hook phase() const override { return phase_; }
  bool start_http(lua_State* thread, plugin::HttpCallRequest request, std::string* error) override;

  // For the handle's methods (lua_handle.cc).
  filter::RequestContext& ctx() { return ctx_; }
  LuaState& state() { return state_; }
  int upstream_status() const { return upstream_status_; }
  // What h:respond() asks for: kept until on_request's run ends, and made the request's reply
  // only if it ends well — a hook that fails after responding leaves no trace of that reply
  // (on_error: fail answers 500, on_error: continue lets the request go on).
  struct Reply {
    int status = 0;
    std::string type;                 // sluice's error shape (without a body): error.type
    std::string message;              //   and error.message
    std::optional<std::string> body;  // JSON, sent as it is
    std::vector<std::pair<std::string, std::string>> headers;
  };
  // false if the hook already responded (a plugin bug the handle reports).
  bool set_reply(Reply reply);
  int& json_ref() { return json_ref_; }
  int& ctx_table_ref() { return ctx_table_ref_; }
  // Pushes this request's handle (made on first use).
  void push_handle(lua_State* L);

 private:
  // Starts `hook` with (h, config[, extra]) on a pooled thread; the extra argument is the
  // value on top of `from`'s stack when extra_from is not null.
  RunStatus run(Hook hook, std::string_view extra, bool with_extra, lua_State** thread);
  // After on_request's run ended (at once or after a suspension): what the chain does next.
  filter::RequestStatus conclude_request(RunStatus status, lua_State* thread);
  // Makes h:respond()'s reply the request's local reply.
  void apply_reply();
  // Counts, logs and (on_error: fail, in on_request) turns a failure into the 500 reply.
  // Returns true when the request must end with that reply.
  bool handle_failure(Hook hook, const std::string& error);
  static void on_http_done(void* arg, plugin::HttpCallResult& result);
  void release_lua_refs();

  LuaState& state_;
  const LuaFilterSettings& settings_;
  filter::RequestContext& ctx_;
  Hook phase_ = Hook::OnRequest;
  int handle_ref_ = LUA_NOREF;            // the userdata `h`, invalidated when the request ends
  int ctx_table_ref_ = LUA_NOREF;         // h:ctx()
  int json_ref_ = LUA_NOREF;              // h:json(), decoded once
  lua_State* suspended_ = nullptr;        // on_request's thread while it waits for sluice.http
  plugin::HttpCall* call_ = nullptr;      // that call
  plugin::HttpCaller* caller_ = nullptr;  // who runs it (the worker's)
  int upstream_status_ = 0;               // from on_response_headers
  std::optional<Reply> reply_;            // from h:respond(), until on_request's run ends
  bool rewriting_ = true;                 // on_chunk still runs (off after it failed)
};

}  // namespace sluice::filters::lua
