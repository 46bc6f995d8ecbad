#include "core/fleet/fleet_gate.h"

#include <algorithm>
#include <charconv>

#include "core/fleet/fleet_process.h"
#include "core/fleet/fleet_scripts.h"
#include "core/fleet/fleet_worker.h"
#include "core/fleet/script_args.h"

namespace sluice::fleet {

namespace {

// The spare slots a member keeps ahead, as a share of the limit over all members. A member
// fetches more when fewer than half the spare are free and gives back when more than twice
// are: at most 2 × 0.5% = 1% of the limit sits free in members (the error bound), and a
// steady stream of requests costs no call.
constexpr double kSpareShare = 0.005;

}  // namespace

FleetGate::FleetGate(FleetWorker& worker, std::string key, state::ConcurrencyGate* local)
    : worker_(worker), key_(std::move(key)), local_(local) {}

FleetStep FleetGate::enter(uint32_t limit, FleetWaiter* w) {
  limit_ = limit;
  const uint64_t queued = w->queued_epoch;
  w->queued_epoch = 0;
  if (!worker_.shared()) {
    if (worker_.deny_on_failure() || local_ == nullptr) return FleetStep::Unavailable;
    const uint32_t instances = worker_.process().instances();
    const uint32_t share = std::max<uint32_t>(1, (limit + instances - 1) / instances);
    if (!local_->try_enter(share)) return FleetStep::Refused;
    ++inside_locally_;
    return FleetStep::AdmittedLocally;
  }
  if (inside_ < held_) {
    ++inside_;
    // Keep the spare slots ahead, so the next request need not wait for Redis.
    if (!calling_ && (held_ - inside_) * 2 < spare() && held_ < limit) call(needed() + spare());
    return FleetStep::Admitted;
  }
  // A waiter that a short answer came after: the fleet is full.
  if (queued != 0 && short_epoch_ >= queued) return FleetStep::Refused;
  w->queued_epoch = epoch_ + 1;
  w->wants = 1;
  waiters_.push_back(w);
  if (!calling_) call(needed() + static_cast<uint32_t>(waiters_.size()) + spare());
  return FleetStep::Wait;
}

void FleetGate::cancel(FleetWaiter* w) {
  if (w->linked()) waiters_.remove(w);
  w->queued_epoch = 0;
}

void FleetGate::leave(Where where) {
  if (where == Where::Local) {
    if (local_ != nullptr) local_->leave();
    if (inside_locally_ > 0) --inside_locally_;
  } else if (where == Where::Fleet) {
    if (inside_ > 0) --inside_;
  } else {
    return;
  }
  worker_.want_flush(std::chrono::milliseconds(0));  // a spare slot is a large error: soon
}

uint32_t FleetGate::spare() const {
  return static_cast<uint32_t>(static_cast<double>(limit_) * kSpareShare /
                               worker_.process().members());
}

bool FleetGate::flush() {
  if (calling_) return true;
  if (held_ <= needed() + 2 * spare()) return false;
  if (!worker_.shared()) return true;  // sent once Redis answers again
  call(needed() + spare());
  return true;
}

void FleetGate::call(uint32_t want) {
  calling_ = true;
  ArgBuffer b1, b2, b3;
  const std::string key = worker_.key("members", "");
  const std::string_view keys[] = {key_, key};
  const std::string_view args[] = {worker_.member(), arg(b1, int64_t{want}),
                                   arg(b2, int64_t{needed()}), arg(b3, int64_t{limit_})};
  worker_.client().eval(scripts::hold(), keys, args,
                        [this, want](redis::RedisResult&& r) { on_answer(std::move(r), want); });
}

void FleetGate::on_answer(redis::RedisResult&& result, uint32_t want) {
  calling_ = false;
  ++epoch_;
  const auto& e = result.reply.elements;
  if (result.ok() && e.size() == 2) {
    held_ = static_cast<uint32_t>(std::max<int64_t>(0, e[0].integer));
    if (held_ < want) short_epoch_ = epoch_;
    worker_.call_answered();
  } else {
    worker_.call_failed(result);
  }
  wake_all(waiters_);
  // Slots held beyond what is inside (a release, or a grant its waiter no longer wants).
  if (!calling_ && waiters_.empty() && held_ > needed() + 2 * spare()) {
    worker_.want_flush(std::chrono::milliseconds(0));
  }
}

}  // namespace sluice::fleet
