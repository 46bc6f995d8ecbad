// The test's handle on one sluice_mock_mcp process (tests/support/mock_mcp_main.cc): an MCP
// server over Streamable HTTP that fails on command. Starts it on an ephemeral port (or a
// given one: a server that comes up later where sluice already looks), steers it through
// POST /__control and reads its counters and the requests it received.
//
// What the mock offers and every control are described in mcp_mock/mcp_mock_state.h; the
// helpers below cover the common ones.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/json.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sluice::test {

class MockMcpServer {
 public:
  // Starts `binary --port <port> <extra_args>` (port 0: ephemeral) and waits (up to 10 s) for
  // it to listen. On failure ok() is false and the reason is a GoogleTest failure.
  explicit MockMcpServer(const std::string& binary, std::vector<std::string> extra_args = {},
                         uint16_t port = 0);
  ~MockMcpServer();

  bool ok() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  // The MCP endpoint: "http://127.0.0.1:<port>/mcp".
  std::string url() const;

  // POST /__control with `control` (a JSON object's text). True when accepted.
  bool control(const std::string& control);
  // The next `count` requests of `method` ("" = any) fail as `spec` says ("status:503", "hang",
  // "malformed:no_id", "too_large:4096", "is_error", "sse_cut", ...).
  bool fault(const std::string& spec, const std::string& method = "", int count = 1);
  // Every session is forgotten: the next request with one gets 404.
  bool drop_sessions();
  // Adds / removes a tool and announces notifications/tools/list_changed `via` "get" (the GET
  // streams), "post" (inside the next POST answer), "both" or "none".
  bool add_tool(const std::string& name, const std::string& via = "get");
  bool remove_tool(const std::string& name, const std::string& via = "get");
  // Stops listening, drops every connection, and listens again after `ms`.
  bool go_down(uint32_t ms);
  bool reset();

  // {counts: {POST, GET, DELETE, initialize, notifications/initialized, tools/list,
  // tools/call, 404, resume, ...}, sessions, tools: [names], get_streams_open,
  // get_streams_total, last_protocol_header, last_session_header, last_offered_version}.
  std::optional<Json> stats();
  // counts[key] from stats() (0 when absent or unreachable).
  int64_t count(const std::string& key);
  // The last (up to 100) requests: [{method, path, headers{lowercase: value}, body}].
  std::optional<Json> requests();

  Process& process() { return *process_; }
  // SIGTERM and wait; true when it exited.
  bool stop();

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
  uint16_t port_ = 0;
};

}  // namespace sluice::test
