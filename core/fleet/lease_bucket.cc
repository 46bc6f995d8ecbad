#include "core/fleet/lease_bucket.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/fleet/fleet_process.h"
#include "core/fleet/fleet_scripts.h"
#include "core/fleet/fleet_worker.h"
#include "core/fleet/script_args.h"

namespace sluice::fleet {

namespace {

using std::chrono::milliseconds;

// rpm and tpm are per minute.
constexpr milliseconds kPeriod{60'000};
// A block, as a share of the limit over all members. A member fetches the next block when
// less than half a block is left, so it holds under 1.5 blocks: the fleet holds under 0.75%
// of the limit unused (the error bound, within 1%).
constexpr double kLeaseShare = 0.005;

}  // namespace

LeaseBucket::LeaseBucket(FleetWorker& worker, std::string key, state::RateBucket* local)
    : worker_(worker), key_(std::move(key)), local_(local) {}

uint64_t LeaseBucket::lease_size(uint64_t limit) const {
  const double share = static_cast<double>(limit) * kLeaseShare / worker_.process().members();
  return std::max<uint64_t>(1, static_cast<uint64_t>(share));
}

state::BucketReading LeaseBucket::reading(uint64_t limit, state::SteadyTime now) const {
  state::BucketReading r;
  r.limit = limit;
  if (limit == 0) return r;
  const double elapsed_ms = std::chrono::duration<double, std::milli>(now - level_at_).count();
  double level = fleet_level_ - std::max(0.0, elapsed_ms) * static_cast<double>(limit) /
                                    static_cast<double>(kPeriod.count());
  level = std::max(0.0, level);
  r.remaining = level >= static_cast<double>(limit)
                    ? 0
                    : static_cast<uint64_t>(static_cast<double>(limit) - level);
  r.reset_after = milliseconds(static_cast<int64_t>(
      std::ceil(level * static_cast<double>(kPeriod.count()) / static_cast<double>(limit))));
  return r;
}

state::BucketReading LeaseBucket::peek(uint64_t limit) {
  const state::SteadyTime now = worker_.now();
  if (!worker_.shared() && local_ != nullptr) {
    const uint64_t share = std::max<uint64_t>(1, limit / worker_.process().instances());
    return local_->peek(share, kPeriod, now);
  }
  return reading(limit, now);
}

FleetStep LeaseBucket::take(uint64_t cost, uint64_t limit, FleetWaiter* w,
                            state::BucketReading* out) {
  const state::SteadyTime now = worker_.now();
  if (!worker_.shared()) {
    if (worker_.deny_on_failure() || local_ == nullptr) return FleetStep::Unavailable;
    // This sidecar's share of the limit: the fleet's size as last seen decides it.
    const uint64_t share = std::max<uint64_t>(1, limit / worker_.process().instances());
    *out = local_->try_take(std::min(cost, share), share, kPeriod, now);
    if (!out->allowed) return FleetStep::Refused;
    add_unsynced(static_cast<int64_t>(cost));  // merged into the fleet's bucket on recovery
    limit_ = limit;
    worker_.want_flush(kFlushDelay);
    return FleetStep::AdmittedLocally;
  }
  limit_ = limit;
  if (balance_ >= cost) {
    balance_ -= cost;
    last_take_ = now;
    *out = reading(limit, now);
    out->allowed = true;
    const uint64_t lease = lease_size(limit);
    // Keep a block ahead, so the next request need not wait for Redis.
    if (!calling_ && balance_ * 2 < lease && (now >= refused_until_ || limit != refused_limit_)) {
      call(lease, 0);
    }
    if (balance_ > 0) worker_.want_flush(kIdleReturn);  // an unused block goes back
    return FleetStep::Admitted;
  }
  if (now < refused_until_ && limit == refused_limit_) {  // a reload's new limit asks again
    *out = reading(limit, now);
    out->allowed = false;
    out->retry_after = std::chrono::duration_cast<milliseconds>(refused_until_ - now);
    if (out->retry_after.count() < 1) out->retry_after = milliseconds(1);
    return FleetStep::Refused;
  }
  w->wants = static_cast<double>(cost);
  waiters_.push_back(w);
  waiting_ += cost;
  if (!calling_) {
    const uint64_t need = cost - balance_;
    call(waiting_ - std::min(waiting_, balance_) + lease_size(limit), need);
  }
  return FleetStep::Wait;
}

void LeaseBucket::cancel(FleetWaiter* w) {
  if (!w->linked()) return;
  waiters_.remove(w);
  waiting_ -= std::min<uint64_t>(waiting_, static_cast<uint64_t>(w->wants));
}

void LeaseBucket::give_back(uint64_t tokens, Where where, uint64_t limit) {
  if (where == Where::Fleet) {
    balance_ += tokens;  // still leased: the next take uses it
  } else if (where == Where::Local && local_ != nullptr) {
    const uint64_t share = std::max<uint64_t>(1, limit / worker_.process().instances());
    local_->adjust(-static_cast<int64_t>(tokens), share, kPeriod, worker_.now());
    add_unsynced(-static_cast<int64_t>(tokens));
  }
}

void LeaseBucket::adjust(int64_t delta, Where where, uint64_t limit, state::SteadyTime at) {
  if (delta == 0 || where == Where::Nowhere) return;
  if (where == Where::Local && local_ != nullptr) {
    const uint64_t share = std::max<uint64_t>(1, limit / worker_.process().instances());
    local_->adjust(delta, share, kPeriod, at);
  }
  add_unsynced(delta);
  limit_ = limit;
  worker_.want_flush(kFlushDelay);
}

void LeaseBucket::add_unsynced(int64_t delta) {
  if (unsynced_ == 0) unsynced_since_ = worker_.now();
  unsynced_ += delta;
}

bool LeaseBucket::flush(state::SteadyTime now) {
  if (calling_) return true;
  const bool idle = balance_ > 0 && now - last_take_ >= kIdleReturn;
  // Refunds and debts wait kFlushDelay for a lease call to ride on.
  const bool due = unsynced_ != 0 && now - unsynced_since_ >= kFlushDelay;
  if (!due && !idle) return unsynced_ != 0 || balance_ > 0;
  if (!worker_.shared() || limit_ == 0) return true;  // sent once Redis answers again
  if (idle) {
    unsynced_ -= static_cast<int64_t>(balance_);
    balance_ = 0;
  }
  call(0, 0);
  return true;
}

void LeaseBucket::call(uint64_t want, uint64_t need) {
  calling_ = true;
  const int64_t adjust = unsynced_;
  unsynced_ = 0;  // lost if the call fails: Redis may or may not have applied it
  ArgBuffer b1, b2, b3, b4, b5;
  const std::string_view keys[] = {key_};
  const std::string_view args[] = {arg(b1, static_cast<int64_t>(limit_)), arg(b2, kPeriod.count()),
                                   arg(b3, static_cast<int64_t>(want)),
                                   arg(b4, static_cast<int64_t>(need)), arg(b5, adjust)};
  worker_.client().eval(scripts::lease(), keys, args,
                        [this](redis::RedisResult&& r) { on_answer(std::move(r)); });
}

void LeaseBucket::on_answer(redis::RedisResult&& result) {
  calling_ = false;
  const state::SteadyTime now = worker_.now();
  const auto& e = result.reply.elements;
  if (result.ok() && e.size() == 3) {
    const auto granted = static_cast<uint64_t>(std::max<int64_t>(0, e[0].integer));
    balance_ += granted;
    fleet_level_ = static_cast<double>(e[2].integer);
    level_at_ = now;
    if (granted == 0) {
      refused_until_ = now + milliseconds(std::max<int64_t>(1, e[1].integer));
      refused_limit_ = limit_;
    }
    if (balance_ > 0) worker_.want_flush(kIdleReturn);
    worker_.call_answered();
  } else {
    worker_.call_failed(result);
  }
  waiting_ = 0;  // every waiter retries its take now (and queues again if it must)
  wake_all(waiters_);
}

}  // namespace sluice::fleet
