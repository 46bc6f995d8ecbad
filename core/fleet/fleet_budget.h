// FleetBudget: one worker's share of an agent's fleet-wide budget (DESIGN §3).
//
// Redis holds, per agent and budget period, what each spender (sidecar) has spent, and per
// agent what each live member holds for requests in flight (fleet_scripts.h, budget). The
// rules are the in-process ones (state/spend_account.h): a request reserves its worst case
// and settles its actual cost. A worker holds a block of the remaining budget:
//   block       = the worst cases it admits, plus a lease of limit × 1% / members;
//   admission   = local while the worst cases in flight fit the block; otherwise one call
//                 grows it (granted only while everyone's spend and holdings fit the limit);
//   settle      = the block shrinks by the actual cost, which joins the spender's spend —
//                 both reach Redis together with the next call (≤ 100ms later), so the sum
//                 Redis sees never drops in between; what the settled worst cases leave
//                 beyond one lease goes back with that call too;
//   error bound = the fleet's spend passes the limit only by what a request's actual cost
//                 exceeds its worst case (the prompt estimate) — never by more than one
//                 request's worst case.
// The spender's spend is the process's own (state::SpendAccount, rebuilt from its ledger at
// start-up): written as a maximum, so any worker may send it and a flushed Redis gets it back
// with the next call.
#pragma once

#include <cstdint>
#include <string>

#include "core/fleet/fleet_waiter.h"
#include "core/redis/redis_client.h"
#include "core/state/agent_state.h"
#include "core/state/rate_bucket.h"
#include "core/state/spend_account.h"

namespace sluice::fleet {

class FleetWorker;

class FleetBudget {
 public:
  // What an admitted request holds until settle().
  struct Reservation {
    Where where = Where::Nowhere;
    double worst_usd = 0;
    state::SpendAccount::Reservation local;  // Where::Local
  };
  // The fleet as the last answer saw it (for the 429's message and /status).
  struct View {
    double spent_usd = 0;     // by every spender, this period
    double reserved_usd = 0;  // held by every member
    double remaining_usd = 0;
  };

  // `local` is the agent's process-wide state: its SpendAccount, and where the fleet's figures
  // are published for /status.
  FleetBudget(FleetWorker& worker, std::string agent, state::AgentState* local);

  FleetStep reserve(const state::BudgetLimit& limit, double worst_usd, FleetWaiter* w,
                    Reservation* out);
  void cancel(FleetWaiter* w);
  void settle(const Reservation& reservation, double actual_usd);
  // No budget: the spend still counts (and reaches Redis with the next call).
  void charge(double actual_usd);
  View view(const state::BudgetLimit& limit) const;
  bool flush(state::SteadyTime now);

 private:
  void call(double want);
  void on_answer(redis::RedisResult&& result, double want);
  std::string spend_key(state::WallTime now) const;
  double lease_size() const;  // limit × 1% / members

  FleetWorker& worker_;
  const std::string agent_;
  state::AgentState* local_;    // never null
  state::SpendAccount* spend_;  // local_->spend()
  state::BudgetLimit limit_;
  bool has_limit_ = false;
  double held_ = 0;      // USD Redis holds for this member (after local settles)
  double reserved_ = 0;  // worst cases of this worker's requests in flight (fleet)
  void mark_dirty();
  bool dirty_ = false;               // held_ or the spend changed since the last call …
  state::SteadyTime dirty_since_{};  // … since then
  double settled_during_call_ = 0;   // taken off held_ while a call was unanswered
  bool calling_ = false;
  WaiterList waiters_;
  double waiting_ = 0;  // worst cases the queued waiters want
  uint64_t epoch_ = 0;
  uint64_t short_epoch_ = 0;
  state::SteadyTime last_use_{};
  // The last answer: every spender's spend this period and the other members' holdings.
  double fleet_spent_ = 0;
  double others_held_ = 0;
  double spent_at_answer_ = 0;  // this process's spend when it answered
  bool answered_ = false;
};

}  // namespace sluice::fleet
