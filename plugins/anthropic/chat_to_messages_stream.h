// F: an OpenAI chat.completion.chunk stream → Anthropic's SSE events (the client API's
// on_stream_event), one OpenAI event's data at a time (a chunk's JSON, or "[DONE]").
//
// What the client gets, in order:
//   event: message_start        on the first chunk: {id: "msg_" + the chunk's id, type,
//                               role, model, content: [], stop_reason: null, usage} — the usage
//                               as far as known then (zeros, unless the chunk carries usage)
//   content blocks              text → content_block_start {type:text, text:""}, one
//                               content_block_delta {text_delta} per chunk with content;
//                               each tool call → content_block_start {type:tool_use, id, name,
//                               input:{}}, then content_block_delta {input_json_delta,
//                               partial_json: the argument fragment} per fragment, as it comes;
//                               content_block_stop when the next block starts or the choice
//                               finishes. Blocks are numbered 0, 1, ... in order.
//   event: message_delta        {stop_reason (stop_reason.h), stop_sequence: null} and usage
//                               {input_tokens, cache_read_input_tokens, output_tokens, ...}
//   event: message_stop
// message_delta waits for the usage: it goes out when the usage chunk (choices: [], usage)
// arrives after finish_reason, when a chunk carries finish_reason and usage together, or at
// [DONE] (with zeros if the provider sent no usage) — so it works whether or not the provider
// sends usage. A refusal's text is text; reasoning fields (reasoning_content, ...) are dropped.
//
// Refused (Error): a chunk that is not JSON; a {"error": ...} chunk (an OpenAI-compatible
// server failing mid-stream: its message is passed on); content after finish_reason; a tool
// call without a name; arguments for a tool call whose block was already closed (Anthropic
// blocks cannot be reopened). The provider's stream ending (end()) before finish_reason is an
// Error too; after finish_reason without [DONE] it finishes the message (some servers omit
// [DONE]). Once Error is returned, every later call returns it; once message_stop is sent,
// everything later is ignored (the client's stream is whole).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "anthropic/json_reader.h"
#include "anthropic/outcome.h"

namespace anthropic {

class ChatToMessagesStream {
 public:
  // Where the stream is, between two chunks.
  enum class State : uint8_t {
    AwaitingFirstChunk,  // nothing sent yet
    NoOpenBlock,         // message_start sent; no content block open
    InTextBlock,         // a text block is open
    InToolUseBlock,      // a tool_use block is open (tool call `open_tool_`)
    Finishing,           // finish_reason seen, blocks closed: waiting for usage or [DONE]
    Done,                // message_delta and message_stop sent
    Failed,              // an Error was returned; everything fails from now on
  };
  static std::string_view to_string(State s);

  // `request_id`: the message id's fallback; `model`: the model's fallback (the target's).
  ChatToMessagesStream(std::string_view request_id, std::string_view model)
      : request_id_(request_id), fallback_model_(model) {}

  // One OpenAI event's data: a chunk's JSON, or "[DONE]". Appends zero or more complete
  // Anthropic events to `out`.
  Outcome on_event(std::string_view data, std::string& out);
  // The provider's stream ended cleanly.
  Outcome on_end(std::string& out);

  const Usage& usage() const { return usage_; }
  State state() const { return state_; }

 private:
  Outcome on_chunk(object chunk, std::string& out);
  Outcome on_choice(object choice, std::string& out);
  Outcome on_tool_call_delta(element value, std::string& out);
  // message_start with the first chunk's id and model ("" for the fallbacks).
  void start_message(std::string_view id, std::string_view model, std::string& out);
  void start_text_block(std::string& out);
  void close_block(std::string& out);
  void finish_message(std::string& out);
  Outcome fail(const std::string& why);

  // "event: <name>\ndata: <json>\n\n" with the JSON in scratch_.
  void emit(std::string& out, std::string_view name);

  std::string request_id_, fallback_model_;
  State state_ = State::AwaitingFirstChunk;
  uint64_t next_block_ = 0;  // Anthropic's index for the next content block
  int64_t open_tool_ = -1;   // OpenAI's index of the tool call whose block is open (or was last)
  std::string stop_reason_;  // from finish_reason, once seen
  Usage usage_;
  std::string scratch_;  // the event being built (kept to reuse its capacity)
  std::string failure_;
  simdjson::dom::parser parser_;  // one per stream: its buffers are reused by every chunk
};

}  // namespace anthropic
