// SpendAccount and the UTC budget periods (core/state/spend_account.h): where a day and a month
// start and end (month ends, February in leap and other years, December into January, exactly
// at midnight), that spend rolls into a fresh day or month when the clock passes into one,
// that admission refuses only what would pass the budget and holds the worst case until
// settle, that seeding from the ledger replaces the totals — and that two threads reserving
// against one budget never admit more than it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "core/state/spend_account.h"

namespace sluice::state {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

// A UTC wall time from its calendar fields.
WallTime utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

const BudgetLimit kDaily{1.00, BudgetPeriod::Day};
const BudgetLimit kMonthly{1.00, BudgetPeriod::Month};
const BudgetLimit kTotal{1.00, BudgetPeriod::Total};

TEST(BudgetPeriodNames, RoundTripAndRejectUnknown) {
  for (BudgetPeriod p : {BudgetPeriod::Day, BudgetPeriod::Month, BudgetPeriod::Total}) {
    EXPECT_EQ(budget_period_of(to_string(p)), p);
  }
  EXPECT_STREQ(to_string(BudgetPeriod::Month), "month");
  EXPECT_EQ(budget_period_of("week"), std::nullopt);
  EXPECT_EQ(budget_period_of("Day"), std::nullopt);
  EXPECT_EQ(budget_period_of(""), std::nullopt);
}

TEST(BudgetPeriods, DayStartsAtUtcMidnightAndEndsAtTheNext) {
  const WallTime now = utc(2026, 11, 21, 14, 22, 54) + 123ms;
  EXPECT_EQ(period_start(BudgetPeriod::Day, now), utc(2026, 11, 21));
  EXPECT_EQ(next_period_start(BudgetPeriod::Day, now), utc(2026, 11, 22));
}

TEST(BudgetPeriods, ExactlyAtMidnightIsTheStartOfTheNewDay) {
  const WallTime midnight = utc(2026, 11, 22);
  EXPECT_EQ(period_start(BudgetPeriod::Day, midnight), midnight);
  EXPECT_EQ(next_period_start(BudgetPeriod::Day, midnight), utc(2026, 11, 23));
  // One nanosecond before still belongs to the old day.
  EXPECT_EQ(period_start(BudgetPeriod::Day, midnight - 1ns), utc(2026, 11, 21));
  EXPECT_EQ(next_period_start(BudgetPeriod::Day, midnight - 1ns), midnight);
}

TEST(BudgetPeriods, LastDayOfMonthRollsIntoTheFirst) {
  const WallTime now = utc(2026, 4, 30, 23, 59, 59);
  EXPECT_EQ(next_period_start(BudgetPeriod::Day, now), utc(2026, 5, 1));
  EXPECT_EQ(period_start(BudgetPeriod::Month, now), utc(2026, 4, 1));
  EXPECT_EQ(next_period_start(BudgetPeriod::Month, now), utc(2026, 5, 1));
  // A 31-day month.
  EXPECT_EQ(next_period_start(BudgetPeriod::Month, utc(2026, 1, 31, 12)), utc(2026, 2, 1));
}

TEST(BudgetPeriods, FebruaryInALeapYearHas29Days) {
  EXPECT_EQ(next_period_start(BudgetPeriod::Day, utc(2028, 2, 28, 10)), utc(2028, 2, 29));
  EXPECT_EQ(next_period_start(BudgetPeriod::Day, utc(2028, 2, 29, 10)), utc(2028, 3, 1));
  EXPECT_EQ(period_start(BudgetPeriod::Month, utc(2028, 2, 29, 23, 59, 59)), utc(2028, 2, 1));
  EXPECT_EQ(next_period_start(BudgetPeriod::Month, utc(2028, 2, 29, 23, 59, 59)), utc(2028, 3, 1));
  // 2000 is a leap year (divisible by 400).
  EXPECT_EQ(next_period_start(BudgetPeriod::Day, utc(2000, 2, 28)), utc(2000, 2, 29));
}

TEST(BudgetPeriods, FebruaryInOtherYearsHas28Days) {
  EXPECT_EQ(next_period_start(BudgetPeriod::Day, utc(2026, 2, 28, 10)), utc(2026, 3, 1));
  EXPECT_EQ(next_period_start(BudgetPeriod::Month, utc(2026, 2, 28, 10)), utc(2026, 3, 1));
  // 2100 is not (divisible by 100, not by 400).
  EXPECT_EQ(next_period_start(BudgetPeriod::Day, utc(2100, 2, 28)), utc(2100, 3, 1));
}

TEST(BudgetPeriods, DecemberRollsIntoJanuaryOfTheNextYear) {
  const WallTime now = utc(2026, 12, 31, 23, 59, 59);
  EXPECT_EQ(next_period_start(BudgetPeriod::Day, now), utc(2027, 1, 1));
  EXPECT_EQ(period_start(BudgetPeriod::Month, now), utc(2026, 12, 1));
  EXPECT_EQ(next_period_start(BudgetPeriod::Month, now), utc(2027, 1, 1));
  EXPECT_EQ(period_start(BudgetPeriod::Month, utc(2027, 1, 1)), utc(2027, 1, 1));
}

TEST(BudgetPeriods, TotalStartsAtTheEpochAndNeverResets) {
  EXPECT_EQ(period_start(BudgetPeriod::Total, utc(2026, 11, 21, 9)), WallTime{});
  EXPECT_EQ(next_period_start(BudgetPeriod::Total, utc(2026, 11, 21, 9)), std::nullopt);
}

TEST(SpendAccount, SpendIsCountedInEveryPeriodAtOnce) {
  SpendAccount a;
  const WallTime t = utc(2026, 11, 21, 10);
  a.charge(0.25, t);
  a.charge(0.50, t + 1h);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Day, t + 2h), 0.75);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Month, t + 2h), 0.75);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Total, t + 2h), 0.75);
}

