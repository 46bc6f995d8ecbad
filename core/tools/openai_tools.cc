#include "core/tools/openai_tools.h"

#include "core/http/response_builder.h"

namespace sluice::tools {
namespace {

void append_string(std::string& out, std::string_view s) {
  out.push_back('"');
  http::append_json_escaped(out, s);
  out.push_back('"');
}

}  // namespace

std::string openai_tools_body(const VisibleTools& visible) {
  std::string out;
  size_t size = 32;
  for (const ToolEntry* t : visible.entries) {
    size += t->function_name.size() + t->description.size() + t->input_schema_json.size() + 80;
  }
  out.reserve(size);
  out.append("{\"object\":\"list\",\"data\":[");
  bool first = true;
  for (const ToolEntry* t : visible.entries) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"type\":\"function\",\"function\":{\"name\":");
    append_string(out, t->function_name);
    if (!t->description.empty()) {
      out.append(",\"description\":");
      append_string(out, t->description);
    }
    out.append(",\"parameters\":").append(t->input_schema_json).append("}}");
  }
  out.append("]}");
  return out;
}

std::string rest_result_body(const CallResult& result) {
  std::string out;
  out.reserve(result.content.size() + 16);
  out.append("{\"result\":");
  if (result.json) {
    out.append(result.content);
  } else {
    append_string(out, result.content);
  }
  out.push_back('}');
  return out;
}

}  // namespace sluice::tools
