// The bodies the mock provider answers with, in OpenAI's shapes: chat completions (JSON or
// SSE chunks with an optional final usage chunk), legacy completions, embeddings, responses and
// the model list. Every reply echoes the model it was asked for and the last user input, so a
// test can see which physical model sluice spliced in and that the prompt went through intact.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/json.h"
#include "tests/support/mock/behavior.h"
#include "tests/support/mock/tool_use.h"

namespace sluice::mock {

struct Reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type and framing
  std::string content_type = "application/json";
  std::string body;                 // the whole body when !stream
  bool stream = false;              // true: `events` are sent as chunked text/event-stream
  std::vector<std::string> events;  // each a complete SSE event, blank line included
  // How many events a `cut_in_tool` cut sends: the first tool call's start and about half of
  // its argument deltas. 0 when the reply calls no tool (the cut then sends 2, as `cut`).
  size_t tool_cut_events = 0;
};

// The reply to one API call. `path` has no query string. An unknown path gets a 404 error
// body, a non-2xx `behavior.status_code` an OpenAI error body for that status (429 also carries
// `retry-after: 1`).
Reply openai_reply(std::string_view method, std::string_view path, std::string_view body,
                   const Behavior& behavior, uint64_t sequence);

// The tool part of an OpenAI chat request (tool_use.h): its function tools, tool_choice, and
// whether the conversation ends with tool results (role "tool" messages). Ollama's native
// requests have the same `tools` and `tool` messages (ollama_replies.h).
ToolRequest tool_request_of(const test::Json& body);

// What a `status:<code>` failure says, in every shape: "mock provider failure (status 503)".
std::string failure_message(int status);
// Its retry-after header: the behaviour's `retry_after:<s>`, or 1 on a 429; none otherwise.
void add_retry_after(Reply& reply, const Behavior& behavior);

// {"error": {"message", "type", "param": null, "code"}}
Reply error_reply(int status, std::string_view message, std::string_view type,
                  std::string_view code);

std::string_view reason_phrase(int status);

}  // namespace sluice::mock
