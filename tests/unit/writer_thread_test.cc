// run_behind_workers(): a log writer's thread gives way to the workers, and only that thread.
#include "core/log/writer_thread.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

namespace sluice::log {
namespace {

int nice_of_thread(pid_t tid) {
  return getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
}

pid_t this_tid() {
  return static_cast<pid_t>(syscall(SYS_gettid));
}

TEST(WriterThread, RunsBatchAndNicerThanTheProcessOnItsOwnThreadOnly) {
  const int process_nice = nice_of_thread(getpid());
  const int process_policy = sched_getscheduler(0);
  int policy = -1, nice = -100;
  std::thread writer([&] {
    run_behind_workers();
    policy = sched_getscheduler(0);  // 0: this thread
    nice = nice_of_thread(this_tid());
  });
  writer.join();
  EXPECT_EQ(policy, SCHED_BATCH);
  EXPECT_EQ(nice, std::min(process_nice + 5, 19));
  // The calling thread (a worker, here the test's main thread) keeps what it had.
  EXPECT_EQ(sched_getscheduler(0), process_policy);
  EXPECT_EQ(nice_of_thread(this_tid()), process_nice);
}

}  // namespace
}  // namespace sluice::log
