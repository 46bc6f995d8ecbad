// RateBucket and ConcurrencyGate (core/state/rate_bucket.h), the state behind agents.*.limits:
// a bucket that refills continuously (no burst at a window boundary), stores usage so a new
// limit applies to the usage so far, can go into debt after a reconcile, never credits a
// refund below empty, says when to retry and when it is full again — and, shared by every
// worker, never admits more than its limit however many threads ask at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <thread>
#include <vector>

#include "core/state/rate_bucket.h"

namespace sluice::state {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// An arbitrary start (a real steady_clock reading is never the epoch).
const SteadyTime kT0 = SteadyTime{} + 1000h;
constexpr std::chrono::nanoseconds kMinute = 60s;

// Takes one token at a time at `now` until refused; how many were taken.
int take_until_refused(RateBucket& b, uint64_t limit, SteadyTime now, int at_most = 100000) {
  int taken = 0;
  while (taken < at_most && b.try_take(1, limit, kMinute, now).allowed) ++taken;
  return taken;
}

TEST(RateBucket, AFreshBucketAdmitsTheWholeLimitThenRefuses) {
  RateBucket b;
  for (int i = 0; i < 59; ++i) ASSERT_TRUE(b.try_take(1, 60, kMinute, kT0).allowed) << i;
  BucketReading last = b.try_take(1, 60, kMinute, kT0);
  EXPECT_TRUE(last.allowed);
  EXPECT_EQ(last.limit, 60u);
  EXPECT_EQ(last.remaining, 0u);
  EXPECT_EQ(last.reset_after, 60s);  // 60 used, draining at 1 per second
  EXPECT_EQ(last.retry_after, 0ms);

  BucketReading refused = b.try_take(1, 60, kMinute, kT0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0u);
  EXPECT_EQ(refused.retry_after, 1s);  // one token drains back in 1 s
  EXPECT_EQ(refused.reset_after, 60s);
}

TEST(RateBucket, RefillsContinuouslySoAWindowBoundaryGivesNoBurst) {
  // A fixed one-minute window would admit 60 at 0:59 and 60 more at 1:00. The bucket drained
  // at t holds exactly half its limit 30 s later: 30 more pass, the 31st does not.
  RateBucket b;
  ASSERT_EQ(take_until_refused(b, 60, kT0), 60);
  EXPECT_EQ(b.peek(60, kMinute, kT0 + 30s).remaining, 30u);
  EXPECT_EQ(take_until_refused(b, 60, kT0 + 30s), 30);
  BucketReading refused = b.try_take(1, 60, kMinute, kT0 + 30s);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 1s);
  // Time keeps refilling at the same rate: 1 token per second.
  EXPECT_EQ(take_until_refused(b, 60, kT0 + 30s + 500ms), 0);
  EXPECT_EQ(take_until_refused(b, 60, kT0 + 31s), 1);
  EXPECT_EQ(take_until_refused(b, 60, kT0 + 41s), 10);
}

TEST(RateBucket, NeverBanksMoreThanTheLimit) {
  RateBucket b;
  ASSERT_EQ(take_until_refused(b, 60, kT0), 60);
  // Ten idle minutes refill the bucket, not beyond it.
  EXPECT_EQ(b.peek(60, kMinute, kT0 + 10min).remaining, 60u);
  EXPECT_EQ(take_until_refused(b, 60, kT0 + 10min), 60);
}

TEST(RateBucket, RetryAfterIsWhenTheCostFitsAndResetAfterWhenItIsFull) {
  RateBucket b;  // tokens per minute: 600, i.e. 10 per second
  BucketReading r = b.try_take(300, 600, kMinute, kT0);
  ASSERT_TRUE(r.allowed);
  EXPECT_EQ(r.remaining, 300u);
  EXPECT_EQ(r.reset_after, 30s);
  // 400 more do not fit (300 + 400 > 600): the level must fall to 200, i.e. drain 100 = 10 s.
  BucketReading refused = b.try_take(400, 600, kMinute, kT0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 10s);
  EXPECT_EQ(refused.remaining, 300u);  // a refusal takes nothing
  EXPECT_EQ(refused.reset_after, 30s);
  EXPECT_FALSE(b.try_take(400, 600, kMinute, kT0 + 9999ms).allowed);
  EXPECT_TRUE(b.try_take(400, 600, kMinute, kT0 + 10s).allowed);
  // Sub-second waits are rounded up to the millisecond, never to 0.
  RateBucket c;
  ASSERT_TRUE(c.try_take(600, 600, kMinute, kT0).allowed);
  EXPECT_EQ(c.try_take(1, 600, kMinute, kT0).retry_after, 100ms);
  EXPECT_EQ(c.try_take(1, 600, kMinute, kT0 + 99ms).retry_after, 1ms);
}

