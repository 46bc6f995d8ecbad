#include "anthropic/usage.h"

#include <optional>
#include <string_view>

namespace anthropic {

namespace {

constexpr uint64_t kMaxCount = 1'000'000'000'000;  // 10^12: more is not a token count

std::optional<uint64_t> token_count(object obj, std::string_view name) {
  const auto n = count_member(obj, name);
  if (!n || *n > kMaxCount) return std::nullopt;
  return n;
}

void overwrite(uint64_t& count, object obj, std::string_view name, bool& seen) {
  if (const auto n = token_count(obj, name)) {
    count = *n;
    seen = true;
  }
}

}  // namespace

void AnthropicCounts::update_from(object usage) {
  overwrite(input_tokens, usage, "input_tokens", reported);
  overwrite(cache_read_input_tokens, usage, "cache_read_input_tokens", reported);
  overwrite(cache_creation_input_tokens, usage, "cache_creation_input_tokens", reported);
  overwrite(output_tokens, usage, "output_tokens", reported);
}

Usage AnthropicCounts::to_usage() const {
  Usage u;
  u.reported = reported;
  u.input_tokens = input_tokens + cache_read_input_tokens + cache_creation_input_tokens;
  u.output_tokens = output_tokens;
  u.cached_tokens = cache_read_input_tokens;
  u.cache_write_tokens = cache_creation_input_tokens;
  return u;
}

Usage read_openai_usage(object usage) {
  Usage u;
  overwrite(u.input_tokens, usage, "prompt_tokens", u.reported);
  overwrite(u.output_tokens, usage, "completion_tokens", u.reported);
  if (const auto details = object_member(usage, "prompt_tokens_details")) {
    overwrite(u.cached_tokens, *details, "cached_tokens", u.reported);
  }
  // A provider claiming more cached tokens than prompt tokens: the prompt count is the floor.
  if (u.cached_tokens > u.input_tokens) u.cached_tokens = u.input_tokens;
  return u;
}

void write_openai_usage(JsonWriter& w, const Usage& usage) {
  w.begin_object()
      .member("prompt_tokens", usage.input_tokens)
      .member("completion_tokens", usage.output_tokens)
      .member("total_tokens", usage.input_tokens + usage.output_tokens)
      .key("prompt_tokens_details")
      .begin_object()
      .member("cached_tokens", usage.cached_tokens)
      .end_object()
      .end_object();
}

void write_anthropic_usage(JsonWriter& w, const Usage& usage) {
  const uint64_t cache = usage.cached_tokens + usage.cache_write_tokens;
  w.begin_object()
      .member("input_tokens", usage.input_tokens > cache ? usage.input_tokens - cache : 0)
      .member("cache_creation_input_tokens", usage.cache_write_tokens)
      .member("cache_read_input_tokens", usage.cached_tokens)
      .member("output_tokens", usage.output_tokens)
      .end_object();
}

}  // namespace anthropic
