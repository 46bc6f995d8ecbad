#include "core/mcp/mcp_server_message.h"

#include <simdjson.h>

namespace sluice::mcp {
namespace {

McpMessage invalid(int code, std::string message, std::string id = "null") {
  McpMessage m;
  m.kind = MessageKind::Invalid;
  m.error_code = code;
  m.error_message = std::move(message);
  m.id = std::move(id);
  return m;
}

// The parser keeps its buffers between messages; one per thread (workers never share).
simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

}  // namespace

bool supported_protocol(std::string_view version) {
  for (std::string_view v : kProtocolVersions) {
    if (v == version) return true;
  }
  return false;
}

McpMessage read_mcp_message(std::string_view body) {
  simdjson::dom::element root;
  if (thread_parser().parse(body.data(), body.size(), true).get(root) != simdjson::SUCCESS) {
    return invalid(rpc_error::kParseError, "Parse error: the body is not valid JSON");
  }
  if (root.is_array()) {
    return invalid(rpc_error::kInvalidRequest,
                   "Invalid Request: JSON-RPC batches are not supported (MCP 2025-06-18 "
                   "removed them): send one message per POST");
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return invalid(rpc_error::kInvalidRequest, "Invalid Request: expected a JSON object");
  }

  McpMessage m;
  simdjson::dom::element id;
  const bool has_id = object["id"].get(id) == simdjson::SUCCESS;
  if (has_id) {
    if (!id.is_string() && !id.is_int64() && !id.is_uint64()) {
      return invalid(rpc_error::kInvalidRequest,
                     "Invalid Request: \"id\" must be a string or an integer");
    }
    m.id = simdjson::minify(id);
  }
  std::string_view version;
  if (object["jsonrpc"].get_string().get(version) != simdjson::SUCCESS || version != "2.0") {
    return invalid(rpc_error::kInvalidRequest, "Invalid Request: \"jsonrpc\" must be \"2.0\"",
                   m.id);
  }
  std::string_view method;
  const auto method_error = object["method"].get_string().get(method);
  if (method_error != simdjson::SUCCESS) {
    if (object["method"].error() != simdjson::NO_SUCH_FIELD) {
      return invalid(rpc_error::kInvalidRequest, "Invalid Request: \"method\" must be a string",
                     m.id);
    }
    // No method: a response to a server request (result or error), which sluice never sends.
    if (has_id && (object["result"].error() == simdjson::SUCCESS ||
                   object["error"].error() == simdjson::SUCCESS)) {
      m.kind = MessageKind::Response;
      return m;
    }
    return invalid(rpc_error::kInvalidRequest, "Invalid Request: \"method\" is required", m.id);
  }
  m.method = std::string(method);
  m.kind = has_id ? MessageKind::Request : MessageKind::Notification;

  simdjson::dom::element params;
  const bool has_params = object["params"].get(params) == simdjson::SUCCESS;
  if (has_params && !params.is_object()) {
    if (m.kind == MessageKind::Notification) return m;
    return invalid(rpc_error::kInvalidParams, "Invalid params: \"params\" must be an object", m.id);
  }
  if (m.kind != MessageKind::Request || !has_params) {
    if (m.method == "tools/call" && m.kind == MessageKind::Request) {
      return invalid(rpc_error::kInvalidParams, "Invalid params: tools/call needs params.name",
                     m.id);
    }
    return m;
  }
  if (m.method == "initialize") {
    std::string_view v;
    if (params["protocolVersion"].get_string().get(v) == simdjson::SUCCESS) {
      m.protocol_version = std::string(v);
    }
  } else if (m.method == "tools/call") {
    std::string_view name;
    if (params["name"].get_string().get(name) != simdjson::SUCCESS || name.empty()) {
      return invalid(rpc_error::kInvalidParams,
                     "Invalid params: tools/call needs params.name (a string)", m.id);
    }
    m.tool_name = std::string(name);
    simdjson::dom::element args;
    if (params["arguments"].get(args) == simdjson::SUCCESS && !args.is_null()) {
      if (!args.is_object()) {
        return invalid(rpc_error::kInvalidParams,
                       "Invalid params: params.arguments must be an object", m.id);
      }
      m.arguments = simdjson::minify(args);
    }
  } else if (m.method == "tools/list") {
    std::string_view cursor;
    if (params["cursor"].get_string().get(cursor) == simdjson::SUCCESS) {
      m.has_cursor = true;
      m.cursor = std::string(cursor);
    }
  }
  return m;
}

}  // namespace sluice::mcp
