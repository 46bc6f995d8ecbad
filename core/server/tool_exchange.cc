#include "core/server/tool_exchange.h"

#include "core/config/config.h"
#include "core/filter/snapshot.h"
#include "core/http/request.h"
#include "core/http/response_builder.h"
#include "core/json/request_fields.h"
#include "core/mcp/mcp_server_replies.h"
#include "core/mcp/mcp_session_table.h"
#include "core/server/proxy_session.h"
#include "core/tools/input_schema.h"
#include "core/tools/openai_tools.h"

namespace sluice::server {
namespace {

constexpr std::string_view kSessionHeader = "mcp-session-id";
constexpr std::string_view kVersionHeader = "mcp-protocol-version";
// What a request without a session and without MCP-Protocol-Version speaks (the spec's
// default for that case).
constexpr std::string_view kDefaultProtocol = "2025-03-26";

std::string_view agent_name(const filter::RequestContext& ctx) {
  return ctx.agent != nullptr ? std::string_view(ctx.agent->name) : std::string_view();
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  http::append_json_escaped(out, s);
  out.push_back('"');
  return out;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + "s";
  return std::to_string(ms.count()) + "ms";
}

const tools::ToolSet* tool_set(const filter::RequestContext& ctx) {
  return ctx.snapshot != nullptr ? ctx.snapshot->tools() : nullptr;
}

}  // namespace

void ToolExchange::prepare(filter::RequestContext& ctx) {
  mcp_ = ctx.endpoint == filter::Endpoint::Mcp;
  if (!mcp_ || ctx.request->method() != "POST") return;
  message_ = mcp::read_mcp_message(ctx.request->body);
  if (message_.kind == mcp::MessageKind::Request && message_.method == "tools/call") {
    ctx.endpoint = filter::Endpoint::ToolCall;  // counted as a call by the filters
  }
}

ToolExchange::Step ToolExchange::serve(filter::RequestContext& ctx, uv_timer_t* deadline_timer) {
  ctx_ = &ctx;
  if (mcp_) return serve_mcp(ctx, deadline_timer);
  if (ctx.endpoint == filter::Endpoint::ToolList) {
    tools::VisibleTools visible;
    if (const tools::ToolSet* set = tool_set(ctx)) visible = set->visible_to(ctx.agent);
    ctx.respond_json(200, tools::openai_tools_body(visible));
    return Step::Reply;
  }
  return serve_rest_call(ctx, deadline_timer);
}

ToolExchange::Step ToolExchange::serve_mcp(filter::RequestContext& ctx, uv_timer_t* timer) {
  const http::HttpRequest& request = *ctx.request;
  const std::string_view method = request.method();
  const std::string_view agent = agent_name(ctx);
  const std::optional<std::string_view> session_id = request.header(kSessionHeader);

  if (method == "GET") {
    // No server-to-client stream: the spec's answer is 405.
    ctx.add_response_header("Allow", "POST, DELETE");
    ctx.respond_json(405, mcp::rpc_error_reply("null", mcp::rpc_error::kInvalidRequest,
                                               "Method Not Allowed: sluice's /mcp offers no "
                                               "server-to-client stream; POST messages"));
    return Step::Reply;
  }
  if (method == "DELETE") {
    if (!session_id) {
      ctx.respond_json(400, mcp::rpc_error_reply("null", mcp::rpc_error::kInvalidRequest,
                                                 "Bad Request: Mcp-Session-Id header required"));
    } else if (!mcp::McpSessionTable::process().remove(*session_id, agent)) {
      ctx.respond_json(
          404, mcp::rpc_error_reply("null", mcp::rpc_error::kInvalidRequest, "Session not found"));
    } else {
      ctx.respond_json(200, "{}");
    }
    return Step::Reply;
  }

  if (message_.kind == mcp::MessageKind::Invalid) {
    ctx.respond_json(
        400, mcp::rpc_error_reply(message_.id, message_.error_code, message_.error_message));
    return Step::Reply;
  }
  if (auto version = request.header(kVersionHeader);
      version && !mcp::supported_protocol(*version)) {
    ctx.respond_json(
        400, mcp::rpc_error_reply(message_.id, mcp::rpc_error::kInvalidRequest,
                                  "Bad Request: unsupported MCP-Protocol-Version " +
                                      std::string(*version) +
                                      " (sluice speaks 2025-11-25, 2025-06-18, 2025-03-26)"));
    return Step::Reply;
  }

  const bool initialize =
      message_.kind == mcp::MessageKind::Request && message_.method == "initialize";
  if (!initialize) {
    if (session_id) {
      auto version = mcp::McpSessionTable::process().touch(*session_id, agent);
      if (!version) {
        ctx.respond_json(404, mcp::rpc_error_reply(message_.id, mcp::rpc_error::kInvalidRequest,
                                                   "Session not found: initialize again"));
        return Step::Reply;
      }
      protocol_version_ = std::move(*version);
    } else {
      auto version = request.header(kVersionHeader);
      protocol_version_ = std::string(version ? *version : kDefaultProtocol);
    }
  }

  if (message_.kind != mcp::MessageKind::Request) {
    ctx.respond_json(202, "");  // notifications and client responses: accepted, no body
    return Step::Reply;
  }

  const std::string& rpc = message_.method;
  if (initialize) {
    const std::string_view asked = message_.protocol_version;
    protocol_version_ =
        std::string(mcp::supported_protocol(asked) ? asked : mcp::kProtocolVersions[0]);
    const std::string id = mcp::McpSessionTable::process().create(agent, protocol_version_);
    ctx.add_response_header("Mcp-Session-Id", id);
    ctx.respond_json(200, mcp::initialize_reply(message_.id, protocol_version_));
    return Step::Reply;
  }
  if (rpc == "ping") {
    ctx.respond_json(200, mcp::empty_result_reply(message_.id));
    return Step::Reply;
  }
  if (rpc == "tools/list") {
    if (message_.has_cursor) {
      // Every list is sent whole, so no cursor was ever handed out.
      ctx.respond_json(200, mcp::rpc_error_reply(message_.id, mcp::rpc_error::kInvalidParams,
                                                 "Invalid params: unknown cursor"));
      return Step::Reply;
    }
    tools::VisibleTools visible;
    if (const tools::ToolSet* set = tool_set(ctx)) visible = set->visible_to(ctx.agent);
    ctx.respond_json(200, mcp::tools_list_reply(message_.id, visible));
    return Step::Reply;
  }
  if (rpc == "tools/call") {
    return start_call(ctx, timer, message_.tool_name, message_.arguments);
  }
  ctx.respond_json(200, mcp::rpc_error_reply(message_.id, mcp::rpc_error::kMethodNotFound,
                                             "Method not found: " + rpc +
                                                 " (sluice's /mcp serves tools: tools/list, "
                                                 "tools/call, ping)"));
  return Step::Reply;
}

ToolExchange::Step ToolExchange::serve_rest_call(filter::RequestContext& ctx, uv_timer_t* timer) {
  const std::string_view path = ctx.request->path();
  std::string_view name = path.substr(std::string_view("/v1/tools/").size());
  if (!name.empty() && name.back() == '/') name.remove_suffix(1);
  std::string& body = ctx.request->body;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) body = "{}";
  // The body is the arguments: a JSON object (checked against the schema after the lookup).
  const size_t first = body.find_first_not_of(" \t\r\n");
  if (body[first] != '{') {
    ctx.respond(400, "invalid_request_error", "invalid_json",
                "The body of POST /v1/tools/{name} is the tool's arguments: a JSON object.");
    return Step::Reply;
  }
  return start_call(ctx, timer, name, body);
}

