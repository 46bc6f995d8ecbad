#include "filters/circuit_breaker/attempt_verdict.h"

namespace sluice::filters::circuit_breaker {

Verdict verdict_of(const filter::AttemptOutcome& outcome) {
  using filter::AttemptResult;
  switch (outcome.result) {
    case AttemptResult::Success:
      return Verdict::Healthy;
    case AttemptResult::HttpError: {
      const bool client_error = outcome.status >= 400 && outcome.status < 500;
      return client_error && outcome.status != 429 ? Verdict::Healthy : Verdict::Failed;
    }
    case AttemptResult::ConnectFailure:
    case AttemptResult::Reset:
    case AttemptResult::Timeout:
    case AttemptResult::Protocol:
      return Verdict::Failed;
    case AttemptResult::Overloaded:
      return Verdict::NoVerdict;
  }
  return Verdict::NoVerdict;
}

}  // namespace sluice::filters::circuit_breaker
