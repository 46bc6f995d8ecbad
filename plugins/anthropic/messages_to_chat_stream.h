// C: an Anthropic Messages SSE stream → OpenAI chat.completion.chunk events, one Anthropic
// event at a time (sluice has already split the bytes into whole events).
//
// Event by event:
//   message_start        the first chunk: delta {"role":"assistant","content":""}; the id and
//                        model of every chunk, the input and cache counts of the usage
//   content_block_start  text: nothing (its text comes in deltas; an initial text is sent);
//                        tool_use: the tool call's first chunk — delta.tool_calls
//                        [{index, id, type:"function", function:{name, arguments:""}}], where
//                        index counts tool_use blocks only (OpenAI numbers tool calls, not
//                        content blocks); thinking, redacted_thinking and block types this code
//                        does not know: skipped whole, with their deltas. A tool_use without
//                        id or name is an Error (the client could neither run nor answer it)
//   content_block_delta  text_delta → delta.content; input_json_delta → delta.tool_calls
//                        [{index, function:{arguments: partial_json}}], forwarded as it comes
//                        (never accumulated: a huge argument costs no memory here);
//                        thinking_delta, signature_delta, citations_delta, unknown: nothing
//   content_block_stop   nothing
//   message_delta        its stop_reason is kept (stop_reason.h) and its usage
//                        (output_tokens, cumulative) updates the counts
//   message_stop         the chunk with delta {} and finish_reason (of the last message_delta;
//                        "stop" if none said): sent here because nothing may follow an OpenAI
//                        finish_reason, and a message may carry several message_delta events
//   ping                 nothing
//   error                Error with Anthropic's message (overloaded mid-stream, ...): sluice
//                        ends the client's stream with an error event
//   anything else        nothing (forward compatible: Anthropic documents that new event
//                        types may appear)
// end() (the provider's stream ended cleanly): Error unless message_stop was seen ("stream
// ended before message_stop": a cut that looked clean); else the usage chunk
// {"choices":[],"usage":{...}} if the client asked for it, then `data: [DONE]`.
//
// Errors are strict where a slip would corrupt the answer (a delta for a block that is not the
// open one, a tool argument in a text block, content before message_start, a second
// message_start, anything after message_stop, JSON that does not parse): once Error is
// returned, every later call returns it too.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "anthropic/json_reader.h"
#include "anthropic/outcome.h"
#include "anthropic/usage.h"

namespace anthropic {

class MessagesToChatStream {
 public:
  // Where the stream is, between two events.
  enum class State : uint8_t {
    AwaitingMessageStart,  // nothing but ping seen yet
    BetweenBlocks,         // message started; no content block open
    InTextBlock,           // a text block is open: text_delta expected
    InToolUseBlock,        // a tool_use block is open: input_json_delta expected
    InSkippedBlock,        // thinking / unknown block open: its deltas are dropped
    Stopped,               // message_stop seen: only end() may follow
    Failed,                // an Error was returned; everything fails from now on
  };
  static std::string_view to_string(State s);

  // `created`: the chunks' "created" (seconds since the epoch, when the attempt began).
  explicit MessagesToChatStream(int64_t created) : created_(created) {}

  // One Anthropic event: its SSE event name (may be empty: then the data's "type" is used)
  // and its data. Appends zero or more complete client events to `out`.
  Outcome on_event(std::string_view name, std::string_view data, std::string& out);
  // The provider's stream ended cleanly. `include_usage`: the client asked for the usage chunk.
  Outcome on_end(bool include_usage, std::string& out);

  // What Anthropic reported so far (input and cache counts from message_start, output from the
  // last message_delta).
  Usage usage() const { return counts_.to_usage(); }
  State state() const { return state_; }

 private:
  Outcome on_message_start(object event, std::string& out);
  Outcome on_block_start(object event, std::string& out);
  Outcome on_block_delta(object event, std::string& out);
  Outcome on_block_stop(object event);
  Outcome on_message_delta(object event);
  Outcome on_message_stop(std::string& out);
  Outcome on_error(object event);
  Outcome fail(const std::string& why);
  // The block index of a content_block_* event, checked against the open block.
  Outcome check_open_block(object event, std::string_view what);

  // One chunk: the shared head, `delta` (a JSON object) and finish_reason (JSON, "null").
  void emit_chunk(std::string& out, std::string_view delta, std::string_view finish_reason);
  void emit_text(std::string& out, std::string_view text);

  int64_t created_;
  State state_ = State::AwaitingMessageStart;
  // `data: {"id":...,"object":"chat.completion.chunk","created":...,"model":...,"choices":[`
  // built once at message_start: every chunk starts with it.
  std::string chunk_head_;
  uint64_t open_block_ = 0;         // Anthropic's index of the open content block
  uint64_t tool_calls_ = 0;         // tool_use blocks started so far: the next tool call's index
  std::string_view finish_reason_;  // from the last message_delta's stop_reason (static text)
  AnthropicCounts counts_;
  std::string scratch_;           // a delta being built (kept to reuse its capacity)
  std::string failure_;           // the message of the Error that ended the stream
  simdjson::dom::parser parser_;  // one per stream: its buffers are reused by every event
};

}  // namespace anthropic
