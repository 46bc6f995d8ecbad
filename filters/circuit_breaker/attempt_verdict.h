// What one finished upstream attempt says about the provider's health, for the circuit breaker
// (DESIGN §4, issue 5: "connect error, reset, timeout, 5xx, 429" are failures).
#pragma once

#include <cstdint>

#include "core/filter/request_context.h"

namespace sluice::filters::circuit_breaker {

// Rules:
//   Healthy   — the provider answered properly: AttemptResult::Success, and also an HttpError
//               whose status is a 4xx other than 429 (the request was bad, the provider is
//               fine). Resets the consecutive-failure count; closes a half-open circuit.
//   Failed    — ConnectFailure, Reset, Timeout, Protocol, or an HttpError with 5xx or 429
//               (or no status at all). Counts toward opening; re-opens a half-open circuit.
//   NoVerdict — AttemptResult::Overloaded: sluice's own connection pool had nothing to give, the
//               provider was never asked. Counts neither way; a probe is handed back.
enum class Verdict : uint8_t { Healthy, Failed, NoVerdict };

Verdict verdict_of(const filter::AttemptOutcome& outcome);

}  // namespace sluice::filters::circuit_breaker
