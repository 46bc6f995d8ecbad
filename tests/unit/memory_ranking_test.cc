// plugins/memory ranking: cosine similarity, best first. Pure logic.
#include <gtest/gtest.h>

#include <vector>

#include "memory/ranking.h"

namespace memory {
namespace {

TEST(MemoryRanking, CosineOfParallelOrthogonalAndOppositeVectors) {
  const std::vector<float> x{1, 0}, y{0, 2}, x2{3, 0}, minus_x{-1, 0};
  EXPECT_DOUBLE_EQ(cosine(x, x2), 1.0);
  EXPECT_DOUBLE_EQ(cosine(x, y), 0.0);
  EXPECT_DOUBLE_EQ(cosine(x, minus_x), -1.0);
  EXPECT_DOUBLE_EQ(cosine(x, std::vector<float>{0, 0}), 0.0) << "a zero vector scores 0";
  EXPECT_DOUBLE_EQ(cosine(x, std::vector<float>{1, 0, 0}), 0.0) << "other lengths score 0";
}

TEST(MemoryRanking, BestFirstLimitedAndNewerFirstOnATie) {
  std::vector<Candidate> items{
      {1, {1, 0}},    // same direction as the query
      {2, {0, 1}},    // orthogonal
      {3, {1, 1}},    // 45 degrees
      {4, {2, 0}},    // same direction, newer than 1
      {5, {1, 0, 0}}  // another model's vector: left out
  };
  const std::vector<float> query{1, 0};
  std::vector<Ranked> top = rank(query, items, 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(items[top[0].index].id, 4);
  EXPECT_EQ(items[top[1].index].id, 1);
  EXPECT_EQ(items[top[2].index].id, 3);
  EXPECT_NEAR(top[2].score, 0.7071, 1e-4);
  EXPECT_EQ(rank(query, items, 10).size(), 4u);
}

}  // namespace
}  // namespace memory
