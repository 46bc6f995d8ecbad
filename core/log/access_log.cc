#include "core/log/access_log.h"

#include "core/http/response_builder.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace sluice::log {
namespace {

void append_nullable_string(std::string& out, std::string_view s) {
  if (s.empty()) {
    out.append("null");
  } else {
    append_json_string(out, s);
  }
}

template <typename Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Seconds → milliseconds with 3 decimals; negative ("did not happen") → null.
void append_ms_or_null(std::string& out, double seconds) {
  if (seconds < 0 || !std::isfinite(seconds) || seconds > 1e9) {
    out.append("null");
    return;
  }
  // Milliseconds with 3 decimals from integer microseconds: to_chars on a double was the
  // largest single cost of a log line (bench/profile.sh).
  const int64_t us = std::llround(seconds * 1e6);
  append_int(out, us / 1000);
  const int frac = static_cast<int>(us % 1000);
  const char digits[4] = {'.', static_cast<char>('0' + frac / 100),
                          static_cast<char>('0' + frac / 10 % 10),
                          static_cast<char>('0' + frac % 10)};
  out.append(digits, 4);
}

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

void TimestampCache::append(std::string& out, std::chrono::system_clock::time_point t) {
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
  out.append(text_, sizeof text_ - 1);
  const char frac[] = {'.', static_cast<char>('0' + milli / 100),
                       static_cast<char>('0' + milli / 10 % 10),
                       static_cast<char>('0' + milli % 10), 'Z'};
  out.append(frac, sizeof frac);
}

void format_access_line(std::string& out, const RequestRecord& r, TimestampCache& clock) {
  out.append("{\"time\":\"");
  clock.append(out, r.time);
  out.append("\",\"request_id\":");
  append_json_string(out, r.request_id);
  out.append(",\"method\":");
  append_json_string(out, r.method);
  out.append(",\"path\":");
  append_json_string(out, r.path);
  out.append(",\"agent\":");
  append_nullable_string(out, r.agent);
  out.append(",\"model\":");
  append_nullable_string(out, r.model);
  out.append(",\"provider\":");
  append_nullable_string(out, r.provider);
  out.append(",\"physical_model\":");
  append_nullable_string(out, r.physical_model);
  out.append(",\"status\":");
  append_int(out, r.status);
  out.append(",\"error_code\":");
  append_nullable_string(out, r.error_code);
  out.append(r.stream ? ",\"stream\":true" : ",\"stream\":false");
  out.append(",\"attempts\":");
  append_int(out, r.attempts);
  out.append(",\"bytes_in\":");
  append_int(out, r.bytes_in);
  out.append(",\"bytes_out\":");
  append_int(out, r.bytes_out);
  out.append(",\"duration_ms\":");
  append_ms_or_null(out, r.duration);
  out.append(",\"upstream_ms\":");
  append_ms_or_null(out, r.upstream);
  out.append(",\"ttft_ms\":");
  append_ms_or_null(out, r.time_to_first_token);
  out.append(",\"overhead_us\":");
  if (r.overhead >= 0 && std::isfinite(r.overhead)) {
    append_int(out, static_cast<int64_t>(std::llround(r.overhead * 1e6)));
  } else {
    out.append("null");
  }
  out.append(r.client_gone ? ",\"client_gone\":true}\n" : ",\"client_gone\":false}\n");
}

// ---- AccessLog: the writer thread ------------------------------------------------------------

std::unique_ptr<AccessLog> AccessLog::open(const config::AccessLogSettings& settings,
                                           std::string* error) {
  return open(settings, Options{}, error);
}

std::unique_ptr<AccessLog> AccessLog::open(const config::AccessLogSettings& settings,
                                           const Options& options, std::string* error) {
  if (settings.path.empty()) return std::unique_ptr<AccessLog>(new AccessLog(-1, false, options));
  if (settings.path == "stdout") {
    return std::unique_ptr<AccessLog>(new AccessLog(STDOUT_FILENO, false, options));
  }
  int fd = ::open(settings.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (error) *error = "access_log: cannot open " + settings.path + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<AccessLog>(new AccessLog(fd, true, options));
}

AccessLog::AccessLog(int fd, bool owns_fd, const Options& options)
    : fd_(fd), owns_fd_(owns_fd), options_(options) {
  if (fd_ >= 0) writer_ = std::thread([this] { run_writer(); });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_writer_.notify_one();
  if (writer_.joinable()) writer_.join();  // the writer empties the queue before it exits
  if (owns_fd_) ::close(fd_);
}

void AccessLog::submit(std::string& buffer) {
  if (buffer.empty()) return;
  std::unique_lock lock(mutex_);
  if (fd_ < 0 || stopping_ || queue_.size() >= options_.queue_capacity) {
    lock.unlock();
    dropped_lines_.fetch_add(count_lines(buffer), std::memory_order_relaxed);
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
  for (;;) {
    std::string bytes;
    {
      std::unique_lock lock(mutex_);
      wake_writer_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything was written
      bytes = std::move(queue_.front());
      queue_.pop_front();
    }
    write_all(bytes);
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

void AccessLog::write_all(const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // stdout may be a non-blocking pipe: wait for room (bounded), on this thread only.
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, 5000) > 0) continue;
    }
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    dropped_lines_.fetch_add(count_lines(bytes.substr(done)), std::memory_order_relaxed);
    return;
  }
}

// ---- AccessLogBuffer: the per-worker side ----------------------------------------------------

AccessLogBuffer::AccessLogBuffer(uv_loop_t* loop, AccessLog& log) : log_(log) {
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  if (log_.enabled()) {
    buffer_.reserve(kFlushBytes + 1024);
    uv_timer_start(&timer_, &AccessLogBuffer::on_timer, kFlushIntervalMs, kFlushIntervalMs);
  }
  uv_unref(reinterpret_cast<uv_handle_t*>(&timer_));
}

void AccessLogBuffer::record(const RequestRecord& r) {
  if (!log_.enabled() || closing_) return;
  format_access_line(buffer_, r, clock_);
  if (buffer_.size() >= kFlushBytes) flush();
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
