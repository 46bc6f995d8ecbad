// HttpCaller: outgoing HTTP/1.1 calls that plugins make (Lua's sluice.http, the C host API's
// http_call), on one worker's loop, never blocking it (Envoy's httpCall is the model). One per
// worker. Each origin (scheme, host, port) gets its own keep-alive UpstreamPool, made on first
// use and kept for the worker's life (at most kMaxOrigins; the least recently used idle one is
// shut down to make room), with DNS caching, TLS (system trust store) and timeouts as for
// providers.
//
// Every call has a deadline (`timeout`, required, > 0, at most kMaxTimeout): a timer of its own
// bounds the whole call — queueing for a connection, DNS, connect, TLS, sending and the whole
// response — and on expiry aborts the exchange and fails the call ("timeout after 200ms"). The
// pools' own per-phase timeouts are set to kMaxTimeout, except the keep-alive idle limit (and
// the longest silence inside a response), kIdleTimeout. The response body is bounded by
// `max_response_bytes`; a longer one fails the call ("response too large") instead of growing
// memory, and the exchange is aborted (its connection closed).
//
// `done` always runs from the call's own timer callback on the loop: never inside start(),
// cancel(), shutdown() or an UpstreamPool callback, so it may start or cancel calls freely.
//
// Shutdown: calls still in flight when shutdown() begins are not dropped silently — each one's
// `done` runs (on a later loop turn) with error "worker shutting down", unless it is cancelled
// first. start() during or after shutdown fails with that error.
//
// Not thread-safe: every call and callback is on the worker's loop thread.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::plugin {

struct HttpCallRequest {
  std::string method = "GET";  // any token; GET/HEAD/DELETE usually have no body
  std::string url;             // http:// or https://, absolute
  std::vector<std::pair<std::string, std::string>> headers;  // no CR/LF (checked by start)
  std::string body;                                          // sent with Content-Length
  std::chrono::milliseconds timeout{0};                      // required, > 0
  size_t max_response_bytes = size_t{1} << 20;
};

struct HttpCallResult {
  // Empty: an answer arrived (any status, 5xx included). Else why there is none, for the
  // plugin: "timeout after 200ms", "connect failed: ...", "response too large (> 1048576
  // bytes)", "reset: ...", "timeout: ..." (the pool's idle limit), "bad response: ...",
  // "overloaded: ...", "worker shutting down". With an error, status is 0 and headers and
  // body are empty.
  std::string error;
  int status = 0;
  // Names as received; hop-by-hop, Content-Length and Transfer-Encoding already removed.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // decoded (chunked framing removed), at most max_response_bytes
};

// Called once per started call, on the loop, never from inside start(); not after cancel().
using HttpCallDone = void (*)(void* arg, HttpCallResult& result);

class HttpCall;  // opaque; owned by the caller until done runs or cancel returns

class HttpCaller {
 public:
  static constexpr size_t kMaxOrigins = 32;
  // The longest `timeout` a call may ask for.
  static constexpr std::chrono::milliseconds kMaxTimeout{600'000};
  // Keep-alive connections idle this long are closed; a response silent this long fails.
  static constexpr std::chrono::milliseconds kIdleTimeout{60'000};
  // Connections per origin (its pool queues 4x as many requests: more than kMaxCallsInFlight).
  static constexpr uint32_t kMaxConnectionsPerOrigin = 256;
  // At most this many calls in flight per worker; more fail at start() ("too many calls").
  static constexpr size_t kMaxCallsInFlight = 1024;

  explicit HttpCaller(uv_loop_t* loop);
  ~HttpCaller();  // only after shutdown() finished
  HttpCaller(const HttpCaller&) = delete;
  HttpCaller& operator=(const HttpCaller&) = delete;

  // Starts a call. On a bad request (URL, method, header bytes, timeout <= 0, too many calls;
  // see http_call_request.h), when kMaxOrigins origins all have calls in flight, or once
  // shutdown() began, returns nullptr with *error set, and `done` is never called.
  HttpCall* start(HttpCallRequest request, HttpCallDone done, void* arg, std::string* error);
  // The caller gives up (its request ended): `done` is not called for this call any more; its
  // exchange is aborted. `call` must be one start() returned whose `done` has not returned
  // (a call cancelling itself from inside its own `done` is a no-op).
  void cancel(HttpCall* call);
  // Fails every call in flight ("worker shutting down", see above), closes every pool; calls
  // `done(arg)` (from a close callback) once every handle is closed. Call it once.
  void shutdown(void (*done)(void* arg), void* arg);

  // Started, not yet delivered or cancelled.
  size_t calls_in_flight() const;
  // Pools held (origins in use or idle; those closing after eviction not counted).
  size_t origins() const;

 private:
  friend class HttpCall;  // a call reports back to the Impl that started it
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::plugin
