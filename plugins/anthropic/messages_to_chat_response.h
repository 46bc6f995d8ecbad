// B: an Anthropic Messages answer → an OpenAI chat.completion (the provider's on_response).
//
// A 2xx answer:
//   id, model                   copied (the id stays Anthropic's "msg_...": it is what
//                                 Anthropic's logs and support know the answer by)
//   content[] text blocks       joined in order (no separator) → message.content
//   content[] tool_use blocks   message.tool_calls[] {id, type:"function",
//                                 function:{name, arguments: the input as JSON text}}
//   thinking, redacted_thinking dropped: OpenAI's chat shape has no place for them, and the
//                                 answer is whole without them
//   other block types           dropped (server tool blocks and what newer API versions add:
//                                 forward compatible; their results reach the text anyway)
//   stop_reason                 finish_reason (stop_reason.h)
//   usage                       prompt_tokens = input + cache reads + cache writes,
//                                 completion_tokens = output, total_tokens,
//                                 prompt_tokens_details.cached_tokens = cache reads;
//                                 reported to sluice with cache writes apart
// message.content is null when the answer is only tool calls (as OpenAI sends it), "" when it
// is empty; `created` is the time the attempt began (options).
// Any other status: error_translation.h (anthropic_error_to_openai).
// A 2xx that is not an Anthropic message is an Error: the provider broke its API.
#pragma once

#include <cstdint>
#include <string_view>

#include "anthropic/outcome.h"

namespace anthropic {

Outcome messages_response_to_chat(int status, std::string_view body, int64_t created,
                                  TranslatedResponse& out);

}  // namespace anthropic
