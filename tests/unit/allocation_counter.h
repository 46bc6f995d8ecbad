#pragma once
// Counting heap allocations, for tests that promise a steady state allocates nothing.
//
// allocation_counter.cc replaces the global operator new once for the whole unit-test binary
// (a program may replace it only once); it counts only while an AllocationWindow is open, so
// the rest of the binary pays one relaxed load per allocation.

#include <cstdint>

namespace sluice::test {

// Counts every operator new, on any thread, from its construction to its destruction. One
// window at a time.
class AllocationWindow {
 public:
  AllocationWindow();
  ~AllocationWindow();
  AllocationWindow(const AllocationWindow&) = delete;
  AllocationWindow& operator=(const AllocationWindow&) = delete;

  // Allocations made since the window opened.
  uint64_t allocations() const;
};

}  // namespace sluice::test