ToolExchange::Step ToolExchange::start_call(filter::RequestContext& ctx, uv_timer_t* timer,
                                            std::string_view name, std::string_view arguments) {
  const tools::ToolSet* set = tool_set(ctx);
  if (set != nullptr) tool_ = set->find(ctx.agent, name);
  if (!tool_) {
    outcome_ = "unknown_tool";
    const std::string message = "Unknown tool: " + std::string(name);
    if (mcp_) {
      ctx.respond_json(200,
                       mcp::rpc_error_reply(message_.id, mcp::rpc_error::kInvalidParams, message));
    } else {
      ctx.respond(404, "not_found_error", "tool_not_found",
                  message + " (GET /v1/tools lists the tools you may call)");
    }
    return Step::Reply;
  }
  found_ = true;
  const tools::ToolEntry& entry = *tool_.entry;
  tool_name_ = entry.name;
  if (entry.schema) {
    if (auto violation = entry.schema->check(arguments)) {
      outcome_ = "invalid_arguments";
      std::string message = "Invalid arguments for " + entry.name + ": " + violation->message;
      if (mcp_) {
        // A tool execution error, not a protocol error (MCP 2025-11-25): the model reads it
        // and can correct its call.
        tools::CallResult r;
        r.status = tools::CallStatus::ToolError;
        r.content = message;
        ctx.respond_json(200, mcp::tool_result_reply(message_.id, entry.name, r));
      } else {
        ctx.respond(400, "invalid_request_error", "invalid_arguments", std::move(message));
      }
      return Step::Reply;
    }
  }

  timeout_ = entry.timeout;
  tools::CallContext call;
  call.tool = entry.name;
  call.target = entry.target;
  call.agent = agent_name(ctx);
  call.request_id = ctx.request_id;
  call.arguments = arguments;
  call.deadline = std::chrono::steady_clock::now() + entry.timeout;
  call.worker = ctx.worker;
  tools::CallResult failed;
  call_ = entry.executor->start(call, *this, failed);
  if (!call_) {
    reply_result(std::move(failed));
    return Step::Reply;
  }
  timer_ = timer;
  // The session's timer (its data is the session): the session routes it to on_deadline().
  uv_timer_start(timer_, &ProxySession::on_retry_timer_fired,
                 static_cast<uint64_t>(entry.timeout.count()), 0);
  return Step::Calling;
}

