// How the mock provider answers a request that offers tools, the same way in both dialects
// (OpenAI `tools` + `tool_choice`, Anthropic `tools` + `tool_choice`), so that a test can
// predict every byte of a tool call from its own request:
//
//   - The request offers tools and its last message is not a tool result: the answer calls the
//     tool `tool_choice` names, else the first one offered (`tool_calls:<n>`: n calls, cycling
//     through the tools from there). tool_choice none (OpenAI "none", Anthropic {"type":"none"})
//     or the behaviour `no_tools` → a text answer.
//   - The last message carries tool results (OpenAI role "tool", Anthropic tool_result blocks
//     in the last user message): a text answer "[<model>] <the results' text, joined by ' '>",
//     unless tool_choice forces a call (OpenAI "required" or a named function, Anthropic "any"
//     or "tool"), as the real APIs do.
//   - Arguments: a JSON object with one member per property of the tool's schema (OpenAI
//     `function.parameters`, Anthropic `input_schema`), in schema order, valued by the
//     property's type: the first `enum` value if any; string → the last user text; integer or
//     number → its word count; boolean → true; array → its words; object → {}; anything else →
//     the text. No properties → {"input": <text>}. `pad:<n>` adds "padding": n bytes of 'p'.
//     The text is the last user message's ("hello" when empty).
//   - Ids: "call_mock_<seq>_<i>" (OpenAI), "toolu_mock_<seq>_<i>" (Anthropic).
//   - Streams send the arguments' JSON text in `arg_chunk:<bytes>` fragments (default 8, never
//     cutting a UTF-8 sequence); usage counts one output token per fragment (plus one per word
//     of a `tool_preamble`), in JSON bodies too.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/json.h"
#include "tests/support/mock/behavior.h"

namespace sluice::mock {

// The tool-related part of a request, read from either dialect.
struct ToolRequest {
  // Rules: Auto — the mock calls a tool unless the last message is a tool result;
  // None — never; Required/Named — always (Named: `named` first).
  enum class Choice : uint8_t { Auto, None, Required, Named };
  std::vector<std::pair<std::string, test::Json>> tools;  // name, input schema (may be null)
  Choice choice = Choice::Auto;
  std::string named;
  bool after_tool_result = false;  // the last message answers tool calls
  std::string tool_result_text;    // their text, joined by ' '
};

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;               // JSON text
  std::vector<std::string> fragments;  // `arguments` in stream pieces
};

// The calls to answer with; empty: answer in text. `id_prefix` is "call_mock_" or
// "toolu_mock_".
std::vector<ToolCall> choose_tool_calls(const ToolRequest& request, const Behavior& behavior,
                                        std::string_view user_text, std::string_view id_prefix,
                                        uint64_t sequence);

// The arguments object for a tool with `schema` (see the rules above).
test::Json tool_arguments(const test::Json& schema, std::string_view user_text, uint32_t pad);

// `text` in pieces of at most `size` bytes, never splitting a UTF-8 sequence.
std::vector<std::string> utf8_fragments(std::string_view text, size_t size);

// "Let me call <name>." — the `tool_preamble` text.
std::string tool_preamble_text(const std::vector<ToolCall>& calls);

// Output tokens a tool-call answer reports: one per fragment, plus the preamble's words.
int tool_output_tokens(const std::vector<ToolCall>& calls, std::string_view preamble);

}  // namespace sluice::mock
