// AgentState: one agent's mutable limit and spend state, shared by every worker and kept across
// reloads (keyed by agent name). The limits and budget themselves come from the snapshot's
// config (agents.*.limits, agents.*.budget) and are passed in at each call, so a reload applies
// new limits to the usage and spend so far.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/state/rate_bucket.h"
#include "core/state/spend_account.h"

namespace sluice::state {

class AgentState {
 public:
  // The label children of sluice_rate_limited_total{agent,limit} (null in unit tests).
  struct RateLimitedCounters {
    prometheus::Counter* rpm = nullptr;
    prometheus::Counter* tpm = nullptr;
    prometheus::Counter* concurrent = nullptr;
    prometheus::Counter* budget = nullptr;  // limit="budget": refused by filters/cost
  };

  AgentState(std::string name, RateLimitedCounters counters)
      : name_(std::move(name)), rate_limited_(counters) {}
  AgentState(const AgentState&) = delete;
  AgentState& operator=(const AgentState&) = delete;

  const std::string& name() const { return name_; }
  RateBucket& requests() { return requests_; }  // rpm
  RateBucket& tokens() { return tokens_; }      // tpm
  ConcurrencyGate& in_flight() { return in_flight_; }
  const RateLimitedCounters& rate_limited() const { return rate_limited_; }
  SpendAccount& spend() { return spend_; }
  const SpendAccount& spend() const { return spend_; }
  // The child of sluice_budget_remaining_usd{agent}: null until ProcessState::budget_gauge()
  // created it (only agents that ever had a budget get one; null in unit tests). The cost
  // filter sets it after each reserve/settle.
  prometheus::Gauge* budget_remaining_gauge() const {
    return budget_remaining_.load(std::memory_order_acquire);
  }

  // With state.redis: the fleet's figures for this agent's budget as the last Redis answer
  // gave them (core/fleet publishes them; /status shows them instead of this sidecar's own).
  struct FleetBudgetFigures {
    bool known = false;
    double spent_usd = 0;        // by every sidecar, in the period starting at period_start
    double reserved_usd = 0;     // held by every member for its requests in flight
    double own_spent_usd = 0;    // this process's spend at that answer
    int64_t period_start_s = 0;  // of the period the figures belong to
  };
  void set_fleet_budget(const FleetBudgetFigures& f) {
    std::lock_guard lock(fleet_mutex_);
    fleet_budget_ = f;
  }
  FleetBudgetFigures fleet_budget() const {
    std::lock_guard lock(fleet_mutex_);
    return fleet_budget_;
  }

 private:
  const std::string name_;
  RateLimitedCounters rate_limited_;
  RateBucket requests_;
  RateBucket tokens_;
  ConcurrencyGate in_flight_;
  std::atomic<prometheus::Gauge*> budget_remaining_{nullptr};
  SpendAccount spend_;
  mutable std::mutex fleet_mutex_;  // guards fleet_budget_ (written at most ~10 times a second)
  FleetBudgetFigures fleet_budget_;
  friend class ProcessState;  // creates budget_remaining_
};

}  // namespace sluice::state
