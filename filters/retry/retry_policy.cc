#include "filters/retry/retry_policy.h"

#include <string>
#include <vector>

#include "filters/retry/backoff.h"

namespace sluice::filters::retry {
namespace {

using filter::AttemptDecision;
using filter::AttemptResult;

const std::vector<std::string>& reason_names() {
  static const std::vector<std::string> names = {"connect_failure", "reset", "timeout", "5xx",
                                                 "429"};
  return names;
}

std::string shown(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

}  // namespace

std::string_view to_string(Reason r) {
  return reason_names()[static_cast<size_t>(r)];
}

std::optional<Reason> reason_of(const filter::AttemptOutcome& outcome) {
  switch (outcome.result) {
    case AttemptResult::Success:
      return std::nullopt;
    case AttemptResult::ConnectFailure:
    case AttemptResult::Overloaded:
      return Reason::ConnectFailure;
    case AttemptResult::Reset:
    case AttemptResult::Protocol:
      return Reason::Reset;
    case AttemptResult::Timeout:
      return Reason::Timeout;
    case AttemptResult::HttpError:
      if (outcome.status == 429) return Reason::Status429;
      if (outcome.status >= 500 && outcome.status <= 599) return Reason::Status5xx;
      return std::nullopt;
  }
  return std::nullopt;
}

RetryPolicy parse_retry_policy(config::NodeReader& reader) {
  RetryPolicy policy;
  if (auto attempts = reader.integer("attempts", 1, 10)) {
    policy.attempts = static_cast<uint32_t>(*attempts);
  }
  if (auto list = reader.string_list("retry_on", /*allow_scalar=*/true)) {
    if (list->empty()) {
      reader.fail("retry_on",
                  "must name at least one failure (connect_failure, reset, timeout, 5xx, 429); "
                  "to never retry, set attempts: 1 or remove the retry filter");
    }
    policy.retry_on.fill(false);
    const std::vector<std::string>& names = reason_names();
    for (const std::string& value : *list) {
      size_t i = 0;
      while (i < names.size() && names[i] != value) ++i;
      if (i < names.size()) {
        policy.retry_on[i] = true;
        continue;
      }
      std::string message = "unknown value \"" + value + "\"";
      if (auto guess = config::did_you_mean(value, names)) {
        message += " (did you mean \"" + *guess + "\"?)";
      }
      message += "; expected one of: connect_failure, reset, timeout, 5xx, 429";
      reader.fail("retry_on", message);
    }
  }

  config::NodeReader backoff = reader.child("backoff");
  std::optional<config::Duration> base = backoff.duration("base");
  std::optional<config::Duration> max = backoff.duration("max");
  if (base) policy.backoff_base = *base;
  if (max) policy.backoff_max = *max;
  if (policy.backoff_max < policy.backoff_base) {
    std::string message = "backoff.max (" + shown(policy.backoff_max) +
                          (max ? "" : ", the default") + ") must not be below backoff.base (" +
                          shown(policy.backoff_base) + ")";
    backoff.fail(max ? "max" : "base", message);
  }
  backoff.finish();

  if (auto v = reader.boolean("respect_retry_after")) policy.respect_retry_after = *v;
  if (auto v = reader.boolean("fallback")) policy.fallback = *v;

  config::NodeReader budget = reader.child("budget");
  if (auto ratio = budget.number("ratio", 0.0, 1.0)) policy.budget_ratio = *ratio;
  if (auto min = budget.integer("min_retries", 0, 1'000'000)) {
    policy.budget_min_retries = static_cast<uint32_t>(*min);
  }
  budget.finish();

  reader.finish();
  return policy;
}

Verdict judge(const RetryPolicy& policy, const filter::AttemptOutcome& outcome, uint64_t random) {
  Verdict v;
  v.reason = reason_of(outcome);
  if (!v.reason) return v;  // Default: a success is none of this filter's business
  v.decision = AttemptDecision::GiveUp;
  if (!policy.retries(*v.reason)) return v;
  if (outcome.downstream_started) return v;  // DESIGN §2: never after the first byte
  if (outcome.attempt >= policy.attempts) return v;

  const bool can_fall_back = policy.fallback && outcome.more_candidates;
  if (policy.respect_retry_after && outcome.retry_after) {
    if (*outcome.retry_after > policy.backoff_max) {
      // Waiting longer than backoff.max is not on offer: another target now, or the failure.
      if (can_fall_back) v.decision = AttemptDecision::Fallback;
      return v;
    }
  }
  if (can_fall_back) {
    v.decision = AttemptDecision::Fallback;  // a different target needs no backoff
    return v;
  }
  v.decision = AttemptDecision::Retry;
  if (policy.respect_retry_after && outcome.retry_after) {
    v.delay = std::max(std::chrono::milliseconds(1), *outcome.retry_after);
  } else {
    v.delay = full_jitter(backoff_ceiling(policy.backoff_base, policy.backoff_max,
                                          outcome.attempt > 0 ? outcome.attempt - 1 : 0),
                          random);
  }
  return v;
}

}  // namespace sluice::filters::retry
