#include "memory/db_thread.h"

namespace memory {

DbThread::DbThread(std::unique_ptr<MemoryStore> store, size_t capacity)
    : store_(std::move(store)), capacity_(capacity), thread_([this] { run(); }) {}

DbThread::~DbThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

bool DbThread::push(Job job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queue_.size() >= capacity_) return false;
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void DbThread::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job(*store_);
  }
}

}  // namespace memory
