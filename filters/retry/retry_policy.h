// RetryPolicy: the retry filter's settings (filters: - retry: {...}) and the pure decision it
// makes about one finished attempt — everything except the process-wide retry budget and the
// metrics, which retry_filter.h adds. The rules are written out in retry_filter.h.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/config/node_reader.h"
#include "core/filter/filter.h"

namespace sluice::filters::retry {

// Why an attempt failed, in retry_on's words. The values index arrays (counters, masks).
//   ConnectFailure — no connection: DNS, refused, TLS; also our own pool having no connection
//                    to give in time (AttemptResult::Overloaded): the provider was not reached.
//   Reset          — the connection broke mid-exchange, or the answer was not valid HTTP.
//   Timeout        — a connect / first_byte / idle / total timeout ended the attempt.
//   Status5xx      — the provider answered 500–599.
//   Status429      — the provider answered 429 (rate limited).
enum class Reason : uint8_t { ConnectFailure, Reset, Timeout, Status5xx, Status429 };
inline constexpr size_t kReasonCount = 5;
// "connect_failure" | "reset" | "timeout" | "5xx" | "429": the retry_on names, also the
// `reason` label of sluice_retries_total.
std::string_view to_string(Reason r);
// The reason of a failed attempt; nullopt for a success (or an HTTP status that is no failure).
std::optional<Reason> reason_of(const filter::AttemptOutcome& outcome);

struct RetryPolicy {
  uint32_t attempts = 3;  // upstream attempts per request, the first included (1–10)
  std::array<bool, kReasonCount> retry_on{true, true, true, true, true};
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_max{2000};
  bool respect_retry_after = true;
  bool fallback = true;
  // Retry budget: retries in flight ≤ max(budget_min_retries, budget_ratio × active requests).
  double budget_ratio = 0.2;
  uint32_t budget_min_retries = 3;

  bool retries(Reason r) const { return retry_on[static_cast<size_t>(r)]; }
};

// Reads a policy from the filter's YAML mapping (defaults for absent keys). Throws
// config::ConfigError for unknown keys, bad values and backoff.max below backoff.base.
RetryPolicy parse_retry_policy(config::NodeReader& reader);

// The policy's answer about one attempt, before the retry budget is consulted.
//   decision — Default (a success, or no failure retry_on knows), GiveUp, Retry or Fallback;
//   delay    — for Retry/Fallback: what the session waits before the next attempt;
//   reason   — set whenever the attempt failed.
struct Verdict {
  filter::AttemptDecision decision = filter::AttemptDecision::Default;
  std::chrono::milliseconds delay{0};
  std::optional<Reason> reason;
};

// `random` feeds the jitter (backoff.h's thread_random() in the filter; fixed in tests).
Verdict judge(const RetryPolicy& policy, const filter::AttemptOutcome& outcome, uint64_t random);

}  // namespace sluice::filters::retry
