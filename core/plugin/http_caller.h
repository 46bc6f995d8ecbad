// HttpCaller: outgoing HTTP/1.1 calls that plugins make (Lua's sluice.http, the C host API's
// http_call), on one worker's loop, never blocking it (Envoy's httpCall is the model). One per
// worker. Each origin (scheme, host, port) gets its own keep-alive UpstreamPool, made on first
// use and kept for the worker's life (at most kMaxOrigins; the least recently used idle one is
// shut down to make room), with DNS caching, TLS (system trust store) and timeouts as for
// providers.
//
// Every call has a deadline (`timeout`, required, > 0): connect, first byte and the whole
// exchange are bounded by it. The response body is bounded by `max_response_bytes`; a longer
// one fails the call ("response too large") instead of growing memory.
//
// Not thread-safe: every call and callback is on the worker's loop thread.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
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
  // bytes)", "reset: ...".
  std::string error;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names as received
  std::string body;
};

// Called once per started call, on the loop, never from inside start(); not after cancel().
using HttpCallDone = void (*)(void* arg, HttpCallResult& result);

class HttpCall;  // opaque; owned by the caller until done runs or cancel returns

class HttpCaller {
 public:
  static constexpr size_t kMaxOrigins = 32;
  // At most this many calls in flight per worker; more fail at start() ("too many calls").
  static constexpr size_t kMaxCallsInFlight = 1024;

  explicit HttpCaller(uv_loop_t* loop);
  ~HttpCaller();  // only after shutdown() finished
  HttpCaller(const HttpCaller&) = delete;
  HttpCaller& operator=(const HttpCaller&) = delete;

  // Starts a call. On a bad request (URL, method, header bytes, timeout <= 0, too many calls)
  // returns nullptr with *error set, and `done` is never called.
  HttpCall* start(HttpCallRequest request, HttpCallDone done, void* arg, std::string* error);
  // The caller gives up (its request ended): `done` is not called for this call any more.
  void cancel(HttpCall* call);
  // Fails (cancels) every call, closes every pool; `done(arg)` once every handle is closed.
  void shutdown(void (*done)(void* arg), void* arg);

  size_t calls_in_flight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::plugin
