// plugins/memory's SQLite store: a round trip, the per-scope bound (the last N kept), and that a
// scope's query never returns another scope's items. A real file in a temporary directory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "memory/memory_store.h"

namespace memory {
namespace {

namespace fs = std::filesystem;

class MemoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice-memory-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::string error;
    store_ = MemoryStore::open((dir_ / "m.db").string(), 1000, &error);
    ASSERT_TRUE(store_) << error;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  Scope scope(ScopeKind kind, std::string owner, std::string name = "") {
    Scope s;
    s.kind = kind;
    s.owner = std::move(owner);
    s.name = std::move(name);
    return s;
  }

  StoreResult put(const Scope& s, const std::string& text, std::vector<float> v,
                  uint32_t keep = 100) {
    StoreResult r;
    std::string error;
    EXPECT_TRUE(store_->store(s, text, "[\"t\"]", v, s.owner, 1700000000000, keep, &r, &error))
        << error;
    return r;
  }

  std::vector<FoundItem> find(const Scope& s, std::vector<float> v, size_t limit = 10) {
    std::vector<FoundItem> out;
    std::string error;
    EXPECT_TRUE(store_->query(s, v, limit, &out, &error)) << error;
    return out;
  }

  fs::path dir_;
  std::unique_ptr<MemoryStore> store_;
};

TEST_F(MemoryStoreTest, StoredTextsComeBackBestFirstWithTheirScores) {
  const Scope alice = scope(ScopeKind::Agent, "alice");
  put(alice, "about cats", {1, 0, 0});
  put(alice, "about dogs", {0, 1, 0});
  put(alice, "cats and dogs", {1, 1, 0});
  std::vector<FoundItem> found = find(alice, {1, 0, 0}, 2);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].content, "about cats");
  EXPECT_DOUBLE_EQ(found[0].score, 1.0);
  EXPECT_EQ(found[1].content, "cats and dogs");
  EXPECT_EQ(found[0].tags_json, "[\"t\"]");
  EXPECT_EQ(found[0].stored_by, "alice");
}

TEST_F(MemoryStoreTest, AScopeKeepsOnlyItsNewestItemsAndTouchesNoOther) {
  const Scope channel = scope(ScopeKind::Channel, "alice", "general");
  const Scope other = scope(ScopeKind::Channel, "alice", "random");
  put(other, "elsewhere", {1, 0});
  EXPECT_EQ(put(channel, "one", {1, 0}, 2).evicted, 0);
  EXPECT_EQ(put(channel, "two", {1, 0}, 2).evicted, 0);
  EXPECT_EQ(put(channel, "three", {1, 0}, 2).evicted, 1);
  std::vector<FoundItem> found = find(channel, {1, 0});
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].content, "three") << "equal scores: the newest first";
  EXPECT_EQ(found[1].content, "two");
  EXPECT_EQ(find(other, {1, 0}).size(), 1u);
}

TEST_F(MemoryStoreTest, OneAgentsScopesNeverAnswerAnothersQuery) {
  put(scope(ScopeKind::Agent, "alice"), "alice's secret", {1, 0});
  put(scope(ScopeKind::Channel, "alice", "general"), "alice in general", {1, 0});
  EXPECT_TRUE(find(scope(ScopeKind::Agent, "bob"), {1, 0}).empty());
  EXPECT_TRUE(find(scope(ScopeKind::Channel, "bob", "general"), {1, 0}).empty());
}

TEST_F(MemoryStoreTest, TwoConnectionsShareTheFile) {
  // After a reload an old and a new copy of the plugin use the file at once (WAL + busy timeout).
  std::string error;
  auto second = MemoryStore::open((dir_ / "m.db").string(), 1000, &error);
  ASSERT_TRUE(second) << error;
  const Scope kb = scope(ScopeKind::KnowledgeBase, "", "handbook");
  put(kb, "from the first", {1, 0});
  StoreResult r;
  ASSERT_TRUE(second->store(kb, "from the second", "[]", std::vector<float>{1, 0}, "bob", 1, 10, &r,
                            &error))
      << error;
  EXPECT_EQ(find(kb, {1, 0}).size(), 2u);
}

}  // namespace
}  // namespace memory
