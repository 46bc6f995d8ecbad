// PluginToolCall: one call of a plugin's tool — the sluice_tool_call* of the C ABI — and the
// PendingCall core's tool runner holds for it.
//
// Two owners, two threads. The worker owns the call's delivery: its sink (core's runner) hears
// the end exactly once, on the worker. The plugin owns the call's end: it finishes the call
// exactly once, from any thread (plugin.h). They meet in the worker's mailbox
// (worker_mailbox.h): finishing posts the call there as a letter, and the worker delivers it —
// to the sink if it still listens, to nobody if the call was cancelled meanwhile — and frees it.
//
// States (`finished` is the only field two threads touch; the mailbox's lock publishes the
// result written before it):
//   Running   — started; the plugin has not finished it. cancel() detaches the sink (the
//               runner stopped waiting) and tells the plugin, once, if it has a cancel hook.
//   Finished  — the plugin called a tool_finish_*: `result` is final, the call sits in the
//               mailbox. Nothing touches it but the mailbox.
//   Delivered — on the worker: the sink (if any) got the result; the call is deleted, which
//               releases its PluginTool (and maybe the plugin's config and library) — on the
//               worker, never on the plugin's thread.
// A call finished after its worker stopped (the mailbox refuses it) is left allocated on
// purpose: freeing it there would run destroy_config on the plugin's own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "core/filter/worker_context.h"
#include "core/plugin/plugin_tool.h"
#include "core/plugin/worker_mailbox.h"
#include "core/tools/tool_call.h"
#include "sluice/plugin.h"

namespace sluice::plugin {
class PluginPendingCall;
}

// The opaque handle of the ABI (global namespace, as declared in plugin.h).
struct sluice_tool_call final : sluice::plugin::WorkerMailbox::Letter {
  // --- fixed at start: read by any thread -----------------------------------------------
  std::string tool;
  std::string arguments;
  std::string agent;
  std::string request_id;
  std::chrono::steady_clock::time_point deadline;
  std::thread::id worker_thread;  // the only thread that may start model calls for it
  std::shared_ptr<const sluice::plugin::PluginTool> owner;  // config + library, kept alive
  std::shared_ptr<sluice::plugin::WorkerMailbox::Box> mailbox;
  sluice::filter::WorkerContext* worker = nullptr;  // worker thread only

  // --- worker thread only ----------------------------------------------------------------
  sluice::tools::CallSink* sink = nullptr;  // null once cancelled (or delivered)
  sluice::plugin::PluginPendingCall* pending = nullptr;
  uint32_t model_calls = 0;

  // --- the end ---------------------------------------------------------------------------
  std::atomic<bool> finished{false};  // set by the finishing thread, first
  sluice::tools::CallResult result;   // written by the finishing thread before the post

  void deliver() override;
};

namespace sluice::plugin {

// What the runner holds. cancel() detaches the call from its sink; the call itself lives on
// until the plugin finishes it.
class PluginPendingCall final : public tools::PendingCall {
 public:
  explicit PluginPendingCall(sluice_tool_call* call) : call_(call) {}
  ~PluginPendingCall() override;
  void cancel() override;

 private:
  friend struct ::sluice_tool_call;
  sluice_tool_call* call_;  // null once cancelled or delivered
};

}  // namespace sluice::plugin
