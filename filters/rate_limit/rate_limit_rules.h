// What the rate_limit filter's two admissions share — in-process (rate_limit_filter.cc) and
// through the fleet (fleet_rate_limit_filter.cc, with state.redis): the per-snapshot state,
// what a tpm admission reserves, and the words of a refusal. Same rules either way.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include "core/filter/request_context.h"
#include "filters/rate_limit/agent_limit_index.h"
#include "filters/rate_limit/rate_limit_filter.h"

namespace sluice::filters::rate_limit {

// Both buckets refill over a minute: rpm and tpm are per-minute limits.
constexpr std::chrono::nanoseconds kPeriod = std::chrono::seconds(60);
// The most one request is charged at reconcile (far above any real usage; keeps the int64
// arithmetic safe whatever a provider reports).
constexpr uint64_t kMaxChargedTokens = uint64_t{1} << 50;
// A concurrency refusal has no refill time to report; this is the wait it suggests.
constexpr std::chrono::milliseconds kConcurrencyRetry{1000};

// Which limit refused a request (the `limit` label of sluice_rate_limited_total).
enum class Limit : uint8_t { Concurrent, Rpm, Tpm };

inline uint64_t saturating_add(uint64_t a, uint64_t b) {
  return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max()
                                                      : a + b;
}

// What a tpm admission reserves for one request.
struct Reservation {
  // Where the completion part came from.
  enum class Completion : uint8_t {
    FromRequest,  // the request's max_tokens (or max_completion_tokens / max_output_tokens)
    Default,      // default_max_tokens: the request names no maximum
    None,         // embeddings: no completion
  };
  uint64_t prompt = 0;
  uint64_t completion = 0;
  Completion from = Completion::None;

  uint64_t total() const { return saturating_add(prompt, completion); }
};

Reservation reservation_of(const filter::RequestContext& ctx, uint64_t default_max_tokens);

// The factory's state, shared by the filters of its snapshot's requests.
struct Shared {
  Shared(const config::Config& config, RateLimitSettings s, state::ProcessState& st, Clock c)
      : index(config, st), settings(s), states(st), clock(c) {}
  AgentLimitIndex index;
  RateLimitSettings settings;
  state::ProcessState& states;
  Clock clock;
};

// "Rate limit reached for agent "sofia" on requests per minute (rpm): limit 60. Try again in 2s."
std::string refusal_message(const LimitedAgent& agent, Limit limit,
                            std::chrono::milliseconds retry_after, const Reservation* reservation,
                            uint64_t reserved, const state::BucketReading* tokens);

// Counts the refusal in sluice_rate_limited_total{agent,limit}.
void count_refusal(const LimitedAgent& agent, Limit limit);

}  // namespace sluice::filters::rate_limit