TEST(SpendAccount, ANewDayStartsAtZeroButTheMonthKeepsItsSpend) {
  SpendAccount a;
  a.charge(0.40, utc(2026, 11, 21, 23, 59, 59));
  const WallTime after = utc(2026, 11, 22);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Day, after), 0.0);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Month, after), 0.40);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Total, after), 0.40);
  a.charge(0.10, after + 1s);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Day, after + 2s), 0.10);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Month, after + 2s), 0.50);
}

TEST(SpendAccount, ANewMonthStartsAtZeroButTheTotalKeepsItsSpend) {
  SpendAccount a;
  a.charge(0.40, utc(2026, 11, 30, 18));
  a.charge(0.20, utc(2026, 12, 1, 6));
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Day, utc(2026, 12, 1, 7)), 0.20);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Month, utc(2026, 12, 1, 7)), 0.20);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Total, utc(2026, 12, 1, 7)), 0.60);
}

TEST(SpendAccount, TheSameDayOfAnotherMonthIsANewDay) {
  // Day 21 of November and day 21 of December must not be confused.
  SpendAccount a;
  a.charge(0.30, utc(2026, 11, 21, 12));
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Day, utc(2026, 12, 21, 12)), 0.0);
}

TEST(SpendAccount, AnEarlierClockReadingDoesNotWipeTheNewPeriod) {
  // A worker that read the clock just before midnight arrives after one that read it just
  // after: its charge joins the new day instead of resetting it.
  SpendAccount a;
  a.charge(0.30, utc(2026, 11, 22, 0, 0, 1));
  a.charge(0.20, utc(2026, 11, 21, 23, 59, 59));
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Day, utc(2026, 11, 22, 0, 0, 2)), 0.50);
}

TEST(SpendAccount, AdmitsUpToExactlyTheBudgetAndRefusesBeyond) {
  SpendAccount a;
  const WallTime t = utc(2026, 11, 21, 10);
  a.charge(0.70, t);
  SpendAccount::Reservation r;
  EXPECT_EQ(a.reserve(kDaily, 0.31, t, &r), SpendAccount::Admission::OverBudget);
  EXPECT_DOUBLE_EQ(r.usd, 0.0);
  EXPECT_DOUBLE_EQ(a.reserved(), 0.0);  // a refusal holds nothing
  EXPECT_EQ(a.reserve(kDaily, 0.30, t, &r), SpendAccount::Admission::Admitted);
  EXPECT_DOUBLE_EQ(r.usd, 0.30);
  EXPECT_DOUBLE_EQ(a.reserved(), 0.30);
  // Spent + reserved is now the budget: even a tiny request is refused.
  SpendAccount::Reservation r2;
  EXPECT_EQ(a.reserve(kDaily, 0.0001, t, &r2), SpendAccount::Admission::OverBudget);
}

TEST(SpendAccount, DecimalPricesThatSumToTheBudgetAreAdmitted) {
  // 0.1 + 0.1 + 0.1 is 0.30000000000000004 in binary; the third request is still within $0.30.
  SpendAccount a;
  const WallTime t = utc(2026, 11, 21, 10);
  const BudgetLimit limit{0.30, BudgetPeriod::Day};
  for (int i = 0; i < 3; ++i) {
    SpendAccount::Reservation r;
    ASSERT_EQ(a.reserve(limit, 0.1, t, &r), SpendAccount::Admission::Admitted) << i;
    a.settle(r, 0.1, t);
  }
  SpendAccount::Reservation r;
  EXPECT_EQ(a.reserve(limit, 0.01, t, &r), SpendAccount::Admission::OverBudget);
}

