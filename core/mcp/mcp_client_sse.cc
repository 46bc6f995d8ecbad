#include "core/mcp/mcp_client_sse.h"

#include <cstring>

namespace sluice::mcp {

bool SseReader::feed(std::string_view bytes, const Sink& sink) {
  if (too_long_) return false;
  size_t pos = 0;
  if (after_cr_ && !bytes.empty() && bytes[0] == '\n') pos = 1;  // the \n of a \r\n
  after_cr_ = false;
  while (pos < bytes.size()) {
    const char* start = bytes.data() + pos;
    const size_t left = bytes.size() - pos;
    // The next line end: \n or \r, whichever comes first.
    const void* lf = std::memchr(start, '\n', left);
    const void* cr = std::memchr(start, '\r', left);
    const char* end = static_cast<const char*>(lf);
    if (cr != nullptr && (end == nullptr || static_cast<const char*>(cr) < end)) {
      end = static_cast<const char*>(cr);
    }
    if (end == nullptr) {  // no line end yet: keep the piece for the next feed
      if (line_.size() + left > kMaxEventBytes) {
        too_long_ = true;
        return false;
      }
      line_.append(start, left);
      return true;
    }
    const size_t len = static_cast<size_t>(end - start);
    bool ok;
    if (line_.empty()) {
      ok = on_line(std::string_view(start, len), sink);
    } else {
      if (line_.size() + len > kMaxEventBytes) {
        too_long_ = true;
        return false;
      }
      line_.append(start, len);
      ok = on_line(line_, sink);
      line_.clear();
    }
    if (!ok) return false;
    pos += len + 1;
    if (*end == '\r') {
      if (pos < bytes.size()) {
        if (bytes[pos] == '\n') ++pos;
      } else {
        after_cr_ = true;
      }
    }
  }
  return true;
}

bool SseReader::on_line(std::string_view line, const Sink& sink) {
  if (line.empty()) return dispatch(sink);
  if (line[0] == ':') return true;  // a comment (keep-alive)
  std::string_view field = line;
  std::string_view value;
  if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (data_.size() + value.size() + 1 > kMaxEventBytes) {
      too_long_ = true;
      return false;
    }
    data_.append(value);
    data_.push_back('\n');
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value.substr(0, kMaxEventBytes));
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  } else if (field == "retry") {
    if (!value.empty() && value.size() <= 12 &&
        value.find_first_not_of("0123456789") == std::string_view::npos) {
      retry_ms_ = std::stoull(std::string(value));
    }
  }
  // Any other field is ignored, as a browser ignores it.
  return true;
}

bool SseReader::dispatch(const Sink& sink) {
  if (!has_data_) {
    event_.clear();
    return true;
  }
  std::string_view data = data_;
  data.remove_suffix(1);  // the "\n" after the last data line
  const bool go_on = sink(SseEvent{last_id_, event_, data});
  event_.clear();
  data_.clear();
  has_data_ = false;
  return go_on;
}

}  // namespace sluice::mcp
