// Ranking stored items against a query: cosine similarity, best first. Pure logic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace memory {

// cos(a, b) in [-1, 1]; 0 when either is all zeros or their lengths differ.
double cosine(std::span<const float> a, std::span<const float> b);

struct Candidate {
  int64_t id = 0;  // the item's row id (newer items have larger ids)
  std::vector<float> vector;
};

struct Ranked {
  size_t index = 0;  // into the candidates given
  double score = 0;
};

// The `limit` candidates most similar to `query`, best first; equal scores: the newer item
// first. Candidates whose vector has another length than the query's (stored with another
// embedding model) are left out.
std::vector<Ranked> rank(std::span<const float> query, std::span<const Candidate> candidates,
                         size_t limit);

}  // namespace memory
