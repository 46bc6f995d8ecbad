#include "core/state/rate_bucket.h"

#include <algorithm>
#include <cmath>

namespace sluice::state {
namespace {

// Waits are capped (at ~317 years): an absurd level (a huge reported usage) would otherwise
// overflow the int64 cast — undefined, and on x86 a negative wait.
constexpr double kMaxWaitSeconds = 1e10;

std::chrono::milliseconds ceil_ms(double seconds) {
  if (!(seconds > 0)) return std::chrono::milliseconds(0);  // also NaN
  seconds = std::min(seconds, kMaxWaitSeconds);
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(seconds * 1000.0)));
}

double per_second(uint64_t limit, std::chrono::nanoseconds period) {
  return static_cast<double>(limit) / std::chrono::duration<double>(period).count();
}

}  // namespace

void RateBucket::drain_locked(uint64_t limit, std::chrono::nanoseconds period, SteadyTime now) {
  if (updated_ != SteadyTime{} && now > updated_) {
    const double elapsed = std::chrono::duration<double>(now - updated_).count();
    level_ = std::max(0.0, level_ - elapsed * per_second(limit, period));
  }
  if (now > updated_ || updated_ == SteadyTime{}) updated_ = now;
}

BucketReading RateBucket::reading_locked(uint64_t limit, std::chrono::nanoseconds period) const {
  BucketReading r;
  r.limit = limit;
  const double left = static_cast<double>(limit) - level_;
  r.remaining = left <= 0 ? 0 : static_cast<uint64_t>(std::floor(left));
  r.reset_after = ceil_ms(level_ / per_second(limit, period));
  return r;
}

BucketReading RateBucket::try_take(uint64_t cost, uint64_t limit, std::chrono::nanoseconds period,
                                   SteadyTime now) {
  std::lock_guard lock(mutex_);
  drain_locked(limit, period, now);
  const double after = level_ + static_cast<double>(cost);
  if (after <= static_cast<double>(limit) + 1e-9) {
    level_ = after;
    return reading_locked(limit, period);
  }
  BucketReading r = reading_locked(limit, period);
  r.allowed = false;
  // Until the level has drained enough for `cost` to fit (or to empty, if it never can).
  const double excess = std::min(after - static_cast<double>(limit), level_);
  r.retry_after = std::max<std::chrono::milliseconds>(ceil_ms(excess / per_second(limit, period)),
                                                      std::chrono::milliseconds(1));
  return r;
}

void RateBucket::adjust(int64_t delta, uint64_t limit, std::chrono::nanoseconds period,
                        SteadyTime now) {
  std::lock_guard lock(mutex_);
  drain_locked(limit, period, now);
  level_ = std::max(0.0, level_ + static_cast<double>(delta));
}

BucketReading RateBucket::peek(uint64_t limit, std::chrono::nanoseconds period, SteadyTime now) {
  std::lock_guard lock(mutex_);
  drain_locked(limit, period, now);
  return reading_locked(limit, period);
}

bool ConcurrencyGate::try_enter(uint32_t limit) {
  uint32_t current = inside_.load(std::memory_order_relaxed);
  do {
    if (current >= limit) return false;
  } while (!inside_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel));
  return true;
}

}  // namespace sluice::state
