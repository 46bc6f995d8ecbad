#include "core/plugin/plugin_request.h"

#include <chrono>
#include <vector>

#include "core/log/log.h"
#include "core/plugin/host_api.h"
#include "core/plugin/http_caller.h"
#include "core/plugin/model_call.h"

namespace sluice::plugin {

const char* to_string(Phase phase) {
  switch (phase) {
    case Phase::Idle:
      return "between hooks";
    case Phase::Request:
      return "on_request";
    case Phase::Stopped:
      return "a stopped on_request";
    case Phase::ResponseHeaders:
      return "on_response_headers";
    case Phase::ResponseChunk:
      return "on_response_chunk";
    case Phase::Complete:
      return "on_complete";
  }
  return "unknown";
}

// One timer or HTTP call a plugin started: the sluice_async* of the ABI. Heap-allocated (a
// libuv handle must outlive the request's arena until its close callback); linked into its
// PluginRequest while pending, detached (owner == nullptr) once finished or cancelled.
struct AsyncOp {
  enum class Kind : uint8_t { Timer, Http, Model };  // Model: an Http call to sluice itself
  Kind kind = Kind::Timer;
  PluginRequest* owner = nullptr;
  AsyncOp* prev = nullptr;
  AsyncOp* next = nullptr;
  void* user = nullptr;
  sluice_timer_callback timer_done = nullptr;
  sluice_http_callback http_done = nullptr;
  sluice_model_callback model_done = nullptr;
  uv_timer_t timer;              // Kind::Timer: this op is freed in the timer's close callback
  HttpCaller* caller = nullptr;  // Kind::Http, Kind::Model
  HttpCall* call = nullptr;

  static AsyncOp* from(sluice_async* op) { return reinterpret_cast<AsyncOp*>(op); }
  sluice_async* handle() { return reinterpret_cast<sluice_async*>(this); }

  static void on_timer_closed(uv_handle_t* h) { delete static_cast<AsyncOp*>(h->data); }

  static void on_timer(uv_timer_t* t) {
    auto* op = static_cast<AsyncOp*>(t->data);
    PluginRequest* req = op->owner;
    if (req == nullptr) return;  // cancelled (the close is already under way)
    req->unlink(op);
    uv_close(reinterpret_cast<uv_handle_t*>(&op->timer), &on_timer_closed);
    // Last use of `req` here: the callback may resume the chain and end the request.
    op->timer_done(op->user, req->handle());
  }

  static void on_http_done(void* arg, HttpCallResult& result) {
    auto* op = static_cast<AsyncOp*>(arg);
    PluginRequest* req = op->owner;
    req->unlink(op);
    if (op->kind == Kind::Model) {
      const sluice_model_response response = model_response_of(result);
      sluice_model_callback done = op->model_done;
      void* user = op->user;
      delete op;
      done(user, &response);
      return;
    }
    std::vector<sluice_header> headers;
    headers.reserve(result.headers.size());
    for (const auto& [name, value] : result.headers) headers.push_back({str(name), str(value)});
    sluice_http_response response{};
    response.size = sizeof response;
    response.status = result.error.empty() ? result.status : 0;
    response.headers = headers.data();
    response.header_count = headers.size();
    response.body = str(result.body);
    response.error = str(result.error);
    sluice_http_callback done = op->http_done;
    void* user = op->user;
    delete op;  // HttpCaller forgets the call once done ran
    done(user, req->handle(), &response);
  }

