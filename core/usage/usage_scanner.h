// UsageScanner: reads the token usage out of an upstream response body as it passes through
// (DESIGN §8, §11), and — for OpenAI-type streams where sluice itself asked for usage — takes
// the usage-only chunk and the chunks' "usage": null out of what the client gets.
//
// One scanner per in-flight response, reused for every attempt: begin() before the first body
// byte of each attempt, feed() with each piece of the (de-chunked) body as it arrives, split
// anywhere, flush() when the body ended, then finish() for the usage. Nothing already seen is
// parsed again and the body is never kept:
//   - a JSON body goes through a small state machine (json_usage_finder.h) that follows its
//     strings and nesting, copies out only the usage object (at most 4 KiB) and parses that
//     with simdjson;
//   - an SSE event is read when its blank line arrives, in place in the read that holds it
//     (copied only when it spans reads, at most kMaxEventData; a longer event goes through the
//     state machine as it arrives). Events that cannot hold a usage object — every token's
//     chunk — get a quick pass for their content bytes (event_data_scan.h); the few that can
//     go through the state machine.
//
// The provider's shape is recognised from the content, not the endpoint:
//   JSON body   top-level "usage": OpenAI chat / completions / embeddings / Responses, Anthropic
//   SSE event   "data:" lines only (several are joined by "\n", as a client joins them) —
//               OpenAI chat/completions chunk with "usage": {...} (null is ignored; a chunk with
//                 non-empty choices counts too; with several, the last wins),
//               OpenAI Responses "response.completed" (response.usage),
//               Anthropic message_start (message.usage: input and cache counts) and
//                 message_delta (usage.output_tokens, cumulative: the last wins).
//   `data: [DONE]`, comments, event:/id:/retry: lines are passed over.
//
// Stripping (strip_usage_only_chunk, event streams only) gives the client the stream the
// provider would have sent had sluice not asked for usage:
//   - an event made of data lines only whose data is one JSON object with "choices": [] and
//     "usage": {...} is removed whole — from its first line through the blank line that ends it;
//   - from every other complete event of one data line, a top-level `"usage": null` member is
//     removed with its separating comma (OpenAI adds it to every chunk when include_usage is
//     on; null_usage_member.h says which members qualify — any other is left as it came);
//   - everything else reaches the client byte for byte.
// An event that might be changed (its first line is a data line) is held back until its blank
// line decides it; held bytes are copied only when the event spans reads. An event longer than
// kMaxHeldBytes is never changed (so never held longer); an event the body ends inside of is
// released unchanged by flush().
//
// The forwarded pieces: with stripping off (or a JSON body) feed() returns exactly one piece,
// the input itself — no copy. With stripping on, pieces point into the input or into the
// scanner's own hold buffer; they stay valid until the next call on the scanner (and those
// into the input, while the input does). Their concatenation over all feed() and flush()
// calls is the body minus the removed events and members. None of it depends on how the body
// was split into reads.
//
// Robustness: any bytes at all may be fed. Memory is bounded (event copy, hold buffer, usage
// copy, a few fixed fields) whatever the input; counts outside 0..10^12 or not integers are
// ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/usage/json_usage_finder.h"
#include "core/usage/usage.h"

namespace sluice::usage {

class UsageScanner {
 public:
  // How the body is framed, from the response's content-type.
  enum class Kind : uint8_t {
    Json,         // one JSON document (application/json and anything else)
    EventStream,  // text/event-stream
  };

  // A stretch of bytes to send to the client, in order.
  struct Piece {
    const char* data;
    size_t size;
    std::string_view view() const { return {data, size}; }
  };

  // An event longer than this is never removed or changed, so never held longer (a usage-only
  // chunk is ~300–600 bytes, a token's chunk ~200–400).
  static constexpr size_t kMaxHeldBytes = size_t{16} * 1024;
  // An event whose data is longer than this is not copied when it spans reads: it goes
  // through the exact reader as it arrives.
  static constexpr size_t kMaxEventData = size_t{64} * 1024;

  UsageScanner() = default;
  UsageScanner(const UsageScanner&) = delete;
  UsageScanner& operator=(const UsageScanner&) = delete;

  // Starts a response (or a new attempt): forgets all earlier input, usage and held bytes.
  // strip_usage_only_chunk is honoured for Kind::EventStream only.
  void begin(Kind kind, bool strip_usage_only_chunk);

