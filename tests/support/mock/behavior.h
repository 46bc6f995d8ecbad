// What the mock provider does with one request (DESIGN §13: "mock providers that can fail on
// command"). A behaviour is written as a comma-separated list of items, e.g.
// "status:500", "slow:200,chunks:5", "cut". It is chosen per request by the
// `x-mock-behavior` header, else by the next rule queued through POST /__control, else the
// command-line defaults.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::mock {

struct Behavior {
  // How the exchange ends. Rules:
  //   Answer  - a normal reply (status_code may still be an error status: `status:<code>`);
  //   Reset   - close the socket with SO_LINGER 0 (RST) before any byte of the reply;
  //   Hang    - read the request and never answer (the connection stays open);
  //   Cut     - stream: send the head and `cut_events` events (2 unless `cut_after:<n>`; with
  //             `cut_in_tool`, halfway through the first tool call's argument deltas) then
  //             close without the end of the body; non-stream: the head and half the body;
  //   Garbage - send bytes that are not HTTP, then close.
  enum class Ending : uint8_t { Answer, Reset, Hang, Cut, Garbage };

  Ending ending = Ending::Answer;
  int status_code = 200;        // `status:<code>`; non-2xx replies carry an OpenAI error body
  uint32_t delay_ms = 0;        // `slow:<ms>`: before the first byte of the reply
  uint32_t chunk_delay_ms = 0;  // `slow_chunks:<ms>`: between two stream events
  int chunks = -1;              // `chunks:<n>`: content events in a stream; -1 = one per word
  uint32_t pad_bytes = 0;       // `pad:<bytes>`: filler words (64 bytes each) after the echo,
                                // for large bodies and long streams
  // `retry_after:<seconds>` (0-86400): the retry-after header of an error reply; -1 = the
  // default (429 says "1", other statuses send none).
  int retry_after_s = -1;
  // Usage the reply reports (cost tests price these exactly):
  //   `cached:<n>`      - prompt tokens read from the cache: OpenAI's
  //                       usage.prompt_tokens_details.cached_tokens (prompt_tokens is raised to
  //                       at least n so the numbers stay consistent);
  //   `cache_write:<n>` - prompt tokens written to the cache (Anthropic's
  //                       cache_creation_input_tokens; OpenAI shapes have no such field);
  //   `no_usage`        - no usage at all: JSON bodies without `usage`, streams without the
  //                       usage chunk even when the client asked include_usage (a provider
  //                       that omits it: sluice must estimate).
  //   `usage_in_last_chunk` - chat streams report usage in their finish_reason chunk (choices
  //                       not empty) and send no usage-only chunk, asked or not (as some
  //                       OpenAI-compatible servers do).
  uint32_t cached_tokens = 0;
  uint32_t cache_write_tokens = 0;
  bool omit_usage = false;
  bool usage_in_last_chunk = false;
  // `close_after`: a normal reply on a keep-alive connection, then the mock closes it (FIN)
  // without having said `Connection: close` — a provider dropping a connection that now sits
  // idle in sluice's pool (its keep-alive timeout, a restart). The next request must not fail.
  bool close_after = false;

  // Cut endings (see Ending::Cut): `cut` = `cut_after:2`; `cut_after:<n>` cuts a stream after
  // n events; `cut_in_tool` cuts it inside the first tool call (its start and about half of
  // its argument deltas sent; 2 events when the reply calls no tool).
  uint32_t cut_events = 2;
  bool cut_in_tool = false;

  // Tool calls (tool_use.h). A request that offers tools (OpenAI `tools`, Anthropic `tools`)
  // is answered with a call of the first one (or the one `tool_choice` names), arguments made
  // from the last user message; a request whose last message carries tool results is answered
  // in text echoing them. Items:
  //   `no_tools`          - answer in text even when tools are offered (tool_choice "auto"
  //                         left to the model: it chose not to call);
  //   `tool_calls:<n>`    - n parallel calls (1-16), cycling through the offered tools;
  //   `tool_preamble`     - a text part before the calls ("Let me call <name>.");
  //   `arg_chunk:<bytes>` - size of each streamed argument fragment (1-1000000, default 8;
  //                         never splits a UTF-8 sequence);
  //   `pad:<bytes>` adds a "padding" argument of that many bytes (huge arguments).
  bool ignore_tools = false;
  uint32_t tool_calls = 1;
  bool tool_preamble = false;
  uint32_t arg_chunk = 8;

  // Stream oddities:
  //   `error_event`    - after its first content delta the stream sends the provider's error
  //                      event (Anthropic: `event: error` overloaded_error; OpenAI: a `data:
  //                      {"error":{...}}` chunk) and ends cleanly, without the rest;
  //   `unknown_events` - forward compatibility: Anthropic streams gain an unknown event type
  //                      and an unknown content block type (start/delta/stop) before the
  //                      answer, JSON bodies an unknown block; OpenAI chunks an unknown field
  //                      and an SSE comment line;
  //   `thinking`       - Anthropic answers start with an extended-thinking block (thinking +
  //                      signature deltas; in JSON a {"type":"thinking"} block).
  bool error_event = false;
  bool unknown_events = false;
  bool thinking = false;

  // `strict`: validate the request as the real API would and answer 400 naming the field
  // (unknown top-level fields, roles, content block shapes, tool definitions, tool results
  // that answer no call, tool calls left unanswered). Start the mock with `--behavior strict`
  // so every request is checked.
  bool strict = false;

  // The spec as given (for the request log).
  std::string spec = "ok";
};

// Parses `spec` on top of `base` (so CLI defaults survive unless overridden). Items: ok,
// status:<100-599>, reset, hang, cut, garbage, slow:<ms>, slow_chunks:<ms>, chunks:<1-10000>,
// pad:<0-64000000>, retry_after:<0-86400>, cached:<0-1000000>, cache_write:<0-1000000>,
// no_usage, usage_in_last_chunk, close_after, cut_after:<1-1000000>, cut_in_tool, no_tools,
// tool_calls:<1-16>, tool_preamble, arg_chunk:<1-1000000>, error_event, unknown_events,
// thinking, strict.
// nullopt (with `error` set) on an unknown item or a bad number.
std::optional<Behavior> parse_behavior(std::string_view spec, const Behavior& base,
                                       std::string* error);

}  // namespace sluice::mock