  // Stops it for good: its callback never runs.
  void stop() {
    owner = nullptr;
    if (kind == Kind::Timer) {
      uv_timer_stop(&timer);
      uv_close(reinterpret_cast<uv_handle_t*>(&timer), &on_timer_closed);
      return;
    }
    caller->cancel(call);
    delete this;
  }
};

PluginRequest::~PluginRequest() {
  cancel_all();
}

void PluginRequest::link(AsyncOp* op) {
  op->owner = this;
  op->prev = nullptr;
  op->next = pending_;
  if (pending_ != nullptr) pending_->prev = op;
  pending_ = op;
}

void PluginRequest::unlink(AsyncOp* op) {
  if (op->prev != nullptr) op->prev->next = op->next;
  if (op->next != nullptr) op->next->prev = op->prev;
  if (pending_ == op) pending_ = op->next;
  op->prev = op->next = nullptr;
  op->owner = nullptr;
}

void PluginRequest::cancel(sluice_async* handle) {
  // Only an op of this request that is still pending: a plugin may cancel one whose callback
  // already ran, and that must be harmless.
  for (AsyncOp* op = pending_; op != nullptr; op = op->next) {
    if (op->handle() == handle) {
      unlink(op);
      op->stop();
      return;
    }
  }
}

void PluginRequest::cancel_all() {
  while (pending_ != nullptr) {
    AsyncOp* op = pending_;
    unlink(op);
    op->stop();
  }
}

sluice_status PluginRequest::start_timer(uint64_t delay_ms, sluice_timer_callback done, void* user,
                                         sluice_async** out) {
  if (phase_ != Phase::Request && phase_ != Phase::Stopped) {
    return error(
        SLUICE_WRONG_PHASE,
        std::string("timer: only in on_request or while stopped, not in ") + to_string(phase_));
  }
  if (done == nullptr) return error(SLUICE_INVALID, "timer: no callback");
  if (ctx_.worker == nullptr || ctx_.worker->loop == nullptr) {
    return error(SLUICE_UNAVAILABLE, "timer: no worker loop runs this request");
  }
  auto* op = new AsyncOp();
  op->kind = AsyncOp::Kind::Timer;
  op->user = user;
  op->timer_done = done;
  uv_timer_init(ctx_.worker->loop, &op->timer);
  op->timer.data = op;
  uv_timer_start(&op->timer, &AsyncOp::on_timer, delay_ms, 0);
  link(op);
  if (out != nullptr) *out = op->handle();
  return SLUICE_OK;
}

sluice_status PluginRequest::start_http_call(const sluice_http_request& request,
                                             sluice_http_callback done, void* user,
                                             sluice_async** out) {
  if (phase_ != Phase::Request && phase_ != Phase::Stopped) {
    return error(
        SLUICE_WRONG_PHASE,
        std::string("http_call: only in on_request or while stopped, not in ") + to_string(phase_));
  }
  if (done == nullptr) return error(SLUICE_INVALID, "http_call: no callback");
  if (ctx_.worker == nullptr || ctx_.worker->http == nullptr) {
    return error(SLUICE_UNAVAILABLE, "http_call: this worker has no HTTP client for plugins");
  }
  HttpCallRequest call;
  if (request.method.len > 0) call.method.assign(view(request.method));
  call.url.assign(view(request.url));
  for (size_t i = 0; i < request.header_count; ++i) {
    call.headers.emplace_back(std::string(view(request.headers[i].name)),
                              std::string(view(request.headers[i].value)));
  }
  call.body.assign(view(request.body));
  call.timeout = std::chrono::milliseconds(request.timeout_ms);
  auto* op = new AsyncOp();
  op->kind = AsyncOp::Kind::Http;
  op->user = user;
  op->http_done = done;
  return start_call(std::move(call), op, "http_call", out);
}

sluice_status PluginRequest::start_call(HttpCallRequest call, AsyncOp* op, const char* what,
                                        sluice_async** out) {
  op->caller = ctx_.worker->http;
  std::string why;
  op->call = op->caller->start(std::move(call), &AsyncOp::on_http_done, op, &why);
  if (op->call == nullptr) {
    delete op;
    return error(SLUICE_INVALID, std::string(what) + ": " + why);
  }
  link(op);
  if (out != nullptr) *out = op->handle();
  return SLUICE_OK;
}

sluice_status PluginRequest::start_model_call(const sluice_model_request& request,
                                              sluice_model_callback done, void* user) {
  if (phase_ != Phase::Request && phase_ != Phase::Stopped) {
    return error(SLUICE_WRONG_PHASE,
                 std::string("call_model: only in on_request or while stopped, not in ") +
                     to_string(phase_));
  }
  if (done == nullptr) return error(SLUICE_INVALID, "call_model: no callback");
  // A filter that calls a model on every request would otherwise call itself forever.
  if (ctx_.internal_call) {
    return error(SLUICE_UNAVAILABLE,
                 "call_model: this request is itself a plugin's model call and may not make "
                 "another");
  }
  if (ctx_.worker == nullptr || ctx_.worker->http == nullptr) {
    return error(SLUICE_UNAVAILABLE, "call_model: this worker has no HTTP client for plugins");
  }
  ModelCallFor origin;
  origin.agent = ctx_.agent != nullptr ? std::string_view(ctx_.agent->name) : std::string_view();
  origin.request_id = ctx_.request_id;
  origin.sequence = ++model_calls_;
  origin.time_left = HttpCaller::kMaxTimeout;
  HttpCallRequest call;
  std::string why;
  if (sluice_status s = prepare_model_call(request, origin, &call, &why); s != SLUICE_OK) {
    return error(s, "call_model: " + why);
  }
  auto* op = new AsyncOp();
  op->kind = AsyncOp::Kind::Model;
  op->user = user;
  op->model_done = done;
  return start_call(std::move(call), op, "call_model", nullptr);
}

sluice_status PluginRequest::resume() {
  if (phase_ != Phase::Stopped) {
    return error(SLUICE_ERROR,
                 "resume: the request is not stopped (on_request did not return STOP, or "
                 "resume was already called)");
  }
  phase_ = Phase::Idle;
  if (!failure_.empty()) respond_plugin_error(Hook::OnRequest, "");
  filter::RequestContext& ctx = ctx_;
  ctx.resume_chain();  // may end the request and destroy *this: nothing after this line
  return SLUICE_OK;
}

void PluginRequest::respond_plugin_error(Hook hook, std::string_view fallback) {
  std::string message = "plugin filter \"" + filter_.name() + "\" failed in " + to_string(hook) +
                        ": " + (failure_.empty() ? std::string(fallback) : failure_);
  filter_.errors(hook).Increment();
  log::warn(message + " (request " + ctx_.request_id + ")");
  ctx_.respond(500, "api_error", "plugin_error", std::move(message));
}

void PluginRequest::record_hook_error(Hook hook, std::string_view fallback) {
  filter_.errors(hook).Increment();
  log::warn("plugin filter \"" + filter_.name() + "\" failed in " + to_string(hook) + ": " +
            (failure_.empty() ? std::string(fallback) : failure_) + " (request " + ctx_.request_id +
            ")");
  failure_.clear();
}

}  // namespace sluice::plugin
