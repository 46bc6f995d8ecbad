#include "core/log/writer_thread.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sluice::log {
namespace {

constexpr int kNiceAboveProcess = 5;
constexpr int kLowestNice = 19;

}  // namespace

void run_behind_workers() {
  sched_param param{};
  param.sched_priority = 0;  // the only priority SCHED_BATCH has
  pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);

  // Linux applies setpriority(PRIO_PROCESS, tid) to that thread alone.
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  const int process_nice = getpriority(PRIO_PROCESS, static_cast<id_t>(getpid()));
  if (errno != 0) return;
  setpriority(PRIO_PROCESS, tid, std::min(process_nice + kNiceAboveProcess, kLowestNice));
}

}  // namespace sluice::log
