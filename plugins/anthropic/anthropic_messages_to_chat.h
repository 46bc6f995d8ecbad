// Part of D (messages_to_chat_request.h): Anthropic's `system` and `messages` → OpenAI's
// `messages` array.
//
//   system                 a first system message: the string, or its text blocks joined with
//                          "\n\n" (cache_control dropped)
//   user turn              a user message: a string stays a string; blocks become parts —
//                          text → {type:text}, image with a base64 source → image_url with a
//                          data: URL, image with a url source → image_url with that URL
//     tool_result blocks   each becomes a `tool` message {tool_call_id: tool_use_id, content},
//                          placed BEFORE the turn's other parts (OpenAI wants tool messages
//                          right after the assistant message that called them; Anthropic puts
//                          the results first in the turn anyway). content: the string, or its
//                          text blocks joined with "\n\n"; with is_error: true it is prefixed
//                          with "Error: " — OpenAI has no error flag, and the model should
//                          still know the call failed
//   assistant turn         an assistant message: text blocks joined (no separator) → content,
//                          tool_use blocks → tool_calls [{id, type:function, function:{name,
//                          arguments: the input as JSON text}}]; content is null when there are
//                          only tool calls
//     thinking,            dropped: a model's own reasoning, replayed by clients that use
//     redacted_thinking    extended thinking; only Anthropic can read it back (signed), and the
//                          conversation is whole without it
//
// Refused (Invalid, naming the field): a role other than user/assistant; document,
// search_result, server tool and container blocks, and any block type not listed (OpenAI chat
// has no place for them); an image source that is neither base64 nor url (a Files API file_id);
// an image or other non-text block inside a tool_result; tool_use in a user turn, tool_result
// or image in an assistant turn.
#pragma once

#include <optional>
#include <string>

#include "anthropic/json_reader.h"
#include "anthropic/outcome.h"

namespace anthropic {

// Writes the OpenAI `messages` array (JSON) into `out`.
Outcome anthropic_messages_to_chat(std::optional<element> system, array messages, std::string& out);

}  // namespace anthropic
