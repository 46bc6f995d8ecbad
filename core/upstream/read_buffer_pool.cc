#include "core/upstream/read_buffer_pool.h"

namespace sluice::upstream {

ReadBufferPool::~ReadBufferPool() {
  for (char* b : free_) delete[] b;
}

char* ReadBufferPool::take() {
  if (free_.empty()) return new char[kBufferSize];
  char* b = free_.back();
  free_.pop_back();
  return b;
}

void ReadBufferPool::give(char* buffer) {
  if (free_.size() >= kMaxFree) {
    delete[] buffer;
    return;
  }
  free_.push_back(buffer);
}

}  // namespace sluice::upstream
