#include "core/mcp/mcp_client_rpc.h"

#include <simdjson.h>

#include <cctype>

#include "core/http/response_builder.h"
#include "core/mcp/mcp_client_sse.h"
#include "sluice_version.h"

namespace sluice::mcp {
namespace {

void append_quoted(std::string& out, std::string_view s) {
  out.push_back('"');
  http::append_json_escaped(out, s);
  out.push_back('"');
}

// A response is ours when its id is the number we sent (a server echoes the id as it came;
// "5" as a string is another id under JSON-RPC's rules).
bool is_id(const ServerMessage& m, int64_t id) {
  return m.kind == ServerMessage::Kind::Response && m.id_json == std::to_string(id);
}

// An answer from one message (a JSON body, or the stream event carrying the response).
RpcAnswer answer_from(ServerMessage&& m) {
  RpcAnswer a;
  if (m.is_error) {
    a.status = RpcAnswer::Status::Error;
    a.code = m.error_code;
    a.message = m.error_message.empty() ? "JSON-RPC error " + std::to_string(m.error_code)
                                        : std::move(m.error_message);
  } else {
    a.status = RpcAnswer::Status::Result;
    a.result_json = std::move(m.result_json);
  }
  return a;
}

RpcAnswer malformed(std::string why) {
  RpcAnswer a;
  a.status = RpcAnswer::Status::Malformed;
  a.message = std::move(why);
  return a;
}

RpcAnswer read_json_answer(std::string_view body, int64_t id, ServerTraffic* traffic) {
  ServerMessage m = read_server_message(body);
  switch (m.kind) {
    case ServerMessage::Kind::Invalid:
      return malformed("the answer is not a JSON-RPC 2.0 message: " + m.invalid_reason);
    case ServerMessage::Kind::Notification:
    case ServerMessage::Kind::Request:
      if (traffic != nullptr) traffic->note(m);
      return malformed(
          "the answer is a " +
          std::string(m.kind == ServerMessage::Kind::Request ? "request" : "notification") + " (" +
          m.method + "), not the response to request " + std::to_string(id));
    case ServerMessage::Kind::Response:
      break;
  }
  // An error about a request the server could not read carries id null; it is still the
  // answer to this POST.
  if (!is_id(m, id) && !(m.is_error && m.id_json == "null")) {
    return malformed("the answer is the response to id " + m.id_json + ", not to request " +
                     std::to_string(id));
  }
  return answer_from(std::move(m));
}

RpcAnswer read_stream_answer(std::string_view body, int64_t id, ServerTraffic* traffic) {
  SseReader reader;
  std::optional<RpcAnswer> found;
  std::string invalid;  // the first event that was not JSON-RPC, for the message
  reader.feed(body, [&](const SseEvent& event) {
    if (event.data.empty()) return true;  // a priming event (an id, no message)
    if (!event.event.empty() && event.event != "message") return true;  // not an MCP message
    ServerMessage m = read_server_message(event.data);
    if (m.kind == ServerMessage::Kind::Invalid) {
      if (invalid.empty()) invalid = m.invalid_reason;
      return true;
    }
    if (m.kind != ServerMessage::Kind::Response) {
      if (traffic != nullptr) traffic->note(m);
      return true;
    }
    if (!is_id(m, id) && !(m.is_error && m.id_json == "null")) return true;  // not ours
    found = answer_from(std::move(m));
    return false;  // the response ends what this POST is waiting for
  });
  if (found) return std::move(*found);
  if (reader.too_long()) {
    return malformed("an event of the answer stream is longer than " +
                     std::to_string(SseReader::kMaxEventBytes) + " bytes");
  }
  if (!invalid.empty()) {
    return malformed("the answer stream carried a message that is not JSON-RPC 2.0: " + invalid);
  }
  RpcAnswer a;
  a.status = RpcAnswer::Status::Unfinished;
  a.message = "the answer stream ended without the response to request " + std::to_string(id);
  a.last_event_id = reader.last_event_id();
  a.retry_ms = reader.retry_ms();
  return a;
}

}  // namespace

bool client_speaks(std::string_view protocol_version) {
  for (std::string_view v : kClientProtocolVersions) {
    if (v == protocol_version) return true;
  }
  return false;
}

std::string client_versions_text() {
  return std::string(kClientProtocolVersions[0]) + ", " + std::string(kClientProtocolVersions[1]) +
         " and " + std::string(kClientProtocolVersions[2]);
}

std::string rpc_request(int64_t id, std::string_view method, std::string_view params_json) {
  std::string out = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":)";
  append_quoted(out, method);
  if (!params_json.empty()) {
    out += R"(,"params":)";
    out += params_json;
  }
  out.push_back('}');
  return out;
}

std::string rpc_notification(std::string_view method) {
  std::string out = R"({"jsonrpc":"2.0","method":)";
  append_quoted(out, method);
  out.push_back('}');
  return out;
}

std::string rpc_result(std::string_view id_json, std::string_view result_json) {
  std::string out = R"({"jsonrpc":"2.0","id":)";
  out += id_json;
  out += R"(,"result":)";
  out += result_json;
  out.push_back('}');
  return out;
}

std::string rpc_error(std::string_view id_json, int code, std::string_view message) {
  std::string out = R"({"jsonrpc":"2.0","id":)";
  out += id_json;
  out += R"(,"error":{"code":)" + std::to_string(code) + R"(,"message":)";
  append_quoted(out, message);
  out += "}}";
  return out;
}

std::string initialize_params() {
  std::string out = R"({"protocolVersion":)";
  append_quoted(out, kClientProtocolVersions[0]);
  out += R"(,"capabilities":{},"clientInfo":{"name":"sluice","version":)";
  append_quoted(out, SLUICE_VERSION);
  out += "}}";
  return out;
}

std::string tools_list_params(std::string_view cursor) {
  if (cursor.empty()) return "{}";
  std::string out = R"({"cursor":)";
  append_quoted(out, cursor);
  out.push_back('}');
  return out;
}

std::string tools_call_params(std::string_view name, std::string_view arguments_json) {
  std::string out = R"({"name":)";
  append_quoted(out, name);
  out += R"(,"arguments":)";
  out += arguments_json.empty() ? std::string_view("{}") : arguments_json;
  out.push_back('}');
  return out;
}

ServerMessage read_server_message(std::string_view json) {
  ServerMessage m;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
    m.invalid_reason = "not JSON";
    return m;
  }
  if (root.is_array()) {
    m.invalid_reason = "a batch (JSON array); MCP sends one message per body";
    return m;
  }
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) {
    m.invalid_reason = "not a JSON object";
    return m;
  }
  std::string_view version;
  if (object["jsonrpc"].get(version) != simdjson::SUCCESS || version != "2.0") {
    m.invalid_reason = R"("jsonrpc" is not "2.0")";
    return m;
  }
  simdjson::dom::element id;
  const bool has_id = object["id"].get(id) == simdjson::SUCCESS;
  if (has_id && !id.is_string() && !id.is_int64() && !id.is_uint64() && !id.is_null()) {
    m.invalid_reason = R"("id" is neither a string nor an integer)";
    return m;
  }
  if (has_id) m.id_json = simdjson::minify(id);

  std::string_view method;
  simdjson::dom::element method_element;
  if (object["method"].get(method_element) == simdjson::SUCCESS) {
    if (method_element.get(method) != simdjson::SUCCESS) {
      m.invalid_reason = R"("method" is not a string)";
      return m;
    }
    m.method = std::string(method);
    if (!has_id) {
      m.kind = ServerMessage::Kind::Notification;
    } else if (id.is_null()) {
      m.invalid_reason = R"(a request with "id": null)";
    } else {
      m.kind = ServerMessage::Kind::Request;
    }
    return m;
  }

  if (!has_id) {
    m.invalid_reason = R"(neither a "method" nor an "id")";
    return m;
  }
  simdjson::dom::element result;
  simdjson::dom::element error;
  const bool has_result = object["result"].get(result) == simdjson::SUCCESS;
  const bool has_error = object["error"].get(error) == simdjson::SUCCESS;
  if (has_result == has_error) {
    m.invalid_reason = has_result ? R"(a response with both "result" and "error")"
                                  : R"(a response with neither "result" nor "error")";
    return m;
  }
  if (has_result) {
    if (id.is_null()) {
      m.invalid_reason = R"(a result with "id": null)";
      return m;
    }
    m.kind = ServerMessage::Kind::Response;
    m.result_json = simdjson::minify(result);
    return m;
  }
  simdjson::dom::object error_object;
  if (error.get(error_object) != simdjson::SUCCESS) {
    m.invalid_reason = R"("error" is not an object)";
    return m;
  }
  int64_t code = 0;
  if (error_object["code"].get(code) != simdjson::SUCCESS) {
    m.invalid_reason = R"("error.code" is not an integer)";
    return m;
  }
  std::string_view message;
  if (error_object["message"].get(message) == simdjson::SUCCESS) m.error_message = message;
  m.kind = ServerMessage::Kind::Response;
  m.is_error = true;
  m.error_code = code;
  return m;
}

