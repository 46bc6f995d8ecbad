// FleetWaiter and FleetStep: how a filter's admission talks to the fleet (core/fleet).
//
// Each admission step (a concurrency slot, rpm or tpm tokens, a budget reservation) is tried
// synchronously against what this worker already holds of the fleet's allowance. Only when
// that is not enough does the step start (or join) a Redis call and answer Wait; the waiter's
// on_fleet_answer() is then called once, on the worker loop, when that call answered or
// failed — and the filter tries the same step again, which now decides.
#pragma once

#include <chrono>
#include <cstdint>

#include "core/upstream/intrusive_list.h"

namespace sluice::fleet {

// The outcome of one admission step. The rules:
//   Admitted        — taken from this worker's share of the fleet allowance (Redis-backed).
//   AdmittedLocally — Redis cannot answer and on_failure is local: taken from this process's
//                     own state at limit / fleet size (merged back into Redis on recovery).
//                     Give it back with the same `Where` it was taken with.
//   Wait            — a Redis call is running for it: return Stop; on_fleet_answer() follows.
//   Refused         — the fleet is at its limit: 429 (retry_after says when to try again).
//   Unavailable     — Redis cannot answer and on_failure is deny: 503.
enum class FleetStep : uint8_t { Admitted, AdmittedLocally, Wait, Refused, Unavailable };

// Where a taken allowance lives, so that giving it back goes to the same place.
enum class Where : uint8_t { Nowhere, Fleet, Local };

inline Where where_of(FleetStep s) {
  return s == FleetStep::Admitted          ? Where::Fleet
         : s == FleetStep::AdmittedLocally ? Where::Local
                                           : Where::Nowhere;
}

class FleetWaiter : public upstream::ListNode<FleetWaiter> {
 public:
  // The call this waiter waited for answered (or failed): try the step again. Called at most
  // once per Wait, never from inside the call that returned Wait.
  virtual void on_fleet_answer() = 0;
  // The fleet's answer-epoch when this waiter queued: a step refuses a waiter that a short
  // answer (less granted than asked) came after, instead of asking Redis again forever.
  uint64_t queued_epoch = 0;
  // What it waits for (tokens, slots or USD), set by the step that queued it.
  double wants = 0;

 protected:
  ~FleetWaiter() = default;
};

using WaiterList = upstream::IntrusiveList<FleetWaiter>;

// Wakes the waiters queued before the call: each is removed from the list before its
// callback (which may queue it again, or end its request).
inline void wake_all(WaiterList& waiters) {
  size_t n = waiters.size();
  while (n-- > 0) {
    FleetWaiter* w = waiters.pop_front();
    if (w == nullptr) break;
    w->on_fleet_answer();
  }
}

}  // namespace sluice::fleet