  // The next bytes of the body. Returns what to forward now (see the file comment).
  std::span<const Piece> feed(std::string_view chunk);

  // The body has ended (complete or cut): reads the last event if the body ended inside it,
  // completes an event ended by a lone '\r', and returns the bytes still held (to forward
  // before ending the response). Empty unless stripping is on.
  std::span<const Piece> flush();

  // The usage, normalised (usage.h), once the body has ended or been abandoned (client gone,
  // attempt failed): an event still open is read first, so call it after the last feed() —
  // flush() first when its bytes are to be forwarded.
  //   Reported   a usage object arrived (for streams: its last update, field by field);
  //   Estimated  only Anthropic's message_start arrived (the stream ended before
  //              message_delta): input and cache counts are as reported, output_tokens is
  //              max(the placeholder, estimate_tokens_from_bytes(content_bytes()));
  //   None       no usage at all: the caller estimates (request size, content_bytes()).
  Usage finish();

  // Bytes of generated content seen so far (string values of content/text/delta/arguments/
  // thinking/... keys, escapes counted as written): the basis of the output estimate.
  uint64_t content_bytes() const { return finder_.content_bytes() + quick_content_bytes_; }

  // True when this attempt's body is being filtered (EventStream with stripping on).
  bool strips() const { return strip_; }

 private:
  // Where the current SSE line is.
  enum class Line : uint8_t {
    Start,    // before its first byte
    Prefix,   // reading its field name, to see whether it is "data:"
    Data,     // in a data: value (added to the event's data)
    Ignored,  // any other line: skipped to its end
  };
  // The current event, when stripping.
  enum class Hold : uint8_t {
    Pass,       // decided: forwarded
    Undecided,  // might be the usage-only chunk, or lose its "usage": null: held
  };

  void scan_event_stream(const char* p, const char* end);
  const char* end_line(const char* eol, const char* end);
  void start_event(const char* p);
  void end_event(const char* p);
  void forward_without_null_usage(const char* p);
  void add_data(const char* from, const char* to, bool new_line);
  void keep_event_data();
  bool read_event_data();
  void release();
  void emit(const char* from, const char* to);
  void push_piece(const char* data, size_t size);

  Kind kind_ = Kind::Json;
  bool strip_ = false;
  detail::JsonUsageFinder finder_;

  // SSE line/event state.
  Line line_ = Line::Start;
  uint8_t prefix_len_ = 0;          // bytes of "data:" matched so far
  bool skip_space_ = false;         // the one optional space after "data:" is still ahead
  bool data_line_started_ = false;  // this data line has added to the event's data already
  bool cr_pending_ = false;         // the last line ended in '\r': a '\n' next belongs to it
  bool event_open_ = false;         // a non-blank line since the last blank line
  bool event_has_data_ = false;     // the open event has had a data line
  bool event_end_pending_ = false;  // the event's blank line ended in '\r' at a chunk's end

  // The open event's data (its data lines joined), read when the event ends. Kept in place
  // (inplace_*, in the current chunk) while it can be; copied into event_data_ when it spans
  // reads or lines; fed to the finder as it comes once longer than kMaxEventData.
  bool inplace_ = false;
  const char* inplace_data_ = nullptr;
  size_t inplace_size_ = 0;
  std::string event_data_;
  size_t event_data_size_ = 0;  // joined size so far
  bool event_streaming_ = false;
  uint64_t quick_content_bytes_ = 0;  // counted by the quick pass (the finder counts its own)
  // False when read_event_data found no `"usage" : null` anywhere in the event's data: the
  // held event then has no member for find_null_usage_in_event to take out.
  bool event_null_usage_possible_ = true;
  // Where read_event_data saw the data's first `"usage" : null` (npos: not known).
  size_t event_first_null_usage_ = std::string_view::npos;

  // Stripping state.
  Hold hold_ = Hold::Pass;
  const char* emit_from_ = nullptr;  // in the current chunk: first byte not yet forwarded
  const char* hold_from_ = nullptr;  // in the current chunk: where the held event's bytes start
  std::string held_;                 // bytes of the undecided event from earlier chunks
  std::string released_;             // what release() handed out in the current call
  std::vector<Piece> pieces_;
  Piece single_{nullptr, 0};
};

}  // namespace sluice::usage
