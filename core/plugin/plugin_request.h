// PluginRequest: one request as one shared-object plugin filter sees it — the sluice_request*
// of the C ABI. It knows which hook is running (what the host API allows then), holds the
// plugin's per-request slot, the reason a hook failed, and the async work (timers, HTTP calls)
// the plugin started, which it cancels when the request ends. Lives in the request's arena;
// worker thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/filter/request_context.h"
#include "core/plugin/bound_filter.h"
#include "core/plugin/http_caller.h"
#include "sluice/plugin.h"

namespace sluice::plugin {

// Where the request is, for this filter. What the host API allows in each:
//   Idle            — between hooks (a callback of async work started without STOP): read only.
//   Request         — inside on_request: request headers/body, response header edits, respond,
//                     fail, async work.
//   Stopped         — on_request returned STOP and resume has not been called: as Request (from
//                     async callbacks), plus resume.
//   ResponseHeaders — inside on_response_headers: upstream headers, response header edits,
//                     rewrite_response_body.
//   ResponseChunk   — inside on_response_chunk: replace_chunk (after rewrite_response_body).
//   Complete        — inside on_complete (and after): read only; no async work.
enum class Phase : uint8_t { Idle, Request, Stopped, ResponseHeaders, ResponseChunk, Complete };
const char* to_string(Phase phase);

struct AsyncOp;  // plugin_request.cc

class PluginRequest {
 public:
  PluginRequest(filter::RequestContext& ctx, const BoundFilter& filter)
      : ctx_(ctx), filter_(filter) {}
  ~PluginRequest();  // cancels pending async work
  PluginRequest(const PluginRequest&) = delete;
  PluginRequest& operator=(const PluginRequest&) = delete;

  static PluginRequest* from(sluice_request* req) { return reinterpret_cast<PluginRequest*>(req); }
  sluice_request* handle() { return reinterpret_cast<sluice_request*>(this); }

  filter::RequestContext& ctx() { return ctx_; }
  const BoundFilter& filter() const { return filter_; }
  Phase phase() const { return phase_; }
  void set_phase(Phase phase) { phase_ = phase; }
  void** data_slot() { return &data_; }
  // The upstream status seen by on_response_headers (the context's response_status is only
  // set once the head is sent, after the hook).
  void set_upstream_status(int status) { upstream_status_ = status; }
  int upstream_status() const { return upstream_status_; }

  // host->fail: why the running hook (or the stopped request) failed.
  void set_failure(std::string_view message) { failure_.assign(message); }
  const std::string& failure() const { return failure_; }
  void clear_failure() { failure_.clear(); }
  // host->last_error: why the last host call on this request returned an error.
  sluice_status error(sluice_status status, std::string message) {
    last_error_ = std::move(message);
    return status;
  }
  const std::string& last_error() const { return last_error_; }
  void clear_last_error() { last_error_.clear(); }

  // The 500 plugin_error naming the filter and `hook` (with failure() or `fallback` as the
  // reason), counted in sluice_plugin_errors_total and logged.
  void respond_plugin_error(Hook hook, std::string_view fallback);
  // A failure that cannot change the reply any more (response hooks): counted and logged.
  void record_hook_error(Hook hook, std::string_view fallback);

  // host->resume: only when Stopped. Continues the chain (which may end the request and
  // destroy this object before it returns).
  sluice_status resume();

  // Async work, started in Request/Stopped phases (see plugin.h for the contracts).
  sluice_status start_timer(uint64_t delay_ms, sluice_timer_callback done, void* user,
                            sluice_async** out);
  sluice_status start_http_call(const sluice_http_request& request, sluice_http_callback done,
                                void* user, sluice_async** out);
  // host->call_model: an HTTP call to sluice itself, as this request's agent (model_call.h).
  sluice_status start_model_call(const sluice_model_request& request, sluice_model_callback done,
                                 void* user);
  void cancel(sluice_async* op);
  void cancel_all();  // the request ends: no callback runs after this
  bool has_pending() const { return pending_ != nullptr; }

 private:
  friend struct AsyncOp;
  sluice_status start_call(HttpCallRequest call, AsyncOp* op, const char* what, sluice_async** out);
  void link(AsyncOp* op);
  void unlink(AsyncOp* op);

  filter::RequestContext& ctx_;
  const BoundFilter& filter_;
  Phase phase_ = Phase::Idle;
  void* data_ = nullptr;  // the plugin's per-request slot
  int upstream_status_ = 0;
  std::string failure_;
  std::string last_error_;
  AsyncOp* pending_ = nullptr;  // intrusive list of async work not finished yet
  uint32_t model_calls_ = 0;    // host->call_model calls made (their request ids' suffix)
};

}  // namespace sluice::plugin
