#include "core/health/probe_verdict.h"

namespace sluice::health {

const char* to_string(ProbeVerdict v) {
  switch (v) {
    case ProbeVerdict::Success:
      return "success";
    case ProbeVerdict::Slow:
      return "slow";
    case ProbeVerdict::Failure:
      return "failure";
  }
  return "?";
}

ProbeVerdict classify(const ProbeResult& result, const config::HealthCheck& settings) {
  if (!result.answered) return ProbeVerdict::Failure;
  if (result.http_status >= 500 || result.http_status == 429 || result.http_status < 100) {
    return ProbeVerdict::Failure;
  }
  return result.latency > settings.slow_after ? ProbeVerdict::Slow : ProbeVerdict::Success;
}

std::string describe(const ProbeResult& result) {
  if (!result.answered) return result.error.empty() ? "no answer" : result.error;
  return "HTTP " + std::to_string(result.http_status) + " in " +
         std::to_string(result.latency.count()) + "ms";
}

}  // namespace sluice::health
