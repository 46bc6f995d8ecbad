#include "tests/unit/allocation_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// Not inlined: GCC would otherwise pair the free() below with `new` expressions and warn.
[[gnu::noinline]] void* operator new(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace sluice::test {

AllocationWindow::AllocationWindow() {
  g_allocations.store(0);
  g_counting.store(true);
}

AllocationWindow::~AllocationWindow() {
  g_counting.store(false);
}

uint64_t AllocationWindow::allocations() const {
  return g_allocations.load();
}

}  // namespace sluice::test
