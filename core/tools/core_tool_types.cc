#include "core/tools/http_tool.h"
#include "core/tools/mcp_tool.h"
#include "core/tools/tool_source.h"

namespace sluice::tools {

void register_core_tool_types(ToolTypeRegistry& registry) {
  registry.add("http", &build_http_tool);
  registry.add("mcp", &build_mcp_tool);
}

}  // namespace sluice::tools