TEST(RateBucket, ACostAboveTheWholeLimitNeverPasses) {
  // Callers clamp such a cost to the limit (the rate_limit filter does); unclamped it is
  // refused even when idle, with the time until the bucket is empty (at least 1 ms).
  RateBucket b;
  BucketReading idle = b.try_take(601, 600, kMinute, kT0);
  EXPECT_FALSE(idle.allowed);
  EXPECT_EQ(idle.remaining, 600u);
  EXPECT_EQ(idle.retry_after, 1ms);
  ASSERT_TRUE(b.try_take(60, 600, kMinute, kT0).allowed);
  EXPECT_EQ(b.try_take(601, 600, kMinute, kT0).retry_after, 6s);  // until empty
  EXPECT_TRUE(b.try_take(600, 600, kMinute, kT0 + 6s).allowed);   // clamped: passes when idle
}

TEST(RateBucket, AdjustUpwardsPutsTheBucketInDebt) {
  // A reservation of 100 tokens that turned out to use 700 of a 600/min limit.
  RateBucket b;
  ASSERT_TRUE(b.try_take(100, 600, kMinute, kT0).allowed);
  b.adjust(+600, 600, kMinute, kT0);
  BucketReading debt = b.peek(600, kMinute, kT0);
  EXPECT_EQ(debt.remaining, 0u);
  EXPECT_EQ(debt.reset_after, 70s);  // 700 used at 10 per second
  // One token fits once the level is down to 599: 101 tokens = 10.1 s.
  BucketReading refused = b.try_take(1, 600, kMinute, kT0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 10100ms);
  EXPECT_FALSE(b.try_take(1, 600, kMinute, kT0 + 10s).allowed);  // still in debt at 600
  EXPECT_TRUE(b.try_take(1, 600, kMinute, kT0 + 10100ms).allowed);
}

TEST(RateBucket, RefundNeverGoesBelowEmpty) {
  RateBucket b;
  ASSERT_TRUE(b.try_take(100, 600, kMinute, kT0).allowed);
  b.adjust(-1000, 600, kMinute, kT0);  // more than was ever used
  BucketReading empty = b.peek(600, kMinute, kT0);
  EXPECT_EQ(empty.remaining, 600u);
  EXPECT_EQ(empty.reset_after, 0ms);
  // No credit: the whole limit fits once, not a token more.
  EXPECT_TRUE(b.try_take(600, 600, kMinute, kT0).allowed);
  EXPECT_FALSE(b.try_take(1, 600, kMinute, kT0).allowed);
}

TEST(RateBucket, ARefundAfterTimePassedCountsTheDrainFirst) {
  RateBucket b;
  ASSERT_TRUE(b.try_take(600, 600, kMinute, kT0).allowed);
  // 30 s later 300 have drained; refunding 200 of the reservation leaves 100 used.
  b.adjust(-200, 600, kMinute, kT0 + 30s);
  EXPECT_EQ(b.peek(600, kMinute, kT0 + 30s).remaining, 500u);
}

TEST(RateBucket, ANewLimitAppliesToTheUsageSoFar) {
  // What a reload does: the bucket keeps its usage, the next call passes the new limit.
  RateBucket b;
  ASSERT_EQ(take_until_refused(b, 60, kT0, 50), 50);
  BucketReading raised = b.peek(100, kMinute, kT0);
  EXPECT_EQ(raised.limit, 100u);
  EXPECT_EQ(raised.remaining, 50u);  // not a fresh 100
  EXPECT_EQ(take_until_refused(b, 100, kT0), 50);

  RateBucket c;
  ASSERT_EQ(take_until_refused(c, 60, kT0, 50), 50);
  BucketReading lowered = c.try_take(1, 40, kMinute, kT0);
  EXPECT_FALSE(lowered.allowed);  // 50 used of 40: in debt
  EXPECT_EQ(lowered.remaining, 0u);
  // Drains at the new rate (40/min): down to 39 means 11 tokens, 16.5 s.
  EXPECT_EQ(lowered.retry_after, 16500ms);
  EXPECT_EQ(lowered.reset_after, 75s);
}

TEST(RateBucket, AnEarlierClockReadingNeitherRefillsNorRewinds) {
  // Workers read the clock before taking the lock, so a call may carry a time just before the
  // last update: it must not refill twice nor move the bucket's clock back.
  RateBucket b;
  ASSERT_EQ(take_until_refused(b, 60, kT0 + 10s), 60);
  EXPECT_FALSE(b.try_take(1, 60, kMinute, kT0 + 5s).allowed);
  EXPECT_EQ(b.peek(60, kMinute, kT0 + 5s).remaining, 0u);
  EXPECT_EQ(take_until_refused(b, 60, kT0 + 11s), 1);  // 1 s after the real last update
}

