#include "core/usage/usage_scanner.h"

#include <algorithm>

#include "core/usage/byte_search.h"
#include "core/usage/event_data_scan.h"
#include "core/usage/null_usage_member.h"
#include "core/usage/reported_usage.h"

namespace sluice::usage {
namespace {

using detail::find_either;
using detail::JsonUsageFinder;

constexpr std::string_view kDataField = "data:";
constexpr char kJoin = '\n';  // between an event's data lines, as the client joins them

// OpenAI's usage-only chunk, as the exact reader saw the event's data.
bool is_usage_only(const JsonUsageFinder& finder) {
  return finder.root() == JsonUsageFinder::Root::Object &&
         finder.choices() == JsonUsageFinder::Choices::Empty &&
         finder.top_usage() == JsonUsageFinder::TopUsage::Object;
}

// A buffer one response grew (a long event spanning reads) is given back when the next
// begins, so that an idle scanner holds no more than a typical response needs.
void clear_and_trim(std::string& buffer) {
  constexpr size_t kKeptCapacity = 4096;
  if (buffer.capacity() > kKeptCapacity) {
    std::string().swap(buffer);
  } else {
    buffer.clear();
  }
}

}  // namespace

void UsageScanner::begin(Kind kind, bool strip_usage_only_chunk) {
  kind_ = kind;
  strip_ = strip_usage_only_chunk && kind == Kind::EventStream;
  finder_.reset();
  line_ = Line::Start;
  prefix_len_ = 0;
  skip_space_ = false;
  data_line_started_ = false;
  cr_pending_ = false;
  event_open_ = false;
  event_has_data_ = false;
  event_end_pending_ = false;
  inplace_ = false;
  inplace_data_ = nullptr;
  inplace_size_ = 0;
  clear_and_trim(event_data_);
  event_data_size_ = 0;
  event_streaming_ = false;
  quick_content_bytes_ = 0;
  hold_ = Hold::Pass;
  emit_from_ = nullptr;
  hold_from_ = nullptr;
  clear_and_trim(held_);
  clear_and_trim(released_);
  pieces_.clear();
}

std::span<const UsageScanner::Piece> UsageScanner::feed(std::string_view chunk) {
  const char* p = chunk.data();
  const char* end = p + chunk.size();
  if (kind_ == Kind::Json) {
    finder_.feed(p, end);
  } else {
    emit_from_ = p;
    hold_from_ = p;
    pieces_.clear();
    released_.clear();
    scan_event_stream(p, end);
    keep_event_data();  // this chunk's memory is the caller's
  }
  if (!strip_) {
    // The common path: the input goes on as it is.
    single_ = Piece{p, chunk.size()};
    return {&single_, chunk.empty() ? 0u : 1u};
  }
  if (hold_ == Hold::Undecided) {
    // The event goes on in the next chunk: keep its bytes, unless it is already too long to
    // be the usage-only chunk.
    const size_t n = static_cast<size_t>(end - hold_from_);
    if (held_.size() + n > kMaxHeldBytes) {
      release();
      emit(emit_from_, end);
    } else {
      held_.append(hold_from_, n);
    }
  } else {
    emit(emit_from_, end);
  }
  return pieces_;
}

std::span<const UsageScanner::Piece> UsageScanner::flush() {
  pieces_.clear();
  released_.clear();
  emit_from_ = nullptr;
  hold_from_ = nullptr;
  if (event_end_pending_) {
    // The last event ended with a lone '\r' blank line: no '\n' is coming, it is complete.
    event_end_pending_ = false;
    cr_pending_ = false;
    end_event(nullptr);
  } else if (event_open_) {
    // The body ended inside an event: read what came of it (it stays unfinished for the
    // client, who gets its bytes below).
    event_open_ = false;
    read_event_data();
  }
  if (hold_ == Hold::Undecided) release();
  return pieces_;
}

Usage UsageScanner::finish() {
  if (event_open_) {
    event_open_ = false;
    read_event_data();
  }
  if (!finder_.saw_usage()) return Usage{};
  Usage u = detail::normalise(finder_.reported());
  if (!finder_.saw_final_usage()) {
    // Only message_start's placeholder output count: the stream ended before message_delta.
    u.source = Usage::Source::Estimated;
    u.output_tokens = std::max(u.output_tokens, estimate_tokens_from_bytes(content_bytes()));
  }
  return u;
}

// SSE (WHATWG HTML §9.2): lines end in "\n", "\r\n" or "\r"; a blank line ends an event; a
// line "data:<value>" (one optional space after the colon) adds to the event's data, several
// data lines joined by "\n". Only data values are read, as one JSON document per event.
void UsageScanner::scan_event_stream(const char* p, const char* end) {
  if (p < end && cr_pending_) {
    cr_pending_ = false;
    if (*p == '\n') ++p;
    if (event_end_pending_) {
      event_end_pending_ = false;
      end_event(p);
    }
  }
  while (p < end) {
    switch (line_) {
      case Line::Start:
        if (*p == '\n' || *p == '\r') {
          p = end_line(p, end);
          if (event_open_) {
            if (cr_pending_) {
              event_end_pending_ = true;  // "\r" at the chunk's end: its "\n" may follow
            } else {
              end_event(p);
            }
          }
          break;
        }
        if (!event_open_) start_event(p);
        line_ = Line::Prefix;
        prefix_len_ = 0;
        break;
      case Line::Prefix:
        while (p < end && prefix_len_ < kDataField.size() && *p == kDataField[prefix_len_]) {
          ++prefix_len_;
          ++p;
        }
        if (prefix_len_ == kDataField.size()) {
          line_ = Line::Data;
          skip_space_ = true;
          data_line_started_ = false;
        } else if (p < end) {
          // Another field, a comment or garbage: not a usage-only chunk either.
          line_ = Line::Ignored;
          if (hold_ == Hold::Undecided) release();
        }
        break;
      case Line::Data: {
        if (skip_space_) {
          skip_space_ = false;
          if (*p == ' ') {
            ++p;
            break;
          }
        }
        const char* eol = find_either(p, end, '\n', '\r');
        add_data(p, eol, !data_line_started_);
        data_line_started_ = true;
        if (eol == end) return;
        p = end_line(eol, end);
        line_ = Line::Start;
        break;
      }
      case Line::Ignored: {
        const char* eol = find_either(p, end, '\n', '\r');
        if (eol == end) return;
        p = end_line(eol, end);
        line_ = Line::Start;
        break;
      }
    }
  }
}

// `eol` is a line's '\n' or '\r'; returns the first byte after its terminator.
const char* UsageScanner::end_line(const char* eol, const char* end) {
  if (*eol == '\n') return eol + 1;
  if (eol + 1 == end) {
    cr_pending_ = true;
    return end;
  }
  return eol[1] == '\n' ? eol + 2 : eol + 1;
}

void UsageScanner::start_event(const char* p) {
  event_open_ = true;
  if (strip_) {
    emit(emit_from_, p);
    emit_from_ = p;
    hold_from_ = p;
    hold_ = Hold::Undecided;
  }
}

// `p`: the first byte after the blank line that ended the event (null from flush()).
void UsageScanner::end_event(const char* p) {
  event_open_ = false;
  const bool usage_only = read_event_data();
  if (hold_ != Hold::Undecided) return;
  // The size bound applies to the whole event, whether or not it spanned reads, so that what
  // the client gets never depends on how the body was split.
  const size_t size = held_.size() + (p != nullptr ? static_cast<size_t>(p - hold_from_) : 0);
  if (size > kMaxHeldBytes) {
    release();
  } else if (usage_only) {
    held_.clear();
    emit_from_ = p;
    hold_ = Hold::Pass;
  } else {
    forward_without_null_usage(p);
  }
}

// The held event, complete and not the usage-only chunk, goes to the client — minus its
// "usage": null member when it has one that can be taken out (null_usage_member.h).
// `p` as for end_event.
void UsageScanner::forward_without_null_usage(const char* p) {
  hold_ = Hold::Pass;
  if (!event_null_usage_possible_) {
    // Its data has no `"usage": null` at all (read_event_data looked): nothing to take out.
    // The event goes on as it came, from the held copy and/or in place.
    if (!held_.empty()) release();
    return;
  }
  if (held_.empty()) {
    // The whole event is in this chunk, from hold_from_ (= emit_from_) to p: no copy.
    const detail::Cut cut = detail::find_null_usage_in_event(
        std::string_view(hold_from_, static_cast<size_t>(p - hold_from_)), event_first_null_usage_);
    if (!cut.empty()) {
      emit(emit_from_, hold_from_ + cut.begin);
      emit_from_ = hold_from_ + cut.end;
    }
    return;
  }
  // It spans reads: its start is held already; its end (this chunk's bytes up to p) joins it,
  // and the whole event goes out of the held copy.
  if (p != nullptr) held_.append(hold_from_, static_cast<size_t>(p - hold_from_));
  const detail::Cut cut = detail::find_null_usage_in_event(held_, event_first_null_usage_);
  released_.swap(held_);
  held_.clear();
  const char* event = released_.data();
  if (cut.empty()) {
    emit(event, event + released_.size());
  } else {
    emit(event, event + cut.begin);
    emit(event + cut.end, event + released_.size());
  }
  emit_from_ = p;
}

// [from, to) is the next part of a data line's value; new_line: its first part.
void UsageScanner::add_data(const char* from, const char* to, bool new_line) {
  const bool join = new_line && event_has_data_;
  if (new_line) event_has_data_ = true;
  const size_t n = static_cast<size_t>(to - from);
  if (event_streaming_) {
    if (join) finder_.feed(&kJoin, &kJoin + 1);
    finder_.feed(from, to);
    return;
  }
  const size_t added = n + (join ? 1 : 0);
  if (event_data_size_ + added > kMaxEventData) {
    // Too long to keep: the exact reader takes it from here, as it arrives.
    event_streaming_ = true;
    finder_.begin_document();
    if (inplace_) {
      finder_.feed(inplace_data_, inplace_data_ + inplace_size_);
    } else {
      finder_.feed(event_data_.data(), event_data_.data() + event_data_.size());
    }
    inplace_ = false;
    event_data_.clear();
    if (join) finder_.feed(&kJoin, &kJoin + 1);
    finder_.feed(from, to);
    return;
  }
  event_data_size_ += added;
  if (!join && !inplace_ && event_data_.empty()) {
    // The first data line: read where it is when the event ends in this chunk (the usual).
    inplace_ = true;
    inplace_data_ = from;
    inplace_size_ = n;
    return;
  }
  keep_event_data();
  if (join) event_data_.push_back(kJoin);
  event_data_.append(from, n);
}

// The event's data still in the current chunk is copied (the chunk is about to go).
void UsageScanner::keep_event_data() {
  if (!inplace_) return;
  event_data_.append(inplace_data_, inplace_size_);
  inplace_ = false;
}

// Reads the event's data (once) and forgets it; true if it was OpenAI's usage-only chunk.
bool UsageScanner::read_event_data() {
  bool usage_only = false;
  event_null_usage_possible_ = true;
  event_first_null_usage_ = std::string_view::npos;
  if (event_streaming_) {
    usage_only = is_usage_only(finder_);
  } else if (event_has_data_) {
    const std::string_view data =
        inplace_ ? std::string_view(inplace_data_, inplace_size_) : std::string_view(event_data_);
    const detail::UsageKeys keys = detail::find_usage_keys(data);
    event_null_usage_possible_ = keys.null_member;
    event_first_null_usage_ = keys.first_null_member;
    if (keys.object) {
      finder_.begin_document();
      finder_.feed(data.data(), data.data() + data.size());
      usage_only = is_usage_only(finder_);
    } else {
      quick_content_bytes_ += detail::count_content_bytes(data);
    }
  }
  inplace_ = false;
  event_data_.clear();
  event_data_size_ = 0;
  event_streaming_ = false;
  event_has_data_ = false;
  return usage_only;
}

// The held event goes to the client after all: its bytes from earlier chunks now, the rest
// (from emit_from_, which stayed at the event's start in this chunk) as the chunk goes on.
void UsageScanner::release() {
  hold_ = Hold::Pass;
  if (held_.empty()) return;
  released_.swap(held_);
  held_.clear();
  push_piece(released_.data(), released_.size());
}

void UsageScanner::emit(const char* from, const char* to) {
  if (from != nullptr && to > from) push_piece(from, static_cast<size_t>(to - from));
}

void UsageScanner::push_piece(const char* data, size_t size) {
  if (!pieces_.empty() && pieces_.back().data + pieces_.back().size == data) {
    pieces_.back().size += size;
    return;
  }
  pieces_.push_back(Piece{data, size});
}

}  // namespace sluice::usage
