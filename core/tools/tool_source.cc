#include "core/tools/tool_source.h"

namespace sluice::tools {

const char* to_string(CallStatus s) {
  switch (s) {
    case CallStatus::Ok:
      return "ok";
    case CallStatus::ToolError:
      return "error";
    case CallStatus::Timeout:
      return "timeout";
    case CallStatus::Unavailable:
      return "unavailable";
  }
  return "unknown";
}

ToolTypeRegistry& ToolTypeRegistry::global() {
  static ToolTypeRegistry registry = [] {
    ToolTypeRegistry r;
    register_core_tool_types(r);
    return r;
  }();
  return registry;
}

void ToolTypeRegistry::add(std::string type, ToolSourceBuilder builder) {
  builders_.emplace_back(std::move(type), std::move(builder));
}

const ToolSourceBuilder* ToolTypeRegistry::find(std::string_view type) const {
  for (const auto& [name, builder] : builders_) {
    if (name == type) return &builder;
  }
  return nullptr;
}

std::string function_name_of(std::string_view tool_name) {
  std::string out(tool_name);
  for (char& c : out) {
    if (c == '.') c = '_';
  }
  return out;
}

}  // namespace sluice::tools
