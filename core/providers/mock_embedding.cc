#include "core/providers/mock_embedding.h"

#include <cmath>
#include <cstdint>
#include <string>

namespace sluice::providers {
namespace {

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

void add_word(std::string& word, MockEmbedding& v) {
  // "cats" and "cat" are one word to it; "is", "gas" keep their s.
  if (word.size() > 3 && word.back() == 's' && word[word.size() - 2] != 's') word.pop_back();
  const uint64_t h = fnv1a(word);
  v[h % kMockEmbeddingDims] += (h >> 63) != 0 ? 1.0f : -1.0f;
  word.clear();
}

}  // namespace

MockEmbedding mock_embedding(std::string_view text) {
  MockEmbedding v{};
  std::string word;
  for (unsigned char c : text) {
    if (is_word_byte(c)) {
      word.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a')
                                          : static_cast<char>(c));
    } else if (!word.empty()) {
      add_word(word, v);
    }
  }
  if (!word.empty()) add_word(word, v);
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  if (norm == 0) {
    v[0] = 1.0f;
    return v;
  }
  const double scale = 1.0 / std::sqrt(norm);
  for (float& x : v) x = static_cast<float>(x * scale);
  return v;
}

}  // namespace sluice::providers