void ToolExchange::on_tool_done(tools::CallResult&& result) {
  if (timer_ != nullptr) uv_timer_stop(timer_);
  timer_ = nullptr;
  call_.reset();
  reply_result(std::move(result));
  listener_.on_tool_reply();
}

void ToolExchange::on_deadline() {
  if (!call_) return;
  call_->cancel();
  call_.reset();
  timer_ = nullptr;
  tools::CallResult r;
  r.status = tools::CallStatus::Timeout;
  r.content = "after " + seconds_text(timeout_);
  reply_result(std::move(r));
  listener_.on_tool_reply();
}

void ToolExchange::cancel() {
  if (timer_ != nullptr) uv_timer_stop(timer_);
  timer_ = nullptr;
  if (call_) {
    call_->cancel();
    call_.reset();
    outcome_ = "client_gone";
  }
}

void ToolExchange::reply_result(tools::CallResult&& result) {
  filter::RequestContext& ctx = *ctx_;
  outcome_ = tools::to_string(result.status);
  const tools::ToolEntry& entry = *tool_.entry;
  if (mcp_) {
    ctx.respond_json(200, mcp::tool_result_reply(message_.id, entry.name, result));
    return;
  }
  switch (result.status) {
    case tools::CallStatus::Ok:
      ctx.respond_json(200, tools::rest_result_body(result));
      return;
    case tools::CallStatus::ToolError:
      ctx.respond(502, "api_error", "tool_error", mcp::failure_text(entry.name, result));
      return;
    case tools::CallStatus::Timeout:
      ctx.respond(504, "api_error", "tool_timeout", mcp::failure_text(entry.name, result));
      return;
    case tools::CallStatus::Unavailable:
      ctx.respond(503, "api_error", "tool_unavailable", mcp::failure_text(entry.name, result));
      return;
  }
}

std::string ToolExchange::mcp_refusal_body(const filter::LocalReply& reply, int* status) const {
  *status = reply.status == 401 ? 401 : 200;
  std::string data = "{\"status\":" + std::to_string(reply.status) +
                     ",\"type\":" + quoted(reply.type) + ",\"code\":" + quoted(reply.code) + "}";
  return mcp::rpc_error_reply(message_.id, mcp::rpc_error::kRefused, reply.message, data);
}

void ToolExchange::reset() {
  cancel();
  ctx_ = nullptr;
  mcp_ = false;
  message_ = mcp::McpMessage{};
  protocol_version_.clear();
  tool_ = tools::FoundTool{};
  found_ = false;
  tool_name_.clear();
  outcome_ = {};
  timeout_ = std::chrono::milliseconds{0};
}

}  // namespace sluice::server
