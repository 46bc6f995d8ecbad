// The mock provider's embedding of a text: deterministic and meaningful enough to test
// semantic search offline. A hashed bag of words — each word (letters and digits, lower-cased,
// a plural's final "s" dropped) adds ±1 to one of kMockEmbeddingDims dimensions chosen by its
// hash — normalised to length 1. So texts sharing words point the same way (a query for "cats"
// is closest to a text about cats), the same text always gets the same vector, and texts with
// no word in common are near-orthogonal. Not a language model: synonyms mean nothing to it.
#pragma once

#include <array>
#include <string_view>

namespace sluice::providers {

inline constexpr size_t kMockEmbeddingDims = 64;

using MockEmbedding = std::array<float, kMockEmbeddingDims>;

// A text without any word gets a fixed unit vector (the first axis).
MockEmbedding mock_embedding(std::string_view text);

}  // namespace sluice::providers
