// D: an Anthropic Messages request (a client of POST /v1/messages) → an OpenAI chat completions
// request that any provider can answer (the client API's on_request).
//
// Field by field (docs/anthropic.md has the same table for operators):
//   model                   the target's model (options.model)
//   system, messages        messages (anthropic_messages_to_chat.h)
//   max_tokens              max_tokens (the field every OpenAI-compatible server reads; OpenAI's
//                             reasoning models want max_completion_tokens and refuse it)
//   temperature, top_p      the same (Anthropic's 0..1 temperature is within OpenAI's 0..2)
//   stop_sequences          stop
//   stream                  stream, plus stream_options.include_usage: true — always, so the
//                             answer carries the usage Anthropic clients expect at the end
//   metadata.user_id        user
//   tools                   function tools {type:function, function:{name, description,
//                             parameters: input_schema}}
//   tool_choice             {type:auto} → "auto", {type:any} → "required", {type:none} →
//                             "none", {type:tool,name} → {type:function,function:{name}};
//                             disable_parallel_tool_use: true → parallel_tool_calls: false
//                             (both sent only with tools: OpenAI refuses them without)
//
// Dropped: top_k (OpenAI has none), thinking (extended thinking is Anthropic's; the answer
// is whole without it), service_tier, cache_control anywhere, context_management, and any
// field this translator does not know (forward compatible).
// Refused (Invalid, naming the field): server tools (tools[] with a type such as
// "web_search_20250305", "bash_20250124"), mcp_servers, container, and what
// anthropic_messages_to_chat.h refuses.
#pragma once

#include <string>
#include <string_view>

#include "anthropic/outcome.h"

namespace anthropic {

// Writes the OpenAI request into `out` (replacing it). Invalid for a body that is not a JSON
// object or has no `messages` array, and for everything refused above.
Outcome messages_request_to_chat(std::string_view messages_body, std::string_view model,
                                 std::string& out);

}  // namespace anthropic
