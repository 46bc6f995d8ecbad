#include "core/state/spend_account.h"

#include <algorithm>
#include <cmath>

namespace sluice::state {
namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::sys_days;
using std::chrono::year_month_day;

// Sums of decimal prices are not exact in binary (0.01 + 0.01 + 0.01 > 0.03), so a request
// whose worst case brings the total to exactly the budget would be refused by a rounding
// error. Comparisons allow one nano-dollar — far below any price a provider charges.
constexpr double kToleranceUsd = 1e-9;

// UTC calendar math on whole days since the epoch (sys_days): no timegm, no TZ, and floor()
// rounds times before the epoch down rather than toward zero.
sys_days utc_day(WallTime now) {
  return floor<days>(now);
}

int64_t day_key_of(WallTime now) {
  return utc_day(now).time_since_epoch().count();
}

int64_t month_key_of(WallTime now) {
  const year_month_day ymd{utc_day(now)};
  return static_cast<int64_t>(static_cast<int>(ymd.year())) * 12 +
         static_cast<unsigned>(ymd.month()) - 1;
}

sys_days first_of_month(WallTime now) {
  const year_month_day ymd{utc_day(now)};
  return sys_days{ymd.year() / ymd.month() / 1};
}

// An amount that cannot be a cost (negative, NaN) counts as nothing: a bug upstream must not
// credit an agent's budget back or poison its totals.
double as_cost(double usd) {
  return usd >= 0 ? usd : 0;
}

}  // namespace

WallTime wall_now() {
  return std::chrono::system_clock::now();
}

const char* to_string(BudgetPeriod p) {
  switch (p) {
    case BudgetPeriod::Day:
      return "day";
    case BudgetPeriod::Month:
      return "month";
    case BudgetPeriod::Total:
      return "total";
  }
  return "day";
}

std::optional<BudgetPeriod> budget_period_of(std::string_view s) {
  if (s == "day") return BudgetPeriod::Day;
  if (s == "month") return BudgetPeriod::Month;
  if (s == "total") return BudgetPeriod::Total;
  return std::nullopt;
}

WallTime period_start(BudgetPeriod per, WallTime now) {
  switch (per) {
    case BudgetPeriod::Day:
      return utc_day(now);
    case BudgetPeriod::Month:
      return first_of_month(now);
    case BudgetPeriod::Total:
      return WallTime{};
  }
  return WallTime{};
}

std::optional<WallTime> next_period_start(BudgetPeriod per, WallTime now) {
  switch (per) {
    case BudgetPeriod::Day:
      return utc_day(now) + days{1};
    case BudgetPeriod::Month: {
      const year_month_day ymd{utc_day(now)};
      const auto next = std::chrono::year_month{ymd.year(), ymd.month()} + std::chrono::months{1};
      return sys_days{next / 1};
    }
    case BudgetPeriod::Total:
      return std::nullopt;
  }
  return std::nullopt;
}

// Periods only roll forward. Two workers read the clock a moment apart around midnight: the
// one that read 23:59:59.999 may reach the account after the one that read 00:00:00.001 has
// already started the new day; its call then belongs to the newer period rather than wiping
// the new day's spend by "rolling back". The same holds for a wall clock stepped backwards.
void SpendAccount::roll(WallTime now) const {
  const int64_t day = day_key_of(now);
  if (day > day_key_) {
    day_key_ = day;
    day_usd_ = 0;
  }
  const int64_t month = month_key_of(now);
  if (month > month_key_) {
    month_key_ = month;
    month_usd_ = 0;
  }
}

SpendAccount::Admission SpendAccount::reserve(const BudgetLimit& limit, double worst_case_usd,
                                              WallTime now, Reservation* out) {
  const double worst = as_cost(worst_case_usd);
  std::lock_guard lock(mutex_);
  roll(now);
  const double spent = limit.per == BudgetPeriod::Day     ? day_usd_
                       : limit.per == BudgetPeriod::Month ? month_usd_
                                                          : total_usd_;
  // Written as "would pass" so an infinite worst case refuses.
  if (!(spent + reserved_usd_ + worst <= limit.usd + kToleranceUsd)) {
    if (out != nullptr) out->usd = 0;
    return Admission::OverBudget;
  }
  reserved_usd_ += worst;
  if (out != nullptr) out->usd = worst;
  return Admission::Admitted;
}

void SpendAccount::settle(const Reservation& reservation, double actual_usd, WallTime now) {
  const double cost = as_cost(actual_usd);
  std::lock_guard lock(mutex_);
  roll(now);
  reserved_usd_ -= reservation.usd;
  // Adding and removing the same doubles in another order can leave a residue either side of
  // zero; nothing is in flight when it is that small.
  if (reserved_usd_ < kToleranceUsd) reserved_usd_ = 0;
  day_usd_ += cost;
  month_usd_ += cost;
  total_usd_ += cost;
}

void SpendAccount::charge(double actual_usd, WallTime now) {
  const double cost = as_cost(actual_usd);
  std::lock_guard lock(mutex_);
  roll(now);
  day_usd_ += cost;
  month_usd_ += cost;
  total_usd_ += cost;
}

void SpendAccount::seed(double day_usd, double month_usd, double total_usd, WallTime now) {
  std::lock_guard lock(mutex_);
  day_key_ = day_key_of(now);
  month_key_ = month_key_of(now);
  day_usd_ = as_cost(day_usd);
  month_usd_ = as_cost(month_usd);
  total_usd_ = as_cost(total_usd);
}

SpendAccount::View SpendAccount::view(const BudgetLimit& limit, WallTime now) const {
  View v;
  {
    std::lock_guard lock(mutex_);
    roll(now);
    v.spent_usd = limit.per == BudgetPeriod::Day     ? day_usd_
                  : limit.per == BudgetPeriod::Month ? month_usd_
                                                     : total_usd_;
    v.reserved_usd = reserved_usd_;
  }
  v.remaining_usd = std::max(0.0, limit.usd - v.spent_usd - v.reserved_usd);
  if (v.remaining_usd < kToleranceUsd) v.remaining_usd = 0;
  v.period_start = period_start(limit.per, now);
  v.resets_at = next_period_start(limit.per, now);
  return v;
}

double SpendAccount::spent(BudgetPeriod per, WallTime now) const {
  std::lock_guard lock(mutex_);
  roll(now);
  switch (per) {
    case BudgetPeriod::Day:
      return day_usd_;
    case BudgetPeriod::Month:
      return month_usd_;
    case BudgetPeriod::Total:
      return total_usd_;
  }
  return 0;
}

double SpendAccount::reserved() const {
  std::lock_guard lock(mutex_);
  return reserved_usd_;
}

}  // namespace sluice::state
