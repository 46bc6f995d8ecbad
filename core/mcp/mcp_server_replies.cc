#include "core/mcp/mcp_server_replies.h"

#include "core/http/response_builder.h"
#include "sluice_version.h"

namespace sluice::mcp {
namespace {

void open_reply(std::string& out, std::string_view id) {
  out.append("{\"jsonrpc\":\"2.0\",\"id\":").append(id);
}

void append_string(std::string& out, std::string_view s) {
  out.push_back('"');
  http::append_json_escaped(out, s);
  out.push_back('"');
}

bool is_json_object(std::string_view json) {
  for (char c : json) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
    return c == '{';
  }
  return false;
}

}  // namespace

std::string rpc_error_reply(std::string_view id, int code, std::string_view message,
                            std::string_view data_json) {
  std::string out;
  open_reply(out, id);
  out.append(",\"error\":{\"code\":").append(std::to_string(code)).append(",\"message\":");
  append_string(out, message);
  if (!data_json.empty()) out.append(",\"data\":").append(data_json);
  out.append("}}");
  return out;
}

std::string initialize_reply(std::string_view id, std::string_view protocol_version) {
  std::string out;
  open_reply(out, id);
  out.append(",\"result\":{\"protocolVersion\":");
  append_string(out, protocol_version);
  // listChanged false: /mcp offers no server-to-client stream (GET answers 405), so it cannot
  // announce changes; clients list again when they need to.
  out.append(
      ",\"capabilities\":{\"tools\":{\"listChanged\":false}},"
      "\"serverInfo\":{\"name\":\"sluice\",\"version\":\"" SLUICE_VERSION "\"}}}");
  return out;
}

std::string empty_result_reply(std::string_view id) {
  std::string out;
  open_reply(out, id);
  out.append(",\"result\":{}}");
  return out;
}

std::string tools_list_reply(std::string_view id, const tools::VisibleTools& visible) {
  std::string out;
  size_t size = 64;
  for (const tools::ToolEntry* t : visible.entries) {
    size += t->name.size() + t->description.size() + t->input_schema_json.size() + 64;
  }
  out.reserve(size);
  open_reply(out, id);
  out.append(",\"result\":{\"tools\":[");
  bool first = true;
  for (const tools::ToolEntry* t : visible.entries) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"name\":");
    append_string(out, t->name);
    if (!t->description.empty()) {
      out.append(",\"description\":");
      append_string(out, t->description);
    }
    out.append(",\"inputSchema\":").append(t->input_schema_json).append("}");
  }
  out.append("]}}");
  return out;
}

std::string failure_text(std::string_view tool, const tools::CallResult& result) {
  std::string text;
  switch (result.status) {
    case tools::CallStatus::Ok:
      return result.content;
    case tools::CallStatus::ToolError:
      text.append("tool ").append(tool).append(" failed: ");
      break;
    case tools::CallStatus::Timeout:
      text.append("tool ").append(tool).append(" timed out");
      if (!result.content.empty()) text.append(" ");
      break;
    case tools::CallStatus::Unavailable:
      text.append("tool ").append(tool).append(" is unavailable: ");
      break;
  }
  text.append(result.content);
  return text;
}

std::string tool_result_reply(std::string_view id, std::string_view tool,
                              const tools::CallResult& result) {
  std::string out;
  out.reserve(result.content.size() + result.mcp_content.size() + 128);
  open_reply(out, id);
  out.append(",\"result\":{\"content\":");
  const bool ok = result.status == tools::CallStatus::Ok;
  if (!result.mcp_content.empty() && result.status != tools::CallStatus::Timeout &&
      result.status != tools::CallStatus::Unavailable) {
    out.append(result.mcp_content);
  } else {
    out.append("[{\"type\":\"text\",\"text\":");
    append_string(out, ok ? std::string_view(result.content) : failure_text(tool, result));
    out.append("}]");
  }
  // structuredContent must be an object (MCP 2025-06-18); other JSON values travel as text.
  if (ok && result.json && is_json_object(result.content)) {
    out.append(",\"structuredContent\":").append(result.content);
  }
  out.append(",\"isError\":").append(ok ? "false" : "true").append("}}");
  return out;
}

}  // namespace sluice::mcp
