// FleetGate: one worker's share of an agent's fleet-wide concurrency limit (DESIGN §3).
//
// Redis holds, per agent, how many slots each live member holds (fleet_scripts.h, hold). A
// worker admits a request at once while it holds a free slot; otherwise the request waits for
// one call that asks for one more slot per waiter. A worker keeps
//   spare = floor(limit × 0.5% / members)
// free slots ahead: it fetches more (in the background) when fewer than spare / 2 are free,
// and gives back down to spare when more than 2 × spare are. So the fleet never has more than
// the limit in flight, and refuses at most members × 2 × spare ≤ 1% of it early, and a steady
// stream costs no Redis call. With a small limit the spare is 0: then each admission
// that finds no free slot waits for one Redis call, and each answer is followed by a release
// call the request does not wait for. A member that dies holding slots loses them when its
// heartbeat expires.
#pragma once

#include <cstdint>
#include <string>

#include "core/fleet/fleet_waiter.h"
#include "core/redis/redis_client.h"
#include "core/state/rate_bucket.h"

namespace sluice::fleet {

class FleetWorker;

class FleetGate {
 public:
  FleetGate(FleetWorker& worker, std::string key, state::ConcurrencyGate* local);

  FleetStep enter(uint32_t limit, FleetWaiter* w);
  void cancel(FleetWaiter* w);
  // A request that entered with `where` is done.
  void leave(Where where);
  bool flush();

 private:
  void call(uint32_t want);
  void on_answer(redis::RedisResult&& result, uint32_t want);
  uint32_t needed() const { return inside_ + inside_locally_; }  // slots in use
  uint32_t spare() const;

  FleetWorker& worker_;
  const std::string key_;
  state::ConcurrencyGate* local_;  // the process's own gate (on_failure: local); may be null
  uint32_t limit_ = 0;
  uint32_t held_ = 0;            // slots Redis has recorded for this member (as last answered)
  uint32_t inside_ = 0;          // requests of this worker inside through the fleet
  uint32_t inside_locally_ = 0;  // … and through the local gate (kept held on recovery)
  bool calling_ = false;
  WaiterList waiters_;
  uint64_t epoch_ = 0;        // answers so far
  uint64_t short_epoch_ = 0;  // the last answer that granted less than asked
};

}  // namespace sluice::fleet
