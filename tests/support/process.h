// A child process for integration tests: started with fork/exec, stdout and stderr captured to
// files (so nothing blocks on a full pipe), readiness learned from a log line, killed on
// destruction. Every wait takes a timeout.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace sluice::test {

using Env = std::vector<std::pair<std::string, std::string>>;

class Process {
 public:
  enum class Stream : uint8_t { Stdout, Stderr };

  // Runs argv[0] (a path) with the parent's environment plus `env` (overriding same names).
  // Output goes to <log_prefix>.stdout / <log_prefix>.stderr. nullptr if fork/exec failed
  // (an exec failure shows up as exit code 127 instead, with the reason on stderr).
  static std::unique_ptr<Process> start(const std::vector<std::string>& argv,
                                        const std::string& log_prefix, const Env& env = {});
  ~Process();  // SIGKILL + reap if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  bool signal(int sig);

  // The first line of `stream` matching `pattern` (std::regex_search), with its capture groups
  // (index 0 is the whole match). nullopt on timeout or when the process exits first.
  std::optional<std::vector<std::string>> wait_for_line(Stream stream, const std::regex& pattern,
                                                        std::chrono::milliseconds timeout);

  // Waits for the process to end. Returns the exit code, or 128 + signal number when a signal
  // killed it; nullopt when still running at the timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  std::string stdout_text() const;
  std::string stderr_text() const;
  // Where the child's stderr goes (e.g. to keep a file-size limit above it).
  const std::string& stderr_path() const { return err_; }
  // "pid 123 running" / "exited with 1" / "killed by signal 11" and the last lines of stderr;
  // for assertion messages.
  std::string describe();

 private:
  Process(pid_t pid, std::string out, std::string err) : pid_(pid), out_(out), err_(err) {}
  bool reap(bool block);

  pid_t pid_;
  std::string out_;
  std::string err_;
  std::optional<int> status_;  // raw waitpid status once reaped
};

}  // namespace sluice::test
