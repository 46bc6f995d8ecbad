#include "core/usage/reported_usage.h"

#include <string_view>

#include <simdjson.h>

#include "core/usage/flat_usage_object.h"

namespace sluice::usage::detail {
namespace {

using Field = ReportedUsage::Field;

// A usage object is a few hundred bytes; anything near this is not one.
constexpr size_t kParserCapacity = 64 * 1024;

// One DOM parser per thread (sluice's workers are threads): its buffers are allocated at the
// first usage object a worker reads and reused for every later one.
simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser(kParserCapacity);
  return parser;
}

void read_count(simdjson::dom::element value, Field field, ReportedUsage* out) {
  uint64_t n = 0;
  // get_uint64 refuses negatives, fractions, strings and null: each is "not reported".
  if (value.get_uint64().get(n) != simdjson::SUCCESS) return;
  if (n > kMaxTokenCount) return;
  out->set(field, n);
}

// The *_details objects: one count is read from each.
void read_detail(simdjson::dom::element value, std::string_view wanted, Field field,
                 ReportedUsage* out) {
  simdjson::dom::object details;
  if (value.get_object().get(details) != simdjson::SUCCESS) return;
  for (auto member : details) {
    if (member.key == wanted) read_count(member.value, field, out);
  }
}

uint64_t saturating_add(uint64_t a, uint64_t b) {
  return a + b < a ? UINT64_MAX : a + b;
}

}  // namespace

void ReportedUsage::merge(const ReportedUsage& later) {
  for (int f = 0; f < kFieldCount; ++f) {
    if (later.has(static_cast<Field>(f))) set(static_cast<Field>(f), later.value[f]);
  }
}

bool parse_usage_object(const char* data, size_t len, size_t capacity, ReportedUsage* out) {
  if (len == 0 || capacity < len + simdjson::SIMDJSON_PADDING) return false;
  {
    // The usual flat object is read without the DOM (flat_usage_object.h: same result).
    ReportedUsage read;
    if (read_flat_usage_object(data, len, &read) == FlatRead::Read) {
      out->merge(read);
      return true;
    }
  }
  simdjson::dom::element root;
  if (thread_parser().parse(data, len, /*realloc_if_needed=*/false).get(root) !=
      simdjson::SUCCESS) {
    return false;
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) return false;
  ReportedUsage read;
  for (auto member : object) {
    const std::string_view key = member.key;
    if (key == "prompt_tokens") {
      read_count(member.value, ReportedUsage::PromptTokens, &read);
    } else if (key == "completion_tokens") {
      read_count(member.value, ReportedUsage::CompletionTokens, &read);
    } else if (key == "input_tokens") {
      read_count(member.value, ReportedUsage::InputTokens, &read);
    } else if (key == "output_tokens") {
      read_count(member.value, ReportedUsage::OutputTokens, &read);
    } else if (key == "prompt_tokens_details" || key == "input_tokens_details") {
      read_detail(member.value, "cached_tokens", ReportedUsage::CachedTokens, &read);
    } else if (key == "completion_tokens_details" || key == "output_tokens_details") {
      read_detail(member.value, "reasoning_tokens", ReportedUsage::ReasoningTokens, &read);
    } else if (key == "prompt_cache_hit_tokens") {
      read_count(member.value, ReportedUsage::PromptCacheHitTokens, &read);
    } else if (key == "cache_read_input_tokens") {
      read_count(member.value, ReportedUsage::CacheReadInputTokens, &read);
    } else if (key == "cache_creation_input_tokens") {
      read_count(member.value, ReportedUsage::CacheCreationInputTokens, &read);
    }
  }
  out->merge(read);
  return true;
}

Usage normalise(const ReportedUsage& r) {
  Usage u;
  u.source = Usage::Source::Reported;
  if (r.has(ReportedUsage::PromptTokens)) {
    u.input_tokens = r.get(ReportedUsage::PromptTokens);
    u.output_tokens = r.get(ReportedUsage::CompletionTokens);
    u.cached_input_tokens = r.has(ReportedUsage::CachedTokens)
                                ? r.get(ReportedUsage::CachedTokens)
                                : r.get(ReportedUsage::PromptCacheHitTokens);
  } else {
    const uint64_t cache_read = r.get(ReportedUsage::CacheReadInputTokens);
    const uint64_t cache_write = r.get(ReportedUsage::CacheCreationInputTokens);
    u.input_tokens =
        saturating_add(r.get(ReportedUsage::InputTokens), saturating_add(cache_read, cache_write));
    u.output_tokens = r.get(ReportedUsage::OutputTokens);
    u.cached_input_tokens = saturating_add(r.get(ReportedUsage::CachedTokens), cache_read);
    u.cache_write_tokens = cache_write;
  }
  u.reasoning_tokens = r.get(ReportedUsage::ReasoningTokens);
  if (u.cached_input_tokens > u.input_tokens) u.cached_input_tokens = u.input_tokens;
  if (u.cache_write_tokens > u.input_tokens - u.cached_input_tokens) {
    u.cache_write_tokens = u.input_tokens - u.cached_input_tokens;
  }
  if (u.reasoning_tokens > u.output_tokens) u.reasoning_tokens = u.output_tokens;
  return u;
}

}  // namespace sluice::usage::detail
