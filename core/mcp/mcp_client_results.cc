#include "core/mcp/mcp_client_results.h"

#include <simdjson.h>

#include "core/mcp/mcp_client_rpc.h"

namespace sluice::mcp {
namespace {

// Parses `json` as an object into `object` (the parser keeps the document alive).
bool parse_object(simdjson::dom::parser& parser, std::string_view json,
                  simdjson::dom::object* object) {
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) return false;
  return root.get(*object) == simdjson::SUCCESS;
}

std::string string_or_empty(simdjson::dom::object object, std::string_view key) {
  std::string_view value;
  if (object[key].get(value) != simdjson::SUCCESS) return {};
  return std::string(value);
}

// A content item that is not text, as a marker in CallAnswer::text.
std::string marker_of(simdjson::dom::object item, std::string_view type) {
  std::string detail;
  if (type == "image" || type == "audio") {
    detail = string_or_empty(item, "mimeType");
  } else if (type == "resource_link") {
    detail = string_or_empty(item, "uri");
  } else if (type == "resource") {
    simdjson::dom::object resource;
    if (item["resource"].get(resource) == simdjson::SUCCESS) {
      // An embedded text resource is text: show it.
      std::string_view text;
      if (resource["text"].get(text) == simdjson::SUCCESS) return std::string(text);
      detail = string_or_empty(resource, "uri");
    }
  }
  std::string out = "[" + std::string(type.empty() ? "content" : type);
  if (!detail.empty()) out += " " + detail;
  out += "]";
  return out;
}

}  // namespace

bool read_initialize_result(std::string_view result_json, InitializeResult* out,
                            std::string* error) {
  simdjson::dom::parser parser;
  simdjson::dom::object result;
  if (!parse_object(parser, result_json, &result)) {
    *error = "the initialize result is not a JSON object";
    return false;
  }
  std::string_view version;
  if (result["protocolVersion"].get(version) != simdjson::SUCCESS) {
    *error = "the initialize result has no protocolVersion";
    return false;
  }
  if (!client_speaks(version)) {
    *error = "the server answered protocol version " + std::string(version.substr(0, 64)) +
             "; sluice speaks " + client_versions_text();
    return false;
  }
  out->protocol_version = std::string(version);
  bool list_changed = false;
  if (result["capabilities"]["tools"]["listChanged"].get(list_changed) != simdjson::SUCCESS) {
    list_changed = false;
  }
  out->tools_list_changed = list_changed;
  std::string_view name;
  if (result["serverInfo"]["name"].get(name) == simdjson::SUCCESS) {
    out->server_name = std::string(name.substr(0, 200));
  }
  return true;
}

bool read_tools_page(std::string_view result_json, ToolsPage* out, std::string* error) {
  simdjson::dom::parser parser;
  simdjson::dom::object result;
  if (!parse_object(parser, result_json, &result)) {
    *error = "the tools/list result is not a JSON object";
    return false;
  }
  simdjson::dom::array tools;
  if (result["tools"].get(tools) != simdjson::SUCCESS) {
    *error = "the tools/list result has no \"tools\" array";
    return false;
  }
  size_t index = 0;
  for (simdjson::dom::element item : tools) {
    const std::string where = "tools[" + std::to_string(index++) + "]";
    simdjson::dom::object tool;
    if (item.get(tool) != simdjson::SUCCESS) {
      out->skipped.push_back(where + " is not an object");
      continue;
    }
    std::string_view name;
    if (tool["name"].get(name) != simdjson::SUCCESS || name.empty()) {
      out->skipped.push_back(where + " has no name");
      continue;
    }
    simdjson::dom::object schema;
    if (tool["inputSchema"].get(schema) != simdjson::SUCCESS) {
      out->skipped.push_back("tool \"" + std::string(name.substr(0, 128)) +
                             "\" has no inputSchema object");
      continue;
    }
    UpstreamTool entry;
    entry.name = std::string(name);
    entry.description = string_or_empty(tool, "description");
    if (entry.description.empty()) entry.description = string_or_empty(tool, "title");
    entry.input_schema_json = simdjson::minify(schema);
    out->tools.push_back(std::move(entry));
  }
  out->next_cursor = string_or_empty(result, "nextCursor");
  return true;
}

bool read_call_result(std::string_view result_json, CallAnswer* out, std::string* error) {
  simdjson::dom::parser parser;
  simdjson::dom::object result;
  if (!parse_object(parser, result_json, &result)) {
    *error = "the tools/call result is not a JSON object";
    return false;
  }
  bool is_error = false;
  if (result["isError"].get(is_error) != simdjson::SUCCESS) is_error = false;
  out->is_error = is_error;

  simdjson::dom::element content;
  out->content_json = "[]";
  if (result["content"].get(content) == simdjson::SUCCESS) {
    simdjson::dom::array items;
    if (content.get(items) != simdjson::SUCCESS) {
      *error = "the tools/call result's content is not an array";
      return false;
    }
    out->content_json = simdjson::minify(content);
    for (simdjson::dom::element element : items) {
      simdjson::dom::object item;
      if (element.get(item) != simdjson::SUCCESS) continue;
      std::string_view type;
      if (item["type"].get(type) != simdjson::SUCCESS) type = {};
      std::string piece;
      std::string_view text;
      if (type == "text" && item["text"].get(text) == simdjson::SUCCESS) {
        piece = std::string(text);
      } else {
        piece = marker_of(item, type);
      }
      if (!out->text.empty()) out->text.push_back('\n');
      out->text += piece;
    }
  }
  simdjson::dom::element structured;
  if (result["structuredContent"].get(structured) == simdjson::SUCCESS && !structured.is_null()) {
    out->structured_json = simdjson::minify(structured);
  }
  return true;
}

}  // namespace sluice::mcp
