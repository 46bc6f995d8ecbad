// HealthTracker: the health state machine of one provider, fed one probe verdict at a time.
// No I/O and no clock: the prober decides what a probe said (probe_verdict.h), this decides
// what the provider's health is. Its states are state::HealthStatus; the transitions:
//
//   from      verdict               to
//   Unknown   Success / Slow        Ok / Slow   (a provider counts as up until proven down)
//   Unknown   Failure               Unknown, or Down at unhealthy_after consecutive failures
//   Ok, Slow  Success / Slow        Ok / Slow   (each answer re-decides Ok vs Slow)
//   Ok, Slow  Failure               unchanged, or Down at unhealthy_after consecutive failures
//   Down      Success / Slow        Down, or Ok / Slow at healthy_after consecutive successes
//   Down      Failure               Down
//
// A failure resets the run of successes and a success the run of failures, so flapping
// (fail, ok, fail, ok …) never takes a provider down nor brings a down one back.
#pragma once

#include <cstdint>

#include "core/config/config.h"
#include "core/health/probe_verdict.h"
#include "core/state/provider_state.h"

namespace sluice::health {

class HealthTracker {
 public:
  struct Transition {
    state::HealthStatus from;
    state::HealthStatus to;
    bool changed() const { return from != to; }
  };

  // Applies one probe verdict under the current `settings` (they may change between calls:
  // a reload that lowers unhealthy_after takes effect at the next verdict).
  Transition record(ProbeVerdict verdict, const config::HealthCheck& settings);

  state::HealthStatus status() const { return status_; }
  uint32_t consecutive_failures() const { return failures_; }
  uint32_t consecutive_successes() const { return successes_; }

 private:
  state::HealthStatus status_ = state::HealthStatus::Unknown;
  uint32_t failures_ = 0;   // consecutive failures, 0 after any success
  uint32_t successes_ = 0;  // consecutive successes, 0 after any failure
};

}  // namespace sluice::health
