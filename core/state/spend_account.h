// SpendAccount: what one agent has spent, in USD, for the budget periods of DESIGN §4
// (agents.*.budget: {usd, per: day | month | total}, UTC), plus what its requests in flight
// have reserved. Shared by every worker, kept across reloads (keyed by agent name in
// ProcessState, like the rate buckets), and rebuilt from the ledger at start-up (seed()).
//
// Spend is tracked for every agent, budget or not, and for all three periods at once, so a
// reload that adds a budget or changes `per` applies at once to the spend so far — no ledger
// read on reload.
//
// The protocol (filters/cost):
//   admission:  reserve(limit, worst_case_usd, now)  → Admitted (holds a Reservation) or
//               OverBudget (nothing held; the request is refused with 429 budget_exceeded and
//               retry-after = next_period_start(limit.per, now) - now);
//   completion: settle(reservation, actual_usd, now) — releases the reservation and adds the
//               actual cost to the current day, month and total. Called exactly once per
//               Admitted reservation, also for requests that failed or were abandoned (with the
//               cost that was charged, possibly 0).
//   no budget:  charge(actual_usd, now) — adds spend without a reservation.
//
// Periods roll over lazily: every call compares the UTC day / month of `now` with the ones the
// totals belong to and starts a fresh total when they differ. A reservation made before
// midnight and settled after it is released from the in-flight sum (which has no period) and
// its cost lands in the new day. `now` is passed in (never read inside), so tests drive the
// clock (see WallClock).
//
// Thread-safety: one mutex per account, held for a few arithmetic operations; no global lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>

namespace sluice::state {

using WallTime = std::chrono::system_clock::time_point;
// The clock budgets use: the real one in production, a test's in unit tests.
using WallClock = WallTime (*)();
WallTime wall_now();

enum class BudgetPeriod : uint8_t {
  Day,    // the UTC calendar day: resets at 00:00:00 UTC
  Month,  // the UTC calendar month: resets at 00:00:00 UTC on the 1st
  Total,  // never resets
};
const char* to_string(BudgetPeriod p);  // "day" | "month" | "total"
std::optional<BudgetPeriod> budget_period_of(std::string_view s);

// Start of the period `now` lies in (Total: the epoch) and of the next one (Total: nullopt).
WallTime period_start(BudgetPeriod per, WallTime now);
std::optional<WallTime> next_period_start(BudgetPeriod per, WallTime now);

struct BudgetLimit {
  double usd = 0;
  BudgetPeriod per = BudgetPeriod::Day;
};

class SpendAccount {
 public:
  // What an admitted request holds until settle().
  struct Reservation {
    double usd = 0;
  };
  enum class Admission : uint8_t {
    Admitted,    // spent + reserved + worst case <= budget: the worst case is now reserved
    OverBudget,  // it would pass the budget: nothing reserved
  };
  // What /status and the gauge show for one agent under `limit`.
  struct View {
    double spent_usd = 0;      // in the current period of limit.per
    double reserved_usd = 0;   // held by requests in flight
    double remaining_usd = 0;  // max(0, limit - spent - reserved)
    WallTime period_start;
    std::optional<WallTime> resets_at;  // nullopt for Total
  };

  SpendAccount() = default;
  SpendAccount(const SpendAccount&) = delete;
  SpendAccount& operator=(const SpendAccount&) = delete;

  Admission reserve(const BudgetLimit& limit, double worst_case_usd, WallTime now,
                    Reservation* out);
  void settle(const Reservation& reservation, double actual_usd, WallTime now);
  void charge(double actual_usd, WallTime now);

  // Start-up: the spend the ledger holds for the current day, month and all time (replaces
  // the totals; call before the first request).
  void seed(double day_usd, double month_usd, double total_usd, WallTime now);

  View view(const BudgetLimit& limit, WallTime now) const;
  double spent(BudgetPeriod per, WallTime now) const;
  double reserved() const;

 private:
  void roll(WallTime now) const;  // caller holds mutex_

  mutable std::mutex mutex_;
  // The day (days since the epoch) and month (year * 12 + month - 1) the totals belong to.
  mutable int64_t day_key_ = INT64_MIN;
  mutable int64_t month_key_ = INT64_MIN;
  mutable double day_usd_ = 0;
  mutable double month_usd_ = 0;
  double total_usd_ = 0;
  double reserved_usd_ = 0;
};

}  // namespace sluice::state
