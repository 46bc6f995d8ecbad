// SseReader: the event-stream format (WHATWG "server-sent events") as sluice's MCP client reads
// it — a POST's text/event-stream answer and the GET stream of server notifications.
//
// providers::EventSplitter cuts provider streams and deliberately drops `id:` and `retry:`;
// MCP needs both (2025-11-25: a server may close the connection mid-answer after an event with
// an id, and the client resumes with GET + Last-Event-ID after waiting `retry` ms), hence this
// reader of its own.
//
// Rules (WHATWG): lines end in \n, \r\n or \r; `data:` lines are joined by "\n"; `event:` names
// the event; `id:` sets the last event id (kept across events; a value with NUL is ignored);
// `retry:` (digits only) sets the reconnection delay; lines starting with ':' are comments; a
// line without ':' is a field with an empty value; one space after the colon is dropped; a blank
// line dispatches the event — unless no `data:` line came, then it is dropped (its id still
// counts). An event cut off by the end of the stream is dropped.
//
// Memory is bounded: a line or an event longer than kMaxEventBytes is an error (too_long()),
// not a buffer that grows with whatever the server sends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::mcp {

struct SseEvent {
  std::string_view id;     // the last event id when it was dispatched ("" when none yet)
  std::string_view event;  // the `event:` field; "" when absent ("message")
  std::string_view data;   // `data:` lines joined by "\n" (may be empty: a priming event)
};

class SseReader {
 public:
  static constexpr size_t kMaxEventBytes = size_t{16} << 20;
  // Returns false to stop reading (feed() then returns false too).
  using Sink = std::function<bool(const SseEvent& event)>;

  // Feeds body bytes; the sink runs for each complete event. False when a line or an event was
  // too long (too_long() then says so) or the sink stopped.
  bool feed(std::string_view bytes, const Sink& sink);

  bool too_long() const { return too_long_; }
  // The id of the last event that carried one ("" when none): what a resumption sends as
  // Last-Event-ID.
  const std::string& last_event_id() const { return last_id_; }
  // The last `retry:` value, in milliseconds.
  std::optional<uint64_t> retry_ms() const { return retry_ms_; }

 private:
  bool on_line(std::string_view line, const Sink& sink);
  bool dispatch(const Sink& sink);

  std::string line_;       // the current line, when it spans feeds
  bool after_cr_ = false;  // the last byte was \r: a \n right after it ends no new line
  std::string event_;      // the pending event's name
  std::string data_;       // the pending event's data lines, each followed by "\n"
  bool has_data_ = false;
  std::string last_id_;
  std::optional<uint64_t> retry_ms_;
  bool too_long_ = false;
};

}  // namespace sluice::mcp
