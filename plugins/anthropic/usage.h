// Token usage in both APIs' shapes: reading each into sluice's Usage, writing Usage as each.
//
//   Anthropic  {"input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
//               "output_tokens"} — input_tokens EXCLUDES both cache counts;
//   OpenAI     {"prompt_tokens", "completion_tokens", "total_tokens",
//               "prompt_tokens_details": {"cached_tokens"}} — prompt_tokens includes them.
//
// So prompt_tokens = input_tokens + cache_read_input_tokens + cache_creation_input_tokens,
// cached_tokens = cache_read_input_tokens, and OpenAI has no count of cache writes.
// A count that is not an integer in 0..10^12 is read as absent (as core's usage scanner does),
// which also keeps every sum far from overflowing.
#pragma once

#include <cstdint>

#include "anthropic/json_reader.h"
#include "anthropic/json_writer.h"
#include "anthropic/outcome.h"

namespace anthropic {

// Anthropic's counts as it reports them. In a stream, message_start carries all four and
// message_delta carries output_tokens (cumulative, not an increment) and, with some API
// versions and Anthropic-compatible gateways, the input counts again: each report overwrites
// the counts it contains.
struct AnthropicCounts {
  uint64_t input_tokens = 0;  // the prompt minus both cache counts
  uint64_t cache_read_input_tokens = 0;
  uint64_t cache_creation_input_tokens = 0;
  uint64_t output_tokens = 0;
  bool reported = false;

  void update_from(object usage);
  Usage to_usage() const;
};

// OpenAI's usage object (prompt_tokens, completion_tokens, prompt_tokens_details.cached_tokens).
Usage read_openai_usage(object usage);

// {"prompt_tokens","completion_tokens","total_tokens","prompt_tokens_details":{"cached_tokens"}}
void write_openai_usage(JsonWriter& w, const Usage& usage);
// {"input_tokens","cache_creation_input_tokens","cache_read_input_tokens","output_tokens"}
// with input_tokens = the prompt minus both cache counts (never below 0).
void write_anthropic_usage(JsonWriter& w, const Usage& usage);

}  // namespace anthropic
