// EventSplitter: cuts a streamed answer into the events a translator reads, whatever the
// reads' boundaries were.
//   Sse    — the WHATWG event-stream rules: lines end in \n, \r\n or \r; `event:` names the
//            event, `data:` lines are joined by "\n", `id:`/`retry:` and comments (":") are
//            skipped, a blank line dispatches the event (an event with no data line is not
//            dispatched); one space after the colon is dropped.
//   Ndjson — one JSON document per line (Ollama's native stream); blank lines are skipped; a
//            last line without its newline is dispatched by finish().
// Memory is bounded: an event (or line) longer than kMaxEventBytes is an error, not a buffer
// that grows with whatever the provider sends.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "core/providers/translation.h"

namespace sluice::providers {

class EventSplitter {
 public:
  static constexpr size_t kMaxEventBytes = 16u << 20;

  // Called for each event: its name ("" when none or NDJSON) and data. Returns false to stop
  // (the translator failed): feed() then returns false too.
  using Sink = std::function<bool(std::string_view name, std::string_view data)>;

  void reset(StreamFraming framing);
  // Feeds bytes; false when an event was too long or the sink stopped.
  bool feed(std::string_view bytes, const Sink& sink);
  // The stream ended: an NDJSON line without its newline is dispatched; an SSE event without
  // its blank line is dropped, as a browser drops it. False when the sink stopped.
  bool finish(const Sink& sink);
  bool too_long() const { return too_long_; }

 private:
  bool on_line(std::string_view line, const Sink& sink);

  StreamFraming framing_ = StreamFraming::Sse;
  std::string line_;       // the current line, when it spans reads
  bool after_cr_ = false;  // the last byte was \r: a \n right after it ends no new line
  std::string name_;       // SSE: the pending event's name
  std::string data_;       // SSE: the pending event's data lines, joined by \n
  bool has_data_ = false;
  bool too_long_ = false;
};

}  // namespace sluice::providers