TEST(SpendAccount, ReservationsInFlightCountAgainstTheBudget) {
  SpendAccount a;
  const WallTime t = utc(2026, 11, 21, 10);
  SpendAccount::Reservation r1, r2, r3;
  EXPECT_EQ(a.reserve(kDaily, 0.40, t, &r1), SpendAccount::Admission::Admitted);
  EXPECT_EQ(a.reserve(kDaily, 0.40, t, &r2), SpendAccount::Admission::Admitted);
  EXPECT_EQ(a.reserve(kDaily, 0.40, t, &r3), SpendAccount::Admission::OverBudget);
}

TEST(SpendAccount, SettleReleasesTheWorstCaseAndChargesTheActualCost) {
  SpendAccount a;
  const WallTime t = utc(2026, 11, 21, 10);
  SpendAccount::Reservation r;
  ASSERT_EQ(a.reserve(kDaily, 0.60, t, &r), SpendAccount::Admission::Admitted);
  SpendAccount::Reservation refused;
  EXPECT_EQ(a.reserve(kDaily, 0.50, t, &refused), SpendAccount::Admission::OverBudget);
  a.settle(r, 0.05, t + 1s);
  EXPECT_DOUBLE_EQ(a.reserved(), 0.0);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Day, t + 1s), 0.05);
  // The released headroom admits what was refused before.
  EXPECT_EQ(a.reserve(kDaily, 0.50, t + 2s, &refused), SpendAccount::Admission::Admitted);
}

TEST(SpendAccount, AFailedRequestSettledAtZeroCostsNothing) {
  SpendAccount a;
  const WallTime t = utc(2026, 11, 21, 10);
  SpendAccount::Reservation r;
  ASSERT_EQ(a.reserve(kDaily, 1.00, t, &r), SpendAccount::Admission::Admitted);
  a.settle(r, 0.0, t);
  const SpendAccount::View v = a.view(kDaily, t);
  EXPECT_DOUBLE_EQ(v.spent_usd, 0.0);
  EXPECT_DOUBLE_EQ(v.reserved_usd, 0.0);
  EXPECT_DOUBLE_EQ(v.remaining_usd, 1.0);
}

TEST(SpendAccount, SettleAfterMidnightChargesTheNewDay) {
  SpendAccount a;
  const WallTime before = utc(2026, 11, 21, 23, 59, 58);
  a.charge(0.50, before);
  SpendAccount::Reservation r;
  ASSERT_EQ(a.reserve(kDaily, 0.40, before, &r), SpendAccount::Admission::Admitted);
  const WallTime after = utc(2026, 11, 22, 0, 0, 3);
  a.settle(r, 0.25, after);
  EXPECT_DOUBLE_EQ(a.reserved(), 0.0);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Day, after), 0.25);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Month, after), 0.75);
}

TEST(SpendAccount, ARefusedAgentIsAdmittedAgainInTheNextPeriod) {
  SpendAccount a;
  a.charge(1.00, utc(2026, 11, 21, 20));
  SpendAccount::Reservation r;
  EXPECT_EQ(a.reserve(kDaily, 0.10, utc(2026, 11, 21, 23, 59, 59), &r),
            SpendAccount::Admission::OverBudget);
  EXPECT_EQ(a.reserve(kDaily, 0.10, utc(2026, 11, 22), &r), SpendAccount::Admission::Admitted);
  // A monthly budget does not reset at midnight, only on the 1st.
  SpendAccount m;
  m.charge(1.00, utc(2026, 11, 21, 20));
  EXPECT_EQ(m.reserve(kMonthly, 0.10, utc(2026, 11, 22), &r), SpendAccount::Admission::OverBudget);
  EXPECT_EQ(m.reserve(kMonthly, 0.10, utc(2026, 12, 1), &r), SpendAccount::Admission::Admitted);
  // A total budget never does.
  SpendAccount t;
  t.charge(1.00, utc(2026, 11, 21, 20));
  EXPECT_EQ(t.reserve(kTotal, 0.10, utc(2030, 1, 1), &r), SpendAccount::Admission::OverBudget);
}

TEST(SpendAccount, AnInfiniteOrNegativeWorstCaseNeitherAdmitsForeverNorCredits) {
  SpendAccount a;
  const WallTime t = utc(2026, 11, 21, 10);
  SpendAccount::Reservation r;
  EXPECT_EQ(a.reserve(kDaily, std::numeric_limits<double>::infinity(), t, &r),
            SpendAccount::Admission::OverBudget);
  EXPECT_EQ(a.reserve(kDaily, -5.0, t, &r), SpendAccount::Admission::Admitted);
  EXPECT_DOUBLE_EQ(r.usd, 0.0);
  a.charge(-3.0, t);
  a.settle(r, std::nan(""), t);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Total, t), 0.0);
}