void ServerTraffic::note(const ServerMessage& message) {
  // A bound: a server flooding an answer with requests gets the first ones answered.
  constexpr size_t kMaxRequests = 16;
  if (message.kind == ServerMessage::Kind::Notification) {
    if (message.method == "notifications/tools/list_changed") tools_list_changed = true;
  } else if (message.kind == ServerMessage::Kind::Request && requests.size() < kMaxRequests) {
    requests.emplace_back(message.id_json, message.method);
  }
}

const char* to_string(RpcAnswer::Status s) {
  switch (s) {
    case RpcAnswer::Status::Result:
      return "result";
    case RpcAnswer::Status::Error:
      return "error";
    case RpcAnswer::Status::Malformed:
      return "malformed";
    case RpcAnswer::Status::Unfinished:
      return "unfinished";
  }
  return "?";
}

std::string media_type(std::string_view content_type) {
  std::string out;
  for (char c : content_type.substr(0, content_type.find(';'))) {
    if (c == ' ' || c == '\t') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

RpcAnswer read_rpc_answer(std::string_view content_type, std::string_view body, int64_t id,
                          ServerTraffic* traffic) {
  const std::string type = media_type(content_type);
  if (type == "application/json") return read_json_answer(body, id, traffic);
  if (type == "text/event-stream") return read_stream_answer(body, id, traffic);
  return malformed("the answer's content type is \"" + std::string(content_type.substr(0, 100)) +
                   "\", not application/json or text/event-stream");
}

}  // namespace sluice::mcp
