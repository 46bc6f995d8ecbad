// AgentState: one agent's mutable limit state, shared by every worker and kept across reloads
// (keyed by agent name). The limits themselves come from the snapshot's config
// (agents.*.limits) and are passed in at each call, so a reload applies new limits to the
// usage so far.
#pragma once

#include <prometheus/counter.h>

#include <string>

#include "core/state/rate_bucket.h"

namespace sluice::state {

class AgentState {
 public:
  // The three label children of sluice_rate_limited_total{agent,limit} (null in unit tests).
  struct RateLimitedCounters {
    prometheus::Counter* rpm = nullptr;
    prometheus::Counter* tpm = nullptr;
    prometheus::Counter* concurrent = nullptr;
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

 private:
  const std::string name_;
  RateLimitedCounters rate_limited_;
  RateBucket requests_;
  RateBucket tokens_;
  ConcurrencyGate in_flight_;
};

}  // namespace sluice::state
