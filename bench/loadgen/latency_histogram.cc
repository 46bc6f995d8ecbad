#include "bench/loadgen/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sluice::bench {

// Index layout: [0, kSubCount) holds exact values. A value v >= kSubCount with highest set bit
// e (e >= kSubBits) lands in block (e - kSubBits), at position (v >> (e - kSubBits + 1)) - kHalf:
// its top kSubBits bits, minus the leading one.
size_t LatencyHistogram::index_of(uint64_t ns) {
  if (ns < kSubCount) return static_cast<size_t>(ns);
  int e = 63 - std::countl_zero(ns);
  if (e > kMaxExponent) return kBuckets - 1;
  int shift = e - kSubBits + 1;
  uint64_t top = ns >> shift;  // in [kHalf, kSubCount)
  return kSubCount + static_cast<size_t>(e - kSubBits) * kHalf + (top - kHalf);
}

uint64_t LatencyHistogram::upper_edge(size_t index) {
  if (index < kSubCount) return index;
  size_t rel = index - kSubCount;
  int e = static_cast<int>(rel / kHalf) + kSubBits;
  uint64_t top = kHalf + rel % kHalf;
  int shift = e - kSubBits + 1;
  return ((top + 1) << shift) - 1;
}

void LatencyHistogram::record(uint64_t ns) {
  ++buckets_[index_of(ns)];
  ++count_;
  sum_ += ns;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::clear() {
  *this = LatencyHistogram();
}

uint64_t LatencyHistogram::quantile_ns(double q) const {
  if (count_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(upper_edge(i), max_);
  }
  return max_;
}

}  // namespace sluice::bench
