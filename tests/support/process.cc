#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <thread>

#include "tests/support/temp_dir.h"

extern char** environ;

namespace sluice::test {

namespace {
constexpr std::chrono::milliseconds kPollInterval{10};
}

std::unique_ptr<Process> Process::start(const std::vector<std::string>& argv,
                                        const std::string& log_prefix, const Env& env) {
  if (argv.empty()) return nullptr;
  std::string out = log_prefix + ".stdout";
  std::string err = log_prefix + ".stderr";

  // Everything the child needs is built before fork: after it only async-signal-safe calls.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& [k, v] : env) overridden = overridden || k == name;
    if (!overridden) env_strings.push_back(std::move(entry));
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);

  int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0 || null_fd < 0) return nullptr;
  pid_t parent = getpid();

  pid_t pid = fork();
  if (pid == 0) {
    // If the test process dies (crash, ctest timeout), take the child with it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(null_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    ::signal(SIGPIPE, SIG_DFL);  // a server that forgets to ignore it should fail tests
    execve(argp[0], argp.data(), envp.data());
    const char* msg = "exec failed: ";
    (void)!write(2, msg, strlen(msg));
    (void)!write(2, argp[0], strlen(argp[0]));
    (void)!write(2, "\n", 1);
    _exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
  ::close(null_fd);
  if (pid < 0) return nullptr;
  return std::unique_ptr<Process>(new Process(pid, out, err));
}

Process::~Process() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
}

bool Process::reap(bool block) {
  if (status_) return true;
  int status = 0;
  pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r == pid_) {
    status_ = status;
    return true;
  }
  return false;
}

bool Process::running() {
  return !reap(false);
}

bool Process::signal(int sig) {
  return running() && ::kill(pid_, sig) == 0;
}

std::optional<std::vector<std::string>> Process::wait_for_line(Stream stream,
                                                               const std::regex& pattern,
                                                               std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string& path = stream == Stream::Stdout ? out_ : err_;
  while (true) {
    // Check once more after an exit: the line may have been written just before it.
    bool exited = !running();
    std::istringstream lines(read_file(path));
    std::string line;
    while (std::getline(lines, line)) {
      std::smatch m;
      if (std::regex_search(line, m, pattern)) {
        std::vector<std::string> groups;
        for (const auto& g : m) groups.push_back(g.str());
        return groups;
      }
    }
    if (exited || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
  if (WIFEXITED(*status_)) return WEXITSTATUS(*status_);
  if (WIFSIGNALED(*status_)) return 128 + WTERMSIG(*status_);
  return -1;
}

std::string Process::stdout_text() const {
  return read_file(out_);
}
std::string Process::stderr_text() const {
  return read_file(err_);
}

std::string Process::describe() {
  std::ostringstream d;
  d << "pid " << pid_ << " ";
  if (running()) {
    d << "running";
  } else if (WIFEXITED(*status_)) {
    d << "exited with " << WEXITSTATUS(*status_);
  } else if (WIFSIGNALED(*status_)) {
    d << "killed by signal " << WTERMSIG(*status_);
  }
  std::string err = stderr_text();
  constexpr size_t kTail = 4000;
  if (err.size() > kTail) err = "..." + err.substr(err.size() - kTail);
  d << "; stderr:\n" << err;
  return d.str();
}

}  // namespace sluice::test
