// plugins/memory: the tools' arguments, the embedding request and answer, the result JSON.
#include <gtest/gtest.h>

#include "memory/embedding.h"
#include "memory/results.h"
#include "memory/tool_arguments.h"

namespace memory {
namespace {

TEST(MemoryArguments, StoreReadsContentScopeAndTags) {
  StoreArguments a;
  std::string error;
  ASSERT_TRUE(
      parse_store_arguments(R"({"content":"hi","scope":"kb:x","tags":["a","b"]})", 100, &a, &error))
      << error;
  EXPECT_EQ(a.content, "hi");
  EXPECT_EQ(a.scope, "kb:x");
  EXPECT_EQ(tags_json(a.tags), R"(["a","b"])");
}

TEST(MemoryArguments, StoreRefusesWhatItCannotKeepNamingTheArgument) {
  std::string error;
  StoreArguments a;
  EXPECT_FALSE(parse_store_arguments(R"({"content":""})", 100, &a, &error));
  EXPECT_EQ(error, "content: required, a non-empty string");
  StoreArguments b;
  EXPECT_FALSE(parse_store_arguments(R"({"content":"0123456789"})", 5, &b, &error));
  EXPECT_EQ(error, "content: 10 bytes, more than the 5 this memory keeps per item");
  StoreArguments c;
  EXPECT_FALSE(parse_store_arguments(R"({"content":"x","tag":["a"]})", 5, &c, &error));
  EXPECT_EQ(error, "tag: unknown argument (content, scope, tags)");
}

TEST(MemoryArguments, QueryHasALimitOfFiveByDefaultAndBoundsIt) {
  QueryArguments q;
  std::string error;
  ASSERT_TRUE(parse_query_arguments(R"({"query":"cats"})", &q, &error)) << error;
  EXPECT_EQ(q.limit, 5u);
  QueryArguments r;
  EXPECT_FALSE(parse_query_arguments(R"({"query":"cats","limit":0})", &r, &error));
  EXPECT_EQ(error, "limit: expected an integer from 1 to 50");
}

TEST(MemoryEmbedding, TheRequestNamesTheModelAndAsksForFloats) {
  EXPECT_EQ(embedding_request_body("embed", "a \"cat\""),
            R"({"model":"embed","input":["a \"cat\""],"encoding_format":"float"})");
}

TEST(MemoryEmbedding, TheVectorOrWhatSluiceSaidInstead) {
  std::vector<float> v;
  std::string error;
  ASSERT_TRUE(read_embedding(200, R"({"data":[{"embedding":[0.5,-1,2]}]})", &v, &error));
  EXPECT_EQ(v, (std::vector<float>{0.5f, -1.0f, 2.0f}));
  EXPECT_FALSE(read_embedding(
      429, R"({"error":{"message":"Rate limit exceeded: 2 requests per minute"}})", &v, &error));
  EXPECT_EQ(error, "answered 429: Rate limit exceeded: 2 requests per minute");
  EXPECT_FALSE(read_embedding(200, R"({"data":[]})", &v, &error));
  EXPECT_EQ(error, "answered without data[0].embedding as a list of numbers");
}

TEST(MemoryResults, QueryResultsAreJsonBestFirst) {
  Scope s;
  s.kind = ScopeKind::Channel;
  s.name = "general";
  FoundItem item;
  item.content = "cats purr";
  item.score = 0.875;
  item.tags_json = R"(["pets"])";
  item.stored_by = "alice";
  item.stored_at_ms = 0;
  EXPECT_EQ(query_result_json(s, {item}),
            R"({"scope":"channel:general","results":[{"content":"cats purr","score":0.875,)"
            R"("tags":["pets"],"stored_by":"alice","stored_at":"1970-01-01T00:00:00Z"}]})");
  EXPECT_EQ(store_result_json(s, StoreResult{7, 1}),
            R"({"stored":true,"id":7,"scope":"channel:general","evicted":1})");
}

}  // namespace
}  // namespace memory