TEST(RateBucket, AnAbsurdUsageGivesALongButValidWait) {
  // A provider reporting an absurd usage (or a bug upstream of the bucket) must not turn the
  // waits into garbage: they stay positive and capped, and the bucket refuses.
  RateBucket b;
  b.adjust(std::numeric_limits<int64_t>::max(), 1, kMinute, kT0);
  BucketReading r = b.try_take(1, 1, kMinute, kT0);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.remaining, 0u);
  EXPECT_GE(r.retry_after, std::chrono::hours(24 * 365));
  EXPECT_GE(r.reset_after, std::chrono::hours(24 * 365));
}

TEST(RateBucket, ThreadsTogetherNeverTakeMoreThanTheLimit) {
  // 8 workers × 2,000 attempts at the same instant against a limit of 5,000: exactly 5,000
  // pass, whatever the interleaving.
  constexpr int kThreads = 8;
  constexpr int kAttempts = 2000;
  constexpr uint64_t kLimit = 5000;
  RateBucket b;
  std::atomic<int> admitted{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      int mine = 0;
      for (int i = 0; i < kAttempts; ++i) mine += b.try_take(1, kLimit, kMinute, kT0).allowed;
      admitted += mine;
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), static_cast<int>(kLimit));
  EXPECT_EQ(b.peek(kLimit, kMinute, kT0).remaining, 0u);
}

TEST(RateBucket, ThreadsWithRefundsAndRealTimeStayWithinTheLimit) {
  // Mixed traffic as the filter makes it: take, sometimes refund; the clock runs (a day-long
  // period, so the test's own duration refills less than one token). The usage held at once
  // never exceeded the limit, and the bucket ended (nearly) full: a refund is credited back.
  constexpr int kThreads = 6;
  constexpr int kAttempts = 3000;
  constexpr uint64_t kLimit = 1000;
  constexpr std::chrono::nanoseconds kDay = 24h;
  RateBucket b;
  std::atomic<int> held{0};
  std::atomic<int> max_held{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAttempts; ++i) {
        auto now = std::chrono::steady_clock::now();
        if (!b.try_take(1, kLimit, kDay, now).allowed) continue;
        int h = ++held;
        int seen = max_held.load();
        while (h > seen && !max_held.compare_exchange_weak(seen, h)) {
        }
        if ((i + t) % 3 == 0) {  // a third of them are refunded (refused by a later check)
          --held;
          b.adjust(-1, kLimit, kDay, std::chrono::steady_clock::now());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  // Usage drains by < 1 token in the test's seconds, hence the +1; each thread may end on a
  // refund nobody took back, hence the - kThreads.
  EXPECT_LE(max_held.load(), static_cast<int>(kLimit) + 1);
  EXPECT_GE(held.load(), static_cast<int>(kLimit) - kThreads - 1);
}

TEST(ConcurrencyGate, AdmitsUpToTheLimitAndALeaveMakesRoom) {
  ConcurrencyGate gate;
  EXPECT_TRUE(gate.try_enter(3));
  EXPECT_TRUE(gate.try_enter(3));
  EXPECT_TRUE(gate.try_enter(3));
  EXPECT_FALSE(gate.try_enter(3));
  EXPECT_EQ(gate.inside(), 3u);
  gate.leave();
  EXPECT_EQ(gate.inside(), 2u);
  EXPECT_TRUE(gate.try_enter(3));
  EXPECT_FALSE(gate.try_enter(3));
  // A lowered limit (reload) admits nobody until enough have left.
  EXPECT_FALSE(gate.try_enter(2));
  gate.leave();
  gate.leave();
  EXPECT_TRUE(gate.try_enter(2));
}

TEST(ConcurrencyGate, ThreadsNeverHaveMoreInsideThanTheLimit) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 20000;
  constexpr uint32_t kLimit = 3;
  ConcurrencyGate gate;
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::atomic<int> entered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        if (!gate.try_enter(kLimit)) continue;
        ++entered;
        int now_inside = ++inside;
        int seen = max_inside.load();
        while (now_inside > seen && !max_inside.compare_exchange_weak(seen, now_inside)) {
        }
        --inside;
        gate.leave();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(max_inside.load(), static_cast<int>(kLimit));
  EXPECT_GT(entered.load(), 0);
  EXPECT_EQ(gate.inside(), 0u);
}

}  // namespace
}  // namespace sluice::state
