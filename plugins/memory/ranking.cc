#include "memory/ranking.h"

#include <algorithm>
#include <cmath>

namespace memory {

double cosine(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size() || a.empty()) return 0;
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  if (na == 0 || nb == 0) return 0;
  return dot / (std::sqrt(na) * std::sqrt(nb));
}

std::vector<Ranked> rank(std::span<const float> query, std::span<const Candidate> candidates,
                         size_t limit) {
  std::vector<Ranked> out;
  out.reserve(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (candidates[i].vector.size() != query.size()) continue;
    out.push_back(Ranked{i, cosine(query, candidates[i].vector)});
  }
  auto better = [&](const Ranked& x, const Ranked& y) {
    if (x.score != y.score) return x.score > y.score;
    return candidates[x.index].id > candidates[y.index].id;
  };
  const size_t keep = std::min(limit, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep), out.end(),
                    better);
  out.resize(keep);
  return out;
}

}  // namespace memory
