#include "core/health/health_tracker.h"

namespace sluice::health {

using state::HealthStatus;

HealthTracker::Transition HealthTracker::record(ProbeVerdict verdict,
                                                const config::HealthCheck& settings) {
  const HealthStatus from = status_;
  if (verdict == ProbeVerdict::Failure) {
    successes_ = 0;
    if (failures_ < UINT32_MAX) ++failures_;
    if (failures_ >= settings.unhealthy_after) status_ = HealthStatus::Down;
    return {from, status_};
  }
  failures_ = 0;
  if (successes_ < UINT32_MAX) ++successes_;
  const HealthStatus answered =
      verdict == ProbeVerdict::Slow ? HealthStatus::Slow : HealthStatus::Ok;
  switch (status_) {
    case HealthStatus::Unknown:
    case HealthStatus::Ok:
    case HealthStatus::Slow:
      status_ = answered;
      break;
    case HealthStatus::Down:
      if (successes_ >= settings.healthy_after) status_ = answered;
      break;
  }
  return {from, status_};
}

}  // namespace sluice::health
