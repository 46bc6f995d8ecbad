// DbThread: the memory plugin's own thread, where every SQLite call runs (plugin.h: blocking
// work never runs on a sluice worker). Workers hand it jobs through a bounded queue; each job
// ends by finishing its tool call right there, on this thread — sluice hands the result back
// to the worker itself.
//
// Bounded: push() refuses a job when `capacity` are already waiting, so a burst that the disk
// cannot follow is told so at once ("memory is busy") instead of queueing without end.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "memory/memory_store.h"

namespace memory {

class DbThread {
 public:
  using Job = std::function<void(MemoryStore&)>;

  DbThread(std::unique_ptr<MemoryStore> store, size_t capacity);
  // Runs the jobs still queued, then joins. (sluice runs it from sluice_plugin_fini, on one of
  // its own threads, once no call is left unfinished — so the queue is empty by then.)
  ~DbThread();
  DbThread(const DbThread&) = delete;
  DbThread& operator=(const DbThread&) = delete;

  // Any thread. false (the job is dropped, not run) when the queue is full.
  bool push(Job job);

 private:
  void run();

  std::unique_ptr<MemoryStore> store_;  // this thread's only
  const size_t capacity_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;  // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;     // last: starts once the rest is ready
};

}  // namespace memory
