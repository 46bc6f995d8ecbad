// filters: - rate_limit: {default_max_tokens: 4096}
//
// Holds each agent to its agents.*.limits (DESIGN §2, §3, §5):
//   concurrent — requests of the agent in flight at once;
//   rpm        — requests per minute;
//   tpm        — tokens per minute: at admission the request reserves its prompt estimate plus
//                its max_tokens (max_tokens / max_completion_tokens / max_output_tokens; when
//                absent, `default_max_tokens`; embeddings reserve the prompt only); at
//                completion the reservation is reconciled with the usage the provider reported.
// rpm and tpm are token buckets refilling continuously over a minute (state::RateBucket),
// shared by every worker and kept across reloads; see on_request/on_complete in the .cc for the
// order of the checks and how a refusal is undone.
//
// Registered as "rate_limit" (the builder uses the process-wide state and the steady clock);
// make_rate_limit_factory is the same factory with the state and clock chosen by the caller,
// for unit tests and benchmarks.
#pragma once

#include <cstdint>
#include <memory>

#include "core/config/config.h"
#include "core/filter/filter.h"
#include "core/state/process_state.h"
#include "core/state/rate_bucket.h"

namespace sluice::filters::rate_limit {

struct RateLimitSettings {
  // Tokens a tpm reservation counts for the completion when the request names no max_tokens.
  uint64_t default_max_tokens = 4096;
};

using Clock = state::SteadyTime (*)();
state::SteadyTime steady_now();

std::unique_ptr<filter::FilterFactory> make_rate_limit_factory(const config::Config& config,
                                                               RateLimitSettings settings,
                                                               state::ProcessState& states,
                                                               Clock clock = &steady_now);

}  // namespace sluice::filters::rate_limit
