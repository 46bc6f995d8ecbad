// The mock MCP server's HTTP/1.1 side: one libuv loop, keep-alive connections, every buffer
// bounded. POST/GET/DELETE /mcp go to McpMockState (mcp_mock_state.h), whose Answer the
// connection plays: a JSON reply, an SSE reply (chunked, ended after its events), a GET stream
// kept open for the notifications the state queues, a hang or a close. /__control, /__stats,
// /__requests and /__reset steer and inspect it; {"down_ms": N} makes it stop listening and
// drop every connection for N ms (a server that goes down and comes back on the same port).
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/mcp_mock/mcp_mock_state.h"

namespace sluice::mcp_mock {

class Connection;

class McpMockServer {
 public:
  McpMockServer(uv_loop_t* loop, Options options);
  McpMockServer(const McpMockServer&) = delete;
  McpMockServer& operator=(const McpMockServer&) = delete;

  // Binds host:port (0 = ephemeral) and starts accepting. The bound port, or a negative libuv
  // error code.
  int listen(const std::string& host, uint16_t port);

  McpMockState& state() { return state_; }
  uv_loop_t* loop() const { return loop_; }

  // After a request: pushes the state's queued notifications to every open GET stream.
  void flush_stream_events();
  // Stops listening and closes every connection (but `except`, which closes itself once its
  // answer is written); listens again on the same port after `ms`.
  void go_down(uint32_t ms, Connection* except);

  // Connections register themselves (for go_down and the GET streams).
  void add(Connection* c) { connections_.push_back(c); }
  void remove(Connection* c);

 private:
  static void on_connection(uv_stream_t* listener, int status);
  static void on_up_timer(uv_timer_t* timer);

  uv_loop_t* loop_;
  McpMockState state_;
  std::string host_;
  uint16_t port_ = 0;
  uv_tcp_t* listener_ = nullptr;  // heap: a closed listener is freed in its close callback
  uv_timer_t up_timer_;           // go_down's pause
  std::vector<Connection*> connections_;
};

}  // namespace sluice::mcp_mock
