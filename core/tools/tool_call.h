// One tool call as an executor sees it (DESIGN §5 "Tools"): what to call, for whom, until
// when; what it produced; and how its end is reported. Executors (http, lua, plugin, mcp) are
// built once per config snapshot and shared by every worker; a call runs on the loop of the
// worker that serves the request and reports back on that loop.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace sluice::filter {
struct WorkerContext;
}

namespace sluice::tools {

// How a call ended. The rules, for every executor:
//   Ok          — the tool answered. `content` is its result: JSON text when `json` is true
//                 (MCP: structuredContent plus the same text; REST: {"result": <it>}), else
//                 plain text (MCP: one text content; REST: {"result": "<text>"}).
//   ToolError   — the tool ran and said it failed: an http tool's non-2xx status, an upstream
//                 MCP tool's isError, a Lua tool's error(), a plugin's error result. `content`
//                 is the message (with the tool's body when it had one). MCP: a result with
//                 isError: true (the agent's model reads it); REST: 502 tool_error.
//   Timeout     — the deadline passed first. The executor's work was cancelled. MCP: isError
//                 result "tool X timed out after 5s"; REST: 504 tool_timeout.
//   Unavailable — the tool could not be reached or could not run at all (connect refused, an
//                 upstream MCP server down, a body over max_response, a worker shutting down).
//                 MCP: isError result; REST: 503 tool_unavailable.
enum class CallStatus : uint8_t { Ok, ToolError, Timeout, Unavailable };
const char* to_string(CallStatus s);  // "ok", "error", "timeout", "unavailable" (metric label)

struct CallResult {
  CallStatus status = CallStatus::Ok;
  std::string content;
  bool json = false;  // Ok only: content is a JSON value
  // An upstream MCP tool's own `content` array (JSON text), when it had one: /mcp passes it to
  // MCP clients as it came (images, resources, several texts), `content` above stays what REST
  // and logs use (its text parts joined, or its structuredContent with json = true).
  std::string mcp_content;
};

// What a call is given. Everything is borrowed until the call's sink ran or it was cancelled.
struct CallContext {
  std::string_view tool;        // the name the agent called ("github.create_issue")
  std::string_view target;      // the executor's own name for it (an MCP tool's upstream name)
  std::string_view agent;       // "" for an anonymous caller (no auth filter)
  std::string_view request_id;  // x-request-id of the call
  std::string_view arguments;   // JSON object text, already checked against input_schema
  std::chrono::steady_clock::time_point deadline;  // the tool's timeout from the call's start
  filter::WorkerContext* worker = nullptr;         // loop, HTTP client, worker index
};

// Receives a call's end: exactly once per started call (start() returned a PendingCall), on the
// worker's loop, never from inside ToolExecutor::start(), and never after
// PendingCall::cancel() returned.
class CallSink {
 public:
  virtual ~CallSink() = default;
  virtual void on_tool_done(CallResult&& result) = 0;
};

// A started call. Destroying it without cancel() is allowed only after the sink ran.
class PendingCall {
 public:
  virtual ~PendingCall() = default;
  // Stops the call (the deadline passed, the client left, the worker stops): whatever the
  // executor started is aborted or left to finish unobserved; the sink is never called.
  virtual void cancel() = 0;
};

// Runs calls of one tool (or of every tool of one upstream MCP server). Immutable after it was
// built and shared by every worker, so start() must be safe on several workers at once (keep
// per-worker state indexed by ctx.worker->index, or process-wide state behind a lock).
//
// The caller (core/tools' CallRunner) arms a timer for ctx.deadline and cancels the call when it
// fires, so a call always ends; an executor still passes the deadline on to what it waits for
// (HTTP timeouts) so that it stops its own work too.
class ToolExecutor {
 public:
  virtual ~ToolExecutor() = default;
  // Starts the call. Returns the handle to cancel it, and the sink is called exactly once
  // later, on the loop. When the call cannot even start (a bad URL, too many calls in flight,
  // a worker shutting down), returns nullptr with `failed` saying why, and never calls the
  // sink.
  virtual std::unique_ptr<PendingCall> start(const CallContext& ctx, CallSink& sink,
                                             CallResult& failed) const = 0;
};

}  // namespace sluice::tools
