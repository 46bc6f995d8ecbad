#include "core/providers/event_splitter.h"

#include <algorithm>
#include <cstring>

namespace sluice::providers {
namespace {

// The position of the first `c` in `s` at or after `from`, or s.size() when there is none.
size_t find_from(std::string_view s, char c, size_t from) {
  const void* hit = std::memchr(s.data() + from, c, s.size() - from);
  return hit != nullptr ? static_cast<size_t>(static_cast<const char*>(hit) - s.data()) : s.size();
}

}  // namespace

void EventSplitter::reset(StreamFraming framing) {
  framing_ = framing;
  line_.clear();
  after_cr_ = false;
  name_.clear();
  data_.clear();
  has_data_ = false;
  too_long_ = false;
}

bool EventSplitter::feed(std::string_view bytes, const Sink& sink) {
  if (too_long_) return false;
  if (bytes.empty()) return true;
  size_t start = 0;
  // Line ends are found with memchr, not by testing every byte: the next \n and the next \r
  // at or after the current position (bytes.size() when none is left), each searched for again
  // only once the line it ended is passed, so a read is scanned about twice whatever its lines.
  size_t next_lf = find_from(bytes, '\n', 0);
  size_t next_cr = find_from(bytes, '\r', 0);
  for (;;) {
    const size_t i = std::min(next_lf, next_cr);
    if (i == bytes.size()) break;
    const char c = bytes[i];
    if (c == '\n') {
      next_lf = find_from(bytes, '\n', i + 1);
    } else {
      next_cr = find_from(bytes, '\r', i + 1);
    }
    if (c == '\n' && after_cr_ && i == start && line_.empty()) {
      // The \n of a \r\n whose \r ended the previous line.
      after_cr_ = false;
      start = i + 1;
      continue;
    }
    after_cr_ = c == '\r';
    std::string_view line = bytes.substr(start, i - start);
    bool ok;
    if (line_.empty()) {
      ok = on_line(line, sink);
    } else {
      line_.append(line);
      ok = on_line(line_, sink);
      line_.clear();
    }
    if (!ok) return false;
    start = i + 1;
  }
  if (start < bytes.size()) {
    after_cr_ = false;
    if (line_.size() + (bytes.size() - start) > kMaxEventBytes) {
      too_long_ = true;
      return false;
    }
    line_.append(bytes.substr(start));
  }
  return true;
}

bool EventSplitter::finish(const Sink& sink) {
  if (too_long_) return false;
  if (framing_ == StreamFraming::Ndjson && !line_.empty()) {
    std::string last;
    last.swap(line_);
    return on_line(last, sink);
  }
  return true;
}

bool EventSplitter::on_line(std::string_view line, const Sink& sink) {
  if (framing_ == StreamFraming::Ndjson) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) return true;
    return sink({}, line);
  }
  if (line.empty()) {  // dispatch
    if (!has_data_) {
      name_.clear();
      return true;
    }
    const bool ok = sink(name_, data_);
    name_.clear();
    data_.clear();
    has_data_ = false;
    return ok;
  }
  if (line.front() == ':') return true;  // comment
  const size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (data_.size() + value.size() + 1 > kMaxEventBytes) {
      too_long_ = true;
      return false;
    }
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    name_.assign(value);
  }
  return true;
}

}  // namespace sluice::providers
