// AdminServer: the admin API's listener (DESIGN §6) on a loop the caller runs — in sluice, the
// main thread's loop, never a worker's. HTTP/1.1 with keep-alive through the same strict
// RequestParser as the data plane; what each request gets is decided by AdminRouter.
//
// Bounds (DESIGN §10): at most Options::max_connections at once (more are accepted and closed
// at once); a request must arrive whole within request_timeout and an idle connection is
// closed after idle_timeout; one response in flight per connection — pipelined requests wait,
// and reading pauses while they do, so a client that does not read cannot grow our memory.
//
// Lifetime: start() → … → close(cb). Handles are freed only in their close callbacks; the
// object may be destroyed once `cb` ran (or if start() was never called).
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include "core/admin/admin_hooks.h"
#include "core/admin/admin_router.h"
#include "core/config/config.h"
#include "core/http/request_parser.h"
#include "core/metrics/metrics.h"

namespace sluice::admin {

class AdminServer {
 public:
  struct Options {
    uint32_t max_connections = 64;
    std::chrono::milliseconds request_timeout{10'000};  // first byte → whole request
    std::chrono::milliseconds idle_timeout{60'000};     // between requests
    http::ParserLimits limits;                          // same defaults as the data plane
  };

  AdminServer(uv_loop_t* loop, AdminHooks hooks, metrics::Metrics& metrics);
  AdminServer(uv_loop_t* loop, AdminHooks hooks, metrics::Metrics& metrics, Options options);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds and listens (port 0 = ephemeral), then logs "admin listening on <host>:<port>".
  // Returns 0 or a negative libuv error (e.g. UV_EADDRINUSE); call close() either way.
  int start(const config::HostPort& address);
  // The bound port (after a successful start()).
  uint16_t port() const { return port_; }

  // Stops listening and closes every connection; `on_closed` runs once all handles are closed.
  void close(std::function<void()> on_closed);

  const AdminRouter& router() const { return router_; }

 private:
  struct Connection;

  static void on_connection(uv_stream_t* listener, int status);
  static void on_listener_closed(uv_handle_t* handle);
  static void alloc_buffer(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_timeout(uv_timer_t* timer);
  static void on_connection_handle_closed(uv_handle_t* handle);

  void process(Connection* c, const char* data, size_t len);
  void respond(Connection* c, const AdminResponse& response, bool head_only, bool keep_alive);
  void start_write(Connection* c);
  void arm_timer(Connection* c, std::chrono::milliseconds timeout);
  void close_connection(Connection* c);
  void maybe_finish_close();

  uv_loop_t* loop_;
  AdminRouter router_;
  Options options_;
  uv_tcp_t listener_;
  bool listener_initialized_ = false;
  bool listener_closed_ = false;
  bool closing_ = false;
  uint16_t port_ = 0;
  std::unordered_set<Connection*> connections_;
  std::function<void()> on_closed_;
  // One read buffer for all connections: reads are handled one at a time on this loop and
  // the parser copies what it keeps.
  std::unique_ptr<char[]> read_buffer_;
  static constexpr size_t kReadBufferSize = 64 * 1024;
};

}  // namespace sluice::admin
