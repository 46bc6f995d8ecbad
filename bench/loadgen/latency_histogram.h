// LatencyHistogram: log-linear buckets in the style of HdrHistogram, recording nanoseconds.
// Values below 2^kSubBits ns are exact; above, each power-of-two range [2^k, 2^(k+1)) is split
// into 2^(kSubBits-1) equal buckets, so a recorded value is off by at most 1/2^(kSubBits-1)
// (0.8% with kSubBits = 8): 50 µs is resolved to 0.25 µs, 10 ms to 49 µs. Fixed memory, O(1)
// record, no allocation after construction — it sits on the load generator's hot path.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace sluice::bench {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 8;
  static constexpr uint64_t kSubCount = 1ull << kSubBits;  // exact region: [0, 256) ns
  static constexpr uint64_t kHalf = kSubCount / 2;         // buckets per power of two above it
  static constexpr int kMaxExponent = 40;                  // values up to 2^40 ns (~18 min)
  static constexpr size_t kBuckets = kSubCount + (kMaxExponent - kSubBits + 1) * kHalf;

  void record(uint64_t ns);
  void merge(const LatencyHistogram& other);
  void clear();

  uint64_t count() const { return count_; }
  uint64_t min_ns() const { return count_ ? min_ : 0; }
  uint64_t max_ns() const { return max_; }
  double mean_ns() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }
  // The value at quantile q (0..1]: the upper edge of the bucket that holds the
  // ceil(q * count)-th smallest value, clamped to the recorded maximum. 0 when empty.
  uint64_t quantile_ns(double q) const;

 private:
  static size_t index_of(uint64_t ns);
  static uint64_t upper_edge(size_t index);  // largest value that maps to this bucket

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace sluice::bench
