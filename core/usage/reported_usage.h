// The token counts of a provider's usage object, as sent, and the one rule that turns them into
// a usage::Usage (usage.h). Kept apart from normalisation because a stream reports usage in
// several updates (Anthropic: message_start, then message_delta) that are merged field by field
// before anything is normalised.
// Internal to core/usage.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/usage/usage.h"

namespace sluice::usage::detail {

// A count above this is not a token count but garbage (or an attack on the sums): ignored, so
// that no sum of reported fields can overflow.
inline constexpr uint64_t kMaxTokenCount = 1'000'000'000'000ULL;

struct ReportedUsage {
  // Where each field comes from:
  //   PromptTokens / CompletionTokens      OpenAI chat, completions, embeddings
  //   InputTokens / OutputTokens           OpenAI Responses, Anthropic
  //   CachedTokens                         prompt_tokens_details.cached_tokens (chat) or
  //                                        input_tokens_details.cached_tokens (Responses)
  //   PromptCacheHitTokens                 DeepSeek's prompt_cache_hit_tokens (its chat usage
  //                                        may lack prompt_tokens_details)
  //   ReasoningTokens                      completion_tokens_details / output_tokens_details
  //   CacheRead / CacheCreationInputTokens Anthropic (excluded from its input_tokens)
  enum Field : uint8_t {
    PromptTokens,
    CompletionTokens,
    InputTokens,
    OutputTokens,
    CachedTokens,
    PromptCacheHitTokens,
    ReasoningTokens,
    CacheReadInputTokens,
    CacheCreationInputTokens,
    kFieldCount
  };

  uint64_t value[kFieldCount] = {};
  uint16_t present = 0;  // bit f set when field f was reported

  bool has(Field f) const { return (present >> f) & 1u; }
  uint64_t get(Field f) const { return value[f]; }
  void set(Field f, uint64_t v) {
    value[f] = v;
    present = static_cast<uint16_t>(present | (1u << f));
  }
  bool empty() const { return present == 0; }
  // Fields reported by `later` replace ours; the others stay (a stream's last update wins).
  void merge(const ReportedUsage& later);
};

// Reads one usage object (the bytes from its '{' to its '}'). `data` must stay readable for
// `capacity` bytes, capacity >= len + simdjson::SIMDJSON_PADDING. Unknown keys are skipped;
// a count that is negative, fractional, not a number or above kMaxTokenCount is left out.
// Returns false (and leaves *out alone) unless the bytes are one valid JSON object.
bool parse_usage_object(const char* data, size_t len, size_t capacity, ReportedUsage* out);

// The normalisation written in usage.h, with source = Reported:
//   prompt_tokens present (OpenAI chat/completions/embeddings):
//     input = prompt_tokens, output = completion_tokens, cached = details.cached_tokens
//     (or DeepSeek's prompt_cache_hit_tokens), reasoning = details.reasoning_tokens;
//   otherwise (OpenAI Responses, Anthropic):
//     input = input_tokens + cache_read_input_tokens + cache_creation_input_tokens,
//     cached = input_tokens_details.cached_tokens + cache_read_input_tokens,
//     cache_write = cache_creation_input_tokens, output = output_tokens.
// Then cached + cache_write is clamped to input and reasoning to output, so that the price
// formula's (input - cached - cache_write) never goes below zero.
Usage normalise(const ReportedUsage& reported);

}  // namespace sluice::usage::detail
