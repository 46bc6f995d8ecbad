// What the mock provider answers under /tools/ — stand-ins for the HTTP services `type: http`
// tools call (DESIGN §4 tools.*). Every x-mock-behavior / control rule applies to them too
// (status, hang, reset, slow ...), with path prefix "/tools".
//   /tools/text  → text/plain "echo: <body>"
//   /tools/big   → a JSON document of 2 MiB (for max_response)
//   /tools/<any> → JSON {"tool": "<any>", "method": "...", "arguments": <the body as JSON, or
//                  null when it is empty or not JSON>}
#pragma once

#include <string_view>

#include "tests/support/mock/openai_replies.h"

namespace sluice::mock {

bool is_tool_path(std::string_view path);
Reply tool_endpoint_reply(std::string_view method, std::string_view path, std::string_view body);

}  // namespace sluice::mock
