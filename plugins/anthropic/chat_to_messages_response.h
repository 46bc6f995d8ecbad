// E: an OpenAI chat.completion → an Anthropic message (the client API's on_response).
//
// A 2xx answer (its first choice; the request never asks for more):
//   id                        "msg_" + OpenAI's id (kept as is if it already starts with
//                               "msg_"; the request id when the answer has none)
//   type, role                "message", "assistant"
//   model                     copied (the fallback model when the answer has none)
//   message.content           a text block (left out when empty); a refusal's text likewise
//   message.tool_calls[]      tool_use blocks {id, name, input}: `arguments` parsed — they
//                               must be a JSON object ("" means {}); anything else is an Error
//                               (Anthropic clients read input as an object and cannot be given
//                               a half-formed call)
//   finish_reason             stop_reason (stop_reason.h); stop_sequence: null
//   usage                     input_tokens = prompt_tokens - cached_tokens,
//                               cache_read_input_tokens = cached_tokens,
//                               cache_creation_input_tokens = 0 (OpenAI reports no writes),
//                               output_tokens = completion_tokens
// Any other status: error_translation.h (openai_error_to_anthropic).
// A 2xx that is not a chat completion with a choice is an Error.
#pragma once

#include <string_view>

#include "anthropic/outcome.h"

namespace anthropic {

struct ChatResponseContext {
  std::string_view request_id;  // the id's fallback
  std::string_view model;       // the model's fallback (the target's)
};

Outcome chat_response_to_messages(int status, std::string_view body,
                                  const ChatResponseContext& context, TranslatedResponse& out);

// "msg_" + `openai_id` (as is when it starts with "msg_ already); "msg_" + `fallback` when the
// id is empty. Shared with the stream translator (F).
std::string anthropic_message_id(std::string_view openai_id, std::string_view fallback);

}  // namespace anthropic
