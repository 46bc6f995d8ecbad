#include "core/filter/group_route.h"

#include <algorithm>
#include <numeric>

namespace sluice::filter {

std::optional<Strategy> strategy_from_string(std::string_view name) {
  if (name == "priority") return Strategy::Priority;
  if (name == "weighted") return Strategy::Weighted;
  if (name == "least_busy") return Strategy::LeastBusy;
  if (name == "latency") return Strategy::Latency;
  return std::nullopt;
}

const char* to_string(Strategy s) {
  switch (s) {
    case Strategy::Priority:
      return "priority";
    case Strategy::Weighted:
      return "weighted";
    case Strategy::LeastBusy:
      return "least_busy";
    case Strategy::Latency:
      return "latency";
  }
  return "?";
}

std::vector<uint32_t> smooth_weighted_sequence(std::span<const uint32_t> weights) {
  std::vector<uint64_t> w(weights.begin(), weights.end());
  if (w.empty()) return {};
  for (uint64_t& x : w) x = std::max<uint64_t>(x, 1);
  // 10:30 walks the same shares as 1:3 in a tenth of the length.
  uint64_t divisor = 0;
  for (uint64_t x : w) divisor = std::gcd(divisor, x);
  uint64_t total = 0;
  for (uint64_t& x : w) total += (x /= divisor);
  if (total > kMaxWeightedSequence) {
    // Rounded to the nearest share of kMaxWeightedSequence; a tiny weight keeps 1 so it is
    // still picked (slightly more often than configured) rather than never.
    uint64_t scaled_total = 0;
    for (uint64_t& x : w) {
      x = std::max<uint64_t>(1, (x * kMaxWeightedSequence + total / 2) / total);
      scaled_total += x;
    }
    total = scaled_total;
  }

  std::vector<uint32_t> sequence;
  sequence.reserve(total);
  std::vector<int64_t> score(w.size(), 0);
  for (uint64_t pick = 0; pick < total; ++pick) {
    size_t best = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      score[i] += static_cast<int64_t>(w[i]);
      if (score[i] > score[best]) best = i;
    }
    score[best] -= static_cast<int64_t>(total);
    sequence.push_back(static_cast<uint32_t>(best));
  }
  return sequence;
}

}  // namespace sluice::filter
