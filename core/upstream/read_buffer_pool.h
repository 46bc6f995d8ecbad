// Fixed-size read buffers, recycled through a free list: every uv_read on an upstream socket
// (and every TLS decrypt) borrows one and gives it back in the same callback, so a busy pool
// holds one or two buffers and steady-state reading allocates nothing.
#pragma once

#include <cstddef>
#include <vector>

namespace sluice::upstream {

class ReadBufferPool {
 public:
  static constexpr size_t kBufferSize = 64 * 1024;
  // Buffers kept for reuse beyond this are freed (a burst should not pin memory forever).
  static constexpr size_t kMaxFree = 8;

  ReadBufferPool() { free_.reserve(kMaxFree); }
  ~ReadBufferPool();
  ReadBufferPool(const ReadBufferPool&) = delete;
  ReadBufferPool& operator=(const ReadBufferPool&) = delete;

  char* take();             // kBufferSize bytes
  void give(char* buffer);  // a buffer from take()

 private:
  std::vector<char*> free_;
};

}  // namespace sluice::upstream