TEST(SpendAccount, SeedReplacesTheTotalsForTheCurrentPeriods) {
  SpendAccount a;
  const WallTime t = utc(2026, 11, 21, 10);
  a.charge(9.0, t - 48h);
  a.seed(0.80, 3.50, 12.25, t);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Day, t), 0.80);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Month, t), 3.50);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Total, t), 12.25);
  SpendAccount::Reservation r;
  EXPECT_EQ(a.reserve(kDaily, 0.21, t, &r), SpendAccount::Admission::OverBudget);
  EXPECT_EQ(a.reserve(kDaily, 0.20, t, &r), SpendAccount::Admission::Admitted);
  // The seeded day is still today's: it rolls over at midnight like any other spend.
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Day, utc(2026, 11, 22)), 0.0);
  EXPECT_DOUBLE_EQ(a.spent(BudgetPeriod::Month, utc(2026, 11, 22)), 3.50);
}

TEST(SpendAccount, ViewShowsThePeriodItsSpendAndWhenItResets) {
  SpendAccount a;
  const WallTime t = utc(2026, 11, 21, 10);
  a.charge(0.30, t);
  SpendAccount::Reservation r;
  ASSERT_EQ(a.reserve(kDaily, 0.20, t, &r), SpendAccount::Admission::Admitted);
  SpendAccount::View day = a.view(kDaily, t);
  EXPECT_DOUBLE_EQ(day.spent_usd, 0.30);
  EXPECT_DOUBLE_EQ(day.reserved_usd, 0.20);
  EXPECT_DOUBLE_EQ(day.remaining_usd, 0.50);
  EXPECT_EQ(day.period_start, utc(2026, 11, 21));
  EXPECT_EQ(day.resets_at, utc(2026, 11, 22));
  SpendAccount::View total = a.view(kTotal, t);
  EXPECT_EQ(total.resets_at, std::nullopt);
  // Over budget (the limit was lowered by a reload): remaining is 0, not negative.
  SpendAccount::View lowered = a.view(BudgetLimit{0.10, BudgetPeriod::Month}, t);
  EXPECT_DOUBLE_EQ(lowered.remaining_usd, 0.0);
  EXPECT_EQ(lowered.period_start, utc(2026, 11, 1));
  EXPECT_EQ(lowered.resets_at, utc(2026, 12, 1));
}

TEST(SpendAccount, TwoThreadsNeverOverAdmitOneBudget) {
  // Each thread reserves a worst case, and holds it (never settles) — the sum of everything
  // admitted must stay within the budget however the two interleave, and the budget must be
  // used up (not refused early).
  SpendAccount a;
  const WallTime t = utc(2026, 11, 21, 10);
  const BudgetLimit limit{10.0, BudgetPeriod::Day};
  constexpr double kWorst = 0.003;
  std::atomic<int> admitted[2] = {0, 0};
  std::atomic<bool> go{false};
  auto run = [&](int id) {
    while (!go.load()) std::this_thread::yield();
    for (int i = 0; i < 5000; ++i) {
      SpendAccount::Reservation r;
      if (a.reserve(limit, kWorst, t, &r) == SpendAccount::Admission::Admitted) ++admitted[id];
    }
  };
  std::thread t1(run, 0), t2(run, 1);
  go = true;
  t1.join();
  t2.join();
  const int total = admitted[0] + admitted[1];
  EXPECT_LE(total * kWorst, limit.usd + 1e-9);
  EXPECT_EQ(total, 3333);  // floor(10 / 0.003): every request that fit was admitted
  EXPECT_NEAR(a.reserved(), total * kWorst, 1e-6);
}

TEST(SpendAccount, ThreadsSettlingWhileOthersReserveKeepTheBooksExact) {
  SpendAccount a;
  const WallTime t = utc(2026, 11, 21, 10);
  const BudgetLimit limit{1.0, BudgetPeriod::Total};
  std::atomic<int> settled{0};
  auto run = [&] {
    for (int i = 0; i < 20000; ++i) {
      SpendAccount::Reservation r;
      if (a.reserve(limit, 0.5, t, &r) == SpendAccount::Admission::Admitted) {
        a.settle(r, 0.0001, t);
        ++settled;
      }
    }
  };
  std::thread t1(run), t2(run);
  t1.join();
  t2.join();
  EXPECT_DOUBLE_EQ(a.reserved(), 0.0);
  EXPECT_NEAR(a.spent(BudgetPeriod::Total, t), settled * 0.0001, 1e-9);
  // 40000 tries could have spent $4: admission (spent + reserved + 0.5 <= 1) stopped them once
  // the spend reached $0.50, one request's actual cost at most past it.
  EXPECT_GE(a.spent(BudgetPeriod::Total, t), 0.5 - 0.0001 - 1e-9);
  EXPECT_LE(a.spent(BudgetPeriod::Total, t), 0.5 + 0.0001 + 1e-9);
}

}  // namespace
}  // namespace sluice::state
