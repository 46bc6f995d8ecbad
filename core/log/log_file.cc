#include "core/log/log_file.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <prometheus/counter.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/log/log.h"

namespace sluice::log {
namespace {

// How long a write to a full non-blocking stdout pipe waits for room before it counts as failed.
constexpr int kStdoutPollMs = 5000;

uint64_t count_lines(std::string_view bytes) {
  return static_cast<uint64_t>(std::count(bytes.begin(), bytes.end(), '\n'));
}

int open_for_append(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

// Only a regular file has a size to rotate at: a FIFO, /dev/null or a terminal given as the
// path is written as it is, never renamed.
bool is_regular_file(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

uint64_t size_of(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size < 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace

void LineCounter::add_written(uint64_t lines) {
  if (lines == 0) return;
  written_.fetch_add(lines, std::memory_order_relaxed);
  if (written_metric_ != nullptr) written_metric_->Increment(static_cast<double>(lines));
}

void LineCounter::add_dropped(uint64_t lines) {
  if (lines == 0) return;
  dropped_.fetch_add(lines, std::memory_order_relaxed);
  if (dropped_metric_ != nullptr) dropped_metric_->Increment(static_cast<double>(lines));
}

std::unique_ptr<LogFile> LogFile::open(const config::AccessLogSettings& settings,
                                       LineCounter& counter, std::string* error) {
  if (settings.path == "stdout") {
    return std::unique_ptr<LogFile>(new LogFile(STDOUT_FILENO, false, "stdout", settings, counter));
  }
  const int fd = open_for_append(settings.path);
  if (fd < 0) {
    if (error) *error = "cannot open " + settings.path + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<LogFile>(new LogFile(fd, true, settings.path, settings, counter));
}

LogFile::LogFile(int fd, bool owns_fd, std::string name, const config::AccessLogSettings& settings,
                 LineCounter& counter)
    : fd_(fd),
      owns_fd_(owns_fd),
      name_(std::move(name)),
      max_size_(owns_fd && is_regular_file(fd) ? settings.max_size : 0),
      keep_(settings.keep),
      counter_(counter) {
  if (owns_fd_) size_ = size_of(fd_);
  rotate_at_ = max_size_;
}

LogFile::~LogFile() {
  // A line a failure cut short and nothing finished: it is lost with the process.
  if (!tail_.empty()) counter_.add_dropped(1);
  if (owns_fd_) ::close(fd_);
}

void LogFile::write(std::string_view bytes) {
  if (!tail_.empty() && !finish_tail()) {
    counter_.add_dropped(count_lines(bytes));  // still failing: this flush was the retry
    return;
  }
  // Someone else may have truncated the file (logrotate's copytruncate): ask the file before
  // rotating on what this process believes its size is.
  if (max_size_ != 0 && size_ + bytes.size() > rotate_at_) size_ = size_of(fd_);
  while (!bytes.empty()) {
    size_t n = fitting_prefix(bytes);
    if (n == 0) {
      rotate();
      n = fitting_prefix(bytes);
      if (n == 0) n = bytes.size();  // a failed rotation moved rotate_at_ on; never loop
    }
    if (!write_lines(bytes.substr(0, n))) {
      counter_.add_dropped(count_lines(bytes.substr(n)));
      return;
    }
    bytes.remove_prefix(n);
  }
}

bool LogFile::reopen() {
  if (!owns_fd_) return false;
  // Half a line at the end of the old file is better than half a line at the start of the new.
  if (!tail_.empty() && !finish_tail()) {
    counter_.add_dropped(1);
    tail_.clear();
  }
  std::string error;
  if (!switch_to_new_file(&error)) {
    log::warn("access log: cannot reopen " + error + "; still writing to the file opened before");
    return true;
  }
  log::info("access log reopened: " + name_);
  return true;
}

size_t LogFile::write_some(std::string_view bytes, int* error) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // stdout may be a non-blocking pipe: wait for room (bounded), on this thread only.
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, kStdoutPollMs) > 0) continue;
      *error = EAGAIN;
      return done;
    }
    *error = n == 0 ? EIO : errno;
    return done;
  }
  return done;
}

bool LogFile::write_lines(std::string_view bytes) {
  int error = 0;
  const size_t done = write_some(bytes, &error);
  size_ += done;
  counter_.add_written(count_lines(bytes.substr(0, done)));
  if (done == bytes.size()) {
    on_success();
    return true;
  }
  on_failure(error);  // first: the outage's drop count starts before this write's drops
  std::string_view rest = bytes.substr(done);
  if (done > 0 && bytes[done - 1] != '\n') {  // stopped inside a line: keep its rest
    const size_t end = rest.find('\n');
    const size_t length = end == std::string_view::npos ? rest.size() : end + 1;
    tail_.assign(rest.substr(0, length));
    rest.remove_prefix(length);
  }
  counter_.add_dropped(count_lines(rest));
  return false;
}

bool LogFile::finish_tail() {
  int error = 0;
  const size_t done = write_some(tail_, &error);
  size_ += done;
  tail_.erase(0, done);
  if (tail_.empty()) {
    counter_.add_written(1);
    on_success();
    return true;
  }
  on_failure(error);
  return false;
}

size_t LogFile::fitting_prefix(std::string_view rest) const {
  if (max_size_ == 0 || size_ + rest.size() <= rotate_at_) return rest.size();
  const uint64_t room = rotate_at_ > size_ ? rotate_at_ - size_ : 0;
  if (room > 0) {
    const size_t last = std::min<uint64_t>(room, rest.size()) - 1;
    const size_t end = rest.rfind('\n', last);
    if (end != std::string_view::npos) return end + 1;
  }
  if (size_ == 0) {  // a line larger than max_size: alone in its file rather than never written
    const size_t end = rest.find('\n');
    return end == std::string_view::npos ? rest.size() : end + 1;
  }
  return 0;
}

void LogFile::rotate() {
  auto numbered = [this](unsigned i) { return name_ + "." + std::to_string(i); };
  // Oldest first, so nothing is overwritten but path.<keep>, the one to delete. Missing files
  // (a young log, or a keep raised since) are simply skipped.
  for (unsigned i = keep_; i > 1; --i) ::rename(numbered(i - 1).c_str(), numbered(i).c_str());
  const int rc = keep_ > 0 ? ::rename(name_.c_str(), numbered(1).c_str()) : ::unlink(name_.c_str());
  std::string error;
  if (rc != 0) {
    error = name_ + ": " + std::strerror(errno);
  } else if (!switch_to_new_file(&error)) {
    error = "a new " + error + " (still writing to the rotated file)";
  }
  if (!error.empty()) {
    // Not again at every write: after another max_size of lines (or at the next SIGUSR1).
    rotate_at_ = size_ + max_size_;
    log::warn("access log: cannot rotate " + error);
    return;
  }
  log::info("access log: rotated " + name_ + " at " + std::to_string(max_size_) + " bytes (keep " +
            std::to_string(keep_) + ")");
}

bool LogFile::switch_to_new_file(std::string* error) {
  const int fd = open_for_append(name_);
  if (fd < 0) {
    *error = name_ + ": " + std::strerror(errno);
    return false;
  }
  ::close(fd_);
  fd_ = fd;
  size_ = size_of(fd_);
  rotate_at_ = max_size_;
  return true;
}

void LogFile::on_success() {
  if (state_ != State::Failing) return;
  state_ = State::Writing;
  log::info("access log: writing to " + name_ + " again; " +
            std::to_string(counter_.dropped() - dropped_at_failure_) +
            " line(s) dropped while it could not");
}

void LogFile::on_failure(int error) {
  if (state_ == State::Failing) return;  // one warning per outage
  state_ = State::Failing;
  dropped_at_failure_ = counter_.dropped();
  log::warn("access log: cannot write " + name_ + ": " + std::strerror(error) +
            "; dropping lines until it can (counted in "
            "sluice_access_log_lines_total{result=\"dropped\"})");
}

}  // namespace sluice::log
