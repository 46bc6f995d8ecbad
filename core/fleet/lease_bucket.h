// LeaseBucket: one worker's share of an agent's fleet-wide rpm or tpm bucket (DESIGN §3).
//
// Redis holds the fleet's bucket (fleet_scripts.h, lease): the tokens used, draining at
// limit per minute, exactly as state::RateBucket does for one process. A worker does not ask
// Redis for every request: it leases a small block of tokens and admits requests from it.
//   lease size  = max(1, floor(limit × 0.5% / members)), members = live workers in the fleet;
//                 the next block is fetched when less than half a block is left;
//   error bound = the fleet never admits more than the limit (tokens are taken in Redis
//                 before they are used); it may refuse up to members × 1.5 leases ≤ 0.75% of
//                 the limit too early (or 1 token per member, for small limits), while those
//                 tokens sit unused in other workers.
// A take that the block covers is decided at once; otherwise the request waits for one call
// that asks for what it lacks plus a fresh block (and what the other waiters lack). When the
// fleet refuses, Redis says when the tokens will be there; until then takes are refused here
// without asking again. An unused block goes back after a second without takes; refunds and
// debts of reconciled tpm reservations travel with the next call (or a flush 100ms later).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/fleet/fleet_waiter.h"
#include "core/redis/redis_client.h"
#include "core/state/rate_bucket.h"

namespace sluice::fleet {

class FleetWorker;

class LeaseBucket {
 public:
  LeaseBucket(FleetWorker& worker, std::string key, state::RateBucket* local);

  // Takes `cost` tokens of `limit` per minute. `reading` gets what the x-ratelimit headers
  // show (and retry_after when refused). Wait: `w` is queued until the call answers.
  FleetStep take(uint64_t cost, uint64_t limit, FleetWaiter* w, state::BucketReading* reading);
  // Where the tokens stand (for requests that take none).
  state::BucketReading peek(uint64_t limit);
  // `w` gave up waiting (its request ended).
  void cancel(FleetWaiter* w);
  // Tokens a later step's refusal gives back (the request never went out).
  void give_back(uint64_t tokens, Where where, uint64_t limit);
  // Reconcile: the request used `delta` more (> 0) or fewer (< 0) tokens than it took.
  void adjust(int64_t delta, Where where, uint64_t limit, state::SteadyTime at);
  // Sends what waits (refunds, debts, an idle block); true while something is left.
  bool flush(state::SteadyTime now);

 private:
  void call(uint64_t want, uint64_t need);
  void on_answer(redis::RedisResult&& result);
  uint64_t lease_size(uint64_t limit) const;
  state::BucketReading reading(uint64_t limit, state::SteadyTime now) const;

  FleetWorker& worker_;
  const std::string key_;
  state::RateBucket* local_;  // the process's own bucket (on_failure: local); may be null
  uint64_t limit_ = 0;        // the limit of the last take (for flushes)
  uint64_t balance_ = 0;      // leased tokens not used yet
  void add_unsynced(int64_t delta);
  int64_t unsynced_ = 0;                // to add to the fleet's level with the next call …
  state::SteadyTime unsynced_since_{};  // … since then
  bool calling_ = false;                // a lease call is unanswered
  WaiterList waiters_;
  uint64_t waiting_ = 0;  // tokens the queued waiters want
  // The fleet refused: until then (for that limit) takes are refused without asking again.
  state::SteadyTime refused_until_{};
  uint64_t refused_limit_ = 0;
  state::SteadyTime last_take_{};
  // The fleet's level at the last answer, for the headers.
  double fleet_level_ = 0;
  state::SteadyTime level_at_{};
};

}  // namespace sluice::fleet
