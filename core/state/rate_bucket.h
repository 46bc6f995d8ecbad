// RateBucket: a token bucket that refills continuously — `limit` tokens per `period`, never
// more than `limit` banked — so there is no burst at a window boundary as with fixed windows.
// One bucket is shared by every worker (rate limits hold for the process, not per thread); its
// state is guarded by a per-bucket mutex held for a few arithmetic operations, so workers
// contend only when they limit the same agent at the same instant.
//
// The bucket stores how much is *used* (a level that drains at limit/period per second), not how
// much is left: a reload that changes the limit keeps the usage and applies the new limit
// (DESIGN §3), and a reconcile may push the level above the limit (debt: the agent used more
// than was reserved) — later requests then wait until it drained.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace sluice::state {

using SteadyTime = std::chrono::steady_clock::time_point;

// Where a bucket stands after an operation, for the x-ratelimit-* headers and retry-after.
struct BucketReading {
  bool allowed = true;     // try_take: the tokens were taken
  uint64_t limit = 0;      // tokens per period
  uint64_t remaining = 0;  // whole tokens left now (0 when in debt)
  // Until the bucket is full again (x-ratelimit-reset-*).
  std::chrono::milliseconds reset_after{0};
  // When refused: until `cost` tokens will be available (retry-after). 0 when allowed.
  std::chrono::milliseconds retry_after{0};
};

class RateBucket {
 public:
  // Takes `cost` tokens if level + cost <= limit; otherwise takes nothing. A cost larger than
  // the whole limit can never pass: refused with retry_after = the time to drain completely
  // (callers should clamp such a cost to the limit first if they want it to pass when idle).
  BucketReading try_take(uint64_t cost, uint64_t limit, std::chrono::nanoseconds period,
                         SteadyTime now);
  // Reconcile: adds `delta` tokens of usage (negative: refund, never below empty).
  void adjust(int64_t delta, uint64_t limit, std::chrono::nanoseconds period, SteadyTime now);
  BucketReading peek(uint64_t limit, std::chrono::nanoseconds period, SteadyTime now);

 private:
  void drain_locked(uint64_t limit, std::chrono::nanoseconds period, SteadyTime now);
  BucketReading reading_locked(uint64_t limit, std::chrono::nanoseconds period) const;

  std::mutex mutex_;
  double level_ = 0;      // tokens used and not yet drained
  SteadyTime updated_{};  // when level_ was last drained
};

// In-flight counter with a cap (agents.*.limits.concurrent). Lock-free.
class ConcurrencyGate {
 public:
  // Enters if fewer than `limit` are inside.
  bool try_enter(uint32_t limit);
  void leave() { inside_.fetch_sub(1, std::memory_order_acq_rel); }
  uint32_t inside() const { return inside_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint32_t> inside_{0};
};

}  // namespace sluice::state
