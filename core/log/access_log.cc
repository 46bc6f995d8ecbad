#include "core/log/access_log.h"

#include "core/http/response_builder.h"
#include "core/log/writer_thread.h"
#include "core/metrics/metrics.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <utility>

namespace sluice::log {
namespace {

// ---- One line written straight into the output's storage ------------------------------------
//
// format_access_line() used to append field by field (~40 std::string::append calls, each a
// call and a capacity check) and ran every string through the escaper byte by byte: ~3,700
// instructions per line, the largest cost of the default chain after the usage scan
// (bench/profile.sh). Now the line is written with plain stores into room made once: `out` is
// grown by an upper bound of the line, written through a pointer, and cut back to what was
// written. Strings with nothing to escape (the usual case: ids, paths, names) are checked eight
// bytes at a time and copied whole; anything else still goes through http::append_json_escaped,
// so the bytes of a line are exactly what they were.

// Room for everything in a line but its strings: the keys and punctuation (~260 bytes), the
// timestamp (24), and the numbers (int status 11, attempts 10, bytes_in / bytes_out 20 each,
// three millisecond values of at most 13 + 4, overhead_us 20).
constexpr size_t kLineFixedBound = 512;

// A JSON string's worst case: its quotes and 6 bytes per input byte ("\u001f", "\ufffd").
constexpr size_t string_bound(std::string_view s) {
  return 2 + 6 * s.size();
}

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;

// True when no byte of `w` needs escaping in a JSON string: each is in 0x20..0x7f and is neither
// '"' nor '\\'. (x - ones) & ~x & highs is non-zero exactly when some byte of x is zero; with
// (w - 0x20 * ones) likewise when some byte is below 0x20 — exact for "any", which is all that
// is asked here.
bool word_is_plain(uint64_t w) {
  const uint64_t below_space = (w - 0x20 * kOnes) & ~w;
  const uint64_t q = w ^ (0x22 * kOnes);  // '"'
  const uint64_t b = w ^ (0x5c * kOnes);  // '\\'
  const uint64_t quote = (q - kOnes) & ~q;
  const uint64_t backslash = (b - kOnes) & ~b;
  return ((below_space | quote | backslash | w) & kHighs) == 0;
}

bool byte_is_plain(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

bool is_plain(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if (!word_is_plain(w)) return false;
  }
  for (; n > 0; ++p, --n) {
    if (!byte_is_plain(static_cast<unsigned char>(*p))) return false;
  }
  return true;
}

class LineWriter {
 public:
  LineWriter(std::string& out, size_t bound) : out_(out) {
    const size_t start = out.size();
    out.resize(start + bound);
    p_ = out.data() + start;
  }
  // Cuts `out` back to the bytes written.
  void finish() { out_.resize(static_cast<size_t>(p_ - out_.data())); }

  template <size_t N>
  void literal(const char (&s)[N]) {
    std::memcpy(p_, s, N - 1);
    p_ += N - 1;
  }
  void json_string(std::string_view s) {
    *p_++ = '"';
    if (is_plain(s)) {
      std::memcpy(p_, s.data(), s.size());
      p_ += s.size();
    } else {
      // Rare (a client's odd bytes): the project's escaper, through a per-thread scratch
      // string whose allocation is kept. At most string_bound(s) - 2 bytes.
      thread_local std::string scratch;
      scratch.clear();
      http::append_json_escaped(scratch, s);
      std::memcpy(p_, scratch.data(), scratch.size());
      p_ += scratch.size();
    }
    *p_++ = '"';
  }
  void nullable_string(std::string_view s) {
    if (s.empty()) {
      literal("null");
    } else {
      json_string(s);
    }
  }
  template <typename Int>
  void integer(Int v) {
    p_ = std::to_chars(p_, p_ + 24, v).ptr;
  }
  // Seconds → milliseconds with 3 decimals; negative ("did not happen") → null.
  void ms_or_null(double seconds) {
    if (seconds < 0 || !std::isfinite(seconds) || seconds > 1e9) {
      literal("null");
      return;
    }
    // From integer microseconds: to_chars on a double was the largest single cost of a line.
    const int64_t us = std::llround(seconds * 1e6);
    integer(us / 1000);
    const int frac = static_cast<int>(us % 1000);
    p_[0] = '.';
    p_[1] = static_cast<char>('0' + frac / 100);
    p_[2] = static_cast<char>('0' + frac / 10 % 10);
    p_[3] = static_cast<char>('0' + frac % 10);
    p_ += 4;
  }
  void timestamp(TimestampCache& clock, std::chrono::system_clock::time_point t) {
    p_ = clock.write(p_, t);
  }

