// SharedDict: values, TTLs on a test clock, the entry and byte bounds with LRU eviction
// (expired entries first), incr semantics, refused keys and values, and exact counts under
// concurrent incr.
#include "core/plugin/shared_dict.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace sluice::plugin {
namespace {

using namespace std::chrono_literals;

// The test clock: a fixed origin plus a step the test advances.
std::atomic<int64_t> g_clock_ms{0};
SharedDict::Clock::time_point test_now() {
  return SharedDict::Clock::time_point{} + 1000h + std::chrono::milliseconds(g_clock_ms.load());
}

class SharedDictTest : public ::testing::Test {
 protected:
  void SetUp() override { g_clock_ms = 0; }
  static void advance(std::chrono::milliseconds d) { g_clock_ms += d.count(); }
  // A dictionary on the test clock.
  static std::unique_ptr<SharedDict> make(size_t entries = SharedDict::kDefaultMaxEntries,
                                          size_t bytes = SharedDict::kDefaultMaxBytes) {
    auto d = std::make_unique<SharedDict>(entries, bytes);
    d->set_clock_for_test(&test_now);
    return d;
  }
};

TEST_F(SharedDictTest, StoresEachValueType) {
  auto d = make();
  std::string error;
  ASSERT_TRUE(d->set("n", 1.5, std::nullopt, &error));
  ASSERT_TRUE(d->set("b", false, std::nullopt, &error));
  ASSERT_TRUE(d->set("s", std::string("hello"), std::nullopt, &error));
  EXPECT_EQ(d->get("n"), SharedValue(1.5));
  EXPECT_EQ(d->get("b"), SharedValue(false));
  EXPECT_EQ(d->get("s"), SharedValue(std::string("hello")));
  EXPECT_EQ(d->get("missing"), std::nullopt);
  EXPECT_EQ(d->entries(), 3u);
  // Replacing changes the type and the byte count.
  const size_t before = d->bytes();
  ASSERT_TRUE(d->set("n", std::string(100, 'x'), std::nullopt, &error));
  EXPECT_EQ(d->bytes(), before + 100);
  EXPECT_EQ(d->entries(), 3u);
  EXPECT_TRUE(d->remove("n"));
  EXPECT_FALSE(d->remove("n"));
  EXPECT_EQ(d->get("n"), std::nullopt);
  EXPECT_EQ(d->bytes(), before - 128 - 1);  // one entry's overhead and its key
}

TEST_F(SharedDictTest, TtlExpiresOnTheClock) {
  auto d = make();
  ASSERT_TRUE(d->set("k", std::string("v"), 2.0, nullptr));
  ASSERT_TRUE(d->set("forever", true, std::nullopt, nullptr));
  ASSERT_TRUE(d->set("zero", true, 0.0, nullptr));  // <= 0: no expiry
  advance(1999ms);
  EXPECT_EQ(d->get("k"), SharedValue(std::string("v")));
  advance(1ms);
  EXPECT_EQ(d->get("k"), std::nullopt);
  EXPECT_FALSE(d->remove("k"));  // an expired key is not "there"
  advance(24h);
  EXPECT_EQ(d->get("forever"), SharedValue(true));
  EXPECT_EQ(d->get("zero"), SharedValue(true));
  // Setting again replaces the expiry: without a TTL it stays.
  ASSERT_TRUE(d->set("k", 1.0, 1.0, nullptr));
  ASSERT_TRUE(d->set("k", 2.0, std::nullopt, nullptr));
  advance(10s);
  EXPECT_EQ(d->get("k"), SharedValue(2.0));
}

TEST_F(SharedDictTest, ExpiredEntriesAreReclaimedByLaterWrites) {
  auto d = make();
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(d->set("t" + std::to_string(i), 1.0, 1.0, nullptr));
  EXPECT_EQ(d->entries(), 6u);
  advance(2s);
  // Each write drops a few expired entries even when there is room.
  ASSERT_TRUE(d->set("a", 1.0, std::nullopt, nullptr));
  ASSERT_TRUE(d->set("b", 1.0, std::nullopt, nullptr));
  EXPECT_EQ(d->entries(), 2u);
}

TEST_F(SharedDictTest, EntryBoundEvictsLeastRecentlyUsed) {
  auto d = make(3);
  ASSERT_TRUE(d->set("a", 1.0, std::nullopt, nullptr));
  ASSERT_TRUE(d->set("b", 2.0, std::nullopt, nullptr));
  ASSERT_TRUE(d->set("c", 3.0, std::nullopt, nullptr));
  ASSERT_TRUE(d->get("a"));                             // a is now the most recent
  ASSERT_TRUE(d->incr("b", 1, std::nullopt, nullptr));  // then b
  ASSERT_TRUE(d->set("d", 4.0, std::nullopt, nullptr));
  EXPECT_EQ(d->entries(), 3u);
  EXPECT_EQ(d->get("c"), std::nullopt);  // the least recently used went
  EXPECT_EQ(d->get("a"), SharedValue(1.0));
  EXPECT_EQ(d->get("b"), SharedValue(3.0));
  EXPECT_EQ(d->get("d"), SharedValue(4.0));
  // Replacing an existing key never evicts another.
  ASSERT_TRUE(d->set("a", 9.0, std::nullopt, nullptr));
  EXPECT_EQ(d->entries(), 3u);
  EXPECT_TRUE(d->get("b") && d->get("d"));
}

TEST_F(SharedDictTest, ExpiredEntriesGoBeforeLiveOnes) {
  auto d = make(3);
  ASSERT_TRUE(d->set("old", 1.0, std::nullopt, nullptr));  // least recently used, but live
  ASSERT_TRUE(d->set("x1", 1.0, std::nullopt, nullptr));
  ASSERT_TRUE(d->set("brief", 1.0, 1.0, nullptr));  // most recently used, expires
  advance(1500ms);
  ASSERT_TRUE(d->set("new", 1.0, std::nullopt, nullptr));
  EXPECT_EQ(d->get("old"), SharedValue(1.0));  // kept: the expired one made the room
  EXPECT_EQ(d->get("new"), SharedValue(1.0));
  EXPECT_EQ(d->entries(), 3u);
}

TEST_F(SharedDictTest, ExpiredEntriesGoFirstEvenWhenManyMustGo) {
  // Six 129-byte entries fill 774 bytes: "o" (live, least recently used) and five that expire.
  auto d = make(100, 6 * 129);
  ASSERT_TRUE(d->set("o", 1.0, std::nullopt, nullptr));
  for (const char* k : {"a", "b", "c", "d", "e"}) ASSERT_TRUE(d->set(k, 1.0, 1.0, nullptr));
  EXPECT_EQ(d->bytes(), 774u);
  advance(2s);
  // 645 bytes need five entries gone: the five expired ones, not "o".
  ASSERT_TRUE(d->set("n", std::string(645 - 129, 'n'), std::nullopt, nullptr));
  EXPECT_EQ(d->get("o"), SharedValue(1.0));
  EXPECT_EQ(d->entries(), 2u);
  EXPECT_EQ(d->bytes(), 774u);
}

TEST_F(SharedDictTest, ByteBoundEvictsUntilTheNewValueFits) {
  // Each entry: 128 overhead + 1-byte key + its string. Room for 1000 bytes.
  auto d = make(100, 1000);
  ASSERT_TRUE(d->set("a", std::string(300, 'a'), std::nullopt, nullptr));  // 429
  ASSERT_TRUE(d->set("b", std::string(300, 'b'), std::nullopt, nullptr));  // 429 → 858
  EXPECT_EQ(d->bytes(), 858u);
  ASSERT_TRUE(d->get("a"));
  ASSERT_TRUE(d->set("c", std::string(100, 'c'), std::nullopt, nullptr));  // 229: b goes
  EXPECT_EQ(d->get("b"), std::nullopt);
  EXPECT_TRUE(d->get("a"));
  EXPECT_EQ(d->bytes(), 429u + 229u);
  // A value that needs the whole dictionary evicts everything else.
  ASSERT_TRUE(d->set("z", std::string(1000 - 129, 'z'), std::nullopt, nullptr));
  EXPECT_EQ(d->entries(), 1u);
  EXPECT_EQ(d->bytes(), 1000u);
}

TEST_F(SharedDictTest, RefusesKeysAndValuesThatCannotFit) {
  auto d = make(100, 1000);
  ASSERT_TRUE(d->set("keep", 1.0, std::nullopt, nullptr));
  std::string error;
  EXPECT_FALSE(d->set(std::string(SharedDict::kMaxKeyBytes + 1, 'k'), 1.0, std::nullopt, &error));
  EXPECT_EQ(error, "key too long");
  EXPECT_FALSE(d->incr(std::string(SharedDict::kMaxKeyBytes + 1, 'k'), 1, std::nullopt, &error));
  EXPECT_EQ(error, "key too long");
  EXPECT_FALSE(d->set("", 1.0, std::nullopt, &error));
  EXPECT_EQ(error, "key is empty");
  error.clear();
  EXPECT_FALSE(d->set("big", std::string(1000, 'v'), std::nullopt, &error));
  EXPECT_EQ(error, "value too large");
  // Nothing was evicted to try, and a key of exactly the limit works (in a larger dict).
  EXPECT_EQ(d->get("keep"), SharedValue(1.0));
  EXPECT_EQ(d->entries(), 1u);
  auto roomy = make();
  EXPECT_TRUE(roomy->set(std::string(SharedDict::kMaxKeyBytes, 'k'), 1.0, std::nullopt, &error));
  // A refused replacement leaves the old value.
  ASSERT_TRUE(d->set("big", std::string("small"), std::nullopt, nullptr));
  EXPECT_FALSE(d->set("big", std::string(2000, 'v'), std::nullopt, &error));
  EXPECT_EQ(d->get("big"), SharedValue(std::string("small")));
}

TEST_F(SharedDictTest, IncrCountsFromZeroAndKeepsExpiry) {
  auto d = make();
  std::string error;
  EXPECT_EQ(d->incr("n", 5, 10.0, &error), 5.0);  // missing: from 0, gets the TTL
  advance(6s);
  EXPECT_EQ(d->incr("n", 2, 100.0, &error), 7.0);  // existing: keeps its expiry (10 s)
  advance(4s);
  EXPECT_EQ(d->get("n"), std::nullopt);                   // expired at 10 s
  EXPECT_EQ(d->incr("n", 1, std::nullopt, &error), 1.0);  // expired: from 0 again, no TTL
  advance(1000h);
  EXPECT_EQ(d->get("n"), SharedValue(1.0));
  EXPECT_EQ(d->incr("n", -3.5, std::nullopt, &error), -2.5);
}

TEST_F(SharedDictTest, IncrOfANonNumberFails) {
  auto d = make();
  ASSERT_TRUE(d->set("s", std::string("10"), std::nullopt, nullptr));
  ASSERT_TRUE(d->set("b", true, std::nullopt, nullptr));
  std::string error;
  EXPECT_EQ(d->incr("s", 1, std::nullopt, &error), std::nullopt);
  EXPECT_EQ(error, "not a number");
  error.clear();
  EXPECT_EQ(d->incr("b", 1, std::nullopt, &error), std::nullopt);
  EXPECT_EQ(error, "not a number");
  EXPECT_EQ(d->get("s"), SharedValue(std::string("10")));  // untouched
  EXPECT_EQ(d->get("b"), SharedValue(true));
}

TEST_F(SharedDictTest, ConcurrentIncrIsExact) {
  SharedDict d;  // the real clock
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10'000;
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kPerThread; ++i) {
        // One shared key (created by whichever thread comes first), one key per thread and
        // some churn of other keys so the map is being changed meanwhile.
        ASSERT_TRUE(d.incr("total", 1, std::nullopt, nullptr));
        ASSERT_TRUE(d.incr("t" + std::to_string(t), 2, std::nullopt, nullptr));
        if (i % 100 == 0) d.set("churn" + std::to_string(i), 1.0, 0.001, nullptr);
      }
    });
  }
  go = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(d.get("total"), SharedValue(double{kThreads * kPerThread}));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(d.get("t" + std::to_string(t)), SharedValue(2.0 * kPerThread));
  }
}

TEST_F(SharedDictTest, ProcessDictionaryIsOne) {
  EXPECT_EQ(&SharedDict::process(), &SharedDict::process());
}

}  // namespace
}  // namespace sluice::plugin
