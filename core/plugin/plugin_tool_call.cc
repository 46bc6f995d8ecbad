// The tool entries of the host API (plugin.h "tools"): reading a call, finishing it from any
// thread, and calling a model for it. Each entry checks what it can and answers with a status;
// none throws and none calls back into the plugin.
#include "core/plugin/plugin_tool_call.h"

#include <simdjson.h>

#include <string>

#include "core/log/log.h"
#include "core/plugin/host_api.h"
#include "core/plugin/http_caller.h"
#include "core/plugin/model_call.h"

void sluice_tool_call::deliver() {
  if (pending != nullptr) pending->call_ = nullptr;
  pending = nullptr;
  if (sink != nullptr) {
    sluice::tools::CallSink* to = sink;
    sink = nullptr;
    to->on_tool_done(std::move(result));
  }
  // The mailbox deletes this call next, on this loop.
}

namespace sluice::plugin {

PluginPendingCall::~PluginPendingCall() {
  // Destroyed without cancel() before the end arrived: the runner no longer listens either way.
  cancel();
}

void PluginPendingCall::cancel() {
  sluice_tool_call* c = call_;
  if (c == nullptr) return;
  call_ = nullptr;
  c->pending = nullptr;
  c->sink = nullptr;
  // The plugin may be finishing it on a thread of its own right now; `c` stays allocated until
  // the worker delivers it, which cannot happen before this returns (we are the worker).
  const sluice_tool_vtable& vtable = c->owner->vtable();
  if (!c->finished.load(std::memory_order_acquire) && vtable.cancel != nullptr) {
    vtable.cancel(c->owner->config(), c);
  }
}

namespace {

sluice_str tool_call_name(sluice_tool_call* c) {
  return c != nullptr ? str(c->tool) : sluice_str{nullptr, 0};
}
sluice_str tool_call_arguments(sluice_tool_call* c) {
  return c != nullptr ? str(c->arguments) : sluice_str{nullptr, 0};
}
sluice_str tool_call_agent(sluice_tool_call* c) {
  return c != nullptr ? str(c->agent) : sluice_str{nullptr, 0};
}
sluice_str tool_call_request_id(sluice_tool_call* c) {
  return c != nullptr ? str(c->request_id) : sluice_str{nullptr, 0};
}
int64_t tool_call_remaining_ms(sluice_tool_call* c) {
  if (c == nullptr) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(c->deadline -
                                                               std::chrono::steady_clock::now())
      .count();
}

// The one way a call ends: the result is set, then the call goes to its worker's mailbox.
sluice_status finish(sluice_tool_call* c, tools::CallResult result) {
  if (c == nullptr) return SLUICE_INVALID;
  if (c->finished.exchange(true, std::memory_order_acq_rel)) {
    log::error("plugin " + c->owner->plugin_name() + ": tool call " + c->request_id + " (" +
               c->tool + ") finished twice; the second result is ignored");
    return SLUICE_ERROR;
  }
  c->result = std::move(result);
  // Hold the box: once posted, the call may be delivered and freed before post() returns.
  std::shared_ptr<WorkerMailbox::Box> box = c->mailbox;
  std::unique_ptr<WorkerMailbox::Letter> letter(c);
  if (box == nullptr || !WorkerMailbox::post(*box, letter)) {
    // Its worker has stopped. Freeing the call here would release the plugin's config on the
    // plugin's own thread (plugin.h promises it never is): it is left allocated.
    log::warn("plugin " + c->owner->plugin_name() + ": tool call " + c->request_id +
              " finished after its worker stopped; result dropped");
    (void)letter.release();
  }
  return SLUICE_OK;
}

sluice_status tool_finish_text(sluice_tool_call* c, sluice_str text) {
  tools::CallResult result;
  result.status = tools::CallStatus::Ok;
  result.content.assign(view(text));
  return finish(c, std::move(result));
}

sluice_status tool_finish_json(sluice_tool_call* c, sluice_str json) {
  tools::CallResult result;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string_view text = view(json);
  if (parser.parse(text.data(), text.size()).get(doc)) {
    result.status = tools::CallStatus::ToolError;
    result.content = "the tool answered invalid JSON (a bug in plugin " +
                     (c != nullptr ? c->owner->plugin_name() : std::string("?")) + ")";
    finish(c, std::move(result));
    return SLUICE_INVALID;
  }
  result.status = tools::CallStatus::Ok;
  result.json = true;
  result.content.assign(text);
  return finish(c, std::move(result));
}

sluice_status tool_finish_error(sluice_tool_call* c, sluice_str message) {
  tools::CallResult result;
  result.status = tools::CallStatus::ToolError;
  result.content.assign(view(message));
  if (result.content.empty()) result.content = "the tool failed (it gave no reason)";
  return finish(c, std::move(result));
}

// One model call made for a tool call: holds the plugin's tool (its code must still be loaded
// when `done` runs, even after the call was finished) until the answer is handed over.
struct ToolModelCall {
  std::shared_ptr<const PluginTool> owner;
  sluice_model_callback done = nullptr;
  void* user = nullptr;

  static void on_done(void* arg, HttpCallResult& result) {
    std::unique_ptr<ToolModelCall> self(static_cast<ToolModelCall*>(arg));
    const sluice_model_response response = model_response_of(result);
    self->done(self->user, &response);
  }
};

sluice_status tool_call_model(sluice_tool_call* c, const sluice_model_request* request,
                              sluice_model_callback done, void* user) {
  if (c == nullptr || request == nullptr || done == nullptr) return SLUICE_INVALID;
  if (std::this_thread::get_id() != c->worker_thread ||
      c->finished.load(std::memory_order_acquire)) {
    return SLUICE_WRONG_PHASE;
  }
  if (c->worker == nullptr || c->worker->http == nullptr) return SLUICE_UNAVAILABLE;
  ModelCallFor origin;
  origin.agent = c->agent;
  origin.request_id = c->request_id;
  origin.sequence = ++c->model_calls;
  origin.time_left = std::chrono::duration_cast<std::chrono::milliseconds>(
      c->deadline - std::chrono::steady_clock::now());
  HttpCallRequest call;
  std::string why;
  if (sluice_status s = prepare_model_call(*request, origin, &call, &why); s != SLUICE_OK) {
    log::debug("plugin " + c->owner->plugin_name() + ": tool_call_model refused: " + why);
    return s;
  }
  auto op = std::make_unique<ToolModelCall>();
  op->owner = c->owner;
  op->done = done;
  op->user = user;
  if (c->worker->http->start(std::move(call), &ToolModelCall::on_done, op.get(), &why) == nullptr) {
    log::warn("plugin " + c->owner->plugin_name() + ": tool_call_model not started: " + why);
    return SLUICE_UNAVAILABLE;
  }
  (void)op.release();  // on_done frees it
  return SLUICE_OK;
}

}  // namespace

void fill_tool_api(sluice_host_api& t) {
  t.tool_call_name = &tool_call_name;
  t.tool_call_arguments = &tool_call_arguments;
  t.tool_call_agent = &tool_call_agent;
  t.tool_call_request_id = &tool_call_request_id;
  t.tool_call_remaining_ms = &tool_call_remaining_ms;
  t.tool_finish_text = &tool_finish_text;
  t.tool_finish_json = &tool_finish_json;
  t.tool_finish_error = &tool_finish_error;
  t.tool_call_model = &tool_call_model;
}

}  // namespace sluice::plugin