 private:
  std::string& out_;
  char* p_;
};

size_t count_lines(const std::string& bytes) {
  return static_cast<size_t>(std::count(bytes.begin(), bytes.end(), '\n'));
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  // One JSON escaper for the whole project (core/http/json_escape.cc): UTF-8-safe, U+FFFD for
  // bytes that are not valid UTF-8, so every line stays valid JSON whatever a client sent.
  out.push_back('"');
  http::append_json_escaped(out, s);
  out.push_back('"');
}

char* TimestampCache::write(char* p, std::chrono::system_clock::time_point t) {
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  int64_t second = ms / 1000;
  int64_t milli = ms % 1000;
  if (milli < 0) {  // before 1970: floor, not truncate
    milli += 1000;
    second -= 1;
  }
  if (second != second_) {
    const std::time_t tt = static_cast<std::time_t>(second);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];  // room for any int year, so the format can never truncate
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    std::memcpy(text_, buf, sizeof text_ - 1);
    second_ = second;
  }
  std::memcpy(p, text_, sizeof text_ - 1);
  p += sizeof text_ - 1;
  p[0] = '.';
  p[1] = static_cast<char>('0' + milli / 100);
  p[2] = static_cast<char>('0' + milli / 10 % 10);
  p[3] = static_cast<char>('0' + milli % 10);
  p[4] = 'Z';
  return p + 5;
}

void TimestampCache::append(std::string& out, std::chrono::system_clock::time_point t) {
  char buf[kTextSize];
  out.append(buf, static_cast<size_t>(write(buf, t) - buf));
}

void format_access_line(std::string& out, const RequestRecord& r, TimestampCache& clock) {
  const size_t bound = kLineFixedBound + string_bound(r.request_id) + string_bound(r.method) +
                       string_bound(r.path) + string_bound(r.agent) + string_bound(r.model) +
                       string_bound(r.provider) + string_bound(r.physical_model) +
                       string_bound(r.error_code) + string_bound(r.tool) +
                       string_bound(r.tool_outcome) + 32;
  LineWriter w(out, bound);
  w.literal("{\"time\":\"");
  w.timestamp(clock, r.time);
  w.literal("\",\"request_id\":");
  w.json_string(r.request_id);
  w.literal(",\"method\":");
  w.json_string(r.method);
  w.literal(",\"path\":");
  w.json_string(r.path);
  w.literal(",\"agent\":");
  w.nullable_string(r.agent);
  w.literal(",\"model\":");
  w.nullable_string(r.model);
  w.literal(",\"provider\":");
  w.nullable_string(r.provider);
  w.literal(",\"physical_model\":");
  w.nullable_string(r.physical_model);
  w.literal(",\"status\":");
  w.integer(r.status);
  w.literal(",\"error_code\":");
  w.nullable_string(r.error_code);
  if (!r.tool_outcome.empty()) {  // a tool call: which tool, and how it ended
    w.literal(",\"tool\":");
    w.nullable_string(r.tool);
    w.literal(",\"tool_result\":");
    w.json_string(r.tool_outcome);
  }
  if (r.stream) {
    w.literal(",\"stream\":true");
  } else {
    w.literal(",\"stream\":false");
  }
  w.literal(",\"attempts\":");
  w.integer(r.attempts);
  w.literal(",\"bytes_in\":");
  w.integer(r.bytes_in);
  w.literal(",\"bytes_out\":");
  w.integer(r.bytes_out);
  w.literal(",\"duration_ms\":");
  w.ms_or_null(r.duration);
  w.literal(",\"upstream_ms\":");
  w.ms_or_null(r.upstream);
  w.literal(",\"ttft_ms\":");
  w.ms_or_null(r.time_to_first_token);
  w.literal(",\"overhead_us\":");
  if (r.overhead >= 0 && std::isfinite(r.overhead)) {
    w.integer(static_cast<int64_t>(std::llround(r.overhead * 1e6)));
  } else {
    w.literal("null");
  }
  if (r.client_gone) {
    w.literal(",\"client_gone\":true}\n");
  } else {
    w.literal(",\"client_gone\":false}\n");
  }
  w.finish();
}

// ---- AccessLog: the writer thread ------------------------------------------------------------

std::unique_ptr<AccessLog> AccessLog::open(const config::AccessLogSettings& settings,
                                           std::string* error) {
  return open(settings, Options{}, error);
}

std::unique_ptr<AccessLog> AccessLog::open(const config::AccessLogSettings& settings,
                                           const Options& options, std::string* error) {
  std::unique_ptr<AccessLog> log(new AccessLog(settings, options));
  if (!log->enabled_) return log;
  std::string why;
  log->file_ = LogFile::open(settings, log->counter_, &why);
  if (!log->file_) {
    if (error) *error = "access_log: " + why;
    return nullptr;
  }
  log->writer_ = std::thread([raw = log.get()] { raw->run_writer(); });
  return log;
}

namespace {
LineCounter make_counter(metrics::Metrics* metrics) {
  metrics::Metrics& m = metrics != nullptr ? *metrics : metrics::Metrics::process();
  return LineCounter(&m.access_log_lines_total.Add({{"result", "written"}}),
                     &m.access_log_lines_total.Add({{"result", "dropped"}}));
}
}  // namespace

AccessLog::AccessLog(const config::AccessLogSettings& settings, const Options& options)
    : enabled_(!settings.path.empty()),
      to_file_(enabled_ && settings.path != "stdout"),
      options_(options),
      counter_(make_counter(options.metrics)) {}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_writer_.notify_one();
  if (writer_.joinable()) writer_.join();  // the writer empties the queue before it exits
  file_.reset();                           // closes a file (never stdout)
}

