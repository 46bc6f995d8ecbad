// Usage: the tokens one response used, as the provider reported them (DESIGN §8), normalised
// across shapes so that pricing is one formula:
//   cost = (input - cached_input - cache_write) × input price + cached_input × cached price
//        + cache_write × cache-write price + output × output price.
// OpenAI: input = prompt_tokens (which already includes prompt_tokens_details.cached_tokens).
// Anthropic: input = input_tokens + cache_read_input_tokens + cache_creation_input_tokens
// (Anthropic's input_tokens excludes both).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice::usage {

struct Usage {
  uint64_t input_tokens = 0;         // every prompt token, cached and cache writes included
  uint64_t output_tokens = 0;        // completion tokens (reasoning included)
  uint64_t cached_input_tokens = 0;  // prompt tokens read from the provider's cache
  uint64_t cache_write_tokens = 0;   // prompt tokens written to the cache (Anthropic)
  uint64_t reasoning_tokens = 0;     // part of output_tokens (informational)
  // Where the numbers come from:
  //   Reported  — the provider's usage object (all of it, or its last update for streams);
  //   Estimated — no usage arrived; input from the request size, output from the content
  //               bytes streamed (see estimate_tokens_from_bytes);
  //   None      — nothing known yet (no upstream answer).
  enum class Source : uint8_t { None, Reported, Estimated };
  Source source = Source::None;

  bool known() const { return source != Source::None; }
  uint64_t total() const { return input_tokens + output_tokens; }
};

// The estimate used wherever the real count is not known (yet): ~4 bytes of English/JSON per
// token, rounded up, so a request that reached a provider is never estimated at 0.
inline uint64_t estimate_tokens_from_bytes(size_t bytes) {
  return (bytes + 3) / 4;
}

}  // namespace sluice::usage
