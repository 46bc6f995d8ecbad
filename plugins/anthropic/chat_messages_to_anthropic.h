// Part of A (chat_to_messages_request.h): OpenAI's `messages` array → Anthropic's top-level
// `system` and its `messages` array of alternating user / assistant turns.
//
//   system, developer   their text goes to `system` (in order, joined with "\n\n", wherever
//                       they stood in the conversation — Anthropic has one system prompt);
//                       content: a string or text parts
//   user                a user turn: text parts → text blocks, image_url parts → image blocks
//                       (http(s) URL → source.type "url"; a base64 data: URL → source.type
//                       "base64" with its media type)
//   assistant           an assistant turn: text (and refusal) parts → text blocks, then each
//                       tool_calls[] entry → a tool_use block {id, name, input} whose input is
//                       `function.arguments` parsed (it must be a JSON object; "" means {})
//   tool                a tool_result block {tool_use_id: tool_call_id, content} in a user turn
//
// Anthropic wants user and assistant turns to alternate, so consecutive messages that become
// the same role are merged into one turn, blocks in order: the results of several tool
// messages in a row share one user turn (Anthropic's shape for parallel tool calls), and a user
// message right after them joins that turn after its tool_result blocks, where Anthropic wants
// them. Empty text (Anthropic refuses empty text blocks) is left out, and a message left with
// no blocks at all (an assistant's "" next to nothing) adds no turn.
//
// Refused (Invalid, naming the field): an unknown role or the legacy `function` role; a part
// type Anthropic has no equivalent for (input_audio, file, ...); an image anywhere but in a
// user message; an image URL that is neither http(s) nor a base64 data: URL; a tool call that
// is not of type "function", lacks id or name, or whose arguments are not a JSON object; a
// tool message without tool_call_id; the legacy assistant `function_call`.
// Dropped: `name` on any message, cache_control, image detail, an assistant's `audio`.
#pragma once

#include <string>

#include "anthropic/json_reader.h"
#include "anthropic/outcome.h"

namespace anthropic {

struct AnthropicConversation {
  std::string system;    // joined system text; "" = no system prompt
  std::string messages;  // the JSON array of turns: [{"role":"user","content":[...]}, ...]
};

Outcome chat_messages_to_anthropic(array messages, AnthropicConversation& out);

}  // namespace anthropic
