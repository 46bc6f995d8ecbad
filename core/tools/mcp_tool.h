// The `mcp` tool type (DESIGN §4 tools.*: url, headers, timeout, max_response): every tool of an
// upstream MCP server, offered as <entry name>.<its tool name> with the server's own description
// and inputSchema. The protocol side lives in core/mcp (client + the upstream thread); this file
// turns it into what a snapshot's ToolSet holds:
//
//   McpToolSource    — one per snapshot that has the entry. Holds an UpstreamLease (so the
//                      upstream, its session and its list survive a reload of an unchanged
//                      entry), subscribes to the upstream's lists and turns each one into a
//                      ToolList on the thread that published it (the upstream thread), so
//                      tools() is only a pointer copy. Each schema is compiled there
//                      (InputSchema), so calls are checked before they reach the server. A tool
//                      is skipped, with a warning (once per process), when its name is not one
//                      sluice can offer (letters, digits, '_', '-', '.'; at most 64 characters
//                      as an OpenAI function name with the prefix), when it would collide with
//                      another tool of the config (its name or its function name; with two
//                      mcp entries whose names nest, "a" and "a_b", a function name both could
//                      offer, "a_b_c", is the longer one's), or when its inputSchema cannot be
//                      compiled.
//   McpToolExecutor  — tools/call from the worker serving the agent, with that worker's
//                      HttpCaller (no hop to another thread on the call path), until the call's
//                      deadline, the answer bounded by max_response. A session the server ended
//                      (404) is renewed on that worker and published for everyone, once per
//                      call. A notifications/tools/list_changed riding on the answer asks the
//                      upstream thread for a fresh list.
//
// What an answer becomes (CallStatus rules in tool_call.h):
//   result, isError false → Ok: structuredContent (json = true) when present, else the text
//                           items joined by "\n"; mcp_content = the upstream's content array
//   result, isError true  → ToolError: the text of its content; mcp_content as above
//   JSON-RPC error        → ToolError: its message
//   deadline passed       → Timeout
//   no answer (connect failure, reset, 5xx or another non-answer status, a body over
//   max_response, a session that could not be set up), or a malformed answer
//                         → Unavailable, naming the upstream and what went wrong
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/config/config.h"
#include "core/mcp/mcp_client_call.h"
#include "core/tools/tool_call.h"

namespace sluice::mcp {
class Upstream;
class UpstreamLease;
}  // namespace sluice::mcp

namespace sluice::tools {

class McpToolExecutor final : public ToolExecutor {
 public:
  McpToolExecutor(std::shared_ptr<mcp::Upstream> upstream, uint64_t max_response);
  std::unique_ptr<PendingCall> start(const CallContext& ctx, CallSink& sink,
                                     CallResult& failed) const override;

 private:
  std::shared_ptr<mcp::Upstream> upstream_;
  uint64_t max_response_;
};

// The CallResult of a finished tools/call (the table above); `upstream` names the entry in
// messages. Exposed for tests.
CallResult call_result_of(mcp::McpOutcome& outcome, std::string_view upstream);

// Whether `name` (an upstream tool's own name) can be offered as `prefix.name`: "" when it can,
// else why not ("has characters other than letters, digits, '_', '-' and '.'"). Exposed for
// tests.
std::string unusable_tool_name(std::string_view prefix, std::string_view name);

struct ToolBuildInputs;
class ToolSource;
// The "mcp" type's builder (registered by core_tool_types.cc): a source on the process's
// UpstreamRegistry. Never waits for the server, never fails because it is down.
std::shared_ptr<ToolSource> build_mcp_tool(const ToolBuildInputs& in);
// The same on a lease of the caller's (tests run their own registry).
std::shared_ptr<ToolSource> mcp_tool_source(const config::ToolSpec& spec,
                                            const config::Config& config,
                                            std::shared_ptr<mcp::UpstreamLease> lease);

}  // namespace sluice::tools
