// McpClientCall: one JSON-RPC request to an upstream MCP server over Streamable HTTP, on one
// libuv loop with that loop's HttpCaller — a worker's for a tools/call (no hop to another
// thread on the call path), the upstream thread's for tools/list. It takes care of the session
// (mcp_client_session.h) on the way:
//
//   start ──(no session yet)──► Initializing ─► Notifying ─┐   POST initialize, then POST
//     │                              ▲                     │   notifications/initialized;
//     │                              │ 404 with our        │   the session is published for
//     └──(a session)─────────────► Requesting ◄────────────┘   everyone
//                                    │  │  ▲
//                                    │  │  └── 404 with our session id, once per call: renewed
//                                    │  │      by someone else → use theirs; else → Initializing
//                                    │  └──► Resuming: the answer stream ended before the
//                                    │       response, after events with ids: GET with
//                                    │       Last-Event-ID after `retry` ms (at most
//                                    │       kMaxResumes times)
//                                    ▼
//                                  Done ── `done` runs once; or Cancelled (cancel()): never
//
// Every HTTP request carries the entry's headers, Accept: application/json, text/event-stream,
// and — once a session exists — MCP-Protocol-Version and Mcp-Session-Id. Every one is bounded
// by the request's deadline (what is left of it) and its body by max_response_bytes.
//
// `done` runs on the loop, never inside start() or cancel(); it may start or cancel other
// calls. The object frees itself after `done` returned or cancel() was called (its timer's
// close callback), so neither may be touched after that. Not thread-safe: one loop.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/mcp/mcp_client_rpc.h"
#include "core/mcp/mcp_client_session.h"
#include "core/plugin/http_caller.h"

namespace sluice::mcp {

// Where an upstream MCP server is: a `tools:` entry of type mcp. Immutable, shared.
struct McpEndpoint {
  std::string name;  // the entry's name ("github"), which prefixes its tools and messages
  std::string url;   // the MCP endpoint (http:// or https://)
  std::vector<std::pair<std::string, std::string>> headers;  // sent on every request
};

struct McpRequest {
  std::string method;       // "tools/list", "tools/call", ...
  std::string params_json;  // the params object's JSON text; "" = none
  std::chrono::steady_clock::time_point deadline;
  size_t max_response_bytes = size_t{1} << 20;  // each HTTP answer's body
};

// How a call ended. Rules:
//   Result      — the server answered the request: result_json is its result.
//   RpcError    — the server answered the request with a JSON-RPC error: message is its
//                 message (with the code when it had no message).
//   Timeout     — the deadline passed before the answer (message: "timeout after 5000ms").
//   Unreachable — no answer to the request: connect failure, reset, an HTTP status that is
//                 not an answer (5xx, 401, a 404 after the renewal, ...), a body over
//                 max_response_bytes, the loop shutting down; or the session could not be set
//                 up (initialize refused or failed). message says which.
//   Malformed   — an answer that is not JSON-RPC the client can use (see RpcAnswer), or an
//                 initialize answer sluice cannot accept (another protocol version).
// message never names the server (callers prefix it) and never carries a header's value.
struct McpOutcome {
  enum class Status : uint8_t { Result, RpcError, Timeout, Unreachable, Malformed };
  Status status = Status::Unreachable;
  std::string result_json;
  std::string message;
  int http_status = 0;    // of the last HTTP answer (0: none)
  ServerTraffic traffic;  // notifications and requests that came along the answers
  bool renewed = false;   // a 404 made this call renew (or switch) the session
};
const char* to_string(McpOutcome::Status s);

// The HTTP request for one MCP message (POST with a body) or stream (GET): the endpoint's
// headers, Accept, and the session's headers (MCP-Protocol-Version, and Mcp-Session-Id when it
// has one) unless `session` is null (initialize). timeout and max_response_bytes are the
// caller's to set.
plugin::HttpCallRequest mcp_http_request(const McpEndpoint& endpoint, const SessionTicket* session,
                                         std::string method, std::string body);

// A JSON-RPC id no other request of this process uses.
int64_t next_request_id();

class McpClientCall {
 public:
  using Done = void (*)(void* arg, McpOutcome& outcome);
  static constexpr int kMaxResumes = 3;
  // The longest `retry` wait honoured before a resumption (the deadline bounds it too).
  static constexpr std::chrono::milliseconds kMaxRetryWait{5'000};

  // Starts the call on `loop` with `http` (which must run on that loop). Never null: a call
  // that cannot start ends through `done` (on a later loop turn) with Unreachable.
  static McpClientCall* start(uv_loop_t* loop, plugin::HttpCaller* http,
                              std::shared_ptr<const McpEndpoint> endpoint,
                              std::shared_ptr<SessionStore> sessions, McpRequest request, Done done,
                              void* arg);
  // The caller gives up: the HTTP request in flight is aborted; `done` is not called.
  void cancel();

  // Where the call is. Transitions are asserted (set_state).
  enum class State : uint8_t {
    Initializing,  // POST initialize
    Notifying,     // POST notifications/initialized
    Requesting,    // POST the request
    Waiting,       // the `retry` wait before a resumption
    Resuming,      // GET the rest of the answer stream (Last-Event-ID)
    Delivering,    // the outcome is final; `done` runs on the next timer tick
    Done,
    Cancelled,
  };
  static const char* to_string(State s);

 private:
  McpClientCall() = default;
  ~McpClientCall() = default;

  void set_state(State to);
  void begin_initialize(uint64_t replaces);
  void begin_request();
  void begin_resume(const RpcAnswer& answer);
  void send(plugin::HttpCallRequest request);
  void on_answer(plugin::HttpCallResult& result);
  void on_initialize_answer(plugin::HttpCallResult& result);
  void on_notify_answer(plugin::HttpCallResult& result);
  void on_request_answer(plugin::HttpCallResult& result);
  void finish(McpOutcome::Status status, std::string message);
  void finish_soon();
  void deliver();
  std::chrono::milliseconds time_left() const;
  void close();

  static void on_http_done(void* arg, plugin::HttpCallResult& result);
  static void on_timer(uv_timer_t* timer);
  static void on_closed(uv_handle_t* handle);

  uv_loop_t* loop_ = nullptr;
  plugin::HttpCaller* http_ = nullptr;
  std::shared_ptr<const McpEndpoint> endpoint_;
  std::shared_ptr<SessionStore> sessions_;
  McpRequest request_;
  Done done_ = nullptr;
  void* arg_ = nullptr;

  uv_timer_t timer_{};  // the retry wait, then the delivery; the call is freed in its close_cb
  plugin::HttpCall* http_call_ = nullptr;  // the HTTP request in flight
  SessionTicket ticket_;                   // the session the request goes out with
  SessionTicket fresh_;                    // Initializing/Notifying: the session being set up
  uint64_t replaces_ = 0;  // the generation the new session replaces (SessionStore::publish)
  int64_t rpc_id_ = 0;     // of the message in flight that expects a response
  int resumes_ = 0;
  std::string last_event_id_;  // Waiting/Resuming: where the answer stream broke off
  McpOutcome outcome_;
  State state_ = State::Requesting;
};

}  // namespace sluice::mcp
