// LogFile: where the access log's writer thread puts whole lines — stdout or a file — and what
// it does when that goes wrong. Writer thread only: no locks, no atomics of its own.
//
// Three jobs, all about "runs for months":
//  - reopen(): SIGUSR1 after logrotate moved the file (nginx's convention). The next line goes
//    to a new file at `path`; the old descriptor is closed only once the new one is open.
//  - size rotation (access_log.max_size / keep, a file path only): before a write would take
//    the file past max_size, path.<keep-1> → path.<keep> … path → path.1 (the rename over
//    path.<keep> deletes the oldest), a fresh `path` is opened. A buffer is split at line ends
//    so each file holds at most max_size bytes — or one line, when a line alone is larger.
//  - disk full, file too large, I/O error: the lines that cannot be written are dropped and
//    counted, never kept (memory stays bounded by the writer's queue); the first failure logs
//    one warning and the first success after it one info line. Each later write is the retry,
//    so writing resumes by itself once there is room.
//
// Lines stay whole: when a write stops in the middle of a line (a disk filling up writes part
// of a buffer, then fails), the rest of that line is kept (at most one line) and written first
// once writes succeed again, so the file never holds half a line followed by the next one.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/config/config.h"

namespace prometheus {
class Counter;
}

namespace sluice::log {

// sluice_access_log_lines_total{result}, with plain atomics beside it for tests and shutdown.
// Any thread: the workers count what the queue refuses, the writer thread the rest.
class LineCounter {
 public:
  LineCounter(prometheus::Counter* written, prometheus::Counter* dropped)
      : written_metric_(written), dropped_metric_(dropped) {}
  void add_written(uint64_t lines);
  void add_dropped(uint64_t lines);
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> written_{0}, dropped_{0};
  prometheus::Counter* written_metric_;  // may be null (then only the atomics count)
  prometheus::Counter* dropped_metric_;
};

class LogFile {
 public:
  // Opens stdout (settings.path == "stdout") or the file at settings.path (created, appended
  // to). nullptr and *error when the file cannot be opened. Not for the "" (off) path.
  static std::unique_ptr<LogFile> open(const config::AccessLogSettings& settings,
                                       LineCounter& counter, std::string* error);
  ~LogFile();  // closes a file it opened (never stdout)
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  bool is_file() const { return owns_fd_; }
  const std::string& name() const { return name_; }  // the path, or "stdout"

  // Writes `bytes` (whole lines, each ending in '\n'), rotating first when they would take the
  // file past max_size. Every line ends up counted as written or dropped (a line cut short by
  // a failure is counted when it is finished, or dropped at the next reopen).
  void write(std::string_view bytes);

  // Opens `path` again (after logrotate renamed it) and switches to it. When the new file
  // cannot be opened, logs a warning and keeps writing to the old one. False for stdout.
  bool reopen();

 private:
  // The health of the output: an explicit two-state machine, so each outage logs exactly one
  // warning when it starts and one info line when it ends.
  enum class State : uint8_t {
    Writing,  // the last write succeeded (or none was tried): nothing to report
    Failing,  // the last write failed: lines are dropped (and counted) until one succeeds
  };

  LogFile(int fd, bool owns_fd, std::string name, const config::AccessLogSettings& settings,
          LineCounter& counter);
  // write(2) until all of `bytes` is out or an error that is not EINTR/EAGAIN; returns how many
  // bytes were written and sets *error (an errno) when that is fewer than all.
  size_t write_some(std::string_view bytes, int* error);
  // Writes `bytes` (whole lines except, possibly, a cut-short tail already started); on a
  // failure keeps the unfinished line in tail_ and counts the rest as dropped. False on failure.
  bool write_lines(std::string_view bytes);
  // Finishes the line a failed write cut short. False while that still fails.
  bool finish_tail();
  // How many bytes from the front of `rest` go into the current file before it rotates: every
  // whole line that fits under the rotation point, else (an empty file) the first line alone.
  // 0 means "rotate first".
  size_t fitting_prefix(std::string_view rest) const;
  void rotate();
  // Opens `path_` and makes it the output. False (and *error) when it cannot be opened.
  bool switch_to_new_file(std::string* error);
  void on_success();
  void on_failure(int error);

  int fd_;
  const bool owns_fd_;  // false for stdout
  const std::string name_;
  const uint64_t max_size_;  // 0: no size rotation (always 0 for stdout, a FIFO, a device)
  const unsigned keep_;
  LineCounter& counter_;

  uint64_t size_ = 0;       // bytes in the current file, as this process knows it
  uint64_t rotate_at_ = 0;  // the size that triggers a rotation (moved on after a failed one)
  std::string tail_;        // the rest of a line a failed write cut short (at most one line)
  State state_ = State::Writing;
  uint64_t dropped_at_failure_ = 0;  // counter_.dropped() when the current outage began
};

}  // namespace sluice::log
