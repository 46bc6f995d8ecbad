#include "core/cost/price.h"

#include <algorithm>

namespace sluice::cost {

namespace {
constexpr double kPerMillion = 1e6;
}

double cost_usd(const Price& price, const usage::Usage& usage) {
  const uint64_t input = usage.input_tokens;
  const uint64_t cached = std::min(usage.cached_input_tokens, input);
  const uint64_t written = std::min(usage.cache_write_tokens, input - cached);
  const uint64_t uncached = input - cached - written;
  const double usd = static_cast<double>(uncached) * price.input +
                     static_cast<double>(cached) * price.cached_input +
                     static_cast<double>(written) * price.cache_write +
                     static_cast<double>(usage.output_tokens) * price.output;
  return usd / kPerMillion;
}

double worst_case_usd(const Price& price, uint64_t prompt_tokens, uint64_t max_output_tokens) {
  const double prompt_price = std::max({price.input, price.cached_input, price.cache_write});
  return (static_cast<double>(prompt_tokens) * prompt_price +
          static_cast<double>(max_output_tokens) * price.output) /
         kPerMillion;
}

}  // namespace sluice::cost
