// RetryBudget: retries in flight may not exceed a share of the requests in flight (Envoy's
// retry budget: 20% of active requests, at least 3), so a provider outage does not multiply
// the load on it. Process-wide, lock-free.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace sluice::state {

class RetryBudget {
 public:
  void request_started() { active_.fetch_add(1, std::memory_order_relaxed); }
  void request_finished() { active_.fetch_sub(1, std::memory_order_relaxed); }

  // Takes a retry slot if retries in flight < max(min_retries, active * ratio).
  bool try_start_retry(double ratio, uint32_t min_retries) {
    const auto active = active_.load(std::memory_order_relaxed);
    const auto allowed =
        std::max<uint64_t>(min_retries, static_cast<uint64_t>(static_cast<double>(active) * ratio));
    uint64_t current = retrying_.load(std::memory_order_relaxed);
    do {
      if (current >= allowed) return false;
    } while (!retrying_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel));
    return true;
  }
  void retry_finished() { retrying_.fetch_sub(1, std::memory_order_acq_rel); }

  uint64_t active() const { return active_.load(std::memory_order_relaxed); }
  uint64_t retrying() const { return retrying_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> active_{0};
  std::atomic<uint64_t> retrying_{0};
};

}  // namespace sluice::state
