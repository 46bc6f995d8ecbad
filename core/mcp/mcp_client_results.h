// The results sluice's MCP client reads (MCP "lifecycle" and "tools"): the server's
// InitializeResult, a tools/list page and a tools/call result. Each reader takes the result
// object's JSON text (RpcAnswer::result_json) and either fills its struct or says, in a
// sentence, what is wrong. No I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice::mcp {

struct InitializeResult {
  std::string protocol_version;     // one sluice speaks (client_speaks)
  bool tools_list_changed = false;  // capabilities.tools.listChanged: it sends list_changed
  std::string server_name;          // serverInfo.name ("" when absent), for logs
};
// False with *error when the result is not an object, has no protocolVersion, or names a
// version sluice does not speak ("the server answered protocol version 2024-11-05; sluice
// speaks 2025-11-25, 2025-06-18 and 2025-03-26").
bool read_initialize_result(std::string_view result_json, InitializeResult* out,
                            std::string* error);

// One tool of an upstream server, as it described itself. Its name is checked later by whoever
// offers it to agents (a name sluice cannot offer is skipped there, with a warning).
struct UpstreamTool {
  std::string name;
  std::string description;        // description, else title, else ""
  std::string input_schema_json;  // inputSchema (an object's JSON text)

  bool operator==(const UpstreamTool&) const = default;
};

struct ToolsPage {
  std::vector<UpstreamTool> tools;
  std::string next_cursor;  // "" on the last page
  // Entries that could not be read (no name, inputSchema not an object): one sentence each,
  // for a warning; the page's other tools are kept.
  std::vector<std::string> skipped;
};
// False with *error when the result is not an object or "tools" is not an array.
bool read_tools_page(std::string_view result_json, ToolsPage* out, std::string* error);

// A tools/call result.
struct CallAnswer {
  bool is_error = false;        // result.isError: the tool ran and failed
  std::string content_json;     // the content array as it came ("[]" when absent)
  std::string structured_json;  // structuredContent's JSON text; "" when absent
  // The content as text: the text items joined by "\n"; other items as a short marker
  // ("[image image/png]", "[resource file:///a.txt]") so a reader knows something was there.
  std::string text;
};
// False with *error when the result is not an object or content is not an array.
bool read_call_result(std::string_view result_json, CallAnswer* out, std::string* error);

}  // namespace sluice::mcp
