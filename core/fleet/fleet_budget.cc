#include "core/fleet/fleet_budget.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "core/fleet/fleet_process.h"
#include "core/fleet/fleet_scripts.h"
#include "core/fleet/fleet_worker.h"
#include "core/fleet/script_args.h"

namespace sluice::fleet {

namespace {

using std::chrono::milliseconds;

constexpr double kAccuracy = 0.01;

double to_double(const redis::RedisReply& r) {
  if (r.type == redis::RedisReply::Type::Integer) return static_cast<double>(r.integer);
  return std::strtod(r.str.c_str(), nullptr);
}

// How long a period's spend hash is kept after its last write.
int64_t spend_ttl_ms(state::BudgetPeriod per) {
  switch (per) {
    case state::BudgetPeriod::Day:
      return int64_t{2} * 86'400'000;
    case state::BudgetPeriod::Month:
      return int64_t{40} * 86'400'000;
    case state::BudgetPeriod::Total:
      return 0;  // kept
  }
  return 0;
}

}  // namespace

FleetBudget::FleetBudget(FleetWorker& worker, std::string agent, state::AgentState* local)
    : worker_(worker), agent_(std::move(agent)), local_(local), spend_(&local->spend()) {}

std::string FleetBudget::spend_key(state::WallTime now) const {
  const auto start = std::chrono::duration_cast<std::chrono::seconds>(
                         state::period_start(limit_.per, now).time_since_epoch())
                         .count();
  return worker_.key("spend", agent_) + ":" + state::to_string(limit_.per) + ":" +
         std::to_string(start);
}

double FleetBudget::lease_size() const {
  return limit_.usd * kAccuracy / worker_.process().members();
}

FleetBudget::View FleetBudget::view(const state::BudgetLimit& limit) const {
  View v;
  v.spent_usd =
      fleet_spent_ + std::max(0.0, spend_->spent(limit.per, state::wall_now()) - spent_at_answer_);
  v.reserved_usd = others_held_ + held_;
  v.remaining_usd = std::max(0.0, limit.usd - v.spent_usd - v.reserved_usd);
  return v;
}

FleetStep FleetBudget::reserve(const state::BudgetLimit& limit, double worst_usd, FleetWaiter* w,
                               Reservation* out) {
  const uint64_t queued = w->queued_epoch;
  w->queued_epoch = 0;
  limit_ = limit;
  has_limit_ = true;
  const state::WallTime wall = state::wall_now();
  if (!worker_.shared()) {
    if (worker_.deny_on_failure()) return FleetStep::Unavailable;
    // This sidecar's share of what the fleet had left when Redis last answered.
    const double mine = spend_->spent(limit.per, wall);
    const double fleet_spent = answered_ ? fleet_spent_ : mine;
    const double base = answered_ ? spent_at_answer_ : mine;
    const double share =
        base + std::max(0.0, limit.usd - fleet_spent - (answered_ ? others_held_ : 0.0)) /
                   worker_.process().instances();
    if (spend_->reserve(state::BudgetLimit{share, limit.per}, worst_usd, wall, &out->local) !=
        state::SpendAccount::Admission::Admitted) {
      return FleetStep::Refused;
    }
    out->where = Where::Local;
    out->worst_usd = worst_usd;
    return FleetStep::AdmittedLocally;
  }
  last_use_ = worker_.now();
  if (reserved_ + worst_usd <= held_) {
    reserved_ += worst_usd;
    out->where = Where::Fleet;
    out->worst_usd = worst_usd;
    worker_.want_flush(kIdleReturn);
    return FleetStep::Admitted;
  }
  if (queued != 0 && short_epoch_ >= queued) return FleetStep::Refused;
  w->queued_epoch = epoch_ + 1;
  w->wants = worst_usd;
  waiters_.push_back(w);
  waiting_ += worst_usd;
  if (!calling_) call(reserved_ + waiting_ + lease_size());
  return FleetStep::Wait;
}

void FleetBudget::cancel(FleetWaiter* w) {
  if (w->linked()) {
    waiters_.remove(w);
    waiting_ = std::max(0.0, waiting_ - w->wants);
  }
  w->queued_epoch = 0;
}

void FleetBudget::settle(const Reservation& r, double actual_usd) {
  const state::WallTime wall = state::wall_now();
  if (r.where == Where::Local) {
    spend_->settle(r.local, actual_usd, wall);
    mark_dirty();  // the spend reaches Redis once it answers again
    return;
  }
  if (r.where != Where::Fleet) return;
  reserved_ = std::max(0.0, reserved_ - r.worst_usd);
  // The block pays for it: the spend grows by what the block shrinks, so the sum Redis
  // sees (spend + holdings) is right before and after the next call.
  held_ = std::max(0.0, held_ - actual_usd);
  if (calling_) settled_during_call_ += actual_usd;  // the answer's grant predates it
  spend_->charge(actual_usd, wall);
  mark_dirty();
}

void FleetBudget::charge(double actual_usd) {
  if (actual_usd <= 0) return;
  spend_->charge(actual_usd, state::wall_now());
  if (has_limit_) mark_dirty();
}

void FleetBudget::mark_dirty() {
  if (!dirty_) {
    dirty_ = true;
    dirty_since_ = worker_.now();
  }
  worker_.want_flush(kFlushDelay);
}

bool FleetBudget::flush(state::SteadyTime now) {
  if (!has_limit_) return false;
  if (calling_) return true;
  const bool idle = held_ > reserved_ && now - last_use_ >= kIdleReturn;
  // Settled costs leave the block larger than the requests in flight need: keep one lease
  // beyond them, so no member sits on more than that while others are refused.
  const double keep = reserved_ + lease_size();
  const bool oversized = held_ > keep + 1e-12;
  // Changes wait kFlushDelay for a call to ride on (a flush for another member's sake does not
  // send them early: one call per request would cost more than the request).
  const bool due = dirty_ && now - dirty_since_ >= kFlushDelay;
  if (!due && !idle && !oversized) return dirty_ || held_ > reserved_;
  if (!worker_.shared()) return true;
  call(idle ? reserved_ : std::min(held_, keep));
  return true;
}

void FleetBudget::call(double want) {
  calling_ = true;
  dirty_ = false;
  const state::WallTime wall = state::wall_now();
  const std::string spend = spend_key(wall);
  const std::string held = worker_.key("held", agent_);
  const std::string members = worker_.key("members", "");
  ArgBuffer b1, b2, b3, b4, b5;
  const std::string_view keys[] = {spend, held, members};
  const std::string_view args[] = {worker_.process().spender(),
                                   arg(b1, spend_->spent(limit_.per, wall)),
                                   worker_.member(),
                                   arg(b2, want),
                                   arg(b3, reserved_),
                                   arg(b4, limit_.usd),
                                   arg(b5, spend_ttl_ms(limit_.per))};
  worker_.client().eval(scripts::budget(), keys, args,
                        [this, want](redis::RedisResult&& r) { on_answer(std::move(r), want); });
}

void FleetBudget::on_answer(redis::RedisResult&& result, double want) {
  calling_ = false;
  ++epoch_;
  const auto& e = result.reply.elements;
  if (result.ok() && e.size() == 3) {
    held_ = std::max(0.0, to_double(e[0]) - settled_during_call_);
    if (settled_during_call_ > 0) mark_dirty();
    fleet_spent_ = to_double(e[1]);
    others_held_ = to_double(e[2]);
    const state::WallTime wall = state::wall_now();
    spent_at_answer_ = spend_->spent(limit_.per, wall);
    answered_ = true;
    local_->set_fleet_budget({true, fleet_spent_, others_held_ + held_, spent_at_answer_,
                              std::chrono::duration_cast<std::chrono::seconds>(
                                  state::period_start(limit_.per, wall).time_since_epoch())
                                  .count()});
    if (held_ + 1e-12 < want) short_epoch_ = epoch_;
    worker_.call_answered();
  } else {
    mark_dirty();  // not known to have arrived: send the spend again later
    worker_.call_failed(result);
  }
  settled_during_call_ = 0;
  waiting_ = 0;
  wake_all(waiters_);
  if (!calling_ && (dirty_ || held_ > reserved_)) worker_.want_flush(kFlushDelay);
}

}  // namespace sluice::fleet
