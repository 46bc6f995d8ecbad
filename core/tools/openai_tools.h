// The REST face of tools (DESIGN §5): GET /v1/tools lists the agent's tools as OpenAI function
// tools, ready for a chat request's `tools` parameter ({"object":"list","data":[{"type":
// "function","function":{name, description, parameters}}]}); POST /v1/tools/{name} answers
// {"result": <JSON result, or the text as a string>}.
#pragma once

#include <string>

#include "core/tools/tool_call.h"
#include "core/tools/tool_set.h"

namespace sluice::tools {

std::string openai_tools_body(const VisibleTools& visible);
// Body of a successful call.
std::string rest_result_body(const CallResult& result);

}  // namespace sluice::tools
