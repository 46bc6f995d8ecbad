// Price: what one physical model costs, in USD per 1M tokens, and the one formula that turns a
// response's usage::Usage into dollars (DESIGN §8):
//   cost = (input - cached_input - cache_write) × input price
//        + cached_input × cached_input price + cache_write × cache_write price
//        + output × output price,                                    all / 1e6.
// cached_input is what providers charge for prompt tokens read from their cache (OpenAI's
// prompt_tokens_details.cached_tokens, Anthropic's cache_read_input_tokens); cache_write is
// Anthropic's cache creation. Either defaults to the input price when a price omits it.
#pragma once

#include "core/usage/usage.h"

namespace sluice::cost {

struct Price {
  double input = 0;         // USD per 1M prompt tokens (not cached)
  double output = 0;        // USD per 1M completion tokens (reasoning included)
  double cached_input = 0;  // USD per 1M prompt tokens read from the cache
  double cache_write = 0;   // USD per 1M prompt tokens written to the cache

  bool operator==(const Price&) const = default;
};

// What `usage` costs at `price`, in USD. Bad provider numbers never make a negative term: cached
// and cache-write tokens are clamped to the input tokens (cached first), so the uncached rest is
// never below 0.
double cost_usd(const Price& price, const usage::Usage& usage);

// The most a request can cost before it is sent (what a budget reserves at admission):
// `prompt_tokens` at the dearest of the three prompt prices — the input price, unless cache
// writes cost more (Anthropic: 1.25 × input) — plus `max_output_tokens` at the output price.
double worst_case_usd(const Price& price, uint64_t prompt_tokens, uint64_t max_output_tokens);

}  // namespace sluice::cost
