// The mock provider's replies on Ollama's native API (what plugins/lua/ollama_native.lua
// speaks), in its shapes:
//
//   POST /api/chat  {model, messages, stream?, tools?, options?}
//     → a chat JSON {model, created_at, message: {role, content[, tool_calls]}, done: true,
//       done_reason, prompt_eval_count, eval_count, ...}, or — unless "stream": false, as Ollama
//       streams by default — NDJSON (application/x-ndjson): one line per word of the answer
//       {..., message: {role, content: <piece>}, done: false}, then the done line with
//       done_reason and the counts.
//   GET /api/tags   → {"models": [...]} (a health check's path)
//
// The answer is "[<model>] <last user text>" (+ " [images: N]" when that message carries
// images); `options.num_predict` cuts it to that many words (done_reason "length"). Tools work
// as in the other shapes (tool_use.h: Ollama's `tools` and role "tool" messages are OpenAI's;
// there is no tool_choice): a request that offers tools is answered with a call — a whole
// line {"message": {"tool_calls": [{"function": {"name", "arguments": {...}}}]}} — and one
// whose last message is a tool result with text echoing it. Counts: prompt_eval_count one per
// word of every message, eval_count one per piece (tool calls: as tool_use.h counts);
// `no_usage` leaves both out. Failures use Ollama's {"error": "..."} body (`status:<code>`;
// 429 also says retry-after); `error_event` ends a stream with an {"error"} line after its
// first; `cut` and the other endings work as for every shape (exchange_script.h): a cut
// stream stops after 2 lines.
#pragma once

#include <cstdint>
#include <string_view>

#include "tests/support/mock/behavior.h"
#include "tests/support/mock/openai_replies.h"

namespace sluice::mock {

// Whether `path` (no query string) is Ollama's native API (/api/...).
bool is_ollama_path(std::string_view path);

Reply ollama_reply(std::string_view method, std::string_view path, std::string_view body,
                   const Behavior& behavior, uint64_t sequence);

// {"error": message} with `status`.
Reply ollama_error_reply(int status, std::string_view message);

}  // namespace sluice::mock
