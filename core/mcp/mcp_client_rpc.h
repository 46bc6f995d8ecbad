// The JSON-RPC 2.0 messages of sluice's MCP client (Streamable HTTP, client side): the bodies it
// POSTs, and how it reads what a server answers — a single JSON object (application/json) or an
// SSE stream (text/event-stream) that carries, in any order, the server's notifications and
// requests and, eventually, the response to the POST's request.
//
// No I/O: McpClientCall (mcp_client_call.h) sends the bodies and hands the answers here; unit
// tests drive these functions directly. (The server side of /mcp is another file's business.)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::mcp {

// The protocol versions sluice speaks as a client, newest first; initialize offers the first
// and accepts any of them in the server's answer.
inline constexpr std::string_view kClientProtocolVersions[] = {"2025-11-25", "2025-06-18",
                                                               "2025-03-26"};
bool client_speaks(std::string_view protocol_version);
// "2025-11-25, 2025-06-18 and 2025-03-26", for messages.
std::string client_versions_text();

// {"jsonrpc":"2.0","id":<id>,"method":<method>[,"params":<params_json>]}; params_json is a
// JSON object's text, "" for none.
std::string rpc_request(int64_t id, std::string_view method, std::string_view params_json);
// {"jsonrpc":"2.0","method":<method>}
std::string rpc_notification(std::string_view method);
// Answers to a server's request (id_json is the request's id as it came): {"result": ...} and
// {"error": {"code", "message"}}.
std::string rpc_result(std::string_view id_json, std::string_view result_json);
std::string rpc_error(std::string_view id_json, int code, std::string_view message);
// The params of sluice's initialize: the newest protocol version, no client capabilities (sluice
// offers no roots, sampling or elicitation), clientInfo {name: "sluice", version}.
std::string initialize_params();
// {"cursor": <cursor>} (or "" for the first page).
std::string tools_list_params(std::string_view cursor);
// {"name": <name>, "arguments": <arguments_json>} (arguments_json: an object's text; "" = {}).
std::string tools_call_params(std::string_view name, std::string_view arguments_json);

// One message a server sent, classified. The rules of JSON-RPC 2.0 as MCP uses it: an object
// with "jsonrpc": "2.0"; a request has a method and an id (string or number), a notification a
// method and no id, a response an id (null only for an error) and exactly one of result/error.
struct ServerMessage {
  enum class Kind : uint8_t { Response, Notification, Request, Invalid };
  Kind kind = Kind::Invalid;
  std::string id_json;  // Response/Request: the id as it came ("7", "\"abc\"", "null")
  std::string method;   // Notification/Request
  // Response:
  bool is_error = false;
  std::string result_json;  // the result's JSON text (any value)
  int64_t error_code = 0;
  std::string error_message;  // the error's message ("" when it had none)
  // Invalid: why ("not JSON", "a batch (JSON array)", "\"jsonrpc\" is not \"2.0\"", ...).
  std::string invalid_reason;
};
ServerMessage read_server_message(std::string_view json);

// What came along an answer besides the response, for the client to act on.
struct ServerTraffic {
  bool tools_list_changed = false;  // notifications/tools/list_changed
  // The server's requests (id_json, method), to answer (ping) or refuse (anything else).
  std::vector<std::pair<std::string, std::string>> requests;
  void note(const ServerMessage& message);  // a Notification or a Request; others ignored
};

// The response to request `id`, read from an HTTP answer body. Status rules:
//   Result     — result_json is the response's result.
//   Error      — the server answered a JSON-RPC error: code and message (the server's words).
//   Malformed  — no usable response: the body is not a JSON-RPC 2.0 response to `id` (not JSON,
//                a batch, a wrong "jsonrpc", another id, neither result nor error), or the
//                content type is neither JSON nor an event stream. message says which.
//   Unfinished — an event stream ended without the response. When the server gave its events
//                ids, it may be resumed: GET with Last-Event-ID = last_event_id after retry_ms
//                (MCP 2025-11-25 "polling"); otherwise it is as good as Malformed.
struct RpcAnswer {
  enum class Status : uint8_t { Result, Error, Malformed, Unfinished };
  Status status = Status::Malformed;
  std::string result_json;
  int64_t code = 0;
  std::string message;
  std::string last_event_id;
  std::optional<uint64_t> retry_ms;
};
const char* to_string(RpcAnswer::Status s);

// `content_type` is the answer's Content-Type header value (parameters and case ignored).
// Notifications and requests met before the response (or in a stream that never brings it)
// go to `traffic`.
RpcAnswer read_rpc_answer(std::string_view content_type, std::string_view body, int64_t id,
                          ServerTraffic* traffic);

// The media type of a Content-Type value, lowercased, without parameters or spaces.
std::string media_type(std::string_view content_type);

}  // namespace sluice::mcp
