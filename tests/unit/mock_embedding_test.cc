// The built-in mock provider's embeddings (core/providers/mock_embedding.h): deterministic,
// unit length, and similar for texts that share words — enough for semantic search offline.
#include <gtest/gtest.h>

#include <cmath>

#include "core/providers/mock_embedding.h"

namespace sluice::providers {
namespace {

double dot(const MockEmbedding& a, const MockEmbedding& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

TEST(MockEmbedding, TheSameTextGetsTheSameUnitVector) {
  const MockEmbedding a = mock_embedding("Cats purr when they are happy");
  EXPECT_EQ(a, mock_embedding("Cats purr when they are happy"));
  EXPECT_NEAR(dot(a, a), 1.0, 1e-6);
  EXPECT_NEAR(dot(mock_embedding(""), mock_embedding("")), 1.0, 1e-6) << "no words: still unit";
}

TEST(MockEmbedding, TextsSharingWordsAreCloserThanTextsThatDoNot) {
  const MockEmbedding query = mock_embedding("cats");
  const double about_cats = dot(query, mock_embedding("Cats purr when they are happy"));
  const double about_reports = dot(query, mock_embedding("The quarterly report is due Friday"));
  EXPECT_GT(about_cats, about_reports);
  EXPECT_GT(about_cats, 0.3);
  EXPECT_NEAR(dot(mock_embedding("cat"), mock_embedding("CATS")), 1.0, 1e-6)
      << "case and a plural's s do not matter";
}

}  // namespace
}  // namespace sluice::providers