bool AccessLog::reopen() {
  if (!to_file_) return false;
  {
    std::lock_guard lock(mutex_);
    reopen_requested_ = true;
  }
  wake_writer_.notify_one();
  return true;
}

void AccessLog::submit(std::string& buffer) {
  if (buffer.empty()) return;
  std::unique_lock lock(mutex_);
  if (!enabled_ || stopping_ || queue_.size() >= options_.queue_capacity) {
    lock.unlock();
    counter_.add_dropped(count_lines(buffer));
    buffer.clear();
    return;
  }
  queue_.push_back(std::move(buffer));
  ++submitted_;
  if (!spare_.empty()) {
    buffer = std::move(spare_.back());
    spare_.pop_back();
  } else {
    buffer = std::string();
  }
  lock.unlock();
  wake_writer_.notify_one();
}

void AccessLog::drain() {
  std::unique_lock lock(mutex_);
  const uint64_t target = submitted_;
  written_.wait(lock, [&] { return completed_ >= target; });
}

void AccessLog::run_writer() {
  run_behind_workers();
  for (;;) {
    std::string bytes;
    bool reopen = false;
    {
      std::unique_lock lock(mutex_);
      wake_writer_.wait(lock, [&] { return stopping_ || reopen_requested_ || !queue_.empty(); });
      reopen = std::exchange(reopen_requested_, false);
      if (queue_.empty() && !reopen) return;  // stopping, and everything was written
      if (!queue_.empty()) {
        bytes = std::move(queue_.front());
        queue_.pop_front();
      }
    }
    // Between two buffers: a buffer goes whole to the old file or whole to the new one.
    if (reopen) file_->reopen();
    if (bytes.empty()) continue;
    file_->write(bytes);
    bytes.clear();
    {
      std::lock_guard lock(mutex_);
      // Recycle the allocation for a worker, unless it grew unusually large.
      if (spare_.size() < options_.queue_capacity &&
          bytes.capacity() <= 4 * AccessLogBuffer::kFlushBytes) {
        spare_.push_back(std::move(bytes));
      }
      ++completed_;
    }
    written_.notify_all();
  }
}

// ---- AccessLogBuffer: the per-worker side ----------------------------------------------------

AccessLogBuffer::AccessLogBuffer(uv_loop_t* loop, AccessLog& log) : log_(log) {
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  if (log_.enabled()) buffer_.reserve(kFlushBytes + 1024);
  uv_unref(reinterpret_cast<uv_handle_t*>(&timer_));
}

void AccessLogBuffer::record(const RequestRecord& r) {
  if (!log_.enabled() || closing_) return;
  const bool first_line = buffer_.empty();
  format_access_line(buffer_, r, clock_);
  if (buffer_.size() >= kFlushBytes) {
    flush();
  } else if (first_line) {
    // The timer runs only while lines wait: an idle worker is never woken for an empty buffer,
    // and a busy one arms it once per hand-over, not once per line.
    uv_timer_start(&timer_, &AccessLogBuffer::on_timer, kFlushIntervalMs, 0);
  }
}

void AccessLogBuffer::flush() {
  log_.submit(buffer_);
}

void AccessLogBuffer::close(std::function<void()> on_closed) {
  if (closing_) return;
  flush();
  closing_ = true;
  on_closed_ = std::move(on_closed);
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &AccessLogBuffer::on_timer_closed);
}

void AccessLogBuffer::on_timer(uv_timer_t* timer) {
  static_cast<AccessLogBuffer*>(timer->data)->flush();
}

void AccessLogBuffer::on_timer_closed(uv_handle_t* handle) {
  auto* self = static_cast<AccessLogBuffer*>(handle->data);
  // Move the callback out first: it may destroy `self`.
  std::function<void()> done = std::move(self->on_closed_);
  if (done) done();
}

}  // namespace sluice::log
