// Access log (DESIGN §4 access_log): one JSON line per finished request.
//
// Three parts, so the request path never makes a syscall or takes a lock:
//  - format_access_line(): the pure formatter (one record → one JSON line), testable alone;
//  - AccessLogBuffer: one per worker loop; record() formats into the worker's own buffer.
//    A uv_timer on that loop, armed by the first line of an empty buffer, hands the buffer
//    over 100ms later, or record() does when the buffer passes 64 KiB;
//  - AccessLog: one per process; owns the output (a LogFile: stdout or a file, its reopening,
//    size rotation and disk-full handling — log_file.h) and ONE writer thread fed by a bounded
//    queue of buffers. When the queue is full the handed-over buffer is dropped and its lines
//    counted (dropped_lines(), sluice_access_log_lines_total{result="dropped"}) — a slow or
//    full disk must never block a worker, nor grow memory.
//
// Line shape (keys always present, in this order; "did not happen" is null):
//   {"time":"2025-01-02T03:04:05.678Z","request_id":"…","method":"POST","path":"/v1/…",
//    "agent":"sofia"|null,"model":"fast"|null,"provider":"local"|null,"physical_model":"…"|null,
//    "status":200,"error_code":"…"|null,"stream":true,"attempts":1,"bytes_in":123,
//    "bytes_out":456,"duration_ms":12.345,"upstream_ms":11.002|null,"ttft_ms":3.100|null,
//    "overhead_us":42,"client_gone":false}
#pragma once

#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/config/config.h"
#include "core/log/log_file.h"
#include "core/log/request_record.h"

namespace sluice::metrics {
class Metrics;
}

namespace sluice::log {

// Appends `s` as a quoted JSON string: escapes '"', '\\' and control characters, and replaces
// bytes that are not valid UTF-8 with U+FFFD so every line stays valid JSON whatever a client
// put in its path or request id.
void append_json_string(std::string& out, std::string_view s);

// Remembers the formatted date-time of the last whole second, so formatting a line costs no
// gmtime_r call unless the second changed. One per worker (not thread-safe).
class TimestampCache {
 public:
  static constexpr size_t kTextSize = 24;  // "YYYY-MM-DDTHH:MM:SS.mmmZ"

  // Appends "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC).
  void append(std::string& out, std::chrono::system_clock::time_point t);
  // The same text written at `p` (room for kTextSize bytes); returns the end of what it wrote.
  char* write(char* p, std::chrono::system_clock::time_point t);

 private:
  int64_t second_ = INT64_MIN;
  char text_[20] = {};  // "YYYY-MM-DDTHH:MM:SS"
};

// Appends one access-log line for `r`, ending in '\n'.
void format_access_line(std::string& out, const RequestRecord& r, TimestampCache& clock);

class AccessLog {
 public:
  struct Options {
    size_t queue_capacity = 64;           // buffers waiting for the writer; beyond → drop
    metrics::Metrics* metrics = nullptr;  // null: metrics::Metrics::process()
  };

  // Opens the log described by `settings`: "stdout", a file path (created, appended to, rotated
  // at settings.max_size), or "" (off: returns an AccessLog whose enabled() is false). Returns
  // nullptr and sets *error when the file cannot be opened. Called at start-up, off the
  // request path.
  static std::unique_ptr<AccessLog> open(const config::AccessLogSettings& settings,
                                         std::string* error);
  static std::unique_ptr<AccessLog> open(const config::AccessLogSettings& settings,
                                         const Options& options, std::string* error);
  // Writes the queued buffers, then stops the writer thread and closes a file it opened.
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  bool enabled() const { return enabled_; }
  bool writes_to_file() const { return to_file_; }

  // SIGUSR1 (any thread; the main loop's signal handler): asks the writer thread to open the
  // file again at its path, after logrotate moved it. Lines already queued go, whole, to the
  // old file or the new one. False (and nothing done) when the log is stdout or off.
  bool reopen();

  // Hands a buffer of whole lines to the writer thread. Never blocks on I/O: if the queue is
  // full the buffer is dropped and its lines are added to dropped_lines(). Takes `buffer`'s
  // contents and leaves it empty, with a recycled allocation when one is available.
  void submit(std::string& buffer);

  // Blocks until every buffer submitted so far is written (shutdown and tests only).
  void drain();

  uint64_t written_lines() const { return counter_.written(); }
  uint64_t dropped_lines() const { return counter_.dropped(); }

 private:
  AccessLog(const config::AccessLogSettings& settings, const Options& options);
  void run_writer();

  const bool enabled_;
  const bool to_file_;
  const Options options_;
  LineCounter counter_;
  std::unique_ptr<LogFile> file_;  // null when off; the writer thread's once it runs

  std::mutex mutex_;  // guards the fields up to `stopping_`
  std::condition_variable wake_writer_;
  std::condition_variable written_;         // signalled after each buffer is written
  std::deque<std::string> queue_;           // waiting to be written; size <= queue_capacity
  std::vector<std::string> spare_;          // written, cleared buffers to hand back to workers
  uint64_t submitted_ = 0, completed_ = 0;  // buffers, for drain()
  bool reopen_requested_ = false;           // reopen() asked; the writer clears it
  bool stopping_ = false;

  std::thread writer_;
};

// The per-worker side: lives on one worker loop, used only from its thread.
class AccessLogBuffer {
 public:
  static constexpr size_t kFlushBytes = size_t{64} * 1024;
  static constexpr uint64_t kFlushIntervalMs = 100;

  // Sets up the flush timer on `loop` (unreferenced: it does not keep the loop alive; armed
  // only while lines wait).
  // `log` must outlive this buffer.
  AccessLogBuffer(uv_loop_t* loop, AccessLog& log);
  // Only after close()'s callback ran (the timer handle is inside this object).
  ~AccessLogBuffer() = default;
  AccessLogBuffer(const AccessLogBuffer&) = delete;
  AccessLogBuffer& operator=(const AccessLogBuffer&) = delete;

  // Formats `r` into the worker's buffer: no syscall, no lock (except the hand-over once the
  // buffer passes kFlushBytes).
  void record(const RequestRecord& r);
  // Hands what is buffered to the writer now.
  void flush();
  // Flushes and closes the timer; `on_closed` runs from the timer's close callback, after
  // which the object may be destroyed.
  void close(std::function<void()> on_closed);

  size_t buffered_bytes() const { return buffer_.size(); }
  // Whether the flush timer is running: only while lines wait for it.
  bool flush_timer_armed() const {
    return uv_is_active(reinterpret_cast<const uv_handle_t*>(&timer_)) != 0;
  }

 private:
  static void on_timer(uv_timer_t* timer);
  static void on_timer_closed(uv_handle_t* handle);

  AccessLog& log_;
  uv_timer_t timer_;
  std::string buffer_;
  TimestampCache clock_;
  std::function<void()> on_closed_;
  bool closing_ = false;
};

}  // namespace sluice::log
