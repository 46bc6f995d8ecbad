// ToolExchange: the tools side of one request (DESIGN §5 "Tools") — POST/GET/DELETE /mcp (MCP
// over Streamable HTTP), GET /v1/tools and POST /v1/tools/{name}. The session runs the filter
// chain as for any request (auth, Lua policies, rate_limit: a tool call takes one request of
// the agent's rpm) and then hands the request here instead of routing it to a provider.
//
// Per request:
//   prepare()  before the chain: reads the JSON-RPC message of a POST /mcp, so that a
//              tools/call is a ToolCall for the filters (and anything else is not).
//   serve()    after the chain: answers locally (initialize, ping, tools/list, errors, GET
//              /v1/tools), or finds the tool, checks its arguments against input_schema (a
//              violation never reaches the tool) and starts the call with its deadline on the
//              session's timer. Step::Calling means the session waits: on_tool_done() or the
//              deadline (on_deadline()) puts the answer in the context.
//   cancel()   the client left: the call is cancelled, its result never read.
// MCP rules followed here: a session id comes from initialize and is bound to its agent
// (404 for an unknown one, so the client initializes again); requests without one are
// served statelessly; notifications and client responses get 202; GET (no server stream
// offered) gets 405; DELETE ends the session. A tool the agent may not use does not exist
// for it: tools/list leaves it out, and calling it is the unknown-tool error.
#pragma once

#include <uv.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/filter/request_context.h"
#include "core/mcp/mcp_server_message.h"
#include "core/tools/tool_call.h"
#include "core/tools/tool_set.h"

namespace sluice::server {

class ToolExchange final : public tools::CallSink {
 public:
  // What the session does after serve().
  //   Reply   — ctx has the local reply (respond_json / respond): send it.
  //   Calling — a call is in flight and the deadline timer armed: wait for ToolDone.
  enum class Step : uint8_t { Reply, Calling };

  // Called when an in-flight call ended (on the worker loop, not inside serve()); ctx then
  // has the reply.
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_tool_reply() = 0;
  };

  explicit ToolExchange(Listener& listener) : listener_(listener) {}
  ToolExchange(const ToolExchange&) = delete;
  ToolExchange& operator=(const ToolExchange&) = delete;

  void prepare(filter::RequestContext& ctx);
  Step serve(filter::RequestContext& ctx, uv_timer_t* deadline_timer);
  // The deadline timer fired: the call is cancelled and answered as timed out.
  void on_deadline();
  void cancel();
  void reset();

  // A filter answered an /mcp request (auth 401, a 429 refusal, a policy's 403): the JSON-RPC
  // shape of that reply, and the HTTP status to send it with (401 stays 401 — MCP clients
  // react to it —, other refusals travel as JSON-RPC errors in a 200).
  bool is_mcp() const { return mcp_; }
  std::string mcp_refusal_body(const filter::LocalReply& reply, int* status) const;

  // For the access log, metrics and ledger: the tool called ("" when none was found) and how
  // the call ended ("ok", "error", "timeout", "unavailable", "invalid_arguments",
  // "unknown_tool"; "" when no call was asked).
  std::string_view tool() const { return tool_name_; }
  std::string_view outcome() const { return outcome_; }
  bool found_tool() const { return found_; }

 private:
  // CallSink
  void on_tool_done(tools::CallResult&& result) override;

  Step serve_mcp(filter::RequestContext& ctx, uv_timer_t* timer);
  Step serve_rest_call(filter::RequestContext& ctx, uv_timer_t* timer);
  Step start_call(filter::RequestContext& ctx, uv_timer_t* timer, std::string_view name,
                  std::string_view arguments);
  void reply_result(tools::CallResult&& result);

  Listener& listener_;
  filter::RequestContext* ctx_ = nullptr;
  bool mcp_ = false;
  mcp::McpMessage message_;
  std::string protocol_version_;
  tools::FoundTool tool_;
  bool found_ = false;
  std::string tool_name_;
  std::string_view outcome_;
  std::unique_ptr<tools::PendingCall> call_;
  uv_timer_t* timer_ = nullptr;
  std::chrono::milliseconds timeout_{0};
};

}  // namespace sluice::server
