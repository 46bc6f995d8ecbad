// The JSON-RPC bodies sluice's /mcp answers with (MCP 2025-11-25 / 2025-06-18 / 2025-03-26
// shapes). Plain text building: these run per request.
#pragma once

#include <string>
#include <string_view>

#include "core/tools/tool_call.h"
#include "core/tools/tool_set.h"

namespace sluice::mcp {

// {"jsonrpc":"2.0","id":<id>,"error":{"code":..,"message":..}} (+ "data" when given: JSON).
std::string rpc_error_reply(std::string_view id, int code, std::string_view message,
                            std::string_view data_json = {});
// initialize's result: the negotiated version, tools capability, serverInfo.
std::string initialize_reply(std::string_view id, std::string_view protocol_version);
std::string empty_result_reply(std::string_view id);  // ping
// tools/list's result: every visible tool with its name, description and inputSchema.
std::string tools_list_reply(std::string_view id, const tools::VisibleTools& visible);
// tools/call's result: content (text, or the upstream's array), structuredContent for a JSON
// object result, isError for anything but Ok (with a message saying what happened).
std::string tool_result_reply(std::string_view id, std::string_view tool,
                              const tools::CallResult& result);
// The message an agent's model reads for a failed call: "tool X timed out after 5s", ...
std::string failure_text(std::string_view tool, const tools::CallResult& result);

}  // namespace sluice::mcp
