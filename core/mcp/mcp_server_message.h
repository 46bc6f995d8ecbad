// What one POST /mcp body asks of sluice's MCP server (JSON-RPC 2.0 over Streamable HTTP,
// protocol versions 2025-11-25, 2025-06-18, 2025-03-26), read before the filter chain runs so
// that a tools/call can count as one (rate limits) and everything else cannot.
#pragma once

#include <string>
#include <string_view>

namespace sluice::mcp {

// The protocol versions sluice speaks, newest first: initialize answers the client's when it
// is one of these, else the newest.
inline constexpr std::string_view kProtocolVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};
bool supported_protocol(std::string_view version);

// JSON-RPC 2.0 error codes (the spec's, and MCP's use of them).
namespace rpc_error {
inline constexpr int kParseError = -32700;      // not JSON
inline constexpr int kInvalidRequest = -32600;  // not a JSON-RPC 2.0 request (or a batch)
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;  // also: unknown tool (MCP)
inline constexpr int kInternalError = -32603;
// sluice's own, in the range JSON-RPC leaves to servers: a policy answered before the tool
// (rate limit, budget, a Lua filter's refusal); data carries the HTTP status and error code.
inline constexpr int kRefused = -32000;
}  // namespace rpc_error

// Kind of message, and what the server does with it:
//   Request      — has an id and a method: answered with a result or an error (HTTP 200).
//   Notification — a method without id: accepted, 202 with no body (notifications/initialized,
//                  notifications/cancelled, ...).
//   Response     — a result/error without method (the client answering a server request —
//                  sluice sends none): accepted, 202.
//   Invalid      — not a JSON-RPC 2.0 message: `error_code`/`error_message` say why; answered
//                  with that error (id null when none could be read).
enum class MessageKind : uint8_t { Request, Notification, Response, Invalid };

struct McpMessage {
  MessageKind kind = MessageKind::Invalid;
  std::string id = "null";  // the id's JSON text, echoed in the answer (number or string)
  std::string method;
  // initialize: params.protocolVersion ("" when absent).
  std::string protocol_version;
  // tools/call: params.name and params.arguments (JSON object text; "{}" when absent).
  std::string tool_name;
  std::string arguments = "{}";
  // tools/list: params.cursor, when given.
  bool has_cursor = false;
  std::string cursor;
  int error_code = 0;
  std::string error_message;
};

// Reads one message. Batches (a JSON array) are Invalid: MCP 2025-06-18 removed them, and a
// tools/call inside one would dodge the per-call accounting.
McpMessage read_mcp_message(std::string_view body);

}  // namespace sluice::mcp
